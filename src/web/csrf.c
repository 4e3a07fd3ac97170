/* csrf.c - form tokens bound to a cookie; see csrf.h. */
#include "web/csrf.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "util/token.h"

#define COOKIE_CHARS 26 /* 130 random bits */
#define TOKEN_HEX (2 * TOKEN_HASH_BYTES)

/* A cookie value as this module makes them: COOKIE_CHARS symbols of
 * Crockford Base32. Anything else is ignored and replaced. */
static bool cookie_valid(const char *v)
{
    if (!v || strlen(v) != COOKIE_CHARS)
        return false;
    for (const char *p = v; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z')))
            return false;
    return true;
}

static const char *form_cookie(http_req *req)
{
    const char *header = http_header_get(req, "Cookie");
    const char *v = header ? http_cookie_get(&req->a, header, CSRF_COOKIE) : NULL;
    return cookie_valid(v) ? v : NULL;
}

static void token_of(const unsigned char key[32], const char *cookie, char out[TOKEN_HEX + 1])
{
    unsigned char hash[TOKEN_HASH_BYTES];
    char tagged[COOKIE_CHARS + 8];
    /* Tagged, so that the token is no other keyed hash the server makes. */
    snprintf(tagged, sizeof(tagged), "FORM%s", cookie);
    token_hash(key, tagged, hash);
    sodium_bin2hex(out, TOKEN_HEX + 1, hash, sizeof(hash));
}

const char *csrf_token(http_req *req, http_res *res, const unsigned char key[32], bool secure)
{
    const char *cookie = form_cookie(req);
    if (!cookie) {
        char fresh[COOKIE_CHARS + 1];
        token_random(fresh, COOKIE_CHARS);
        cookie = arena_strdup(&req->a, fresh);
        const char *set = arena_printf(&req->a, "%s=%s; Path=/; HttpOnly; SameSite=Strict%s",
                                       CSRF_COOKIE, fresh, secure ? "; Secure" : "");
        if (!cookie || !set)
            return NULL;
        http_res_header(res, "Set-Cookie", set);
    }
    char token[TOKEN_HEX + 1];
    token_of(key, cookie, token);
    return arena_strdup(&req->a, token);
}

bool csrf_check(http_req *req, const unsigned char key[32], const char *posted)
{
    const char *cookie = form_cookie(req);
    if (!cookie || !posted || strlen(posted) != TOKEN_HEX)
        return false;
    char expected[TOKEN_HEX + 1];
    token_of(key, cookie, expected);
    return sodium_memcmp(expected, posted, TOKEN_HEX) == 0;
}
