/* open311.h - the rules of Open311 GeoReport v2 that need no I/O.
 *
 * A service is offered through Open311 when an administrator gives it
 * metadata, as JSON beside its workflow:
 *
 *   { "keywords": ["pothole", "road"], "groups": ["Roads"],
 *     "attributes": [ { "code": "depth", "datatype": "number", "required": true,
 *                       "order": 1, "description": "How deep is it (cm)?" } ],
 *     "stages": { "received": { "status": "open", "extended_status": "for_triage" },
 *                 "repaired": { "status": "closed", "extended_status": "fixed",
 *                               "external_status_code": "FIX" } } }
 *
 * Attribute datatypes are the spec's six; list datatypes need `values`
 * ([{ "key": "...", "name": "..." }]); `automated` ("server_set" or
 * "hidden_field") marks what a reporting site fills in itself. A stage left out of `stages` is
 * "closed" when it is terminal and "open" otherwise, with no extended status.
 * Everything the parsers return is allocated in the arena they are given.
 */
#ifndef OC_OPEN311_H
#define OC_OPEN311_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/workflow.h"
#include "util/arena.h"

#define O311_ATTRS_MAX 50
#define O311_VALUES_MAX 200
#define O311_WORDS_MAX 50
#define O311_CODE_MAX 64
#define O311_STRING_MAX 1000
#define O311_TEXT_MAX 5000
/* The longest window GET requests and GET servicerequestupdates accept. */
#define O311_WINDOW_MAX_S (90LL * 24 * 3600)

typedef enum {
    O311_STRING,
    O311_NUMBER,
    O311_DATETIME,
    O311_TEXT,
    O311_SINGLEVALUELIST,
    O311_MULTIVALUELIST,
} o311_datatype;

typedef struct o311_value {
    const char *key;
    const char *name;
} o311_value;

typedef struct o311_attr {
    const char *code;
    /* "server_set" or "hidden_field" (what a reporting site fills in
     * itself or hides from the reporter), or NULL. */
    const char *automated;
    bool variable; /* false: information shown to the reporter, never sent back */
    o311_datatype datatype;
    const char *datatype_description; /* may be NULL */
    bool required;
    int order;
    const char *description;
    o311_value *values;
    size_t n_values;
} o311_attr;

typedef struct o311_stage {
    const char *code; /* the workflow's stage */
    bool closed;
    const char *extended_status;      /* one of o311_extended_status, or NULL */
    const char *external_status_code; /* the organisation's own code, or NULL */
} o311_stage;

typedef struct o311_service {
    const char **keywords;
    size_t n_keywords;
    const char **groups;
    size_t n_groups;
    o311_attr *attrs; /* in definition order */
    size_t n_attrs;
    o311_stage *stages;
    size_t n_stages;
} o311_service;

/* Validates and loads metadata against the service's workflow. Returns 0, or
 * -1 with *err naming the field (its JSON path under "open311"). Unknown
 * keys are refused; attribute codes are unique; `stages` names stages of wf. */
int o311_service_parse(arena *a, const json_t *def, const workflow *wf, o311_service *out,
                       wf_error *err);

/* The name of a datatype as the spec spells it. */
const char *o311_datatype_name(o311_datatype t);

/* The Open311 view of a stage of wf (see above for stages left out). */
o311_stage o311_stage_status(const o311_service *svc, const workflow *wf, const char *stage);

/* The extended status set of the request-updates extension, lower case, or
 * NULL when `s` (compared without case) is neither one of them nor "open"
 * or "closed". */
const char *o311_status_canonical(const char *s);

/* Whether `s` is "attribute[CODE]" or "attribute[CODE][]"; CODE (1 to
 * O311_CODE_MAX bytes, no brackets) is copied to code[O311_CODE_MAX + 1]. */
bool o311_attribute_key(const char *key, char *code);

/* One attribute as a client sent it: every value given for its code. */
typedef struct o311_input {
    const char *code;
    const char **values;
    size_t n_values;
} o311_input;

/* Checks what was sent against the service's attributes: a required one
 * missing, a value of the wrong type, a value not in the list, several
 * values for a single one. Codes the service does not define are ignored.
 * Returns false with the offending attribute's code in *bad and a sentence
 * in msg. */
bool o311_check_attributes(const o311_service *svc, const o311_input *in, size_t n,
                           const char **bad, char *msg, size_t msglen);

/* A latitude (limit 90) or longitude (limit 180): a plain decimal number of
 * at most 24 characters within [-limit, limit]. */
bool o311_coordinate(const char *s, double limit);

/* W3C date-time with an explicit offset: "2026-11-23T10:00:00+00:00".
 * out >= 26 bytes. */
void o311_format_datetime(int64_t t, char *out, size_t outlen);

#endif
