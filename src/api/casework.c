/* casework.c - reference parsing and service loading shared by handlers. */
#include "api/casework.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "api/app.h"
#include "api/json.h"
#include "domain/validate.h"

bool casework_reference(http_res *res, const char *text, char out[REF_TEXT_LEN + 1])
{
    uint64_t value;
    ref_rc rc = ref_parse(text, strlen(text), &value);
    if (rc != REF_OK) {
        api_error(res, 400, "invalid_reference", "reference", "%s", ref_error_message(rc));
        return false;
    }
    ref_format(value, out);
    return true;
}

const app_service *casework_service(http_req *req, http_res *res, int64_t service_id)
{
    const app_service *e;
    store_rc rc = app_service_get(req->ctx, &req->a, service_id, &e);
    if (rc != STORE_OK) {
        api_store_error(res, rc == STORE_NOT_FOUND ? STORE_ERROR : rc);
        return NULL;
    }
    return e;
}

const char *casework_stage_name(const workflow *wf, const char *code)
{
    const wf_stage *st = code ? workflow_stage(wf, code) : NULL;
    return st ? st->name : code;
}

void casework_new_reference(char out[REF_TEXT_LEN + 1])
{
    uint64_t value;
    do {
        unsigned char bytes[5];
        randombytes_buf(bytes, sizeof(bytes));
        uint64_t bits = 0;
        for (size_t i = 0; i < sizeof(bytes); i++)
            bits = bits << 8 | bytes[i];
        if (ref_from_random(bits, &value))
            break;
    } while (1);
    ref_format(value, out);
}

bool casework_query_time(http_req *req, http_res *res, const char *name, int64_t *out)
{
    const char *v = http_query_get(req, name);
    long long t;
    *out = 0;
    if (!v)
        return true;
    if (!parse_datetime(v, &t)) {
        api_error(res, 400, "invalid_parameter", name,
                  "%s must be a date (2026-11-23) or a date-time (2026-11-23T10:00:00Z)", name);
        return false;
    }
    *out = t;
    return true;
}

bool casework_query_int(http_req *req, http_res *res, const char *name, long long min,
                        long long max, long long *out)
{
    const char *v = http_query_get(req, name);
    if (!v)
        return true;
    char *end;
    long long n = strtoll(v, &end, 10);
    if (!*v || *end || n < min || n > max) {
        api_error(res, 400, "invalid_parameter", name,
                  "%s must be a whole number from %lld to %lld", name, min, max);
        return false;
    }
    *out = n;
    return true;
}
