/* Tests for the failure counters behind the tracking and log-in limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sodium.h>
#include <stdio.h>

#include "http/ratelimit.h"

static const ratelimit_rule rule = {"test", 3, 60};
static const ratelimit_rule other = {"other", 3, 60};

static int setup(void **state)
{
    if (sodium_init() < 0)
        return -1;
    *state = ratelimit_new();
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    ratelimit_free(*state);
    return 0;
}

static void test_blocks_after_limit_until_window_ends(void **state)
{
    ratelimit *rl = *state;
    unsigned retry = 0;
    for (int i = 0; i < 3; i++) {
        assert_false(ratelimit_blocked(rl, &rule, "10.0.0.1", 1000, &retry));
        ratelimit_fail(rl, &rule, "10.0.0.1", 1000 + i);
    }
    assert_true(ratelimit_blocked(rl, &rule, "10.0.0.1", 1010, &retry));
    assert_int_equal(retry, 50);
    assert_true(ratelimit_blocked(rl, &rule, "10.0.0.1", 1059, &retry));
    assert_int_equal(retry, 1);
    /* The window opened at the first failure and has passed. */
    assert_false(ratelimit_blocked(rl, &rule, "10.0.0.1", 1060, &retry));
    ratelimit_fail(rl, &rule, "10.0.0.1", 1060);
    assert_false(ratelimit_blocked(rl, &rule, "10.0.0.1", 1061, &retry));
}

static void test_keys_and_scopes_are_separate(void **state)
{
    ratelimit *rl = *state;
    unsigned retry;
    for (int i = 0; i < 3; i++)
        ratelimit_fail(rl, &rule, "AAAA-BBBB-C", 5000);
    assert_true(ratelimit_blocked(rl, &rule, "AAAA-BBBB-C", 5001, &retry));
    assert_false(ratelimit_blocked(rl, &rule, "AAAA-BBBB-D", 5001, &retry));
    assert_false(ratelimit_blocked(rl, &other, "AAAA-BBBB-C", 5001, &retry));
}

static void test_flood_of_keys_stays_bounded(void **state)
{
    ratelimit *rl = *state;
    unsigned retry;
    char key[32];
    /* Far more keys than slots: old windows are forgotten, nothing breaks,
     * and a key failing now is still counted. */
    for (int i = 0; i < 200000; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        ratelimit_fail(rl, &rule, key, 9000);
    }
    for (int i = 0; i < 3; i++)
        ratelimit_fail(rl, &rule, "attacker", 9001);
    assert_true(ratelimit_blocked(rl, &rule, "attacker", 9002, &retry));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_blocks_after_limit_until_window_ends, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys_and_scopes_are_separate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flood_of_keys_stays_bounded, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
