/* server/s3err.c -- the error table (see s3err.h) and the storage-error mapping. */
#include "server/s3err.h"

#include <errno.h>

#include "storage/store.h"

static const struct {
    int status;
    const char *code;
    const char *message;
} table[S3ERR_COUNT] = {[S3ERR_NONE] = {200, "", ""},
#define S3ERR_ROW(name, status, code, message) [S3ERR_##name] = {status, code, message},
                        S3ERR_LIST(S3ERR_ROW)
#undef S3ERR_ROW
};

int s3err_status(s3err_t err)
{
    return table[err].status;
}

const char *s3err_code(s3err_t err)
{
    return table[err].code;
}

const char *s3err_message(s3err_t err)
{
    return table[err].message;
}

s3err_t s3err_from_store(int rc)
{
    switch (rc) {
    case STORE_E_NO_BUCKET:
        return S3ERR_NO_SUCH_BUCKET;
    case STORE_E_BAD_DIGEST:
        return S3ERR_BAD_DIGEST;
    case STORE_E_NO_UPLOAD:
        return S3ERR_NO_SUCH_UPLOAD;
    case STORE_E_INVALID_PART:
        return S3ERR_INVALID_PART;
    case STORE_E_INVALID_PART_ORDER:
        return S3ERR_INVALID_PART_ORDER;
    case STORE_E_ENTITY_TOO_SMALL:
        return S3ERR_ENTITY_TOO_SMALL;
    case STORE_E_PRECONDITION:
        return S3ERR_PRECONDITION_FAILED;
    case -ENOENT:
        return S3ERR_NO_SUCH_KEY;
    case -ENOTEMPTY:
        return S3ERR_BUCKET_NOT_EMPTY;
    case -ENOSPC:
    case -EDQUOT:
        return S3ERR_STORAGE_FULL;
    case STORE_E_UNAVAILABLE:
        return S3ERR_DATA_UNAVAILABLE;
    case -ENAMETOOLONG:
        return S3ERR_KEY_TOO_LONG;
    default:
        return S3ERR_INTERNAL_ERROR;
    }
}
