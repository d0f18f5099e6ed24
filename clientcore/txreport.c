/* txreport.c - what the client itself knows about a session it sent: how late packets left
 * (kernel TX timestamps against the schedule), which T1 each round trip used, and the
 * results of the TWAMP extensions (RFC 6038 reflected octets, RFC 7750 DSCP/ECN seen by
 * the reflector). Printed after the summary block in the human output. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "client.h"

static bool tw_received(const struct met_twrec *r)
{
    return !(r->flags & MET_TW_LOST) && r->t4.ns != 0;
}

/* What the replies say: which T1 each round trip used, and the DSCP/ECN octets the
 * reflector saw (counted per value in tos_count). */
static void collect_replies(const struct met_twrec *tw, size_t n, uint64_t *tos_count,
                            struct rep_tx *t)
{
    for (size_t i = 0; i < n; i++) {
        if (!tw_received(&tw[i])) {
            continue;
        }
        bool tx = tw[i].t1_src == CLK_SRC_KERNEL || tw[i].t1_src == CLK_SRC_HARDWARE;
        *(tx ? &t->time_tx : &t->time_packet) += 1;
        if (tw[i].sender_tos >= 0) {
            tos_count[tw[i].sender_tos & 0xFF]++;
            t->seen_total++;
        }
    }
}

_Static_assert((int)REP_UNUSED_N == (int)SESS_DROP_N, "one reason for each");

/* The replies a two-way sender could not use, reason by reason. */
static void collect_unused(const struct sess_counters *c, bool two_way, struct rep_tx *t)
{
    static const enum rep_unused as[SESS_DROP_N] = {[SESS_DROP_SHORT] = REP_UNUSED_SHORT,
                                                    [SESS_DROP_HMAC] = REP_UNUSED_HMAC,
                                                    [SESS_DROP_SESSION] = REP_UNUSED_SESSION,
                                                    [SESS_DROP_SEQ] = REP_UNUSED_SEQ,
                                                    [SESS_DROP_LONG] = REP_UNUSED_LONG};
    for (int i = 0; two_way && i < SESS_DROP_N; i++) {
        t->unused[as[i]] = c->reply_drop[i];
    }
    t->no_ttl = two_way ? c->reply_no_ttl : 0;
}

void ping_tx_collect(const struct sess *s, struct rst *tw, uint32_t mode, int reflect_octets,
                     int sent_tos, struct rep_tx *t)
{
    struct sess_counters c = sess_counters(s);
    struct sess_tx_stats st = sess_tx_stats(s);
    memset(t, 0, sizeof(*t));
    t->sent = c.sent;
    t->stamped = st.stamped;
    t->source = st.source;
    t->late_p50_ns = st.late_p50_ns;
    t->late_p99_ns = st.late_p99_ns;
    t->late_max_ns = st.late_max_ns;
    t->bias_p50_ns = st.bias_p50_ns;
    t->bias_p99_ns = st.bias_p99_ns;
    t->two_way = tw != NULL;
    t->reflect_octets = (mode & WIRE_MODE_REFLECT_OCTETS) ? reflect_octets : -1;
    t->reflect_mismatch = c.reflect_mismatch;
    collect_unused(&c, tw != NULL, t);
    t->sent_tos = (mode & WIRE_MODE_DSCP_ECN) ? sent_tos : -1;
    t->seen_tos = -1;
    uint64_t count[256];
    memset(count, 0, sizeof(count));
    const void *run;
    size_t n;
    for (uint64_t i = 0; tw && (n = rst_get(tw, i, &run, NULL)) > 0; i += n) {
        collect_replies(run, n, count, t);
    }
    if (t->sent_tos < 0) {
        t->seen_total = 0; /* the octets mean nothing unless we asked for RFC 7750 */
        return;
    }
    for (int v = 0; v < 256; v++) {
        if (count[v] > t->seen_count) {
            t->seen_count = count[v];
            t->seen_tos = v;
        }
    }
}

static double us_of(int64_t ns)
{
    return (double)ns / 1e3;
}

static void print_timing(const struct rep_tx *t)
{
    const char *src = t->source == CLK_SRC_HARDWARE ? "hardware" : "kernel";
    printf("send lateness p50/p99/max = %.1f/%.1f/%.1f us (%s TX timestamps on %" PRIu64
           " of %" PRIu64 " packets)\n",
           us_of(t->late_p50_ns), us_of(t->late_p99_ns), us_of(t->late_max_ns), src, t->stamped,
           t->sent);
    if (t->stamped) {
        printf("stamp-to-wire bias p50/p99 = %.1f/%.1f us (%s TX - timestamp in packet)\n",
               us_of(t->bias_p50_ns), us_of(t->bias_p99_ns), src);
    }
    if (t->two_way || t->one_way) {
        printf("%s: %s TX timestamp (%" PRIu64 " packets), timestamp in packet (%" PRIu64 ")\n",
               t->two_way ? "round trip T1" : "send time", src, t->time_tx, t->time_packet);
    }
}

static void print_dscp_ecn(const struct rep_tx *t)
{
    if (t->seen_total == 0) {
        printf("reflector reported no DSCP/ECN (RFC 7750)\n");
        return;
    }
    printf("reflector saw DSCP %d ECN %d (sent DSCP %d ECN %d)", t->seen_tos >> 2, t->seen_tos & 3,
           t->sent_tos >> 2, t->sent_tos & 3);
    if (t->seen_count < t->seen_total) {
        printf(" on %" PRIu64 " of %" PRIu64 " replies", t->seen_count, t->seen_total);
    }
    printf("%s\n", (t->seen_tos >> 2) != (t->sent_tos >> 2) ? ": DSCP changed on the path" : "");
}

void ping_tx_print(const struct opts *o, const struct rep_tx *t)
{
    if (o->json || o->machine || o->quiet) {
        return;
    }
    if (t->sent > 0) {
        print_timing(t);
    }
    if (t->reflect_octets > 0) {
        printf("reflected octets: %d per reply, %" PRIu64 " mismatches\n", t->reflect_octets,
               t->reflect_mismatch);
    }
    if (t->sent_tos >= 0) {
        print_dscp_ecn(t);
    }
    printf("\n");
    fflush(stdout);
}
