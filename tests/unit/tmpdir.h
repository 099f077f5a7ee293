/* tests/unit/tmpdir.h -- a fresh directory per test (under $TMPDIR, else /tmp), removed with all it holds. */
#ifndef COFFER_TEST_TMPDIR_H
#define COFFER_TEST_TMPDIR_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static inline int tmpdir_rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/** Creates $TMPDIR/coffer-<name>-XXXXXX into root (root_len bytes). Returns 0 or -1. */
static inline int tmpdir_make(char *root, size_t root_len, const char *name)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(root, root_len, "%s/coffer-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", name);
    return mkdtemp(root) != NULL ? 0 : -1;
}

/** Removes path and everything under it. Returns 0 or -1. */
static inline int tmpdir_remove(const char *path)
{
    return nftw(path, tmpdir_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
