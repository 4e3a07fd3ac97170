/* notice.c - preferences and templates: parsing, checking, rendering.
 *
 * The built-in templates and the names below are data; a service's own
 * templates come from the store and go through the same checks.
 */
#include "domain/notice.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const channel_names[NOTICE_CHANNEL_COUNT] = {"email", "sms", "post", "phone"};
static const char *const frequency_names[] = {"every", "milestones", "none"};
static const char *const kind_names[NOTICE_KIND_COUNT] = {"stage_reached", "public_note",
                                                          "duty_reminder"};

/* The placeholders a template may use, in the order of notice_values. */
static const char *const placeholders[] = {"reference",     "stage",  "note",
                                           "expected_date", "team",   "tracking_link",
                                           "organisation",  "service"};
#define N_PLACEHOLDERS (sizeof(placeholders) / sizeof(placeholders[0]))

typedef struct default_template {
    notice_kind kind;
    const char *language;
    const char *subject;
    const char *body;
} default_template;

static const default_template defaults[] = {
    {NOTICE_STAGE_REACHED, "en", "Your case {reference}: {stage}",
     "Your case {reference} with {organisation} has reached a new stage: {stage}.\n\n"
     "We expect to finish by {expected_date}.\n\n"
     "Follow your case at {tracking_link}"},
    {NOTICE_STAGE_REACHED, "cy", "Eich achos {reference}: {stage}",
     "Mae eich achos {reference} gyda {organisation} wedi cyrraedd cam newydd: {stage}.\n\n"
     "Rydym yn disgwyl gorffen erbyn {expected_date}.\n\n"
     "Dilynwch eich achos yn {tracking_link}"},
    {NOTICE_PUBLIC_NOTE, "en", "An update on your case {reference}",
     "There is an update on your case {reference} with {organisation}:\n\n{note}\n\n"
     "Follow your case at {tracking_link}"},
    {NOTICE_PUBLIC_NOTE, "cy", "Diweddariad ar eich achos {reference}",
     "Mae diweddariad ar eich achos {reference} gyda {organisation}:\n\n{note}\n\n"
     "Dilynwch eich achos yn {tracking_link}"},
    {NOTICE_DUTY_REMINDER, "en", "Update due on case {reference}",
     "The person on case {reference} ({service}) must be told about the stage {stage} by "
     "{expected_date}. Team: {team}."},
    {NOTICE_DUTY_REMINDER, "cy", "Diweddariad yn ddyledus ar achos {reference}",
     "Rhaid rhoi gwybod i'r person ar achos {reference} ({service}) am y cam {stage} erbyn "
     "{expected_date}. Tîm: {team}."},
};

static void copy_cut(char *out, size_t outlen, const char *s, size_t n)
{
    if (!out || !outlen)
        return;
    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, s, n);
    out[n] = '\0';
}

const char *notice_channel_name(unsigned bit)
{
    for (unsigned i = 0; i < NOTICE_CHANNEL_COUNT; i++)
        if (bit == 1u << i)
            return channel_names[i];
    return NULL;
}

bool notice_channels_parse(const char *text, unsigned *out, char *bad, size_t badlen)
{
    unsigned set = 0;
    bool none = false;
    *out = 0;
    if (strspn(text, " ") == strlen(text))
        return true;
    for (const char *p = text;;) {
        size_t item = strcspn(p, ",");
        const char *start = p + strspn(p, " ");
        size_t n = (size_t)(p + item - start);
        while (n && start[n - 1] == ' ')
            n--;
        unsigned bit = 0;
        for (unsigned i = 0; i < NOTICE_CHANNEL_COUNT; i++)
            if (strlen(channel_names[i]) == n && memcmp(channel_names[i], start, n) == 0)
                bit = 1u << i;
        if (n == 4 && memcmp(start, "none", 4) == 0)
            none = true;
        else if (!bit) {
            copy_cut(bad, badlen, start, n);
            return false;
        }
        set |= bit;
        if (!p[item])
            break;
        p += item + 1;
    }
    if (none && set) {
        copy_cut(bad, badlen, "none", 4);
        return false;
    }
    *out = set;
    return true;
}

void notice_channels_format(unsigned channels, char *out, size_t outlen)
{
    size_t used = 0;
    if (!outlen)
        return;
    out[0] = '\0';
    for (unsigned i = 0; i < NOTICE_CHANNEL_COUNT; i++) {
        if (!(channels & (1u << i)))
            continue;
        int w = snprintf(out + used, outlen - used, "%s%s", used ? "," : "", channel_names[i]);
        if (w < 0 || (size_t)w >= outlen - used)
            return;
        used += (size_t)w;
    }
}

const char *notice_language(const char *text)
{
    if (!text)
        return NULL;
    if (strcmp(text, "en") == 0)
        return "en";
    if (strcmp(text, "cy") == 0)
        return "cy";
    return NULL;
}

bool notice_frequency_parse(const char *text, notice_frequency *out)
{
    for (size_t i = 0; text && i < sizeof(frequency_names) / sizeof(frequency_names[0]); i++)
        if (strcmp(text, frequency_names[i]) == 0) {
            *out = (notice_frequency)i;
            return true;
        }
    return false;
}

const char *notice_frequency_name(notice_frequency f)
{
    return f <= NOTICE_NEVER ? frequency_names[f] : "none";
}

bool notice_kind_parse(const char *text, notice_kind *out)
{
    for (size_t i = 0; text && i < NOTICE_KIND_COUNT; i++)
        if (strcmp(text, kind_names[i]) == 0) {
            *out = (notice_kind)i;
            return true;
        }
    return false;
}

const char *notice_kind_name(notice_kind k)
{
    return k < NOTICE_KIND_COUNT ? kind_names[k] : "stage_reached";
}

notice_prefs notice_default_prefs(bool has_email, bool has_phone)
{
    notice_prefs p = {.channels = has_email   ? NOTICE_EMAIL
                                  : has_phone ? NOTICE_SMS
                                              : 0u,
                      .language = "en",
                      .frequency = NOTICE_MILESTONES};
    return p;
}

bool notice_wanted(notice_frequency f, notice_kind kind, bool milestone)
{
    switch (kind) {
    case NOTICE_STAGE_REACHED:
        return milestone && f != NOTICE_NEVER;
    case NOTICE_PUBLIC_NOTE:
        return f == NOTICE_EVERY;
    case NOTICE_DUTY_REMINDER:
    case NOTICE_KIND_COUNT:
        break;
    }
    return false;
}

/* The index in placeholders of the name s[0..n), or -1. */
static int placeholder_index(const char *s, size_t n)
{
    for (size_t i = 0; i < N_PLACEHOLDERS; i++)
        if (strlen(placeholders[i]) == n && memcmp(placeholders[i], s, n) == 0)
            return (int)i;
    return -1;
}

/* Walks a template: literal runs go to `lit`, placeholders to `ph` (index);
 * returns false at the first fault, described as notice_template_check says. */
typedef struct walk {
    char *bad;
    size_t badlen;
    bool unknown;
} walk;

static bool walk_template(const char *text, walk *w, const notice_values *v, buf *b)
{
    const char *values[N_PLACEHOLDERS] = {0};
    if (v) {
        const char *in[N_PLACEHOLDERS] = {v->reference,     v->stage,  v->note,
                                          v->expected_date, v->team,   v->tracking_link,
                                          v->organisation,  v->service};
        memcpy(values, in, sizeof(values));
    }
    for (const char *p = text; *p;) {
        size_t lit = strcspn(p, "{}");
        if (b && lit)
            buf_append(b, p, lit);
        p += lit;
        if (!*p)
            break;
        if (p[0] == p[1]) {
            if (b)
                buf_putc(b, p[0]);
            p += 2;
            continue;
        }
        if (*p == '}') {
            copy_cut(w->bad, w->badlen, "a '}' without its '{' (write '}}' for a brace)", 46);
            return false;
        }
        const char *name = p + 1;
        size_t n = strcspn(name, "{}");
        if (name[n] != '}') {
            copy_cut(w->bad, w->badlen, "a '{' that is not closed (write '{{' for a brace)", 49);
            return false;
        }
        if (n == 0) {
            copy_cut(w->bad, w->badlen, "an empty placeholder {}", 23);
            return false;
        }
        int i = placeholder_index(name, n);
        if (i < 0) {
            copy_cut(w->bad, w->badlen, name, n);
            w->unknown = true;
            return false;
        }
        if (b && values[i])
            buf_puts(b, values[i]);
        p = name + n + 1;
    }
    return true;
}

bool notice_template_check(const char *text, char *bad, size_t badlen, bool *unknown)
{
    walk w = {.bad = bad, .badlen = badlen};
    if (bad && badlen)
        bad[0] = '\0';
    bool ok = walk_template(text, &w, NULL, NULL);
    if (unknown)
        *unknown = w.unknown;
    return ok;
}

bool notice_render(const char *text, const notice_values *v, buf *b)
{
    walk w = {0};
    return walk_template(text, &w, v, b) && !b->failed;
}

void notice_default_template(notice_kind kind, const char *language, const char **subject,
                             const char **body)
{
    const default_template *found = &defaults[0];
    const char *want = notice_language(language) ? language : "en";
    for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
        if (defaults[i].kind == kind && strcmp(defaults[i].language, want) == 0)
            found = &defaults[i];
    *subject = found->subject;
    *body = found->body;
}

void notice_date(int64_t t, const char *language, char *out, size_t outlen)
{
    static const char *const en[] = {"January",   "February", "March",    "April",
                                     "May",       "June",     "July",     "August",
                                     "September", "October",  "November", "December"};
    static const char *const cy[] = {"Ionawr", "Chwefror", "Mawrth",     "Ebrill",
                                     "Mai",    "Mehefin",  "Gorffennaf", "Awst",
                                     "Medi",   "Hydref",   "Tachwedd",   "Rhagfyr"};
    time_t tt = (time_t)t;
    struct tm tm;
    if (!outlen)
        return;
    if (!gmtime_r(&tt, &tm)) {
        out[0] = '\0';
        return;
    }
    const char *const *months = language && strcmp(language, "cy") == 0 ? cy : en;
    snprintf(out, outlen, "%d %s %d", tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900);
}
