/* assets.c - serving the embedded static files; see assets.h.
 *
 * Nothing here touches the file system, so a path such as
 * /assets/../../etc/passwd (or its percent-encoded forms, which the HTTP
 * layer has decoded before we see them) simply names no asset.
 */
#include "web/assets.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/handlers.h"
#include "api/json.h"

#define CACHE_FOREVER "public, max-age=31536000, immutable"
/* Stored, but checked with the ETag before each use: an unversioned URL may
 * be given other bytes by the next release. */
#define CACHE_REVALIDATE "no-cache"

static int compare_path(const void *key, const void *elem)
{
    return strcmp(key, ((const asset *)elem)->path);
}

const asset *asset_find(const char *path)
{
    if (!path)
        return NULL;
    return bsearch(path, assets_table, assets_count, sizeof(assets_table[0]), compare_path);
}

const char *asset_url(const char *path)
{
    const asset *a = asset_find(path);
    return a ? a->url : path;
}

static const char *skip_space(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Whether a q-value is zero ("0", "0.", "0.0" up to "0.000"); a weight that
 * does not parse counts as non-zero, as though it had not been sent. */
static bool q_is_zero(const char *p, size_t n)
{
    if (n == 0 || p[0] != '0')
        return false;
    if (n == 1)
        return true;
    if (p[1] != '.' || n > 5)
        return false;
    for (size_t i = 2; i < n; i++)
        if (p[i] != '0')
            return false;
    return true;
}

/* The weight of one list element "coding;q=0.5;x=y": false when it is q=0. */
static bool element_allowed(const char *params, const char *end)
{
    const char *p = params;
    while (p < end) {
        p = skip_space(p + 1); /* past ';' */
        const char *next = memchr(p, ';', (size_t)(end - p));
        const char *stop = next ? next : end;
        if (stop - p >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
            const char *v = p + 2;
            const char *v_end = stop;
            while (v_end > v && (v_end[-1] == ' ' || v_end[-1] == '\t'))
                v_end--;
            return !q_is_zero(v, (size_t)(v_end - v));
        }
        p = stop;
    }
    return true;
}

bool asset_accepts_gzip(const char *accept_encoding)
{
    int gzip = -1, star = -1; /* -1 unmentioned, 0 refused, 1 accepted */
    const char *p = accept_encoding;
    while (p && *p) {
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        const char *name = skip_space(p);
        size_t n = 0;
        while (name + n < end && name[n] != ';' && name[n] != ' ' && name[n] != '\t')
            n++;
        const char *params = name + n;
        while (params < end && *params != ';')
            params++;
        bool ok = params < end ? element_allowed(params, end) : true;
        if ((n == 4 && strncasecmp(name, "gzip", 4) == 0) ||
            (n == 6 && strncasecmp(name, "x-gzip", 6) == 0))
            gzip = ok;
        else if (n == 1 && name[0] == '*')
            star = ok;
        p = *end ? end + 1 : end;
    }
    return gzip == 1 || (gzip == -1 && star == 1);
}

bool asset_etag_matches(const char *if_none_match, const char *etag)
{
    if (etag[0] == 'W' && etag[1] == '/')
        etag += 2;
    size_t elen = strlen(etag);
    const char *p = if_none_match;
    while (p && *p) {
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        const char *tag = skip_space(p);
        const char *tag_end = end;
        while (tag_end > tag && (tag_end[-1] == ' ' || tag_end[-1] == '\t'))
            tag_end--;
        if (tag_end - tag == 1 && tag[0] == '*')
            return true;
        /* If-None-Match compares weakly (RFC 9110, 13.1.2). */
        if (tag_end - tag >= 2 && tag[0] == 'W' && tag[1] == '/')
            tag += 2;
        if ((size_t)(tag_end - tag) == elen && memcmp(tag, etag, elen) == 0)
            return true;
        p = *end ? end + 1 : end;
    }
    return false;
}

/* GET /assets/...: the file, 304 when the client's copy is current, or 404. */
void assets_get(http_req *req, http_res *res)
{
    const asset *a = asset_find(req->path);
    if (!a) {
        api_error(res, 404, "not_found", NULL, "there is no such file");
        return;
    }
    const char *v = http_query_get(req, "v");
    bool forever = v ? strcmp(v, a->version) == 0 : a->fingerprinted;
    http_res_header(res, "Cache-Control", forever ? CACHE_FOREVER : CACHE_REVALIDATE);
    http_res_header(res, "ETag", a->etag);
    if (a->gz)
        http_res_header(res, "Vary", "Accept-Encoding");
    if (asset_etag_matches(http_header_get(req, "If-None-Match"), a->etag)) {
        res->status = 304;
        return;
    }
    res->status = 200;
    res->content_type = a->content_type;
    if (a->gz && asset_accepts_gzip(http_header_get(req, "Accept-Encoding"))) {
        http_res_header(res, "Content-Encoding", "gzip");
        res->static_body = a->gz;
        res->static_len = a->gz_len;
        return;
    }
    res->static_body = a->data;
    res->static_len = a->len;
}
