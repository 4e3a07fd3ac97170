/* track_page.c - the public tracking pages: a form, then the case's timeline.
 *
 * Credentials travel only in POST bodies, never in URLs. The timeline page
 * carries them in hidden fields so that the message and feedback forms can
 * prove the case again; knowing them is also what stops cross-site posts.
 */
#include <string.h>
#include <strings.h>

#include "api/app.h"
#include "api/handlers.h"
#include "api/track.h"
#include "domain/validate.h"
#include "http/form.h"
#include "web/page.h"

#define MESSAGE_MAX 2000

typedef struct track_form {
    form f;
    const char *reference;
    track_credential cred;
} track_form;

/* The look-up form; `error` (about `field`, "reference" or "secret") is shown
 * in the summary and beside its field. */
static void render_form(http_req *req, http_res *res, int status, const char *error,
                        const char *field, const char *reference)
{
    page_error e = {field, error};
    page_opts opts = {.section = PAGE_TRACKING, .error = error != NULL};
    page_begin(req, res, "Track your case", &opts);
    page_error_summary(res, &e, error ? 1 : 0);
    page_heading(res, NULL, "Track your case");
    page_paragraph(res, "Enter the reference you were given and either your tracking secret or "
                        "the postcode on your case.");
    page_form_begin(res, "/track");
    bool on_reference = error && strcmp(field, "reference") == 0;
    page_input(res, &(page_field){.id = "reference",
                                  .label = "Case reference",
                                  .hint = "For example, K7QM-2XPD-C",
                                  .value = reference,
                                  .error = on_reference ? error : NULL,
                                  .width = "govuk-input--width-10",
                                  .no_spellcheck = true});
    page_input(res, &(page_field){.id = "secret",
                                  .label = "Tracking secret",
                                  .hint = "It was given to you with your reference",
                                  .error = error && !on_reference ? error : NULL,
                                  .type = "password",
                                  .width = "govuk-input--width-20",
                                  .no_spellcheck = true});
    page_input(res, &(page_field){.id = "postcode",
                                  .label = "Or the postcode on your case",
                                  .autocomplete = "postal-code",
                                  .width = "govuk-input--width-10"});
    page_button(res, "Show my case");
    page_form_end(res);
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
    render_form(req, res, 200, NULL, NULL, NULL);
}

/* Reads the posted form; false (with the page written) when it is unusable. */
static bool read_input(http_req *req, http_res *res, track_form *in)
{
    const char *ct = http_header_get(req, "Content-Type");
    memset(in, 0, sizeof(*in));
    if (req->body_too_large || !ct ||
        strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0 ||
        form_parse(&req->a, req->body.data ? req->body.data : "", req->body.len, &in->f) != 0) {
        render_form(req, res, 400, "The form could not be read. Please try again.", "reference",
                    NULL);
        return false;
    }
    for (size_t i = 0; i < in->f.n; i++)
        if (strlen(in->f.fields[i].value) != in->f.fields[i].value_len) {
            render_form(req, res, 400, "The form contains characters that are not allowed.",
                        "reference", NULL);
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
        render_form(req, res, 400, "Enter your case reference", "reference", NULL);
        return false;
    }
    if (strlen(in->reference) > 64 || !valid_text(in->reference, 64, false)) {
        render_form(req, res, 400, "Enter the reference as it was given to you, like K7QM-2XPD-C",
                    "reference", NULL);
        return false;
    }
    return true;
}

/* Opens the case named by the form; false (with the page written) on failure. */
static bool open_case(http_req *req, http_res *res, const track_form *in, track_result *r)
{
    switch (track_open(req, in->reference, &in->cred, r)) {
    case TRACK_OK:
        return true;
    case TRACK_BAD_REFERENCE:
        render_form(req, res, 400, ref_error_message(r->why), "reference", in->reference);
        return false;
    case TRACK_NO_CREDENTIAL:
        render_form(req, res, 400, "Enter your tracking secret or the postcode on your case",
                    "secret", in->reference);
        return false;
    case TRACK_NOT_FOUND:
        render_form(req, res, 404,
                    "No case matches that reference and tracking secret or postcode. Check "
                    "them and try again.",
                    "reference", in->reference);
        return false;
    case TRACK_LIMITED:
        render_form(req, res, 429,
                    "There have been too many attempts. Wait an hour and try again, or contact "
                    "the organisation dealing with your case.",
                    "reference", in->reference);
        http_res_header(res, "Retry-After", arena_printf(&req->a, "%u", r->retry_after));
        return false;
    case TRACK_UNAVAILABLE:
        break;
    }
    page_unavailable(req, res);
    return false;
}

static void hidden_credentials(http_res *res, const track_form *in)
{
    page_hidden(res, "reference", in->reference);
    if (in->cred.secret)
        page_hidden(res, "secret", in->cred.secret);
    else if (in->cred.postcode)
        page_hidden(res, "postcode", in->cred.postcode);
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

/* Who has been shown the citizen's data, newest first, as a GOV.UK table. */
static void render_accesses(http_res *res, const track_view *v)
{
    static const char *const with_officer[] = {"Date",    "Organisation", "Role",
                                               "Officer", "Reason",       "Public log entry"};
    static const char *const without_officer[] = {"Date", "Organisation", "Role", "Reason",
                                                  "Public log entry"};
    page_heading_m(res, "accesses", "Who has looked at your information");
    if (v->n_accesses == 0) {
        page_paragraph(res, "No one has looked at your personal information yet.");
        return;
    }
    page_table_begin(res,
                     "Each time staff or a system were shown your personal information, and why",
                     v->officers_shown ? with_officer : without_officer, v->officers_shown ? 6 : 5);
    for (size_t i = 0; i < v->n_accesses; i++) {
        const track_access *x = &v->accesses[i];
        char date[PAGE_DATE_MAX];
        page_date(x->at, date);
        /* "none" for a read older than the public log */
        char entry[24] = "none";
        if (x->log_index >= 0)
            snprintf(entry, sizeof(entry), "#%lld", (long long)x->log_index);
        const char *cells[6];
        size_t n = 0;
        cells[n++] = date;
        cells[n++] = x->organisation;
        cells[n++] = role_text(x->role);
        if (v->officers_shown)
            cells[n++] = x->officer;
        cells[n++] = x->purpose;
        cells[n++] = entry;
        page_table_row(res, cells, n);
    }
    page_table_end(res);
}

/* The case at a glance: reference, dates, and when it should be done. */
static void render_summary(http_req *req, http_res *res, const track_view *v)
{
    char date[PAGE_DATE_MAX];
    page_summary_begin(res);
    page_summary_row(res, "Reference", v->reference);
    page_summary_row(res, "Name in the public log", v->pseudonym);
    page_date(v->opened_at, date);
    page_summary_row(res, "Opened", date);
    if (v->closed) {
        page_date(v->closed_at, date);
        page_summary_row(res, "Closed", date);
    } else {
        const char *expected = v->expected.reason;
        if (v->expected.available) {
            char lo[PAGE_DATE_MAX], hi[PAGE_DATE_MAX];
            page_date(v->opened_at + v->expected.median_s, date);
            page_date(v->opened_at + v->expected.low_s, lo);
            page_date(v->opened_at + v->expected.high_s, hi);
            expected = arena_printf(&req->a,
                                    "Around %s (most similar cases finish between %s and %s; "
                                    "based on %zu cases)",
                                    date, lo, hi, v->expected.sample);
        }
        page_summary_row(res, "Expected completion", expected);
        page_date(v->target_date, date);
        page_summary_row(res, "Target date", date);
    }
    page_summary_end(res);
}

/* What has happened, newest first. */
static void render_timeline(http_req *req, http_res *res, const track_view *v)
{
    page_heading_m(res, "timeline", "What has happened");
    page_timeline_begin(res);
    for (size_t i = v->n_timeline; i-- > 0;) {
        const track_entry *t = &v->timeline[i];
        const char *title;
        if (strcmp(t->type, "milestone") == 0)
            title = t->stage_name;
        else if (strcmp(t->type, "update") == 0)
            title = "Update";
        else if (strcmp(t->type, "message") == 0)
            title = "Your message";
        else
            title = arena_printf(&req->a, "Your feedback: %d out of 5", t->rating);
        const char *entry = t->log_index >= 0 ? arena_printf(&req->a, "public log entry #%lld",
                                                             (long long)t->log_index)
                                              : NULL;
        page_timeline_item(res, title, t->at, entry, t->note);
    }
    page_timeline_end(res);
}

/* The case page. `error` concerns `error_field` of the message or feedback
 * form, whose values (`message`, `rating`, `comment`) are shown again. */
typedef struct case_page {
    const char *confirmation;
    const char *error;
    const char *error_field;
    const char *message;
    const char *rating;
    const char *comment;
} case_page;

static void render_case(http_req *req, http_res *res, const track_view *v, const track_form *in,
                        const case_page *p)
{
    static const page_choice ratings[] = {
        {"1", "1"}, {"2", "2"}, {"3", "3"}, {"4", "4"}, {"5", "5"}};
    page_error e = {p->error_field, p->error};
    page_opts opts = {.section = PAGE_TRACKING, .error = p->error != NULL};
    page_begin(req, res, "Your case", &opts);
    page_error_summary(res, &e, p->error ? 1 : 0);
    if (p->confirmation)
        page_success_banner(res, p->confirmation);
    page_heading(res, arena_printf(&req->a, "%s \u00b7 %s", v->org_name, v->service_name),
                 v->stage_name);
    render_summary(req, res, v);
    render_timeline(req, res, v);
    render_accesses(res, v);

    const char *field = p->error ? p->error_field : "";
    if (!v->closed) {
        page_heading_m(res, "message-heading", "Send a message to the case officer");
        page_form_begin(res, "/track/message");
        hidden_credentials(res, in);
        page_textarea(res, &(page_field){.id = "message",
                                         .label = "Your message",
                                         .hint = "Do not include bank details or passwords",
                                         .value = p->message,
                                         .error = strcmp(field, "message") == 0 ? p->error : NULL,
                                         .rows = 5,
                                         .maxlength = MESSAGE_MAX});
        page_button(res, "Send message");
        page_form_end(res);
    } else if (!v->feedback_given) {
        page_heading_m(res, "feedback-heading", "Tell us how we did");
        page_form_begin(res, "/track/feedback");
        hidden_credentials(res, in);
        page_radios(res,
                    &(page_field){.id = "rating",
                                  .label = "How satisfied are you, from 1 (very dissatisfied) to 5 "
                                           "(very satisfied)?",
                                  .value = p->rating,
                                  .error = strcmp(field, "rating") == 0 ? p->error : NULL},
                    ratings, sizeof(ratings) / sizeof(ratings[0]), true);
        page_textarea(res, &(page_field){.id = "comment",
                                         .label = "Comments (optional)",
                                         .value = p->comment,
                                         .error = strcmp(field, "comment") == 0 ? p->error : NULL,
                                         .rows = 4,
                                         .maxlength = MESSAGE_MAX});
        page_button(res, "Send feedback");
        page_form_end(res);
    }
    page_end(res, p->error ? 400 : 200);
}

/* Builds the citizen's view of the case and renders it. */
static void show(http_req *req, http_res *res, const track_form *in, const track_result *r,
                 const case_page *p)
{
    track_view v;
    if (track_view_build(req, res, r, &v) != 0) {
        page_unavailable(req, res);
        return;
    }
    render_case(req, res, &v, in, p);
}

void page_track_show(http_req *req, http_res *res)
{
    track_form in;
    track_result r;
    if (!read_input(req, res, &in) || !open_case(req, res, &in, &r))
        return;
    show(req, res, &in, &r, &(case_page){0});
}

/* What is wrong with a message or comment the citizen wrote, or NULL. */
static const char *text_problem(const char *text, const char *what, const char *empty)
{
    if (!text || !*text)
        return empty;
    if (strlen(text) > MESSAGE_MAX)
        return strcmp(what, "message") == 0 ? "Your message must be 2000 characters or fewer"
                                            : "Comments must be 2000 characters or fewer";
    if (!valid_text(text, MESSAGE_MAX, true))
        return strcmp(what, "message") == 0
                   ? "Your message contains characters that cannot be sent; type it again"
                   : "Comments contain characters that cannot be sent; type them again";
    return NULL;
}

void page_track_message(http_req *req, http_res *res)
{
    track_form in;
    track_result r;
    if (!read_input(req, res, &in) || !open_case(req, res, &in, &r))
        return;
    const char *text = form_get(&in.f, "message");
    const char *problem = text_problem(text, "message", "Enter your message");
    if (problem) {
        show(req, res, &in, &r,
             &(case_page){.error = problem, .error_field = "message", .message = text});
        return;
    }
    if (track_add_message(req, &r.c, text) != STORE_OK) {
        show(req, res, &in, &r,
             &(case_page){.error = "Your message could not be sent. Try again.",
                          .error_field = "message",
                          .message = text});
        return;
    }
    show(req, res, &in, &r,
         &(case_page){.confirmation = "Your message has been sent to the case officer."});
}

void page_track_feedback(http_req *req, http_res *res)
{
    track_form in;
    track_result r;
    if (!read_input(req, res, &in) || !open_case(req, res, &in, &r))
        return;
    const char *rating = form_get(&in.f, "rating");
    const char *comment = form_get(&in.f, "comment");
    if (comment && !*comment)
        comment = NULL;
    case_page p = {.error_field = "rating", .rating = rating, .comment = comment};
    if (!rating || strlen(rating) != 1 || rating[0] < '1' || rating[0] > '5') {
        p.error = "Choose a rating from 1 to 5";
        show(req, res, &in, &r, &p);
        return;
    }
    if (comment && (p.error = text_problem(comment, "comment", NULL))) {
        p.error_field = "comment";
        show(req, res, &in, &r, &p);
        return;
    }
    store_rc rc = track_add_feedback(req, &r.c, rating[0] - '0', comment);
    if (rc == STORE_CONFLICT) {
        p.error = r.c.closed_at ? "Feedback has already been given for this case"
                                : "Feedback can be given once the case is closed";
        show(req, res, &in, &r, &p);
        return;
    }
    if (rc != STORE_OK) {
        p.error = "Your feedback could not be sent. Try again.";
        show(req, res, &in, &r, &p);
        return;
    }
    show(req, res, &in, &r, &(case_page){.confirmation = "Thank you for your feedback."});
}
