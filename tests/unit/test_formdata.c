/* tests/unit/test_formdata.c -- the multipart/form-data parser behind PostObject.
 *
 * DESIGN: tables of bodies as browsers, curl and python send them (and as
 * they must not be), each parsed from an exact-size heap copy so the
 * sanitizer build catches any read past the end. Then the properties the
 * server relies on: results are slices of the input, every truncation of a
 * good body is refused, the head step never looks past its limit, and the
 * boundary comes out of Content-Type as RFC 2046 allows it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth/text.h"
#include "server/formdata.h"

#define B "b0und"
#define DELIM "--" B "\r\n"
#define CLOSE "--" B "--\r\n"
#define FIELD(name, value) DELIM "Content-Disposition: form-data; name=\"" name "\"\r\n\r\n" value "\r\n"
#define FILE_PART(filename, data)                                                                                                  \
    DELIM "Content-Disposition: form-data; name=\"file\"; filename=\"" filename "\"\r\nContent-Type: text/plain\r\n\r\n" data "\r" \
          "\n"

typedef struct expect_field {
    const char *name;
    const char *value;
} expect_field_t;

typedef struct parse_case {
    const char *name;
    const char *body;
    formdata_status_t status;
    expect_field_t fields[6]; /* when FORMDATA_OK */
    const char *file;
    const char *filename; /* NULL: no filename parameter */
    const char *file_type;
} parse_case_t;

static const parse_case_t parse_cases[] = {
    {"fields then file",
     FIELD("key", "user/${filename}") FIELD("Policy", "eyJ9") FILE_PART("f.txt", "hello") CLOSE,
     FORMDATA_OK,
     {{"key", "user/${filename}"}, {"Policy", "eyJ9"}},
     "hello",
     "f.txt",
     "text/plain"},
    {"preamble and epilogue",
     "This is a preamble.\r\n" FIELD("a", "1") FILE_PART("x", "data") CLOSE "an epilogue",
     FORMDATA_OK,
     {{"a", "1"}},
     "data",
     "x",
     "text/plain"},
    {"transport padding after delimiters",
     "--" B " \t\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--" B "  \r\n"
     "Content-Disposition: form-data; name=\"file\"\r\n\r\nz\r\n" CLOSE,
     FORMDATA_OK,
     {{"a", "1"}},
     "z",
     NULL,
     NULL},
    {"empty values, CRLF and near-boundaries inside values",
     FIELD("empty", "") FIELD("multi", "line1\r\nline2\r\n-- " B "\n--" B) FIELD("dash", "\r\n--b0un") FILE_PART("", "") CLOSE,
     FORMDATA_OK,
     {{"empty", ""}, {"multi", "line1\r\nline2\r\n-- " B "\n--" B}, {"dash", "\r\n--b0un"}},
     "",
     "",
     "text/plain"},
    {"parts after the file are ignored",
     FIELD("key", "k") FILE_PART("f", "first") FIELD("submit", "Upload") FIELD("key", "late") CLOSE,
     FORMDATA_OK,
     {{"key", "k"}},
     "first",
     "f",
     "text/plain"},
    {"close delimiter without a final CRLF",
     FIELD("key", "k") FILE_PART("f", "abc") "--" B "--",
     FORMDATA_OK,
     {{"key", "k"}},
     "abc",
     "f",
     "text/plain"},
    {"header and parameter names in any case, unquoted name, extra headers and parameters",
     DELIM
     "content-disposition: Form-Data; NAME=key\r\nContent-Transfer-Encoding: 8bit\r\n\r\nk\r\n" DELIM
     "CONTENT-DISPOSITION:form-data;name=\"FILE\";filename=\"a.bin\";size=3;\r\ncontent-type:  image/png  \r\n\r\nabc\r\n" CLOSE,
     FORMDATA_OK,
     {{"key", "k"}},
     "abc",
     "a.bin",
     "image/png"},
    {"escaped quote and backslash in a filename; other backslashes kept",
     FIELD("k", "v") DELIM
     "Content-Disposition: form-data; name=\"file\"; filename=\"C:\\dir\\a\\\"b\\\\c.txt\"\r\n\r\nx\r\n" CLOSE,
     FORMDATA_OK,
     {{"k", "v"}},
     "x",
     "C:\\dir\\a\"b\\c.txt",
     NULL},
    {"percent-encoded quote (HTML5 browsers) stays as sent",
     DELIM "Content-Disposition: form-data; name=\"file\"; filename=\"a%22b.txt\"\r\n\r\nx\r\n" CLOSE,
     FORMDATA_OK,
     {{0}},
     "x",
     "a%22b.txt",
     NULL},
    {"a field named with an escaped quote",
     DELIM "Content-Disposition: form-data; name=\"x\\\"y\"\r\n\r\nv\r\n" FILE_PART("f", "d") CLOSE,
     FORMDATA_OK,
     {{"x\"y", "v"}},
     "d",
     "f",
     "text/plain"},

    {"a value holding the delimiter",
     FIELD("v", "a\r\n--" B "x") FILE_PART("f", "d") CLOSE,
     FORMDATA_MALFORMED,
     {{0}},
     NULL,
     NULL,
     NULL},
    {"empty body", "", FORMDATA_MALFORMED, {{0}}, NULL, NULL, NULL},
    {"no delimiter", "just some text\r\n", FORMDATA_MALFORMED, {{0}}, NULL, NULL, NULL},
    {"another boundary",
     "--other\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nx\r\n--other--\r\n",
     FORMDATA_MALFORMED,
     {{0}},
     NULL,
     NULL,
     NULL},
    {"file never terminated",
     FIELD("key", "k") DELIM "Content-Disposition: form-data; name=\"file\"\r\n\r\nunterminated",
     FORMDATA_MALFORMED,
     {{0}},
     NULL,
     NULL,
     NULL},
    {"no close delimiter after the file", FIELD("key", "k") FILE_PART("f", "x"), FORMDATA_MALFORMED, {{0}}, NULL, NULL, NULL},
    {"bare LF line ends",
     "--" B "\nContent-Disposition: form-data; name=\"file\"\n\nx\n--" B "--\n",
     FORMDATA_MALFORMED,
     {{0}},
     NULL,
     NULL,
     NULL},
    {"bare LF inside a header line",
     DELIM "Content-Disposition: form-data;\n name=\"file\"\r\n\r\nx\r\n" CLOSE,
     FORMDATA_MALFORMED,
     {{0}},
     NULL,
     NULL,
     NULL},
    {"no Content-Disposition", DELIM "Content-Type: text/plain\r\n\r\nx\r\n" CLOSE, FORMDATA_MALFORMED, {{0}}, NULL, NULL, NULL},
    {"not form-data",
     DELIM "Content-Disposition: attachment; name=\"file\"\r\n\r\nx\r\n" CLOSE,
     FORMDATA_MALFORMED,
     {{0}},
     NULL,
     NULL,
     NULL},
    {"no name",
     DELIM "Content-Disposition: form-data; filename=\"f\"\r\n\r\nx\r\n" CLOSE,
     FORMDATA_MALFORMED,
     {{0}},
     NULL,
     NULL,
     NULL},
    {"two names",
     DELIM "Content-Disposition: form-data; name=\"a\"; name=\"file\"\r\n\r\nx\r\n" CLOSE,
     FORMDATA_MALFORMED,
     {{0}},
     NULL,
     NULL,
     NULL},
    {"two Content-Disposition headers",
     DELIM "Content-Disposition: form-data; name=\"a\"\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nx\r\n" CLOSE,
     FORMDATA_MALFORMED,
     {{0}},
     NULL,
     NULL,
     NULL},
    {"two Content-Type headers",
     DELIM "Content-Disposition: form-data; name=\"file\"\r\nContent-Type: a/b\r\nContent-Type: c/d\r\n\r\nx\r\n" CLOSE,
     FORMDATA_MALFORMED,
     {{0}},
     NULL,
     NULL,
     NULL},
    {"header without a colon",
     DELIM "Content-Disposition form-data; name=\"file\"\r\n\r\nx\r\n" CLOSE,
     FORMDATA_MALFORMED,
     {{0}},
     NULL,
     NULL,
     NULL},
    {"space before the colon",
     DELIM "Content-Disposition : form-data; name=\"file\"\r\n\r\nx\r\n" CLOSE,
     FORMDATA_MALFORMED,
     {{0}},
     NULL,
     NULL,
     NULL},
    {"folded header",
     DELIM "Content-Disposition: form-data;\r\n name=\"file\"\r\n\r\nx\r\n" CLOSE,
     FORMDATA_MALFORMED,
     {{0}},
     NULL,
     NULL,
     NULL},
    {"unterminated quoted name",
     DELIM "Content-Disposition: form-data; name=\"file\r\n\r\nx\r\n" CLOSE,
     FORMDATA_MALFORMED,
     {{0}},
     NULL,
     NULL,
     NULL},
    {"junk after a delimiter",
     "--" B "X\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nx\r\n" CLOSE,
     FORMDATA_MALFORMED,
     {{0}},
     NULL,
     NULL,
     NULL},
    {"headers never end", DELIM "Content-Disposition: form-data; name=\"file\"\r\n", FORMDATA_MALFORMED, {{0}}, NULL, NULL, NULL},
    {"a malformed part after the file",
     FILE_PART("f", "x") DELIM "Content-Type: a/b\r\n\r\ny\r\n" CLOSE,
     FORMDATA_MALFORMED,
     {{0}},
     NULL,
     NULL,
     NULL},
    {"no file part", FIELD("key", "k") FIELD("policy", "p") CLOSE, FORMDATA_NO_FILE, {{0}}, NULL, NULL, NULL},
    {"no parts at all", CLOSE, FORMDATA_NO_FILE, {{0}}, NULL, NULL, NULL},
    {"a second file", FILE_PART("one", "1") FILE_PART("two", "2") CLOSE, FORMDATA_MANY_FILES, {{0}}, NULL, NULL, NULL},
};

/* A heap copy of exactly len bytes: any read past the end is a sanitizer error. */
static char *exact_copy(const char *s, size_t len)
{
    char *p = malloc(len != 0 ? len : 1);
    assert_non_null(p);
    memcpy(p, s, len);
    return p;
}

static int slice_of(const char *p, size_t len, const char *body, size_t body_len, const formdata_t *fd)
{
    const char *scratch = fd->scratch;
    return (p >= body && p + len <= body + body_len) || (p >= scratch && p + len <= scratch + sizeof(fd->scratch));
}

static void check_slice(const char *case_name, const char *what, const char *got, size_t got_len, const char *want)
{
    if (got_len != strlen(want) || memcmp(got, want, got_len) != 0)
        fail_msg("%s: %s is '%.*s', want '%s'", case_name, what, (int)got_len, got, want);
}

static void test_parse_table(void **state)
{
    static formdata_t fd;
    (void)state;
    for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
        const parse_case_t *c = &parse_cases[i];
        size_t len = strlen(c->body);
        char *body = exact_copy(c->body, len);
        formdata_status_t st = formdata_parse(&fd, body, len, B, strlen(B));
        if (st != c->status)
            fail_msg("%s: status %d, want %d", c->name, st, c->status);
        if (st == FORMDATA_OK) {
            size_t n = 0;
            while (n < 6 && c->fields[n].name != NULL)
                n++;
            if (fd.num_fields != n)
                fail_msg("%s: %zu fields, want %zu", c->name, fd.num_fields, n);
            for (size_t k = 0; k < n; k++) {
                const formdata_part_t *f = &fd.fields[k];
                check_slice(c->name, "field name", f->name, f->name_len, c->fields[k].name);
                check_slice(c->name, "field value", f->data, f->data_len, c->fields[k].value);
                assert_true(slice_of(f->data, f->data_len, body, len, &fd));
                assert_true(slice_of(f->name, f->name_len, body, len, &fd));
                assert_non_null(formdata_field(&fd, c->fields[k].name));
            }
            check_slice(c->name, "file data", fd.file.data, fd.file.data_len, c->file);
            assert_true(fd.file.data >= body && fd.file.data + fd.file.data_len <= body + len); /* zero copy */
            assert_int_equal(fd.file_offset, (size_t)(fd.file.data - body));
            if (c->filename == NULL)
                assert_null(fd.file.filename);
            else
                check_slice(c->name, "filename", fd.file.filename, fd.file.filename_len, c->filename);
            if (c->file_type == NULL)
                assert_null(fd.file.content_type);
            else
                check_slice(c->name, "file type", fd.file.content_type, fd.file.content_type_len, c->file_type);
        }
        free(body);
    }
}

/* Every cut of a good body before its close delimiter is refused, and nothing is read past the cut. */
static void test_truncations(void **state)
{
    static formdata_t fd;
    static const char good[] =
        FIELD("key", "a/b") FIELD("x-amz-meta-tag", "t") FILE_PART("f.txt", "file\r\ndata") FIELD("submit", "go") CLOSE;
    const size_t full = sizeof(good) - 1;
    (void)state;
    for (size_t cut = 0; cut < full; cut++) {
        char *body = exact_copy(good, cut);
        formdata_status_t st = formdata_parse(&fd, body, cut, B, strlen(B));
        if (cut < full - 2 && st == FORMDATA_OK)
            fail_msg("a body cut at %zu of %zu bytes was accepted", cut, full);
        if (cut >= full - 2) /* only the final CRLF is missing */
            assert_int_equal(st, FORMDATA_OK);
        free(body);
    }
}

static void test_binary_file(void **state)
{
    static formdata_t fd;
    static const char head[] = DELIM "Content-Disposition: form-data; name=\"file\"; filename=\"bin\"\r\n\r\n";
    static const char tail[] = "\r\n" CLOSE;
    unsigned char data[4096];
    char body[sizeof(head) + sizeof(data) + sizeof(tail)];
    (void)state;

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (unsigned char)(i * 7 + (i >> 8));
    memcpy(data + 100, "\r\n--" B "-", 10); /* delimiter-like bytes that are not a delimiter */
    memcpy(data + 200, "\r\n--b0un", 8);
    data[300] = 0;
    size_t n = 0;
    memcpy(body, head, sizeof(head) - 1);
    n += sizeof(head) - 1;
    memcpy(body + n, data, sizeof(data));
    n += sizeof(data);
    memcpy(body + n, tail, sizeof(tail) - 1);
    n += sizeof(tail) - 1;
    /* "\r\n--b0und-" followed by a byte other than '-' is not the close delimiter: malformed, not cut short */
    assert_int_equal(formdata_parse(&fd, body, n, B, strlen(B)), FORMDATA_MALFORMED);
    memcpy(body + sizeof(head) - 1 + 100, "\r\n--" B "x", 10);
    assert_int_equal(formdata_parse(&fd, body, n, B, strlen(B)), FORMDATA_MALFORMED);
    memcpy(body + sizeof(head) - 1 + 100, "\r\n--b0unX-", 10);
    assert_int_equal(formdata_parse(&fd, body, n, B, strlen(B)), FORMDATA_OK);
    memcpy(data + 100, "\r\n--b0unX-", 10);
    assert_int_equal(fd.file.data_len, sizeof(data));
    assert_memory_equal(fd.file.data, data, sizeof(data));
}

/* The head step stops at max_pre_data: too much before the file is FORMDATA_TOO_LARGE, and nothing past the limit is read. */
static void test_pre_data_limit(void **state)
{
    static formdata_t fd;
    static const char good[] =
        FIELD("key", "k") FIELD("pad", "0123456789012345678901234567890123456789") FILE_PART("f", "the file data") CLOSE;
    const size_t len = sizeof(good) - 1;
    const size_t file_start = (size_t)(strstr(good, "the file data") - good);
    (void)state;

    assert_int_equal(formdata_parse_head(&fd, good, len, B, strlen(B), file_start), FORMDATA_OK);
    assert_int_equal(fd.file_offset, file_start);
    assert_int_equal(formdata_parse_head(&fd, good, len, B, strlen(B), file_start - 1), FORMDATA_TOO_LARGE);
    assert_int_equal(formdata_parse_head(&fd, good, len, B, strlen(B), 20), FORMDATA_TOO_LARGE);
    /* a body that ends within the limit is malformed, not too large */
    assert_int_equal(formdata_parse_head(&fd, good, 30, B, strlen(B), 100), FORMDATA_MALFORMED);

    /* Only the first limit bytes exist in memory; the body claims to go on for a gigabyte. */
    for (size_t limit = 0; limit <= file_start; limit++) {
        char *prefix = exact_copy(good, limit);
        formdata_status_t st = formdata_parse_head(&fd, prefix, (size_t)1 << 30, B, strlen(B), limit);
        assert_int_equal(st, limit == file_start ? FORMDATA_OK : FORMDATA_TOO_LARGE);
        free(prefix);
    }
    /* the head alone does not need the end of the file; the rest step does */
    char *head_only = exact_copy(good, file_start + 4);
    assert_int_equal(formdata_parse_head(&fd, head_only, file_start + 4, B, strlen(B), 1024), FORMDATA_OK);
    assert_int_equal(formdata_parse_rest(&fd, head_only, file_start + 4), FORMDATA_MALFORMED);
    free(head_only);
    assert_int_equal(formdata_parse_head(&fd, good, len, B, strlen(B), 1024), FORMDATA_OK);
    assert_int_equal(formdata_parse_rest(&fd, good, len), FORMDATA_OK);
    assert_int_equal(fd.file.data_len, strlen("the file data"));
}

static void test_too_many_fields(void **state)
{
    static formdata_t fd;
    static const char part[] = FIELD("f", "v");
    static const char end[] = FILE_PART("x", "y") CLOSE;
    size_t cap = (FORMDATA_MAX_FIELDS + 1) * (sizeof(part) - 1) + sizeof(end);
    char *body = malloc(cap);
    (void)state;

    assert_non_null(body);
    for (size_t fields = FORMDATA_MAX_FIELDS; fields <= FORMDATA_MAX_FIELDS + 1; fields++) {
        size_t n = 0;
        for (size_t i = 0; i < fields; i++, n += sizeof(part) - 1)
            memcpy(body + n, part, sizeof(part) - 1);
        memcpy(body + n, end, sizeof(end) - 1);
        n += sizeof(end) - 1;
        formdata_status_t st = formdata_parse(&fd, body, n, B, strlen(B));
        assert_int_equal(st, fields == FORMDATA_MAX_FIELDS ? FORMDATA_OK : FORMDATA_TOO_LARGE);
    }
    assert_int_equal(fd.num_fields, FORMDATA_MAX_FIELDS);
    free(body);
}

static void test_scratch_overflow(void **state)
{
    static formdata_t fd;
    static char body[3 * FORMDATA_SCRATCH_LEN];
    (void)state;

    /* Escaped names are unescaped into a bounded scratch: more than fits is refused, never overflowed. */
    int n = snprintf(body, sizeof(body), DELIM "Content-Disposition: form-data; name=\"file\"; filename=\"");
    for (int i = 0; i < FORMDATA_SCRATCH_LEN + 10; i++, n += 2)
        memcpy(body + n, "\\\"", 2);
    n += snprintf(body + n, sizeof(body) - (size_t)n, "\"\r\n\r\nx\r\n" CLOSE);
    assert_int_equal(formdata_parse(&fd, body, (size_t)n, B, strlen(B)), FORMDATA_MALFORMED);
    /* the same with a little less fits */
    n = snprintf(body, sizeof(body), DELIM "Content-Disposition: form-data; name=\"file\"; filename=\"");
    for (int i = 0; i < FORMDATA_SCRATCH_LEN / 2; i++, n += 2)
        memcpy(body + n, "\\\"", 2);
    n += snprintf(body + n, sizeof(body) - (size_t)n, "\"\r\n\r\nx\r\n" CLOSE);
    assert_int_equal(formdata_parse(&fd, body, (size_t)n, B, strlen(B)), FORMDATA_OK);
    assert_int_equal(fd.file.filename_len, FORMDATA_SCRATCH_LEN / 2);
    assert_int_equal(fd.file.filename[0], '"');
}

typedef struct boundary_case {
    const char *content_type;
    const char *boundary; /* NULL: refused */
} boundary_case_t;

static const boundary_case_t boundary_cases[] = {
    {"multipart/form-data; boundary=abc", "abc"},
    {"multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW", "----WebKitFormBoundary7MA4YWxkTrZu0gW"},
    {"Multipart/Form-Data;boundary=x;charset=utf-8", "x"},
    {"multipart/form-data; charset=utf-8; boundary=\"a b:c?=\"", "a b:c?="},
    {"multipart/form-data ; BOUNDARY = q", "q"},
    {"multipart/form-data; boundary=abc;", "abc"},
    {"multipart/form-data; boundary=1234567890123456789012345678901234567890123456789012345678901234567890",
     "1234567890123456789012345678901234567890123456789012345678901234567890"},
    {"multipart/form-data; boundary=12345678901234567890123456789012345678901234567890123456789012345678901", NULL},
    {"multipart/form-data", NULL},
    {"multipart/form-data; charset=utf-8", NULL},
    {"multipart/form-data; boundary=", NULL},
    {"multipart/form-data; boundary=\"\"", NULL},
    {"multipart/form-data; boundary=\"abc", NULL},
    {"multipart/form-data; boundary=\"abc \"", NULL},
    {"multipart/form-data; boundary=\"a\\\"b\"", NULL},
    {"multipart/form-data; boundary=a@b", NULL},
    {"multipart/form-data; boundary=a; boundary=b", NULL},
    {"multipart/mixed; boundary=abc", NULL},
    {"multipart/form-datax; boundary=abc", NULL},
    {"application/x-www-form-urlencoded", NULL},
    {"", NULL},
};

static void test_boundary(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(boundary_cases) / sizeof(boundary_cases[0]); i++) {
        const boundary_case_t *c = &boundary_cases[i];
        size_t len = strlen(c->content_type), b_len = 0;
        char *ct = exact_copy(c->content_type, len);
        const char *b = NULL;
        int rc = formdata_boundary(ct, len, &b, &b_len);
        if (c->boundary == NULL) {
            if (rc == 0)
                fail_msg("'%s' gave boundary '%.*s'", c->content_type, (int)b_len, b);
        } else {
            if (rc != 0)
                fail_msg("'%s' refused", c->content_type);
            check_slice(c->content_type, "boundary", b, b_len, c->boundary);
            assert_true(b >= ct && b + b_len <= ct + len);
        }
        free(ct);
    }
}

static void test_name_is(void **state)
{
    (void)state;
    assert_true(text_ieq_str("X-Amz-Signature", 15, "x-amz-signature"));
    assert_true(text_ieq_str("FILE", 4, "file"));
    assert_false(text_ieq_str("files", 5, "file"));
    assert_false(text_ieq_str("fil", 3, "file"));
    assert_true(text_ieq_str("", 0, ""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_table),    cmocka_unit_test(test_truncations),     cmocka_unit_test(test_binary_file),
        cmocka_unit_test(test_pre_data_limit), cmocka_unit_test(test_too_many_fields), cmocka_unit_test(test_scratch_overflow),
        cmocka_unit_test(test_boundary),       cmocka_unit_test(test_name_is),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
