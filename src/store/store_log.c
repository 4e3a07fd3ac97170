/* store_log.c - appending to the public log, the same for every backend.
 *
 * A backend hands its statements over as a log_io on the connection of the
 * transaction being written; this file encodes the entry, takes the next
 * index, computes the hashes the new leaf completes from the stored left
 * siblings (merkle_append) and has the row inserted. See store_int.h.
 */
#include <string.h>

#include "store/store_int.h"
#include "util/log.h"

store_rc log_append_with(const log_io *io, const uint8_t key[TLOG_KEY_SIZE], const tlog_entry *e,
                         uint64_t *index)
{
    buf b;
    buf_init(&b, TLOG_ENTRY_MAX);
    *index = 0;
    store_rc rc = STORE_ERROR;
    if (!tlog_entry_encode(e, key, &b)) {
        log_error("msg=\"store: a log entry was refused by its encoder\" kind=%d", (int)e->kind);
        goto out;
    }
    uint64_t at = 0;
    rc = io->reserve(io->conn, &at);
    if (rc != STORE_OK)
        goto out;
    merkle_hash leaf, hashes[MERKLE_LEVEL_MAX + 1];
    size_t n = 0;
    merkle_leaf_hash(b.data, b.len, &leaf);
    merkle_reader r = {.hash_at = io->hash_at, .ctx = io->conn};
    if (merkle_append(&r, at, &leaf, hashes, &n) != MERKLE_OK) {
        rc = io->read_failure ? io->read_failure(io->conn) : STORE_ERROR;
        if (rc != STORE_UNAVAILABLE)
            log_error("msg=\"store: the log's stored hashes cannot be read\" index=%llu",
                      (unsigned long long)at);
        goto out;
    }
    rc = io->insert(io->conn, at, b.data, b.len, hashes, n);
    if (rc == STORE_OK)
        *index = at;
out:
    buf_free(&b);
    return rc;
}

/* Event types (store.h) and the kinds of entry they make. */
static const struct {
    const char *type;
    tlog_kind kind;
} event_kinds[] = {
    {"opened", TLOG_CASE_OPENED},
    {"stage_change", TLOG_STAGE_CHANGED},
    {"public_note", TLOG_PUBLIC_UPDATE},
    {"internal_note", TLOG_INTERNAL_NOTE},
    {"message", TLOG_MESSAGE_RECEIVED},
    {"feedback", TLOG_FEEDBACK},
    {"appeal_published", TLOG_APPEAL_PUBLISHED},
    {"appeal_closed", TLOG_APPEAL_CLOSED},
    {"appeal_answer", TLOG_APPEAL_ANSWERED},
};

bool log_event_entry(const store_event *ev, int64_t org_id, tlog_entry *e)
{
    memset(e, 0, sizeof(*e));
    size_t i = 0, n = sizeof(event_kinds) / sizeof(event_kinds[0]);
    while (i < n && (!ev->type || strcmp(ev->type, event_kinds[i].type) != 0))
        i++;
    if (i == n)
        return false;
    e->kind = event_kinds[i].kind;
    e->time = ev->created_at;
    e->actor_org_id = org_id;
    if (ev->user_id) {
        e->actor = TLOG_ACTOR_STAFF;
        e->actor_id = ev->user_id;
    } else if (ev->key_id) {
        e->actor = TLOG_ACTOR_KEY;
        e->actor_id = ev->key_id;
    } else if (ev->actor && strcmp(ev->actor, "citizen") == 0) {
        e->actor = TLOG_ACTOR_CITIZEN;
    }
    /* Stages are published where they are the news: an opening and a move. */
    if (e->kind == TLOG_STAGE_CHANGED) {
        e->from_stage = ev->from_stage;
        e->stage = ev->stage;
    } else if (e->kind == TLOG_CASE_OPENED) {
        e->stage = ev->stage;
    }
    if (e->kind == TLOG_FEEDBACK)
        e->rating = ev->rating;
    return true;
}

void log_access_entry(const store_access *acc, tlog_entry *e)
{
    memset(e, 0, sizeof(*e));
    e->kind = TLOG_RECORD_ACCESSED;
    e->time = acc->at;
    e->actor = acc->user_id ? TLOG_ACTOR_STAFF : TLOG_ACTOR_KEY;
    e->actor_id = acc->user_id ? acc->user_id : acc->key_id;
    e->actor_org_id = acc->reader_org_id;
    e->role = acc->role;
    e->action = acc->action;
}
