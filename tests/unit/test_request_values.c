/* tests/unit/test_request_values.c -- the parsers of request header and query values shared by the operations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "server/handler.h"

#define MD5_HEX "0123456789abcdef0123456789ABCDEF"

static void test_parse_etag(void **state)
{
    (void)state;
    static const struct {
        const char *value;
        int ok;
        uint32_t num_parts;
    } cases[] = {
        {"\"" MD5_HEX "\"", 1, 0},
        {MD5_HEX, 1, 0}, /* quotes optional */
        {"\"" MD5_HEX "-2\"", 1, 2},
        {MD5_HEX "-10000", 1, 10000},
        {MD5_HEX "-0", 0, 0}, /* no multipart object has 0 parts */
        {MD5_HEX "-", 0, 0},
        {MD5_HEX "-2x", 0, 0},
        {MD5_HEX "-123456", 0, 0},                  /* more digits than any part count */
        {"\"" MD5_HEX, 0, 0},                       /* one quote */
        {"0123456789abcdef0123456789abcdeg", 0, 0}, /* not hex */
        {"0123456789abcdef", 0, 0},
        {"", 0, 0},
        {"*", 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t md5[16];
        uint32_t parts = 99;
        int rc = s3_parse_etag(cases[i].value, strlen(cases[i].value), md5, &parts);
        if ((rc == 0) != cases[i].ok || (rc == 0 && parts != cases[i].num_parts))
            fail_msg("case %zu (%s): rc %d parts %u", i, cases[i].value, rc, parts);
        if (rc == 0 && (md5[0] != 0x01 || md5[15] != 0xEF))
            fail_msg("case %zu (%s): wrong digest", i, cases[i].value);
    }
}

static void test_parse_part_number_and_list_limit(void **state)
{
    (void)state;
    static const struct {
        const char *value;
        int part_ok;
        uint32_t part;
        int limit_ok;
        size_t limit;
    } cases[] = {
        {"1", 1, 1, 1, 1},  {"10000", 1, 10000, 1, 1000}, /* limits are capped at 1000 */
        {"0", 0, 0, 1, 0},  {"10001", 0, 0, 1, 1000},
        {"", 0, 0, 0, 0},   {"-1", 0, 0, 0, 0},
        {"1a", 0, 0, 0, 0}, {"999999999999999999999", 0, 0, 0, 0} /* beyond integer range: InvalidArgument */,
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint32_t part = 0;
        size_t limit = 12345;
        int prc = s3_parse_part_number(cases[i].value, strlen(cases[i].value), &part);
        int lrc = s3_parse_list_limit(cases[i].value, strlen(cases[i].value), &limit);
        if ((prc == 0) != cases[i].part_ok || (prc == 0 && part != cases[i].part))
            fail_msg("case %zu (%s): part number rc %d value %u", i, cases[i].value, prc, part);
        if ((lrc == 0) != cases[i].limit_ok || (lrc == 0 && limit != cases[i].limit))
            fail_msg("case %zu (%s): list limit rc %d value %zu", i, cases[i].value, lrc, limit);
    }
}

static void test_decode_content_md5(void **state)
{
    (void)state;
    uint8_t md5[16];
    /* MD5("") = d41d8cd98f00b204e9800998ecf8427e */
    assert_int_equal(s3_decode_content_md5("1B2M2Y8AsgTpgAmY7PhCfg==", 24, md5), 0);
    assert_int_equal(md5[0], 0xd4);
    assert_int_equal(md5[15], 0x7e);
    assert_int_equal(s3_decode_content_md5("1B2M2Y8AsgTpgAmY7PhCfg", 22, md5), -1);       /* padding missing */
    assert_int_equal(s3_decode_content_md5("1B2M2Y8AsgTpgAmY7PhCfg=x", 24, md5), -1);     /* bad padding */
    assert_int_equal(s3_decode_content_md5("2jmj7l5rSw0yVb/vlWAYkK/YBwk=", 28, md5), -1); /* a SHA1, not an MD5 */
    assert_int_equal(s3_decode_content_md5("1B2M2Y8AsgTpgAmY7PhCfh==", 24, md5), -1);     /* pad bits set: not canonical */
    assert_int_equal(s3_decode_content_md5("", 0, md5), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_etag),
        cmocka_unit_test(test_parse_part_number_and_list_limit),
        cmocka_unit_test(test_decode_content_md5),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
