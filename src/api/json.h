/* json.h - reading JSON requests and writing JSON responses.
 *
 * Every error the API gives has one shape:
 *   {"error": {"code": "...", "message": "...", "field": "..." | null}}
 * Readers write that error into the response themselves and return false (or
 * NULL), so a handler stops at the first failure with one line. Strings read
 * from a body point into the body's json_t and live as long as it does.
 */
#ifndef OC_API_JSON_H
#define OC_API_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "http/http.h"
#include "store/store.h"

void api_error(http_res *res, int status, const char *code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Maps a storage failure to 404, 409, 503 or 500 with a plain message. */
void api_store_error(http_res *res, store_rc rc);

/* Serialises `body` (the reference is consumed) as the response. */
void api_send(http_res *res, int status, json_t *body);

/* The request body as a JSON object (caller decrefs), or NULL with the error
 * written: wrong content type, too large, malformed, not an object. With
 * `allow_empty`, an empty body is an empty object. */
json_t *api_body_object(http_req *req, http_res *res, bool allow_empty);

/* Rejects keys of `obj` not in the NULL-terminated `allowed`; `prefix` names
 * the object in error fields ("person." gives "person.age"). */
bool api_only_fields(http_res *res, const json_t *obj, const char *prefix,
                     const char *const *allowed);

/* A string member of 1..max bytes of valid text (see valid_text). Absent or
 * null: *out = NULL, which is a missing_field error when `required`. An empty
 * string is an invalid_field: clients mean something by sending a key. */
bool api_string(http_res *res, const json_t *obj, const char *key, const char *field, bool required,
                size_t max, bool multiline, const char **out);

/* An integer member within [min, max]. Absent: *present = false. */
bool api_int(http_res *res, const json_t *obj, const char *key, const char *field, bool required,
             long long min, long long max, long long *out, bool *present);

/* An RFC 3339 time string, or JSON null when t == 0. */
json_t *api_time(int64_t t);
/* A date string "YYYY-MM-DD", or null when t == 0. */
json_t *api_date(int64_t t);
/* A string, or JSON null for NULL. */
json_t *api_str(const char *s);

#endif
