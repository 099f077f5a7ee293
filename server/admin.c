/* server/admin.c -- the admin endpoints: a scrub of the running server, users and access keys. See admin.h. */
#include "server/admin.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/authz.h"
#include "server/log.h"
#include "server/serve.h"
#include "storage/users.h"

typedef enum { SCRUB_IDLE, SCRUB_RUNNING, SCRUB_DONE, SCRUB_FAILED } scrub_state_t;

static const char *const state_names[] = {"idle", "running", "done", "failed"};

static struct {
    pthread_mutex_t lock;
    scrub_state_t state;
    int joinable;
    pthread_t tid;
    atomic_int stop;
    store_t *store;
    store_scrub_stats_t stats; /* under lock */
    json_t *reports;           /* array; under lock */
    uint64_t num_reports;      /* all found, kept or not */
    int64_t started, finished; /* unix seconds */
    int error;                 /* store_scrub's result when failed */
} scrub = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void on_progress(void *ctx, const store_scrub_stats_t *s)
{
    (void)ctx;
    pthread_mutex_lock(&scrub.lock);
    scrub.stats = *s;
    pthread_mutex_unlock(&scrub.lock);
}

static void on_damage(void *ctx, const store_scrub_damage_t *d)
{
    (void)ctx;
    char chunk[17], key[1024];
    snprintf(chunk, sizeof(chunk), "%016" PRIx64, d->chunk_id);
    log_escape(key, sizeof(key), d->key, d->key_len);
    if (d->bucket != NULL)
        log_warn("scrub: s3://%s/%s chunk %s, copy in %s: %s; %s", d->bucket, key, chunk, d->dir, d->problem, d->outcome);
    else
        log_warn("scrub: multipart upload %s part %u chunk %s, copy in %s: %s; %s", key, d->part_number, chunk, d->dir, d->problem,
                 d->outcome);
    json_t *o = json_pack("{s:s?, s:s%, s:i, s:s, s:I, s:s, s:s, s:s}", "bucket", d->bucket, "key", d->key, d->key_len,
                          "part_number", (json_int_t)d->part_number, "chunk", chunk, "offset", (json_int_t)d->chunk_offset, "dir",
                          d->dir, "problem", d->problem, "outcome", d->outcome);
    pthread_mutex_lock(&scrub.lock);
    if (o != NULL && json_array_size(scrub.reports) < ADMIN_SCRUB_MAX_REPORTS)
        json_array_append(scrub.reports, o);
    scrub.num_reports++;
    pthread_mutex_unlock(&scrub.lock);
    json_decref(o);
}

static void *scrub_main(void *arg)
{
    (void)arg;
    store_scrub_stats_t stats;
    store_scrub_cb_t cb = {.progress = on_progress, .damage = on_damage, .stop = &scrub.stop};
    log_info("scrub: started");
    int ret = store_scrub(scrub.store, &cb, &stats);
    pthread_mutex_lock(&scrub.lock);
    scrub.stats = stats;
    scrub.state = ret == 0 ? SCRUB_DONE : SCRUB_FAILED;
    scrub.error = ret;
    scrub.finished = (int64_t)time(NULL);
    pthread_mutex_unlock(&scrub.lock);
    log_info("scrub: %s: %" PRIu64 " objects, %" PRIu64 " chunks, %" PRIu64 " damaged copies, %" PRIu64 " repaired, %" PRIu64
             " chunks unrecoverable",
             ret == 0 ? "done" : "stopped", stats.objects, stats.chunks, stats.damaged, stats.repaired, stats.unrecoverable);
    return NULL;
}

/* Only root administers the server. Returns 1 when r may; otherwise answers AccessDenied. */
static int admin_allowed(s3_req_t *r)
{
    if (authz_is_root(r)) /* any of root's keys */
        return 1;
    s3_send_error(r, S3ERR_ACCESS_DENIED, NULL);
    return 0;
}

/* Answers with the scrub's state and the reports from index from on. Called with the lock held. */
static void send_status(s3_req_t *r, int status, uint64_t from, int started_now)
{
    json_t *reports = json_array();
    for (size_t i = (size_t)from; i < json_array_size(scrub.reports); i++)
        json_array_append(reports, json_array_get(scrub.reports, i));
    const store_scrub_stats_t *s = &scrub.stats;
    json_t *o = json_pack("{s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "state",
                          state_names[scrub.state], "started_now", started_now, "started", (json_int_t)scrub.started, "finished",
                          (json_int_t)scrub.finished, "total_objects", (json_int_t)s->total_objects, "total_bytes",
                          (json_int_t)s->total_bytes, "objects", (json_int_t)s->objects, "bytes", (json_int_t)s->bytes, "chunks",
                          (json_int_t)s->chunks, "copies", (json_int_t)s->copies, "damaged", (json_int_t)s->damaged, "repaired",
                          (json_int_t)s->repaired, "unrecoverable", (json_int_t)s->unrecoverable, "bad_records",
                          (json_int_t)s->bad_records, "unchecked", (json_int_t)s->unchecked, "reports_total",
                          (json_int_t)scrub.num_reports, "reports_from", (json_int_t)from, "reports", reports);
    char *text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    pthread_mutex_unlock(&scrub.lock);
    if (text == NULL) {
        s3_send_error(r, S3ERR_INTERNAL_ERROR, NULL);
        return;
    }
    h2o_add_header(&r->req->pool, &r->req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("application/json"));
    s3_send_body(r, status, text, strlen(text));
    free(text);
}

void admin_scrub_start(s3_req_t *r)
{
    if (!admin_allowed(r))
        return;
    pthread_mutex_lock(&scrub.lock);
    if (scrub.state == SCRUB_RUNNING) {
        send_status(r, 202, 0, 0);
        return;
    }
    if (scrub.joinable)
        pthread_join(scrub.tid, NULL); /* a finished run: its thread has returned */
    json_decref(scrub.reports);
    scrub.reports = json_array();
    scrub.num_reports = 0;
    memset(&scrub.stats, 0, sizeof(scrub.stats));
    scrub.store = r->thread->server->store;
    scrub.started = (int64_t)time(NULL);
    scrub.finished = 0;
    atomic_store(&scrub.stop, 0);
    scrub.state = SCRUB_RUNNING;
    scrub.joinable = pthread_create(&scrub.tid, NULL, scrub_main, NULL) == 0;
    if (!scrub.joinable) {
        scrub.state = SCRUB_FAILED;
        pthread_mutex_unlock(&scrub.lock);
        s3_send_error(r, S3ERR_INTERNAL_ERROR, "Could not start the scrub thread.");
        return;
    }
    send_status(r, 202, 0, 1);
}

void admin_scrub_status(s3_req_t *r)
{
    if (!admin_allowed(r))
        return;
    uint64_t from = 0;
    size_t len;
    const char *v = route_param(&r->route, "from", &len);
    if (v != NULL && s3_parse_uint(v, len, UINT64_MAX, &from) != 0) {
        s3_send_error(r, S3ERR_INVALID_ARGUMENT, "from must be a report index.");
        return;
    }
    pthread_mutex_lock(&scrub.lock);
    send_status(r, 200, from, 0);
}

void admin_shutdown(void)
{
    pthread_mutex_lock(&scrub.lock);
    int joinable = scrub.joinable;
    scrub.joinable = 0;
    atomic_store(&scrub.stop, 1);
    pthread_mutex_unlock(&scrub.lock);
    if (joinable)
        pthread_join(scrub.tid, NULL);
}

/* ------------------------------------------------------------------ users and access keys */

/* Held across a store change and its credential-table change, so that two requests cannot
 * apply them in different orders (a key added to a user being removed would live on in memory). */
static pthread_mutex_t users_lock = PTHREAD_MUTEX_INITIALIZER;

static const char name_rule[] = "A user name is 1 to 64 characters of A-Z, a-z, 0-9 and _.@+=,-";

static json_int_t unix_secs(int64_t ns)
{
    return (json_int_t)(ns / 1000000000);
}

static json_t *user_json(const users_user_t *u)
{
    return json_pack("{s:s, s:s, s:s, s:s?, s:I}", "name", u->name, "display_name", u->name, "canonical_id", u->canonical_id,
                     "email", u->email[0] != '\0' ? u->email : NULL, "created", unix_secs(u->created_ns));
}

typedef struct list_ctx {
    json_t *users;   /* array */
    json_t *by_name; /* name -> the user's object in users */
} list_ctx_t;

static int on_list_user(void *p, const users_user_t *u)
{
    list_ctx_t *c = p;
    json_t *o = user_json(u);
    json_object_set_new(o, "access_keys", json_array());
    json_array_append(c->users, o);
    json_object_set_new(c->by_name, u->name, o);
    return 0;
}

static int on_list_key(void *p, const users_key_t *k)
{
    list_ctx_t *c = p;
    json_t *o = json_object_get(c->by_name, k->user);
    if (o == NULL)
        return 0; /* a key of no user: never written so, and useless (the server does not load it) */
    json_t *kj = json_pack("{s:s, s:I}", "access_key", k->access_key, "created", unix_secs(k->created_ns));
    if (k->flags & USERS_KEY_CONFIGURED)
        json_object_set_new(kj, "configured", json_true());
    json_array_append_new(json_object_get(o, "access_keys"), kj);
    return 0;
}

static int list_users(store_t *st, json_t **reply)
{
    list_ctx_t c = {json_array(), json_object()};
    int ret = users_list(st, on_list_user, &c);
    if (ret == 0)
        ret = users_key_list(st, NULL, on_list_key, &c);
    json_decref(c.by_name);
    if (ret == 0)
        *reply = json_pack("{s:o}", "users", c.users);
    else
        json_decref(c.users);
    return ret;
}

/* The key a request gives, or a generated one for what it leaves out. Returns 0 or -EINVAL (msg set). */
static int fill_key(const admin_users_req_t *q, users_key_t *k, char *msg, size_t msg_len)
{
    users_key_t gen;
    int ret = -EINVAL;
    memset(k, 0, sizeof(*k));
    users_generate_key(&gen);
    const char *ak = q->access_key != NULL ? q->access_key : gen.access_key;
    const char *sk = q->secret_key != NULL ? q->secret_key : gen.secret;
    if (!users_access_key_valid(ak)) {
        snprintf(msg, msg_len, "An access key is 16 to 128 characters of A-Z and 0-9.");
    } else if (!users_secret_valid(sk)) {
        snprintf(msg, msg_len, "A secret key is 1 to 128 printable ASCII characters.");
    } else {
        snprintf(k->access_key, sizeof(k->access_key), "%s", ak);
        snprintf(k->secret, sizeof(k->secret), "%s", sk);
        ret = 0;
    }
    explicit_bzero(&gen, sizeof(gen));
    return ret;
}

static int add_user(store_t *st, keys_t *keys, const admin_users_req_t *q, json_t **reply, char *msg, size_t msg_len)
{
    const char *email = q->email != NULL ? q->email : "";
    users_user_t u;
    users_key_t k;
    int ret;
    if (!users_name_valid(q->name)) {
        snprintf(msg, msg_len, "%s.", name_rule);
        return -EINVAL;
    }
    if (email[0] != '\0' && !users_email_valid(email)) {
        snprintf(msg, msg_len, "The e-mail address is not valid.");
        return -EINVAL;
    }
    if ((ret = fill_key(q, &k, msg, msg_len)) != 0)
        return ret;
    ret = users_add(st, q->name, email, &k, &u);
    if (ret == -EEXIST) {
        if (users_get(st, q->name, NULL) == 0)
            snprintf(msg, msg_len, "The user %s exists.", q->name);
        else if (email[0] != '\0' && users_find(st, email, NULL) == 0)
            snprintf(msg, msg_len, "Another user has the e-mail address %s.", email);
        else
            snprintf(msg, msg_len, "The access key %s is in use.", k.access_key);
    } else if (ret == 0) {
        if (keys != NULL)
            keys_add(keys, k.access_key, k.secret, u.name, u.canonical_id, u.email);
        *reply = user_json(&u);
        json_object_set_new(*reply, "access_key", json_string(k.access_key));
        json_object_set_new(*reply, "secret_key", json_string(k.secret));
    }
    explicit_bzero(&k, sizeof(k));
    return ret;
}

static int remove_user(store_t *st, keys_t *keys, const admin_users_req_t *q, json_t **reply, char *msg, size_t msg_len)
{
    size_t num = 0;
    if (!users_name_valid(q->name)) {
        snprintf(msg, msg_len, "%s.", name_rule);
        return -EINVAL;
    }
    int ret = users_remove(st, q->name, &num);
    if (ret == -EPERM)
        snprintf(msg, msg_len, "The root user cannot be removed.");
    else if (ret == -ENOENT)
        snprintf(msg, msg_len, "The user %s does not exist.", q->name);
    if (ret != 0)
        return ret;
    if (keys != NULL) {
        keys_remove_user(keys, q->name);
        authz_invalidate(); /* the bucket cache holds owners' display names */
    }
    *reply = json_pack("{s:s, s:I}", "name", q->name, "removed_access_keys", (json_int_t)num);
    return 0;
}

static int add_key(store_t *st, keys_t *keys, const admin_users_req_t *q, json_t **reply, char *msg, size_t msg_len)
{
    users_user_t u;
    users_key_t k;
    if (!users_name_valid(q->name)) {
        snprintf(msg, msg_len, "%s.", name_rule);
        return -EINVAL;
    }
    int ret = users_get(st, q->name, &u);
    if (ret == -ENOENT)
        snprintf(msg, msg_len, "The user %s does not exist.", q->name);
    if (ret != 0 || (ret = fill_key(q, &k, msg, msg_len)) != 0)
        return ret;
    snprintf(k.user, sizeof(k.user), "%s", u.name);
    ret = users_key_put(st, &k);
    if (ret == -EEXIST)
        snprintf(msg, msg_len, "The access key %s is in use.", k.access_key);
    else if (ret == -ENOENT)
        snprintf(msg, msg_len, "The user %s does not exist.", q->name);
    if (ret == 0) {
        if (keys != NULL)
            keys_add(keys, k.access_key, k.secret, u.name, u.canonical_id, u.email);
        *reply = json_pack("{s:s, s:s, s:s, s:I}", "user", u.name, "access_key", k.access_key, "secret_key", k.secret, "created",
                           unix_secs(k.created_ns));
    }
    explicit_bzero(&k, sizeof(k));
    return ret;
}

static int remove_key(store_t *st, keys_t *keys, const admin_users_req_t *q, json_t **reply, char *msg, size_t msg_len)
{
    users_key_t k;
    const char *ak = q->access_key != NULL ? q->access_key : "";
    int ret = users_key_remove(st, ak, &k);
    if (ret == -ENOENT)
        snprintf(msg, msg_len, "The access key %s does not exist.", ak);
    else if (ret == -EPERM)
        snprintf(msg, msg_len,
                 "The access key %s is root's configured key: give the server another one (COFFER_ROOT_ACCESS_KEY) "
                 "and restart it instead.",
                 ak);
    if (ret != 0)
        return ret;
    if (keys != NULL)
        keys_remove(keys, ak);
    *reply = json_pack("{s:s, s:s}", "access_key", k.access_key, "user", k.user);
    return 0;
}

int admin_users_run(store_t *st, keys_t *keys, const admin_users_req_t *req, json_t **reply, char *msg, size_t msg_len)
{
    int ret = -EINVAL;
    *reply = NULL;
    msg[0] = '\0';
    pthread_mutex_lock(&users_lock);
    switch (req->op) {
    case ADMIN_USERS_LIST:
        ret = list_users(st, reply);
        break;
    case ADMIN_USER_ADD:
        ret = add_user(st, keys, req, reply, msg, msg_len);
        break;
    case ADMIN_USER_REMOVE:
        ret = remove_user(st, keys, req, reply, msg, msg_len);
        break;
    case ADMIN_KEY_ADD:
        ret = add_key(st, keys, req, reply, msg, msg_len);
        break;
    case ADMIN_KEY_REMOVE:
        ret = remove_key(st, keys, req, reply, msg, msg_len);
        break;
    }
    pthread_mutex_unlock(&users_lock);
    if (ret == 0 && *reply == NULL)
        ret = -ENOMEM;
    if (ret != 0 && msg[0] == '\0')
        snprintf(msg, msg_len, "reading or writing the metadata failed: %s",
                 ret == STORE_E_CORRUPT ? "a user or key record is corrupt" : strerror(-ret));
    return ret;
}

/* --- the endpoint */

typedef struct users_job {
    iopool_job_t super;
    s3_req_t *r; /* borrowed: alive until the answer is sent (handler.h) */
    admin_users_req_t q;
    char name[USERS_NAME_MAX + 1];
    char email[USERS_EMAIL_MAX + 1];
    char access_key[USERS_ACCESS_KEY_MAX + 1];
    char secret_key[USERS_SECRET_MAX + 1];
    int ret;
    json_t *reply; /* owned */
    char msg[512];
} users_job_t;

#define USERS_BODY_MAX (64 * 1024)

/* Copies a string field of body into out (out_size bytes) and points *dst at it. Returns 0, or -1 with msg set. */
static int take_field(json_t *body, const char *field, char *out, size_t out_size, const char **dst, char *msg, size_t msg_len)
{
    json_t *v = json_object_get(body, field);
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= out_size ||
        strlen(json_string_value(v)) != json_string_length(v)) {
        snprintf(msg, msg_len, "%s must be a string of 1 to %zu characters.", field, out_size - 1);
        return -1;
    }
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    *dst = out;
    return 0;
}

/* Reads the JSON body of an add: a user's (with_user) or a key's. Returns 0, or -1 with msg set. */
static int parse_body(s3_req_t *r, users_job_t *j, int with_user, char *msg, size_t msg_len)
{
    static const char *const user_fields[] = {"name", "email", "access_key", "secret_key", NULL};
    static const char *const key_fields[] = {"access_key", "secret_key", NULL};
    const h2o_iovec_t *e = &r->req->entity;
    size_t len = e->base != NULL ? e->len : 0;
    if (len == 0 && !with_user)
        return 0; /* a key add with nothing given: generate both */
    if (len > USERS_BODY_MAX) {
        snprintf(msg, msg_len, "The request body is larger than %d bytes.", USERS_BODY_MAX);
        return -1;
    }
    json_error_t jerr;
    json_t *body = json_loadb(len != 0 ? e->base : "", len, JSON_REJECT_DUPLICATES, &jerr);
    int ret = -1;
    if (body == NULL || !json_is_object(body)) {
        snprintf(msg, msg_len, "The request body must be a JSON object%s%s.", body == NULL ? ": " : "",
                 body == NULL ? jerr.text : "");
        goto Exit;
    }
    const char *field;
    json_t *v;
    json_object_foreach(body, field, v)
    {
        const char *const *f = with_user ? user_fields : key_fields;
        while (*f != NULL && strcmp(*f, field) != 0)
            f++;
        if (*f == NULL) {
            char name[64];
            log_escape(name, sizeof(name), field, strlen(field));
            snprintf(msg, msg_len, "Unknown field %s in the request body.", name);
            goto Exit;
        }
    }
    if ((with_user && (take_field(body, "name", j->name, sizeof(j->name), &j->q.name, msg, msg_len) != 0 ||
                       take_field(body, "email", j->email, sizeof(j->email), &j->q.email, msg, msg_len) != 0)) ||
        take_field(body, "access_key", j->access_key, sizeof(j->access_key), &j->q.access_key, msg, msg_len) != 0 ||
        take_field(body, "secret_key", j->secret_key, sizeof(j->secret_key), &j->q.secret_key, msg, msg_len) != 0)
        goto Exit;
    if (with_user && j->q.name == NULL) {
        snprintf(msg, msg_len, "The request body must name the user (\"name\").");
        goto Exit;
    }
    ret = 0;
Exit:
    json_decref(body); /* the copy of a secret in it is freed unwiped: jansson offers no hook */
    return ret;
}

/* Copies the user name or access key of the path into out. Returns 0, or -1 with msg set. */
static int take_path_item(s3_req_t *r, char *out, size_t out_size, const char **dst, char *msg, size_t msg_len)
{
    if (r->route.key_len == 0 || r->route.key_len >= out_size || memchr(r->route.key, '\0', r->route.key_len) != NULL) {
        snprintf(msg, msg_len, "%s", out_size == USERS_NAME_MAX + 1 ? name_rule : "An access key is 1 to 128 characters.");
        return -1;
    }
    memcpy(out, r->route.key, r->route.key_len);
    out[r->route.key_len] = '\0';
    *dst = out;
    return 0;
}

static void users_job_work(iopool_job_t *job)
{
    users_job_t *j = (users_job_t *)job;
    server_t *s = j->r->thread->server;
    j->ret = admin_users_run(s->store, s->keys, &j->q, &j->reply, j->msg, sizeof(j->msg));
}

/* One info line per change: names and access key ids, never a secret. */
static void log_change(const users_job_t *j)
{
    const char *ak = json_string_value(json_object_get(j->reply, "access_key"));
    const char *user = json_string_value(json_object_get(j->reply, "user"));
    switch (j->q.op) {
    case ADMIN_USER_ADD:
        log_info("users: user %s added, with access key %s", j->q.name, ak ? ak : "?");
        break;
    case ADMIN_USER_REMOVE:
        log_info("users: user %s removed, with its %" JSON_INTEGER_FORMAT " access keys", j->q.name,
                 json_integer_value(json_object_get(j->reply, "removed_access_keys")));
        break;
    case ADMIN_KEY_ADD:
        log_info("users: access key %s added to user %s", ak ? ak : "?", user ? user : "?");
        break;
    case ADMIN_KEY_REMOVE:
        log_info("users: access key %s of user %s removed", ak ? ak : "?", user ? user : "?");
        break;
    case ADMIN_USERS_LIST:
        break;
    }
}

static void users_job_done(iopool_job_t *job)
{
    users_job_t *j = (users_job_t *)job;
    s3_req_t *r = j->r;
    s3_job_finished(r->thread);
    if (j->ret == 0) {
        log_change(j);
        char *text = json_dumps(j->reply, JSON_COMPACT);
        if (text != NULL) {
            h2o_add_header(&r->req->pool, &r->req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("application/json"));
            s3_send_body(r, 200, text, strlen(text));
            explicit_bzero(text, strlen(text));
            free(text);
        } else {
            s3_send_error(r, S3ERR_INTERNAL_ERROR, NULL);
        }
    } else if (j->ret == -EINVAL) {
        s3_send_error(r, S3ERR_INVALID_ARGUMENT, j->msg);
    } else if (j->ret == -EPERM) {
        s3_send_error(r, S3ERR_ACCESS_DENIED, j->msg);
    } else if (j->ret == -ENOENT) {
        s3_send_error(r, S3ERR_NO_SUCH_ENTITY, j->msg);
    } else if (j->ret == -EEXIST) {
        s3_send_error(r, S3ERR_ENTITY_ALREADY_EXISTS, j->msg);
    } else {
        log_error("users: %s", j->msg);
        s3_send_error(r, S3ERR_INTERNAL_ERROR, NULL);
    }
    json_decref(j->reply);
    explicit_bzero(j, sizeof(*j));
    free(j);
}

void admin_users(s3_req_t *r)
{
    if (!admin_allowed(r))
        return;
    users_job_t *j = calloc(1, sizeof(*j));
    char msg[256] = "";
    int bad = 0;
    if (j == NULL)
        abort();
    j->r = r;
    switch (r->route.op) {
    case S3OP_ADMIN_USER_ADD:
        j->q.op = ADMIN_USER_ADD;
        bad = parse_body(r, j, 1, msg, sizeof(msg));
        break;
    case S3OP_ADMIN_USER_REMOVE:
        j->q.op = ADMIN_USER_REMOVE;
        bad = take_path_item(r, j->name, sizeof(j->name), &j->q.name, msg, sizeof(msg));
        break;
    case S3OP_ADMIN_KEY_ADD:
        j->q.op = ADMIN_KEY_ADD;
        bad = take_path_item(r, j->name, sizeof(j->name), &j->q.name, msg, sizeof(msg)) || parse_body(r, j, 0, msg, sizeof(msg));
        break;
    case S3OP_ADMIN_KEY_REMOVE:
        j->q.op = ADMIN_KEY_REMOVE;
        bad = take_path_item(r, j->access_key, sizeof(j->access_key), &j->q.access_key, msg, sizeof(msg));
        break;
    default:
        j->q.op = ADMIN_USERS_LIST;
        break;
    }
    if (bad) {
        explicit_bzero(j, sizeof(*j));
        free(j);
        s3_send_error(r, S3ERR_INVALID_ARGUMENT, msg);
        return;
    }
    j->super.work = users_job_work;
    j->super.done = users_job_done;
    s3_submit(r, &j->super);
}
