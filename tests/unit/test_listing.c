/* tests/unit/test_listing.c -- how listings write keys (server/ops_list.c), the GetObjectAttributes
 * header parser (server/ops_attributes.c), and store_object_list edge cases on a real store:
 * delimiters of several bytes, prefixes cut inside a UTF-8 character, and start points that
 * stay valid while keys come and go between pages.
 */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* ------------------------------------------------------------------ store_object_list */

typedef struct fixture {
    char root[512];
    store_t *st;
} fixture_t;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    const char *tmp = getenv("TMPDIR");
    snprintf(f->root, sizeof(f->root), "%s/coffer-listing-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(f->root) == NULL)
        return -1;
    char meta[600], data[600], err[256] = "";
    snprintf(meta, sizeof(meta), "%s/meta", f->root);
    snprintf(data, sizeof(data), "%s/data", f->root);
    const char *dirs[1] = {data};
    store_config_t cfg = {.meta_dir = meta, .data_dirs = dirs, .num_data_dirs = 1};
    if (store_open(&cfg, &f->st, err, sizeof(err)) != 0 || store_bucket_create(f->st, "b", "o", "") != 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    store_close(f->st);
    nftw(f->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static void put(store_t *st, const char *key)
{
    struct iovec body = {(void *)"x", 1};
    store_put_t p = {.bucket = "b", .key = key, .key_len = strlen(key), .body = &body, .body_iovcnt = 1};
    assert_int_equal(store_object_put(st, &p, NULL), 0);
}

typedef struct listed {
    char text[4096]; /* entries joined by '|', common prefixes marked '+' */
    char last[STORE_KEY_MAX + 1];
    size_t last_len, n;
} listed_t;

static int collect(void *ctx, const store_list_entry_t *e)
{
    listed_t *l = ctx;
    if (l->n++)
        strcat(l->text, "|");
    if (e->is_prefix)
        strcat(l->text, "+");
    strncat(l->text, e->key, e->key_len);
    memcpy(l->last, e->key, e->key_len);
    l->last_len = e->key_len;
    return 0;
}

static int list(store_t *st, const char *prefix, const char *delimiter, const char *after, size_t after_len, size_t max,
                listed_t *l)
{
    int truncated = -1;
    store_list_params_t p = {.bucket = "b",
                             .prefix = prefix,
                             .prefix_len = prefix ? strlen(prefix) : 0,
                             .delimiter = delimiter,
                             .delimiter_len = delimiter ? strlen(delimiter) : 0,
                             .start_after = after,
                             .start_after_len = after_len,
                             .max_keys = max};
    memset(l, 0, sizeof(*l));
    assert_int_equal(store_object_list(st, &p, collect, l, &truncated), 0);
    return truncated;
}

static void test_store_delimiters_and_cut_prefixes(void **state)
{
    fixture_t *f = *state;
    static const char *keys[] = {
        "a",           "aaa", "aab", "ab", "b::c::d", "b::e", "b:f", "x::y", "\xe6\x97\xa5/1", "\xe6\x97\xa5x", "\xe6\x97\xa6",
        "\xe6\x98\x8e"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        put(f->st, keys[i]);
    static const struct {
        const char *prefix, *delimiter;
        const char *want;
    } cases[] = {
        {NULL, "aa", "a|+aa|ab|b::c::d|b::e|b:f|x::y|\xe6\x97\xa5/1|\xe6\x97\xa5x|\xe6\x97\xa6|\xe6\x98\x8e"},
        {"a", "a", "a|+aa|ab"},  /* the search starts after the prefix: "aaa" rolls up at its second 'a' */
        {"aa", "a", "+aaa|aab"}, /* ... and here at its third */
        {NULL, "::", "a|aaa|aab|ab|+b::|b:f|+x::|\xe6\x97\xa5/1|\xe6\x97\xa5x|\xe6\x97\xa6|\xe6\x98\x8e"},
        {"b::", "::", "+b::c::|b::e"},
        {"b:", ":", "+b::|b:f"},                                         /* "b::e" rolls up at the ':' right after the prefix */
        {"\xe6\x97", NULL, "\xe6\x97\xa5/1|\xe6\x97\xa5x|\xe6\x97\xa6"}, /* a prefix cut inside a character */
        {"\xe6\x97", "/", "+\xe6\x97\xa5/|\xe6\x97\xa5x|\xe6\x97\xa6"},
        {"\xe6", "\x97", "+\xe6\x97|\xe6\x98\x8e"},           /* a delimiter that is a continuation byte */
        {"\xe6\x97\xa5", "", "\xe6\x97\xa5/1|\xe6\x97\xa5x"}, /* an empty delimiter is none */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        listed_t l;
        int truncated = list(f->st, cases[i].prefix, cases[i].delimiter, NULL, 0, 1000, &l);
        if (strcmp(l.text, cases[i].want) != 0 || truncated != 0)
            fail_msg("case %zu: got \"%s\" truncated %d, want \"%s\"", i, l.text, truncated, cases[i].want);
        /* one entry per page, each page starting after the last entry, gives the same listing */
        char joined[4096] = "", after[STORE_KEY_MAX + 1];
        size_t after_len = 0;
        listed_t page;
        int pages = 0;
        do {
            truncated = list(f->st, cases[i].prefix, cases[i].delimiter, pages ? after : NULL, after_len, 1, &page);
            if (page.n) {
                if (joined[0])
                    strcat(joined, "|");
                strcat(joined, page.text);
            }
            memcpy(after, page.last, page.last_len);
            after_len = page.last_len;
            assert_true(++pages < 100);
        } while (truncated);
        if (strcmp(joined, cases[i].want) != 0)
            fail_msg("case %zu paged: got \"%s\", want \"%s\"", i, joined, cases[i].want);
    }
}

static void test_store_start_point_survives_changes(void **state)
{
    fixture_t *f = *state;
    char key[32];
    for (int i = 0; i < 40; i += 2) {
        snprintf(key, sizeof(key), "k%02d", i);
        put(f->st, key);
    }
    /* pages of 3, deleting the next key and adding keys on both sides of the start point in between */
    char seen[256][8], after[8] = "";
    size_t num_seen = 0;
    listed_t page;
    int truncated, pages = 0, deleted[40] = {0};
    do {
        truncated = list(f->st, NULL, NULL, pages ? after : NULL, strlen(after), 3, &page);
        assert_true(page.n > 0 && page.last_len < sizeof(after));
        memcpy(after, page.last, page.last_len);
        after[page.last_len] = '\0';
        for (char *tok = strtok(page.text, "|"); tok != NULL; tok = strtok(NULL, "|")) {
            if (num_seen > 0)
                assert_true(strcmp(seen[num_seen - 1], tok) < 0); /* ascending, so never twice */
            snprintf(seen[num_seen++], sizeof(seen[0]), "%s", tok);
        }
        int at = atoi(after + 1);
        snprintf(key, sizeof(key), "k%02d", at - 1); /* behind: not listed */
        put(f->st, key);
        if (at + 2 < 40) { /* the next original key goes away before it is reached */
            snprintf(key, sizeof(key), "k%02d", at + 2);
            assert_int_equal(store_object_delete(f->st, "b", key, strlen(key)), 0);
            deleted[at + 2] = 1;
        }
        snprintf(key, sizeof(key), "k%02d", at + 1); /* ahead: listed */
        put(f->st, key);
        pages++;
    } while (truncated && pages < 100);
    for (int i = 0; i < 40; i += 2) { /* every original key not deleted was listed */
        if (deleted[i])
            continue;
        snprintf(key, sizeof(key), "k%02d", i);
        size_t j = 0;
        while (j < num_seen && strcmp(seen[j], key) != 0)
            j++;
        if (j == num_seen)
            fail_msg("%s was never listed", key);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xml_key_table),
        cmocka_unit_test(test_object_attributes_table),
        cmocka_unit_test_setup_teardown(test_store_delimiters_and_cut_prefixes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_start_point_survives_changes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
