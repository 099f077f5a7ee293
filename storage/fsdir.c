/* storage/fsdir.c -- directory creation shared by the metadata store and the chunk directories. */
#include "storage/fsdir.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int fsdir_make(const char *path, int *made)
{
    if (mkdir(path, 0700) == 0) {
        *made = 1;
        return 0;
    }
    return errno == EEXIST ? 0 : -errno;
}

int fsdir_make_parents(const char *path)
{
    char *p = strdup(path);
    int ret = 0, made = 0;
    if (p == NULL)
        abort();
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;
            *s = '\0';
            if ((ret = fsdir_make(p, &made)) != 0)
                break;
            *s = c;
            if (c == '\0')
                break;
        }
    }
    free(p);
    return ret;
}
