/* server/serve.h -- configuration, the shared server, and one event-loop thread per core. */
#ifndef COFFER_SERVE_H
#define COFFER_SERVE_H

#define H2O_USE_LIBUV 0
#include <h2o.h>
#include <pthread.h>
#include <stdint.h>

#include "auth/keys.h"
#include "server/ingest.h"
#include "server/iopool.h"
#include "storage/store.h"

#define SERVE_MAX_DATA_DIRS 64

typedef struct serve_config {
    char listen_host[256];
    int listen_port;
    const char *data_dirs[SERVE_MAX_DATA_DIRS]; /* borrowed (argv) */
    size_t num_data_dirs;
    int copies;           /* of each chunk, in different data directories */
    const char *meta_dir; /* borrowed */
    int threads;          /* event loops */
    int io_threads;       /* blocking-work workers */
    const char *domain;   /* virtual-host base domain, or NULL */
    const char *region;   /* reported by GetBucketLocation and HeadBucket */
} serve_config_t;

typedef struct server server_t;

/** One event loop: its h2o context and everything only that thread touches. */
typedef struct server_thread {
    server_t *server;
    int index;
    pthread_t tid;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    h2o_socket_t *listener;
    int listen_fd;
    h2o_multithread_queue_t *queue;
    h2o_multithread_receiver_t io_receiver;  /* iopool jobs finish here */
    h2o_multithread_receiver_t ctl_receiver; /* shutdown wake-up */
    sigkey_cache_t sigkeys;
    uint64_t req_counter;
    size_t jobs_in_flight;
    size_t active_requests; /* handed to on_req and not yet disposed */
    ingest_list_t ingests;  /* large PutObject bodies staged as they arrive */
} server_thread_t;

struct server {
    serve_config_t cfg;
    store_t *store;
    keys_t *keys;
    iopool_t *iopool;
    keys_user_t root;
    h2o_globalconf_t h2o_config;
    uint32_t request_id_salt;
    volatile int shutting_down;
    int num_threads;
    server_thread_t *threads;          /* owned */
    h2o_buffer_mmap_settings_t *spill; /* owned: where request bodies spill, one per data directory + the meta fallback */
    char **spill_dirs;                 /* owned: the directories of spill */
    size_t num_spill;
};

/** Fills defaults (127.0.0.1:9000, ./coffer-data, one loop per core). */
void serve_config_defaults(serve_config_t *cfg);

/** Runs the server until SIGINT/SIGTERM. Returns the process exit status. */
int serve_run(const serve_config_t *cfg);

/** The thread that owns an h2o context. */
static inline server_thread_t *serve_thread_of(h2o_context_t *ctx)
{
    return H2O_STRUCT_FROM_MEMBER(server_thread_t, ctx, ctx);
}

#endif
