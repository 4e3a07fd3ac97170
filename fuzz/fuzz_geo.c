/* fuzz_geo.c - the map's query parsers on arbitrary bytes: a box, a point and
 * a radius. What they accept must be in range and well ordered, and a box
 * formatted again must parse to the same box. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/geo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LAT_MAX (90 * GEO_UNIT)
#define LON_MAX (180 * GEO_UNIT)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';

    geo_box b;
    if (geo_parse_bbox(s, &b) == GEO_OK) {
        if (b.min_lon > b.max_lon || b.min_lat > b.max_lat || b.min_lon < -LON_MAX ||
            b.max_lon > LON_MAX || b.min_lat < -LAT_MAX || b.max_lat > LAT_MAX)
            abort();
        char t[4][GEO_TEXT_LEN], again[4 * GEO_TEXT_LEN + 4];
        geo_format(b.min_lon, t[0]);
        geo_format(b.min_lat, t[1]);
        geo_format(b.max_lon, t[2]);
        geo_format(b.max_lat, t[3]);
        snprintf(again, sizeof(again), "%s,%s,%s,%s", t[0], t[1], t[2], t[3]);
        geo_box c;
        if (geo_parse_bbox(again, &c) != GEO_OK || memcmp(&b, &c, sizeof(b)) != 0)
            abort();
    }
    geo_point p;
    if (geo_parse_point(s, &p) == GEO_OK) {
        if (p.lat < -LAT_MAX || p.lat > LAT_MAX || p.lon < -LON_MAX || p.lon > LON_MAX)
            abort();
        int32_t r;
        if (geo_parse_radius(s, &r) == GEO_OK)
            abort(); /* a point has a comma; a radius never does */
        geo_circle_box(p, GEO_RADIUS_MAX_M, &b);
        if (!geo_box_contains(&b, p))
            abort();
        geo_point q;
        if (!geo_snap(p, 500, &q))
            abort();
    }
    int32_t r;
    if (geo_parse_radius(s, &r) == GEO_OK && (r < 1 || r > GEO_RADIUS_MAX_M))
        abort();
    free(s);
    return 0;
}
