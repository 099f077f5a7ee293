/* tests/fuzz/fuzz_router.c -- router_route over hostile request lines and Host headers.
 *
 * DESIGN: the input is a flag byte, the method, the Host header and the request target, one per
 * line (the target takes the rest, so it may hold any byte). The flags choose what does not come
 * from the client: the --domain for virtual-host style (none, "s3.coffer.test", "localhost", "coffer.test"),
 * whether the request has a Host header at all and an x-amz-copy-source header. Seeds are the
 * requests of tests/unit/test_router.c and what AWS SDKs send (path and virtual-host style,
 * presigned queries, keys with every kind of escape). Besides the sanitizers, each route is checked
 * against router.h's contract: decoded names NUL-terminated at their lengths, raw slices inside the
 * input, every parameter findable by name, a virtual-host bucket only with a domain. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/router.h"
#include "tests/fuzz/fuzz_input.h"

#define FLAG_DOMAIN_MASK 3 /* 0: no --domain, 1: s3.coffer.test, 2: localhost, 3: coffer.test */
#define FLAG_NO_HOST 4
#define FLAG_COPY_SOURCE 8

static const char *const domains[] = {NULL, "s3.coffer.test", "localhost", "coffer.test"};

static void check_route(const router_input_t *ri, const route_t *r)
{
    if (r->op <= S3OP_INVALID || r->op >= S3OP_COUNT || router_op_name(r->op) == NULL)
        abort();
    if (r->bucket[r->bucket_len] != '\0' || r->key[r->key_len] != '\0')
        abort();
    if (!fuzz_within(r->raw_path, r->raw_path_len, ri->path, ri->path_len))
        abort();
    if (r->raw_query_len != 0 && !fuzz_within(r->raw_query, r->raw_query_len, ri->path, ri->path_len))
        abort();
    if (r->virtual_host && (ri->domain == NULL || ri->host == NULL))
        abort();
    if (r->num_params > ROUTE_MAX_PARAMS)
        abort();
    for (size_t i = 0; i < r->num_params; i++) {
        const route_param_t *p = &r->params[i];
        size_t len;
        if (p->name[p->name_len] != '\0' || p->value[p->value_len] != '\0')
            abort();
        /* a name holding a decoded NUL cannot be looked up by its C string, and that is fine */
        if (strlen(p->name) == p->name_len && route_param(r, p->name, &len) == NULL)
            abort();
    }
    router_bucket_name_valid(r->bucket, r->bucket_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input_t in = {data, size};
    uint8_t flags = fuzz_byte(&in);
    size_t method_len, host_len, path_len;
    const char *method = fuzz_line(&in, &method_len);
    const char *host = fuzz_line(&in, &host_len);
    const char *path = fuzz_rest(&in, &path_len);
    const char *domain = domains[flags & FLAG_DOMAIN_MASK];

    router_input_t ri = {
        .method = fuzz_dup(method, method_len),
        .method_len = method_len,
        .path = fuzz_dup(path, path_len),
        .path_len = path_len,
        .host = (flags & FLAG_NO_HOST) ? NULL : fuzz_dup(host, host_len),
        .host_len = (flags & FLAG_NO_HOST) ? 0 : host_len,
        .domain = domain,
        .domain_len = domain != NULL ? strlen(domain) : 0,
        .has_copy_source = (flags & FLAG_COPY_SOURCE) != 0,
    };
    /* on the heap, exactly sized: params[] is route_t's last member, so an overflow of it is caught */
    route_t *r = malloc(sizeof(*r));
    char *scratch = malloc(ROUTER_SCRATCH_LEN(path_len));
    if (r == NULL || scratch == NULL)
        abort();
    if (router_route(&ri, r, scratch, ROUTER_SCRATCH_LEN(path_len)) == S3ERR_NONE)
        check_route(&ri, r);
    if (ri.host != NULL)
        router_bucket_name_valid(ri.host, ri.host_len);

    free(scratch);
    free(r);
    free((char *)ri.method);
    free((char *)ri.path);
    free((char *)ri.host);
    return 0;
}
