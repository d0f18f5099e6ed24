/* main.c - owping, twping, owstats and powstream (one program, chosen by the name argv[0]
 * gives): parse the options, then hand over to out_main (out_run.c), which measures the
 * targets and reports, or to pow_run (powstream.c). Exit
 * status 0 when all went well, 1 when a threshold was crossed, 2 when a measurement failed
 * or the command line was wrong (the reason is on stderr). */
#include "out.h"
#include "powstream.h"

int main(int argc, char **argv)
{
    struct opts o;
    if (opts_prog_of(argv[0]) == OPTS_POWSTREAM) {
        struct pow_opts po;
        int rc = pow_parse(&po, argc, argv);
        return rc != 0 ? (rc > 0 ? 0 : 1) : pow_run(&po);
    }
    int rc = opts_parse(&o, argc, argv);
    if (rc != 0) {
        return rc > 0 ? OPTS_EXIT_OK : OPTS_EXIT_FAILED;
    }
    return out_main(&o);
}
