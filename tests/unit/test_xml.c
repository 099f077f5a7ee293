/* tests/unit/test_xml.c -- request bodies in (CompleteMultipartUpload,
 * CreateBucketConfiguration, Delete) over tables of good and hostile documents, and
 * the ETag writer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/xml.h"

#define S3_NS "http://s3.amazonaws.com/doc/2006-03-01/"
#define MD5_HEX "0123456789abcdef0123456789abcdef"
#define ETAG_70 "0123456789012345678901234567890123456789012345678901234567890123456789"

typedef struct complete_case {
    const char *name;
    const char *body;
    int want; /* number of parts, or -1 */
    struct {
        uint32_t part_number;
        const char *etag;
        cksum_alg_t checksum_alg; /* CKSUM_NONE (0): the part has none */
        const char *checksum;
    } parts[3];
} complete_case_t;

static const complete_case_t complete_cases[] = {
    {"with namespace",
     "<CompleteMultipartUpload xmlns=\"" S3_NS "\"><Part><PartNumber>1</PartNumber><ETag>\"" MD5_HEX "\"</ETag></Part>"
     "<Part><ETag>\"abc\"</ETag><PartNumber>2</PartNumber></Part></CompleteMultipartUpload>",
     2,
     {{1, MD5_HEX, CKSUM_NONE, NULL}, {2, "abc", CKSUM_NONE, NULL}}},
    {"without namespace, with declaration",
     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CompleteMultipartUpload><Part><PartNumber>3</PartNumber>"
     "<ETag>abc</ETag></Part></CompleteMultipartUpload>",
     1,
     {{3, "abc", CKSUM_NONE, NULL}}},
    {"prefixed namespace",
     "<s3:CompleteMultipartUpload xmlns:s3=\"" S3_NS "\"><s3:Part><s3:PartNumber>1</s3:PartNumber><s3:ETag>e</s3:ETag>"
     "</s3:Part></s3:CompleteMultipartUpload>",
     1,
     {{1, "e", CKSUM_NONE, NULL}}},
    {"&quot; ETag",
     "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&quot;" MD5_HEX "-2&quot;</ETag></Part>"
     "</CompleteMultipartUpload>",
     1,
     {{1, MD5_HEX "-2", CKSUM_NONE, NULL}}},
    {"only one pair of quotes stripped",
     "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"\"x\"\"</ETag></Part>"
     "<Part><PartNumber>2</PartNumber><ETag>\"x</ETag></Part>"
     "<Part><PartNumber>3</PartNumber><ETag>\"</ETag></Part></CompleteMultipartUpload>",
     3,
     {{1, "\"x\"", CKSUM_NONE, NULL}, {2, "\"x", CKSUM_NONE, NULL}, {3, "\"", CKSUM_NONE, NULL}}},
    {"whitespace trimmed",
     "<CompleteMultipartUpload>\n  <Part>\n    <PartNumber> 7\n</PartNumber>\n    <ETag>\t \"abc\" \r\n</ETag>\n  </Part>\n"
     "</CompleteMultipartUpload>\n",
     1,
     {{7, "abc", CKSUM_NONE, NULL}}},
    {"a checksum kept, ChecksumType and unknown elements ignored",
     "<CompleteMultipartUpload xmlns=\"" S3_NS "\"><Part><ChecksumCRC64NVME> AAAAAAAAAAA= </ChecksumCRC64NVME>"
     "<ChecksumType>FULL_OBJECT</ChecksumType><PartNumber>1</PartNumber><ETag>a</ETag><Other/></Part>"
     "<Part><PartNumber>2</PartNumber><ETag>b</ETag><ChecksumSHA256>y</ChecksumSHA256></Part>"
     "<Part><PartNumber>3</PartNumber><ETag>c</ETag><ChecksumMD5>z</ChecksumMD5><Checksumcrc32>z</Checksumcrc32></Part>"
     "<Unknown>1</Unknown><!-- a comment --></CompleteMultipartUpload>",
     3,
     {{1, "a", CKSUM_CRC64NVME, "AAAAAAAAAAA="}, {2, "b", CKSUM_SHA256, "y"}, {3, "c", CKSUM_NONE, NULL}}},
    {"two checksums in a part",
     "<CompleteMultipartUpload><Part><ChecksumCRC32>AAAAAA==</ChecksumCRC32><ChecksumCRC32C>AAAAAA==</ChecksumCRC32C>"
     "<PartNumber>1</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>",
     -1,
     {{0, NULL, CKSUM_NONE, NULL}}},
    {"a checksum longer than any digest",
     "<CompleteMultipartUpload><Part><ChecksumSHA256>"
     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA</ChecksumSHA256>"
     "<PartNumber>1</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>",
     -1,
     {{0, NULL, CKSUM_NONE, NULL}}},
    {"unordered and duplicate numbers are the caller's to judge",
     "<CompleteMultipartUpload><Part><PartNumber>5</PartNumber><ETag>a</ETag></Part>"
     "<Part><PartNumber>2</PartNumber><ETag>b</ETag></Part><Part><PartNumber>2</PartNumber><ETag>c</ETag></Part>"
     "</CompleteMultipartUpload>",
     3,
     {{5, "a", CKSUM_NONE, NULL}, {2, "b", CKSUM_NONE, NULL}, {2, "c", CKSUM_NONE, NULL}}},
    {"boundaries 10000 and leading zeros",
     "<CompleteMultipartUpload><Part><PartNumber>10000</PartNumber><ETag>a</ETag></Part>"
     "<Part><PartNumber>007</PartNumber><ETag>b</ETag></Part></CompleteMultipartUpload>",
     2,
     {{10000, "a", CKSUM_NONE, NULL}, {7, "b", CKSUM_NONE, NULL}}},
    {"empty ETag is present (the caller answers InvalidPart)",
     "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag/></Part></CompleteMultipartUpload>",
     1,
     {{1, "", CKSUM_NONE, NULL}}},
    {"ETag of 70 characters",
     "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"" ETAG_70 "\"</ETag></Part>"
     "</CompleteMultipartUpload>",
     1,
     {{1, ETAG_70, CKSUM_NONE, NULL}}},
    {"CDATA",
     "<CompleteMultipartUpload><Part><PartNumber><![CDATA[4]]></PartNumber><ETag><![CDATA[\"q\"]]></ETag></Part>"
     "</CompleteMultipartUpload>",
     1,
     {{4, "q", CKSUM_NONE, NULL}}},

    {"ETag of 71 characters",
     "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>" ETAG_70 "x</ETag></Part>"
     "</CompleteMultipartUpload>",
     -1,
     {{0, NULL, CKSUM_NONE, NULL}}},
    {"part number 0",
     "<CompleteMultipartUpload><Part><PartNumber>0</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>",
     -1,
     {{0, NULL, CKSUM_NONE, NULL}}},
    {"part number 10001",
     "<CompleteMultipartUpload><Part><PartNumber>10001</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>",
     -1,
     {{0, NULL, CKSUM_NONE, NULL}}},
    {"part number -1",
     "<CompleteMultipartUpload><Part><PartNumber>-1</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>",
     -1,
     {{0, NULL, CKSUM_NONE, NULL}}},
    {"part number +1",
     "<CompleteMultipartUpload><Part><PartNumber>+1</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>",
     -1,
     {{0, NULL, CKSUM_NONE, NULL}}},
    {"part number abc",
     "<CompleteMultipartUpload><Part><PartNumber>abc</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>",
     -1,
     {{0, NULL, CKSUM_NONE, NULL}}},
    {"part number 1.0",
     "<CompleteMultipartUpload><Part><PartNumber>1.0</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>",
     -1,
     {{0, NULL, CKSUM_NONE, NULL}}},
    {"part number 1 2",
     "<CompleteMultipartUpload><Part><PartNumber>1 2</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>",
     -1,
     {{0, NULL, CKSUM_NONE, NULL}}},
    {"part number empty",
     "<CompleteMultipartUpload><Part><PartNumber></PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>",
     -1,
     {{0, NULL, CKSUM_NONE, NULL}}},
    {"part number blank",
     "<CompleteMultipartUpload><Part><PartNumber> </PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>",
     -1,
     {{0, NULL, CKSUM_NONE, NULL}}},
    {"part number overflowing 32 bits",
     "<CompleteMultipartUpload><Part><PartNumber>4294967297</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>",
     -1,
     {{0, NULL, CKSUM_NONE, NULL}}},
    {"missing ETag",
     "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>",
     -1,
     {{0, NULL, CKSUM_NONE, NULL}}},
    {"missing PartNumber",
     "<CompleteMultipartUpload><Part><ETag>a</ETag></Part></CompleteMultipartUpload>",
     -1,
     {{0, NULL, CKSUM_NONE, NULL}}},
    {"second part incomplete",
     "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>a</ETag></Part><Part><PartNumber>2</PartNumber></Part>"
     "</CompleteMultipartUpload>",
     -1,
     {{0, NULL, CKSUM_NONE, NULL}}},
    {"two PartNumbers in one Part",
     "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><PartNumber>2</PartNumber><ETag>a</ETag></Part>"
     "</CompleteMultipartUpload>",
     -1,
     {{0, NULL, CKSUM_NONE, NULL}}},
    {"no Part", "<CompleteMultipartUpload xmlns=\"" S3_NS "\"></CompleteMultipartUpload>", -1, {{0, NULL, CKSUM_NONE, NULL}}},
    {"empty root", "<CompleteMultipartUpload/>", -1, {{0, NULL, CKSUM_NONE, NULL}}},
    {"wrong root",
     "<CompleteMultipartUploadX><Part><PartNumber>1</PartNumber><ETag>a</ETag></Part></CompleteMultipartUploadX>",
     -1,
     {{0, NULL, CKSUM_NONE, NULL}}},
    {"Part outside the root",
     "<Parts><CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload></Parts>",
     -1,
     {{0, NULL, CKSUM_NONE, NULL}}},
    {"not well-formed",
     "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>a</Part></CompleteMultipartUpload>",
     -1,
     {{0, NULL, CKSUM_NONE, NULL}}},
    {"truncated",
     "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>a</ETag></Part>",
     -1,
     {{0, NULL, CKSUM_NONE, NULL}}},
    {"text, not XML", "PartNumber=1&ETag=a", -1, {{0, NULL, CKSUM_NONE, NULL}}},
    {"empty body", "", -1, {{0, NULL, CKSUM_NONE, NULL}}},
    {"whitespace body", " \n", -1, {{0, NULL, CKSUM_NONE, NULL}}},
    {"undeclared entity",
     "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&x;</ETag></Part></CompleteMultipartUpload>",
     -1,
     {{0, NULL, CKSUM_NONE, NULL}}},
    {"internal entity",
     "<!DOCTYPE CompleteMultipartUpload [<!ENTITY x \"1\">]><CompleteMultipartUpload><Part><PartNumber>&x;</PartNumber>"
     "<ETag>a</ETag></Part></CompleteMultipartUpload>",
     -1,
     {{0, NULL, CKSUM_NONE, NULL}}},
    {"external entity",
     "<!DOCTYPE CompleteMultipartUpload [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><CompleteMultipartUpload><Part>"
     "<PartNumber>1</PartNumber><ETag>&x;</ETag></Part></CompleteMultipartUpload>",
     -1,
     {{0, NULL, CKSUM_NONE, NULL}}},
    {"external DTD",
     "<!DOCTYPE CompleteMultipartUpload SYSTEM \"http://example.com/x.dtd\"><CompleteMultipartUpload><Part>"
     "<PartNumber>1</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>",
     -1,
     {{0, NULL, CKSUM_NONE, NULL}}},
    {"billion laughs",
     "<!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
     "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\"><!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">"
     "<!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\"><!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\">"
     "<!ENTITY g \"&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;\"><!ENTITY h \"&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;\">"
     "<!ENTITY i \"&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;\">]>"
     "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&i;</ETag></Part></CompleteMultipartUpload>",
     -1,
     {{0, NULL, CKSUM_NONE, NULL}}},
};

static void test_complete_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(complete_cases) / sizeof(complete_cases[0]); ++i) {
        const complete_case_t *c = &complete_cases[i];
        xml_complete_part_t parts[4];
        memset(parts, 0xa5, sizeof(parts));
        int n = xml_parse_complete_multipart(c->body, strlen(c->body), parts, 4);
        if (n != c->want)
            fail_msg("case %zu (%s): %d parts, want %d", i, c->name, n, c->want);
        for (int j = 0; j < n; ++j) {
            if (parts[j].part_number != c->parts[j].part_number || strcmp(parts[j].etag, c->parts[j].etag) != 0)
                fail_msg("case %zu (%s) part %d: %u '%s', want %u '%s'", i, c->name, j, parts[j].part_number, parts[j].etag,
                         c->parts[j].part_number, c->parts[j].etag);
            const char *want_checksum = c->parts[j].checksum != NULL ? c->parts[j].checksum : "";
            if (parts[j].checksum_alg != c->parts[j].checksum_alg || strcmp(parts[j].checksum, want_checksum) != 0)
                fail_msg("case %zu (%s) part %d: checksum %d '%s', want %d '%s'", i, c->name, j, (int)parts[j].checksum_alg,
                         parts[j].checksum, (int)c->parts[j].checksum_alg, want_checksum);
        }
    }
}

/* A body of num_parts parts numbered 1.., as botocore writes it (quotes bare, no whitespace). */
static char *many_parts_body(size_t num_parts, size_t *len)
{
    size_t cap = 128 + num_parts * 256, n = 0;
    char *body = malloc(cap);
    assert_non_null(body);
    n += (size_t)snprintf(body + n, cap - n, "<CompleteMultipartUpload xmlns=\"" S3_NS "\">");
    for (size_t i = 1; i <= num_parts; ++i)
        n += (size_t)snprintf(body + n, cap - n,
                              "<Part><ETag>\"" MD5_HEX "\"</ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32>"
                              "<PartNumber>%zu</PartNumber></Part>",
                              i);
    n += (size_t)snprintf(body + n, cap - n, "</CompleteMultipartUpload>");
    *len = n;
    return body;
}

static void test_complete_many_parts(void **state)
{
    (void)state;
    xml_complete_part_t *parts = calloc(10001, sizeof(*parts));
    assert_non_null(parts);
    size_t len;

    char *body = many_parts_body(10000, &len);
    assert_true(len > 1024 * 1024); /* larger than any other body we parse */
    assert_int_equal(xml_parse_complete_multipart(body, len, parts, 10000), 10000);
    assert_int_equal(parts[0].part_number, 1);
    assert_int_equal(parts[9999].part_number, 10000);
    assert_string_equal(parts[9999].etag, MD5_HEX);
    /* the same body with room for fewer parts */
    assert_int_equal(xml_parse_complete_multipart(body, len, parts, 9999), -1);
    assert_int_equal(xml_parse_complete_multipart(body, len, parts, 0), -1);
    free(body);

    /* 10001 parts (the last one numbered 10001 would fail anyway; number them all 1) */
    body = many_parts_body(10000, &len);
    const char *tail = "</CompleteMultipartUpload>";
    size_t tail_len = strlen(tail);
    const char *extra = "<Part><PartNumber>1</PartNumber><ETag>a</ETag></Part>";
    body = realloc(body, len + strlen(extra) + 1);
    assert_non_null(body);
    memcpy(body + len - tail_len, extra, strlen(extra));
    memcpy(body + len - tail_len + strlen(extra), tail, tail_len + 1);
    len += strlen(extra);
    assert_int_equal(xml_parse_complete_multipart(body, len, parts, 10001), 10001);
    assert_int_equal(xml_parse_complete_multipart(body, len, parts, 10000), -1);
    free(body);

    /* a valid body padded (whitespace after the root) to exactly the limit parses; one byte more is refused */
    static const char one[] = "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>a</ETag></Part>"
                              "</CompleteMultipartUpload>";
    len = XML_COMPLETE_MULTIPART_MAX_LEN + 1;
    body = malloc(len);
    assert_non_null(body);
    memset(body, ' ', len);
    memcpy(body, one, sizeof(one) - 1);
    assert_int_equal(xml_parse_complete_multipart(body, len - 1, parts, 10000), 1);
    assert_int_equal(xml_parse_complete_multipart(body, len, parts, 10000), -1);
    free(body);
    free(parts);
}

static void test_create_bucket(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        int want;
        const char *region;
    } cases[] = {
        {"", 0, ""},
        {" \r\n\t", 0, ""},
        {"<CreateBucketConfiguration xmlns=\"" S3_NS "\"><LocationConstraint>eu-west-1</LocationConstraint>"
         "</CreateBucketConfiguration>",
         0, "eu-west-1"},
        {"<?xml version=\"1.0\"?><CreateBucketConfiguration><LocationConstraint>us-east-2</LocationConstraint>"
         "</CreateBucketConfiguration>",
         0, "us-east-2"},
        {"<CreateBucketConfiguration/>", 0, ""},
        {"<CreateBucketConfiguration><Other>x</Other></CreateBucketConfiguration>", 0, ""},
        {"<BucketConfiguration><LocationConstraint>x</LocationConstraint></BucketConfiguration>", -1, ""},
        {"<CreateBucketConfiguration><LocationConstraint>x</CreateBucketConfiguration>", -1, ""},
        {"not xml", -1, ""},
        {"<!DOCTYPE CreateBucketConfiguration [<!ENTITY x \"eu\">]><CreateBucketConfiguration>"
         "<LocationConstraint>&x;</LocationConstraint></CreateBucketConfiguration>",
         -1, ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        char region[64];
        int ret = xml_parse_create_bucket(cases[i].body, strlen(cases[i].body), region, sizeof(region));
        if (ret != cases[i].want || (ret == 0 && strcmp(region, cases[i].region) != 0))
            fail_msg("case %zu: %d '%s', want %d '%s'", i, ret, region, cases[i].want, cases[i].region);
    }
}

typedef struct delete_case {
    const char *name;
    const char *body;
    int want; /* 0 or -1 */
    int quiet;
    size_t num_objects;
    struct {
        const char *key;
        size_t key_len;         /* 0: strlen(key) */
        const char *version_id; /* NULL: none */
        int has_conditions;
    } objects[3];
} delete_case_t;

static const delete_case_t delete_cases[] = {
    {"with namespace, as botocore writes it",
     "<Delete xmlns=\"" S3_NS "\"><Object><Key>a</Key></Object><Object><Key>b/c</Key><VersionId>null</VersionId></Object>"
     "<Quiet>true</Quiet></Delete>",
     0,
     1,
     2,
     {{"a", 0, NULL, 0}, {"b/c", 0, "null", 0}}},
    {"without namespace, with declaration, Quiet false",
     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Delete>\n  <Quiet>false</Quiet>\n  <Object>\n    <Key>x</Key>\n  </Object>\n"
     "</Delete>\n",
     0,
     0,
     1,
     {{"x", 0, NULL, 0}}},
    {"prefixed namespace, Quiet 1",
     "<s3:Delete xmlns:s3=\"" S3_NS "\"><s3:Quiet> 1 </s3:Quiet><s3:Object><s3:Key>k</s3:Key></s3:Object></s3:Delete>",
     0,
     1,
     1,
     {{"k", 0, NULL, 0}}},
    {"Quiet TRUE and 0 are booleans",
     "<Delete><Quiet>TRUE</Quiet><Object><Key>k</Key></Object></Delete>",
     0,
     1,
     1,
     {{"k", 0, NULL, 0}}},
    {"keys kept exactly: blanks, entities, CDATA, unicode, a newline",
     "<Delete><Object><Key> </Key></Object><Object><Key> a&amp;b&lt;&gt;&quot;&apos;&#x9;&#xD;<![CDATA[ <c> ]]></Key></Object>"
     "<Object><Key>\xc3\xbc/\xe6\x97\xa5\xe6\x9c\xac\n</Key></Object></Delete>",
     0,
     0,
     3,
     {{" ", 0, NULL, 0}, {" a&b<>\"'\t\r <c> ", 0, NULL, 0}, {"\xc3\xbc/\xe6\x97\xa5\xe6\x9c\xac\n", 0, NULL, 0}}},
    {"empty key and version kept (the operation answers them)",
     "<Delete><Object><Key/><VersionId></VersionId></Object><Object><Key></Key></Object></Delete>",
     0,
     0,
     2,
     {{"", 0, "", 0}, {"", 0, NULL, 0}}},
    {"conditions and unknown elements",
     "<Delete><Object><Key>a</Key><ETag>\"x\"</ETag></Object><Object><Size>3</Size><Key>b</Key></Object>"
     "<Object><LastModifiedTime>2024-01-01T00:00:00Z</LastModifiedTime><Key>c</Key><Other/></Object><Unknown/></Delete>",
     0,
     0,
     3,
     {{"a", 0, NULL, 1}, {"b", 0, NULL, 1}, {"c", 0, NULL, 1}}},
    {"duplicate keys kept",
     "<Delete><Object><Key>a</Key></Object><Object><Key>a</Key></Object></Delete>",
     0,
     0,
     2,
     {{"a", 0, NULL, 0}, {"a", 0, NULL, 0}}},

    {"no Object", "<Delete><Quiet>true</Quiet></Delete>", -1, 0, 0, {{NULL, 0, NULL, 0}}},
    {"empty root", "<Delete/>", -1, 0, 0, {{NULL, 0, NULL, 0}}},
    {"Object without Key", "<Delete><Object><VersionId>null</VersionId></Object></Delete>", -1, 0, 0, {{NULL, 0, NULL, 0}}},
    {"second Object without Key", "<Delete><Object><Key>a</Key></Object><Object/></Delete>", -1, 0, 0, {{NULL, 0, NULL, 0}}},
    {"two Keys", "<Delete><Object><Key>a</Key><Key>b</Key></Object></Delete>", -1, 0, 0, {{NULL, 0, NULL, 0}}},
    {"two VersionIds",
     "<Delete><Object><Key>a</Key><VersionId>1</VersionId><VersionId>2</VersionId></Object></Delete>",
     -1,
     0,
     0,
     {{NULL, 0, NULL, 0}}},
    {"an element inside Key", "<Delete><Object><Key>a<b/>c</Key></Object></Delete>", -1, 0, 0, {{NULL, 0, NULL, 0}}},
    {"Quiet not a boolean", "<Delete><Quiet>yes</Quiet><Object><Key>a</Key></Object></Delete>", -1, 0, 0, {{NULL, 0, NULL, 0}}},
    {"Quiet twice",
     "<Delete><Quiet>true</Quiet><Quiet>true</Quiet><Object><Key>a</Key></Object></Delete>",
     -1,
     0,
     0,
     {{NULL, 0, NULL, 0}}},
    {"wrong root", "<DeleteObjects><Object><Key>a</Key></Object></DeleteObjects>", -1, 0, 0, {{NULL, 0, NULL, 0}}},
    {"Object outside the root", "<X><Delete><Object><Key>a</Key></Object></Delete></X>", -1, 0, 0, {{NULL, 0, NULL, 0}}},
    {"not well-formed", "<Delete><Object><Key>a</Object></Delete>", -1, 0, 0, {{NULL, 0, NULL, 0}}},
    {"truncated", "<Delete><Object><Key>a</Key></Object>", -1, 0, 0, {{NULL, 0, NULL, 0}}},
    {"empty body", "", -1, 0, 0, {{NULL, 0, NULL, 0}}},
    {"text, not XML", "Key=a", -1, 0, 0, {{NULL, 0, NULL, 0}}},
    {"undeclared entity", "<Delete><Object><Key>&x;</Key></Object></Delete>", -1, 0, 0, {{NULL, 0, NULL, 0}}},
    {"internal entity",
     "<!DOCTYPE Delete [<!ENTITY x \"a\">]><Delete><Object><Key>&x;</Key></Object></Delete>",
     -1,
     0,
     0,
     {{NULL, 0, NULL, 0}}},
    {"external entity",
     "<!DOCTYPE Delete [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><Delete><Object><Key>&x;</Key></Object></Delete>",
     -1,
     0,
     0,
     {{NULL, 0, NULL, 0}}},
    {"a NUL character reference", "<Delete><Object><Key>a&#0;b</Key></Object></Delete>", -1, 0, 0, {{NULL, 0, NULL, 0}}},
};

static void test_delete_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(delete_cases) / sizeof(delete_cases[0]); ++i) {
        const delete_case_t *c = &delete_cases[i];
        xml_delete_t d;
        memset(&d, 0xa5, sizeof(d));
        int ret = xml_parse_delete(c->body, strlen(c->body), 3, &d);
        if (ret != c->want)
            fail_msg("case %zu (%s): %d, want %d", i, c->name, ret, c->want);
        if (ret != 0) {
            if (d.objects != NULL || d.num_objects != 0)
                fail_msg("case %zu (%s): a refused body left objects", i, c->name);
            continue;
        }
        if (d.quiet != c->quiet || d.num_objects != c->num_objects)
            fail_msg("case %zu (%s): quiet %d, %zu objects, want %d, %zu", i, c->name, d.quiet, d.num_objects, c->quiet,
                     c->num_objects);
        for (size_t j = 0; j < d.num_objects; ++j) {
            const xml_delete_object_t *o = &d.objects[j];
            size_t want_len = c->objects[j].key_len ? c->objects[j].key_len : strlen(c->objects[j].key);
            if (o->key_len != want_len || memcmp(o->key, c->objects[j].key, want_len) != 0 || o->key[o->key_len] != '\0')
                fail_msg("case %zu (%s) object %zu: key '%s' (%zu), want '%s'", i, c->name, j, o->key, o->key_len,
                         c->objects[j].key);
            const char *want_v = c->objects[j].version_id;
            if ((want_v == NULL) != (o->version_id == NULL) ||
                (want_v != NULL && (o->version_id_len != strlen(want_v) || strcmp(o->version_id, want_v) != 0)))
                fail_msg("case %zu (%s) object %zu: version '%s', want '%s'", i, c->name, j,
                         o->version_id ? o->version_id : "(none)", want_v ? want_v : "(none)");
            if (o->has_conditions != c->objects[j].has_conditions)
                fail_msg("case %zu (%s) object %zu: has_conditions %d", i, c->name, j, o->has_conditions);
        }
        xml_delete_free(&d);
        assert_null(d.objects);
    }
}

/* A Delete body of num_objects keys "k0000".. (with the namespace, as botocore writes it). */
static char *many_objects_body(size_t num_objects, size_t *len)
{
    size_t cap = 128 + num_objects * 64, n = 0;
    char *body = malloc(cap);
    assert_non_null(body);
    n += (size_t)snprintf(body + n, cap - n, "<Delete xmlns=\"" S3_NS "\">");
    for (size_t i = 0; i < num_objects; ++i)
        n += (size_t)snprintf(body + n, cap - n, "<Object><Key>k%04zu</Key></Object>", i);
    n += (size_t)snprintf(body + n, cap - n, "<Quiet>false</Quiet></Delete>");
    *len = n;
    return body;
}

static void test_delete_limits(void **state)
{
    (void)state;
    xml_delete_t d;
    size_t len;
    char *body = many_objects_body(1000, &len);
    assert_int_equal(xml_parse_delete(body, len, 1000, &d), 0);
    assert_int_equal(d.num_objects, 1000);
    assert_string_equal(d.objects[999].key, "k0999");
    xml_delete_free(&d);
    assert_int_equal(xml_parse_delete(body, len, 999, &d), -1);
    free(body);

    body = many_objects_body(1001, &len);
    assert_int_equal(xml_parse_delete(body, len, 1000, &d), -1);
    assert_int_equal(xml_parse_delete(body, len, 1001, &d), 0);
    xml_delete_free(&d);
    free(body);

    /* a key of any length is kept (the operation refuses one over 1024 bytes, key by key) */
    size_t key_len = 100000;
    len = key_len + 64;
    body = malloc(len);
    assert_non_null(body);
    int n = snprintf(body, len, "<Delete><Object><Key>");
    memset(body + n, 'x', key_len);
    n += (int)key_len;
    n += snprintf(body + n, len - (size_t)n, "</Key></Object></Delete>");
    assert_int_equal(xml_parse_delete(body, (size_t)n, 1000, &d), 0);
    assert_int_equal(d.objects[0].key_len, key_len);
    xml_delete_free(&d);
    free(body);

    /* a VersionId up to XML_DELETE_VERSION_ID_MAX */
    char vbody[XML_DELETE_VERSION_ID_MAX + 128];
    for (size_t vlen = XML_DELETE_VERSION_ID_MAX; vlen <= XML_DELETE_VERSION_ID_MAX + 1; vlen++) {
        char v[XML_DELETE_VERSION_ID_MAX + 2];
        memset(v, 'v', vlen);
        v[vlen] = '\0';
        n = snprintf(vbody, sizeof(vbody), "<Delete><Object><Key>a</Key><VersionId>%s</VersionId></Object></Delete>", v);
        assert_int_equal(xml_parse_delete(vbody, (size_t)n, 1000, &d), vlen <= XML_DELETE_VERSION_ID_MAX ? 0 : -1);
        if (vlen <= XML_DELETE_VERSION_ID_MAX)
            xml_delete_free(&d);
    }

    /* a valid body padded to exactly the limit parses; one byte more is refused */
    static const char one[] = "<Delete><Object><Key>a</Key></Object></Delete>";
    len = XML_DELETE_MAX_LEN + 1;
    body = malloc(len);
    assert_non_null(body);
    memset(body, ' ', len);
    memcpy(body, one, sizeof(one) - 1);
    assert_int_equal(xml_parse_delete(body, len - 1, 1000, &d), 0);
    xml_delete_free(&d);
    assert_int_equal(xml_parse_delete(body, len, 1000, &d), -1);
    free(body);
}

static void test_etag_writer(void **state)
{
    (void)state;
    static const uint8_t md5[16] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x89, 0xab, 0xcd, 0xef, 0xf0, 0x0f, 0x10, 0xff};
    static const struct {
        uint32_t num_parts;
        const char *want;
    } cases[] = {
        {0, "<ETag>&quot;000102030405060789abcdeff00f10ff&quot;</ETag>"},
        {1, "<ETag>&quot;000102030405060789abcdeff00f10ff-1&quot;</ETag>"},
        {10000, "<ETag>&quot;000102030405060789abcdeff00f10ff-10000&quot;</ETag>"},
        {UINT32_MAX, "<ETag>&quot;000102030405060789abcdeff00f10ff-4294967295&quot;</ETag>"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        xmlw_t w;
        xmlw_init(&w);
        size_t start = w.len;
        xmlw_elem_etag_parts(&w, "ETag", md5, cases[i].num_parts);
        if (w.len - start != strlen(cases[i].want) || memcmp(w.buf + start, cases[i].want, w.len - start) != 0)
            fail_msg("%u parts: '%.*s', want '%s'", cases[i].num_parts, (int)(w.len - start), w.buf + start, cases[i].want);
        xmlw_free(&w);
    }
    /* xmlw_elem_etag is the zero-part form */
    xmlw_t w;
    xmlw_init(&w);
    size_t start = w.len;
    xmlw_elem_etag(&w, "ETag", md5);
    assert_int_equal(w.len - start, strlen(cases[0].want));
    assert_memory_equal(w.buf + start, cases[0].want, w.len - start);
    xmlw_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_complete_table), cmocka_unit_test(test_complete_many_parts), cmocka_unit_test(test_create_bucket),
        cmocka_unit_test(test_delete_table),   cmocka_unit_test(test_delete_limits),       cmocka_unit_test(test_etag_writer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
