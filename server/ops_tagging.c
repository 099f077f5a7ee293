/* server/ops_tagging.c -- object and bucket tagging (not implemented yet). */
#include "server/handler.h"

void ops_object_tagging(s3_req_t *r)
{
    s3_send_error(r, S3ERR_NOT_IMPLEMENTED, NULL);
}

void ops_bucket_tagging(s3_req_t *r)
{
    s3_send_error(r, S3ERR_NOT_IMPLEMENTED, NULL);
}
