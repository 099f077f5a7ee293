/* server/cli_admin.c -- the CLI's side of the admin endpoint (server/admin.h): root keys, signed requests, JSON replies.
 *
 * DESIGN: libcurl signs each request with SigV4 (CURLOPT_AWS_SIGV4) under the root
 * keys, which come from the environment, or from the metadata directory when the
 * caller names one (read without its lock, so also while the server runs). The
 * payload hash is sent as x-amz-content-sha256, computed here, so the signature
 * covers the JSON body. Paths are sent percent-encoded as SigV4 canonicalises
 * them (every byte but A-Z a-z 0-9 - . _ ~), so curl and the server hash the same
 * bytes. Errors are printed here once, with the S3 error code and message the
 * server gave, and the caller only picks an exit status.
 */
#include "server/cli.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/sigv4.h"
#include "storage/users.h"

struct cli_admin {
    const char *prog; /* borrowed: "coffer scrub" */
    CURL *curl;
    char base[2048]; /* the endpoint without trailing slashes */
    char sigv4[128];
    char userpwd[USERS_ACCESS_KEY_MAX + USERS_SECRET_MAX + 2];
};

cli_admin_t *cli_admin_open(const char *prog, const char *endpoint, const char *region, const char *meta_dir)
{
    char ak[USERS_ACCESS_KEY_MAX + 1], sk[USERS_SECRET_MAX + 1], err[1024];
    size_t elen = strlen(endpoint);
    while (elen > 0 && endpoint[elen - 1] == '/')
        elen--;
    if (elen == 0 || elen >= sizeof(((cli_admin_t *)NULL)->base)) {
        fprintf(stderr, "%s: --endpoint wants a URL such as http://127.0.0.1:9000\n", prog);
        return NULL;
    }
    if (meta_dir != NULL) {
        if (users_read_root_key(meta_dir, ak, sk, err, sizeof(err)) != 0) {
            fprintf(stderr, "%s: reading the root keys: %s\n", prog, err);
            return NULL;
        }
    } else {
        const char *eak = getenv("COFFER_ROOT_ACCESS_KEY"), *esk = getenv("COFFER_ROOT_SECRET_KEY");
        if (eak == NULL || esk == NULL || !*eak || !*esk || strlen(eak) > USERS_ACCESS_KEY_MAX || strlen(esk) > USERS_SECRET_MAX) {
            fprintf(stderr,
                    "%s: --endpoint needs the root keys in COFFER_ROOT_ACCESS_KEY and COFFER_ROOT_SECRET_KEY, or the "
                    "server's --meta directory to read them from\n",
                    prog);
            return NULL;
        }
        snprintf(ak, sizeof(ak), "%s", eak);
        snprintf(sk, sizeof(sk), "%s", esk);
    }
    cli_admin_t *a = calloc(1, sizeof(*a));
    if (a == NULL)
        abort();
    a->prog = prog;
    memcpy(a->base, endpoint, elen);
    snprintf(a->sigv4, sizeof(a->sigv4), "aws:amz:%s:s3", region);
    snprintf(a->userpwd, sizeof(a->userpwd), "%s:%s", ak, sk);
    explicit_bzero(sk, sizeof(sk));
    curl_global_init(CURL_GLOBAL_DEFAULT);
    a->curl = curl_easy_init();
    return a;
}

void cli_admin_close(cli_admin_t *a)
{
    if (a == NULL)
        return;
    curl_easy_cleanup(a->curl);
    curl_global_cleanup();
    explicit_bzero(a->userpwd, sizeof(a->userpwd));
    free(a);
}

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

/* The text of <tag> in an S3 error document, or "" (no XML parser for two fields of a reply we print). */
static void xml_field(const char *doc, const char *tag, char *out, size_t out_len)
{
    char open[32], close[32];
    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    const char *s = doc != NULL ? strstr(doc, open) : NULL, *e = s != NULL ? strstr(s, close) : NULL;
    out[0] = '\0';
    if (s == NULL || e == NULL)
        return;
    static const struct {
        const char *entity, *c;
    } entities[] = {{"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&apos;", "'"}};
    size_t n = 0;
    for (s += strlen(open); s < e && n + 1 < out_len; n++) {
        size_t i = 0;
        while (i < 5 && strncmp(s, entities[i].entity, strlen(entities[i].entity)) != 0)
            i++;
        out[n] = i < 5 ? entities[i].c[0] : *s;
        s += i < 5 ? strlen(entities[i].entity) : 1;
    }
    out[n] = '\0';
}

int cli_admin_call(cli_admin_t *a, const char *method, const char *path, const json_t *body, json_t **reply)
{
    char url[4096], hash_header[100], hash[65];
    response_t resp = {0};
    long status = 0;
    int ret = -1;
    char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
    size_t text_len = text != NULL ? strlen(text) : 0;

    *reply = NULL;
    snprintf(url, sizeof(url), "%s%s", a->base, path);
    sigv4_sha256_hex(text != NULL ? text : "", text_len, hash);
    snprintf(hash_header, sizeof(hash_header), "x-amz-content-sha256: %s", hash);
    struct curl_slist *headers = curl_slist_append(NULL, hash_header);
    if (text != NULL)
        headers = curl_slist_append(headers, "content-type: application/json");
    CURL *curl = a->curl;
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, a->sigv4);
    curl_easy_setopt(curl, CURLOPT_USERPWD, a->userpwd);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &resp);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
    if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(curl, CURLOPT_POST, 1L);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, text != NULL ? text : "");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)text_len);
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    }
    CURLcode rc = curl_easy_perform(curl);
    curl_slist_free_all(headers);
    if (rc != CURLE_OK) {
        fprintf(stderr, "%s: %s: %s\n", a->prog, url, curl_easy_strerror(rc));
    } else if (curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status), status < 200 || status > 299) {
        char code[128], message[1024];
        xml_field(resp.data, "Code", code, sizeof(code));
        xml_field(resp.data, "Message", message, sizeof(message));
        if (code[0] != '\0')
            fprintf(stderr, "%s: %s answered %ld %s: %s\n", a->prog, url, status, code, message);
        else
            fprintf(stderr, "%s: %s answered %ld: %.*s\n", a->prog, url, status, (int)(resp.len > 2000 ? 2000 : resp.len),
                    resp.data ? resp.data : "");
        ret = (int)status;
    } else if ((*reply = json_loadb(resp.data ? resp.data : "", resp.len, 0, NULL)) == NULL || !json_is_object(*reply)) {
        fprintf(stderr, "%s: %s: the reply is not the JSON expected\n", a->prog, url);
        json_decref(*reply);
        *reply = NULL;
    } else {
        ret = (int)status;
    }
    if (resp.data != NULL)
        explicit_bzero(resp.data, resp.len); /* may hold a new secret */
    free(resp.data);
    if (text != NULL)
        explicit_bzero(text, text_len);
    free(text);
    return ret;
}
