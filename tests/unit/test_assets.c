/* test_assets.c - the embedded static files: exact look-up only, a sorted
 * table with types, versions and gzip copies, and the two headers a client
 * sends about them (Accept-Encoding, If-None-Match), after the server's
 * percent-decoding of the path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http/http.h"
#include "web/assets.h"

static void test_table_is_sorted_and_complete(void **state)
{
    (void)state;
    assert_true(assets_count > 0);
    for (size_t i = 0; i < assets_count; i++) {
        const asset *a = &assets_table[i];
        if (i > 0)
            assert_true(strcmp(assets_table[i - 1].path, a->path) < 0);
        assert_int_equal(strncmp(a->path, "/assets/", 8), 0);
        assert_non_null(a->content_type);
        assert_int_equal(strlen(a->version), 16);
        assert_int_equal(strncmp(a->url, a->path, strlen(a->path)), 0);
        assert_string_equal(a->url + strlen(a->path) + 3, a->version);
        assert_ptr_equal(asset_find(a->path), a);
        if (a->gz)
            assert_true(a->gz_len < a->len);
    }
}

static void test_pages_need_these(void **state)
{
    (void)state;
    static const char *const needed[] = {"/assets/opencase.css",
                                         "/assets/opencase.mjs",
                                         "/assets/govuk-frontend.min.js",
                                         "/assets/leaflet/leaflet.js",
                                         "/assets/leaflet/leaflet.css",
                                         "/assets/leaflet/images/marker-icon.png",
                                         "/assets/leaflet.markercluster/leaflet.markercluster.js"};
    for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++)
        assert_non_null(asset_find(needed[i]));
    assert_string_equal(asset_find("/assets/opencase.css")->content_type,
                        "text/css; charset=utf-8");
    assert_string_equal(asset_find("/assets/opencase.mjs")->content_type,
                        "text/javascript; charset=utf-8");
    assert_string_equal(asset_find("/assets/leaflet/images/marker-icon.png")->content_type,
                        "image/png");
    /* GOV.UK's own typeface is not ours to serve. */
    const asset *css = asset_find("/assets/opencase.css");
    assert_null(memmem(css->data, css->len, "GDS Transport", 13));
    assert_null(memmem(css->data, css->len, "@font-face", 10));
}

static void test_only_exact_names(void **state)
{
    (void)state;
    static const char *const misses[] = {
        "",
        "/assets",
        "/assets/",
        "/assets/../assets/opencase.css",
        "/assets/./opencase.css",
        "/assets//opencase.css",
        "/assets/opencase.css/",
        "/assets/opencase.css/..",
        "/assets/OPENCASE.CSS",
        "/assets/%2e%2e/etc/passwd",
        "/assets/../../etc/passwd",
        "/assets/leaflet/../opencase.css",
        "/assets/leaflet\\..\\opencase.css",
        "/etc/passwd",
        "assets/opencase.css",
        "/assets/opencase.css ",
    };
    for (size_t i = 0; i < sizeof(misses) / sizeof(misses[0]); i++)
        assert_null(asset_find(misses[i]));
    assert_null(asset_find(NULL));
    assert_string_equal(asset_url("/assets/nothing.css"), "/assets/nothing.css");
}

/* The server's percent-decoding of paths, then the look-up, as a request
 * goes. */
static const asset *find_raw(const char *raw)
{
    static char path[256];
    snprintf(path, sizeof(path), "%s", raw);
    size_t n = http_unescape(path);
    assert_int_equal(n, strlen(path));
    return asset_find(path);
}

static void test_unescape_then_find(void **state)
{
    (void)state;
    char s[64] = "/a%2Fb%2e%2E%41%zz%4%";
    assert_int_equal(http_unescape(s), strlen("/a/b..A%zz%4%"));
    assert_string_equal(s, "/a/b..A%zz%4%");
    char nul[] = "/x.css%00.png";
    assert_int_equal(http_unescape(nul), strlen("/x.css%00.png"));
    assert_string_equal(nul, "/x.css%00.png");

    assert_non_null(find_raw("/assets/opencase%2ecss"));
    assert_null(find_raw("/assets/opencase.css%00.png"));
    assert_null(find_raw("/assets/%2e%2e/%2e%2e/etc/passwd"));
    assert_null(find_raw("/assets/%252e%252e/etc/passwd"));
    assert_null(find_raw("/assets/leaflet%2f..%2fopencase.css"));
}

static void test_accept_encoding(void **state)
{
    (void)state;
    assert_true(asset_accepts_gzip("gzip"));
    assert_true(asset_accepts_gzip("deflate, gzip;q=1.0, *;q=0.5"));
    assert_true(asset_accepts_gzip("GZIP"));
    assert_true(asset_accepts_gzip("x-gzip"));
    assert_true(asset_accepts_gzip("br, *"));
    assert_true(asset_accepts_gzip("gzip;q=0.001"));
    assert_true(asset_accepts_gzip(" gzip ; q=0.5 "));
    assert_false(asset_accepts_gzip(NULL));
    assert_false(asset_accepts_gzip(""));
    assert_false(asset_accepts_gzip("identity"));
    assert_false(asset_accepts_gzip("br, deflate"));
    assert_false(asset_accepts_gzip("gzip;q=0"));
    assert_false(asset_accepts_gzip("gzip; q=0.000"));
    assert_false(asset_accepts_gzip("*;q=0"));
    assert_false(asset_accepts_gzip("gzip;q=0, *"));
    assert_false(asset_accepts_gzip("gzipx, xgzip, gzi"));
}

static void test_if_none_match(void **state)
{
    (void)state;
    const char *etag = "W/\"0123456789abcdef\"";
    assert_true(asset_etag_matches("\"0123456789abcdef\"", etag));
    assert_true(asset_etag_matches("W/\"0123456789abcdef\"", etag));
    assert_true(asset_etag_matches("\"x\", W/\"0123456789abcdef\" ", etag));
    assert_true(asset_etag_matches("*", etag));
    assert_false(asset_etag_matches(NULL, etag));
    assert_false(asset_etag_matches("", etag));
    assert_false(asset_etag_matches("\"0123456789abcdee\"", etag));
    assert_false(asset_etag_matches("0123456789abcdef", etag));
    assert_false(asset_etag_matches("\"0123456789abcdef", etag));
    assert_false(asset_etag_matches("\"0123456789abcdef\"x", etag));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_is_sorted_and_complete),
        cmocka_unit_test(test_pages_need_these),
        cmocka_unit_test(test_only_exact_names),
        cmocka_unit_test(test_unescape_then_find),
        cmocka_unit_test(test_accept_encoding),
        cmocka_unit_test(test_if_none_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
