/* session.c - test sessions (see session.h): their life cycle, what every role shares (the
 * record store, the clock's Error Estimate, timestamps on the wire, the I/O buffers), and
 * the accessors. Sending is in session_send.c, receiving and reflecting in session_recv.c. */
#include "session_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "sched.h"

uint16_t sess_errest_get(struct sess_errest *e, struct clk_time now)
{
    if (e->raw == 0 || now.ns - e->checked_ns > 1000000000LL || now.ns < e->checked_ns) {
        struct clk_state st = {0};
        if (clk_state_read(&st) < 0) {
            st.synced = false;
        }
        e->raw = clk_errest_encode(clk_state_errest(&st));
        e->tai_ns = (int64_t)st.tai_offset_s * 1000000000LL;
        e->checked_ns = now.ns;
    }
    return e->raw;
}

struct sess_scratch *sess_scratch_create(void)
{
    struct sess_scratch *x = calloc(1, sizeof(*x));
    if (!x) {
        return NULL;
    }
    for (unsigned i = 0; i < SOCK_BATCH_MAX; i++) {
        x->rx[i].data = x->rxmem[i];
        x->rx[i].cap = SESS_PKT_MAX;
    }
    return x;
}

void sess_scratch_destroy(struct sess_scratch *x)
{
    free(x);
}

/* Stamp packets [i, i + k) until one cannot be sent (times into t); how many were. */
static unsigned stamp_run(const struct sess_stamper *st, unsigned i, unsigned k, struct clk_time *t)
{
    unsigned j = 0;
    while (j < k && (t[j] = st->stamp(st->arg, i + j)).ns != 0) {
        j++;
    }
    return j;
}

void sess_send_built(int fd, struct sess_scratch *x, unsigned n, int64_t now_ns,
                     struct sess_counters *cnt, const struct sess_stamper *st)
{
    unsigned run = n >= SESS_RUN_BEHIND / 2 ? SESS_RUN_BEHIND : 1;
    struct clk_time t[SESS_RUN_BEHIND];
    if (n > 0 && now_ns - *st->last_tx_ns > SESS_WARM_NS) {
        sock_warm(fd, &x->tx[0]); /* idle: the send path is cold */
    }
    for (unsigned i = 0; i < n;) {
        unsigned k = stamp_run(st, i, n - i < run ? n - i : run, t);
        int sent = k > 0 ? sock_send_batch(fd, &x->tx[i], k) : 0;
        for (int j = 0; j < sent; j++) {
            if (st->sent) {
                st->sent(st->arg, i + (unsigned)j, t[j]);
            }
            cnt->sent++;
            *st->last_tx_ns = t[j].ns;
        }
        unsigned done = k > 0 ? k : 1; /* one that cannot be sent is dropped */
        cnt->tx_errors += done - (unsigned)(sent > 0 ? sent : 0);
        i += done;
    }
}

struct clk_time sess_wire_time(uint64_t ts, uint16_t errest, int64_t tai_ns)
{
    if (errest & WIRE_ERREST_Z) {
        return (struct clk_time){clk_from_ptp(ts).ns - tai_ns};
    }
    return clk_from_ntp((struct clk_ntp){ts});
}

uint64_t sess_wire_stamp(struct clk_time t, bool ptp, const struct sess_errest *e, uint16_t *errest)
{
    if (!ptp) {
        *errest &= (uint16_t)~WIRE_ERREST_Z;
        return clk_to_ntp(t).raw;
    }
    *errest |= WIRE_ERREST_Z;
    return clk_to_ptp((struct clk_time){t.ns + e->tai_ns});
}

bool sess_same_host(const struct sock_addr *a, const struct sock_addr *b)
{
    return addr_same_host((const struct sockaddr *)&a->ss, (const struct sockaddr *)&b->ss);
}

void sess_make_sid(const uint8_t *addr, size_t addrlen, uint8_t sid[WIRE_SID_LEN])
{
    memset(sid, 0, WIRE_SID_LEN);
    if (addrlen >= 4) {
        memcpy(sid, addr + addrlen - 4, 4);
    }
    lp_store64(sid + 4, clk_to_ntp(clk_now()).raw);
    cry_random(sid + 12, 4);
}
/* ------------------------------------------------------------------ records */

/* Log one record (the session's record type); false when the bound or the store refused it. */
bool sess_rec_log(struct sess *s, const void *rec)
{
    if (rst_count(s->recs) >= s->cfg.max_records || rst_append(s->recs, rec) < 0) {
        s->cnt.overflow++;
        return false;
    }
    return true;
}
/* ------------------------------------------------------------------ lifecycle */

static int setup_crypto(struct sess *s)
{
    uint32_t sec = s->cfg.mode & WIRE_MODE_SECURITY;
    s->cmode = CRY_TEST_OPEN;
    s->layout_mode = WIRE_MODE_OPEN;
    if (s->cfg.fmt == SESS_FMT_STAMP) {
        if (sec == WIRE_MODE_AUTH) {
            if (!s->cfg.stamp_key) {
                return LP_E_AUTH;
            }
            s->layout_mode = WIRE_MODE_AUTH;
        }
        return 0;
    }
    if (sec == WIRE_MODE_AUTH || sec == WIRE_MODE_ENC) {
        if (!s->cfg.keys) {
            return LP_E_AUTH;
        }
        cry_test_keys_derive(s->cfg.keys, s->cfg.sid, &s->tkeys);
        s->cmode = sec == WIRE_MODE_AUTH ? CRY_TEST_AUTH : CRY_TEST_ENC;
        s->layout_mode = WIRE_MODE_AUTH;
    }
    return 0;
}

static int sess_init(struct sess *s)
{
    s->ptp = (s->cfg.mode & WIRE_MODE_PTP) != 0;
    int rc = setup_crypto(s);
    if (rc < 0) {
        return rc;
    }
    if (s->cfg.max_records == 0) {
        s->cfg.max_records = 2 * s->cfg.npackets + 1024;
    }
    size_t base = s->cfg.fmt == SESS_FMT_STAMP ? WIRE_STAMP_AUTH_LEN : WIRE_REFLECTOR_AUTH_LEN;
    if (s->cfg.padding > SESS_PKT_MAX - base) {
        return LP_E_LEN;
    }
    if (s->cfg.kind == SESS_OW_SENDER || s->cfg.kind == SESS_TW_SENDER) {
        if ((rc = sess_sender_init(s)) < 0) {
            return rc;
        }
    }
    if (s->cfg.kind == SESS_TW_REFLECTOR && s->cfg.measure_tx && (rc = sess_tx_init(s)) < 0) {
        return rc; /* T3 against the wire: sess_tx_stats */
    }
    bool logs = s->cfg.kind == SESS_OW_RECEIVER || s->cfg.kind == SESS_TW_SENDER;
    if (logs && !(s->seen = calloc(s->cfg.npackets / 8 + 1, 1))) {
        return LP_E_NOMEM;
    }
    size_t elem =
        s->cfg.kind == SESS_OW_RECEIVER ? sizeof(struct met_owrec) : sizeof(struct met_twrec);
    if (logs && !(s->recs = rst_create(elem, s->cfg.store_mem, s->cfg.store_dir))) {
        return LP_E_NOMEM;
    }
    s->x = s->cfg.scratch;
    if (!s->x) {
        if (!(s->x = sess_scratch_create())) {
            return LP_E_NOMEM;
        }
        s->own_scratch = true;
    }
    /* an OWAMP sender only listens to its error queue (TX timestamps) */
    unsigned events = s->cfg.kind == SESS_OW_SENDER ? 0 : LOOP_READ;
    return loop_add_fd(s->loop, s->sock.fd, events, sess_on_readable, s);
}

struct sess *sess_create(struct loop *loop, struct sock_udp *sock, const struct sess_config *cfg)
{
    struct sess *s = calloc(1, sizeof(*s));
    if (!s) {
        sock_close_udp(sock);
        return NULL;
    }
    s->cfg = *cfg;
    s->loop = loop;
    s->sock = *sock;
    sock->fd = -1;
    if (cfg->nslots > 0) {
        s->slots = calloc(cfg->nslots, sizeof(*s->slots));
        if (s->slots) {
            memcpy(s->slots, cfg->slots, cfg->nslots * sizeof(*s->slots));
        }
        s->cfg.slots = s->slots;
    }
    if ((cfg->nslots > 0 && !s->slots) || sess_init(s) < 0) {
        sess_destroy(s);
        return NULL;
    }
    return s;
}

void sess_destroy(struct sess *s)
{
    if (!s) {
        return;
    }
    if (s->timer) {
        loop_timer_cancel(s->loop, s->timer);
    }
    if (s->sock.fd >= 0) {
        loop_del_fd(s->loop, s->sock.fd);
        sock_close_udp(&s->sock);
    }
    cry_test_keys_wipe(&s->tkeys);
    sched_destroy(s->sched);
    if (s->own_scratch) {
        sess_scratch_destroy(s->x);
    }
    free(s->slots);
    free(s->pad);
    free(s->txq);
    free(s->bias_ring);
    rst_destroy(s->tx_times);
    rst_destroy(s->recs);
    free(s->seen);
    free(s);
}

int sess_start(struct sess *s)
{
    if (s->started) {
        return LP_E_STATE;
    }
    s->started = true;
    if (s->cfg.kind == SESS_OW_SENDER || s->cfg.kind == SESS_TW_SENDER) {
        if (s->cfg.npackets == 0) {
            if (s->on_sent) {
                s->on_sent(s, s->on_sent_arg);
            }
            return 0;
        }
        s->next_time = sched_send_time(s->cfg.start, sched_next_offset(s->sched));
        sess_arm_sender(s);
        return s->timer ? 0 : LP_E_NOMEM;
    }
    return s->cfg.kind == SESS_OW_RECEIVER ? sess_start_loss_timer(s) : 0;
}

void sess_drain(struct sess *s)
{
    if (s->sock.fd >= 0 && s->started && !s->stopped) {
        sess_on_readable(s->loop, s->sock.fd, LOOP_READ, s);
    }
}

void sess_stop(struct sess *s)
{
    s->stopped = true;
    if (s->timer) {
        loop_timer_cancel(s->loop, s->timer);
        s->timer = 0;
    }
    if (s->tx_stamps && s->sock.fd >= 0) {
        sock_read_tx_timestamps(s->sock.fd, sess_on_tx_stamp, s); /* every send's is in */
    }
}

void sess_release(struct sess *s)
{
    sess_stop(s);
    if (s->sock.fd >= 0) {
        loop_del_fd(s->loop, s->sock.fd);
        sock_close_udp(&s->sock);
    }
}

void sess_set_packet_hook(struct sess *s, sess_pkt_hook hook, void *arg)
{
    s->local.len = sizeof(s->local.ss);
    if (hook && getsockname(s->sock.fd, (struct sockaddr *)&s->local.ss, &s->local.len) < 0) {
        s->local.len = 0;
        return; /* no address to show: no hook */
    }
    s->pkt_hook = hook;
    s->pkt_arg = arg;
}

void sess_on_sent(struct sess *s, sess_cb cb, void *arg)
{
    s->on_sent = cb;
    s->on_sent_arg = arg;
}

uint32_t sess_next_seqno(const struct sess *s)
{
    return s->next_seq;
}

struct clk_time sess_last_send_time(const struct sess *s)
{
    uint64_t first, last; /* computed on demand: daemons never ask */
    if (s->cfg.nslots == 0 ||
        sched_span(s->cfg.slots, s->cfg.nslots, s->cfg.sid, s->cfg.npackets, &first, &last) < 0) {
        return (struct clk_time){0};
    }
    return sched_send_time(s->cfg.start, last);
}

uint16_t sess_port(const struct sess *s)
{
    return s->sock.port;
}

/* A generator of the session's scheduled send times, or NULL without a schedule. */
struct sched *sess_sched_probe(const struct sess *s)
{
    struct sched *g = NULL;
    if (s->cfg.nslots == 0 || sched_create_wire(s->cfg.slots, s->cfg.nslots, s->cfg.sid, &g) < 0) {
        return NULL;
    }
    return g;
}

struct rst *sess_records(const struct sess *s)
{
    return s->recs;
}

struct sess_counters sess_counters(const struct sess *s)
{
    return s->cnt;
}
