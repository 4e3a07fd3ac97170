/* log.c - the public log over HTTP: checkpoint, tiles, proofs and a feed.
 *
 * Everything here is public and read-only. Tiles and entry bundles follow
 * C2SP tlog-tiles, so that existing clients and verifiers can read the log
 * from any static mirror; proofs and the feed are for clients that prefer
 * JSON. A full tile never changes, so it is cacheable forever; a partial
 * tile of a given width never changes either, but is superseded by the
 * full one, so it is cached briefly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "api/app.h"
#include "api/handlers.h"
#include "api/json.h"
#include "domain/validate.h"
#include "tlog/tile.h"

#define FEED_DEFAULT 100
#define FEED_MAX 1000
#define CACHE_IMMUTABLE "public, max-age=31536000, immutable"
#define CACHE_SHORT "public, max-age=1"

/* A decimal query parameter in [min, max]; false with a 400 written when it
 * is absent (and required) or malformed. *out is `fallback` when absent. */
static bool query_u64(http_req *req, http_res *res, const char *name, bool required, uint64_t min,
                      uint64_t max, uint64_t fallback, uint64_t *out)
{
    const char *v = http_query_get(req, name);
    *out = fallback;
    if (!v) {
        if (required)
            api_error(res, 400, "invalid_parameter", name, "%s is required", name);
        return !required;
    }
    uint64_t n = 0;
    if (!parse_decimal(v, max, &n) || n < min) {
        api_error(res, 400, "invalid_parameter", name,
                  "%s must be a whole number from %llu to %llu", name, (unsigned long long)min,
                  (unsigned long long)max);
        return false;
    }
    *out = n;
    return true;
}

static json_t *hash_json(const merkle_hash *h)
{
    char b64[sodium_base64_ENCODED_LEN(MERKLE_HASH_SIZE, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(b64, sizeof(b64), h->b, sizeof(h->b), sodium_base64_VARIANT_ORIGINAL);
    return json_string(b64);
}

static json_t *proof_json(const merkle_hash *proof, size_t len)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < len; i++)
        if (json_array_append_new(arr, hash_json(&proof[i])) != 0) {
            json_decref(arr);
            return NULL;
        }
    return arr;
}

static void log_too_small(http_res *res)
{
    api_error(res, 404, "not_found", NULL, "the log does not hold that many entries yet");
}

void log_checkpoint_get(http_req *req, http_res *res)
{
    app *ap = req->ctx;
    uint64_t size = 0;
    const char *note = NULL;
    store_rc rc = store_log_checkpoint_get(ap->store, &req->a, UINT64_MAX, &size, &note);
    if (rc == STORE_NOT_FOUND) {
        api_error(res, 404, "not_found", NULL, "no checkpoint has been signed yet");
        return;
    }
    if (rc != STORE_OK) {
        api_store_error(res, rc);
        return;
    }
    res->status = 200;
    res->content_type = "text/plain; charset=utf-8";
    http_res_header(res, "Cache-Control", CACHE_SHORT);
    buf_puts(&res->body, note);
}

/* Entries of level-0 tile t, as a bundle. */
static store_rc bundle(http_req *req, const tile *t, buf *out)
{
    app *ap = req->ctx;
    store_log_row *rows = NULL;
    size_t n = 0;
    store_rc rc = store_log_entries(ap->store, &req->a, t->index * TILE_WIDTH, t->width, &rows, &n);
    if (rc != STORE_OK)
        return rc;
    if (n != t->width)
        return STORE_NOT_FOUND;
    for (size_t i = 0; i < n; i++)
        if (tile_bundle_append(out, rows[i].entry, rows[i].entry_len) != TILE_OK)
            return STORE_ERROR;
    return STORE_OK;
}

void log_tile_get(http_req *req, http_res *res)
{
    app *ap = req->ctx;
    const char *rest = req->params[0];
    char path[TILE_PATH_MAX + 8];
    tile t;
    int len = snprintf(path, sizeof(path), "tile/%s", rest);
    if (len < 0 || (size_t)len >= sizeof(path) ||
        tile_parse_path(path, (size_t)len, &t) != TILE_OK) {
        api_error(res, 400, "invalid_parameter", "tile",
                  "not a tile path: tile/<level>/<index>[.p/<width>] or "
                  "tile/entries/<index>[.p/<width>]");
        return;
    }
    uint64_t size = 0;
    store_rc rc = store_log_size(ap->store, &size);
    /* A tile is served once the log holds all it covers; a partial tile
     * stays available, as the first hashes of the wider tile. */
    if (rc == STORE_OK && tile_width(size, t.level, t.index) < t.width)
        rc = STORE_NOT_FOUND;
    if (rc == STORE_OK)
        rc = t.entries ? bundle(req, &t, &res->body) : store_log_tile(ap->store, &t, &res->body);
    if (rc != STORE_OK) {
        buf_reset(&res->body);
        if (rc == STORE_NOT_FOUND)
            log_too_small(res);
        else
            api_store_error(res, rc);
        return;
    }
    res->status = 200;
    res->content_type = "application/octet-stream";
    http_res_header(res, "Cache-Control", t.width == TILE_WIDTH ? CACHE_IMMUTABLE : CACHE_SHORT);
}

void log_inclusion_get(http_req *req, http_res *res)
{
    app *ap = req->ctx;
    uint64_t index, size;
    if (!query_u64(req, res, "index", true, 0, INT64_MAX - 1, 0, &index) ||
        !query_u64(req, res, "size", true, 1, INT64_MAX, 0, &size))
        return;
    if (index >= size) {
        api_error(res, 400, "invalid_parameter", "index", "index must be less than size");
        return;
    }
    merkle_hash proof[MERKLE_PROOF_MAX];
    size_t len = 0;
    store_log_row *row = NULL;
    size_t n = 0;
    store_rc rc = store_log_inclusion(ap->store, index, size, proof, &len);
    if (rc == STORE_OK)
        rc = store_log_entries(ap->store, &req->a, index, 1, &row, &n);
    if (rc == STORE_OK && n != 1)
        rc = STORE_NOT_FOUND;
    if (rc != STORE_OK) {
        if (rc == STORE_NOT_FOUND)
            log_too_small(res);
        else
            api_store_error(res, rc);
        return;
    }
    merkle_hash leaf;
    memcpy(leaf.b, row->hashes, MERKLE_HASH_SIZE);
    api_send(res, 200,
             json_pack("{s:I,s:I,s:o,s:o*}", "index", (json_int_t)index, "size", (json_int_t)size,
                       "leaf_hash", hash_json(&leaf), "proof", proof_json(proof, len)));
    http_res_header(res, "Cache-Control", CACHE_IMMUTABLE);
}

void log_consistency_get(http_req *req, http_res *res)
{
    app *ap = req->ctx;
    uint64_t from, to;
    if (!query_u64(req, res, "from", true, 0, INT64_MAX, 0, &from) ||
        !query_u64(req, res, "to", true, 0, INT64_MAX, 0, &to))
        return;
    if (from > to) {
        api_error(res, 400, "invalid_parameter", "from", "from must not be greater than to");
        return;
    }
    merkle_hash proof[MERKLE_PROOF_MAX];
    size_t len = 0;
    store_rc rc = store_log_consistency(ap->store, from, to, proof, &len);
    if (rc != STORE_OK) {
        if (rc == STORE_NOT_FOUND)
            log_too_small(res);
        else
            api_store_error(res, rc);
        return;
    }
    api_send(res, 200,
             json_pack("{s:I,s:I,s:o*}", "from", (json_int_t)from, "to", (json_int_t)to, "proof",
                       proof_json(proof, len)));
    http_res_header(res, "Cache-Control", CACHE_IMMUTABLE);
}

/* The feed is written by hand because each entry goes out byte for byte as
 * it was hashed; every entry is checked to be a JSON object first, so that
 * a damaged row cannot break the page. */
void log_entries_get(http_req *req, http_res *res)
{
    app *ap = req->ctx;
    const char *cursor = http_query_get(req, "cursor");
    uint64_t from = 0, limit = 0, size = 0;
    if (cursor && !query_u64(req, res, "cursor", false, 0, INT64_MAX, 0, &from))
        return;
    if (!query_u64(req, res, "limit", false, 1, FEED_MAX, FEED_DEFAULT, &limit))
        return;
    store_log_row *rows = NULL;
    size_t n = 0;
    store_rc rc = store_log_size(ap->store, &size);
    if (rc == STORE_OK)
        rc = store_log_entries(ap->store, &req->a, from, (size_t)limit, &rows, &n);
    if (rc != STORE_OK) {
        api_store_error(res, rc == STORE_NOT_FOUND ? STORE_ERROR : rc);
        return;
    }
    buf *b = &res->body;
    buf_printf(b, "{\"size\":%llu,\"entries\":[", (unsigned long long)size);
    for (size_t i = 0; i < n; i++) {
        json_t *check = json_loadb((const char *)rows[i].entry, rows[i].entry_len, 0, NULL);
        bool object = json_is_object(check);
        json_decref(check);
        if (!object) {
            buf_reset(b);
            api_error(res, 500, "internal", NULL, "log entry %llu is damaged",
                      (unsigned long long)rows[i].index);
            return;
        }
        char b64[sodium_base64_ENCODED_LEN(MERKLE_HASH_SIZE, sodium_base64_VARIANT_ORIGINAL)];
        sodium_bin2base64(b64, sizeof(b64), rows[i].hashes, MERKLE_HASH_SIZE,
                          sodium_base64_VARIANT_ORIGINAL);
        buf_printf(b, "%s{\"index\":%llu,\"leaf_hash\":\"%s\",\"entry\":", i ? "," : "",
                   (unsigned long long)rows[i].index, b64);
        buf_append(b, rows[i].entry, rows[i].entry_len);
        buf_putc(b, '}');
    }
    buf_printf(b, "],\"next_cursor\":\"%llu\"}",
               (unsigned long long)(n ? rows[n - 1].index + 1 : from));
    if (b->failed) {
        buf_reset(b);
        api_error(res, 500, "internal", NULL, "the page is too large");
        return;
    }
    res->status = 200;
    res->content_type = "application/json";
}
