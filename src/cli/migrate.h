/* migrate.h - `opencase migrate-store`: copies a deployment to another database.
 *
 * A council that outgrows SQLite copies its running deployment into a fresh
 * PostgreSQL database: every table, ids kept, read in one snapshot of the
 * source and written in one transaction, then verified table by table with
 * row counts and checksums computed on both sides.
 */
#ifndef OC_MIGRATE_H
#define OC_MIGRATE_H

/* argv[0] is "migrate-store"; the options are --from PATH|URI and --to URI.
 * Prints the counts and checksums, then "verified". Returns 0 on success, 1
 * when the copy fails or does not verify, 2 on a usage error. */
int migrate_store_main(int argc, char **argv);

#endif
