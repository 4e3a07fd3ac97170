/* open311_render.c - writing Open311 trees as XML or JSON; see
 * open311_render.h. */
#include "api/open311_render.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libxml/xmlwriter.h>

#include "api/json.h"

/* The element of each item of a nested list, by the list's name. */
static const char *const item_names[][2] = {
    {"attributes", "attribute"},
    {"values", "value"},
    {"groups", "group"},
    {"endpoints", "endpoint"},
    {"formats", "format"},
    {"errors", "error"},
    {"service_requests", "request"},
    {"service_requests_updates", "request_update"},
};

static const char *item_name(const char *list)
{
    for (size_t i = 0; i < sizeof(item_names) / sizeof(item_names[0]); i++)
        if (strcmp(item_names[i][0], list) == 0)
            return item_names[i][1];
    return "item";
}

static int write_value(xmlTextWriterPtr w, const char *name, const json_t *v);

/* The members of an object as child elements, in order. */
static int write_members(xmlTextWriterPtr w, const json_t *obj)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        if (write_value(w, key, v) < 0)
            return -1;
    }
    return 0;
}

static int write_items(xmlTextWriterPtr w, const json_t *arr, const char *item)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (write_value(w, item, v) < 0)
            return -1;
    }
    return 0;
}

static int write_value(xmlTextWriterPtr w, const char *name, const json_t *v)
{
    char text[64];
    const char *s = NULL;
    if (xmlTextWriterStartElement(w, BAD_CAST name) < 0)
        return -1;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        if (write_members(w, v) < 0)
            return -1;
        break;
    case JSON_ARRAY:
        if (write_items(w, v, item_name(name)) < 0)
            return -1;
        break;
    case JSON_STRING:
        s = json_string_value(v);
        break;
    case JSON_INTEGER:
        snprintf(text, sizeof(text), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        s = text;
        break;
    case JSON_REAL:
        snprintf(text, sizeof(text), "%.15g", json_real_value(v));
        s = text;
        break;
    case JSON_TRUE:
        s = "true";
        break;
    case JSON_FALSE:
        s = "false";
        break;
    case JSON_NULL:
        break;
    }
    if (s && xmlTextWriterWriteString(w, BAD_CAST s) < 0)
        return -1;
    /* FullEndElement: an empty value reads <a></a>, as the spec's examples. */
    return xmlTextWriterFullEndElement(w);
}

/* libxml2's output callback: straight into the response body. */
static int append_to_body(void *ctx, const char *data, int len)
{
    return len >= 0 && buf_append(ctx, data, (size_t)len) ? len : -1;
}

static int write_xml(http_res *res, const json_t *body, const char *root, const char *item)
{
    int rc = -1;
    /* The declaration is written here because libxml2 would spell the
     * encoding in capitals, and clients compare it as the spec writes it. */
    if (!buf_puts(&res->body, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"))
        return -1;
    xmlOutputBufferPtr out = xmlOutputBufferCreateIO(append_to_body, NULL, &res->body, NULL);
    xmlTextWriterPtr w = out ? xmlNewTextWriter(out) : NULL;
    if (!w) {
        if (out)
            xmlOutputBufferClose(out);
        return -1;
    }
    if (xmlTextWriterStartElement(w, BAD_CAST root) >= 0 &&
        (json_is_array(body) ? write_items(w, body, item) : write_members(w, body)) >= 0 &&
        xmlTextWriterFullEndElement(w) >= 0 && xmlTextWriterFlush(w) >= 0)
        rc = 0;
    /* Frees the output buffer too. */
    xmlFreeTextWriter(w);
    return rc == 0 && !res->body.failed ? 0 : -1;
}

void o311_render(http_res *res, bool xml, int status, json_t *body, const char *root,
                 const char *item)
{
    if (!body) {
        api_error(res, 500, "internal", NULL, "out of memory");
        return;
    }
    if (!xml) {
        api_send(res, status, body);
        return;
    }
    buf_reset(&res->body);
    if (write_xml(res, body, root, item) != 0) {
        buf_reset(&res->body);
        json_decref(body);
        api_error(res, 500, "internal", NULL, "the response could not be written");
        return;
    }
    json_decref(body);
    res->status = status;
    res->content_type = "text/xml; charset=utf-8";
}

void o311_error(http_res *res, bool xml, int status, const char *fmt, ...)
{
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    o311_render(res, xml, status, json_pack("[{s:i, s:s}]", "code", status, "description", message),
                "errors", "error");
}
