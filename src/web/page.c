/* page.c - the public pages' frame and GOV.UK pieces; see page.h.
 *
 * The markup follows GOV.UK Frontend 5's templates so that its stylesheet
 * and scripts apply unchanged. Literal markup is written with buf_puts; every
 * value from a caller goes through buf_put_html, the one escaper.
 */
#include "web/page.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "web/assets.h"

static const struct {
    const char *name;
    const char *href;
} sections[PAGE_SECTIONS] = {
    [PAGE_TRACKING] = {"Track your case", "/track"},
    [PAGE_APPEALS] = {"Appeals for witnesses", "/appeals"},
};

/* The GOV.UK template's first line in the body, which lets the stylesheet
 * know that scripts run; the policy below allows it by its SHA-256. */
#define JS_ENABLED                                                                                 \
    "document.body.className += ' js-enabled' + ('noModule' in HTMLScriptElement.prototype ? ' "   \
    "govuk-frontend-supported' : '');"
#define JS_ENABLED_HASH "'sha256-GUQ5ad8JK5KmEWmROf3LZd9ge94daqNvd8xy9YS1iDw='"

#define CSP_BEFORE_IMG                                                                             \
    "default-src 'self'; script-src 'self' " JS_ENABLED_HASH "; object-src 'none'; "               \
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'; img-src 'self'"

/* The Open Government Licence's logo, from GOV.UK Frontend's footer. */
#define OGL_LOGO                                                                                   \
    "<svg aria-hidden=\"true\" focusable=\"false\" class=\"govuk-footer__licence-logo\" "          \
    "xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 483.2 195.7\" height=\"17\" "              \
    "width=\"41\"><path fill=\"currentColor\" d=\"M421.5 142.8V.1l-50.7 32.3v161.1h112.4v-50.7z"   \
    "m-122.3-9.6A47.12 47.12 0 0 1 221 97.8c0-26 21.1-47.1 47.1-47.1 16.7 0 31.4 8.7 39.7 21.8l4"  \
    "2.7-27.2A97.63 97.63 0 0 0 268.1 0c-36.5 0-68.3 20.1-85.1 49.7A98 98 0 0 0 97.8 0C43.9 0 0 "  \
    "43.9 0 97.8s43.9 97.8 97.8 97.8c36.5 0 68.3-20.1 85.1-49.7a97.76 97.76 0 0 0 149.6 25.4l19."  \
    "4 22.2h3v-87.8h-80l24.3 27.5zM97.8 145c-26 0-47.1-21.1-47.1-47.1s21.1-47.1 47.1-47.1 47.2 2"  \
    "1 47.2 47S123.8 145 97.8 145\"/></svg>"

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* A policy source from configuration, refused if it could end the
 * directive or start another. */
static bool plain_source(const char *s)
{
    if (!s || !*s)
        return false;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == ';' || *p == ',' || *p == '\'' || *p == '"' ||
            (unsigned char)*p >= 0x7f)
            return false;
    return true;
}

static void asset_tag(buf *b, const char *path)
{
    if (ends_with(path, ".css"))
        buf_puts(b, "<link rel=\"stylesheet\" href=\"");
    else if (ends_with(path, ".mjs"))
        buf_puts(b, "<script type=\"module\" src=\"");
    else
        buf_puts(b, "<script defer src=\"");
    buf_put_html(b, asset_url(path));
    buf_puts(b, ends_with(path, ".css") ? "\">" : "\"></script>");
}

static void header(buf *b, page_section current)
{
    buf_puts(b, "<header class=\"govuk-service-navigation app-header\" "
                "data-module=\"govuk-service-navigation\"><div class=\"govuk-width-container\">"
                "<div class=\"govuk-service-navigation__container\">"
                "<span class=\"govuk-service-navigation__service-name\"><a href=\"");
    buf_put_html(b, sections[current].href);
    buf_puts(b, "\" class=\"govuk-service-navigation__link\">");
    buf_put_html(b, sections[current].name);
    buf_puts(b, "</a></span>");
    if (PAGE_SECTIONS > 1) {
        buf_puts(b,
                 "<nav aria-label=\"Menu\" class=\"govuk-service-navigation__wrapper\">"
                 "<button type=\"button\" class=\"govuk-service-navigation__toggle "
                 "govuk-js-service-navigation-toggle\" aria-controls=\"navigation\" hidden "
                 "aria-hidden=\"true\">Menu</button><ul class=\"govuk-service-navigation__list\" "
                 "id=\"navigation\">");
        for (int i = 0; i < PAGE_SECTIONS; i++) {
            bool here = i == (int)current;
            buf_puts(b, here ? "<li class=\"govuk-service-navigation__item "
                               "govuk-service-navigation__item--active\">"
                             : "<li class=\"govuk-service-navigation__item\">");
            buf_puts(b, "<a class=\"govuk-service-navigation__link\" href=\"");
            buf_put_html(b, sections[i].href);
            buf_puts(b, here ? "\" aria-current=\"true\"><strong "
                               "class=\"govuk-service-navigation__active-fallback\">"
                             : "\">");
            buf_put_html(b, sections[i].name);
            buf_puts(b, here ? "</strong></a></li>" : "</a></li>");
        }
        buf_puts(b, "</ul></nav>");
    }
    buf_puts(b, "</div></div></header>");
}

void page_begin(http_req *req, http_res *res, const char *title, const page_opts *opts)
{
    static const page_opts defaults = {.section = PAGE_TRACKING};
    buf *b = &res->body;
    if (!opts)
        opts = &defaults;
    page_section section = opts->section < PAGE_SECTIONS ? opts->section : PAGE_TRACKING;

    buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\" class=\"govuk-template\"><head>"
                "<meta charset=\"utf-8\"><title>");
    if (opts->error)
        buf_puts(b, "Error: ");
    buf_put_html(b, title);
    if (strcmp(title, sections[section].name) != 0) {
        buf_puts(b, " - ");
        buf_put_html(b, sections[section].name);
    }
    buf_puts(b, "</title><meta name=\"viewport\" content=\"width=device-width, initial-scale=1, "
                "viewport-fit=cover\"><meta name=\"theme-color\" content=\"#0b0c0c\">"
                "<link rel=\"icon\" type=\"image/svg+xml\" href=\"");
    buf_put_html(b, asset_url("/assets/images/favicon.svg"));
    buf_puts(b, "\">");
    asset_tag(b, "/assets/opencase.css");
    for (const char *const *a = opts->assets; a && *a; a++)
        if (ends_with(*a, ".css"))
            asset_tag(b, *a);
    asset_tag(b, "/assets/opencase.mjs");
    for (const char *const *a = opts->assets; a && *a; a++)
        if (!ends_with(*a, ".css"))
            asset_tag(b, *a);
    buf_puts(b, "</head><body class=\"govuk-template__body\"><script>" JS_ENABLED "</script>"
                "<a href=\"#main-content\" class=\"govuk-skip-link\" "
                "data-module=\"govuk-skip-link\">Skip to main content</a>");
    header(b, section);
    buf_puts(b, "<div class=\"govuk-width-container\"><main class=\"govuk-main-wrapper\" "
                "id=\"main-content\">");

    const char *csp = CSP_BEFORE_IMG;
    if (plain_source(opts->img_src) || opts->img_data)
        csp = arena_printf(&req->a, "%s%s%s%s", CSP_BEFORE_IMG, opts->img_data ? " data:" : "",
                           plain_source(opts->img_src) ? " " : "",
                           plain_source(opts->img_src) ? opts->img_src : "");
    http_res_header(res, "Content-Security-Policy", csp ? csp : CSP_BEFORE_IMG);
    http_res_header(res, "Referrer-Policy", "no-referrer");
    http_res_header(res, "Cache-Control", "no-store");
}

void page_end(http_res *res, int status)
{
    buf_puts(&res->body,
             "</main></div><footer class=\"govuk-footer\"><div class=\"govuk-width-container\">"
             "<div class=\"govuk-footer__meta\"><div class=\"govuk-footer__meta-item "
             "govuk-footer__meta-item--grow\">" OGL_LOGO
             "<span class=\"govuk-footer__licence-description\">All content is available under "
             "the <a class=\"govuk-footer__link\" href=\"https://www.nationalarchives.gov.uk/doc/"
             "open-government-licence/version/3/\" rel=\"license\">Open Government Licence "
             "v3.0</a>, except where otherwise stated</span></div></div></div></footer>"
             "</body></html>\n");
    res->status = status;
    res->content_type = "text/html; charset=utf-8";
}

void page_unavailable(http_req *req, http_res *res)
{
    buf_reset(&res->body);
    res->n_headers = 0;
    page_begin(req, res, "Sorry, there is a problem with the service", NULL);
    page_heading(res, NULL, "Sorry, there is a problem with the service");
    page_paragraph(res, "Try again in a few minutes.");
    page_end(res, 503);
}

void page_text(http_res *res, const char *text)
{
    buf_put_html(&res->body, text);
}

void page_heading(http_res *res, const char *caption, const char *text)
{
    buf *b = &res->body;
    if (caption) {
        buf_puts(b, "<span class=\"govuk-caption-l\">");
        buf_put_html(b, caption);
        buf_puts(b, "</span>");
    }
    buf_puts(b, "<h1 class=\"govuk-heading-l\">");
    buf_put_html(b, text);
    buf_puts(b, "</h1>");
}

void page_heading_m(http_res *res, const char *id, const char *text)
{
    buf *b = &res->body;
    buf_puts(b, "<h2 class=\"govuk-heading-m\"");
    if (id) {
        buf_puts(b, " id=\"");
        buf_put_html(b, id);
        buf_puts(b, "\"");
    }
    buf_puts(b, ">");
    buf_put_html(b, text);
    buf_puts(b, "</h2>");
}

void page_paragraph(http_res *res, const char *text)
{
    buf_puts(&res->body, "<p class=\"govuk-body\">");
    buf_put_html(&res->body, text);
    buf_puts(&res->body, "</p>");
}

static const char *const month_names[] = {"January",   "February", "March",    "April",
                                          "May",       "June",     "July",     "August",
                                          "September", "October",  "November", "December"};

void page_date(int64_t t, char out[PAGE_DATE_MAX])
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm)) {
        snprintf(out, PAGE_DATE_MAX, "an unknown date");
        return;
    }
    snprintf(out, PAGE_DATE_MAX, "%d %s %d", tm.tm_mday, month_names[tm.tm_mon], tm.tm_year + 1900);
}

/* <time datetime="2026-11-16">16 November 2026</time> */
static void time_element(buf *b, int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    char date[PAGE_DATE_MAX];
    page_date(t, date);
    if (gmtime_r(&tt, &tm))
        buf_printf(b, "<time datetime=\"%04d-%02d-%02d\">", tm.tm_year + 1900, tm.tm_mon + 1,
                   tm.tm_mday);
    else
        buf_puts(b, "<time>");
    buf_put_html(b, date);
    buf_puts(b, "</time>");
}

void page_error_summary(http_res *res, const page_error *errors, size_t n)
{
    buf *b = &res->body;
    if (n == 0)
        return;
    buf_puts(b, "<div class=\"govuk-error-summary\" data-module=\"govuk-error-summary\">"
                "<div role=\"alert\"><h2 class=\"govuk-error-summary__title\">There is a problem"
                "</h2><div class=\"govuk-error-summary__body\"><ul class=\"govuk-list "
                "govuk-error-summary__list\">");
    for (size_t i = 0; i < n; i++) {
        buf_puts(b, "<li><a href=\"#");
        buf_put_html(b, errors[i].field);
        buf_puts(b, "\">");
        buf_put_html(b, errors[i].message);
        buf_puts(b, "</a></li>");
    }
    buf_puts(b, "</ul></div></div></div>");
}

/* The hint and the inline error of a field, and the aria-describedby that
 * ties them to its input; `group_class` is the form group's extra classes. */
static void field_start(buf *b, const page_field *f, const char *group_class,
                        const char *group_attrs)
{
    buf_puts(b, "<div class=\"govuk-form-group");
    if (f->error)
        buf_puts(b, " govuk-form-group--error");
    if (group_class)
        buf_puts(b, group_class);
    buf_puts(b, "\"");
    if (group_attrs)
        buf_puts(b, group_attrs);
    buf_puts(b, ">");
}

static void hint_and_error(buf *b, const page_field *f)
{
    if (f->hint) {
        buf_puts(b, "<div class=\"govuk-hint\" id=\"");
        buf_put_html(b, f->id);
        buf_puts(b, "-hint\">");
        buf_put_html(b, f->hint);
        buf_puts(b, "</div>");
    }
    if (f->error) {
        buf_puts(b, "<p class=\"govuk-error-message\" id=\"");
        buf_put_html(b, f->id);
        buf_puts(b, "-error\"><span class=\"govuk-visually-hidden\">Error:</span> ");
        buf_put_html(b, f->error);
        buf_puts(b, "</p>");
    }
}

/* aria-describedby="id-info id-hint id-error" with the parts that exist. */
static void described_by(buf *b, const page_field *f, bool info)
{
    if (!f->hint && !f->error && !info)
        return;
    buf_puts(b, " aria-describedby=\"");
    const char *sep = "";
    if (info) {
        buf_put_html(b, f->id);
        buf_puts(b, "-info");
        sep = " ";
    }
    if (f->hint) {
        buf_puts(b, sep);
        buf_put_html(b, f->id);
        buf_puts(b, "-hint");
        sep = " ";
    }
    if (f->error) {
        buf_puts(b, sep);
        buf_put_html(b, f->id);
        buf_puts(b, "-error");
    }
    buf_puts(b, "\"");
}

static void label(buf *b, const page_field *f)
{
    buf_puts(b, "<label class=\"govuk-label\" for=\"");
    buf_put_html(b, f->id);
    buf_puts(b, "\">");
    buf_put_html(b, f->label);
    buf_puts(b, "</label>");
}

static void id_and_name(buf *b, const page_field *f)
{
    buf_puts(b, " id=\"");
    buf_put_html(b, f->id);
    buf_puts(b, "\" name=\"");
    buf_put_html(b, f->id);
    buf_puts(b, "\"");
}

void page_input(http_res *res, const page_field *f)
{
    buf *b = &res->body;
    field_start(b, f, NULL, NULL);
    label(b, f);
    hint_and_error(b, f);
    buf_puts(b, "<input class=\"govuk-input");
    if (f->width) {
        buf_puts(b, " ");
        buf_put_html(b, f->width);
    }
    if (f->error)
        buf_puts(b, " govuk-input--error");
    buf_puts(b, "\"");
    id_and_name(b, f);
    buf_puts(b, " type=\"");
    buf_put_html(b, f->type ? f->type : "text");
    buf_puts(b, "\" autocomplete=\"");
    buf_put_html(b, f->autocomplete ? f->autocomplete : "off");
    buf_puts(b, "\"");
    if (f->no_spellcheck)
        buf_puts(b, " spellcheck=\"false\"");
    described_by(b, f, false);
    if (f->value) {
        buf_puts(b, " value=\"");
        buf_put_html(b, f->value);
        buf_puts(b, "\"");
    }
    buf_puts(b, "></div>");
}

void page_textarea(http_res *res, const page_field *f)
{
    buf *b = &res->body;
    bool counted = f->maxlength > 0;
    char attrs[64];
    snprintf(attrs, sizeof(attrs), " data-module=\"govuk-character-count\" data-maxlength=\"%u\"",
             f->maxlength);
    field_start(b, f, counted ? " govuk-character-count" : NULL, counted ? attrs : NULL);
    label(b, f);
    hint_and_error(b, f);
    buf_puts(b, "<textarea class=\"govuk-textarea");
    if (counted)
        buf_puts(b, " govuk-js-character-count");
    if (f->error)
        buf_puts(b, " govuk-textarea--error");
    buf_puts(b, "\"");
    id_and_name(b, f);
    buf_printf(b, " rows=\"%u\"", f->rows ? f->rows : 5);
    if (f->no_spellcheck)
        buf_puts(b, " spellcheck=\"false\"");
    described_by(b, f, counted);
    buf_puts(b, ">");
    buf_put_html(b, f->value);
    buf_puts(b, "</textarea>");
    if (counted) {
        /* What readers without scripts see; the component replaces it with
         * a live count. */
        buf_puts(b, "<div class=\"govuk-hint govuk-character-count__message\" id=\"");
        buf_put_html(b, f->id);
        buf_printf(b, "-info\">You can enter up to %u characters</div>", f->maxlength);
    }
    buf_puts(b, "</div>");
}

/* Radios or checkboxes (`kind`), GOV.UK's markup for both; checked[i], or
 * for radios the field's value, says which are ticked. */
static void choice_list(http_res *res, const page_field *f, const char *kind,
                        const page_choice *choices, size_t n, bool inline_, const bool *checked)
{
    buf *b = &res->body;
    field_start(b, f, NULL, NULL);
    buf_puts(b, "<fieldset class=\"govuk-fieldset\"");
    described_by(b, f, false);
    buf_puts(b, "><legend class=\"govuk-fieldset__legend govuk-fieldset__legend--s\">");
    buf_put_html(b, f->label);
    buf_puts(b, "</legend>");
    hint_and_error(b, f);
    buf_printf(b, "<div class=\"govuk-%s%s\" data-module=\"govuk-%s\">", kind,
               inline_ ? " govuk-radios--inline" : "", kind);
    for (size_t i = 0; i < n; i++) {
        /* The first radio carries the field's own id, where errors link. */
        char suffix[32] = "";
        if (i > 0)
            snprintf(suffix, sizeof(suffix), "-%zu", i + 1);
        buf_printf(b, "<div class=\"govuk-%s__item\"><input class=\"govuk-%s__input\" id=\"", kind,
                   kind);
        buf_put_html(b, f->id);
        buf_puts(b, suffix);
        buf_puts(b, "\" name=\"");
        buf_put_html(b, f->id);
        buf_printf(b, "\" type=\"%s\" value=\"", checked ? "checkbox" : "radio");
        buf_put_html(b, choices[i].value);
        buf_puts(b, "\"");
        if (checked ? checked[i] : f->value && strcmp(f->value, choices[i].value) == 0)
            buf_puts(b, " checked");
        buf_printf(b, "><label class=\"govuk-label govuk-%s__label\" for=\"", kind);
        buf_put_html(b, f->id);
        buf_puts(b, suffix);
        buf_puts(b, "\">");
        buf_put_html(b, choices[i].label);
        buf_puts(b, "</label></div>");
    }
    buf_puts(b, "</div></fieldset></div>");
}

void page_radios(http_res *res, const page_field *f, const page_choice *choices, size_t n,
                 bool inline_)
{
    choice_list(res, f, "radios", choices, n, inline_, NULL);
}

void page_checkboxes(http_res *res, const page_field *f, const page_choice *choices, size_t n,
                     const bool *checked)
{
    choice_list(res, f, "checkboxes", choices, n, false, checked);
}

void page_form_begin(http_res *res, const char *action)
{
    buf_puts(&res->body, "<form method=\"post\" action=\"");
    buf_put_html(&res->body, action);
    buf_puts(&res->body, "\" novalidate>");
}

void page_form_end(http_res *res)
{
    buf_puts(&res->body, "</form>");
}

void page_hidden(http_res *res, const char *name, const char *value)
{
    buf *b = &res->body;
    buf_puts(b, "<input type=\"hidden\" name=\"");
    buf_put_html(b, name);
    buf_puts(b, "\" value=\"");
    buf_put_html(b, value);
    buf_puts(b, "\">");
}

void page_button(http_res *res, const char *text)
{
    /* Double clicks would send a message twice. */
    buf_puts(&res->body, "<button type=\"submit\" class=\"govuk-button\" "
                         "data-module=\"govuk-button\" data-prevent-double-click=\"true\">");
    buf_put_html(&res->body, text);
    buf_puts(&res->body, "</button>");
}

void page_summary_begin(http_res *res)
{
    buf_puts(&res->body, "<dl class=\"govuk-summary-list\">");
}

void page_summary_row(http_res *res, const char *key, const char *value)
{
    buf *b = &res->body;
    buf_puts(b, "<div class=\"govuk-summary-list__row\"><dt class=\"govuk-summary-list__key\">");
    buf_put_html(b, key);
    buf_puts(b, "</dt><dd class=\"govuk-summary-list__value\">");
    buf_put_html(b, value);
    buf_puts(b, "</dd></div>");
}

void page_summary_end(http_res *res)
{
    buf_puts(&res->body, "</dl>");
}

void page_table_begin(http_res *res, const char *caption, const char *const *headers, size_t n)
{
    buf *b = &res->body;
    buf_puts(b, "<table class=\"govuk-table\"><caption class=\"govuk-table__caption "
                "govuk-table__caption--s\">");
    buf_put_html(b, caption);
    buf_puts(b, "</caption><thead class=\"govuk-table__head\"><tr class=\"govuk-table__row\">");
    for (size_t i = 0; i < n; i++) {
        buf_puts(b, "<th scope=\"col\" class=\"govuk-table__header\">");
        buf_put_html(b, headers[i]);
        buf_puts(b, "</th>");
    }
    buf_puts(b, "</tr></thead><tbody class=\"govuk-table__body\">");
}

void page_table_row(http_res *res, const char *const *cells, size_t n)
{
    buf *b = &res->body;
    buf_puts(b, "<tr class=\"govuk-table__row\">");
    for (size_t i = 0; i < n; i++) {
        buf_puts(b, "<td class=\"govuk-table__cell\">");
        buf_put_html(b, cells[i]);
        buf_puts(b, "</td>");
    }
    buf_puts(b, "</tr>");
}

void page_table_end(http_res *res)
{
    buf_puts(&res->body, "</tbody></table>");
}

void page_timeline_begin(http_res *res)
{
    buf_puts(&res->body, "<ol class=\"app-timeline\">");
}

void page_timeline_item(http_res *res, const char *title, int64_t at, const char *aside,
                        const char *description)
{
    buf *b = &res->body;
    buf_puts(b, "<li class=\"app-timeline__item\"><h3 class=\"app-timeline__title\">");
    buf_put_html(b, title);
    buf_puts(b, "</h3><p class=\"app-timeline__date\">");
    time_element(b, at);
    buf_puts(b, "</p>");
    if (aside) {
        buf_puts(b, "<p class=\"govuk-body-s app-timeline__aside\">");
        buf_put_html(b, aside);
        buf_puts(b, "</p>");
    }
    if (description) {
        buf_puts(b, "<p class=\"app-timeline__description\">");
        buf_put_html(b, description);
        buf_puts(b, "</p>");
    }
    buf_puts(b, "</li>");
}

void page_timeline_end(http_res *res)
{
    buf_puts(&res->body, "</ol>");
}

void page_panel(http_res *res, const char *title, const char *body)
{
    buf *b = &res->body;
    buf_puts(b, "<div class=\"govuk-panel govuk-panel--confirmation\"><h1 "
                "class=\"govuk-panel__title\">");
    buf_put_html(b, title);
    buf_puts(b, "</h1>");
    if (body) {
        buf_puts(b, "<div class=\"govuk-panel__body\">");
        buf_put_html(b, body);
        buf_puts(b, "</div>");
    }
    buf_puts(b, "</div>");
}

void page_success_banner(http_res *res, const char *heading)
{
    buf *b = &res->body;
    buf_puts(b, "<div class=\"govuk-notification-banner govuk-notification-banner--success\" "
                "role=\"alert\" aria-labelledby=\"govuk-notification-banner-title\" "
                "data-module=\"govuk-notification-banner\"><div "
                "class=\"govuk-notification-banner__header\"><h2 "
                "class=\"govuk-notification-banner__title\" id=\"govuk-notification-banner-title\">"
                "Success</h2></div><div class=\"govuk-notification-banner__content\"><p "
                "class=\"govuk-notification-banner__heading\">");
    buf_put_html(b, heading);
    buf_puts(b, "</p></div></div>");
}
