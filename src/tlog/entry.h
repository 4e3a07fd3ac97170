/* entry.h - one entry of the public log: what happened, anonymised.
 *
 * Every transaction appends one entry: a JSON object on one line, written
 * canonically (keys in a fixed order, no spaces, absent fields left out), so
 * that the bytes hashed into the Merkle tree are the bytes anyone downloads.
 *
 *     {"kind":"stage_changed","time":"2026-12-02T08:30:00Z","org":"northshire",
 *      "service":"parking-permit","case":"5f0c...","actor":"s-9a1b...",
 *      "from":"received","stage":"checking"}
 *
 * Fields are written in the order of tlog_entry's members below; a field a
 * later version adds goes last, so that older entries keep their bytes.
 *
 * Nothing in an entry is free text: every string is a machine code (an
 * organisation's slug, a service or stage code, a role, a fixed word) of
 * [a-z0-9_-], and the encoder refuses anything else, so names, addresses,
 * notes and secrets cannot reach the log by mistake. The case appears under
 * a pseudonym, a keyed hash of its reference; staff and systems under
 * pseudonyms keyed by their organisation. The key is derived from the
 * deployment's secret (tlog_log_key), so the public cannot link a pseudonym
 * to a reference, while the server can show a citizen their case's.
 *
 * Pure computation: no I/O. libsodium must be initialised before use.
 */
#ifndef OC_TLOG_ENTRY_H
#define OC_TLOG_ENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define TLOG_KEY_SIZE 32
/* A pseudonym: 32 lowercase hex digits (128 bits), with a two-letter prefix
 * for staff ("s-") and systems ("k-"), and a NUL. */
#define TLOG_PSEUDONYM_MAX 35
/* The longest entry the encoder writes; well under a bundle's 65535. */
#define TLOG_ENTRY_MAX 1024
/* Codes in entries: 1..TLOG_CODE_MAX bytes of [a-z0-9_-]. */
#define TLOG_CODE_MAX 64

/* What happened. The names (tlog_kind_name) are the entries' "kind" and are
 * part of the published format: append new kinds, never renumber or rename. */
typedef enum {
    TLOG_CASE_OPENED,
    TLOG_STAGE_CHANGED,
    TLOG_PUBLIC_UPDATE,
    TLOG_INTERNAL_NOTE, /* that a note was written, never its text */
    TLOG_MESSAGE_RECEIVED,
    TLOG_FEEDBACK,
    TLOG_RECORD_ACCESSED,
    TLOG_NOTIFICATION_SENT,
    TLOG_DUTY_MET,
    TLOG_DUTY_MISSED,
    TLOG_CONSENT_CHANGED,
    TLOG_APPEAL_PUBLISHED,
    TLOG_APPEAL_CLOSED,
    TLOG_APPEAL_ANSWERED,
    TLOG_KIND_COUNT
} tlog_kind;

/* Who did it. */
typedef enum {
    TLOG_ACTOR_NONE,    /* the platform itself (a duty falling due, a notification) */
    TLOG_ACTOR_CITIZEN, /* the person the case is about */
    TLOG_ACTOR_STAFF,   /* a staff user: id is the user's */
    TLOG_ACTOR_KEY,     /* a system with an API key: id is the key's */
} tlog_actor_kind;

typedef struct tlog_entry {
    tlog_kind kind;
    int64_t time;          /* seconds since the epoch */
    const char *org;       /* the organisation's slug; required */
    const char *service;   /* the service's code, or NULL */
    const char *reference; /* the case's reference, written only as its pseudonym; or NULL */
    tlog_actor_kind actor;
    int64_t actor_org_id;   /* the actor's organisation, which scopes their pseudonym */
    int64_t actor_id;       /* user or key id, for STAFF and KEY */
    const char *actor_org;  /* the actor's organisation's slug when not `org`, or NULL */
    const char *role;       /* the actor's role, or NULL */
    const char *action;     /* a code saying more: an access's "read", "list", "write"; a channel */
    const char *from_stage; /* stage_changed: the stage left */
    const char *stage;      /* the case's stage after the change, or NULL */
    const char *duty;       /* duty_met, duty_missed: the duty's code in its service */
    int rating;             /* feedback: 1..5; 0 for none */
} tlog_entry;

/* "case_opened", ...; NULL for a value out of range. */
const char *tlog_kind_name(tlog_kind kind);

/* The key for the log's pseudonyms, derived from the deployment's secret key
 * so that it is independent of the key hashing tracking secrets. */
void tlog_log_key(const uint8_t secret[32], uint8_t out[TLOG_KEY_SIZE]);

/* The case's pseudonym: 32 hex digits and a NUL. */
void tlog_case_pseudonym(const uint8_t key[TLOG_KEY_SIZE], const char *reference,
                         char out[TLOG_PSEUDONYM_MAX]);

/* Appends the entry's canonical JSON (no newline) to out. False, with out
 * unchanged, when a field is missing, out of range or not a code; or when
 * out fails. */
bool tlog_entry_encode(const tlog_entry *e, const uint8_t key[TLOG_KEY_SIZE], buf *out);

#endif
