/* savefile.h - a file written under a temporary name and put in place only when complete,
 * so a reader (owstats, pScheduler, a copy) never sees half of it and a full disk leaves no
 * file cut short. A special file (a FIFO, /dev/stdout) is written in place. */
#ifndef OWPING_SAVEFILE_H
#define OWPING_SAVEFILE_H

#include <stdbool.h>
#include <stdio.h>

struct save_file {
    char path[4096], tmp[4096];
    FILE *f;     /* NULL when not open */
    bool direct; /* written in place */
};

/* Open path + suffix for writing (suffix ".tmp", ".i"...). The stream, or NULL after
 * printing why (prog: the program's name). */
FILE *save_open(struct save_file *sf, const char *path, const char *suffix, const char *prog);

/* Close and rename to the final name. 0, or -1 after printing why (the temporary file is
 * removed). */
int save_commit(struct save_file *sf, const char *prog);

/* Close and remove the temporary file (nothing when not open). */
void save_abort(struct save_file *sf);

#endif
