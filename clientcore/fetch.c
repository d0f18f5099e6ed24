/* fetch.c - Fetch-Session on a client's control connection: the records of a range of an
 * OWAMP session the server received, kept for the statistics (the send time of each packet
 * received replaced by our TX timestamp of it when we sent it and have one) and, when
 * asked, written as they come into an .owp file with the stored request and skip ranges the
 * server returns (the layout of a fetched file, as the reference writes it: the wire
 * values). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "owpfile.h"

#include "owamp.h"

static const char *prog(const struct ow_fetch *f)
{
    return f->c->app->o->prog;
}

/* The file could not be written: say why once, drop it; the fetch goes on. */
static void owp_failed(struct ow_fetch *f)
{
    fprintf(stderr, "%s: cannot write %s: %s\n", prog(f), f->owp_path, strerror(errno));
    save_abort(&f->owp);
    f->owp_failed = true;
}

/* The fetched session's stored request and skip ranges: the header of the file. */
static void fetch_head(struct ow_fetch *f, const struct ctrl_event *ev)
{
    if (!f->owp_path || f->owp_failed) {
        return;
    }
    if (!save_open(&f->owp, f->owp_path, f->owp_suffix, prog(f))) {
        f->owp_failed = true;
        return;
    }
    struct owpf_header h = {.finished = f->ack.finished,
                            .next_seqno = f->ack.next_seqno,
                            .nskips = ev->u.fetch_head.nskips,
                            .nrecords = f->ack.nrecords,
                            .skips_first = true,
                            .req = ev->u.fetch_head.req,
                            .slots = ev->u.fetch_head.slots};
    if (owpf_write_header(f->owp.f, &h) < 0 ||
        owpf_write_skips(f->owp.f, ev->u.fetch_head.skips, h.nskips) < 0) {
        owp_failed(f);
    }
}

/* The send time of a packet received: our TX timestamp of it when we have one, else the
 * time it carried (send_wire keeps that either way). A lost packet keeps its scheduled
 * time, as the server logged it. */
static void take_tx_time(struct ow_fetch *f, struct met_owrec *m)
{
    struct clk_time t;
    enum clk_source src;
    if (m->lost || !f->sender) {
        return;
    }
    if (sess_tx_time(f->sender, m->seq, &t, &src)) {
        m->send = t;
        m->send_src = (uint8_t)src;
        f->send_tx++;
    } else {
        f->send_packet++;
    }
}

/* One fetched record: kept for the statistics (with our TX time), written to the file as it
 * came. */
static int add_record(struct ow_fetch *f, const struct wire_record *w)
{
    struct met_owrec m = owpf_owrec_of(w);
    int rc = LP_E_NOMEM;
    take_tx_time(f, &m);
    if (f->owp.f && owpf_write_record(f->owp.f, w) < 0) {
        owp_failed(f);
    }
    if ((*f->recs || (*f->recs = rst_create(sizeof(m), 0, NULL))) &&
        (rc = rst_append(*f->recs, &m)) == 0) {
        return 0;
    }
    fprintf(stderr, "%s: cannot store the fetched records: %s\n", prog(f),
            rc == LP_E_IO ? strerror(errno) : lp_strerror(rc));
    return -1;
}

/* Deadline of the next control reply: the per-reply bound, within limit_mono. */
static int64_t reply_deadline(int64_t limit_mono)
{
    int64_t d = loop_mono_ns() + PING_CTRL_WAIT_NS;
    return d < limit_mono ? d : limit_mono;
}

/* Fetch-Session and its Fetch-Ack. 0 or -1 (printed). */
static int fetch_start(struct ow_fetch *f, int64_t limit_mono)
{
    struct wire_fetch_session q = {.begin_seq = f->begin, .end_seq = f->end};
    struct ctrl_event ev;
    if (!f->sent) {
        memcpy(q.sid, f->sid, WIRE_SID_LEN);
        int rc = ctrl_send_fetch(f->c->ctrl, &q);
        if (rc < 0) {
            fprintf(stderr, "%s: cannot send Fetch-Session: %s\n", prog(f), lp_strerror(rc));
            return -1;
        }
        f->sent = true;
        if (conn_flush(f->c) < 0) {
            return -1;
        }
    }
    if (conn_expect(f->c, CTRL_EV_FETCH_ACK, reply_deadline(limit_mono), &ev, "Fetch-Ack") < 0) {
        return -1;
    }
    if (ev.u.fetch_ack.accept != WIRE_ACCEPT_OK) {
        fprintf(stderr, "%s: server refused to return the records: %s\n", prog(f),
                ping_accept_str(ev.u.fetch_ack.accept));
        f->refused = true;
        return -1;
    }
    f->ack = ev.u.fetch_ack;
    f->acked = true;
    return 0;
}

int ow_fetch_run(struct ow_fetch *f, int64_t limit_mono)
{
    struct ctrl_event ev;
    int rc = 0;
    if (!f->acked && fetch_start(f, limit_mono) < 0) {
        return -1;
    }
    while (rc == 0) {
        /* per record: large fetches take time */
        if (conn_wait_event(f->c, reply_deadline(limit_mono), &ev) < 0) {
            rc = -1;
        } else if (ev.type == CTRL_EV_FETCH_DONE) {
            f->done = true;
            if (f->owp.f && save_commit(&f->owp, prog(f)) < 0) {
                f->owp_failed = true;
            }
            return 0;
        } else if (ev.type == CTRL_EV_FETCH_HEAD) {
            fetch_head(f, &ev);
        } else if (ev.type == CTRL_EV_FETCH_RECORD) {
            rc = add_record(f, &ev.u.record);
        } else {
            fprintf(stderr, "%s: protocol error during the fetch\n", prog(f));
            rc = -1;
        }
    }
    save_abort(&f->owp);
    return rc;
}

void ow_fetch_abort(struct ow_fetch *f)
{
    save_abort(&f->owp);
}
