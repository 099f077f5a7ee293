/* server/formdata.c -- multipart/form-data over a body held whole in memory.
 *
 * DESIGN: the body is a sequence of parts, each opened by a delimiter line
 * ("--" boundary, optional spaces, CRLF; the first may follow a preamble),
 * then header lines, an empty line and the content, which ends right before
 * the next "\r\n--" boundary. "--" boundary "--" closes the body; what follows
 * (the epilogue) is ignored, as RFC 2046 says. Lines end in CRLF only: a bare
 * LF, a folded header line or a header without a colon is malformed. Every
 * part needs a Content-Disposition of type form-data with a name parameter.
 *
 * All searches are bounded by a limit, so formdata_parse_head never looks
 * past max_pre_data however large the body is; when something it needs is
 * not within that limit it answers FORMDATA_TOO_LARGE if the body goes on
 * past the limit, FORMDATA_MALFORMED if the body simply ends.
 *
 * Quoted parameter values: HTML browsers and curl percent-encode '"' (and
 * CR, LF) and send backslashes literally, older clients escape '"' and '\'
 * with a backslash. Only those two escapes are undone here, so a Windows
 * path in a filename keeps its backslashes.
 */
#include "server/formdata.h"
#include "auth/text.h"

#include <string.h>

/* What the scanners report besides the public statuses. */
enum {
    STEP_NEXT = 100, /* a delimiter line was read; a part follows */
    STEP_CLOSE,      /* the close delimiter was read */
    STEP_INCOMPLETE, /* the limit was reached before the construct ended */
};

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* RFC 9110 tchar */
static int is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* RFC 2046 bchars (the space is allowed except as the last character) */
static int is_bchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("'()+_,-./:=? ", c) != NULL);
}

/* ------------------------------------------------------------------ header parameters */

typedef struct param {
    const char *name;
    size_t name_len;
    const char *value; /* raw: inside the quotes for a quoted string, escapes not undone */
    size_t value_len;
    int escaped; /* the quoted value holds \" or \\ escapes */
} param_t;

/* Reads a token at *p. Returns its length (0 when there is none). */
static size_t read_token(const char **p, const char *end)
{
    const char *s = *p;
    while (*p < end && is_tchar((unsigned char)**p))
        (*p)++;
    return (size_t)(*p - s);
}

/* Reads "; name=value" at *pp. Returns 1 with a parameter, 0 at the end of the value, -1 when malformed. */
static int next_param(const char **pp, const char *end, param_t *out)
{
    const char *p = *pp;

    while (p < end && is_ows(*p))
        p++;
    if (p == end)
        return 0;
    if (*p++ != ';')
        return -1;
    while (p < end && is_ows(*p))
        p++;
    if (p == end) { /* a trailing ';' */
        *pp = p;
        return 0;
    }
    out->name = p;
    if ((out->name_len = read_token(&p, end)) == 0)
        return -1;
    while (p < end && is_ows(*p))
        p++;
    if (p == end || *p++ != '=')
        return -1;
    while (p < end && is_ows(*p))
        p++;
    out->escaped = 0;
    if (p < end && *p == '"') {
        out->value = ++p;
        for (;;) {
            if (p == end)
                return -1; /* unterminated */
            if (*p == '"')
                break;
            if (*p == '\\' && end - p >= 2 && (p[1] == '"' || p[1] == '\\')) {
                out->escaped = 1;
                p += 2;
                continue;
            }
            if (*p == '\r' || *p == '\n')
                return -1;
            p++;
        }
        out->value_len = (size_t)(p - out->value);
        p++;
    } else {
        out->value = p;
        if ((out->value_len = read_token(&p, end)) == 0)
            return -1;
    }
    *pp = p;
    return 1;
}

/* Undoes a quoted value's escapes into fd's scratch. Returns the copy, or NULL when the scratch is full. */
static const char *unescape(formdata_t *fd, const char *v, size_t len, size_t *out_len)
{
    char *dst = fd->scratch + fd->scratch_used;
    size_t n = 0;

    if (len > sizeof(fd->scratch) - fd->scratch_used)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        if (v[i] == '\\' && i + 1 < len && (v[i + 1] == '"' || v[i + 1] == '\\'))
            i++;
        dst[n++] = v[i];
    }
    fd->scratch_used += n;
    *out_len = n;
    return dst;
}

int formdata_boundary(const char *content_type, size_t len, const char **boundary, size_t *boundary_len)
{
    static const char type[] = "multipart/form-data";
    const char *p = content_type, *end = content_type + len;
    const char *b = NULL;
    size_t b_len = 0;
    param_t prm;
    int rc;

    while (p < end && is_ows(*p))
        p++;
    if ((size_t)(end - p) < sizeof(type) - 1 || !text_ieq_str(p, sizeof(type) - 1, type))
        return -1;
    p += sizeof(type) - 1;
    if (p < end && !is_ows(*p) && *p != ';')
        return -1; /* "multipart/form-dataX" */
    while ((rc = next_param(&p, end, &prm)) == 1) {
        if (!text_ieq_str(prm.name, prm.name_len, "boundary"))
            continue;
        if (b != NULL || prm.escaped)
            return -1;
        b = prm.value;
        b_len = prm.value_len;
    }
    if (rc < 0 || b == NULL || b_len == 0 || b_len > FORMDATA_BOUNDARY_MAX || b[b_len - 1] == ' ')
        return -1;
    for (size_t i = 0; i < b_len; i++) {
        if (!is_bchar((unsigned char)b[i]))
            return -1;
    }
    *boundary = b;
    *boundary_len = b_len;
    return 0;
}

/* ------------------------------------------------------------------ parts */

/* Parses a Content-Disposition value into part's name and filename; unescaped copies go to fd's scratch when keep. */
static int parse_disposition(formdata_t *fd, const char *v, size_t len, formdata_part_t *part, int keep)
{
    const char *p = v, *end = v + len;
    param_t prm;
    int rc, have_name = 0, have_filename = 0;

    if (!text_ieq_str(v, read_token(&p, end), "form-data"))
        return -1;
    while ((rc = next_param(&p, end, &prm)) == 1) {
        const char **dst;
        size_t *dst_len;
        if (text_ieq_str(prm.name, prm.name_len, "name")) {
            if (have_name++)
                return -1;
            dst = &part->name;
            dst_len = &part->name_len;
        } else if (text_ieq_str(prm.name, prm.name_len, "filename")) {
            if (have_filename++)
                return -1;
            dst = &part->filename;
            dst_len = &part->filename_len;
        } else {
            continue; /* filename*, size, ...: not used by S3 */
        }
        if (prm.escaped && keep) {
            if ((*dst = unescape(fd, prm.value, prm.value_len, dst_len)) == NULL)
                return -1;
        } else {
            /* Unkept escaped values are only compared with "file", which has no escapable character. */
            *dst = prm.value;
            *dst_len = prm.value_len;
        }
    }
    return rc < 0 || !have_name ? -1 : 0;
}

/*
 * Parses a part's header block starting at body[*pos] and ending with an empty line, all before limit.
 * On success *pos is where the part's content starts. Returns 0, FORMDATA_MALFORMED or STEP_INCOMPLETE.
 */
static int parse_part_headers(formdata_t *fd, const char *body, size_t limit, size_t *pos, formdata_part_t *part, int keep)
{
    int have_disposition = 0, have_type = 0;

    memset(part, 0, sizeof(*part));
    for (;;) {
        const char *line = body + *pos;
        const char *eol = memmem(line, limit - *pos, "\r\n", 2);
        if (eol == NULL)
            return STEP_INCOMPLETE;
        size_t line_len = (size_t)(eol - line);
        *pos += line_len + 2;
        if (line_len == 0)
            break;
        const char *colon = memchr(line, ':', line_len);
        if (colon == NULL || colon == line || memchr(line, '\n', line_len) != NULL || memchr(line, '\r', line_len) != NULL)
            return FORMDATA_MALFORMED;
        for (const char *c = line; c < colon; c++) {
            if (!is_tchar((unsigned char)*c))
                return FORMDATA_MALFORMED; /* a folded line starts with a space */
        }
        const char *v = colon + 1, *v_end = eol;
        while (v < v_end && is_ows(*v))
            v++;
        while (v_end > v && is_ows(v_end[-1]))
            v_end--;
        size_t name_len = (size_t)(colon - line), v_len = (size_t)(v_end - v);
        if (text_ieq_str(line, name_len, "content-disposition")) {
            if (have_disposition++ || parse_disposition(fd, v, v_len, part, keep) != 0)
                return FORMDATA_MALFORMED;
        } else if (text_ieq_str(line, name_len, "content-type")) {
            if (have_type++)
                return FORMDATA_MALFORMED;
            part->content_type = v;
            part->content_type_len = v_len;
        }
    }
    return have_disposition ? 0 : FORMDATA_MALFORMED;
}

/* Reads what follows a delimiter at body[*pos]: "--" (close) or optional spaces and CRLF. */
static int after_delimiter(const char *body, size_t limit, size_t *pos)
{
    size_t p = *pos;

    if (limit - p >= 2 && body[p] == '-' && body[p + 1] == '-') {
        *pos = p + 2;
        return STEP_CLOSE;
    }
    while (p < limit && is_ows(body[p]))
        p++;
    if (limit - p < 2)
        return STEP_INCOMPLETE;
    if (body[p] != '\r' || body[p + 1] != '\n')
        return FORMDATA_MALFORMED;
    *pos = p + 2;
    return STEP_NEXT;
}

/* The offset of the next "\r\n--boundary" at or after from, before limit; or (size_t)-1. */
static size_t find_delim(const formdata_t *fd, const char *body, size_t from, size_t limit)
{
    const char *d;

    if (limit - from < fd->delim_len)
        return (size_t)-1;
    d = memmem(body + from, limit - from, fd->delim, fd->delim_len);
    return d != NULL ? (size_t)(d - body) : (size_t)-1;
}

static int is_file_part(const formdata_part_t *part)
{
    return text_ieq_str(part->name, part->name_len, "file");
}

formdata_status_t formdata_parse_head(formdata_t *fd, const char *body, size_t len, const char *boundary, size_t boundary_len,
                                      size_t max_pre_data)
{
    size_t limit = len < max_pre_data ? len : max_pre_data, pos, d;
    formdata_status_t incomplete = len > limit ? FORMDATA_TOO_LARGE : FORMDATA_MALFORMED;
    int rc;

    if (boundary_len == 0 || boundary_len > FORMDATA_BOUNDARY_MAX)
        return FORMDATA_MALFORMED;
    memcpy(fd->delim, "\r\n--", 4);
    memcpy(fd->delim + 4, boundary, boundary_len);
    fd->delim_len = 4 + boundary_len;
    fd->num_fields = 0;
    fd->scratch_used = 0;
    fd->file_offset = 0;
    memset(&fd->file, 0, sizeof(fd->file));

    /* The first delimiter opens the body or ends a preamble. */
    if (limit >= fd->delim_len - 2 && memcmp(body, fd->delim + 2, fd->delim_len - 2) == 0) {
        pos = fd->delim_len - 2;
    } else {
        if ((d = find_delim(fd, body, 0, limit)) == (size_t)-1)
            return incomplete;
        pos = d + fd->delim_len;
    }
    for (;;) {
        formdata_part_t part;
        if ((rc = after_delimiter(body, limit, &pos)) == STEP_CLOSE)
            return FORMDATA_NO_FILE;
        if (rc != STEP_NEXT)
            return rc == STEP_INCOMPLETE ? incomplete : FORMDATA_MALFORMED;
        if ((rc = parse_part_headers(fd, body, limit, &pos, &part, 1)) != 0)
            return rc == STEP_INCOMPLETE ? incomplete : FORMDATA_MALFORMED;
        part.data = body + pos;
        if (is_file_part(&part)) {
            fd->file = part;
            fd->file_offset = pos;
            return FORMDATA_OK;
        }
        if ((d = find_delim(fd, body, pos, limit)) == (size_t)-1)
            return incomplete;
        if (fd->num_fields == FORMDATA_MAX_FIELDS)
            return FORMDATA_TOO_LARGE;
        part.data_len = d - pos;
        fd->fields[fd->num_fields++] = part;
        pos = d + fd->delim_len;
    }
}

formdata_status_t formdata_parse_rest(formdata_t *fd, const char *body, size_t len)
{
    size_t pos = fd->file_offset, d;
    int rc;

    if (fd->file.name == NULL || pos > len || (d = find_delim(fd, body, pos, len)) == (size_t)-1)
        return FORMDATA_MALFORMED;
    fd->file.data_len = d - pos;
    pos = d + fd->delim_len;
    /* S3 ignores the parts after the file; they must still be well-formed, and not a second file. */
    for (;;) {
        formdata_part_t part;
        if ((rc = after_delimiter(body, len, &pos)) == STEP_CLOSE)
            return FORMDATA_OK;
        if (rc != STEP_NEXT || parse_part_headers(fd, body, len, &pos, &part, 0) != 0)
            return FORMDATA_MALFORMED;
        if (is_file_part(&part))
            return FORMDATA_MANY_FILES;
        if ((d = find_delim(fd, body, pos, len)) == (size_t)-1)
            return FORMDATA_MALFORMED;
        pos = d + fd->delim_len;
    }
}

formdata_status_t formdata_parse(formdata_t *fd, const char *body, size_t len, const char *boundary, size_t boundary_len)
{
    formdata_status_t st = formdata_parse_head(fd, body, len, boundary, boundary_len, (size_t)-1);
    return st != FORMDATA_OK ? st : formdata_parse_rest(fd, body, len);
}

const formdata_part_t *formdata_field(const formdata_t *fd, const char *name)
{
    for (size_t i = 0; i < fd->num_fields; i++) {
        if (text_ieq_str(fd->fields[i].name, fd->fields[i].name_len, name))
            return &fd->fields[i];
    }
    return NULL;
}
