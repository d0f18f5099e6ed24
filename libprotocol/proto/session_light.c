/* session_light.c - the TWAMP Light / STAMP reflector (RFC 5357 Appendix I, RFC 8762,
 * RFC 8972 TLVs). Every packet is answered to its observed source address and port.
 *
 * Which rules a packet gets is decided once per flow (its source address and port), on the
 * flow's first packet, and kept until the flow has been idle for the idle time (default
 * LIGHT_IDLE_DEFAULT_S; twampd's "lightidletimeout"); at most LIGHT_FLOWS_MAX flows are
 * kept, the least recently used one is forgotten first. A flow is STAMP when its first
 * packet
 *   - carries an RFC 8762 §4.2.2 HMAC (112-octet authenticated base) that verifies with one
 *     of the keys, or
 *   - is at least 44 octets with octets 16-43 zero (the MBZ of the RFC 8762 §4.2.1
 *     unauthenticated base) and either a non-zero SSID (octets 14-15, RFC 8972 §3) or, after
 *     the base, an RFC 8972 §4 TLV (its first header has a non-zero Type: Type 0 is
 *     reserved, so zero padding is never taken for TLVs).
 * Every other flow is TWAMP Light, zero-padded ones included: zero padding has zeros in
 * octets 14-43 too. A STAMP sender that uses neither an SSID nor TLVs looks exactly like a
 * zero-padded TWAMP Light sender; it gets the stateless answer, which RFC 8762 §4 allows.
 *
 * TWAMP Light (stateless, RFC 5357 Appendix I): the Reflector Sequence Number is a copy of
 * the sender's; the reply is as long as the packet (at least 41 octets), its octets 41-43 are
 * zero and the rest a copy of the packet's from octet 44 on, as RFC 8762 §4.6 has a STAMP
 * reflector answer a TWAMP Light sender: zero padding comes back as it was sent.
 * STAMP (stateful, RFC 8762 §4): each SSID of the flow has its own reflector sequence
 * counter from 0, and the octets after the base are TLVs answered in place (RFC 8972 §4),
 * unless they are all zero (padding, returned as sent). A packet of a STAMP flow that is not
 * a valid STAMP packet is counted as malformed and not answered. */
#include "session_int.h"

#include <stdlib.h>
#include <string.h>

#include "addr.h"

#define LIGHT_KEYS_MAX 64

/* RFC 8972 §4.3 values (IANA STAMP registries). */
#define TS_SYNC_NTP 1
#define TS_SYNC_LOCAL 5
#define TS_METHOD_HW 1
#define TS_METHOD_SW 2

struct light {
    struct loop *loop;
    struct sock_udp sock;
    struct light_key keys[LIGHT_KEYS_MAX];
    uint8_t *keymem;
    size_t nkeys;
    struct sess_counters cnt;
    struct light_flows *flows;
    struct sess_scratch *x;
    bool own_scratch;
    int64_t last_tx_ns; /* the last reply sent (SESS_WARM_NS) */
};

/* The flow a packet from peer belongs to. */
static void flow_key(const struct sock_addr *peer, struct light_flow_key *k)
{
    memset(k, 0, sizeof(*k));
    k->family = addr_sockaddr_octets((const struct sockaddr *)&peer->ss, k->addr) == 16 ? 6 : 4;
    k->port = sock_addr_port(peer);
}

/* Index of the key whose STAMP HMAC verifies this authenticated packet, or -1. */
static int find_key(const struct light *l, const uint8_t *pkt, size_t len)
{
    if (len < WIRE_STAMP_AUTH_LEN) {
        return -1;
    }
    for (size_t i = 0; i < l->nkeys; i++) {
        if (cry_stamp_verify(l->keys[i].key, l->keys[i].len, pkt, WIRE_STAMP_AUTH_HMAC_OFF,
                             pkt + WIRE_STAMP_AUTH_HMAC_OFF) == 0) {
            return (int)i;
        }
    }
    return -1;
}

/* Answer the TLVs of a STAMP packet in place (RFC 8972 §4): fill what the reflector knows,
 * flag unknown types with U (cleared on known ones) and malformed ones with M. key is set in
 * authenticated mode. */
static void answer_tlvs(struct light *l, uint8_t *area, size_t len, const struct sock_rxbuf *b,
                        const struct light_flow *f, const struct light_key *key)
{
    struct wire_tlv_iter it;
    struct wire_tlv t;
    wire_tlv_mark_malformed(area, len);
    wire_tlv_iter_init(&it, area, len);
    while (wire_tlv_next(&it, &t) == 1) {
        uint8_t *hdr = area + t.off;
        uint8_t *val = hdr + WIRE_TLV_HDR_LEN;
        if (hdr[0] & WIRE_TLV_F_M) {
            continue;
        }
        hdr[0] &= (uint8_t)~WIRE_TLV_F_U; /* RFC 8972 §4: cleared for types we understand */
        switch (t.type) {
        case WIRE_TLV_PADDING: break;
        case WIRE_TLV_LOCATION:
            lp_store16(val, l->sock.port);
            lp_store16(val + 2, sock_addr_port(&b->peer));
            break;
        case WIRE_TLV_TIMESTAMP_INFO: {
            bool synced = (sess_errest_get(&l->x->errest, b->info.ts) & WIRE_ERREST_S) != 0;
            val[0] = val[2] = synced ? TS_SYNC_NTP : TS_SYNC_LOCAL;
            val[1] = b->info.src == CLK_SRC_HARDWARE ? TS_METHOD_HW : TS_METHOD_SW;
            val[3] = TS_METHOD_SW;
            break;
        }
        case WIRE_TLV_COS: {
            struct wire_tlv_cos c;
            if (wire_tlv_cos_decode(&t, &c) == 0 && b->info.tos >= 0) {
                c.dscp2 = (uint8_t)(b->info.tos >> 2);
                c.ecn = (uint8_t)(b->info.tos & 3);
                wire_tlv_cos_encode(hdr[0], &c, hdr, WIRE_TLV_HDR_LEN + 4);
            }
            break;
        }
        case WIRE_TLV_DIRECT:
            lp_store32(val + 4, f->rx);
            lp_store32(val + 8, f->tx + 1);
            break;
        case WIRE_TLV_HMAC:
            if (key) {
                cry_stamp_hmac(key->key, key->len, area, t.off, val);
            }
            break;
        default: hdr[0] |= WIRE_TLV_F_U; break;
        }
    }
}

/* Build the reply to a packet of a STAMP flow in out, all but its Timestamp (light_stamp
 * writes that and the HMAC just before it is sent); *key gets the key to seal it with (-1:
 * none). Returns its length or 0 to drop. */
static size_t stamp_reply(struct light *l, struct sock_rxbuf *b, const struct light_flow_key *k,
                          int64_t now_ns, uint8_t *out, int *keyidx)
{
    int ki = find_key(l, b->data, b->len);
    const struct light_key *key = ki >= 0 ? &l->keys[ki] : NULL;
    uint32_t mode = key ? WIRE_MODE_AUTH : WIRE_MODE_OPEN;
    struct wire_stamp_sender p;
    if (wire_stamp_sender_decode(b->data, b->len, mode, &p) < 0) {
        return 0;
    }
    struct light_flow *f = lflows_use(l->flows, k, LIGHT_CLASS_STAMP, p.ssid, now_ns);
    f->rx++;
    uint8_t *tlvs = l->x->work;
    memcpy(tlvs, p.tlvs, p.tlvs_len);
    if (!lp_all_zero(tlvs, p.tlvs_len)) { /* zero padding goes back as it came */
        answer_tlvs(l, tlvs, p.tlvs_len, b, f, key);
    }
    struct wire_stamp_reflector r = {.seq = f->tx,
                                     .ssid = p.ssid,
                                     .recv_ts = clk_to_ntp(b->info.ts).raw,
                                     .sender_seq = p.seq,
                                     .sender_ts = p.ts,
                                     .sender_errest = p.errest,
                                     .sender_ttl = sess_ttl_octet(b->info.ttl, 255),
                                     .tlvs = tlvs,
                                     .tlvs_len = p.tlvs_len};
    int n = wire_stamp_reflector_encode(&r, mode, out, SESS_PKT_MAX);
    if (n <= 0) {
        return 0;
    }
    *keyidx = ki;
    f->tx++;
    return (size_t)n;
}

/* Build the reply to a packet of a TWAMP Light flow in out, all but its Timestamp; length
 * or 0. */
static size_t light_reply(struct light *l, struct sock_rxbuf *b, const struct light_flow_key *k,
                          int64_t now_ns, uint8_t *out)
{
    struct wire_sender_pkt p;
    if (wire_sender_decode(b->data, b->len, WIRE_MODE_OPEN, &p) < 0) {
        return 0;
    }
    lflows_use(l->flows, k, LIGHT_CLASS_LIGHT, 0, now_ns);
    size_t len = b->len > WIRE_REFLECTOR_OPEN_LEN ? b->len : WIRE_REFLECTOR_OPEN_LEN;
    uint8_t *pad = l->x->work;
    memset(pad, 0, len - WIRE_REFLECTOR_OPEN_LEN);
    if (b->len > WIRE_STAMP_OPEN_LEN) { /* RFC 8762 §4.6: the rest as it was sent */
        memcpy(pad + (WIRE_STAMP_OPEN_LEN - WIRE_REFLECTOR_OPEN_LEN), b->data + WIRE_STAMP_OPEN_LEN,
               b->len - WIRE_STAMP_OPEN_LEN);
    }
    struct wire_reflector_pkt r = {.seq = p.seq,
                                   .recv_ts = clk_to_ntp(b->info.ts).raw,
                                   .sender_seq = p.seq,
                                   .sender_ts = p.ts,
                                   .sender_errest = p.errest,
                                   .sender_ttl = sess_ttl_octet(b->info.ttl, 255),
                                   .pad = pad,
                                   .pad_len = len - WIRE_REFLECTOR_OPEN_LEN};
    int n = wire_reflector_encode(&r, WIRE_MODE_OPEN, out, SESS_PKT_MAX);
    return n > 0 ? (size_t)n : 0;
}

/* A built reply's last step: T3 read now and written in, the STAMP HMAC computed. */
static struct clk_time light_stamp(void *arg, unsigned slot)
{
    struct light *l = arg;
    const struct sess_reply *r = &l->x->reply[slot];
    uint8_t *out = l->x->txmem[slot];
    struct clk_time t3 = clk_now();
    wire_test_set_ts(out, l->x->tx[slot].len, r->mode, clk_to_ntp(t3).raw, r->errest);
    if (r->key >= 0) {
        const struct light_key *key = &l->keys[r->key];
        cry_stamp_hmac(key->key, key->len, out, WIRE_STAMP_AUTH_HMAC_OFF,
                       out + WIRE_STAMP_AUTH_HMAC_OFF);
    }
    return t3;
}

/* Whether an RFC 8972 TLV starts the area: a whole header whose Type (its second octet) is
 * not 0, which is reserved. */
static bool tlv_starts(const uint8_t *area, size_t len)
{
    return len >= WIRE_TLV_HDR_LEN && area[1] != 0;
}

/* The rules for a flow whose first packet this is (see the top of the file). */
static enum light_class classify(const struct light *l, const uint8_t *pkt, size_t len)
{
    if (find_key(l, pkt, len) >= 0) {
        return LIGHT_CLASS_STAMP;
    }
    if (len < WIRE_STAMP_OPEN_LEN || !lp_all_zero(pkt + WIRE_STAMP_OPEN_MBZ_OFF,
                                                  WIRE_STAMP_OPEN_LEN - WIRE_STAMP_OPEN_MBZ_OFF)) {
        return LIGHT_CLASS_LIGHT;
    }
    bool ssid = lp_load16(pkt + WIRE_STAMP_OPEN_SSID_OFF) != 0;
    bool tlv = tlv_starts(pkt + WIRE_STAMP_OPEN_LEN, len - WIRE_STAMP_OPEN_LEN);
    return ssid || tlv ? LIGHT_CLASS_STAMP : LIGHT_CLASS_LIGHT;
}

/* Build the reply to one packet in x->tx[slot]; false to drop it. */
static bool reflect_one(struct light *l, struct sock_rxbuf *b, unsigned slot, int64_t now_ns)
{
    if (b->truncated || b->len < WIRE_SENDER_OPEN_LEN) {
        l->cnt.malformed++;
        return false;
    }
    struct light_flow_key k;
    flow_key(&b->peer, &k);
    enum light_class cls = lflows_class(l->flows, &k, now_ns);
    if (cls == LIGHT_CLASS_NONE) {
        cls = classify(l, b->data, b->len);
    }
    uint8_t *out = l->x->txmem[slot];
    int key = -1;
    size_t n = cls == LIGHT_CLASS_STAMP ? stamp_reply(l, b, &k, now_ns, out, &key)
                                        : light_reply(l, b, &k, now_ns, out);
    if (n == 0) {
        l->cnt.malformed++;
        return false;
    }
    l->cnt.received++;
    l->cnt.src_count[b->info.src & 3]++;
    l->x->tx[slot] = (struct sock_txbuf){.data = out, .len = n, .dst = &b->peer, .tos = -1};
    l->x->reply[slot] = (struct sess_reply){.recv_ns = b->info.ts.ns,
                                            .mode = key >= 0 ? WIRE_MODE_AUTH : WIRE_MODE_OPEN,
                                            .errest = sess_errest_get(&l->x->errest, b->info.ts),
                                            .key = key};
    return true;
}

static void on_readable(struct loop *loop, int fd, unsigned events, void *arg)
{
    struct light *l = arg;
    (void)loop;
    (void)events;
    for (int round = 0; round < 16; round++) {
        int n = sock_recv_batch(fd, l->x->rx, SOCK_BATCH_MAX);
        if (n <= 0) {
            return;
        }
        unsigned replies = 0;
        int64_t now_ns = loop_mono_ns();
        for (int i = 0; i < n; i++) {
            replies += reflect_one(l, &l->x->rx[i], replies, now_ns);
        }
        const struct sess_stamper st = {light_stamp, NULL, l, &l->last_tx_ns};
        sess_send_built(fd, l->x, replies, l->x->reply[0].recv_ns, &l->cnt, &st);
        if (n < SOCK_BATCH_MAX) {
            return;
        }
    }
}

static void wipe_keys(struct light *l)
{
    if (l->keymem) {
        size_t total = 0;
        for (size_t i = 0; i < l->nkeys; i++) {
            total += l->keys[i].len;
        }
        cry_wipe(l->keymem, total);
    }
    free(l->keymem);
    l->keymem = NULL;
    l->nkeys = 0;
}

int light_set_keys(struct light *l, const struct light_key *keys, size_t nkeys)
{
    size_t total = 0;
    wipe_keys(l);
    if (nkeys > LIGHT_KEYS_MAX) {
        nkeys = LIGHT_KEYS_MAX;
    }
    for (size_t i = 0; i < nkeys; i++) {
        total += keys[i].len;
    }
    l->keymem = malloc(total + 1);
    if (!l->keymem) {
        return LP_E_NOMEM;
    }
    uint8_t *p = l->keymem;
    for (size_t i = 0; i < nkeys; i++) {
        memcpy(p, keys[i].key, keys[i].len);
        l->keys[i] = (struct light_key){p, keys[i].len};
        p += keys[i].len;
    }
    l->nkeys = nkeys;
    return 0;
}

struct light *light_create(struct loop *loop, struct sock_udp *sock, const struct light_key *keys,
                           size_t nkeys, struct sess_scratch *scratch)
{
    struct light *l = calloc(1, sizeof(*l));
    if (!l) {
        sock_close_udp(sock);
        return NULL;
    }
    l->loop = loop;
    l->sock = *sock;
    sock->fd = -1;
    l->x = scratch;
    l->own_scratch = !scratch;
    if (!l->x) {
        l->x = sess_scratch_create();
    }
    l->flows = lflows_create(LIGHT_FLOWS_MAX, (int64_t)LIGHT_IDLE_DEFAULT_S * 1000000000);
    if (!l->x || !l->flows || light_set_keys(l, keys, nkeys) < 0 ||
        loop_add_fd(loop, l->sock.fd, LOOP_READ, on_readable, l) < 0) {
        light_destroy(l);
        return NULL;
    }
    return l;
}

void light_destroy(struct light *l)
{
    if (!l) {
        return;
    }
    if (l->sock.fd >= 0) {
        loop_del_fd(l->loop, l->sock.fd);
        sock_close_udp(&l->sock);
    }
    if (l->own_scratch) {
        sess_scratch_destroy(l->x);
    }
    wipe_keys(l);
    lflows_destroy(l->flows);
    free(l);
}

void light_set_idle(struct light *l, uint32_t idle_s)
{
    lflows_set_idle(l->flows, (int64_t)idle_s * 1000000000);
}

uint32_t light_flow_count(const struct light *l)
{
    return lflows_count(l->flows, loop_mono_ns());
}

struct sess_counters light_counters(const struct light *l)
{
    return l->cnt;
}

int light_fd(const struct light *l)
{
    return l->sock.fd;
}
