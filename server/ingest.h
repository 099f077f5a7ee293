/* server/ingest.h -- a large PutObject body written into chunk files while it is still arriving.
 *
 * DESIGN: h2o 2.2.5 hands a request to the handler only once its whole body is
 * in memory (from 32 MiB on, in an mmap'd temp file). Receiving a 1 GiB body
 * into that file, then hashing and writing it, made a PUT take the receive time
 * plus the write time, and every byte went through the temp file's fresh pages.
 * So each loop looks, between events, at the HTTP/1 connections reading a body:
 * for a PutObject of INGEST_MIN_BODY or more whose payload the server can verify
 * from hashes alone (UNSIGNED-PAYLOAD or a hex x-amz-content-sha256, no aws-chunked
 * framing or x-amz-checksum-*), the ingest takes the socket from h2o. Its receive
 * thread reads the body into a ring buffer; its hash thread computes the MD5 (the
 * slowest pass, so it gets a core of its own); its chunk thread writes each chunk
 * from the ring (store_stager_*) and computes the SHA-256 when the signature
 * covers it. Once the body is in, the loop gives the socket back to
 * h2o, which runs the handler as if it had read the body; the handler takes the
 * ingest (ingest_take) and the job waits only for the last chunk and the commit.
 * Nothing is visible before the handler has authenticated and authorized the
 * request: an ingest nobody takes is cancelled and its temp files removed. */
#ifndef COFFER_INGEST_H
#define COFFER_INGEST_H

#define H2O_USE_LIBUV 0
#include <h2o.h>

#include "server/s3err.h"
#include "storage/store.h"

typedef struct ingest ingest_t;

/** A loop's ingests. Zero-initialized, then ingest_list_init. */
typedef struct ingest_list {
    h2o_linklist_t items;
} ingest_list_t;

void ingest_list_init(ingest_list_t *l);

/**
 * Looks at the loop's HTTP/1 connections (call from the loop's thread after each
 * turn of the loop): starts ingests for eligible bodies being received, gives
 * connections whose body has been read back to h2o (which may run their handlers
 * from here), cancels ingests whose request went away. domain: the --domain for
 * virtual-host-style routing, or NULL. Returns the number of ingests still reading
 * a body: h2o sees no event for those, so poll again within a millisecond while it
 * is not 0.
 */
size_t ingest_poll(ingest_list_t *l, h2o_context_t *ctx, store_t *st, const char *domain);

/**
 * The ingest of the request whose body h2o has just delivered, taken off the
 * loop's list, or NULL when there is none. Call on the loop, in the PutObject
 * handler, once nothing can refuse the request any more. When a request has an
 * ingest, req->entity only has the right length: its bytes are not the body and
 * must never be read (the handler checks a hex x-amz-content-sha256 only in the
 * job for bodies of this size).
 */
ingest_t *ingest_take(ingest_list_t *l, h2o_req_t *req);

/**
 * Waits (on a worker) for a taken ingest to finish, and hands its chunks to put:
 * put->stager, and put->stager_md5 pointing at md5 (the caller's, kept until the
 * put is done). want_sha256: the lower-case hex x-amz-content-sha256 to check, or
 * NULL. Frees the ingest. Returns S3ERR_NONE or the error to answer (nothing stored).
 */
s3err_t ingest_finish(ingest_t *in, const char *want_sha256, store_put_t *put, uint8_t md5[16]);

/** Drops a taken ingest that will not be finished (its temp files are removed). */
void ingest_cancel(ingest_t *in);

/** Cancels every ingest of the list (a loop shutting down). */
void ingest_cancel_all(ingest_list_t *l);

/** Waits until no ingest thread is left anywhere (before the store is closed). */
void ingest_wait_idle(void);

#endif
