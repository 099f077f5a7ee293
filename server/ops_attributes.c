/* server/ops_attributes.c -- GetObjectAttributes (not implemented yet). */
#include "server/handler.h"

void ops_get_object_attributes(s3_req_t *r)
{
    s3_send_error(r, S3ERR_NOT_IMPLEMENTED, NULL);
}
