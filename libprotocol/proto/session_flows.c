/* session_flows.c - the light reflector's table of flows (see session_int.h): a fixed array
 * of entries, a hash of chains on the source address and port, and a list from the most to
 * the least recently used entry. An entry idle longer than the idle time is not found any
 * more (it stays where it is until it is reused); when every entry is taken, the least
 * recently used one is reused. Nothing is allocated after creation. */
#include "session_int.h"

#include <stdlib.h>
#include <string.h>

#define LF_NIL UINT32_MAX

struct light_flows {
    struct light_flow *e;
    uint32_t *bucket; /* nbuckets chain heads */
    uint32_t max, used, nbuckets;
    uint32_t newest, oldest; /* ends of the recency list */
    uint32_t seed;           /* keeps chains short whatever addresses a sender picks */
    int64_t idle_ns;         /* 0: entries never expire */
};

struct light_flows *lflows_create(uint32_t max, int64_t idle_ns)
{
    struct light_flows *t = calloc(1, sizeof(*t));
    uint32_t nb = 1;
    while (nb < max) {
        nb <<= 1;
    }
    if (!t || max == 0 || !(t->e = calloc(max, sizeof(*t->e))) ||
        !(t->bucket = malloc(nb * sizeof(*t->bucket)))) {
        lflows_destroy(t);
        return NULL;
    }
    for (uint32_t i = 0; i < nb; i++) {
        t->bucket[i] = LF_NIL;
    }
    t->max = max;
    t->nbuckets = nb;
    t->newest = t->oldest = LF_NIL;
    t->idle_ns = idle_ns;
    cry_random(&t->seed, sizeof(t->seed));
    return t;
}

void lflows_destroy(struct light_flows *t)
{
    if (t) {
        free(t->e);
        free(t->bucket);
        free(t);
    }
}

void lflows_set_idle(struct light_flows *t, int64_t idle_ns)
{
    t->idle_ns = idle_ns;
}

/* FNV-1a over the seed, the address and the port. */
static uint32_t key_hash(const struct light_flows *t, const struct light_flow_key *k)
{
    uint32_t h = 2166136261u ^ t->seed;
    for (size_t i = 0; i < sizeof(k->addr); i++) {
        h = (h ^ k->addr[i]) * 16777619u;
    }
    h = (h ^ k->family) * 16777619u;
    h = (h ^ (k->port >> 8)) * 16777619u;
    return ((h ^ (k->port & 0xFFu)) * 16777619u) & (t->nbuckets - 1);
}

static bool same_source(const struct light_flow *f, const struct light_flow_key *k)
{
    return f->key.port == k->port && f->key.family == k->family &&
           memcmp(f->key.addr, k->addr, sizeof(k->addr)) == 0;
}

static bool live(const struct light_flows *t, const struct light_flow *f, int64_t now_ns)
{
    return t->idle_ns <= 0 || now_ns - f->last_ns <= t->idle_ns;
}

/* Take entry i out of the recency list. */
static void unlink_recent(struct light_flows *t, uint32_t i)
{
    struct light_flow *f = &t->e[i];
    *(f->newer == LF_NIL ? &t->newest : &t->e[f->newer].older) = f->older;
    *(f->older == LF_NIL ? &t->oldest : &t->e[f->older].newer) = f->newer;
}

/* Put entry i at the most recent end of the list. */
static void push_newest(struct light_flows *t, uint32_t i)
{
    struct light_flow *f = &t->e[i];
    f->newer = LF_NIL;
    f->older = t->newest;
    *(t->newest == LF_NIL ? &t->oldest : &t->e[t->newest].newer) = i;
    t->newest = i;
}

/* Take entry i out of its hash chain. */
static void unlink_chain(struct light_flows *t, uint32_t i)
{
    uint32_t *p = &t->bucket[key_hash(t, &t->e[i].key)];
    while (*p != i) {
        p = &t->e[*p].hnext;
    }
    *p = t->e[i].hnext;
}

/* A live entry of the source k (with this ssid when match_ssid), or NULL. */
static struct light_flow *find(struct light_flows *t, const struct light_flow_key *k,
                               bool match_ssid, uint16_t ssid, int64_t now_ns)
{
    for (uint32_t i = t->bucket[key_hash(t, k)]; i != LF_NIL; i = t->e[i].hnext) {
        struct light_flow *f = &t->e[i];
        if (same_source(f, k) && live(t, f, now_ns) && (!match_ssid || f->ssid == ssid)) {
            return f;
        }
    }
    return NULL;
}

enum light_class lflows_class(struct light_flows *t, const struct light_flow_key *k, int64_t now_ns)
{
    const struct light_flow *f = find(t, k, false, 0, now_ns);
    return f ? f->cls : LIGHT_CLASS_NONE;
}

/* Mark f used at now_ns: the most recently used entry. */
static struct light_flow *touch(struct light_flows *t, struct light_flow *f, int64_t now_ns)
{
    uint32_t i = (uint32_t)(f - t->e);
    f->last_ns = now_ns;
    unlink_recent(t, i);
    push_newest(t, i);
    return f;
}

/* A new entry for k: a never used one while there are, else the least recently used one. */
static struct light_flow *add(struct light_flows *t, const struct light_flow_key *k,
                              enum light_class cls, uint16_t ssid, int64_t now_ns)
{
    uint32_t i;
    if (t->used < t->max) {
        i = t->used++;
    } else {
        i = t->oldest;
        unlink_chain(t, i);
        unlink_recent(t, i);
    }
    struct light_flow *f = &t->e[i];
    *f = (struct light_flow){.key = *k, .cls = cls, .ssid = ssid, .last_ns = now_ns};
    uint32_t *head = &t->bucket[key_hash(t, k)];
    f->hnext = *head;
    *head = i;
    push_newest(t, i);
    return f;
}

struct light_flow *lflows_use(struct light_flows *t, const struct light_flow_key *k,
                              enum light_class cls, uint16_t ssid, int64_t now_ns)
{
    bool stamp = cls == LIGHT_CLASS_STAMP;
    struct light_flow *f = find(t, k, stamp, ssid, now_ns);
    return f ? touch(t, f, now_ns) : add(t, k, cls, stamp ? ssid : 0, now_ns);
}

uint32_t lflows_count(const struct light_flows *t, int64_t now_ns)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < t->used; i++) {
        n += live(t, &t->e[i], now_ns);
    }
    return n;
}
