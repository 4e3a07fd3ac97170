/* appeals.h - what the appeals API shares with the public appeal pages.
 *
 * The public search reads the same query parameters for the JSON list, the
 * GeoJSON feed and the list page; an answer is checked, rate limited and
 * recorded the same way from the JSON API and from the page's form. Both
 * allocate in req->a.
 */
#ifndef OC_API_APPEALS_H
#define OC_API_APPEALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/geo.h"
#include "domain/ref.h"
#include "http/http.h"
#include "store/store.h"

#define APPEALS_PAGE_DEFAULT 50
#define APPEALS_PAGE_MAX 200
#define APPEALS_FEED_DEFAULT 1000
#define APPEALS_FEED_MAX 2000
#define APPEALS_SAW_MAX 5000
#define APPEALS_WHEN_MAX 200
#define APPEALS_NAME_MAX 200
#define APPEALS_PHONE_MAX 40

/* A query parameter that could not be used: its name and a sentence. */
typedef struct appeals_bad {
    const char *field;
    char message[256];
} appeals_bad;

/* Fills f from the request's query: bbox, near with radius, org, category,
 * since, until, cursor and limit (default and maximum given). False with
 * *bad set when a parameter is malformed or out of range; STORE errors of
 * the organisation look-up are reported the same way. */
bool appeals_query(http_req *req, store_appeal_search_filter *f, int limit_default, int limit_max,
                   appeals_bad *bad);

/* "published_at.id" of the last appeal of a page, in req->a. */
const char *appeals_cursor(http_req *req, const store_appeal *last);

/* An answer as the public gives it. */
typedef struct appeals_answer_in {
    const char *saw;
    const char *when; /* may be NULL */
    bool has_point;
    geo_point point;
    bool anonymous;
    const char *name;    /* named answers: optional */
    const char *email;   /* named answers: one of email and phone, */
    const char *phone;   /* the one `channel` names at least */
    const char *channel; /* "email" or "phone" */
} appeals_answer_in;

typedef enum {
    APPEALS_ANSWER_OK,
    APPEALS_ANSWER_INVALID,     /* bad says which field and why */
    APPEALS_ANSWER_LIMITED,     /* retry_after seconds */
    APPEALS_ANSWER_NOT_FOUND,   /* no such published appeal */
    APPEALS_ANSWER_CLOSED,      /* closed or expired */
    APPEALS_ANSWER_UNAVAILABLE, /* the database could not take it */
} appeals_answer_rc;

typedef struct appeals_answer_out {
    char receipt[REF_TEXT_LEN + 1];
    char secret[32]; /* empty for an anonymous answer */
    unsigned retry_after;
    appeals_bad bad;
} appeals_answer_out;

/* Checks the answer, the client's rate limit, and records it on the appeal's
 * case; the person, when named, is kept as personal data. */
appeals_answer_rc appeals_answer(http_req *req, int64_t appeal_id, const appeals_answer_in *in,
                                 appeals_answer_out *out);

/* A receipt looked up with its secret. */
typedef enum {
    APPEALS_RECEIPT_OK,
    APPEALS_RECEIPT_BAD_REFERENCE, /* not a well-formed reference */
    APPEALS_RECEIPT_NOT_FOUND,     /* unknown, anonymous, or the wrong secret */
    APPEALS_RECEIPT_LIMITED,       /* retry_after seconds */
    APPEALS_RECEIPT_UNAVAILABLE,
} appeals_receipt_rc;

typedef struct appeals_receipt {
    store_answer answer;
    store_access *reads; /* newest first */
    size_t n_reads;
    unsigned retry_after;
    char receipt[REF_TEXT_LEN + 1]; /* canonical */
} appeals_receipt;

/* Failed look-ups are limited per client address like tracking's. */
appeals_receipt_rc appeals_receipt_open(http_req *req, const char *receipt, const char *secret,
                                        appeals_receipt *out);

#endif
