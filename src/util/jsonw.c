/* jsonw.c - streaming JSON writer; see jsonw.h. */
#include "util/jsonw.h"

#include <stdio.h>
#include <string.h>

void jw_init(jsonw *w, buf *b)
{
    memset(w, 0, sizeof(*w));
    w->b = b;
}

/* Writes the comma that separates this value from the previous one. */
static void value_start(jsonw *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->depth > 0) {
        if (w->has_items[w->depth - 1])
            buf_putc(w->b, ',');
        w->has_items[w->depth - 1] = true;
    }
}

static void begin_container(jsonw *w, char c)
{
    value_start(w);
    if (w->depth >= JSONW_MAX_DEPTH) {
        w->b->failed = true;
        return;
    }
    w->has_items[w->depth++] = false;
    buf_putc(w->b, c);
}

static void end_container(jsonw *w, char c)
{
    if (w->depth == 0 || w->after_key) {
        w->b->failed = true;
        return;
    }
    w->depth--;
    buf_putc(w->b, c);
}

void jw_object_begin(jsonw *w)
{
    begin_container(w, '{');
}

void jw_object_end(jsonw *w)
{
    end_container(w, '}');
}

void jw_array_begin(jsonw *w)
{
    begin_container(w, '[');
}

void jw_array_end(jsonw *w)
{
    end_container(w, ']');
}

static void put_escaped(buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    buf_putc(b, '"');
    const char *run = s;
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        buf_append(b, run, (size_t)(p - run));
        run = p + 1;
        switch (c) {
        case '"':
            buf_append(b, "\\\"", 2);
            break;
        case '\\':
            buf_append(b, "\\\\", 2);
            break;
        case '\n':
            buf_append(b, "\\n", 2);
            break;
        case '\r':
            buf_append(b, "\\r", 2);
            break;
        case '\t':
            buf_append(b, "\\t", 2);
            break;
        default: {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            buf_append(b, u, sizeof(u));
        }
        }
    }
    buf_puts(b, run);
    buf_putc(b, '"');
}

void jw_key(jsonw *w, const char *key)
{
    value_start(w);
    put_escaped(w->b, key);
    buf_putc(w->b, ':');
    w->after_key = true;
}

void jw_string(jsonw *w, const char *s)
{
    if (!s) {
        jw_null(w);
        return;
    }
    value_start(w);
    put_escaped(w->b, s);
}

void jw_int(jsonw *w, long long n)
{
    char tmp[24];
    int len = snprintf(tmp, sizeof(tmp), "%lld", n);
    value_start(w);
    buf_append(w->b, tmp, (size_t)len);
}

void jw_bool(jsonw *w, bool v)
{
    value_start(w);
    buf_puts(w->b, v ? "true" : "false");
}

void jw_number(jsonw *w, const char *literal)
{
    value_start(w);
    buf_puts(w->b, literal);
}

void jw_null(jsonw *w)
{
    value_start(w);
    buf_puts(w->b, "null");
}

bool jw_finish(jsonw *w)
{
    return w->depth == 0 && !w->after_key && !w->b->failed;
}
