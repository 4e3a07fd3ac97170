/* config.h - the notification settings: delivery workers and channels.
 *
 * Each setting has a flag and an environment variable (OPENCASE_SMTP_HOST
 * for --smtp-host, and so on); flags win. A channel is configured when its
 * address is set: email by --smtp-host (or GOV.UK Notify's email template),
 * SMS by --sms-url (or Notify's SMS template), letters by Notify's letter
 * template. Webhooks need no setting. Notifications for a channel that is
 * not configured stay pending, so that configuring it later sends them.
 *
 * Strings point into argv or the environment and are never freed.
 */
#ifndef OC_NOTIFY_CONFIG_H
#define OC_NOTIFY_CONFIG_H

#include <stdbool.h>

typedef enum { SMTP_TLS_OFF, SMTP_TLS_OPTIONAL, SMTP_TLS_REQUIRED } smtp_tls;

typedef struct notify_config {
    int workers;            /* delivery threads; 0 sends nothing from this instance */
    int max_attempts;       /* then the notification is failed */
    int retry_base_ms;      /* the first retry's delay; doubled each time, with jitter */
    int retry_max_ms;       /* the longest delay */
    int timeout_ms;         /* one delivery attempt, connection included */
    int lease_s;            /* how long a claimed batch is kept from other workers */
    int poll_ms;            /* how often an idle worker looks for due notifications */
    const char *public_url; /* where the tracking page is, for {tracking_link} */

    const char *smtp_host;
    int smtp_port;
    smtp_tls smtp_starttls;
    const char *smtp_username;
    const char *smtp_password;
    const char *smtp_from;

    const char *sms_url; /* JSON POST; see notify/send.h */
    const char *sms_token;

    const char *govuk_key; /* a GOV.UK Notify API key */
    const char *govuk_url; /* its API's base URL */
    const char *govuk_email_template;
    const char *govuk_sms_template;
    const char *govuk_letter_template;
} notify_config;

/* The defaults, then the environment. Returns -1 (message on stderr) when
 * a variable holds a value out of range. */
int notify_config_init(notify_config *c);

/* Reads a command-line option: returns how many arguments it used (2 for a
 * flag and its value), 0 when `opt` is not a notification setting, -1 with
 * a message on stderr when its value is wrong or missing. */
int notify_config_option(notify_config *c, const char *opt, const char *val);

/* Checks the settings together (a from address for SMTP, a complete Notify
 * key); -1 with a message on stderr. */
int notify_config_check(const notify_config *c);

bool notify_email_configured(const notify_config *c);
bool notify_sms_configured(const notify_config *c);
bool notify_letters_configured(const notify_config *c);

/* The --help text for these settings. */
extern const char notify_config_usage[];

#endif
