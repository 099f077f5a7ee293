/* tests/unit/test_tagging.c -- tag sets (server/tagging.c): the <Tagging> document and the
 * x-amz-tagging header over tables of good and refused inputs with AWS's error codes and
 * texts, the canonical stored form (round trips, count), and the XML answer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/tagging.h"

#define NS "http://s3.amazonaws.com/doc/2006-03-01/"
#define TAG(k, v) "<Tag><Key>" k "</Key><Value>" v "</Value></Tag>"
#define DOC(tags) "<Tagging xmlns=\"" NS "\"><TagSet>" tags "</TagSet></Tagging>"

#define X10(s) s s s s s s s s s s
#define CHARS_128 X10(X10("a")) X10("b") X10("c") "12345678"
#define CHARS_256 CHARS_128 CHARS_128
_Static_assert(sizeof(CHARS_128) == 129, "128 characters");
/* 文 is three bytes in UTF-8 and one character; 𝒜 (U+1D49C) four bytes, one character */
#define WEN_128 X10(X10("文")) X10("文") X10("文") "文文文文文文文文"
#define MATH_A_128 X10(X10("𝒜")) X10("𝒜") X10("𝒜") "𝒜𝒜𝒜𝒜𝒜𝒜𝒜𝒜"

static const char msg_bad_key[] = "The TagKey you have provided is invalid";
static const char msg_bad_value[] = "The TagValue you have provided is invalid";
static const char msg_duplicate[] = "Cannot provide multiple Tags with the same key";
static const char msg_too_many_object[] = "Object tags cannot be greater than 10";
static const char msg_too_many_bucket[] = "Bucket tag count cannot be greater than 50";
static const char msg_system_object[] = "Your TagKey cannot be prefixed with aws:";
static const char msg_system_bucket[] = "System tags cannot be added/updated by requester";
static const char msg_bad_header[] =
    "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.";

typedef struct tag_case {
    const char *name;
    const char *input;
    tagging_kind_t kind;
    s3err_t want;
    const char *message; /* with an error: AWS's text, or NULL for the default */
    size_t num_tags;
    const char *tags[2][2]; /* the first tags expected (key, value) */
} tag_case_t;

static const tag_case_t xml_cases[] = {
    {"two tags", DOC(TAG("a", "1") TAG("b", "2")), TAGGING_OBJECT, S3ERR_NONE, NULL, 2, {{"a", "1"}, {"b", "2"}}},
    {"no namespace, declaration, layout",
     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Tagging>\n  <TagSet>\n    <Tag>\n      <Key>k</Key>\n      <Value>v</Value>\n"
     "    </Tag>\n  </TagSet>\n</Tagging>\n",
     TAGGING_OBJECT,
     S3ERR_NONE,
     NULL,
     1,
     {{"k", "v"}}},
    {"empty tag set", DOC(""), TAGGING_OBJECT, S3ERR_NONE, NULL, 0, {{0}}},
    {"self-closing tag set", "<Tagging><TagSet/></Tagging>", TAGGING_OBJECT, S3ERR_NONE, NULL, 0, {{0}}},
    {"empty value", DOC("<Tag><Key>k</Key><Value/></Tag>"), TAGGING_OBJECT, S3ERR_NONE, NULL, 1, {{"k", ""}}},
    {"value then key", DOC("<Tag><Value>v</Value><Key>k</Key></Tag>"), TAGGING_OBJECT, S3ERR_NONE, NULL, 1, {{"k", "v"}}},
    {"entities and CDATA", DOC(TAG("a&amp;b", "<![CDATA[x]]>")), TAGGING_OBJECT, S3ERR_INVALID_TAG, msg_bad_key, 0, {{0}}},
    {"CDATA and character references in a value",
     DOC(TAG("k&#x31;", "<![CDATA[x]]>&#x41;&#66;")),
     TAGGING_OBJECT,
     S3ERR_NONE,
     NULL,
     1,
     {{"k1", "xAB"}}},
    {"CDATA holding markup characters", DOC(TAG("k", "<![CDATA[a=b]]>")), TAGGING_OBJECT, S3ERR_NONE, NULL, 1, {{"k", "a=b"}}},
    {"spaces kept, allowed punctuation",
     DOC(TAG(" a b ", "+-=._:/@")),
     TAGGING_OBJECT,
     S3ERR_NONE,
     NULL,
     1,
     {{" a b ", "+-=._:/@"}}},
    {"prefixed namespace",
     "<s3:Tagging xmlns:s3=\"" NS "\"><s3:TagSet><s3:Tag><s3:Key>k</s3:Key><s3:Value>v</s3:Value></s3:Tag></s3:TagSet>"
     "</s3:Tagging>",
     TAGGING_OBJECT,
     S3ERR_NONE,
     NULL,
     1,
     {{"k", "v"}}},
    {"128-character key, 256-character value",
     DOC(TAG(CHARS_128, CHARS_256)),
     TAGGING_OBJECT,
     S3ERR_NONE,
     NULL,
     1,
     {{CHARS_128, CHARS_256}}},
    {"128 characters of 3 bytes",
     DOC(TAG(WEN_128, WEN_128 WEN_128)),
     TAGGING_OBJECT,
     S3ERR_NONE,
     NULL,
     1,
     {{WEN_128, WEN_128 WEN_128}}},
    {"128 characters of 4 bytes", DOC(TAG(MATH_A_128, "ü")), TAGGING_OBJECT, S3ERR_NONE, NULL, 1, {{MATH_A_128, "ü"}}},
    {"ten object tags",
     DOC(TAG("0", "") TAG("1", "") TAG("2", "") TAG("3", "") TAG("4", "") TAG("5", "") TAG("6", "") TAG("7", "") TAG("8", "")
             TAG("9", "")),
     TAGGING_OBJECT,
     S3ERR_NONE,
     NULL,
     10,
     {{"0", ""}, {"1", ""}}},
    {"eleven object tags",
     DOC(TAG("0", "") TAG("1", "") TAG("2", "") TAG("3", "") TAG("4", "") TAG("5", "") TAG("6", "") TAG("7", "") TAG("8", "")
             TAG("9", "") TAG("10", "")),
     TAGGING_OBJECT,
     S3ERR_BAD_REQUEST,
     msg_too_many_object,
     0,
     {{0}}},
    {"eleven bucket tags",
     DOC(TAG("0", "") TAG("1", "") TAG("2", "") TAG("3", "") TAG("4", "") TAG("5", "") TAG("6", "") TAG("7", "") TAG("8", "")
             TAG("9", "") TAG("10", "")),
     TAGGING_BUCKET,
     S3ERR_NONE,
     NULL,
     11,
     {{"0", ""}, {"1", ""}}},
    {"129-character key", DOC(TAG(CHARS_128 "x", "v")), TAGGING_OBJECT, S3ERR_INVALID_TAG, msg_bad_key, 0, {{0}}},
    {"129 characters of 3 bytes", DOC(TAG(WEN_128 "文", "v")), TAGGING_OBJECT, S3ERR_INVALID_TAG, msg_bad_key, 0, {{0}}},
    {"257-character value", DOC(TAG("k", CHARS_256 "x")), TAGGING_OBJECT, S3ERR_INVALID_TAG, msg_bad_value, 0, {{0}}},
    {"empty key", DOC(TAG("", "v")), TAGGING_OBJECT, S3ERR_INVALID_TAG, msg_bad_key, 0, {{0}}},
    {"comma in a key", DOC(TAG("a,b", "v")), TAGGING_OBJECT, S3ERR_INVALID_TAG, msg_bad_key, 0, {{0}}},
    {"tab in a value", DOC(TAG("k", "a\tb")), TAGGING_OBJECT, S3ERR_INVALID_TAG, msg_bad_value, 0, {{0}}},
    {"emoji in a value", DOC(TAG("k", "😀")), TAGGING_OBJECT, S3ERR_INVALID_TAG, msg_bad_value, 0, {{0}}},
    {"character reference to a control", DOC(TAG("k", "&#1;")), TAGGING_OBJECT, S3ERR_MALFORMED_XML, NULL, 0, {{0}}},
    {"duplicate key", DOC(TAG("a", "1") TAG("a", "2")), TAGGING_OBJECT, S3ERR_INVALID_TAG, msg_duplicate, 0, {{0}}},
    {"keys differing in case", DOC(TAG("a", "1") TAG("A", "2")), TAGGING_OBJECT, S3ERR_NONE, NULL, 2, {{"a", "1"}, {"A", "2"}}},
    {"aws: object key", DOC(TAG("aws:cost", "v")), TAGGING_OBJECT, S3ERR_INVALID_TAG, msg_system_object, 0, {{0}}},
    {"AWS: object key", DOC(TAG("AWS:cost", "v")), TAGGING_OBJECT, S3ERR_INVALID_TAG, msg_system_object, 0, {{0}}},
    {"aws: bucket key", DOC(TAG("aws:cost", "v")), TAGGING_BUCKET, S3ERR_INVALID_TAG, msg_system_bucket, 0, {{0}}},
    {"aws: inside a key", DOC(TAG("my:aws:cost", "aws:v")), TAGGING_OBJECT, S3ERR_NONE, NULL, 1, {{"my:aws:cost", "aws:v"}}},
    {"not well-formed", "<Tagging><TagSet>", TAGGING_OBJECT, S3ERR_MALFORMED_XML, NULL, 0, {{0}}},
    {"empty body", "", TAGGING_OBJECT, S3ERR_MALFORMED_XML, NULL, 0, {{0}}},
    {"no tag set", "<Tagging></Tagging>", TAGGING_OBJECT, S3ERR_MALFORMED_XML, NULL, 0, {{0}}},
    {"two tag sets", "<Tagging><TagSet/><TagSet/></Tagging>", TAGGING_OBJECT, S3ERR_MALFORMED_XML, NULL, 0, {{0}}},
    {"another root", "<Tags><TagSet></TagSet></Tags>", TAGGING_OBJECT, S3ERR_MALFORMED_XML, NULL, 0, {{0}}},
    {"tag without a value", DOC("<Tag><Key>a</Key></Tag>"), TAGGING_OBJECT, S3ERR_MALFORMED_XML, NULL, 0, {{0}}},
    {"tag without a key", DOC("<Tag><Value>a</Value></Tag>"), TAGGING_OBJECT, S3ERR_MALFORMED_XML, NULL, 0, {{0}}},
    {"two keys", DOC("<Tag><Key>a</Key><Key>b</Key><Value/></Tag>"), TAGGING_OBJECT, S3ERR_MALFORMED_XML, NULL, 0, {{0}}},
    {"markup in a key", DOC("<Tag><Key><b>a</b></Key><Value/></Tag>"), TAGGING_OBJECT, S3ERR_MALFORMED_XML, NULL, 0, {{0}}},
    {"unknown element in a tag", DOC("<Tag><Key>a</Key><Value/><X/></Tag>"), TAGGING_OBJECT, S3ERR_MALFORMED_XML, NULL, 0, {{0}}},
    {"unknown element in the tag set", DOC("<Other/>"), TAGGING_OBJECT, S3ERR_MALFORMED_XML, NULL, 0, {{0}}},
    {"DTD",
     "<!DOCTYPE Tagging [<!ENTITY e \"x\">]><Tagging><TagSet>" TAG("&e;", "v") "</TagSet></Tagging>",
     TAGGING_OBJECT,
     S3ERR_MALFORMED_XML,
     NULL,
     0,
     {{0}}},
    {"undefined entity", DOC(TAG("&e;", "v")), TAGGING_OBJECT, S3ERR_MALFORMED_XML, NULL, 0, {{0}}},
    {"not UTF-8", DOC(TAG("\xff", "v")), TAGGING_OBJECT, S3ERR_MALFORMED_XML, NULL, 0, {{0}}},
    {"text split by CDATA and references",
     DOC(TAG("a<![CDATA[b c]]>d&#x65;", "<![CDATA[]]>x<![CDATA[=]]>&#47;")),
     TAGGING_OBJECT,
     S3ERR_NONE,
     NULL,
     1,
     {{"ab cde", "x=/"}}},
    /* the text grows in UTF-8: the set is sized from the parsed text, not from the body */
    {"Latin-1 document",
     "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><Tagging><TagSet>" TAG("\xe9\xe9", "\xfc") TAG("k", "") "</TagSet></Tagging>",
     TAGGING_OBJECT,
     S3ERR_NONE,
     NULL,
     2,
     {{"éé", "ü"}, {"k", ""}}},
    {"malformed tag after good ones",
     DOC(TAG("a", "1") TAG("b", "2") "<Tag><Key>c</Key></Tag>"),
     TAGGING_OBJECT,
     S3ERR_MALFORMED_XML,
     NULL,
     0,
     {{0}}},
    {"tag after a malformed one", DOC("<Tag/>" TAG("a", "1")), TAGGING_OBJECT, S3ERR_MALFORMED_XML, NULL, 0, {{0}}},
};

static const tag_case_t query_cases[] = {
    {"two tags", "a=1&b=2", TAGGING_OBJECT, S3ERR_NONE, NULL, 2, {{"a", "1"}, {"b", "2"}}},
    {"no '=' and empty values", "a&b=", TAGGING_OBJECT, S3ERR_NONE, NULL, 2, {{"a", ""}, {"b", ""}}},
    {"escapes, '+' and '=' in a value",
     "a%20b=c%2Bd&e+f=g=h",
     TAGGING_OBJECT,
     S3ERR_NONE,
     NULL,
     2,
     {{"a b", "c+d"}, {"e f", "g=h"}}},
    {"UTF-8 escapes", "%C3%BC=%E6%96%87", TAGGING_OBJECT, S3ERR_NONE, NULL, 1, {{"ü", "文"}}},
    {"empty parts skipped", "&&a=1&&", TAGGING_OBJECT, S3ERR_NONE, NULL, 1, {{"a", "1"}}},
    {"empty header", "", TAGGING_OBJECT, S3ERR_NONE, NULL, 0, {{0}}},
    {"ten tags", "0&1&2&3&4&5&6&7&8&9", TAGGING_OBJECT, S3ERR_NONE, NULL, 10, {{"0", ""}, {"1", ""}}},
    {"eleven tags", "0&1&2&3&4&5&6&7&8&9&10", TAGGING_OBJECT, S3ERR_BAD_REQUEST, msg_too_many_object, 0, {{0}}},
    {"duplicate key", "a=1&a=2", TAGGING_OBJECT, S3ERR_INVALID_ARGUMENT, msg_bad_header, 0, {{0}}},
    {"duplicate key after decoding", "a+b=1&a%20b=2", TAGGING_OBJECT, S3ERR_INVALID_ARGUMENT, msg_bad_header, 0, {{0}}},
    {"empty key", "=1", TAGGING_OBJECT, S3ERR_INVALID_ARGUMENT, msg_bad_header, 0, {{0}}},
    {"not UTF-8", "a=%FF", TAGGING_OBJECT, S3ERR_INVALID_ARGUMENT, msg_bad_header, 0, {{0}}},
    {"overlong UTF-8", "a=%C0%AF", TAGGING_OBJECT, S3ERR_INVALID_ARGUMENT, msg_bad_header, 0, {{0}}},
    {"bad escape", "a=%zz", TAGGING_OBJECT, S3ERR_INVALID_ARGUMENT, msg_bad_header, 0, {{0}}},
    {"truncated escape", "a=%4", TAGGING_OBJECT, S3ERR_INVALID_ARGUMENT, msg_bad_header, 0, {{0}}},
    {"invalid key character", "a,b=1", TAGGING_OBJECT, S3ERR_INVALID_TAG, msg_bad_key, 0, {{0}}},
    {"invalid value character", "a=%3F", TAGGING_OBJECT, S3ERR_INVALID_TAG, msg_bad_value, 0, {{0}}},
    {"aws: key", "aws:cost=1", TAGGING_OBJECT, S3ERR_INVALID_TAG, msg_system_object, 0, {{0}}},
    {"129-character key", CHARS_128 "x=1", TAGGING_OBJECT, S3ERR_INVALID_TAG, msg_bad_key, 0, {{0}}},
    {"'+' is a space, %2B a '+'", "+=%2B&%2b=+", TAGGING_OBJECT, S3ERR_NONE, NULL, 2, {{" ", "+"}, {"+", " "}}},
    {"escape ending a part", "a=%41&b", TAGGING_OBJECT, S3ERR_NONE, NULL, 2, {{"a", "A"}, {"b", ""}}},
    {"escape cut by '&'", "a=%4&1", TAGGING_OBJECT, S3ERR_INVALID_ARGUMENT, msg_bad_header, 0, {{0}}},
};

static void check_case(const tag_case_t *c, s3err_t err, const char *message, const tagging_set_t *set)
{
    print_message("case: %s\n", c->name);
    assert_int_equal(err, c->want);
    if (err != S3ERR_NONE) {
        if (c->message != NULL)
            assert_string_equal(message, c->message);
        return;
    }
    assert_int_equal(set->num_tags, c->num_tags);
    for (size_t i = 0; i < c->num_tags && i < 2; i++) {
        assert_int_equal(set->tags[i].key_len, strlen(c->tags[i][0]));
        assert_memory_equal(set->tags[i].key, c->tags[i][0], set->tags[i].key_len);
        assert_int_equal(set->tags[i].value_len, strlen(c->tags[i][1]));
        assert_memory_equal(set->tags[i].value, c->tags[i][1], set->tags[i].value_len);
        assert_int_equal(set->tags[i].key[set->tags[i].key_len], '\0');
        assert_int_equal(set->tags[i].value[set->tags[i].value_len], '\0');
    }
}

/* The canonical form of set in a buffer of exactly tagging_encoded_size bytes (so ASan sees any overrun); free() it. */
static char *encode(const tagging_set_t *set)
{
    size_t size = tagging_encoded_size(set);
    char *enc = malloc(size);
    assert_non_null(enc);
    size_t len = tagging_encode(set, enc);
    assert_true(len < size);
    assert_int_equal(strlen(enc), len);
    return enc;
}

/* The stored form decodes to the same set, and counts its tags. */
static void check_round_trip(const tagging_set_t *set)
{
    char *enc = encode(set);
    size_t len = strlen(enc);
    assert_int_equal(strlen(enc), len);
    assert_int_equal(tagging_count(enc, len), set->num_tags);
    tagging_set_t back;
    assert_int_equal(tagging_decode(enc, len, &back), 0);
    assert_int_equal(back.num_tags, set->num_tags);
    for (size_t i = 0; i < set->num_tags; i++) {
        assert_int_equal(back.tags[i].key_len, set->tags[i].key_len);
        assert_memory_equal(back.tags[i].key, set->tags[i].key, set->tags[i].key_len);
        assert_int_equal(back.tags[i].value_len, set->tags[i].value_len);
        assert_memory_equal(back.tags[i].value, set->tags[i].value, set->tags[i].value_len);
    }
    /* the stored form is a valid header too, naming the same tags */
    tagging_set_t again;
    const char *message = NULL;
    assert_int_equal(tagging_parse_query(enc, len, TAGGING_BUCKET, &again, &message), S3ERR_NONE);
    assert_int_equal(again.num_tags, set->num_tags);
    tagging_set_free(&again);
    tagging_set_free(&back);
    free(enc);
}

static void test_parse_xml(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(xml_cases) / sizeof(xml_cases[0]); i++) {
        const tag_case_t *c = &xml_cases[i];
        tagging_set_t set;
        const char *message = "unset";
        s3err_t err = tagging_parse_xml(c->input, strlen(c->input), c->kind, &set, &message);
        check_case(c, err, message, &set);
        if (err == S3ERR_NONE) {
            assert_null(message);
            check_round_trip(&set);
            tagging_set_free(&set);
        }
    }
}

static void test_parse_query(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(query_cases) / sizeof(query_cases[0]); i++) {
        const tag_case_t *c = &query_cases[i];
        tagging_set_t set;
        const char *message = "unset";
        s3err_t err = tagging_parse_query(c->input, strlen(c->input), c->kind, &set, &message);
        check_case(c, err, message, &set);
        if (err == S3ERR_NONE) {
            check_round_trip(&set);
            tagging_set_free(&set);
        }
    }
}

static void test_bucket_limit(void **state)
{
    (void)state;
    char doc[8192];
    for (int n = 50; n <= 51; n++) {
        size_t len = (size_t)snprintf(doc, sizeof(doc), "<Tagging><TagSet>");
        for (int i = 0; i < n; i++)
            len += (size_t)snprintf(doc + len, sizeof(doc) - len, "<Tag><Key>k%d</Key><Value>v</Value></Tag>", i);
        len += (size_t)snprintf(doc + len, sizeof(doc) - len, "</TagSet></Tagging>");
        tagging_set_t set;
        const char *message = NULL;
        s3err_t err = tagging_parse_xml(doc, len, TAGGING_BUCKET, &set, &message);
        if (n == 50) {
            assert_int_equal(err, S3ERR_NONE);
            assert_int_equal(set.num_tags, 50);
            tagging_set_free(&set);
        } else {
            assert_int_equal(err, S3ERR_BAD_REQUEST);
            assert_string_equal(message, msg_too_many_bucket);
        }
    }
}

static void test_document_too_large(void **state)
{
    (void)state;
    size_t len = TAGGING_DOC_MAX + 1;
    char *doc = malloc(len);
    assert_non_null(doc);
    memset(doc, ' ', len);
    memcpy(doc, "<Tagging><TagSet/></Tagging>", 28);
    tagging_set_t set;
    const char *message = NULL;
    assert_int_equal(tagging_parse_xml(doc, len, TAGGING_OBJECT, &set, &message), S3ERR_MALFORMED_XML);
    assert_int_equal(tagging_parse_xml(doc, len - 1, TAGGING_OBJECT, &set, &message), S3ERR_NONE);
    tagging_set_free(&set);
    free(doc);
}

static void test_encode(void **state)
{
    (void)state;
    tagging_set_t set;
    const char *message;
    assert_int_equal(tagging_parse_xml(DOC(TAG("a b", "x/y+z") TAG("ü", "") TAG("k~-_.", "=&amp;")),
                                       strlen(DOC(TAG("a b", "x/y+z") TAG("ü", "") TAG("k~-_.", "=&amp;"))), TAGGING_OBJECT, &set,
                                       &message),
                     S3ERR_INVALID_TAG); /* '&' and '~' are not tag characters */
    const char *header = "a+b=x%2Fy%2Bz&%C3%BC=&k-_.=%3D";
    assert_int_equal(tagging_parse_query(header, strlen(header), TAGGING_OBJECT, &set, &message), S3ERR_NONE);
    char *enc = encode(&set);
    assert_string_equal(enc, "a%20b=x%2Fy%2Bz&%C3%BC=&k-_.=%3D");
    free(enc);
    tagging_set_free(&set);

    /* every byte escaped: the buffer's worst case */
    header = "%3F%3F%3F=%3F%3F%3F%3F&%3F=";
    assert_int_equal(tagging_decode(header, strlen(header), &set), 0);
    enc = encode(&set);
    assert_string_equal(enc, header);
    free(enc);
    tagging_set_free(&set);

    tagging_set_t none = {0};
    enc = encode(&none);
    assert_string_equal(enc, "");
    assert_int_equal(tagging_count(enc, 0), 0);
    free(enc);
    assert_int_equal(tagging_count("a=1&b=2&c=", 10), 3);
    assert_int_equal(tagging_decode("a=%z", 4, &set), -1);
}

static void test_write_xml(void **state)
{
    (void)state;
    tagging_set_t set;
    const char *message;
    const char *header = "a=1&%3Cb%3E=";
    assert_int_equal(tagging_parse_query(header, strlen(header), TAGGING_BUCKET, &set, &message), S3ERR_INVALID_TAG);
    header = "a=1&b%20c=";
    assert_int_equal(tagging_parse_query(header, strlen(header), TAGGING_BUCKET, &set, &message), S3ERR_NONE);
    xmlw_t w;
    xmlw_init(&w);
    tagging_write_xml(&w, &set);
    xmlw_raw(&w, "", 1);
    assert_string_equal(w.buf, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Tagging xmlns=\"" NS "\"><TagSet>"
                               "<Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>b c</Key><Value></Value></Tag>"
                               "</TagSet></Tagging>");
    xmlw_free(&w);
    tagging_set_free(&set);

    tagging_set_t none = {0};
    xmlw_init(&w);
    tagging_write_xml(&w, &none);
    xmlw_raw(&w, "", 1);
    assert_non_null(strstr(w.buf, "<TagSet></TagSet>"));
    xmlw_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_xml),          cmocka_unit_test(test_parse_query), cmocka_unit_test(test_bucket_limit),
        cmocka_unit_test(test_document_too_large), cmocka_unit_test(test_encode),      cmocka_unit_test(test_write_xml),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
