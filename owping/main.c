/* main.c - owping and twping (one program; twping when argv[0] names it): parse the options,
 * then hand over to out_main (out_run.c), which measures the targets and reports. Exit
 * status 0 when all went well, 1 when a threshold was crossed, 2 when a measurement failed
 * or the command line was wrong (the reason is on stderr). */
#include "out.h"

int main(int argc, char **argv)
{
    struct opts o;
    int rc = opts_parse(&o, argc, argv);
    if (rc != 0) {
        return rc > 0 ? OPTS_EXIT_OK : OPTS_EXIT_FAILED;
    }
    return out_main(&o);
}
