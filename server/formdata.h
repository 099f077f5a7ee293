/* server/formdata.h -- multipart/form-data (RFC 7578) over a body held whole in memory, as pure functions.
 *
 * DESIGN: a browser-form upload (PostObject) is a handful of small fields,
 * then the part named "file", then possibly more parts that S3 ignores. The
 * parser works in two steps so a server can split them: formdata_parse_head
 * reads the fields and the file part's headers, looking at no more than
 * max_pre_data bytes (cheap enough for an event loop, whatever the body's
 * size); formdata_parse_rest finds where the file ends (a scan of the whole
 * body, for a worker thread) and checks that what follows is well-formed.
 * Nothing is copied: names, values and the file's data are slices of the
 * input, except a quoted name or filename holding backslash escapes, which
 * is unescaped into the formdata_t itself. Anything that is not well-formed
 * multipart is refused rather than guessed at.
 */
#ifndef COFFER_FORMDATA_H
#define COFFER_FORMDATA_H

#include <stddef.h>

#define FORMDATA_BOUNDARY_MAX 70 /* RFC 2046 */
#define FORMDATA_MAX_FIELDS 256
#define FORMDATA_SCRATCH_LEN 4096

/** One part. Pointers are borrowed from the input (or from the owning formdata_t's scratch). */
typedef struct formdata_part {
    const char *name; /* the Content-Disposition name, as sent (compare it case-insensitively) */
    size_t name_len;
    const char *filename; /* the filename parameter as sent (a browser may send a path), or NULL when absent */
    size_t filename_len;
    const char *content_type; /* the part's Content-Type value, or NULL when absent */
    size_t content_type_len;
    const char *data; /* the part's content */
    size_t data_len;
} formdata_part_t;

typedef enum formdata_status {
    FORMDATA_OK = 0,
    FORMDATA_MALFORMED,  /* not well-formed multipart/form-data */
    FORMDATA_TOO_LARGE,  /* the parts before the file take more than max_pre_data bytes or FORMDATA_MAX_FIELDS parts */
    FORMDATA_NO_FILE,    /* well-formed, but no part is named "file" */
    FORMDATA_MANY_FILES, /* a second part named "file" follows the first */
} formdata_status_t;

/** A parsed form. Large (over 20 KiB): embed it in memory the caller owns, never on a small stack. */
typedef struct formdata {
    char delim[4 + FORMDATA_BOUNDARY_MAX]; /* "\r\n--" + boundary */
    size_t delim_len;
    size_t num_fields;
    formdata_part_t fields[FORMDATA_MAX_FIELDS]; /* the parts before the file, in order */
    formdata_part_t file;                        /* data_len is set by formdata_parse_rest */
    size_t file_offset;                          /* where the file's data starts in the body */
    size_t scratch_used;
    char scratch[FORMDATA_SCRATCH_LEN];
} formdata_t;

/**
 * Finds the boundary in a Content-Type header value: "multipart/form-data" (any case) with a
 * boundary parameter, quoted or not, of 1..70 characters RFC 2046 allows. *boundary points into
 * content_type. Returns 0, or -1 when the type is another one or the boundary is missing or invalid.
 */
int formdata_boundary(const char *content_type, size_t len, const char **boundary, size_t *boundary_len);

/**
 * Parses the body up to the start of the file's data, looking at no more than its first
 * max_pre_data bytes. Returns FORMDATA_OK (fd->fields and fd->file's headers are set),
 * FORMDATA_NO_FILE, FORMDATA_TOO_LARGE or FORMDATA_MALFORMED.
 */
formdata_status_t formdata_parse_head(formdata_t *fd, const char *body, size_t len, const char *boundary, size_t boundary_len,
                                      size_t max_pre_data);

/**
 * After a successful formdata_parse_head on the same body: finds the end of the file's data
 * (fd->file.data_len) and checks the parts after it (ignored) through the closing delimiter.
 * Returns FORMDATA_OK, FORMDATA_MANY_FILES or FORMDATA_MALFORMED.
 */
formdata_status_t formdata_parse_rest(formdata_t *fd, const char *body, size_t len);

/** Both steps at once, with no limit on the data before the file. */
formdata_status_t formdata_parse(formdata_t *fd, const char *body, size_t len, const char *boundary, size_t boundary_len);

/** The first field before the file whose name equals name (ASCII case-insensitive), or NULL. */
const formdata_part_t *formdata_field(const formdata_t *fd, const char *name);

#endif
