/* test_open311.c - Open311 metadata against a workflow, stage statuses,
 * attribute checks, parameter names, coordinates and date-times. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "domain/open311.h"

static const char workflow_def[] =
    "{\"stages\": [{\"code\": \"new\", \"name\": \"New\", \"milestone\": true},"
    " {\"code\": \"fixing\", \"name\": \"Fixing\", \"milestone\": true},"
    " {\"code\": \"done\", \"name\": \"Done\", \"milestone\": true, \"terminal\": true}],"
    " \"transitions\": {\"new\": [\"fixing\"], \"fixing\": [\"done\"]}}";

static const char metadata_def[] =
    "{\"keywords\": [\"a\", \"b\"], \"groups\": [\"Roads\"],"
    " \"attributes\": ["
    "  {\"code\": \"depth\", \"datatype\": \"singlevaluelist\", \"required\": true, \"order\": 2,"
    "   \"description\": \"Depth\", \"values\": [{\"key\": \"deep\", \"name\": \"Deep\"},"
    "   {\"key\": \"shallow\", \"name\": \"Shallow\"}]},"
    "  {\"code\": \"where\", \"datatype\": \"multivaluelist\", \"description\": \"Where\","
    "   \"values\": [{\"key\": \"road\", \"name\": \"Road\"}, {\"key\": \"path\", \"name\": "
    "\"Path\"}]},"
    "  {\"code\": \"size\", \"datatype\": \"number\", \"description\": \"Size\"},"
    "  {\"code\": \"seen\", \"datatype\": \"datetime\", \"description\": \"Seen\"},"
    "  {\"code\": \"id\", \"datatype\": \"string\", \"description\": \"Id\", \"automated\": "
    "\"server_set\"},"
    "  {\"code\": \"note\", \"datatype\": \"text\", \"description\": \"Note\", \"variable\": false,"
    "   \"required\": true}],"
    " \"stages\": {\"fixing\": {\"status\": \"open\", \"extended_status\": \"action_scheduled\","
    "  \"external_status_code\": \"SCH\"}}}";

typedef struct fixture {
    arena a;
    workflow wf;
    o311_service svc;
} fixture;

static int setup(void **state)
{
    static fixture fx;
    wf_error err;
    arena_init(&fx.a);
    json_t *w = json_loads(workflow_def, 0, NULL);
    json_t *m = json_loads(metadata_def, 0, NULL);
    assert_non_null(w);
    assert_non_null(m);
    assert_int_equal(workflow_parse(&fx.a, w, &fx.wf, &err), 0);
    assert_int_equal(o311_service_parse(&fx.a, m, &fx.wf, &fx.svc, &err), 0);
    json_decref(w);
    json_decref(m);
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    arena_free(&fx->a);
    return 0;
}

static void test_parse(void **state)
{
    fixture *fx = *state;
    assert_int_equal(fx->svc.n_keywords, 2);
    assert_string_equal(fx->svc.groups[0], "Roads");
    assert_int_equal(fx->svc.n_attrs, 6);
    assert_int_equal(fx->svc.attrs[0].order, 2);
    assert_int_equal(fx->svc.attrs[1].order, 2); /* its position when not given */
    assert_int_equal(fx->svc.attrs[0].n_values, 2);
    assert_true(fx->svc.attrs[0].required);
    assert_true(fx->svc.attrs[2].variable);
    assert_string_equal(fx->svc.attrs[4].automated, "server_set");
    assert_false(fx->svc.attrs[5].variable);
    assert_string_equal(o311_datatype_name(fx->svc.attrs[3].datatype), "datetime");
}

/* Each bad definition is refused, naming the field. */
static void test_parse_refuses(void **state)
{
    fixture *fx = *state;
    static const struct {
        const char *json;
        const char *field;
    } bad[] = {
        {"[]", "open311"},
        {"{\"colour\": 1}", "open311.colour"},
        {"{\"keywords\": [\"a,b\"]}", "open311.keywords"},
        {"{\"attributes\": [{\"code\": \"x\", \"datatype\": \"blob\", \"description\": \"x\"}]}",
         "open311.attributes[0].datatype"},
        {"{\"attributes\": [{\"datatype\": \"string\", \"description\": \"x\"}]}",
         "open311.attributes[0].code"},
        {"{\"attributes\": [{\"code\": \"x\", \"datatype\": \"string\"}]}",
         "open311.attributes[0].description"},
        {"{\"attributes\": [{\"code\": \"x\", \"datatype\": \"string\", \"description\": \"x\","
         " \"values\": [{\"key\": \"a\", \"name\": \"A\"}]}]}",
         "open311.attributes[0].values"},
        {"{\"attributes\": [{\"code\": \"x\", \"datatype\": \"multivaluelist\", \"description\":"
         " \"x\", \"values\": [{\"key\": \"a\", \"name\": \"A\"}, {\"key\": \"a\", \"name\": "
         "\"B\"}]}]}",
         "open311.attributes[0].values[1]."},
        {"{\"attributes\": [{\"code\": \"x\", \"datatype\": \"string\", \"description\": \"x\","
         " \"automated\": \"yes\"}]}",
         "open311.attributes[0].automated"},
        {"{\"stages\": {\"gone\": {\"status\": \"open\"}}}", "open311.stages.gone"},
        {"{\"stages\": {\"done\": {\"status\": \"shut\"}}}", "open311.stages.done.status"},
        {"{\"stages\": {\"done\": {\"status\": \"closed\", \"extended_status\": \"FIXED\"}}}",
         "open311.stages.done.extended_status"},
        {"{\"stages\": {\"done\": {\"status\": \"closed\", \"extended_status\": \"open\"}}}",
         "open311.stages.done.extended_status"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        o311_service svc;
        wf_error err;
        json_t *def = json_loads(bad[i].json, 0, NULL);
        assert_non_null(def);
        assert_int_equal(o311_service_parse(&fx->a, def, &fx->wf, &svc, &err), -1);
        assert_string_equal(err.field, bad[i].field);
        assert_true(err.message[0] != '\0');
        assert_int_equal(svc.n_attrs, 0);
        json_decref(def);
    }
}

static void test_stage_status(void **state)
{
    fixture *fx = *state;
    o311_stage st = o311_stage_status(&fx->svc, &fx->wf, "fixing");
    assert_false(st.closed);
    assert_string_equal(st.extended_status, "action_scheduled");
    assert_string_equal(st.external_status_code, "SCH");
    st = o311_stage_status(&fx->svc, &fx->wf, "new");
    assert_false(st.closed);
    assert_null(st.extended_status);
    st = o311_stage_status(&fx->svc, &fx->wf, "done");
    assert_true(st.closed);
    assert_null(st.external_status_code);
}

static bool check(const fixture *fx, const o311_input *in, size_t n, const char *want_bad)
{
    const char *bad;
    char msg[256];
    bool ok = o311_check_attributes(&fx->svc, in, n, &bad, msg, sizeof(msg));
    if (want_bad) {
        assert_false(ok);
        assert_string_equal(bad, want_bad);
        assert_non_null(strstr(msg, want_bad));
    } else {
        assert_true(ok);
        assert_null(bad);
    }
    return ok;
}

static void test_check_attributes(void **state)
{
    fixture *fx = *state;
    const char *deep[] = {"deep"}, *two[] = {"deep", "shallow"}, *odd[] = {"muddy"};
    const char *places[] = {"road", "path"}, *nowhere[] = {"road", "sky"};
    const char *num[] = {"-1.5e3"}, *nan_[] = {"nan"}, *words[] = {"twelve"};
    const char *when[] = {"2026-11-20T18:30:00.5+01:00"}, *never[] = {"2026-13-01T00:00:00Z"};
    const char *line[] = {"a\nb"};
    o311_input in[4] = {{"depth", deep, 1}, {"unknown", odd, 1}};
    check(fx, in, 2, NULL);
    check(fx, in + 1, 1, "depth");
    in[0].values = two;
    in[0].n_values = 2;
    check(fx, in, 1, "depth");
    in[0].values = odd;
    in[0].n_values = 1;
    check(fx, in, 1, "depth");
    in[0].values = deep;
    in[1] = (o311_input){"where", places, 2};
    check(fx, in, 2, NULL);
    in[1].values = nowhere;
    check(fx, in, 2, "where");
    in[1] = (o311_input){"size", num, 1};
    check(fx, in, 2, NULL);
    in[1].values = nan_;
    check(fx, in, 2, "size");
    in[1].values = words;
    check(fx, in, 2, "size");
    in[1] = (o311_input){"seen", when, 1};
    check(fx, in, 2, NULL);
    in[1].values = never;
    check(fx, in, 2, "seen");
    in[1] = (o311_input){"id", line, 1};
    check(fx, in, 2, "id");
}

static void test_attribute_key(void **state)
{
    (void)state;
    char code[O311_CODE_MAX + 1];
    assert_true(o311_attribute_key("attribute[depth]", code));
    assert_string_equal(code, "depth");
    assert_true(o311_attribute_key("attribute[where][]", code));
    assert_string_equal(code, "where");
    assert_false(o311_attribute_key("attribute[]", code));
    assert_false(o311_attribute_key("attribute[a][b]", code));
    assert_false(o311_attribute_key("attribute[a[b]", code));
    assert_false(o311_attribute_key("attribute[a", code));
    assert_false(o311_attribute_key("attributes[a]", code));
    assert_false(o311_attribute_key("attribute[a]x", code));
    char longer[100] = "attribute[";
    memset(longer + 10, 'x', O311_CODE_MAX + 1);
    memcpy(longer + 11 + O311_CODE_MAX, "]", 2);
    assert_false(o311_attribute_key(longer, code));
}

static void test_coordinate_status_datetime(void **state)
{
    (void)state;
    assert_true(o311_coordinate("51.5", 90));
    assert_true(o311_coordinate("-0.1276", 180));
    assert_true(o311_coordinate("+90", 90));
    assert_false(o311_coordinate("90.0001", 90));
    assert_false(o311_coordinate("1e2", 180));
    assert_false(o311_coordinate("5.", 90));
    assert_false(o311_coordinate(".5", 90));
    assert_false(o311_coordinate("", 90));
    assert_false(o311_coordinate("nan", 90));
    assert_string_equal(o311_status_canonical("FIXED"), "fixed");
    assert_string_equal(o311_status_canonical("Open"), "open");
    assert_string_equal(o311_status_canonical("not_councils_responsibility"),
                        "not_councils_responsibility");
    assert_null(o311_status_canonical("pending"));
    assert_null(o311_status_canonical(NULL));
    char out[32];
    o311_format_datetime(1795000000, out, sizeof(out));
    assert_string_equal(out, "2026-11-18T11:06:40+00:00");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),         cmocka_unit_test(test_parse_refuses),
        cmocka_unit_test(test_stage_status),  cmocka_unit_test(test_check_attributes),
        cmocka_unit_test(test_attribute_key), cmocka_unit_test(test_coordinate_status_datetime),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
