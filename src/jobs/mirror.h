/* mirror.h -- private: -o in crawl mode: each page's body under DIR at a path made
 * from its URL, DIR/host_port/seg/.../file. Every component is reduced to
 * [A-Za-z0-9._-] (no leading dot, at most 200 bytes), a path ending in "/" gets
 * index.html, a query becomes part of the file name, and directories are created and
 * opened relative to DIR with O_NOFOLLOW: nothing the server sends can reach outside
 * DIR. Files are never overwritten (numbered suffixes). */
#ifndef ACR_JOBS_MIRROR_H
#define ACR_JOBS_MIRROR_H

/* Opens a new file for url's body under dirfd. The fd, with *saved (allocated) the
 * path relative to DIR; or -errno (ENOTDIR when a file stands where a directory must
 * go: the caller falls back to a flat name). */
int acr_mirror_open(int dirfd, const char *url, char **saved);

#endif
