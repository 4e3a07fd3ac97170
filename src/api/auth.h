/* auth.h - who is calling: session cookies and API keys.
 *
 * Staff log in with email and password (Argon2id) and get a random session
 * token in an HttpOnly, SameSite=Strict cookie; systems send an API key as a
 * Bearer token. Only keyed hashes of tokens and keys are stored.
 */
#ifndef OC_AUTH_H
#define OC_AUTH_H

#include <stdbool.h>

#include "http/http.h"
#include "store/store.h"

typedef enum {
    AUTH_NONE,        /* no credentials were sent */
    AUTH_OK,          /* *out is the caller */
    AUTH_INVALID,     /* credentials were sent but are not valid */
    AUTH_UNAVAILABLE, /* the store could not be asked */
} auth_rc;

/* Resolves the caller from the Authorization header or the session cookie;
 * *by_cookie tells which, since only cookie callers need CSRF checks. */
auth_rc auth_resolve(http_req *req, store_principal *out, bool *by_cookie);

/* A valid key's check is reused for this long by the server that made it,
 * so most requests with an API key cost no round trip to the database; a
 * key revoked meanwhile is refused by every server within this time. */
#define AUTH_KEY_CACHE_SECONDS 5

/* Resolves an API key given by other means than the Authorization header
 * (Open311 sends it as the api_key parameter). */
auth_rc auth_api_key(http_req *req, const char *key, store_principal *out);

/* Whether `role` meets access level `level` (see app.h). */
bool auth_role_allows(const char *role, int level);

#endif
