/* geo.c - fixed-point coordinates, their parsers, distances and grid snapping.
 *
 * See geo.h. Parsing is done by hand on integers rather than with strtod, so
 * that what is accepted does not depend on the locale and rounding to a unit
 * is exact.
 */
#include "domain/geo.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define LAT_MAX (90LL * GEO_UNIT)
#define LON_MAX (180LL * GEO_UNIT)
#define FRACTION_DIGITS_MAX 15
#define DEG_TO_RAD (M_PI / 180.0)
/* Metres along a meridian per degree. */
#define METRES_PER_DEGREE (GEO_EARTH_RADIUS_M * DEG_TO_RAD)

const char *geo_message(geo_rc rc)
{
    switch (rc) {
    case GEO_OK:
        return "valid";
    case GEO_SYNTAX:
        return "must be decimal degrees separated by commas, such as -1.2345";
    case GEO_LAT_RANGE:
        return "has a latitude outside -90 to 90";
    case GEO_LON_RANGE:
        return "has a longitude outside -180 to 180";
    case GEO_INVERTED_LON:
        return "is inverted: minLon is east of maxLon (boxes across the antimeridian are not "
               "supported; ask for two boxes)";
    case GEO_INVERTED_LAT:
        return "is inverted: minLat is north of maxLat";
    case GEO_RADIUS_RANGE:
        return "must be a whole number of metres from 1 to 100000";
    }
    return "is not valid";
}

geo_rc geo_parse_degrees(const char *s, size_t len, int32_t *out)
{
    size_t i = 0;
    bool negative = false;
    *out = 0;
    if (i < len && (s[i] == '-' || s[i] == '+'))
        negative = s[i++] == '-';
    long long whole = 0;
    size_t int_digits = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9' && int_digits < 4) {
        whole = whole * 10 + (s[i++] - '0');
        int_digits++;
    }
    if (int_digits == 0 || int_digits > 3)
        return GEO_SYNTAX;
    long long fraction = 0; /* the first seven fraction digits, in units */
    int round_digit = 0;    /* the eighth, which decides the rounding */
    if (i < len && s[i] == '.') {
        i++;
        size_t digits = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (digits < 7)
                fraction = fraction * 10 + (s[i] - '0');
            else if (digits == 7)
                round_digit = s[i] - '0';
            digits++;
            i++;
        }
        if (digits == 0 || digits > FRACTION_DIGITS_MAX)
            return GEO_SYNTAX;
        for (size_t d = digits; d < 7; d++)
            fraction *= 10;
    }
    if (i != len)
        return GEO_SYNTAX;
    long long units = whole * GEO_UNIT + fraction + (round_digit >= 5 ? 1 : 0);
    if (units > LON_MAX)
        return GEO_LON_RANGE;
    *out = (int32_t)(negative ? -units : units);
    return GEO_OK;
}

/* Splits s at commas into exactly n numbers; on a range error *bad is the
 * index of the number beyond 180 degrees. */
static geo_rc parse_list(const char *s, int32_t *values, size_t n, size_t *bad)
{
    *bad = 0;
    if (!s)
        return GEO_SYNTAX;
    const char *p = s;
    for (size_t k = 0; k < n; k++) {
        const char *comma = strchr(p, ',');
        bool last = k + 1 == n;
        if (last ? comma != NULL : comma == NULL)
            return GEO_SYNTAX;
        size_t len = last ? strlen(p) : (size_t)(comma - p);
        geo_rc rc = geo_parse_degrees(p, len, &values[k]);
        if (rc != GEO_OK) {
            *bad = k;
            return rc;
        }
        p += len + (last ? 0 : 1);
    }
    return GEO_OK;
}

static bool lat_ok(long long v)
{
    return v >= -LAT_MAX && v <= LAT_MAX;
}

static bool lon_ok(long long v)
{
    return v >= -LON_MAX && v <= LON_MAX;
}

geo_rc geo_parse_bbox(const char *s, geo_box *out)
{
    int32_t v[4];
    size_t bad;
    memset(out, 0, sizeof(*out));
    geo_rc rc = parse_list(s, v, 4, &bad);
    if (rc != GEO_OK)
        return rc == GEO_SYNTAX ? rc : bad % 2 ? GEO_LAT_RANGE : GEO_LON_RANGE;
    if (!lon_ok(v[0]) || !lon_ok(v[2]))
        return GEO_LON_RANGE;
    if (!lat_ok(v[1]) || !lat_ok(v[3]))
        return GEO_LAT_RANGE;
    if (v[0] > v[2])
        return GEO_INVERTED_LON;
    if (v[1] > v[3])
        return GEO_INVERTED_LAT;
    *out = (geo_box){.min_lon = v[0], .min_lat = v[1], .max_lon = v[2], .max_lat = v[3]};
    return GEO_OK;
}

geo_rc geo_parse_point(const char *s, geo_point *out)
{
    int32_t v[2];
    size_t bad;
    memset(out, 0, sizeof(*out));
    geo_rc rc = parse_list(s, v, 2, &bad);
    if (rc != GEO_OK)
        return rc == GEO_SYNTAX ? rc : bad == 0 ? GEO_LAT_RANGE : GEO_LON_RANGE;
    if (!lat_ok(v[0]))
        return GEO_LAT_RANGE;
    if (!lon_ok(v[1]))
        return GEO_LON_RANGE;
    out->lat = v[0];
    out->lon = v[1];
    return GEO_OK;
}

geo_rc geo_parse_radius(const char *s, int32_t *metres)
{
    *metres = 0;
    if (!s || !*s)
        return GEO_RADIUS_RANGE;
    long long n = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9' || p - s >= 7)
            return GEO_RADIUS_RANGE;
        n = n * 10 + (*p - '0');
    }
    if (n < 1 || n > GEO_RADIUS_MAX_M)
        return GEO_RADIUS_RANGE;
    *metres = (int32_t)n;
    return GEO_OK;
}

bool geo_from_degrees(double lat, double lon, geo_point *out)
{
    memset(out, 0, sizeof(*out));
    if (!isfinite(lat) || !isfinite(lon) || lat < -90.0 || lat > 90.0 || lon < -180.0 ||
        lon > 180.0)
        return false;
    out->lat = (int32_t)llround(lat * GEO_UNIT);
    out->lon = (int32_t)llround(lon * GEO_UNIT);
    return true;
}

static double radians(int32_t units)
{
    return (double)units / GEO_UNIT * DEG_TO_RAD;
}

double geo_distance_m(geo_point a, geo_point b)
{
    double dlat = radians(b.lat) - radians(a.lat);
    double dlon = radians(b.lon) - radians(a.lon);
    double s = sin(dlat / 2), t = sin(dlon / 2);
    double h = s * s + cos(radians(a.lat)) * cos(radians(b.lat)) * t * t;
    if (h > 1.0)
        h = 1.0;
    return 2.0 * GEO_EARTH_RADIUS_M * asin(sqrt(h));
}

/* Degrees to units, rounded away from the box's inside by one unit so that
 * rounding never loses a point on the edge. */
static int32_t units_down(double deg, long long limit)
{
    long long u = (long long)floor(deg * GEO_UNIT) - 1;
    return (int32_t)(u < -limit ? -limit : u);
}

static int32_t units_up(double deg, long long limit)
{
    long long u = (long long)ceil(deg * GEO_UNIT) + 1;
    return (int32_t)(u > limit ? limit : u);
}

void geo_circle_box(geo_point c, int32_t radius_m, geo_box *out)
{
    double lat = (double)c.lat / GEO_UNIT, lon = (double)c.lon / GEO_UNIT;
    double angle = (double)radius_m / GEO_EARTH_RADIUS_M; /* radians */
    double dlat = angle / DEG_TO_RAD;
    out->min_lat = units_down(lat - dlat, LAT_MAX);
    out->max_lat = units_up(lat + dlat, LAT_MAX);
    out->min_lon = (int32_t)-LON_MAX;
    out->max_lon = (int32_t)LON_MAX;
    if (lat + dlat >= 90.0 || lat - dlat <= -90.0)
        return;
    /* The widest longitude of a circle on a sphere is at its tangent
     * meridians: sin(dlon) = sin(angle) / cos(lat). */
    double ratio = sin(angle) / cos(lat * DEG_TO_RAD);
    if (ratio >= 1.0)
        return;
    double dlon = asin(ratio) / DEG_TO_RAD;
    if (lon - dlon < -180.0 || lon + dlon > 180.0)
        return;
    out->min_lon = units_down(lon - dlon, LON_MAX);
    out->max_lon = units_up(lon + dlon, LON_MAX);
}

bool geo_box_contains(const geo_box *b, geo_point p)
{
    return p.lon >= b->min_lon && p.lon <= b->max_lon && p.lat >= b->min_lat && p.lat <= b->max_lat;
}

bool geo_snap(geo_point p, int32_t cell_m, geo_point *out)
{
    *out = p;
    if (cell_m < GEO_CELL_MIN_M || cell_m > GEO_CELL_MAX_M)
        return false;
    double cell_deg = (double)cell_m / METRES_PER_DEGREE;
    double lat = (double)p.lat / GEO_UNIT;
    double row = floor(lat / cell_deg);
    double centre_lat = (row + 0.5) * cell_deg;
    /* The rows at the poles are cut short by them; their centre stays
     * inside. */
    if (centre_lat > 90.0)
        centre_lat = (row * cell_deg + 90.0) / 2;
    if (centre_lat < -90.0)
        centre_lat = ((row + 1) * cell_deg - 90.0) / 2;
    double width_m = METRES_PER_DEGREE * cos(centre_lat * DEG_TO_RAD) * 360.0;
    double cells = floor(width_m / cell_m);
    double centre_lon = 0.0;
    if (cells >= 2) {
        double step = 360.0 / cells;
        double col = floor(((double)p.lon / GEO_UNIT + 180.0) / step);
        if (col >= cells)
            col = cells - 1;
        centre_lon = -180.0 + (col + 0.5) * step;
    }
    out->lat = (int32_t)llround(centre_lat * GEO_UNIT);
    out->lon = (int32_t)llround(centre_lon * GEO_UNIT);
    return true;
}

void geo_format(int32_t v, char out[GEO_TEXT_LEN])
{
    long long u = v;
    bool negative = u < 0;
    if (negative)
        u = -u;
    long long whole = u / GEO_UNIT, fraction = u % GEO_UNIT;
    if (fraction == 0) {
        snprintf(out, GEO_TEXT_LEN, "%s%lld", negative ? "-" : "", whole);
        return;
    }
    char digits[8];
    snprintf(digits, sizeof(digits), "%07lld", fraction);
    size_t n = 7;
    while (n > 1 && digits[n - 1] == '0')
        n--;
    digits[n] = '\0';
    snprintf(out, GEO_TEXT_LEN, "%s%lld.%s", negative ? "-" : "", whole, digits);
}
