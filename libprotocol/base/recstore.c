/* recstore.c - records in memory up to a budget, then in chunks in an unnamed file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "recstore.h"

struct rst {
    unsigned refs; /* owners: rst_create gives one, rst_retain adds one */
    size_t elem;
    size_t mem_cap; /* records the memory part may hold */
    uint8_t *mem;   /* records [0, nmem) */
    size_t nmem, mem_alloc;
    size_t chunk; /* records per file chunk */
    char *dir;
    int fd;         /* -1 until the first chunk is written */
    int werr;       /* errno of a failed file creation or write: later records refused */
    uint64_t nfile; /* records in the file: [nmem, nmem + nfile) */
    uint8_t *wbuf;  /* records [nmem + nfile, nmem + nfile + nw) */
    size_t nw;
    uint8_t *rbuf;   /* the last chunk read back */
    uint64_t rfirst; /* file index of rbuf[0] */
    size_t rcount;   /* records in rbuf (0: none) */
};

struct rst *rst_create(size_t elem, size_t mem_bytes, const char *dir)
{
    if (elem == 0 || elem > RST_CHUNK_BYTES) {
        return NULL;
    }
    struct rst *st = calloc(1, sizeof(*st));
    if (!st) {
        return NULL;
    }
    st->refs = 1;
    st->elem = elem;
    st->mem_cap = (mem_bytes ? mem_bytes : RST_MEM_DEFAULT) / elem;
    st->mem_cap = st->mem_cap ? st->mem_cap : 1;
    st->chunk = RST_CHUNK_BYTES / elem;
    st->fd = -1;
    if (dir && !(st->dir = strdup(dir))) {
        free(st);
        return NULL;
    }
    return st;
}

struct rst *rst_retain(struct rst *st)
{
    st->refs++;
    return st;
}

void rst_destroy(struct rst *st)
{
    if (!st || --st->refs > 0) {
        return;
    }
    if (st->fd >= 0) {
        close(st->fd);
    }
    free(st->mem);
    free(st->wbuf);
    free(st->rbuf);
    free(st->dir);
    free(st);
}

/* An unnamed file in the store's directory: O_TMPFILE, or a unique name unlinked at once
 * where the file system lacks it. */
static int open_spill(const struct rst *st)
{
    const char *dir = st->dir ? st->dir : getenv("TMPDIR");
    dir = dir && *dir ? dir : "/tmp";
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)) {
        return fd;
    }
    char path[4096];
    if (snprintf(path, sizeof(path), "%s/recstore.XXXXXX", dir) >= (int)sizeof(path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    fd = mkostemp(path, O_CLOEXEC);
    if (fd >= 0) {
        unlink(path);
    }
    return fd;
}

/* Write the full write chunk at the end of the file. */
static int flush_chunk(struct rst *st)
{
    if (st->werr) { /* once the file failed, do not retry it for every record */
        errno = st->werr;
        return LP_E_IO;
    }
    if (st->fd < 0 && (st->fd = open_spill(st)) < 0) {
        st->werr = errno;
        return LP_E_IO;
    }
    size_t len = st->nw * st->elem;
    off_t off = (off_t)(st->nfile * st->elem);
    for (size_t done = 0; done < len;) {
        ssize_t w = pwrite(st->fd, st->wbuf + done, len - done, off + (off_t)done);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            st->werr = w < 0 ? errno : ENOSPC;
            return LP_E_IO;
        }
        done += (size_t)w;
    }
    st->nfile += st->nw;
    st->nw = 0;
    return 0;
}

static int append_mem(struct rst *st, const void *rec)
{
    if (st->nmem == st->mem_alloc) {
        size_t n = st->mem_alloc ? st->mem_alloc * 2 : 64;
        n = n > st->mem_cap ? st->mem_cap : n;
        uint8_t *p = realloc(st->mem, n * st->elem);
        if (!p) {
            return LP_E_NOMEM;
        }
        st->mem = p;
        st->mem_alloc = n;
    }
    memcpy(st->mem + st->nmem++ * st->elem, rec, st->elem);
    return 0;
}

int rst_append(struct rst *st, const void *rec)
{
    if (st->nmem < st->mem_cap) {
        return append_mem(st, rec);
    }
    if (!st->wbuf && !(st->wbuf = malloc(st->chunk * st->elem))) {
        return LP_E_NOMEM;
    }
    if (st->nw == st->chunk) {
        int rc = flush_chunk(st);
        if (rc < 0) {
            return rc;
        }
    }
    memcpy(st->wbuf + st->nw++ * st->elem, rec, st->elem);
    return 0;
}

uint64_t rst_count(const struct rst *st)
{
    return st->nmem + st->nfile + st->nw;
}

/* Load the chunk holding file record j into rbuf. 0 or LP_E_IO / LP_E_NOMEM. */
static int load_chunk(struct rst *st, uint64_t j)
{
    if (!st->rbuf && !(st->rbuf = malloc(st->chunk * st->elem))) {
        return LP_E_NOMEM;
    }
    uint64_t first = j - j % st->chunk;
    uint64_t left = st->nfile - first;
    size_t n = left < st->chunk ? (size_t)left : st->chunk;
    size_t len = n * st->elem;
    for (size_t done = 0; done < len;) {
        ssize_t r = pread(st->fd, st->rbuf + done, len - done, (off_t)(first * st->elem + done));
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            errno = r < 0 ? errno : EIO;
            st->rcount = 0;
            return LP_E_IO;
        }
        done += (size_t)r;
    }
    st->rfirst = first;
    st->rcount = n;
    return 0;
}

size_t rst_get(struct rst *st, uint64_t i, const void **out, int *err)
{
    if (err) {
        *err = 0;
    }
    if (i < st->nmem) {
        *out = st->mem + i * st->elem;
        return st->nmem - (size_t)i;
    }
    uint64_t j = i - st->nmem;
    if (j >= st->nfile) {
        uint64_t k = j - st->nfile;
        if (k >= st->nw) {
            return 0;
        }
        *out = st->wbuf + k * st->elem;
        return st->nw - (size_t)k;
    }
    if (st->rcount == 0 || j < st->rfirst || j >= st->rfirst + st->rcount) {
        int rc = load_chunk(st, j);
        if (rc < 0) {
            if (err) {
                *err = rc;
            }
            return 0;
        }
    }
    *out = st->rbuf + (j - st->rfirst) * st->elem;
    return st->rcount - (size_t)(j - st->rfirst);
}

size_t rst_mem_bytes(const struct rst *st)
{
    return (st->mem_alloc + (st->wbuf ? st->chunk : 0) + (st->rbuf ? st->chunk : 0)) * st->elem;
}

uint64_t rst_file_count(const struct rst *st)
{
    return st->nfile;
}
