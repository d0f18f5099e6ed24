/* out_pcap.c - --pcap FILE: every test packet owping/twping sends or receives, with the
 * timestamp the session used for it, into a nanosecond pcap (libprotocol/report_pcap.c
 * synthesizes the IP and UDP headers). The packets come from the session packet hook of
 * session.h (SESS_PKT_HOOK); a build without it writes a valid file with no packets and
 * says so. */
#include "out.h"

#ifdef SESS_PKT_HOOK
static void on_packet(void *arg, const struct sess_pkt *p)
{
    struct out_ctx *x = arg;
    struct rep_pkt k = {
        .data = p->data,
        .len = p->len,
        .src = (const struct sockaddr *)&p->src->ss,
        .dst = (const struct sockaddr *)&p->dst->ss,
        .ts = p->ts,
        .ttl = p->ttl,
        .tos = p->tos,
    };
    if (x->pcap && rep_pcap_write(x->pcap, &k) < 0 && !x->file_error) {
        fprintf(stderr, "%s: cannot add a packet to %s\n", x->o->prog, x->o->pcap);
        x->file_error = true;
    }
}
#endif

bool out_pcap_supported(void)
{
#ifdef SESS_PKT_HOOK
    return true;
#else
    return false;
#endif
}

void out_watch_session(const struct opts *o, struct sess *s)
{
#ifdef SESS_PKT_HOOK
    if (o->out && o->out->pcap) {
        sess_set_packet_hook(s, on_packet, o->out);
    }
#else
    (void)o;
    (void)s;
#endif
}
