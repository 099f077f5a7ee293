/* storage/committer.c -- the commit thread of small PUTs (store_object_put_async).
 *
 * DESIGN: a small object lives in its metadata record, so its PUT is one
 * synced RocksDB write. Done by a worker per request, every PUT costs a
 * hand-off to the worker, a place in RocksDB's write group (a futex wait and
 * wake-up for all but its leader) and a message back to the loop. Here one
 * thread takes whatever was queued while the last batch was syncing and
 * commits it all in one batch (store_commit_pending): under load the
 * hand-offs and the fsync are paid per batch. A PUT whose key lock is busy
 * is put back at the head of the queue, so it goes first next time. */
#include <pthread.h>
#include <stdlib.h>

#include "storage/store_internal.h"

/* The most PUTs in one batch: bounds the batch's size and the time its key locks are held. */
#define COMMIT_BATCH_MAX 256

struct store_committer {
    store_t *st;
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    store_pending_t *head, **tail; /* the queue, under mutex */
    int stopping;                  /* under mutex */
    pthread_t thread;
};

/* Takes up to COMMIT_BATCH_MAX PUTs off the queue's head. Caller holds the mutex. */
static store_pending_t *take_batch(struct store_committer *c)
{
    store_pending_t *list = c->head, *last = list;
    for (size_t n = 1; n < COMMIT_BATCH_MAX && last->next != NULL; n++)
        last = last->next;
    if ((c->head = last->next) == NULL)
        c->tail = &c->head;
    last->next = NULL;
    return list;
}

static void *committer_main(void *arg)
{
    struct store_committer *c = arg;
    pthread_mutex_lock(&c->mutex);
    for (;;) {
        while (c->head == NULL && !c->stopping)
            pthread_cond_wait(&c->cond, &c->mutex);
        if (c->head == NULL)
            break; /* stopping, and everything queued is committed */
        store_pending_t *list = take_batch(c);
        pthread_mutex_unlock(&c->mutex);
        store_pending_t *left = store_commit_pending(c->st, list);
        pthread_mutex_lock(&c->mutex);
        if (left != NULL) { /* back to the head, in order */
            store_pending_t *last = left;
            while (last->next != NULL)
                last = last->next;
            if ((last->next = c->head) == NULL)
                c->tail = &last->next;
            c->head = left;
        }
    }
    pthread_mutex_unlock(&c->mutex);
    return NULL;
}

struct store_committer *store_committer_start(store_t *st)
{
    struct store_committer *c = calloc(1, sizeof(*c));
    if (c == NULL)
        abort();
    c->st = st;
    c->tail = &c->head;
    pthread_mutex_init(&c->mutex, NULL);
    pthread_cond_init(&c->cond, NULL);
    if (pthread_create(&c->thread, NULL, committer_main, c) != 0)
        abort();
    return c;
}

void store_committer_queue(struct store_committer *c, store_pending_t *p)
{
    p->next = NULL;
    pthread_mutex_lock(&c->mutex);
    *c->tail = p;
    c->tail = &p->next;
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->mutex);
}

void store_committer_stop(struct store_committer *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->mutex);
    c->stopping = 1;
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->mutex);
    pthread_join(c->thread, NULL);
    pthread_mutex_destroy(&c->mutex);
    pthread_cond_destroy(&c->cond);
    free(c);
}
