/* router.h - matching a request against a table of routes.
 *
 * A route is a method mask, a path pattern whose `{name}` segments capture
 * one path segment each (a final `{name*}` captures the rest of the path), a handler and an access
 * level the application interprets. The table is plain data (see api/routes.c).
 */
#ifndef OC_ROUTER_H
#define OC_ROUTER_H

#include "http/http.h"

typedef void (*route_handler)(http_req *req, http_res *res);

typedef struct route {
    unsigned methods; /* a mask of http_method */
    const char *pattern;
    route_handler handler;
    int access;
    /* Query parameters the route accepts, NULL-terminated; NULL for none.
     * ROUTE_QUERY_ANY lets everything through (pages, where links from
     * elsewhere add their own). */
    const char *const *query;
} route;

extern const char *const ROUTE_QUERY_ANY[];

/* The first query parameter of the request that the route does not accept,
 * or NULL when all are accepted. */
const char *router_unknown_query(const route *r, http_req *req);

typedef enum {
    ROUTE_FOUND,
    ROUTE_NO_PATH,   /* 404 */
    ROUTE_NO_METHOD, /* 405: *allowed holds the methods the path accepts */
} route_match;

/* Finds the route for req->method and req->path, filling req->params and
 * req->route. HEAD matches GET routes. */
route_match router_match(const route *table, size_t n, http_req *req, const route **found,
                         unsigned *allowed);

/* "GET, POST" for a method mask, allocated in `a`. */
const char *router_allow_header(arena *a, unsigned methods);

#endif
