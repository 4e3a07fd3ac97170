/* demo.h - demonstration data: two organisations, their services, staff and cases.
 *
 * The data (organisations, services with their workflows, staff, appeals for
 * witnesses) is a JSON document compiled into the binary (src/cli/demo.json);
 * cases are generated from a seeded random walk through each workflow, with
 * a spread of opening dates so that closed cases give the expected-completion
 * estimate a history. Appeals are then written on the newest of those cases,
 * timed from the same clock.
 */
#ifndef OC_DEMO_H
#define OC_DEMO_H

#include <stdio.h>

#include "store/store.h"

typedef struct demo_options {
    long cases; /* cases to generate, spread over the demo services */
    int events; /* target events per case (at least the opening one) */
    const char
        *credentials_path; /* if set, "REFERENCE SECRET STAGE SERVICE" lines are written here */
    const char *password;  /* password given to the demo staff */
    unsigned long seed;
} demo_options;

/* Creates the organisations, services and staff if missing, then adds the
 * cases, and the appeals of an organisation that has none yet. Progress and
 * the demo logins go to `out`. Returns 0 or -1 with a message on stderr. */
int demo_load(store *s, const demo_options *o, FILE *out);

#endif
