/* send.h - one delivery attempt of one notification, on its channel.
 *
 * Email goes over SMTP (libcurl), or through GOV.UK Notify when its email
 * template is set; SMS through the configured HTTP gateway, or Notify when
 * its SMS template is set; post through Notify's letters; webhooks to the
 * subscriber's URL, signed (notify/sign.h). Every message carries the
 * notification's id so that receivers can drop a repeat: the email's
 * Message-ID and X-Opencase-Notification-Id header, the JSON's "id" (or
 * Notify's "reference", opencase-<id>) and the Opencase-Id header.
 *
 * The SMS gateway receives POST {"id", "to", "body", "reference"} with
 * Authorization: Bearer <--sms-token> and answers 2xx when it has the message.
 *
 * An attempt never takes longer than the configured timeout. Its outcome:
 * sent; worth retrying (the server is unreachable, timed out, answered 4xx
 * in SMTP or 408, 429 or 5xx in HTTP); or failed for good (refused: SMTP
 * 5xx, HTTP 4xx, an address that cannot be used). `reason` says which, in a
 * sentence with no personal data.
 */
#ifndef OC_NOTIFY_SEND_H
#define OC_NOTIFY_SEND_H

#include <stddef.h>
#include <stdint.h>

#include "notify/config.h"
#include "store/store.h"

typedef enum { SEND_OK, SEND_RETRY, SEND_FAIL } send_rc;

/* Once, before any thread sends. */
int send_global_init(void);
void send_global_cleanup(void);

/* One thread's sender: it keeps connections open between messages, so that
 * a run of messages to one server pays for one connection (and one
 * greeting). Not to be shared between threads. */
typedef struct send_conn send_conn;

send_conn *send_conn_new(void); /* NULL when out of memory */
void send_conn_free(send_conn *sc);

/* Sends n (as claimed: recipient, subject, body, reference, the webhook's
 * secret) at time now. */
send_rc send_notice(const notify_config *c, send_conn *sc, const store_notice *n, int64_t now,
                    char *reason, size_t reason_len);

#endif
