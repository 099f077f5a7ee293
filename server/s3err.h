/* server/s3err.h -- the one table that maps an S3 error to its HTTP status, code and message. */
#ifndef COFFER_S3ERR_H
#define COFFER_S3ERR_H

#define S3ERR_LIST(X)                                                                                                              \
    X(ACCESS_DENIED, 403, "AccessDenied", "Access Denied")                                                                         \
    X(AUTH_HEADER_MALFORMED, 400, "AuthorizationHeaderMalformed", "The authorization header is malformed.")                        \
    X(AUTH_QUERY_MALFORMED, 400, "AuthorizationQueryParametersError", "Error parsing the query-string authentication parameters.") \
    X(ACL_NOT_SUPPORTED, 400, "AccessControlListNotSupported", "The bucket does not allow ACLs")                                   \
    X(BAD_DIGEST, 400, "BadDigest", "The Content-MD5 you specified did not match what we received.")                               \
    X(BAD_REQUEST, 400, "BadRequest", "Bad Request")                                                                               \
    X(BUCKET_ALREADY_EXISTS, 409, "BucketAlreadyExists",                                                                           \
      "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a "    \
      "different name and try again.")                                                                                             \
    X(BUCKET_ALREADY_OWNED_BY_YOU, 409, "BucketAlreadyOwnedByYou",                                                                 \
      "Your previous request to create the named bucket succeeded and you already own it.")                                        \
    X(BUCKET_NOT_EMPTY, 409, "BucketNotEmpty", "The bucket you tried to delete is not empty")                                      \
    X(ENTITY_ALREADY_EXISTS, 409, "EntityAlreadyExists", "The user or access key already exists.") /* IAM's, for admin */          \
    X(ENTITY_TOO_LARGE, 400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size.")                    \
    X(ENTITY_TOO_SMALL, 400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size.")            \
    X(INCOMPLETE_BODY, 400, "IncompleteBody",                                                                                      \
      "You did not provide the number of bytes specified by the Content-Length HTTP header")                                       \
    X(INTERNAL_ERROR, 500, "InternalError", "We encountered an internal error. Please try again.")                                 \
    X(INVALID_ACCESS_KEY_ID, 403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")       \
    X(INVALID_BUCKET_ACL_WITH_OWNERSHIP, 400, "InvalidBucketAclWithObjectOwnership",                                               \
      "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting")                                            \
    X(INVALID_ARGUMENT, 400, "InvalidArgument", "Invalid Argument")                                                                \
    X(INVALID_BUCKET_NAME, 400, "InvalidBucketName", "The specified bucket is not valid.")                                         \
    X(INVALID_CHUNK_SIZE, 400, "InvalidChunkSizeError", "Only the last chunk is allowed to have a size less than 8192 bytes")      \
    X(INVALID_DIGEST, 400, "InvalidDigest", "The Content-MD5 you specified is not valid.")                                         \
    X(INCORRECT_NUMBER_OF_FILES, 400, "IncorrectNumberOfFilesInPostRequest", "POST requires exactly one file upload per request.") \
    X(INVALID_POLICY_DOCUMENT, 400, "InvalidPolicyDocument",                                                                       \
      "The content of the form does not meet the conditions specified in the policy document.")                                    \
    X(INVALID_PART, 400, "InvalidPart",                                                                                            \
      "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity "      \
      "tag may not match the part's entity tag.")                                                                                  \
    X(INVALID_PART_ORDER, 400, "InvalidPartOrder",                                                                                 \
      "The list of parts was not in ascending order. Parts must be ordered by part number.")                                       \
    X(INVALID_PART_NUMBER, 416, "InvalidPartNumber", "The requested partnumber is not satisfiable")                                \
    X(INVALID_RANGE, 416, "InvalidRange", "The requested range is not satisfiable")                                                \
    X(INVALID_REQUEST, 400, "InvalidRequest", "Invalid Request")                                                                   \
    X(INVALID_TAG, 400, "InvalidTag", "The TagSet is not valid.")                                                                  \
    X(INVALID_URI, 400, "InvalidURI", "Couldn't parse the specified URI.")                                                         \
    X(KEY_TOO_LONG, 400, "KeyTooLongError", "Your key is too long")                                                                \
    X(MALFORMED_ACL, 400, "MalformedACLError",                                                                                     \
      "The XML you provided was not well-formed or did not validate against our published schema")                                 \
    X(MALFORMED_POLICY, 400, "MalformedPolicy", "Policies must be valid JSON and the first byte must be '{'")                      \
    X(MALFORMED_XML, 400, "MalformedXML",                                                                                          \
      "The XML you provided was not well-formed or did not validate against our published schema")                                 \
    X(MALFORMED_POST_REQUEST, 400, "MalformedPOSTRequest",                                                                         \
      "The body of your POST request is not well-formed multipart/form-data.")                                                     \
    X(MAX_POST_PRE_DATA_LENGTH_EXCEEDED, 400, "MaxPostPreDataLengthExceededError",                                                 \
      "Your POST request fields preceding the upload file were too large.")                                                        \
    X(METADATA_TOO_LARGE, 400, "MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata size.")              \
    X(METHOD_NOT_ALLOWED, 405, "MethodNotAllowed", "The specified method is not allowed against this resource.")                   \
    X(MISSING_CONTENT_LENGTH, 411, "MissingContentLength", "You must provide the Content-Length HTTP header.")                     \
    X(MISSING_REQUEST_BODY, 400, "MissingRequestBodyError", "Request Body is empty")                                               \
    X(MISSING_SECURITY_HEADER, 400, "MissingSecurityHeader", "Your request is missing a required header.")                         \
    X(NO_SUCH_BUCKET, 404, "NoSuchBucket", "The specified bucket does not exist")                                                  \
    X(NO_SUCH_BUCKET_POLICY, 404, "NoSuchBucketPolicy", "The bucket policy does not exist")                                        \
    X(NO_SUCH_ENTITY, 404, "NoSuchEntity", "The user or access key does not exist.") /* IAM's, for admin */                        \
    X(NO_SUCH_KEY, 404, "NoSuchKey", "The specified key does not exist.")                                                          \
    X(NO_SUCH_PUBLIC_ACCESS_BLOCK, 404, "NoSuchPublicAccessBlockConfiguration",                                                    \
      "The public access block configuration was not found")                                                                       \
    X(NO_SUCH_TAG_SET, 404, "NoSuchTagSet", "The TagSet does not exist")                                                           \
    X(NO_SUCH_UPLOAD, 404, "NoSuchUpload",                                                                                         \
      "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")      \
    X(NO_SUCH_VERSION, 404, "NoSuchVersion", "The specified version does not exist.")                                              \
    X(NOT_IMPLEMENTED, 501, "NotImplemented", "A header or query you provided implies functionality that is not implemented.")     \
    X(OWNERSHIP_CONTROLS_NOT_FOUND, 404, "OwnershipControlsNotFoundError", "The bucket ownership controls were not found")         \
    X(PRECONDITION_FAILED, 412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")             \
    X(REQUEST_TIME_TOO_SKEWED, 403, "RequestTimeTooSkewed",                                                                        \
      "The difference between the request time and the server's time is too large.")                                               \
    X(SERVICE_UNAVAILABLE, 503, "ServiceUnavailable", "Please reduce your request rate.")                                          \
    X(DATA_UNAVAILABLE, 503, "ServiceUnavailable",                                                                                 \
      "No data directory can store or serve this data right now; the server log says why.")                                        \
    X(UNRESOLVABLE_GRANT, 400, "UnresolvableGrantByEmailAddress",                                                                  \
      "The email address you provided does not match any account on record.")                                                      \
    X(SIGNATURE_DOES_NOT_MATCH, 403, "SignatureDoesNotMatch",                                                                      \
      "The request signature we calculated does not match the signature you provided. Check your key and signing method.")         \
    X(STORAGE_FULL, 507, "InsufficientStorage", "There is not enough space left on the storage to complete the request.")          \
    X(USER_KEY_MUST_BE_SPECIFIED, 400, "UserKeyMustBeSpecified",                                                                   \
      "The bucket POST must contain the specified field name. If it is specified, please check the order of the fields.")          \
    X(CONTENT_SHA256_MISMATCH, 400, "XAmzContentSHA256Mismatch",                                                                   \
      "The provided 'x-amz-content-sha256' header does not match what was computed.")

typedef enum s3err {
    S3ERR_NONE = 0,
#define S3ERR_ENUM(name, status, code, message) S3ERR_##name,
    S3ERR_LIST(S3ERR_ENUM)
#undef S3ERR_ENUM
        S3ERR_COUNT
} s3err_t;

/** HTTP status of an error. */
int s3err_status(s3err_t err);
/** The S3 error code string ("NoSuchKey"). */
const char *s3err_code(s3err_t err);
/** AWS's default message for an error. */
const char *s3err_message(s3err_t err);

/** Maps a storage return value (-errno or STORE_E_*) to an S3 error; not for 0. */
s3err_t s3err_from_store(int rc);

#endif
