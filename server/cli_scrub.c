/* server/cli_scrub.c -- `coffer scrub`: check every stored chunk copy, offline or on a running server.
 *
 * DESIGN: offline, it opens the store itself (the server must be stopped: the
 * metadata directory is locked while one runs) and calls store_scrub. Online
 * (--endpoint), it asks the running server's admin endpoint (server/admin.h)
 * to start a scrub and polls it, fetching only the damage reports it has not
 * printed yet (server/cli_admin.c signs the requests with the root keys).
 * Both print the same lines: damage to stdout as found, progress to stderr
 * (redrawn in place on a terminal, a line every few seconds otherwise), and a
 * summary. Exit status: 0 when every chunk has a good copy (damage found was
 * repaired), 1 when data is lost or a record is unreadable, 2 on other errors
 * (copies in data directories that were not given included).
 */
#include "server/cli.h"

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
                                  "       coffer scrub --endpoint URL [--meta DIR] [--region R]   (on a running server)\n"
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
                                  "                   root keys from COFFER_ROOT_ACCESS_KEY and COFFER_ROOT_SECRET_KEY, or\n"
                                  "                   from the server's metadata directory when --meta DIR is given too\n"
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

/* One admin request; the JSON reply of a 2xx answer, or NULL after cli_admin_call said why. */
static json_t *admin_call(cli_admin_t *a, const char *method, const char *path)
{
    json_t *reply = NULL;
    cli_admin_call(a, method, path, NULL, &reply);
    return reply;
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

static int scrub_online(const char *endpoint, const char *region, const char *meta, printer_t *p)
{
    cli_admin_t *a = cli_admin_open("coffer scrub", endpoint, region, meta);
    if (a == NULL)
        return 2;
    char path[128];
    int ret = 2;
    json_t *o = admin_call(a, "POST", "/_coffer/scrub");
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
        snprintf(path, sizeof(path), "/_coffer/scrub?from=%" PRIu64, seen);
        o = admin_call(a, "GET", path);
    }
    json_decref(o);
    cli_admin_close(a);
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
    if (optind != argc || (endpoint != NULL && num_data != 0)) {
        fputs(usage_scrub, stderr);
        return 2;
    }
    printer_t p = {.tty = isatty(2)};
    if (endpoint != NULL)
        return scrub_online(endpoint, region, meta, &p);
    if (num_data == 0)
        data[num_data++] = "coffer-data/data";
    return scrub_offline(meta ? meta : "coffer-data/meta", data, num_data, &p);
}
