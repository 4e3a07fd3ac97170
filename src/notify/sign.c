/* sign.c - HMAC-SHA256 signatures for webhooks and GOV.UK Notify's JWT. */
#include "notify/sign.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#define UUID_LEN 36

bool sign_webhook(const char *secret, int64_t t, const char *body, size_t len, char *out,
                  size_t outlen)
{
    char stamp[24];
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    char hex[2 * sizeof(mac) + 1];
    crypto_auth_hmacsha256_state st;
    int n = snprintf(stamp, sizeof(stamp), "%lld", (long long)t);
    if (n < 0 || (size_t)n >= sizeof(stamp))
        return false;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)stamp, (size_t)n);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
    n = snprintf(out, outlen, "t=%s,v1=%s", stamp, hex);
    return n > 0 && (size_t)n < outlen;
}

/* Appends base64url without padding of in[0..len) at out + *used. */
static bool b64url(char *out, size_t outlen, size_t *used, const void *in, size_t len)
{
    size_t need = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    if (*used + need > outlen)
        return false;
    sodium_bin2base64(out + *used, outlen - *used, in, len,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    *used += strlen(out + *used);
    return true;
}

bool sign_govuk_jwt(const char *api_key, int64_t iat, char *out, size_t outlen)
{
    static const char header[] = "{\"typ\":\"JWT\",\"alg\":\"HS256\"}";
    size_t klen = api_key ? strlen(api_key) : 0;
    if (klen < 2 * UUID_LEN + 1 || api_key[klen - UUID_LEN - 1] != '-')
        return false;
    const char *secret = api_key + klen - UUID_LEN;
    const char *service = api_key + klen - 2 * UUID_LEN - 1;
    char claims[128];
    int n = snprintf(claims, sizeof(claims), "{\"iss\":\"%.*s\",\"iat\":%lld}", UUID_LEN, service,
                     (long long)iat);
    if (n < 0 || (size_t)n >= sizeof(claims))
        return false;
    size_t used = 0;
    if (!b64url(out, outlen, &used, header, sizeof(header) - 1) || used + 1 >= outlen)
        return false;
    out[used++] = '.';
    if (!b64url(out, outlen, &used, claims, (size_t)n))
        return false;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, UUID_LEN);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)out, used);
    crypto_auth_hmacsha256_final(&st, mac);
    if (used + 1 >= outlen)
        return false;
    out[used++] = '.';
    return b64url(out, outlen, &used, mac, sizeof(mac));
}
