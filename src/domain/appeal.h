/* appeal.h - the rules of an appeal for witnesses.
 *
 * An appeal is a draft (editable, seen only by its organisation's staff),
 * then published (on the public map and list until it expires), then closed
 * with a public outcome. Its public location is derived from the true one,
 * never the other way: either the point the officer approves as it is
 * ("exact"), or the centre of the grid cell that holds it ("grid"), so that
 * a home cannot be pinned on the map by accident. Pure functions.
 */
#ifndef OC_APPEAL_H
#define OC_APPEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/geo.h"
#include "util/buf.h"

/* What an appeal is about: a code for machines and a name for people. */
typedef struct appeal_category {
    const char *code;
    const char *name;
} appeal_category;

extern const appeal_category appeal_categories[];
extern const size_t appeal_categories_count;

/* The category with this code, or NULL. */
const appeal_category *appeal_category_find(const char *code);

typedef enum {
    APPEAL_EXACT, /* the approved point itself */
    APPEAL_GRID,  /* the centre of its grid cell */
} appeal_precision;

/* "exact" or "grid"; false for anything else. */
bool appeal_precision_parse(const char *text, appeal_precision *out);
const char *appeal_precision_name(appeal_precision p);

/* The point shown to the public: `approved` (the true location when NULL),
 * snapped to a grid of cell_m metres for APPEAL_GRID. False when cell_m is
 * not a valid cell size for APPEAL_GRID (it is ignored for APPEAL_EXACT). */
bool appeal_public_point(geo_point truth, const geo_point *approved, appeal_precision precision,
                         int32_t cell_m, geo_point *out);

/* The actions on an appeal and the status each needs and leaves. */
typedef enum { APPEAL_EDIT, APPEAL_PUBLISH, APPEAL_CLOSE, APPEAL_ANSWER } appeal_action;

/* The longest public outcome, in bytes, and room for the note a move of an
 * appeal leaves on its case (appeal_move_note). */
#define APPEAL_OUTCOME_MAX 2000
#define APPEAL_NOTE_MAX (APPEAL_OUTCOME_MAX + 64)

/* NULL when `action` is allowed on an appeal in `status` ("draft",
 * "published", "closed") expiring at expires_at, at `now`; else a sentence
 * saying why not. */
const char *appeal_check(const char *status, int64_t expires_at, int64_t now, appeal_action action);

/* The note publishing (APPEAL_PUBLISH, `text` the title) or closing
 * (APPEAL_CLOSE, `text` the outcome) appeal `id` leaves on its case, into
 * out of APPEAL_NOTE_MAX bytes. */
void appeal_move_note(appeal_action action, int64_t id, const char *text, char *out, size_t len);

/* How an answerer who gives contact details prefers to be reached. */
bool appeal_channel_valid(const char *channel);

/* What names a new answer to an appeal for the staff told of it. */
typedef struct appeal_answer_facts {
    int64_t appeal_id;
    const char *title;
    const char *case_reference;
    const char *receipt;
    bool anonymous;          /* the answerer left no contact details */
    const char *answers_url; /* where staff read the answers */
} appeal_answer_facts;

/* Appends the subject and body of the email that tells staff of a new
 * answer: the appeal, its case, the answer's receipt and where to read it.
 * Never what the answer says or who gave it: staff read those in opencase,
 * where each reading is recorded for the answerer to see. False when a
 * buffer failed. */
bool appeal_answer_message(const appeal_answer_facts *f, buf *subject, buf *body);

#endif
