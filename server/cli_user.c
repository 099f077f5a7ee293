/* server/cli_user.c -- `coffer user` and `coffer key`: users and access keys, online or offline.
 *
 * DESIGN: every command becomes one admin_users_req_t. Online (the default),
 * it goes to the running server's admin endpoint as JSON (server/cli_admin.c),
 * so the server changes its store and its in-memory credentials together.
 * Offline (--meta DIR without --endpoint), the CLI opens the metadata
 * directory itself and runs the very function the endpoint runs
 * (admin_users_run), which RocksDB's lock refuses while a server runs there.
 * Both ways end in the same JSON reply, printed by one set of printers.
 * Exit status: 0 done; 1 refused, no such user or key, or it exists already;
 * 2 usage errors, an unreachable server or an unusable metadata directory.
 */
#include "server/cli.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/sigv4.h"
#include "server/admin.h"
#include "storage/users.h"

#define DEFAULT_ENDPOINT "http://127.0.0.1:9000"

static const char common_options[] =
    "Where the change is made:\n"
    "  --endpoint URL      the running server (default " DEFAULT_ENDPOINT "), through its\n"
    "                      root-only admin endpoint; requests are signed with the root keys from\n"
    "                      COFFER_ROOT_ACCESS_KEY and COFFER_ROOT_SECRET_KEY, or read from --meta\n"
    "  --meta DIR          alone: change the metadata directory of a stopped server directly\n"
    "                      (refused while a server runs on it); with --endpoint: where to read\n"
    "                      the root keys from\n"
    "  --region R          the region the server signs for (default us-east-1)\n"
    "  --json              print the reply as JSON (secrets included where the text shows them)\n"
    "  -h, --help          show this text\n"
    "\n"
    "Exit status: 0 done; 1 refused (not root, root itself), no such user or key, or the name,\n"
    "e-mail address or access key exists already; 2 usage errors, the server cannot be reached,\n"
    "or the metadata directory cannot be opened.\n";

static const char usage_user[] = "Usage: coffer user add NAME [--email ADDR] [--access-key KEY] [--secret-key SECRET]\n"
                                 "       coffer user list\n"
                                 "       coffer user rm NAME\n"
                                 "\n"
                                 "Manages the users of a Coffer server. A user has a name (1 to 64 characters of A-Z, a-z,\n"
                                 "0-9 and _.@+=,-), also shown as its display name; a canonical id (64 hex digits, made when\n"
                                 "the user is created and never reused) that bucket and object owners show; an optional\n"
                                 "e-mail address (unique) that grants may name; and access keys to sign requests with.\n"
                                 "\n"
                                 "  add    creates a user with its first access key and prints the key and its secret.\n"
                                 "         The secret is shown this once: keep it.\n"
                                 "  list   lists users with their access key ids (never a secret)\n"
                                 "  rm     removes a user and all its access keys at once (root cannot be removed)\n"
                                 "\n"
                                 "Options of add:\n"
                                 "  --email ADDR        the user's e-mail address\n"
                                 "  --access-key KEY    the access key id (16 to 128 characters of A-Z and 0-9); generated\n"
                                 "                      (20 characters) when left out\n"
                                 "  --secret-key SECRET its secret (1 to 128 printable characters); generated (40\n"
                                 "                      characters) when left out\n"
                                 "\n";

static const char usage_key[] = "Usage: coffer key add USER [--access-key KEY] [--secret-key SECRET]\n"
                                "       coffer key list [USER]\n"
                                "       coffer key rm ACCESS_KEY\n"
                                "\n"
                                "Manages access keys. A user may hold several: add a new key, move clients to it,\n"
                                "then remove the old one. A removed key is refused from the next request on.\n"
                                "\n"
                                "  add    gives USER another access key and prints it with its secret (shown this once)\n"
                                "  list   lists access key ids (never secrets), of USER or of every user\n"
                                "  rm     removes an access key (not root's configured key: change\n"
                                "         COFFER_ROOT_ACCESS_KEY and restart the server instead)\n"
                                "\n"
                                "Options of add:\n"
                                "  --access-key KEY    the access key id (16 to 128 characters of A-Z and 0-9); generated\n"
                                "                      (20 characters) when left out\n"
                                "  --secret-key SECRET its secret (1 to 128 printable characters); generated when left out\n"
                                "\n";

typedef struct cli_opts {
    const char *prog; /* "coffer user" */
    const char *usage;
    const char *endpoint, *meta, *region;
    const char *email, *access_key, *secret_key;
    int json;
} cli_opts_t;

/* ------------------------------------------------------------------ running a request */

static int exit_status_of_error(int ret)
{
    return ret == -ENOENT || ret == -EEXIST || ret == -EPERM ? 1 : 2;
}

static int run_offline(const cli_opts_t *o, const admin_users_req_t *q, json_t **reply)
{
    char err[1024] = "";
    store_t *st = NULL;
    int ret = users_store_open(o->meta, &st, err, sizeof(err));
    if (ret != 0) {
        fprintf(stderr, "%s: %s\n", o->prog, err);
        if (strstr(err, "lock") != NULL)
            fprintf(stderr, "(a server is running on it: leave --meta out, or add --endpoint, to go through the server)\n");
        return 2;
    }
    ret = admin_users_run(st, NULL, q, reply, err, sizeof(err));
    users_store_close(st);
    if (ret != 0) {
        fprintf(stderr, "%s: %s\n", o->prog, err);
        return exit_status_of_error(ret);
    }
    return 0;
}

static int run_online(const cli_opts_t *o, const admin_users_req_t *q, json_t **reply)
{
    char path[1024], item[3 * USERS_ACCESS_KEY_MAX + 1]; /* a validated name or access key, URI-encoded */
    const char *method = "POST";
    json_t *body = NULL;
    switch (q->op) {
    case ADMIN_USERS_LIST:
        method = "GET";
        snprintf(path, sizeof(path), "/_coffer/users");
        break;
    case ADMIN_USER_ADD:
        snprintf(path, sizeof(path), "/_coffer/users");
        body = json_pack("{s:s}", "name", q->name);
        if (q->email != NULL)
            json_object_set_new(body, "email", json_string(q->email));
        break;
    case ADMIN_USER_REMOVE:
        method = "DELETE";
        sigv4_uri_encode(q->name, strlen(q->name), 0, item);
        snprintf(path, sizeof(path), "/_coffer/users/%s", item);
        break;
    case ADMIN_KEY_ADD:
        sigv4_uri_encode(q->name, strlen(q->name), 0, item);
        snprintf(path, sizeof(path), "/_coffer/users/%s/keys", item);
        body = json_object();
        break;
    case ADMIN_KEY_REMOVE:
        method = "DELETE";
        sigv4_uri_encode(q->access_key, strlen(q->access_key), 0, item);
        snprintf(path, sizeof(path), "/_coffer/keys/%s", item);
        break;
    }
    if (body != NULL && q->access_key != NULL)
        json_object_set_new(body, "access_key", json_string(q->access_key));
    if (body != NULL && q->secret_key != NULL)
        json_object_set_new(body, "secret_key", json_string(q->secret_key));
    cli_admin_t *a = cli_admin_open(o->prog, o->endpoint ? o->endpoint : DEFAULT_ENDPOINT, o->region, o->meta);
    int status = a != NULL ? cli_admin_call(a, method, path, body, reply) : -1;
    cli_admin_close(a);
    json_decref(body); /* the secret given on the command line is in argv anyway */
    if (status >= 200 && status <= 299)
        return 0;
    return status == 403 || status == 404 || status == 409 ? 1 : 2;
}

/* Runs q where the options say; prints errors. Returns the exit status, with *reply on success. */
static int run(const cli_opts_t *o, const admin_users_req_t *q, json_t **reply)
{
    *reply = NULL;
    if (o->endpoint == NULL && o->meta != NULL)
        return run_offline(o, q, reply);
    return run_online(o, q, reply);
}

/* ------------------------------------------------------------------ printing */

static const char *jstr(const json_t *o, const char *name)
{
    const char *s = json_string_value(json_object_get(o, name));
    return s != NULL ? s : "";
}

static void format_time(const json_t *o, char *out, size_t out_len)
{
    time_t t = (time_t)json_integer_value(json_object_get(o, "created"));
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, out_len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void print_json(const json_t *reply)
{
    char *text = json_dumps(reply, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (text != NULL) {
        puts(text);
        explicit_bzero(text, strlen(text));
        free(text);
    }
}

static void print_new_key(const json_t *reply)
{
    printf("access key: %s\n"
           "secret key: %s\n",
           jstr(reply, "access_key"), jstr(reply, "secret_key"));
    fprintf(stderr, "The secret key is shown this once: keep it.\n");
}

static void print_users(const json_t *reply)
{
    const json_t *users = json_object_get(reply, "users"), *u;
    size_t i, name_w = 4, email_w = 6;
    json_array_foreach(users, i, u)
    {
        size_t n = strlen(jstr(u, "name")), e = strlen(jstr(u, "email"));
        name_w = n > name_w ? n : name_w;
        email_w = e > email_w ? e : email_w;
    }
    printf("%-*s  %-64s  %-*s  %-20s  %s\n", (int)name_w, "NAME", "CANONICAL ID", (int)email_w, "E-MAIL", "CREATED", "ACCESS KEYS");
    json_array_foreach(users, i, u)
    {
        char created[32];
        const char *email = jstr(u, "email");
        format_time(u, created, sizeof(created));
        printf("%-*s  %-64s  %-*s  %-20s  ", (int)name_w, jstr(u, "name"), jstr(u, "canonical_id"), (int)email_w,
               email[0] ? email : "-", created);
        const json_t *keys = json_object_get(u, "access_keys"), *k;
        size_t j;
        json_array_foreach(keys, j, k) printf("%s%s", j ? "," : "", jstr(k, "access_key"));
        printf("%s\n", json_array_size(keys) == 0 ? "-" : "");
    }
}

/* The access keys of user (NULL: everyone's) in a list reply, as {"access_keys": [{access_key, user, created...}]}. */
static json_t *keys_of(const json_t *reply, const char *user, int *found)
{
    const json_t *users = json_object_get(reply, "users"), *u, *k;
    json_t *out = json_array();
    size_t i, j;
    *found = user == NULL;
    json_array_foreach(users, i, u)
    {
        if (user != NULL && strcmp(jstr(u, "name"), user) != 0)
            continue;
        *found = 1;
        json_array_foreach(json_object_get(u, "access_keys"), j, k)
        {
            json_t *c = json_deep_copy(k);
            json_object_set_new(c, "user", json_string(jstr(u, "name")));
            json_array_append_new(out, c);
        }
    }
    return json_pack("{s:o}", "access_keys", out);
}

static void print_keys(const json_t *list)
{
    const json_t *k;
    size_t i;
    printf("%-20s  %-20s  %s\n", "ACCESS KEY", "CREATED", "USER");
    json_array_foreach(json_object_get(list, "access_keys"), i, k)
    {
        char created[32];
        format_time(k, created, sizeof(created));
        printf("%-20s  %-20s  %s%s\n", jstr(k, "access_key"), created, jstr(k, "user"),
               json_is_true(json_object_get(k, "configured")) ? " (root's configured key)" : "");
    }
}

/* ------------------------------------------------------------------ command lines */

/* Parses the options after the sub-command (argv[0]); positional arguments are left in argv[optind..]. Returns 0 or 2. */
static int parse_options(int argc, char **argv, cli_opts_t *o, int takes_key_options, int takes_email)
{
    enum { OPT_ENDPOINT = 256, OPT_META, OPT_REGION, OPT_JSON, OPT_EMAIL, OPT_ACCESS_KEY, OPT_SECRET_KEY };
    static const struct option opts[] = {
        {"endpoint", required_argument, NULL, OPT_ENDPOINT},
        {"meta", required_argument, NULL, OPT_META},
        {"region", required_argument, NULL, OPT_REGION},
        {"json", no_argument, NULL, OPT_JSON},
        {"email", required_argument, NULL, OPT_EMAIL},
        {"access-key", required_argument, NULL, OPT_ACCESS_KEY},
        {"secret-key", required_argument, NULL, OPT_SECRET_KEY},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_ENDPOINT:
            o->endpoint = optarg;
            break;
        case OPT_META:
            o->meta = optarg;
            break;
        case OPT_REGION:
            o->region = optarg;
            break;
        case OPT_JSON:
            o->json = 1;
            break;
        case OPT_EMAIL:
            if (!takes_email)
                goto Usage;
            o->email = optarg;
            break;
        case OPT_ACCESS_KEY:
        case OPT_SECRET_KEY:
            if (!takes_key_options)
                goto Usage;
            if (c == OPT_ACCESS_KEY)
                o->access_key = optarg;
            else
                o->secret_key = optarg;
            break;
        case 'h':
            fputs(o->usage, stdout);
            fputs(common_options, stdout);
            return 1;
        default:
            goto Usage;
        }
    }
    return 0;
Usage:
    fprintf(stderr, "%s: see `%s --help`\n", o->prog, o->prog);
    return 2;
}

/* Checks what the command line gives before anything is sent. Returns 0, or 2 after saying why. */
static int check_args(const cli_opts_t *o, const char *name)
{
    const char *why = NULL;
    if (name != NULL && !users_name_valid(name))
        why = "a user name is 1 to 64 characters of A-Z, a-z, 0-9 and _.@+=,-";
    else if (o->email != NULL && !users_email_valid(o->email))
        why = "the e-mail address is not valid";
    else if (o->access_key != NULL && !users_access_key_valid(o->access_key))
        why = "an access key is 16 to 128 characters of A-Z and 0-9";
    else if (o->secret_key != NULL && !users_secret_valid(o->secret_key))
        why = "a secret key is 1 to 128 printable ASCII characters";
    if (why == NULL)
        return 0;
    fprintf(stderr, "%s: %s\n", o->prog, why);
    return 2;
}

/* The sub-command, its positional arguments (at least min_args, at most max_args). Returns 0, or the exit status. */
static int command_line(int argc, char **argv, cli_opts_t *o, const char **verb, char ***args, int *num_args)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        FILE *f = argc < 2 ? stderr : stdout;
        fputs(o->usage, f);
        fputs(common_options, f);
        return argc < 2 ? 2 : 1;
    }
    *verb = argv[1];
    int adds = strcmp(*verb, "add") == 0;
    int ret = parse_options(argc - 1, argv + 1, o, adds, adds && strcmp(o->prog, "coffer user") == 0);
    if (ret != 0)
        return ret;
    *args = argv + 1 + optind;
    *num_args = argc - 1 - optind;
    return 0;
}

static int finish(const cli_opts_t *o, int ret, json_t *reply, void (*print)(const json_t *))
{
    if (ret == 0 && reply != NULL) {
        if (o->json)
            print_json(reply);
        else
            print(reply);
    }
    json_decref(reply);
    return ret;
}

/* Runs q and prints its reply with print (or as JSON). Returns the exit status. */
static int call(const cli_opts_t *o, const admin_users_req_t *q, void (*print)(const json_t *))
{
    json_t *reply = NULL;
    int ret = run(o, q, &reply);
    return finish(o, ret, reply, print);
}

/* Whether verb is the command "rm" (or its long form). */
static int is_remove(const char *verb)
{
    return strcmp(verb, "rm") == 0 || strcmp(verb, "remove") == 0;
}

static void print_user_added(const json_t *reply)
{
    printf("user: %s\n"
           "canonical id: %s\n",
           jstr(reply, "name"), jstr(reply, "canonical_id"));
    if (jstr(reply, "email")[0] != '\0')
        printf("e-mail: %s\n", jstr(reply, "email"));
    print_new_key(reply);
}

static void print_user_removed(const json_t *reply)
{
    printf("user %s removed, with its %" JSON_INTEGER_FORMAT " access keys\n", jstr(reply, "name"),
           json_integer_value(json_object_get(reply, "removed_access_keys")));
}

static void print_key_added(const json_t *reply)
{
    printf("user: %s\n", jstr(reply, "user"));
    print_new_key(reply);
}

static void print_key_removed(const json_t *reply)
{
    printf("access key %s of user %s removed\n", jstr(reply, "access_key"), jstr(reply, "user"));
}

int cli_user(int argc, char **argv)
{
    cli_opts_t o = {.prog = "coffer user", .usage = usage_user, .region = "us-east-1"};
    const char *verb = NULL;
    char **args = NULL;
    int num = 0, ret = command_line(argc, argv, &o, &verb, &args, &num);
    if (ret != 0)
        return ret == 1 ? 0 : ret;
    if (strcmp(verb, "add") == 0 && num == 1) {
        if ((ret = check_args(&o, args[0])) != 0)
            return ret;
        admin_users_req_t q = {ADMIN_USER_ADD, args[0], o.email, o.access_key, o.secret_key};
        return call(&o, &q, print_user_added);
    }
    if (strcmp(verb, "list") == 0 && num == 0)
        return call(&o, &(admin_users_req_t){.op = ADMIN_USERS_LIST}, print_users);
    if (is_remove(verb) && num == 1) {
        if ((ret = check_args(&o, args[0])) != 0)
            return ret;
        return call(&o, &(admin_users_req_t){.op = ADMIN_USER_REMOVE, .name = args[0]}, print_user_removed);
    }
    fprintf(stderr, "%s: unknown command or wrong number of arguments: see `coffer user --help`\n", o.prog);
    return 2;
}

int cli_key(int argc, char **argv)
{
    cli_opts_t o = {.prog = "coffer key", .usage = usage_key, .region = "us-east-1"};
    const char *verb = NULL;
    char **args = NULL;
    int num = 0, ret = command_line(argc, argv, &o, &verb, &args, &num);
    json_t *reply = NULL;
    if (ret != 0)
        return ret == 1 ? 0 : ret;
    if (strcmp(verb, "add") == 0 && num == 1) {
        if ((ret = check_args(&o, args[0])) != 0)
            return ret;
        admin_users_req_t q = {ADMIN_KEY_ADD, args[0], NULL, o.access_key, o.secret_key};
        return call(&o, &q, print_key_added);
    }
    if (strcmp(verb, "list") == 0 && num <= 1) {
        if (num == 1 && (ret = check_args(&o, args[0])) != 0)
            return ret;
        admin_users_req_t q = {.op = ADMIN_USERS_LIST};
        int found = 0;
        if ((ret = run(&o, &q, &reply)) != 0)
            return ret;
        json_t *list = keys_of(reply, num == 1 ? args[0] : NULL, &found);
        json_decref(reply);
        if (!found) {
            fprintf(stderr, "%s: the user %s does not exist\n", o.prog, args[0]);
            json_decref(list);
            return 1;
        }
        return finish(&o, 0, list, print_keys);
    }
    if (is_remove(verb) && num == 1) {
        if (args[0][0] == '\0' || strlen(args[0]) > USERS_ACCESS_KEY_MAX) {
            fprintf(stderr, "%s: an access key is 1 to 128 characters\n", o.prog);
            return 2;
        }
        return call(&o, &(admin_users_req_t){.op = ADMIN_KEY_REMOVE, .access_key = args[0]}, print_key_removed);
    }
    fprintf(stderr, "%s: unknown command or wrong number of arguments: see `coffer key --help`\n", o.prog);
    return 2;
}
