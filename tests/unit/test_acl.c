/* tests/unit/test_acl.c -- S3 ACLs (server/acl.c): canned names to exact grants, x-amz-grant-*
 * headers and AccessControlPolicy documents over tables of good and refused inputs with AWS's
 * error codes, the round trips XML -> ACL -> XML -> ACL and ACL -> stored form -> ACL, the
 * stored form refusing cut or damaged records, and the permission check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/acl.h"
#include "server/authz.h"
#include "server/s3err.h"

#define NS "http://s3.amazonaws.com/doc/2006-03-01/"
#define XSI "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\""
#define OWNER "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"
#define ALICE "a11ce000a11ce000a11ce000a11ce000a11ce000a11ce000a11ce000a11ce000"
#define BOB "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0"
#define EC2 "6aa5a366c34c1cbe25dc49211496e913e0351eb0e8c37aa3477e40942ec6b97c"
#define ID65 ALICE "0"
#define LONG_NAMED "10e910e910e910e910e910e910e910e910e910e910e910e910e910e910e910e9"
#define NAME64 "a-user-name-of-the-longest-length-allowed.64-characters@x.y_z+=1"
#define ALL ACL_URI_ALL_USERS
#define AUTH ACL_URI_AUTHENTICATED_USERS
#define LOGS ACL_URI_LOG_DELIVERY

/* ------------------------------------------------------------------ users */

static const struct {
    const char *id, *name, *email;
} users[] = {
    {OWNER, "owner", "owner@example.com"},
    {ALICE, "alice", "alice@example.com"},
    {BOB, "bob", "bob@example.com"},
    {LONG_NAMED, NAME64, "long@example.com"},
};

static int resolve_calls;

static int resolve(void *ctx, char kind, const char *value, size_t len, char id[ACL_ID_MAX + 1], char name[ACL_NAME_MAX + 1])
{
    (void)ctx;
    resolve_calls++;
    for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
        const char *key = kind == 'i' ? users[i].id : users[i].email;
        int match = strlen(key) == len && (kind == 'i' ? memcmp(key, value, len) == 0 : strncasecmp(key, value, len) == 0);
        if (match) {
            strcpy(id, users[i].id);
            strcpy(name, users[i].name);
            return 0;
        }
    }
    return -ENOENT;
}

/* ------------------------------------------------------------------ expected ACLs */

#define MAX_EXPECTED 6

typedef struct exp_grant {
    acl_grantee_type_t type;
    const char *id; /* users; NULL for groups */
    const char *name;
    unsigned perm; /* 0 ends the list */
} exp_grant_t;

#define U(id, name, perm)                                                                                                          \
    {                                                                                                                              \
        ACL_GRANTEE_USER, id, name, perm                                                                                           \
    }
#define G(type, perm)                                                                                                              \
    {                                                                                                                              \
        type, NULL, NULL, perm                                                                                                     \
    }
#define G_ALL(perm) G(ACL_GRANTEE_ALL_USERS, perm)
#define G_AUTH(perm) G(ACL_GRANTEE_AUTHENTICATED_USERS, perm)
#define G_LOGS(perm) G(ACL_GRANTEE_LOG_DELIVERY, perm)

static void check_grants(const acl_t *acl, const exp_grant_t *want)
{
    size_t n = 0;
    while (n < MAX_EXPECTED && want[n].perm != 0)
        n++;
    assert_int_equal(acl->num_grants, n);
    for (size_t i = 0; i < n; i++) {
        const acl_grant_t *g = &acl->grants[i];
        print_message("  grant %zu\n", i);
        assert_int_equal(g->type, want[i].type);
        assert_int_equal(g->perm, want[i].perm);
        assert_string_equal(g->id, want[i].id != NULL ? want[i].id : "");
        assert_string_equal(g->display_name, want[i].name != NULL ? want[i].name : "");
    }
}

static void check_equal(const acl_t *a, const acl_t *b)
{
    assert_string_equal(a->owner_id, b->owner_id);
    assert_string_equal(a->owner_name, b->owner_name);
    assert_int_equal(a->num_grants, b->num_grants);
    for (size_t i = 0; i < a->num_grants; i++) {
        assert_int_equal(a->grants[i].type, b->grants[i].type);
        assert_int_equal(a->grants[i].perm, b->grants[i].perm);
        assert_string_equal(a->grants[i].id, b->grants[i].id);
        assert_string_equal(a->grants[i].display_name, b->grants[i].display_name);
    }
}

/* acl -> XML -> acl (parsed against its own owner) -> XML: the same ACL, the same bytes. */
static void check_xml_round_trip(const acl_t *acl)
{
    xmlw_t w1, w2;
    xmlw_init(&w1);
    acl_write_xml(&w1, acl);
    acl_t *back = malloc(sizeof(*back));
    assert_non_null(back);
    const char *message = "unset";
    assert_int_equal(acl_parse_xml(w1.buf, w1.len, acl->owner_id, resolve, NULL, back, &message), ACL_OK);
    assert_null(message);
    check_equal(acl, back);
    xmlw_init(&w2);
    acl_write_xml(&w2, back);
    assert_int_equal(w1.len, w2.len);
    assert_memory_equal(w1.buf, w2.buf, w1.len);
    xmlw_free(&w1);
    xmlw_free(&w2);
    free(back);
}

/* acl -> stored form (in a buffer of exactly the size asked, so ASan sees an overrun) -> acl; every cut refused. */
static void check_encode_round_trip(const acl_t *acl)
{
    size_t need = acl_encode(acl, NULL, 0);
    assert_true(need <= ACL_ENCODED_MAX);
    uint8_t *buf = malloc(need);
    assert_non_null(buf);
    if (need > 1) /* too small: the same answer, and nothing written past the end */
        assert_int_equal(acl_encode(acl, buf, need - 1), need);
    assert_int_equal(acl_encode(acl, buf, need), need);
    acl_t *back = malloc(sizeof(*back));
    assert_non_null(back);
    assert_int_equal(acl_decode(buf, need, back), 0);
    check_equal(acl, back);
    char owner[ACL_ID_MAX + 1];
    assert_int_equal(acl_decode_owner(buf, need, owner), 0); /* what listings read: the owner alone */
    assert_string_equal(owner, acl->owner_id);
    size_t owner_end = 2 + strlen(acl->owner_id); /* version, length, id */
    for (size_t cut = 0; cut < need; cut++) {
        uint8_t *prefix = malloc(cut != 0 ? cut : 1);
        assert_non_null(prefix);
        memcpy(prefix, buf, cut);
        assert_int_equal(acl_decode(prefix, cut, back), -EINVAL);
        assert_int_equal(acl_decode_owner(prefix, cut, owner), cut < owner_end ? -EINVAL : 0);
        free(prefix);
    }
    uint8_t *longer = malloc(need + 1);
    assert_non_null(longer);
    memcpy(longer, buf, need);
    longer[need] = 0;
    assert_int_equal(acl_decode(longer, need + 1, back), -EINVAL);
    free(longer);
    free(back);
    free(buf);
}

/* ------------------------------------------------------------------ canned ACLs */

typedef struct canned_case {
    const char *name;
    const char *bucket_owner_id; /* NULL: a bucket */
    int want;
    exp_grant_t grants[MAX_EXPECTED];
} canned_case_t;

static const canned_case_t canned_cases[] = {
    {"private", NULL, 0, {U(OWNER, "owner", ACL_FULL_CONTROL)}},
    {"public-read", NULL, 0, {U(OWNER, "owner", ACL_FULL_CONTROL), G_ALL(ACL_READ)}},
    {"public-read-write", NULL, 0, {U(OWNER, "owner", ACL_FULL_CONTROL), G_ALL(ACL_READ), G_ALL(ACL_WRITE)}},
    {"authenticated-read", NULL, 0, {U(OWNER, "owner", ACL_FULL_CONTROL), G_AUTH(ACL_READ)}},
    {"aws-exec-read", NULL, 0, {U(OWNER, "owner", ACL_FULL_CONTROL), U(EC2, "za-team", ACL_READ)}},
    {"log-delivery-write", NULL, 0, {U(OWNER, "owner", ACL_FULL_CONTROL), G_LOGS(ACL_WRITE), G_LOGS(ACL_READ_ACP)}},
    {"bucket-owner-read", NULL, 0, {U(OWNER, "owner", ACL_FULL_CONTROL)}},
    {"bucket-owner-full-control", NULL, 0, {U(OWNER, "owner", ACL_FULL_CONTROL)}},
    {"bucket-owner-read", ALICE, 0, {U(OWNER, "owner", ACL_FULL_CONTROL), U(ALICE, "alice", ACL_READ)}},
    {"bucket-owner-full-control", ALICE, 0, {U(OWNER, "owner", ACL_FULL_CONTROL), U(ALICE, "alice", ACL_FULL_CONTROL)}},
    {"bucket-owner-read", OWNER, 0, {U(OWNER, "owner", ACL_FULL_CONTROL)}},
    {"bucket-owner-full-control", OWNER, 0, {U(OWNER, "owner", ACL_FULL_CONTROL)}},
    {"public-read", ALICE, 0, {U(OWNER, "owner", ACL_FULL_CONTROL), G_ALL(ACL_READ)}},
    {"Private", NULL, -EINVAL, {{0}}},
    {"public_read", NULL, -EINVAL, {{0}}},
    {"", NULL, -EINVAL, {{0}}},
    {"private ", NULL, -EINVAL, {{0}}},
    {"bucket-owner", NULL, -EINVAL, {{0}}},
};

static void test_canned(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(canned_cases) / sizeof(canned_cases[0]); i++) {
        const canned_case_t *c = &canned_cases[i];
        print_message("case: canned '%s', bucket owner %s\n", c->name, c->bucket_owner_id != NULL ? c->bucket_owner_id : "-");
        acl_t acl;
        memset(&acl, 0x5a, sizeof(acl));
        int rc = acl_canned(c->name, strlen(c->name), OWNER, "owner", c->bucket_owner_id,
                            c->bucket_owner_id == NULL     ? NULL
                            : c->bucket_owner_id[0] == 'a' ? "alice"
                                                           : "owner",
                            &acl);
        assert_int_equal(rc, c->want);
        if (rc != 0) {
            assert_int_equal(acl.num_grants, (size_t)0x5a5a5a5a5a5a5a5aULL); /* untouched */
            continue;
        }
        assert_string_equal(acl.owner_id, OWNER);
        assert_string_equal(acl.owner_name, "owner");
        check_grants(&acl, c->grants);
        check_xml_round_trip(&acl);
        check_encode_round_trip(&acl);
    }
    /* the name is a counted string: a longer buffer does not matter */
    acl_t acl;
    assert_int_equal(acl_canned("public-readXYZ", 11, OWNER, NULL, NULL, NULL, &acl), 0);
    assert_string_equal(acl.owner_name, "");
    assert_int_equal(acl.num_grants, 2);
}

/* ------------------------------------------------------------------ headers */

typedef struct header_case {
    const char *name;
    const char *canned, *read, *write, *read_acp, *write_acp, *full_control; /* NULL: absent */
    acl_err_t want;
    int none;
    exp_grant_t grants[MAX_EXPECTED];
} header_case_t;

static const char *get_header(void *ctx, const char *name, size_t *len)
{
    const header_case_t *c = ctx;
    const char *v = strcmp(name, ACL_HEADER_CANNED) == 0               ? c->canned
                    : strcmp(name, ACL_HEADER_GRANT_READ) == 0         ? c->read
                    : strcmp(name, ACL_HEADER_GRANT_WRITE) == 0        ? c->write
                    : strcmp(name, ACL_HEADER_GRANT_READ_ACP) == 0     ? c->read_acp
                    : strcmp(name, ACL_HEADER_GRANT_WRITE_ACP) == 0    ? c->write_acp
                    : strcmp(name, ACL_HEADER_GRANT_FULL_CONTROL) == 0 ? c->full_control
                                                                       : NULL;
    if (v != NULL)
        *len = strlen(v);
    return v;
}

#define INVALID ACL_ERR_INVALID_ARGUMENT
#define NOEMAIL ACL_ERR_UNRESOLVABLE_EMAIL

static const header_case_t header_cases[] = {
    {"no header", NULL, NULL, NULL, NULL, NULL, NULL, ACL_OK, 1, {{0}}},
    {"one id, quoted", NULL, "id=\"" ALICE "\"", NULL, NULL, NULL, NULL, ACL_OK, 0, {U(ALICE, "alice", ACL_READ)}},
    {"one id, bare", NULL, NULL, "id=" ALICE, NULL, NULL, NULL, ACL_OK, 0, {U(ALICE, "alice", ACL_WRITE)}},
    {"e-mail address", NULL, NULL, NULL, "emailAddress=\"bob@example.com\"", NULL, NULL, ACL_OK, 0, {U(BOB, "bob", ACL_READ_ACP)}},
    {"e-mail address in another case",
     NULL,
     NULL,
     NULL,
     NULL,
     "emailAddress=\"Bob@Example.COM\"",
     NULL,
     ACL_OK,
     0,
     {U(BOB, "bob", ACL_WRITE_ACP)}},
    {"group, as aws-cli writes it (lower-case key, bare)", NULL, "uri=" ALL, NULL, NULL, NULL, NULL, ACL_OK, 0, {G_ALL(ACL_READ)}},
    {"three grantees in one header",
     NULL,
     NULL,
     NULL,
     NULL,
     NULL,
     "id=\"" ALICE "\", emailAddress=\"bob@example.com\", uri=\"" AUTH "\"",
     ACL_OK,
     0,
     {U(ALICE, "alice", ACL_FULL_CONTROL), U(BOB, "bob", ACL_FULL_CONTROL), G_AUTH(ACL_FULL_CONTROL)}},
    {"whitespace everywhere, keys in any case",
     NULL,
     " \tID = \"" ALICE "\" ,\tUri=" LOGS "  ,EMAILADDRESS= alice@example.com\t",
     NULL,
     NULL,
     NULL,
     NULL,
     ACL_OK,
     0,
     {U(ALICE, "alice", ACL_READ), G_LOGS(ACL_READ), U(ALICE, "alice", ACL_READ)}},
    {"all five headers, listed read, write, read-acp, write-acp, full-control",
     NULL,
     "id=" BOB,
     "uri=\"" ALL "\"",
     "id=" ALICE,
     "uri=" AUTH,
     "emailAddress=owner@example.com",
     ACL_OK,
     0,
     {U(BOB, "bob", ACL_READ), G_ALL(ACL_WRITE), U(ALICE, "alice", ACL_READ_ACP), G_AUTH(ACL_WRITE_ACP),
      U(OWNER, "owner", ACL_FULL_CONTROL)}},
    {"EC2's id needs no resolver", NULL, "id=" EC2, NULL, NULL, NULL, NULL, ACL_OK, 0, {U(EC2, "za-team", ACL_READ)}},
    {"empty value", NULL, "", NULL, NULL, NULL, NULL, INVALID, 0, {{0}}},
    {"blank value", NULL, NULL, "  ", NULL, NULL, NULL, INVALID, 0, {{0}}},
    {"trailing comma", NULL, "id=" ALICE ",", NULL, NULL, NULL, NULL, INVALID, 0, {{0}}},
    {"leading comma", NULL, ",id=" ALICE, NULL, NULL, NULL, NULL, INVALID, 0, {{0}}},
    {"no '='", NULL, "id " ALICE, NULL, NULL, NULL, NULL, INVALID, 0, {{0}}},
    {"no key", NULL, "=" ALICE, NULL, NULL, NULL, NULL, INVALID, 0, {{0}}},
    {"unterminated quote", NULL, "id=\"" ALICE, NULL, NULL, NULL, NULL, INVALID, 0, {{0}}},
    {"text after the quote", NULL, "id=\"" ALICE "\"x", NULL, NULL, NULL, NULL, INVALID, 0, {{0}}},
    {"empty quoted value", NULL, "id=\"\"", NULL, NULL, NULL, NULL, INVALID, 0, {{0}}},
    {"grantees not separated by a comma", NULL, "id=" ALICE " id=" BOB, NULL, NULL, NULL, NULL, INVALID, 0, {{0}}},
    {"unknown key", NULL, "displayName=alice", NULL, NULL, NULL, NULL, INVALID, 0, {{0}}},
    {"unknown id", NULL, "id=\"" BOB "0\"", NULL, NULL, NULL, NULL, INVALID, 0, {{0}}},
    {"id over 64 characters", NULL, "id=" ID65, NULL, NULL, NULL, NULL, INVALID, 0, {{0}}},
    {"control character in an id", NULL, "id=\"a\tb\"", NULL, NULL, NULL, NULL, INVALID, 0, {{0}}},
    {"unknown e-mail address", NULL, "emailAddress=\"eve@example.com\"", NULL, NULL, NULL, NULL, NOEMAIL, 0, {{0}}},
    {"unknown group", NULL, "uri=\"http://acs.amazonaws.com/groups/global/Everyone\"", NULL, NULL, NULL, NULL, INVALID, 0, {{0}}},
    {"group URI over https",
     NULL,
     "uri=https://acs.amazonaws.com/groups/global/AllUsers",
     NULL,
     NULL,
     NULL,
     NULL,
     INVALID,
     0,
     {{0}}},
    {"group URI with a trailing slash", NULL, "uri=" ALL "/", NULL, NULL, NULL, NULL, INVALID, 0, {{0}}},
    {"good header, then a bad one", NULL, "id=" ALICE, "id=nobody", NULL, NULL, NULL, INVALID, 0, {{0}}},
    {"unknown id before an unknown e-mail",
     NULL,
     "id=nobody, emailAddress=eve@example.com",
     NULL,
     NULL,
     NULL,
     NULL,
     INVALID,
     0,
     {{0}}},
    /* acl_from_headers: x-amz-acl with them */
    {"canned", "public-read", NULL, NULL, NULL, NULL, NULL, ACL_OK, 0, {U(OWNER, "owner", ACL_FULL_CONTROL), G_ALL(ACL_READ)}},
    {"canned for an object of alice's bucket",
     "bucket-owner-full-control",
     NULL,
     NULL,
     NULL,
     NULL,
     NULL,
     ACL_OK,
     0,
     {U(OWNER, "owner", ACL_FULL_CONTROL), U(ALICE, "alice", ACL_FULL_CONTROL)}},
    {"canned and a grant", "private", NULL, NULL, NULL, NULL, "id=" ALICE, ACL_ERR_INVALID_REQUEST, 1, {{0}}},
    {"unknown canned name", "public", NULL, NULL, NULL, NULL, NULL, INVALID, 1, {{0}}},
};

static void test_grant_headers(void **state)
{
    (void)state;
    acl_t *acl = malloc(sizeof(*acl));
    assert_non_null(acl);
    for (size_t i = 0; i < sizeof(header_cases) / sizeof(header_cases[0]); i++) {
        const header_case_t *c = &header_cases[i];
        print_message("case: headers, %s\n", c->name);
        int none = -1;
        const char *message = "unset";
        acl_err_t err =
            c->canned == NULL
                ? acl_from_grant_headers(get_header, (void *)c, resolve, NULL, OWNER, "owner", acl, &none, &message)
                : acl_from_headers(get_header, (void *)c, resolve, NULL, OWNER, "owner", ALICE, "alice", acl, &none, &message);
        assert_int_equal(err, c->want);
        if (err != ACL_OK) {
            assert_non_null(message);
            assert_true(strlen(message) > 0);
            continue;
        }
        assert_null(message);
        assert_int_equal(none, c->none);
        if (none)
            continue;
        assert_string_equal(acl->owner_id, OWNER);
        assert_string_equal(acl->owner_name, "owner");
        check_grants(acl, c->grants);
        check_xml_round_trip(acl);
        check_encode_round_trip(acl);
        if (c->canned == NULL) { /* acl_from_headers without x-amz-acl is acl_from_grant_headers */
            acl_t *again = malloc(sizeof(*again));
            assert_non_null(again);
            assert_int_equal(
                acl_from_headers(get_header, (void *)c, resolve, NULL, OWNER, "owner", ALICE, "alice", again, &none, &message),
                ACL_OK);
            check_equal(acl, again);
            free(again);
        }
    }
    free(acl);
}

static void test_grant_headers_without_resolver(void **state)
{
    (void)state;
    acl_t acl;
    int none;
    const char *message;
    header_case_t c = {"no resolver", NULL, "id=anyone, uri=" ALL, NULL, "emailAddress=bob@example.com", NULL, NULL, 0, 0, {{0}}};
    assert_int_equal(acl_from_grant_headers(get_header, &c, NULL, NULL, OWNER, NULL, &acl, &none, &message), NOEMAIL);
    c.read_acp = NULL;
    assert_int_equal(acl_from_grant_headers(get_header, &c, NULL, NULL, OWNER, NULL, &acl, &none, &message), ACL_OK);
    const exp_grant_t want[MAX_EXPECTED] = {U("anyone", "", ACL_READ), G_ALL(ACL_READ)};
    check_grants(&acl, want);
    c.read = "id=" ID65;
    assert_int_equal(acl_from_grant_headers(get_header, &c, NULL, NULL, OWNER, NULL, &acl, &none, &message), INVALID);
}

static void test_grant_headers_limit(void **state)
{
    (void)state;
    acl_t *acl = malloc(sizeof(*acl));
    assert_non_null(acl);
    size_t cap = (ACL_MAX_GRANTS + 1) * (sizeof(ALL) + 8);
    char *v = malloc(cap);
    assert_non_null(v);
    for (int n = ACL_MAX_GRANTS; n <= ACL_MAX_GRANTS + 1; n++) {
        size_t len = 0;
        for (int i = 0; i < n; i++)
            len += (size_t)snprintf(v + len, cap - len, "%suri=%s", i != 0 ? "," : "", ALL);
        header_case_t c = {"limit", NULL, v, NULL, NULL, NULL, NULL, 0, 0, {{0}}};
        int none;
        const char *message;
        acl_err_t err = acl_from_grant_headers(get_header, &c, resolve, NULL, OWNER, "owner", acl, &none, &message);
        print_message("case: %d grants in headers\n", n);
        assert_int_equal(err, n == ACL_MAX_GRANTS ? ACL_OK : INVALID);
        if (err == ACL_OK)
            assert_int_equal(acl->num_grants, ACL_MAX_GRANTS);
    }
    free(v);
    free(acl);
}

/* ------------------------------------------------------------------ the document */

#define POLICY(owner, grants)                                                                                                      \
    "<AccessControlPolicy xmlns=\"" NS "\"><Owner><ID>" owner "</ID></Owner><AccessControlList>" grants                            \
    "</AccessControlList></AccessControlPolicy>"
#define GRANTEE(type, inner) "<Grantee " XSI " xsi:type=\"" type "\">" inner "</Grantee>"
#define GRANT(grantee, perm) "<Grant>" grantee "<Permission>" perm "</Permission></Grant>"
#define USER(id, perm) GRANT(GRANTEE("CanonicalUser", "<ID>" id "</ID>"), perm)
#define EMAIL(addr, perm) GRANT(GRANTEE("AmazonCustomerByEmail", "<EmailAddress>" addr "</EmailAddress>"), perm)
#define GROUP(uri, perm) GRANT(GRANTEE("Group", "<URI>" uri "</URI>"), perm)

typedef struct xml_case {
    const char *name;
    const char *body;
    const char *expected_owner; /* NULL: not checked */
    acl_err_t want;
    exp_grant_t grants[MAX_EXPECTED];
} xml_case_t;

static const xml_case_t xml_cases[] = {
    {"owner only, no grant", POLICY(OWNER, ""), OWNER, ACL_OK, {{0}}},
    {"self-closing list",
     "<AccessControlPolicy><Owner><ID>" OWNER "</ID></Owner><AccessControlList/></AccessControlPolicy>",
     OWNER,
     ACL_OK,
     {{0}}},
    {"every kind of grantee",
     POLICY(OWNER, USER(OWNER, "FULL_CONTROL") USER(ALICE, "READ") GROUP(ALL, "READ") GROUP(AUTH, "WRITE") GROUP(LOGS, "READ_ACP")
                       EMAIL("bob@example.com", "WRITE_ACP")),
     OWNER,
     ACL_OK,
     {U(OWNER, "owner", ACL_FULL_CONTROL), U(ALICE, "alice", ACL_READ), G_ALL(ACL_READ), G_AUTH(ACL_WRITE), G_LOGS(ACL_READ_ACP),
      U(BOB, "bob", ACL_WRITE_ACP)}},
    {"as GetBucketAcl writes it, with a declaration, layout and DisplayNames",
     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<AccessControlPolicy xmlns=\"" NS "\">\n  <Owner>\n    <ID>" OWNER
     "</ID>\n    <DisplayName>someone else</DisplayName>\n  </Owner>\n  <AccessControlList>\n    <Grant>\n      <Grantee " XSI
     " xsi:type=\"CanonicalUser\">\n        <ID>" ALICE "</ID>\n        <DisplayName>not alice</DisplayName>\n      </Grantee>\n"
     "      <Permission>WRITE</Permission>\n    </Grant>\n  </AccessControlList>\n</AccessControlPolicy>\n",
     OWNER,
     ACL_OK,
     {U(ALICE, "alice", ACL_WRITE)}},
    {"no namespace, list before owner",
     "<AccessControlPolicy><AccessControlList>" GROUP(ALL, "READ") "</AccessControlList><Owner><ID>" OWNER
                                                                   "</ID></Owner></AccessControlPolicy>",
     OWNER,
     ACL_OK,
     {G_ALL(ACL_READ)}},
    {"prefixes of one's own for S3 and xsi",
     "<s3:AccessControlPolicy xmlns:s3=\"" NS "\" xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\"><s3:Owner><s3:ID>" OWNER
     "</s3:ID></s3:Owner><s3:AccessControlList><s3:Grant><s3:Grantee i:type=\"Group\"><s3:URI>" AUTH
     "</s3:URI></s3:Grantee><s3:Permission>READ</s3:Permission></s3:Grant></s3:AccessControlList></s3:AccessControlPolicy>",
     OWNER,
     ACL_OK,
     {G_AUTH(ACL_READ)}},
    {"whitespace around texts, permission before grantee",
     POLICY(" " OWNER "\n",
            "<Grant><Permission> READ_ACP\n</Permission>" GRANTEE("CanonicalUser", "<ID>\t" ALICE " </ID>") "</Grant>"),
     OWNER,
     ACL_OK,
     {U(ALICE, "alice", ACL_READ_ACP)}},
    {"e-mail address in another case",
     POLICY(OWNER, EMAIL("ALICE@example.com", "READ")),
     OWNER,
     ACL_OK,
     {U(ALICE, "alice", ACL_READ)}},
    {"extra elements of another kind of grantee are ignored",
     POLICY(OWNER, GRANT(GRANTEE("Group", "<ID>nobody</ID><URI>" ALL "</URI>"), "READ")
                       GRANT(GRANTEE("CanonicalUser", "<ID>" BOB "</ID><EmailAddress>x</EmailAddress>"), "READ")),
     OWNER,
     ACL_OK,
     {G_ALL(ACL_READ), U(BOB, "bob", ACL_READ)}},
    {"duplicate grants kept",
     POLICY(OWNER, USER(ALICE, "READ") USER(ALICE, "READ")),
     OWNER,
     ACL_OK,
     {U(ALICE, "alice", ACL_READ), U(ALICE, "alice", ACL_READ)}},
    {"EC2's id", POLICY(OWNER, USER(EC2, "READ")), OWNER, ACL_OK, {U(EC2, "za-team", ACL_READ)}},
    {"CDATA and character references",
     POLICY(OWNER, GRANT(GRANTEE("CanonicalUser", "<ID><![CDATA[" ALICE "]]></ID>"), "RE&#x41;D")),
     OWNER,
     ACL_OK,
     {U(ALICE, "alice", ACL_READ)}},
    {"owner unchecked", POLICY(BOB, USER(ALICE, "READ")), NULL, ACL_OK, {U(ALICE, "alice", ACL_READ)}},
    /* semantic errors, in AWS's precedence */
    {"another owner", POLICY(ALICE, USER(ALICE, "FULL_CONTROL")), OWNER, ACL_ERR_ACCESS_DENIED, {{0}}},
    {"owner id over 64 characters", POLICY(ID65, ""), OWNER, ACL_ERR_ACCESS_DENIED, {{0}}},
    {"empty owner id", POLICY("", ""), OWNER, ACL_ERR_ACCESS_DENIED, {{0}}},
    {"another owner and an unknown grantee", POLICY(ALICE, USER("nobody", "READ")), OWNER, ACL_ERR_ACCESS_DENIED, {{0}}},
    {"unknown owner, unchecked", POLICY("nobody", ""), NULL, INVALID, {{0}}},
    {"unknown id", POLICY(OWNER, USER(ALICE, "READ") USER("nobody", "READ")), OWNER, INVALID, {{0}}},
    {"empty id", POLICY(OWNER, USER("", "READ")), OWNER, INVALID, {{0}}},
    {"id over 64 characters", POLICY(OWNER, USER(ID65, "READ")), OWNER, INVALID, {{0}}},
    {"unknown group", POLICY(OWNER, GROUP("http://acs.amazonaws.com/groups/global/Everyone", "READ")), OWNER, INVALID, {{0}}},
    {"group URI over https",
     POLICY(OWNER, GROUP("https://acs.amazonaws.com/groups/global/AllUsers", "READ")),
     OWNER,
     INVALID,
     {{0}}},
    {"unknown e-mail address", POLICY(OWNER, EMAIL("eve@example.com", "READ")), OWNER, NOEMAIL, {{0}}},
    {"empty e-mail address", POLICY(OWNER, EMAIL("", "READ")), OWNER, NOEMAIL, {{0}}},
    {"unknown e-mail before an unknown id",
     POLICY(OWNER, EMAIL("eve@example.com", "READ") USER("nobody", "READ")),
     OWNER,
     NOEMAIL,
     {{0}}},
};

/* Documents AWS's schema refuses: MalformedACLError whatever else is wrong with them. */
static const struct {
    const char *name;
    const char *body;
} malformed_cases[] = {
    {"empty body", ""},
    {"blank body", "  \n"},
    {"not well-formed", "<AccessControlPolicy><Owner><ID>" OWNER "</ID></Owner><AccessControlList>"},
    {"not XML", "public-read"},
    {"another root", "<AccessControlList><Owner><ID>" OWNER "</ID></Owner></AccessControlList>"},
    {"no Owner", "<AccessControlPolicy><AccessControlList/></AccessControlPolicy>"},
    {"no AccessControlList", "<AccessControlPolicy><Owner><ID>" OWNER "</ID></Owner></AccessControlPolicy>"},
    {"two Owners", "<AccessControlPolicy><Owner><ID>" OWNER "</ID></Owner><Owner><ID>" OWNER
                   "</ID></Owner><AccessControlList/></AccessControlPolicy>"},
    {"two AccessControlLists",
     "<AccessControlPolicy><Owner><ID>" OWNER "</ID></Owner><AccessControlList/><AccessControlList/></AccessControlPolicy>"},
    {"Owner without ID",
     "<AccessControlPolicy><Owner><DisplayName>owner</DisplayName></Owner><AccessControlList/></AccessControlPolicy>"},
    {"Owner with two IDs",
     "<AccessControlPolicy><Owner><ID>" OWNER "</ID><ID>" OWNER "</ID></Owner><AccessControlList/></AccessControlPolicy>"},
    {"unknown element in the root",
     "<AccessControlPolicy><Owner><ID>" OWNER "</ID></Owner><AccessControlList/><Extra/></AccessControlPolicy>"},
    {"unknown element in Owner",
     "<AccessControlPolicy><Owner><ID>" OWNER "</ID><Email>x</Email></Owner><AccessControlList/></AccessControlPolicy>"},
    {"markup in Owner/ID",
     "<AccessControlPolicy><Owner><ID><b>" OWNER "</b></ID></Owner><AccessControlList/></AccessControlPolicy>"},
    {"Grant without Permission", POLICY(OWNER, "<Grant>" GRANTEE("Group", "<URI>" ALL "</URI>") "</Grant>")},
    {"Grant without Grantee", POLICY(OWNER, "<Grant><Permission>READ</Permission></Grant>")},
    {"Grant with two Permissions",
     POLICY(OWNER, "<Grant>" GRANTEE("Group",
                                     "<URI>" ALL "</URI>") "<Permission>READ</Permission><Permission>WRITE</Permission></Grant>")},
    {"Grant with two Grantees", POLICY(OWNER, "<Grant>" GRANTEE("Group", "<URI>" ALL "</URI>")
                                                  GRANTEE("Group", "<URI>" ALL "</URI>") "<Permission>READ</Permission></Grant>")},
    {"permission in another case", POLICY(OWNER, GROUP(ALL, "Write"))},
    {"unknown permission", POLICY(OWNER, GROUP(ALL, "DELETE"))},
    {"empty permission", POLICY(OWNER, GROUP(ALL, ""))},
    {"two permissions in one", POLICY(OWNER, GROUP(ALL, "READ,WRITE"))},
    {"markup in Permission", POLICY(OWNER, GROUP(ALL, "<x>READ</x>"))},
    {"Grantee without xsi:type",
     POLICY(OWNER, "<Grant><Grantee><ID>" ALICE "</ID></Grantee><Permission>READ</Permission></Grant>")},
    {"type attribute without the xsi namespace",
     POLICY(OWNER, "<Grant><Grantee type=\"CanonicalUser\"><ID>" ALICE "</ID></Grantee><Permission>READ</Permission></Grant>")},
    {"xsi prefix never declared",
     POLICY(OWNER, "<Grant><Grantee xsi:type=\"CanonicalUser\"><ID>" ALICE "</ID></Grantee><Permission>READ</Permission></Grant>")},
    {"unknown xsi:type", POLICY(OWNER, GRANT(GRANTEE("Canonical User", "<ID>" ALICE "</ID>"), "READ"))},
    {"xsi:type in another case", POLICY(OWNER, GRANT(GRANTEE("group", "<URI>" ALL "</URI>"), "READ"))},
    {"CanonicalUser without ID",
     POLICY(OWNER, GRANT(GRANTEE("CanonicalUser", "<EmailAddress>bob@example.com</EmailAddress>"), "READ"))},
    {"Group without URI", POLICY(OWNER, GRANT(GRANTEE("Group", "<ID>" ALICE "</ID>"), "READ"))},
    {"AmazonCustomerByEmail without EmailAddress",
     POLICY(OWNER, GRANT(GRANTEE("AmazonCustomerByEmail", "<ID>" ALICE "</ID>"), "READ"))},
    {"Grantee with two IDs", POLICY(OWNER, GRANT(GRANTEE("CanonicalUser", "<ID>" ALICE "</ID><ID>" BOB "</ID>"), "READ"))},
    {"unknown element in Grantee", POLICY(OWNER, GRANT(GRANTEE("Group", "<URI>" ALL "</URI><Name>x</Name>"), "READ"))},
    {"markup in a grantee's ID", POLICY(OWNER, GRANT(GRANTEE("CanonicalUser", "<ID><x/>" ALICE "</ID>"), "READ"))},
    {"unknown element in Grant",
     POLICY(OWNER,
            "<Grant>" GRANTEE("Group", "<URI>" ALL "</URI>") "<Permission>READ</Permission><Delivered>false</Delivered></Grant>")},
    {"something else than a Grant in the list", POLICY(OWNER, GROUP(ALL, "READ") "<Permission>READ</Permission>")},
    {"DTD with an entity",
     "<!DOCTYPE AccessControlPolicy [<!ENTITY o \"" OWNER "\">]><AccessControlPolicy><Owner><ID>&o;</ID></Owner>"
     "<AccessControlList/></AccessControlPolicy>"},
    {"undefined entity", POLICY("&o;", "")},
    {"not UTF-8", POLICY(OWNER, GRANT(GRANTEE("CanonicalUser", "<ID>\xff</ID>"), "READ"))},
    /* the shape is judged before anything else */
    {"another owner, then a bad shape", POLICY(ALICE, GROUP(ALL, "read"))},
    {"unknown grantee, then a bad shape", POLICY(OWNER, USER("nobody", "READ") GROUP(ALL, "read"))},
    {"unknown e-mail, then a bad shape", POLICY(OWNER, EMAIL("eve@example.com", "READ") "<Grant/>")},
};

static void test_parse_xml(void **state)
{
    (void)state;
    acl_t *acl = malloc(sizeof(*acl));
    assert_non_null(acl);
    for (size_t i = 0; i < sizeof(xml_cases) / sizeof(xml_cases[0]); i++) {
        const xml_case_t *c = &xml_cases[i];
        print_message("case: document, %s\n", c->name);
        const char *message = "unset";
        acl_err_t err = acl_parse_xml(c->body, strlen(c->body), c->expected_owner, resolve, NULL, acl, &message);
        assert_int_equal(err, c->want);
        if (err != ACL_OK) {
            assert_non_null(message);
            continue;
        }
        assert_null(message);
        assert_string_equal(acl->owner_id, c->expected_owner != NULL ? c->expected_owner : BOB);
        assert_string_equal(acl->owner_name, c->expected_owner != NULL ? "owner" : "bob");
        check_grants(acl, c->grants);
        check_xml_round_trip(acl);
        check_encode_round_trip(acl);
    }
    free(acl);
}

static void test_parse_xml_malformed(void **state)
{
    (void)state;
    acl_t *acl = malloc(sizeof(*acl));
    assert_non_null(acl);
    for (size_t i = 0; i < sizeof(malformed_cases) / sizeof(malformed_cases[0]); i++) {
        print_message("case: malformed document, %s\n", malformed_cases[i].name);
        const char *body = malformed_cases[i].body, *message = NULL;
        resolve_calls = 0;
        assert_int_equal(acl_parse_xml(body, strlen(body), OWNER, resolve, NULL, acl, &message), ACL_ERR_MALFORMED);
        assert_non_null(strstr(message, "not well-formed"));
        assert_int_equal(resolve_calls, 0); /* nothing is looked up in a document refused */
    }
    free(acl);
}

static void test_parse_xml_limits(void **state)
{
    (void)state;
    acl_t *acl = malloc(sizeof(*acl));
    assert_non_null(acl);
    const char *message;
    /* 100 grants, then 101 */
    size_t cap = 64 * 1024;
    char *doc = malloc(cap);
    assert_non_null(doc);
    for (int n = ACL_MAX_GRANTS; n <= ACL_MAX_GRANTS + 1; n++) {
        size_t len = (size_t)snprintf(doc, cap, "<AccessControlPolicy><Owner><ID>%s</ID></Owner><AccessControlList>", OWNER);
        for (int i = 0; i < n; i++)
            len += (size_t)snprintf(doc + len, cap - len, "%s", i % 2 ? USER(ALICE, "WRITE") : GROUP(ALL, "READ"));
        len += (size_t)snprintf(doc + len, cap - len, "</AccessControlList></AccessControlPolicy>");
        assert_true(len < cap);
        print_message("case: document of %d grants\n", n);
        acl_err_t err = acl_parse_xml(doc, len, OWNER, resolve, NULL, acl, &message);
        assert_int_equal(err, n == ACL_MAX_GRANTS ? ACL_OK : ACL_ERR_MALFORMED);
        if (err == ACL_OK) {
            assert_int_equal(acl->num_grants, ACL_MAX_GRANTS);
            check_xml_round_trip(acl);
            check_encode_round_trip(acl);
        }
    }
    free(doc);
    /* a body over ACL_DOC_MAX, valid but for its size */
    size_t len = ACL_DOC_MAX + 1;
    doc = malloc(len);
    assert_non_null(doc);
    memset(doc, ' ', len);
    memcpy(doc, POLICY(OWNER, ""), strlen(POLICY(OWNER, "")));
    assert_int_equal(acl_parse_xml(doc, len, OWNER, resolve, NULL, acl, &message), ACL_ERR_MALFORMED);
    assert_int_equal(acl_parse_xml(doc, len - 1, OWNER, resolve, NULL, acl, &message), ACL_OK);
    free(doc);
    /* no resolver: ids taken as given, no e-mail resolves */
    const char *body = POLICY("anyone", USER("someone", "READ"));
    assert_int_equal(acl_parse_xml(body, strlen(body), NULL, NULL, NULL, acl, &message), ACL_OK);
    const exp_grant_t want[MAX_EXPECTED] = {U("someone", "", ACL_READ)};
    check_grants(acl, want);
    assert_string_equal(acl->owner_id, "anyone");
    body = POLICY("anyone", EMAIL("owner@example.com", "READ"));
    assert_int_equal(acl_parse_xml(body, strlen(body), "anyone", NULL, NULL, acl, &message), NOEMAIL);
    free(acl);
}

static void test_write_xml(void **state)
{
    (void)state;
    acl_t acl;
    assert_int_equal(acl_canned("public-read", 11, OWNER, "owner", NULL, NULL, &acl), 0);
    acl.grants[0].display_name[0] = '\0'; /* no name, no DisplayName */
    strcpy(acl.owner_name, "<o&o>");
    xmlw_t w;
    xmlw_init(&w);
    acl_write_xml(&w, &acl);
    xmlw_raw(&w, "", 1);
    assert_string_equal(w.buf, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<AccessControlPolicy xmlns=\"" NS "\"><Owner><ID>" OWNER
                               "</ID><DisplayName>&lt;o&amp;o&gt;</DisplayName></Owner><AccessControlList>"
                               "<Grant><Grantee " XSI " xsi:type=\"CanonicalUser\"><ID>" OWNER "</ID></Grantee>"
                               "<Permission>FULL_CONTROL</Permission></Grant>"
                               "<Grant><Grantee " XSI " xsi:type=\"Group\"><URI>" ALL "</URI></Grantee>"
                               "<Permission>READ</Permission></Grant>"
                               "</AccessControlList></AccessControlPolicy>");
    xmlw_free(&w);

    acl.num_grants = 0;
    xmlw_init(&w);
    acl_write_xml(&w, &acl);
    xmlw_raw(&w, "", 1);
    assert_non_null(strstr(w.buf, "<AccessControlList></AccessControlList>"));
    xmlw_free(&w);
}

/* ------------------------------------------------------------------ the stored form */

static void test_decode_refuses(void **state)
{
    (void)state;
    /* version 1, owner "o" / "", n grants, ... */
#define REC(...)                                                                                                                   \
    {                                                                                                                              \
        (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})                                                     \
    }
    const struct {
        const char *name;
        struct {
            const uint8_t *bytes;
            size_t len;
        } rec;
        int want;
    } cases[] = {
        {"minimal", REC(1, 1, 'o', 0, 0), 0},
        {"a group grant", REC(1, 1, 'o', 0, 1, ACL_GRANTEE_ALL_USERS, ACL_READ), 0},
        {"a user grant", REC(1, 1, 'o', 0, 1, ACL_GRANTEE_USER, ACL_FULL_CONTROL, 1, 'u', 2, 'n', 'm'), 0},
        {"empty owner", REC(1, 0, 0, 0), 0},
        {"empty", REC(0), -EINVAL},
        {"version 0", REC(0, 1, 'o', 0, 0), -EINVAL},
        {"version 2", REC(2, 1, 'o', 0, 0), -EINVAL},
        {"owner id longer than the record", REC(1, 9, 'o', 0, 0), -EINVAL},
        {"owner id over 64", REC(1, 65, 'o'), -EINVAL},
        {"NUL in the owner id", REC(1, 2, 'o', 0, 0, 0), -EINVAL},
        {"no grant count", REC(1, 1, 'o', 0), -EINVAL},
        {"more grants than given", REC(1, 1, 'o', 0, 2, ACL_GRANTEE_ALL_USERS, ACL_READ), -EINVAL},
        {"101 grants", REC(1, 1, 'o', 0, 101), -EINVAL},
        {"unknown grantee type", REC(1, 1, 'o', 0, 1, 4, ACL_READ), -EINVAL},
        {"permission 0", REC(1, 1, 'o', 0, 1, ACL_GRANTEE_ALL_USERS, 0), -EINVAL},
        {"permission READ|WRITE", REC(1, 1, 'o', 0, 1, ACL_GRANTEE_ALL_USERS, ACL_READ | ACL_WRITE), -EINVAL},
        {"permission 16", REC(1, 1, 'o', 0, 1, ACL_GRANTEE_ALL_USERS, 16), -EINVAL},
        {"user grant with an empty id", REC(1, 1, 'o', 0, 1, ACL_GRANTEE_USER, ACL_READ, 0, 0), -EINVAL},
        {"user grant without a name", REC(1, 1, 'o', 0, 1, ACL_GRANTEE_USER, ACL_READ, 1, 'u'), -EINVAL},
        {"user name cut short", REC(1, 1, 'o', 0, 1, ACL_GRANTEE_USER, ACL_READ, 1, 'u', 64), -EINVAL},
        {"trailing byte", REC(1, 1, 'o', 0, 0, 0), -EINVAL},
        {"group grant followed by an id", REC(1, 1, 'o', 0, 1, ACL_GRANTEE_ALL_USERS, ACL_READ, 1, 'u', 0), -EINVAL},
        {"garbage", REC(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), -EINVAL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("case: stored form, %s\n", cases[i].name);
        /* a copy of exactly the record's size, so ASan sees any read past it */
        uint8_t *copy = malloc(cases[i].rec.len);
        assert_non_null(copy);
        memcpy(copy, cases[i].rec.bytes, cases[i].rec.len);
        acl_t acl;
        size_t len = strcmp(cases[i].name, "empty") == 0 ? 0 : cases[i].rec.len;
        assert_int_equal(acl_decode(copy, len, &acl), cases[i].want);
        if (cases[i].want == 0) {
            uint8_t again[64];
            assert_int_equal(acl_encode(&acl, again, sizeof(again)), len);
            assert_memory_equal(again, copy, len);
        }
        free(copy);
    }

    /* every single-byte change of a real record either is refused or decodes to something that encodes back to it */
    acl_t acl;
    const char *body = POLICY(OWNER, USER(ALICE, "READ") GROUP(ALL, "WRITE") EMAIL("bob@example.com", "FULL_CONTROL"));
    const char *message;
    assert_int_equal(acl_parse_xml(body, strlen(body), OWNER, resolve, NULL, &acl, &message), ACL_OK);
    uint8_t rec[ACL_ENCODED_MAX], back[ACL_ENCODED_MAX];
    size_t len = acl_encode(&acl, rec, sizeof(rec));
    for (size_t i = 0; i < len; i++) {
        for (unsigned x = 1; x < 256; x <<= 1) {
            rec[i] ^= (uint8_t)x;
            acl_t damaged;
            if (acl_decode(rec, len, &damaged) == 0) {
                assert_int_equal(acl_encode(&damaged, back, sizeof(back)), len);
                assert_memory_equal(back, rec, len);
            }
            rec[i] ^= (uint8_t)x;
        }
    }
}

/* A stored ACL of ALICE with no grants, whose owner's display name is name_len bytes of 'n'. Returns its length. */
static size_t owner_record(uint8_t *buf, size_t name_len)
{
    size_t n = 0;
    buf[n++] = 1; /* the version */
    buf[n++] = ACL_ID_MAX;
    memcpy(buf + n, ALICE, ACL_ID_MAX);
    n += ACL_ID_MAX;
    buf[n++] = (uint8_t)name_len;
    memset(buf + n, 'n', name_len);
    n += name_len;
    buf[n++] = 0; /* no grants */
    return n;
}

/* A user name may be 64 characters (storage/users.h): as a display name it is kept whole everywhere. */
static void test_display_name_of_64(void **state)
{
    (void)state;
    assert_int_equal(strlen(NAME64), 64);
    acl_t *acl = malloc(sizeof(*acl)), *back = malloc(sizeof(*back));
    assert_non_null(acl);
    assert_non_null(back);
    assert_int_equal(acl_canned("bucket-owner-read", strlen("bucket-owner-read"), ALICE, NAME64, OWNER, NAME64, acl), 0);
    assert_string_equal(acl->owner_name, NAME64);
    assert_int_equal(acl->num_grants, 2);
    assert_string_equal(acl->grants[0].display_name, NAME64);
    assert_string_equal(acl->grants[1].display_name, NAME64);

    /* the stored form holds all 64 bytes, and refuses 65 */
    uint8_t rec[ACL_ENCODED_MAX];
    size_t len = acl_encode(acl, rec, sizeof(rec));
    assert_int_equal(acl_decode(rec, len, back), 0);
    assert_string_equal(back->owner_name, NAME64);
    assert_string_equal(back->grants[0].display_name, NAME64);
    assert_string_equal(back->grants[1].display_name, NAME64);
    assert_int_equal(acl_decode(rec, owner_record(rec, 64), back), 0);
    assert_int_equal(strlen(back->owner_name), 64);
    assert_int_equal(acl_decode(rec, owner_record(rec, 65), back), -EINVAL);

    /* the documents: GetBucketAcl writes it whole, and a grantee resolved by id gets it whole */
    xmlw_t w;
    xmlw_init(&w);
    acl_write_xml(&w, acl);
    assert_non_null(memmem(w.buf, w.len, "<Owner><ID>" ALICE "</ID><DisplayName>" NAME64 "</DisplayName></Owner>",
                           strlen("<Owner><ID>" ALICE "</ID><DisplayName>" NAME64 "</DisplayName></Owner>")));
    xmlw_free(&w);
    const char *message;
    const char *body = POLICY(ALICE, USER(LONG_NAMED, "READ"));
    assert_int_equal(acl_parse_xml(body, strlen(body), ALICE, resolve, NULL, acl, &message), ACL_OK);
    assert_string_equal(acl->grants[0].display_name, NAME64);
    free(back);
    free(acl);
}

static void test_encode_largest(void **state)
{
    (void)state;
    acl_t *acl = malloc(sizeof(*acl));
    assert_non_null(acl);
    memset(acl->owner_id, 'o', ACL_ID_MAX);
    acl->owner_id[ACL_ID_MAX] = '\0';
    memset(acl->owner_name, 'n', ACL_NAME_MAX);
    acl->owner_name[ACL_NAME_MAX] = '\0';
    acl->num_grants = ACL_MAX_GRANTS;
    for (size_t i = 0; i < ACL_MAX_GRANTS; i++) {
        acl_grant_t *g = &acl->grants[i];
        g->type = ACL_GRANTEE_USER;
        g->perm = ACL_WRITE_ACP;
        memset(g->id, 'a' + (int)(i % 26), ACL_ID_MAX);
        g->id[ACL_ID_MAX] = '\0';
        memset(g->display_name, 'A' + (int)(i % 26), ACL_NAME_MAX);
        g->display_name[ACL_NAME_MAX] = '\0';
    }
    assert_int_equal(acl_encode(acl, NULL, 0), ACL_ENCODED_MAX);
    check_encode_round_trip(acl);
    free(acl);
}

/* ------------------------------------------------------------------ the check */

static void fixture(acl_t *acl)
{
    /* the owner's own grant, alice READ and WRITE_ACP, everyone READ_ACP, the signed-in WRITE, log delivery WRITE */
    header_case_t c = {
        "fixture", NULL, "id=" ALICE, "uri=" AUTH ", uri=" LOGS, "uri=" ALL, "emailAddress=alice@example.com", "id=" OWNER,
        0,         0,    {{0}}};
    int none;
    const char *message;
    assert_int_equal(acl_from_grant_headers(get_header, &c, resolve, NULL, OWNER, "owner", acl, &none, &message), ACL_OK);
    assert_int_equal(acl->num_grants, 6);
}

typedef struct perm_case {
    const char *name;
    const char *canned; /* NULL: the fixture */
    const char *requester;
    unsigned want, want_private;
} perm_case_t;

#define R ACL_READ
#define W ACL_WRITE
#define RA ACL_READ_ACP
#define WA ACL_WRITE_ACP
#define FC ACL_FULL_CONTROL

static const perm_case_t perm_cases[] = {
    {"fixture, owner: its own grant", NULL, OWNER, FC, FC},
    {"fixture, alice: hers and the groups'", NULL, ALICE, R | WA | RA | W, R | WA},
    {"fixture, bob: the groups'", NULL, BOB, RA | W, 0},
    {"fixture, anonymous: AllUsers only", NULL, NULL, RA, 0},
    {"fixture, unknown id", NULL, "nobody", RA | W, 0},
    {"fixture, an id's prefix is not the id", NULL, "a11ce", RA | W, 0},
    {"private, owner", "private", OWNER, FC, FC},
    {"private, other", "private", BOB, 0, 0},
    {"private, anonymous", "private", NULL, 0, 0},
    {"public-read, anonymous", "public-read", NULL, R, 0},
    {"public-read, other", "public-read", BOB, R, 0},
    {"public-read-write, anonymous", "public-read-write", NULL, R | W, 0},
    {"authenticated-read, anonymous", "authenticated-read", NULL, 0, 0},
    {"authenticated-read, other", "authenticated-read", BOB, R, 0},
    {"bucket-owner-read, bucket owner", "bucket-owner-read", ALICE, R, R},
    {"bucket-owner-full-control, bucket owner", "bucket-owner-full-control", ALICE, FC, FC},
    {"bucket-owner-full-control, other", "bucket-owner-full-control", BOB, 0, 0},
    {"log-delivery-write, anonymous", "log-delivery-write", NULL, 0, 0},
    {"log-delivery-write, other", "log-delivery-write", BOB, 0, 0},
    {"aws-exec-read, EC2", "aws-exec-read", EC2, R, R},
};

static void test_permissions(void **state)
{
    (void)state;
    acl_t acl;
    for (size_t i = 0; i < sizeof(perm_cases) / sizeof(perm_cases[0]); i++) {
        const perm_case_t *c = &perm_cases[i];
        print_message("case: permissions, %s\n", c->name);
        if (c->canned == NULL)
            fixture(&acl);
        else
            assert_int_equal(acl_canned(c->canned, strlen(c->canned), OWNER, "owner", ALICE, "alice", &acl), 0);
        assert_int_equal(acl_permissions(&acl, c->requester), c->want);
        assert_int_equal(acl_private_permissions(&acl, c->requester), c->want_private);
    }

    /* the owner gets nothing the ACL does not say: a grant-header ACL naming only alice */
    header_case_t c = {"alice only", NULL, "id=" ALICE, NULL, NULL, NULL, NULL, 0, 0, {{0}}};
    int none;
    const char *message;
    assert_int_equal(acl_from_grant_headers(get_header, &c, resolve, NULL, OWNER, "owner", &acl, &none, &message), ACL_OK);
    assert_int_equal(acl_permissions(&acl, OWNER), 0);
    assert_int_equal(acl_permissions(&acl, ALICE), R);
    acl.num_grants = 0;
    assert_int_equal(acl_permissions(&acl, OWNER), 0);
    assert_int_equal(acl_permissions(&acl, NULL), 0);
}

static void test_is_public(void **state)
{
    (void)state;
    static const struct {
        const char *canned;
        int want;
    } cases[] = {
        {"private", 0},       {"public-read", 1},       {"public-read-write", 1},         {"authenticated-read", 1},
        {"aws-exec-read", 0}, {"bucket-owner-read", 0}, {"bucket-owner-full-control", 0}, {"log-delivery-write", 0},
    };
    acl_t acl;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("case: public, %s\n", cases[i].canned);
        assert_int_equal(acl_canned(cases[i].canned, strlen(cases[i].canned), OWNER, "owner", ALICE, "alice", &acl), 0);
        assert_int_equal(acl_is_public(&acl), cases[i].want);
    }
    fixture(&acl);
    assert_int_equal(acl_is_public(&acl), 1);
}

static void test_errors(void **state)
{
    (void)state;
    static const struct {
        acl_err_t err;
        int status;
        const char *code;
    } errors[] = {
        {ACL_ERR_MALFORMED, 400, "MalformedACLError"},      {ACL_ERR_UNRESOLVABLE_EMAIL, 400, "UnresolvableGrantByEmailAddress"},
        {ACL_ERR_INVALID_ARGUMENT, 400, "InvalidArgument"}, {ACL_ERR_ACCESS_DENIED, 403, "AccessDenied"},
        {ACL_ERR_INVALID_REQUEST, 400, "InvalidRequest"},
    };
    for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
        s3err_t e = authz_acl_error(errors[i].err);
        assert_int_equal(s3err_status(e), errors[i].status);
        assert_string_equal(s3err_code(e), errors[i].code);
    }
    assert_int_equal(authz_acl_error(ACL_OK), S3ERR_NONE);
    assert_string_equal(acl_perm_name(ACL_READ_ACP), "READ_ACP");
    assert_null(acl_perm_name(ACL_READ | ACL_WRITE));
    assert_null(acl_perm_name(0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canned),
        cmocka_unit_test(test_grant_headers),
        cmocka_unit_test(test_grant_headers_without_resolver),
        cmocka_unit_test(test_grant_headers_limit),
        cmocka_unit_test(test_parse_xml),
        cmocka_unit_test(test_parse_xml_malformed),
        cmocka_unit_test(test_parse_xml_limits),
        cmocka_unit_test(test_write_xml),
        cmocka_unit_test(test_decode_refuses),
        cmocka_unit_test(test_display_name_of_64),
        cmocka_unit_test(test_encode_largest),
        cmocka_unit_test(test_permissions),
        cmocka_unit_test(test_is_public),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
