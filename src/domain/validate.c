/* validate.c - checks and normalisers for values from outside; see validate.h.
 *
 * Everything here works on bytes with explicit bounds and no locale: ctype
 * functions are avoided because their answers depend on the process locale.
 * Dates are converted with days-from-civil arithmetic rather than timegm so
 * the result never depends on the TZ environment.
 */
#include "domain/validate.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define EMAIL_MAX 254
#define EMAIL_LOCAL_MAX 64
#define EMAIL_LABEL_MAX 63
#define SECONDS_PER_DAY 86400LL

/* The range parse_datetime accepts: years 0000 to 9999, so that whatever it
 * returns formats back to the same four-digit text. */
#define DATETIME_MIN (-62167219200LL) /* 0000-01-01T00:00:00Z */
#define DATETIME_MAX 253402300799LL   /* 9999-12-31T23:59:59Z */

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool is_upper(unsigned char c)
{
    return c >= 'A' && c <= 'Z';
}

static bool is_lower(unsigned char c)
{
    return c >= 'a' && c <= 'z';
}

static bool is_alnum(unsigned char c)
{
    return is_digit(c) || is_upper(c) || is_lower(c);
}

static unsigned char to_lower(unsigned char c)
{
    return is_upper(c) ? (unsigned char)(c - 'A' + 'a') : c;
}

static unsigned char to_upper(unsigned char c)
{
    return is_lower(c) ? (unsigned char)(c - 'a' + 'A') : c;
}

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Length in bytes of the well-formed UTF-8 sequence at s (at most `avail`
 * bytes), or 0 when it is malformed: a stray continuation byte, a truncated
 * sequence, an overlong form, a surrogate or a value above U+10FFFF. The
 * decoded code point goes to *cp. */
static size_t utf8_sequence(const unsigned char *s, size_t avail, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t v;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */

    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        v = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        v = c & 0x0F;
        if (c == 0xE0)
            lo = 0xA0; /* overlong below U+0800 */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates U+D800..U+DFFF */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        v = c & 0x07;
        if (c == 0xF0)
            lo = 0x90; /* overlong below U+10000 */
        else if (c == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else {
        return 0;
    }
    if (avail < len)
        return 0;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    *cp = v;
    return len;
}

bool valid_text(const char *s, size_t max_bytes, bool multiline)
{
    if (!s)
        return false;
    size_t len = strnlen(s, max_bytes < SIZE_MAX ? max_bytes + 1 : SIZE_MAX);
    if (len > max_bytes)
        return false;
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = utf8_sequence(p + i, len - i, &cp);
        if (n == 0)
            return false;
        /* Web forms send line breaks as CR LF, so a CR is part of a newline
         * when an LF follows it; alone it is a control character. */
        bool newline = cp == '\n' || cp == '\t' || (cp == '\r' && i + 1 < len && p[i + 1] == '\n');
        if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F)) {
            if (!(multiline && newline))
                return false;
        }
        i += n;
    }
    return true;
}

bool valid_code(const char *s, size_t max)
{
    if (!s || !s[0])
        return false;
    if (!is_digit((unsigned char)s[0]) && !is_lower((unsigned char)s[0]))
        return false;
    size_t i = 0;
    for (; s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i >= max)
            return false;
        if (!is_digit(c) && !is_lower(c) && c != '_' && c != '-')
            return false;
    }
    return true;
}

/* atext of RFC 5322, the characters an unquoted local part may use. */
static bool email_local_char(unsigned char c)
{
    return is_alnum(c) || (c != '\0' && strchr("!#$%&'*+/=?^_`{|}~-", c) != NULL);
}

static bool valid_local_part(const char *s, size_t len)
{
    if (len == 0 || len > EMAIL_LOCAL_MAX || s[0] == '.' || s[len - 1] == '.')
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.') {
            if (s[i + 1] == '.')
                return false;
        } else if (!email_local_char(c)) {
            return false;
        }
    }
    return true;
}

/* Dot-separated labels of letters, digits and inner hyphens; at least two
 * labels, and a top-level label that is not all digits (that would be an IP
 * address written without brackets). */
static bool valid_domain(const char *s, size_t len)
{
    size_t start = 0, labels = 0;
    while (start <= len) {
        size_t end = start;
        bool all_digits = true;
        while (end < len && s[end] != '.') {
            unsigned char c = (unsigned char)s[end];
            if (!is_alnum(c) && c != '-')
                return false;
            if (!is_digit(c))
                all_digits = false;
            end++;
        }
        size_t n = end - start;
        if (n == 0 || n > EMAIL_LABEL_MAX || s[start] == '-' || s[end - 1] == '-')
            return false;
        labels++;
        if (end == len)
            return labels >= 2 && n >= 2 && !all_digits;
        start = end + 1;
    }
    return false;
}

bool valid_email(const char *s)
{
    if (!s)
        return false;
    size_t len = strnlen(s, EMAIL_MAX + 1);
    if (len == 0 || len > EMAIL_MAX)
        return false;
    const char *at = memchr(s, '@', len);
    if (!at)
        return false;
    size_t local_len = (size_t)(at - s);
    return valid_local_part(s, local_len) && valid_domain(at + 1, len - local_len - 1);
}

bool email_normalise(const char *in, char *out, size_t outlen)
{
    if (outlen == 0)
        return false;
    out[0] = '\0';
    if (!in)
        return false;
    size_t len = strlen(in);
    size_t start = 0;
    while (start < len && is_space((unsigned char)in[start]))
        start++;
    while (len > start && is_space((unsigned char)in[len - 1]))
        len--;
    size_t n = len - start;
    if (n > EMAIL_MAX || n + 1 > outlen)
        return false;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)to_lower((unsigned char)in[start + i]);
    out[n] = '\0';
    if (!valid_email(out)) {
        out[0] = '\0';
        return false;
    }
    return true;
}

/* The outward code: A9, A99, AA9, AA99, A9A or AA9A. The letters Q, V and X
 * never start a postcode and I, J and Z are never second. */
static bool valid_outward(const unsigned char *s, size_t n)
{
    if (n < 2 || n > 4 || !is_upper(s[0]) || strchr("QVX", s[0]))
        return false;
    size_t i = 1;
    if (is_upper(s[i])) {
        if (strchr("IJZ", s[i]))
            return false;
        i++;
    }
    if (i >= n || !is_digit(s[i]))
        return false;
    i++;
    if (i == n)
        return true;
    if (i + 1 != n)
        return false;
    return is_digit(s[i]) || is_upper(s[i]);
}

/* The inward code: a digit and two letters, never C, I, K, M, O or V. */
static bool valid_inward(const unsigned char *s)
{
    return is_digit(s[0]) && is_upper(s[1]) && is_upper(s[2]) && !strchr("CIKMOV", s[1]) &&
           !strchr("CIKMOV", s[2]);
}

bool postcode_normalise(const char *in, char *out, size_t outlen)
{
    unsigned char pc[8];
    size_t n = 0;

    if (outlen == 0)
        return false;
    out[0] = '\0';
    if (!in)
        return false;
    for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
        if (is_space(*p))
            continue;
        if (n == sizeof(pc))
            return false;
        pc[n++] = to_upper(*p);
    }
    if (n < 5 || n > 7)
        return false;
    size_t out_n = n - 3;
    /* GIR 0AA is the one postcode outside the pattern. */
    bool girobank = n == 6 && memcmp(pc, "GIR0AA", 6) == 0;
    if (!girobank && !(valid_outward(pc, out_n) && valid_inward(pc + out_n)))
        return false;
    if (n + 2 > outlen)
        return false;
    memcpy(out, pc, out_n);
    out[out_n] = ' ';
    memcpy(out + out_n + 1, pc + out_n, 3);
    out[n + 1] = '\0';
    return true;
}

static bool is_leap(long long y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(long long y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * algorithm: years counted from March so the leap day falls last). */
static long long days_from_civil(long long y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(long long z, long long *y, int *m, int *d)
{
    z += 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    long long doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* Reads exactly `n` digits at *p and advances past them. */
static bool read_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        unsigned char c = (unsigned char)(*p)[i];
        if (!is_digit(c))
            return false;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static bool expect(const char **p, char c)
{
    if (**p != c)
        return false;
    (*p)++;
    return true;
}

bool parse_datetime(const char *s, long long *out)
{
    int year, month, day, hour = 0, minute = 0, second = 0;
    long long offset = 0;
    const char *p = s;

    *out = 0;
    if (!s)
        return false;
    if (!read_digits(&p, 4, &year) || !expect(&p, '-') || !read_digits(&p, 2, &month) ||
        !expect(&p, '-') || !read_digits(&p, 2, &day))
        return false;
    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month))
        return false;
    if (*p != '\0') {
        if (*p != 'T' && *p != 't')
            return false;
        p++;
        if (!read_digits(&p, 2, &hour) || !expect(&p, ':') || !read_digits(&p, 2, &minute) ||
            !expect(&p, ':') || !read_digits(&p, 2, &second))
            return false;
        /* Leap seconds (":60") are refused: epoch seconds cannot hold them. */
        if (hour > 23 || minute > 59 || second > 59)
            return false;
        if (*p == '.') {
            p++;
            if (!is_digit((unsigned char)*p))
                return false;
            while (is_digit((unsigned char)*p))
                p++;
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p == '-' ? -1 : 1;
            int oh, om;
            p++;
            if (!read_digits(&p, 2, &oh) || !expect(&p, ':') || !read_digits(&p, 2, &om))
                return false;
            if (oh > 23 || om > 59)
                return false;
            offset = sign * (oh * 3600LL + om * 60LL);
        } else {
            return false;
        }
        if (*p != '\0')
            return false;
    }
    long long t = days_from_civil(year, month, day) * SECONDS_PER_DAY + hour * 3600LL +
                  minute * 60LL + second - offset;
    if (t < DATETIME_MIN || t > DATETIME_MAX)
        return false;
    *out = t;
    return true;
}

/* Splits t into a day number and a second of that day, rounding towards
 * minus infinity so times before 1970 land on the right day. */
static void split_time(long long t, long long *days, long long *secs)
{
    *days = t / SECONDS_PER_DAY;
    *secs = t % SECONDS_PER_DAY;
    if (*secs < 0) {
        *secs += SECONDS_PER_DAY;
        (*days)--;
    }
}

/* Writes n decimal digits of v, zero-padded. */
static char *put_digits(char *p, long long v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + n;
}

/* Copies len bytes of text into out, truncating to fit, NUL-terminated. */
static void copy_out(char *out, size_t outlen, const char *text, size_t len)
{
    size_t n = outlen - 1 < len ? outlen - 1 : len;
    memcpy(out, text, n);
    out[n] = '\0';
}

/* "YYYY-MM-DD" (10 bytes, no NUL) for years 0..9999; false otherwise. */
static bool put_date(char *p, long long days)
{
    long long y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999)
        return false;
    p = put_digits(p, y, 4);
    *p++ = '-';
    p = put_digits(p, m, 2);
    *p++ = '-';
    put_digits(p, d, 2);
    return true;
}

/* Formatting is on every response's hot path, hence digits by hand rather
 * than snprintf; years outside 0..9999 fall back to snprintf. */
void format_datetime(long long t, char *out, size_t outlen)
{
    long long days, secs;
    char text[20];

    if (outlen == 0)
        return;
    split_time(t, &days, &secs);
    if (!put_date(text, days)) {
        long long y;
        int m, d;
        civil_from_days(days, &y, &m, &d);
        snprintf(out, outlen, "%04lld-%02d-%02dT%02lld:%02lld:%02lldZ", y, m, d, secs / 3600,
                 secs / 60 % 60, secs % 60);
        return;
    }
    char *p = text + 10;
    *p++ = 'T';
    p = put_digits(p, secs / 3600, 2);
    *p++ = ':';
    p = put_digits(p, secs / 60 % 60, 2);
    *p++ = ':';
    p = put_digits(p, secs % 60, 2);
    *p++ = 'Z';
    copy_out(out, outlen, text, (size_t)(p - text));
}

void format_date(long long t, char *out, size_t outlen)
{
    long long days, secs;
    char text[10];

    if (outlen == 0)
        return;
    split_time(t, &days, &secs);
    if (!put_date(text, days)) {
        long long y;
        int m, d;
        civil_from_days(days, &y, &m, &d);
        snprintf(out, outlen, "%04lld-%02d-%02d", y, m, d);
        return;
    }
    copy_out(out, outlen, text, 10);
}

bool parse_decimal(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t n = 0;
    size_t len = strlen(s);
    *out = 0;
    if (len == 0 || len > 20 || (s[0] == '0' && len > 1))
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (d > 9 || n > (UINT64_MAX - d) / 10)
            return false;
        n = n * 10 + d;
    }
    if (n > max)
        return false;
    *out = n;
    return true;
}
