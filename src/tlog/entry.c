/* entry.c - the public log's entries: canonical JSON and pseudonyms.
 *
 * Every string written is checked to be a code of [a-z0-9_-], which needs no
 * JSON escaping, so the encoding is canonical by construction: one entry has
 * exactly one spelling.
 */
#include "tlog/entry.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

static const char *const kind_names[TLOG_KIND_COUNT] = {
    [TLOG_CASE_OPENED] = "case_opened",
    [TLOG_STAGE_CHANGED] = "stage_changed",
    [TLOG_PUBLIC_UPDATE] = "public_update",
    [TLOG_INTERNAL_NOTE] = "internal_note",
    [TLOG_MESSAGE_RECEIVED] = "message_received",
    [TLOG_FEEDBACK] = "feedback",
    [TLOG_RECORD_ACCESSED] = "record_accessed",
    [TLOG_NOTIFICATION_SENT] = "notification_sent",
    [TLOG_DUTY_MET] = "duty_met",
    [TLOG_DUTY_MISSED] = "duty_missed",
    [TLOG_CONSENT_CHANGED] = "consent_changed",
    [TLOG_APPEAL_PUBLISHED] = "appeal_published",
    [TLOG_APPEAL_CLOSED] = "appeal_closed",
    [TLOG_APPEAL_ANSWERED] = "appeal_answered",
};

const char *tlog_kind_name(tlog_kind kind)
{
    return (unsigned)kind < TLOG_KIND_COUNT ? kind_names[kind] : NULL;
}

/* Domain separation: each hash below starts with its own label, so that no
 * pseudonym of one kind can equal one of another. */
void tlog_log_key(const uint8_t secret[32], uint8_t out[TLOG_KEY_SIZE])
{
    static const char label[] = "opencase public log pseudonyms v1";
    crypto_generichash(out, TLOG_KEY_SIZE, (const unsigned char *)label, sizeof(label) - 1, secret,
                       32);
}

static void hex(const uint8_t *b, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

void tlog_case_pseudonym(const uint8_t key[TLOG_KEY_SIZE], const char *reference,
                         char out[TLOG_PSEUDONYM_MAX])
{
    uint8_t h[16];
    crypto_generichash_state st;
    crypto_generichash_init(&st, key, TLOG_KEY_SIZE, sizeof(h));
    crypto_generichash_update(&st, (const unsigned char *)"case", 5); /* with its NUL */
    crypto_generichash_update(&st, (const unsigned char *)reference, strlen(reference));
    crypto_generichash_final(&st, h, sizeof(h));
    hex(h, sizeof(h), out);
}

static void put_be64(crypto_generichash_state *st, int64_t v)
{
    uint8_t b[8];
    for (int i = 7; i >= 0; i--) {
        b[i] = (uint8_t)((uint64_t)v & 0xff);
        v = (int64_t)((uint64_t)v >> 8);
    }
    crypto_generichash_update(st, b, sizeof(b));
}

/* "s-" or "k-" and 32 hex digits, keyed by the organisation as well as the
 * id, so that pseudonyms are per organisation. */
static void actor_pseudonym(const uint8_t key[TLOG_KEY_SIZE], tlog_actor_kind kind, int64_t org_id,
                            int64_t id, char out[TLOG_PSEUDONYM_MAX])
{
    uint8_t h[16];
    crypto_generichash_state st;
    const char *label = kind == TLOG_ACTOR_STAFF ? "staff" : "key";
    crypto_generichash_init(&st, key, TLOG_KEY_SIZE, sizeof(h));
    crypto_generichash_update(&st, (const unsigned char *)label, strlen(label) + 1);
    put_be64(&st, org_id);
    put_be64(&st, id);
    crypto_generichash_final(&st, h, sizeof(h));
    out[0] = kind == TLOG_ACTOR_STAFF ? 's' : 'k';
    out[1] = '-';
    hex(h, sizeof(h), out + 2);
}

static bool is_code(const char *s)
{
    size_t n = 0;
    if (!s)
        return false;
    for (; s[n]; n++) {
        char c = s[n];
        if (n >= TLOG_CODE_MAX ||
            !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return n > 0;
}

/* Appends ,"key":"value" for a checked code; the first field has no comma. */
static void field(buf *out, const char *key, const char *value)
{
    buf_printf(out, ",\"%s\":\"%s\"", key, value);
}

static bool optional_ok(const char *s)
{
    return !s || is_code(s);
}

bool tlog_entry_encode(const tlog_entry *e, const uint8_t key[TLOG_KEY_SIZE], buf *out)
{
    const char *kind = tlog_kind_name(e->kind);
    if (!kind || !is_code(e->org) || !optional_ok(e->service) || !optional_ok(e->actor_org) ||
        !optional_ok(e->role) || !optional_ok(e->action) || !optional_ok(e->from_stage) ||
        !optional_ok(e->stage) || !optional_ok(e->duty) || e->rating < 0 || e->rating > 5 ||
        e->time < 0 || e->actor < TLOG_ACTOR_NONE || e->actor > TLOG_ACTOR_KEY)
        return false;
    if (e->reference && (!e->reference[0] || strlen(e->reference) > TLOG_CODE_MAX))
        return false;

    struct tm tm;
    time_t t = (time_t)e->time;
    char when[32];
    if (!gmtime_r(&t, &tm) || strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        return false;

    size_t start = out->len;
    buf_printf(out, "{\"kind\":\"%s\",\"time\":\"%s\"", kind, when);
    field(out, "org", e->org);
    if (e->service)
        field(out, "service", e->service);
    if (e->reference) {
        char pseudonym[TLOG_PSEUDONYM_MAX];
        tlog_case_pseudonym(key, e->reference, pseudonym);
        field(out, "case", pseudonym);
    }
    switch (e->actor) {
    case TLOG_ACTOR_NONE:
        field(out, "actor", "system");
        break;
    case TLOG_ACTOR_CITIZEN:
        field(out, "actor", "citizen");
        break;
    case TLOG_ACTOR_STAFF:
    case TLOG_ACTOR_KEY: {
        char pseudonym[TLOG_PSEUDONYM_MAX];
        actor_pseudonym(key, e->actor, e->actor_org_id, e->actor_id, pseudonym);
        field(out, "actor", pseudonym);
        break;
    }
    }
    if (e->actor_org)
        field(out, "actor_org", e->actor_org);
    if (e->role)
        field(out, "role", e->role);
    if (e->action)
        field(out, "action", e->action);
    if (e->from_stage)
        field(out, "from", e->from_stage);
    if (e->stage)
        field(out, "stage", e->stage);
    if (e->rating)
        buf_printf(out, ",\"rating\":%d", e->rating);
    if (e->duty)
        field(out, "duty", e->duty);
    buf_putc(out, '}');
    if (out->failed || out->len - start > TLOG_ENTRY_MAX) {
        if (!out->failed) {
            out->len = start;
            out->data[start] = '\0';
        }
        return false;
    }
    return true;
}
