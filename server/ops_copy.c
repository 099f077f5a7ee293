/* server/ops_copy.c -- CopyObject (not implemented yet). */
#include "server/handler.h"

void ops_copy_object(s3_req_t *r)
{
    s3_send_error(r, S3ERR_NOT_IMPLEMENTED, NULL);
}
