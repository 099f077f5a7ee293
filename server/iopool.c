/* server/iopool.c -- a fixed pool of worker threads for blocking disk work.
 *
 * DESIGN: event loops must never wait on a disk. A job is queued here, a
 * worker runs its work() (fdatasync, a synced RocksDB batch, a chunk read),
 * then hands it back to its loop with h2o_multithread_send_message, which
 * wakes the loop to run done(). Many workers are cheap: most of the time they
 * sleep in fsync, and many concurrent synced writers are what lets RocksDB
 * group-commit. */
#include "server/iopool.h"

#include <pthread.h>
#include <stdlib.h>

struct iopool {
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    iopool_job_t *head, *tail;
    int stopping;
    int num_threads;
    pthread_t *threads; /* owned */
};

static void *worker_main(void *arg)
{
    iopool_t *pool = arg;
    for (;;) {
        pthread_mutex_lock(&pool->mutex);
        while (pool->head == NULL && !pool->stopping)
            pthread_cond_wait(&pool->cond, &pool->mutex);
        iopool_job_t *job = pool->head;
        if (job == NULL) { /* stopping and drained */
            pthread_mutex_unlock(&pool->mutex);
            return NULL;
        }
        if ((pool->head = job->next) == NULL)
            pool->tail = NULL;
        pthread_mutex_unlock(&pool->mutex);

        job->work(job);
        h2o_multithread_send_message(job->receiver, &job->msg);
    }
}

iopool_t *iopool_create(int num_threads)
{
    iopool_t *pool = calloc(1, sizeof(*pool));
    if (pool == NULL || (pool->threads = calloc((size_t)num_threads, sizeof(pthread_t))) == NULL)
        abort();
    pthread_mutex_init(&pool->mutex, NULL);
    pthread_cond_init(&pool->cond, NULL);
    pool->num_threads = num_threads;
    for (int i = 0; i < num_threads; ++i) {
        if (pthread_create(&pool->threads[i], NULL, worker_main, pool) != 0)
            abort();
    }
    return pool;
}

void iopool_submit(iopool_t *pool, iopool_job_t *job)
{
    job->next = NULL;
    job->msg.link = (h2o_linklist_t){NULL, NULL}; /* h2o asserts a message is unlinked when sent */
    pthread_mutex_lock(&pool->mutex);
    if (pool->tail != NULL)
        pool->tail->next = job;
    else
        pool->head = job;
    pool->tail = job;
    pthread_cond_signal(&pool->cond);
    pthread_mutex_unlock(&pool->mutex);
}

void iopool_on_done(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    (void)receiver;
    while (!h2o_linklist_is_empty(messages)) {
        iopool_job_t *job = H2O_STRUCT_FROM_MEMBER(iopool_job_t, msg.link, messages->next);
        h2o_linklist_unlink(&job->msg.link);
        job->done(job);
    }
}

void iopool_destroy(iopool_t *pool)
{
    pthread_mutex_lock(&pool->mutex);
    pool->stopping = 1;
    pthread_cond_broadcast(&pool->cond);
    pthread_mutex_unlock(&pool->mutex);
    for (int i = 0; i < pool->num_threads; ++i)
        pthread_join(pool->threads[i], NULL);
    pthread_mutex_destroy(&pool->mutex);
    pthread_cond_destroy(&pool->cond);
    free(pool->threads);
    free(pool);
}
