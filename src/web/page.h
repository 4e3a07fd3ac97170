/* page.h - the frame every public page shares, and safe HTML output.
 *
 * Pages are written into the response buffer; every value that did not come
 * from this file's own literals goes through buf_put_html. Pages need no
 * JavaScript and carry a strict Content-Security-Policy.
 */
#ifndef OC_PAGE_H
#define OC_PAGE_H

#include "http/http.h"

/* Starts a page: doctype, head with `title`, header and the main element. */
void page_begin(http_res *res, const char *title);
/* Closes the page and sets the status and headers. */
void page_end(http_res *res, int status);

/* <h1>, <p> and other small pieces, escaping `text`. */
void page_heading(http_res *res, const char *text);
void page_paragraph(http_res *res, const char *text);

/* The error summary pattern: a titled box listing one message linked to `field_id`. */
void page_error_summary(http_res *res, const char *message, const char *field_id);

#endif
