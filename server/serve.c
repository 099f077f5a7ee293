/* server/serve.c -- `coffer serve`: storage, credentials, h2o loops, signals.
 *
 * DESIGN: one h2o event loop per thread, each with its own SO_REUSEPORT
 * listening socket so the kernel spreads connections without a shared accept
 * lock. Blocking disk work goes to the I/O pool and comes back to the loop
 * that asked (iopool.c). SIGINT/SIGTERM are taken by the main thread with
 * sigwait; it wakes every loop through its control receiver. A loop stops
 * accepting, lets the requests it has finish (bounded by a deadline, but never
 * while one of its jobs is still on a worker), and exits; then the pool drains
 * and storage closes cleanly. */
#include "server/serve.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/rand.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "server/bodymap.h"
#include "server/handler.h"
#include "server/admin.h"
#include "server/log.h"
#include "storage/users.h"

#define MAX_REQUEST_BODY ((size_t)5 * 1024 * 1024 * 1024 + 1024 * 1024) /* 5 GiB, S3's single-PUT limit, + slack */
#define MMAP_THRESHOLD (1024 * 1024)
#define REQUEST_TIMEOUT_MS (10 * 60 * 1000) /* h2o's timeout covers the whole body: allow slow large uploads */
#define SHUTDOWN_GRACE_SECS 10
#define BODY_TRIM_INTERVAL_MS 25 /* how often resident pages of spilled request bodies are dropped */

void serve_config_defaults(serve_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    snprintf(cfg->listen_host, sizeof(cfg->listen_host), "127.0.0.1");
    cfg->listen_port = 9000;
    cfg->threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (cfg->threads < 1)
        cfg->threads = 1;
    cfg->io_threads = 32;
    cfg->copies = 1;
    cfg->region = "us-east-1";
}

/* ------------------------------------------------------------------ credentials */

/*
 * Root credentials: the environment wins; else the meta directory's settings; else new ones,
 * kept there. Then the root user record exists (made on first start, or on the first start
 * after an upgrade from a store without users) and that key is its configured key.
 */
static int load_root_credentials(server_t *s)
{
    const char *ak = getenv("COFFER_ROOT_ACCESS_KEY"), *sk = getenv("COFFER_ROOT_SECRET_KEY");
    char akbuf[129], skbuf[129];
    int generated = 0, from_env = 0, ret = -1;
    if (ak != NULL && sk != NULL && ak[0] != '\0' && sk[0] != '\0') {
        from_env = 1;
    } else {
        int alen = store_setting_get(s->store, "root_access_key", akbuf, sizeof(akbuf) - 1);
        int slen = store_setting_get(s->store, "root_secret_key", skbuf, sizeof(skbuf) - 1);
        if (alen > 0 && slen > 0 && alen < (int)sizeof(akbuf) && slen < (int)sizeof(skbuf)) {
            akbuf[alen] = '\0';
            skbuf[slen] = '\0';
        } else {
            users_key_t k;
            users_generate_key(&k);
            memcpy(akbuf, k.access_key, sizeof(akbuf));
            memcpy(skbuf, k.secret, sizeof(skbuf));
            explicit_bzero(&k, sizeof(k));
            if (store_setting_put(s->store, "root_access_key", akbuf, strlen(akbuf)) != 0 ||
                store_setting_put(s->store, "root_secret_key", skbuf, strlen(skbuf)) != 0) {
                log_error("cannot keep the generated root credentials in the meta directory");
                goto Exit;
            }
            generated = 1;
        }
        ak = akbuf;
        sk = skbuf;
    }
    users_user_t root;
    size_t retired = 0;
    int rc = users_ensure_root(s->store, ak, sk, &root, &retired);
    if (rc == -EINVAL) {
        log_error("the root access key or secret key is empty, longer than 128 characters or not printable ASCII");
        goto Exit;
    }
    if (rc == -EEXIST) {
        users_key_t other = {0};
        users_key_get(s->store, ak, &other);
        log_error("the root access key %s belongs to user %s: choose another root key, or remove it from that user", ak,
                  other.user);
        explicit_bzero(&other, sizeof(other));
        goto Exit;
    }
    if (rc != 0) {
        log_error("cannot record the root user in the meta directory: %s", strerror(-rc));
        goto Exit;
    }
    if (retired != 0)
        log_info("root's previously configured access key no longer works (the configuration names %s now)", ak);
    if (!from_env) {
        printf("Coffer root credentials (%s the meta directory %s):\n"
               "  access key: %s\n"
               "  secret key: %s\n"
               "Set COFFER_ROOT_ACCESS_KEY and COFFER_ROOT_SECRET_KEY to choose your own.\n",
               generated ? "new, kept in" : "from", s->cfg.meta_dir, ak, sk);
        fflush(stdout);
    }
    snprintf(s->root.access_key, sizeof(s->root.access_key), "%s", ak);
    ret = 0;
Exit:
    explicit_bzero(skbuf, sizeof(skbuf));
    return ret;
}

static int load_user(void *ctx, const users_user_t *u)
{
    return keys_set_user(ctx, u->name, u->canonical_id, u->email) == 0 ? 0 : -EINVAL;
}

typedef struct load_keys_ctx {
    keys_t *keys;
    size_t num;
} load_keys_ctx_t;

static int load_key(void *ctx, const users_key_t *k)
{
    load_keys_ctx_t *c = ctx;
    keys_user_t u;
    if (keys_find_user_by(c->keys, KEYS_BY_NAME, k->user, &u) != 0 || strcmp(u.name, k->user) != 0) {
        log_warn("access key %s names user %s, who does not exist: ignored", k->access_key, k->user);
        return 0;
    }
    if (keys_add(c->keys, k->access_key, k->secret, u.name, u.canonical_id, u.email) != 0) {
        log_warn("access key %s of user %s is not usable: ignored", k->access_key, k->user);
        return 0;
    }
    c->num++;
    return 0;
}

/* Every user and access key of the metadata store into the credential table; s->root gets root's identity. */
static int load_users(server_t *s)
{
    load_keys_ctx_t c = {s->keys, 0};
    int rc = users_list(s->store, load_user, s->keys);
    if (rc == 0)
        rc = users_key_list(s->store, NULL, load_key, &c);
    if (rc != 0) {
        log_error("cannot read the users and access keys from the meta directory: %s", strerror(rc < 0 ? -rc : EIO));
        return -1;
    }
    char root_key[sizeof(s->root.access_key)];
    memcpy(root_key, s->root.access_key, sizeof(root_key));
    if (keys_lookup(s->keys, root_key, &s->root) != 0) {
        log_error("the root access key did not load");
        return -1;
    }
    explicit_bzero(s->root.secret, sizeof(s->root.secret));
    log_info("users: %zu access keys loaded", c.num);
    return 0;
}

/* ------------------------------------------------------------------ listeners and loops */

static int open_listener(const serve_config_t *cfg, char *err, size_t err_len)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    char port[16];
    snprintf(port, sizeof(port), "%d", cfg->listen_port);
    int gai = getaddrinfo(cfg->listen_host[0] != '\0' ? cfg->listen_host : NULL, port, &hints, &res);
    if (gai != 0) {
        snprintf(err, err_len, "resolve %s: %s", cfg->listen_host, gai_strerror(gai));
        return -1;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0 ||
        listen(fd, SOMAXCONN) != 0) {
        snprintf(err, err_len, "listen on %s:%d: %s", cfg->listen_host, cfg->listen_port, strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    server_thread_t *t = listener->data;
    if (err != NULL)
        return;
    h2o_socket_t *sock;
    for (int i = 0; i < 32 && (sock = h2o_evloop_socket_accept(listener)) != NULL; ++i) {
        int one = 1;
        setsockopt(h2o_socket_get_fd(sock), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        h2o_accept(&t->accept_ctx, sock);
    }
}

static void on_control(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    server_thread_t *t = H2O_STRUCT_FROM_MEMBER(server_thread_t, ctl_receiver, receiver);
    while (!h2o_linklist_is_empty(messages)) {
        h2o_multithread_message_t *m = H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
        h2o_linklist_unlink(&m->link);
        free(m);
    }
    if (t->listener != NULL) { /* stop accepting; requests already read are answered */
        h2o_socket_read_stop(t->listener);
        h2o_socket_close(t->listener);
        t->listener = NULL;
        t->listen_fd = -1;
    }
    h2o_context_request_shutdown(&t->ctx);
}

/* ------------------------------------------------------------------ where request bodies spill */

/*
 * h2o keeps a request body over its mmap threshold in a temp file it reserves in full
 * (posix_fallocate), and closes the connection without an answer when it cannot. Each loop
 * therefore points its own (thread-local) buffer prototype at the roomiest data directory that
 * takes data (not failed, not full, writable, present), rechecked every SPILL_CHECK_MS; when
 * none has SPILL_MIN_FREE left, the metadata directory's coffer-spill/ competes too, so a body
 * bound for a full disk still arrives whole and gets its 507 from storage.
 */
#define SPILL_CHECK_MS 100
#define SPILL_MIN_FREE (1ull << 30)
#define SPILL_SUBDIR "coffer-spill"

static void spill_init(server_t *s)
{
    const serve_config_t *cfg = &s->cfg;
    s->num_spill = cfg->num_data_dirs + 1;
    s->spill = calloc(s->num_spill, sizeof(*s->spill));
    s->spill_dirs = calloc(s->num_spill, sizeof(*s->spill_dirs));
    if (s->spill == NULL || s->spill_dirs == NULL)
        abort();
    for (size_t i = 0; i < s->num_spill; i++) {
        char dir[FILENAME_MAX - 32];
        if (i < cfg->num_data_dirs)
            snprintf(dir, sizeof(dir), "%s/tmp", cfg->data_dirs[i]);
        else
            snprintf(dir, sizeof(dir), "%s/" SPILL_SUBDIR, cfg->meta_dir);
        s->spill[i].threshold = h2o_socket_buffer_mmap_settings.threshold;
        snprintf(s->spill[i].fn_template, sizeof(s->spill[i].fn_template), "%s/h2o-body.XXXXXX", dir);
        if ((s->spill_dirs[i] = strdup(dir)) == NULL)
            abort();
    }
    /* the metadata fallback: made here, and emptied of what a crash left (data dirs' tmp/ are emptied by storage) */
    const char *meta_spill = s->spill_dirs[s->num_spill - 1];
    if (mkdir(meta_spill, 0700) != 0 && errno != EEXIST)
        log_warn("cannot create %s: %s", meta_spill, strerror(errno));
    DIR *d = opendir(meta_spill);
    for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;) {
        char path[FILENAME_MAX];
        if (strncmp(e->d_name, "h2o-body.", 9) == 0 && snprintf(path, sizeof(path), "%s/%s", meta_spill, e->d_name) > 0)
            unlink(path);
    }
    if (d != NULL)
        closedir(d);
}

/* Bytes free for this process in dir, or 0 when it is missing or read-only. */
static uint64_t spill_room(const char *dir)
{
    struct statvfs sv;
    if (statvfs(dir, &sv) != 0 || (sv.f_flag & ST_RDONLY))
        return 0;
    return (uint64_t)sv.f_bavail * sv.f_frsize;
}

static void choose_spill_dir(server_t *s)
{
    size_t best = SIZE_MAX;
    uint64_t best_room = 0;
    for (size_t i = 0; i < s->num_spill; i++) {
        int meta = i + 1 == s->num_spill;
        if (meta && best != SIZE_MAX && best_room >= SPILL_MIN_FREE)
            break; /* a data directory has room enough */
        if (!meta && !store_data_dir_usable(s->store, i))
            continue;
        uint64_t room = spill_room(s->spill_dirs[i]);
        if (room > best_room) {
            best = i;
            best_room = room;
        }
    }
    if (best != SIZE_MAX && h2o_socket_buffer_prototype.mmap_settings != &s->spill[best]) {
        if (h2o_socket_buffer_prototype.mmap_settings != &h2o_socket_buffer_mmap_settings)
            log_info("request bodies now spill to %s", s->spill_dirs[best]);
        h2o_socket_buffer_prototype.mmap_settings = &s->spill[best];
    }
}

static void *thread_main(void *arg)
{
    server_thread_t *t = arg;
    server_t *s = t->server;
    h2o_evloop_t *loop = h2o_evloop_create();
    h2o_context_init(&t->ctx, loop, &s->h2o_config);
    t->accept_ctx.ctx = &t->ctx;
    t->accept_ctx.hosts = s->h2o_config.hosts;
    t->queue = h2o_multithread_create_queue(loop);
    h2o_multithread_register_receiver(t->queue, &t->io_receiver, iopool_on_done);
    h2o_multithread_register_receiver(t->queue, &t->ctl_receiver, on_control);
    t->listener = h2o_evloop_socket_create(loop, t->listen_fd, H2O_SOCKET_FLAG_DONT_READ);
    t->listener->data = t;
    h2o_socket_read_start(t->listener, on_accept);

    time_t deadline = 0;
    uint64_t last_trim = 0, last_spill_check = 0, last_ingest_poll = 0;
    choose_spill_dir(s);
    ingest_list_init(&t->ingests);
    int32_t trim_wait = 200;
    size_t receiving = 0;
    for (;;) {
        /* while an ingest reads a body, h2o sees no event for it: look every millisecond whether it is done */
        h2o_evloop_run(loop, receiving != 0 ? 1 : trim_wait);
        log_access_flush();
        uint64_t now = h2o_now(loop);
        if (now != last_ingest_poll) { /* at most once a millisecond: it walks every connection */
            receiving = ingest_poll(&t->ingests, &t->ctx, s->store, s->cfg.domain);
            last_ingest_poll = now;
        }
        if (now - last_spill_check >= SPILL_CHECK_MS) {
            choose_spill_dir(s);
            last_spill_check = now;
        }
        if (now - last_trim >= BODY_TRIM_INTERVAL_MS) {
            /* while a spilled body exists (being received, or read by a worker), wake up often enough to trim it */
            trim_wait = bodymap_trim(&t->ctx) != 0 ? BODY_TRIM_INTERVAL_MS : 200;
            last_trim = now;
        }
        if (!s->shutting_down)
            continue;
        if (deadline == 0)
            deadline = time(NULL) + SHUTDOWN_GRACE_SECS;
        /* Jobs on workers point into requests of this loop: never leave before they return. Idle
         * keep-alive connections are not waited for; a request still being received was never answered. */
        if (t->jobs_in_flight == 0 && (t->active_requests == 0 || time(NULL) >= deadline))
            break;
    }
    ingest_cancel_all(&t->ingests);
    log_access_flush();
    return NULL;
}

/* ------------------------------------------------------------------ run */

int serve_run(const serve_config_t *cfg)
{
    static server_t server;
    server_t *s = &server;
    int exit_status = 1;
    char err[512];
    memset(s, 0, sizeof(*s));
    s->cfg = *cfg;

    /* Request bodies up to 32 MiB (parts, PUTs) are malloc'ed buffers of several MiB. With
     * glibc's default sliding mmap threshold they soon come from the heap arenas, which keep
     * the peak forever (16 parallel 8 MiB parts left 300 MiB resident); a fixed threshold
     * maps each large buffer and gives it back when the request ends. */
    mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);

    /* Signals: the main thread waits for them; every other thread has them blocked. */
    signal(SIGPIPE, SIG_IGN);
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    store_config_t scfg = {.meta_dir = cfg->meta_dir,
                           .data_dirs = cfg->data_dirs,
                           .num_data_dirs = cfg->num_data_dirs,
                           .copies = (unsigned)cfg->copies};
    int rc = store_open(&scfg, &s->store, err, sizeof(err));
    if (rc != 0) {
        log_error("cannot open storage: %s", err);
        return 1;
    }
    s->keys = keys_create();
    if (load_root_credentials(s) != 0 || load_users(s) != 0)
        goto Exit;
    if (RAND_bytes((unsigned char *)&s->request_id_salt, sizeof(s->request_id_salt)) != 1)
        abort();

    h2o_config_init(&s->h2o_config);
    s->h2o_config.server_name = h2o_iovec_init(H2O_STRLIT("Coffer"));
    s->h2o_config.max_request_entity_size = MAX_REQUEST_BODY;
    s->h2o_config.http1.req_timeout = REQUEST_TIMEOUT_MS;
    s->h2o_config.http1.upgrade_to_http2 = 0; /* HTTP/1.1 only: see the lifetime rule in handler.h */
    h2o_hostconf_t *host = h2o_config_register_host(&s->h2o_config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    h2o_handler_t *handler = h2o_create_handler(path, sizeof(*handler));
    handler->on_req = handler_on_req;
    /* Large request bodies spill into an mmap'd file: on a data volume, not a small /tmp (see choose_spill_dir). */
    spill_init(s);

    s->iopool = iopool_create(cfg->io_threads);
    s->num_threads = cfg->threads;
    s->threads = calloc((size_t)cfg->threads, sizeof(server_thread_t));
    if (s->threads == NULL)
        abort();
    for (int i = 0; i < cfg->threads; ++i) {
        server_thread_t *t = &s->threads[i];
        t->server = s;
        t->index = i;
        if ((t->listen_fd = open_listener(cfg, err, sizeof(err))) < 0) {
            log_error("%s", err);
            for (int j = 0; j < i; ++j)
                close(s->threads[j].listen_fd);
            iopool_destroy(s->iopool);
            goto Exit;
        }
    }
    for (int i = 0; i < cfg->threads; ++i) {
        if (pthread_create(&s->threads[i].tid, NULL, thread_main, &s->threads[i]) != 0)
            abort();
    }
    log_info("coffer listening on %s:%d (%d event loops, %d I/O workers, %zu data directories, %d %s of each chunk)",
             cfg->listen_host, cfg->listen_port, cfg->threads, cfg->io_threads, cfg->num_data_dirs, cfg->copies,
             cfg->copies == 1 ? "copy" : "copies");

    int sig = 0;
    sigwait(&sigs, &sig);
    log_info("received %s; shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    s->shutting_down = 1;
    for (int i = 0; i < cfg->threads; ++i) {
        h2o_multithread_message_t *m = calloc(1, sizeof(*m));
        if (m == NULL)
            abort();
        h2o_multithread_send_message(&s->threads[i].ctl_receiver, m);
    }
    for (int i = 0; i < cfg->threads; ++i)
        pthread_join(s->threads[i].tid, NULL);
    iopool_destroy(s->iopool);
    ingest_wait_idle(); /* cancelled ingests remove their temp files: before the store closes */
    admin_shutdown();   /* a scrub reads the store: stop it before the store closes */
    log_info("stopped");
    exit_status = 0;

Exit:
    store_close(s->store);
    keys_destroy(s->keys);
    for (size_t i = 0; i < s->num_spill; i++)
        free(s->spill_dirs[i]);
    free(s->spill_dirs);
    free(s->spill);
    return exit_status;
}
