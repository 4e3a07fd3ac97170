/* appeals_page.c - the public appeal pages: the list (with the map on top
 * when JavaScript runs), one appeal with the form to answer it, and the
 * receipt look-up.
 *
 * The list is the accessible view and needs no JavaScript: its filters are a
 * GET form with the same parameters as the API, and its pages are links.
 * The map script (/assets/appeals-map.js, with Leaflet and its marker
 * clusters) reads the GeoJSON feed of the same query. Every value shown
 * passes through the escaping writer; the true location of an appeal is
 * never read here, since these pages use the store's public calls only.
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

/* What the map pages load besides the frame: Leaflet, its clusters, and
 * the script that makes the map from the page's data- attributes. */
static const char *const map_assets[] = {
    "/assets/leaflet/leaflet.css",
    "/assets/leaflet.markercluster/MarkerCluster.css",
    "/assets/leaflet.markercluster/MarkerCluster.Default.css",
    "/assets/leaflet/leaflet.js",
    "/assets/leaflet.markercluster/leaflet.markercluster.js",
    "/assets/appeals-map.js",
    NULL,
};

/* The origin of the tile server's URL template, for the pages' policy:
 * "https://tile.example.org", or https and a wildcard subdomain for a
 * template that picks a subdomain with {s}; NULL for none or when it cannot
 * be told (the map then shows no tiles rather than loosen the policy). */
static const char *tile_origin(arena *a, const char *tiles)
{
    if (!tiles || strcmp(tiles, "none") == 0)
        return NULL;
    const char *host = strstr(tiles, "://");
    if (!host)
        return NULL;
    host += 3;
    size_t len = strcspn(host, "/?#");
    const char *scheme_end = host;
    if (strncmp(host, "{s}.", 4) == 0)
        return arena_printf(a, "%.*s*.%.*s", (int)(scheme_end - tiles), tiles, (int)(len - 4),
                            host + 4);
    if (memchr(host, '{', len))
        return NULL;
    return arena_printf(a, "%.*s", (int)(host + len - tiles), tiles);
}

/* The page options of an appeals page; with the map, its tile server's
 * origin may serve images. */
static page_opts opts_for(http_req *req, bool error, bool map)
{
    const app *ap = req->ctx;
    page_opts o = {.section = PAGE_APPEALS, .error = error};
    if (map) {
        o.assets = map_assets;
        o.img_src = tile_origin(&req->a, ap->map_tiles);
        o.img_data = true;
    }
    return o;
}

/* "16 November 2026, 22:30" (UTC). */
static const char *time_text(arena *a, int64_t t)
{
    char date[PAGE_DATE_MAX];
    time_t tt = (time_t)t;
    struct tm tm;
    page_date(t, date);
    if (!gmtime_r(&tt, &tm))
        return arena_strdup(a, date);
    return arena_printf(a, "%s, %02d:%02d", date, tm.tm_hour, tm.tm_min);
}

static const char *when_text(arena *a, const store_appeal *x)
{
    const char *from = time_text(a, x->occurred_from);
    if (!x->occurred_to)
        return from;
    return arena_printf(a, "Between %s and %s", from, time_text(a, x->occurred_to));
}

/* Where the appeal is shown, in words. */
static const char *place_text(arena *a, const store_appeal *x)
{
    if (strcmp(x->precision, "grid") == 0)
        return arena_printf(a, "Somewhere within about %d metres of the point on the map",
                            (int)x->cell_m);
    return "At the point on the map";
}

/* Text with its line breaks kept, as paragraphs. */
static void paragraphs(http_res *res, arena *a, const char *text)
{
    const char *p = text;
    while (p && *p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        const char *line = len ? arena_strndup(a, p, len) : NULL;
        if (line)
            page_paragraph(res, line);
        p = nl ? nl + 1 : NULL;
    }
}

static void attr(buf *b, const char *name, const char *value)
{
    buf_puts(b, " ");
    buf_puts(b, name);
    buf_puts(b, "=\"");
    buf_put_html(b, value ? value : "");
    buf_puts(b, "\"");
}

/* A page of its own with a heading and a sentence, replacing what was
 * written. */
static void sorry(http_req *req, http_res *res, int status, const char *title, const char *text)
{
    page_opts o = opts_for(req, false, false);
    buf_reset(&res->body);
    res->n_headers = 0;
    page_begin(req, res, title, &o);
    page_heading(res, NULL, title);
    page_paragraph(res, text);
    page_end(res, status);
}

/* ---- the list ---- */

/* The request's filters again as a query string, without `drop`; "" when
 * there is none. Values are percent-encoded; the caller escapes for HTML. */
static const char *query_without(http_req *req, const char *drop)
{
    static const char *const keys[] = {"bbox",  "near",  "radius", "org", "category",
                                       "since", "until", "limit",  NULL};
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
    const char *out = q.failed ? NULL : arena_strdup(&req->a, q.len ? q.data : "");
    buf_free(&q);
    return out ? out : "";
}

/* A GOV.UK select; page.h has none, as only this page needs one. */
static void select_field(http_res *res, const char *id, const char *label_text, const char *any,
                         const char *const *values, const char *const *labels, size_t n,
                         const char *chosen)
{
    buf *b = &res->body;
    buf_puts(b, "<div class=\"govuk-form-group\"><label class=\"govuk-label\"");
    attr(b, "for", id);
    buf_puts(b, ">");
    buf_put_html(b, label_text);
    buf_puts(b, "</label><select class=\"govuk-select\"");
    attr(b, "id", id);
    attr(b, "name", id);
    buf_puts(b, "><option value=\"\">");
    buf_put_html(b, any);
    buf_puts(b, "</option>");
    for (size_t i = 0; i < n; i++) {
        buf_puts(b, "<option");
        attr(b, "value", values[i]);
        if (chosen && strcmp(chosen, values[i]) == 0)
            buf_puts(b, " selected");
        buf_puts(b, ">");
        buf_put_html(b, labels[i]);
        buf_puts(b, "</option>");
    }
    buf_puts(b, "</select></div>");
}

static const char *error_for(const appeals_bad *bad, const char *field)
{
    return bad && bad->field && strcmp(bad->field, field) == 0 ? bad->message : NULL;
}

static void render_filters(http_req *req, http_res *res, const store_org *orgs, size_t n_orgs,
                           const appeals_bad *bad)
{
    buf *b = &res->body;
    arena *a = &req->a;
    const char *bbox = http_query_get(req, "bbox");
    buf_puts(b, "<form method=\"get\" action=\"/appeals\" class=\"app-appeals-filters\" "
                "novalidate><h2 class=\"govuk-heading-m\">Filter appeals</h2>");
    if (bbox && *bbox) {
        page_hidden(res, "bbox", bbox);
        buf_puts(b, "<p class=\"govuk-body\">Only the area shown on the map. <a "
                    "class=\"govuk-link\" href=\"/appeals?");
        buf_put_html(b, query_without(req, "bbox"));
        buf_puts(b, "\">Show every area</a></p>");
    }
    const char **codes = arena_calloc(a, appeal_categories_count, sizeof(*codes));
    const char **names = arena_calloc(a, appeal_categories_count, sizeof(*names));
    for (size_t i = 0; codes && names && i < appeal_categories_count; i++) {
        codes[i] = appeal_categories[i].code;
        names[i] = appeal_categories[i].name;
    }
    if (codes && names)
        select_field(res, "category", "Category", "Any category", codes, names,
                     appeal_categories_count, http_query_get(req, "category"));
    const char **slugs = arena_calloc(a, n_orgs ? n_orgs : 1, sizeof(*slugs));
    const char **org_names = arena_calloc(a, n_orgs ? n_orgs : 1, sizeof(*org_names));
    for (size_t i = 0; slugs && org_names && i < n_orgs; i++) {
        slugs[i] = orgs[i].slug;
        org_names[i] = orgs[i].name;
    }
    if (slugs && org_names)
        select_field(res, "org", "Organisation", "Any organisation", slugs, org_names, n_orgs,
                     http_query_get(req, "org"));
    page_field since = {.id = "since",
                        .label = "Published on or after",
                        .hint = "For example, 2026-11-01",
                        .value = http_query_get(req, "since"),
                        .error = error_for(bad, "since"),
                        .width = "govuk-input--width-10"};
    page_input(res, &since);
    page_field until = {.id = "until",
                        .label = "Published on or before",
                        .hint = "For example, 2026-11-30",
                        .value = http_query_get(req, "until"),
                        .error = error_for(bad, "until"),
                        .width = "govuk-input--width-10"};
    page_input(res, &until);
    page_field near = {.id = "near",
                       .label = "Near a place (latitude, longitude)",
                       .hint = "For example, 50.7192,-1.8808",
                       .value = http_query_get(req, "near"),
                       .error = error_for(bad, "near"),
                       .width = "govuk-input--width-20"};
    page_input(res, &near);
    page_field radius = {.id = "radius",
                         .label = "Within this many metres of it",
                         .hint = "Up to 100000 (100 km)",
                         .value = http_query_get(req, "radius"),
                         .error = error_for(bad, "radius"),
                         .width = "govuk-input--width-5"};
    page_input(res, &radius);
    buf_puts(b, "<button type=\"submit\" class=\"govuk-button govuk-button--secondary\" "
                "data-module=\"govuk-button\">Apply filters</button></form>");
}

static void render_item(http_req *req, http_res *res, const store_appeal *x)
{
    buf *b = &res->body;
    char published[PAGE_DATE_MAX];
    const appeal_category *cat = appeal_category_find(x->category);
    page_date(x->published_at, published);
    buf_printf(b,
               "<li class=\"app-appeal\" id=\"appeal-%lld\"><h3 class=\"govuk-heading-s\">"
               "<a class=\"govuk-link\" href=\"/appeals/%lld\">",
               (long long)x->id, (long long)x->id);
    buf_put_html(b, x->title);
    buf_puts(b, "</a></h3>");
    page_summary_begin(res);
    page_summary_row(res, "Organisation", x->org_name);
    page_summary_row(res, "Category", cat ? cat->name : x->category);
    page_summary_row(res, "When", when_text(&req->a, x));
    page_summary_row(res, "Where", place_text(&req->a, x));
    page_summary_row(res, "Published", published);
    page_summary_end(res);
    buf_puts(b, "</li>");
}

/* The map's place on the page: empty until the script fills it. */
static void map_element(http_req *req, http_res *res, const char *geojson, const store_appeal *one)
{
    const app *ap = req->ctx;
    buf *b = &res->body;
    char pos[GEO_TEXT_LEN];
    buf_puts(b, one ? "<div class=\"app-appeals-map app-appeals-map--point\" "
                      "data-module=\"app-appeals-map\""
                    : "<div class=\"app-appeals-map\" data-module=\"app-appeals-map\"");
    if (geojson)
        attr(b, "data-geojson", geojson);
    if (one) {
        geo_format(one->pub_lat, pos);
        attr(b, "data-lat", pos);
        geo_format(one->pub_lon, pos);
        attr(b, "data-lon", pos);
        buf_printf(b, " data-cell=\"%d\"", (int)one->cell_m);
        attr(b, "data-title", one->title);
    }
    attr(b, "data-tiles", ap->map_tiles);
    attr(b, "data-attribution", ap->map_attribution);
    buf_puts(b, "></div>");
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
            page_unavailable(req, res);
            return;
        }
    }
    /* Without the list of organisations the filter offers "any" alone. */
    if (store_appeal_orgs(ap->store, &req->a, &orgs, &n_orgs) != STORE_OK)
        n_orgs = 0;
    page_opts o = opts_for(req, !ok, true);
    page_begin(req, res, "Appeals for witnesses", &o);
    if (!ok) {
        page_error e = {.field = bad.field, .message = bad.message};
        page_error_summary(res, &e, 1);
    }
    page_heading(res, NULL, "Appeals for witnesses");
    page_paragraph(res, "The police and other public bodies ask for help with these incidents. "
                        "If you saw or heard something, you can tell them, with your name or "
                        "anonymously.");
    const char *query = query_without(req, NULL);
    /* The map shows every appeal of a valid query, not the list's page of it. */
    const char *feed = query_without(req, "limit");
    if (ok)
        map_element(
            req, res,
            arena_printf(&req->a, "/api/v1/public/appeals.geojson%s%s", feed[0] ? "?" : "", feed),
            NULL);
    render_filters(req, res, orgs, n_orgs, ok ? NULL : &bad);
    page_heading_m(res, "results", "Appeals");
    if (ok && n == 0)
        page_paragraph(res, "There are no open appeals that match.");
    if (n) {
        buf_puts(b, "<ol class=\"govuk-list app-appeals-list\">");
        for (size_t i = 0; i < n; i++)
            render_item(req, res, &list[i]);
        buf_puts(b, "</ol>");
    }
    if (more && n) {
        buf_puts(b, "<nav class=\"govuk-pagination govuk-pagination--block\" "
                    "aria-label=\"Results pages\"><div class=\"govuk-pagination__next\"><a "
                    "class=\"govuk-link govuk-pagination__link\" rel=\"next\" href=\"/appeals?");
        buf_put_html(b, query);
        buf_puts(b, query[0] ? "&amp;cursor=" : "cursor=");
        buf_put_html(b, appeals_cursor(req, &list[n - 1]));
        buf_puts(b, "\"><span class=\"govuk-pagination__link-title\">Next page</span></a>"
                    "</div></nav>");
    }
    buf_puts(b, "<p class=\"govuk-body\"><a class=\"govuk-link\" href=\"/appeals/receipt\">Check "
                "whether the team has read your answer</a></p>");
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

/* The id of the field on the page that an answer's error is about. */
static const char *field_on_page(const char *api_field)
{
    if (strncmp(api_field, "contact.", 8) == 0)
        return api_field + 8;
    if (strncmp(api_field, "location.", 9) == 0)
        return api_field + 9;
    return api_field;
}

static void render_answer_form(http_req *req, http_res *res, const store_appeal *x,
                               const answer_form *in, const appeals_bad *bad)
{
    app *ap = req->ctx;
    const char *token = csrf_token(req, res, ap->key, ap->cookie_secure);
    const char *bad_field = bad ? field_on_page(bad->field) : "";
    const char *err = bad ? bad->message : NULL;
#define ERROR_AT(id) (strcmp(bad_field, (id)) == 0 ? err : NULL)
    page_heading_m(res, "answer", "Tell the investigating team what you know");
    page_form_begin(res, arena_printf(&req->a, "/appeals/%lld", (long long)x->id));
    page_hidden(res, CSRF_FIELD, token ? token : "");
    page_field saw = {.id = "saw",
                      .label = "What did you see or hear?",
                      .hint = "Describe people, vehicles, sounds: anything that may help.",
                      .value = in->saw,
                      .error = ERROR_AT("saw"),
                      .rows = 6,
                      .maxlength = APPEALS_SAW_MAX};
    page_textarea(res, &saw);
    page_field when = {.id = "when",
                       .label = "When was this? (optional)",
                       .hint = "For example, about 10pm on Friday",
                       .value = in->when,
                       .error = ERROR_AT("when")};
    page_input(res, &when);
    buf_puts(&res->body, "<h3 class=\"govuk-heading-s\">Where were you? (optional)</h3><p "
                         "class=\"govuk-body\">As a latitude and longitude, for example 50.7192 "
                         "and -1.8808. With the map, you can choose the point on it.</p>");
    page_field lat = {.id = "lat",
                      .label = "Latitude",
                      .value = in->lat,
                      .error = ERROR_AT("lat"),
                      .width = "govuk-input--width-10"};
    page_input(res, &lat);
    page_field lon = {.id = "lon",
                      .label = "Longitude",
                      .value = in->lon,
                      .error = ERROR_AT("lon"),
                      .width = "govuk-input--width-10"};
    page_input(res, &lon);
    static const page_choice anonymity[] = {{"yes", "Yes, stay anonymous"},
                                            {"no", "No, the team may contact me"}};
    page_field anonymous = {.id = "anonymous",
                            .label = "Do you want to stay anonymous?",
                            .hint = "If you do, the team cannot contact you, and your contact "
                                    "details below are not sent.",
                            .value = in->anonymous,
                            .error = ERROR_AT("anonymous") ? ERROR_AT("anonymous")
                                                           : ERROR_AT("contact")};
    page_radios(res, &anonymous, anonymity, 2, false);
    buf_puts(&res->body, "<h3 class=\"govuk-heading-s\">Your contact details, if you are not "
                         "anonymous</h3>");
    page_field name = {.id = "name",
                       .label = "Your name (optional)",
                       .value = in->name,
                       .error = ERROR_AT("name"),
                       .autocomplete = "name"};
    page_input(res, &name);
    page_field email = {.id = "email",
                        .label = "Email address",
                        .value = in->email,
                        .error = ERROR_AT("email"),
                        .type = "email",
                        .autocomplete = "email",
                        .no_spellcheck = true};
    page_input(res, &email);
    page_field phone = {.id = "phone",
                        .label = "Phone number",
                        .value = in->phone,
                        .error = ERROR_AT("phone"),
                        .type = "tel",
                        .autocomplete = "tel",
                        .width = "govuk-input--width-20"};
    page_input(res, &phone);
    static const page_choice channels[] = {{"email", "By email"}, {"phone", "By phone"}};
    page_field preferred = {.id = "preferred",
                            .label = "How should the team contact you?",
                            .value = in->channel,
                            .error = ERROR_AT("preferred")};
    page_radios(res, &preferred, channels, 2, true);
    page_button(res, "Send your answer");
    page_form_end(res);
#undef ERROR_AT
}

/* The id of the path, or 0 (with a 404 page written) when it is not one. */
static int64_t path_id(http_req *req, http_res *res)
{
    const char *s = req->params[0];
    char *end;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || v < 1 || s[0] == '+' || s[0] == '-') {
        sorry(req, res, 404, "Page not found", "There is no appeal at this address.");
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
        sorry(req, res, 404, "Page not found", "There is no appeal at this address.");
        return false;
    }
    if (rc != STORE_OK) {
        page_unavailable(req, res);
        return false;
    }
    return true;
}

static void render_appeal(http_req *req, http_res *res, const store_appeal *x,
                          const answer_form *in, const appeals_bad *bad, int status)
{
    char published[PAGE_DATE_MAX], expires[PAGE_DATE_MAX];
    const appeal_category *cat = appeal_category_find(x->category);
    bool taking = appeal_check(x->status, x->expires_at, app_now(), APPEAL_ANSWER) == NULL;
    page_opts o = opts_for(req, bad != NULL, true);
    page_begin(req, res, x->title, &o);
    if (bad) {
        page_error e = {.field = field_on_page(bad->field), .message = bad->message};
        if (strcmp(e.field, "contact") == 0)
            e.field = "anonymous";
        page_error_summary(res, &e, 1);
    }
    page_heading(res, x->org_name, x->title);
    if (strcmp(x->status, "closed") == 0) {
        buf_puts(&res->body, "<div class=\"govuk-inset-text\" id=\"outcome\"><h2 "
                             "class=\"govuk-heading-m\">This appeal is closed</h2>");
        paragraphs(res, &req->a, x->outcome);
        buf_puts(&res->body, "</div>");
    } else if (!taking) {
        page_paragraph(res, "This appeal has expired and is no longer taking answers.");
    }
    page_date(x->published_at, published);
    page_date(x->expires_at, expires);
    page_summary_begin(res);
    page_summary_row(res, "Category", cat ? cat->name : x->category);
    page_summary_row(res, "When", when_text(&req->a, x));
    page_summary_row(res, "Where", place_text(&req->a, x));
    page_summary_row(res, "Published", published);
    if (taking)
        page_summary_row(res, "Open until", expires);
    page_summary_end(res);
    map_element(req, res, NULL, x);
    page_heading_m(res, NULL, "What happened");
    paragraphs(res, &req->a, x->description);
    page_heading_m(res, NULL, "Other ways to get in touch");
    paragraphs(res, &req->a, x->contact);
    if (x->anonymous_contact) {
        page_paragraph(res, "To stay anonymous, you can also contact:");
        paragraphs(res, &req->a, x->anonymous_contact);
    }
    if (taking)
        render_answer_form(req, res, x, in, bad);
    buf_puts(&res->body, "<p class=\"govuk-body\"><a class=\"govuk-link\" href=\"/appeals\">All "
                         "appeals</a></p>");
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
        sorry(req, res, 400, "Sorry, the form could not be read", "Go back and try again.");
        return false;
    }
    for (size_t i = 0; i < f->n; i++)
        if (strlen(f->fields[i].value) != f->fields[i].value_len) {
            sorry(req, res, 400, "Sorry, the form could not be read",
                  "The form contains characters that are not allowed. Go back and try again.");
            return false;
        }
    return true;
}

static void render_sent(http_req *req, http_res *res, const store_appeal *x, bool anonymous,
                        const appeals_answer_out *out)
{
    buf *b = &res->body;
    page_opts o = opts_for(req, false, false);
    page_begin(req, res, "Your answer has been sent", &o);
    buf_puts(b, "<div class=\"govuk-panel govuk-panel--confirmation\"><h1 "
                "class=\"govuk-panel__title\">Your answer has been sent</h1><div "
                "class=\"govuk-panel__body\">Your receipt<br><strong id=\"receipt\">");
    buf_put_html(b, out->receipt);
    buf_puts(b, "</strong></div></div>");
    page_paragraph(res,
                   arena_printf(&req->a,
                                "It has gone to the team investigating \xe2\x80\x9c%s\xe2\x80\x9d. "
                                "Thank you.",
                                x->title));
    if (anonymous) {
        page_paragraph(res, "You chose to stay anonymous, so the team cannot contact you. If you "
                            "get in touch about this again, you can quote the receipt.");
    } else {
        page_heading_m(res, NULL, "Check that the team has read it");
        page_paragraph(res, "Keep the receipt and this secret. With them you can see when the "
                            "investigating team has read your answer. The secret is shown only "
                            "once.");
        buf_puts(b, "<p class=\"govuk-body\">Secret: <strong id=\"secret\">");
        buf_put_html(b, out->secret);
        buf_puts(b, "</strong></p><p class=\"govuk-body\"><a class=\"govuk-link\" "
                    "href=\"/appeals/receipt\">Check your answer</a></p>");
    }
    buf_puts(b, "<p class=\"govuk-body\"><a class=\"govuk-link\" href=\"/appeals\">All appeals</a>"
                "</p>");
    page_end(res, 201);
}

/* Fills `a` from what was typed; false with *bad set when the page's own
 * fields (the anonymity choice, the point) are unusable. */
static bool answer_from_form(const answer_form *in, appeals_answer_in *a, appeals_bad *bad)
{
    memset(a, 0, sizeof(*a));
    a->saw = in->saw;
    a->when = in->when;
    if (!in->anonymous || (strcmp(in->anonymous, "yes") != 0 && strcmp(in->anonymous, "no") != 0)) {
        bad->field = "anonymous";
        snprintf(bad->message, sizeof(bad->message), "Choose whether you want to stay anonymous");
        return false;
    }
    a->anonymous = strcmp(in->anonymous, "yes") == 0;
    if (in->lat || in->lon) {
        char both[2 * PLACE_MAX + 2];
        snprintf(both, sizeof(both), "%.*s,%.*s", PLACE_MAX, in->lat ? in->lat : "", PLACE_MAX,
                 in->lon ? in->lon : "");
        if (geo_parse_point(both, &a->point) != GEO_OK) {
            bad->field = "lat";
            snprintf(bad->message, sizeof(bad->message),
                     "Enter the latitude (-90 to 90) and longitude (-180 to 180) as numbers, "
                     "or leave both empty");
            return false;
        }
        a->has_point = true;
    }
    /* An anonymous answer sends none of the contact fields, whatever was
     * typed into them before choosing. */
    if (!a->anonymous) {
        a->name = in->name;
        a->email = in->email;
        a->phone = in->phone;
        a->channel = in->channel;
    }
    return true;
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
        sorry(req, res, 403, "Sorry, your answer could not be sent",
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
    appeals_answer_in a;
    appeals_answer_out out;
    appeals_bad bad = {0};
    if (!answer_from_form(&in, &a, &bad)) {
        render_appeal(req, res, &x, &in, &bad, 400);
        return;
    }
    switch (appeals_answer(req, id, &a, &out)) {
    case APPEALS_ANSWER_OK:
        render_sent(req, res, &x, a.anonymous, &out);
        return;
    case APPEALS_ANSWER_INVALID:
        render_appeal(req, res, &x, &in, &out.bad, 400);
        return;
    case APPEALS_ANSWER_LIMITED:
        sorry(req, res, 429, "Sorry, too many answers",
              "Too many answers have come from your connection. Try again in an hour, or use "
              "one of the other ways to get in touch shown on the appeal.");
        http_res_header(res, "Retry-After", arena_printf(&req->a, "%u", out.retry_after));
        return;
    case APPEALS_ANSWER_NOT_FOUND:
    case APPEALS_ANSWER_CLOSED:
        sorry(req, res, 409, "This appeal is no longer taking answers",
              "It has closed or expired. You can still use the other ways to get in touch "
              "shown on the appeal.");
        return;
    case APPEALS_ANSWER_UNAVAILABLE:
        break;
    }
    page_unavailable(req, res);
}

/* ---- receipts ---- */

static void render_receipt_form(http_req *req, http_res *res, int status, const char *error,
                                const char *field, const char *receipt)
{
    page_opts o = opts_for(req, error != NULL, false);
    page_begin(req, res, "Check your answer", &o);
    if (error) {
        page_error e = {.field = field, .message = error};
        page_error_summary(res, &e, 1);
    }
    page_heading(res, NULL, "Check your answer");
    page_paragraph(res, "Enter the receipt and the secret you were given when you answered an "
                        "appeal with your contact details, to see whether the investigating "
                        "team has read it.");
    page_form_begin(res, "/appeals/receipt");
    page_field r = {.id = "receipt",
                    .label = "Receipt",
                    .hint = "For example, K7QM-2XPD-C",
                    .value = receipt,
                    .error = field && strcmp(field, "receipt") == 0 ? error : NULL,
                    .width = "govuk-input--width-10",
                    .no_spellcheck = true};
    page_input(res, &r);
    page_field s = {.id = "secret",
                    .label = "Secret",
                    .type = "password",
                    .error = field && strcmp(field, "secret") == 0 ? error : NULL,
                    .width = "govuk-input--width-20",
                    .no_spellcheck = true};
    page_input(res, &s);
    page_button(res, "Check");
    page_form_end(res);
    page_end(res, status);
}

void page_receipt_form(http_req *req, http_res *res)
{
    render_receipt_form(req, res, 200, NULL, NULL, NULL);
}

void page_receipt_show(http_req *req, http_res *res)
{
    form f;
    appeals_receipt r;
    char date[PAGE_DATE_MAX];
    if (!read_form(req, res, &f))
        return;
    const char *receipt = form_value(&f, "receipt"), *secret = form_value(&f, "secret");
    if (!receipt || strlen(receipt) > 64 || !valid_text(receipt, 64, false)) {
        render_receipt_form(req, res, 400, "Enter your receipt, like K7QM-2XPD-C", "receipt", NULL);
        return;
    }
    if (!secret) {
        render_receipt_form(req, res, 400, "Enter the secret you were given with the receipt",
                            "secret", receipt);
        return;
    }
    switch (appeals_receipt_open(req, receipt, secret, &r)) {
    case APPEALS_RECEIPT_OK:
        break;
    case APPEALS_RECEIPT_BAD_REFERENCE:
        render_receipt_form(req, res, 400,
                            "Enter the receipt as it was given to you, like K7QM-2XPD-C", "receipt",
                            receipt);
        return;
    case APPEALS_RECEIPT_NOT_FOUND:
        render_receipt_form(req, res, 404,
                            "No answer matches that receipt and secret. Check them and try "
                            "again. Anonymous answers cannot be checked.",
                            "receipt", receipt);
        return;
    case APPEALS_RECEIPT_LIMITED:
        render_receipt_form(req, res, 429, "There have been too many attempts. Wait and try again.",
                            "receipt", receipt);
        http_res_header(res, "Retry-After", arena_printf(&req->a, "%u", r.retry_after));
        return;
    case APPEALS_RECEIPT_UNAVAILABLE:
        page_unavailable(req, res);
        return;
    }
    page_opts o = opts_for(req, false, false);
    page_begin(req, res, "Your answer", &o);
    page_heading(res, arena_printf(&req->a, "Receipt %s", r.receipt), "Your answer");
    page_date(r.answer.created_at, date);
    page_summary_begin(res);
    page_summary_row(res, "Appeal", r.answer.appeal_title);
    page_summary_row(res, "Sent", date);
    page_summary_end(res);
    if (r.answer.first_read_at) {
        page_date(r.answer.first_read_at, date);
        buf_puts(&res->body, "<div class=\"govuk-panel govuk-panel--confirmation\" "
                             "id=\"status\"><h2 class=\"govuk-panel__title\">Received by the "
                             "investigating team</h2><div class=\"govuk-panel__body\">Read on ");
        page_text(res, date);
        buf_puts(&res->body, "</div></div>");
    } else {
        buf_puts(&res->body, "<div class=\"govuk-inset-text\" id=\"status\">Your answer has "
                             "been delivered. The investigating team has not read it yet.</div>");
    }
    page_heading_m(res, NULL, "Who has seen your contact details");
    if (r.n_reads == 0) {
        page_paragraph(res, "No one yet.");
    } else {
        static const char *const headers[] = {"Date", "Organisation", "Reason"};
        page_table_begin(res, "Each time staff were shown your details, and why", headers, 3);
        for (size_t i = 0; i < r.n_reads; i++) {
            page_date(r.reads[i].at, date);
            const char *cells[] = {date, r.reads[i].reader_org_name, r.reads[i].purpose};
            page_table_row(res, cells, 3);
        }
        page_table_end(res);
    }
    page_end(res, 200);
}
