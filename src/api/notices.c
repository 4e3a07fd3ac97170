/* notices.c - turning an event into notifications, and preferences to and from JSON. */
#include "api/notices.h"

#include <string.h>

#include "api/casework.h"
#include "api/json.h"
#include "domain/appeal.h"
#include "domain/workdays.h"
#include "notify/config.h"
#include "notify/worker.h"

#define TEXT_MAX (64 * 1024)

static notice_prefs prefs_from_store(const store_prefs *p, const notice_prefs *fallback)
{
    notice_prefs out = *fallback;
    unsigned channels;
    notice_frequency f;
    /* Stored values were checked when saved; a row that no longer parses
     * keeps the defaults rather than telling no one. */
    if (notice_channels_parse(p->channels, &channels, NULL, 0))
        out.channels = channels;
    if (notice_language(p->language))
        out.language = notice_language(p->language);
    if (notice_frequency_parse(p->frequency, &f))
        out.frequency = f;
    return out;
}

store_rc notices_prefs(app *ap, arena *a, const store_case *c, notice_prefs *out, bool *stated)
{
    *out = notice_default_prefs(c->person.email != NULL, c->person.phone && *c->person.phone);
    *stated = false;
    if (!c->person.id)
        return STORE_OK;
    store_prefs p;
    store_rc rc = store_prefs_get(ap->store, a, c->id, &p);
    if (rc == STORE_NOT_FOUND)
        return STORE_OK;
    if (rc != STORE_OK)
        return rc;
    *out = prefs_from_store(&p, out);
    *stated = true;
    return STORE_OK;
}

/* Where the notification goes on `channel`, or NULL when the case has no
 * such contact. */
static const char *recipient(arena *a, const store_person *p, unsigned channel)
{
    switch (channel) {
    case NOTICE_EMAIL:
        return p->email;
    case NOTICE_SMS:
        return p->phone && *p->phone ? p->phone : NULL;
    case NOTICE_PHONE:
        if (!p->phone || !*p->phone)
            return NULL;
        return arena_printf(a, "%s\n%s", p->name ? p->name : "", p->phone);
    case NOTICE_POST:
        if (!p->address || !*p->address)
            return NULL;
        return arena_printf(a, "%s\n%s\n%s", p->name ? p->name : "", p->address,
                            p->postcode ? p->postcode : "");
    default:
        return NULL;
    }
}

/* Renders `text` into the arena; NULL when it cannot be. */
static const char *render(arena *a, const char *text, const notice_values *v)
{
    buf b;
    buf_init(&b, TEXT_MAX);
    const char *out = notice_render(text, v, &b) ? arena_strdup(a, b.len ? b.data : "") : NULL;
    buf_free(&b);
    return out;
}

/* The address notifications give for a path: after the public address when
 * there is one. */
static const char *public_link(http_req *req, const char *path)
{
    app *ap = req->ctx;
    const char *base = ap->notify && ap->notify->public_url ? ap->notify->public_url : "";
    return arena_printf(&req->a, "%s%s", base, path);
}

/* A webhook event's body: `o` (taken) as compact JSON in the arena. */
static const char *event_body(http_req *req, json_t *o)
{
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    const char *body = text ? arena_strdup(&req->a, text) : NULL;
    free(text);
    return body;
}

store_rc notices_build(http_req *req, const store_case *c, const app_service *e,
                       const notice_prefs *prefs, const char *event, const char *stage,
                       const char *note, int64_t now, store_notice **out, size_t *n)
{
    app *ap = req->ctx;
    *out = NULL;
    *n = 0;
    const wf_stage *st = workflow_stage(&e->wf, stage);
    bool milestone = st && st->milestone;
    notice_kind kind = strcmp(event, NOTICES_NOTE) == 0 ? NOTICE_PUBLIC_NOTE : NOTICE_STAGE_REACHED;
    /* A stage change that is neither a milestone nor carries a note is not
     * public, and nobody outside hears of it; one that carries a note is, to
     * the citizen, an update with that note. */
    if (kind == NOTICE_STAGE_REACHED && !milestone) {
        if (!note)
            return STORE_OK;
        kind = NOTICE_PUBLIC_NOTE;
    }

    store_webhook *hooks;
    size_t nhooks;
    store_rc rc = store_webhook_list(ap->store, &req->a, c->org_id, &hooks, &nhooks);
    if (rc != STORE_OK)
        return rc;
    bool to_person =
        c->person.id && prefs->channels && notice_wanted(prefs->frequency, kind, milestone);
    store_notice *list = arena_calloc(&req->a, NOTICE_CHANNEL_COUNT + nhooks + 1, sizeof(*list));
    if (!list)
        return STORE_ERROR;
    size_t count = 0;

    if (to_person) {
        store_template t;
        const char *subject, *body;
        rc = store_template_get(ap->store, &req->a, e->svc.id, notice_kind_name(kind),
                                prefs->language, &t);
        if (rc == STORE_OK) {
            subject = t.subject;
            body = t.body;
        } else if (rc == STORE_NOT_FOUND) {
            notice_default_template(kind, prefs->language, &subject, &body);
        } else {
            return rc;
        }
        char expected[64];
        notice_date(workdays_add(c->opened_at, e->svc.target_days), prefs->language, expected,
                    sizeof(expected));
        notice_values v = {.reference = c->reference,
                           .stage = casework_stage_name(&e->wf, stage),
                           .note = note,
                           .expected_date = expected,
                           .team = e->svc.name,
                           .tracking_link = public_link(req, "/track"),
                           .organisation = e->org_name,
                           .service = e->svc.name};
        const char *subj = render(&req->a, subject, &v);
        const char *text = render(&req->a, body, &v);
        if (!subj || !text)
            return STORE_ERROR;
        for (unsigned i = 0; i < NOTICE_CHANNEL_COUNT; i++) {
            unsigned bit = 1u << i;
            const char *to = prefs->channels & bit ? recipient(&req->a, &c->person, bit) : NULL;
            if (!to)
                continue;
            store_notice *x = &list[count++];
            *x = (store_notice){.org_id = c->org_id,
                                .case_id = c->id,
                                .kind = notice_kind_name(kind),
                                .channel = notice_channel_name(bit),
                                .recipient = to,
                                .subject = subj,
                                .body = text,
                                .created_at = now};
            /* Letters go out through GOV.UK Notify when it is set up;
             * otherwise post, like phone calls, is a task for staff. */
            if (bit == NOTICE_POST && ap->notify && notify_letters_configured(ap->notify))
                x->status = "pending";
        }
    }

    if (nhooks) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o}", "type", event, "organisation",
                              e->org_name, "reference", c->reference, "service", e->svc.code,
                              "stage", stage, "stage_name",
                              api_str(milestone ? casework_stage_name(&e->wf, stage) : NULL),
                              "occurred_at", api_time(now));
        if (o && note)
            json_object_set_new(o, "note", json_string(note));
        const char *body = event_body(req, o);
        if (!body)
            return STORE_ERROR;
        for (size_t i = 0; i < nhooks; i++)
            list[count++] = (store_notice){.org_id = c->org_id,
                                           .case_id = c->id,
                                           .webhook_id = hooks[i].id,
                                           .kind = event,
                                           .channel = "webhook",
                                           .recipient = hooks[i].url,
                                           .body = body,
                                           .created_at = now};
    }
    *out = list;
    *n = count;
    return STORE_OK;
}

store_rc notices_appeal_read(http_req *req, int64_t id, notices_appeal *out)
{
    app *ap = req->ctx;
    store_webhook *hooks;
    memset(out, 0, sizeof(*out));
    store_rc rc = store_appeal_staff_get(ap->store, &req->a, id, &out->appeal);
    if (rc != STORE_OK)
        return rc;
    if (out->appeal.officer.id) {
        store_user *officer = arena_alloc(&req->a, sizeof(*officer));
        if (!officer)
            return STORE_ERROR;
        *officer = out->appeal.officer;
        out->staff = officer;
        out->n_staff = 1;
    } else {
        store_user *admins;
        rc = store_user_list(ap->store, &req->a, out->appeal.org_id, "administrator", &admins,
                             &out->n_staff);
        if (rc != STORE_OK)
            return rc;
        out->staff = admins;
    }
    rc = store_webhook_list(ap->store, &req->a, out->appeal.org_id, &hooks, &out->n_hooks);
    out->hooks = hooks;
    return rc;
}

store_rc notices_appeal_answer(http_req *req, const notices_appeal *to, const char *receipt,
                               bool anonymous, int64_t now, store_notice **out, size_t *n)
{
    const store_appeal_staff *a = &to->appeal;
    *out = NULL;
    *n = 0;
    store_notice *list = arena_calloc(&req->a, to->n_staff + to->n_hooks + 1, sizeof(*list));
    if (!list)
        return STORE_ERROR;
    size_t count = 0;
    if (to->n_staff) {
        appeal_answer_facts facts = {
            .appeal_id = a->id,
            .title = a->title,
            .case_reference = a->case_reference,
            .receipt = receipt,
            .anonymous = anonymous,
            .answers_url = public_link(
                req, arena_printf(&req->a, "/api/v1/appeals/%lld/answers", (long long)a->id)),
        };
        buf subject, body;
        buf_init(&subject, TEXT_MAX);
        buf_init(&body, TEXT_MAX);
        bool written = facts.answers_url && appeal_answer_message(&facts, &subject, &body);
        const char *subj = written ? arena_strdup(&req->a, subject.data) : NULL;
        const char *text = written ? arena_strdup(&req->a, body.data) : NULL;
        buf_free(&subject);
        buf_free(&body);
        if (!subj || !text)
            return STORE_ERROR;
        for (size_t i = 0; i < to->n_staff; i++)
            list[count++] = (store_notice){.org_id = a->org_id,
                                           .case_id = a->case_id,
                                           .kind = NOTICES_ANSWER_KIND,
                                           .channel = "email",
                                           .recipient = to->staff[i].email,
                                           .subject = subj,
                                           .body = text,
                                           .to_staff = true,
                                           .created_at = now};
    }
    if (to->n_hooks) {
        const char *body = event_body(
            req, json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:o}", "type", NOTICES_ANSWERED,
                           "organisation", a->org_name, "reference", a->case_reference, "service",
                           a->service_code, "appeal_id", (json_int_t)a->id, "receipt", receipt,
                           "occurred_at", api_time(now)));
        if (!body)
            return STORE_ERROR;
        for (size_t i = 0; i < to->n_hooks; i++)
            list[count++] = (store_notice){.org_id = a->org_id,
                                           .case_id = a->case_id,
                                           .webhook_id = to->hooks[i].id,
                                           .kind = NOTICES_ANSWERED,
                                           .channel = "webhook",
                                           .recipient = to->hooks[i].url,
                                           .body = body,
                                           .created_at = now};
    }
    *out = list;
    *n = count;
    return STORE_OK;
}

void notices_written(app *ap, size_t n)
{
    if (n)
        notify_worker_wake(ap->notifier);
}

json_t *notices_prefs_json(const notice_prefs *p, bool stated)
{
    json_t *channels = json_array();
    for (unsigned i = 0; i < NOTICE_CHANNEL_COUNT; i++)
        if (p->channels & (1u << i))
            json_array_append_new(channels, json_string(notice_channel_name(1u << i)));
    return json_pack("{s:o, s:s, s:s, s:b}", "channels", channels, "language", p->language,
                     "frequency", notice_frequency_name(p->frequency), "stated", stated);
}

bool notices_prefs_read(http_req *req, http_res *res, const json_t *obj, const char *field,
                        notice_prefs *out)
{
    static const char *const fields[] = {"channels", "language", "frequency", NULL};
    (void)req;
    if (!json_is_object(obj)) {
        api_error(res, 400, "invalid_field", field, "%s must be an object", field);
        return false;
    }
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "%s%s", field, *field ? "." : "");
    if (!api_only_fields(res, obj, prefix, fields))
        return false;
    const json_t *channels = json_object_get(obj, "channels");
    if (channels) {
        size_t i;
        const json_t *v;
        unsigned set = 0;
        if (!json_is_array(channels)) {
            api_error(res, 400, "invalid_field", arena_printf(&req->a, "%schannels", prefix),
                      "%schannels must be a list such as [\"email\", \"sms\"]", prefix);
            return false;
        }
        json_array_foreach(channels, i, v)
        {
            unsigned bit = 0;
            const char *name = json_string_value(v);
            if (name && strcmp(name, "none") != 0 && notice_channels_parse(name, &bit, NULL, 0) &&
                notice_channel_name(bit))
                set |= bit;
            else if (!name || strcmp(name, "none") != 0 || json_array_size(channels) != 1) {
                api_error(res, 400, "invalid_field", arena_printf(&req->a, "%schannels", prefix),
                          "%schannels may hold email, sms, post and phone (or only none)", prefix);
                return false;
            }
        }
        out->channels = set;
    }
    const json_t *lang = json_object_get(obj, "language");
    if (lang) {
        const char *l = notice_language(json_string_value(lang));
        if (!l) {
            api_error(res, 400, "invalid_field", arena_printf(&req->a, "%slanguage", prefix),
                      "%slanguage must be en (English) or cy (Welsh)", prefix);
            return false;
        }
        out->language = l;
    }
    const json_t *freq = json_object_get(obj, "frequency");
    if (freq && !notice_frequency_parse(json_string_value(freq), &out->frequency)) {
        api_error(res, 400, "invalid_field", arena_printf(&req->a, "%sfrequency", prefix),
                  "%sfrequency must be every, milestones or none", prefix);
        return false;
    }
    return true;
}

store_prefs notices_prefs_store(arena *a, const notice_prefs *p, int64_t now)
{
    char channels[64];
    notice_channels_format(p->channels, channels, sizeof(channels));
    return (store_prefs){.channels = arena_strdup(a, channels),
                         .language = p->language,
                         .frequency = notice_frequency_name(p->frequency),
                         .updated_at = now};
}
