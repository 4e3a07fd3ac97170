/* token.c - random tokens, keyed hashes and password hashes; see token.h. */
#include "util/token.h"

#include <ctype.h>
#include <sodium.h>
#include <string.h>

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

bool token_init(void)
{
    return sodium_init() >= 0;
}

void token_random(char *out, size_t nchars)
{
    for (size_t i = 0; i < nchars; i++)
        out[i] = crockford[randombytes_uniform(32)];
    out[nchars] = '\0';
}

void token_random_grouped(char *out, size_t nchars)
{
    size_t o = 0;
    for (size_t i = 0; i < nchars; i++) {
        if (i && i % 5 == 0)
            out[o++] = '-';
        out[o++] = crockford[randombytes_uniform(32)];
    }
    out[o] = '\0';
}

void token_hash(const unsigned char key[TOKEN_KEY_BYTES], const char *text,
                unsigned char out[TOKEN_HASH_BYTES])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, key, TOKEN_KEY_BYTES, TOKEN_HASH_BYTES);
    unsigned char chunk[64];
    size_t n = 0;
    for (const char *p = text; *p; p++) {
        if (*p == '-' || *p == ' ')
            continue;
        chunk[n++] = (unsigned char)toupper((unsigned char)*p);
        if (n == sizeof(chunk)) {
            crypto_generichash_update(&st, chunk, n);
            n = 0;
        }
    }
    crypto_generichash_update(&st, chunk, n);
    crypto_generichash_final(&st, out, TOKEN_HASH_BYTES);
}

bool token_hash_equal(const unsigned char a[TOKEN_HASH_BYTES],
                      const unsigned char b[TOKEN_HASH_BYTES])
{
    return sodium_memcmp(a, b, TOKEN_HASH_BYTES) == 0;
}

bool password_hash(const char *password, char out[PASSWORD_HASH_MAX])
{
    _Static_assert(PASSWORD_HASH_MAX >= crypto_pwhash_STRBYTES, "hash buffer too small");
    return crypto_pwhash_str_alg(
               out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
               crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) == 0;
}

bool password_verify(const char *stored_hash, const char *password)
{
    return crypto_pwhash_str_verify(stored_hash, password, strlen(password)) == 0;
}
