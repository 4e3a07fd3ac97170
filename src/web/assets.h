/* assets.h - the public pages' static files, compiled into the binary.
 *
 * The stylesheet (compiled from GOV.UK Frontend's Sass), GOV.UK Frontend's
 * script, Leaflet and its marker clusters, and opencase's own scripts are
 * embedded at build time (src/web/assets.manifest, tools/embed_assets.py), so
 * a deployment stays one file, every instance serves the same bytes, and no
 * request path ever reaches the file system: a path is exactly a name in the
 * table or it is not found.
 *
 * Pages link to asset_url(path), which carries the file's version; such a
 * URL, or a file whose name already changes with its content, is cached for a
 * year. Anything else is revalidated with its ETag.
 */
#ifndef OC_ASSETS_H
#define OC_ASSETS_H

#include <stdbool.h>
#include <stddef.h>

#include "http/http.h"

typedef struct asset {
    const char *path;         /* "/assets/opencase.css" */
    const char *url;          /* path?v=version: what pages link to */
    const char *content_type; /* from the extension */
    const char *data;
    size_t len;
    const char *gz; /* a gzip copy, or NULL when it would not be much smaller */
    size_t gz_len;
    /* W/"version": weak, since the gzip copy and the plain bytes are the
     * same file to the client. */
    const char *etag;
    const char *version; /* the first 16 hex digits of the SHA-256 of data */
    bool fingerprinted;  /* the name changes with the content */
} asset;

/* The generated table, sorted by path in byte order. */
extern const asset assets_table[];
extern const size_t assets_count;

/* The asset at exactly `path` (a request path, already percent-decoded), or
 * NULL. Static storage; never freed. */
const asset *asset_find(const char *path);

/* The versioned URL of the asset at `path`, for links in pages; `path` itself
 * when there is no such asset, so that a wrong name shows up as a 404. */
const char *asset_url(const char *path);

/* Whether an Accept-Encoding header value accepts gzip (not with q=0). */
bool asset_accepts_gzip(const char *accept_encoding);

/* Whether an If-None-Match header value names `etag`, compared weakly as
 * RFC 9110 asks, or is "*". */
bool asset_etag_matches(const char *if_none_match, const char *etag);

#endif
