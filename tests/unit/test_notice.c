/* test_notice.c - preferences, templates and their rendering (domain/notice.h),
 * the back-off of retries (notify/worker.h) and the signatures on webhooks
 * and GOV.UK Notify tokens (notify/sign.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "domain/notice.h"
#include "notify/sign.h"
#include "notify/worker.h"

static void test_channels(void **state)
{
    (void)state;
    unsigned c = 99;
    char bad[16], text[64];
    assert_true(notice_channels_parse("email, sms", &c, bad, sizeof(bad)));
    assert_int_equal(c, NOTICE_EMAIL | NOTICE_SMS);
    assert_true(notice_channels_parse("phone,post,email,sms", &c, bad, sizeof(bad)));
    assert_int_equal(c, NOTICE_EMAIL | NOTICE_SMS | NOTICE_POST | NOTICE_PHONE);
    notice_channels_format(c, text, sizeof(text));
    assert_string_equal(text, "email,sms,post,phone");
    assert_true(notice_channels_parse("", &c, bad, sizeof(bad)));
    assert_int_equal(c, 0);
    assert_true(notice_channels_parse("none", &c, bad, sizeof(bad)));
    assert_int_equal(c, 0);
    notice_channels_format(0, text, sizeof(text));
    assert_string_equal(text, "");

    assert_false(notice_channels_parse("email,pigeon", &c, bad, sizeof(bad)));
    assert_string_equal(bad, "pigeon");
    assert_false(notice_channels_parse("none,email", &c, bad, sizeof(bad)));
    assert_string_equal(bad, "none");
    assert_false(notice_channels_parse("email,,sms", &c, bad, sizeof(bad)));
    assert_string_equal(bad, "");
    assert_false(notice_channels_parse("EMAIL", &c, bad, sizeof(bad)));
    /* The offending name is cut to fit. */
    assert_false(notice_channels_parse("carrierpigeonnumbertwo", &c, bad, 8));
    assert_string_equal(bad, "carrier");
}

static void test_names(void **state)
{
    (void)state;
    notice_frequency f;
    notice_kind k;
    assert_string_equal(notice_language("cy"), "cy");
    assert_null(notice_language("fr"));
    assert_null(notice_language(NULL));
    assert_true(notice_frequency_parse("milestones", &f));
    assert_int_equal(f, NOTICE_MILESTONES);
    assert_string_equal(notice_frequency_name(NOTICE_NEVER), "none");
    assert_false(notice_frequency_parse("weekly", &f));
    assert_false(notice_frequency_parse(NULL, &f));
    assert_true(notice_kind_parse("duty_reminder", &k));
    assert_int_equal(k, NOTICE_DUTY_REMINDER);
    assert_false(notice_kind_parse("gossip", &k));
    assert_null(notice_channel_name(NOTICE_EMAIL | NOTICE_SMS));
    assert_string_equal(notice_channel_name(NOTICE_PHONE), "phone");
}

static void test_defaults_and_wanted(void **state)
{
    (void)state;
    notice_prefs p = notice_default_prefs(true, true);
    assert_int_equal(p.channels, NOTICE_EMAIL);
    assert_string_equal(p.language, "en");
    assert_int_equal(p.frequency, NOTICE_MILESTONES);
    assert_int_equal(notice_default_prefs(false, true).channels, NOTICE_SMS);
    assert_int_equal(notice_default_prefs(false, false).channels, 0);

    assert_true(notice_wanted(NOTICE_EVERY, NOTICE_STAGE_REACHED, true));
    assert_true(notice_wanted(NOTICE_EVERY, NOTICE_PUBLIC_NOTE, false));
    assert_true(notice_wanted(NOTICE_MILESTONES, NOTICE_STAGE_REACHED, true));
    assert_false(notice_wanted(NOTICE_MILESTONES, NOTICE_PUBLIC_NOTE, true));
    assert_false(notice_wanted(NOTICE_EVERY, NOTICE_STAGE_REACHED, false));
    assert_false(notice_wanted(NOTICE_NEVER, NOTICE_STAGE_REACHED, true));
    assert_false(notice_wanted(NOTICE_NEVER, NOTICE_PUBLIC_NOTE, true));
    assert_false(notice_wanted(NOTICE_EVERY, NOTICE_DUTY_REMINDER, true));
}

static void test_template_check(void **state)
{
    (void)state;
    char bad[32];
    bool unknown = true;
    assert_true(notice_template_check("Case {reference} is at {stage} by {expected_date}", bad,
                                      sizeof(bad), &unknown));
    assert_false(unknown);
    assert_true(
        notice_template_check("no placeholders, {{literal}} braces", bad, sizeof(bad), &unknown));
    assert_true(notice_template_check("", bad, sizeof(bad), &unknown));

    assert_false(notice_template_check("Dear {name}", bad, sizeof(bad), &unknown));
    assert_true(unknown);
    assert_string_equal(bad, "name");
    assert_false(notice_template_check("{reference} {Reference}", bad, sizeof(bad), &unknown));
    assert_string_equal(bad, "Reference");
    assert_false(notice_template_check("{reference", bad, sizeof(bad), &unknown));
    assert_false(unknown);
    assert_non_null(strstr(bad, "not closed"));
    assert_false(notice_template_check("a } b", bad, sizeof(bad), &unknown));
    assert_false(unknown);
    assert_false(notice_template_check("a {} b", bad, sizeof(bad), &unknown));
    assert_false(notice_template_check("{ref{erence}", bad, sizeof(bad), &unknown));
    /* A long unknown name is cut to fit. */
    assert_false(notice_template_check("{abcdefghijklmnopqrstuvwxyz}", bad, 6, &unknown));
    assert_string_equal(bad, "abcde");
}

static void test_render(void **state)
{
    (void)state;
    notice_values v = {.reference = "K7QM-2XPD-C",
                       .stage = "Charged",
                       .note = NULL,
                       .tracking_link = "https://x.example/track"};
    buf b;
    buf_init(&b, 1024);
    assert_true(notice_render("{reference}: {stage}. {{note}} {note}{tracking_link}", &v, &b));
    assert_string_equal(b.data, "K7QM-2XPD-C: Charged. {note} https://x.example/track");
    buf_reset(&b);
    assert_false(notice_render("{unknown}", &v, &b));
    buf_free(&b);

    /* A buffer too small fails rather than cutting a message short. */
    buf_init(&b, 8);
    assert_false(notice_render("{reference} {reference}", &v, &b));
    buf_free(&b);
}

static void test_defaults_render_in_both_languages(void **state)
{
    (void)state;
    static const char *const langs[] = {"en", "cy"};
    notice_values v = {.reference = "R",
                       .stage = "S",
                       .note = "N",
                       .expected_date = "1 May 2027",
                       .team = "T",
                       .tracking_link = "L",
                       .organisation = "O",
                       .service = "V"};
    for (int k = 0; k < NOTICE_KIND_COUNT; k++)
        for (int l = 0; l < NOTICE_LANGUAGES; l++) {
            const char *subject, *body;
            char bad[32];
            notice_default_template((notice_kind)k, langs[l], &subject, &body);
            assert_true(notice_template_check(subject, bad, sizeof(bad), NULL));
            assert_true(notice_template_check(body, bad, sizeof(bad), NULL));
            buf b;
            buf_init(&b, 4096);
            assert_true(notice_render(body, &v, &b));
            assert_non_null(strstr(b.data, "R"));
            buf_free(&b);
        }
    const char *subject, *body;
    notice_default_template(NOTICE_STAGE_REACHED, "cy", &subject, &body);
    assert_non_null(strstr(body, "Mae eich achos"));
    notice_default_template(NOTICE_STAGE_REACHED, "xx", &subject, &body);
    assert_non_null(strstr(body, "Your case"));
}

static void test_dates(void **state)
{
    (void)state;
    char out[64];
    notice_date(1795392000LL, "en", out, sizeof(out)); /* 2026-11-23 */
    assert_string_equal(out, "23 November 2026");
    notice_date(1795392000LL, "cy", out, sizeof(out));
    assert_string_equal(out, "23 Tachwedd 2026");
}

static void test_backoff(void **state)
{
    (void)state;
    notify_config c = {.retry_base_ms = 1000, .retry_max_ms = 30000};
    assert_int_equal(notify_backoff_ms(&c, 1, 0.0), 500);
    assert_int_equal(notify_backoff_ms(&c, 1, 0.999999), 999);
    assert_int_equal(notify_backoff_ms(&c, 3, 0.0), 2000);
    assert_int_equal(notify_backoff_ms(&c, 5, 0.5), 12000);
    /* Capped, however many attempts. */
    assert_int_equal(notify_backoff_ms(&c, 50, 0.0), 15000);
    assert_true(notify_backoff_ms(&c, 1000, 0.99) < 30000);
}

static void test_webhook_signature(void **state)
{
    (void)state;
    char sig[160];
    /* HMAC-SHA256("whsec_k", "1700000000.{}"), computed independently. */
    assert_true(sign_webhook("whsec_k", 1700000000, "{}", 2, sig, sizeof(sig)));
    assert_int_equal(strncmp(sig, "t=1700000000,v1=", 16), 0);
    assert_int_equal(strlen(sig), 16 + 64);
    unsigned char mac[32];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)"whsec_k", 7);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)"1700000000.{}", 13);
    crypto_auth_hmacsha256_final(&st, mac);
    char hex[65];
    sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
    assert_string_equal(sig + 16, hex);
    assert_false(sign_webhook("k", 1, "{}", 2, sig, 20));
}

static void test_govuk_jwt(void **state)
{
    (void)state;
    static const char key[] = "my_test_key-26785a09-ab16-4eb0-8407-a37497a57506-"
                              "3d844edf-8d35-48ac-975b-e847b4f122b0";
    char jwt[SIGN_JWT_MAX];
    assert_true(sign_govuk_jwt(key, 1700000000, jwt, sizeof(jwt)));
    /* base64url of {"typ":"JWT","alg":"HS256"} and of the claims. */
    assert_int_equal(strncmp(jwt, "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.", 37), 0);
    const char *claims = jwt + 37;
    const char *dot = strchr(claims, '.');
    assert_non_null(dot);
    unsigned char decoded[128];
    size_t n = 0;
    assert_int_equal(sodium_base642bin(decoded, sizeof(decoded), claims, (size_t)(dot - claims),
                                       NULL, &n, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                     0);
    decoded[n] = '\0';
    assert_string_equal((char *)decoded,
                        "{\"iss\":\"26785a09-ab16-4eb0-8407-a37497a57506\",\"iat\":1700000000}");
    /* The signature is HMAC-SHA256 over header.claims with the key's last UUID. */
    unsigned char mac[32], sig[32];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)"3d844edf-8d35-48ac-975b-e847b4f122b0",
                                36);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)jwt, (size_t)(dot - jwt));
    crypto_auth_hmacsha256_final(&st, mac);
    assert_int_equal(sodium_base642bin(sig, sizeof(sig), dot + 1, strlen(dot + 1), NULL, &n, NULL,
                                       sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                     0);
    assert_int_equal(n, 32);
    assert_memory_equal(sig, mac, 32);

    assert_false(sign_govuk_jwt("too-short", 1, jwt, sizeof(jwt)));
    assert_false(sign_govuk_jwt(NULL, 1, jwt, sizeof(jwt)));
    assert_false(sign_govuk_jwt(key, 1, jwt, 40));
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_channels),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_defaults_and_wanted),
        cmocka_unit_test(test_template_check),
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_defaults_render_in_both_languages),
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_webhook_signature),
        cmocka_unit_test(test_govuk_jwt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
