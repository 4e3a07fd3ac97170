/* open311_render.h - Open311 responses in XML and JSON from one tree.
 *
 * A handler builds the response once, as a jansson tree in the shape of the
 * spec's JSON (lists are bare arrays), and this module writes it either as
 * that JSON or as the spec's XML through libxml2's writer: an array becomes
 * an element per item inside the document element (`services` holding
 * `service`s), an object's members become child elements in order, a nested
 * array becomes a wrapper element holding one element per item (attributes
 * hold `attribute`s, values `value`s, groups `group`s), null an empty
 * element, true and false their names.
 */
#ifndef OC_OPEN311_RENDER_H
#define OC_OPEN311_RENDER_H

#include <jansson.h>
#include <stdbool.h>

#include "http/http.h"

/* Writes `body` (the reference is consumed) as the response with `status`:
 * as XML (text/xml; charset=utf-8) whose document element is `root` and, when
 * body is an array, each item an `item` element; or as JSON. */
void o311_render(http_res *res, bool xml, int status, json_t *body, const char *root,
                 const char *item);

/* An Open311 error: <errors><error><code/><description/></error></errors>,
 * or [{"code", "description"}], where code is the HTTP status. */
void o311_error(http_res *res, bool xml, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
