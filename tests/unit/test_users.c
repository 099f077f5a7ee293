/* tests/unit/test_users.c -- users and access keys in the metadata store (storage/users.c),
 * and their in-memory mirror (auth/keys.c).
 *
 * DESIGN: every test opens a store in a fresh mkdtemp directory (under $TMPDIR)
 * and removes it afterwards. Tables of cases drive the validation and
 * uniqueness rules; the rest checks what a reopened store still holds.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>

#include "auth/keys.h"
#include "auth/text.h"
#include "storage/meta.h"
#include "storage/store.h"
#include "storage/store_internal.h"
#include "storage/users.h"
#include "tests/unit/tmpdir.h"

#define AK_ALICE "AKALICE0000000000001"
#define AK_ALICE2 "AKALICE0000000000002"
#define AK_BOB "AKBOB00000000000001"
#define AK_ROOT "COFFERTESTROOTKEY001"

typedef struct fixture {
    char root[512];
    char meta[600];
    char data[600];
    store_t *st;
} fixture_t;

static store_t *open_store(fixture_t *f)
{
    const char *dirs[1] = {f->data};
    store_config_t cfg = {.meta_dir = f->meta, .data_dirs = dirs, .num_data_dirs = 1};
    char err[512] = "";
    store_t *st = NULL;
    int ret = store_open(&cfg, &st, err, sizeof(err));
    if (ret != 0)
        fail_msg("store_open: %d %s", ret, err);
    return st;
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    if (tmpdir_make(f->root, sizeof(f->root), "users") != 0)
        return -1;
    snprintf(f->meta, sizeof(f->meta), "%s/meta", f->root);
    snprintf(f->data, sizeof(f->data), "%s/d0", f->root);
    f->st = open_store(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    store_close(f->st);
    tmpdir_remove(f->root);
    free(f);
    return 0;
}

static users_key_t make_key(const char *ak, const char *secret)
{
    users_key_t k;
    memset(&k, 0, sizeof(k));
    snprintf(k.access_key, sizeof(k.access_key), "%s", ak);
    snprintf(k.secret, sizeof(k.secret), "%s", secret);
    return k;
}

static void assert_same_user(const users_user_t *a, const users_user_t *b)
{
    assert_string_equal(a->name, b->name);
    assert_string_equal(a->canonical_id, b->canonical_id);
    assert_string_equal(a->email, b->email);
    assert_int_equal(a->created_ns, b->created_ns);
}

/* ------------------------------------------------------------------ validation */

static void test_validation(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int name, email, ak, secret;
    } cases[] = {
        {"alice", 1, 0, 0, 1},
        {"ok.name+x=y,z@w_-", 1, 1, 0, 1},
        {"a", 1, 0, 0, 1},
        {"", 0, 0, 0, 0},
        {"a b", 0, 0, 0, 1},
        {"x/y", 0, 0, 0, 1},
        {"caf\xc3\xa9", 0, 0, 0, 0},
        {"a@b", 1, 1, 0, 1},
        {"@b", 1, 0, 0, 1},
        {"a@", 1, 0, 0, 1},
        {"a@b@c", 1, 0, 0, 1},
        {"AKIAIOSFODNN7EXAMPLE", 1, 0, 1, 1},
        {"AKIAIOSFODNN7EX", 1, 0, 0, 1},  /* 15 characters */
        {"AKIAIOSFODNN7EXA", 1, 0, 1, 1}, /* 16 */
        {"akiaiosfodnn7example", 1, 0, 0, 1},
        {"AKIA-IOSFODNN7EXAMPLE", 1, 0, 0, 1},
        {"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", 0, 0, 0, 1},
        {"with space secret", 0, 0, 0, 1},
        {"tab\tsecret", 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (users_name_valid(cases[i].s) != cases[i].name || users_email_valid(cases[i].s) != cases[i].email ||
            users_access_key_valid(cases[i].s) != cases[i].ak || users_secret_valid(cases[i].s) != cases[i].secret)
            fail_msg("case %zu (%s): name %d email %d ak %d secret %d", i, cases[i].s, users_name_valid(cases[i].s),
                     users_email_valid(cases[i].s), users_access_key_valid(cases[i].s), users_secret_valid(cases[i].s));
    }
    char long_name[66], long_key[130], long_secret[130];
    memset(long_name, 'n', 65);
    long_name[65] = '\0';
    assert_false(users_name_valid(long_name));
    long_name[64] = '\0';
    assert_true(users_name_valid(long_name));
    memset(long_key, 'K', 129);
    long_key[129] = '\0';
    assert_false(users_access_key_valid(long_key));
    long_key[128] = '\0';
    assert_true(users_access_key_valid(long_key));
    memset(long_secret, 's', 129);
    long_secret[129] = '\0';
    assert_false(users_secret_valid(long_secret));
    long_secret[128] = '\0';
    assert_true(users_secret_valid(long_secret));

    users_key_t a, b;
    users_generate_key(&a);
    users_generate_key(&b);
    assert_int_equal(strlen(a.access_key), USERS_GENERATED_ACCESS_KEY_LEN);
    assert_int_equal(strlen(a.secret), USERS_GENERATED_SECRET_LEN);
    assert_true(users_access_key_valid(a.access_key));
    assert_true(users_secret_valid(a.secret));
    assert_string_not_equal(a.access_key, b.access_key);
    assert_string_not_equal(a.secret, b.secret);
}

/* ------------------------------------------------------------------ users */

static void test_add_get_find_list(void **state)
{
    fixture_t *f = *state;
    static const struct {
        const char *name, *email, *ak, *secret; /* ak NULL: no key */
        int ret;
    } cases[] = {
        {"alice", "alice@example.com", AK_ALICE, "alice-secret/0123456789", 0},
        {"bob", NULL, AK_BOB, "bob secret with spaces", 0},
        {"nokey", "", NULL, NULL, 0},
        {"ok.name+x=y,z@w_-", "odd@example.org", "AKODDNAME0000000001", "s", 0},
        {"alice", NULL, "AKOTHER000000000001", "x", -EEXIST},                /* the name is taken */
        {"carol", "ALICE@Example.COM", "AKCAROL000000000001", "x", -EEXIST}, /* the e-mail, in any case */
        {"dave", NULL, AK_ALICE, "x", -EEXIST},                              /* the access key */
        {"", NULL, NULL, NULL, -EINVAL},
        {"a b", NULL, NULL, NULL, -EINVAL},
        {"x/y", NULL, NULL, NULL, -EINVAL},
        {"eve", "not-an-address", NULL, NULL, -EINVAL},
        {"eve", NULL, "akeve000000000000001", "x", -EINVAL},
        {"eve", NULL, "AKEVE", "x", -EINVAL},
        {"eve", NULL, "AKEVE00000000000001", "", -EINVAL},
        {"eve", NULL, "AKEVE00000000000001", "new\nline", -EINVAL},
    };
    users_user_t added[8];
    size_t num_added = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        users_key_t k = cases[i].ak ? make_key(cases[i].ak, cases[i].secret) : make_key("", "");
        users_user_t u;
        int ret = users_add(f->st, cases[i].name, cases[i].email, cases[i].ak ? &k : NULL, &u);
        if (ret != cases[i].ret)
            fail_msg("case %zu (%s): users_add returned %d, expected %d", i, cases[i].name, ret, cases[i].ret);
        if (ret == 0) {
            assert_string_equal(u.name, cases[i].name);
            assert_string_equal(u.email, cases[i].email ? cases[i].email : "");
            assert_true(text_is_lower_hex(u.canonical_id, 64));
            assert_true(u.created_ns > 0);
            added[num_added++] = u;
        }
    }
    /* a refused add wrote nothing: no user, no key */
    assert_int_equal(users_get(f->st, "carol", NULL), -ENOENT);
    assert_int_equal(users_get(f->st, "dave", NULL), -ENOENT);
    assert_int_equal(users_get(f->st, "eve", NULL), -ENOENT);
    assert_int_equal(users_key_get(f->st, "AKCAROL000000000001", NULL), -ENOENT);
    assert_int_equal(users_key_get(f->st, "AKOTHER000000000001", NULL), -ENOENT);

    for (size_t i = 0; i < num_added; i++) {
        users_user_t u;
        assert_int_equal(users_get(f->st, added[i].name, &u), 0);
        assert_same_user(&u, &added[i]);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(added[i].canonical_id, added[j].canonical_id);
        /* by canonical id, in either case */
        char upper[USERS_ID_LEN + 1];
        for (size_t c = 0; c <= USERS_ID_LEN; c++)
            upper[c] = (char)(added[i].canonical_id[c] >= 'a' ? added[i].canonical_id[c] - 32 : added[i].canonical_id[c]);
        assert_int_equal(users_find(f->st, added[i].canonical_id, &u), 0);
        assert_string_equal(u.name, added[i].name);
        assert_int_equal(users_find(f->st, upper, &u), 0);
        assert_string_equal(u.name, added[i].name);
    }
    users_user_t u;
    assert_int_equal(users_find(f->st, "ALICE@EXAMPLE.COM", &u), 0);
    assert_string_equal(u.name, "alice");
    assert_int_equal(users_find(f->st, "odd@example.org", &u), 0);
    assert_string_equal(u.name, "ok.name+x=y,z@w_-");
    assert_int_equal(users_find(f->st, "nobody@example.com", &u), -ENOENT);
    assert_int_equal(users_find(f->st, "", &u), -ENOENT);
    assert_int_equal(users_find(f->st, "alice", &u), -ENOENT); /* not a name lookup */
    assert_int_equal(users_get(f->st, "nobody", &u), -ENOENT);
    assert_int_equal(users_get(f->st, "bad name", &u), -ENOENT);

    users_key_t k;
    assert_int_equal(users_key_get(f->st, AK_ALICE, &k), 0);
    assert_string_equal(k.user, "alice");
    assert_string_equal(k.secret, "alice-secret/0123456789");
    assert_int_equal(k.flags, 0);
    assert_int_equal(users_key_get(f->st, AK_BOB, &k), 0);
    assert_string_equal(k.secret, "bob secret with spaces");
}

typedef struct names {
    char list[16][USERS_ACCESS_KEY_MAX + 1]; /* user names or access keys */
    size_t n;
} names_t;

static int collect_user(void *ctx, const users_user_t *u)
{
    names_t *c = ctx;
    snprintf(c->list[c->n++], sizeof(c->list[0]), "%s", u->name);
    return c->n == 16 ? 1 : 0;
}

static int collect_key(void *ctx, const users_key_t *k)
{
    names_t *c = ctx;
    snprintf(c->list[c->n++], sizeof(c->list[0]), "%s", k->access_key);
    return c->n == 16 ? 1 : 0;
}

static int stop_at_first(void *ctx, const users_user_t *u)
{
    (void)ctx;
    (void)u;
    return 7;
}

static void test_list_in_name_order(void **state)
{
    fixture_t *f = *state;
    static const char *const add_order[] = {"zed", "Alice", "bob", "alice", "b", "0x"};
    static const char *const listed[] = {"0x", "Alice", "alice", "b", "bob", "zed"}; /* bytewise */
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(users_add(f->st, add_order[i], NULL, NULL, NULL), 0);
    names_t c = {.n = 0};
    assert_int_equal(users_list(f->st, collect_user, &c), 0);
    assert_int_equal(c.n, 6);
    for (size_t i = 0; i < 6; i++)
        assert_string_equal(c.list[i], listed[i]);
    assert_int_equal(users_list(f->st, stop_at_first, NULL), 7);
}

/* ------------------------------------------------------------------ keys */

static void test_keys(void **state)
{
    fixture_t *f = *state;
    users_key_t k = make_key(AK_ALICE, "one");
    assert_int_equal(users_add(f->st, "alice", NULL, &k, NULL), 0);
    assert_int_equal(users_add(f->st, "bob", NULL, NULL, NULL), 0);

    static const struct {
        const char *user, *ak, *secret;
        int ret;
    } cases[] = {
        {"alice", AK_ALICE2, "two", 0},
        {"bob", AK_BOB, "bob", 0},
        {"alice", AK_ALICE2, "again", -EEXIST},
        {"bob", AK_ALICE, "taken by alice", -EEXIST},
        {"nobody", "AKNOBODY0000000001", "x", -ENOENT},
        {"alice", "lowercase00000000001", "x", -EINVAL},
        {"alice", "AKSHORT", "x", -EINVAL},
        {"alice", "AKNOSECRET000000001", "", -EINVAL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        users_key_t c = make_key(cases[i].ak, cases[i].secret);
        snprintf(c.user, sizeof(c.user), "%s", cases[i].user);
        int ret = users_key_put(f->st, &c);
        if (ret != cases[i].ret)
            fail_msg("case %zu (%s): users_key_put returned %d, expected %d", i, cases[i].ak, ret, cases[i].ret);
    }
    users_key_t got;
    assert_int_equal(users_key_get(f->st, AK_ALICE2, &got), 0);
    assert_string_equal(got.user, "alice");
    assert_string_equal(got.secret, "two");
    assert_true(got.created_ns > 0);

    names_t c = {.n = 0};
    assert_int_equal(users_key_list(f->st, "alice", collect_key, &c), 0);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.list[0], AK_ALICE);
    assert_string_equal(c.list[1], AK_ALICE2);
    c.n = 0;
    assert_int_equal(users_key_list(f->st, NULL, collect_key, &c), 0);
    assert_int_equal(c.n, 3);
    assert_string_equal(c.list[0], AK_ALICE);
    assert_string_equal(c.list[1], AK_ALICE2);
    assert_string_equal(c.list[2], AK_BOB);
    c.n = 0;
    assert_int_equal(users_key_list(f->st, "nobody", collect_key, &c), 0);
    assert_int_equal(c.n, 0);

    users_key_t removed;
    assert_int_equal(users_key_remove(f->st, AK_ALICE, &removed), 0);
    assert_string_equal(removed.user, "alice");
    assert_string_equal(removed.access_key, AK_ALICE);
    assert_string_equal(removed.secret, ""); /* wiped */
    assert_int_equal(users_key_remove(f->st, AK_ALICE, NULL), -ENOENT);
    assert_int_equal(users_key_get(f->st, AK_ALICE, NULL), -ENOENT);
    assert_int_equal(users_key_remove(f->st, "", NULL), -ENOENT);
    /* an access key freed by a removal can be given again */
    users_key_t again = make_key(AK_ALICE, "new");
    snprintf(again.user, sizeof(again.user), "bob");
    assert_int_equal(users_key_put(f->st, &again), 0);
}

static void test_remove_deletes_keys(void **state)
{
    fixture_t *f = *state;
    users_key_t k = make_key(AK_ALICE, "one");
    users_user_t first, second;
    assert_int_equal(users_add(f->st, "alice", "alice@example.com", &k, &first), 0);
    for (int i = 0; i < 2; i++) {
        users_key_t more = make_key(i == 0 ? AK_ALICE2 : "AKALICE0000000000003", "more");
        snprintf(more.user, sizeof(more.user), "alice");
        assert_int_equal(users_key_put(f->st, &more), 0);
    }
    k = make_key(AK_BOB, "bob");
    assert_int_equal(users_add(f->st, "bob", NULL, &k, NULL), 0);

    size_t num = 99;
    assert_int_equal(users_remove(f->st, "alice", &num), 0);
    assert_int_equal(num, 3);
    assert_int_equal(users_get(f->st, "alice", NULL), -ENOENT);
    names_t c = {.n = 0};
    assert_int_equal(users_key_list(f->st, NULL, collect_key, &c), 0);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.list[0], AK_BOB);
    assert_int_equal(users_remove(f->st, "alice", &num), -ENOENT);
    assert_int_equal(users_remove(f->st, "not valid", &num), -ENOENT);

    /* name, e-mail and keys are free again; the canonical id is new */
    k = make_key(AK_ALICE, "one");
    assert_int_equal(users_add(f->st, "alice", "alice@example.com", &k, &second), 0);
    assert_string_not_equal(first.canonical_id, second.canonical_id);
    assert_int_equal(users_find(f->st, first.canonical_id, NULL), -ENOENT);
}

/* ------------------------------------------------------------------ root */

static void test_root(void **state)
{
    fixture_t *f = *state;
    users_user_t root, again;
    size_t retired = 99;
    users_key_t k;

    assert_int_equal(users_ensure_root(f->st, AK_ROOT, "root-secret", &root, &retired), 0);
    assert_string_equal(root.name, USERS_ROOT);
    assert_true(text_is_lower_hex(root.canonical_id, 64));
    assert_int_equal(retired, 0);
    assert_int_equal(users_key_get(f->st, AK_ROOT, &k), 0);
    assert_string_equal(k.user, USERS_ROOT);
    assert_int_equal(k.flags, USERS_KEY_CONFIGURED);
    int64_t created = k.created_ns;

    /* the same configuration: nothing changes */
    assert_int_equal(users_ensure_root(f->st, AK_ROOT, "root-secret", &again, &retired), 0);
    assert_same_user(&root, &again);
    assert_int_equal(retired, 0);
    /* a new secret for the same key replaces the old one */
    assert_int_equal(users_ensure_root(f->st, AK_ROOT, "new-secret", &again, &retired), 0);
    assert_int_equal(users_key_get(f->st, AK_ROOT, &k), 0);
    assert_string_equal(k.secret, "new-secret");
    assert_int_equal(k.created_ns, created);

    /* root cannot be removed, nor its configured key; keys added to root by hand can */
    assert_int_equal(users_remove(f->st, USERS_ROOT, NULL), -EPERM);
    assert_int_equal(users_key_remove(f->st, AK_ROOT, NULL), -EPERM);
    users_key_t extra = make_key("AKROOTEXTRA00000001", "extra");
    snprintf(extra.user, sizeof(extra.user), USERS_ROOT);
    assert_int_equal(users_key_put(f->st, &extra), 0);

    /* a key from before users existed may be anything printable (COFFER_ROOT_ACCESS_KEY=minioadmin) */
    assert_int_equal(users_ensure_root(f->st, "minioadmin", "minioadmin", &again, &retired), 0);
    assert_string_equal(again.canonical_id, root.canonical_id);
    assert_int_equal(retired, 1); /* the earlier configured key no longer works */
    assert_int_equal(users_key_get(f->st, AK_ROOT, NULL), -ENOENT);
    assert_int_equal(users_key_get(f->st, "AKROOTEXTRA00000001", NULL), 0);
    assert_int_equal(users_key_get(f->st, "minioadmin", &k), 0);
    assert_int_equal(k.flags, USERS_KEY_CONFIGURED);

    /* another user's key cannot become root's */
    k = make_key(AK_ALICE, "alice");
    assert_int_equal(users_add(f->st, "alice", NULL, &k, NULL), 0);
    assert_int_equal(users_ensure_root(f->st, AK_ALICE, "alice", &again, &retired), -EEXIST);
    assert_int_equal(users_ensure_root(f->st, "", "x", &again, &retired), -EINVAL);
    assert_int_equal(users_ensure_root(f->st, "has space", "x", &again, &retired), -EINVAL);
    assert_int_equal(users_key_get(f->st, "minioadmin", NULL), 0);
}

/* ------------------------------------------------------------------ reopening */

static void test_reopen_keeps_everything(void **state)
{
    fixture_t *f = *state;
    users_user_t alice, root;
    users_key_t k = make_key(AK_ALICE, "alice-secret");
    assert_int_equal(users_ensure_root(f->st, AK_ROOT, "root-secret", &root, NULL), 0);
    assert_int_equal(users_add(f->st, "alice", "alice@example.com", &k, &alice), 0);
    k = make_key(AK_ALICE2, "second");
    snprintf(k.user, sizeof(k.user), "alice");
    assert_int_equal(users_key_put(f->st, &k), 0);
    assert_int_equal(users_add(f->st, "bob", NULL, NULL, NULL), 0);
    assert_int_equal(users_remove(f->st, "bob", NULL), 0);

    /* the root key can be read while the store is open (and locked) */
    char ak[USERS_ACCESS_KEY_MAX + 1], sk[USERS_SECRET_MAX + 1], err[1024];
    assert_int_equal(users_read_root_key(f->meta, ak, sk, err, sizeof(err)), 0);
    assert_string_equal(ak, AK_ROOT);
    assert_string_equal(sk, "root-secret");
    /* and a second opener is refused, naming the lock */
    store_t *other = NULL;
    assert_int_not_equal(users_store_open(f->meta, &other, err, sizeof(err)), 0);
    assert_non_null(strstr(err, "lock"));

    store_close(f->st);
    f->st = NULL;
    /* meta only, as the offline CLI opens it */
    store_t *st = NULL;
    assert_int_equal(users_store_open(f->meta, &st, err, sizeof(err)), 0);
    for (int round = 0; round < 2; round++) {
        users_user_t u;
        assert_int_equal(users_get(st, "alice", &u), 0);
        assert_same_user(&u, &alice);
        assert_int_equal(users_get(st, USERS_ROOT, &u), 0);
        assert_same_user(&u, &root);
        assert_int_equal(users_get(st, "bob", NULL), -ENOENT);
        assert_int_equal(users_find(st, "alice@example.com", &u), 0);
        assert_int_equal(users_key_get(st, AK_ALICE2, &k), 0);
        assert_string_equal(k.secret, "second");
        names_t c = {.n = 0};
        assert_int_equal(users_key_list(st, NULL, collect_key, &c), 0);
        assert_int_equal(c.n, 3);
        if (round == 0) {
            users_store_close(st);
            st = open_store(f); /* and the full store again */
        }
    }
    f->st = st;

    assert_int_equal(users_store_open("/nonexistent/coffer/meta", &st, err, sizeof(err)), -ENOENT);
    assert_int_not_equal(users_read_root_key("/nonexistent/coffer/meta", ak, sk, err, sizeof(err)), 0);
}

/* ------------------------------------------------------------------ the in-memory mirror */

#define ID_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ID_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define ID_C "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
#define ID_D "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"

static void test_keys_table(void **state)
{
    (void)state;
    keys_t *keys = keys_create();
    keys_user_t u;
    assert_int_equal(keys_add(keys, AK_ALICE, "s1", "alice", ID_A, "alice@example.com"), 0);
    assert_int_equal(keys_add(keys, AK_ALICE2, "s2", "alice", ID_A, "alice@example.com"), 0);
    assert_int_equal(keys_set_user(keys, "bob", ID_B, NULL), 0); /* a user without keys */
    assert_int_equal(keys_add(keys, "", "s", "x", ID_A, NULL), -EINVAL);
    assert_int_equal(keys_add(keys, AK_BOB, "s", "x", "", NULL), -EINVAL);

    assert_int_equal(keys_lookup(keys, AK_ALICE2, &u), 0);
    assert_string_equal(u.name, "alice");
    assert_string_equal(u.canonical_id, ID_A); /* the user's, whichever key */
    assert_string_equal(u.email, "alice@example.com");
    assert_string_equal(u.secret, "s2");

    static const struct {
        const char *who, *name;
    } finds[] = {
        {"alice", "alice"},
        {ID_A, "alice"},
        {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "alice"},
        {"Alice@Example.com", "alice"},
        {"bob", "bob"},
        {ID_B, "bob"},
        {"carol", NULL},
        {"", NULL},
    };
    for (size_t i = 0; i < sizeof(finds) / sizeof(finds[0]); i++) {
        memset(&u, 'x', sizeof(u));
        int ret = keys_find_user_by(keys, KEYS_BY_ID | KEYS_BY_EMAIL | KEYS_BY_NAME, finds[i].who, &u);
        if (finds[i].name == NULL) {
            assert_int_equal(ret, -ENOENT);
            continue;
        }
        if (ret != 0)
            fail_msg("case %zu (%s): not found", i, finds[i].who);
        assert_string_equal(u.name, finds[i].name);
        assert_string_equal(u.secret, "");
        assert_string_equal(u.access_key, "");
    }

    assert_int_equal(keys_remove_user(keys, "alice"), 2);
    assert_int_equal(keys_lookup(keys, AK_ALICE, &u), -ENOENT);
    assert_int_equal(keys_lookup(keys, AK_ALICE2, &u), -ENOENT);
    assert_int_equal(keys_find_user_by(keys, KEYS_BY_ID | KEYS_BY_EMAIL | KEYS_BY_NAME, ID_A, &u), -ENOENT);
    assert_int_equal(keys_remove_user(keys, "alice"), -ENOENT);
    assert_int_equal(keys_remove_user(keys, "bob"), 0);
    assert_int_equal(keys_find_user_by(keys, KEYS_BY_ID | KEYS_BY_EMAIL | KEYS_BY_NAME, "bob", &u), -ENOENT);
    keys_destroy(keys);
}

/* One string may name several users (a name may be 64 hex digits or hold an '@'): the caller says which it means. */
static void test_keys_find_user_by(void **state)
{
    (void)state;
    keys_t *keys = keys_create();
    keys_user_t u;
    assert_int_equal(keys_set_user(keys, "alice", ID_A, "alice@example.com"), 0);
    assert_int_equal(keys_set_user(keys, ID_A, ID_B, "mallory@example.com"), 0); /* named as alice's id */
    assert_int_equal(keys_set_user(keys, "alice@example.com", ID_C, NULL), 0);   /* named as alice's address */
    assert_int_equal(keys_set_user(keys, "plain", ID_D, "ID_A@example.com"), 0);

    static const struct {
        unsigned by;
        const char *who, *name; /* the user found, NULL: none */
    } finds[] = {
        {KEYS_BY_ID, ID_A, "alice"},
        {KEYS_BY_ID, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "alice"},
        {KEYS_BY_ID, ID_B, ID_A},
        {KEYS_BY_ID, "alice", NULL},
        {KEYS_BY_NAME, ID_A, ID_A},
        {KEYS_BY_NAME, "alice", "alice"},
        {KEYS_BY_NAME, "Alice", NULL},
        {KEYS_BY_NAME, ID_B, NULL},
        {KEYS_BY_EMAIL, "ALICE@example.com", "alice"},
        {KEYS_BY_EMAIL, "id_a@EXAMPLE.com", "plain"},
        {KEYS_BY_EMAIL, ID_A, NULL},
        {KEYS_BY_NAME, "alice@example.com", "alice@example.com"},
        {KEYS_BY_ID | KEYS_BY_NAME, ID_A, "alice"},                   /* the id wins over a name */
        {KEYS_BY_ID | KEYS_BY_NAME, "alice", "alice"},                /* no id is "alice": the name */
        {KEYS_BY_EMAIL | KEYS_BY_NAME, "alice@example.com", "alice"}, /* the address wins over a name */
        {KEYS_BY_ID | KEYS_BY_EMAIL | KEYS_BY_NAME, ID_B, ID_A},      /* an id only */
        {KEYS_BY_ID | KEYS_BY_EMAIL, "mallory@example.com", ID_A},
        {KEYS_BY_ID | KEYS_BY_EMAIL | KEYS_BY_NAME, "nobody", NULL},
        {0, "alice", NULL},
        {KEYS_BY_ID | KEYS_BY_EMAIL | KEYS_BY_NAME, "", NULL},
    };
    for (size_t i = 0; i < sizeof(finds) / sizeof(finds[0]); i++) {
        memset(&u, 'x', sizeof(u));
        int ret = keys_find_user_by(keys, finds[i].by, finds[i].who, &u);
        if (finds[i].name == NULL) {
            if (ret != -ENOENT)
                fail_msg("case %zu (%s): found %s", i, finds[i].who, u.name);
            continue;
        }
        if (ret != 0)
            fail_msg("case %zu (%s): not found", i, finds[i].who);
        if (strcmp(u.name, finds[i].name) != 0)
            fail_msg("case %zu (%s): found %s, want %s", i, finds[i].who, u.name, finds[i].name);
        assert_string_equal(u.secret, "");
        assert_string_equal(u.access_key, "");
    }

    keys_destroy(keys);
}

/* A cached signing key dies with its credential, on the very next lookup. */
static void test_removed_key_leaves_the_cache(void **state)
{
    (void)state;
    keys_t *keys = keys_create();
    sigkey_cache_t *cache = calloc(1, sizeof(*cache));
    sigv4_auth_t auth;
    memset(&auth, 0, sizeof(auth));
    snprintf(auth.access_key, sizeof(auth.access_key), AK_ALICE);
    snprintf(auth.date, sizeof(auth.date), "20240101");
    snprintf(auth.region, sizeof(auth.region), "us-east-1");
    snprintf(auth.service, sizeof(auth.service), "s3");
    uint8_t key[SIGV4_KEY_LEN];
    keys_user_t u;
    assert_int_equal(keys_add(keys, AK_ALICE, "s1", "alice", ID_A, NULL), 0);
    assert_int_equal(sigkey_cache_get(cache, keys, &auth, key, &u), 0);
    assert_string_equal(u.canonical_id, ID_A);
    assert_int_equal(sigkey_cache_get(cache, keys, &auth, key, &u), 0); /* from the cache */
    assert_int_equal(keys_remove_user(keys, "alice"), 1);
    assert_int_equal(sigkey_cache_get(cache, keys, &auth, key, &u), -ENOENT);
    free(cache);
    keys_destroy(keys);
}

/* A user or key record cut short at any length, or of another version, reads as STORE_E_CORRUPT, never a crash;
 * an access key whose record is corrupt still counts as taken. */
static void test_corrupt_records(void **state)
{
    fixture_t *f = *state;
    users_key_t k = make_key(AK_ALICE, "secret-of-alice");
    users_user_t u;
    users_key_t got;
    assert_int_equal(users_add(f->st, "alice", "alice@example.com", &k, NULL), 0);
    static const struct {
        char prefix;
        const char *id;
    } records[] = {{USERS_PREFIX_USER, "alice"}, {USERS_PREFIX_KEY, AK_ALICE}};
    for (size_t r = 0; r < sizeof(records) / sizeof(records[0]); r++) {
        char key[256];
        size_t key_len = (size_t)snprintf(key, sizeof(key), "%c%s", records[r].prefix, records[r].id);
        void *val;
        size_t len;
        assert_int_equal(meta_get(f->st->meta, key, key_len, &val, &len), 0);
        uint8_t whole[512];
        assert_true(len <= sizeof(whole));
        memcpy(whole, val, len);
        meta_free(val);
        for (size_t cut = 0; cut <= len; cut++) { /* cut == len: the whole record with another version byte */
            uint8_t rec[512];
            memcpy(rec, whole, len);
            if (cut == len)
                rec[0] ^= 0x80;
            assert_int_equal(meta_put_sync(f->st->meta, key, key_len, rec, cut), 0);
            int ret = records[r].prefix == USERS_PREFIX_USER ? users_get(f->st, "alice", &u) : users_key_get(f->st, AK_ALICE, &got);
            if (ret != STORE_E_CORRUPT)
                fail_msg("record %c%s cut to %zu bytes: %d", records[r].prefix, records[r].id, cut, ret);
        }
    }
    users_key_t again = make_key(AK_ALICE, "another");
    snprintf(again.user, sizeof(again.user), "alice");
    assert_int_equal(users_add(f->st, "bob", NULL, &again, NULL), -EEXIST);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validation),
        cmocka_unit_test_setup_teardown(test_add_get_find_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_in_name_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove_deletes_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_root, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_keeps_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_records, setup, teardown),
        cmocka_unit_test(test_keys_table),
        cmocka_unit_test(test_keys_find_user_by),
        cmocka_unit_test(test_removed_key_leaves_the_cache),
    };
    return cmocka_run_group_tests(tests, 0, NULL);
}
