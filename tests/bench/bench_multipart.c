/* tests/bench/bench_multipart.c -- put-multipart: one object as an S3 multipart upload.
 *
 * DESIGN: three steps, timed together from the first byte of the create
 * request to the last byte of the completion response:
 *   POST /BUCKET/KEY?uploads                      -> <UploadId>
 *   PUT  /BUCKET/KEY?partNumber=N&uploadId=ID     x parts, --concurrency at a time
 *   POST /BUCKET/KEY?uploadId=ID                  <CompleteMultipartUpload> -> <ETag>
 * The parts go out from a pool of threads, each with its own keep-alive
 * connection, taking the next part number from one atomic counter. This file
 * speaks HTTP/1.1 itself instead of through libcurl so that a part leaves in
 * one sendmsg() of [request header | 64-byte part header | shared data]: the
 * data is generated once (part_size bytes) before the clock starts and never
 * copied by the client; the 64-byte header (the object's bytes at the part's
 * offset) makes every part different, so a server cannot dedupe them.
 * Requests are signed by bench_sigv4.c with the payload hash the libcurl modes
 * use: UNSIGNED-PAYLOAD for parts (their real SHA-256 with --sign-payload,
 * computed inside the timed run as a signing client would), the empty-body hash
 * for the create request, and the real SHA-256 of the small completion body.
 *
 * Every socket has send and receive timeouts (--timeout), so every read and
 * write loop ends; a reused keep-alive connection that turns out to be closed
 * is retried once on a fresh one. No Expect: 100-continue: a part goes out
 * whole, and an early error response is still read after a failed send. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "bench_multipart.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "bench_content.h"
#include "bench_sigv4.h"

#define PART_HEADER_LEN 64
#define MAX_PARTS 10000             /* S3's limit */
#define MAX_PART_SIZE (5ULL << 30)  /* S3's limit; the data buffer is this big at most */
#define RESP_HEAD_MAX 16384         /* also the connection's read buffer */
#define RESP_BODY_KEEP (1 << 20)    /* response body bytes kept for parsing and error reports */
#define RESP_BODY_MAX (64ULL << 20) /* a longer response body is an error */
#define MAX_INTERIM 8               /* 1xx responses skipped before the final one */
#define MAX_EINTR 1000              /* retries of an interrupted syscall */
#define MAX_ERRORS_SHOWN 5
#define ERR_BODY_SHOWN 400
#define ETAG_MAX 128
#define REQ_HEAD_MAX 8192

typedef struct mp_target {
    char host[300]; /* Host header value, as in --url */
    struct sockaddr_storage addr;
    socklen_t addr_len;
    char path[3 * 2048 + 8]; /* /BUCKET/KEY, URI-encoded */
} mp_target_t;

typedef struct http_conn {
    int fd; /* -1 when closed */
    int num_requests;
    size_t pos, len; /* unread bytes are buf[pos..len) */
    char buf[RESP_HEAD_MAX];
} http_conn_t;

typedef struct http_response {
    int status;
    int close; /* the server will close the connection */
    char etag[ETAG_MAX];
    char *body; /* owned, NUL-terminated, at most RESP_BODY_KEEP bytes kept */
    size_t body_len;
    uint64_t body_total;
} http_response_t;

/* One request: method, query parameters, body as pieces sent after the header. */
typedef struct http_request {
    const char *method;
    const bench_query_param_t *params;
    size_t num_params;
    const char *content_type; /* NULL: none */
    const char *payload_hash; /* x-amz-content-sha256 */
    struct iovec body[2];
    int num_body;
    uint64_t body_len;
} http_request_t;

typedef struct mp_run {
    const bench_mp_config_t *cfg; /* borrowed */
    mp_target_t target;
    bench_sigv4_creds_t creds;
    uint64_t seed;
    uint8_t *data; /* owned: bytes [0, part_size) of the object, shared read-only by all workers */
    uint32_t num_parts;
    char upload_id[1024];
    atomic_uint next_part;    /* index of the next part to send */
    atomic_int failed;        /* stop taking parts */
    char (*etags)[ETAG_MAX];  /* owned; per part, quotes stripped */
    char (*expect_md5)[33];   /* owned, with --verify */
    double *latency_ms;       /* owned; per part */
    pthread_mutex_t err_lock; /* error counters and stderr */
    uint64_t errors;
    int errors_shown;
} mp_run_t;

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Counts an error and prints the first few: what failed, why, and the response body. */
static void report_error(mp_run_t *run, const char *what, const char *why, const http_response_t *resp)
{
    char body[ERR_BODY_SHOWN + 1] = "";

    if (resp != NULL && resp->body != NULL) {
        size_t n = resp->body_len < ERR_BODY_SHOWN ? resp->body_len : ERR_BODY_SHOWN;
        for (size_t i = 0; i < n; i++)
            body[i] = resp->body[i] == '\n' || resp->body[i] == '\r' ? ' ' : resp->body[i];
        body[n] = '\0';
    }
    pthread_mutex_lock(&run->err_lock);
    run->errors++;
    if (run->errors_shown < MAX_ERRORS_SHOWN) {
        run->errors_shown++;
        fprintf(stderr, "coffer-bench: error: %s: %s%s%s\n", what, why, body[0] ? " body: " : "", body);
    }
    pthread_mutex_unlock(&run->err_lock);
}

/* ---- target ------------------------------------------------------------- */

/** Parses http://HOST[:PORT][/] and resolves HOST. Returns 0, or -1 with a message on stderr. */
static int target_init(mp_target_t *t, const bench_mp_config_t *cfg)
{
    const char *u = cfg->url, *host, *end;
    char node[256], port[16] = "80", path[2 * 1024 + 2];
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    size_t host_len;
    int rc;

    if (strncmp(u, "http://", 7) != 0) {
        fprintf(stderr, "coffer-bench: put-multipart needs an http:// --url (got '%s')\n", u);
        return -1;
    }
    host = u + 7;
    end = host + strcspn(host, "/");
    if (end[0] == '/' && end[strspn(end, "/")] != '\0') {
        fprintf(stderr, "coffer-bench: put-multipart: --url must not have a path (got '%s')\n", u);
        return -1;
    }
    host_len = (size_t)(end - host);
    if (host_len == 0 || host_len >= sizeof(t->host)) {
        fprintf(stderr, "coffer-bench: bad --url '%s'\n", u);
        return -1;
    }
    memcpy(t->host, host, host_len);
    t->host[host_len] = '\0';
    if (t->host[0] == '[') { /* [v6]:port */
        const char *rb = strchr(t->host, ']');
        if (rb == NULL || (size_t)(rb - t->host - 1) >= sizeof(node)) {
            fprintf(stderr, "coffer-bench: bad --url '%s'\n", u);
            return -1;
        }
        snprintf(node, sizeof(node), "%.*s", (int)(rb - t->host - 1), t->host + 1);
        if (rb[1] == ':')
            snprintf(port, sizeof(port), "%s", rb + 2);
    } else {
        const char *colon = strrchr(t->host, ':');
        size_t node_len = colon != NULL ? (size_t)(colon - t->host) : host_len;
        if (node_len >= sizeof(node)) {
            fprintf(stderr, "coffer-bench: bad --url '%s'\n", u);
            return -1;
        }
        snprintf(node, sizeof(node), "%.*s", (int)node_len, t->host);
        if (colon != NULL)
            snprintf(port, sizeof(port), "%s", colon + 1);
    }
    rc = getaddrinfo(node, port, &hints, &ai);
    if (rc != 0 || ai == NULL) {
        fprintf(stderr, "coffer-bench: resolve %s: %s\n", t->host, gai_strerror(rc));
        return -1;
    }
    memcpy(&t->addr, ai->ai_addr, ai->ai_addrlen);
    t->addr_len = ai->ai_addrlen;
    freeaddrinfo(ai);

    snprintf(path, sizeof(path), "%s/%s", cfg->bucket, cfg->key);
    t->path[0] = '/';
    if (bench_uri_encode(path, 1, t->path + 1, sizeof(t->path) - 1) < 0) {
        fprintf(stderr, "coffer-bench: bucket/key too long\n");
        return -1;
    }
    return 0;
}

/* ---- connection --------------------------------------------------------- */

static void conn_close(http_conn_t *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->num_requests = 0;
    c->pos = c->len = 0;
}

/** Connects with send/receive timeouts. Returns 0 or -errno. */
static int conn_open(http_conn_t *c, const mp_run_t *run)
{
    struct timeval tv = {.tv_sec = (time_t)run->cfg->timeout,
                         .tv_usec = (suseconds_t)((run->cfg->timeout - (double)(time_t)run->cfg->timeout) * 1e6)};
    int one = 1, ret;

    conn_close(c);
    c->fd = socket(run->target.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return -errno;
    /* SO_SNDTIMEO also bounds connect() on Linux (socket(7)). */
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(c->fd, (const struct sockaddr *)&run->target.addr, run->target.addr_len) != 0) {
        ret = errno == EINPROGRESS ? -ETIMEDOUT : -errno;
        conn_close(c);
        return ret;
    }
    return 0;
}

/** Sends all of iov (modified). Returns 0 or -errno (-ETIMEDOUT when the peer stalls). */
static int send_all(int fd, struct iovec *iov, int iovcnt)
{
    int eintr = 0;

    while (iovcnt > 0) {
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)iovcnt};
        ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);

        if (n < 0) {
            if (errno == EINTR && ++eintr < MAX_EINTR)
                continue;
            return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
        }
        /* n > 0 here: every pass either moves data or returns. */
        while (iovcnt > 0 && (size_t)n >= iov->iov_len) {
            n -= (ssize_t)iov->iov_len;
            iov++;
            iovcnt--;
        }
        if (iovcnt > 0) {
            iov->iov_base = (char *)iov->iov_base + n;
            iov->iov_len -= (size_t)n;
        }
    }
    return 0;
}

/** Makes at least one more byte readable in c->buf (compacting it). Returns 0, -EPIPE on EOF, -ENOBUFS when full, or -errno. */
static int conn_fill(http_conn_t *c)
{
    int eintr = 0;

    if (c->pos > 0) {
        memmove(c->buf, c->buf + c->pos, c->len - c->pos);
        c->len -= c->pos;
        c->pos = 0;
    }
    if (c->len == sizeof(c->buf))
        return -ENOBUFS;
    while (1) {
        ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
        if (n > 0) {
            c->len += (size_t)n;
            return 0;
        }
        if (n == 0)
            return -EPIPE;
        if (errno == EINTR && ++eintr < MAX_EINTR)
            continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
    }
}

static void body_append(http_response_t *r, const char *p, size_t n)
{
    size_t keep = RESP_BODY_KEEP - r->body_len;

    if (keep > n)
        keep = n;
    memcpy(r->body + r->body_len, p, keep);
    r->body_len += keep;
    r->body[r->body_len] = '\0';
    r->body_total += n;
}

/** Reads a CRLF-terminated line (without the CRLF) into out. Returns 0 or -errno. */
static int conn_line(http_conn_t *c, char *out, size_t out_len)
{
    /* Bounded: every pass adds bytes to a fixed buffer or returns. */
    while (1) {
        char *nl = memmem(c->buf + c->pos, c->len - c->pos, "\r\n", 2);
        if (nl != NULL) {
            size_t n = (size_t)(nl - (c->buf + c->pos));
            if (n >= out_len)
                return -ENOBUFS;
            memcpy(out, c->buf + c->pos, n);
            out[n] = '\0';
            c->pos += n + 2;
            return 0;
        }
        int ret = conn_fill(c);
        if (ret != 0)
            return ret;
    }
}

/** Moves n body bytes from the connection into r. Returns 0 or -errno. */
static int read_body_bytes(http_conn_t *c, http_response_t *r, uint64_t n)
{
    while (n > 0) {
        if (c->pos == c->len) {
            int ret = conn_fill(c);
            if (ret != 0)
                return ret;
        }
        size_t k = c->len - c->pos;
        if (k > n)
            k = (size_t)n;
        body_append(r, c->buf + c->pos, k);
        c->pos += k;
        n -= k;
        if (r->body_total > RESP_BODY_MAX)
            return -EFBIG;
    }
    return 0;
}

static int read_chunked(http_conn_t *c, http_response_t *r)
{
    char line[256];
    int ret;

    /* Bounded by RESP_BODY_MAX: every chunk but the last adds at least one byte. */
    while (1) {
        char *end;
        unsigned long long size;

        if ((ret = conn_line(c, line, sizeof(line))) != 0)
            return ret;
        errno = 0;
        size = strtoull(line, &end, 16);
        if (end == line || errno != 0 || size > RESP_BODY_MAX)
            return -EPROTO;
        if (size == 0)
            break;
        if ((ret = read_body_bytes(c, r, size)) != 0)
            return ret;
        if ((ret = conn_line(c, line, sizeof(line))) != 0)
            return ret;
        if (line[0] != '\0')
            return -EPROTO;
    }
    for (int i = 0; i < 64; i++) { /* trailers, then the empty line */
        if ((ret = conn_line(c, line, sizeof(line))) != 0)
            return ret;
        if (line[0] == '\0')
            return 0;
    }
    return -EPROTO;
}

/* Case-insensitive header match: returns the value (leading blanks skipped) or NULL. */
static const char *header_value(const char *line, const char *name)
{
    size_t n = strlen(name);

    if (strncasecmp(line, name, n) != 0 || line[n] != ':')
        return NULL;
    line += n + 1;
    while (*line == ' ' || *line == '\t')
        line++;
    return line;
}

/**
 * Reads one response (skipping 1xx). Returns 0, or -errno; -EPIPE/-ECONNRESET
 * with *got_bytes == 0 means the connection was closed before any response.
 */
static int read_response(http_conn_t *c, http_response_t *r, int *got_bytes)
{
    char line[RESP_HEAD_MAX];
    int ret, chunked, have_length;
    uint64_t length;

    *got_bytes = 0;
    for (int interim = 0; interim <= MAX_INTERIM; interim++) {
        int minor = 1;

        if (c->pos == c->len && (ret = conn_fill(c)) != 0)
            return ret;
        *got_bytes = 1;
        if ((ret = conn_line(c, line, sizeof(line))) != 0)
            return ret;
        if (sscanf(line, "HTTP/1.%d %d", &minor, &r->status) != 2)
            return -EPROTO;
        r->close = minor == 0;
        r->etag[0] = '\0';
        chunked = have_length = 0;
        length = 0;
        for (int i = 0; i < 200; i++) {
            const char *v;
            if ((ret = conn_line(c, line, sizeof(line))) != 0)
                return ret;
            if (line[0] == '\0')
                break;
            if ((v = header_value(line, "content-length")) != NULL) {
                length = strtoull(v, NULL, 10);
                have_length = 1;
            } else if ((v = header_value(line, "transfer-encoding")) != NULL) {
                chunked = strcasestr(v, "chunked") != NULL;
            } else if ((v = header_value(line, "connection")) != NULL) {
                if (strcasestr(v, "close") != NULL)
                    r->close = 1;
                else if (strcasestr(v, "keep-alive") != NULL)
                    r->close = 0;
            } else if ((v = header_value(line, "etag")) != NULL) {
                snprintf(r->etag, sizeof(r->etag), "%.*s", (int)sizeof(r->etag) - 1, v);
            }
        }
        if (line[0] != '\0')
            return -EPROTO; /* more than 200 header lines */
        if (r->status >= 100 && r->status < 200)
            continue;
        if (chunked)
            return read_chunked(c, r);
        if (have_length)
            return read_body_bytes(c, r, length);
        if (r->status == 204 || r->status == 304)
            return 0;
        r->close = 1; /* body until EOF, bounded by RESP_BODY_MAX */
        while ((ret = read_body_bytes(c, r, c->len > c->pos ? c->len - c->pos : 1)) == 0)
            ;
        return ret == -EPIPE ? 0 : ret;
    }
    return -EPROTO;
}

/* ---- one request -------------------------------------------------------- */

static void response_reset(http_response_t *r)
{
    if (r->body == NULL) {
        r->body = malloc(RESP_BODY_KEEP + 1);
        if (r->body == NULL)
            abort();
    }
    r->status = 0;
    r->close = 0;
    r->etag[0] = '\0';
    r->body[0] = '\0';
    r->body_len = 0;
    r->body_total = 0;
}

/* Formats the request header (signed when the run signs). Returns its length or -1. */
static int format_head(const mp_run_t *run, const http_request_t *req, char *head, size_t head_len)
{
    char wire_query[4096], canonical_query[4096], amz_date[BENCH_AMZ_DATE_LEN + 1], auth[512], ctype[128] = "";
    int n;

    if (bench_sigv4_query(req->params, req->num_params, wire_query, sizeof(wire_query), canonical_query, sizeof(canonical_query)) !=
        0)
        return -1;
    if (req->content_type != NULL)
        snprintf(ctype, sizeof(ctype), "Content-Type: %s\r\n", req->content_type);
    if (!run->cfg->sign)
        return snprintf(
            head, head_len, "%s %s%s%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: coffer-bench\r\nContent-Length: %" PRIu64 "\r\n%s\r\n",
            req->method, run->target.path, wire_query[0] ? "?" : "", wire_query, run->target.host, req->body_len, ctype);
    bench_sigv4_amz_date(time(NULL), amz_date);
    if (bench_sigv4_authorization(&run->creds, req->method, run->target.path, canonical_query, run->target.host, req->payload_hash,
                                  amz_date, auth, sizeof(auth)) != 0)
        return -1;
    n = snprintf(head, head_len,
                 "%s %s%s%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: coffer-bench\r\nContent-Length: %" PRIu64
                 "\r\n%sx-amz-content-sha256: %s\r\nx-amz-date: %s\r\nAuthorization: %s\r\n\r\n",
                 req->method, run->target.path, wire_query[0] ? "?" : "", wire_query, run->target.host, req->body_len, ctype,
                 req->payload_hash, amz_date, auth);
    return n < 0 || (size_t)n >= head_len ? -1 : n;
}

/**
 * Sends req on c (opening it when closed) and reads the response into resp.
 * A reused connection found closed before any response byte is retried once
 * on a new one. Returns 0 (any HTTP status) or -errno for transport failures.
 */
static int do_request(const mp_run_t *run, http_conn_t *c, const http_request_t *req, http_response_t *resp)
{
    char head[REQ_HEAD_MAX];
    int head_len = format_head(run, req, head, sizeof(head));
    int ret = 0;

    if (head_len < 0)
        return -ENAMETOOLONG;
    if (run->cfg->verbose)
        fprintf(stderr, "> %.*s\n", (int)strcspn(head, "\r"), head);
    for (int attempt = 0; attempt < 2; attempt++) {
        struct iovec iov[3] = {{.iov_base = head, .iov_len = (size_t)head_len}};
        int got_bytes = 0, send_ret, reused;

        if (c->fd < 0 && (ret = conn_open(c, run)) != 0)
            return ret;
        reused = c->num_requests > 0;
        for (int i = 0; i < req->num_body; i++)
            iov[1 + i] = req->body[i];
        response_reset(resp);
        send_ret = send_all(c->fd, iov, 1 + req->num_body);
        /* Even after a failed send the server may have answered (an early error response). */
        ret = send_ret == -ETIMEDOUT ? send_ret : read_response(c, resp, &got_bytes);
        if (ret == 0) {
            c->num_requests++;
            if (send_ret != 0 || resp->close)
                conn_close(c);
            if (run->cfg->verbose)
                fprintf(stderr, "< %d %s\n", resp->status, resp->etag);
            return 0;
        }
        conn_close(c);
        if (send_ret != 0 && !got_bytes)
            ret = send_ret; /* nothing came back: the send error says more */
        if (!reused || got_bytes || ret == -ETIMEDOUT)
            break;
        /* A keep-alive connection the server had closed: once more on a new one. */
    }
    return ret;
}

/* ---- the upload ----------------------------------------------------------- */

static uint64_t part_len(const mp_run_t *run, uint32_t idx)
{
    uint64_t off = (uint64_t)idx * run->cfg->part_size;
    uint64_t left = run->cfg->size - off;

    return left < run->cfg->part_size ? left : run->cfg->part_size;
}

/* Part idx is [its 64 bytes of the object at its offset | data[64..len)]. */
static void part_body(const mp_run_t *run, uint32_t idx, uint8_t hdr[PART_HEADER_LEN], struct iovec iov[2], int *num_iov)
{
    uint64_t len = part_len(run, idx);
    size_t hlen = len < PART_HEADER_LEN ? (size_t)len : PART_HEADER_LEN;

    bench_gen_bytes(run->seed, (uint64_t)idx * run->cfg->part_size, hdr, hlen);
    iov[0].iov_base = hdr;
    iov[0].iov_len = hlen;
    iov[1].iov_base = run->data + hlen;
    iov[1].iov_len = (size_t)(len - hlen);
    *num_iov = len > hlen ? 2 : 1;
}

static void digest_hex(const EVP_MD *md, const struct iovec *iov, int num_iov, char *out)
{
    static const char digits[] = "0123456789abcdef";
    unsigned char bin[EVP_MAX_MD_SIZE];
    unsigned int bin_len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();

    if (ctx == NULL || EVP_DigestInit_ex(ctx, md, NULL) != 1)
        abort();
    for (int i = 0; i < num_iov; i++)
        EVP_DigestUpdate(ctx, iov[i].iov_base, iov[i].iov_len);
    EVP_DigestFinal_ex(ctx, bin, &bin_len);
    EVP_MD_CTX_free(ctx);
    for (unsigned int i = 0; i < bin_len; i++) {
        out[2 * i] = digits[bin[i] >> 4];
        out[2 * i + 1] = digits[bin[i] & 15];
    }
    out[2 * bin_len] = '\0';
}

/* Strips surrounding quotes (or &quot;) from an ETag into out. */
static void etag_bare(const char *etag, char *out, size_t out_len)
{
    size_t n = strlen(etag);

    if (n >= 12 && strncmp(etag, "&quot;", 6) == 0 && strcmp(etag + n - 6, "&quot;") == 0)
        snprintf(out, out_len, "%.*s", (int)(n - 12), etag + 6);
    else if (n >= 2 && etag[0] == '"' && etag[n - 1] == '"')
        snprintf(out, out_len, "%.*s", (int)(n - 2), etag + 1);
    else
        snprintf(out, out_len, "%s", etag);
}

static int is_hex32(const char *s)
{
    for (int i = 0; i < 32; i++)
        if (!isxdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

/* Worker: uploads parts until none are left or one failed. */
static void *part_worker(void *arg)
{
    mp_run_t *run = arg;
    http_conn_t *c = calloc(1, sizeof(*c));
    http_response_t resp = {0};
    char part_no[16], what[64], why[160], hash[65];
    uint8_t hdr[PART_HEADER_LEN];
    uint32_t idx;

    if (c == NULL)
        abort();
    c->fd = -1;
    /* Bounded: each pass takes a distinct part index below num_parts. */
    while ((idx = atomic_fetch_add(&run->next_part, 1)) < run->num_parts && !atomic_load(&run->failed)) {
        bench_query_param_t params[] = {{"partNumber", part_no}, {"uploadId", run->upload_id}};
        http_request_t req = {.method = "PUT",
                              .params = params,
                              .num_params = 2,
                              .content_type = "application/octet-stream",
                              .payload_hash = "UNSIGNED-PAYLOAD",
                              .body_len = part_len(run, idx)};
        double t0 = now_s();
        int ret;

        snprintf(part_no, sizeof(part_no), "%" PRIu32, idx + 1);
        snprintf(what, sizeof(what), "PUT part %" PRIu32, idx + 1);
        part_body(run, idx, hdr, req.body, &req.num_body);
        if (run->cfg->sign && run->cfg->sign_payload) {
            digest_hex(EVP_sha256(), req.body, req.num_body, hash);
            req.payload_hash = hash;
        }
        ret = do_request(run, c, &req, &resp);
        run->latency_ms[idx] = (now_s() - t0) * 1000.0;
        if (ret != 0) {
            snprintf(why, sizeof(why), "transport: %s", strerror(-ret));
            report_error(run, what, why, resp.status ? &resp : NULL);
            atomic_store(&run->failed, 1);
            break;
        }
        if (resp.status != 200) {
            snprintf(why, sizeof(why), "HTTP %d", resp.status);
            report_error(run, what, why, &resp);
            atomic_store(&run->failed, 1);
            break;
        }
        etag_bare(resp.etag, run->etags[idx], sizeof(run->etags[idx]));
        if (run->etags[idx][0] == '\0') {
            report_error(run, what, "no ETag in the response", &resp);
            atomic_store(&run->failed, 1);
            break;
        }
        if (run->expect_md5 != NULL && strcasecmp(run->etags[idx], run->expect_md5[idx]) != 0) {
            snprintf(why, sizeof(why), "ETag %.40s, expected the MD5 %s", run->etags[idx], run->expect_md5[idx]);
            report_error(run, what, why, NULL);
            atomic_store(&run->failed, 1);
            break;
        }
    }
    conn_close(c);
    free(c);
    free(resp.body);
    return NULL;
}

/* Finds <tag>text</tag> in xml; copies text into out. Returns 0 or -1. */
static int xml_text(const char *xml, const char *tag, char *out, size_t out_len)
{
    char open[64], close[64];
    const char *s, *e;

    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    s = strstr(xml, open);
    if (s == NULL)
        return -1;
    s += strlen(open);
    e = strstr(s, close);
    if (e == NULL || (size_t)(e - s) >= out_len)
        return -1;
    memcpy(out, s, (size_t)(e - s));
    out[e - s] = '\0';
    return 0;
}

/* The ETag S3 gives a multipart object: MD5 of the parts' binary MD5s, "-", number of parts. */
static void expected_final_etag(const mp_run_t *run, char *out, size_t out_len)
{
    uint8_t *bins = malloc((size_t)run->num_parts * 16);
    struct iovec iov;
    char hex[33];

    if (bins == NULL)
        abort();
    for (uint32_t i = 0; i < run->num_parts; i++)
        for (int j = 0; j < 16; j++) {
            unsigned v;
            sscanf(run->expect_md5[i] + 2 * j, "%2x", &v);
            bins[16 * i + j] = (uint8_t)v;
        }
    iov.iov_base = bins;
    iov.iov_len = (size_t)run->num_parts * 16;
    digest_hex(EVP_md5(), &iov, 1, hex);
    snprintf(out, out_len, "%s-%" PRIu32, hex, run->num_parts);
    free(bins);
}

/* Best effort, so a failed run leaves no parts behind on the server. */
static void abort_upload(mp_run_t *run, http_conn_t *c, http_response_t *resp)
{
    bench_query_param_t params[] = {{"uploadId", run->upload_id}};
    http_request_t req = {.method = "DELETE", .params = params, .num_params = 1, .payload_hash = BENCH_EMPTY_SHA256};

    if (do_request(run, c, &req, resp) == 0 && run->cfg->verbose)
        fprintf(stderr, "coffer-bench: abort upload: HTTP %d\n", resp->status);
}

static double percentile(const double *sorted, size_t n, double p)
{
    size_t i;

    if (n == 0)
        return 0;
    i = (size_t)(p / 100.0 * (double)n);
    return sorted[i >= n ? n - 1 : i];
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct mp_times {
    double start;      /* create request sent */
    double created;    /* upload ID received (0: never) */
    double completing; /* complete request sent (0: never) */
    double end;        /* complete response received, or the failure */
} mp_times_t;

/* Prints the RESULT line; rates are 0 for a failed run. */
static void print_result(const mp_run_t *run, int exit_code, mp_times_t t, uint64_t parts_done, const char *etag,
                         const char *expect)
{
    const bench_mp_config_t *cfg = run->cfg;
    double elapsed = t.end - t.start > 0 ? t.end - t.start : 1e-9;
    double parts_s = t.created > 0 && t.completing > t.created ? t.completing - t.created : elapsed;
    double *lat = malloc((run->num_parts ? run->num_parts : 1) * sizeof(double));
    int ok = exit_code == 0;
    size_t n = 0;

    if (lat == NULL)
        abort();
    for (uint32_t i = 0; i < run->num_parts; i++)
        if (run->etags[i][0] != '\0')
            lat[n++] = run->latency_ms[i];
    qsort(lat, n, sizeof(double), cmp_double);
    printf("RESULT mode=put-multipart signed=%d conns=%d size=%" PRIu64 " part_size=%" PRIu64 " parts=%" PRIu32 " ops=%" PRIu64
           " errors=%" PRIu64 " seconds=%.3f ops_per_s=%.1f parts_per_s=%.1f mb_per_s=%.1f"
           " create_ms=%.3f parts_s=%.3f complete_ms=%.3f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f"
           " bytes=%" PRIu64 " verified=%d etag=%s\n",
           cfg->sign, cfg->concurrency, cfg->size, cfg->part_size, run->num_parts, parts_done, run->errors, elapsed,
           ok ? (double)parts_done / elapsed : 0.0, ok ? (double)parts_done / parts_s : 0.0,
           ok ? (double)cfg->size / 1e6 / elapsed : 0.0, t.created > 0 ? (t.created - t.start) * 1000.0 : 0.0,
           t.completing > 0 ? t.completing - t.created : 0.0, t.completing > 0 ? (t.end - t.completing) * 1000.0 : 0.0,
           percentile(lat, n, 50), percentile(lat, n, 90), percentile(lat, n, 99), n > 0 ? lat[n - 1] : 0.0, ok ? cfg->size : 0,
           ok && expect[0] != '\0', etag[0] != '\0' ? etag : "-");
    fflush(stdout);
    free(lat);
}

int bench_multipart_run(const bench_mp_config_t *cfg)
{
    mp_run_t *run = calloc(1, sizeof(*run));
    http_conn_t *c = calloc(1, sizeof(*c));
    http_response_t resp = {0};
    pthread_t *threads = NULL;
    char *xml = NULL, final_etag[ETAG_MAX] = "", bare[ETAG_MAX] = "", expect[64] = "", why[256], hash[65];
    double t0 = 0, t_create = 0, t_complete0 = 0, t_end = 0;
    uint64_t parts_done = 0;
    int num_threads = 0, exit_code = 2, ret;
    size_t xml_len = 0, xml_cap;

    if (run == NULL || c == NULL)
        abort();
    c->fd = -1;
    run->cfg = cfg;
    run->creds = (bench_sigv4_creds_t){cfg->access_key, cfg->secret_key, cfg->region};
    atomic_init(&run->next_part, 0);
    atomic_init(&run->failed, 0);
    pthread_mutex_init(&run->err_lock, NULL);
    if (target_init(&run->target, cfg) != 0)
        goto Exit;
    if (cfg->size == 0 || cfg->part_size == 0 || cfg->part_size > MAX_PART_SIZE) {
        fprintf(stderr, "coffer-bench: put-multipart needs --size > 0 and 0 < --part-size <= 5G\n");
        goto Exit;
    }
    if ((cfg->size + cfg->part_size - 1) / cfg->part_size > MAX_PARTS) {
        fprintf(stderr, "coffer-bench: %" PRIu64 " bytes in parts of %" PRIu64 " is more than %d parts\n", cfg->size,
                cfg->part_size, MAX_PARTS);
        goto Exit;
    }
    run->num_parts = (uint32_t)((cfg->size + cfg->part_size - 1) / cfg->part_size);
    run->seed = bench_name_seed(cfg->key);
    run->data = malloc(cfg->part_size);
    run->etags = calloc(run->num_parts, sizeof(*run->etags));
    run->latency_ms = calloc(run->num_parts, sizeof(*run->latency_ms));
    if (run->data == NULL || run->etags == NULL || run->latency_ms == NULL)
        abort();
    bench_gen_bytes(run->seed, 0, run->data, cfg->part_size);
    if (cfg->verify) { /* before the clock starts: the server, not the client, is measured */
        run->expect_md5 = calloc(run->num_parts, sizeof(*run->expect_md5));
        if (run->expect_md5 == NULL)
            abort();
        for (uint32_t i = 0; i < run->num_parts; i++) {
            uint8_t hdr[PART_HEADER_LEN];
            struct iovec iov[2];
            int num_iov;
            part_body(run, i, hdr, iov, &num_iov);
            digest_hex(EVP_md5(), iov, num_iov, run->expect_md5[i]);
        }
        expected_final_etag(run, expect, sizeof(expect));
    }
    exit_code = 1;

    /* 1. create */
    t0 = now_s();
    {
        bench_query_param_t params[] = {{"uploads", ""}};
        http_request_t req = {.method = "POST", .params = params, .num_params = 1, .payload_hash = BENCH_EMPTY_SHA256};

        ret = do_request(run, c, &req, &resp);
        if (ret != 0) {
            snprintf(why, sizeof(why), "transport: %s", strerror(-ret));
            report_error(run, "POST ?uploads", why, NULL);
            goto Report;
        }
        if (resp.status != 200 || xml_text(resp.body, "UploadId", run->upload_id, sizeof(run->upload_id)) != 0 ||
            run->upload_id[0] == '\0') {
            snprintf(why, sizeof(why), resp.status != 200 ? "HTTP %d" : "HTTP %d without an <UploadId>", resp.status);
            report_error(run, "POST ?uploads", why, &resp);
            goto Report;
        }
    }
    t_create = now_s();

    /* 2. parts */
    num_threads = cfg->concurrency < (int)run->num_parts ? cfg->concurrency : (int)run->num_parts;
    threads = calloc((size_t)num_threads, sizeof(*threads));
    if (threads == NULL)
        abort();
    for (int i = 0; i < num_threads; i++) {
        if (pthread_create(&threads[i], NULL, part_worker, run) != 0) {
            fprintf(stderr, "coffer-bench: pthread_create failed\n");
            atomic_store(&run->failed, 1);
            num_threads = i;
            break;
        }
    }
    for (int i = 0; i < num_threads; i++)
        pthread_join(threads[i], NULL);
    for (uint32_t i = 0; i < run->num_parts; i++)
        if (run->etags[i][0] != '\0')
            parts_done++;
    if (atomic_load(&run->failed) || parts_done != run->num_parts) {
        if (run->errors == 0)
            report_error(run, "parts", "not all parts were uploaded", NULL);
        abort_upload(run, c, &resp);
        goto Report;
    }

    /* 3. complete */
    xml_cap = 128 + (size_t)run->num_parts * (128 + ETAG_MAX);
    xml = malloc(xml_cap);
    if (xml == NULL)
        abort();
    xml_len = (size_t)snprintf(xml, xml_cap, "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
    for (uint32_t i = 0; i < run->num_parts; i++)
        xml_len += (size_t)snprintf(xml + xml_len, xml_cap - xml_len,
                                    "<Part><PartNumber>%" PRIu32 "</PartNumber><ETag>\"%s\"</ETag></Part>", i + 1, run->etags[i]);
    xml_len += (size_t)snprintf(xml + xml_len, xml_cap - xml_len, "</CompleteMultipartUpload>");
    t_complete0 = now_s();
    {
        bench_query_param_t params[] = {{"uploadId", run->upload_id}};
        http_request_t req = {.method = "POST",
                              .params = params,
                              .num_params = 1,
                              .content_type = "application/xml",
                              .payload_hash = hash,
                              .body = {{.iov_base = xml, .iov_len = xml_len}},
                              .num_body = 1,
                              .body_len = xml_len};

        /* The body is small: sign its real hash (inside the timed run), as the SDKs do. */
        bench_sha256_hex(xml, xml_len, hash);
        ret = do_request(run, c, &req, &resp);
        t_end = now_s();
        if (ret != 0) {
            snprintf(why, sizeof(why), "transport: %s", strerror(-ret));
            report_error(run, "POST ?uploadId (complete)", why, NULL);
            goto Report;
        }
        /* S3 may answer 200 and still report an error in the body. */
        if (resp.status != 200 || strstr(resp.body, "<Error>") != NULL ||
            xml_text(resp.body, "ETag", final_etag, sizeof(final_etag)) != 0) {
            snprintf(why, sizeof(why), "HTTP %d%s", resp.status, resp.status == 200 ? " without a result <ETag>" : "");
            report_error(run, "POST ?uploadId (complete)", why, &resp);
            abort_upload(run, c, &resp);
            goto Report;
        }
    }
    etag_bare(final_etag, bare, sizeof(bare));
    {
        char tail[16];
        snprintf(tail, sizeof(tail), "-%" PRIu32, run->num_parts);
        if (strlen(bare) != 32 + strlen(tail) || !is_hex32(bare) || strcmp(bare + 32, tail) != 0) {
            snprintf(why, sizeof(why), "final ETag '%s' is not <32 hex>%s", bare, tail);
            report_error(run, "complete", why, NULL);
        } else if (expect[0] != '\0' && strcasecmp(bare, expect) != 0) {
            snprintf(why, sizeof(why), "final ETag %s, expected %s", bare, expect);
            report_error(run, "complete", why, NULL);
        }
    }
    if (run->errors == 0)
        exit_code = 0;

Report:
    print_result(run, exit_code, (mp_times_t){t0, t_create, t_complete0, t_end > 0 ? t_end : now_s()}, parts_done, bare, expect);

Exit:
    conn_close(c);
    free(c);
    free(resp.body);
    free(xml);
    free(threads);
    free(run->data);
    free(run->etags);
    free(run->expect_md5);
    free(run->latency_ms);
    pthread_mutex_destroy(&run->err_lock);
    free(run);
    return exit_code;
}
