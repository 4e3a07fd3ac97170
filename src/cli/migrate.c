/* migrate.c - `opencase migrate-store --from PATH|URI --to URI`.
 *
 * The source is opened read-only and never migrated, so a server can keep
 * running on it; what it holds at the moment the copy starts is what is
 * copied. The target must be a PostgreSQL database holding nothing but the
 * schema (it is migrated here if it is brand new). The sums of the rows read
 * from the source are compared with sums read back from the target after
 * the commit, so a verified copy is one the target really holds.
 */
#include "cli/migrate.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "store/store.h"

static const char usage[] =
    "Usage: opencase migrate-store --from PATH|URI --to URI\n"
    "\n"
    "Copies every table of the deployment at --from (an SQLite file, read in one\n"
    "snapshot while its server may keep running) into the freshly created, empty\n"
    "PostgreSQL database at --to (postgresql://user@host:port/db), keeping ids,\n"
    "in one transaction; then checks the row count and checksum of every table.\n";

static bool is_postgresql(const char *uri)
{
    return strncmp(uri, "postgresql://", 13) == 0 || strncmp(uri, "postgres://", 11) == 0;
}

/* Prints one line per table, marking the tables whose sums differ; true when
 * none does. */
static bool report(const store_table_sum *src, const store_table_sum *dst, size_t n)
{
    bool same = true;
    printf("%-16s %10s %10s  %-64s\n", "table", "source", "target", "sha256");
    for (size_t i = 0; i < n; i++) {
        bool ok = src[i].rows == dst[i].rows &&
                  sodium_memcmp(src[i].sha256, dst[i].sha256, sizeof(src[i].sha256)) == 0;
        char hex[65];
        sodium_bin2hex(hex, sizeof(hex), src[i].sha256, sizeof(src[i].sha256));
        printf("%-16s %10lld %10lld  %s%s\n", store_table_name(i), (long long)src[i].rows,
               (long long)dst[i].rows, hex, ok ? "" : "  MISMATCH");
        if (!ok) {
            char other[65];
            sodium_bin2hex(other, sizeof(other), dst[i].sha256, sizeof(dst[i].sha256));
            fprintf(stderr,
                    "opencase: table %s differs: source %lld rows, sha256 %s; target %lld rows,"
                    " sha256 %s\n",
                    store_table_name(i), (long long)src[i].rows, hex, (long long)dst[i].rows,
                    other);
            same = false;
        }
    }
    return same;
}

/* Copies and verifies; 0 or 1. */
static int migrate(const char *from_uri, const char *to_uri)
{
    size_t n = store_table_count();
    store_table_sum *src = calloc(n, sizeof(*src));
    store_table_sum *dst = calloc(n, sizeof(*dst));
    store *from = NULL, *to = NULL;
    char err[512];
    int result = 1;
    if (!src || !dst) {
        fprintf(stderr, "opencase: out of memory\n");
        goto out;
    }
    if (store_open_readonly(from_uri, &from, err, sizeof(err)) != STORE_OK) {
        fprintf(stderr, "opencase: cannot open the source database %s: %s\n", from_uri, err);
        goto out;
    }
    if (store_open(to_uri, 1, &to, err, sizeof(err)) != STORE_OK) {
        fprintf(stderr, "opencase: cannot open the target database: %s\n", err);
        goto out;
    }
    if (store_copy(from, to, src, err, sizeof(err)) != STORE_OK) {
        fprintf(stderr, "opencase: nothing was copied: %s\n", err);
        goto out;
    }
    if (store_checksum(to, dst, err, sizeof(err)) != STORE_OK) {
        fprintf(stderr, "opencase: the copy was committed but cannot be read back: %s\n", err);
        goto out;
    }
    if (!report(src, dst, n)) {
        fprintf(stderr, "opencase: the copy does not match its source; do not use it\n");
        goto out;
    }
    printf("verified\n");
    result = 0;
out:
    store_close(to);
    store_close(from);
    free(dst);
    free(src);
    return result;
}

int migrate_store_main(int argc, char **argv)
{
    static const struct option opts[] = {{"from", required_argument, NULL, 'f'},
                                         {"to", required_argument, NULL, 't'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *from = NULL, *to = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            from = optarg;
            break;
        case 't':
            to = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            fputs(usage, stderr);
            return 2;
        }
    }
    if (optind != argc || !from || !to || !*from) {
        fputs(usage, stderr);
        return 2;
    }
    if (!is_postgresql(to)) {
        fprintf(stderr, "opencase: --to must be a PostgreSQL URI such as"
                        " postgresql://user@host:5432/opencase\n");
        return 2;
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "opencase: cannot initialise libsodium\n");
        return 1;
    }
    return migrate(from, to);
}
