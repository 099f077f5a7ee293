/* storage/fsdir.h -- creating the directories storage keeps its files in. */
#ifndef COFFER_FSDIR_H
#define COFFER_FSDIR_H

/** Creates directory path (mode 0700) unless it exists; *made tells which. Returns 0 or -errno. */
int fsdir_make(const char *path, int *made);

/** Creates path and every missing parent (mode 0700). Returns 0 or -errno. */
int fsdir_make_parents(const char *path);

#endif
