/* server.h - the daemon core shared by owampd and twampd: command line and configuration,
 * listening sockets, control connections on one event loop, policy (modes, identities,
 * limits, third-party addresses), test sessions, signals, privileges. The two daemons differ
 * only by the table of protocol operations they pass to srv_main. */
#ifndef LP_SERVER_H
#define LP_SERVER_H

#include "ctrl.h"

struct srv_conn;

/* What differs between the OWAMP and the TWAMP daemon. Each handler answers the event on the
 * connection's control channel; a negative return closes the connection. */
struct srv_ops {
    enum wire_proto proto;
    const char *name;         /* program name: "owampd" */
    const char *conf_name;    /* configuration file prefix: "owamp" */
    const char *default_port; /* "861" */
    uint32_t features;        /* Modes feature bits offered besides the security modes */
    int (*request)(struct srv_conn *c, const struct ctrl_event *ev);
    int (*start)(struct srv_conn *c);
    int (*stop)(struct srv_conn *c, const struct ctrl_event *ev);
    int (*fetch)(struct srv_conn *c, const struct ctrl_event *ev);     /* NULL if none */
    int (*nsessions)(struct srv_conn *c, const struct ctrl_event *ev); /* NULL if none */
};

extern const struct srv_ops srv_owamp_ops;
extern const struct srv_ops srv_twamp_ops;

/* Run a daemon: parse argv, load the configuration, listen, serve until SIGTERM. Returns the
 * process exit status. */
int srv_main(int argc, char **argv, const struct srv_ops *ops);

#endif
