/* json.c - JSON request readers and response writers; see json.h. */
#include "api/json.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "domain/validate.h"
#include "util/log.h"

void api_error(http_res *res, int status, const char *code, const char *field, const char *fmt, ...)
{
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    json_t *err = json_pack("{s:{s:s, s:s, s:s?}}", "error", "code", code, "message", message,
                            "field", field);
    res->n_headers = 0;
    api_send(res, status, err);
}

void api_store_error(http_res *res, store_rc rc)
{
    switch (rc) {
    case STORE_NOT_FOUND:
        api_error(res, 404, "not_found", NULL, "no such record");
        break;
    case STORE_CONFLICT:
        api_error(res, 409, "conflict", NULL,
                  "the record was changed by another request; read it again and retry");
        break;
    case STORE_DUPLICATE:
        api_error(res, 409, "conflict", NULL, "a record with that identifier already exists");
        break;
    case STORE_UNAVAILABLE:
        api_error(res, 503, "unavailable", NULL,
                  "the database is busy or unreachable; nothing was changed, try again");
        http_res_header(res, "Retry-After", "1");
        break;
    default:
        api_error(res, 500, "internal", NULL, "an internal error occurred; nothing was changed");
        break;
    }
}

static int dump_to_buf(const char *data, size_t size, void *cls)
{
    return buf_append(cls, data, size) ? 0 : -1;
}

void api_send(http_res *res, int status, json_t *body)
{
    res->status = status;
    res->content_type = "application/json";
    buf_reset(&res->body);
    if (!body || json_dump_callback(body, dump_to_buf, &res->body, JSON_COMPACT) != 0)
        res->body.failed = true;
    json_decref(body);
}

static bool is_json_type(const char *ct)
{
    if (!ct)
        return false;
    size_t n = strlen("application/json");
    if (strncasecmp(ct, "application/json", n) != 0)
        return false;
    return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

json_t *api_body_object(http_req *req, http_res *res, bool allow_empty)
{
    if (req->body_too_large) {
        api_error(res, 413, "too_large", NULL, "the request body is larger than %d bytes",
                  HTTP_BODY_MAX);
        return NULL;
    }
    if (req->body.len == 0 && allow_empty)
        return json_object();
    if (!is_json_type(http_header_get(req, "Content-Type"))) {
        api_error(res, 415, "unsupported_media_type", NULL,
                  "send the body as JSON with the header Content-Type: application/json");
        return NULL;
    }
    json_error_t jerr;
    json_t *body = json_loadb(req->body.data ? req->body.data : "", req->body.len,
                              JSON_REJECT_DUPLICATES, &jerr);
    if (!body) {
        api_error(res, 400, "invalid_json", NULL,
                  "the body is not valid JSON: %s (line %d, column %d)", jerr.text, jerr.line,
                  jerr.column);
        return NULL;
    }
    if (!json_is_object(body)) {
        json_decref(body);
        api_error(res, 400, "invalid_json", NULL, "the body must be a JSON object");
        return NULL;
    }
    return body;
}

bool api_only_fields(http_res *res, const json_t *obj, const char *prefix,
                     const char *const *allowed)
{
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)obj, key, value)
    {
        bool known = false;
        for (const char *const *a = allowed; *a; a++)
            if (strcmp(key, *a) == 0) {
                known = true;
                break;
            }
        if (!known) {
            char field[128];
            snprintf(field, sizeof(field), "%s%s", prefix, key);
            /* The key is echoed only if it is printable text of sane length. */
            bool echo = valid_text(key, 64, false);
            api_error(res, 400, "unknown_field", echo ? field : NULL, "unknown field%s%s",
                      echo ? " " : "", echo ? field : "");
            return false;
        }
    }
    return true;
}

bool api_string(http_res *res, const json_t *obj, const char *key, const char *field, bool required,
                size_t max, bool multiline, const char **out)
{
    *out = NULL;
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) {
        if (required) {
            api_error(res, 400, "missing_field", field, "%s is required", field);
            return false;
        }
        return true;
    }
    if (!json_is_string(v)) {
        api_error(res, 400, "invalid_field", field, "%s must be a string", field);
        return false;
    }
    const char *s = json_string_value(v);
    if (json_string_length(v) == 0) {
        api_error(res, 400, "invalid_field", field, "%s must not be empty", field);
        return false;
    }
    if (json_string_length(v) > max) {
        api_error(res, 400, "invalid_field", field, "%s is longer than %zu bytes", field, max);
        return false;
    }
    if (strlen(s) != json_string_length(v) || !valid_text(s, max, multiline)) {
        api_error(res, 400, "invalid_field", field, "%s contains control characters%s", field,
                  multiline ? "" : " or line breaks");
        return false;
    }
    *out = s;
    return true;
}

bool api_int(http_res *res, const json_t *obj, const char *key, const char *field, bool required,
             long long min, long long max, long long *out, bool *present)
{
    *out = 0;
    if (present)
        *present = false;
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) {
        if (required) {
            api_error(res, 400, "missing_field", field, "%s is required", field);
            return false;
        }
        return true;
    }
    if (!json_is_integer(v)) {
        api_error(res, 400, "invalid_field", field, "%s must be a whole number", field);
        return false;
    }
    long long n = json_integer_value(v);
    if (n < min || n > max) {
        api_error(res, 400, "invalid_field", field, "%s must be between %lld and %lld", field, min,
                  max);
        return false;
    }
    *out = n;
    if (present)
        *present = true;
    return true;
}

json_t *api_time(int64_t t)
{
    if (t == 0)
        return json_null();
    char s[32];
    format_datetime(t, s, sizeof(s));
    return json_string(s);
}

json_t *api_date(int64_t t)
{
    if (t == 0)
        return json_null();
    char s[16];
    format_date(t, s, sizeof(s));
    return json_string(s);
}

json_t *api_str(const char *s)
{
    return s ? json_string(s) : json_null();
}
