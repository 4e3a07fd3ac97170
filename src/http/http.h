/* http.h - requests, responses and the server around libmicrohttpd.
 *
 * The server reads each request whole (bodies are capped), hands it to one
 * dispatch function, and sends the one response the dispatcher filled in.
 * A request owns an arena that lives until the response has been sent, so
 * handlers allocate from req->a and never free.
 */
#ifndef OC_HTTP_H
#define OC_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/arena.h"
#include "util/buf.h"

#define HTTP_BODY_MAX (64 * 1024)
#define HTTP_RESPONSE_MAX (8 * 1024 * 1024)
#define HTTP_MAX_PARAMS 4
#define HTTP_MAX_HEADERS 8

typedef enum {
    HTTP_GET = 1 << 0,
    HTTP_HEAD = 1 << 1,
    HTTP_POST = 1 << 2,
    HTTP_PUT = 1 << 3,
    HTTP_DELETE = 1 << 4,
    HTTP_PATCH = 1 << 5,
    HTTP_OPTIONS = 1 << 6,
    HTTP_OTHER = 1 << 7,
} http_method;

struct MHD_Connection;

typedef struct http_req {
    arena a;
    http_method method;
    const char *path; /* without the query string */
    struct MHD_Connection *conn;
    buf body;
    bool body_too_large;
    char client[64];                     /* client address, for rate limits; never logged */
    const char *params[HTTP_MAX_PARAMS]; /* path captures, in pattern order */
    size_t n_params;
    const char *route; /* the matched pattern, for logs and metrics */
    void *ctx;         /* the application's context */
    void *who;         /* the authenticated principal, set by the application */
    int64_t started_ns;
} http_req;

typedef struct http_header {
    const char *name;
    const char *value;
} http_header;

typedef struct http_res {
    int status;
    const char *content_type;
    buf body;
    /* A body that lives as long as the program (a compiled-in file), sent
     * without copying instead of `body` when not NULL. */
    const char *static_body;
    size_t static_len;
    http_header headers[HTTP_MAX_HEADERS];
    size_t n_headers;
} http_res;

/* Case-insensitive header look-up; NULL when absent. */
const char *http_header_get(http_req *req, const char *name);
/* First query-string value for `name`; NULL when absent. */
const char *http_query_get(http_req *req, const char *name);
/* Calls fn for each query-string key until it returns false; returns false then. */
bool http_query_each(http_req *req, bool (*fn)(void *cls, const char *key, const char *value),
                     void *cls);

/* The value of cookie `name` in a Cookie header value, copied into `a`;
 * NULL when absent. */
const char *http_cookie_get(arena *a, const char *header, const char *name);

/* Decodes %XX escapes in place, as the server does to request paths and
 * query values, and returns the new length. %00 is left as written: a NUL
 * would cut the string short, so that "/assets/a.css%00.png" would be read
 * as "/assets/a.css". */
size_t http_unescape(char *s);

/* Adds a response header (strings must outlive the request: use req->a). */
void http_res_header(http_res *res, const char *name, const char *value);

typedef void (*http_dispatch_fn)(void *ctx, http_req *req, http_res *res);

typedef struct http_server_config {
    const char *host;
    unsigned short port;
    unsigned threads;
    http_dispatch_fn dispatch;
    void *ctx;
    bool access_log;
    /* Comma-separated addresses of reverse proxies whose X-Forwarded-For is
     * believed; NULL or empty believes no one. */
    const char *trusted_proxies;
} http_server_config;

typedef struct http_server http_server;

/* Starts listening; returns NULL (and logs why) on failure. */
http_server *http_server_start(const http_server_config *cfg);
/* Stops accepting, lets requests in flight finish, and frees the server. */
void http_server_stop(http_server *srv);

const char *http_method_name(http_method m);

/* Monotonic time in nanoseconds, the clock of req->started_ns. */
int64_t http_now_ns(void);

#endif
