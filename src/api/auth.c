/* auth.c - log-in, log-out, the caller's identity and credential checks. */
#include "api/auth.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/app.h"
#include "api/handlers.h"
#include "api/json.h"
#include "domain/validate.h"
#include "util/log.h"
#include "util/token.h"

#define SESSION_COOKIE "opencase_session"
#define SESSION_TTL_S (8 * 3600)
#define SESSION_TOKEN_CHARS 52 /* 260 bits */
#define PASSWORD_MAX 1024

static const ratelimit_rule login_rule = {"login", 10, 15 * 60};

bool auth_role_allows(const char *role, int level)
{
    switch (level) {
    case ACCESS_PUBLIC:
        return true;
    case ACCESS_STAFF:
        return strcmp(role, "administrator") == 0 || strcmp(role, "caseworker") == 0 ||
               strcmp(role, "analyst") == 0;
    case ACCESS_WRITER:
        return strcmp(role, "administrator") == 0 || strcmp(role, "caseworker") == 0;
    case ACCESS_ADMIN:
        return strcmp(role, "administrator") == 0;
    default:
        return false;
    }
}

/* The slot a key's hash may be kept in: the hash is keyed with the
 * deployment's secret, so callers cannot aim keys at one slot. */
static app_key *key_slot(app *ap, const unsigned char hash[TOKEN_HASH_BYTES])
{
    return &ap->keys[hash[0] % APP_KEY_SLOTS];
}

/* The principal of a key checked less than AUTH_KEY_CACHE_SECONDS ago, its
 * strings copied into the request's arena. */
static bool key_recalled(http_req *req, const unsigned char hash[TOKEN_HASH_BYTES],
                         store_principal *out)
{
    app *ap = req->ctx;
    app_key *k = key_slot(ap, hash);
    bool found = false;
    pthread_mutex_lock(&ap->keys_lock);
    if (token_hash_equal(k->hash, hash) && (int64_t)(http_now_ns() / 1000000) < k->until_ms) {
        out->org_id = k->org_id;
        out->user_id = 0;
        out->key_id = k->key_id;
        out->role = arena_strdup(&req->a, k->role);
        out->name = arena_strdup(&req->a, k->label);
        found = out->role && out->name;
    }
    pthread_mutex_unlock(&ap->keys_lock);
    return found;
}

static void key_remember(app *ap, const unsigned char hash[TOKEN_HASH_BYTES],
                         const store_principal *p)
{
    /* A label too long for the slot is looked up every time instead. */
    if (strlen(p->name) > APP_KEY_LABEL_MAX || strlen(p->role) >= sizeof(ap->keys[0].role))
        return;
    app_key *k = key_slot(ap, hash);
    pthread_mutex_lock(&ap->keys_lock);
    memcpy(k->hash, hash, TOKEN_HASH_BYTES);
    k->until_ms = (int64_t)(http_now_ns() / 1000000) + AUTH_KEY_CACHE_SECONDS * 1000;
    k->org_id = p->org_id;
    k->key_id = p->key_id;
    snprintf(k->role, sizeof(k->role), "%s", p->role);
    snprintf(k->label, sizeof(k->label), "%s", p->name);
    pthread_mutex_unlock(&ap->keys_lock);
}

auth_rc auth_api_key(http_req *req, const char *key, store_principal *out)
{
    app *ap = req->ctx;
    unsigned char hash[TOKEN_HASH_BYTES];
    if (strlen(key) == 0 || strlen(key) > 256)
        return AUTH_INVALID;
    token_hash(ap->key, key, hash);
    if (key_recalled(req, hash, out))
        return AUTH_OK;
    store_rc rc = store_key_get(ap->store, &req->a, hash, out);
    if (rc == STORE_OK) {
        key_remember(ap, hash, out);
        return AUTH_OK;
    }
    return rc == STORE_NOT_FOUND ? AUTH_INVALID : AUTH_UNAVAILABLE;
}

auth_rc auth_resolve(http_req *req, store_principal *out, bool *by_cookie)
{
    app *ap = req->ctx;
    unsigned char hash[TOKEN_HASH_BYTES];
    const char *authz = http_header_get(req, "Authorization");
    *by_cookie = false;
    if (authz)
        return strncasecmp(authz, "Bearer ", 7) == 0 ? auth_api_key(req, authz + 7, out)
                                                     : AUTH_INVALID;
    const char *cookies = http_header_get(req, "Cookie");
    const char *token = cookies ? http_cookie_get(&req->a, cookies, SESSION_COOKIE) : NULL;
    if (!token || !*token)
        return AUTH_NONE;
    if (strlen(token) > 256)
        return AUTH_INVALID;
    *by_cookie = true;
    token_hash(ap->key, token, hash);
    store_rc rc = store_session_get(ap->store, &req->a, hash, app_now(), out);
    if (rc == STORE_OK)
        return AUTH_OK;
    if (rc == STORE_NOT_FOUND)
        return AUTH_INVALID;
    return AUTH_UNAVAILABLE;
}

static json_t *org_json(http_req *req, int64_t org_id)
{
    app *ap = req->ctx;
    store_org org;
    if (store_org_by_id(ap->store, &req->a, org_id, &org) != STORE_OK)
        return json_null();
    return json_pack("{s:s, s:s}", "slug", org.slug, "name", org.name);
}

void auth_login(http_req *req, http_res *res)
{
    static const char *const fields[] = {"email", "password", NULL};
    app *ap = req->ctx;
    int64_t now = app_now();
    unsigned retry = 0;
    if (ratelimit_blocked(ap->limits, &login_rule, req->client, now, &retry)) {
        api_error(res, 429, "rate_limited", NULL,
                  "too many failed log-ins from this address; try again in %u seconds", retry);
        http_res_header(res, "Retry-After", arena_printf(&req->a, "%u", retry));
        return;
    }
    json_t *body = api_body_object(req, res, false);
    if (!body)
        return;
    const char *email, *password;
    char normal[256];
    store_user user;
    if (!api_only_fields(res, body, "", fields) ||
        !api_string(res, body, "email", "email", true, 254, false, &email) ||
        !api_string(res, body, "password", "password", true, PASSWORD_MAX, false, &password))
        goto out;

    store_rc rc = STORE_NOT_FOUND;
    if (email_normalise(email, normal, sizeof(normal)))
        rc = store_user_by_email(ap->store, &req->a, normal, &user);
    if (rc != STORE_OK && rc != STORE_NOT_FOUND) {
        api_store_error(res, rc);
        goto out;
    }
    /* An unknown address still costs one Argon2id run, so timing does not
     * tell which addresses have accounts. */
    bool ok = password_verify(rc == STORE_OK ? user.password_hash : ap->dummy_hash, password);
    if (rc == STORE_NOT_FOUND || !ok) {
        ratelimit_fail(ap->limits, &login_rule, req->client, now);
        api_error(res, 401, "unauthorized", NULL, "the email address or password is wrong");
        goto out;
    }

    char token[SESSION_TOKEN_CHARS + 1];
    unsigned char hash[TOKEN_HASH_BYTES];
    token_random(token, SESSION_TOKEN_CHARS);
    token_hash(ap->key, token, hash);
    rc = store_session_create(ap->store, hash, user.id, now + SESSION_TTL_S);
    if (rc != STORE_OK) {
        api_store_error(res, rc);
        goto out;
    }
    api_send(res, 200,
             json_pack("{s:{s:s, s:s, s:s, s:o}}", "user", "email", user.email, "name", user.name,
                       "role", user.role, "organisation", org_json(req, user.org_id)));
    http_res_header(res, "Set-Cookie",
                    arena_printf(&req->a, "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s",
                                 SESSION_COOKIE, token, SESSION_TTL_S,
                                 ap->cookie_secure ? "; Secure" : ""));
    http_res_header(res, "Cache-Control", "no-store");
out:
    json_decref(body);
}

void auth_logout(http_req *req, http_res *res)
{
    app *ap = req->ctx;
    const char *cookies = http_header_get(req, "Cookie");
    const char *token = cookies ? http_cookie_get(&req->a, cookies, SESSION_COOKIE) : NULL;
    if (token && *token && strlen(token) <= 256) {
        unsigned char hash[TOKEN_HASH_BYTES];
        token_hash(ap->key, token, hash);
        store_rc rc = store_session_delete(ap->store, hash);
        if (rc != STORE_OK && rc != STORE_NOT_FOUND) {
            api_store_error(res, rc);
            return;
        }
    }
    res->status = 204;
    http_res_header(res, "Set-Cookie",
                    arena_printf(&req->a, "%s=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0%s",
                                 SESSION_COOKIE, ap->cookie_secure ? "; Secure" : ""));
}

/* The organisation's staff accounts, so that a system can name an officer
 * (an appeal's, say) by id. Names and roles are for every member of staff;
 * email addresses for administrators, who manage the accounts. */
void auth_users(http_req *req, http_res *res)
{
    app *ap = req->ctx;
    const store_principal *who = req->who;
    const char *role = http_query_get(req, "role");
    if (role && !auth_role_allows(role, ACCESS_STAFF)) {
        api_error(res, 400, "invalid_field", "role",
                  "role must be administrator, caseworker or analyst");
        return;
    }
    store_user *users;
    size_t n;
    store_rc rc = store_user_list(ap->store, &req->a, who->org_id, role, &users, &n);
    if (rc != STORE_OK) {
        api_store_error(res, rc);
        return;
    }
    bool admin = strcmp(who->role, "administrator") == 0;
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *u = json_pack("{s:I, s:s, s:s}", "id", (json_int_t)users[i].id, "name",
                              users[i].name, "role", users[i].role);
        if (u && admin)
            json_object_set_new(u, "email", json_string(users[i].email));
        json_array_append_new(list, u);
    }
    api_send(res, 200, json_pack("{s:o}", "users", list));
}

void auth_me(http_req *req, http_res *res)
{
    const store_principal *who = req->who;
    api_send(res, 200,
             json_pack("{s:s, s:s, s:s, s:o}", "kind", who->user_id ? "user" : "key", "name",
                       who->name, "role", who->role, "organisation", org_json(req, who->org_id)));
}
