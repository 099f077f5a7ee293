/* tests/fuzz/fuzz_policy.c -- bucket policy documents (PutBucketPolicy bodies), parsed and evaluated.
 *
 * DESIGN: the first byte holds flags ('0'..'7' in the seeds), then come text lines and the document:
 *   line 1  the bucket the policy is put on
 *   line 2  the action a request is authorized as ("s3:GetObject")
 *   line 3  the key it names (the resource is the bucket itself when the line is empty)
 *   line 4  the requester's user name (anonymous when empty; its canonical id is fixed)
 *   line 5  the requester's address (aws:SourceIp), also a variable's value in ${aws:SourceIp}
 *   rest    the policy document, any bytes
 *   bit 0   the policy is parsed as one the server stored earlier (policy_parse_stored), as the
 *           server reads it back, instead of as PutBucketPolicy takes it (policy_parse)
 *   bit 1   an s3:prefix and an s3:max-keys in the request's condition keys too
 *   bit 2   the ${aws:username} and ${aws:userid} the context gives win over the requester's own
 * Seeds are AWS's documented example policies (public read, IP conditions, the deny-HTTP policy,
 * per-user home folders with variables, NotPrincipal) and tests/unit/test_policy.c's malformed ones.
 * Beyond the sanitizers: a refused document comes with a one-line reason; a document policy_parse
 * takes, policy_parse_stored takes too and decides the same; and the decision is one of the three. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/policy.h"
#include "tests/fuzz/fuzz_input.h"

#define FLAG_STORED 1
#define FLAG_LISTING_KEYS 2
#define FLAG_CONTEXT_USER 4

#define USER_ID "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"

static policy_decision_t evaluate(const policy_t *p, const policy_request_t *req)
{
    policy_decision_t d = policy_evaluate(p, req);
    if (d != POLICY_NONE && d != POLICY_ALLOW && d != POLICY_DENY)
        abort();
    return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input_t in = {data, size};
    uint8_t flags = fuzz_byte(&in);
    size_t bucket_len, action_len, key_len, user_len, addr_len, doc_len;
    const char *b = fuzz_line(&in, &bucket_len), *a = fuzz_line(&in, &action_len), *k = fuzz_line(&in, &key_len);
    const char *u = fuzz_line(&in, &user_len), *ip = fuzz_line(&in, &addr_len), *d = fuzz_rest(&in, &doc_len);
    char *bucket = fuzz_strdup(b, bucket_len), *action = fuzz_strdup(a, action_len), *user = fuzz_strdup(u, user_len);
    char *addr = fuzz_strdup(ip, addr_len), *doc = fuzz_dup(d, doc_len);
    char *resource = malloc(13 + bucket_len + 1 + key_len);
    if (resource == NULL)
        abort();
    size_t resource_len = 13 + bucket_len;
    memcpy(resource, "arn:aws:s3:::", 13);
    memcpy(resource + 13, bucket, bucket_len);
    if (key_len != 0) {
        resource[resource_len++] = '/';
        memcpy(resource + resource_len, k, key_len);
        resource_len += key_len;
    }

    policy_t *p = NULL, *stored = NULL;
    char err[256];
    int stored_only = (flags & FLAG_STORED) != 0;
    int ret = stored_only ? policy_parse_stored(doc, doc_len, bucket, &p, err, sizeof(err))
                          : policy_parse(doc, doc_len, bucket, &p, err, sizeof(err));
    if (ret != 0) {
        if (p != NULL || strnlen(err, sizeof(err)) == 0 || strnlen(err, sizeof(err)) == sizeof(err) || strchr(err, '\n') != NULL)
            abort();
        goto Exit;
    }
    if (!stored_only && policy_parse_stored(doc, doc_len, bucket, &stored, err, sizeof(err)) != 0)
        abort(); /* what PutBucketPolicy took, the server must read back */

    policy_kv_t ctx[6];
    size_t num_ctx = 0;
    ctx[num_ctx++] = (policy_kv_t){"aws:SourceIp", addr};
    ctx[num_ctx++] = (policy_kv_t){"aws:SecureTransport", "false"};
    if (flags & FLAG_LISTING_KEYS) {
        ctx[num_ctx++] = (policy_kv_t){"s3:prefix", user};
        ctx[num_ctx++] = (policy_kv_t){"s3:max-keys", addr};
    }
    if (flags & FLAG_CONTEXT_USER) {
        ctx[num_ctx++] = (policy_kv_t){"aws:username", addr};
        ctx[num_ctx++] = (policy_kv_t){"aws:userid", user};
    }
    policy_request_t req = {
        .action = action,
        .resource = resource,
        .resource_len = resource_len,
        .anonymous = user_len == 0,
        .user_name = user_len != 0 ? user : NULL,
        .canonical_id = user_len != 0 ? USER_ID : NULL,
        .ctx = ctx,
        .num_ctx = num_ctx,
    };
    policy_decision_t decision = evaluate(p, &req);
    if (stored != NULL && evaluate(stored, &req) != decision)
        abort();
    policy_is_public(p);

Exit:
    policy_free(stored);
    policy_free(p);
    free(resource);
    free(doc);
    free(addr);
    free(user);
    free(action);
    free(bucket);
    return 0;
}
