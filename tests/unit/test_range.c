/* tests/unit/test_range.c -- Range header parsing against AWS's answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "server/range.h"

static void test_range_table(void **state)
{
    (void)state;
    static const struct {
        const char *value;
        uint64_t size;
        range_result_t result;
        uint64_t first, last;
    } cases[] = {
        {"bytes=0-0", 10, RANGE_OK, 0, 0},
        {"bytes=0-9", 10, RANGE_OK, 0, 9},
        {"bytes=2-5", 10, RANGE_OK, 2, 5},
        {"bytes=5-100", 10, RANGE_OK, 5, 9}, /* last clamped */
        {"bytes=3-", 10, RANGE_OK, 3, 9},    /* open end */
        {"bytes=-3", 10, RANGE_OK, 7, 9},    /* suffix */
        {"bytes=-100", 10, RANGE_OK, 0, 9},  /* suffix longer than the object */
        {" bytes=1-2 ", 10, RANGE_OK, 1, 2},
        {"bytes=10-", 10, RANGE_UNSATISFIABLE, 0, 0},
        {"bytes=10-20", 10, RANGE_UNSATISFIABLE, 0, 0},
        {"bytes=-0", 10, RANGE_UNSATISFIABLE, 0, 0},
        {"bytes=0-", 0, RANGE_UNSATISFIABLE, 0, 0},
        {"bytes=-5", 0, RANGE_UNSATISFIABLE, 0, 0},
        {"bytes=5-2", 10, RANGE_NONE, 0, 0},     /* inverted: ignored */
        {"bytes=0-1,3-4", 10, RANGE_NONE, 0, 0}, /* multi-range: ignored */
        {"bytes=a-b", 10, RANGE_NONE, 0, 0},
        {"bytes=", 10, RANGE_NONE, 0, 0},
        {"bytes=-", 10, RANGE_NONE, 0, 0},
        {"items=0-1", 10, RANGE_NONE, 0, 0},
        {"bytes=1-2x", 10, RANGE_NONE, 0, 0},
        {"bytes=99999999999999999999999-", 10, RANGE_NONE, 0, 0}, /* overflow */
        {"bytes=0-18446744073709551615", 10, RANGE_OK, 0, 9},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        uint64_t first = 0, last = 0;
        range_result_t r = range_parse(cases[i].value, strlen(cases[i].value), cases[i].size, &first, &last);
        if (r != cases[i].result)
            fail_msg("'%s' size %llu: result %d, want %d", cases[i].value, (unsigned long long)cases[i].size, r, cases[i].result);
        if (r == RANGE_OK && (first != cases[i].first || last != cases[i].last))
            fail_msg("'%s': %llu-%llu, want %llu-%llu", cases[i].value, (unsigned long long)first, (unsigned long long)last,
                     (unsigned long long)cases[i].first, (unsigned long long)cases[i].last);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_range_table)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
