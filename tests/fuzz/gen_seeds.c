/* gen_seeds.c - writes the seed corpus of every fuzz harness into OUT/<target>/ (run once by
 * hand: `make fuzz-seeds`; the seeds are committed). Control messages and test packets come
 * from the perfSONAR interop captures (../shared/interop; the A/E/M control streams are
 * decrypted with the known pass-phrase), in each harness's input format; cmsg buffers,
 * STAMP packets with TLVs and configuration files are synthesised.
 * Usage: gen_seeds INTEROP_DIR OUT_DIR */
#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <time.h>

#include "../interop/pcap_flow.h"
#include "crypto.h"
#include "wire.h"

#define PASS "correct horse battery staple"
#define MAX_MSGS 64

static const char *out_dir;
static unsigned nseeds;

/* ------------------------------------------------------------------ output */

static void die(const char *what)
{
    fprintf(stderr, "gen_seeds: %s\n", what);
    exit(1);
}

/* A growable octet string. */
struct seed {
    uint8_t b[1 << 16];
    size_t n;
};

static void put(struct seed *s, const void *p, size_t n)
{
    if (s->n + n > sizeof(s->b)) {
        die("seed too large");
    }
    memcpy(s->b + s->n, p, n);
    s->n += n;
}

static void put8(struct seed *s, uint8_t v)
{
    put(s, &v, 1);
}

static void write_seed(const char *target, const char *name, const struct seed *s)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", out_dir, target);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/%s/%s", out_dir, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(s->b, 1, s->n, f) != s->n || fclose(f) != 0) {
        die(path);
    }
    nseeds++;
}

/* ----------------------------------------------------- control streams in plaintext */

/* One message of a control stream (offsets into the plaintext). */
struct msg {
    size_t off, len;
    enum wire_msg kind;
};

struct conv {
    const char *name;
    enum wire_proto proto;
    uint32_t mode;
    uint8_t *up, *down; /* client->server, server->client plaintext */
    size_t up_len, down_len;
    struct msg cmsg[MAX_MSGS], smsg[MAX_MSGS];
    size_t ncmsg, nsmsg;
};

/* Decrypt both directions after Server-Start (A/E/M), as the peers' streams would. */
static void decrypt_conv(struct conv *c)
{
    struct wire_greeting g;
    struct wire_setup s;
    struct cry_session_keys keys;
    struct cry_stream st;
    uint8_t k[CRY_KEY_LEN], echo[CRY_CHALLENGE_LEN];

    if (wire_greeting_decode(c->down, c->down_len, &g) < 0 ||
        wire_setup_decode(c->up, c->up_len, c->proto, &s) < 0) {
        die("bad greeting or set-up in capture");
    }
    c->mode = s.mode;
    if ((s.mode & WIRE_MODE_SECURITY) == WIRE_MODE_OPEN) {
        return;
    }
    cry_kdf((const uint8_t *)PASS, strlen(PASS), g.salt, sizeof(g.salt), g.count, k);
    cry_token_decrypt(k, s.token, echo, &keys);
    size_t up0 = WIRE_SETUP_LEN, down0 = WIRE_GREETING_LEN + 32;
    cry_stream_init(&st, &keys, s.client_iv, true);
    cry_stream_decrypt(&st, c->up + up0, (c->up_len - up0) / 16 * 16);
    cry_stream_init(&st, &keys, c->down + WIRE_GREETING_LEN + 16, true);
    cry_stream_decrypt(&st, c->down + down0, (c->down_len - down0) / 16 * 16);
}

/* Length of the message of kind at off, or 0. */
static size_t msg_len(const struct conv *c, const uint8_t *buf, size_t len, size_t off,
                      enum wire_msg kind)
{
    bool known = false;
    long n = 0;
    size_t have = 0;
    while (off < len) {
        n = wire_ctrl_msg_len(buf + off, have, c->proto, kind, &known);
        if (n <= 0 || known || (size_t)n > len - off) {
            break;
        }
        have = (size_t)n;
    }
    return known && n > 0 && (size_t)n <= len - off ? (size_t)n : 0;
}

static void add_msg(struct msg *m, size_t *n, size_t off, size_t len, enum wire_msg kind)
{
    if (*n == MAX_MSGS) {
        die("too many messages");
    }
    m[(*n)++] = (struct msg){off, len, kind};
}

/* Split the client's stream: Set-Up-Response, then commands. */
static void split_up(struct conv *c)
{
    size_t off = WIRE_SETUP_LEN, n;
    add_msg(c->cmsg, &c->ncmsg, 0, WIRE_SETUP_LEN, WIRE_MSG_SETUP);
    while ((n = msg_len(c, c->up, c->up_len, off, WIRE_MSG_COMMAND)) > 0) {
        add_msg(c->cmsg, &c->ncmsg, off, n, WIRE_MSG_COMMAND);
        off += n;
    }
}

/* A fixed-length section after an accepted Fetch-Ack. */
static size_t add_section(struct conv *c, size_t off, size_t len)
{
    if (len > c->down_len - off) {
        die("short fetch section");
    }
    add_msg(c->smsg, &c->nsmsg, off, len, WIRE_MSG_FETCH_ACK);
    return off + len;
}

/* Split the server's stream: each reply's kind follows from the client's commands; OWAMP
 * servers also send Stop-Sessions (command 3) of their own. */
static void split_down(struct conv *c)
{
    size_t off = WIRE_GREETING_LEN, n;
    add_msg(c->smsg, &c->nsmsg, 0, WIRE_GREETING_LEN, WIRE_MSG_GREETING);
    add_msg(c->smsg, &c->nsmsg, off, WIRE_SERVER_START_LEN, WIRE_MSG_SERVER_START);
    off += WIRE_SERVER_START_LEN;
    for (size_t i = 1; i < c->ncmsg && off < c->down_len; i++) {
        enum wire_msg kind;
        switch (c->up[c->cmsg[i].off]) {
        case WIRE_CMD_REQUEST_SESSION:
        case WIRE_CMD_REQUEST_TW_SESSION: kind = WIRE_MSG_ACCEPT_SESSION; break;
        case WIRE_CMD_START_SESSIONS: kind = WIRE_MSG_START_ACK; break;
        case WIRE_CMD_FETCH_SESSION: kind = WIRE_MSG_FETCH_ACK; break;
        default: kind = c->proto == WIRE_OWAMP ? WIRE_MSG_COMMAND : 0; break;
        }
        if (kind == 0 || !(n = msg_len(c, c->down, c->down_len, off, kind))) {
            continue;
        }
        add_msg(c->smsg, &c->nsmsg, off, n, kind);
        off += n;
        struct wire_fetch_ack a;
        if (kind == WIRE_MSG_FETCH_ACK && wire_fetch_ack_decode(c->down + off - n, n, &a) > 0 &&
            a.accept == 0) {
            n = msg_len(c, c->down, c->down_len, off, WIRE_MSG_COMMAND);
            add_msg(c->smsg, &c->nsmsg, off, n, WIRE_MSG_COMMAND);
            off = add_section(c, off + n, wire_fetch_skips_len(a.nskips));
            off = add_section(c, off, wire_fetch_records_len(a.nrecords));
        }
    }
}

/* -------------------------------------------------------- seeds per harness */

/* fuzz_wire_ctrl: selector, array size, message; and the framing mode (17) per kind. */
static void seeds_wire_ctrl(const struct conv *c, const uint8_t *buf, const struct msg *m,
                            unsigned idx, bool from_server)
{
    struct seed s = {.n = 0};
    uint8_t tw = c->proto == WIRE_TWAMP ? 0x80 : 0;
    uint8_t sel = 17, arg = (uint8_t)m->kind;
    const uint8_t *p = buf + m->off;
    char name[96];

    put8(&s, sel | tw);
    put8(&s, arg);
    put(&s, p, m->len);
    snprintf(name, sizeof(name), "%s-%s%02u-frame", c->name, from_server ? "s" : "c", idx);
    write_seed("wire_ctrl", name, &s);

    switch (m->kind) {
    case WIRE_MSG_GREETING: sel = 0; break;
    case WIRE_MSG_SETUP: sel = 1; break;
    case WIRE_MSG_SERVER_START: sel = 2; break;
    case WIRE_MSG_ACCEPT_SESSION: sel = 5; break;
    case WIRE_MSG_START_ACK: sel = 7; break;
    case WIRE_MSG_FETCH_ACK: /* Fetch-Ack, or the skip / record sections after it */
        sel = m->len == WIRE_FETCH_ACK_LEN ? 12 : 15;
        arg = m->len == WIRE_FETCH_ACK_LEN ? 0 : (uint8_t)((m->len - 16) / WIRE_RECORD_LEN);
        if (m->len == 16) {
            sel = 13; /* empty skip section */
        }
        break;
    default:
        switch (p[0]) {
        case WIRE_CMD_REQUEST_SESSION:
        case WIRE_CMD_REQUEST_TW_SESSION: sel = 3; break;
        case WIRE_CMD_START_SESSIONS: sel = 6; break;
        case WIRE_CMD_STOP_SESSIONS: sel = 9, arg = 8; break;
        case WIRE_CMD_FETCH_SESSION: sel = 11; break;
        default: sel = 10; break;
        }
    }
    s.n = 0;
    put8(&s, sel | tw);
    put8(&s, arg);
    put(&s, p, m->len);
    snprintf(name, sizeof(name), "%s-%s%02u", c->name, from_server ? "s" : "c", idx);
    write_seed("wire_ctrl", name, &s);
}

/* A chunk (fz_chunk in fuzz_ctrl.h): header, then the blocks (sealed by the harness). */
static void put_chunk(struct seed *s, const uint8_t *p, size_t len, uint8_t how)
{
    size_t blocks = len / 16;
    if (blocks >= 1 && blocks <= 63) {
        put8(s, (uint8_t)(how << 6 | (blocks - 1)));
    } else {
        put8(s, (uint8_t)(how << 6 | 0x3f));
        put8(s, (uint8_t)((blocks - 1) >> 8));
        put8(s, (uint8_t)(blocks - 1));
    }
    put(s, p, len);
}

/* A client message as sealed chunks (an OWAMP request has two HMAC parts). */
static void put_client_msg(struct seed *s, const struct conv *c, const struct msg *m)
{
    const uint8_t *p = c->up + m->off;
    if (c->proto == WIRE_OWAMP && p[0] == WIRE_CMD_REQUEST_SESSION) {
        put_chunk(s, p, WIRE_REQUEST_LEN, 0);
        put_chunk(s, p + WIRE_REQUEST_LEN, m->len - WIRE_REQUEST_LEN, 0);
    } else {
        put_chunk(s, p, m->len, 0);
    }
}

static uint8_t mode_sel(uint32_t mode)
{
    switch (mode & WIRE_MODE_SECURITY) {
    case WIRE_MODE_AUTH: return 1;
    case WIRE_MODE_ENC: return 2;
    case WIRE_MODE_MIXED: return 3;
    default: return 0;
    }
}

/* fuzz_ctrl_server: the client's messages after set-up; fuzz_ctrl_server_raw: the open
 * streams as sent, whole and in 7-octet pieces. */
static void seeds_ctrl_server(const struct conv *c)
{
    struct seed s = {.n = 0};
    char name[96];
    uint8_t tw = c->proto == WIRE_TWAMP;
    put8(&s, (uint8_t)(tw | mode_sel(c->mode) << 1));
    for (size_t i = 1; i < c->ncmsg; i++) {
        put_client_msg(&s, c, &c->cmsg[i]);
    }
    snprintf(name, sizeof(name), "%s", c->name);
    write_seed("ctrl_server", name, &s);
    /* Each command alone too, so the fuzzer can splice them. */
    for (size_t i = 1; i < c->ncmsg; i++) {
        s.n = 0;
        put8(&s, (uint8_t)(tw | mode_sel(c->mode) << 1));
        put_client_msg(&s, c, &c->cmsg[i]);
        snprintf(name, sizeof(name), "%s-c%02zu", c->name, i);
        write_seed("ctrl_server", name, &s);
    }
    if (mode_sel(c->mode) != 0) {
        return;
    }
    for (uint8_t piece = 0; piece <= 7; piece += 7) {
        s.n = 0;
        put8(&s, (uint8_t)(tw | piece << 2));
        put(&s, c->up, c->up_len);
        snprintf(name, sizeof(name), "%s-p%u", c->name, piece);
        write_seed("ctrl_server_raw", name, &s);
    }
}

/* fuzz_ctrl_client ops: 0 = a chunk of server stream, 3 request, 4 start, 5 fetch, 6 stop. */
static void seeds_ctrl_client(const struct conv *c)
{
    struct seed s = {.n = 0};
    char name[96];
    size_t next = 2; /* server messages after greeting and Server-Start */
    bool open = mode_sel(c->mode) == 0;
    put8(&s, (uint8_t)((c->proto == WIRE_TWAMP) | mode_sel(c->mode) << 1));
    if (open) {
        put8(&s, 0);
        put_chunk(&s, c->down + c->smsg[1].off, WIRE_SERVER_START_LEN, 0);
    }
    for (size_t i = 1; i < c->ncmsg; i++) {
        const uint8_t *p = c->up + c->cmsg[i].off;
        switch (p[0]) {
        case WIRE_CMD_REQUEST_SESSION:
        case WIRE_CMD_REQUEST_TW_SESSION:
            put8(&s, 3);
            put8(&s, (uint8_t)(1u << 2 | (p[2] == 1) << 1));
            break;
        case WIRE_CMD_START_SESSIONS: put8(&s, 4); break;
        case WIRE_CMD_FETCH_SESSION:
            put8(&s, 5);
            put8(&s, 0);
            break;
        default: put8(&s, 6); break;
        }
        /* The replies to this command: one message, or the fetch reply with its sections. */
        size_t take = p[0] == WIRE_CMD_FETCH_SESSION ? 4 : 1;
        if (p[0] == WIRE_CMD_STOP_SESSIONS && c->proto == WIRE_TWAMP) {
            take = 0;
        }
        for (size_t k = 0; k < take && next < c->nsmsg; k++, next++) {
            const struct msg *m = &c->smsg[next];
            put8(&s, 0);
            if (m->kind == WIRE_MSG_COMMAND && c->down[m->off] == WIRE_CMD_REQUEST_SESSION) {
                put_chunk(&s, c->down + m->off, WIRE_REQUEST_LEN, 0);
                put8(&s, 0);
                put_chunk(&s, c->down + m->off + WIRE_REQUEST_LEN, m->len - WIRE_REQUEST_LEN, 0);
            } else {
                put_chunk(&s, c->down + m->off, m->len, 0);
            }
        }
    }
    snprintf(name, sizeof(name), "%s", c->name);
    write_seed("ctrl_client", name, &s);
}

static void load_conv(const char *dir, const char *name, struct conv *c, struct capture *cap)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s.pcap", dir, name);
    if (capture_load(path, cap) < 0) {
        fprintf(stderr, "%s: %s\n", path, cap->err);
        die("cannot read capture");
    }
    memset(c, 0, sizeof(*c));
    c->name = name;
    c->proto = name[0] == 't' ? WIRE_TWAMP : WIRE_OWAMP;
    c->up = cap->c2s.data;
    c->up_len = cap->c2s.len;
    c->down = cap->s2c.data;
    c->down_len = cap->s2c.len;
    decrypt_conv(c);
    split_up(c);
    split_down(c);
}

/* fuzz_wire_pkt: every test packet (A/E ones stay encrypted: their layout still applies). */
static void seeds_wire_pkt(const struct conv *c, const struct capture *cap)
{
    for (size_t i = 0; i < cap->n_udp && i < 4; i++) {
        const struct udp_rec *u = &cap->udp[i];
        struct seed s = {.n = 0};
        char name[96];
        bool reflected = c->proto == WIRE_TWAMP && u->sport == cap->udp[0].dport;
        uint8_t m = mode_sel(c->mode);
        put8(&s, reflected ? 1 : 0);
        put8(&s, 0);
        put8(&s, 0);
        put8(&s, 0);
        put8(&s, m == 3 ? 0 : m); /* mode = 1 << (value % 4); Mixed tests open */
        put(&s, u->data, u->len);
        snprintf(name, sizeof(name), "%s-u%zu", c->name, i);
        write_seed("wire_pkt", name, &s);
    }
}

/* ------------------------------------------------------------ synthetic seeds */

static void seeds_stamp(void)
{
    uint8_t tlvs[256], pkt[512], sub[64];
    size_t n = 0, m = 0;
    struct wire_tlv_location loc = {.dst_port = 862, .src_port = 9000, .sub = sub};
    struct wire_tlv_tsinfo ts = {.sync_in = 1, .method_in = 2, .sync_out = 1, .method_out = 1};
    struct wire_tlv_cos cos = {.dscp1 = 46, .dscp2 = 10, .ecn = 1, .rp = 0};
    struct wire_tlv_direct dir = {1, 2, 3};
    uint8_t hmac[WIRE_HMAC_LEN] = {1, 2, 3};
    uint8_t v4[4] = {127, 0, 0, 1};

    m += (size_t)wire_tlv_encode(WIRE_TLV_F_U, 1, v4, 4, sub + m, sizeof(sub) - m);
    loc.sub_len = m;
    n += (size_t)wire_tlv_encode(WIRE_TLV_F_U, WIRE_TLV_PADDING, NULL, 8, tlvs + n,
                                 sizeof(tlvs) - n);
    n += (size_t)wire_tlv_location_encode(WIRE_TLV_F_U, &loc, tlvs + n, sizeof(tlvs) - n);
    n += (size_t)wire_tlv_tsinfo_encode(WIRE_TLV_F_U, &ts, tlvs + n, sizeof(tlvs) - n);
    n += (size_t)wire_tlv_cos_encode(WIRE_TLV_F_U, &cos, tlvs + n, sizeof(tlvs) - n);
    n += (size_t)wire_tlv_direct_encode(WIRE_TLV_F_U, &dir, tlvs + n, sizeof(tlvs) - n);
    n += (size_t)wire_tlv_encode(WIRE_TLV_F_U, WIRE_TLV_ACCESS_REPORT, v4, 4, tlvs + n,
                                 sizeof(tlvs) - n);
    n += (size_t)wire_tlv_hmac_encode(WIRE_TLV_F_U, hmac, tlvs + n, sizeof(tlvs) - n);

    for (int kind = 0; kind < 4; kind++) {
        uint32_t mode = kind & 1 ? WIRE_MODE_AUTH : WIRE_MODE_OPEN;
        int len;
        if (kind < 2) {
            struct wire_stamp_sender p = {.seq = 7,
                                          .ts = 1ull << 60,
                                          .errest = 0x8001,
                                          .ssid = 3,
                                          .tlvs = tlvs,
                                          .tlvs_len = n};
            len = wire_stamp_sender_encode(&p, mode, pkt, sizeof(pkt));
        } else {
            struct wire_stamp_reflector p = {.seq = 7,
                                             .ts = 1ull << 60,
                                             .errest = 0x8001,
                                             .ssid = 3,
                                             .recv_ts = 5,
                                             .sender_seq = 7,
                                             .sender_ts = 4,
                                             .sender_ttl = 255,
                                             .tlvs = tlvs,
                                             .tlvs_len = n};
            len = wire_stamp_reflector_encode(&p, mode, pkt, sizeof(pkt));
        }
        struct seed s = {.n = 0};
        char name[32];
        put8(&s, (uint8_t)(2 + kind / 2));
        put8(&s, 0);
        put8(&s, 0);
        put8(&s, 0);
        put8(&s, (uint8_t)(kind & 1));
        put(&s, pkt, (size_t)len);
        snprintf(name, sizeof(name), "stamp-%d", kind);
        write_seed("wire_pkt", name, &s);
    }
    /* The TLV area alone, and with a truncated last TLV. */
    for (int cut = 0; cut < 2; cut++) {
        struct seed s = {.n = 0};
        put8(&s, 6);
        put(&s, "\0\0\0\0", 4);
        put(&s, tlvs, n - (size_t)cut * 3);
        write_seed("wire_pkt", cut ? "tlvs-cut" : "tlvs", &s);
    }
}

/* A cmsg buffer being built. */
struct cbuf {
    union {
        size_t align; /* the alignment CMSG_ALIGN assumes */
        uint8_t b[1024];
    } u;
    size_t n;
};

static void add_cmsg(struct cbuf *c, int level, int type, const void *data, size_t len)
{
    struct cmsghdr h = {.cmsg_len = CMSG_LEN(len), .cmsg_level = level, .cmsg_type = type};
    memset(c->u.b + c->n, 0, CMSG_SPACE(len));
    memcpy(c->u.b + c->n, &h, sizeof(h));
    memcpy(c->u.b + c->n + CMSG_LEN(0), data, len);
    c->n += CMSG_SPACE(len);
}

static void write_cbuf(const char *name, const struct cbuf *c)
{
    struct seed s = {.n = 0};
    put(&s, c->u.b, c->n);
    write_seed("cmsg", name, &s);
}

static void seeds_cmsg(void)
{
    struct timespec ts3[3] = {{1700000000, 123}, {0, 0}, {1700000000, 456}};
    struct timespec ts1 = {1700000001, 789};
    int ttl = 64, tclass = 0xb8;
    uint8_t tos = 0xb8;
    struct in_pktinfo pi = {.ipi_ifindex = 1, .ipi_addr.s_addr = htonl(0x7f000001)};
    struct in6_pktinfo pi6 = {.ipi6_ifindex = 2};
    struct sock_extended_err ee = {.ee_errno = ENOMSG,
                                   .ee_origin = SO_EE_ORIGIN_TIMESTAMPING,
                                   .ee_info = SCM_TSTAMP_SND,
                                   .ee_data = 41};
    struct cbuf c = {.n = 0};

    pi6.ipi6_addr.s6_addr[15] = 1;
    add_cmsg(&c, SOL_SOCKET, SO_TIMESTAMPING_OLD, ts3, sizeof(ts3));
    add_cmsg(&c, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
    add_cmsg(&c, IPPROTO_IP, IP_TOS, &tos, 1);
    add_cmsg(&c, IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi));
    write_cbuf("rx-v4", &c);
    c.n = 0;
    add_cmsg(&c, SOL_SOCKET, SO_TIMESTAMPNS_OLD, &ts1, sizeof(ts1));
    add_cmsg(&c, IPPROTO_IPV6, IPV6_HOPLIMIT, &ttl, sizeof(ttl));
    add_cmsg(&c, IPPROTO_IPV6, IPV6_TCLASS, &tclass, sizeof(tclass));
    add_cmsg(&c, IPPROTO_IPV6, IPV6_PKTINFO, &pi6, sizeof(pi6));
    write_cbuf("rx-v6", &c);
    c.n = 0;
    ts3[2] = (struct timespec){0, 0};
    add_cmsg(&c, SOL_SOCKET, SO_TIMESTAMPING_OLD, ts3, sizeof(ts3));
    add_cmsg(&c, IPPROTO_IP, IP_RECVERR, &ee, sizeof(ee));
    write_cbuf("tx-v4", &c);
    c.n = 0;
    add_cmsg(&c, IPPROTO_IPV6, IPV6_RECVERR, &ee, sizeof(ee));
    add_cmsg(&c, SOL_SOCKET, SO_TIMESTAMPING_OLD, ts3, sizeof(ts3));
    write_cbuf("tx-v6", &c);
}

static void conf_seed(const char *name, uint8_t sel, const char *text)
{
    struct seed s = {.n = 0};
    put8(&s, sel);
    put(&s, text, strlen(text));
    write_seed("conf", name, &s);
}

static void seeds_conf(const char *dir)
{
    char path[512], pfs[256] = "";
    snprintf(path, sizeof(path), "%s/alice.pfs", dir);
    FILE *f = fopen(path, "r");
    if (!f || fread(pfs, 1, sizeof(pfs) - 1, f) == 0) {
        die("cannot read alice.pfs");
    }
    fclose(f);
    conf_seed("owamp-conf", 0,
              "# owamp-server.conf\nsrcnode 127.0.0.1:861\nauthmode AEO\nuser owamp\n"
              "group owamp\nvardir /var/run\ndatadir /var/lib/owamp\ntestports 8760-9960\n"
              "maxcontrolsessions 10\nfacility local5\nloglevel debug\nloglocation\n"
              "verbose off\ndiskfudge 3.0\ndieby 30\ncontroltimeout 1800\n"
              "pbkdf2_count 2048\nenddelay 2.5\nallow_third_party 10.0.0.0/8 alice\n");
    conf_seed("twamp-conf", 1,
              "srcnode [::1]:862\nauthmode AEMO\ntestports 18800-18849\ntesttimeout 900\n"
              "refwait 60\nlight 127.0.0.1:8620\nrootfolly on\n");
    conf_seed("pfs", 2, pfs);
    conf_seed("limits", 3,
              "limit root with disk=0,bandwidth=0\n"
              "limit box with parent=root,bandwidth=1k, \\\n  test_sessions=4\n"
              "limit sand with parent=box,disk=10M,bandwidth=1k,delete_on_fetch=on,"
              "allow_open_mode=off\n"
              "assign default sand\nassign net 10.0.0.0/8 box\nassign net ::/127 root\n"
              "assign user alice root\n");
}

int main(int argc, char **argv)
{
    static const char *const names[] = {"owamp-open",      "owamp-auth",          "owamp-enc",
                                        "owamp-open-ipv6", "owamp-auth-wrongkey", "twamp-open",
                                        "twamp-auth",      "twamp-enc",           "twamp-mixed"};
    if (argc != 3) {
        die("usage: gen_seeds INTEROP_DIR OUT_DIR");
    }
    out_dir = argv[2];
    mkdir(out_dir, 0755);
    if (cry_init() < 0) {
        die("cry_init");
    }
    for (size_t i = 0; i < LP_ARRAY_LEN(names); i++) {
        struct conv c;
        struct capture cap;
        load_conv(argv[1], names[i], &c, &cap);
        for (size_t k = 0; k < c.ncmsg; k++) {
            seeds_wire_ctrl(&c, c.up, &c.cmsg[k], (unsigned)k, false);
        }
        for (size_t k = 0; k < c.nsmsg; k++) {
            seeds_wire_ctrl(&c, c.down, &c.smsg[k], (unsigned)k, true);
        }
        if (strstr(names[i], "wrongkey") == NULL) {
            seeds_ctrl_server(&c);
            seeds_ctrl_client(&c);
        }
        seeds_wire_pkt(&c, &cap);
        capture_free(&cap);
    }
    seeds_stamp();
    seeds_cmsg();
    seeds_conf(argv[1]);
    printf("gen_seeds: %u seeds written to %s\n", nseeds, out_dir);
    return 0;
}
