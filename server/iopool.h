/* server/iopool.h -- blocking work (fsync, synced commits, disk reads) off the event loops. */
#ifndef COFFER_IOPOOL_H
#define COFFER_IOPOOL_H

#define H2O_USE_LIBUV 0
#include <h2o.h>

typedef struct iopool iopool_t;
typedef struct iopool_job iopool_job_t;

/**
 * A unit of blocking work. Embed it as the first member of a job struct that
 * the job owns (never request-pool memory that the loop may free). work runs
 * on a worker thread and must not touch h2o; done runs afterwards on the loop
 * thread that owns receiver.
 */
struct iopool_job {
    h2o_multithread_message_t msg; /* internal */
    iopool_job_t *next;            /* internal */
    void (*work)(iopool_job_t *job);
    void (*done)(iopool_job_t *job);
    h2o_multithread_receiver_t *receiver; /* the loop to finish on */
};

/** Starts num_threads workers. */
iopool_t *iopool_create(int num_threads);

/** Queues a job; returns at once. */
void iopool_submit(iopool_t *pool, iopool_job_t *job);

/** Runs every job's done callback; register as the receiver callback of each loop. */
void iopool_on_done(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages);

/** Finishes queued work and joins the workers. */
void iopool_destroy(iopool_t *pool);

#endif
