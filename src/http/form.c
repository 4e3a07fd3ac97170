/* form.c - decoding application/x-www-form-urlencoded data; see form.h.
 *
 * Pairs are separated by '&' and split at their first '='; a pair without
 * '=' is a key with an empty value, and empty pairs ("a=1&&b=2") are skipped
 * as browsers produce them. A decoded NUL in a key is refused because keys
 * are compared as C strings.
 */
#include "http/form.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

static int form_hex(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes `len` bytes of `s` into a new NUL-terminated arena string and its
 * decoded length. NULL when an escape is malformed or memory runs out. */
static char *form_decode(arena *a, const char *s, size_t len, size_t *out_len)
{
    char *out = arena_alloc(a, len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '+') {
            out[o++] = ' ';
        } else if (c == '%') {
            if (len - i < 3)
                return NULL;
            int hi = form_hex((unsigned char)s[i + 1]);
            int lo = form_hex((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0)
                return NULL;
            out[o++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

int form_parse(arena *a, const char *data, size_t len, form *out)
{
    size_t pos = 0;

    out->n = 0;
    while (pos < len) {
        const char *pair = data + pos;
        const char *amp = memchr(pair, '&', len - pos);
        size_t pair_len = amp ? (size_t)(amp - pair) : len - pos;
        pos += pair_len + 1;
        if (pair_len == 0)
            continue;
        if (out->n == FORM_MAX_FIELDS)
            goto fail;

        const char *eq = memchr(pair, '=', pair_len);
        size_t key_len = eq ? (size_t)(eq - pair) : pair_len;
        size_t key_decoded, value_len = 0;
        char *key = form_decode(a, pair, key_len, &key_decoded);
        char *value = eq ? form_decode(a, eq + 1, pair_len - key_len - 1, &value_len)
                         : arena_strndup(a, "", 0);
        if (!key || !value || strlen(key) != key_decoded)
            goto fail;
        out->fields[out->n].key = key;
        out->fields[out->n].value = value;
        out->fields[out->n].value_len = value_len;
        out->n++;
    }
    return 0;

fail:
    out->n = 0;
    return -1;
}

#define BOUNDARY_MAX 70

/* The boundary parameter of a multipart Content-Type, quoted or not. */
static bool form_boundary(const char *ct, char out[BOUNDARY_MAX + 1])
{
    const char *p = ct;
    while ((p = strchr(p, ';')) != NULL) {
        p++;
        p += strspn(p, " \t");
        if (strncasecmp(p, "boundary=", 9) != 0)
            continue;
        p += 9;
        bool quoted = *p == '"';
        p += quoted;
        size_t n = quoted ? strcspn(p, "\"") : strcspn(p, " \t;");
        if (n == 0 || n > BOUNDARY_MAX || (quoted && p[n] != '"'))
            return false;
        memcpy(out, p, n);
        out[n] = '\0';
        return true;
    }
    return false;
}

/* The value of parameter `name` in a Content-Disposition header's value
 * (between hdr and end), copied into the arena; NULL when absent. *bad is
 * set when it is malformed. */
static const char *form_disposition_param(arena *a, const char *hdr, const char *end,
                                          const char *name, bool *bad)
{
    size_t name_len = strlen(name);
    const char *p = hdr;
    while (p < end) {
        const char *semi = memchr(p, ';', (size_t)(end - p));
        if (!semi)
            return NULL;
        p = semi + 1;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if ((size_t)(end - p) <= name_len || strncasecmp(p, name, name_len) != 0 ||
            p[name_len] != '=')
            continue;
        p += name_len + 1;
        if (p < end && *p == '"') {
            const char *close = memchr(p + 1, '"', (size_t)(end - p - 1));
            if (!close) {
                *bad = true;
                return NULL;
            }
            return arena_strndup(a, p + 1, (size_t)(close - p - 1));
        }
        const char *stop = p;
        while (stop < end && *stop != ';' && *stop != ' ' && *stop != '\t')
            stop++;
        return arena_strndup(a, p, (size_t)(stop - p));
    }
    return NULL;
}

/* Skips one line break (CRLF or LF) at *p; false when there is none. */
static bool form_newline(const char **p, const char *end)
{
    if (*p < end && **p == '\n') {
        (*p)++;
        return true;
    }
    if (end - *p >= 2 && (*p)[0] == '\r' && (*p)[1] == '\n') {
        *p += 2;
        return true;
    }
    return false;
}

/* Reads a part's headers up to the blank line, keeping the field name and
 * whether it is a file. */
static bool form_part_headers(arena *a, const char **p, const char *end, const char **name,
                              bool *is_file)
{
    *name = NULL;
    *is_file = false;
    while (*p < end) {
        const char *line = *p;
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        if (!nl)
            return false;
        const char *line_end = nl > line && nl[-1] == '\r' ? nl - 1 : nl;
        *p = nl + 1;
        if (line_end == line)
            return *name != NULL;
        static const char cd[] = "Content-Disposition:";
        if ((size_t)(line_end - line) < sizeof(cd) - 1 ||
            strncasecmp(line, cd, sizeof(cd) - 1) != 0)
            continue;
        bool bad = false;
        *name = form_disposition_param(a, line, line_end, "name", &bad);
        *is_file = form_disposition_param(a, line, line_end, "filename", &bad) != NULL;
        if (bad || (*name && (**name == '\0' || strlen(*name) > 200)))
            return false;
    }
    return false;
}

int form_parse_multipart(arena *a, const char *content_type, const char *data, size_t len,
                         form *out)
{
    char boundary[BOUNDARY_MAX + 1], delim[BOUNDARY_MAX + 5];
    const char *end = data + len;
    out->n = 0;
    if (!content_type || !form_boundary(content_type, boundary))
        goto fail;
    size_t blen = strlen(boundary);
    /* Each part ends where a line break and "--boundary" begin. */
    delim[0] = '\n';
    delim[1] = delim[2] = '-';
    memcpy(delim + 3, boundary, blen);
    size_t dlen = blen + 3;

    const char *p;
    if (len >= dlen - 1 && memcmp(data, delim + 1, dlen - 1) == 0) {
        p = data + dlen - 1;
    } else {
        const char *first = memmem(data, len, delim, dlen);
        if (!first)
            goto fail;
        p = first + dlen;
    }
    for (;;) {
        if (end - p >= 2 && p[0] == '-' && p[1] == '-')
            return 0;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (!form_newline(&p, end))
            goto fail;
        const char *name;
        bool is_file;
        if (!form_part_headers(a, &p, end, &name, &is_file))
            goto fail;
        const char *next = memmem(p, (size_t)(end - p), delim, dlen);
        if (!next)
            goto fail;
        const char *value_end = next > p && next[-1] == '\r' ? next - 1 : next;
        if (!is_file) {
            if (out->n == FORM_MAX_FIELDS)
                goto fail;
            size_t vlen = (size_t)(value_end - p);
            char *value = arena_strndup(a, p, vlen);
            if (!value)
                goto fail;
            out->fields[out->n].key = name;
            out->fields[out->n].value = value;
            out->fields[out->n].value_len = vlen;
            out->n++;
        }
        p = next + dlen;
    }

fail:
    out->n = 0;
    return -1;
}

const char *form_get(const form *f, const char *key)
{
    for (size_t i = 0; i < f->n; i++) {
        if (strcmp(f->fields[i].key, key) == 0)
            return f->fields[i].value;
    }
    return NULL;
}
