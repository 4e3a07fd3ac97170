/* log_fill.c - appends N synthetic entries to a deployment's public log, for
 * bench/log.sh to measure the log at millions of entries without making
 * millions of cases first.
 *
 *     log_fill DB N
 *
 * The entries look like real ones (opened cases, moves, accesses over a few
 * thousand pseudonymous cases) and go through the store's own append, in
 * transactions of CHUNK entries, so the tree, the stored hashes and
 * everything served from them are exactly what the server would have made.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "store/store.h"

#define CHUNK 50000

int main(int argc, char **argv)
{
    static const char *const stages[] = {"received", "investigating", "awaiting_forensics",
                                         "closed"};
    static const char *const roles[] = {"caseworker", "administrator"};
    if (argc != 3) {
        fprintf(stderr, "usage: log_fill DB N\n");
        return 2;
    }
    char *end = NULL;
    unsigned long long n = strtoull(argv[2], &end, 10);
    if (!end || *end || n == 0 || sodium_init() < 0)
        return 2;
    store *s = NULL;
    char err[256];
    if (store_open(argv[1], 1, &s, err, sizeof(err)) != STORE_OK) {
        fprintf(stderr, "log_fill: %s\n", err);
        return 1;
    }
    tlog_entry *batch = calloc(CHUNK, sizeof(*batch));
    char(*refs)[16] = calloc(CHUNK, sizeof(*refs));
    if (!batch || !refs)
        return 1;
    int64_t now = (int64_t)time(NULL);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = 0;
    for (unsigned long long done = 0; done < n && rc == 0;) {
        size_t k = n - done < CHUNK ? (size_t)(n - done) : CHUNK;
        for (size_t i = 0; i < k; i++) {
            unsigned long long at = done + i;
            snprintf(refs[i], sizeof(refs[i]), "B%07llu-X", at / 7 % 10000000);
            tlog_entry *e = &batch[i];
            memset(e, 0, sizeof(*e));
            e->time = now - (int64_t)(n - at) / 50;
            e->org = at % 3 ? "wessex-police" : "northshire";
            e->service = at % 3 ? "burglary" : "parking-permit";
            e->reference = refs[i];
            e->actor = TLOG_ACTOR_STAFF;
            e->actor_org_id = at % 3 ? 2 : 1;
            e->actor_id = (int64_t)(at % 97);
            switch (at % 7) {
            case 0:
                e->kind = TLOG_CASE_OPENED;
                e->stage = stages[0];
                break;
            case 1:
            case 4:
                e->kind = TLOG_RECORD_ACCESSED;
                e->role = roles[at % 2];
                e->action = "write";
                break;
            case 2:
            case 5:
                e->kind = TLOG_STAGE_CHANGED;
                e->from_stage = stages[at % 3];
                e->stage = stages[at % 3 + 1];
                break;
            default:
                e->kind = TLOG_PUBLIC_UPDATE;
                break;
            }
        }
        if (store_log_import(s, batch, k, NULL) != STORE_OK) {
            fprintf(stderr, "log_fill: the import failed at entry %llu\n", done);
            rc = 1;
        }
        done += k;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    uint64_t size = 0;
    if (rc == 0 && store_log_size(s, &size) == STORE_OK)
        printf("RESULT appended=%llu seconds=%.1f per_second=%.0f size=%llu\n", n, secs,
               (double)n / secs, (unsigned long long)size);
    free(refs);
    free(batch);
    store_close(s);
    return rc;
}
