/* server/admin.c -- the admin endpoints: a scrub of the running server. See admin.h. */
#include "server/admin.h"

#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/log.h"
#include "server/serve.h"

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
    if (r->authenticated && strcmp(r->user.access_key, r->thread->server->root.access_key) == 0)
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
