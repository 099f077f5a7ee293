/* server/ops_delete.c -- DeleteObjects (not implemented yet). */
#include "server/handler.h"

void ops_delete_objects(s3_req_t *r)
{
    s3_send_error(r, S3ERR_NOT_IMPLEMENTED, NULL);
}
