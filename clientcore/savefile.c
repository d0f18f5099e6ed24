/* savefile.c - files put in place once complete (see savefile.h). */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "savefile.h"

/* Whether path names something other than a regular file: written in place, since it
 * cannot be replaced by a rename. */
static bool special_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && !S_ISREG(st.st_mode);
}

FILE *save_open(struct save_file *sf, const char *path, const char *suffix, const char *prog)
{
    memset(sf, 0, sizeof(*sf));
    sf->direct = special_file(path);
    int n = snprintf(sf->path, sizeof(sf->path), "%s", path);
    int m = snprintf(sf->tmp, sizeof(sf->tmp), "%s%s", path, sf->direct ? "" : suffix);
    if (n < 0 || m < 0 || (size_t)n >= sizeof(sf->path) || (size_t)m >= sizeof(sf->tmp)) {
        fprintf(stderr, "%s: cannot write %s: %s\n", prog, path, strerror(ENAMETOOLONG));
        return NULL;
    }
    if (!(sf->f = fopen(sf->tmp, "w"))) {
        fprintf(stderr, "%s: cannot write %s: %s\n", prog, sf->tmp, strerror(errno));
    }
    return sf->f;
}

int save_commit(struct save_file *sf, const char *prog)
{
    int err = 0;
    if (!sf->f) {
        return -1;
    }
    if (fflush(sf->f) != 0 || ferror(sf->f)) {
        err = errno ? errno : EIO;
    }
    if (fclose(sf->f) != 0 && !err) {
        err = errno;
    }
    sf->f = NULL;
    if (!err && !sf->direct && rename(sf->tmp, sf->path) < 0) {
        err = errno;
    }
    if (err) {
        if (!sf->direct) {
            unlink(sf->tmp);
        }
        fprintf(stderr, "%s: cannot write %s: %s\n", prog, sf->path, strerror(err));
        return -1;
    }
    return 0;
}

void save_abort(struct save_file *sf)
{
    if (sf->f) {
        fclose(sf->f);
        sf->f = NULL;
        if (!sf->direct) {
            unlink(sf->tmp);
        }
    }
}
