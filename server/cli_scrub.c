/* server/cli_scrub.c -- `coffer scrub`: check every stored chunk copy, offline or on a running server.
 *
 * DESIGN: offline, it opens the store itself (the server must be stopped: the
 * metadata directory is locked while one runs) and calls store_scrub. Online
 * (--endpoint), it asks the running server's admin endpoint (server/admin.h)
 * to start a scrub and polls it, fetching only the damage reports it has not
 * printed yet; the requests are SigV4-signed by libcurl with the root keys.
 * Both print the same lines: damage to stdout as found, progress to stderr
 * (redrawn in place on a terminal, a line every few seconds otherwise), and a
 * summary. Exit status: 0 when every chunk has a good copy (damage found was
 * repaired), 1 when data is lost or a record is unreadable, 2 on other errors
 * (copies in data directories that were not given included).
 */
#include "server/cli.h"

#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "server/log.h"
#include "server/serve.h"
#include "storage/store.h"

static const char usage_scrub[] = "Usage: coffer scrub --data DIR... [--meta DIR]       (offline: the server is stopped)\n"
                                  "       coffer scrub --endpoint URL [--region R]     (on a running server)\n"
                                  "\n"
                                  "Reads every copy of every stored chunk and checks its CRC32C checksums. A copy that is\n"
                                  "missing, unreadable or damaged is rewritten from a good copy where one exists (with\n"
                                  "serve --copies 2 or more). Each damaged copy is printed with the object it belongs to;\n"
                                  "progress goes to stderr.\n"
                                  "\n"
                                  "Options:\n"
                                  "  --data DIR       a data directory, as given to coffer serve (repeat, in the same order)\n"
                                  "  --meta DIR       the metadata directory (default ./coffer-data/meta)\n"
                                  "  --endpoint URL   scrub the server at URL instead (e.g. http://127.0.0.1:9000), with the\n"
                                  "                   root keys from COFFER_ROOT_ACCESS_KEY and COFFER_ROOT_SECRET_KEY\n"
                                  "  --region R       the region the server signs for (default us-east-1)\n"
                                  "  -h, --help       show this text\n"
                                  "\n"
                                  "Exit status: 0 when every chunk has a good copy (all damage found was repaired), 1 when\n"
                                  "some data has no good copy left or a record is unreadable, 2 on other errors (also when\n"
                                  "copies are in data directories that were not given).\n";

/* ------------------------------------------------------------------ printing */

typedef struct printer {
    int tty;
    time_t last;
    int drawn; /* a progress line is on the terminal */
} printer_t;

static void human_bytes(uint64_t n, char *out, size_t len)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = (double)n;
    int u = 0;
    while (v >= 1024 && u < 5) {
        v /= 1024;
        u++;
    }
    snprintf(out, len, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
}

static void clear_progress(printer_t *p)
{
    if (p->tty && p->drawn) {
        fputs("\r\033[K", stderr);
        p->drawn = 0;
    }
}

static void print_progress(printer_t *p, const store_scrub_stats_t *s, int force)
{
    time_t now = time(NULL);
    if (!force && now == p->last)
        return;
    if (!force && !p->tty && now - p->last < 5)
        return;
    p->last = now;
    char done[32], total[32];
    human_bytes(s->bytes, done, sizeof(done));
    human_bytes(s->total_bytes, total, sizeof(total));
    double pct = s->total_bytes ? 100.0 * (double)s->bytes / (double)s->total_bytes : 100.0;
    if (pct > 100)
        pct = 100;
    clear_progress(p);
    fprintf(stderr, "scrub: %5.1f%%  %s of %s, %" PRIu64 " of %" PRIu64 " objects, %" PRIu64 " damaged copies%s", pct, done, total,
            s->objects, s->total_objects, s->damaged, p->tty ? "" : "\n");
    p->drawn = p->tty;
    fflush(stderr);
}

static void print_damage(printer_t *p, const char *bucket, const char *key, size_t key_len, uint64_t part, const char *chunk,
                         uint64_t offset, const char *dir, const char *problem, const char *outcome)
{
    char k[4 * 1024 + 1], d[4 * 1024 + 1];
    log_escape(k, sizeof(k), key, key_len);
    log_escape(d, sizeof(d), dir ? dir : "?", dir ? strlen(dir) : 1);
    /* a copy in a directory not given is not damage: it could not be read */
    const char *lead = outcome != NULL && strcmp(outcome, "not checked") == 0 ? "not checked" : "damaged";
    clear_progress(p);
    if (bucket != NULL)
        printf("%s: s3://%s/%s", lead, bucket, k);
    else
        printf("%s: multipart upload %s part %" PRIu64, lead, k, part);
    printf(" (chunk %s at byte %" PRIu64 "), copy in %s: %s; %s\n", chunk ? chunk : "?", offset, d, problem ? problem : "?",
           outcome ? outcome : "?");
    fflush(stdout);
}

static int print_summary(const store_scrub_stats_t *s)
{
    char bytes[32];
    human_bytes(s->bytes, bytes, sizeof(bytes));
    printf("scrub: checked %" PRIu64 " objects and parts, %" PRIu64 " chunks (%" PRIu64 " copies, %s): %" PRIu64
           " damaged copies, %" PRIu64 " repaired, %" PRIu64 " chunks with no good copy, %" PRIu64 " unreadable records\n",
           s->objects, s->chunks, s->copies, bytes, s->damaged, s->repaired, s->unrecoverable, s->bad_records);
    if (s->unrecoverable != 0 || s->bad_records != 0)
        return 1;
    if (s->unchecked != 0) {
        printf("scrub: %" PRIu64 " copies are in data directories that were not given: pass every --data directory, in the "
               "order coffer serve is given them\n",
               s->unchecked);
        return 2;
    }
    return 0;
}

/* ------------------------------------------------------------------ offline */

static void offline_progress(void *ctx, const store_scrub_stats_t *s)
{
    print_progress(ctx, s, 0);
}

static void offline_damage(void *ctx, const store_scrub_damage_t *d)
{
    char chunk[17];
    snprintf(chunk, sizeof(chunk), "%016" PRIx64, d->chunk_id);
    print_damage(ctx, d->bucket, d->key, d->key_len, d->part_number, chunk, d->chunk_offset, d->dir, d->problem, d->outcome);
}

static int scrub_offline(const char *meta, const char *const *data, size_t num_data, printer_t *p)
{
    store_config_t cfg = {.meta_dir = meta, .data_dirs = data, .num_data_dirs = num_data};
    store_t *st = NULL;
    char err[1024] = "";
    if (store_open(&cfg, &st, err, sizeof(err)) != 0) {
        fprintf(stderr, "coffer scrub: %s\n", err);
        if (strstr(err, "lock") != NULL)
            fprintf(stderr, "(the server is running: scrub it with --endpoint instead)\n");
        return 2;
    }
    store_scrub_stats_t stats;
    store_scrub_cb_t cb = {.progress = offline_progress, .damage = offline_damage, .ctx = p};
    int ret = store_scrub(st, &cb, &stats);
    print_progress(p, &stats, 1);
    clear_progress(p);
    store_close(st);
    if (ret != 0) {
        fprintf(stderr, "coffer scrub: reading the metadata failed: %s\n", strerror(-ret));
        return 2;
    }
    return print_summary(&stats);
}

/* ------------------------------------------------------------------ online */

typedef struct response {
    char *data;
    size_t len;
} response_t;

static size_t on_body(char *ptr, size_t size, size_t n, void *ctx)
{
    response_t *r = ctx;
    size_t add = size * n;
    char *grown = realloc(r->data, r->len + add + 1);
    if (grown == NULL)
        return 0;
    memcpy(grown + r->len, ptr, add);
    r->len += add;
    grown[r->len] = '\0';
    r->data = grown;
    return add;
}

/* One signed request to the admin endpoint. Returns the parsed JSON reply (200/202), or NULL after saying why. */
static json_t *admin_call(CURL *curl, const char *url, int post, const char *sigv4, const char *userpwd)
{
    response_t body = {0};
    long status = 0;
    struct curl_slist *headers =
        curl_slist_append(NULL, "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, sigv4);
    curl_easy_setopt(curl, CURLOPT_USERPWD, userpwd);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
    if (post) {
        curl_easy_setopt(curl, CURLOPT_POST, 1L);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, 0L);
    }
    CURLcode rc = curl_easy_perform(curl);
    curl_slist_free_all(headers);
    json_t *j = NULL;
    if (rc != CURLE_OK) {
        fprintf(stderr, "coffer scrub: %s: %s\n", url, curl_easy_strerror(rc));
    } else if (curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status), status != 200 && status != 202) {
        fprintf(stderr, "coffer scrub: %s answered %ld: %.*s\n", url, status, (int)(body.len > 2000 ? 2000 : body.len),
                body.data ? body.data : "");
    } else if ((j = json_loadb(body.data ? body.data : "", body.len, 0, NULL)) == NULL || !json_is_object(j)) {
        fprintf(stderr, "coffer scrub: %s: the reply is not the JSON expected\n", url);
        json_decref(j);
        j = NULL;
    }
    free(body.data);
    return j;
}

static uint64_t jnum(const json_t *o, const char *name)
{
    json_int_t v = json_integer_value(json_object_get(o, name));
    return v > 0 ? (uint64_t)v : 0;
}

static void stats_from(const json_t *o, store_scrub_stats_t *s)
{
    s->total_objects = jnum(o, "total_objects");
    s->total_bytes = jnum(o, "total_bytes");
    s->objects = jnum(o, "objects");
    s->bytes = jnum(o, "bytes");
    s->chunks = jnum(o, "chunks");
    s->copies = jnum(o, "copies");
    s->damaged = jnum(o, "damaged");
    s->repaired = jnum(o, "repaired");
    s->unrecoverable = jnum(o, "unrecoverable");
    s->bad_records = jnum(o, "bad_records");
    s->unchecked = jnum(o, "unchecked");
}

/* Prints the reports of a status reply; returns how many it held. */
static size_t print_reports(printer_t *p, const json_t *o)
{
    const json_t *reports = json_object_get(o, "reports");
    size_t i;
    json_t *d;
    json_array_foreach(reports, i, d)
    {
        const char *key = json_string_value(json_object_get(d, "key"));
        print_damage(p, json_string_value(json_object_get(d, "bucket")), key ? key : "",
                     json_string_length(json_object_get(d, "key")), jnum(d, "part_number"),
                     json_string_value(json_object_get(d, "chunk")), jnum(d, "offset"),
                     json_string_value(json_object_get(d, "dir")), json_string_value(json_object_get(d, "problem")),
                     json_string_value(json_object_get(d, "outcome")));
    }
    return json_array_size(reports);
}

static int scrub_online(const char *endpoint, const char *region, printer_t *p)
{
    const char *ak = getenv("COFFER_ROOT_ACCESS_KEY"), *sk = getenv("COFFER_ROOT_SECRET_KEY");
    if (ak == NULL || sk == NULL || !*ak || !*sk) {
        fprintf(stderr, "coffer scrub: --endpoint needs the root keys in COFFER_ROOT_ACCESS_KEY and COFFER_ROOT_SECRET_KEY\n");
        return 2;
    }
    char sigv4[128], userpwd[600], url[2200];
    size_t elen = strlen(endpoint);
    while (elen > 0 && endpoint[elen - 1] == '/')
        elen--;
    snprintf(sigv4, sizeof(sigv4), "aws:amz:%s:s3", region);
    snprintf(userpwd, sizeof(userpwd), "%s:%s", ak, sk);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *curl = curl_easy_init();
    int ret = 2;
    snprintf(url, sizeof(url), "%.*s/_coffer/scrub", (int)elen, endpoint);
    json_t *o = admin_call(curl, url, 1, sigv4, userpwd);
    if (o != NULL && !json_is_true(json_object_get(o, "started_now")))
        fprintf(stderr, "coffer scrub: a scrub was already running; following it\n");
    uint64_t seen = 0;
    store_scrub_stats_t stats = {0};
    while (o != NULL) {
        stats_from(o, &stats);
        seen += print_reports(p, o);
        const char *state = json_string_value(json_object_get(o, "state"));
        if (state == NULL || strcmp(state, "running") != 0) {
            print_progress(p, &stats, 1);
            clear_progress(p);
            if (state != NULL && strcmp(state, "done") == 0) {
                uint64_t total = jnum(o, "reports_total");
                if (total > seen)
                    printf("scrub: %" PRIu64 " more damaged copies were found than the server kept (see its log)\n", total - seen);
                ret = print_summary(&stats);
            } else {
                fprintf(stderr, "coffer scrub: the scrub ended early (state %s); see the server log\n", state ? state : "?");
            }
            break;
        }
        if (stats.total_objects != 0) /* the count is not in yet when the scrub has just started */
            print_progress(p, &stats, 0);
        json_decref(o);
        usleep(500 * 1000);
        snprintf(url, sizeof(url), "%.*s/_coffer/scrub?from=%" PRIu64, (int)elen, endpoint, seen);
        o = admin_call(curl, url, 0, sigv4, userpwd);
    }
    json_decref(o);
    curl_easy_cleanup(curl);
    curl_global_cleanup();
    return ret;
}

/* ------------------------------------------------------------------ command */

int cli_scrub(int argc, char **argv)
{
    enum { OPT_DATA = 256, OPT_META, OPT_ENDPOINT, OPT_REGION };
    static const struct option opts[] = {
        {"data", required_argument, NULL, OPT_DATA},
        {"meta", required_argument, NULL, OPT_META},
        {"endpoint", required_argument, NULL, OPT_ENDPOINT},
        {"region", required_argument, NULL, OPT_REGION},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *data[SERVE_MAX_DATA_DIRS], *meta = NULL, *endpoint = NULL, *region = "us-east-1";
    size_t num_data = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_DATA:
            if (num_data == SERVE_MAX_DATA_DIRS) {
                fprintf(stderr, "coffer scrub: at most %d --data directories\n", SERVE_MAX_DATA_DIRS);
                return 2;
            }
            data[num_data++] = optarg;
            break;
        case OPT_META:
            meta = optarg;
            break;
        case OPT_ENDPOINT:
            endpoint = optarg;
            break;
        case OPT_REGION:
            region = optarg;
            break;
        case 'h':
            fputs(usage_scrub, stdout);
            return 0;
        default:
            fputs(usage_scrub, stderr);
            return 2;
        }
    }
    if (optind != argc || (endpoint != NULL && (num_data != 0 || meta != NULL))) {
        fputs(usage_scrub, stderr);
        return 2;
    }
    printer_t p = {.tty = isatty(2)};
    if (endpoint != NULL)
        return scrub_online(endpoint, region, &p);
    if (num_data == 0)
        data[num_data++] = "coffer-data/data";
    return scrub_offline(meta ? meta : "coffer-data/meta", data, num_data, &p);
}
