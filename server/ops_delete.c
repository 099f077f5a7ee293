/* server/ops_delete.c -- DeleteObjects (POST /bucket?delete).
 *
 * DESIGN: the loop checks what the headers alone decide (the bucket, encoding-type,
 * that the body carries an integrity check at all); one job on a worker then
 * verifies the body (Content-MD5 and/or x-amz-checksum-<alg>, with s3_integrity_verify
 * as every request document), parses it (server/xml.c) and deletes the keys one by one with
 * store_object_delete, each a synced commit of its own. The body stays h2o's (see
 * the lifetime rule in handler.h), and the work is bounded: at most 1000 keys.
 *
 * As in S3 the request is not atomic: every key is answered on its own, <Deleted>
 * (also for a key that held nothing) or <Error>, and the response is 200 whatever
 * the keys' fates. Each key is authorized on its own too, as DeleteObject of it
 * would be (authz_key): a key the requester may not delete is an AccessDenied
 * <Error>, whether or not it exists. Coffer keeps no versions, so the only
 * version a key can have is "null": deleting it deletes the object, any other
 * is NoSuchVersion. */
#include <string.h>

#include "server/authz.h"
#include "server/handler.h"
#include "server/payload.h"

#define DELETE_MAX_OBJECTS 1000

typedef struct delete_state {
    int url_encode;           /* encoding-type=url: keys in the answer are URL-encoded */
    s3_integrity_t integrity; /* Content-MD5 and/or x-amz-checksum-<alg>, read on the loop */
} delete_state_t;

/* Writes one key's <Error>: Key, VersionId (when given), Code, Message. */
static void key_error(xmlw_t *w, const xml_delete_object_t *o, int url_encode, s3err_t err, const char *message)
{
    xmlw_open(w, "Error");
    s3_xml_key(w, "Key", o->key, o->key_len, url_encode);
    if (o->version_id != NULL)
        xmlw_elem(w, "VersionId", o->version_id, o->version_id_len);
    xmlw_elem_str(w, "Code", s3err_code(err));
    xmlw_elem_str(w, "Message", message != NULL ? message : s3err_message(err));
    xmlw_close(w, "Error");
}

/* Deletes one key; returns S3ERR_NONE or the key's error (with *message when AWS has a specific text). */
static s3err_t delete_one(s3_req_t *r, authz_keys_t *authz, const xml_delete_object_t *o, const char **message)
{
    if (o->key_len > STORE_KEY_MAX)
        return S3ERR_KEY_TOO_LONG;
    s3err_t denied = authz_key(r, authz, o->key, o->key_len);
    if (denied != S3ERR_NONE)
        return denied;
    if (o->version_id != NULL && !h2o_memis(o->version_id, o->version_id_len, H2O_STRLIT("null")))
        return S3ERR_NO_SUCH_VERSION; /* no version but "null" exists in a bucket without versioning */
    if (o->has_conditions) {          /* deleting regardless would drop what the client meant to keep */
        *message = "Conditional deletes (ETag, LastModifiedTime, Size) are not implemented.";
        return S3ERR_NOT_IMPLEMENTED;
    }
    int rc = store_object_delete(r->thread->server->store, r->route.bucket, o->key, o->key_len);
    return rc == 0 ? S3ERR_NONE : s3err_from_store(rc);
}

static void run_delete_objects(s3_job_t *j)
{
    s3_req_t *r = j->r;
    h2o_req_t *req = r->req;
    delete_state_t *st = (delete_state_t *)j->extra;
    xml_delete_t del;

    j->err = s3_integrity_verify(r, &st->integrity, &j->err_message);
    if (j->err != S3ERR_NONE)
        return;
    if (xml_parse_delete(req->entity.base, req->entity.len, DELETE_MAX_OBJECTS, &del) != 0) {
        j->err = S3ERR_MALFORMED_XML;
        return;
    }
    for (size_t i = 0; i < del.num_objects; i++) {
        if (del.objects[i].key_len == 0) { /* refused before any key is deleted */
            xml_delete_free(&del);
            j->err = S3ERR_USER_KEY_MUST_BE_SPECIFIED;
            return;
        }
    }

    xmlw_t *w = &j->xml;
    xmlw_init(w);
    xmlw_open(w, "DeleteResult " S3_XMLNS);
    authz_keys_t *authz = authz_keys_begin(r);
    for (size_t i = 0; i < del.num_objects; i++) {
        const xml_delete_object_t *o = &del.objects[i];
        const char *message = NULL;
        s3err_t err = delete_one(r, authz, o, &message);
        if (err != S3ERR_NONE) {
            key_error(w, o, st->url_encode, err, message);
        } else if (!del.quiet) {
            xmlw_open(w, "Deleted");
            s3_xml_key(w, "Key", o->key, o->key_len, st->url_encode);
            if (o->version_id != NULL)
                xmlw_elem(w, "VersionId", o->version_id, o->version_id_len);
            xmlw_close(w, "Deleted");
        }
    }
    xmlw_close(w, "DeleteResult");
    j->has_xml = 1;
    xml_delete_free(&del);
}

void ops_delete_objects(s3_req_t *r)
{
    int rc = store_bucket_get(r->thread->server->store, r->route.bucket, NULL);
    if (rc != 0) {
        s3_send_error(r, s3err_from_store(rc), NULL);
        return;
    }
    s3_job_t *j = s3_job_new(r, run_delete_objects, sizeof(delete_state_t));
    delete_state_t *st = (delete_state_t *)j->extra;
    if (s3_parse_encoding_type(r, &st->url_encode) != 0) {
        s3_job_refuse(j, S3ERR_INVALID_ARGUMENT, "Invalid Encoding Method specified in Request");
        return;
    }
    const char *message;
    s3err_t err = s3_integrity_prepare(r, &st->integrity, 1, &message); /* S3 requires one on this body */
    if (err != S3ERR_NONE) {
        s3_job_refuse(j, err, message);
        return;
    }
    if (r->req->entity.base == NULL) {
        s3_job_refuse(j, S3ERR_MALFORMED_XML, NULL);
        return;
    }
    s3_job_start(j);
}
