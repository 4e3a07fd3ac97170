/* workflow.h - a service's stages and the moves allowed between them.
 *
 * A workflow is data, defined per service as JSON:
 *
 *   { "initial": "received",
 *     "stages": [ { "code": "received", "name": "Received", "milestone": true },
 *                 { "code": "closed", "name": "Closed", "milestone": true,
 *                   "terminal": true } ],
 *     "transitions": { "received": ["closed"] } }
 *
 * `initial` defaults to the first stage. Milestone stages are shown to the
 * citizen; other stages are internal. Terminal stages close the case and have
 * no outgoing transitions. Pure functions: no I/O. Everything workflow_parse
 * returns is allocated in the arena it is given.
 */
#ifndef OC_WORKFLOW_H
#define OC_WORKFLOW_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/arena.h"

#define WF_MAX_STAGES 64
#define WF_CODE_MAX 40
#define WF_NAME_MAX 100

typedef struct wf_stage {
    const char *code;
    const char *name;
    bool milestone;
    bool terminal;
    size_t *next; /* indices into workflow.stages */
    size_t n_next;
} wf_stage;

typedef struct workflow {
    wf_stage *stages;
    size_t n_stages;
    size_t initial; /* index of the initial stage */
} workflow;

typedef enum {
    WF_OK = 0,
    WF_UNKNOWN_STAGE, /* `to` (or `from`) is not a stage of this workflow */
    WF_NOT_ALLOWED,   /* no transition from `from` to `to` */
    WF_FROM_TERMINAL, /* the case is closed: nothing may follow */
} wf_rc;

/* A validation failure: the JSON path of the offending field and a sentence. */
typedef struct wf_error {
    char field[96];
    char message[256];
} wf_error;

/* Validates and loads a definition. Returns 0, or -1 with *err filled in.
 * Rules: 1..WF_MAX_STAGES stages; codes match [a-z0-9_]{1,40} and are unique;
 * names are 1..100 bytes of printable UTF-8; transitions name known stages,
 * never leave a terminal stage and have no duplicates; the initial stage
 * exists and is not terminal; at least one terminal stage exists; unknown
 * keys are rejected so typos do not pass silently. */
int workflow_parse(arena *a, const json_t *def, workflow *out, wf_error *err);

/* The stage with this code, or NULL. */
const wf_stage *workflow_stage(const workflow *wf, const char *code);

wf_rc workflow_check_move(const workflow *wf, const char *from, const char *to);

/* Writes "a, b or c" (the codes of the stages allowed after `from`) into out,
 * or "none" when there are none; truncates safely. */
void workflow_describe_next(const workflow *wf, const char *from, char *out, size_t outlen);

#endif
