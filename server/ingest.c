/* server/ingest.c -- a large PutObject body written into chunk files while it is still arriving (see ingest.h).
 *
 * What h2o 2.2.5 does with an HTTP/1 request body (lib/http1.c): the request head
 * and the body stay together in the socket's input buffer (input->bytes: head, then
 * body); conn->_reqsize is the head's length plus Content-Length, and the request
 * reaches its handler once input->size has reached it. The connection struct is
 * private; its first members are mirrored in http1_conn.h for h2o 2.2 only (with any
 * other version no ingest ever starts).
 *
 * Taking the body over: once the head of an eligible PUT has been parsed and its
 * body is being read, the loop stops h2o reading the socket (h2o_socket_read_stop)
 * and copies the body bytes h2o already has into a ring buffer. From then on the
 * receive thread reads the socket itself (a dup of its fd) into the ring; the hash
 * thread computes the MD5 of each step it read while the step is still in the CPU's
 * caches; the chunk thread writes each chunk from the ring into the chunk files
 * (store_stager_*, direct: from the ring to the disk, around the page cache). The
 * body is copied once, from the socket into the ring; no temp file takes it in
 * between.
 *
 * Giving it back: when the whole body has been read, the loop grows h2o's input
 * buffer by the bytes the ingest read (h2o reserves that room, as it would have for
 * the body; nothing is written there), restarts reading with h2o's own callback and
 * calls it once: h2o finds the request complete and runs the handler, which takes
 * the ingest instead of reading req->entity. When the client hangs up mid-body, the
 * same callback learns that the connection closed.
 *
 * A connection is known by its struct's address, its request index and the inode of
 * its socket (the ingest's dup keeps that socket, and so its inode, alive). */
#include "server/ingest.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/checksum.h"
#include "auth/text.h"
#include "server/http1_conn.h"
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

#define INGEST_MAX_LIVE 16            /* ingests at once, server-wide: each has three threads */
#define INGEST_MIN_BODY (8u << 20)    /* smaller bodies are left to h2o */
#define INGEST_RING (32u << 20)       /* the ring's size: how far the socket may run ahead of the chunk files */
#define INGEST_READ_STEP (256u << 10) /* bytes read (and hashed) at once: they stay in the CPU's cache */
#define INGEST_IDLE_MS 100            /* how often a receive thread waiting for bytes looks for a cancel */

static atomic_int live_ingests;
static pthread_mutex_t idle_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t idle_cond = PTHREAD_COND_INITIALIZER;

enum recv_state { RECEIVING, RECEIVED, RECEIVE_FAILED };

struct ingest {
    h2o_linklist_t link; /* on the loop's list until taken */
    /* the request: its connection, which request of it, and its socket */
    void *conn;
    uint64_t req_index;
    dev_t dev;
    ino_t ino;
    int refused; /* not eligible: only remembered so the head is parsed once */
    size_t head_len;
    uint64_t size;
    uint64_t prefix;      /* body bytes h2o had read before the ingest took the socket */
    h2o_socket_cb resume; /* h2o's read callback, given back once the body is in */
    int handed_off;       /* the loop gave the connection back to h2o */
    int want_sha256;
    /* the threads' */
    int fd; /* a dup of the socket */
    uint8_t *ring;
    size_t ring_len;
    store_stager_t *sg;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    /* under lock */
    uint64_t received; /* body bytes in the ring */
    uint64_t hashed;   /* fed to the MD5 by the hash thread */
    uint64_t written;  /* staged by the chunk thread */
    enum recv_state recv_state;
    int hash_done;
    int chunk_done;
    int cancelled;
    int threads_left;
    int refs;
    int ret; /* the chunk thread's error */
    uint8_t md5[16];
    char sha256[64]; /* lower-case hex */
};

/* ------------------------------------------------------------------ life */

static void ingest_free(ingest_t *in)
{
    if (in->sg != NULL)
        store_stager_abort(in->sg);
    if (in->ring != NULL)
        munmap(in->ring, in->ring_len);
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

#if HTTP1_CONN_MIRRORED

/* ------------------------------------------------------------------ the threads */

/* A thread is done: wakes the other thread and whoever waits in ingest_finish, and drops the thread's reference. */
static void thread_done(ingest_t *in)
{
    pthread_mutex_lock(&in->lock);
    in->threads_left--;
    pthread_cond_broadcast(&in->cond);
    pthread_mutex_unlock(&in->lock);
    ingest_release(in);
}

static EVP_MD_CTX *digest_new(const EVP_MD *type)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (md == NULL || EVP_DigestInit_ex(md, type, NULL) != 1)
        abort();
    return md;
}

/* How far the ring's readers have gone: the receive thread may fill the ring up to this plus its length. Under lock. */
static uint64_t ring_consumed(const ingest_t *in)
{
    uint64_t hashed = in->hash_done ? UINT64_MAX : in->hashed, written = in->chunk_done ? UINT64_MAX : in->written;
    return hashed < written ? hashed : written;
}

/*
 * Reads the body from the socket into the ring, at most INGEST_RING ahead of the
 * hash and chunk threads. A client that hangs up, or a socket error, fails the
 * ingest; a cancel stops it within INGEST_IDLE_MS.
 */
static void *receive_thread(void *arg)
{
    ingest_t *in = arg;
    uint64_t got = in->prefix;
    int ok = 1;
    while (ok && got < in->size) {
        size_t at = (size_t)(got % in->ring_len);
        size_t want = in->ring_len - at;
        if (want > INGEST_READ_STEP)
            want = INGEST_READ_STEP;
        if (want > in->size - got)
            want = (size_t)(in->size - got);
        pthread_mutex_lock(&in->lock);
        while (!in->cancelled && got + want > ring_consumed(in) + in->ring_len)
            pthread_cond_wait(&in->cond, &in->lock);
        ok = !in->cancelled;
        pthread_mutex_unlock(&in->lock);
        if (!ok)
            break;
        ssize_t n = read(in->fd, in->ring + at, want);
        if (n > 0) {
            got += (uint64_t)n;
            pthread_mutex_lock(&in->lock);
            in->received = got;
            pthread_cond_broadcast(&in->cond);
            pthread_mutex_unlock(&in->lock);
        } else if (n == 0) {
            ok = 0; /* the client hung up before the end of its body */
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            struct pollfd p = {.fd = in->fd, .events = POLLIN};
            (void)poll(&p, 1, INGEST_IDLE_MS); /* then look for a cancel again */
        } else if (errno != EINTR) {
            ok = 0;
        }
    }
    pthread_mutex_lock(&in->lock);
    in->recv_state = ok ? RECEIVED : RECEIVE_FAILED;
    pthread_mutex_unlock(&in->lock);
    thread_done(in);
    return NULL;
}

/* The ring's bytes [off, off + len) as one or two iovecs (it may wrap). Returns the count. */
static int ring_span(const ingest_t *in, uint64_t off, size_t len, struct iovec iov[2])
{
    size_t at = (size_t)(off % in->ring_len), first = in->ring_len - at < len ? in->ring_len - at : len;
    iov[0] = (struct iovec){in->ring + at, first};
    iov[1] = (struct iovec){in->ring, len - first};
    return first == len ? 1 : 2;
}

/*
 * Computes the MD5 of the body as the receive thread reads it, a step at a time while
 * the step is still in the caches. MD5 is the slowest pass over the body and cannot be
 * split: on its own thread, it alone bounds how fast one large PUT can go.
 */
static void *hash_thread(void *arg)
{
    ingest_t *in = arg;
    EVP_MD_CTX *md5 = digest_new(EVP_md5());
    uint64_t off = 0;
    for (;;) {
        pthread_mutex_lock(&in->lock);
        while (!in->cancelled && in->recv_state != RECEIVE_FAILED && in->received == off && off < in->size)
            pthread_cond_wait(&in->cond, &in->lock);
        uint64_t upto = in->received;
        int go = !in->cancelled && in->recv_state != RECEIVE_FAILED && off < in->size;
        pthread_mutex_unlock(&in->lock);
        if (!go)
            break;
        if (upto - off > INGEST_READ_STEP)
            upto = off + INGEST_READ_STEP;
        struct iovec iov[2];
        for (int i = 0, n = ring_span(in, off, (size_t)(upto - off), iov); i < n; i++)
            EVP_DigestUpdate(md5, iov[i].iov_base, iov[i].iov_len);
        off = upto;
        pthread_mutex_lock(&in->lock);
        in->hashed = off;
        pthread_cond_broadcast(&in->cond);
        pthread_mutex_unlock(&in->lock);
    }
    EVP_DigestFinal_ex(md5, in->md5, NULL); /* read by ingest_finish once this thread is done */
    EVP_MD_CTX_free(md5);
    pthread_mutex_lock(&in->lock);
    in->hash_done = 1; /* the receive thread no longer waits for it */
    pthread_mutex_unlock(&in->lock);
    thread_done(in);
    return NULL;
}

/* Writes each chunk once the receive thread has it, and computes the SHA-256 when the signature names one. */
static void *chunk_thread(void *arg)
{
    ingest_t *in = arg;
    EVP_MD_CTX *sha = in->want_sha256 ? digest_new(EVP_sha256()) : NULL;
    uint64_t off = 0;
    int ret = 0;
    for (size_t len; ret == 0 && (len = store_stager_next_len(in->sg)) != 0;) {
        pthread_mutex_lock(&in->lock);
        while (!in->cancelled && in->recv_state == RECEIVING && in->received < off + len)
            pthread_cond_wait(&in->cond, &in->lock);
        int ready = !in->cancelled && in->received >= off + len;
        pthread_mutex_unlock(&in->lock);
        if (!ready) {
            ret = -ECANCELED;
            break;
        }
        struct iovec iov[2];
        int n = ring_span(in, off, len, iov);
        for (int i = 0; sha != NULL && i < n; i++)
            EVP_DigestUpdate(sha, iov[i].iov_base, iov[i].iov_len);
        if ((ret = store_stager_write(in->sg, iov, (size_t)n)) != 0)
            break;
        off += len;
        pthread_mutex_lock(&in->lock);
        in->written = off;
        pthread_cond_broadcast(&in->cond);
        pthread_mutex_unlock(&in->lock);
    }
    if (sha != NULL) {
        uint8_t digest[32];
        EVP_DigestFinal_ex(sha, digest, NULL);
        text_hex(digest, sizeof(digest), in->sha256); /* read by ingest_finish once this thread is done */
        EVP_MD_CTX_free(sha);
    }
    pthread_mutex_lock(&in->lock);
    in->ret = ret;
    in->chunk_done = 1; /* the receive thread no longer waits for ring space */
    pthread_mutex_unlock(&in->lock);
    thread_done(in);
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

static ingest_t *find_ingest(ingest_list_t *l, void *conn)
{
    for (h2o_linklist_t *n = l->items.next; n != &l->items; n = n->next) {
        ingest_t *in = H2O_STRUCT_FROM_MEMBER(ingest_t, link, n);
        if (in->conn == conn)
            return in;
    }
    return NULL;
}

/* The device and inode of c's socket. Returns 0, or -1 when it has none. */
static int socket_id(const http1_conn_head_t *c, dev_t *dev, ino_t *ino)
{
    struct stat stbuf;
    int fd = c->sock != NULL ? h2o_socket_get_fd(c->sock) : -1;
    if (fd < 0 || fstat(fd, &stbuf) != 0)
        return -1;
    *dev = stbuf.st_dev;
    *ino = stbuf.st_ino;
    return 0;
}

/* Whether in is the ingest of the request c is on now. */
static int same_request(const ingest_t *in, const http1_conn_head_t *c)
{
    dev_t dev;
    ino_t ino;
    return in->req_index == c->_req_index && socket_id(c, &dev, &ino) == 0 && in->dev == dev && in->ino == ino;
}

/* Whether h2o is reading the body of c's request now, over plain TCP, with nothing to write: a body an ingest may take. */
static int reading_large_body(const http1_conn_head_t *c)
{
    h2o_socket_t *s = c->sock;
    return c->_req_entity_reader != NULL && c->_reqsize >= INGEST_MIN_BODY && s != NULL && s->ssl == NULL &&
           h2o_socket_is_reading(s) && !h2o_socket_is_writing(s) && s->input != NULL && s->input->bytes != NULL &&
           s->input->size < c->_reqsize;
}

static size_t page_round(uint64_t n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return (size_t)((n + page - 1) / page * page);
}

/* Takes c's socket over and starts the threads. Returns 0, or -1 (then in is a refused one, and h2o keeps reading). */
static int start(ingest_t *in, http1_conn_head_t *c, store_t *st)
{
    h2o_buffer_t *b = c->sock->input;
    if (atomic_fetch_add(&live_ingests, 1) >= INGEST_MAX_LIVE) {
        atomic_fetch_sub(&live_ingests, 1);
        return -1;
    }
    in->prefix = b->size - in->head_len;
    in->ring_len = page_round(in->prefix > INGEST_RING ? in->prefix : INGEST_RING);
    if (in->ring_len > page_round(in->size))
        in->ring_len = page_round(in->size);
    in->ring = mmap(NULL, in->ring_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    in->fd = in->ring == MAP_FAILED ? -1 : fcntl(h2o_socket_get_fd(c->sock), F_DUPFD_CLOEXEC, 0);
    if (in->fd < 0) {
        if (in->ring != MAP_FAILED)
            munmap(in->ring, in->ring_len);
        in->ring = NULL;
        atomic_fetch_sub(&live_ingests, 1);
        return -1;
    }
    memcpy(in->ring, b->bytes + in->head_len, in->prefix);
    in->received = in->prefix;
    in->resume = c->sock->_cb.read;
    h2o_socket_read_stop(c->sock);                                 /* the receive thread reads the rest */
    in->sg = store_stager_open(st, in->size, STORE_STAGER_DIRECT); /* the ring is page-aligned */
    in->threads_left = 3;
    in->refs = 4; /* the three threads, and the list (then whoever takes it) */
    pthread_t tid;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&tid, &attr, receive_thread, in) != 0 || pthread_create(&tid, &attr, hash_thread, in) != 0 ||
        pthread_create(&tid, &attr, chunk_thread, in) != 0)
        abort();
    pthread_attr_destroy(&attr);
    return 0;
}

/* A new entry for the request c is on: an ingest, or a refused one. NULL on failure. */
static ingest_t *begin(http1_conn_head_t *c, store_t *st, const char *domain)
{
    ingest_t *in = calloc(1, sizeof(*in));
    if (in == NULL)
        return NULL;
    in->conn = c;
    in->req_index = c->_req_index;
    in->fd = -1;
    pthread_mutex_init(&in->lock, NULL);
    pthread_cond_init(&in->cond, NULL);
    const h2o_buffer_t *b = c->sock->input;
    if (socket_id(c, &in->dev, &in->ino) != 0 ||
        !eligible(b->bytes, b->size, c->_reqsize, domain, &in->head_len, &in->size, &in->want_sha256) ||
        in->size < INGEST_MIN_BODY || start(in, c, st) != 0)
        in->refused = 1;
    else
        log_debug("ingest: started for a body of %llu bytes", (unsigned long long)in->size);
    return in;
}

/*
 * Gives c's connection back to h2o once the receive thread is done: with the whole
 * body, h2o runs the handler (which takes in); without it, h2o closes the connection.
 */
static void hand_off(ingest_t *in)
{
    http1_conn_head_t *c = in->conn;
    h2o_socket_t *sock = c->sock;
    h2o_socket_cb resume = in->resume;
    pthread_mutex_lock(&in->lock);
    int ok = in->recv_state == RECEIVED;
    pthread_mutex_unlock(&in->lock);
    in->handed_off = 1;
    if (ok) { /* the bytes the ingest read count as received; h2o only reserves their room */
        uint64_t missing = in->size - in->prefix;
        ok = h2o_buffer_reserve(&sock->input, (size_t)missing).base != NULL;
        if (ok)
            sock->input->size += (size_t)missing;
    }
    h2o_socket_read_start(sock, resume);
    if (!ok) {
        h2o_linklist_unlink(&in->link);
        ingest_cancel(in);
        resume(sock, h2o_socket_error_closed); /* frees the connection */
        return;
    }
    resume(sock, NULL);
}

size_t ingest_poll(ingest_list_t *l, h2o_context_t *ctx, store_t *st, const char *domain)
{
    /* every tracked ingest whose request is still on is moved to seen; the rest are over */
    h2o_linklist_t seen;
    h2o_linklist_init_anchor(&seen);
    for (h2o_linklist_t *node = ctx->http1._conns.next; node != &ctx->http1._conns; node = node->next) {
        http1_conn_head_t *c = H2O_STRUCT_FROM_MEMBER(http1_conn_head_t, _conns, node);
        ingest_t *in = find_ingest(l, c);
        if (in != NULL) {
            if (!same_request(in, c))
                continue; /* left on l: cancelled below */
            h2o_linklist_unlink(&in->link);
        } else if (!reading_large_body(c) || (in = begin(c, st, domain)) == NULL) {
            continue;
        }
        h2o_linklist_insert(&seen, &in->link);
    }
    ingest_cancel_all(l); /* requests that ended without the handler taking their ingest */
    h2o_linklist_insert_list(&l->items, &seen);

    /* bodies read in full (or cut short): back to h2o, one at a time, as each may run a handler */
    size_t receiving;
    for (;;) {
        ingest_t *done = NULL;
        receiving = 0;
        for (h2o_linklist_t *n = l->items.next; n != &l->items && done == NULL; n = n->next) {
            ingest_t *in = H2O_STRUCT_FROM_MEMBER(ingest_t, link, n);
            if (in->refused || in->handed_off)
                continue;
            pthread_mutex_lock(&in->lock);
            if (in->recv_state == RECEIVING)
                receiving++;
            else
                done = in;
            pthread_mutex_unlock(&in->lock);
        }
        if (done == NULL)
            break;
        hand_off(done);
    }
    return receiving;
}

ingest_t *ingest_take(ingest_list_t *l, h2o_req_t *req)
{
    http1_conn_head_t *c = (http1_conn_head_t *)req->conn;
    ingest_t *in = find_ingest(l, c);
    if (in == NULL || in->refused || !in->handed_off || !same_request(in, c))
        return NULL;
    if (req->entity.base != c->sock->input->bytes + in->head_len || req->entity.len != in->size)
        return NULL; /* not this body after all: left to the poll, which cancels it when the request ends */
    h2o_linklist_unlink(&in->link);
    return in;
}

#else

size_t ingest_poll(ingest_list_t *l, h2o_context_t *ctx, store_t *st, const char *domain)
{
    (void)l, (void)ctx, (void)st, (void)domain;
    return 0;
}

ingest_t *ingest_take(ingest_list_t *l, h2o_req_t *req)
{
    (void)l, (void)req;
    return NULL;
}

#endif

s3err_t ingest_finish(ingest_t *in, const char *want_sha256, store_put_t *put, uint8_t md5[16])
{
    pthread_mutex_lock(&in->lock);
    while (in->threads_left > 0)
        pthread_cond_wait(&in->cond, &in->lock);
    int ret = in->ret != 0 ? in->ret : in->recv_state == RECEIVED ? 0 : -EIO;
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
