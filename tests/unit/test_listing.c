/* tests/unit/test_listing.c -- how listings write keys (server/ops_list.c), the GetObjectAttributes
 * header parser (server/ops_attributes.c) (store_object_list's own edge cases are
 * in test_store.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "server/handler.h"
#include "storage/store.h"

#define S(lit) lit, sizeof(lit) - 1

/* ------------------------------------------------------------------ s3_xml_key */

static void test_xml_key_table(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t len;
        int url;
        const char *want; /* the element's text as written */
    } cases[] = {
        {S("plain/key.txt"), 0, "plain/key.txt"},
        {S("plain/key.txt"), 1, "plain/key.txt"},
        {S("a b+c%d"), 1, "a+b%2Bc%25d"}, /* space is '+', so a literal '+' must be %2B */
        {S("test_file(3).png"), 1, "test_file%283%29.png"},
        {S("-_.*~!'"), 1, "-_.*%7E%21%27"},
        {S("\x01\n\t\x7f"), 1, "%01%0A%09%7F"},
        {S("\xc3\xa9/\xe6\x97\xa5"), 1, "%C3%A9/%E6%97%A5"},
        {S("\xe6\x97"), 1, "%E6%97"}, /* a cut character is just bytes to encode */
        {S("a\0b"), 1, "a%00b"},
        {S("<&>\"'"), 0, "&lt;&amp;&gt;&quot;&apos;"},
        {S("ctl\x01\x1f"), 0, "ctl&#x1;&#x1F;"},                /* AWS writes control characters as character references */
        {S("\xc3\xa9\xe6\x97\xa5"), 0, "\xc3\xa9\xe6\x97\xa5"}, /* valid UTF-8 is left alone */
        {S("\xf0\x9f\x98\x80"), 0, "\xf0\x9f\x98\x80"},
        {S("\xe6\x97"), 0, "\xef\xbf\xbd\xef\xbf\xbd"}, /* not UTF-8: U+FFFD per bad byte */
        {S("a\xff"
           "b"),
         0,
         "a\xef\xbf\xbd"
         "b"},
        {S("\xc0\xaf"), 0, "\xef\xbf\xbd\xef\xbf\xbd"},                                 /* overlong '/' */
        {S("\xed\xa0\x80"), 0, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},                 /* a surrogate */
        {S("\xef\xbf\xbf"), 0, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},                 /* U+FFFF is no XML character */
        {S("\xf4\x90\x80\x80"), 0, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* past U+10FFFF */
        {S(""), 0, ""},
        {S(""), 1, ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        xmlw_t w = {0};
        s3_xml_key(&w, "K", cases[i].in, cases[i].len, cases[i].url);
        char want[256];
        int n = snprintf(want, sizeof(want), "<K>%s</K>", cases[i].want);
        if (w.len != (size_t)n || memcmp(w.buf, want, w.len) != 0)
            fail_msg("case %zu: got \"%.*s\", want \"%s\"", i, (int)w.len, w.buf, want);
        xmlw_free(&w);
    }

    /* a long value takes the heap path and gives the same bytes */
    char big[1024 + 1];
    memset(big, ' ', 1024);
    big[1024] = '\xff';
    xmlw_t w = {0};
    s3_xml_key(&w, "K", big, sizeof(big), 1);
    assert_int_equal(w.len, 3 + 1024 + 3 + 4);
    assert_memory_equal(w.buf + 3 + 1024, "%FF", 3);
    xmlw_free(&w);
    s3_xml_key(&w, "K", big, sizeof(big), 0);
    assert_int_equal(w.len, 3 + 1024 + 3 + 4);
    assert_memory_equal(w.buf + 3 + 1024, "\xef\xbf\xbd", 3);
    xmlw_free(&w);
}

/* ------------------------------------------------------------------ s3_parse_object_attributes */

static void test_object_attributes_table(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int rc;
        unsigned mask;
    } cases[] = {
        {"ETag", 0, S3_ATTR_ETAG},
        {"ETag,Checksum,ObjectParts,StorageClass,ObjectSize", 0,
         S3_ATTR_ETAG | S3_ATTR_CHECKSUM | S3_ATTR_OBJECT_PARTS | S3_ATTR_STORAGE_CLASS | S3_ATTR_OBJECT_SIZE},
        {" ObjectSize ,\tStorageClass", 0, S3_ATTR_OBJECT_SIZE | S3_ATTR_STORAGE_CLASS},
        {"ETag,,ETag,", 0, S3_ATTR_ETAG},
        {"", 0, 0},
        {" , ", 0, 0},
        {"etag", -1, 0}, /* names are case-sensitive */
        {"ETag,Size", -1, 0},
        {"ETagX", -1, 0},
        {"Object Size", -1, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unsigned mask = 0;
        int rc = s3_parse_object_attributes(cases[i].in, strlen(cases[i].in), &mask);
        if (rc != cases[i].rc || (rc == 0 && mask != cases[i].mask))
            fail_msg("case %zu (%s): rc %d mask %#x", i, cases[i].in, rc, mask);
    }
    unsigned mask = S3_ATTR_ETAG; /* several headers add up */
    assert_int_equal(s3_parse_object_attributes(S("ObjectParts"), &mask), 0);
    assert_int_equal(mask, S3_ATTR_ETAG | S3_ATTR_OBJECT_PARTS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xml_key_table),
        cmocka_unit_test(test_object_attributes_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
