/* geo.h - points, boxes and distances on the Earth, for appeals on a map.
 *
 * Coordinates are fixed-point integers in units of 1e-7 degree (about 1 cm),
 * as OpenStreetMap keeps them: exact to store, compare and print on every
 * database, with no binary fractions. Parsers take the text of query
 * parameters ("-1.2345,51.5") and never accept exponents, NaN, infinities or
 * spaces. Distances use a sphere of the Earth's mean radius (haversine).
 * Boxes never cross the antimeridian: a box whose west edge is east of its
 * east edge is refused, and circles that would cross it are widened to
 * every longitude. Pure functions, no I/O.
 */
#ifndef OC_GEO_H
#define OC_GEO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GEO_UNIT 10000000 /* units per degree */
#define GEO_EARTH_RADIUS_M 6371008.8
/* The largest radius a "near" query may ask for. */
#define GEO_RADIUS_MAX_M 100000
/* The sizes a grid cell may have, in metres. */
#define GEO_CELL_MIN_M 50
#define GEO_CELL_MAX_M 20000
/* "-180.0000000" and a NUL. */
#define GEO_TEXT_LEN 13

typedef struct geo_point {
    int32_t lat; /* -90e7 .. 90e7 */
    int32_t lon; /* -180e7 .. 180e7 */
} geo_point;

/* Inclusive on every edge; min <= max on both axes. */
typedef struct geo_box {
    int32_t min_lon;
    int32_t min_lat;
    int32_t max_lon;
    int32_t max_lat;
} geo_box;

typedef enum {
    GEO_OK = 0,
    GEO_SYNTAX,       /* not the expected list of decimal numbers */
    GEO_LAT_RANGE,    /* a latitude outside -90..90 */
    GEO_LON_RANGE,    /* a longitude outside -180..180 */
    GEO_INVERTED_LON, /* west edge east of the east edge */
    GEO_INVERTED_LAT, /* south edge north of the north edge */
    GEO_RADIUS_RANGE, /* not a whole number of metres in 1..GEO_RADIUS_MAX_M */
} geo_rc;

/* A sentence saying what is wrong, for an error message. */
const char *geo_message(geo_rc rc);

/* One decimal number of degrees ("51.5", "-0.1275"), rounded to the nearest
 * unit; up to 3 integer and 15 fraction digits. Range is not checked beyond
 * +-180 degrees. */
geo_rc geo_parse_degrees(const char *s, size_t len, int32_t *out);

/* "minLon,minLat,maxLon,maxLat". A box of zero size (a point, or a line) is
 * allowed. */
geo_rc geo_parse_bbox(const char *s, geo_box *out);

/* "lat,lon". */
geo_rc geo_parse_point(const char *s, geo_point *out);

/* A radius in whole metres, 1..GEO_RADIUS_MAX_M. */
geo_rc geo_parse_radius(const char *s, int32_t *metres);

/* Degrees as doubles (from JSON) to a point: false when either is not finite
 * or out of range. */
bool geo_from_degrees(double lat, double lon, geo_point *out);

/* Great-circle distance in metres. */
double geo_distance_m(geo_point a, geo_point b);

/* The smallest box holding every point within radius_m of c, widened to
 * every longitude when it would reach a pole or cross the antimeridian. */
void geo_circle_box(geo_point c, int32_t radius_m, geo_box *out);

/* Whether p lies in the box (edges included). */
bool geo_box_contains(const geo_box *b, geo_point p);

/* The centre of the grid cell of about cell_m metres that holds p. Rows of
 * the grid are cell_m tall; each row is cut into the whole number of cells
 * at least cell_m wide (at the row's middle) that fits 360 degrees, so cells
 * never shrink towards the poles and every point of a cell maps to one
 * centre; near a pole a row is one cell. False when cell_m is outside
 * GEO_CELL_MIN_M..GEO_CELL_MAX_M. */
bool geo_snap(geo_point p, int32_t cell_m, geo_point *out);

/* Writes v (units) as decimal degrees with no trailing zeros: "51.5",
 * "-0.1275", "0". */
void geo_format(int32_t v, char out[GEO_TEXT_LEN]);

#endif
