/* track_page.c - the public tracking pages: a form, then the case's timeline.
 *
 * Credentials travel only in POST bodies, never in URLs. The timeline page
 * carries them in hidden fields so that the message and feedback forms can
 * prove the case again; knowing them is also what stops cross-site posts.
 */
#include <string.h>
#include <stdio.h>
#include <strings.h>
#include <time.h>

#include "api/app.h"
#include "api/handlers.h"
#include "api/notices.h"
#include "api/track.h"
#include "domain/validate.h"
#include "http/form.h"
#include "web/page.h"

#define MESSAGE_MAX 2000

typedef struct page_input {
    form f;
    const char *reference;
    track_credential cred;
} page_input;

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

/* The form, with `error` (and the field it concerns) shown above it. */
static void render_form(http_res *res, int status, const char *error, const char *field,
                        const char *reference)
{
    buf *b = &res->body;
    page_begin(res, error ? "Error: Track your case" : "Track your case");
    if (error)
        page_error_summary(res, error, field);
    page_heading(res, "Track your case");
    page_paragraph(res, "Enter the reference you were given and either your tracking secret or "
                        "the postcode on your case.");
    buf_puts(b, "<form method=\"post\" action=\"/track\" novalidate>"
                "<div class=\"govuk-form-group\"><label class=\"govuk-label\" for=\"reference\">"
                "Case reference</label><div class=\"govuk-hint\" id=\"reference-hint\">For "
                "example, K7QM-2XPD-C</div><input class=\"govuk-input\" id=\"reference\" "
                "name=\"reference\" type=\"text\" autocomplete=\"off\" spellcheck=\"false\" "
                "aria-describedby=\"reference-hint\" value=\"");
    buf_put_html(b, reference ? reference : "");
    buf_puts(b, "\"></div><div class=\"govuk-form-group\"><label class=\"govuk-label\" "
                "for=\"secret\">Tracking secret</label><input class=\"govuk-input\" id=\"secret\" "
                "name=\"secret\" type=\"password\" autocomplete=\"off\" spellcheck=\"false\"></div>"
                "<div class=\"govuk-form-group\"><label class=\"govuk-label\" for=\"postcode\">"
                "Or the postcode on your case</label><input class=\"govuk-input\" id=\"postcode\" "
                "name=\"postcode\" type=\"text\" autocomplete=\"postal-code\"></div>"
                "<button type=\"submit\" class=\"govuk-button\">Show my case</button></form>");
    page_end(res, status);
}

void page_home(http_req *req, http_res *res)
{
    (void)req;
    res->status = 303;
    http_res_header(res, "Location", "/track");
}

void page_track_form(http_req *req, http_res *res)
{
    (void)req;
    render_form(res, 200, NULL, NULL, NULL);
}

/* Reads the posted form; false (with the page written) when it is unusable. */
static bool read_input(http_req *req, http_res *res, page_input *in)
{
    const char *ct = http_header_get(req, "Content-Type");
    memset(in, 0, sizeof(*in));
    if (req->body_too_large || !ct ||
        strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0 ||
        form_parse(&req->a, req->body.data ? req->body.data : "", req->body.len, &in->f) != 0) {
        render_form(res, 400, "The form could not be read. Please try again.", "reference", NULL);
        return false;
    }
    for (size_t i = 0; i < in->f.n; i++)
        if (strlen(in->f.fields[i].value) != in->f.fields[i].value_len) {
            render_form(res, 400, "The form contains characters that are not allowed.", "reference",
                        NULL);
            return false;
        }
    in->reference = form_get(&in->f, "reference");
    in->cred.secret = form_get(&in->f, "secret");
    in->cred.postcode = form_get(&in->f, "postcode");
    if (in->cred.secret && !*in->cred.secret)
        in->cred.secret = NULL;
    if (in->cred.postcode && !*in->cred.postcode)
        in->cred.postcode = NULL;
    if (!in->reference || !*in->reference) {
        render_form(res, 400, "Enter your case reference", "reference", NULL);
        return false;
    }
    if (strlen(in->reference) > 64 || !valid_text(in->reference, 64, false)) {
        render_form(res, 400, "Enter the reference as it was given to you, like K7QM-2XPD-C",
                    "reference", NULL);
        return false;
    }
    return true;
}

/* Opens the case named by the form; false (with the page written) on failure. */
static bool open_case(http_req *req, http_res *res, const page_input *in, track_result *r)
{
    switch (track_open(req, in->reference, &in->cred, r)) {
    case TRACK_OK:
        return true;
    case TRACK_BAD_REFERENCE:
        render_form(res, 400, ref_error_message(r->why), "reference", in->reference);
        return false;
    case TRACK_NO_CREDENTIAL:
        render_form(res, 400, "Enter your tracking secret or the postcode on your case", "secret",
                    in->reference);
        return false;
    case TRACK_NOT_FOUND:
        render_form(res, 404,
                    "No case matches that reference and tracking secret or postcode. Check "
                    "them and try again.",
                    "reference", in->reference);
        return false;
    case TRACK_LIMITED:
        render_form(res, 429,
                    "There have been too many attempts. Wait an hour and try again, or contact "
                    "the organisation dealing with your case.",
                    "reference", in->reference);
        http_res_header(res, "Retry-After", arena_printf(&req->a, "%u", r->retry_after));
        return false;
    case TRACK_UNAVAILABLE:
        break;
    }
    page_begin(res, "Sorry, there is a problem with the service");
    page_heading(res, "Sorry, there is a problem with the service");
    page_paragraph(res, "Try again in a few minutes.");
    page_end(res, 503);
    return false;
}

static void hidden_credentials(buf *b, const page_input *in)
{
    buf_puts(b, "<input type=\"hidden\" name=\"reference\" value=\"");
    buf_put_html(b, in->reference);
    buf_puts(b, "\">");
    if (in->cred.secret) {
        buf_puts(b, "<input type=\"hidden\" name=\"secret\" value=\"");
        buf_put_html(b, in->cred.secret);
        buf_puts(b, "\">");
    } else if (in->cred.postcode) {
        buf_puts(b, "<input type=\"hidden\" name=\"postcode\" value=\"");
        buf_put_html(b, in->cred.postcode);
        buf_puts(b, "\">");
    }
}

/* A role as the citizen reads it. */
static const char *role_text(const char *role)
{
    static const char *const names[][2] = {
        {"administrator", "Administrator"}, {"caseworker", "Caseworker"}, {"analyst", "Analyst"}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(role, names[i][0]) == 0)
            return names[i][1];
    return role;
}

static void td(buf *b, const char *text)
{
    buf_puts(b, "<td class=\"govuk-table__cell\">");
    buf_put_html(b, text);
    buf_puts(b, "</td>");
}

/* Who has been shown the citizen's data, newest first, as a GOV.UK table. */
static void render_accesses(buf *b, const track_view *v)
{
    char date[32];
    buf_puts(b, "<h2 class=\"govuk-heading-m\" id=\"accesses\">Who has looked at your "
                "information</h2>");
    if (v->n_accesses == 0) {
        buf_puts(b, "<p class=\"govuk-body\">No one has looked at your personal information "
                    "yet.</p>");
        return;
    }
    buf_puts(b, "<table class=\"govuk-table\"><caption class=\"govuk-table__caption\">Each time "
                "staff or a system were shown your personal information, and why</caption>"
                "<thead class=\"govuk-table__head\"><tr class=\"govuk-table__row\">"
                "<th scope=\"col\" class=\"govuk-table__header\">Date</th>"
                "<th scope=\"col\" class=\"govuk-table__header\">Organisation</th>"
                "<th scope=\"col\" class=\"govuk-table__header\">Role</th>");
    if (v->officers_shown)
        buf_puts(b, "<th scope=\"col\" class=\"govuk-table__header\">Officer</th>");
    buf_puts(b, "<th scope=\"col\" class=\"govuk-table__header\">Reason</th></tr></thead>"
                "<tbody class=\"govuk-table__body\">");
    for (size_t i = 0; i < v->n_accesses; i++) {
        const track_access *x = &v->accesses[i];
        date_text(x->at, date, sizeof(date));
        buf_puts(b, "<tr class=\"govuk-table__row\">");
        td(b, date);
        td(b, x->organisation);
        td(b, role_text(x->role));
        if (v->officers_shown)
            td(b, x->officer);
        td(b, x->purpose);
        buf_puts(b, "</tr>");
    }
    buf_puts(b, "</tbody></table>");
}

static void render_preferences(buf *b, const page_input *in, const notice_prefs *p);

static void render_timeline(http_res *res, const track_view *v, const page_input *in,
                            const notice_prefs *prefs, const char *confirmation, const char *error,
                            const char *error_field)
{
    buf *b = &res->body;
    char date[32];
    page_begin(res, "Your case");
    if (error)
        page_error_summary(res, error, error_field);
    if (confirmation) {
        buf_puts(b, "<div class=\"govuk-panel\" role=\"status\">");
        buf_put_html(b, confirmation);
        buf_puts(b, "</div>");
    }
    buf_puts(b, "<span class=\"govuk-caption-l\">");
    buf_put_html(b, v->org_name);
    buf_puts(b, " &middot; ");
    buf_put_html(b, v->service_name);
    buf_puts(b, "</span>");
    page_heading(res, v->stage_name);

    buf_puts(b, "<dl class=\"govuk-summary-list\"><dt>Reference</dt><dd>");
    buf_put_html(b, v->reference);
    buf_puts(b, "</dd><dt>Opened</dt><dd>");
    date_text(v->opened_at, date, sizeof(date));
    buf_put_html(b, date);
    if (v->closed) {
        buf_puts(b, "</dd><dt>Closed</dt><dd>");
        date_text(v->closed_at, date, sizeof(date));
        buf_put_html(b, date);
    } else {
        buf_puts(b, "</dd><dt>Expected completion</dt><dd>");
        if (v->expected.available) {
            char lo[32], hi[32];
            date_text(v->opened_at + v->expected.median_s, date, sizeof(date));
            date_text(v->opened_at + v->expected.low_s, lo, sizeof(lo));
            date_text(v->opened_at + v->expected.high_s, hi, sizeof(hi));
            buf_puts(b, "Around ");
            buf_put_html(b, date);
            buf_puts(b, " (most similar cases finish between ");
            buf_put_html(b, lo);
            buf_puts(b, " and ");
            buf_put_html(b, hi);
            buf_printf(b, "; based on %zu cases)", v->expected.sample);
        } else {
            buf_put_html(b, v->expected.reason);
        }
        buf_puts(b, "</dd><dt>Target date</dt><dd>");
        date_text(v->target_date, date, sizeof(date));
        buf_put_html(b, date);
    }
    buf_puts(b, "</dd></dl><h2 class=\"govuk-heading-m\">What has happened</h2>"
                "<ol class=\"app-timeline\" reversed>");
    for (size_t i = v->n_timeline; i-- > 0;) {
        const track_entry *t = &v->timeline[i];
        buf_puts(b, "<li><span class=\"app-timeline__title\">");
        if (strcmp(t->type, "milestone") == 0)
            buf_put_html(b, t->stage_name);
        else if (strcmp(t->type, "update") == 0)
            buf_puts(b, "Update");
        else if (strcmp(t->type, "message") == 0)
            buf_puts(b, "Your message");
        else
            buf_printf(b, "Your feedback: %d out of 5", t->rating);
        buf_puts(b, "</span><span class=\"app-timeline__date\">");
        date_text(t->at, date, sizeof(date));
        buf_put_html(b, date);
        buf_puts(b, "</span>");
        if (t->note) {
            buf_puts(b, "<p class=\"govuk-body\">");
            buf_put_html(b, t->note);
            buf_puts(b, "</p>");
        }
        buf_puts(b, "</li>");
    }
    buf_puts(b, "</ol>");
    render_accesses(b, v);
    if (prefs)
        render_preferences(b, in, prefs);

    if (!v->closed) {
        buf_puts(b, "<h2 class=\"govuk-heading-m\">Send a message to the case officer</h2>"
                    "<form method=\"post\" action=\"/track/message\" novalidate>");
        hidden_credentials(b, in);
        buf_puts(b, "<div class=\"govuk-form-group\"><label class=\"govuk-label\" "
                    "for=\"message\">Your message</label><textarea class=\"govuk-textarea\" "
                    "id=\"message\" name=\"message\" rows=\"5\" maxlength=\"2000\"></textarea>"
                    "</div><button type=\"submit\" class=\"govuk-button\">Send message</button>"
                    "</form>");
    } else if (!v->feedback_given) {
        buf_puts(b, "<h2 class=\"govuk-heading-m\">Tell us how we did</h2>"
                    "<form method=\"post\" action=\"/track/feedback\" novalidate>");
        hidden_credentials(b, in);
        buf_puts(b, "<fieldset class=\"govuk-fieldset\" id=\"rating\"><legend "
                    "class=\"govuk-label\">How satisfied are you, from 1 (very dissatisfied) to "
                    "5 (very satisfied)?</legend>");
        for (int i = 1; i <= 5; i++)
            buf_printf(b,
                       "<div class=\"govuk-radios__item\"><input type=\"radio\" id=\"rating-%d\" "
                       "name=\"rating\" value=\"%d\"> <label for=\"rating-%d\">%d</label></div>",
                       i, i, i, i);
        buf_puts(b, "</fieldset><div class=\"govuk-form-group\"><label class=\"govuk-label\" "
                    "for=\"comment\">Comments (optional)</label><textarea class=\"govuk-textarea\" "
                    "id=\"comment\" name=\"comment\" rows=\"4\" maxlength=\"2000\"></textarea>"
                    "</div><button type=\"submit\" class=\"govuk-button\">Send feedback</button>"
                    "</form>");
    }
    page_end(res, error ? 400 : 200);
}

/* Opens the case from the form and renders its timeline with a message. */
static void show(http_req *req, http_res *res, const page_input *in, const track_result *r,
                 const char *confirmation, const char *error, const char *error_field)
{
    track_view v;
    notice_prefs prefs;
    bool stated;
    if (track_view_build(req, res, &r->c, &v) != 0 ||
        notices_prefs(req->ctx, &req->a, &r->c, &prefs, &stated) != STORE_OK) {
        buf_reset(&res->body);
        res->n_headers = 0;
        page_begin(res, "Sorry, there is a problem with the service");
        page_heading(res, "Sorry, there is a problem with the service");
        page_paragraph(res, "Try again in a few minutes.");
        page_end(res, 503);
        return;
    }
    render_timeline(res, &v, in, r->c.person.id ? &prefs : NULL, confirmation, error, error_field);
}

void page_track_show(http_req *req, http_res *res)
{
    page_input in;
    track_result r;
    if (!read_input(req, res, &in) || !open_case(req, res, &in, &r))
        return;
    show(req, res, &in, &r, NULL, NULL, NULL);
}

void page_track_message(http_req *req, http_res *res)
{
    page_input in;
    track_result r;
    if (!read_input(req, res, &in) || !open_case(req, res, &in, &r))
        return;
    const char *text = form_get(&in.f, "message");
    if (!text || !*text || !valid_text(text, MESSAGE_MAX, true)) {
        show(req, res, &in, &r, NULL, "Enter a message of up to 2000 characters", "message");
        return;
    }
    if (track_add_message(req, &r.c, text) != STORE_OK) {
        show(req, res, &in, &r, NULL, "Your message could not be sent. Try again.", "message");
        return;
    }
    show(req, res, &in, &r, "Your message has been sent to the case officer.", NULL, NULL);
}

void page_track_feedback(http_req *req, http_res *res)
{
    page_input in;
    track_result r;
    if (!read_input(req, res, &in) || !open_case(req, res, &in, &r))
        return;
    const char *rating = form_get(&in.f, "rating");
    const char *comment = form_get(&in.f, "comment");
    if (comment && !*comment)
        comment = NULL;
    if (!rating || strlen(rating) != 1 || rating[0] < '1' || rating[0] > '5') {
        show(req, res, &in, &r, NULL, "Choose a rating from 1 to 5", "rating");
        return;
    }
    if (comment && !valid_text(comment, MESSAGE_MAX, true)) {
        show(req, res, &in, &r, NULL, "Comments can be up to 2000 characters", "comment");
        return;
    }
    store_rc rc = track_add_feedback(req, &r.c, rating[0] - '0', comment);
    if (rc == STORE_CONFLICT) {
        show(req, res, &in, &r, NULL,
             r.c.closed_at ? "Feedback has already been given for this case"
                           : "Feedback can be given once the case is closed",
             "rating");
        return;
    }
    if (rc != STORE_OK) {
        show(req, res, &in, &r, NULL, "Your feedback could not be sent. Try again.", "rating");
        return;
    }
    show(req, res, &in, &r, "Thank you for your feedback.", NULL, NULL);
}

/* ---- notification preferences ---- */

static void radio(buf *b, const char *name, const char *value, const char *label, bool checked)
{
    buf_printf(b,
               "<div class=\"govuk-radios__item\"><input class=\"govuk-radios__input\" "
               "type=\"radio\" id=\"%s-%s\" name=\"%s\" value=\"%s\"%s> <label "
               "class=\"govuk-label govuk-radios__label\" for=\"%s-%s\">%s</label></div>",
               name, value, name, value, checked ? " checked" : "", name, value, label);
}

/* The form that changes how the citizen is told; it proves the case with
 * the same hidden credentials as the message form. */
static void render_preferences(buf *b, const page_input *in, const notice_prefs *p)
{
    static const char *const labels[NOTICE_CHANNEL_COUNT] = {"Email", "Text message (SMS)",
                                                             "Letter", "Phone call"};
    buf_puts(b, "<h2 class=\"govuk-heading-m\">How we keep you informed</h2>"
                "<form method=\"post\" action=\"/track/preferences\" novalidate>");
    hidden_credentials(b, in);
    buf_puts(b, "<fieldset class=\"govuk-fieldset\" id=\"channels\"><legend "
                "class=\"govuk-label\">How should we contact you? Choose none to hear "
                "nothing.</legend>");
    for (unsigned i = 0; i < NOTICE_CHANNEL_COUNT; i++) {
        const char *name = notice_channel_name(1u << i);
        buf_printf(b,
                   "<div class=\"govuk-checkboxes__item\"><input class=\"govuk-checkboxes__input\" "
                   "type=\"checkbox\" id=\"channels-%s\" name=\"channels\" value=\"%s\"%s> "
                   "<label class=\"govuk-label govuk-checkboxes__label\" "
                   "for=\"channels-%s\">%s</label></div>",
                   name, name, p->channels & (1u << i) ? " checked" : "", name, labels[i]);
    }
    buf_puts(b, "</fieldset><fieldset class=\"govuk-fieldset\" id=\"language\"><legend "
                "class=\"govuk-label\">Language</legend>");
    radio(b, "language", "en", "English", strcmp(p->language, "en") == 0);
    radio(b, "language", "cy", "Cymraeg (Welsh)", strcmp(p->language, "cy") == 0);
    buf_puts(b, "</fieldset><fieldset class=\"govuk-fieldset\" id=\"frequency\"><legend "
                "class=\"govuk-label\">How often</legend>");
    radio(b, "frequency", "every", "Every update", p->frequency == NOTICE_EVERY);
    radio(b, "frequency", "milestones", "Only when the case reaches a milestone",
          p->frequency == NOTICE_MILESTONES);
    radio(b, "frequency", "none", "Never", p->frequency == NOTICE_NEVER);
    buf_puts(b, "</fieldset><button type=\"submit\" class=\"govuk-button "
                "govuk-button--secondary\">Save how we contact you</button></form>");
}

void page_track_preferences(http_req *req, http_res *res)
{
    page_input in;
    track_result r;
    if (!read_input(req, res, &in) || !open_case(req, res, &in, &r))
        return;
    if (!r.c.person.id) {
        show(req, res, &in, &r, NULL, "There are no contact details on this case", "channels");
        return;
    }
    notice_prefs p = {.language = notice_language(form_get(&in.f, "language"))};
    for (size_t i = 0; i < in.f.n; i++) {
        unsigned bit = 0;
        if (strcmp(in.f.fields[i].key, "channels") != 0)
            continue;
        if (!notice_channels_parse(in.f.fields[i].value, &bit, NULL, 0) ||
            !notice_channel_name(bit)) {
            show(req, res, &in, &r, NULL, "Choose email, text message, letter or phone call",
                 "channels");
            return;
        }
        p.channels |= bit;
    }
    if (!p.language) {
        show(req, res, &in, &r, NULL, "Choose English or Cymraeg", "language");
        return;
    }
    if (!notice_frequency_parse(form_get(&in.f, "frequency"), &p.frequency)) {
        show(req, res, &in, &r, NULL, "Choose how often we should tell you", "frequency");
        return;
    }
    store_prefs sp = notices_prefs_store(&req->a, &p, app_now());
    if (store_prefs_set(((app *)req->ctx)->store, r.c.id, &sp) != STORE_OK) {
        show(req, res, &in, &r, NULL, "Your choices could not be saved. Try again.", "channels");
        return;
    }
    show(req, res, &in, &r, "Your choices have been saved.", NULL, NULL);
}
