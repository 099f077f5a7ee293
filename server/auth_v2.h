/* server/auth_v2.h -- AWS Signature Version 2 in the request pipeline: the Authorization header and presigned URLs. */
#ifndef COFFER_AUTH_V2_H
#define COFFER_AUTH_V2_H

#include "server/handler.h"

/**
 * Authenticates a request carrying `Authorization: AWS AKID:signature` (authz is the header's value).
 * The request must carry a Date or x-amz-date header within 15 minutes of the server's clock.
 * Returns S3ERR_NONE with r->user filled and r->authenticated set, or the error to answer
 * (InvalidArgument for a malformed header, AccessDenied for a missing or unreadable date,
 * RequestTimeTooSkewed, InvalidAccessKeyId, SignatureDoesNotMatch); *message may then be set
 * to a static message (left alone for AWS's default one).
 */
s3err_t s3_authenticate_sigv2(s3_req_t *r, const char *authz, size_t authz_len, const char **message);

/**
 * Authenticates a V2 presigned URL: the AWSAccessKeyId, Signature and Expires (seconds since
 * the epoch) query parameters, with Expires standing in for the date in the string to sign.
 * Returns S3ERR_NONE with r->user filled and r->authenticated set, or the error to answer
 * (AccessDenied for missing parameters, an unreadable Expires or an expired URL ("Request has
 * expired"), InvalidAccessKeyId, SignatureDoesNotMatch); *message as for s3_authenticate_sigv2.
 */
s3err_t s3_authenticate_sigv2_query(s3_req_t *r, const char **message);

#endif
