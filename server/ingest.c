/* server/ingest.c -- a large PutObject body written into chunk files while it is still arriving (see ingest.h).
 *
 * What h2o 2.2.5 does with an HTTP/1 request body (lib/http1.c, lib/common/memory.c):
 * the request head and the body stay together in the socket's input buffer
 * (input->bytes: head, then body), and conn->_reqsize is the head's length plus
 * Content-Length while the body is read. From 32 MiB on, the buffer is a
 * MAP_SHARED mapping of an unlinked temp file whose first bytes are the
 * h2o_buffer_t itself; it grows by resizing the same file and mapping it anew,
 * so a byte keeps its file offset while its address changes. The connection
 * struct is private to lib/http1.c; its first members are mirrored here for
 * h2o 2.2 only (with any other version no ingest ever starts).
 *
 * So an ingest dup()s the temp file and maps it itself: its threads read the
 * body at file offsets that never move, through a mapping h2o never unmaps. It
 * starts only when input->bytes is input->_buf (h2o then never moves the bytes
 * within the file), and it is told the file size reached by watching
 * input->size from the loop. The file's inode tells one request's buffer from
 * any later one's (the dup keeps the inode alive, so no other file can have it). */
#include "server/ingest.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/checksum.h"
#include "auth/text.h"
#include "server/log.h"
#include "server/router.h"

/* picohttpparser, which libh2o carries and exports; Debian installs no header for it. */
struct phr_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};
int phr_parse_request(const char *buf, size_t len, const char **method, size_t *method_len, const char **path, size_t *path_len,
                      int *minor_version, struct phr_header *headers, size_t *num_headers, size_t last_len);

#define INGEST_MAX_LIVE 16           /* ingests at once, server-wide: each has two threads */
#define INGEST_HASH_STEP (8u << 20)  /* bytes hashed between looks at the lock */
#define INGEST_PUNCH_MIN (16u << 20) /* temp-file bytes punched out at once */
#define INGEST_MAX_LEAD (64u << 20)  /* how far one thread may run ahead of the other */

static atomic_int live_ingests;
static pthread_mutex_t idle_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t idle_cond = PTHREAD_COND_INITIALIZER;

struct ingest {
    h2o_linklist_t link; /* on the loop's list until taken */
    /* the request: its connection, which request of it, and its buffer's temp file */
    void *conn;
    uint64_t req_index;
    dev_t dev;
    ino_t ino;
    size_t head_len; /* the body starts at input->_buf + head_len */
    int refused;     /* not eligible: only remembered so the head is parsed once */
    uint64_t size;
    /* the temp file, as the threads see it */
    int fd;
    uint8_t *map;
    size_t map_len;
    uint64_t body_off; /* the body's offset in the file */
    int want_sha256;
    store_stager_t *sg;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    /* under lock */
    uint64_t avail;   /* body bytes in the file */
    uint64_t written; /* staged by the chunk thread */
    uint64_t hashed;  /* hashed by the hash thread */
    uint64_t punched; /* file offset up to which the body's pages were punched out */
    int cancelled;
    int threads_left;
    int refs;
    int ret;           /* the chunk thread's error */
    int hash_complete; /* the hash thread saw every byte */
    uint8_t md5[16];
    char sha256[64]; /* lower-case hex */
};

/* ------------------------------------------------------------------ h2o 2.2's HTTP/1 connection */

#if H2O_VERSION_MAJOR == 2 && H2O_VERSION_MINOR == 2
#define INGEST_SUPPORTED 1
/* The leading members of struct st_h2o_http1_conn_t in h2o 2.2 (lib/http1.c). */
struct http1_conn_head {
    h2o_conn_t super;
    h2o_socket_t *sock;
    h2o_linklist_t _conns;
    h2o_timeout_t *_timeout;
    h2o_timeout_entry_t _timeout_entry;
    uint64_t _req_index;
    size_t _prevreqlen;
    size_t _reqsize;
    void *_req_entity_reader;
};
#else
#define INGEST_SUPPORTED 0
struct http1_conn_head {
    h2o_conn_t super;
};
#endif

/* ------------------------------------------------------------------ life */

static void ingest_free(ingest_t *in)
{
    if (in->sg != NULL)
        store_stager_abort(in->sg);
    if (in->map != NULL)
        munmap(in->map, in->map_len);
    if (in->fd >= 0)
        close(in->fd);
    pthread_mutex_destroy(&in->lock);
    pthread_cond_destroy(&in->cond);
    int refused = in->refused;
    free(in);
    if (refused)
        return;
    pthread_mutex_lock(&idle_lock);
    if (atomic_fetch_sub(&live_ingests, 1) == 1)
        pthread_cond_broadcast(&idle_cond);
    pthread_mutex_unlock(&idle_lock);
}

static void ingest_release(ingest_t *in)
{
    pthread_mutex_lock(&in->lock);
    int left = --in->refs;
    pthread_mutex_unlock(&in->lock);
    if (left == 0)
        ingest_free(in);
}

void ingest_cancel(ingest_t *in)
{
    if (in->refused) {
        ingest_free(in);
        return;
    }
    pthread_mutex_lock(&in->lock);
    in->cancelled = 1;
    pthread_cond_broadcast(&in->cond);
    pthread_mutex_unlock(&in->lock);
    ingest_release(in);
}

void ingest_list_init(ingest_list_t *l)
{
    h2o_linklist_init_anchor(&l->items);
}

void ingest_cancel_all(ingest_list_t *l)
{
    while (!h2o_linklist_is_empty(&l->items)) {
        ingest_t *in = H2O_STRUCT_FROM_MEMBER(ingest_t, link, l->items.next);
        h2o_linklist_unlink(&in->link);
        ingest_cancel(in);
    }
}

void ingest_wait_idle(void)
{
    pthread_mutex_lock(&idle_lock);
    while (atomic_load(&live_ingests) != 0)
        pthread_cond_wait(&idle_cond, &idle_lock);
    pthread_mutex_unlock(&idle_lock);
}

/* ------------------------------------------------------------------ the threads */

/* Punches out the temp-file pages both threads have passed (under in->lock): the
 * body then lives in memory once, in the chunk files' page cache, and is never
 * written back from the temp file. */
static void punch_passed(ingest_t *in)
{
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    uint64_t passed = in->written < in->hashed ? in->written : in->hashed;
    uint64_t from = in->punched, to = (in->body_off + passed) / page * page;
    if (from == 0)
        from = (in->body_off + page - 1) / page * page; /* never the page holding the head */
    if (to <= from || to - from < INGEST_PUNCH_MIN)
        return;
    if (fallocate(in->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)from, (off_t)(to - from)) == 0)
        in->punched = to;
    else
        in->punched = UINT64_MAX; /* not supported here: keep the pages */
}

/*
 * Waits until the file holds body bytes up to want, and the other thread has come within
 * INGEST_MAX_LEAD of want (other: its progress, under in->lock): what one thread has read stays
 * mapped and resident until both have passed it and it is punched out. Returns 0, or -1 when
 * the body is cancelled.
 */
static int wait_for_bytes(ingest_t *in, uint64_t want, const uint64_t *other)
{
    pthread_mutex_lock(&in->lock);
    while (!in->cancelled && (in->avail < want || (*other < in->size && *other + INGEST_MAX_LEAD < want)))
        pthread_cond_wait(&in->cond, &in->lock);
    int cancelled = in->cancelled;
    pthread_mutex_unlock(&in->lock);
    return cancelled ? -1 : 0;
}

/* Records a thread's progress (under in->lock), punches out what both have passed, and wakes the other. */
static void advance(ingest_t *in, uint64_t *mine, uint64_t to)
{
    pthread_mutex_lock(&in->lock);
    *mine = to;
    if (in->punched != UINT64_MAX)
        punch_passed(in);
    pthread_cond_broadcast(&in->cond);
    pthread_mutex_unlock(&in->lock);
}

/* A thread is done (mine: its progress, now final: the other thread no longer waits for it): wakes whoever waits in
 * ingest_finish, and drops the thread's reference. */
static void thread_done(ingest_t *in, uint64_t *mine)
{
    pthread_mutex_lock(&in->lock);
    *mine = in->size;
    in->threads_left--;
    pthread_cond_broadcast(&in->cond);
    pthread_mutex_unlock(&in->lock);
    ingest_release(in);
}

static void *chunk_thread(void *arg)
{
    ingest_t *in = arg;
    int ret = 0;
    for (size_t len; ret == 0 && (len = store_stager_next_len(in->sg)) != 0;) {
        if (wait_for_bytes(in, in->written + len, &in->hashed) != 0) {
            ret = -ECANCELED;
            break;
        }
        struct iovec iov = {in->map + in->body_off + in->written, len};
        if ((ret = store_stager_write(in->sg, &iov, 1)) == 0)
            advance(in, &in->written, in->written + len);
    }
    pthread_mutex_lock(&in->lock);
    in->ret = ret;
    pthread_mutex_unlock(&in->lock);
    thread_done(in, &in->written);
    return NULL;
}

static void *hash_thread(void *arg)
{
    ingest_t *in = arg;
    EVP_MD_CTX *md5 = EVP_MD_CTX_new(), *sha = in->want_sha256 ? EVP_MD_CTX_new() : NULL;
    if (md5 == NULL || EVP_DigestInit_ex(md5, EVP_md5(), NULL) != 1 || (in->want_sha256 && sha == NULL) ||
        (sha != NULL && EVP_DigestInit_ex(sha, EVP_sha256(), NULL) != 1))
        abort();
    uint64_t done = 0;
    while (done < in->size) {
        uint64_t step = in->size - done < INGEST_HASH_STEP ? in->size - done : INGEST_HASH_STEP;
        if (wait_for_bytes(in, done + step, &in->written) != 0)
            break;
        const uint8_t *p = in->map + in->body_off + done;
        EVP_DigestUpdate(md5, p, step);
        if (sha != NULL)
            EVP_DigestUpdate(sha, p, step);
        done += step;
        advance(in, &in->hashed, done);
    }
    uint8_t digest[32];
    in->hash_complete = done == in->size; /* read by ingest_finish after this thread is done */
    EVP_DigestFinal_ex(md5, in->md5, NULL);
    if (sha != NULL) {
        EVP_DigestFinal_ex(sha, digest, NULL);
        text_hex(digest, sizeof(digest), in->sha256);
    }
    EVP_MD_CTX_free(md5);
    EVP_MD_CTX_free(sha);
    thread_done(in, &in->hashed);
    return NULL;
}

/* ------------------------------------------------------------------ which bodies */

/* Whether header h's name is name (lower case). */
static int header_is(const struct phr_header *h, const char *name, size_t len)
{
    return h->name_len == len && h2o_lcstris(h->name, h->name_len, name, len);
}

/*
 * Reads the request head at the start of buf and says whether its body can be ingested:
 * a PutObject (routed as the handler will route it) with Content-Length, no transfer
 * coding, and a payload checked by hashes alone. Sets *head_len, *size, *want_sha256.
 */
static int eligible(const char *buf, size_t len, size_t reqsize, const char *domain, size_t *head_len, uint64_t *size,
                    int *want_sha256)
{
    const char *method, *path;
    size_t method_len, path_len, num_headers = H2O_MAX_HEADERS;
    int minor;
    struct phr_header headers[H2O_MAX_HEADERS];
    int n = phr_parse_request(buf, len < H2O_MAX_REQLEN ? len : H2O_MAX_REQLEN, &method, &method_len, &path, &path_len, &minor,
                              headers, &num_headers, 0);
    if (n <= 0 || !h2o_memis(method, method_len, H2O_STRLIT("PUT")) || path_len == 0 || path[0] != '/')
        return 0;
    const char *host = NULL;
    size_t host_len = 0, num_host = 0, num_length = 0;
    uint64_t length = 0;
    *want_sha256 = 0;
    for (size_t i = 0; i < num_headers; i++) {
        const struct phr_header *h = &headers[i];
        if (h->name == NULL)
            return 0; /* a folded header line */
        if (header_is(h, H2O_STRLIT("host"))) {
            host = h->value;
            host_len = h->value_len;
            num_host++;
        } else if (header_is(h, H2O_STRLIT("content-length"))) {
            size_t v = h2o_strtosize(h->value, h->value_len);
            if (v == SIZE_MAX)
                return 0;
            length = v;
            num_length++;
        } else if (header_is(h, H2O_STRLIT("x-amz-content-sha256"))) {
            if (h2o_memis(h->value, h->value_len, H2O_STRLIT("UNSIGNED-PAYLOAD")))
                continue;
            if (!text_is_hex(h->value, h->value_len, 64))
                return 0; /* aws-chunked (STREAMING-...) or malformed: the handler's business */
            *want_sha256 = 1;
        } else if (header_is(h, H2O_STRLIT("transfer-encoding")) || header_is(h, H2O_STRLIT("x-amz-copy-source")) ||
                   cksum_alg_from_header(h->name, h->name_len) != CKSUM_NONE) {
            return 0; /* what s3_payload_prepare would make a framed or checksummed payload, or a copy */
        }
    }
    if (num_host != 1 || num_length != 1 || (size_t)n + length != reqsize)
        return 0;
    router_input_t rin = {.method = method,
                          .method_len = method_len,
                          .path = path,
                          .path_len = path_len,
                          .host = host,
                          .host_len = host_len,
                          .domain = domain,
                          .domain_len = domain != NULL ? strlen(domain) : 0};
    size_t scratch_len = ROUTER_SCRATCH_LEN(path_len);
    char *scratch = malloc(scratch_len);
    route_t route;
    int ok = scratch != NULL && router_route(&rin, &route, scratch, scratch_len) == S3ERR_NONE && route.op == S3OP_PUT_OBJECT;
    free(scratch);
    *head_len = (size_t)n;
    *size = length;
    return ok;
}

/* ------------------------------------------------------------------ the loop's side */

/* The temp file behind a connection's input buffer, when the buffer holds a request's head at its start. */
static h2o_buffer_t *spilled_input(struct http1_conn_head *c, struct stat *stbuf)
{
    if (c->sock == NULL || c->sock->input == NULL)
        return NULL;
    h2o_buffer_t *b = c->sock->input;
    if (b->_fd < 0 || b->bytes == NULL || b->bytes != b->_buf || fstat(b->_fd, stbuf) != 0)
        return NULL;
    return b;
}

static ingest_t *find(ingest_list_t *l, void *conn)
{
    for (h2o_linklist_t *n = l->items.next; n != &l->items; n = n->next) {
        ingest_t *in = H2O_STRUCT_FROM_MEMBER(ingest_t, link, n);
        if (in->conn == conn)
            return in;
    }
    return NULL;
}

/* Whether in is the ingest of the request c is on now, whose buffer is b (stat'ed as stbuf). */
static int same_request(const ingest_t *in, const struct http1_conn_head *c, const struct stat *stbuf)
{
#if INGEST_SUPPORTED
    return in->req_index == c->_req_index && in->dev == stbuf->st_dev && in->ino == stbuf->st_ino;
#else
    (void)in, (void)c, (void)stbuf;
    return 0;
#endif
}

/* Tells a running ingest how much of the body is in the file. */
static void feed(ingest_t *in, const h2o_buffer_t *b)
{
    if (in->refused || b->size < in->head_len)
        return;
    uint64_t avail = b->size - in->head_len;
    if (avail > in->size)
        avail = in->size;
    pthread_mutex_lock(&in->lock);
    if (avail > in->avail) {
        in->avail = avail;
        pthread_cond_broadcast(&in->cond);
    }
    pthread_mutex_unlock(&in->lock);
}

/* Starts the threads of a new ingest. Returns 0, or -1 (then in is a refused one). */
static int start(ingest_t *in, h2o_buffer_t *b, store_t *st)
{
    if (atomic_fetch_add(&live_ingests, 1) >= INGEST_MAX_LIVE) {
        atomic_fetch_sub(&live_ingests, 1);
        return -1;
    }
    in->fd = fcntl(b->_fd, F_DUPFD_CLOEXEC, 0);
    in->body_off = (uint64_t)(b->_buf - (char *)b) + in->head_len;
    in->map_len = (size_t)(in->body_off + in->size);
    in->map = in->fd < 0 ? MAP_FAILED : mmap(NULL, in->map_len, PROT_READ, MAP_SHARED, in->fd, 0);
    if (in->map == MAP_FAILED) {
        in->map = NULL;
        if (in->fd >= 0)
            close(in->fd);
        in->fd = -1;
        atomic_fetch_sub(&live_ingests, 1);
        return -1;
    }
    in->sg = store_stager_open(st, in->size);
    in->threads_left = 2;
    in->refs = 3; /* the two threads, and the list (then whoever takes it) */
    pthread_t tid;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&tid, &attr, chunk_thread, in) != 0)
        abort();
    if (pthread_create(&tid, &attr, hash_thread, in) != 0)
        abort();
    pthread_attr_destroy(&attr);
    return 0;
}

/* A new entry for the request c is on (its buffer b, stat'ed as stbuf): an ingest, or a refused one. NULL on failure. */
static ingest_t *begin(struct http1_conn_head *c, h2o_buffer_t *b, const struct stat *stbuf, store_t *st, const char *domain)
{
#if INGEST_SUPPORTED
    ingest_t *in = calloc(1, sizeof(*in));
    if (in == NULL)
        return NULL;
    in->conn = c;
    in->req_index = c->_req_index;
    in->dev = stbuf->st_dev;
    in->ino = stbuf->st_ino;
    in->fd = -1;
    pthread_mutex_init(&in->lock, NULL);
    pthread_cond_init(&in->cond, NULL);
    if (!eligible(b->bytes, b->size, c->_reqsize, domain, &in->head_len, &in->size, &in->want_sha256) || in->size == 0) {
        in->refused = 1;
        return in;
    }
    if (start(in, b, st) != 0)
        in->refused = 1;
    else
        log_debug("ingest: started for a body of %llu bytes", (unsigned long long)in->size);
    return in;
#else
    (void)c, (void)b, (void)stbuf, (void)st, (void)domain;
    return NULL;
#endif
}

size_t ingest_poll(ingest_list_t *l, h2o_context_t *ctx, store_t *st, const char *domain)
{
#if INGEST_SUPPORTED
    size_t tracked = 0;
    /* every tracked ingest whose request is still being received is moved to seen; the rest are over */
    h2o_linklist_t seen;
    h2o_linklist_init_anchor(&seen);
    for (h2o_linklist_t *node = ctx->http1._conns.next; node != &ctx->http1._conns; node = node->next) {
        struct http1_conn_head *c = H2O_STRUCT_FROM_MEMBER(struct http1_conn_head, _conns, node);
        struct stat stbuf;
        h2o_buffer_t *b = spilled_input(c, &stbuf);
        ingest_t *in = find(l, c);
        if (in != NULL && (b == NULL || !same_request(in, c, &stbuf)))
            continue; /* left on l: cancelled below */
        if (in == NULL) {
            if (b == NULL || c->_req_entity_reader == NULL || (in = begin(c, b, &stbuf, st, domain)) == NULL)
                continue;
        } else {
            h2o_linklist_unlink(&in->link);
        }
        h2o_linklist_insert(&seen, &in->link);
        feed(in, b);
        tracked++;
    }
    ingest_cancel_all(l); /* requests that ended without the handler taking their ingest */
    h2o_linklist_insert_list(&l->items, &seen);
    return tracked;
#else
    (void)l, (void)ctx, (void)st, (void)domain;
    return 0;
#endif
}

ingest_t *ingest_take(ingest_list_t *l, h2o_req_t *req)
{
#if INGEST_SUPPORTED
    struct http1_conn_head *c = (struct http1_conn_head *)req->conn;
    ingest_t *in = find(l, c);
    struct stat stbuf;
    h2o_buffer_t *b;
    if (in == NULL || in->refused || (b = spilled_input(c, &stbuf)) == NULL || !same_request(in, c, &stbuf))
        return NULL;
    if (req->entity.base != b->_buf + in->head_len || req->entity.len != in->size)
        return NULL; /* not this body after all: left to the poll, which cancels it when the request ends */
    h2o_linklist_unlink(&in->link);
    feed(in, b);
    return in;
#else
    (void)l, (void)req;
    return NULL;
#endif
}

s3err_t ingest_finish(ingest_t *in, const char *want_sha256, store_put_t *put, uint8_t md5[16])
{
    pthread_mutex_lock(&in->lock);
    while (in->threads_left > 0)
        pthread_cond_wait(&in->cond, &in->lock);
    int ret = in->ret != 0 ? in->ret : in->hash_complete ? 0 : -EIO;
    pthread_mutex_unlock(&in->lock);
    s3err_t err = S3ERR_NONE;
    if (ret != 0)
        err = s3err_from_store(ret);
    else if (want_sha256 != NULL && (!in->want_sha256 || memcmp(in->sha256, want_sha256, 64) != 0))
        err = S3ERR_CONTENT_SHA256_MISMATCH;
    if (err == S3ERR_NONE) {
        memcpy(md5, in->md5, 16);
        put->stager = in->sg;
        put->stager_md5 = md5;
        in->sg = NULL;
    }
    ingest_release(in);
    return err;
}
