/* server/ops_bucket_config.c -- bucket ownership controls and public access block (not implemented yet). */
#include "server/handler.h"

void ops_bucket_config(s3_req_t *r)
{
    s3_send_error(r, S3ERR_NOT_IMPLEMENTED, NULL);
}
