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

#include "server/handler.h"
#include "server/tagging.h"

#define CONFIG_DOC_MAX (64 * 1024)
#define OWNERSHIP_CONF "ownership-controls"
#define PUBLIC_ACCESS_BLOCK_CONF "public-access-block"

static const char *const ownership_values[] = {"BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter"};
#define NUM_OWNERSHIP_VALUES (sizeof(ownership_values) / sizeof(ownership_values[0]))
static const char *const public_access_flags[] = {"BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy",
                                                  "RestrictPublicBuckets"};
#define NUM_PUBLIC_ACCESS_FLAGS (sizeof(public_access_flags) / sizeof(public_access_flags[0]))

/* Whether n's text, less surrounding XML whitespace, is exactly want (at most 31 bytes). */
static int text_is(xmlNodePtr n, const char *want)
{
    char text[32];
    return xml_text_only(n) && xml_trimmed_text(n, text, sizeof(text) - 1) >= 0 && strcmp(text, want) == 0;
}

/* <OwnershipControls><Rule><ObjectOwnership>value</ObjectOwnership></Rule></OwnershipControls>: the value, or NULL. */
static const char *parse_ownership(const char *body, size_t len)
{
    xmlDocPtr doc = xml_read_doc(body, len, CONFIG_DOC_MAX, 0);
    const char *value = NULL;
    int num_rules = 0, num_values = 0;
    if (doc == NULL)
        return NULL;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (root == NULL || !xml_is_element(root, "OwnershipControls"))
        goto Exit;
    for (xmlNodePtr rule = root->children; rule != NULL; rule = rule->next) {
        if (rule->type != XML_ELEMENT_NODE)
            continue;
        if (!xml_is_element(rule, "Rule") || num_rules++ != 0)
            goto Fail;
        for (xmlNodePtr n = rule->children; n != NULL; n = n->next) {
            if (n->type != XML_ELEMENT_NODE)
                continue;
            if (!xml_is_element(n, "ObjectOwnership") || num_values++ != 0)
                goto Fail;
            for (size_t i = 0; i < NUM_OWNERSHIP_VALUES && value == NULL; i++) {
                if (text_is(n, ownership_values[i]))
                    value = ownership_values[i];
            }
        }
    }
    goto Exit;
Fail:
    value = NULL;
Exit:
    xmlFreeDoc(doc);
    return num_rules == 1 && num_values == 1 ? value : NULL;
}

/* <PublicAccessBlockConfiguration> with up to the four booleans (missing = false): flags as '0'/'1'. Returns 0 or -1. */
static int parse_public_access_block(const char *body, size_t len, char flags[NUM_PUBLIC_ACCESS_FLAGS])
{
    xmlDocPtr doc = xml_read_doc(body, len, CONFIG_DOC_MAX, 0);
    int seen[NUM_PUBLIC_ACCESS_FLAGS] = {0}, ret = -1;
    if (doc == NULL)
        return -1;
    memset(flags, '0', NUM_PUBLIC_ACCESS_FLAGS);
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (root == NULL || !xml_is_element(root, "PublicAccessBlockConfiguration"))
        goto Exit;
    for (xmlNodePtr n = root->children; n != NULL; n = n->next) {
        for (size_t i = 0; i < NUM_PUBLIC_ACCESS_FLAGS; i++) {
            if (!xml_is_element(n, public_access_flags[i]))
                continue;
            if (seen[i]++ != 0)
                goto Exit;
            if (text_is(n, "true"))
                flags[i] = '1';
            else if (!text_is(n, "false"))
                goto Exit;
        }
    }
    ret = 0;
Exit:
    xmlFreeDoc(doc);
    return ret;
}

/* Which document an operation is about. */
static const char *conf_name(s3_op_t op)
{
    switch (op) {
    case S3OP_GET_BUCKET_OWNERSHIP_CONTROLS:
    case S3OP_PUT_BUCKET_OWNERSHIP_CONTROLS:
    case S3OP_DELETE_BUCKET_OWNERSHIP_CONTROLS:
        return OWNERSHIP_CONF;
    default:
        return PUBLIC_ACCESS_BLOCK_CONF;
    }
}

static void get_config(s3_req_t *r, const char *name)
{
    void *val;
    size_t len;
    int ownership = strcmp(name, OWNERSHIP_CONF) == 0;
    int rc = store_bucket_conf_get(r->thread->server->store, r->route.bucket, name, &val, &len);
    if (rc != 0) {
        s3err_t missing = ownership ? S3ERR_OWNERSHIP_CONTROLS_NOT_FOUND : S3ERR_NO_SUCH_PUBLIC_ACCESS_BLOCK;
        s3_send_error(r, rc == -ENOENT ? missing : s3err_from_store(rc), NULL);
        return;
    }
    xmlw_t w;
    xmlw_init(&w);
    if (ownership) {
        xmlw_open(&w, "OwnershipControls " S3_XMLNS);
        xmlw_open(&w, "Rule");
        xmlw_elem(&w, "ObjectOwnership", val, len);
        xmlw_close(&w, "Rule");
        xmlw_close(&w, "OwnershipControls");
    } else {
        const char *flags = val;
        xmlw_open(&w, "PublicAccessBlockConfiguration " S3_XMLNS);
        for (size_t i = 0; i < NUM_PUBLIC_ACCESS_FLAGS; i++)
            xmlw_elem_str(&w, public_access_flags[i], i < len && flags[i] == '1' ? "true" : "false");
        xmlw_close(&w, "PublicAccessBlockConfiguration");
    }
    free(val);
    s3_send_xml(r, 200, &w);
}

typedef struct config_state {
    const char *name;  /* static */
    const char *value; /* borrowed (a static string, or flags); NULL deletes the document */
    size_t value_len;
    char flags[NUM_PUBLIC_ACCESS_FLAGS];
} config_state_t;

static void run_update_config(s3_job_t *j)
{
    s3_req_t *r = j->r;
    config_state_t *st = (config_state_t *)j->extra;
    store_t *store = r->thread->server->store;
    int rc = st->value != NULL ? store_bucket_conf_put(store, r->route.bucket, st->name, st->value, st->value_len)
                               : store_bucket_conf_delete(store, r->route.bucket, st->name);
    if (rc != 0)
        j->err = s3err_from_store(rc);
    j->status = st->value != NULL ? 200 : 204;
}

void ops_bucket_config(s3_req_t *r)
{
    const char *name = conf_name(r->route.op);
    switch (r->route.op) {
    case S3OP_GET_BUCKET_OWNERSHIP_CONTROLS:
    case S3OP_GET_PUBLIC_ACCESS_BLOCK:
        get_config(r, name);
        return;
    default:
        break;
    }
    s3_job_t *j = s3_job_new(r, run_update_config, sizeof(config_state_t));
    config_state_t *st = (config_state_t *)j->extra;
    st->name = name;
    if (r->route.op == S3OP_PUT_BUCKET_OWNERSHIP_CONTROLS || r->route.op == S3OP_PUT_PUBLIC_ACCESS_BLOCK) {
        const char *message;
        s3err_t err = s3_check_document_body(r, CONFIG_DOC_MAX, &message);
        if (err == S3ERR_NONE && r->route.op == S3OP_PUT_BUCKET_OWNERSHIP_CONTROLS) {
            if ((st->value = parse_ownership(r->req->entity.base, r->req->entity.len)) != NULL)
                st->value_len = strlen(st->value);
            else
                err = S3ERR_MALFORMED_XML;
        } else if (err == S3ERR_NONE) {
            if (parse_public_access_block(r->req->entity.base, r->req->entity.len, st->flags) == 0) {
                st->value = st->flags;
                st->value_len = sizeof(st->flags);
            } else {
                err = S3ERR_MALFORMED_XML;
            }
        }
        if (err != S3ERR_NONE) {
            s3_job_refuse(j, err, message);
            return;
        }
    }
    s3_job_start(j);
}
