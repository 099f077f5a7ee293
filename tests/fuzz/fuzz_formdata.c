/* tests/fuzz/fuzz_formdata.c -- the multipart/form-data parser of browser-form uploads (PostObject).
 *
 * DESIGN: the input is a flag byte, the Content-Type header on one line, then the body. Bits 0-1 of
 * the flags choose the limit formdata_parse_head gets on the data before the file: the server's
 * 20 KiB, 64 bytes, 512 bytes, or none. The steps run as server/ops_post.c runs them:
 * formdata_boundary, formdata_parse_head, the field lookups, then formdata_parse_rest over the whole
 * body; formdata_parse (both steps, no limit) runs beside them as the reference. Seeds are forms as
 * a browser and curl send them (AWS's SigV4 PostObject example form with its policy), quoted and
 * escaped names, a preamble and an epilogue, parts after the file, a second file, no file, a
 * truncated body. Beyond the sanitizers: every name, value and the file's data are slices of the
 * body or of the form's scratch space, and a head that parses within a limit parses the same
 * without one (the limit may only refuse, never change the result). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/formdata.h"
#include "tests/fuzz/fuzz_input.h"

#define SERVER_PRE_DATA_MAX (20 * 1024) /* ops_post.c: POST_PRE_DATA_MAX */

static const size_t limits[] = {SERVER_PRE_DATA_MAX, 64, 512, (size_t)-1};

static int part_inside(const formdata_t *fd, const char *s, size_t len, const char *body, size_t body_len)
{
    return s == NULL || fuzz_within(s, len, body, body_len) || fuzz_within(s, len, fd->scratch, sizeof(fd->scratch));
}

static void check_form(const formdata_t *fd, const char *body, size_t len)
{
    if (fd->num_fields > FORMDATA_MAX_FIELDS || fd->scratch_used > sizeof(fd->scratch))
        abort();
    for (size_t i = 0; i <= fd->num_fields; i++) {
        const formdata_part_t *p = i < fd->num_fields ? &fd->fields[i] : &fd->file;
        if (p->name == NULL || !part_inside(fd, p->name, p->name_len, body, len) ||
            !part_inside(fd, p->filename, p->filename_len, body, len) ||
            !part_inside(fd, p->content_type, p->content_type_len, body, len) || !fuzz_within(p->data, p->data_len, body, len))
            abort();
    }
}

static int same_head(const formdata_t *a, const formdata_t *b)
{
    if (a->num_fields != b->num_fields || a->file_offset != b->file_offset || a->file.name_len != b->file.name_len)
        return 0;
    for (size_t i = 0; i < a->num_fields; i++) {
        if (a->fields[i].data != b->fields[i].data || a->fields[i].data_len != b->fields[i].data_len ||
            a->fields[i].name_len != b->fields[i].name_len)
            return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input_t in = {data, size};
    uint8_t flags = fuzz_byte(&in);
    size_t ct_len, len, boundary_len;
    const char *ct_line = fuzz_line(&in, &ct_len);
    const char *rest = fuzz_rest(&in, &len);
    char *content_type = fuzz_dup(ct_line, ct_len), *body = fuzz_dup(rest, len);
    const char *boundary;
    size_t limit = limits[flags & 3];

    if (formdata_boundary(content_type, ct_len, &boundary, &boundary_len) != 0)
        goto Exit;
    if (boundary_len == 0 || boundary_len > FORMDATA_BOUNDARY_MAX || !fuzz_within(boundary, boundary_len, content_type, ct_len))
        abort();

    formdata_t *fd = malloc(sizeof(*fd)), *whole = malloc(sizeof(*whole));
    if (fd == NULL || whole == NULL)
        abort();
    formdata_status_t head = formdata_parse_head(fd, body, len, boundary, boundary_len, limit);
    formdata_status_t all = formdata_parse(whole, body, len, boundary, boundary_len);
    if (head == FORMDATA_OK) {
        check_form(fd, body, len);
        formdata_field(fd, "key");
        formdata_field(fd, "policy");
        if (!same_head(fd, whole))
            abort();
        formdata_status_t rest_st = formdata_parse_rest(fd, body, len);
        if (rest_st != all)
            abort();
        if (rest_st == FORMDATA_OK) {
            check_form(fd, body, len);
            if (fd->file.data_len != whole->file.data_len)
                abort();
        }
    } else if (head != FORMDATA_TOO_LARGE && head != all) {
        abort(); /* a limit may make the head too large, never otherwise different */
    }
    free(whole);
    free(fd);
Exit:
    free(body);
    free(content_type);
    return 0;
}
