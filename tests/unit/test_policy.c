/* tests/unit/test_policy.c -- bucket policies (auth/policy.c): a table of (policy, request) ->
 * decision cases over principals, actions, resources, every condition operator family and policy
 * variables; a table of malformed documents that PutBucketPolicy must refuse; a table of action
 * names and patterns, known and unknown, and the list of known actions itself; policy_is_public;
 * the size limit; and wildcard patterns built to make a naive matcher backtrack exponentially. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/policy.h"

#define BUCKET "photos"
#define ALICE_ID "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"
#define ALICE_ID_UPPER "79A59DF900B949E55D96A1E698FBACEDFD6E09D98EACF8F8D5218E7CD47EF2BE"
#define BOB_ID "1111111111111111111111111111111111111111111111111111111111111111"
#define ROOT_ID "2222222222222222222222222222222222222222222222222222222222222222"
#define STAR_ID "3333333333333333333333333333333333333333333333333333333333333333"

/* JSON building blocks: Q quotes, P12/P08/P00 wrap statements in a document of that Version (P00: none). */
#define Q(s) "\"" s "\""
#define JOIN1(a) a
#define JOIN2(a, b) a "," b
#define PICK(_1, _2, name, ...) name
#define STATEMENTS(...) PICK(__VA_ARGS__, JOIN2, JOIN1, none)(__VA_ARGS__)
#define P12(...) "{\"Version\":\"2012-10-17\",\"Statement\":[" STATEMENTS(__VA_ARGS__) "]}"
#define P08(...) "{\"Version\":\"2008-10-17\",\"Statement\":[" STATEMENTS(__VA_ARGS__) "]}"
#define P00(...) "{\"Statement\":[" STATEMENTS(__VA_ARGS__) "]}"
#define STMT(effect, principal, action, resource)                                                                                  \
    "{\"Effect\":\"" effect "\",\"Principal\":" principal ",\"Action\":" action ",\"Resource\":" resource "}"
#define STMT_IF(effect, principal, action, resource, cond)                                                                         \
    "{\"Effect\":\"" effect "\",\"Principal\":" principal ",\"Action\":" action ",\"Resource\":" resource ",\"Condition\":" cond "}"
#define ALLOW(principal, action, resource) STMT("Allow", principal, action, resource)
#define DENY(principal, action, resource) STMT("Deny", principal, action, resource)
#define ALLOW_IF(principal, action, resource, cond) STMT_IF("Allow", principal, action, resource, cond)
#define DENY_IF(principal, action, resource, cond) STMT_IF("Deny", principal, action, resource, cond)
#define COND(op, key, value) "{\"" op "\":{\"" key "\":" value "}}"
/* Anyone may ListBucket when the condition holds: the shape of most condition cases. */
#define LIST_IF(cond) P12(ALLOW_IF(ANYONE, LIST, BUCKET_ARN, cond))

#define ANYONE Q("*")
#define AWS(x) "{\"AWS\":" x "}"
#define USER_ARN(name) "arn:aws:iam::123456789012:user/" name
#define ALICE AWS(Q(USER_ARN("alice")))
#define BUCKET_ARN Q("arn:aws:s3:::" BUCKET)
#define OBJECTS Q("arn:aws:s3:::" BUCKET "/*")
#define OBJ(path) Q("arn:aws:s3:::" BUCKET "/" path)
#define GET Q("s3:GetObject")
#define LIST Q("s3:ListBucket")

typedef enum who { ANON, AS_ALICE, AS_BOB, AS_ROOT, AS_STAR } who_t;

typedef struct eval_case {
    const char *name;
    const char *policy;
    who_t who;
    const char *action;
    const char *key; /* NULL: the bucket itself */
    policy_kv_t ctx[3];
    policy_decision_t want;
} eval_case_t;

#define NO_CTX                                                                                                                     \
    {                                                                                                                              \
        {                                                                                                                          \
            0                                                                                                                      \
        }                                                                                                                          \
    }
#define CTX1(k, v)                                                                                                                 \
    {                                                                                                                              \
        {                                                                                                                          \
            k, v                                                                                                                   \
        }                                                                                                                          \
    }
#define CTX2(k1, v1, k2, v2)                                                                                                       \
    {                                                                                                                              \
        {k1, v1},                                                                                                                  \
        {                                                                                                                          \
            k2, v2                                                                                                                 \
        }                                                                                                                          \
    }

static const eval_case_t eval_cases[] = {
    /* ---- principals */
    {"\"*\" allows anonymous", P12(ALLOW(ANYONE, GET, OBJECTS)), ANON, "s3:GetObject", "a.txt", NO_CTX, POLICY_ALLOW},
    {"{\"AWS\":\"*\"} allows anonymous", P12(ALLOW(AWS(ANYONE), GET, OBJECTS)), ANON, "s3:GetObject", "a.txt", NO_CTX,
     POLICY_ALLOW},
    {"\"*\" allows a user", P12(ALLOW(ANYONE, GET, OBJECTS)), AS_BOB, "s3:GetObject", "a.txt", NO_CTX, POLICY_ALLOW},
    {"user ARN: that user", P12(ALLOW(ALICE, GET, OBJECTS)), AS_ALICE, "s3:GetObject", "a", NO_CTX, POLICY_ALLOW},
    {"user ARN: another user", P12(ALLOW(ALICE, GET, OBJECTS)), AS_BOB, "s3:GetObject", "a", NO_CTX, POLICY_NONE},
    {"user ARN: anonymous", P12(ALLOW(ALICE, GET, OBJECTS)), ANON, "s3:GetObject", "a", NO_CTX, POLICY_NONE},
    {"user ARN: any account id", P12(ALLOW(AWS(Q("arn:aws:iam::999999999999:user/alice")), GET, OBJECTS)), AS_ALICE, "s3:GetObject",
     "a", NO_CTX, POLICY_ALLOW},
    {"user ARN: names compare exactly", P12(ALLOW(AWS(Q(USER_ARN("Alice"))), GET, OBJECTS)), AS_ALICE, "s3:GetObject", "a", NO_CTX,
     POLICY_NONE},
    {"array of user ARNs", P12(ALLOW(AWS("[" Q(USER_ARN("bob")) "," Q(USER_ARN("alice")) "]"), GET, OBJECTS)), AS_ALICE,
     "s3:GetObject", "a", NO_CTX, POLICY_ALLOW},
    {"account root ARN: root", P12(ALLOW(AWS(Q("arn:aws:iam::123456789012:root")), GET, OBJECTS)), AS_ROOT, "s3:GetObject", "a",
     NO_CTX, POLICY_ALLOW},
    {"account root ARN: not alice", P12(ALLOW(AWS(Q("arn:aws:iam::123456789012:root")), GET, OBJECTS)), AS_ALICE, "s3:GetObject",
     "a", NO_CTX, POLICY_NONE},
    {"bare account id: root", P12(ALLOW(AWS(Q("123456789012")), GET, OBJECTS)), AS_ROOT, "s3:GetObject", "a", NO_CTX, POLICY_ALLOW},
    {"canonical id under AWS", P12(ALLOW(AWS(Q(ALICE_ID)), GET, OBJECTS)), AS_ALICE, "s3:GetObject", "a", NO_CTX, POLICY_ALLOW},
    {"CanonicalUser", P12(ALLOW("{\"CanonicalUser\":" Q(ALICE_ID) "}", GET, OBJECTS)), AS_ALICE, "s3:GetObject", "a", NO_CTX,
     POLICY_ALLOW},
    {"CanonicalUser in upper case", P12(ALLOW("{\"CanonicalUser\":" Q(ALICE_ID_UPPER) "}", GET, OBJECTS)), AS_ALICE, "s3:GetObject",
     "a", NO_CTX, POLICY_ALLOW},
    {"CanonicalUser: not bob", P12(ALLOW("{\"CanonicalUser\":" Q(ALICE_ID) "}", GET, OBJECTS)), AS_BOB, "s3:GetObject", "a", NO_CTX,
     POLICY_NONE},
    {"Service principal matches no Coffer caller", P12(ALLOW("{\"Service\":\"cloudfront.amazonaws.com\"}", GET, OBJECTS)), AS_ALICE,
     "s3:GetObject", "a", NO_CTX, POLICY_NONE},
    {"NotPrincipal Deny: anonymous",
     P12("{\"Effect\":\"Deny\",\"NotPrincipal\":" ALICE ",\"Action\":\"s3:*\",\"Resource\":" OBJECTS "}"), ANON, "s3:GetObject",
     "a", NO_CTX, POLICY_DENY},
    {"NotPrincipal Deny: another user",
     P12("{\"Effect\":\"Deny\",\"NotPrincipal\":" ALICE ",\"Action\":\"s3:*\",\"Resource\":" OBJECTS "}"), AS_BOB, "s3:GetObject",
     "a", NO_CTX, POLICY_DENY},
    {"NotPrincipal Deny: the listed user",
     P12("{\"Effect\":\"Deny\",\"NotPrincipal\":" ALICE ",\"Action\":\"s3:*\",\"Resource\":" OBJECTS "}"), AS_ALICE, "s3:GetObject",
     "a", NO_CTX, POLICY_NONE},
    {"NotPrincipal \"*\" is no one",
     P12("{\"Effect\":\"Deny\",\"NotPrincipal\":" AWS(ANYONE) ",\"Action\":\"s3:*\",\"Resource\":" OBJECTS "}"), ANON,
     "s3:GetObject", "a", NO_CTX, POLICY_NONE},

    /* ---- actions */
    {"s3:* matches any S3 action", P12(ALLOW(ALICE, Q("s3:*"), OBJECTS)), AS_ALICE, "s3:PutObject", "a", NO_CTX, POLICY_ALLOW},
    {"\"*\" matches any action", P12(ALLOW(ALICE, Q("*"), OBJECTS)), AS_ALICE, "s3:DeleteObject", "a", NO_CTX, POLICY_ALLOW},
    {"s3:Get* matches GetObjectTagging", P12(ALLOW(ALICE, Q("s3:Get*"), OBJECTS)), AS_ALICE, "s3:GetObjectTagging", "a", NO_CTX,
     POLICY_ALLOW},
    {"s3:Get* does not match PutObject", P12(ALLOW(ALICE, Q("s3:Get*"), OBJECTS)), AS_ALICE, "s3:PutObject", "a", NO_CTX,
     POLICY_NONE},
    {"actions ignore case", P12(ALLOW(ALICE, Q("S3:getobject"), OBJECTS)), AS_ALICE, "s3:GetObject", "a", NO_CTX, POLICY_ALLOW},
    {"'?' in an action", P12(ALLOW(ALICE, Q("s3:?etObject"), OBJECTS)), AS_ALICE, "s3:GetObject", "a", NO_CTX, POLICY_ALLOW},
    {"action list", P12(ALLOW(ALICE, "[\"s3:PutObject\",\"s3:GetObject\"]", OBJECTS)), AS_ALICE, "s3:GetObject", "a", NO_CTX,
     POLICY_ALLOW},
    {"NotAction: an action not listed",
     P12("{\"Effect\":\"Allow\",\"Principal\":" ALICE ",\"NotAction\":\"s3:Delete*\",\"Resource\":" OBJECTS "}"), AS_ALICE,
     "s3:GetObject", "a", NO_CTX, POLICY_ALLOW},
    {"NotAction: a listed action",
     P12("{\"Effect\":\"Allow\",\"Principal\":" ALICE ",\"NotAction\":\"s3:Delete*\",\"Resource\":" OBJECTS "}"), AS_ALICE,
     "s3:DeleteObject", "a", NO_CTX, POLICY_NONE},

    /* ---- resources */
    {"bucket ARN does not cover objects", P12(ALLOW(ANYONE, "\"s3:*\"", BUCKET_ARN)), ANON, "s3:GetObject", "a", NO_CTX,
     POLICY_NONE},
    {"bucket ARN covers ListBucket", P12(ALLOW(ANYONE, LIST, BUCKET_ARN)), ANON, "s3:ListBucket", NULL, NO_CTX, POLICY_ALLOW},
    {"bucket/* does not cover the bucket", P12(ALLOW(ANYONE, "\"s3:*\"", OBJECTS)), ANON, "s3:ListBucket", NULL, NO_CTX,
     POLICY_NONE},
    {"'*' spans '/'", P12(ALLOW(ANYONE, GET, OBJ("public/*"))), ANON, "s3:GetObject", "public/a/b.jpg", NO_CTX, POLICY_ALLOW},
    {"prefix resource: another prefix", P12(ALLOW(ANYONE, GET, OBJ("public/*"))), ANON, "s3:GetObject", "private/a", NO_CTX,
     POLICY_NONE},
    {"resources are case-sensitive", P12(ALLOW(ANYONE, GET, OBJ("Public/*"))), ANON, "s3:GetObject", "public/a", NO_CTX,
     POLICY_NONE},
    {"wildcard in the middle", P12(ALLOW(ANYONE, GET, OBJ("*/thumbs/*.jpg"))), ANON, "s3:GetObject", "2024/05/thumbs/x.jpg", NO_CTX,
     POLICY_ALLOW},
    {"'?' is one UTF-8 character", P12(ALLOW(ANYONE, GET, OBJ("?.txt"))), ANON, "s3:GetObject", "\xe6\x96\x87.txt", NO_CTX,
     POLICY_ALLOW},
    {"'?' is not two characters", P12(ALLOW(ANYONE, GET, OBJ("?.txt"))), ANON, "s3:GetObject", "ab.txt", NO_CTX, POLICY_NONE},
    {"key bytes that are not UTF-8", P12(ALLOW(ANYONE, GET, OBJ("bad*key"))), ANON, "s3:GetObject", "bad\xff\xfekey", NO_CTX,
     POLICY_ALLOW},
    {"arn:aws:s3:::* names this bucket too", P12(ALLOW(ANYONE, GET, Q("arn:aws:s3:::*"))), ANON, "s3:GetObject", "a", NO_CTX,
     POLICY_ALLOW},
    {"resource list", P12(ALLOW(ANYONE, "\"s3:*\"", "[" BUCKET_ARN "," OBJ("docs/*") "]")), ANON, "s3:GetObject", "docs/x", NO_CTX,
     POLICY_ALLOW},
    {"NotResource Deny: outside the listed",
     P12(ALLOW(ANYONE, GET, OBJECTS),
         "{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"NotResource\":" OBJ("public/*") "}"),
     ANON, "s3:GetObject", "private/x", NO_CTX, POLICY_DENY},
    {"NotResource Deny: inside the listed",
     P12(ALLOW(ANYONE, GET, OBJECTS),
         "{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"NotResource\":" OBJ("public/*") "}"),
     ANON, "s3:GetObject", "public/x", NO_CTX, POLICY_ALLOW},

    /* ---- Deny over Allow */
    {"Deny beats Allow", P12(ALLOW(ANYONE, "\"s3:*\"", OBJECTS), DENY(ANYONE, Q("s3:DeleteObject"), OBJECTS)), AS_ALICE,
     "s3:DeleteObject", "a", NO_CTX, POLICY_DENY},
    {"Deny first, Allow second", P12(DENY(ANYONE, Q("s3:DeleteObject"), OBJECTS), ALLOW(ANYONE, "\"s3:*\"", OBJECTS)), AS_ALICE,
     "s3:DeleteObject", "a", NO_CTX, POLICY_DENY},
    {"an unrelated Deny leaves the Allow", P12(ALLOW(ANYONE, "\"s3:*\"", OBJECTS), DENY(ANYONE, Q("s3:DeleteObject"), OBJECTS)),
     AS_ALICE, "s3:GetObject", "a", NO_CTX, POLICY_ALLOW},
    {"a Deny for someone else", P12(ALLOW(ANYONE, GET, OBJECTS), DENY(ALICE, GET, OBJECTS)), AS_BOB, "s3:GetObject", "a", NO_CTX,
     POLICY_ALLOW},
    {"a Deny to \"*\" holds for root", P12(ALLOW(ANYONE, GET, OBJECTS), DENY(ANYONE, GET, OBJ("locked/*"))), AS_ROOT,
     "s3:GetObject", "locked/a", NO_CTX, POLICY_DENY},
    {"a Deny to the account root ARN holds for root",
     P12(DENY(AWS(Q("arn:aws:iam::123456789012:root")), Q("s3:PutObject"), OBJECTS)), AS_ROOT, "s3:PutObject", "a", NO_CTX,
     POLICY_DENY},
    {"a Deny to the account root ARN is not for alice",
     P12(DENY(AWS(Q("arn:aws:iam::123456789012:root")), Q("s3:PutObject"), OBJECTS)), AS_ALICE, "s3:PutObject", "a", NO_CTX,
     POLICY_NONE},
    {"a Deny to root's user ARN", P12(DENY(AWS(Q(USER_ARN("root"))), Q("s3:DeleteObject"), OBJECTS)), AS_ROOT, "s3:DeleteObject",
     "a", NO_CTX, POLICY_DENY},
    {"a Deny for root whose condition holds",
     P12(DENY_IF(ANYONE, GET, OBJECTS, COND("IpAddress", "aws:SourceIp", Q("127.0.0.0/8")))), AS_ROOT, "s3:GetObject", "a",
     CTX1("aws:SourceIp", "127.0.0.1"), POLICY_DENY},
    {"a Deny for root whose condition does not hold",
     P12(DENY_IF(ANYONE, GET, OBJECTS, COND("IpAddress", "aws:SourceIp", Q("10.0.0.0/8")))), AS_ROOT, "s3:GetObject", "a",
     CTX1("aws:SourceIp", "127.0.0.1"), POLICY_NONE},
    {"a single statement object", "{\"Version\":\"2012-10-17\",\"Statement\":" DENY(ANYONE, GET, OBJECTS) "}", ANON, "s3:GetObject",
     "a", NO_CTX, POLICY_DENY},

    /* ---- String operators */
    {"StringEquals", LIST_IF(COND("StringEquals", "s3:prefix", Q("home/"))), ANON, "s3:ListBucket", NULL,
     CTX1("s3:prefix", "home/"), POLICY_ALLOW},
    {"StringEquals: other value", LIST_IF(COND("StringEquals", "s3:prefix", Q("home/"))), ANON, "s3:ListBucket", NULL,
     CTX1("s3:prefix", "home/x"), POLICY_NONE},
    {"StringEquals: missing key", LIST_IF(COND("StringEquals", "s3:prefix", Q("home/"))), ANON, "s3:ListBucket", NULL, NO_CTX,
     POLICY_NONE},
    {"StringEquals is case-sensitive", LIST_IF(COND("StringEquals", "s3:prefix", Q("HOME/"))), ANON, "s3:ListBucket", NULL,
     CTX1("s3:prefix", "home/"), POLICY_NONE},
    {"StringEquals: any of the values", LIST_IF(COND("StringEquals", "s3:prefix", "[\"a/\",\"home/\"]")), ANON, "s3:ListBucket",
     NULL, CTX1("s3:prefix", "home/"), POLICY_ALLOW},
    {"StringEquals: '*' is literal", LIST_IF(COND("StringEquals", "s3:prefix", Q("home/*"))), ANON, "s3:ListBucket", NULL,
     CTX1("s3:prefix", "home/x"), POLICY_NONE},
    {"StringNotEquals: missing key holds", LIST_IF(COND("StringNotEquals", "s3:prefix", Q("secret/"))), ANON, "s3:ListBucket", NULL,
     NO_CTX, POLICY_ALLOW},
    {"StringNotEquals: a listed value", LIST_IF(COND("StringNotEquals", "s3:prefix", "[\"a/\",\"b/\"]")), ANON, "s3:ListBucket",
     NULL, CTX1("s3:prefix", "b/"), POLICY_NONE},
    {"StringNotEquals: none of the values", LIST_IF(COND("StringNotEquals", "s3:prefix", "[\"a/\",\"b/\"]")), ANON, "s3:ListBucket",
     NULL, CTX1("s3:prefix", "c/"), POLICY_ALLOW},
    {"StringEqualsIgnoreCase", LIST_IF(COND("StringEqualsIgnoreCase", "s3:prefix", Q("HOME/"))), ANON, "s3:ListBucket", NULL,
     CTX1("s3:prefix", "home/"), POLICY_ALLOW},
    {"StringNotEqualsIgnoreCase", LIST_IF(COND("StringNotEqualsIgnoreCase", "s3:prefix", Q("HOME/"))), ANON, "s3:ListBucket", NULL,
     CTX1("s3:prefix", "home/"), POLICY_NONE},
    {"StringLike", LIST_IF(COND("StringLike", "s3:prefix", Q("home/*"))), ANON, "s3:ListBucket", NULL,
     CTX1("s3:prefix", "home/alice/x"), POLICY_ALLOW},
    {"StringLike: '?'", LIST_IF(COND("StringLike", "s3:delimiter", Q("?"))), ANON, "s3:ListBucket", NULL, CTX1("s3:delimiter", "/"),
     POLICY_ALLOW},
    {"StringNotLike: matching value", LIST_IF(COND("StringNotLike", "s3:prefix", Q("secret*"))), ANON, "s3:ListBucket", NULL,
     CTX1("s3:prefix", "secret/x"), POLICY_NONE},
    {"StringNotLike: other value", LIST_IF(COND("StringNotLike", "s3:prefix", Q("secret*"))), ANON, "s3:ListBucket", NULL,
     CTX1("s3:prefix", "public/"), POLICY_ALLOW},
    {"StringEqualsIfExists: missing key", LIST_IF(COND("StringEqualsIfExists", "s3:prefix", Q("home/"))), ANON, "s3:ListBucket",
     NULL, NO_CTX, POLICY_ALLOW},
    {"StringEqualsIfExists: other value", LIST_IF(COND("StringEqualsIfExists", "s3:prefix", Q("home/"))), ANON, "s3:ListBucket",
     NULL, CTX1("s3:prefix", "x/"), POLICY_NONE},
    {"StringLikeIfExists: matching value", LIST_IF(COND("StringLikeIfExists", "s3:prefix", Q("home/*"))), ANON, "s3:ListBucket",
     NULL, CTX1("s3:prefix", "home/a"), POLICY_ALLOW},
    {"condition key names ignore case (policy)", LIST_IF(COND("StringEquals", "S3:PREFIX", Q("home/"))), ANON, "s3:ListBucket",
     NULL, CTX1("s3:prefix", "home/"), POLICY_ALLOW},
    {"condition key names ignore case (context)", LIST_IF(COND("StringEquals", "s3:prefix", Q("home/"))), ANON, "s3:ListBucket",
     NULL, CTX1("S3:Prefix", "home/"), POLICY_ALLOW},
    {"keys of one operator AND: one missing", LIST_IF("{\"StringEquals\":{\"s3:prefix\":\"a/\",\"s3:delimiter\":\"/\"}}"), ANON,
     "s3:ListBucket", NULL, CTX1("s3:prefix", "a/"), POLICY_NONE},
    {"keys of one operator AND: both", LIST_IF("{\"StringEquals\":{\"s3:prefix\":\"a/\",\"s3:delimiter\":\"/\"}}"), ANON,
     "s3:ListBucket", NULL, CTX2("s3:prefix", "a/", "s3:delimiter", "/"), POLICY_ALLOW},
    {"operators AND", LIST_IF("{\"StringLike\":{\"s3:prefix\":\"a/*\"},\"NumericLessThanEquals\":{\"s3:max-keys\":\"100\"}}"), ANON,
     "s3:ListBucket", NULL, CTX2("s3:prefix", "a/b", "s3:max-keys", "1000"), POLICY_NONE},
    {"ForAnyValue: missing key fails", LIST_IF(COND("ForAnyValue:StringEquals", "s3:prefix", Q("a/"))), ANON, "s3:ListBucket", NULL,
     NO_CTX, POLICY_NONE},
    {"ForAnyValue: present and equal", LIST_IF(COND("ForAnyValue:StringEquals", "s3:prefix", Q("a/"))), ANON, "s3:ListBucket", NULL,
     CTX1("s3:prefix", "a/"), POLICY_ALLOW},
    {"ForAllValues: missing key holds", LIST_IF(COND("ForAllValues:StringEquals", "s3:prefix", Q("a/"))), ANON, "s3:ListBucket",
     NULL, NO_CTX, POLICY_ALLOW},
    {"ForAllValues: other value", LIST_IF(COND("ForAllValues:StringEquals", "s3:prefix", Q("a/"))), ANON, "s3:ListBucket", NULL,
     CTX1("s3:prefix", "b/"), POLICY_NONE},
    {"ForAnyValue negated: missing key fails", LIST_IF(COND("ForAnyValue:StringNotEquals", "s3:prefix", Q("a/"))), ANON,
     "s3:ListBucket", NULL, NO_CTX, POLICY_NONE},
    {"BinaryEquals compares the base64 text", LIST_IF(COND("BinaryEquals", "s3:x-amz-meta-k", Q("QmluYXJ5"))), ANON,
     "s3:ListBucket", NULL, CTX1("s3:x-amz-meta-k", "QmluYXJ5"), POLICY_ALLOW},

    /* ---- Numeric operators */
    {"NumericLessThanEquals", LIST_IF(COND("NumericLessThanEquals", "s3:max-keys", Q("100"))), ANON, "s3:ListBucket", NULL,
     CTX1("s3:max-keys", "10"), POLICY_ALLOW},
    {"NumericLessThan: equal fails", LIST_IF(COND("NumericLessThan", "s3:max-keys", Q("100"))), ANON, "s3:ListBucket", NULL,
     CTX1("s3:max-keys", "100"), POLICY_NONE},
    {"NumericGreaterThan: decimals", LIST_IF(COND("NumericGreaterThan", "s3:max-keys", Q("10"))), ANON, "s3:ListBucket", NULL,
     CTX1("s3:max-keys", "10.5"), POLICY_ALLOW},
    {"NumericGreaterThanEquals: equal", LIST_IF(COND("NumericGreaterThanEquals", "s3:max-keys", Q("10"))), ANON, "s3:ListBucket",
     NULL, CTX1("s3:max-keys", "10"), POLICY_ALLOW},
    {"NumericEquals: 5.50 is 5.5", LIST_IF(COND("NumericEquals", "s3:max-keys", Q("5.50"))), ANON, "s3:ListBucket", NULL,
     CTX1("s3:max-keys", "5.5"), POLICY_ALLOW},
    {"NumericEquals: a JSON number", LIST_IF(COND("NumericEquals", "s3:max-keys", "10")), ANON, "s3:ListBucket", NULL,
     CTX1("s3:max-keys", "10"), POLICY_ALLOW},
    {"NumericEquals: negative and exponent", LIST_IF(COND("NumericEquals", "s3:max-keys", Q("-1.5e2"))), ANON, "s3:ListBucket",
     NULL, CTX1("s3:max-keys", "-150"), POLICY_ALLOW},
    {"NumericNotEquals", LIST_IF(COND("NumericNotEquals", "s3:max-keys", Q("5"))), ANON, "s3:ListBucket", NULL,
     CTX1("s3:max-keys", "6"), POLICY_ALLOW},
    {"NumericNotEquals: missing key holds", LIST_IF(COND("NumericNotEquals", "s3:max-keys", Q("5"))), ANON, "s3:ListBucket", NULL,
     NO_CTX, POLICY_ALLOW},
    {"NumericEquals: malformed request value", LIST_IF(COND("NumericEquals", "s3:max-keys", Q("10"))), ANON, "s3:ListBucket", NULL,
     CTX1("s3:max-keys", "ten"), POLICY_NONE},
    {"NumericNotEquals: malformed request value", LIST_IF(COND("NumericNotEquals", "s3:max-keys", Q("10"))), ANON, "s3:ListBucket",
     NULL, CTX1("s3:max-keys", "ten"), POLICY_ALLOW},
    {"NumericLessThan: missing key fails", LIST_IF(COND("NumericLessThan", "s3:max-keys", Q("100"))), ANON, "s3:ListBucket", NULL,
     NO_CTX, POLICY_NONE},
    {"NumericLessThanIfExists: missing key", LIST_IF(COND("NumericLessThanIfExists", "s3:max-keys", Q("100"))), ANON,
     "s3:ListBucket", NULL, NO_CTX, POLICY_ALLOW},

    /* ---- Date operators */
    {"DateLessThan", LIST_IF(COND("DateLessThan", "aws:CurrentTime", Q("2030-01-01T00:00:00Z"))), ANON, "s3:ListBucket", NULL,
     CTX1("aws:CurrentTime", "2025-06-01T12:00:00Z"), POLICY_ALLOW},
    {"DateGreaterThan", LIST_IF(COND("DateGreaterThan", "aws:CurrentTime", Q("2030-01-01T00:00:00Z"))), ANON, "s3:ListBucket", NULL,
     CTX1("aws:CurrentTime", "2025-06-01T12:00:00Z"), POLICY_NONE},
    {"DateEquals: epoch seconds against ISO 8601", LIST_IF(COND("DateEquals", "aws:CurrentTime", Q("1577836800"))), ANON,
     "s3:ListBucket", NULL, CTX1("aws:CurrentTime", "2020-01-01T00:00:00Z"), POLICY_ALLOW},
    {"DateLessThanEquals: zone offsets", LIST_IF(COND("DateLessThanEquals", "aws:CurrentTime", Q("2020-01-01T01:00:00+01:00"))),
     ANON, "s3:ListBucket", NULL, CTX1("aws:CurrentTime", "2020-01-01T00:00:00Z"), POLICY_ALLOW},
    {"DateGreaterThanEquals: epoch context, fractional policy",
     LIST_IF(COND("DateGreaterThanEquals", "aws:EpochTime", Q("2020-01-01T00:00:00.000Z"))), ANON, "s3:ListBucket", NULL,
     CTX1("aws:EpochTime", "1577836800"), POLICY_ALLOW},
    {"DateEquals: malformed request value", LIST_IF(COND("DateEquals", "aws:CurrentTime", Q("2020-01-01T00:00:00Z"))), ANON,
     "s3:ListBucket", NULL, CTX1("aws:CurrentTime", "yesterday"), POLICY_NONE},
    {"DateNotEquals: malformed request value", LIST_IF(COND("DateNotEquals", "aws:CurrentTime", Q("2020-01-01T00:00:00Z"))), ANON,
     "s3:ListBucket", NULL, CTX1("aws:CurrentTime", "yesterday"), POLICY_ALLOW},

    /* ---- Bool: the usual "deny plain HTTP" policy */
    {"Bool aws:SecureTransport false: HTTP denied",
     P12(ALLOW(ANYONE, GET, OBJECTS), DENY_IF(ANYONE, "\"s3:*\"", OBJECTS, COND("Bool", "aws:SecureTransport", Q("false")))), ANON,
     "s3:GetObject", "a", CTX1("aws:SecureTransport", "false"), POLICY_DENY},
    {"Bool aws:SecureTransport false: HTTPS allowed",
     P12(ALLOW(ANYONE, GET, OBJECTS), DENY_IF(ANYONE, "\"s3:*\"", OBJECTS, COND("Bool", "aws:SecureTransport", Q("false")))), ANON,
     "s3:GetObject", "a", CTX1("aws:SecureTransport", "true"), POLICY_ALLOW},
    {"Bool: missing key fails",
     P12(ALLOW(ANYONE, GET, OBJECTS), DENY_IF(ANYONE, "\"s3:*\"", OBJECTS, COND("Bool", "aws:SecureTransport", Q("false")))), ANON,
     "s3:GetObject", "a", NO_CTX, POLICY_ALLOW},
    {"Bool: JSON true, either case in the request", LIST_IF(COND("Bool", "aws:SecureTransport", "true")), ANON, "s3:ListBucket",
     NULL, CTX1("aws:SecureTransport", "TRUE"), POLICY_ALLOW},
    {"Bool: malformed request value", LIST_IF(COND("Bool", "aws:SecureTransport", Q("true"))), ANON, "s3:ListBucket", NULL,
     CTX1("aws:SecureTransport", "yes"), POLICY_NONE},

    /* ---- IpAddress, NotIpAddress */
    {"IpAddress: inside an IPv4 CIDR", LIST_IF(COND("IpAddress", "aws:SourceIp", Q("192.0.2.0/24"))), ANON, "s3:ListBucket", NULL,
     CTX1("aws:SourceIp", "192.0.2.77"), POLICY_ALLOW},
    {"IpAddress: outside an IPv4 CIDR", LIST_IF(COND("IpAddress", "aws:SourceIp", Q("192.0.2.0/24"))), ANON, "s3:ListBucket", NULL,
     CTX1("aws:SourceIp", "192.0.3.1"), POLICY_NONE},
    {"IpAddress: /20 boundary inside", LIST_IF(COND("IpAddress", "aws:SourceIp", Q("198.51.96.0/20"))), ANON, "s3:ListBucket", NULL,
     CTX1("aws:SourceIp", "198.51.111.255"), POLICY_ALLOW},
    {"IpAddress: /20 boundary outside", LIST_IF(COND("IpAddress", "aws:SourceIp", Q("198.51.96.0/20"))), ANON, "s3:ListBucket",
     NULL, CTX1("aws:SourceIp", "198.51.112.0"), POLICY_NONE},
    {"IpAddress: a bare address is /32", LIST_IF(COND("IpAddress", "aws:SourceIp", Q("203.0.113.5"))), ANON, "s3:ListBucket", NULL,
     CTX1("aws:SourceIp", "203.0.113.6"), POLICY_NONE},
    {"IpAddress: any of the ranges", LIST_IF(COND("IpAddress", "aws:SourceIp", "[\"10.0.0.0/8\",\"203.0.113.5\"]")), ANON,
     "s3:ListBucket", NULL, CTX1("aws:SourceIp", "203.0.113.5"), POLICY_ALLOW},
    {"IpAddress: IPv6 CIDR", LIST_IF(COND("IpAddress", "aws:SourceIp", Q("2001:db8::/32"))), ANON, "s3:ListBucket", NULL,
     CTX1("aws:SourceIp", "2001:db8:1::5"), POLICY_ALLOW},
    {"IpAddress: outside an IPv6 CIDR", LIST_IF(COND("IpAddress", "aws:SourceIp", Q("2001:db8::/32"))), ANON, "s3:ListBucket", NULL,
     CTX1("aws:SourceIp", "2001:db9::1"), POLICY_NONE},
    {"IpAddress: a bare IPv6 address is /128", LIST_IF(COND("IpAddress", "aws:SourceIp", Q("2001:db8::1"))), ANON, "s3:ListBucket",
     NULL, CTX1("aws:SourceIp", "2001:db8::1"), POLICY_ALLOW},
    {"IpAddress: IPv4 range, IPv6 client", LIST_IF(COND("IpAddress", "aws:SourceIp", Q("0.0.0.0/0"))), ANON, "s3:ListBucket", NULL,
     CTX1("aws:SourceIp", "2001:db8::1"), POLICY_NONE},
    {"IpAddress: IPv4-mapped client", LIST_IF(COND("IpAddress", "aws:SourceIp", Q("192.0.2.0/24"))), ANON, "s3:ListBucket", NULL,
     CTX1("aws:SourceIp", "::ffff:192.0.2.1"), POLICY_ALLOW},
    {"IpAddress: malformed request value", LIST_IF(COND("IpAddress", "aws:SourceIp", Q("0.0.0.0/0"))), ANON, "s3:ListBucket", NULL,
     CTX1("aws:SourceIp", "not-an-ip"), POLICY_NONE},
    {"NotIpAddress Deny: outside",
     P12(ALLOW(ANYONE, GET, OBJECTS), DENY_IF(ANYONE, "\"s3:*\"", OBJECTS, COND("NotIpAddress", "aws:SourceIp", Q("10.0.0.0/8")))),
     ANON, "s3:GetObject", "a", CTX1("aws:SourceIp", "192.0.2.1"), POLICY_DENY},
    {"NotIpAddress Deny: inside",
     P12(ALLOW(ANYONE, GET, OBJECTS), DENY_IF(ANYONE, "\"s3:*\"", OBJECTS, COND("NotIpAddress", "aws:SourceIp", Q("10.0.0.0/8")))),
     ANON, "s3:GetObject", "a", CTX1("aws:SourceIp", "10.1.2.3"), POLICY_ALLOW},
    {"NotIpAddress Deny: missing key",
     P12(ALLOW(ANYONE, GET, OBJECTS), DENY_IF(ANYONE, "\"s3:*\"", OBJECTS, COND("NotIpAddress", "aws:SourceIp", Q("10.0.0.0/8")))),
     ANON, "s3:GetObject", "a", NO_CTX, POLICY_DENY},
    {"NotIpAddress Deny: malformed request value",
     P12(ALLOW(ANYONE, GET, OBJECTS), DENY_IF(ANYONE, "\"s3:*\"", OBJECTS, COND("NotIpAddress", "aws:SourceIp", Q("10.0.0.0/8")))),
     ANON, "s3:GetObject", "a", CTX1("aws:SourceIp", "10.1.2.3.4"), POLICY_DENY},
    {"IpAddressIfExists: missing key", LIST_IF(COND("IpAddressIfExists", "aws:SourceIp", Q("10.0.0.0/8"))), ANON, "s3:ListBucket",
     NULL, NO_CTX, POLICY_ALLOW},

    /* ---- Null */
    {"Null true: key absent",
     P12(ALLOW(ANYONE, Q("s3:PutObject"), OBJECTS),
         DENY_IF(ANYONE, Q("s3:PutObject"), OBJECTS, COND("Null", "s3:x-amz-acl", Q("true")))),
     AS_BOB, "s3:PutObject", "a", NO_CTX, POLICY_DENY},
    {"Null true: key present",
     P12(ALLOW(ANYONE, Q("s3:PutObject"), OBJECTS),
         DENY_IF(ANYONE, Q("s3:PutObject"), OBJECTS, COND("Null", "s3:x-amz-acl", Q("true")))),
     AS_BOB, "s3:PutObject", "a", CTX1("s3:x-amz-acl", "private"), POLICY_ALLOW},
    {"Null false: key present", LIST_IF(COND("Null", "aws:Referer", "false")), ANON, "s3:ListBucket", NULL,
     CTX1("aws:Referer", "https://example.com/"), POLICY_ALLOW},
    {"Null false: key absent", LIST_IF(COND("Null", "aws:Referer", "false")), ANON, "s3:ListBucket", NULL, NO_CTX, POLICY_NONE},

    /* ---- Arn operators */
    {"ArnLike", LIST_IF(COND("ArnLike", "aws:SourceArn", Q("arn:aws:cloudfront::123456789012:distribution/*"))), ANON,
     "s3:ListBucket", NULL, CTX1("aws:SourceArn", "arn:aws:cloudfront::123456789012:distribution/E1"), POLICY_ALLOW},
    {"ArnEquals takes wildcards too", LIST_IF(COND("ArnEquals", "aws:SourceArn", Q("arn:aws:sns:*:123456789012:topic"))), ANON,
     "s3:ListBucket", NULL, CTX1("aws:SourceArn", "arn:aws:sns:eu-west-1:123456789012:topic"), POLICY_ALLOW},
    {"ArnNotEquals: missing key holds", LIST_IF(COND("ArnNotEquals", "aws:SourceArn", Q("arn:aws:sns:*:1:t"))), ANON,
     "s3:ListBucket", NULL, NO_CTX, POLICY_ALLOW},
    {"ArnNotLike: matching value", LIST_IF(COND("ArnNotLike", "aws:SourceArn", Q("arn:aws:sns:*"))), ANON, "s3:ListBucket", NULL,
     CTX1("aws:SourceArn", "arn:aws:sns:x:1:t"), POLICY_NONE},

    /* ---- policy variables */
    {"${aws:username} in a resource", P12(ALLOW(ANYONE, GET, OBJ("home/${aws:username}/*"))), AS_ALICE, "s3:GetObject",
     "home/alice/x", NO_CTX, POLICY_ALLOW},
    {"${aws:username}: another user's folder", P12(ALLOW(ANYONE, GET, OBJ("home/${aws:username}/*"))), AS_ALICE, "s3:GetObject",
     "home/bob/x", NO_CTX, POLICY_NONE},
    {"${aws:username}: an Allow does not apply to anonymous", P12(ALLOW(ANYONE, GET, OBJ("home/${aws:username}/*"))), ANON,
     "s3:GetObject", "home/alice/x", NO_CTX, POLICY_NONE},
    {"${aws:username}: a Deny that might apply does",
     P12(ALLOW(ANYONE, GET, OBJECTS), DENY(ANYONE, GET, OBJ("private/${aws:username}/*"))), ANON, "s3:GetObject", "private/x/y",
     NO_CTX, POLICY_DENY},
    {"${aws:username}: a Deny that cannot apply does not",
     P12(ALLOW(ANYONE, GET, OBJECTS), DENY(ANYONE, GET, OBJ("private/${aws:username}/*"))), ANON, "s3:GetObject", "public/x",
     NO_CTX, POLICY_ALLOW},
    {"a variable's value is literal: no match", P12(ALLOW(ANYONE, GET, OBJ("home/${aws:username}/*"))), AS_STAR, "s3:GetObject",
     "home/xyz/f", NO_CTX, POLICY_NONE},
    {"a variable's value is literal: match", P12(ALLOW(ANYONE, GET, OBJ("home/${aws:username}/*"))), AS_STAR, "s3:GetObject",
     "home/x*/f", NO_CTX, POLICY_ALLOW},
    {"Version 2008: no variables", P08(ALLOW(ANYONE, GET, OBJ("home/${aws:username}/*"))), AS_ALICE, "s3:GetObject", "home/alice/x",
     NO_CTX, POLICY_NONE},
    {"Version 2008: ${...} is text", P08(ALLOW(ANYONE, GET, OBJ("home/${aws:username}/*"))), AS_ALICE, "s3:GetObject",
     "home/${aws:username}/x", NO_CTX, POLICY_ALLOW},
    {"no Version: no variables", P00(ALLOW(ANYONE, GET, OBJ("home/${aws:username}/*"))), AS_ALICE, "s3:GetObject", "home/alice/x",
     NO_CTX, POLICY_NONE},
    {"variable in a condition value", LIST_IF(COND("StringLike", "s3:prefix", Q("home/${aws:username}/*"))), AS_ALICE,
     "s3:ListBucket", NULL, CTX1("s3:prefix", "home/alice/docs"), POLICY_ALLOW},
    {"variable in a condition value: another user", LIST_IF(COND("StringLike", "s3:prefix", Q("home/${aws:username}/*"))), AS_BOB,
     "s3:ListBucket", NULL, CTX1("s3:prefix", "home/alice/docs"), POLICY_NONE},
    {"${aws:userid} is the canonical id", P12(ALLOW(ANYONE, GET, OBJ("${aws:userid}/*"))), AS_ALICE, "s3:GetObject", ALICE_ID "/x",
     NO_CTX, POLICY_ALLOW},
    {"a context key as a variable", P12(ALLOW(ANYONE, GET, OBJ("by-ip/${aws:SourceIp}/*"))), ANON, "s3:GetObject",
     "by-ip/192.0.2.1/x", CTX1("aws:sourceip", "192.0.2.1"), POLICY_ALLOW},
    {"the context wins over the caller's name", P12(ALLOW(ANYONE, GET, OBJ("home/${aws:username}/*"))), AS_ALICE, "s3:GetObject",
     "home/alice/x", CTX1("aws:username", "carol"), POLICY_NONE},
    {"a variable's default value", P12(ALLOW(ANYONE, GET, OBJ("home/${aws:username, 'guest'}/*"))), ANON, "s3:GetObject",
     "home/guest/x", NO_CTX, POLICY_ALLOW},
    {"${?} and ${$} are literal", P12(ALLOW(ANYONE, GET, OBJ("q${?}${$}"))), ANON, "s3:GetObject", "q?$", NO_CTX, POLICY_ALLOW},
    {"${?} is not a wildcard", P12(ALLOW(ANYONE, GET, OBJ("q${?}${$}"))), ANON, "s3:GetObject", "qx$", NO_CTX, POLICY_NONE},
    {"${*} is literal", P12(ALLOW(ANYONE, GET, OBJ("a${*}b"))), ANON, "s3:GetObject", "a*b", NO_CTX, POLICY_ALLOW},
    {"${*} is not a wildcard", P12(ALLOW(ANYONE, GET, OBJ("a${*}b"))), ANON, "s3:GetObject", "axb", NO_CTX, POLICY_NONE},
    {"unresolved variable under a negated operator: Allow", LIST_IF(COND("StringNotEquals", "s3:prefix", Q("${aws:username}/"))),
     ANON, "s3:ListBucket", NULL, CTX1("s3:prefix", "x/"), POLICY_NONE},
    {"unresolved variable under a negated operator: Deny",
     P12(ALLOW(ANYONE, LIST, BUCKET_ARN),
         DENY_IF(ANYONE, LIST, BUCKET_ARN, COND("StringNotEquals", "s3:prefix", Q("${aws:username}/")))),
     ANON, "s3:ListBucket", NULL, CTX1("s3:prefix", "x/"), POLICY_DENY},

    /* ---- nothing applies */
    {"no statement applies", P12(ALLOW(ALICE, GET, OBJECTS)), AS_BOB, "s3:PutObject", "a", NO_CTX, POLICY_NONE},
};

static void make_request(const eval_case_t *c, policy_request_t *req, char *resource, size_t cap, size_t *num_ctx)
{
    static const struct {
        const char *name, *id;
    } users[] = {
        [AS_ALICE] = {"alice", ALICE_ID}, [AS_BOB] = {"bob", BOB_ID}, [AS_ROOT] = {"root", ROOT_ID}, [AS_STAR] = {"x*", STAR_ID}};
    int n =
        c->key ? snprintf(resource, cap, "arn:aws:s3:::" BUCKET "/%s", c->key) : snprintf(resource, cap, "arn:aws:s3:::" BUCKET);

    assert_true(n > 0 && (size_t)n < cap);
    memset(req, 0, sizeof(*req));
    req->action = c->action;
    req->resource = resource;
    req->resource_len = (size_t)n;
    req->anonymous = c->who == ANON;
    if (c->who != ANON) {
        req->user_name = users[c->who].name;
        req->canonical_id = users[c->who].id;
    }
    *num_ctx = 0;
    while (*num_ctx < 3 && c->ctx[*num_ctx].key != NULL)
        (*num_ctx)++;
    req->ctx = c->ctx;
    req->num_ctx = *num_ctx;
}

static const char *decision_name(policy_decision_t d)
{
    return d == POLICY_ALLOW ? "ALLOW" : d == POLICY_DENY ? "DENY" : "NONE";
}

static void test_evaluate(void **state)
{
    (void)state;
    size_t failed = 0;
    for (size_t i = 0; i < sizeof(eval_cases) / sizeof(eval_cases[0]); i++) {
        const eval_case_t *c = &eval_cases[i];
        policy_t *p = NULL;
        char err[256] = "";
        char resource[512];
        policy_request_t req;
        size_t num_ctx;
        if (policy_parse(c->policy, strlen(c->policy), BUCKET, &p, err, sizeof(err)) != 0) {
            print_error("case \"%s\": policy refused: %s\n", c->name, err);
            failed++;
            continue;
        }
        make_request(c, &req, resource, sizeof(resource), &num_ctx);
        policy_decision_t got = policy_evaluate(p, &req);
        if (got != c->want) {
            print_error("case \"%s\": got %s, want %s\n", c->name, decision_name(got), decision_name(c->want));
            failed++;
        }
        policy_free(p);
    }
    print_message("%zu evaluation cases\n", sizeof(eval_cases) / sizeof(eval_cases[0]));
    assert_int_equal(failed, 0);
}

typedef struct bad_case {
    const char *name;
    const char *policy;
    const char *message; /* a substring of the reason, or NULL */
} bad_case_t;

static const bad_case_t bad_cases[] = {
    {"not JSON", "{\"Version\":", "invalid Json"},
    {"an array", "[]", "invalid Json"},
    {"trailing garbage", P12(ALLOW(ANYONE, GET, OBJECTS)) "x", "invalid Json"},
    {"duplicate keys", "{\"Version\":\"2012-10-17\",\"Version\":\"2012-10-17\",\"Statement\":[" ALLOW(ANYONE, GET, OBJECTS) "]}",
     "invalid Json"},
    {"unknown top-level field", "{\"Version\":\"2012-10-17\",\"Foo\":1,\"Statement\":[" ALLOW(ANYONE, GET, OBJECTS) "]}",
     "Unknown field Foo"},
    {"unknown Version", "{\"Version\":\"2012-10-18\",\"Statement\":[" ALLOW(ANYONE, GET, OBJECTS) "]}", "valid version"},
    {"Version as a number", "{\"Version\":2012,\"Statement\":[" ALLOW(ANYONE, GET, OBJECTS) "]}", "valid version"},
    {"Id as a number", "{\"Id\":7,\"Statement\":[" ALLOW(ANYONE, GET, OBJECTS) "]}", "Id"},
    {"no Statement", "{\"Version\":\"2012-10-17\"}", "Missing required field Statement"},
    {"empty Statement", P12(), "Statement is empty"},
    {"Statement a string", "{\"Statement\":\"x\"}", "Statement"},
    {"Statement array of strings", P12("\"x\""), "Statement"},
    {"unknown statement field", P12("{\"Effect\":\"Allow\",\"Principals\":\"*\",\"Action\":" GET ",\"Resource\":" OBJECTS "}"),
     "Unknown field Principals"},
    {"no Effect", P12("{\"Principal\":\"*\",\"Action\":" GET ",\"Resource\":" OBJECTS "}"), "Missing required field Effect"},
    {"Effect in lower case", P12(STMT("allow", ANYONE, GET, OBJECTS)), "Invalid effect: allow"},
    {"Effect as a boolean", P12("{\"Effect\":true,\"Principal\":\"*\",\"Action\":" GET ",\"Resource\":" OBJECTS "}"),
     "Invalid effect"},
    {"no Principal", P12("{\"Effect\":\"Allow\",\"Action\":" GET ",\"Resource\":" OBJECTS "}"), "Missing required field Principal"},
    {"Principal and NotPrincipal",
     P12("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"NotPrincipal\":\"*\",\"Action\":" GET ",\"Resource\":" OBJECTS "}"),
     "NotPrincipal"},
    {"Principal a name", P12(ALLOW(Q("alice"), GET, OBJECTS)), "Invalid principal in policy"},
    {"Principal an empty AWS list", P12(ALLOW(AWS("[]"), GET, OBJECTS)), "Invalid principal in policy"},
    {"Principal an empty object", P12(ALLOW("{}", GET, OBJECTS)), "Invalid principal in policy"},
    {"Principal a short account id", P12(ALLOW(AWS(Q("arn:aws:iam::123:user/alice")), GET, OBJECTS)),
     "Invalid principal in policy"},
    {"Principal a role", P12(ALLOW(AWS(Q("arn:aws:iam::123456789012:role/r")), GET, OBJECTS)), "Invalid principal in policy"},
    {"Principal a wildcard user", P12(ALLOW(AWS(Q(USER_ARN("a*"))), GET, OBJECTS)), "Invalid principal in policy"},
    {"Principal Federated", P12(ALLOW("{\"Federated\":\"cognito-identity.amazonaws.com\"}", GET, OBJECTS)),
     "Invalid principal in policy"},
    {"Principal CanonicalUser not hex", P12(ALLOW("{\"CanonicalUser\":\"alice\"}", GET, OBJECTS)), "Invalid principal in policy"},
    {"Principal a number", P12(ALLOW("5", GET, OBJECTS)), "Invalid principal in policy"},
    {"no Action", P12("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Resource\":" OBJECTS "}"), "Missing required field Action"},
    {"Action and NotAction",
     P12("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":" GET ",\"NotAction\":" GET ",\"Resource\":" OBJECTS "}"),
     "NotAction"},
    {"Action of another service", P12(ALLOW(ANYONE, Q("ec2:RunInstances"), OBJECTS)), "Policy has invalid action"},
    {"Action empty", P12(ALLOW(ANYONE, Q(""), OBJECTS)), "Policy has invalid action"},
    {"Action s3: alone", P12(ALLOW(ANYONE, Q("s3:"), OBJECTS)), "Policy has invalid action"},
    {"Action an empty array", P12(ALLOW(ANYONE, "[]", OBJECTS)), "Policy has invalid action"},
    {"Action array of numbers", P12(ALLOW(ANYONE, "[1]", OBJECTS)), "Policy has invalid action"},
    {"no Resource", P12("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":" GET "}"), "Missing required field Resource"},
    {"Resource and NotResource",
     P12("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":" GET ",\"Resource\":" OBJECTS ",\"NotResource\":" OBJECTS "}"),
     "NotResource"},
    {"Resource another bucket", P12(ALLOW(ANYONE, GET, Q("arn:aws:s3:::other/*"))), "Policy has invalid resource"},
    {"Resource a bucket that extends this name", P12(ALLOW(ANYONE, GET, Q("arn:aws:s3:::" BUCKET "-backup/*"))),
     "Policy has invalid resource"},
    {"Resource a prefix of this name", P12(ALLOW(ANYONE, GET, Q("arn:aws:s3:::photo"))), "Policy has invalid resource"},
    {"Resource \"*\"", P12(ALLOW(ANYONE, GET, Q("*"))), "Policy has invalid resource"},
    {"Resource not an S3 ARN", P12(ALLOW(ANYONE, GET, Q("arn:aws:sqs:::" BUCKET))), "Policy has invalid resource"},
    {"Resource list with one stranger", P12(ALLOW(ANYONE, GET, "[" OBJECTS ",\"arn:aws:s3:::other\"]")),
     "Policy has invalid resource"},
    {"Resource an empty array", P12(ALLOW(ANYONE, GET, "[]")), "Policy has invalid resource"},
    {"unknown condition operator", P12(ALLOW_IF(ANYONE, GET, OBJECTS, COND("StringEqualz", "s3:prefix", Q("a")))),
     "Invalid Condition type : StringEqualz"},
    {"operator in lower case", P12(ALLOW_IF(ANYONE, GET, OBJECTS, COND("stringequals", "s3:prefix", Q("a")))),
     "Invalid Condition type"},
    {"NullIfExists", P12(ALLOW_IF(ANYONE, GET, OBJECTS, COND("NullIfExists", "s3:prefix", Q("true")))), "Invalid Condition type"},
    {"unknown set qualifier", P12(ALLOW_IF(ANYONE, GET, OBJECTS, COND("ForSomeValues:StringEquals", "s3:prefix", Q("a")))),
     "Invalid Condition type"},
    {"Condition not an object", P12(ALLOW_IF(ANYONE, GET, OBJECTS, "[]")), "Condition"},
    {"operator block empty", P12(ALLOW_IF(ANYONE, GET, OBJECTS, "{\"StringEquals\":{}}")), "StringEquals"},
    {"operator block a string", P12(ALLOW_IF(ANYONE, GET, OBJECTS, "{\"StringEquals\":\"a\"}")), "StringEquals"},
    {"condition value null", P12(ALLOW_IF(ANYONE, GET, OBJECTS, COND("StringEquals", "s3:prefix", "null"))), "s3:prefix"},
    {"condition value an object", P12(ALLOW_IF(ANYONE, GET, OBJECTS, COND("StringEquals", "s3:prefix", "{\"a\":1}"))), "s3:prefix"},
    {"condition value an empty array", P12(ALLOW_IF(ANYONE, GET, OBJECTS, COND("StringEquals", "s3:prefix", "[]"))), "s3:prefix"},
    {"condition value a nested array", P12(ALLOW_IF(ANYONE, GET, OBJECTS, COND("StringEquals", "s3:prefix", "[[\"a\"]]"))),
     "s3:prefix"},
    {"condition key without a service", P12(ALLOW_IF(ANYONE, GET, OBJECTS, COND("StringEquals", "prefix", Q("a")))),
     "invalid condition key"},
    {"condition key of another service", P12(ALLOW_IF(ANYONE, GET, OBJECTS, COND("StringEquals", "ec2:Region", Q("a")))),
     "invalid condition key"},
    {"malformed number", P12(ALLOW_IF(ANYONE, LIST, BUCKET_ARN, COND("NumericLessThan", "s3:max-keys", Q("12abc")))), "12abc"},
    {"number a boolean", P12(ALLOW_IF(ANYONE, LIST, BUCKET_ARN, COND("NumericLessThan", "s3:max-keys", "true"))), "number"},
    {"malformed date", P12(ALLOW_IF(ANYONE, GET, OBJECTS, COND("DateLessThan", "aws:CurrentTime", Q("2020-13-01T00:00:00Z")))),
     "date"},
    {"February 29th in a common year",
     P12(ALLOW_IF(ANYONE, GET, OBJECTS, COND("DateLessThan", "aws:CurrentTime", Q("2021-02-29")))), "date"},
    {"malformed IP", P12(ALLOW_IF(ANYONE, GET, OBJECTS, COND("IpAddress", "aws:SourceIp", Q("300.1.1.1")))),
     "Invalid IP address in Conditions"},
    {"IPv4 prefix beyond 32", P12(ALLOW_IF(ANYONE, GET, OBJECTS, COND("IpAddress", "aws:SourceIp", Q("10.0.0.0/33")))),
     "Invalid IP address in Conditions"},
    {"IPv6 prefix beyond 128", P12(ALLOW_IF(ANYONE, GET, OBJECTS, COND("NotIpAddress", "aws:SourceIp", Q("::/129")))),
     "Invalid IP address in Conditions"},
    {"aws:SourceIp under StringLike not an address",
     P12(ALLOW_IF(ANYONE, GET, OBJECTS, COND("StringLike", "aws:SourceIp", Q("10.*")))), "Invalid IP address in Conditions"},
    {"Bool not true or false", P12(ALLOW_IF(ANYONE, GET, OBJECTS, COND("Bool", "aws:SecureTransport", Q("yes")))), "boolean"},
    {"Null not true or false", P12(ALLOW_IF(ANYONE, GET, OBJECTS, COND("Null", "s3:x-amz-acl", Q("maybe")))), "boolean"},
    {"duplicate Sid",
     P12("{\"Sid\":\"a\",\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":" GET ",\"Resource\":" OBJECTS "},"
         "{\"Sid\":\"a\",\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":" GET ",\"Resource\":" OBJECTS "}"),
     "must be unique"},
    {"Sid a number", P12("{\"Sid\":1,\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":" GET ",\"Resource\":" OBJECTS "}"),
     "Sid"},
    {"a control byte is not echoed", P12(STMT("Al\\nlow", ANYONE, GET, OBJECTS)), "Invalid effect: Al?low"},
};

static void test_malformed(void **state)
{
    (void)state;
    size_t failed = 0;
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const bad_case_t *c = &bad_cases[i];
        policy_t *p = (policy_t *)&failed; /* must be reset to NULL */
        char err[256] = "";
        int ret = policy_parse(c->policy, strlen(c->policy), BUCKET, &p, err, sizeof(err));
        if (ret != -EINVAL || p != NULL) {
            print_error("case \"%s\": accepted (ret %d)\n", c->name, ret);
            failed++;
            if (ret == 0)
                policy_free(p);
            continue;
        }
        if (err[0] == '\0' || strchr(err, '\n') != NULL || (c->message != NULL && strstr(err, c->message) == NULL)) {
            print_error("case \"%s\": reason \"%s\", want one line holding \"%s\"\n", c->name, err, c->message ? c->message : "");
            failed++;
        }
    }
    print_message("%zu malformed documents\n", sizeof(bad_cases) / sizeof(bad_cases[0]));
    assert_int_equal(failed, 0);
}

typedef struct action_case {
    const char *action; /* the JSON value of Action (a string or a list) */
    int valid;          /* policy_parse takes it */
    int stored_valid;   /* policy_parse_stored takes it */
} action_case_t;

static const action_case_t action_cases[] = {
    {Q("*"), 1, 1},
    {Q("s3:*"), 1, 1},
    {Q("S3:*"), 1, 1},
    {Q("s3:GetObject"), 1, 1},
    {Q("S3:getobject"), 1, 1},
    {Q("s3:GetObjectVersion"), 1, 1}, /* AWS's, never asked about here, in many policies written for AWS */
    {Q("s3:PutLifecycleConfiguration"), 1, 1},
    {Q("s3:ListAllMyBuckets"), 1, 1},
    {Q("s3:Get*"), 1, 1},
    {Q("s3:*Object"), 1, 1},
    {Q("s3:*tagging"), 1, 1},
    {Q("s3:Put*Acl"), 1, 1},
    {Q("s3:?etObject"), 1, 1},
    {Q("s3:G*t*b*"), 1, 1},
    {Q("s3:*Bucket*"), 1, 1},
    {"[" Q("s3:GetObject") "," Q("s3:List*") "]", 1, 1},
    {Q("s3:GetObjekt"), 0, 1},                          /* no such action */
    {Q("s3:Get"), 0, 1},                                /* a prefix of names is none of them */
    {Q("s3:GetObject?"), 0, 1},                         /* one character too many */
    {Q("s3:Foo*"), 0, 1},                               /* a pattern that matches no action */
    {Q("s3:*Objekt"), 0, 1},                            /* ... nor this one */
    {Q("s3:?"), 0, 1},                                  /* ... nor this one */
    {"[" Q("s3:GetObject") "," Q("s3:Nope") "]", 0, 1}, /* one unknown among known */
    {Q("ec2:RunInstances"), 0, 0},                      /* another service */
    {Q("iam:*"), 0, 0},                                 /* another service's everything */
    {Q("*:GetObject"), 0, 0},                           /* a wildcard service */
    {Q("s3*"), 0, 0},                                   /* no service prefix */
    {Q("s3:Get-Object"), 0, 0},                         /* a character no action has */
    {Q("s3: GetObject"), 0, 0},                         /* a blank */
    {Q("GetObject"), 0, 0},                             /* no prefix at all */
};

static void test_action_names(void **state)
{
    (void)state;
    size_t failed = 0;
    char doc[512];
    for (size_t i = 0; i < sizeof(action_cases) / sizeof(action_cases[0]); i++) {
        const action_case_t *c = &action_cases[i];
        for (int negated = 0; negated <= 1; negated++) {
            int n = snprintf(doc, sizeof(doc),
                             "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\",\"Principal\":\"*\","
                             "\"%sAction\":%s,\"Resource\":" OBJECTS "}]}",
                             negated ? "Not" : "", c->action);
            assert_true(n > 0 && (size_t)n < sizeof(doc));
            for (int stored = 0; stored <= 1; stored++) {
                policy_t *p = NULL;
                char err[256] = "";
                int ret = stored ? policy_parse_stored(doc, (size_t)n, BUCKET, &p, err, sizeof(err))
                                 : policy_parse(doc, (size_t)n, BUCKET, &p, err, sizeof(err));
                int want = stored ? c->stored_valid : c->valid;
                if ((ret == 0) != want || (ret != 0 && strcmp(err, "Policy has invalid action") != 0)) {
                    print_error("%s%sAction %s: ret %d (%s), want %s\n", stored ? "stored, " : "", negated ? "Not" : "", c->action,
                                ret, err, want ? "accepted" : "MalformedPolicy: Policy has invalid action");
                    failed++;
                }
                policy_free(p);
            }
        }
    }

    /* every known action: named, a policy naming it parses and applies to it, and to no other */
    policy_action_t prev = POLICY_ACTION_NONE;
    assert_null(policy_action_name(POLICY_ACTION_NONE));
    assert_null(policy_action_name(POLICY_ACTION_COUNT));
    for (policy_action_t a = POLICY_ACTION_NONE + 1; a < POLICY_ACTION_COUNT; a++) {
        const char *name = policy_action_name(a);
        assert_non_null(name);
        assert_true(strncmp(name, "s3:", 3) == 0);
        if (prev != POLICY_ACTION_NONE && strcmp(policy_action_name(prev), name) >= 0) {
            print_error("%s is not after %s: the list is kept in name order, each name once\n", name, policy_action_name(prev));
            failed++;
        }
        prev = a;
        int n = snprintf(doc, sizeof(doc), P12(DENY(ANYONE, "\"%s\"", OBJECTS)), name);
        policy_t *p = NULL;
        char err[256] = "";
        assert_int_equal(policy_parse(doc, (size_t)n, BUCKET, &p, err, sizeof(err)), 0);
        policy_request_t req = {.action = name, .resource = "arn:aws:s3:::" BUCKET "/k", .resource_len = strlen(BUCKET) + 15};
        assert_int_equal(policy_evaluate(p, &req), POLICY_DENY);
        req.action = a == POLICY_ACTION_GET_OBJECT ? "s3:PutObject" : "s3:GetObject";
        assert_int_equal(policy_evaluate(p, &req), POLICY_NONE);
        policy_free(p);
    }
    print_message("%zu action cases, %d known actions\n", sizeof(action_cases) / sizeof(action_cases[0]), POLICY_ACTION_COUNT - 1);
    assert_int_equal(failed, 0);
}

typedef struct public_case {
    const char *name;
    const char *policy;
    int want;
} public_case_t;

#define PUB_IF(cond) P12(ALLOW_IF(ANYONE, GET, OBJECTS, cond))

static const public_case_t public_cases[] = {
    {"\"*\" with no condition", P12(ALLOW(ANYONE, GET, OBJECTS)), 1},
    {"{\"AWS\":\"*\"}", P12(ALLOW(AWS(ANYONE), LIST, BUCKET_ARN)), 1},
    {"\"*\" among named users", P12(ALLOW(AWS("[" Q(USER_ARN("bob")) ",\"*\"]"), GET, OBJECTS)), 1},
    {"a named user", P12(ALLOW(ALICE, GET, OBJECTS)), 0},
    {"a canonical user", P12(ALLOW("{\"CanonicalUser\":" Q(ALICE_ID) "}", GET, OBJECTS)), 0},
    {"a Deny for everyone", P12(DENY(ANYONE, GET, OBJECTS)), 0},
    {"NotPrincipal Allow", P12("{\"Effect\":\"Allow\",\"NotPrincipal\":" ALICE ",\"Action\":" GET ",\"Resource\":" OBJECTS "}"), 1},
    {"NotPrincipal \"*\" Allow",
     P12("{\"Effect\":\"Allow\",\"NotPrincipal\":" AWS(ANYONE) ",\"Action\":" GET ",\"Resource\":" OBJECTS "}"), 0},
    {"aws:SourceIp range", PUB_IF(COND("IpAddress", "aws:SourceIp", Q("192.0.2.0/24"))), 0},
    {"aws:SourceIp 0.0.0.0/0", PUB_IF(COND("IpAddress", "aws:SourceIp", Q("0.0.0.0/0"))), 1},
    {"aws:SourceIp ::/0 among ranges", PUB_IF(COND("IpAddress", "aws:SourceIp", "[\"192.0.2.0/24\",\"::/0\"]")), 1},
    {"NotIpAddress does not pin", PUB_IF(COND("NotIpAddress", "aws:SourceIp", Q("192.0.2.0/24"))), 1},
    {"IpAddressIfExists does not pin", PUB_IF(COND("IpAddressIfExists", "aws:SourceIp", Q("192.0.2.0/24"))), 1},
    {"aws:SourceVpce fixed", PUB_IF(COND("StringEquals", "aws:SourceVpce", Q("vpce-1a2b3c4d"))), 0},
    {"aws:SourceVpc wildcard", PUB_IF(COND("StringLike", "aws:SourceVpc", Q("vpc-*"))), 1},
    {"aws:SourceAccount fixed", PUB_IF(COND("StringEquals", "aws:SourceAccount", Q("123456789012"))), 0},
    {"aws:SourceAccount under StringNotEquals", PUB_IF(COND("StringNotEquals", "aws:SourceAccount", Q("123456789012"))), 1},
    {"aws:SourceArn under StringEqualsIfExists", PUB_IF(COND("StringEqualsIfExists", "aws:SourceArn", Q("arn:aws:sns:x:1:t"))), 1},
    {"aws:SourceArn fixed under ArnEquals", PUB_IF(COND("ArnEquals", "aws:SourceArn", Q("arn:aws:sns:eu-west-1:1:t"))), 0},
    {"aws:SourceArn with a wildcard", PUB_IF(COND("ArnLike", "aws:SourceArn", Q("arn:aws:sns:*:1:t"))), 1},
    {"aws:PrincipalOrgID fixed", PUB_IF(COND("StringEquals", "aws:PrincipalOrgID", Q("o-abc123"))), 0},
    {"aws:userid holding a variable", PUB_IF(COND("StringEquals", "aws:userid", Q("${aws:username}"))), 1},
    {"aws:Referer does not pin", PUB_IF(COND("StringEquals", "aws:Referer", Q("https://example.com/"))), 1},
    {"aws:SecureTransport does not pin", PUB_IF(COND("Bool", "aws:SecureTransport", Q("true"))), 1},
    {"one pinning condition is enough",
     PUB_IF("{\"Bool\":{\"aws:SecureTransport\":\"true\"},\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}"), 0},
    {"pinned and named statements",
     P12(ALLOW(ALICE, "\"s3:*\"", OBJECTS), ALLOW_IF(ANYONE, GET, OBJECTS, COND("IpAddress", "aws:SourceIp", Q("10.0.0.0/8")))), 0},
    {"one unpinned statement among pinned ones",
     P12(ALLOW_IF(ANYONE, GET, OBJECTS, COND("IpAddress", "aws:SourceIp", Q("10.0.0.0/8"))), ALLOW(ANYONE, LIST, BUCKET_ARN)), 1},
};

static void test_is_public(void **state)
{
    (void)state;
    size_t failed = 0;
    for (size_t i = 0; i < sizeof(public_cases) / sizeof(public_cases[0]); i++) {
        const public_case_t *c = &public_cases[i];
        policy_t *p = NULL;
        char err[256] = "";
        if (policy_parse(c->policy, strlen(c->policy), BUCKET, &p, err, sizeof(err)) != 0) {
            print_error("case \"%s\": policy refused: %s\n", c->name, err);
            failed++;
            continue;
        }
        if (policy_is_public(p) != c->want) {
            print_error("case \"%s\": public %d, want %d\n", c->name, policy_is_public(p), c->want);
            failed++;
        }
        policy_free(p);
    }
    print_message("%zu policy_is_public cases\n", sizeof(public_cases) / sizeof(public_cases[0]));
    assert_int_equal(failed, 0);
}

/* A policy of about `size` bytes without whitespace, padded with `pad` spaces between its tokens. */
static char *sized_policy(size_t size, size_t pad, size_t *len)
{
    const char *head = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"";
    const char *tail =
        "\",\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::" BUCKET "/*\"}]}";
    size_t fixed = strlen(head) + strlen(tail);
    assert_true(size > fixed);
    char *doc = malloc(size + pad + 1);
    assert_non_null(doc);
    memset(doc, ' ', pad);
    memcpy(doc + pad, head, strlen(head));
    memset(doc + pad + strlen(head), 's', size - fixed);
    memcpy(doc + pad + strlen(head) + size - fixed, tail, strlen(tail) + 1);
    *len = size + pad;
    return doc;
}

static void test_size_limit(void **state)
{
    (void)state;
    policy_t *p = NULL;
    char err[256];
    size_t len;
    char *doc = sized_policy(POLICY_MAX_SIZE, 0, &len);
    assert_int_equal(policy_parse(doc, len, BUCKET, &p, err, sizeof(err)), 0);
    policy_free(p);
    free(doc);

    /* whitespace does not count, as AWS measures the normalized document */
    doc = sized_policy(POLICY_MAX_SIZE, 4096, &len);
    assert_int_equal(policy_parse(doc, len, BUCKET, &p, err, sizeof(err)), 0);
    policy_free(p);
    free(doc);

    doc = sized_policy(POLICY_MAX_SIZE + 1, 0, &len);
    assert_int_equal(policy_parse(doc, len, BUCKET, &p, err, sizeof(err)), -EINVAL);
    assert_null(p);
    assert_string_equal(err, "Policy exceeds the maximum allowed document size.");
    free(doc);
}

static void test_err_buffer(void **state)
{
    (void)state;
    policy_t *p = NULL;
    char err[8];
    const char *bad = P12(ALLOW(ANYONE, GET, Q("arn:aws:s3:::other/*")));
    assert_int_equal(policy_parse(bad, strlen(bad), BUCKET, &p, NULL, 0), -EINVAL);
    assert_int_equal(policy_parse(bad, strlen(bad), BUCKET, &p, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "Policy ");
    assert_int_equal(policy_parse(NULL, 0, BUCKET, &p, err, sizeof(err)), -EINVAL);
    assert_null(p);
}

/* A policy of `count` copies of `resource` (a JSON string) in one statement, then `last` in a second one. */
static char *repeated_resources(const char *effect, const char *resource, int count, const char *last, size_t *len)
{
    size_t cap = 32768, n = 0;
    char *doc = malloc(cap);
    assert_non_null(doc);
    n += (size_t)snprintf(doc + n, cap - n,
                          "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"%s\",\"Principal\":\"*\","
                          "\"Action\":\"s3:GetObject\",\"Resource\":[",
                          effect);
    for (int i = 0; i < count; i++)
        n += (size_t)snprintf(doc + n, cap - n, "%s%s", i ? "," : "", resource);
    n += (size_t)snprintf(doc + n, cap - n,
                          "]},{\"Effect\":\"%s\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":%s}]}", effect, last);
    assert_true(n < cap);
    *len = n;
    return doc;
}

/*
 * Patterns that make a backtracking matcher exponential, or a two-pointer one do |pattern| x |key|
 * work: they finish at once, and past the work budget a pattern is in question, which denies (fail closed).
 */
static void test_pathological(void **state)
{
    (void)state;
    char key[1024 + 1], resource[2048], pattern[600];
    size_t len;
    policy_t *p = NULL;
    char err[256] = "";

    memset(key, 'a', 1024);
    key[1024] = '\0';
    int res_len = snprintf(resource, sizeof(resource), "arn:aws:s3:::" BUCKET "/%s", key);
    policy_request_t req = {.action = "s3:GetObject", .resource = resource, .resource_len = (size_t)res_len, .anonymous = 1};

    /* "*a*a*...*a*b": 200 stars */
    size_t n = (size_t)snprintf(pattern, sizeof(pattern), "\"arn:aws:s3:::" BUCKET "/");
    for (int i = 0; i < 200; i++)
        n += (size_t)snprintf(pattern + n, sizeof(pattern) - n, "*a");
    snprintf(pattern + n, sizeof(pattern) - n, "*b\"");
    char *doc = repeated_resources("Allow", pattern, 1, "\"arn:aws:s3:::other-key\"", &len);
    assert_int_equal(policy_parse(doc, len, BUCKET, &p, err, sizeof(err)), -EINVAL); /* another bucket */
    free(doc);
    doc = repeated_resources("Allow", pattern, 1, OBJ("unrelated"), &len);
    assert_int_equal(policy_parse(doc, len, BUCKET, &p, err, sizeof(err)), 0);
    assert_int_equal(policy_evaluate(p, &req), POLICY_NONE);
    resource[res_len - 1] = 'b';
    assert_int_equal(policy_evaluate(p, &req), POLICY_ALLOW);
    resource[res_len - 1] = 'a';
    policy_free(p);
    free(doc);

    /* "*aaaaaaaaaaaaaaaaaaaa?b*" searched naively at every offset: 300 of them exhaust the budget */
    snprintf(pattern, sizeof(pattern), "\"arn:aws:s3:::" BUCKET "/*aaaaaaaaaaaaaaaaaaaa?b*\"");
    doc = repeated_resources("Allow", pattern, 300, OBJECTS, &len);
    assert_int_equal(policy_parse(doc, len, BUCKET, &p, err, sizeof(err)), 0);
    assert_int_equal(policy_evaluate(p, &req), POLICY_NONE); /* the final, matching Allow is in question */
    policy_free(p);
    free(doc);
    doc = repeated_resources("Allow", pattern, 1, OBJECTS, &len);
    assert_int_equal(policy_parse(doc, len, BUCKET, &p, err, sizeof(err)), 0);
    assert_int_equal(policy_evaluate(p, &req), POLICY_ALLOW); /* within budget: decided */
    policy_free(p);
    free(doc);

    /* the same through the general matcher (a variable), and a Deny in question applies */
    snprintf(pattern, sizeof(pattern), "\"arn:aws:s3:::" BUCKET "/${aws:SourceIp}*aaaaaaaaaaaaaaaaaaaab*\"");
    policy_kv_t ctx[] = {{"aws:SourceIp", "a"}};
    req.ctx = ctx;
    req.num_ctx = 1;
    doc = repeated_resources("Deny", pattern, 300, OBJ("nothing-like-it"), &len);
    assert_int_equal(policy_parse(doc, len, BUCKET, &p, err, sizeof(err)), 0);
    assert_int_equal(policy_evaluate(p, &req), POLICY_DENY);
    policy_free(p);
    free(doc);
    doc = repeated_resources("Deny", pattern, 1, OBJ("nothing-like-it"), &len);
    assert_int_equal(policy_parse(doc, len, BUCKET, &p, err, sizeof(err)), 0);
    assert_int_equal(policy_evaluate(p, &req), POLICY_NONE);
    policy_free(p);
    free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_evaluate),     cmocka_unit_test(test_malformed),  cmocka_unit_test(test_action_names),
        cmocka_unit_test(test_is_public),    cmocka_unit_test(test_size_limit), cmocka_unit_test(test_err_buffer),
        cmocka_unit_test(test_pathological),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
