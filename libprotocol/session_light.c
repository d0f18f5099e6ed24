/* session_light.c - the stateless TWAMP Light / STAMP reflector (RFC 5357 Appendix I,
 * RFC 8762, RFC 8972 TLVs). Every packet is answered to its observed source address and
 * port; STAMP senders get their own reflector sequence counter, kept in a small table keyed
 * by source and SSID (RFC 8762 §4.2 stateful mode), so they can split loss by direction. */
#include "session_int.h"

#include <stdlib.h>
#include <string.h>

#include "addr.h"

#define LIGHT_FLOWS 1024 /* reflector sequence counters kept (oldest replaced) */
#define LIGHT_KEYS_MAX 64

/* RFC 8972 §4.3 values (IANA STAMP registries). */
#define TS_SYNC_NTP 1
#define TS_SYNC_LOCAL 5
#define TS_METHOD_HW 1
#define TS_METHOD_SW 2

struct light_flow {
    uint8_t addr[16];
    uint16_t port, ssid;
    uint32_t rx, tx; /* packets received / reflected in this flow */
    bool used;
};

struct light {
    struct loop *loop;
    struct sock_udp sock;
    struct light_key keys[LIGHT_KEYS_MAX];
    uint8_t *keymem;
    size_t nkeys;
    struct sess_counters cnt;
    struct light_flow flows[LIGHT_FLOWS];
    struct sess_scratch *x;
    bool own_scratch;
};

/* The flow of a STAMP sender: its counters, created on first sight. */
static struct light_flow *flow_get(struct light *l, const struct sock_addr *peer, uint16_t ssid)
{
    uint8_t a[16] = {0};
    addr_sockaddr_octets((const struct sockaddr *)&peer->ss, a);
    uint16_t port = sock_addr_port(peer);
    uint32_t h = ssid * 2654435761u ^ port;
    for (int i = 0; i < 16; i++) {
        h = h * 31 + a[i];
    }
    struct light_flow *f = &l->flows[h % LIGHT_FLOWS];
    if (!f->used || f->port != port || f->ssid != ssid || memcmp(f->addr, a, 16) != 0) {
        *f = (struct light_flow){.port = port, .ssid = ssid, .used = true};
        memcpy(f->addr, a, 16);
    }
    return f;
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
 * flag unknown types with U (cleared on known ones) and malformed ones with M. key is set in authenticated mode. */
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

/* Build the reply to a STAMP packet in out; returns its length or 0 to drop. */
static size_t stamp_reply(struct light *l, struct sock_rxbuf *b, const struct light_key *key,
                          uint8_t *out)
{
    uint32_t mode = key ? WIRE_MODE_AUTH : WIRE_MODE_OPEN;
    struct wire_stamp_sender p;
    if (wire_stamp_sender_decode(b->data, b->len, mode, &p) < 0) {
        return 0;
    }
    struct light_flow *f = flow_get(l, &b->peer, p.ssid);
    f->rx++;
    size_t base = key ? WIRE_STAMP_AUTH_LEN : WIRE_STAMP_OPEN_LEN;
    uint8_t *tlvs = l->x->work;
    size_t tlen = b->len - base;
    memcpy(tlvs, p.tlvs, tlen);
    answer_tlvs(l, tlvs, tlen, b, f, key);
    struct wire_stamp_reflector r = {
        .seq = f->tx, .ssid = p.ssid, .recv_ts = clk_to_ntp(b->info.ts).raw, .sender_seq = p.seq,
        .sender_ts = p.ts, .sender_errest = p.errest,
        .sender_ttl = (uint8_t)(b->info.ttl >= 0 ? b->info.ttl : 255), .tlvs = tlvs,
        .tlvs_len = tlen};
    struct clk_time t3 = clk_now();
    r.ts = clk_to_ntp(t3).raw;
    r.errest = sess_errest_get(&l->x->errest, t3);
    int n = wire_stamp_reflector_encode(&r, mode, out, SESS_PKT_MAX);
    if (n <= 0) {
        return 0;
    }
    if (key) {
        cry_stamp_hmac(key->key, key->len, out, WIRE_STAMP_AUTH_HMAC_OFF,
                       out + WIRE_STAMP_AUTH_HMAC_OFF);
    }
    f->tx++;
    return (size_t)n;
}

/* Build the reply to a TWAMP Light (RFC 5357 layout) packet in out; length or 0. */
static size_t light_reply(struct light *l, struct sock_rxbuf *b, uint8_t *out)
{
    struct wire_sender_pkt p;
    if (wire_sender_decode(b->data, b->len, WIRE_MODE_OPEN, &p) < 0) {
        return 0;
    }
    size_t len = b->len > WIRE_REFLECTOR_OPEN_LEN ? b->len : WIRE_REFLECTOR_OPEN_LEN;
    struct wire_reflector_pkt r = {
        .seq = p.seq, .recv_ts = clk_to_ntp(b->info.ts).raw, .sender_seq = p.seq,
        .sender_ts = p.ts, .sender_errest = p.errest,
        .sender_ttl = (uint8_t)(b->info.ttl >= 0 ? b->info.ttl : 255),
        .pad_len = len - WIRE_REFLECTOR_OPEN_LEN};
    struct clk_time t3 = clk_now();
    r.ts = clk_to_ntp(t3).raw;
    r.errest = sess_errest_get(&l->x->errest, t3);
    int n = wire_reflector_encode(&r, WIRE_MODE_OPEN, out, SESS_PKT_MAX);
    return n > 0 ? (size_t)n : 0;
}

/* A STAMP open packet has zeros where TWAMP Light carries padding (octets 16-43). */
static bool looks_stamp(const uint8_t *pkt, size_t len)
{
    return len >= WIRE_STAMP_OPEN_LEN && lp_all_zero(pkt + 16, WIRE_STAMP_OPEN_LEN - 16);
}

/* Build the reply to one packet in x->tx[slot]; false to drop it. */
static bool reflect_one(struct light *l, struct sock_rxbuf *b, unsigned slot)
{
    if (b->truncated || b->len < WIRE_SENDER_OPEN_LEN) {
        l->cnt.malformed++;
        return false;
    }
    uint8_t *out = l->x->txmem[slot];
    int k = find_key(l, b->data, b->len);
    size_t n;
    if (k >= 0) {
        n = stamp_reply(l, b, &l->keys[k], out);
    } else if (looks_stamp(b->data, b->len)) {
        n = stamp_reply(l, b, NULL, out);
    } else {
        n = light_reply(l, b, out);
    }
    if (n == 0) {
        l->cnt.malformed++;
        return false;
    }
    l->cnt.received++;
    l->cnt.src_count[b->info.src & 3]++;
    l->x->tx[slot] = (struct sock_txbuf){.data = out, .len = n, .dst = &b->peer, .tos = -1};
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
        for (int i = 0; i < n; i++) {
            replies += reflect_one(l, &l->x->rx[i], replies);
        }
        sess_send_replies(fd, l->x, replies, &l->cnt);
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
    if (!l->x || light_set_keys(l, keys, nkeys) < 0 ||
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
    free(l);
}

struct sess_counters light_counters(const struct light *l)
{
    return l->cnt;
}
