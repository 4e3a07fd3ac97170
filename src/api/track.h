/* track.h - what a citizen may see of their case, for the API and the page.
 *
 * track_open checks the reference, the rate limits and the credential, in
 * that order; track_view builds the public view: milestones, public notes,
 * the citizen's own messages and feedback, and who has been shown their
 * personal data and why; never internal notes, internal stages, the summary
 * or personal data. Both allocate in req->a. The citizen's own look-ups are
 * not accesses: they are not recorded.
 */
#ifndef OC_TRACK_H
#define OC_TRACK_H

#include <stdbool.h>
#include <stdint.h>

#include "domain/estimate.h"
#include "domain/ref.h"
#include "http/http.h"
#include "util/buf.h"
#include "store/store.h"
#include "tlog/entry.h"

typedef struct track_credential {
    const char *secret;
    const char *postcode;
    const char *email;
} track_credential;

typedef enum {
    TRACK_OK,
    TRACK_BAD_REFERENCE, /* *why says what is wrong */
    TRACK_NO_CREDENTIAL,
    TRACK_NOT_FOUND, /* unknown reference or wrong credential: one answer for both */
    TRACK_LIMITED,   /* *retry_after seconds */
    TRACK_UNAVAILABLE,
} track_rc;

typedef struct track_result {
    store_case c;
    ref_rc why;
    unsigned retry_after;
    /* A look-up that only reads (the API's GET, the page's POST /track) reads
     * the case's public events and accesses with it, in one store call, for
     * track_view_build; a citizen's write reads them after writing. */
    bool have_timeline;
    bool from_replica;
    store_event *events;
    size_t n_events;
    store_access *accesses;
    size_t n_accesses;
} track_result;

track_rc track_open(http_req *req, const char *reference, const track_credential *cred,
                    track_result *out);

typedef struct track_entry {
    int64_t at;
    const char *type; /* "milestone", "update", "message", "feedback" */
    const char *stage;
    const char *stage_name;
    const char *note;
    int rating;
    int64_t log_index; /* the event's entry in the public log, or -1 */
} track_entry;

/* One showing of the citizen's data to staff or a system. */
typedef struct track_access {
    int64_t at;
    const char *organisation; /* the reader's organisation */
    const char *role;
    const char *purpose;
    const char *officer; /* the reader's name, or NULL unless the deployment shows names */
    int64_t log_index;   /* the access's entry in the public log, or -1 */
} track_access;

typedef struct track_view {
    const char *reference;
    char pseudonym[TLOG_PSEUDONYM_MAX]; /* the case's name in the public log */
    const char *org_name;
    const char *service_code;
    const char *service_name;
    const char *stage; /* the last public milestone reached */
    const char *stage_name;
    bool closed;
    int64_t opened_at;
    int64_t closed_at;
    int64_t target_date;
    estimate expected; /* durations counted from opened_at */
    track_entry *timeline;
    size_t n_timeline;
    bool feedback_given;
    track_access *accesses; /* newest first */
    size_t n_accesses;
    bool officers_shown; /* the deployment shows officers' names */
} track_view;

/* 0, or -1 with the error response written. */
int track_view_build(http_req *req, http_res *res, const track_result *r, track_view *v);

/* Writes the view as the API's JSON into b. */
void track_view_write(const track_view *v, buf *b);

/* Adds a citizen's message or feedback to the case. */
store_rc track_add_message(http_req *req, const store_case *c, const char *text);
/* STORE_CONFLICT when the case is open or feedback was already given. */
store_rc track_add_feedback(http_req *req, const store_case *c, int rating, const char *comment);

#endif
