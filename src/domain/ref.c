/* ref.c - Crockford Base32 case references with a mod-37 check symbol.
 *
 * The eight data symbols carry 40 bits, most significant first. The check
 * symbol is the value modulo 37, written with Crockford's 37-symbol check
 * alphabet; 37 is prime, so it catches every single-symbol substitution and
 * every swap of two adjacent symbols. See ref.h for the promises.
 */
#include "domain/ref.h"

#define REF_CHECK_MOD 37
#define REF_SYMBOL_BITS 5
#define REF_SYMBOLS (REF_DATA_SYMBOLS + 1)

/* The first 32 are data symbols; the last five are only ever check symbols. */
static const char ref_alphabet[REF_CHECK_MOD + 1] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ*~$=U";

/* A symbol's value, or -1 when `c` is not a symbol. Aliases for the look-alike
 * letters are decoded as the digit a reader meant. */
static int ref_symbol_value(unsigned char c)
{
    if (c >= 'a' && c <= 'z')
        c = (unsigned char)(c - 'a' + 'A');
    switch (c) {
    case 'O':
        return 0;
    case 'I':
    case 'L':
        return 1;
    default:
        break;
    }
    for (int i = 0; i < REF_CHECK_MOD; i++) {
        if ((unsigned char)ref_alphabet[i] == c)
            return i;
    }
    return -1;
}

ref_rc ref_parse(const char *in, size_t len, uint64_t *value)
{
    int symbols[REF_SYMBOLS];
    size_t n = 0;
    bool bad_char = false;

    *value = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '-' || c == ' ')
            continue;
        int v = ref_symbol_value(c);
        if (v < 0)
            bad_char = true;
        else if (n < REF_SYMBOLS)
            symbols[n] = v;
        n++;
    }
    /* A stray character is the more useful thing to report: the length is
     * probably wrong only because of it. */
    if (bad_char)
        return REF_BAD_CHAR;
    if (n == 0)
        return REF_EMPTY;
    if (n != REF_SYMBOLS)
        return REF_BAD_LENGTH;

    uint64_t v = 0;
    for (size_t i = 0; i < REF_DATA_SYMBOLS; i++) {
        if (symbols[i] >= 32)
            return REF_BAD_CHAR;
        v = (v << REF_SYMBOL_BITS) | (uint64_t)symbols[i];
    }
    if ((uint64_t)symbols[REF_DATA_SYMBOLS] != v % REF_CHECK_MOD)
        return REF_BAD_CHECK;
    *value = v;
    return REF_OK;
}

void ref_format(uint64_t value, char out[REF_TEXT_LEN + 1])
{
    value &= REF_VALUE_MAX;
    size_t o = 0;
    for (int i = REF_DATA_SYMBOLS - 1; i >= 0; i--) {
        out[o++] = ref_alphabet[(value >> (i * REF_SYMBOL_BITS)) & 31];
        if (i == 4)
            out[o++] = '-';
    }
    out[o++] = '-';
    out[o++] = ref_alphabet[value % REF_CHECK_MOD];
    out[o] = '\0';
}

bool ref_from_random(uint64_t random_bits, uint64_t *value)
{
    uint64_t v = random_bits & REF_VALUE_MAX;
    if (v % REF_CHECK_MOD >= 32) {
        *value = 0;
        return false;
    }
    *value = v;
    return true;
}

const char *ref_error_message(ref_rc rc)
{
    switch (rc) {
    case REF_OK:
        return "The reference is valid.";
    case REF_EMPTY:
        return "Enter your case reference, for example K7QM-2XPD-C.";
    case REF_BAD_LENGTH:
        return "A case reference has 9 letters and numbers, for example K7QM-2XPD-C.";
    case REF_BAD_CHAR:
        return "A case reference contains only letters, numbers and hyphens, for example "
               "K7QM-2XPD-C.";
    case REF_BAD_CHECK:
        return "That reference is not right: check each letter and number against your letter "
               "or email.";
    }
    return "That is not a valid case reference.";
}
