/* server/cli.h -- the coffer subcommands other than serve, and what they share. */
#ifndef COFFER_CLI_H
#define COFFER_CLI_H

struct json_t; /* jansson's */

/** `coffer scrub ...` (argv[0] is "scrub"). Returns the exit status. */
int cli_scrub(int argc, char **argv);

/** `coffer user add|list|rm ...` (argv[0] is "user"; server/cli_user.c). Returns the exit status. */
int cli_user(int argc, char **argv);

/** `coffer key add|list|rm ...` (argv[0] is "key"; server/cli_user.c). Returns the exit status. */
int cli_key(int argc, char **argv);

/* ------------------------------------------------------------------ the admin endpoint (server/cli_admin.c) */

typedef struct cli_admin cli_admin_t;

/**
 * Prepares signed requests to the admin endpoint of the server at endpoint ("http://host:port").
 * The root keys come from meta_dir when it is not NULL (read without its lock: the server may
 * run), else from COFFER_ROOT_ACCESS_KEY and COFFER_ROOT_SECRET_KEY. prog ("coffer scrub")
 * starts every message. Returns NULL after saying why on stderr.
 */
cli_admin_t *cli_admin_open(const char *prog, const char *endpoint, const char *region, const char *meta_dir);
void cli_admin_close(cli_admin_t *a);

/**
 * Sends one request: method ("GET", "POST", "DELETE"), path (percent-encoded, starting with
 * "/_coffer/", query included) and an optional JSON body (NULL: none). Returns the HTTP status,
 * with *reply the JSON object of a 2xx answer (json_decref it); after a 4xx/5xx answer, with
 * its S3 error code and message printed on stderr. Returns -1, after saying why, when the server
 * cannot be reached or a 2xx answer is not a JSON object.
 */
int cli_admin_call(cli_admin_t *a, const char *method, const char *path, const struct json_t *body, struct json_t **reply);

#endif
