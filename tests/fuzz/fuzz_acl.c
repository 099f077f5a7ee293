/* tests/fuzz/fuzz_acl.c -- AccessControlPolicy documents (PutBucketAcl / PutObjectAcl bodies).
 *
 * DESIGN: the first byte holds two flags ('0'..'3' in the seeds), the rest is the body as the client
 * sent it, handed to acl_parse_xml as server/ops_acl.c hands it over:
 *   bit 0  the Owner/ID must be the bucket's or object's owner (OWNER_ID), as for an existing
 *          resource; clear: any owner the resolver knows (expected_owner_id NULL)
 *   bit 1  no resolver (any id up to 64 characters, no e-mail address); clear: a resolver that
 *          knows two users by id and e-mail address, as server/authz.c resolves the server's users
 * Seeds are AWS's documented bodies (CanonicalUser, AmazonCustomerByEmail and Group grantees, with
 * and without the S3 namespace and the xsi prefix) and tests/unit/test_acl.c's malformed ones.
 * Beyond the sanitizers, an error must come with a message, and an ACL that parses must hold to its
 * contract (at most ACL_MAX_GRANTS grants, NUL-terminated ids and names, one of the five
 * permissions, ids on user grants only) and survive the round trips the server puts it through:
 * stored by acl_encode and read back by acl_decode and acl_decode_owner, and answered by
 * acl_write_xml (GetBucketAcl) and parsed again, as a client that puts back what it read does. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/acl.h"
#include "server/authz.h"
#include "server/xml.h"
#include "tests/fuzz/fuzz_input.h"

#define FLAG_EXPECT_OWNER 1
#define FLAG_NO_RESOLVER 2

#define OWNER_ID "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"

static const struct {
    const char *id, *email, *name;
} users[] = {
    {OWNER_ID, "owner@example.com", "owner"},
    {"1111111111111111111111111111111111111111111111111111111111111111", "bob@example.com",
     "a-display-name-of-sixty-four-characters-for-the-longest-user-nam"},
};

static int resolve(void *ctx, char kind, const char *value, size_t len, char id[ACL_ID_MAX + 1], char name[ACL_NAME_MAX + 1])
{
    (void)ctx;
    if (kind != 'i' && kind != 'e')
        abort(); /* the parser asks for an id or an address, nothing else */
    for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
        const char *key = kind == 'i' ? users[i].id : users[i].email;
        if (strlen(key) == len && (kind == 'i' ? memcmp(key, value, len) == 0 : strncasecmp(key, value, len) == 0)) {
            snprintf(id, ACL_ID_MAX + 1, "%s", users[i].id);
            snprintf(name, ACL_NAME_MAX + 1, "%s", users[i].name);
            return 0;
        }
    }
    return -1;
}

static void check_contract(const acl_t *acl)
{
    if (acl->num_grants > ACL_MAX_GRANTS || strnlen(acl->owner_id, sizeof(acl->owner_id)) == sizeof(acl->owner_id) ||
        strnlen(acl->owner_name, sizeof(acl->owner_name)) == sizeof(acl->owner_name))
        abort();
    for (size_t i = 0; i < acl->num_grants; i++) {
        const acl_grant_t *g = &acl->grants[i];
        size_t id_len = strnlen(g->id, sizeof(g->id));
        if (id_len == sizeof(g->id) || strnlen(g->display_name, sizeof(g->display_name)) == sizeof(g->display_name) ||
            acl_perm_name(g->perm) == NULL || (g->type == ACL_GRANTEE_USER) != (id_len != 0))
            abort();
    }
}

/* Whether a and b grant the same: owner and grants, with display names only when names counts. */
static int same_acl(const acl_t *a, const acl_t *b, int names)
{
    if (strcmp(a->owner_id, b->owner_id) != 0 || (names && strcmp(a->owner_name, b->owner_name) != 0) ||
        a->num_grants != b->num_grants)
        return 0;
    for (size_t i = 0; i < a->num_grants; i++) {
        const acl_grant_t *x = &a->grants[i], *y = &b->grants[i];
        if (x->type != y->type || x->perm != y->perm || strcmp(x->id, y->id) != 0 ||
            (names && strcmp(x->display_name, y->display_name) != 0))
            return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input_t in = {data, size};
    uint8_t flags = fuzz_byte(&in);
    size_t len;
    const char *rest = fuzz_rest(&in, &len);
    char *body = fuzz_dup(rest, len);
    const char *expected = flags & FLAG_EXPECT_OWNER ? OWNER_ID : NULL;
    acl_resolve_fn resolver = flags & FLAG_NO_RESOLVER ? NULL : resolve;
    acl_t *acl = malloc(sizeof(*acl)), *again = malloc(sizeof(*again)); /* 14 KB each: on the heap, where ASan guards them */
    const char *message = NULL;
    if (acl == NULL || again == NULL)
        abort();

    acl_err_t err = acl_parse_xml(body, len, expected, resolver, NULL, acl, &message);
    if (err != ACL_OK) {
        if (message == NULL || authz_acl_error(err) == S3ERR_NONE)
            abort();
        goto Exit;
    }
    check_contract(acl);
    if (expected != NULL && strcmp(acl->owner_id, expected) != 0)
        abort();
    acl_permissions(acl, NULL);
    acl_permissions(acl, OWNER_ID);
    acl_private_permissions(acl, OWNER_ID);
    acl_is_public(acl);

    /* the stored form */
    uint8_t *enc = malloc(ACL_ENCODED_MAX);
    char owner[ACL_ID_MAX + 1];
    if (enc == NULL)
        abort();
    size_t enc_len = acl_encode(acl, enc, ACL_ENCODED_MAX);
    if (enc_len > ACL_ENCODED_MAX || acl_decode(enc, enc_len, again) != 0 || !same_acl(acl, again, 1) ||
        acl_decode_owner(enc, enc_len, owner) != 0 || strcmp(owner, acl->owner_id) != 0)
        abort();
    free(enc);

    /* GetBucketAcl's answer, put back as it was read (the names come from the resolver again) */
    xmlw_t w;
    xmlw_init(&w);
    acl_write_xml(&w, acl);
    if (acl_parse_xml(w.buf, w.len, expected, resolver, NULL, again, &message) != ACL_OK || !same_acl(acl, again, 0))
        abort();
    xmlw_free(&w);
Exit:
    free(again);
    free(acl);
    free(body);
    return 0;
}
