/* owamp.h - one OWAMP test over one control connection (owamp.c), in phases: owping runs
 * them in a row; powstream sets up its next test while the sessions of the current one run,
 * so that they follow each other on one schedule. */
#ifndef OWPING_OWAMP_H
#define OWPING_OWAMP_H

#include "client.h"
#include "savefile.h"

/* One direction of the test. */
struct ow_dir {
    struct sess *sess;
    bool started, sent, finalized;
    uint32_t covered; /* once finalized: the records cover sequence numbers [0, covered) */
    uint8_t sid[WIRE_SID_LEN];
    struct sock_addr local, peer; /* our test address and the server's, with ports */
    struct clk_time last;         /* scheduled time of the last packet */
    struct wire_request req;      /* as requested (the from-session's .owp header) */
};

/* A Fetch-Session (fetch.c): the records of [begin, end] of the session sid as the server
 * received them, on the control connection c. The records kept for the results take the
 * send time of each packet received from sender, when it has the packet's TX timestamp;
 * the .owp file keeps what the server returned. */
struct ow_fetch {
    struct conn *c;
    uint8_t sid[WIRE_SID_LEN];
    uint32_t begin, end;    /* sequence numbers, both included */
    struct rst **recs;      /* the records go there (a store made on the first one) */
    const char *owp_path;   /* also save them there as an .owp file (owping -T) */
    const char *owp_suffix; /* ... written under owp_path + owp_suffix until complete */
    struct sess *sender;    /* our sending session (sess_tx_time), or NULL */
    uint64_t send_tx;       /* records of packets received whose send time is our TX
                             * timestamp ... */
    uint64_t send_packet;   /* ... or the time the packet carried (none was taken) */
    /* progress */
    bool sent, acked, refused, done;
    bool owp_failed; /* the file could not be written (said once; goes on) */
    struct wire_fetch_ack ack;
    struct save_file owp;
};

/* Send the Fetch-Session, or resume one cut short, and take the records; no wait beyond
 * limit_mono (CLOCK_MONOTONIC). 0 or -1 (printed). */
int ow_fetch_run(struct ow_fetch *f, int64_t limit_mono);

/* Drop a file left half written. */
void ow_fetch_abort(struct ow_fetch *f);

struct ow_run {
    struct app *a;
    const struct opts *o;
    struct conn c;
    char host[256];
    uint32_t mode;
    int64_t loss_ns;
    struct clk_ntp start;
    struct wire_slot slots[OPTS_MAX_SLOTS];
    uint32_t nslots;
    uint32_t typep;
    struct ow_dir to, from;
    int64_t end_mono;  /* CLOCK_MONOTONIC end of the wait, fixed at Start */
    struct rst *recs;  /* the to-session's records, fetched from the server */
    bool acked;        /* Start-Ack accepted: the sessions run */
    bool cut_short;    /* the sessions ended early: collect what there is */
    bool stopped;      /* our Stop-Sessions was queued */
    bool peer_stopped; /* the server's Stop-Sessions arrived */
    uint8_t peer_accept;
    bool from_described; /* ... and gave from_next as the Next Seqno of the session from it */
    uint32_t from_next;
    /* the end of each direction's wait (CLOCK_MONOTONIC): -L and -E after its last packet */
    int64_t to_end, from_end;
    struct ow_fetch fetch;
    int64_t salvage_ns; /* ow_salvage's bound (PING_SALVAGE_NS unless changed) */
    bool waiting;       /* ow_wait_until has begun */
    bool to_waited;     /* ... and our last packet has left */
};

/* Ready r for a test of a on the loop of a with the options o. */
void ow_init(struct ow_run *r, struct app *a, const struct opts *o);

/* Connect to target, authenticate, request the sessions o->to / o->from ask for, starting at
 * *start (NULL, or sooner than the requests still to come allow: as soon as they allow;
 * r->start tells), and start them. 0 or -1 (printed). */
int ow_begin(struct ow_run *r, const char *target, const struct clk_ntp *start);

/* Wait until both directions are accounted for: every packet in, or the loss timeout (and
 * -E) past the last one. 0 or -1 (printed unless interrupted). */
int ow_wait(struct ow_run *r);

/* The same, in steps: returns 1 once everything is accounted for, 0 when until_mono
 * (CLOCK_MONOTONIC) comes first (call again to go on), -1 when the run failed (printed). */
int ow_wait_until(struct ow_run *r, int64_t until_mono);

/* Stop-Sessions both ways and fetch the server's records of the session toward it. 0 or -1
 * (printed). */
int ow_finish(struct ow_run *r);

/* After ow_begin, ow_wait or ow_finish failed: stop the sessions and fetch what the server
 * has, within a bound; finalize the session from the server from what arrived. */
void ow_salvage(struct ow_run *r);

/* Save the session from the server (our receiver's records, or those of recs when not
 * NULL) as an .owp file at path (written under path + tmp_suffix, then renamed). ok: the
 * session ran to its end. 0 or -1 (printed). */
int ow_save_from(struct ow_run *r, const char *path, const char *tmp_suffix, bool ok,
                 struct rst *recs);

/* Fill s to report direction to (the session toward the server) or from; ok: the session
 * ran as scheduled. tx receives the sender's own figures for to. */
void ow_describe(struct ow_run *r, bool to, bool ok, struct out_sess *s, struct rep_tx *tx);

/* Send a failing Stop-Sessions when the run did not end cleanly, close the connection and
 * free everything. */
void ow_end(struct ow_run *r, bool ok);

#endif
