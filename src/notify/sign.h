/* sign.h - signatures on what opencase sends: webhooks and GOV.UK Notify.
 *
 * A webhook carries `Opencase-Signature: t=<unix time>,v1=<hex>`, where hex
 * is HMAC-SHA256, keyed with the subscription's secret, over the time, a
 * full stop and the exact body: receivers recompute it, compare in constant
 * time, and refuse old times to stop replays. GOV.UK Notify takes a JWT
 * (HS256) whose issuer is the service id and whose key is the secret, both
 * taken from the API key.
 *
 * Pure functions over caller buffers; libsodium must be initialised.
 */
#ifndef OC_NOTIFY_SIGN_H
#define OC_NOTIFY_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "t=...,v1=..." into out (128 bytes are enough). */
bool sign_webhook(const char *secret, int64_t t, const char *body, size_t len, char *out,
                  size_t outlen);

#define SIGN_JWT_MAX 512

/* The Authorization bearer token for a GOV.UK Notify API key at time `iat`;
 * false when the key is not one (it ends in two UUIDs, service then secret). */
bool sign_govuk_jwt(const char *api_key, int64_t iat, char *out, size_t outlen);

#endif
