/* server/main.c -- the `coffer` command line.
 *
 * DESIGN: parsing only; each sub-command hands a plain config struct to its
 * module (serve.c), or its arguments to its own parser (cli_scrub.c, cli_user.c). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/cli.h"
#include "server/log.h"
#include "server/serve.h"
#include "storage/store.h"

static const char usage_main[] = "Usage: coffer COMMAND [OPTIONS]\n"
                                 "\n"
                                 "Coffer is an S3-compatible object storage server.\n"
                                 "\n"
                                 "Commands:\n"
                                 "  serve     run the server (see `coffer serve --help`)\n"
                                 "  scrub     check every stored chunk and repair damaged copies\n"
                                 "            (see `coffer scrub --help`)\n"
                                 "  user      add, list and remove users (see `coffer user --help`)\n"
                                 "  key       add, list and remove users' access keys (see `coffer key --help`)\n"
                                 "  help      show this text\n"
                                 "\n"
                                 "Options:\n"
                                 "  -h, --help     show this text\n"
                                 "  --version      print the version\n";

static const char usage_serve[] =
    "Usage: coffer serve [OPTIONS]\n"
    "\n"
    "Runs the S3 server in the foreground until SIGINT or SIGTERM.\n"
    "\n"
    "Options:\n"
    "  --listen HOST:PORT  address to listen on (default 127.0.0.1:9000; [::1]:9000 for IPv6)\n"
    "  --data DIR          a directory for object data; repeat for several disks: chunks are\n"
    "                      spread over all of them, weighted by capacity (default ./coffer-data/data)\n"
    "  --copies N          keep N copies of each chunk, each in another --data directory\n"
    "                      (default 1; at most 4 and at most the number of directories). A\n"
    "                      read falls back to another copy and rewrites a damaged one\n"
    "  --meta DIR          the metadata directory (RocksDB; default ./coffer-data/meta)\n"
    "  --threads N         HTTP event loops (default: one per CPU core)\n"
    "  --io-threads N      workers for blocking disk work (default 32)\n"
    "  --domain DOMAIN     also accept virtual-host-style requests to BUCKET.DOMAIN\n"
    "  --region REGION     the region reported to clients (default us-east-1)\n"
    "  --log-level LEVEL   debug, info, warn, error or none (default info)\n"
    "  --no-access-log     do not write the per-request access log to stdout\n"
    "  -h, --help          show this text\n"
    "\n"
    "Credentials: the root user's keys come from COFFER_ROOT_ACCESS_KEY and\n"
    "COFFER_ROOT_SECRET_KEY. When those are unset, keys are generated on first\n"
    "start, kept in the metadata directory, and printed at every start. Other\n"
    "users and their keys live in the metadata directory: see `coffer user --help`.\n";

static int parse_listen(const char *arg, serve_config_t *cfg)
{
    const char *colon;
    const char *host = arg;
    size_t host_len;
    if (arg[0] == '[') { /* [v6addr]:port */
        const char *close = strchr(arg, ']');
        if (close == NULL || close[1] != ':')
            return -1;
        host = arg + 1;
        host_len = (size_t)(close - host);
        colon = close + 1;
    } else {
        if ((colon = strrchr(arg, ':')) == NULL)
            return -1;
        host_len = (size_t)(colon - arg);
    }
    if (host_len >= sizeof(cfg->listen_host))
        return -1;
    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (errno != 0 || *end != '\0' || port < 0 || port > 65535 || end == colon + 1)
        return -1;
    memcpy(cfg->listen_host, host, host_len);
    cfg->listen_host[host_len] = '\0';
    cfg->listen_port = (int)port;
    return 0;
}

static int parse_count(const char *arg, int min, int max, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (errno != 0 || *end != '\0' || end == arg || v < min || v > max)
        return -1;
    *out = (int)v;
    return 0;
}

static int cmd_serve(int argc, char **argv)
{
    enum {
        OPT_LISTEN = 256,
        OPT_DATA,
        OPT_COPIES,
        OPT_META,
        OPT_THREADS,
        OPT_IO_THREADS,
        OPT_DOMAIN,
        OPT_REGION,
        OPT_LOG_LEVEL,
        OPT_NO_ACCESS
    };
    static const struct option opts[] = {
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"data", required_argument, NULL, OPT_DATA},
        {"copies", required_argument, NULL, OPT_COPIES},
        {"meta", required_argument, NULL, OPT_META},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"io-threads", required_argument, NULL, OPT_IO_THREADS},
        {"domain", required_argument, NULL, OPT_DOMAIN},
        {"region", required_argument, NULL, OPT_REGION},
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
        {"no-access-log", no_argument, NULL, OPT_NO_ACCESS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    serve_config_t cfg;
    serve_config_defaults(&cfg);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_LISTEN:
            if (parse_listen(optarg, &cfg) != 0) {
                fprintf(stderr, "coffer serve: --listen wants HOST:PORT, got '%s'\n", optarg);
                return 2;
            }
            break;
        case OPT_DATA:
            if (cfg.num_data_dirs == SERVE_MAX_DATA_DIRS) {
                fprintf(stderr, "coffer serve: at most %d --data directories\n", SERVE_MAX_DATA_DIRS);
                return 2;
            }
            cfg.data_dirs[cfg.num_data_dirs++] = optarg;
            break;
        case OPT_COPIES:
            if (parse_count(optarg, 1, STORE_MAX_COPIES, &cfg.copies) != 0) {
                fprintf(stderr, "coffer serve: --copies wants 1..%d\n", STORE_MAX_COPIES);
                return 2;
            }
            break;
        case OPT_META:
            cfg.meta_dir = optarg;
            break;
        case OPT_THREADS:
            if (parse_count(optarg, 1, 256, &cfg.threads) != 0) {
                fprintf(stderr, "coffer serve: --threads wants 1..256\n");
                return 2;
            }
            break;
        case OPT_IO_THREADS:
            if (parse_count(optarg, 1, 1024, &cfg.io_threads) != 0) {
                fprintf(stderr, "coffer serve: --io-threads wants 1..1024\n");
                return 2;
            }
            break;
        case OPT_DOMAIN:
            cfg.domain = optarg;
            break;
        case OPT_REGION:
            cfg.region = optarg;
            break;
        case OPT_LOG_LEVEL:
            if (log_parse_level(optarg, &log_threshold) != 0) {
                fprintf(stderr, "coffer serve: --log-level wants debug, info, warn, error or none\n");
                return 2;
            }
            break;
        case OPT_NO_ACCESS:
            log_access_enabled = 0;
            break;
        case 'h':
            fputs(usage_serve, stdout);
            return 0;
        default:
            fputs(usage_serve, stderr);
            return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "coffer serve: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (cfg.num_data_dirs == 0)
        cfg.data_dirs[cfg.num_data_dirs++] = "coffer-data/data";
    if ((size_t)cfg.copies > cfg.num_data_dirs) {
        fprintf(stderr, "coffer serve: --copies %d needs at least %d --data directories\n", cfg.copies, cfg.copies);
        return 2;
    }
    if (cfg.meta_dir == NULL)
        cfg.meta_dir = "coffer-data/meta";
    return serve_run(&cfg);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2) {
        fputs(usage_main, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "serve") == 0)
        return cmd_serve(argc - 1, argv + 1);
    if (strcmp(cmd, "scrub") == 0)
        return cli_scrub(argc - 1, argv + 1);
    if (strcmp(cmd, "user") == 0)
        return cli_user(argc - 1, argv + 1);
    if (strcmp(cmd, "key") == 0)
        return cli_key(argc - 1, argv + 1);
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
        fputs(usage_main, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        puts("coffer 0.1.0");
        return 0;
    }
    fprintf(stderr, "coffer: unknown command '%s'\n\n%s", cmd, usage_main);
    return 2;
}
