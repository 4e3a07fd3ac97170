/* ref.h - public case references.
 *
 * A reference is 40 random bits written as 8 Crockford Base32 symbols plus
 * Crockford's mod-37 check symbol, grouped for reading aloud: "K7QM-2XPD-C".
 * Parsing forgives what people do on the phone and in forms: lower case,
 * missing or extra hyphens and spaces, O for 0, I and L for 1. A mistyped
 * symbol is caught by the check symbol before any database look-up.
 * Pure functions: no I/O, no allocation.
 */
#ifndef OC_REF_H
#define OC_REF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REF_DATA_SYMBOLS 8
#define REF_TEXT_LEN 11 /* "XXXX-XXXX-C" */
#define REF_VALUE_MAX ((UINT64_C(1) << 40) - 1)

typedef enum {
    REF_OK = 0,
    REF_EMPTY,      /* nothing but separators */
    REF_BAD_LENGTH, /* not 9 symbols */
    REF_BAD_CHAR,   /* a character that is not a Crockford symbol */
    REF_BAD_CHECK,  /* well formed, but the check symbol does not match: a typo */
} ref_rc;

/* Parses `len` bytes of `in`. On REF_OK, *value holds the 40-bit number. */
ref_rc ref_parse(const char *in, size_t len, uint64_t *value);

/* Writes the canonical form of `value` (<= REF_VALUE_MAX) and a NUL into out. */
void ref_format(uint64_t value, char out[REF_TEXT_LEN + 1]);

/* Turns 40 random bits into a reference value. Returns false when the check
 * symbol would be one of * ~ $ = U, which are awkward to read aloud: the
 * caller draws again, so issued references are letters and digits only. */
bool ref_from_random(uint64_t random_bits, uint64_t *value);

/* A sentence for the user explaining what is wrong with a reference. */
const char *ref_error_message(ref_rc rc);

#endif
