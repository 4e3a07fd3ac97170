/* appeals_page.c - the public appeal pages: the list (with the map on top
 * when JavaScript runs), one appeal with the form to answer it, and the
 * receipt look-up.
 *
 * The list is the accessible view and needs no JavaScript: its filters are a
 * GET form with the same parameters as the API, and its pages are links.
 * The map script (served with the assets) reads the GeoJSON feed of the
 * same query. Every value shown passes through the escaping writer; the
 * true location of an appeal is never read here, since these pages use the
 * store's public calls only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/app.h"
#include "api/appeals.h"
#include "api/handlers.h"
#include "domain/appeal.h"
#include "domain/validate.h"
#include "http/form.h"
#include "web/csrf.h"
#include "web/page.h"

#define PLACE_MAX 64

/* Dates as GOV.UK writes them: "16 November 2026". */
static void date_text(int64_t t, char *out, size_t outlen)
{
    static const char *const months[] = {"January",   "February", "March",    "April",
                                         "May",       "June",     "July",     "August",
                                         "September", "October",  "November", "December"};
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm)) {
        format_date(t, out, outlen);
        return;
    }
    snprintf(out, outlen, "%d %s %d", tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900);
}

/* "16 November 2026, 22:30" (UTC). */
static void time_text(int64_t t, char *out, size_t outlen)
{
    char date[32];
    time_t tt = (time_t)t;
    struct tm tm;
    date_text(t, date, sizeof(date));
    if (!gmtime_r(&tt, &tm)) {
        snprintf(out, outlen, "%s", date);
        return;
    }
    snprintf(out, outlen, "%s, %02d:%02d", date, tm.tm_hour, tm.tm_min);
}

static void put_text(buf *b, const char *open, const char *text, const char *close)
{
    buf_puts(b, open);
    buf_put_html(b, text);
    buf_puts(b, close);
}

/* Text with its line breaks kept, as paragraphs. */
static void put_paragraphs(buf *b, arena *a, const char *text)
{
    const char *p = text;
    while (p && *p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len) {
            const char *line = arena_strndup(a, p, len);
            put_text(b, "<p class=\"govuk-body\">", line ? line : "", "</p>");
        }
        p = nl ? nl + 1 : NULL;
    }
}

static void summary_row(buf *b, const char *key, const char *value)
{
    put_text(b, "<div class=\"govuk-summary-list__row\"><dt class=\"govuk-summary-list__key\">",
             key, "</dt>");
    put_text(b, "<dd class=\"govuk-summary-list__value\">", value, "</dd></div>");
}

/* Where the appeal is shown, in words. */
static const char *place_text(arena *a, const store_appeal *x)
{
    if (strcmp(x->precision, "grid") == 0)
        return arena_printf(a, "Somewhere within about %d metres of the point on the map",
                            (int)x->cell_m);
    return "At the point on the map";
}

static const char *when_text(arena *a, const store_appeal *x)
{
    char from[48], to[48];
    time_text(x->occurred_from, from, sizeof(from));
    if (!x->occurred_to)
        return arena_strdup(a, from);
    time_text(x->occurred_to, to, sizeof(to));
    return arena_printf(a, "Between %s and %s", from, to);
}

static void sorry(http_res *res, int status, const char *title, const char *text)
{
    buf_reset(&res->body);
    res->n_headers = 0;
    page_begin(res, title);
    page_heading(res, title);
    page_paragraph(res, text);
    page_end(res, status);
}

/* ---- the list ---- */

/* The request's query string again, without `drop`, escaped for an
 * attribute; "" when there is none. */
static const char *query_without(http_req *req, const char *drop)
{
    static const char *const keys[] = {"bbox",     "near",  "radius", "org",
                                       "category", "since", "until",  NULL};
    buf q;
    buf_init(&q, 4096);
    for (const char *const *k = keys; *k; k++) {
        const char *v = http_query_get(req, *k);
        if (!v || !*v || (drop && strcmp(drop, *k) == 0))
            continue;
        buf_printf(&q, "%s%s=", q.len ? "&" : "", *k);
        for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
            if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                *p == '-' || *p == '.' || *p == '_' || *p == ',')
                buf_putc(&q, (char)*p);
            else
                buf_printf(&q, "%%%02X", *p);
        }
    }
    const char *out = q.failed ? "" : arena_strdup(&req->a, q.len ? q.data : "");
    buf_free(&q);
    return out ? out : "";
}

static void select_option(buf *b, const char *value, const char *label, const char *chosen)
{
    put_text(b, "<option value=\"", value, "\"");
    if (chosen && strcmp(chosen, value) == 0)
        buf_puts(b, " selected");
    put_text(b, ">", label, "</option>");
}

static void input_field(buf *b, const char *id, const char *label, const char *hint,
                        const char *type, const char *value, const char *error)
{
    buf_printf(b, "<div class=\"govuk-form-group%s\">", error ? " govuk-form-group--error" : "");
    put_text(b, "<label class=\"govuk-label\" for=\"", id, "\">");
    buf_put_html(b, label);
    buf_puts(b, "</label>");
    if (hint) {
        put_text(b, "<div class=\"govuk-hint\" id=\"", id, "-hint\">");
        buf_put_html(b, hint);
        buf_puts(b, "</div>");
    }
    if (error) {
        put_text(b, "<p class=\"govuk-error-message\" id=\"", id, "-error\">");
        put_text(b, "<span class=\"govuk-visually-hidden\">Error:</span> ", error, "</p>");
    }
    put_text(b, "<input class=\"govuk-input\" id=\"", id, "\" name=\"");
    buf_put_html(b, id);
    put_text(b, "\" type=\"", type, "\" value=\"");
    buf_put_html(b, value ? value : "");
    buf_puts(b, "\"");
    if (hint || error) {
        buf_puts(b, " aria-describedby=\"");
        if (hint)
            put_text(b, "", id, "-hint");
        if (error)
            put_text(b, hint ? " " : "", id, "-error");
        buf_puts(b, "\"");
    }
    buf_puts(b, "></div>");
}

static void render_filters(http_req *req, buf *b, const store_org *orgs, size_t n_orgs,
                           const appeals_bad *bad)
{
    const char *category = http_query_get(req, "category"), *org = http_query_get(req, "org");
    const char *bbox = http_query_get(req, "bbox");
    buf_puts(b, "<form method=\"get\" action=\"/appeals\" class=\"app-appeals-filters\" novalidate>"
                "<h2 class=\"govuk-heading-m\">Filter appeals</h2>");
    if (bbox && *bbox) {
        buf_puts(b, "<input type=\"hidden\" name=\"bbox\" value=\"");
        buf_put_html(b, bbox);
        buf_puts(b, "\"><p class=\"govuk-body\">Showing the area of the map. <a "
                    "class=\"govuk-link\" href=\"/appeals?");
        buf_put_html(b, query_without(req, "bbox"));
        buf_puts(b, "\">Show every area</a></p>");
    }
    buf_puts(b,
             "<div class=\"govuk-form-group\"><label class=\"govuk-label\" for=\"category\">"
             "Category</label><select class=\"govuk-select\" id=\"category\" name=\"category\">");
    select_option(b, "", "Any category", category);
    for (size_t i = 0; i < appeal_categories_count; i++)
        select_option(b, appeal_categories[i].code, appeal_categories[i].name, category);
    buf_puts(b, "</select></div><div class=\"govuk-form-group\"><label class=\"govuk-label\" "
                "for=\"org\">Organisation</label><select class=\"govuk-select\" id=\"org\" "
                "name=\"org\">");
    select_option(b, "", "Any organisation", org);
    for (size_t i = 0; i < n_orgs; i++)
        select_option(b, orgs[i].slug, orgs[i].name, org);
    buf_puts(b, "</select></div>");
    const char *field = bad ? bad->field : NULL;
    const char *msg = bad ? bad->message : NULL;
    input_field(b, "since", "Published on or after", "For example, 2026-11-01", "text",
                http_query_get(req, "since"), field && strcmp(field, "since") == 0 ? msg : NULL);
    input_field(b, "until", "Published on or before", "For example, 2026-11-30", "text",
                http_query_get(req, "until"), field && strcmp(field, "until") == 0 ? msg : NULL);
    input_field(b, "near", "Near a place (latitude, longitude)", "For example, 50.7192,-1.8808",
                "text", http_query_get(req, "near"),
                field && strcmp(field, "near") == 0 ? msg : NULL);
    input_field(b, "radius", "Within (metres)", "Up to 100000 metres (100 km)", "text",
                http_query_get(req, "radius"), field && strcmp(field, "radius") == 0 ? msg : NULL);
    buf_puts(b, "<button type=\"submit\" class=\"govuk-button govuk-button--secondary\" "
                "data-module=\"govuk-button\">Apply filters</button></form>");
}

static void render_item(http_req *req, buf *b, const store_appeal *x)
{
    char published[32];
    const appeal_category *cat = appeal_category_find(x->category);
    date_text(x->published_at, published, sizeof(published));
    buf_printf(b,
               "<li class=\"app-appeal\" id=\"appeal-%lld\"><h3 class=\"govuk-heading-s\">"
               "<a class=\"govuk-link\" href=\"/appeals/%lld\">",
               (long long)x->id, (long long)x->id);
    buf_put_html(b, x->title);
    buf_puts(b, "</a></h3><dl class=\"govuk-summary-list govuk-summary-list--no-border\">");
    summary_row(b, "Organisation", x->org_name);
    summary_row(b, "Category", cat ? cat->name : x->category);
    summary_row(b, "When", when_text(&req->a, x));
    summary_row(b, "Where", place_text(&req->a, x));
    summary_row(b, "Published", published);
    buf_puts(b, "</dl></li>");
}

void page_appeals_list(http_req *req, http_res *res)
{
    app *ap = req->ctx;
    buf *b = &res->body;
    store_appeal_search_filter f;
    appeals_bad bad;
    store_appeal *list = NULL;
    size_t n = 0;
    bool more = false;
    store_org *orgs = NULL;
    size_t n_orgs = 0;
    bool ok = appeals_query(req, &f, APPEALS_PAGE_DEFAULT, APPEALS_PAGE_MAX, &bad);
    if (ok) {
        app_reader rd;
        store_rc rc;
        app_read_begin(ap, true, &rd);
        do
            rc = store_appeal_search(rd.s, &req->a, &f, &list, &n, &more);
        while (app_read_again(&rd, rc));
        if (rc != STORE_OK) {
            sorry(res, 503, "Sorry, there is a problem with the service",
                  "Try again in a few minutes.");
            return;
        }
    }
    if (store_appeal_orgs(ap->store, &req->a, &orgs, &n_orgs) != STORE_OK) {
        orgs = NULL;
        n_orgs = 0;
    }
    page_begin(res, ok ? "Appeals for witnesses" : "Error: Appeals for witnesses");
    if (!ok)
        page_error_summary(res, bad.message, bad.field);
    page_heading(res, "Appeals for witnesses");
    page_paragraph(res, "The police and other public bodies ask for help with these incidents. "
                        "If you saw or heard something, you can tell them, with your name or "
                        "anonymously.");
    const char *query = query_without(req, NULL);
    buf_puts(b, "<div class=\"app-appeals-map\" data-module=\"app-appeals-map\" "
                "data-geojson=\"/api/v1/public/appeals.geojson?");
    buf_put_html(b, query);
    buf_puts(b, "\" data-tiles=\"");
    buf_put_html(b, ap->map_tiles ? ap->map_tiles : "");
    buf_puts(b, "\" data-attribution=\"");
    buf_put_html(b, ap->map_attribution ? ap->map_attribution : "");
    buf_puts(b, "\"></div>");
    render_filters(req, b, orgs, n_orgs, ok ? NULL : &bad);
    buf_puts(b, "<h2 class=\"govuk-heading-m\" id=\"results\">Appeals</h2>");
    if (ok && n == 0)
        page_paragraph(res, "There are no open appeals that match.");
    if (n) {
        buf_puts(b, "<ol class=\"govuk-list app-appeals-list\">");
        for (size_t i = 0; i < n; i++)
            render_item(req, b, &list[i]);
        buf_puts(b, "</ol>");
    }
    if (more && n) {
        buf_puts(b, "<nav class=\"govuk-pagination\" aria-label=\"Results pages\">"
                    "<div class=\"govuk-pagination__next\"><a class=\"govuk-link "
                    "govuk-pagination__link\" rel=\"next\" href=\"/appeals?");
        buf_put_html(b, query);
        buf_puts(b, query[0] ? "&amp;" : "");
        buf_puts(b, "cursor=");
        buf_put_html(b, appeals_cursor(req, &list[n - 1]));
        buf_puts(b, "\"><span class=\"govuk-pagination__link-title\">Next page</span></a>"
                    "</div></nav>");
    }
    buf_puts(b, "<p class=\"govuk-body\"><a class=\"govuk-link\" href=\"/appeals/receipt\">Check "
                "whether your answer has been read</a></p>");
    page_end(res, ok ? 200 : 400);
}

/* ---- one appeal and its form ---- */

/* What was typed into the answer form, to show it again with an error. */
typedef struct answer_form {
    const char *saw, *when, *lat, *lon, *anonymous, *name, *email, *phone, *channel;
} answer_form;

static const char *form_value(const form *f, const char *key)
{
    const char *v = form_get(f, key);
    return v && *v ? v : NULL;
}

static void textarea(buf *b, const char *id, const char *label, const char *hint, int rows,
                     const char *value, const char *error)
{
    buf_printf(b, "<div class=\"govuk-form-group%s\">", error ? " govuk-form-group--error" : "");
    put_text(b, "<label class=\"govuk-label\" for=\"", id, "\">");
    buf_put_html(b, label);
    buf_puts(b, "</label>");
    if (hint)
        put_text(b, "<div class=\"govuk-hint\">", hint, "</div>");
    if (error) {
        put_text(b, "<p class=\"govuk-error-message\" id=\"", id, "-error\">");
        put_text(b, "<span class=\"govuk-visually-hidden\">Error:</span> ", error, "</p>");
    }
    put_text(b, "<textarea class=\"govuk-textarea\" id=\"", id, "\" name=\"");
    buf_put_html(b, id);
    buf_printf(b, "\" rows=\"%d\">", rows);
    buf_put_html(b, value ? value : "");
    buf_puts(b, "</textarea></div>");
}

static void radio(buf *b, const char *name, const char *id, const char *value, const char *label,
                  const char *chosen)
{
    put_text(b, "<div class=\"govuk-radios__item\"><input class=\"govuk-radios__input\" id=\"", id,
             "\" name=\"");
    buf_put_html(b, name);
    put_text(b, "\" type=\"radio\" value=\"", value, "\"");
    if (chosen && strcmp(chosen, value) == 0)
        buf_puts(b, " checked");
    put_text(b, "><label class=\"govuk-label govuk-radios__label\" for=\"", id, "\">");
    buf_put_html(b, label);
    buf_puts(b, "</label></div>");
}

/* The error for `field` when it is the one that failed. */
static const char *error_for(const appeals_bad *bad, const char *field)
{
    return bad && bad->field && strcmp(bad->field, field) == 0 ? bad->message : NULL;
}

static void render_answer_form(http_req *req, http_res *res, const store_appeal *x,
                               const answer_form *in, const appeals_bad *bad)
{
    app *ap = req->ctx;
    buf *b = &res->body;
    const char *token = csrf_token(req, res, ap->key, ap->cookie_secure);
    buf_puts(b, "<h2 class=\"govuk-heading-l\" id=\"answer\">Tell the investigating team what "
                "you know</h2>");
    buf_printf(b, "<form method=\"post\" action=\"/appeals/%lld\" novalidate>", (long long)x->id);
    put_text(b, "<input type=\"hidden\" name=\"" CSRF_FIELD "\" value=\"", token ? token : "",
             "\">");
    textarea(b, "saw", "What did you see or hear?",
             "Describe people, vehicles, sounds, anything that may help.", 6, in->saw,
             error_for(bad, "saw"));
    input_field(b, "when", "When was this? (optional)", "For example, about 10pm on Friday", "text",
                in->when, error_for(bad, "when"));
    buf_puts(b, "<fieldset class=\"govuk-fieldset\" aria-describedby=\"where-hint\">"
                "<legend class=\"govuk-fieldset__legend govuk-fieldset__legend--s\">Where were "
                "you? (optional)</legend><div class=\"govuk-hint\" id=\"where-hint\">As a "
                "latitude and longitude, for example 50.7192 and -1.8808. With the map, "
                "choose the point on it.</div>");
    const char *where_error = error_for(bad, "location.lat");
    if (!where_error)
        where_error = error_for(bad, "location.lon");
    input_field(b, "lat", "Latitude", NULL, "text", in->lat, where_error);
    input_field(b, "lon", "Longitude", NULL, "text", in->lon, NULL);
    buf_puts(b, "</fieldset>");

    const char *contact_error = error_for(bad, "contact");
    if (!contact_error)
        contact_error = error_for(bad, "anonymous");
    buf_printf(b,
               "<div class=\"govuk-form-group%s\"><fieldset class=\"govuk-fieldset\" "
               "id=\"anonymous\"><legend class=\"govuk-fieldset__legend "
               "govuk-fieldset__legend--s\">Do you want to stay anonymous?</legend>",
               contact_error ? " govuk-form-group--error" : "");
    if (contact_error)
        put_text(b,
                 "<p class=\"govuk-error-message\"><span class=\"govuk-visually-hidden\">"
                 "Error:</span> ",
                 contact_error, "</p>");
    buf_puts(b, "<div class=\"govuk-hint\">If you stay anonymous, leave your contact details "
                "out: the team will not be able to reach you.</div><div class=\"govuk-radios\">");
    radio(b, "anonymous", "anonymous-yes", "yes", "Yes, stay anonymous", in->anonymous);
    radio(b, "anonymous", "anonymous-no", "no", "No, the team may contact me", in->anonymous);
    buf_puts(b, "</div></fieldset></div><h3 class=\"govuk-heading-s\">Your contact details (if "
                "you are not anonymous)</h3>");
    input_field(b, "name", "Your name (optional)", NULL, "text", in->name,
                error_for(bad, "contact.name"));
    input_field(b, "email", "Email address", NULL, "email", in->email,
                error_for(bad, "contact.email"));
    input_field(b, "phone", "Phone number", NULL, "tel", in->phone,
                error_for(bad, "contact.phone"));
    const char *channel_error = error_for(bad, "contact.preferred");
    buf_printf(b,
               "<div class=\"govuk-form-group%s\"><fieldset class=\"govuk-fieldset\" "
               "id=\"preferred\"><legend class=\"govuk-fieldset__legend "
               "govuk-fieldset__legend--s\">How should the team contact you?</legend>",
               channel_error ? " govuk-form-group--error" : "");
    if (channel_error)
        put_text(b,
                 "<p class=\"govuk-error-message\"><span class=\"govuk-visually-hidden\">"
                 "Error:</span> ",
                 channel_error, "</p>");
    buf_puts(b, "<div class=\"govuk-radios\">");
    radio(b, "preferred", "preferred-email", "email", "By email", in->channel);
    radio(b, "preferred", "preferred-phone", "phone", "By phone", in->channel);
    buf_puts(b, "</div></fieldset></div><button type=\"submit\" class=\"govuk-button\" "
                "data-module=\"govuk-button\">Send your answer</button></form>");
}

/* The id of the path, or 0 (with a 404 page written) when it is not one. */
static int64_t path_id(http_req *req, http_res *res)
{
    const char *s = req->params[0];
    char *end;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || v < 1 || s[0] == '+') {
        sorry(res, 404, "Page not found", "There is no appeal at this address.");
        return 0;
    }
    return v;
}

/* Loads a published or closed appeal; false with the page written. */
static bool load_public(http_req *req, http_res *res, int64_t id, store_appeal *x)
{
    app *ap = req->ctx;
    app_reader rd;
    store_rc rc;
    app_read_begin(ap, req->method == HTTP_GET, &rd);
    do
        rc = store_appeal_public_get(rd.s, &req->a, id, x);
    while (app_read_again(&rd, rc));
    if (rc == STORE_NOT_FOUND) {
        sorry(res, 404, "Page not found", "There is no appeal at this address.");
        return false;
    }
    if (rc != STORE_OK) {
        sorry(res, 503, "Sorry, there is a problem with the service",
              "Try again in a few minutes.");
        return false;
    }
    return true;
}

static void render_appeal(http_req *req, http_res *res, const store_appeal *x,
                          const answer_form *in, const appeals_bad *bad, int status)
{
    app *ap = req->ctx;
    buf *b = &res->body;
    char published[32], expires[32], pos[GEO_TEXT_LEN];
    const appeal_category *cat = appeal_category_find(x->category);
    bool taking = appeal_check(x->status, x->expires_at, app_now(), APPEAL_ANSWER) == NULL;
    page_begin(res, bad ? arena_printf(&req->a, "Error: %s", x->title) : x->title);
    if (bad)
        page_error_summary(res, bad->message,
                           strncmp(bad->field, "contact.", 8) == 0 ? bad->field + 8
                           : strcmp(bad->field, "location.lat") == 0 ||
                                   strcmp(bad->field, "location.lon") == 0
                               ? "lat"
                               : bad->field);
    put_text(b, "<span class=\"govuk-caption-l\">", x->org_name, "</span>");
    page_heading(res, x->title);
    if (strcmp(x->status, "closed") == 0) {
        buf_puts(b, "<div class=\"govuk-inset-text\"><h2 class=\"govuk-heading-m\">This appeal "
                    "is closed</h2>");
        put_paragraphs(b, &req->a, x->outcome);
        buf_puts(b, "</div>");
    } else if (!taking) {
        page_paragraph(res, "This appeal has expired and is no longer taking answers.");
    }
    date_text(x->published_at, published, sizeof(published));
    date_text(x->expires_at, expires, sizeof(expires));
    buf_puts(b, "<dl class=\"govuk-summary-list\">");
    summary_row(b, "Category", cat ? cat->name : x->category);
    summary_row(b, "When", when_text(&req->a, x));
    summary_row(b, "Where", place_text(&req->a, x));
    summary_row(b, "Published", published);
    if (taking)
        summary_row(b, "Open until", expires);
    buf_puts(b, "</dl>");
    geo_format(x->pub_lat, pos);
    buf_puts(b, "<div class=\"app-appeals-map app-appeals-map--point\" "
                "data-module=\"app-appeals-map\" data-lat=\"");
    buf_put_html(b, pos);
    geo_format(x->pub_lon, pos);
    buf_puts(b, "\" data-lon=\"");
    buf_put_html(b, pos);
    buf_printf(b, "\" data-cell=\"%d\" data-tiles=\"", (int)x->cell_m);
    buf_put_html(b, ap->map_tiles ? ap->map_tiles : "");
    buf_puts(b, "\" data-attribution=\"");
    buf_put_html(b, ap->map_attribution ? ap->map_attribution : "");
    buf_puts(b, "\"></div><h2 class=\"govuk-heading-m\">What happened</h2>");
    put_paragraphs(b, &req->a, x->description);
    buf_puts(b, "<h2 class=\"govuk-heading-m\">Other ways to get in touch</h2>");
    put_paragraphs(b, &req->a, x->contact);
    if (x->anonymous_contact) {
        buf_puts(b, "<p class=\"govuk-body\">To stay anonymous you can also contact:</p>");
        put_paragraphs(b, &req->a, x->anonymous_contact);
    }
    if (taking)
        render_answer_form(req, res, x, in, bad);
    buf_puts(b, "<p class=\"govuk-body\"><a class=\"govuk-link\" href=\"/appeals\">All appeals</a>"
                "</p>");
    page_end(res, status);
}

void page_appeal_show(http_req *req, http_res *res)
{
    store_appeal x;
    answer_form none = {0};
    int64_t id = path_id(req, res);
    if (!id || !load_public(req, res, id, &x))
        return;
    render_appeal(req, res, &x, &none, NULL, 200);
}

/* Reads a posted form; false (with the error page written) when unusable. */
static bool read_form(http_req *req, http_res *res, form *f)
{
    const char *ct = http_header_get(req, "Content-Type");
    if (req->body_too_large || !ct ||
        strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0 ||
        form_parse(&req->a, req->body.data ? req->body.data : "", req->body.len, f) != 0) {
        sorry(res, 400, "Sorry, the form could not be read", "Go back and try again.");
        return false;
    }
    for (size_t i = 0; i < f->n; i++)
        if (strlen(f->fields[i].value) != f->fields[i].value_len) {
            sorry(res, 400, "Sorry, the form could not be read",
                  "The form contains characters that are not allowed. Go back and try again.");
            return false;
        }
    return true;
}

static void render_sent(http_res *res, const store_appeal *x, bool anonymous,
                        const appeals_answer_out *out)
{
    buf *b = &res->body;
    page_begin(res, "Your answer has been sent");
    buf_puts(b, "<div class=\"govuk-panel govuk-panel--confirmation\"><h1 "
                "class=\"govuk-panel__title\">Your answer has been sent</h1><div "
                "class=\"govuk-panel__body\">Your receipt<br><strong id=\"receipt\">");
    buf_put_html(b, out->receipt);
    buf_puts(b, "</strong></div></div>");
    put_text(b, "<p class=\"govuk-body\">It has gone to the team investigating &ldquo;", x->title,
             "&rdquo;. Thank you.</p>");
    if (anonymous) {
        page_paragraph(res, "You chose to stay anonymous, so the team cannot contact you. If you "
                            "get in touch about this again, you can quote the receipt.");
    } else {
        buf_puts(b, "<h2 class=\"govuk-heading-m\">Check that the team has read it</h2>"
                    "<p class=\"govuk-body\">Keep the receipt and this secret. With them you "
                    "can see when the investigating team has read your answer. The secret is "
                    "shown only once.</p><p class=\"govuk-body\">Secret: <strong id=\"secret\" "
                    "class=\"app-secret\">");
        buf_put_html(b, out->secret);
        buf_puts(b, "</strong></p><p class=\"govuk-body\"><a class=\"govuk-link\" "
                    "href=\"/appeals/receipt\">Check your answer</a></p>");
    }
    page_end(res, 201);
}

void page_appeal_answer(http_req *req, http_res *res)
{
    app *ap = req->ctx;
    store_appeal x;
    form f;
    int64_t id = path_id(req, res);
    if (!id || !read_form(req, res, &f))
        return;
    if (!csrf_check(req, ap->key, form_get(&f, CSRF_FIELD))) {
        sorry(res, 403, "Sorry, your answer could not be sent",
              "The form had expired or did not come from this site. Go back to the appeal, "
              "reload the page and try again.");
        return;
    }
    if (!load_public(req, res, id, &x))
        return;
    answer_form in = {
        .saw = form_value(&f, "saw"),
        .when = form_value(&f, "when"),
        .lat = form_value(&f, "lat"),
        .lon = form_value(&f, "lon"),
        .anonymous = form_value(&f, "anonymous"),
        .name = form_value(&f, "name"),
        .email = form_value(&f, "email"),
        .phone = form_value(&f, "phone"),
        .channel = form_value(&f, "preferred"),
    };
    appeals_answer_in a = {.saw = in.saw, .when = in.when};
    appeals_answer_out out;
    appeals_bad bad = {0};
    if (!in.anonymous || (strcmp(in.anonymous, "yes") != 0 && strcmp(in.anonymous, "no") != 0)) {
        bad.field = "anonymous";
        snprintf(bad.message, sizeof(bad.message), "Choose whether you want to stay anonymous");
        render_appeal(req, res, &x, &in, &bad, 400);
        return;
    }
    a.anonymous = strcmp(in.anonymous, "yes") == 0;
    if (in.lat || in.lon) {
        geo_point p;
        char both[2 * PLACE_MAX + 2];
        snprintf(both, sizeof(both), "%.*s,%.*s", PLACE_MAX, in.lat ? in.lat : "", PLACE_MAX,
                 in.lon ? in.lon : "");
        if (geo_parse_point(both, &p) != GEO_OK) {
            bad.field = "location.lat";
            snprintf(bad.message, sizeof(bad.message),
                     "Enter the latitude (-90 to 90) and longitude (-180 to 180) as numbers, "
                     "or leave both empty");
            render_appeal(req, res, &x, &in, &bad, 400);
            return;
        }
        a.has_point = true;
        a.point = p;
    }
    if (!a.anonymous) {
        a.name = in.name;
        a.email = in.email;
        a.phone = in.phone;
        a.channel = in.channel;
    }
    switch (appeals_answer(req, id, &a, &out)) {
    case APPEALS_ANSWER_OK:
        render_sent(res, &x, a.anonymous, &out);
        return;
    case APPEALS_ANSWER_INVALID:
        render_appeal(req, res, &x, &in, &out.bad, 400);
        return;
    case APPEALS_ANSWER_LIMITED:
        sorry(res, 429, "Sorry, too many answers",
              "Too many answers have come from your connection. Try again in an hour, or use "
              "one of the other ways to get in touch on the appeal.");
        http_res_header(res, "Retry-After", arena_printf(&req->a, "%u", out.retry_after));
        return;
    case APPEALS_ANSWER_NOT_FOUND:
    case APPEALS_ANSWER_CLOSED:
        sorry(res, 409, "This appeal is no longer taking answers",
              "It has closed or expired. You can still use the other ways to get in touch "
              "shown on the appeal.");
        return;
    case APPEALS_ANSWER_UNAVAILABLE:
        break;
    }
    sorry(res, 503, "Sorry, there is a problem with the service",
          "Your answer was not sent. Try again in a few minutes.");
}

/* ---- receipts ---- */

static void render_receipt_form(http_res *res, int status, const char *error, const char *field,
                                const char *receipt)
{
    buf *b = &res->body;
    page_begin(res, error ? "Error: Check your answer" : "Check your answer");
    if (error)
        page_error_summary(res, error, field);
    page_heading(res, "Check your answer");
    page_paragraph(res, "Enter the receipt and the secret you were given when you answered an "
                        "appeal with your contact details, to see whether the investigating team "
                        "has read it.");
    buf_puts(b, "<form method=\"post\" action=\"/appeals/receipt\" novalidate>");
    input_field(b, "receipt", "Receipt", "For example, K7QM-2XPD-C", "text", receipt, NULL);
    input_field(b, "secret", "Secret", NULL, "password", NULL, NULL);
    buf_puts(b, "<button type=\"submit\" class=\"govuk-button\" data-module=\"govuk-button\">"
                "Check</button></form>");
    page_end(res, status);
}

void page_receipt_form(http_req *req, http_res *res)
{
    (void)req;
    render_receipt_form(res, 200, NULL, NULL, NULL);
}

void page_receipt_show(http_req *req, http_res *res)
{
    form f;
    appeals_receipt r;
    char date[32];
    buf *b = &res->body;
    if (!read_form(req, res, &f))
        return;
    const char *receipt = form_value(&f, "receipt"), *secret = form_value(&f, "secret");
    if (!receipt || strlen(receipt) > 64 || !valid_text(receipt, 64, false)) {
        render_receipt_form(res, 400, "Enter your receipt, like K7QM-2XPD-C", "receipt", NULL);
        return;
    }
    if (!secret) {
        render_receipt_form(res, 400, "Enter the secret you were given with the receipt", "secret",
                            receipt);
        return;
    }
    switch (appeals_receipt_open(req, receipt, secret, &r)) {
    case APPEALS_RECEIPT_OK:
        break;
    case APPEALS_RECEIPT_BAD_REFERENCE:
        render_receipt_form(res, 400, "Enter the receipt as it was given to you, like K7QM-2XPD-C",
                            "receipt", receipt);
        return;
    case APPEALS_RECEIPT_NOT_FOUND:
        render_receipt_form(res, 404,
                            "No answer matches that receipt and secret. Check them and try "
                            "again. Anonymous answers cannot be checked.",
                            "receipt", receipt);
        return;
    case APPEALS_RECEIPT_LIMITED:
        render_receipt_form(res, 429, "There have been too many attempts. Wait and try again.",
                            "receipt", receipt);
        http_res_header(res, "Retry-After", arena_printf(&req->a, "%u", r.retry_after));
        return;
    case APPEALS_RECEIPT_UNAVAILABLE:
        sorry(res, 503, "Sorry, there is a problem with the service",
              "Try again in a few minutes.");
        return;
    }
    page_begin(res, "Your answer");
    put_text(b, "<span class=\"govuk-caption-l\">Receipt ", r.receipt, "</span>");
    page_heading(res, "Your answer");
    date_text(r.answer.created_at, date, sizeof(date));
    buf_puts(b, "<dl class=\"govuk-summary-list\">");
    summary_row(b, "Appeal", r.answer.appeal_title);
    summary_row(b, "Sent", date);
    buf_puts(b, "</dl>");
    if (r.answer.first_read_at) {
        date_text(r.answer.first_read_at, date, sizeof(date));
        put_text(b,
                 "<div class=\"govuk-panel govuk-panel--confirmation\" id=\"status\"><h2 "
                 "class=\"govuk-panel__title\">Received by the investigating team</h2><div "
                 "class=\"govuk-panel__body\">Read on ",
                 date, "</div></div>");
    } else {
        buf_puts(b, "<div class=\"govuk-inset-text\" id=\"status\">Your answer has been "
                    "delivered. The investigating team has not read it yet.</div>");
    }
    buf_puts(b, "<h2 class=\"govuk-heading-m\">Who has seen your contact details</h2>");
    if (r.n_reads == 0) {
        page_paragraph(res, "No one yet.");
    } else {
        buf_puts(b, "<table class=\"govuk-table\"><caption class=\"govuk-table__caption "
                    "govuk-table__caption--s\">Each time staff were shown your details, and "
                    "why</caption><thead class=\"govuk-table__head\"><tr "
                    "class=\"govuk-table__row\"><th scope=\"col\" "
                    "class=\"govuk-table__header\">Date</th><th scope=\"col\" "
                    "class=\"govuk-table__header\">Organisation</th><th scope=\"col\" "
                    "class=\"govuk-table__header\">Reason</th></tr></thead><tbody "
                    "class=\"govuk-table__body\">");
        for (size_t i = 0; i < r.n_reads; i++) {
            date_text(r.reads[i].at, date, sizeof(date));
            put_text(b, "<tr class=\"govuk-table__row\"><td class=\"govuk-table__cell\">", date,
                     "</td>");
            put_text(b, "<td class=\"govuk-table__cell\">", r.reads[i].reader_org_name, "</td>");
            put_text(b, "<td class=\"govuk-table__cell\">", r.reads[i].purpose, "</td></tr>");
        }
        buf_puts(b, "</tbody></table>");
    }
    page_end(res, 200);
}
