/* config.c - reading the notification settings from flags and environment. */
#include "notify/config.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/validate.h"

const char notify_config_usage[] =
    "Notifications (each also read from OPENCASE_ and the flag's name in capitals):\n"
    "  --public-url URL          the public address, for links in messages\n"
    "  --notify-workers N        delivery threads (default 2; 0: deliver nothing here)\n"
    "  --notify-max-attempts N   attempts before a notification fails (default 8)\n"
    "  --notify-retry-base-ms N  first retry delay, doubled each time (default 30000)\n"
    "  --notify-retry-max-ms N   longest retry delay (default 3600000)\n"
    "  --notify-timeout-ms N     one delivery attempt (default 10000)\n"
    "  --notify-lease-s N        a claimed batch's lease (default 120)\n"
    "  --notify-poll-ms N        idle polling interval (default 1000)\n"
    "  --smtp-host HOST          SMTP server for email (--smtp-port, default 587)\n"
    "  --smtp-starttls MODE      required, optional or off (default required)\n"
    "  --smtp-username USER, --smtp-password PASSWORD, --smtp-from ADDRESS\n"
    "  --sms-url URL             SMS gateway: a JSON POST (--sms-token, a bearer token)\n"
    "  --govuk-notify-key KEY    GOV.UK Notify API key (--govuk-notify-url, default\n"
    "                            https://api.notifications.service.gov.uk)\n"
    "  --govuk-notify-email-template ID, --govuk-notify-sms-template ID,\n"
    "  --govuk-notify-letter-template ID   Notify templates with ((subject)) and ((body))\n";

/* A setting: its flag; the environment variable is derived from it. */
typedef enum { K_INT, K_TEXT, K_TLS } kind;

typedef struct setting {
    const char *flag;
    kind k;
    size_t offset;
    long min, max;
} setting;

#define INT_SETTING(f, field, lo, hi)                                                              \
    {                                                                                              \
        f, K_INT, offsetof(notify_config, field), lo, hi                                           \
    }
#define TEXT_SETTING(f, field)                                                                     \
    {                                                                                              \
        f, K_TEXT, offsetof(notify_config, field), 0, 0                                            \
    }

static const setting settings[] = {
    TEXT_SETTING("--public-url", public_url),
    INT_SETTING("--notify-workers", workers, 0, 64),
    INT_SETTING("--notify-max-attempts", max_attempts, 1, 100),
    INT_SETTING("--notify-retry-base-ms", retry_base_ms, 1, 86400000),
    INT_SETTING("--notify-retry-max-ms", retry_max_ms, 1, 604800000),
    INT_SETTING("--notify-timeout-ms", timeout_ms, 100, 600000),
    INT_SETTING("--notify-lease-s", lease_s, 1, 86400),
    INT_SETTING("--notify-poll-ms", poll_ms, 10, 600000),
    TEXT_SETTING("--smtp-host", smtp_host),
    INT_SETTING("--smtp-port", smtp_port, 1, 65535),
    {"--smtp-starttls", K_TLS, offsetof(notify_config, smtp_starttls), 0, 0},
    TEXT_SETTING("--smtp-username", smtp_username),
    TEXT_SETTING("--smtp-password", smtp_password),
    TEXT_SETTING("--smtp-from", smtp_from),
    TEXT_SETTING("--sms-url", sms_url),
    TEXT_SETTING("--sms-token", sms_token),
    TEXT_SETTING("--govuk-notify-key", govuk_key),
    TEXT_SETTING("--govuk-notify-url", govuk_url),
    TEXT_SETTING("--govuk-notify-email-template", govuk_email_template),
    TEXT_SETTING("--govuk-notify-sms-template", govuk_sms_template),
    TEXT_SETTING("--govuk-notify-letter-template", govuk_letter_template),
};

#define N_SETTINGS (sizeof(settings) / sizeof(settings[0]))

static int set_value(notify_config *c, const setting *s, const char *from, const char *val)
{
    char *field = (char *)c + s->offset;
    if (s->k == K_TEXT) {
        const char *v = *val ? val : NULL;
        memcpy(field, &v, sizeof(v));
        return 0;
    }
    if (s->k == K_TLS) {
        smtp_tls t;
        if (strcmp(val, "required") == 0)
            t = SMTP_TLS_REQUIRED;
        else if (strcmp(val, "optional") == 0)
            t = SMTP_TLS_OPTIONAL;
        else if (strcmp(val, "off") == 0)
            t = SMTP_TLS_OFF;
        else {
            fprintf(stderr, "opencase: %s must be required, optional or off\n", from);
            return -1;
        }
        memcpy(field, &t, sizeof(t));
        return 0;
    }
    char *end;
    errno = 0;
    long n = strtol(val, &end, 10);
    if (errno || end == val || *end || n < s->min || n > s->max) {
        fprintf(stderr, "opencase: %s must be a number from %ld to %ld\n", from, s->min, s->max);
        return -1;
    }
    int v = (int)n;
    memcpy(field, &v, sizeof(v));
    return 0;
}

/* "--smtp-host" -> "OPENCASE_SMTP_HOST". */
static void env_name(const char *flag, char *out, size_t outlen)
{
    size_t j = (size_t)snprintf(out, outlen, "OPENCASE_");
    for (const char *p = flag + 2; *p && j + 1 < outlen; p++)
        out[j++] = (char)(*p == '-' ? '_' : toupper((unsigned char)*p));
    out[j] = '\0';
}

int notify_config_init(notify_config *c)
{
    *c = (notify_config){.workers = 2,
                         .max_attempts = 8,
                         .retry_base_ms = 30000,
                         .retry_max_ms = 3600000,
                         .timeout_ms = 10000,
                         .lease_s = 120,
                         .poll_ms = 1000,
                         .smtp_port = 587,
                         .smtp_starttls = SMTP_TLS_REQUIRED,
                         .govuk_url = "https://api.notifications.service.gov.uk"};
    for (size_t i = 0; i < N_SETTINGS; i++) {
        char name[64];
        env_name(settings[i].flag, name, sizeof(name));
        const char *v = getenv(name);
        if (v && *v && set_value(c, &settings[i], name, v) != 0)
            return -1;
    }
    return 0;
}

int notify_config_option(notify_config *c, const char *opt, const char *val)
{
    for (size_t i = 0; i < N_SETTINGS; i++) {
        if (strcmp(opt, settings[i].flag) != 0)
            continue;
        if (!val) {
            fprintf(stderr, "opencase: %s needs a value\n", opt);
            return -1;
        }
        return set_value(c, &settings[i], opt, val) == 0 ? 2 : -1;
    }
    return 0;
}

/* A GOV.UK Notify key ends with two UUIDs: the service id, then the secret. */
#define GOVUK_UUID 36

int notify_config_check(const notify_config *c)
{
    if (c->smtp_host && (!c->smtp_from || !valid_email(c->smtp_from))) {
        fprintf(stderr, "opencase: --smtp-host needs --smtp-from, an email address\n");
        return -1;
    }
    if (c->govuk_key && strlen(c->govuk_key) < 2 * GOVUK_UUID + 1) {
        fprintf(stderr, "opencase: --govuk-notify-key is not a GOV.UK Notify API key\n");
        return -1;
    }
    if (!c->govuk_key &&
        (c->govuk_email_template || c->govuk_sms_template || c->govuk_letter_template)) {
        fprintf(stderr, "opencase: the GOV.UK Notify templates need --govuk-notify-key\n");
        return -1;
    }
    if (c->retry_max_ms < c->retry_base_ms) {
        fprintf(stderr, "opencase: --notify-retry-max-ms is less than --notify-retry-base-ms\n");
        return -1;
    }
    return 0;
}

bool notify_email_configured(const notify_config *c)
{
    return c->smtp_host || (c->govuk_key && c->govuk_email_template);
}

bool notify_sms_configured(const notify_config *c)
{
    return c->sms_url || (c->govuk_key && c->govuk_sms_template);
}

bool notify_letters_configured(const notify_config *c)
{
    return c->govuk_key && c->govuk_letter_template;
}
