/* notice.h - what a person is told, and how: preferences and templates.
 *
 * Pure rules, no I/O. A person's preferences name the channels they accept,
 * a language and how often they want to hear; notice_wanted decides whether
 * an event is worth a message under them. A template is text with named
 * placeholders in braces ({reference}); "{{" and "}}" stand for literal
 * braces. Templates are checked when saved (notice_template_check names an
 * unknown placeholder) and rendered with the values of one event. Every
 * service that has no template of its own for a kind and a language uses the
 * built-in one (notice_default_template), in English or Welsh.
 *
 * Nothing here allocates: output goes into caller buffers (util/buf.h).
 */
#ifndef OC_NOTICE_H
#define OC_NOTICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* The channels a person may accept, as bits. */
enum {
    NOTICE_EMAIL = 1u << 0,
    NOTICE_SMS = 1u << 1,
    NOTICE_POST = 1u << 2,
    NOTICE_PHONE = 1u << 3,
    NOTICE_CHANNEL_COUNT = 4,
};

typedef enum { NOTICE_EVERY, NOTICE_MILESTONES, NOTICE_NEVER } notice_frequency;

typedef enum {
    NOTICE_STAGE_REACHED,
    NOTICE_PUBLIC_NOTE,
    NOTICE_DUTY_REMINDER,
    NOTICE_KIND_COUNT
} notice_kind;

#define NOTICE_LANGUAGES 2 /* "en", "cy" */

typedef struct notice_prefs {
    unsigned channels; /* NOTICE_EMAIL | ...; 0 for none */
    const char *language;
    notice_frequency frequency;
} notice_prefs;

/* The name of channel bit `bit` ("email", "sms", "post", "phone"); NULL for
 * anything else. */
const char *notice_channel_name(unsigned bit);

/* Parses a list of channel names separated by commas (spaces around names
 * are allowed; "none" alone, or an empty list, is no channel). On failure
 * copies the offending name, cut to fit, into bad. */
bool notice_channels_parse(const char *text, unsigned *out, char *bad, size_t badlen);
/* The channels as the comma-separated list notice_channels_parse reads;
 * empty for none. */
void notice_channels_format(unsigned channels, char *out, size_t outlen);

/* "en" or "cy" as a static string, or NULL when `text` is neither. */
const char *notice_language(const char *text);
bool notice_frequency_parse(const char *text, notice_frequency *out);
const char *notice_frequency_name(notice_frequency f);
bool notice_kind_parse(const char *text, notice_kind *out);
const char *notice_kind_name(notice_kind k);

/* What a person with no stated preferences gets: email when the case has an
 * address, else SMS when it has a phone number; milestones only; English. */
notice_prefs notice_default_prefs(bool has_email, bool has_phone);

/* Whether an event of `kind` is sent under frequency f. `milestone` says
 * whether a stage reached is a public milestone; a stage that is not one is
 * never sent. A duty reminder is not for the citizen and is never wanted
 * here. */
bool notice_wanted(notice_frequency f, notice_kind kind, bool milestone);

/* The values placeholders take; NULL renders as nothing. */
typedef struct notice_values {
    const char *reference;
    const char *stage;
    const char *note;
    const char *expected_date;
    const char *team;
    const char *tracking_link;
    const char *organisation;
    const char *service;
} notice_values;

/* Checks a template's text. On failure writes into bad either the unknown
 * placeholder's name (cut to fit) with *unknown = true, or a description of
 * the fault (an unclosed or empty brace) with *unknown = false. */
bool notice_template_check(const char *text, char *bad, size_t badlen, bool *unknown);

/* Appends the rendered template to b; false when the template is not valid
 * (nothing sensible to send) or b failed. */
bool notice_render(const char *text, const notice_values *v, buf *b);

/* The built-in subject and body of a kind in a language ("en" or "cy"). */
void notice_default_template(notice_kind kind, const char *language, const char **subject,
                             const char **body);

/* A date as the language writes it: "16 November 2026", "16 Tachwedd 2026". */
void notice_date(int64_t t, const char *language, char *out, size_t outlen);

#endif
