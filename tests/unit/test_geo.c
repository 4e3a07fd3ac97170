/* test_geo.c - coordinate parsing, distances, circles' boxes and grid snapping. */
#include <setjmp.h>
#include <stdarg.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testrng.h"

#include "domain/geo.h"

static testrng rng = {0x9E3779B97F4A7C15u};

/* A uniformly spread integer in [lo, hi]. */
static int32_t rand_between(int32_t lo, int32_t hi)
{
    uint64_t span = (uint64_t)((int64_t)hi - lo) + 1;
    return (int32_t)(lo + (int64_t)(testrng_next(&rng) % span));
}

static geo_point pt(double lat, double lon)
{
    geo_point p;
    assert_true(geo_from_degrees(lat, lon, &p));
    return p;
}

static void test_parse_degrees(void **state)
{
    (void)state;
    int32_t v;
    assert_int_equal(geo_parse_degrees("51.5", 4, &v), GEO_OK);
    assert_int_equal(v, 515000000);
    assert_int_equal(geo_parse_degrees("-0.1275", 7, &v), GEO_OK);
    assert_int_equal(v, -1275000);
    assert_int_equal(geo_parse_degrees("+180", 4, &v), GEO_OK);
    assert_int_equal(v, 1800000000);
    assert_int_equal(geo_parse_degrees("-180.0000000", 12, &v), GEO_OK);
    assert_int_equal(v, -1800000000);
    /* The eighth fraction digit rounds, half away from zero. */
    assert_int_equal(geo_parse_degrees("1.00000005", 10, &v), GEO_OK);
    assert_int_equal(v, 10000001);
    assert_int_equal(geo_parse_degrees("-1.00000004999", 14, &v), GEO_OK);
    assert_int_equal(v, -10000000);
    assert_int_equal(geo_parse_degrees("0", 1, &v), GEO_OK);
    assert_int_equal(v, 0);

    const char *bad[] = {"",    "-",   ".5",    "5.",   "1e5",
                         "NaN", "inf", "0x10",  " 1",   "1 ",
                         "1,2", "--1", "1.2.3", "1234", "12.0000000000000001"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(geo_parse_degrees(bad[i], strlen(bad[i]), &v), GEO_SYNTAX);
    assert_int_equal(geo_parse_degrees("180.0000001", 11, &v), GEO_LON_RANGE);
    assert_int_equal(geo_parse_degrees("999", 3, &v), GEO_LON_RANGE);
}

static void test_parse_bbox(void **state)
{
    (void)state;
    geo_box b;
    assert_int_equal(geo_parse_bbox("-1.5,50.25,0.5,52", &b), GEO_OK);
    assert_int_equal(b.min_lon, -15000000);
    assert_int_equal(b.min_lat, 502500000);
    assert_int_equal(b.max_lon, 5000000);
    assert_int_equal(b.max_lat, 520000000);
    /* A box of zero size is a point, and allowed. */
    assert_int_equal(geo_parse_bbox("1,2,1,2", &b), GEO_OK);
    assert_int_equal(b.min_lon, b.max_lon);
    /* The whole world, poles included. */
    assert_int_equal(geo_parse_bbox("-180,-90,180,90", &b), GEO_OK);

    assert_int_equal(geo_parse_bbox("1,2,0,3", &b), GEO_INVERTED_LON);
    assert_int_equal(geo_parse_bbox("0,3,1,2", &b), GEO_INVERTED_LAT);
    assert_int_equal(geo_parse_bbox("0,-90.5,1,2", &b), GEO_LAT_RANGE);
    assert_int_equal(geo_parse_bbox("0,0,1,91", &b), GEO_LAT_RANGE);
    assert_int_equal(geo_parse_bbox("-181,0,1,1", &b), GEO_LON_RANGE);
    assert_int_equal(geo_parse_bbox("0,0,180.5,1", &b), GEO_LON_RANGE);
    assert_int_equal(geo_parse_bbox("0,0,1", &b), GEO_SYNTAX);
    assert_int_equal(geo_parse_bbox("0,0,1,1,1", &b), GEO_SYNTAX);
    assert_int_equal(geo_parse_bbox("0,0,,1", &b), GEO_SYNTAX);
    assert_int_equal(geo_parse_bbox(NULL, &b), GEO_SYNTAX);
    assert_int_equal(geo_parse_bbox("a,b,c,d", &b), GEO_SYNTAX);
}

static void test_parse_point_and_radius(void **state)
{
    (void)state;
    geo_point p;
    int32_t r;
    assert_int_equal(geo_parse_point("51.5,-0.12", &p), GEO_OK);
    assert_int_equal(p.lat, 515000000);
    assert_int_equal(p.lon, -1200000);
    assert_int_equal(geo_parse_point("90,180", &p), GEO_OK);
    assert_int_equal(geo_parse_point("91,0", &p), GEO_LAT_RANGE);
    assert_int_equal(geo_parse_point("0,181", &p), GEO_LON_RANGE);
    assert_int_equal(geo_parse_point("181,0", &p), GEO_LAT_RANGE);
    assert_int_equal(geo_parse_point("0", &p), GEO_SYNTAX);

    assert_int_equal(geo_parse_radius("1", &r), GEO_OK);
    assert_int_equal(r, 1);
    assert_int_equal(geo_parse_radius("100000", &r), GEO_OK);
    assert_int_equal(geo_parse_radius("100001", &r), GEO_RADIUS_RANGE);
    assert_int_equal(geo_parse_radius("0", &r), GEO_RADIUS_RANGE);
    assert_int_equal(geo_parse_radius("-5", &r), GEO_RADIUS_RANGE);
    assert_int_equal(geo_parse_radius("1.5", &r), GEO_RADIUS_RANGE);
    assert_int_equal(geo_parse_radius("99999999999", &r), GEO_RADIUS_RANGE);
    assert_int_equal(geo_parse_radius("", &r), GEO_RADIUS_RANGE);
    assert_int_equal(geo_parse_radius(NULL, &r), GEO_RADIUS_RANGE);
}

static void test_from_degrees(void **state)
{
    (void)state;
    geo_point p;
    assert_true(geo_from_degrees(-90, -180, &p));
    assert_int_equal(p.lat, -900000000);
    assert_false(geo_from_degrees(90.0000001, 0, &p));
    assert_false(geo_from_degrees(0, -180.5, &p));
    assert_false(geo_from_degrees(NAN, 0, &p));
    assert_false(geo_from_degrees(INFINITY, 0, &p));
}

static void test_distance(void **state)
{
    (void)state;
    /* One degree along a meridian is R * pi / 180. */
    double d = geo_distance_m(pt(0, 0), pt(1, 0));
    assert_true(d > 111194.0 && d < 111196.0);
    /* London to Paris, about 344 km. */
    d = geo_distance_m(pt(51.5074, -0.1278), pt(48.8566, 2.3522));
    assert_true(d > 343000 && d < 345000);
    assert_true(geo_distance_m(pt(10, 10), pt(10, 10)) == 0.0);
    /* Antipodes: half the circumference, without NaN. */
    d = geo_distance_m(pt(0, 0), pt(0, 180));
    assert_true(d > 20015000 && d < 20016000);
}

static void test_circle_box(void **state)
{
    (void)state;
    geo_box b;
    geo_point c = pt(51.5, -0.12);
    geo_circle_box(c, 1000, &b);
    assert_true(geo_box_contains(&b, c));
    /* Every point on the circle is inside the box. */
    for (int i = 0; i < 360; i++) {
        double angle = i * 3.14159265358979 / 180;
        double dlat = 999.0 / 111195.0 * cos(angle);
        double dlon = 999.0 / (111195.0 * 0.6225) * sin(angle);
        geo_point q = pt(51.5 + dlat, -0.12 + dlon);
        if (geo_distance_m(c, q) <= 1000)
            assert_true(geo_box_contains(&b, q));
    }
    /* The box is not much larger than the circle. */
    assert_true(b.max_lat - b.min_lat < 2LL * 1000 * GEO_UNIT / 111000);

    /* Near a pole, every longitude. */
    geo_circle_box(pt(89.999, 10), 5000, &b);
    assert_int_equal(b.min_lon, -1800000000);
    assert_int_equal(b.max_lon, 1800000000);
    assert_int_equal(b.max_lat, 900000000);
    /* Across the antimeridian, every longitude too (never a wrapped box). */
    geo_circle_box(pt(0, 179.999), 5000, &b);
    assert_int_equal(b.min_lon, -1800000000);
    assert_int_equal(b.max_lon, 1800000000);
    assert_true(b.min_lat < 0 && b.max_lat > 0);
}

static void test_snap_properties(void **state)
{
    (void)state;
    const int32_t cells[] = {GEO_CELL_MIN_M, 100, 250, 500, 1000, 5000, GEO_CELL_MAX_M};
    for (int i = 0; i < 20000; i++) {
        int32_t cell = cells[testrng_next(&rng) % (sizeof(cells) / sizeof(cells[0]))];
        /* Mostly where people live; some near the poles. */
        geo_point p = {.lat = i % 10 ? rand_between(-700000000, 700000000)
                                     : rand_between(-900000000, 900000000),
                       .lon = rand_between(-1800000000, 1800000000)};
        geo_point s, again;
        assert_true(geo_snap(p, cell, &s));
        assert_true(s.lat >= -900000000 && s.lat <= 900000000);
        assert_true(s.lon >= -1800000000 && s.lon <= 1800000000);
        /* Snapping the centre gives the centre: one point per cell. */
        assert_true(geo_snap(s, cell, &again));
        assert_int_equal(again.lat, s.lat);
        assert_int_equal(again.lon, s.lon);
        /* Away from the poles the centre is within the cell: at most half
         * a cell north or south and one cell east or west (cells are
         * widened to tile the row). */
        if (p.lat > -700000000 && p.lat < 700000000)
            assert_true(geo_distance_m(p, s) <= 1.2 * cell);
    }
}

static void test_snap_hides_the_point(void **state)
{
    (void)state;
    /* Two homes in one 500 m cell are shown at the same point, and that
     * point is neither of them. */
    geo_point a = pt(51.50101, -0.12101), b = pt(51.50102, -0.12099), sa, sb;
    assert_true(geo_snap(a, 500, &sa));
    assert_true(geo_snap(b, 500, &sb));
    assert_int_equal(sa.lat, sb.lat);
    assert_int_equal(sa.lon, sb.lon);
    assert_true(sa.lat != a.lat || sa.lon != a.lon);
    /* A point a cell away lands elsewhere. */
    geo_point far = pt(51.51, -0.12101), sf;
    assert_true(geo_snap(far, 500, &sf));
    assert_true(sf.lat != sa.lat);
    /* Cell sizes out of range are refused. */
    assert_false(geo_snap(a, GEO_CELL_MIN_M - 1, &sa));
    assert_false(geo_snap(a, GEO_CELL_MAX_M + 1, &sa));
    /* At a pole the row is one cell. */
    assert_true(geo_snap(pt(90, 123), 1000, &sa));
    assert_int_equal(sa.lon, 0);
    assert_true(sa.lat < 900000000 && sa.lat > 899900000);
    assert_true(geo_snap(pt(-90, -45), 1000, &sa));
    assert_int_equal(sa.lon, 0);
    /* The east edge of the world belongs to the last cell of its row. */
    assert_true(geo_snap(pt(10, 180), 1000, &sa));
    assert_true(sa.lon < 1800000000);
}

static void test_format(void **state)
{
    (void)state;
    char s[GEO_TEXT_LEN];
    geo_format(515000000, s);
    assert_string_equal(s, "51.5");
    geo_format(-1275000, s);
    assert_string_equal(s, "-0.1275");
    geo_format(0, s);
    assert_string_equal(s, "0");
    geo_format(-1800000000, s);
    assert_string_equal(s, "-180");
    geo_format(1, s);
    assert_string_equal(s, "0.0000001");
    /* What is formatted parses back to the same units. */
    for (int i = 0; i < 10000; i++) {
        int32_t v = rand_between(-1800000000, 1800000000), back;
        geo_format(v, s);
        assert_int_equal(geo_parse_degrees(s, strlen(s), &back), GEO_OK);
        assert_int_equal(back, v);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_degrees),
        cmocka_unit_test(test_parse_bbox),
        cmocka_unit_test(test_parse_point_and_radius),
        cmocka_unit_test(test_from_degrees),
        cmocka_unit_test(test_distance),
        cmocka_unit_test(test_circle_box),
        cmocka_unit_test(test_snap_properties),
        cmocka_unit_test(test_snap_hides_the_point),
        cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
