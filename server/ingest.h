/* server/ingest.h -- a large PutObject body written into chunk files while it is still arriving.
 *
 * DESIGN: h2o 2.2.5 hands a request to the handler only once its whole body is
 * in memory (a body of 32 MiB or more in an mmap'd temp file). Hashing and
 * writing a 1 GiB body only then made a PUT take the receive time plus the
 * write time. So each loop looks, between events, at the HTTP/1 connections
 * whose body has spilled: for a PutObject whose payload the server can verify
 * from hashes alone (UNSIGNED-PAYLOAD or a hex x-amz-content-sha256, no
 * aws-chunked framing or x-amz-checksum-*), two threads follow the body as it
 * lands in h2o's temp file: one writes each chunk (store_stager_*), one computes
 * MD5 (and SHA-256 when the signature covers it). The pages both have passed
 * are punched out of the temp file, so the body does not sit in memory twice or
 * get written back to disk. When the handler runs, it takes the ingest
 * (ingest_take) and the job waits only for the last chunk and the commit.
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
 * turn of the loop): starts ingests for eligible bodies being received, tells
 * running ones how much has arrived, cancels those whose request went away.
 * domain: the --domain for virtual-host-style routing, or NULL. Returns the number
 * of ingests still tracked (poll often while it is not 0).
 */
size_t ingest_poll(ingest_list_t *l, h2o_context_t *ctx, store_t *st, const char *domain);

/**
 * The ingest of the request whose whole body h2o has just delivered (req->entity),
 * taken off the loop's list, or NULL when there is none. Call on the loop, in the
 * PutObject handler, once nothing can refuse the request any more: from then on
 * req->entity must not be read (its pages may have been punched out).
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
