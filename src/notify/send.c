/* send.c - the channels: SMTP, HTTP gateways, GOV.UK Notify and webhooks.
 *
 * Each attempt builds its message in bounded buffers and hands it to one
 * libcurl easy handle, with connection and total timeouts, so that a dead
 * server costs a retry and never a stuck worker.
 */
#include "notify/send.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "notify/sign.h"
#include "util/buf.h"

#define MESSAGE_MAX (256 * 1024)
#define ANSWER_MAX 4096
#define EXCERPT_MAX 160

int send_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void send_global_cleanup(void)
{
    curl_global_cleanup();
}

struct send_conn {
    CURL *h; /* reset before each message; its connection cache survives */
};

send_conn *send_conn_new(void)
{
    send_conn *sc = calloc(1, sizeof(*sc));
    if (sc && !(sc->h = curl_easy_init())) {
        free(sc);
        sc = NULL;
    }
    return sc;
}

void send_conn_free(send_conn *sc)
{
    if (!sc)
        return;
    curl_easy_cleanup(sc->h);
    free(sc);
}

/* The thread's handle, made ready for a new message. */
static CURL *fresh(send_conn *sc)
{
    curl_easy_reset(sc->h);
    return sc->h;
}

static send_rc say(send_rc rc, char *reason, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static send_rc say(send_rc rc, char *reason, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, len, fmt, ap);
    va_end(ap);
    return rc;
}

/* ---- SMTP ---- */

typedef struct upload {
    const char *data;
    size_t len, off;
} upload;

static size_t read_upload(char *out, size_t size, size_t nitems, void *arg)
{
    upload *u = arg;
    size_t room = size * nitems, left = u->len - u->off;
    size_t n = left < room ? left : room;
    memcpy(out, u->data + u->off, n);
    u->off += n;
    return n;
}

static bool ascii_only(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return false;
    return true;
}

/* A header value on one line: line breaks become spaces, so that no value
 * can add a header. */
static void put_header_text(buf *b, const char *s)
{
    for (; *s; s++)
        buf_putc(b, (char)(*s == '\r' || *s == '\n' ? ' ' : *s));
}

/* Base64 of s, in lines of 76 characters ending CRLF when `lines`. */
static void put_base64(buf *b, const char *s, size_t len, bool lines)
{
    size_t off = 0;
    do {
        size_t chunk = len - off < 57 ? len - off : 57;
        char enc[80];
        sodium_bin2base64(enc, sizeof(enc), (const unsigned char *)s + off, chunk,
                          sodium_base64_VARIANT_ORIGINAL);
        buf_puts(b, enc);
        if (lines)
            buf_puts(b, "\r\n");
        off += chunk;
    } while (off < len);
}

static void put_subject(buf *b, const char *subject)
{
    buf_puts(b, "Subject: ");
    if (ascii_only(subject)) {
        put_header_text(b, subject);
    } else {
        /* RFC 2047 encoded words, each short enough for one line. */
        size_t len = strlen(subject);
        for (size_t off = 0; off < len;) {
            size_t chunk = len - off < 42 ? len - off : 42;
            /* Never split a UTF-8 sequence. */
            while (off + chunk < len && ((unsigned char)subject[off + chunk] & 0xc0) == 0x80)
                chunk--;
            buf_puts(b, off ? "\r\n =?UTF-8?B?" : "=?UTF-8?B?");
            char line[128];
            size_t j = 0;
            for (size_t i = 0; i < chunk && j + 1 < sizeof(line); i++)
                line[j++] =
                    (char)(subject[off + i] == '\r' || subject[off + i] == '\n' ? ' '
                                                                                : subject[off + i]);
            put_base64(b, line, j, false);
            buf_puts(b, "?=");
            off += chunk;
        }
    }
    buf_puts(b, "\r\n");
}

/* The domain of the from address, for Message-ID. */
static const char *from_domain(const char *from)
{
    const char *at = strrchr(from, '@');
    return at ? at + 1 : "opencase.invalid";
}

static bool address_usable(const char *a)
{
    return a && *a && strlen(a) < 255 && strcspn(a, "\r\n<>, \t\"") == strlen(a) && strchr(a, '@');
}

static send_rc send_smtp(const notify_config *c, send_conn *sc, const store_notice *n, int64_t now,
                         char *reason, size_t len)
{
    if (!address_usable(n->recipient))
        return say(SEND_FAIL, reason, len, "the email address cannot be used");
    buf m;
    buf_init(&m, MESSAGE_MAX);
    char date[64];
    time_t t = (time_t)now;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
    buf_printf(&m, "Date: %s\r\nFrom: ", date);
    put_header_text(&m, c->smtp_from);
    buf_puts(&m, "\r\nTo: ");
    put_header_text(&m, n->recipient);
    buf_puts(&m, "\r\n");
    put_subject(&m, n->subject ? n->subject : "");
    buf_printf(&m,
               "Message-ID: <notification-%lld@%s>\r\nX-Opencase-Notification-Id: %lld\r\n"
               "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
               "Content-Transfer-Encoding: base64\r\n\r\n",
               (long long)n->id, from_domain(c->smtp_from), (long long)n->id);
    put_base64(&m, n->body, strlen(n->body), true);
    if (m.failed) {
        buf_free(&m);
        return say(SEND_FAIL, reason, len, "the message is too large to send");
    }

    char url[512], from[300], to[300], errbuf[CURL_ERROR_SIZE] = "";
    snprintf(url, sizeof(url), "smtp://%s:%d", c->smtp_host, c->smtp_port);
    snprintf(from, sizeof(from), "<%s>", c->smtp_from);
    snprintf(to, sizeof(to), "<%s>", n->recipient);
    upload u = {.data = m.data, .len = m.len};
    send_rc rc = SEND_RETRY;
    CURL *h = fresh(sc);
    struct curl_slist *rcpt = curl_slist_append(NULL, to);
    if (!rcpt) {
        say(SEND_RETRY, reason, len, "out of memory");
        goto out;
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, read_upload);
    curl_easy_setopt(h, CURLOPT_READDATA, &u);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)m.len);
    curl_easy_setopt(h, CURLOPT_USE_SSL,
                     c->smtp_starttls == SMTP_TLS_REQUIRED   ? CURLUSESSL_ALL
                     : c->smtp_starttls == SMTP_TLS_OPTIONAL ? CURLUSESSL_TRY
                                                             : CURLUSESSL_NONE);
    if (c->smtp_username)
        curl_easy_setopt(h, CURLOPT_USERNAME, c->smtp_username);
    if (c->smtp_password)
        curl_easy_setopt(h, CURLOPT_PASSWORD, c->smtp_password);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)c->timeout_ms);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    CURLcode cr = curl_easy_perform(h);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    if (cr == CURLE_OK) {
        rc = SEND_OK;
    } else if (code >= 500 && code < 600 && cr != CURLE_LOGIN_DENIED) {
        rc = say(SEND_FAIL, reason, len, "the SMTP server refused the message (%ld): %s", code,
                 errbuf[0] ? errbuf : curl_easy_strerror(cr));
    } else {
        rc = say(SEND_RETRY, reason, len, "SMTP: %s%s", errbuf[0] ? errbuf : curl_easy_strerror(cr),
                 cr == CURLE_OPERATION_TIMEDOUT ? " (timed out)" : "");
    }
out:
    /* The handle keeps pointers into this frame until it is reset. */
    curl_easy_reset(h);
    curl_slist_free_all(rcpt);
    buf_free(&m);
    return rc;
}

/* ---- HTTP ---- */

static size_t keep_answer(char *data, size_t size, size_t nitems, void *arg)
{
    buf *b = arg;
    size_t n = size * nitems;
    if (b->len + n < b->max)
        buf_append(b, data, n);
    return n;
}

/* The start of an answer, printable ASCII only, for the reason. */
static void excerpt(const buf *answer, char *out, size_t outlen)
{
    size_t j = 0;
    for (size_t i = 0; i < answer->len && j + 1 < outlen && j < EXCERPT_MAX; i++) {
        char ch = answer->data[i];
        out[j++] = (char)(ch >= 0x20 && ch < 0x7f ? ch : ' ');
    }
    out[j] = '\0';
}

/* POSTs body as JSON with `headers` (may be NULL) and classifies the answer. */
static send_rc http_post(const notify_config *c, send_conn *sc, const char *what, const char *url,
                         struct curl_slist *headers, const char *body, size_t body_len,
                         char *reason, size_t len)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    buf answer;
    buf_init(&answer, ANSWER_MAX);
    send_rc rc;
    CURL *h = fresh(sc);
    struct curl_slist *all = curl_slist_append(headers, "Content-Type: application/json");
    if (!all) {
        rc = say(SEND_RETRY, reason, len, "out of memory");
        goto out;
    }
    all = curl_slist_append(all, "User-Agent: opencase");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, all);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)c->timeout_ms);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, keep_answer);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &answer);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    CURLcode cr = curl_easy_perform(h);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    char start[EXCERPT_MAX + 1];
    excerpt(&answer, start, sizeof(start));
    if (cr != CURLE_OK)
        rc = say(SEND_RETRY, reason, len, "%s: %s%s", what,
                 errbuf[0] ? errbuf : curl_easy_strerror(cr),
                 cr == CURLE_OPERATION_TIMEDOUT ? " (timed out)" : "");
    else if (code >= 200 && code < 300)
        rc = SEND_OK;
    else if (code == 408 || code == 429 || code >= 500)
        rc = say(SEND_RETRY, reason, len, "%s answered HTTP %ld: %s", what, code, start);
    else
        rc = say(SEND_FAIL, reason, len, "%s refused it with HTTP %ld: %s", what, code, start);
out:
    /* The handle keeps pointers into this frame until it is reset. */
    curl_easy_reset(h);
    curl_slist_free_all(all ? all : headers);
    buf_free(&answer);
    return rc;
}

/* Serialises o (consumed) and POSTs it. */
static send_rc post_json(const notify_config *c, send_conn *sc, const char *what, const char *url,
                         struct curl_slist *headers, json_t *o, char *reason, size_t len)
{
    char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!body) {
        curl_slist_free_all(headers);
        return say(SEND_RETRY, reason, len, "out of memory");
    }
    send_rc rc = http_post(c, sc, what, url, headers, body, strlen(body), reason, len);
    free(body);
    return rc;
}

static struct curl_slist *id_header(const store_notice *n)
{
    char h[64];
    snprintf(h, sizeof(h), "Opencase-Id: %lld", (long long)n->id);
    return curl_slist_append(NULL, h);
}

static send_rc send_sms_gateway(const notify_config *c, send_conn *sc, const store_notice *n,
                                char *reason, size_t len)
{
    struct curl_slist *hs = id_header(n);
    if (c->sms_token) {
        char auth[512];
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->sms_token);
        hs = curl_slist_append(hs, auth);
    }
    json_t *o = json_pack("{s:I, s:s, s:s, s:s?}", "id", (json_int_t)n->id, "to", n->recipient,
                          "body", n->body, "reference", n->reference);
    return post_json(c, sc, "the SMS gateway", c->sms_url, hs, o, reason, len);
}

/* POSTs to GOV.UK Notify's /v2/notifications/<kind>. */
static send_rc send_govuk(const notify_config *c, send_conn *sc, const char *kind,
                          const store_notice *n, int64_t now, json_t *o, char *reason, size_t len)
{
    char jwt[SIGN_JWT_MAX], auth[SIGN_JWT_MAX + 32], url[512], ref[64];
    if (!o)
        return say(SEND_RETRY, reason, len, "out of memory");
    if (!sign_govuk_jwt(c->govuk_key, now, jwt, sizeof(jwt))) {
        json_decref(o);
        return say(SEND_FAIL, reason, len, "the GOV.UK Notify API key is not valid");
    }
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", jwt);
    snprintf(url, sizeof(url), "%s/v2/notifications/%s", c->govuk_url, kind);
    snprintf(ref, sizeof(ref), "opencase-%lld", (long long)n->id);
    json_object_set_new(o, "reference", json_string(ref));
    struct curl_slist *hs = curl_slist_append(id_header(n), auth);
    return post_json(c, sc, "GOV.UK Notify", url, hs, o, reason, len);
}

static json_t *personalisation(const store_notice *n)
{
    return json_pack("{s:s, s:s, s:s?}", "subject", n->subject ? n->subject : "", "body", n->body,
                     "case_reference", n->reference);
}

/* A postal address "name\nline\n...\npostcode" as Notify's address lines. */
static send_rc send_letter(const notify_config *c, send_conn *sc, const store_notice *n,
                           int64_t now, char *reason, size_t len)
{
    json_t *p = personalisation(n);
    int lines = 0;
    for (const char *s = n->recipient; p && *s && lines < 7;) {
        size_t l = strcspn(s, "\n");
        char key[32], line[256];
        size_t k = 0;
        for (size_t i = 0; i < l && k + 1 < sizeof(line); i++)
            line[k++] = (char)(s[i] == '\r' ? ' ' : s[i]);
        line[k] = '\0';
        if (k && strspn(line, " ") != k) {
            snprintf(key, sizeof(key), "address_line_%d", ++lines);
            json_object_set_new(p, key, json_string(line));
        }
        s += l + (s[l] == '\n');
    }
    if (lines < 3) {
        json_decref(p);
        return say(SEND_FAIL, reason, len,
                   "the postal address has fewer than 3 lines (name, address, postcode)");
    }
    return send_govuk(
        c, sc, "letter", n, now,
        json_pack("{s:s, s:o}", "template_id", c->govuk_letter_template, "personalisation", p),
        reason, len);
}

static send_rc send_webhook(const notify_config *c, send_conn *sc, const store_notice *n,
                            int64_t now, char *reason, size_t len)
{
    json_error_t err;
    json_t *o = json_loads(n->body, 0, &err);
    if (!json_is_object(o)) {
        json_decref(o);
        return say(SEND_FAIL, reason, len, "the event could not be read");
    }
    json_object_set_new(o, "id", json_integer((json_int_t)n->id));
    char *body = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!body)
        return say(SEND_RETRY, reason, len, "out of memory");
    char sig[160], h[200];
    send_rc rc;
    if (!n->secret || !sign_webhook(n->secret, now, body, strlen(body), sig, sizeof(sig))) {
        rc = say(SEND_FAIL, reason, len, "the subscription has no signing secret");
    } else {
        snprintf(h, sizeof(h), "Opencase-Signature: %s", sig);
        struct curl_slist *hs = curl_slist_append(id_header(n), h);
        snprintf(h, sizeof(h), "Opencase-Event: %s", n->kind);
        hs = curl_slist_append(hs, h);
        rc = http_post(c, sc, "the webhook receiver", n->recipient, hs, body, strlen(body), reason,
                       len);
    }
    free(body);
    return rc;
}

send_rc send_notice(const notify_config *c, send_conn *sc, const store_notice *n, int64_t now,
                    char *reason, size_t reason_len)
{
    reason[0] = '\0';
    const char *ch = n->channel;
    if (strcmp(ch, "webhook") == 0)
        return send_webhook(c, sc, n, now, reason, reason_len);
    if (strcmp(ch, "email") == 0 && c->govuk_key && c->govuk_email_template)
        return send_govuk(c, sc, "email", n, now,
                          json_pack("{s:s, s:s, s:o}", "email_address", n->recipient, "template_id",
                                    c->govuk_email_template, "personalisation", personalisation(n)),
                          reason, reason_len);
    if (strcmp(ch, "email") == 0 && c->smtp_host)
        return send_smtp(c, sc, n, now, reason, reason_len);
    if (strcmp(ch, "sms") == 0 && c->govuk_key && c->govuk_sms_template)
        return send_govuk(c, sc, "sms", n, now,
                          json_pack("{s:s, s:s, s:o}", "phone_number", n->recipient, "template_id",
                                    c->govuk_sms_template, "personalisation", personalisation(n)),
                          reason, reason_len);
    if (strcmp(ch, "sms") == 0 && c->sms_url)
        return send_sms_gateway(c, sc, n, reason, reason_len);
    if (strcmp(ch, "post") == 0 && notify_letters_configured(c))
        return send_letter(c, sc, n, now, reason, reason_len);
    return say(SEND_RETRY, reason, reason_len, "no %s channel is configured", ch);
}
