/* server/authz.c -- authorization of every S3 operation. See authz.h for the order of the checks. */
#include "server/authz.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "auth/policy.h"
#include "auth/text.h"
#include "server/log.h"
#include "server/tagging.h"

/* ------------------------------------------------------------------ actions */

/* AT_OBJECTS: the keys a request's body names, each decided as AT_OBJECT_WRITE on its own (authz_key) */
enum { AT_NONE = 0, AT_SERVICE, AT_BUCKET, AT_OBJECT_WRITE, AT_OBJECT, AT_OBJECTS };

typedef struct action {
    unsigned char action; /* the IAM action (policy_action_t); POLICY_ACTION_NONE: not an S3 operation */
    unsigned char level;  /* AT_*: what the resource is and which ACL grants it */
    unsigned char perm;   /* the ACL permission that grants it; 0: none does */
    unsigned char owner_only;
} action_t;

_Static_assert(POLICY_ACTION_COUNT <= 256, "action_t.action holds a policy_action_t");
_Static_assert(sizeof(((keys_user_t *)0)->name) == ACL_NAME_MAX + 1, "a user's whole name is its display name");

#define A(op, n, lvl, p) [S3OP_##op] = {POLICY_ACTION_##n, lvl, p, 0}
static const action_t actions[S3OP_COUNT] = {
    A(LIST_BUCKETS, LIST_ALL_MY_BUCKETS, AT_SERVICE, 0),
    A(CREATE_BUCKET, CREATE_BUCKET, AT_SERVICE, 0),
    A(HEAD_BUCKET, LIST_BUCKET, AT_BUCKET, ACL_READ),
    A(DELETE_BUCKET, DELETE_BUCKET, AT_BUCKET, 0),
    A(GET_BUCKET_LOCATION, GET_BUCKET_LOCATION, AT_BUCKET, 0),
    A(GET_BUCKET_VERSIONING, GET_BUCKET_VERSIONING, AT_BUCKET, 0),
    A(GET_BUCKET_ACL, GET_BUCKET_ACL, AT_BUCKET, ACL_READ_ACP),
    A(PUT_BUCKET_ACL, PUT_BUCKET_ACL, AT_BUCKET, ACL_WRITE_ACP),
    A(LIST_OBJECTS, LIST_BUCKET, AT_BUCKET, ACL_READ),
    A(LIST_OBJECTS_V2, LIST_BUCKET, AT_BUCKET, ACL_READ),
    A(LIST_OBJECT_VERSIONS, LIST_BUCKET_VERSIONS, AT_BUCKET, ACL_READ),
    A(LIST_MULTIPART_UPLOADS, LIST_BUCKET_MULTIPART_UPLOADS, AT_BUCKET, ACL_READ),
    A(PUT_OBJECT, PUT_OBJECT, AT_OBJECT_WRITE, ACL_WRITE),
    A(COPY_OBJECT, PUT_OBJECT, AT_OBJECT_WRITE, ACL_WRITE),
    A(POST_OBJECT, PUT_OBJECT, AT_OBJECT_WRITE, ACL_WRITE), /* after ops_post.c authenticated the form */
    A(CREATE_MULTIPART_UPLOAD, PUT_OBJECT, AT_OBJECT_WRITE, ACL_WRITE),
    A(UPLOAD_PART, PUT_OBJECT, AT_OBJECT_WRITE, ACL_WRITE),
    A(UPLOAD_PART_COPY, PUT_OBJECT, AT_OBJECT_WRITE, ACL_WRITE),
    A(COMPLETE_MULTIPART_UPLOAD, PUT_OBJECT, AT_OBJECT_WRITE, ACL_WRITE),
    A(ABORT_MULTIPART_UPLOAD, ABORT_MULTIPART_UPLOAD, AT_OBJECT_WRITE, ACL_WRITE),
    A(LIST_PARTS, LIST_MULTIPART_UPLOAD_PARTS, AT_OBJECT_WRITE, ACL_READ),
    A(DELETE_OBJECT, DELETE_OBJECT, AT_OBJECT_WRITE, ACL_WRITE),
    A(DELETE_OBJECTS, DELETE_OBJECT, AT_OBJECTS, ACL_WRITE),
    A(GET_OBJECT, GET_OBJECT, AT_OBJECT, ACL_READ),
    A(HEAD_OBJECT, GET_OBJECT, AT_OBJECT, ACL_READ),
    A(GET_OBJECT_ATTRIBUTES, GET_OBJECT_ATTRIBUTES, AT_OBJECT, ACL_READ),
    A(GET_OBJECT_ACL, GET_OBJECT_ACL, AT_OBJECT, ACL_READ_ACP),
    A(PUT_OBJECT_ACL, PUT_OBJECT_ACL, AT_OBJECT, ACL_WRITE_ACP),
    A(GET_OBJECT_TAGGING, GET_OBJECT_TAGGING, AT_OBJECT, 0),
    A(PUT_OBJECT_TAGGING, PUT_OBJECT_TAGGING, AT_OBJECT, 0),
    A(DELETE_OBJECT_TAGGING, DELETE_OBJECT_TAGGING, AT_OBJECT, 0),
    A(GET_BUCKET_TAGGING, GET_BUCKET_TAGGING, AT_BUCKET, 0),
    A(PUT_BUCKET_TAGGING, PUT_BUCKET_TAGGING, AT_BUCKET, 0),
    A(DELETE_BUCKET_TAGGING, PUT_BUCKET_TAGGING, AT_BUCKET, 0),
    A(GET_BUCKET_OWNERSHIP_CONTROLS, GET_BUCKET_OWNERSHIP_CONTROLS, AT_BUCKET, 0),
    A(PUT_BUCKET_OWNERSHIP_CONTROLS, PUT_BUCKET_OWNERSHIP_CONTROLS, AT_BUCKET, 0),
    A(DELETE_BUCKET_OWNERSHIP_CONTROLS, PUT_BUCKET_OWNERSHIP_CONTROLS, AT_BUCKET, 0),
    A(GET_PUBLIC_ACCESS_BLOCK, GET_BUCKET_PUBLIC_ACCESS_BLOCK, AT_BUCKET, 0),
    A(PUT_PUBLIC_ACCESS_BLOCK, PUT_BUCKET_PUBLIC_ACCESS_BLOCK, AT_BUCKET, 0),
    A(DELETE_PUBLIC_ACCESS_BLOCK, PUT_BUCKET_PUBLIC_ACCESS_BLOCK, AT_BUCKET, 0),
    A(GET_BUCKET_POLICY_STATUS, GET_BUCKET_POLICY_STATUS, AT_BUCKET, 0),
    [S3OP_GET_BUCKET_POLICY] = {POLICY_ACTION_GET_BUCKET_POLICY, AT_BUCKET, 0, 1},
    [S3OP_PUT_BUCKET_POLICY] = {POLICY_ACTION_PUT_BUCKET_POLICY, AT_BUCKET, 0, 1},
    [S3OP_DELETE_BUCKET_POLICY] = {POLICY_ACTION_DELETE_BUCKET_POLICY, AT_BUCKET, 0, 1},
};
#undef A

/* ------------------------------------------------------------------ the bucket cache */

enum { PAB_BLOCK_ACLS = 1, PAB_IGNORE_ACLS = 2, PAB_BLOCK_POLICY = 4, PAB_RESTRICT = 8 };

typedef struct bucket_access {
    char name[STORE_BUCKET_NAME_MAX + 1];
    int exists;
    char owner_id[ACL_ID_MAX + 1];
    char owner_name[ACL_NAME_MAX + 1];
    acl_t *acl;          /* owned; NULL: private (the owner's FULL_CONTROL only) */
    policy_t *policy;    /* owned; NULL: none */
    int policy_public;   /* policy_is_public */
    unsigned pab;        /* PAB_* */
    int acls_disabled;   /* ObjectOwnership BucketOwnerEnforced */
    int owner_preferred; /* ObjectOwnership BucketOwnerPreferred */
} bucket_access_t;

#define CACHE_SLOTS 64

static struct {
    pthread_rwlock_t lock;
    bucket_access_t *slots[CACHE_SLOTS]; /* owned; direct-mapped by name */
    _Atomic uint64_t generation;         /* bumped by every authz_invalidate */
} cache = {.lock = PTHREAD_RWLOCK_INITIALIZER};

static void access_free(bucket_access_t *b)
{
    if (b == NULL)
        return;
    free(b->acl);
    policy_free(b->policy);
    free(b);
}

void authz_invalidate(void)
{
    pthread_rwlock_wrlock(&cache.lock);
    atomic_fetch_add(&cache.generation, 1);
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        access_free(cache.slots[i]);
        cache.slots[i] = NULL;
    }
    pthread_rwlock_unlock(&cache.lock);
}

static size_t slot_of(const char *name)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++)
        h = (h ^ *p) * 16777619u;
    return h % CACHE_SLOTS;
}

int authz_owner_id(s3_req_t *r, const char *stored_owner, char id[ACL_ID_MAX + 1], char name[ACL_NAME_MAX + 1])
{
    keys_user_t u;
    /* an id names only the user of that id, never one named like it (even once its own user is gone) */
    int by_id = text_is_lower_hex(stored_owner, 64);
    if (keys_find_user_by(r->thread->server->keys, by_id ? KEYS_BY_ID : KEYS_BY_NAME, stored_owner, &u) != 0) {
        id[0] = name[0] = '\0';
        if (by_id)
            snprintf(id, ACL_ID_MAX + 1, "%s", stored_owner); /* its user is gone; the id still names the owner */
        return -ENOENT;
    }
    snprintf(id, ACL_ID_MAX + 1, "%s", u.canonical_id);
    snprintf(name, ACL_NAME_MAX + 1, "%s", u.name);
    return 0;
}

int authz_resolve_grantee(void *ctx, char kind, const char *value, size_t value_len, char id[ACL_ID_MAX + 1],
                          char name[ACL_NAME_MAX + 1])
{
    char buf[320];
    keys_user_t u;
    if (value_len >= sizeof(buf))
        return -ENOENT;
    memcpy(buf, value, value_len);
    buf[value_len] = '\0';
    if (keys_find_user_by((keys_t *)ctx, kind == 'i' ? KEYS_BY_ID : KEYS_BY_EMAIL, buf, &u) != 0)
        return -ENOENT;
    if ((kind == 'i' && strcmp(u.canonical_id, buf) != 0) || (kind == 'e' && strcmp(u.email, buf) != 0))
        return -ENOENT; /* as written: another case names no grantee */
    snprintf(id, ACL_ID_MAX + 1, "%s", u.canonical_id);
    snprintf(name, ACL_NAME_MAX + 1, "%s", u.name);
    return 0;
}

/* From o's recent owners, or else the server's users (memory: no store read). */
const authz_owner_t *authz_owner_by_id(s3_req_t *r, authz_owners_t *o, const char *id, size_t id_len)
{
    if (!o->ready) {
        authz_bucket_info_t b;
        authz_bucket_info(r, &b);
        memcpy(o->bucket_owner.id, b.owner_id, sizeof(o->bucket_owner.id));
        memcpy(o->bucket_owner.name, b.owner_name, sizeof(o->bucket_owner.name));
        o->ready = 1;
    }
    if (id == NULL || id_len == 0 || id_len >= sizeof(o->bucket_owner.id))
        return &o->bucket_owner;
    if (memcmp(o->bucket_owner.id, id, id_len) == 0 && o->bucket_owner.id[id_len] == '\0')
        return &o->bucket_owner;
    for (size_t i = 0; i < o->num_recent; i++)
        if (memcmp(o->recent[i].id, id, id_len) == 0 && o->recent[i].id[id_len] == '\0')
            return &o->recent[i];
    authz_owner_t *slot = &o->recent[o->next]; /* the oldest goes */
    o->next = (o->next + 1) % AUTHZ_OWNERS_CACHED;
    if (o->num_recent < AUTHZ_OWNERS_CACHED)
        o->num_recent++;
    memcpy(slot->id, id, id_len);
    slot->id[id_len] = '\0';
    keys_user_t u;
    if (keys_find_user_by(r->thread->server->keys, KEYS_BY_ID, slot->id, &u) == 0 && strcmp(u.canonical_id, slot->id) == 0)
        snprintf(slot->name, sizeof(slot->name), "%s", u.name);
    else
        slot->name[0] = '\0'; /* its user is gone; the id still names the owner */
    return slot;
}

const authz_owner_t *authz_owner_of_acl(s3_req_t *r, authz_owners_t *o, const char *acl, size_t acl_len)
{
    char id[ACL_ID_MAX + 1];
    if (acl == NULL || acl_decode_owner((const uint8_t *)acl, acl_len, id) != 0)
        return authz_owner_by_id(r, o, NULL, 0);
    return authz_owner_by_id(r, o, id, strlen(id));
}

/* Reads what a bucket's access depends on (blocking reads: metadata only). */
static bucket_access_t *access_load(s3_req_t *r)
{
    store_t *store = r->thread->server->store;
    bucket_access_t *b = calloc(1, sizeof(*b));
    store_bucket_t sb;
    void *val;
    size_t len;
    if (b == NULL)
        abort();
    snprintf(b->name, sizeof(b->name), "%s", r->route.bucket);
    if (store_bucket_get(store, r->route.bucket, &sb) != 0)
        return b;
    b->exists = 1;
    authz_owner_id(r, sb.owner, b->owner_id, b->owner_name);
    if (store_bucket_conf_get(store, r->route.bucket, "acl", &val, &len) == 0) {
        if ((b->acl = malloc(sizeof(*b->acl))) == NULL)
            abort();
        if (acl_decode(val, len, b->acl) != 0) {
            log_error("bucket %s: its stored ACL is unreadable; treated as private", b->name);
            free(b->acl);
            b->acl = NULL;
        }
        free(val);
    }
    if (store_bucket_conf_get(store, r->route.bucket, "policy", &val, &len) == 0) {
        char err[256];
        if (policy_parse_stored(val, len, b->name, &b->policy, err, sizeof(err)) != 0) {
            log_error("bucket %s: its stored policy no longer parses (%s); ignored", b->name, err);
            b->policy = NULL;
        } else {
            b->policy_public = policy_is_public(b->policy);
        }
        free(val);
    }
    if (store_bucket_conf_get(store, r->route.bucket, "public-access-block", &val, &len) == 0) {
        for (size_t i = 0; i < len && i < 4; i++)
            if (((const char *)val)[i] == '1')
                b->pab |= 1u << i;
        free(val);
    }
    if (store_bucket_conf_get(store, r->route.bucket, "ownership-controls", &val, &len) == 0) {
        b->acls_disabled = len == strlen("BucketOwnerEnforced") && memcmp(val, "BucketOwnerEnforced", len) == 0;
        b->owner_preferred = len == strlen("BucketOwnerPreferred") && memcmp(val, "BucketOwnerPreferred", len) == 0;
        free(val);
    }
    return b;
}

typedef s3err_t (*bucket_fn)(s3_req_t *r, const bucket_access_t *b, void *arg);

/* Runs fn(r, state, arg) on r's bucket's access state, from the cache or loaded into it. */
static s3err_t with_bucket(s3_req_t *r, bucket_fn fn, void *arg)
{
    size_t slot = slot_of(r->route.bucket);
    s3err_t err;
    pthread_rwlock_rdlock(&cache.lock);
    bucket_access_t *b = cache.slots[slot];
    if (b != NULL && strcmp(b->name, r->route.bucket) == 0) {
        err = fn(r, b, arg);
        pthread_rwlock_unlock(&cache.lock);
        return err;
    }
    pthread_rwlock_unlock(&cache.lock);

    uint64_t gen = atomic_load(&cache.generation);
    b = access_load(r);
    err = fn(r, b, arg);
    pthread_rwlock_wrlock(&cache.lock);
    /* kept when nothing changed while it loaded, and only under its whole name: a name too long for a
     * bucket is cut in b->name, and must never stand for the bucket its first characters name */
    if (atomic_load(&cache.generation) == gen && strcmp(b->name, r->route.bucket) == 0) {
        access_free(cache.slots[slot]);
        cache.slots[slot] = b;
        b = NULL;
    }
    pthread_rwlock_unlock(&cache.lock);
    access_free(b);
    return err;
}

/* ------------------------------------------------------------------ decisions */

#define MAX_CTX 40

typedef struct ctx_builder {
    policy_kv_t kv[MAX_CTX];
    size_t n;
} ctx_builder_t;

static void ctx_add(s3_req_t *r, ctx_builder_t *c, const char *key, const char *value, size_t len)
{
    if (c->n < MAX_CTX && value != NULL)
        c->kv[c->n++] = (policy_kv_t){key, h2o_strdup(&r->req->pool, value, len).base};
}

static void ctx_add_param(s3_req_t *r, ctx_builder_t *c, const char *key, const char *param)
{
    size_t len;
    const char *v = route_param(&r->route, param, &len);
    ctx_add(r, c, key, v, v != NULL ? len : 0);
}

/* Where a request's own values (x-amz-acl...) come from: its headers, or what stands for them (a POST form's fields). */
typedef struct values {
    acl_header_fn get;
    void *ctx;
} values_t;

static void ctx_add_header(s3_req_t *r, ctx_builder_t *c, const char *key, const values_t *values, const char *header)
{
    size_t len;
    const char *v = values->get(values->ctx, header, &len);
    ctx_add(r, c, key, v, v != NULL ? len : 0);
}

/* The condition keys a request brings: who, from where, when, and the request's own values. */
static void build_context(s3_req_t *r, const store_object_t *obj, const values_t *values, ctx_builder_t *c)
{
    struct sockaddr_storage ss;
    char addr[INET6_ADDRSTRLEN] = "", num[32];
    socklen_t sl = r->req->conn->callbacks->get_peername(r->req->conn, (struct sockaddr *)&ss);
    if (sl > 0 && ss.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, addr, sizeof(addr));
    else if (sl > 0 && ss.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, addr, sizeof(addr));
    c->n = 0;
    if (addr[0] != '\0')
        ctx_add(r, c, "aws:SourceIp", addr, strlen(addr));
    ctx_add(r, c, "aws:SecureTransport", "false", 5); /* Coffer speaks plain HTTP; TLS ends in front of it */
    time_t now = time(NULL);
    ctx_add(r, c, "aws:EpochTime", num, (size_t)snprintf(num, sizeof(num), "%lld", (long long)now));
    struct tm tm;
    gmtime_r(&now, &tm);
    ctx_add(r, c, "aws:CurrentTime", num, strftime(num, sizeof(num), "%Y-%m-%dT%H:%M:%SZ", &tm));
    ctx_add_header(r, c, "aws:Referer", values, "referer");
    ctx_add_header(r, c, "aws:UserAgent", values, "user-agent");
    if (r->authenticated) {
        ctx_add(r, c, "aws:username", r->user.name, strlen(r->user.name));
        ctx_add(r, c, "aws:userid", r->user.canonical_id, strlen(r->user.canonical_id));
    }
    ctx_add_param(r, c, "s3:prefix", "prefix");
    ctx_add_param(r, c, "s3:delimiter", "delimiter");
    ctx_add_param(r, c, "s3:max-keys", "max-keys");
    ctx_add_header(r, c, "s3:x-amz-acl", values, "x-amz-acl");
    ctx_add_header(r, c, "s3:x-amz-content-sha256", values, "x-amz-content-sha256");
    ctx_add_header(r, c, "s3:x-amz-server-side-encryption", values, "x-amz-server-side-encryption");
    ctx_add_header(r, c, "s3:x-amz-copy-source", values, "x-amz-copy-source");
    ctx_add_header(r, c, "s3:x-amz-metadata-directive", values, "x-amz-metadata-directive");
    for (size_t i = 0; obj != NULL && i < obj->num_headers; i++) {
        const store_kv_t *h = &obj->headers[i];
        tagging_set_t tags;
        if (!h2o_memis(h->name, h->name_len, H2O_STRLIT(TAGGING_HEADER)) || tagging_decode(h->value, h->value_len, &tags) != 0)
            continue;
        for (size_t t = 0; t < tags.num_tags; t++) {
            char *key = h2o_mem_alloc_pool(&r->req->pool, tags.tags[t].key_len + 32);
            sprintf(key, "s3:ExistingObjectTag/%.*s", (int)tags.tags[t].key_len, tags.tags[t].key);
            ctx_add(r, c, key, tags.tags[t].value, tags.tags[t].value_len);
        }
        tagging_set_free(&tags);
    }
}

/* What decide() judges r's operation on, besides r. */
typedef struct decision {
    const store_object_t *obj; /* the object; NULL: none, or it does not exist */
    const ctx_builder_t *ctx;  /* r's condition keys when built already (authz_key), else NULL */
    const values_t *values;    /* r's own values; NULL: its headers */
} decision_t;

/* The bucket's policy's decision for r (POLICY_NONE without a policy). */
static policy_decision_t policy_decide(s3_req_t *r, const bucket_access_t *b, const action_t *a, const decision_t *d)
{
    if (b->policy == NULL)
        return POLICY_NONE;
    size_t blen = strlen(r->route.bucket), klen = r->route.key_len;
    char stack_res[13 + STORE_BUCKET_NAME_MAX + 1 + STORE_KEY_MAX + 1];
    size_t res_len = 13 + blen + 1 + klen + 1;
    char *res = res_len <= sizeof(stack_res) ? stack_res : h2o_mem_alloc_pool(&r->req->pool, res_len);
    size_t n = (size_t)sprintf(res, "arn:aws:s3:::%s", r->route.bucket);
    if (a->level != AT_BUCKET) {
        res[n++] = '/';
        memcpy(res + n, r->route.key, klen);
        n += klen;
    }
    res[n] = '\0';
    ctx_builder_t built;
    const ctx_builder_t *c = d->ctx;
    if (c == NULL) {
        build_context(r, d->obj, d->values != NULL ? d->values : &(values_t){authz_header, r}, &built);
        c = &built;
    }
    policy_request_t pr = {
        .action = policy_action_name(a->action),
        .resource = res,
        .resource_len = n,
        .anonymous = !r->authenticated,
        .user_name = r->authenticated ? r->user.name : NULL,
        .canonical_id = r->authenticated ? r->user.canonical_id : NULL,
        .ctx = c->kv,
        .num_ctx = c->n,
    };
    return policy_evaluate(b->policy, &pr);
}

/* The permissions acl gives r's requester, without the grants to everyone when public ACLs are ignored. */
static unsigned acl_perms(s3_req_t *r, const acl_t *acl, unsigned pab)
{
    const char *id = r->authenticated ? r->user.canonical_id : NULL;
    return pab & PAB_IGNORE_ACLS ? acl_private_permissions(acl, id) : acl_permissions(acl, id);
}

int authz_is_root(const s3_req_t *r)
{
    return r->authenticated && strcmp(r->user.canonical_id, r->thread->server->root.canonical_id) == 0;
}

/* bucket_fn: the decision for r; arg is a decision_t. */
static s3err_t decide(s3_req_t *r, const bucket_access_t *b, void *arg)
{
    const decision_t *d = arg;
    const store_object_t *obj = d->obj;
    const action_t *a = &actions[r->route.op];
    if (!b->exists)
        return S3ERR_NO_SUCH_BUCKET; /* never "allowed": the bucket may be created before the operation runs */
    int root = authz_is_root(r);
    if (root && a->owner_only)
        return S3ERR_NONE; /* as AWS's account root: the policy operations stay root's, so it cannot lock itself out */
    int is_owner = r->authenticated && b->owner_id[0] != '\0' && strcmp(b->owner_id, r->user.canonical_id) == 0;
    policy_decision_t pd = policy_decide(r, b, a, d);
    if (pd == POLICY_DENY)
        return S3ERR_ACCESS_DENIED;
    if (root)
        return S3ERR_NONE; /* needs no ACL and no Allow */
    if (a->owner_only || is_owner)
        return is_owner ? S3ERR_NONE : S3ERR_ACCESS_DENIED;
    acl_t oacl;
    int has_oacl = a->level == AT_OBJECT && obj != NULL && authz_object_acl(obj, &oacl) == 0;
    if (has_oacl && r->authenticated && strcmp(oacl.owner_id, r->user.canonical_id) == 0)
        return S3ERR_NONE; /* the object's owner */
    if (pd == POLICY_ALLOW && (r->authenticated || !b->policy_public || !(b->pab & PAB_RESTRICT)))
        return S3ERR_NONE;
    if (b->acls_disabled || a->perm == 0)
        return S3ERR_ACCESS_DENIED;
    const acl_t *acl = a->level == AT_OBJECT ? (has_oacl ? &oacl : NULL) : b->acl;
    if (acl != NULL && (acl_perms(r, acl, b->pab) & a->perm) == a->perm)
        return S3ERR_NONE;
    return S3ERR_ACCESS_DENIED;
}

/* bucket_fn: whether the bucket has a policy (arg: an int). */
static s3err_t copy_has_policy(s3_req_t *r, const bucket_access_t *b, void *arg)
{
    (void)r;
    *(int *)arg = b->policy != NULL;
    return S3ERR_NONE;
}

/* Whether root's request on r's bucket is allowed without a decision: nothing but a policy's Deny can refuse root. */
static int root_unrestricted(s3_req_t *r, const action_t *a)
{
    int has_policy = 1;
    if (!authz_is_root(r))
        return 0;
    if (a->owner_only)
        return 1;
    with_bucket(r, copy_has_policy, &has_policy); /* the cached access state: no store read once the bucket is cached */
    return !has_policy;
}

s3err_t authz_request(s3_req_t *r)
{
    return authz_request_with(r, authz_header, r);
}

s3err_t authz_request_with(s3_req_t *r, acl_header_fn get, void *ctx)
{
    const values_t *values = &(values_t){get, ctx};
    const action_t *a = &actions[r->route.op];
    r->authz_deferred = 0;
    /* admin endpoints check for root themselves; others answer errors */
    if (a->action == POLICY_ACTION_NONE || a->level == AT_SERVICE)
        return r->authenticated ? S3ERR_NONE : S3ERR_ACCESS_DENIED;
    if (root_unrestricted(r, a))
        return S3ERR_NONE;
    if (a->level == AT_OBJECT || a->level == AT_OBJECTS) {
        r->authz_deferred = 1;
        return S3ERR_NONE;
    }
    return with_bucket(r, decide, &(decision_t){NULL, NULL, values});
}

s3err_t authz_object(s3_req_t *r, const store_object_t *obj)
{
    if (!r->authz_deferred)
        return S3ERR_NONE;
    r->authz_deferred = 0;
    return with_bucket(r, decide, &(decision_t){obj, NULL, NULL});
}

struct authz_keys {
    ctx_builder_t ctx; /* built by the first key's decision */
    int built;
};

authz_keys_t *authz_keys_begin(s3_req_t *r)
{
    authz_keys_t *k = h2o_mem_alloc_pool(&r->req->pool, sizeof(*k));
    k->built = 0;
    return k;
}

s3err_t authz_key(s3_req_t *r, authz_keys_t *k, const char *key, size_t key_len)
{
    if (!r->authz_deferred) /* root, on a bucket without a policy */
        return S3ERR_NONE;
    if (!k->built) { /* the same for every key: who, from where, when, the request's own values */
        build_context(r, NULL, &(values_t){authz_header, r}, &k->ctx);
        k->built = 1;
    }
    const char *saved_key = r->route.key;
    size_t saved_key_len = r->route.key_len;
    r->route.key = key;
    r->route.key_len = key_len;
    s3err_t err = with_bucket(r, decide, &(decision_t){NULL, &k->ctx, NULL});
    r->route.key = saved_key;
    r->route.key_len = saved_key_len;
    return err;
}

int authz_object_acl(const store_object_t *obj, acl_t *out)
{
    for (size_t i = 0; i < obj->num_headers; i++) {
        const store_kv_t *h = &obj->headers[i];
        if (h2o_memis(h->name, h->name_len, H2O_STRLIT(AUTHZ_ACL_HEADER)))
            return acl_decode((const uint8_t *)h->value, h->value_len, out) == 0 ? 0 : -ENOENT;
    }
    return -ENOENT;
}

int authz_get_object(s3_req_t *r, store_object_t *obj)
{
    int rc = store_object_get(r->thread->server->store, r->route.bucket, r->route.key, r->route.key_len, obj);
    s3err_t denied = authz_object(r, rc == 0 ? obj : NULL); /* before telling whether the key exists */
    if (denied == S3ERR_NONE && rc == 0)
        return 0;
    if (rc == 0)
        store_object_free(obj);
    s3_send_error(r, denied != S3ERR_NONE ? denied : s3err_from_store(rc), NULL);
    return -1;
}

s3err_t authz_source(s3_req_t *r, const char *bucket, const char *key, size_t key_len, const store_object_t *obj)
{
    route_t saved = r->route;
    r->route.op = S3OP_GET_OBJECT;
    r->route.bucket = bucket;
    r->route.bucket_len = strlen(bucket);
    r->route.key = key;
    r->route.key_len = key_len;
    s3err_t err = with_bucket(r, decide, &(decision_t){obj, NULL, NULL}); /* for root, too: the source bucket's policy may deny */
    r->route = saved;
    return err;
}

/* bucket_fn: copies what the bucket operations need into arg (an authz_bucket_info_t). */
static s3err_t copy_info(s3_req_t *r, const bucket_access_t *b, void *arg)
{
    (void)r;
    authz_bucket_info_t *out = arg;
    out->exists = b->exists;
    memcpy(out->owner_id, b->owner_id, sizeof(out->owner_id));
    memcpy(out->owner_name, b->owner_name, sizeof(out->owner_name));
    out->block_public_acls = (b->pab & PAB_BLOCK_ACLS) != 0;
    out->block_public_policy = (b->pab & PAB_BLOCK_POLICY) != 0;
    out->acls_disabled = b->acls_disabled;
    out->owner_preferred = b->owner_preferred;
    out->has_policy = b->policy != NULL;
    out->policy_public = b->policy_public;
    return S3ERR_NONE;
}

void authz_bucket_info(s3_req_t *r, authz_bucket_info_t *out)
{
    memset(out, 0, sizeof(*out));
    with_bucket(r, copy_info, out);
}

s3err_t authz_acl_error(acl_err_t err)
{
    switch (err) {
    case ACL_OK:
        return S3ERR_NONE;
    case ACL_ERR_MALFORMED:
        return S3ERR_MALFORMED_ACL;
    case ACL_ERR_UNRESOLVABLE_EMAIL:
        return S3ERR_UNRESOLVABLE_GRANT;
    case ACL_ERR_ACCESS_DENIED:
        return S3ERR_ACCESS_DENIED;
    case ACL_ERR_INVALID_REQUEST:
        return S3ERR_INVALID_REQUEST;
    default:
        return S3ERR_INVALID_ARGUMENT;
    }
}

const char *authz_header(void *ctx, const char *name, size_t *len)
{
    return s3_header(ctx, name, len);
}

s3err_t authz_new_object_acl(s3_req_t *r, store_kv_t *out, int *has_acl, const char **message)
{
    return authz_new_object_acl_with(r, authz_header, r, out, has_acl, message);
}

s3err_t authz_new_object_acl_with(s3_req_t *r, acl_header_fn header, void *header_ctx, store_kv_t *out, int *has_acl,
                                  const char **message)
{
    authz_bucket_info_t b;
    acl_t acl_buf, *acl = &acl_buf;
    uint8_t enc[ACL_ENCODED_MAX];
    int none = 0;
    size_t canned_len;
    const char *canned = header(header_ctx, ACL_HEADER_CANNED, &canned_len);
    *message = NULL;
    *has_acl = 0;
    authz_bucket_info(r, &b);
    /* the writer owns the object, except where the bucket owner takes everything (or is handed it) */
    int to_bucket_owner =
        !r->authenticated || b.acls_disabled ||
        (b.owner_preferred && canned != NULL && h2o_memis(canned, canned_len, H2O_STRLIT("bucket-owner-full-control")));
    const char *owner_id = to_bucket_owner ? b.owner_id : r->user.canonical_id;
    const char *owner_name = to_bucket_owner ? b.owner_name : r->user.name;
    acl_err_t e = acl_from_headers(header, header_ctx, authz_resolve_grantee, r->thread->server->keys, owner_id, owner_name,
                                   b.owner_id, b.owner_name, acl, &none, message);
    if (e != ACL_OK)
        return authz_acl_error(e);
    if (none && strcmp(owner_id, b.owner_id) == 0)
        return S3ERR_NONE; /* the bucket owner's, private: what an object without an ACL has, so nothing is stored */
    if (none)
        acl_canned(H2O_STRLIT("private"), owner_id, owner_name, b.owner_id, b.owner_name, acl);
    if (b.acls_disabled && !none && !(canned != NULL && h2o_memis(canned, canned_len, H2O_STRLIT("bucket-owner-full-control")))) {
        *message = "This bucket does not allow ACLs";
        return S3ERR_ACL_NOT_SUPPORTED;
    }
    if (b.block_public_acls && acl_is_public(acl))
        return S3ERR_ACCESS_DENIED;
    if (strcmp(acl->owner_id, b.owner_id) == 0 && acl->num_grants == 1 && acl->grants[0].type == ACL_GRANTEE_USER &&
        strcmp(acl->grants[0].id, b.owner_id) == 0 && acl->grants[0].perm == ACL_FULL_CONTROL)
        return S3ERR_NONE; /* the bucket owner's, private: what an object without an ACL has, so nothing is stored */
    size_t n = acl_encode(acl, enc, sizeof(enc));
    *out = (store_kv_t){H2O_STRLIT(AUTHZ_ACL_HEADER), h2o_mem_alloc_pool(&r->req->pool, n), n};
    memcpy((char *)out->value, enc, n);
    *has_acl = 1;
    return S3ERR_NONE;
}
