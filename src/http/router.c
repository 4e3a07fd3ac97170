/* router.c - route matching; see router.h. */
#include "http/router.h"

#include <string.h>

/* Matches `path` against `pattern`; captures point into arena copies. */
static bool match_pattern(const char *pattern, const char *path, http_req *req)
{
    size_t n = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            const char *end = strchr(s, '/');
            /* A final "{name*}" takes the rest of the path, slashes and all. */
            if (close && close > p + 1 && close[-1] == '*' && close[1] == '\0')
                end = NULL;
            size_t len = end ? (size_t)(end - s) : strlen(s);
            if (!close || len == 0 || n >= HTTP_MAX_PARAMS)
                return false;
            req->params[n++] = arena_strndup(&req->a, s, len);
            p = close + 1;
            s += len;
            continue;
        }
        if (*p != *s)
            return false;
        p++;
        s++;
    }
    if (*p || *s)
        return false;
    req->n_params = n;
    return true;
}

route_match router_match(const route *table, size_t n, http_req *req, const route **found,
                         unsigned *allowed)
{
    unsigned method = req->method == HTTP_HEAD ? HTTP_GET : req->method;
    unsigned methods = 0;
    *found = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!match_pattern(table[i].pattern, req->path, req))
            continue;
        req->route = table[i].pattern;
        if (table[i].methods & method) {
            *found = &table[i];
            return ROUTE_FOUND;
        }
        methods |= table[i].methods;
    }
    *allowed = methods;
    req->n_params = 0;
    return methods ? ROUTE_NO_METHOD : ROUTE_NO_PATH;
}

const char *router_allow_header(arena *a, unsigned methods)
{
    static const http_method order[] = {HTTP_GET,   HTTP_HEAD,   HTTP_POST,   HTTP_PUT,
                                        HTTP_PATCH, HTTP_DELETE, HTTP_OPTIONS};
    char out[64];
    size_t len = 0;
    if (methods & HTTP_GET)
        methods |= HTTP_HEAD;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        if (!(methods & order[i]))
            continue;
        const char *name = http_method_name(order[i]);
        size_t nl = strlen(name);
        if (len + nl + 3 > sizeof(out))
            break;
        if (len) {
            memcpy(out + len, ", ", 2);
            len += 2;
        }
        memcpy(out + len, name, nl);
        len += nl;
        out[len] = '\0';
    }
    return arena_strdup(a, out);
}

const char *const ROUTE_QUERY_ANY[] = {"*", NULL};

typedef struct query_check {
    const char *const *allowed;
    const char *unknown;
} query_check;

static bool query_allowed(void *cls, const char *key, const char *value)
{
    (void)value;
    query_check *qc = cls;
    for (const char *const *k = qc->allowed; k && *k; k++)
        if (strcmp(key, *k) == 0)
            return true;
    qc->unknown = key;
    return false;
}

const char *router_unknown_query(const route *r, http_req *req)
{
    if (r->query == ROUTE_QUERY_ANY)
        return NULL;
    query_check qc = {r->query, NULL};
    http_query_each(req, query_allowed, &qc);
    return qc.unknown;
}
