/* server/ops_post.c -- PostObject: browser-form uploads under a POST policy. */
#include "server/handler.h"

void ops_post_object(s3_req_t *r)
{
    s3_send_error(r, S3ERR_NOT_IMPLEMENTED, "Browser-form (POST policy) uploads are not supported yet.");
}
