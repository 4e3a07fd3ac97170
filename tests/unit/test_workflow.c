/* test_workflow.c - loading workflow definitions, each rule's failure with
 * its exact field path, and the queries on a loaded workflow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "domain/validate.h"
#include "domain/workflow.h"

/* The parts of a valid definition, so that each test varies one of them. */
#define STAGES_OK                                                                                  \
    "[{\"code\":\"received\",\"name\":\"Received\",\"milestone\":true},"                           \
    "{\"code\":\"assessing\",\"name\":\"Being assessed\"},"                                        \
    "{\"code\":\"approved\",\"name\":\"Approved\",\"milestone\":true,\"terminal\":true},"          \
    "{\"code\":\"refused\",\"name\":\"Refused\",\"milestone\":true,\"terminal\":true}]"
#define TRANSITIONS_OK                                                                             \
    "{\"received\":[\"assessing\"],\"assessing\":[\"approved\",\"refused\",\"received\"]}"

typedef struct fixture {
    arena a;
    workflow wf;
    wf_error err;
} fixture;

static int setup(void **state)
{
    static fixture f;
    arena_init(&f.a);
    memset(&f.wf, 0, sizeof(f.wf));
    memset(&f.err, 0, sizeof(f.err));
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    arena_free(&f->a);
    return 0;
}

static int load(fixture *f, const char *text)
{
    json_error_t jerr;
    json_t *def = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (!def)
        fail_msg("test JSON does not parse: %s: %s", jerr.text, text);
    int rc = workflow_parse(&f->a, def, &f->wf, &f->err);
    json_decref(def);
    return rc;
}

/* Expects `text` to be refused naming `field`, with a sentence, and *out
 * left empty. */
static void expect_error(fixture *f, const char *text, const char *field)
{
    f->wf.n_stages = 99;
    if (load(f, text) == 0)
        fail_msg("accepted: %s", text);
    if (strcmp(f->err.field, field) != 0)
        fail_msg("field '%s', want '%s' (%s) for %s", f->err.field, field, f->err.message, text);
    assert_true(strlen(f->err.message) > 5);
    assert_true(valid_text(f->err.message, sizeof(f->err.message), false));
    assert_null(f->wf.stages);
    assert_int_equal(f->wf.n_stages, 0);
}

/* The same for the definition before + part + after. */
static void expect_error_with(fixture *f, const char *before, const char *part, const char *after,
                              const char *field)
{
    char text[4096];
    int n = snprintf(text, sizeof(text), "%s%s%s", before, part, after);
    assert_true(n > 0 && (size_t)n < sizeof(text));
    expect_error(f, text, field);
}

static void test_valid_definition(void **state)
{
    fixture *f = *state;
    assert_int_equal(load(f, "{\"stages\":" STAGES_OK ",\"transitions\":" TRANSITIONS_OK "}"), 0);
    assert_string_equal(f->err.field, "");
    assert_int_equal(f->wf.n_stages, 4);
    assert_int_equal(f->wf.initial, 0); /* the first stage by default */

    const wf_stage *s = f->wf.stages;
    assert_string_equal(s[0].code, "received");
    assert_string_equal(s[0].name, "Received");
    assert_true(s[0].milestone);
    assert_false(s[0].terminal);
    assert_false(s[1].milestone); /* internal unless said otherwise */
    assert_false(s[1].terminal);
    assert_true(s[2].terminal);
    assert_true(s[3].terminal);

    assert_int_equal(s[0].n_next, 1);
    assert_int_equal(s[0].next[0], 1);
    assert_int_equal(s[1].n_next, 3);
    assert_int_equal(s[1].next[0], 2);
    assert_int_equal(s[1].next[1], 3);
    assert_int_equal(s[1].next[2], 0);
    assert_int_equal(s[2].n_next, 0);
    assert_int_equal(s[3].n_next, 0);
}

static void test_header_example_and_initial(void **state)
{
    fixture *f = *state;
    assert_int_equal(
        load(f, "{ \"initial\": \"received\","
                "  \"stages\": [ { \"code\": \"received\", \"name\": \"Received\", \"milestone\": "
                "true },"
                "              { \"code\": \"closed\", \"name\": \"Closed\", \"milestone\": true,"
                "                \"terminal\": true } ],"
                "  \"transitions\": { \"received\": [\"closed\"] } }"),
        0);
    assert_int_equal(f->wf.n_stages, 2);
    assert_int_equal(f->wf.initial, 0);

    /* An explicit initial stage other than the first; a terminal stage may
     * have an empty list; initial null means the default. */
    assert_int_equal(load(f, "{\"initial\":\"assessing\",\"stages\":" STAGES_OK
                             ",\"transitions\":{\"assessing\":[\"approved\"],\"refused\":[]}}"),
                     0);
    assert_int_equal(f->wf.initial, 1);
    assert_int_equal(f->wf.stages[3].n_next, 0);
    assert_int_equal(load(f, "{\"initial\":null,\"stages\":" STAGES_OK ",\"transitions\":{}}"), 0);
    assert_int_equal(f->wf.initial, 0);
}

static void test_limits_accepted(void **state)
{
    fixture *f = *state;
    char text[16384];
    char code[WF_CODE_MAX + 1], name[WF_NAME_MAX + 1];
    memset(code, 'a', WF_CODE_MAX);
    code[WF_CODE_MAX] = '\0';
    memset(name, 'N', WF_NAME_MAX);
    name[WF_NAME_MAX] = '\0';
    snprintf(text, sizeof(text),
             "{\"stages\":[{\"code\":\"%s\",\"name\":\"%s\"},"
             "{\"code\":\"_0\",\"name\":\"Caf\\u00e9 \\u2013 done\",\"terminal\":true}],"
             "\"transitions\":{\"%s\":[\"_0\"]}}",
             code, name, code);
    assert_int_equal(load(f, text), 0);
    assert_string_equal(f->wf.stages[0].code, code);
    assert_string_equal(f->wf.stages[0].name, name);
    assert_string_equal(f->wf.stages[1].name, "Caf\xc3\xa9 \xe2\x80\x93 done");

    /* WF_MAX_STAGES stages, each moving to the next, the last terminal. */
    size_t n = 0;
    n += (size_t)snprintf(text + n, sizeof(text) - n, "{\"stages\":[");
    for (int i = 0; i < WF_MAX_STAGES; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "%s{\"code\":\"s%d\",\"name\":\"S\"%s}",
                              i ? "," : "", i, i == WF_MAX_STAGES - 1 ? ",\"terminal\":true" : "");
    n += (size_t)snprintf(text + n, sizeof(text) - n, "],\"transitions\":{");
    for (int i = 0; i + 1 < WF_MAX_STAGES; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "%s\"s%d\":[\"s%d\"]", i ? "," : "", i,
                              i + 1);
    n += (size_t)snprintf(text + n, sizeof(text) - n, "}}");
    assert_true(n < sizeof(text));
    assert_int_equal(load(f, text), 0);
    assert_int_equal(f->wf.n_stages, WF_MAX_STAGES);
}

static void test_shape_errors(void **state)
{
    fixture *f = *state;
    expect_error(f, "[]", "workflow");
    expect_error(f, "\"received\"", "workflow");
    expect_error(f, "{\"stages\":" STAGES_OK ",\"transitions\":{},\"intial\":\"received\"}",
                 "workflow.intial");
    expect_error(f, "{\"transitions\":{}}", "workflow.stages");
    expect_error(f, "{\"stages\":{},\"transitions\":{}}", "workflow.stages");
    expect_error(f, "{\"stages\":[],\"transitions\":{}}", "workflow.stages");
    expect_error(f, "{\"stages\":" STAGES_OK "}", "workflow.transitions");
    expect_error(f, "{\"stages\":" STAGES_OK ",\"transitions\":[]}", "workflow.transitions");

    char text[16384];
    size_t n = (size_t)snprintf(text, sizeof(text), "{\"stages\":[");
    for (int i = 0; i <= WF_MAX_STAGES; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "%s{\"code\":\"s%d\",\"name\":\"S\"}",
                              i ? "," : "", i);
    snprintf(text + n, sizeof(text) - n, "],\"transitions\":{}}");
    expect_error(f, text, "workflow.stages");
}

static void test_stage_errors(void **state)
{
    fixture *f = *state;
    const char *two = "{\"stages\":[{\"code\":\"received\",\"name\":\"Received\"},";
    const char *end = "],\"transitions\":{}}";
    expect_error_with(f, two, "\"closed\"", end, "workflow.stages[1]");
    expect_error_with(f, two, "{\"code\":\"closed\",\"name\":\"C\",\"terminal\":true,\"colour\":1}",
                      end, "workflow.stages[1].colour");
    expect_error_with(f, two, "{\"name\":\"Closed\",\"terminal\":true}", end,
                      "workflow.stages[1].code");
    expect_error_with(f, two, "{\"code\":7,\"name\":\"C\",\"terminal\":true}", end,
                      "workflow.stages[1].code");
    expect_error_with(f, two, "{\"code\":\"\",\"name\":\"C\",\"terminal\":true}", end,
                      "workflow.stages[1].code");
    expect_error_with(f, two, "{\"code\":\"Closed\",\"name\":\"C\",\"terminal\":true}", end,
                      "workflow.stages[1].code");
    expect_error_with(f, two, "{\"code\":\"clo-sed\",\"name\":\"C\",\"terminal\":true}", end,
                      "workflow.stages[1].code");
    expect_error_with(f, two, "{\"code\":\"clo sed\",\"name\":\"C\",\"terminal\":true}", end,
                      "workflow.stages[1].code");
    expect_error_with(f, two,
                      "{\"code\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"name\":\"C\"}",
                      end, "workflow.stages[1].code");
    expect_error_with(f, two, "{\"code\":\"received\",\"name\":\"Again\",\"terminal\":true}", end,
                      "workflow.stages[1].code");
    expect_error_with(f, two, "{\"code\":\"closed\",\"terminal\":true}", end,
                      "workflow.stages[1].name");
    expect_error_with(f, two, "{\"code\":\"closed\",\"name\":\"\",\"terminal\":true}", end,
                      "workflow.stages[1].name");
    expect_error_with(f, two, "{\"code\":\"closed\",\"name\":[\"C\"],\"terminal\":true}", end,
                      "workflow.stages[1].name");
    expect_error_with(f, two, "{\"code\":\"closed\",\"name\":\"Line\\nbreak\",\"terminal\":true}",
                      end, "workflow.stages[1].name");
    expect_error_with(f, two, "{\"code\":\"closed\",\"name\":\"C\",\"milestone\":\"yes\"}", end,
                      "workflow.stages[1].milestone");
    expect_error_with(f, two, "{\"code\":\"closed\",\"name\":\"C\",\"terminal\":1}", end,
                      "workflow.stages[1].terminal");

    char name[WF_NAME_MAX + 2];
    memset(name, 'N', WF_NAME_MAX + 1);
    name[WF_NAME_MAX + 1] = '\0';
    char stage[256];
    snprintf(stage, sizeof(stage), "{\"code\":\"closed\",\"name\":\"%s\",\"terminal\":true}", name);
    expect_error_with(f, two, stage, end, "workflow.stages[1].name");
}

static void test_embedded_nul_refused(void **state)
{
    fixture *f = *state;
    json_error_t jerr;
    const char *texts[] = {
        "{\"stages\":[{\"code\":\"a\\u0000b\",\"name\":\"A\"},{\"code\":\"z\",\"name\":\"Z\","
        "\"terminal\":true}],\"transitions\":{}}",
        "{\"stages\":[{\"code\":\"a\",\"name\":\"A\\u0000B\"},{\"code\":\"z\",\"name\":\"Z\","
        "\"terminal\":true}],\"transitions\":{}}",
        "{\"stages\":[{\"code\":\"a\",\"name\":\"A\"},{\"code\":\"z\",\"name\":\"Z\","
        "\"terminal\":true}],\"transitions\":{\"a\":[\"z\\u0000x\"]}}",
    };
    const char *fields[] = {"workflow.stages[0].code", "workflow.stages[0].name",
                            "workflow.transitions.a"};
    for (size_t i = 0; i < 3; i++) {
        json_t *def = json_loads(texts[i], JSON_ALLOW_NUL, &jerr);
        assert_non_null(def);
        assert_int_equal(workflow_parse(&f->a, def, &f->wf, &f->err), -1);
        assert_string_equal(f->err.field, fields[i]);
        json_decref(def);
    }
}

static void test_transition_errors(void **state)
{
    fixture *f = *state;
    const char *with = "{\"stages\":" STAGES_OK ",\"transitions\":";
    const char *end = "}";
    expect_error_with(f, with, "{\"recieved\":[\"assessing\"]}", end,
                      "workflow.transitions.recieved");
    expect_error_with(f, with, "{\"received\":\"assessing\"}", end,
                      "workflow.transitions.received");
    expect_error_with(f, with, "{\"received\":{\"to\":\"assessing\"}}", end,
                      "workflow.transitions.received");
    expect_error_with(f, with, "{\"received\":[\"assesing\"]}", end,
                      "workflow.transitions.received");
    expect_error_with(f, with, "{\"received\":[1]}", end, "workflow.transitions.received");
    expect_error_with(f, with, "{\"received\":[\"assessing\",\"approved\",\"assessing\"]}", end,
                      "workflow.transitions.received");
    expect_error_with(f, with, "{\"received\":[\"assessing\"],\"approved\":[\"received\"]}", end,
                      "workflow.transitions.approved");
    /* Longer than the stage list: some entry must repeat. */
    expect_error_with(f, with,
                      "{\"received\":[\"assessing\",\"approved\",\"refused\",\"received\","
                      "\"assessing\"]}",
                      end, "workflow.transitions.received");
}

static void test_initial_and_terminal_errors(void **state)
{
    fixture *f = *state;
    const char *with = "{\"initial\":";
    const char *end = ",\"stages\":" STAGES_OK ",\"transitions\":{}}";
    expect_error_with(f, with, "\"nowhere\"", end, "workflow.initial");
    expect_error_with(f, with, "\"approved\"", end, "workflow.initial");
    expect_error_with(f, with, "3", end, "workflow.initial");
    expect_error_with(f, with, "[\"received\"]", end, "workflow.initial");
    /* The default, the first stage, is terminal. */
    expect_error(f,
                 "{\"stages\":[{\"code\":\"closed\",\"name\":\"C\",\"terminal\":true},"
                 "{\"code\":\"open\",\"name\":\"O\"}],\"transitions\":{}}",
                 "workflow.initial");
    /* No terminal stage at all. */
    expect_error(f,
                 "{\"stages\":[{\"code\":\"a\",\"name\":\"A\"},{\"code\":\"b\",\"name\":\"B\"}],"
                 "\"transitions\":{\"a\":[\"b\"],\"b\":[\"a\"]}}",
                 "workflow.stages");
}

static void test_long_key_truncated_safely(void **state)
{
    fixture *f = *state;
    /* An unknown key of 200 two-byte characters: the field is cut short on
     * a character boundary. */
    char text[1024];
    size_t n = (size_t)snprintf(text, sizeof(text), "{\"");
    for (int i = 0; i < 200; i++) {
        memcpy(text + n, "\xc3\xa9", 2);
        n += 2;
    }
    snprintf(text + n, sizeof(text) - n, "\":1}");
    assert_int_equal(load(f, text), -1);
    size_t len = strlen(f->err.field);
    assert_true(len < sizeof(f->err.field));
    assert_true(len >= sizeof(f->err.field) - 2);
    assert_memory_equal(f->err.field, "workflow.", 9);
    assert_int_equal((len - 9) % 2, 0);
    assert_true(valid_text(f->err.field, sizeof(f->err.field), false));
}

static void test_control_characters_in_field(void **state)
{
    fixture *f = *state;
    /* Keys are quoted back in the field path; controls become '?'. */
    expect_error(f, "{\"stages\":" STAGES_OK ",\"transitions\":{},\"a\\u0001b\\u007f\":1}",
                 "workflow.a?b?");
    expect_error(f, "{\"stages\":" STAGES_OK ",\"transitions\":{},\"x\\u0085\\u00e9\":1}",
                 "workflow.x??\xc3\xa9");
}

static void test_queries(void **state)
{
    fixture *f = *state;
    assert_int_equal(load(f, "{\"stages\":" STAGES_OK ",\"transitions\":" TRANSITIONS_OK "}"), 0);
    const workflow *wf = &f->wf;

    assert_ptr_equal(workflow_stage(wf, "assessing"), &wf->stages[1]);
    assert_null(workflow_stage(wf, "assess"));
    assert_null(workflow_stage(wf, ""));
    assert_null(workflow_stage(wf, NULL));

    assert_int_equal(workflow_check_move(wf, "received", "assessing"), WF_OK);
    assert_int_equal(workflow_check_move(wf, "assessing", "received"), WF_OK);
    assert_int_equal(workflow_check_move(wf, "assessing", "refused"), WF_OK);
    assert_int_equal(workflow_check_move(wf, "received", "approved"), WF_NOT_ALLOWED);
    assert_int_equal(workflow_check_move(wf, "received", "received"), WF_NOT_ALLOWED);
    assert_int_equal(workflow_check_move(wf, "received", "nowhere"), WF_UNKNOWN_STAGE);
    assert_int_equal(workflow_check_move(wf, "nowhere", "received"), WF_UNKNOWN_STAGE);
    assert_int_equal(workflow_check_move(wf, NULL, "received"), WF_UNKNOWN_STAGE);
    assert_int_equal(workflow_check_move(wf, "approved", "received"), WF_FROM_TERMINAL);
    assert_int_equal(workflow_check_move(wf, "approved", "nowhere"), WF_FROM_TERMINAL);

    char out[64];
    workflow_describe_next(wf, "received", out, sizeof(out));
    assert_string_equal(out, "assessing");
    workflow_describe_next(wf, "assessing", out, sizeof(out));
    assert_string_equal(out, "approved, refused or received");
    workflow_describe_next(wf, "approved", out, sizeof(out));
    assert_string_equal(out, "none");
    workflow_describe_next(wf, "nowhere", out, sizeof(out));
    assert_string_equal(out, "none");

    /* Truncation keeps a terminated prefix at every size. */
    const char *full = "approved, refused or received";
    for (size_t len = 1; len <= strlen(full) + 1; len++) {
        char small[64];
        memset(small, 'X', sizeof(small));
        workflow_describe_next(wf, "assessing", small, len);
        assert_int_equal(strlen(small), len - 1);
        assert_memory_equal(small, full, len - 1);
        assert_int_equal(small[len], 'X');
    }
    out[0] = 'Q';
    workflow_describe_next(wf, "assessing", out, 0);
    assert_int_equal(out[0], 'Q');

    assert_int_equal(load(f, "{\"stages\":" STAGES_OK ",\"transitions\":{\"received\":["
                             "\"assessing\",\"refused\"]}}"),
                     0);
    workflow_describe_next(&f->wf, "received", out, sizeof(out));
    assert_string_equal(out, "assessing or refused");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_valid_definition, setup, teardown),
        cmocka_unit_test_setup_teardown(test_header_example_and_initial, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shape_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stage_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_embedded_nul_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transition_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_initial_and_terminal_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_key_truncated_safely, setup, teardown),
        cmocka_unit_test_setup_teardown(test_control_characters_in_field, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queries, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
