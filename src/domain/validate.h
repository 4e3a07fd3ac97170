/* validate.h - rules for values that come from outside.
 *
 * Every check is a pure function with a bounded input. Normalisers write into
 * a caller-provided buffer and never overflow it.
 */
#ifndef OC_VALIDATE_H
#define OC_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Well-formed UTF-8 of at most `max_bytes` bytes, no NUL and no control
 * characters (tab and newline allowed only when `multiline`). */
bool valid_text(const char *s, size_t max_bytes, bool multiline);

/* A machine code: [a-z0-9_-], 1..max bytes, starting with a letter or digit. */
bool valid_code(const char *s, size_t max);

/* A plausible email address (local@domain.tld, <= 254 bytes, no spaces). */
bool valid_email(const char *s);

/* Lower-cases and trims an email into out; false when invalid or too long. */
bool email_normalise(const char *in, char *out, size_t outlen);

/* A UK postcode: upper-cases, removes spaces and re-inserts the single space
 * before the inward code ("sw1a1aa" -> "SW1A 1AA"). False when not a postcode. */
bool postcode_normalise(const char *in, char *out, size_t outlen);

/* Parses an RFC 3339 date ("2026-11-23") or date-time ("2026-11-23T10:00:00Z",
 * with an optional fraction and a Z or +hh:mm offset) to seconds since the
 * epoch. False on anything else, including impossible dates. */
bool parse_datetime(const char *s, long long *out);

/* A whole number in plain decimal, as a query parameter gives it: 1 to 20
 * digits, no sign, spaces or leading zeros ("0" itself is fine), at most
 * `max`. False (*out = 0) on anything else, overflow included. */
bool parse_decimal(const char *s, uint64_t max, uint64_t *out);

/* Formats seconds since the epoch as "2026-11-23T10:00:00Z". out >= 21 bytes. */
void format_datetime(long long t, char *out, size_t outlen);

/* Formats the date part only, "2026-11-23". out >= 11 bytes. */
void format_date(long long t, char *out, size_t outlen);

#endif
