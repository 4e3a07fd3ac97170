/* server.c - the HTTP server: libmicrohttpd in epoll mode with a thread pool.
 *
 * The server accepts connections itself, on a thread of its own, and hands
 * each to libmicrohttpd, which spreads them evenly over the pool (by socket
 * number). Left to accept on its own, each pool thread races for the
 * listening socket, and a burst of connections tends to land on the few
 * threads awake: a handler waiting for the database then stalls every
 * connection of its thread while other threads sit idle.
 *
 * Each request is read whole into a capped buffer and dispatched once, on the
 * access handler's last call. The response is never queued on the first call:
 * libmicrohttpd 0.9.75 then answers "Connection: close", which costs keep-alive
 * clients a new connection per request.
 */
#include "http/http.h"

#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "util/log.h"

struct http_server {
    struct MHD_Daemon *daemon;
    http_server_config cfg;
    int listen_fd;
    pthread_t acceptor;
};

int64_t http_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

const char *http_method_name(http_method m)
{
    switch (m) {
    case HTTP_GET:
        return "GET";
    case HTTP_HEAD:
        return "HEAD";
    case HTTP_POST:
        return "POST";
    case HTTP_PUT:
        return "PUT";
    case HTTP_DELETE:
        return "DELETE";
    case HTTP_PATCH:
        return "PATCH";
    case HTTP_OPTIONS:
        return "OPTIONS";
    default:
        return "OTHER";
    }
}

static http_method parse_method(const char *m)
{
    static const struct {
        const char *name;
        http_method m;
    } methods[] = {
        {"GET", HTTP_GET},         {"HEAD", HTTP_HEAD},     {"POST", HTTP_POST},
        {"PUT", HTTP_PUT},         {"DELETE", HTTP_DELETE}, {"PATCH", HTTP_PATCH},
        {"OPTIONS", HTTP_OPTIONS},
    };
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        if (strcmp(m, methods[i].name) == 0)
            return methods[i].m;
    return HTTP_OTHER;
}

const char *http_header_get(http_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *http_query_get(http_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

typedef struct query_iter {
    bool (*fn)(void *cls, const char *key, const char *value);
    void *cls;
    bool ok;
} query_iter;

static enum MHD_Result query_visit(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    query_iter *it = cls;
    if (!it->fn(it->cls, key, value ? value : "")) {
        it->ok = false;
        return MHD_NO;
    }
    return MHD_YES;
}

bool http_query_each(http_req *req, bool (*fn)(void *cls, const char *key, const char *value),
                     void *cls)
{
    query_iter it = {fn, cls, true};
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, query_visit, &it);
    return it.ok;
}

const char *http_cookie_get(arena *a, const char *header, const char *name)
{
    size_t nl = strlen(name);
    const char *p = header;
    while (p && *p) {
        while (*p == ' ' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > nl && strncmp(p, name, nl) == 0 && p[nl] == '=')
            return arena_strndup(a, p + nl + 1, len - nl - 1);
        p = end;
    }
    return NULL;
}

void http_res_header(http_res *res, const char *name, const char *value)
{
    if (res->n_headers < HTTP_MAX_HEADERS) {
        res->headers[res->n_headers].name = name;
        res->headers[res->n_headers].value = value;
        res->n_headers++;
    }
}

static void client_address(struct MHD_Connection *conn, char *out, size_t outlen)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    out[0] = '\0';
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)outlen);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)outlen);
}

/* Whether `addr` is one of the comma-separated addresses in `list`. */
static bool listed(const char *list, const char *addr)
{
    size_t n = strlen(addr);
    for (const char *p = list; p && *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && memcmp(p, addr, n) == 0)
            return true;
        p = end ? end + 1 : NULL;
    }
    return false;
}

/* Behind a trusted reverse proxy, the client is the last address the proxy
 * appended to X-Forwarded-For; anyone else's header is ignored, since a
 * client could write any address there to dodge the rate limits. */
static void forwarded_client(const http_server_config *cfg, struct MHD_Connection *conn,
                             char *client, size_t len)
{
    if (!cfg->trusted_proxies || !*client || !listed(cfg->trusted_proxies, client))
        return;
    const char *xff = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Forwarded-For");
    if (!xff)
        return;
    const char *last = strrchr(xff, ',');
    last = last ? last + 1 : xff;
    while (*last == ' ' || *last == '\t')
        last++;
    size_t n = strcspn(last, " \t");
    char addr[64];
    unsigned char bin[16];
    if (n == 0 || n >= sizeof(addr) || n >= len)
        return;
    memcpy(addr, last, n);
    addr[n] = '\0';
    if (inet_pton(AF_INET, addr, bin) == 1 || inet_pton(AF_INET6, addr, bin) == 1)
        memcpy(client, addr, n + 1);
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

size_t http_unescape(char *s)
{
    char *w = s;
    const char *r = s;
    while (*r) {
        int hi = r[0] == '%' ? hex_value(r[1]) : -1;
        int lo = hi >= 0 ? hex_value(r[2]) : -1;
        if (lo >= 0 && (hi | lo) != 0) {
            *w++ = (char)(hi << 4 | lo);
            r += 3;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
    return (size_t)(w - s);
}

static size_t on_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls;
    (void)conn;
    return http_unescape(s);
}

static enum MHD_Result send_response(http_server *srv, http_req *req, http_res *res)
{
    size_t len = 0;
    char *body = NULL;
    struct MHD_Response *r;
    if (res->static_body) {
        /* MHD only reads a persistent buffer, though its parameter is not const. */
        r = MHD_create_response_from_buffer(res->static_len, (void *)res->static_body,
                                            MHD_RESPMEM_PERSISTENT);
    } else {
        body = buf_steal(&res->body, &len);
        r = MHD_create_response_from_buffer(len, body ? body : (char *)"",
                                            body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    }
    if (!r) {
        free(body);
        return MHD_NO;
    }
    if (res->content_type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, res->content_type);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    for (size_t i = 0; i < res->n_headers; i++)
        MHD_add_response_header(r, res->headers[i].name, res->headers[i].value);
    enum MHD_Result rc = MHD_queue_response(req->conn, (unsigned)res->status, r);
    MHD_destroy_response(r);
    if (srv->cfg.access_log)
        log_info("msg=request method=%s route=\"%s\" status=%d dur_us=%lld",
                 http_method_name(req->method), req->route ? req->route : "-", res->status,
                 (long long)((http_now_ns() - req->started_ns) / 1000));
    return rc;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
    (void)version;
    http_server *srv = cls;
    http_req *req = *con_cls;

    if (!req) {
        req = calloc(1, sizeof(*req));
        if (!req)
            return MHD_NO;
        arena_init(&req->a);
        buf_init(&req->body, HTTP_BODY_MAX);
        req->conn = conn;
        req->method = parse_method(method);
        req->path = url;
        req->ctx = srv->cfg.ctx;
        req->started_ns = http_now_ns();
        client_address(conn, req->client, sizeof(req->client));
        forwarded_client(&srv->cfg, conn, req->client, sizeof(req->client));
        *con_cls = req;
        return MHD_YES;
    }

    if (*upload_data_size) {
        /* Keep reading past the cap so the client gets our 413 rather than a reset. */
        if (!req->body_too_large && !buf_append(&req->body, upload_data, *upload_data_size))
            req->body_too_large = true;
        *upload_data_size = 0;
        return MHD_YES;
    }

    http_res res = {.status = 500};
    buf_init(&res.body, HTTP_RESPONSE_MAX);
    srv->cfg.dispatch(srv->cfg.ctx, req, &res);
    if (res.body.failed) {
        log_error("msg=\"response too large or out of memory\" route=\"%s\"",
                  req->route ? req->route : "-");
        buf_reset(&res.body);
        res.status = 500;
        res.content_type = "application/json";
        res.n_headers = 0;
        res.static_body = NULL;
        buf_puts(&res.body, "{\"error\":{\"code\":\"internal\",\"message\":\"the response could "
                            "not be built\",\"field\":null}}");
    }
    enum MHD_Result rc = send_response(srv, req, &res);
    buf_free(&res.body);
    return rc;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    http_req *req = *con_cls;
    if (!req)
        return;
    buf_free(&req->body);
    arena_free(&req->a);
    free(req);
    *con_cls = NULL;
}

__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    for (char *p = msg; *p; p++)
        if (*p == '"')
            *p = '\'';
    log_warn("msg=\"http: %s\"", msg);
}

/* A listening socket bound to ss; -1 (logged) on failure. Address reuse as
 * libmicrohttpd's option gives it, so that a restarted server binds at once. */
static int listen_on(const struct sockaddr_storage *ss, socklen_t len,
                     const http_server_config *cfg)
{
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto fail;
    int on = 1;
    /* An IPv6 address listens for IPv6 alone, whatever the system's default. */
    if ((ss->ss_family == AF_INET6 &&
         setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) != 0) ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0 ||
        bind(fd, (const struct sockaddr *)ss, len) != 0 || listen(fd, SOMAXCONN) != 0)
        goto fail;
    return fd;
fail:
    log_error("msg=\"cannot listen\" host=\"%s\" port=%u error=\"%s\"", cfg->host, cfg->port,
              strerror(errno));
    if (fd >= 0)
        close(fd);
    return -1;
}

/* Accepts until the listening socket is shut down. */
static void *accept_loop(void *arg)
{
    http_server *srv = arg;
    for (;;) {
        struct sockaddr_storage peer;
        socklen_t len = sizeof(peer);
        int fd = accept4(srv->listen_fd, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EINVAL) /* shut down by http_server_stop */
                break;
            /* Out of descriptors or memory: wait rather than spin. */
            log_warn("msg=\"http: cannot accept\" error=\"%s\"", strerror(errno));
            struct timespec pause = {0, 100 * 1000 * 1000};
            nanosleep(&pause, NULL);
            continue;
        }
        /* On failure libmicrohttpd closes the socket itself. */
        if (MHD_add_connection(srv->daemon, fd, (struct sockaddr *)&peer, len) != MHD_YES)
            log_warn("msg=\"http: connection refused\" error=\"%s\"", strerror(errno));
    }
    return NULL;
}

http_server *http_server_start(const http_server_config *cfg)
{
    http_server *srv = calloc(1, sizeof(*srv));
    if (!srv)
        return NULL;
    srv->cfg = *cfg;
    srv->listen_fd = -1;

    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t len = 0;
    struct sockaddr_in *sin = (struct sockaddr_in *)(void *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)&ss;
    if (inet_pton(AF_INET, cfg->host, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(cfg->port);
        len = sizeof(*sin);
    } else if (inet_pton(AF_INET6, cfg->host, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(cfg->port);
        len = sizeof(*sin6);
    } else {
        log_error("msg=\"listen address is not an IP address\" host=\"%s\"", cfg->host);
        goto fail;
    }
    srv->listen_fd = listen_on(&ss, len, cfg);
    if (srv->listen_fd < 0)
        goto fail;

    srv->daemon = MHD_start_daemon(
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ERROR_LOG | MHD_USE_ITC,
        0, NULL, NULL, on_access, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
        MHD_OPTION_THREAD_POOL_SIZE, cfg->threads, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_CONNECTION_LIMIT, 4096u,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16 * 1024, MHD_OPTION_UNESCAPE_CALLBACK,
        on_unescape, NULL, MHD_OPTION_END);
    if (!srv->daemon) {
        log_error("msg=\"cannot start the HTTP server\" host=\"%s\" port=%u", cfg->host, cfg->port);
        goto fail;
    }
    if (pthread_create(&srv->acceptor, NULL, accept_loop, srv) != 0) {
        log_error("msg=\"cannot start the thread accepting connections\"");
        goto fail;
    }
    return srv;
fail:
    if (srv->daemon)
        MHD_stop_daemon(srv->daemon);
    if (srv->listen_fd >= 0)
        close(srv->listen_fd);
    free(srv);
    return NULL;
}

void http_server_stop(http_server *srv)
{
    if (!srv)
        return;
    /* Stop accepting first (shutdown wakes the blocked accept); then
     * MHD_stop_daemon joins the pool threads, each of which finishes the
     * request it is handling. */
    shutdown(srv->listen_fd, SHUT_RDWR);
    pthread_join(srv->acceptor, NULL);
    close(srv->listen_fd);
    MHD_stop_daemon(srv->daemon);
    free(srv);
}
