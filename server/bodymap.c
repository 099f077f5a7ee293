/* server/bodymap.c -- bounding RSS while h2o buffers a large request body.
 *
 * DESIGN: h2o 2.2.5 reads a whole request body before the handler runs. From
 * 32 MiB on, the socket's input buffer lives in a MAP_SHARED mapping of an
 * unlinked temp file on the data volume (lib/common/memory.c,
 * h2o_buffer_reserve). Every page written into it, and every page a worker
 * later reads back while hashing, stays mapped and counts as our RSS, so a
 * 1 GiB PUT would cost 1 GiB of resident memory.
 *
 * madvise(MADV_DONTNEED) on a MAP_SHARED file mapping only drops the page
 * table entries: the bytes stay in the file (page cache), and the next access
 * faults them back in (see madvise(2): "for shared mappings ... the pages are
 * not freed from the page cache"). It is therefore safe even while h2o or a
 * worker is touching the buffer, and the loop calls it every few milliseconds.
 *
 * Finding those buffers needs the connection list of h2o's HTTP/1 handler,
 * whose struct is private to lib/http1.c (see http1_conn.h); with any other
 * h2o version than 2.2 this file does nothing. */
#include "server/bodymap.h"

#include <stddef.h>
#include <sys/mman.h>
#include <unistd.h>

#include "server/http1_conn.h"

#if HTTP1_CONN_MIRRORED

int bodymap_trim(h2o_context_t *ctx)
{
    int trimmed = 0;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    for (h2o_linklist_t *node = ctx->http1._conns.next; node != &ctx->http1._conns; node = node->next) {
        http1_conn_head_t *conn = H2O_STRUCT_FROM_MEMBER(http1_conn_head_t, _conns, node);
        if (conn->sock == NULL || conn->sock->input == NULL)
            continue;
        h2o_buffer_t *buf = conn->sock->input;
        if (buf->_fd == -1 || buf->bytes == NULL)
            continue; /* heap memory: MADV_DONTNEED would zero it */
        /* the buffer struct sits at the start of its own mapping, which is page-aligned */
        size_t len = (offsetof(h2o_buffer_t, _buf) + buf->capacity + page - 1) / page * page;
        if (((uintptr_t)buf & (page - 1)) == 0 && madvise(buf, len, MADV_DONTNEED) == 0)
            ++trimmed;
    }
    return trimmed;
}

#else

int bodymap_trim(h2o_context_t *ctx)
{
    (void)ctx;
    return 0;
}

#endif
