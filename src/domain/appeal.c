/* appeal.c - categories, public locations and the life of an appeal; see appeal.h. */
#include "domain/appeal.h"

#include <stdio.h>
#include <string.h>

/* The categories are data: a deployment's list is this table. */
const appeal_category appeal_categories[] = {
    {"assault", "Assault"},
    {"burglary", "Burglary"},
    {"criminal-damage", "Criminal damage"},
    {"fraud", "Fraud"},
    {"homicide", "Homicide"},
    {"missing-person", "Missing person"},
    {"road-collision", "Road collision"},
    {"robbery", "Robbery"},
    {"sexual-offence", "Sexual offence"},
    {"theft", "Theft"},
    {"other", "Other"},
};
const size_t appeal_categories_count = sizeof(appeal_categories) / sizeof(appeal_categories[0]);

const appeal_category *appeal_category_find(const char *code)
{
    for (size_t i = 0; code && i < appeal_categories_count; i++)
        if (strcmp(appeal_categories[i].code, code) == 0)
            return &appeal_categories[i];
    return NULL;
}

bool appeal_precision_parse(const char *text, appeal_precision *out)
{
    if (text && strcmp(text, "exact") == 0) {
        *out = APPEAL_EXACT;
        return true;
    }
    if (text && strcmp(text, "grid") == 0) {
        *out = APPEAL_GRID;
        return true;
    }
    return false;
}

const char *appeal_precision_name(appeal_precision p)
{
    return p == APPEAL_GRID ? "grid" : "exact";
}

bool appeal_public_point(geo_point truth, const geo_point *approved, appeal_precision precision,
                         int32_t cell_m, geo_point *out)
{
    geo_point p = approved ? *approved : truth;
    *out = p;
    if (precision == APPEAL_EXACT)
        return true;
    return geo_snap(p, cell_m, out);
}

const char *appeal_check(const char *status, int64_t expires_at, int64_t now, appeal_action action)
{
    bool draft = strcmp(status, "draft") == 0;
    bool published = strcmp(status, "published") == 0;
    switch (action) {
    case APPEAL_EDIT:
        return draft ? NULL : "only a draft appeal can be edited";
    case APPEAL_PUBLISH:
        if (!draft)
            return "only a draft appeal can be published";
        return expires_at > now ? NULL : "the appeal's expiry has passed; set a later one first";
    case APPEAL_CLOSE:
        return published ? NULL : "only a published appeal can be closed";
    case APPEAL_ANSWER:
        if (!published)
            return "this appeal is not taking answers";
        return expires_at > now ? NULL : "this appeal has expired";
    }
    return "unknown action";
}

void appeal_move_note(appeal_action action, int64_t id, const char *text, char *out, size_t len)
{
    snprintf(out, len, "Appeal %lld %s: %s", (long long)id,
             action == APPEAL_PUBLISH ? "published" : "closed", text);
}

bool appeal_channel_valid(const char *channel)
{
    return channel && (strcmp(channel, "email") == 0 || strcmp(channel, "phone") == 0);
}

bool appeal_answer_message(const appeal_answer_facts *f, buf *subject, buf *body)
{
    buf_printf(subject, "New answer to appeal %lld: %s", (long long)f->appeal_id, f->title);
    buf_printf(body,
               "Appeal %lld, \"%s\", on case %s, has a new answer.\n\n"
               "Receipt: %s\n"
               "%s\n\n"
               "Read it in opencase: GET %s\n"
               "Each reading is recorded, and an answerer who left contact details sees on their "
               "receipt when the investigating team has read it.\n\n"
               "This email does not hold the answer or say who gave it.\n",
               (long long)f->appeal_id, f->title, f->case_reference, f->receipt,
               f->anonymous ? "The answer is anonymous." : "The answerer left contact details.",
               f->answers_url);
    return !subject->failed && !body->failed;
}
