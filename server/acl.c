/* server/acl.c -- S3 ACLs: canned names, grant headers, the AccessControlPolicy document, the stored form.
 *
 * DESIGN: every input form ends in one acl_t, grants in the order S3 would list them.
 * The document is read like every request body, with xml_read_doc (server/xml.h):
 * libxml2 with the network off and any document carrying a DTD refused, elements matched
 * by local name. It is judged in two passes so errors come out in AWS's precedence
 * whatever their place in the document: the first pass checks the shape only (anything
 * off is MalformedACLError, as AWS's schema validation answers) and remembers where each
 * grantee's ID, EmailAddress or URI is; only then is the Owner compared (AccessDenied)
 * and are the grantees resolved (InvalidArgument, UnresolvableGrantByEmailAddress). No
 * pass calls the resolver before the whole document is known to be well shaped.
 *
 * The stored form is a versioned byte string, not the XML: an ACL is read on many
 * requests and written on few, and decoding length-prefixed fields costs no parser. The
 * decoder trusts nothing: a record cut short or bit-flipped on disk is refused, never
 * read past its end. */
#include "server/acl.h"

#include <errno.h>
#include <libxml/tree.h>
#include <string.h>
#include <strings.h>

#define XSI_NS "http://www.w3.org/2001/XMLSchema-instance"
#define GRANTEE_XSI "Grantee xmlns:xsi=\"" XSI_NS "\" xsi:type="

/* The canonical user AWS grants READ for aws-exec-read (EC2, to fetch AMI bundles), as AWS lists it. */
#define EC2_ID "6aa5a366c34c1cbe25dc49211496e913e0351eb0e8c37aa3477e40942ec6b97c"
#define EC2_NAME "za-team"

#define ACL_ENCODING_VERSION 1

static const char msg_malformed[] = "The XML you provided was not well-formed or did not validate against our published schema";
static const char msg_invalid_id[] = "Invalid id";
static const char msg_invalid_uri[] = "Invalid group uri";
static const char msg_unresolvable[] = "The e-mail address you provided does not match any account on record.";
static const char msg_access_denied[] = "Access Denied";
static const char msg_both[] = "Specifying both Canned ACLs and Header Grants is not allowed";
static const char msg_bad_header[] = "Invalid grant header value: expected a comma-separated list of id=\"...\", "
                                     "emailAddress=\"...\" or uri=\"...\"";
static const char msg_too_many[] = "The ACL holds more than 100 grants";
static const char msg_bad_canned[] = "Invalid canned ACL";

const char *acl_perm_name(unsigned perm)
{
    switch (perm) {
    case ACL_READ:
        return "READ";
    case ACL_WRITE:
        return "WRITE";
    case ACL_READ_ACP:
        return "READ_ACP";
    case ACL_WRITE_ACP:
        return "WRITE_ACP";
    case ACL_FULL_CONTROL:
        return "FULL_CONTROL";
    }
    return NULL;
}

static int perm_from_name(const char *s, unsigned *perm)
{
    static const unsigned perms[] = {ACL_READ, ACL_WRITE, ACL_READ_ACP, ACL_WRITE_ACP, ACL_FULL_CONTROL};
    for (size_t i = 0; i < sizeof(perms) / sizeof(perms[0]); i++) {
        if (strcmp(s, acl_perm_name(perms[i])) == 0) {
            *perm = perms[i];
            return 0;
        }
    }
    return -1;
}

static const char *group_uri(acl_grantee_type_t type)
{
    switch (type) {
    case ACL_GRANTEE_ALL_USERS:
        return ACL_URI_ALL_USERS;
    case ACL_GRANTEE_AUTHENTICATED_USERS:
        return ACL_URI_AUTHENTICATED_USERS;
    case ACL_GRANTEE_LOG_DELIVERY:
        return ACL_URI_LOG_DELIVERY;
    case ACL_GRANTEE_USER:
        break;
    }
    return NULL;
}

/* The group a URI names (exactly, as AWS compares it); -1 for none. */
static int group_from_uri(const char *s, size_t len, acl_grantee_type_t *type)
{
    static const acl_grantee_type_t groups[] = {ACL_GRANTEE_ALL_USERS, ACL_GRANTEE_AUTHENTICATED_USERS, ACL_GRANTEE_LOG_DELIVERY};
    for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
        const char *uri = group_uri(groups[i]);
        if (strlen(uri) == len && memcmp(uri, s, len) == 0) {
            *type = groups[i];
            return 0;
        }
    }
    return -1;
}

/* Copies s (NULL is "") into dst of cap bytes, cut to fit. */
static void copy_str(char *dst, size_t cap, const char *s)
{
    size_t len = s != NULL ? strnlen(s, cap - 1) : 0;
    memcpy(dst, s != NULL ? s : "", len);
    dst[len] = '\0';
}

static void acl_init(acl_t *out, const char *owner_id, const char *owner_name)
{
    copy_str(out->owner_id, sizeof(out->owner_id), owner_id);
    copy_str(out->owner_name, sizeof(out->owner_name), owner_name);
    out->num_grants = 0;
}

/* Appends a grant; -1 when the ACL is full. */
static int add_grant(acl_t *acl, acl_grantee_type_t type, const char *id, const char *name, unsigned perm)
{
    if (acl->num_grants == ACL_MAX_GRANTS)
        return -1;
    acl_grant_t *g = &acl->grants[acl->num_grants++];
    g->type = type;
    copy_str(g->id, sizeof(g->id), type == ACL_GRANTEE_USER ? id : NULL);
    copy_str(g->display_name, sizeof(g->display_name), type == ACL_GRANTEE_USER ? name : NULL);
    g->perm = perm;
    return 0;
}

/* ------------------------------------------------------------------ canned ACLs */

typedef enum canned_extra {
    CANNED_NONE,
    CANNED_PUBLIC_READ,
    CANNED_PUBLIC_READ_WRITE,
    CANNED_AUTHENTICATED_READ,
    CANNED_AWS_EXEC_READ,
    CANNED_BUCKET_OWNER_READ,
    CANNED_BUCKET_OWNER_FULL_CONTROL,
    CANNED_LOG_DELIVERY_WRITE,
} canned_extra_t;

static const struct {
    const char *name;
    canned_extra_t extra;
} canned_names[] = {
    {"private", CANNED_NONE},
    {"public-read", CANNED_PUBLIC_READ},
    {"public-read-write", CANNED_PUBLIC_READ_WRITE},
    {"authenticated-read", CANNED_AUTHENTICATED_READ},
    {"aws-exec-read", CANNED_AWS_EXEC_READ},
    {"bucket-owner-read", CANNED_BUCKET_OWNER_READ},
    {"bucket-owner-full-control", CANNED_BUCKET_OWNER_FULL_CONTROL},
    {"log-delivery-write", CANNED_LOG_DELIVERY_WRITE},
};

int acl_canned(const char *name, size_t name_len, const char *owner_id, const char *owner_name, const char *bucket_owner_id,
               const char *bucket_owner_name, acl_t *out)
{
    size_t i = 0, n = sizeof(canned_names) / sizeof(canned_names[0]);
    while (i < n && !(strlen(canned_names[i].name) == name_len && memcmp(canned_names[i].name, name, name_len) == 0))
        i++;
    if (i == n)
        return -EINVAL;
    acl_init(out, owner_id, owner_name);
    add_grant(out, ACL_GRANTEE_USER, out->owner_id, out->owner_name, ACL_FULL_CONTROL);
    /* the bucket owner's grant only where it adds someone: on a bucket there is no other owner */
    int other_bucket_owner = bucket_owner_id != NULL && strcmp(bucket_owner_id, out->owner_id) != 0;
    switch (canned_names[i].extra) {
    case CANNED_NONE:
        break;
    case CANNED_PUBLIC_READ:
        add_grant(out, ACL_GRANTEE_ALL_USERS, NULL, NULL, ACL_READ);
        break;
    case CANNED_PUBLIC_READ_WRITE:
        add_grant(out, ACL_GRANTEE_ALL_USERS, NULL, NULL, ACL_READ);
        add_grant(out, ACL_GRANTEE_ALL_USERS, NULL, NULL, ACL_WRITE);
        break;
    case CANNED_AUTHENTICATED_READ:
        add_grant(out, ACL_GRANTEE_AUTHENTICATED_USERS, NULL, NULL, ACL_READ);
        break;
    case CANNED_AWS_EXEC_READ:
        add_grant(out, ACL_GRANTEE_USER, EC2_ID, EC2_NAME, ACL_READ);
        break;
    case CANNED_BUCKET_OWNER_READ:
        if (other_bucket_owner)
            add_grant(out, ACL_GRANTEE_USER, bucket_owner_id, bucket_owner_name, ACL_READ);
        break;
    case CANNED_BUCKET_OWNER_FULL_CONTROL:
        if (other_bucket_owner)
            add_grant(out, ACL_GRANTEE_USER, bucket_owner_id, bucket_owner_name, ACL_FULL_CONTROL);
        break;
    case CANNED_LOG_DELIVERY_WRITE:
        add_grant(out, ACL_GRANTEE_LOG_DELIVERY, NULL, NULL, ACL_WRITE);
        add_grant(out, ACL_GRANTEE_LOG_DELIVERY, NULL, NULL, ACL_READ_ACP);
        break;
    }
    return 0;
}

/* ------------------------------------------------------------------ grantees */

/* Whether s holds a control character (none belongs in an id, an address or a URI). */
static int has_control(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return 1;
    }
    return 0;
}

/* Adds a user grant named by id (kind 'i') or e-mail address (kind 'e'), resolved. */
static acl_err_t add_user_grant(acl_t *acl, char kind, const char *value, size_t len, unsigned perm, acl_resolve_fn resolve,
                                void *ctx, const char **message)
{
    char id[ACL_ID_MAX + 1] = "", name[ACL_NAME_MAX + 1] = "";
    if (kind == 'i' && len == sizeof(EC2_ID) - 1 && memcmp(value, EC2_ID, len) == 0) {
        /* what aws-exec-read grants must survive a GetObjectAcl / PutObjectAcl round trip, resolver or not */
        memcpy(id, EC2_ID, sizeof(EC2_ID));
        memcpy(name, EC2_NAME, sizeof(EC2_NAME));
    } else if (kind == 'i') {
        if (len == 0 || len > ACL_ID_MAX || has_control(value, len) ||
            (resolve != NULL && resolve(ctx, 'i', value, len, id, name) != 0)) {
            *message = msg_invalid_id;
            return ACL_ERR_INVALID_ARGUMENT;
        }
        if (resolve == NULL) {
            memcpy(id, value, len);
            id[len] = '\0';
        }
    } else if (resolve == NULL || len == 0 || has_control(value, len) || resolve(ctx, 'e', value, len, id, name) != 0) {
        *message = msg_unresolvable;
        return ACL_ERR_UNRESOLVABLE_EMAIL;
    }
    if (add_grant(acl, ACL_GRANTEE_USER, id, name, perm) != 0) {
        *message = msg_too_many;
        return ACL_ERR_INVALID_ARGUMENT;
    }
    return ACL_OK;
}

/* Adds a group grant named by its URI. */
static acl_err_t add_group_grant(acl_t *acl, const char *uri, size_t len, unsigned perm, const char **message)
{
    acl_grantee_type_t type;
    if (group_from_uri(uri, len, &type) != 0) {
        *message = msg_invalid_uri;
        return ACL_ERR_INVALID_ARGUMENT;
    }
    if (add_grant(acl, type, NULL, NULL, perm) != 0) {
        *message = msg_too_many;
        return ACL_ERR_INVALID_ARGUMENT;
    }
    return ACL_OK;
}

/* ------------------------------------------------------------------ grant headers */

static const struct {
    const char *name;
    unsigned perm;
} grant_headers[] = {
    {ACL_HEADER_GRANT_READ, ACL_READ},
    {ACL_HEADER_GRANT_WRITE, ACL_WRITE},
    {ACL_HEADER_GRANT_READ_ACP, ACL_READ_ACP},
    {ACL_HEADER_GRANT_WRITE_ACP, ACL_WRITE_ACP},
    {ACL_HEADER_GRANT_FULL_CONTROL, ACL_FULL_CONTROL},
};

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static size_t skip_ows(const char *v, size_t len, size_t i)
{
    while (i < len && is_ows(v[i]))
        i++;
    return i;
}

/* Adds the grants one header value lists: key=value items, separated by commas. */
static acl_err_t parse_grant_header(const char *v, size_t len, unsigned perm, acl_resolve_fn resolve, void *ctx, acl_t *out,
                                    const char **message)
{
    size_t i = 0;
    for (;;) {
        i = skip_ows(v, len, i);
        size_t key = i;
        while (i < len && v[i] != '=' && v[i] != ',' && v[i] != '"' && !is_ows(v[i]))
            i++;
        size_t key_len = i - key;
        i = skip_ows(v, len, i);
        if (key_len == 0 || i == len || v[i] != '=')
            goto Malformed;
        i = skip_ows(v, len, i + 1);
        const char *value = v + i;
        size_t value_len;
        if (i < len && v[i] == '"') {
            const char *close = memchr(v + i + 1, '"', len - i - 1);
            if (close == NULL)
                goto Malformed;
            value = v + i + 1;
            value_len = (size_t)(close - value);
            i = (size_t)(close - v) + 1;
        } else {
            while (i < len && v[i] != ',' && v[i] != '"' && !is_ows(v[i]))
                i++;
            value_len = (size_t)(v + i - value);
        }
        i = skip_ows(v, len, i);
        if (value_len == 0 || (i < len && v[i] != ','))
            goto Malformed;
        acl_err_t err;
        if (key_len == 2 && strncasecmp(v + key, "id", 2) == 0)
            err = add_user_grant(out, 'i', value, value_len, perm, resolve, ctx, message);
        else if (key_len == 12 && strncasecmp(v + key, "emailAddress", 12) == 0)
            err = add_user_grant(out, 'e', value, value_len, perm, resolve, ctx, message);
        else if (key_len == 3 && strncasecmp(v + key, "uri", 3) == 0)
            err = add_group_grant(out, value, value_len, perm, message);
        else
            goto Malformed;
        if (err != ACL_OK)
            return err;
        if (i == len)
            return ACL_OK;
        ++i; /* the comma */
    }
Malformed:
    *message = msg_bad_header;
    return ACL_ERR_INVALID_ARGUMENT;
}

acl_err_t acl_from_grant_headers(acl_header_fn header, void *header_ctx, acl_resolve_fn resolve, void *resolve_ctx,
                                 const char *owner_id, const char *owner_name, acl_t *out, int *none, const char **message)
{
    acl_t *acl = NULL;
    *none = 1;
    *message = NULL;
    for (size_t h = 0; h < sizeof(grant_headers) / sizeof(grant_headers[0]); h++) {
        size_t len = 0;
        const char *v = header(header_ctx, grant_headers[h].name, &len);
        if (v == NULL)
            continue;
        if (acl == NULL) {
            acl = out;
            acl_init(acl, owner_id, owner_name);
            *none = 0;
        }
        acl_err_t err = parse_grant_header(v, len, grant_headers[h].perm, resolve, resolve_ctx, acl, message);
        if (err != ACL_OK)
            return err;
    }
    return ACL_OK;
}

acl_err_t acl_from_headers(acl_header_fn header, void *header_ctx, acl_resolve_fn resolve, void *resolve_ctx, const char *owner_id,
                           const char *owner_name, const char *bucket_owner_id, const char *bucket_owner_name, acl_t *out,
                           int *none, const char **message)
{
    size_t canned_len = 0;
    const char *canned = header(header_ctx, ACL_HEADER_CANNED, &canned_len);
    if (canned == NULL)
        return acl_from_grant_headers(header, header_ctx, resolve, resolve_ctx, owner_id, owner_name, out, none, message);
    *none = 1;
    *message = NULL;
    for (size_t h = 0; h < sizeof(grant_headers) / sizeof(grant_headers[0]); h++) {
        size_t len;
        if (header(header_ctx, grant_headers[h].name, &len) != NULL) {
            *message = msg_both;
            return ACL_ERR_INVALID_REQUEST;
        }
    }
    if (acl_canned(canned, canned_len, owner_id, owner_name, bucket_owner_id, bucket_owner_name, out) != 0) {
        *message = msg_bad_canned;
        return ACL_ERR_INVALID_ARGUMENT;
    }
    *none = 0;
    return ACL_OK;
}

/* ------------------------------------------------------------------ the document */

/* A grant as the shape pass found it: the element naming its grantee, and how it names it. */
typedef struct doc_grant {
    xmlNodePtr value; /* the Grantee's ID, EmailAddress or URI element */
    char kind;        /* 'i', 'e' or 'u' */
    unsigned perm;
} doc_grant_t;

typedef struct doc {
    xmlNodePtr owner_id;
    size_t num_grants;
    doc_grant_t grants[ACL_MAX_GRANTS];
} doc_t;

/* Finds parent's child elements named in names[] (at most one each, text only, into found[]); every other
 * child element is a breach of the shape. Returns 0 or -1. */
static int leaf_children(xmlNodePtr parent, const char *const *names, size_t num_names, xmlNodePtr *found)
{
    for (size_t k = 0; k < num_names; k++)
        found[k] = NULL;
    for (xmlNodePtr n = parent->children; n != NULL; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        size_t k = 0;
        while (k < num_names && !xml_is_element(n, names[k]))
            k++;
        if (k == num_names || found[k] != NULL || !xml_text_only(n))
            return -1;
        found[k] = n;
    }
    return 0;
}

/* Reads a Grantee: its xsi:type and the one element that names it. Returns 0 or -1. */
static int shape_grantee(xmlNodePtr grantee, doc_grant_t *g)
{
    static const char *const names[] = {"ID", "DisplayName", "EmailAddress", "URI"};
    xmlNodePtr found[4];
    if (leaf_children(grantee, names, 4, found) != 0)
        return -1;
    xmlChar *type = xmlGetNsProp(grantee, BAD_CAST "type", BAD_CAST XSI_NS);
    if (type == NULL)
        return -1;
    int ret = 0;
    if (xmlStrcmp(type, BAD_CAST "CanonicalUser") == 0)
        g->kind = 'i', g->value = found[0];
    else if (xmlStrcmp(type, BAD_CAST "AmazonCustomerByEmail") == 0)
        g->kind = 'e', g->value = found[2];
    else if (xmlStrcmp(type, BAD_CAST "Group") == 0)
        g->kind = 'u', g->value = found[3];
    else
        ret = -1;
    xmlFree(type);
    return ret == 0 && g->value != NULL ? 0 : -1;
}

/* Reads a Grant: exactly one Grantee and one Permission naming one of the five. Returns 0 or -1. */
static int shape_grant(xmlNodePtr grant, doc_grant_t *g)
{
    xmlNodePtr grantee = NULL, permission = NULL;
    for (xmlNodePtr n = grant->children; n != NULL; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        xmlNodePtr *slot = xml_is_element(n, "Grantee") ? &grantee : xml_is_element(n, "Permission") ? &permission : NULL;
        if (slot == NULL || *slot != NULL)
            return -1;
        *slot = n;
    }
    char perm[16];
    if (grantee == NULL || permission == NULL || !xml_text_only(permission) ||
        xml_trimmed_text(permission, perm, sizeof(perm) - 1) < 0 || perm_from_name(perm, &g->perm) != 0)
        return -1;
    return shape_grantee(grantee, g);
}

/* The shape pass over a whole document. Returns 0 or -1 (MalformedACLError). */
static int shape_doc(xmlDocPtr doc, doc_t *d)
{
    xmlNodePtr root = xmlDocGetRootElement(doc), owner = NULL, list = NULL;
    if (root == NULL || !xml_is_element(root, "AccessControlPolicy"))
        return -1;
    for (xmlNodePtr n = root->children; n != NULL; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        xmlNodePtr *slot = xml_is_element(n, "Owner") ? &owner : xml_is_element(n, "AccessControlList") ? &list : NULL;
        if (slot == NULL || *slot != NULL)
            return -1;
        *slot = n;
    }
    if (owner == NULL || list == NULL)
        return -1;
    static const char *const owner_names[] = {"ID", "DisplayName"};
    xmlNodePtr found[2];
    if (leaf_children(owner, owner_names, 2, found) != 0 || found[0] == NULL)
        return -1;
    d->owner_id = found[0];
    d->num_grants = 0;
    for (xmlNodePtr n = list->children; n != NULL; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (!xml_is_element(n, "Grant") || d->num_grants == ACL_MAX_GRANTS || shape_grant(n, &d->grants[d->num_grants]) != 0)
            return -1;
        d->num_grants++;
    }
    return 0;
}

/* An element's trimmed text into out (cap bytes); its length, or -1 when it does not fit (too long to be valid). */
static int doc_text(xmlNodePtr n, char *out, size_t cap)
{
    return xml_trimmed_text(n, out, cap - 1);
}

acl_err_t acl_parse_xml(const char *body, size_t len, const char *expected_owner_id, acl_resolve_fn resolve, void *ctx, acl_t *out,
                        const char **message)
{
    acl_err_t err = ACL_ERR_MALFORMED;
    doc_t d_storage, *d = &d_storage;
    xmlDocPtr doc = xml_read_doc(body, len, ACL_DOC_MAX, 0);
    *message = msg_malformed;
    if (doc == NULL)
        goto Exit;
    if (shape_doc(doc, d) != 0)
        goto Exit;

    char text[1024], name[ACL_NAME_MAX + 1] = "", owner_id[ACL_ID_MAX + 1];
    int text_len = doc_text(d->owner_id, text, ACL_ID_MAX + 1);
    if (expected_owner_id != NULL && (text_len < 0 || strcmp(text, expected_owner_id) != 0)) {
        err = ACL_ERR_ACCESS_DENIED;
        *message = msg_access_denied;
        goto Exit;
    }
    if (text_len <= 0 || has_control(text, (size_t)text_len)) {
        err = ACL_ERR_INVALID_ARGUMENT;
        *message = msg_invalid_id;
        goto Exit;
    }
    if (resolve != NULL && resolve(ctx, 'i', text, (size_t)text_len, owner_id, name) != 0) {
        if (expected_owner_id == NULL) { /* nobody vouched for this owner */
            err = ACL_ERR_INVALID_ARGUMENT;
            *message = msg_invalid_id;
            goto Exit;
        }
        name[0] = '\0';
    }
    acl_init(out, text, name);

    for (size_t i = 0; i < d->num_grants; i++) {
        const doc_grant_t *g = &d->grants[i];
        text_len = doc_text(g->value, text, sizeof(text));
        if (text_len < 0) /* longer than any id, address or URI we know: resolves to nothing */
            text_len = 0;
        err = g->kind == 'u' ? add_group_grant(out, text, (size_t)text_len, g->perm, message)
                             : add_user_grant(out, g->kind, text, (size_t)text_len, g->perm, resolve, ctx, message);
        if (err != ACL_OK)
            goto Exit;
    }
    err = ACL_OK;
    *message = NULL;
Exit:
    if (doc != NULL)
        xmlFreeDoc(doc);
    return err;
}

void acl_write_xml(xmlw_t *w, const acl_t *acl)
{
    xmlw_open(w, "AccessControlPolicy " S3_XMLNS);
    xmlw_open(w, "Owner");
    xmlw_elem_str(w, "ID", acl->owner_id);
    if (acl->owner_name[0] != '\0')
        xmlw_elem_str(w, "DisplayName", acl->owner_name);
    xmlw_close(w, "Owner");
    xmlw_open(w, "AccessControlList");
    for (size_t i = 0; i < acl->num_grants; i++) {
        const acl_grant_t *g = &acl->grants[i];
        xmlw_open(w, "Grant");
        if (g->type == ACL_GRANTEE_USER) {
            xmlw_open(w, GRANTEE_XSI "\"CanonicalUser\"");
            xmlw_elem_str(w, "ID", g->id);
            if (g->display_name[0] != '\0')
                xmlw_elem_str(w, "DisplayName", g->display_name);
        } else {
            xmlw_open(w, GRANTEE_XSI "\"Group\"");
            xmlw_elem_str(w, "URI", group_uri(g->type));
        }
        xmlw_close(w, "Grantee");
        const char *perm = acl_perm_name(g->perm);
        xmlw_elem_str(w, "Permission", perm != NULL ? perm : "");
        xmlw_close(w, "Grant");
    }
    xmlw_close(w, "AccessControlList");
    xmlw_close(w, "AccessControlPolicy");
}

/* ------------------------------------------------------------------ the stored form */

typedef struct writer {
    uint8_t *buf; /* borrowed; NULL once it proved too small */
    size_t cap, len;
} writer_t;

static void put_u8(writer_t *w, uint8_t v)
{
    if (w->buf != NULL && w->len < w->cap)
        w->buf[w->len] = v;
    w->len++;
}

static void put_str(writer_t *w, const char *s, size_t max)
{
    size_t len = strnlen(s, max);
    put_u8(w, (uint8_t)len);
    if (w->buf != NULL && w->len + len <= w->cap)
        memcpy(w->buf + w->len, s, len);
    w->len += len;
}

size_t acl_encode(const acl_t *acl, uint8_t *buf, size_t buf_len)
{
    writer_t w = {buf, buf_len, 0};
    size_t num_grants = acl->num_grants <= ACL_MAX_GRANTS ? acl->num_grants : ACL_MAX_GRANTS;
    put_u8(&w, ACL_ENCODING_VERSION);
    put_str(&w, acl->owner_id, ACL_ID_MAX);
    put_str(&w, acl->owner_name, ACL_NAME_MAX);
    put_u8(&w, (uint8_t)num_grants);
    for (size_t i = 0; i < num_grants; i++) {
        const acl_grant_t *g = &acl->grants[i];
        put_u8(&w, (uint8_t)g->type);
        put_u8(&w, (uint8_t)g->perm);
        if (g->type == ACL_GRANTEE_USER) {
            put_str(&w, g->id, ACL_ID_MAX);
            put_str(&w, g->display_name, ACL_NAME_MAX);
        }
    }
    /* a buffer too small holds a prefix at most: the caller is told the size and must not store it */
    return w.len;
}

typedef struct reader {
    const uint8_t *p, *end;
} reader_t;

static int get_u8(reader_t *r, unsigned *v)
{
    if (r->p == r->end)
        return -1;
    *v = *r->p++;
    return 0;
}

/* A length-prefixed string of at most max bytes (none of them NUL) into out (max + 1 bytes). */
static int get_str(reader_t *r, size_t max, size_t min, char *out)
{
    unsigned len;
    if (get_u8(r, &len) != 0 || len > max || len < min || (size_t)(r->end - r->p) < len || memchr(r->p, '\0', len) != NULL)
        return -1;
    memcpy(out, r->p, len);
    out[len] = '\0';
    r->p += len;
    return 0;
}

int acl_decode(const uint8_t *buf, size_t len, acl_t *out)
{
    reader_t r = {buf, buf + len};
    unsigned version, num_grants;
    if (len == 0 || get_u8(&r, &version) != 0 || version != ACL_ENCODING_VERSION ||
        get_str(&r, ACL_ID_MAX, 0, out->owner_id) != 0 || get_str(&r, ACL_NAME_MAX, 0, out->owner_name) != 0 ||
        get_u8(&r, &num_grants) != 0 || num_grants > ACL_MAX_GRANTS)
        return -EINVAL;
    out->num_grants = 0;
    for (unsigned i = 0; i < num_grants; i++) {
        acl_grant_t *g = &out->grants[i];
        unsigned type, perm;
        if (get_u8(&r, &type) != 0 || type > ACL_GRANTEE_LOG_DELIVERY || get_u8(&r, &perm) != 0 || acl_perm_name(perm) == NULL)
            return -EINVAL;
        g->type = (acl_grantee_type_t)type;
        g->perm = perm;
        g->id[0] = g->display_name[0] = '\0';
        if (g->type == ACL_GRANTEE_USER &&
            (get_str(&r, ACL_ID_MAX, 1, g->id) != 0 || get_str(&r, ACL_NAME_MAX, 0, g->display_name) != 0))
            return -EINVAL;
    }
    if (r.p != r.end)
        return -EINVAL;
    out->num_grants = num_grants;
    return 0;
}

int acl_decode_owner(const uint8_t *buf, size_t len, char owner_id[ACL_ID_MAX + 1])
{
    reader_t r = {buf, buf + len};
    unsigned version;
    if (len == 0 || get_u8(&r, &version) != 0 || version != ACL_ENCODING_VERSION || get_str(&r, ACL_ID_MAX, 0, owner_id) != 0)
        return -EINVAL;
    return 0;
}

/* ------------------------------------------------------------------ the check */

static unsigned permissions(const acl_t *acl, const char *requester_id, int public_grants)
{
    unsigned perm = 0;
    for (size_t i = 0; i < acl->num_grants; i++) {
        const acl_grant_t *g = &acl->grants[i];
        int applies = 0;
        switch (g->type) {
        case ACL_GRANTEE_USER:
            applies = requester_id != NULL && strcmp(g->id, requester_id) == 0;
            break;
        case ACL_GRANTEE_ALL_USERS:
            applies = public_grants;
            break;
        case ACL_GRANTEE_AUTHENTICATED_USERS:
            applies = public_grants && requester_id != NULL;
            break;
        case ACL_GRANTEE_LOG_DELIVERY:
            break; /* S3's log delivery service, never a requester here */
        }
        if (applies)
            perm |= g->perm;
    }
    return perm & ACL_FULL_CONTROL;
}

unsigned acl_permissions(const acl_t *acl, const char *requester_id)
{
    return permissions(acl, requester_id, 1);
}

unsigned acl_private_permissions(const acl_t *acl, const char *requester_id)
{
    return permissions(acl, requester_id, 0);
}

int acl_is_public(const acl_t *acl)
{
    for (size_t i = 0; i < acl->num_grants; i++) {
        if (acl->grants[i].type == ACL_GRANTEE_ALL_USERS || acl->grants[i].type == ACL_GRANTEE_AUTHENTICATED_USERS)
            return 1;
    }
    return 0;
}
