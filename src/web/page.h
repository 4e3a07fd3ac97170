/* page.h - the frame every public page shares, and its GOV.UK pieces.
 *
 * A page is written straight into the response: page_begin, then the pieces
 * below in reading order, then page_end. The frame is GOV.UK Frontend's page
 * template (skip link, a header naming the service, the main wrapper, a
 * footer with the licence line); the pieces are its patterns (error summary,
 * form fields with inline errors, summary list, table, panel, notification
 * banner) and a timeline of our own.
 *
 * Every string a caller passes is text, never markup: it is escaped here,
 * through buf_put_html alone. Ids and names are written escaped too. Pages
 * work without JavaScript; with it, GOV.UK Frontend's components start. The
 * Content-Security-Policy allows scripts from this server only (and the one
 * inline line of the GOV.UK template, by its hash).
 */
#ifndef OC_PAGE_H
#define OC_PAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/http.h"

/* The public services, each named in the header when a page belongs to it;
 * the header lists them all once there is more than one. */
typedef enum {
    PAGE_TRACKING, /* "Track your case", at /track */
    PAGE_APPEALS,  /* "Appeals for witnesses", at /appeals */
    PAGE_SECTIONS
} page_section;

typedef struct page_opts {
    page_section section;
    /* The page reports errors: its title starts "Error: ", as GOV.UK asks. */
    bool error;
    /* More asset paths (see web/assets.h), NULL-terminated, or NULL: a .css
     * is linked, a .js runs deferred and an .mjs as a module, in order. */
    const char *const *assets;
    /* More sources for images, such as a map's tile server
     * ("https://tile.example.org"), or NULL. Ignored unless it is one plain
     * source without spaces, commas, semicolons or quotes. */
    const char *img_src;
    /* Images from data: URLs too: Leaflet blanks the tiles it removes with
     * one. */
    bool img_data;
} page_opts;

/* Starts a page titled "`title` - <service>" (NULL opts: the tracking
 * service, no errors). Sets the page's headers; the status comes at the end. */
void page_begin(http_req *req, http_res *res, const char *title, const page_opts *opts);
/* Closes the page and sets its status. */
void page_end(http_res *res, int status);

/* A whole "Sorry, there is a problem with the service" page (503), replacing
 * whatever had been written. */
void page_unavailable(http_req *req, http_res *res);

/* Escaped text, for callers writing their own markup around it. */
void page_text(http_res *res, const char *text);

/* The page's <h1>, with a caption above it when `caption` is not NULL. */
void page_heading(http_res *res, const char *caption, const char *text);
/* A section's <h2>, with an id to link to when `id` is not NULL. */
void page_heading_m(http_res *res, const char *id, const char *text);
void page_paragraph(http_res *res, const char *text);

/* Dates as GOV.UK writes them: "16 November 2026" (UTC). */
#define PAGE_DATE_MAX 32
void page_date(int64_t t, char out[PAGE_DATE_MAX]);

/* One problem with the form: its message, and the id of the field it is
 * about (the summary links there; the field shows the message too). */
typedef struct page_error {
    const char *field;
    const char *message;
} page_error;

/* The error summary at the top of the main content; nothing when n is 0. */
void page_error_summary(http_res *res, const page_error *errors, size_t n);

/* A field: the form group, label, hint and inline error around an input.
 * `id` is both the id and the name. */
typedef struct page_field {
    const char *id;
    const char *label;
    const char *hint;         /* or NULL */
    const char *value;        /* or NULL */
    const char *error;        /* the inline error message, or NULL */
    const char *type;         /* input type; NULL for "text" */
    const char *autocomplete; /* NULL for "off" */
    const char *width;        /* a width class such as "govuk-input--width-20", or NULL */
    bool no_spellcheck;
    unsigned rows;      /* textareas */
    unsigned maxlength; /* textareas: counted as the citizen types; 0 for no limit */
} page_field;

void page_input(http_res *res, const page_field *f);
void page_textarea(http_res *res, const page_field *f);

/* Radios in a fieldset whose legend is f->label; the one whose value is
 * f->value is checked. The first radio's id is f->id, where errors link. */
typedef struct page_choice {
    const char *value;
    const char *label;
} page_choice;
void page_radios(http_res *res, const page_field *f, const page_choice *choices, size_t n,
                 bool inline_);
/* Checkboxes, all named f->id; checked[i] ticks choices[i]. */
void page_checkboxes(http_res *res, const page_field *f, const page_choice *choices, size_t n,
                     const bool *checked);

/* <form method="post" action=`action` novalidate> ... </form> */
void page_form_begin(http_res *res, const char *action);
void page_form_end(http_res *res);
void page_hidden(http_res *res, const char *name, const char *value);
void page_button(http_res *res, const char *text);

/* The summary list: key and value pairs. */
void page_summary_begin(http_res *res);
void page_summary_row(http_res *res, const char *key, const char *value);
void page_summary_end(http_res *res);

/* A table with a caption and a header row of n columns. */
void page_table_begin(http_res *res, const char *caption, const char *const *headers, size_t n);
void page_table_row(http_res *res, const char *const *cells, size_t n);
void page_table_end(http_res *res);

/* A timeline, in the order the caller gives (newest first, by convention);
 * each item has a title, a date, an optional aside shown after the date and an
 * optional description. */
void page_timeline_begin(http_res *res);
void page_timeline_item(http_res *res, const char *title, int64_t at, const char *aside,
                        const char *description);
void page_timeline_end(http_res *res);

/* The confirmation panel that ends a transaction; `body` may be NULL. */
void page_panel(http_res *res, const char *title, const char *body);
/* A green banner saying an action on this page worked ("Message sent"). */
void page_success_banner(http_res *res, const char *heading);

#endif
