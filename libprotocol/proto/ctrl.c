/* ctrl.c - OWAMP/TWAMP-Control state machine (see ctrl.h). */
#include "ctrl_int.h"

#include <stdlib.h>
#include <string.h>

static int out_reserve(struct ctrl *c, size_t n)
{
    if (c->out_len + n <= c->out_cap) {
        return 0;
    }
    size_t cap = c->out_cap ? c->out_cap : 1024;
    while (cap < c->out_len + n) {
        cap *= 2;
    }
    if (cap > CTRL_OUT_MAX) {
        return LP_E_NOMEM;
    }
    uint8_t *p = realloc(c->out, cap);
    if (!p) {
        return LP_E_NOMEM;
    }
    c->out = p;
    c->out_cap = cap;
    return 0;
}

uint8_t *ctrl_out_append(struct ctrl *c, size_t n)
{
    if ((c->src_fn && !c->refilling) || out_reserve(c, n) < 0) {
        return NULL;
    }
    uint8_t *p = c->out + c->out_len;
    memset(p, 0, n);
    c->out_len += n;
    return p;
}

struct ctrl *ctrl_create(enum wire_proto proto, enum ctrl_role role, uint32_t modes, uint32_t count)
{
    struct ctrl *c = calloc(1, sizeof(*c));
    if (!c) {
        return NULL;
    }
    c->proto = proto;
    c->role = role;
    c->offered = modes;
    c->count = count;
    c->state = role == CTRL_SERVER ? ST_WAIT_SETUP : ST_WAIT_GREETING;
    if (role == CTRL_SERVER) {
        struct wire_greeting g = {.modes = modes, .count = count};
        cry_random(c->challenge, sizeof(c->challenge));
        cry_random(c->salt, sizeof(c->salt));
        memcpy(g.challenge, c->challenge, sizeof(g.challenge));
        memcpy(g.salt, c->salt, sizeof(g.salt));
        uint8_t *p = ctrl_out_append(c, WIRE_GREETING_LEN);
        if (!p || wire_greeting_encode(&g, p, WIRE_GREETING_LEN) < 0) {
            ctrl_destroy(c);
            return NULL;
        }
    }
    return c;
}

void ctrl_destroy(struct ctrl *c)
{
    if (!c) {
        return;
    }
    cry_stream_wipe(&c->tx);
    cry_stream_wipe(&c->rx);
    cry_wipe(&c->keys, sizeof(c->keys));
    if (c->in) {
        cry_wipe(c->in, c->in_cap);
    }
    free(c->in);
    free(c->out);
    free(c->x);
    free(c->slots);
    cry_wipe(c, sizeof(*c));
    free(c);
}

struct ctrl_scratch *ctrl_scratch(struct ctrl *c)
{
    if (!c->x) {
        c->x = calloc(1, sizeof(*c->x));
    }
    return c->x;
}

bool ctrl_reserve_slots(struct ctrl *c, uint32_t n)
{
    if (n <= c->cap_slots) {
        return true;
    }
    struct wire_slot *p = realloc(c->slots, (size_t)n * sizeof(*p));
    if (!p) {
        return false;
    }
    c->slots = p;
    c->cap_slots = n;
    return true;
}

uint32_t ctrl_mode(const struct ctrl *c)
{
    return c->mode;
}

bool ctrl_closed(const struct ctrl *c)
{
    return c->state == ST_CLOSED;
}

const struct cry_session_keys *ctrl_keys(const struct ctrl *c)
{
    return c->secure ? &c->keys : NULL;
}

void ctrl_output(const struct ctrl *c, const uint8_t **buf, size_t *len)
{
    *buf = c->out;
    *len = c->out_len - c->out_unsealed;
}

void ctrl_output_done(struct ctrl *c, size_t n)
{
    size_t ready = c->out_len - c->out_unsealed;
    n = n < ready ? n : ready;
    memmove(c->out, c->out + n, c->out_len - n);
    c->out_len -= n;
    if (c->src_fn) {
        ctrl_fetch_refill(c); /* a failure closes the channel */
    }
}

/* Decrypt the whole raw blocks that arrived once the receive stream is running. */
static void decrypt_pending(struct ctrl *c)
{
    if (!c->rx_ready) {
        return;
    }
    size_t n = (c->in_len - c->in_plain) / CRY_BLOCK_LEN * CRY_BLOCK_LEN;
    if (n > 0) {
        cry_stream_decrypt(&c->rx, c->in + c->in_plain, n);
        c->in_plain += n;
    }
}

int ctrl_input(struct ctrl *c, const uint8_t *buf, size_t len)
{
    if (len == 0) {
        return 0;
    }
    if (c->in_len + len > c->in_cap) {
        size_t cap = c->in_cap ? c->in_cap : 512;
        while (cap < c->in_len + len) {
            cap *= 2;
        }
        if (cap > CTRL_IN_MAX) {
            if (c->in_len + len > CTRL_IN_MAX) {
                return LP_E_NOMEM;
            }
            cap = CTRL_IN_MAX;
        }
        uint8_t *p = realloc(c->in, cap);
        if (!p) {
            return LP_E_NOMEM;
        }
        c->in = p;
        c->in_cap = cap;
    }
    memcpy(c->in + c->in_len, buf, len);
    c->in_len += len;
    decrypt_pending(c);
    return 0;
}

void ctrl_consume(struct ctrl *c, size_t n)
{
    memmove(c->in, c->in + n, c->in_len - n);
    c->in_len -= n;
    c->in_plain = c->in_plain > n ? c->in_plain - n : 0;
}

long ctrl_complete_len(struct ctrl *c, enum wire_msg kind)
{
    bool known = false;
    if (c->in_plain == 0) {
        return 0;
    }
    long n = wire_ctrl_msg_len(c->in, c->in_plain, c->proto, kind, &known);
    if (n < 0) {
        return n;
    }
    if (!known || (size_t)n > c->in_plain) {
        return (size_t)n > CTRL_IN_MAX ? LP_E_LEN : 0;
    }
    return n;
}

int ctrl_verify_part(struct ctrl *c, size_t off, size_t len)
{
    cry_stream_mac_update(&c->rx, c->in + off, len - WIRE_HMAC_LEN);
    return cry_stream_mac_verify(&c->rx, c->in + off + len - WIRE_HMAC_LEN);
}

int ctrl_seal_tail(struct ctrl *c, size_t len)
{
    return cry_stream_seal_msg(&c->tx, c->out + c->out_len - len, len);
}

int ctrl_expect(struct ctrl *c, enum wire_msg kind)
{
    if (c->nexpect == CTRL_EXPECT_MAX) {
        return LP_E_NOMEM;
    }
    c->expect[c->nexpect++] = kind;
    return 0;
}

static int next_greeting(struct ctrl *c, struct ctrl_event *ev)
{
    if (c->in_len < WIRE_GREETING_LEN) {
        return 0;
    }
    int rc = wire_greeting_decode(c->in, c->in_len, &ev->u.greeting);
    if (rc < 0) {
        return rc;
    }
    if (ev->u.greeting.count > CTRL_MAX_COUNT) {
        return LP_E_VALUE;
    }
    memcpy(c->challenge, ev->u.greeting.challenge, sizeof(c->challenge));
    memcpy(c->salt, ev->u.greeting.salt, sizeof(c->salt));
    c->count = ev->u.greeting.count;
    c->offered = ev->u.greeting.modes;
    ctrl_consume(c, WIRE_GREETING_LEN);
    c->state = ST_WAIT_SETUP_APP;
    ev->type = CTRL_EV_GREETING;
    return 1;
}

static int next_setup(struct ctrl *c, struct ctrl_event *ev)
{
    if (c->in_len < WIRE_SETUP_LEN) {
        return 0;
    }
    int rc = wire_setup_decode(c->in, c->in_len, c->proto, &c->setup);
    if (rc < 0) {
        return rc;
    }
    ctrl_consume(c, WIRE_SETUP_LEN);
    ev->u.setup.mode = c->setup.mode;
    memcpy(ev->u.setup.identity, c->setup.keyid, WIRE_KEYID_LEN);
    ev->u.setup.identity[WIRE_KEYID_LEN] = '\0';
    c->state = ST_WAIT_START_APP;
    ev->type = CTRL_EV_SETUP;
    return 1;
}

static int next_server_start(struct ctrl *c, struct ctrl_event *ev)
{
    if (c->in_len < WIRE_SERVER_START_LEN) {
        return 0;
    }
    struct wire_server_start clear;
    int rc = wire_server_start_decode_clear(c->in, c->in_len, &clear); /* sets accept */
    uint8_t accept = clear.accept;
    if (rc >= 0 && accept == WIRE_ACCEPT_OK) {
        cry_stream_init(&c->rx, &c->keys, clear.server_iv, c->secure);
        cry_stream_recv(&c->rx, c->in + WIRE_SERVER_START_SEALED_OFF, CRY_BLOCK_LEN);
    }
    rc = rc < 0 ? rc : wire_server_start_decode(c->in, c->in_len, &ev->u.server_start);
    if (rc < 0 && accept == WIRE_ACCEPT_OK) {
        return rc;
    }
    ev->u.server_start.accept = accept;
    ctrl_consume(c, WIRE_SERVER_START_LEN);
    ev->type = CTRL_EV_SERVER_START;
    if (accept != WIRE_ACCEPT_OK) {
        c->state = ST_CLOSED;
        return 1;
    }
    c->state = ST_ACTIVE;
    c->rx_ready = true;
    decrypt_pending(c);
    return 1;
}

int ctrl_next(struct ctrl *c, struct ctrl_event *ev)
{
    int rc;
    memset(ev, 0, sizeof(*ev));
    switch (c->state) {
    case ST_CLOSED: return LP_E_STATE;
    case ST_WAIT_SETUP_APP:
    case ST_WAIT_START_APP: return 0;
    case ST_WAIT_GREETING: rc = next_greeting(c, ev); break;
    case ST_WAIT_SETUP: rc = next_setup(c, ev); break;
    case ST_WAIT_SERVER_START: rc = next_server_start(c, ev); break;
    default: rc = ctrl_next_active(c, ev); break;
    }
    if (rc < 0) {
        c->state = ST_CLOSED;
    }
    return rc;
}

/* Queue the Server-Start; accept != 0 closes the connection. */
static int queue_server_start(struct ctrl *c, uint8_t accept, struct clk_ntp start_time)
{
    struct wire_server_start s = {.accept = accept};
    if (accept == WIRE_ACCEPT_OK) {
        cry_random(s.server_iv, sizeof(s.server_iv));
        s.start_time = start_time;
    }
    uint8_t *p = ctrl_out_append(c, WIRE_SERVER_START_LEN);
    if (!p) {
        return LP_E_NOMEM;
    }
    wire_server_start_encode(&s, p, WIRE_SERVER_START_LEN);
    if (accept != WIRE_ACCEPT_OK) {
        c->state = ST_CLOSED;
        return 0;
    }
    cry_stream_init(&c->tx, &c->keys, s.server_iv, c->secure);
    cry_stream_init(&c->rx, &c->keys, c->setup.client_iv, c->secure);
    cry_stream_send(&c->tx, p + WIRE_SERVER_START_SEALED_OFF, CRY_BLOCK_LEN);
    c->rx_ready = true;
    c->state = ST_ACTIVE;
    decrypt_pending(c);
    return 0;
}

/* Server: check the Set-Up-Response's token against the pass-phrase. */
static int check_token(struct ctrl *c, const uint8_t *pass, size_t passlen)
{
    uint8_t k[CRY_KEY_LEN];
    if (!pass) {
        return LP_E_AUTH;
    }
    int rc = cry_kdf(pass, passlen, c->salt, sizeof(c->salt), c->count, k);
    if (rc == 0) {
        rc = cry_token_open(k, c->setup.token, c->challenge, &c->keys);
    }
    cry_wipe(k, sizeof(k));
    return rc < 0 ? LP_E_AUTH : 0;
}

int ctrl_server_start(struct ctrl *c, const uint8_t *pass, size_t passlen, bool allowed,
                      struct clk_ntp start_time)
{
    if (c->role != CTRL_SERVER || c->state != ST_WAIT_START_APP) {
        return LP_E_STATE;
    }
    uint32_t mode = c->setup.mode;
    uint32_t sec = mode & WIRE_MODE_SECURITY;
    int rc = 0;
    if (!allowed || (mode & ~c->offered) || wire_mode_check(mode, c->proto) < 0) {
        rc = LP_E_MODE;
    } else if (sec != WIRE_MODE_OPEN) {
        c->secure = true;
        rc = check_token(c, pass, passlen);
    }
    if (rc < 0) {
        queue_server_start(c, WIRE_ACCEPT_FAILURE, start_time);
        return rc;
    }
    c->mode = mode;
    return queue_server_start(c, WIRE_ACCEPT_OK, start_time);
}

int ctrl_client_setup(struct ctrl *c, uint32_t mode, const char *identity, const uint8_t *pass,
                      size_t passlen)
{
    if (c->role != CTRL_CLIENT || c->state != ST_WAIT_SETUP_APP) {
        return LP_E_STATE;
    }
    if (wire_mode_check(mode, c->proto) < 0 || (mode & ~c->offered)) {
        return LP_E_MODE;
    }
    struct wire_setup s = {.mode = mode};
    c->secure = (mode & WIRE_MODE_SECURITY) != WIRE_MODE_OPEN;
    if (c->secure) {
        uint8_t k[CRY_KEY_LEN];
        if (!identity || !pass || strlen(identity) > WIRE_KEYID_LEN) {
            return LP_E_AUTH;
        }
        memcpy(s.keyid, identity, strlen(identity));
        int rc = cry_kdf(pass, passlen, c->salt, sizeof(c->salt), c->count, k);
        if (rc < 0) {
            return rc;
        }
        cry_session_keys_generate(&c->keys);
        cry_token_encrypt(k, c->challenge, &c->keys, s.token);
        cry_wipe(k, sizeof(k));
        cry_random(s.client_iv, sizeof(s.client_iv));
    }
    uint8_t *p = ctrl_out_append(c, WIRE_SETUP_LEN);
    if (!p) {
        return LP_E_NOMEM;
    }
    int rc = wire_setup_encode(&s, c->proto, p, WIRE_SETUP_LEN);
    if (rc < 0) {
        c->out_len -= WIRE_SETUP_LEN;
        return rc;
    }
    cry_stream_init(&c->tx, &c->keys, s.client_iv, c->secure);
    c->mode = mode;
    c->state = ST_WAIT_SERVER_START;
    return 0;
}

uint32_t ctrl_choose_mode(uint32_t server_modes, uint32_t client_modes)
{
    static const uint32_t pref[] = {WIRE_MODE_ENC, WIRE_MODE_AUTH, WIRE_MODE_MIXED, WIRE_MODE_OPEN};
    for (size_t i = 0; i < LP_ARRAY_LEN(pref); i++) {
        if (server_modes & client_modes & pref[i]) {
            return pref[i];
        }
    }
    return 0;
}
