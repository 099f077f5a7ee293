/* server/getstream.c -- the GET generator: chunk reads on workers, sends on the loop.
 *
 * DESIGN: two slots of at most one block (1 MiB) each. While h2o sends one,
 * a worker reads and checksums the next, so disk and socket overlap and memory
 * per stream stays at 2 MiB whatever the object's size. One read is in flight
 * at a time, alternating slots, so data leaves in order. Reads after the
 * first are block-aligned. A slot holds a view (store_object_view): usually
 * the block mapped from its chunk file and checksummed in place, so the bytes
 * are copied once, into the socket, instead of page cache -> buffer -> socket
 * (on the test machines that copy cost more than everything else in a large
 * GET); only a piece that cannot be mapped is read into a buffer of its own.
 * A worker releases a slot's old view when it reuses the slot, keeping munmap
 * and free off the event loop.
 *
 * Cold data: each read also asks the store to prefetch up to GET_PREFETCH
 * bytes past it (never past the range asked for), a few MiB at a time, so
 * the disk reads in large requests while the blocks before are checksummed
 * and sent; a mapped block would otherwise fault its pages in a little at a time.
 *
 * Lifetime: the stream lives in shared memory linked to the request pool;
 * every read job holds a reference, so a client that disconnects mid-read
 * (h2o calls stop, then frees the pool) leaves the stream alive until that
 * job returns and sees `stopped`. The buffer handed to h2o stays valid until
 * proceed, or until the pool is freed for the final one. */
#include "server/getstream.h"

#include <stdlib.h>
#include <string.h>

#include "server/log.h"

enum { BUF_FREE = 0, BUF_READING, BUF_READY, BUF_SENDING };

#define GET_PREFETCH (16u << 20) /* how far ahead of the reads the disk may be asked to read */

typedef struct getstream {
    h2o_generator_t super;
    s3_req_t *r;             /* borrowed; not touched after stop */
    server_thread_t *thread; /* borrowed */
    store_object_t obj;      /* owned */
    uint64_t read_pos, end;  /* next byte to read; end exclusive */
    uint64_t prefetched;     /* the prefetch asked for everything before this */
    uint64_t remaining_to_send;
    struct {
        store_view_t view; /* owned: what is sent */
        size_t len;
        int state;
    } buf[2];
    int fill_idx, send_idx;
    int started, stopped, read_in_flight, in_pump;
} getstream_t;

typedef struct read_job {
    iopool_job_t super;
    getstream_t *gs;
    int idx;
    uint64_t offset;
    size_t len;
    uint64_t prefetch_from, prefetch_len; /* store_object_prefetch first, when prefetch_len is not 0 */
    int rc;
} read_job_t;

static void pump(getstream_t *gs);

static void gs_dispose(void *p)
{
    getstream_t *gs = p;
    for (int i = 0; i < 2; ++i)
        store_view_release(&gs->buf[i].view);
    store_object_free(&gs->obj);
}

static void read_work(iopool_job_t *job)
{
    read_job_t *rj = (read_job_t *)job;
    getstream_t *gs = rj->gs;
    store_view_release(&gs->buf[rj->idx].view); /* sent already: the slot is free */
    if (rj->prefetch_len != 0)
        store_object_prefetch(gs->thread->server->store, &gs->obj, rj->prefetch_from, rj->prefetch_len);
    rj->rc = store_object_view(gs->thread->server->store, &gs->obj, rj->offset, rj->len, &gs->buf[rj->idx].view);
}

static void read_done(iopool_job_t *job)
{
    read_job_t *rj = (read_job_t *)job;
    getstream_t *gs = rj->gs;
    s3_job_finished(gs->thread);
    gs->read_in_flight = 0;
    if (!gs->stopped) {
        if (rj->rc != 0) {
            log_error("GET %s: reading object data failed (%d); stream aborted", gs->r->request_id, rj->rc);
            gs->stopped = 1;
            if (!gs->started) {
                if (rj->rc == STORE_E_CORRUPT)
                    s3_send_error(gs->r, S3ERR_INTERNAL_ERROR, "The object's stored data failed verification.");
                else
                    s3_send_error(gs->r, s3err_from_store(rj->rc), NULL);
            } else {
                h2o_send(gs->r->req, NULL, 0, H2O_SEND_STATE_ERROR); /* the client sees a short body, never wrong bytes */
            }
        } else {
            gs->buf[rj->idx].len = rj->len;
            gs->buf[rj->idx].state = BUF_READY;
            pump(gs);
        }
    }
    free(rj);
    h2o_mem_release_shared(gs);
}

static void start_read(getstream_t *gs)
{
    int idx = gs->fill_idx;
    uint64_t stop = store_object_block_end(&gs->obj, gs->read_pos); /* one whole checksum block when it can */
    if (stop > gs->end)
        stop = gs->end;
    if (stop - gs->read_pos > STORE_READ_BLOCK) /* the buffers' size */
        stop = gs->read_pos + STORE_READ_BLOCK;
    size_t len = (size_t)(stop - gs->read_pos);
    read_job_t *rj = calloc(1, sizeof(*rj));
    if (rj == NULL)
        abort();
    rj->super.work = read_work;
    rj->super.done = read_done;
    rj->gs = gs;
    rj->idx = idx;
    rj->offset = gs->read_pos;
    rj->len = len;
    uint64_t next = gs->read_pos + len; /* the prefetch is for the reads after this one: a GET of one read has none */
    if (gs->prefetched < next)
        gs->prefetched = next;
    if (gs->prefetched < gs->end && gs->prefetched - next < GET_PREFETCH / 2) { /* half the window left: refill it */
        uint64_t to = gs->end - next > GET_PREFETCH ? next + GET_PREFETCH : gs->end;
        rj->prefetch_from = gs->prefetched;
        rj->prefetch_len = to - gs->prefetched;
        gs->prefetched = to;
    }
    gs->buf[idx].state = BUF_READING;
    gs->read_pos += len;
    gs->fill_idx ^= 1;
    gs->read_in_flight = 1;
    h2o_mem_addref_shared(gs);
    s3_submit(gs->r, &rj->super);
}

static void pump(getstream_t *gs)
{
    if (gs->in_pump || gs->stopped)
        return;
    gs->in_pump = 1;
    int idx = gs->send_idx;
    if (gs->buf[idx].state == BUF_READY && gs->buf[idx ^ 1].state != BUF_SENDING) {
        if (!gs->started) {
            gs->started = 1;
            h2o_start_response(gs->r->req, &gs->super);
        }
        gs->buf[idx].state = BUF_SENDING;
        gs->send_idx ^= 1;
        gs->remaining_to_send -= gs->buf[idx].len;
        h2o_iovec_t vec = h2o_iovec_init(gs->buf[idx].view.data, gs->buf[idx].len);
        h2o_send(gs->r->req, &vec, 1, gs->remaining_to_send == 0 ? H2O_SEND_STATE_FINAL : H2O_SEND_STATE_IN_PROGRESS);
    }
    if (!gs->read_in_flight && gs->read_pos < gs->end && gs->buf[gs->fill_idx].state == BUF_FREE)
        start_read(gs);
    gs->in_pump = 0;
}

static void on_proceed(h2o_generator_t *self, h2o_req_t *req)
{
    (void)req;
    getstream_t *gs = (getstream_t *)self;
    for (int i = 0; i < 2; ++i) {
        if (gs->buf[i].state == BUF_SENDING)
            gs->buf[i].state = BUF_FREE;
    }
    pump(gs);
}

static void on_stop(h2o_generator_t *self, h2o_req_t *req)
{
    (void)req;
    getstream_t *gs = (getstream_t *)self;
    gs->stopped = 1;
}

void getstream_start(s3_req_t *r, store_object_t *obj, uint64_t first, uint64_t len)
{
    getstream_t *gs = h2o_mem_alloc_shared(&r->req->pool, sizeof(*gs), gs_dispose);
    memset(gs, 0, sizeof(*gs));
    gs->super.proceed = on_proceed;
    gs->super.stop = on_stop;
    gs->r = r;
    gs->thread = r->thread;
    gs->obj = *obj;
    memset(obj, 0, sizeof(*obj));
    gs->read_pos = first;
    gs->prefetched = first;
    gs->end = first + len;
    gs->remaining_to_send = len;
    r->req->res.content_length = len;
    pump(gs);
}
