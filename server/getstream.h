/* server/getstream.h -- streams a chunked object's bytes to the client. */
#ifndef COFFER_GETSTREAM_H
#define COFFER_GETSTREAM_H

#include "server/handler.h"

/**
 * Sends len bytes of obj from offset first as the response body (status and
 * headers already set on the request). Takes ownership of obj. The first block
 * is read and verified before the headers go out, so a damaged object gets a
 * 500 error instead of a truncated body when it can.
 */
void getstream_start(s3_req_t *r, store_object_t *obj, uint64_t first, uint64_t len);

#endif
