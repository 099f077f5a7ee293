/* server/http1_conn.h -- the leading members of h2o 2.2's private HTTP/1 connection struct.
 *
 * struct st_h2o_http1_conn_t is private to h2o's lib/http1.c. bodymap.c and ingest.c
 * walk a loop's connections (h2o_context_t.http1._conns) and read these members; they
 * are mirrored for h2o 2.2 only. With any other version HTTP1_CONN_MIRRORED is 0 and
 * those files do nothing. */
#ifndef COFFER_HTTP1_CONN_H
#define COFFER_HTTP1_CONN_H

#define H2O_USE_LIBUV 0
#include <h2o.h>

#if H2O_VERSION_MAJOR == 2 && H2O_VERSION_MINOR == 2
#define HTTP1_CONN_MIRRORED 1
typedef struct http1_conn_head {
    h2o_conn_t super;
    h2o_socket_t *sock;
    h2o_linklist_t _conns;
    h2o_timeout_t *_timeout;
    h2o_timeout_entry_t _timeout_entry;
    uint64_t _req_index;
    size_t _prevreqlen;
    size_t _reqsize; /* while a body is read: the head's length plus Content-Length */
    void *_req_entity_reader;
} http1_conn_head_t;
#else
#define HTTP1_CONN_MIRRORED 0
typedef struct http1_conn_head {
    h2o_conn_t super;
} http1_conn_head_t;
#endif

#endif
