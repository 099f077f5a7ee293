/* server/ops_bucket_config.c -- Get/Put/DeleteBucketOwnershipControls and Get/Put/DeletePublicAccessBlock.
 *
 * DESIGN: each configuration is a bucket configuration document
 * (store_bucket_conf_*) in a compact form of its own: the ObjectOwnership
 * value, or four '0'/'1' flags in the order of PublicAccessBlockConfiguration's
 * elements. PUT validates the whole document on the loop (MalformedXML for
 * anything AWS's schema refuses) and stores it in a job; GET is a point read on
 * the loop that writes the document back; DELETE removes it (204 also when
 * there was none). They are kept and returned only: enforcing them belongs to
 * access control. Bodies are read like every request body, with xml_read_doc
 * (server/xml.h): libxml2, network off, any DTD refused, elements matched by
 * local name. */
#include <errno.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

#include "server/authz.h"
#include "server/handler.h"
#include "server/payload.h"

#define CONFIG_DOC_MAX (64 * 1024)
#define CONFIG_TEXT_MAX 31 /* longer than any value a configuration element may hold */

static const char *const ownership_values[] = {"BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter"};
#define NUM_OWNERSHIP_VALUES (sizeof(ownership_values) / sizeof(ownership_values[0]))
static const char *const public_access_flags[] = {"BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy",
                                                  "RestrictPublicBuckets"};
#define NUM_PUBLIC_ACCESS_FLAGS (sizeof(public_access_flags) / sizeof(public_access_flags[0]))

typedef struct config_state {
    const char *name;  /* static */
    const char *value; /* borrowed (a static string, or flags); NULL deletes the document */
    size_t value_len;
    char flags[NUM_PUBLIC_ACCESS_FLAGS];
} config_state_t;

/* Reads n's text, less surrounding XML whitespace, into text. Returns 0, or -1 when n holds markup or longer text. */
static int read_text(xmlNodePtr n, char text[CONFIG_TEXT_MAX + 1])
{
    return xml_text_only(n) && xml_trimmed_text(n, text, CONFIG_TEXT_MAX) >= 0 ? 0 : -1;
}

/* <OwnershipControls><Rule><ObjectOwnership>value</ObjectOwnership></Rule></OwnershipControls>: st->value is the value.
 * Returns 0 or -1. */
static int parse_ownership(const char *body, size_t len, config_state_t *st)
{
    xmlDocPtr doc = xml_read_doc(body, len, CONFIG_DOC_MAX, 0);
    xmlNodePtr root, rule = NULL, value = NULL;
    char text[CONFIG_TEXT_MAX + 1];
    int ret = -1;
    if (doc == NULL)
        return -1;
    if ((root = xmlDocGetRootElement(doc)) == NULL || !xml_is_element(root, "OwnershipControls"))
        goto Exit;
    for (xmlNodePtr n = root->children; n != NULL; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (!xml_is_element(n, "Rule") || rule != NULL)
            goto Exit;
        rule = n;
    }
    for (xmlNodePtr n = rule != NULL ? rule->children : NULL; n != NULL; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (!xml_is_element(n, "ObjectOwnership") || value != NULL)
            goto Exit;
        value = n;
    }
    if (value == NULL || read_text(value, text) != 0)
        goto Exit;
    for (size_t i = 0; i < NUM_OWNERSHIP_VALUES; i++) {
        if (strcmp(text, ownership_values[i]) == 0) {
            st->value = ownership_values[i];
            st->value_len = strlen(ownership_values[i]);
            ret = 0;
        }
    }
Exit:
    xmlFreeDoc(doc);
    return ret;
}

/* <PublicAccessBlockConfiguration> with up to the four booleans (missing = false): st->value is the flags as '0'/'1'.
 * Returns 0 or -1. */
static int parse_public_access_block(const char *body, size_t len, config_state_t *st)
{
    xmlDocPtr doc = xml_read_doc(body, len, CONFIG_DOC_MAX, 0);
    int seen[NUM_PUBLIC_ACCESS_FLAGS] = {0}, ret = -1;
    char text[CONFIG_TEXT_MAX + 1];
    if (doc == NULL)
        return -1;
    memset(st->flags, '0', NUM_PUBLIC_ACCESS_FLAGS);
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (root == NULL || !xml_is_element(root, "PublicAccessBlockConfiguration"))
        goto Exit;
    for (xmlNodePtr n = root->children; n != NULL; n = n->next) {
        for (size_t i = 0; i < NUM_PUBLIC_ACCESS_FLAGS; i++) {
            if (!xml_is_element(n, public_access_flags[i]))
                continue;
            if (seen[i]++ != 0 || read_text(n, text) != 0)
                goto Exit;
            if (strcmp(text, "true") == 0)
                st->flags[i] = '1';
            else if (strcmp(text, "false") != 0)
                goto Exit;
        }
    }
    st->value = st->flags;
    st->value_len = sizeof(st->flags);
    ret = 0;
Exit:
    xmlFreeDoc(doc);
    return ret;
}

static void write_ownership(xmlw_t *w, const char *val, size_t len)
{
    xmlw_open(w, "OwnershipControls " S3_XMLNS);
    xmlw_open(w, "Rule");
    xmlw_elem(w, "ObjectOwnership", val, len);
    xmlw_close(w, "Rule");
    xmlw_close(w, "OwnershipControls");
}

static void write_public_access_block(xmlw_t *w, const char *flags, size_t len)
{
    xmlw_open(w, "PublicAccessBlockConfiguration " S3_XMLNS);
    for (size_t i = 0; i < NUM_PUBLIC_ACCESS_FLAGS; i++)
        xmlw_elem_str(w, public_access_flags[i], i < len && flags[i] == '1' ? "true" : "false");
    xmlw_close(w, "PublicAccessBlockConfiguration");
}

/* A configuration document and its three operations. */
typedef struct bucket_config {
    s3_op_t get_op, put_op, delete_op;
    const char *name; /* the bucket configuration document */
    s3err_t missing;  /* GET's answer when the bucket has none */
    int (*parse)(const char *body, size_t len, config_state_t *st);
    void (*write)(xmlw_t *w, const char *val, size_t len);
} bucket_config_t;

static const bucket_config_t configs[] = {
    {S3OP_GET_BUCKET_OWNERSHIP_CONTROLS, S3OP_PUT_BUCKET_OWNERSHIP_CONTROLS, S3OP_DELETE_BUCKET_OWNERSHIP_CONTROLS,
     "ownership-controls", S3ERR_OWNERSHIP_CONTROLS_NOT_FOUND, parse_ownership, write_ownership},
    {S3OP_GET_PUBLIC_ACCESS_BLOCK, S3OP_PUT_PUBLIC_ACCESS_BLOCK, S3OP_DELETE_PUBLIC_ACCESS_BLOCK, "public-access-block",
     S3ERR_NO_SUCH_PUBLIC_ACCESS_BLOCK, parse_public_access_block, write_public_access_block},
};

static void get_config(s3_req_t *r, const bucket_config_t *conf)
{
    void *val;
    size_t len;
    int rc = store_bucket_conf_get(r->thread->server->store, r->route.bucket, conf->name, &val, &len);
    if (rc != 0) {
        s3_send_error(r, rc == -ENOENT ? conf->missing : s3err_from_store(rc), NULL);
        return;
    }
    xmlw_t w;
    xmlw_init(&w);
    conf->write(&w, val, len);
    free(val);
    s3_send_xml(r, 200, &w);
}

static void run_update_config(s3_job_t *j)
{
    s3_req_t *r = j->r;
    config_state_t *st = (config_state_t *)j->extra;
    store_t *store = r->thread->server->store;
    int rc = st->value != NULL ? store_bucket_conf_put(store, r->route.bucket, st->name, st->value, st->value_len)
                               : store_bucket_conf_delete(store, r->route.bucket, st->name);
    if (rc != 0)
        j->err = s3err_from_store(rc);
    else
        authz_invalidate(); /* ownership controls and public access blocks decide access */
    j->status = st->value != NULL ? 200 : 204;
}

void ops_bucket_config(s3_req_t *r)
{
    s3_op_t op = r->route.op;
    const bucket_config_t *conf = NULL;
    for (size_t i = 0; i < sizeof(configs) / sizeof(configs[0]); i++) {
        if (op == configs[i].get_op || op == configs[i].put_op || op == configs[i].delete_op)
            conf = &configs[i];
    }
    if (conf == NULL) { /* the router sends no other operation here */
        s3_send_error(r, S3ERR_INTERNAL_ERROR, NULL);
        return;
    }
    if (op == conf->get_op) {
        get_config(r, conf);
        return;
    }
    s3_job_t *j = s3_job_new(r, run_update_config, sizeof(config_state_t));
    config_state_t *st = (config_state_t *)j->extra;
    st->name = conf->name;
    if (op == conf->put_op) {
        const char *message;
        s3err_t err = s3_check_document_body(r, CONFIG_DOC_MAX, 0, &message);
        if (err == S3ERR_NONE && conf->parse(r->req->entity.base, r->req->entity.len, st) != 0)
            err = S3ERR_MALFORMED_XML;
        if (err != S3ERR_NONE) {
            s3_job_refuse(j, err, message);
            return;
        }
    }
    s3_job_start(j);
}
