/* main.c - owping and twping (one program; twping when argv[0] names it): parse the options,
 * then test each target in turn on one event loop. Exit status 0 when every session ran,
 * 1 otherwise (the reason is on stderr). */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "crypto.h"

#include "client.h"

static void on_signal(struct loop *loop, int signo, void *arg)
{
    struct app *a = arg;
    (void)loop;
    (void)signo;
    a->interrupted = true;
}

/* One line, once per run, when the local clock is not synchronised. */
static void clock_notice(const struct opts *o)
{
    struct clk_state st;
    if (clk_state_read(&st) == 0 && !st.synced) {
        fprintf(stderr,
                "%s: local clock is not synchronised (NTP): one-way delays are marked unsync\n",
                o->prog);
    }
}

static int run_target(struct app *a, const char *target)
{
    const struct opts *o = a->o;
    if (o->light != OPTS_FULL) {
        return ping_light(a, target);
    }
    return o->proto == OPTS_TWAMP ? ping_twamp(a, target) : ping_owamp(a, target);
}

static int run(const struct opts *o)
{
    struct app a = {.o = o};
    if (cry_init() < 0) {
        fprintf(stderr, "%s: cannot initialise the crypto library\n", o->prog);
        return 1;
    }
    if (!(a.loop = loop_create())) {
        fprintf(stderr, "%s: cannot create the event loop\n", o->prog);
        return 1;
    }
    if (loop_add_signal(a.loop, SIGINT, on_signal, &a) < 0 ||
        loop_add_signal(a.loop, SIGTERM, on_signal, &a) < 0) {
        fprintf(stderr, "%s: cannot set up signal handling\n", o->prog);
        loop_destroy(a.loop);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    clock_notice(o);
    int failed = 0;
    for (unsigned i = 0; i < o->ntargets && !a.interrupted; i++) {
        failed |= run_target(&a, o->targets[i]);
    }
    loop_destroy(a.loop);
    return failed || a.interrupted ? 1 : 0;
}

int main(int argc, char **argv)
{
    struct opts o;
    int rc = opts_parse(&o, argc, argv);
    if (rc != 0) {
        return rc > 0 ? 0 : 1;
    }
    return run(&o);
}
