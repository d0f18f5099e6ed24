/* egress.c - loads and attaches the egress stamping program; see egress.h. */
#include "egress.h"

#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/egress_map.h"

#define EGRESS_PRIORITY 0xfff0u /* late among other filters: ours never ends the chain */
#define EGRESS_MAX_IF 64

extern const unsigned char egress_bpf_obj[];
extern const uint64_t egress_bpf_obj_size;

struct egress {
    struct bpf_object *obj;
    int prog_fd, socks_fd, conf_fd;
    uint32_t prog_id;
    uint32_t handle;
    uint64_t tai_offset_ns;
    int ifindex[EGRESS_MAX_IF];
    int nif;
};

/* libbpf's last message, for the reason given when loading fails. */
static char bpf_last[256];

static int bpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
static int bpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
    if (level != LIBBPF_DEBUG) {
        vsnprintf(bpf_last, sizeof(bpf_last), fmt, ap);
        bpf_last[strcspn(bpf_last, "\n")] = '\0';
    }
    return 0;
}

static void appendf(char *msg, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void appendf(char *msg, size_t len, const char *fmt, ...)
{
    size_t used = strlen(msg);
    if (used + 1 >= len) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + used, len - used, fmt, ap);
    va_end(ap);
}

/* CLOCK_TAI - CLOCK_REALTIME in whole seconds (the kernel's TAI offset; 0 when no time
 * daemon set one). */
static uint64_t tai_offset_ns(void)
{
    struct timespec tai, real;
    clock_gettime(CLOCK_TAI, &tai);
    clock_gettime(CLOCK_REALTIME, &real);
    long long d = (long long)tai.tv_sec - (long long)real.tv_sec;
    if (tai.tv_nsec - real.tv_nsec > 500000000L) {
        d++;
    } else if (real.tv_nsec - tai.tv_nsec > 500000000L) {
        d--;
    }
    return (uint64_t)d * 1000000000ULL;
}

static int set_tai_offset(struct egress *e)
{
    uint64_t off = tai_offset_ns();
    if (off == e->tai_offset_ns) {
        return 0;
    }
    uint32_t zero = 0;
    struct egress_conf c = {.tai_offset_ns = off};
    if (bpf_map_update_elem(e->conf_fd, &zero, &c, BPF_ANY) < 0) {
        return -1;
    }
    e->tai_offset_ns = off;
    return 0;
}

static int load(struct egress *e, char *msg, size_t msglen)
{
    libbpf_set_print(bpf_print);
    struct bpf_object_open_opts oo = {.sz = sizeof(oo), .object_name = "egress_stamp"};
    e->obj = bpf_object__open_mem(egress_bpf_obj, (size_t)egress_bpf_obj_size, &oo);
    if (!e->obj) {
        snprintf(msg, msglen, "cannot open the program: %s", strerror(errno));
        return -1;
    }
    if (bpf_object__load(e->obj) < 0) {
        int err = errno;
        snprintf(msg, msglen, "cannot load the program: %s%s%s", strerror(err),
                 bpf_last[0] ? ": " : "", bpf_last);
        return -1;
    }
    struct bpf_program *p = bpf_object__find_program_by_name(e->obj, "egress_stamp");
    struct bpf_prog_info info;
    uint32_t info_len = sizeof(info);
    memset(&info, 0, sizeof(info));
    e->prog_fd = p ? bpf_program__fd(p) : -1;
    e->socks_fd = bpf_object__find_map_fd_by_name(e->obj, "socks");
    e->conf_fd = bpf_object__find_map_fd_by_name(e->obj, "conf");
    if (e->prog_fd < 0 || e->socks_fd < 0 || e->conf_fd < 0 ||
        bpf_obj_get_info_by_fd(e->prog_fd, &info, &info_len) < 0) {
        snprintf(msg, msglen, "the program has no egress_stamp, socks or conf");
        return -1;
    }
    e->prog_id = info.id;
    e->tai_offset_ns = UINT64_MAX;
    return set_tai_offset(e);
}

/* Attach to one interface: 0, or -errno. */
static int attach(struct egress *e, int ifindex)
{
    struct bpf_tc_hook hook = {
        .sz = sizeof(hook), .ifindex = ifindex, .attach_point = BPF_TC_EGRESS};
    struct bpf_tc_opts opts = {.sz = sizeof(opts),
                               .handle = e->handle,
                               .priority = EGRESS_PRIORITY,
                               .prog_fd = e->prog_fd,
                               .flags = BPF_TC_F_REPLACE};
    int rc = bpf_tc_hook_create(&hook);
    if (rc < 0 && rc != -EEXIST) {
        return rc;
    }
    return bpf_tc_attach(&hook, &opts);
}

/* Detach from one interface: 0 (or gone, or another start's by now), or -errno. */
static int detach(const struct egress *e, int ifindex)
{
    struct bpf_tc_hook hook = {
        .sz = sizeof(hook), .ifindex = ifindex, .attach_point = BPF_TC_EGRESS};
    struct bpf_tc_opts opts = {
        .sz = sizeof(opts), .handle = e->handle, .priority = EGRESS_PRIORITY};
    int rc = bpf_tc_query(&hook, &opts);
    if (rc < 0) {
        return rc == -ENOENT || rc == -EINVAL || rc == -ENODEV ? 0 : rc;
    }
    if (opts.prog_id != e->prog_id) {
        return 0;
    }
    opts.prog_id = 0;
    opts.prog_fd = 0;
    opts.flags = 0;
    return bpf_tc_detach(&hook, &opts);
}

static void attach_named(struct egress *e, const char *name, char *msg, size_t msglen)
{
    int ifindex = (int)if_nametoindex(name);
    int rc = ifindex > 0 ? attach(e, ifindex) : -ENODEV;
    const char *sep = msg[0] ? ", " : "not on ";
    if (rc < 0) {
        appendf(msg, msglen, "%s%s: %s", sep, name, strerror(-rc));
    } else if (e->nif < EGRESS_MAX_IF) {
        e->ifindex[e->nif++] = ifindex;
    } else {
        (void)detach(e, ifindex);
        appendf(msg, msglen, "%s%s: more than %d interfaces", sep, name, EGRESS_MAX_IF);
    }
}

static void list_attached(const struct egress *e, char *out, size_t len)
{
    char name[IF_NAMESIZE];
    out[0] = '\0';
    for (int i = 0; i < e->nif; i++) {
        appendf(out, len, "%s%s", i ? ", " : "",
                if_indextoname((unsigned)e->ifindex[i], name) ? name : "?");
    }
}

struct egress *egress_open(const char *spec, uint32_t handle, char *msg, size_t msglen)
{
    char failed[256] = "";
    struct egress *e = calloc(1, sizeof(*e));
    msg[0] = '\0';
    if (!e) {
        snprintf(msg, msglen, "out of memory");
        return NULL;
    }
    e->handle = handle;
    e->prog_fd = e->socks_fd = e->conf_fd = -1;
    if (load(e, msg, msglen) < 0) {
        egress_close(e, NULL, 0);
        return NULL;
    }
    if (strcmp(spec, "all") == 0) {
        struct if_nameindex *ifs = if_nameindex();
        for (struct if_nameindex *i = ifs; i && i->if_index != 0; i++) {
            attach_named(e, i->if_name, failed, sizeof(failed));
        }
        if_freenameindex(ifs);
    } else {
        char copy[512], *save = NULL;
        snprintf(copy, sizeof(copy), "%s", spec);
        for (char *n = strtok_r(copy, ",", &save); n; n = strtok_r(NULL, ",", &save)) {
            attach_named(e, n, failed, sizeof(failed));
        }
    }
    if (e->nif == 0) {
        snprintf(msg, msglen, "attached nowhere (%s)", failed[0] ? failed : "no interface");
        egress_close(e, NULL, 0);
        return NULL;
    }
    char on[256];
    list_attached(e, on, sizeof(on));
    snprintf(msg, msglen, "on %s (tc filter pref %u handle 0x%x)%s%s", on, EGRESS_PRIORITY,
             e->handle, failed[0] ? "; " : "", failed);
    return e;
}

int egress_add(struct egress *e, int fd, uint64_t *cookie)
{
    socklen_t len = sizeof(*cookie);
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof(ss);
    struct egress_sock v = {0};
    if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == 0) {
        /* sin_port and sin6_port sit at the same offset, in network order */
        v.port = ((const struct sockaddr_in *)&ss)->sin_port;
    }
    if (v.port == 0 || getsockopt(fd, SOL_SOCKET, SO_COOKIE, cookie, &len) < 0 || *cookie == 0 ||
        set_tai_offset(e) < 0 || bpf_map_update_elem(e->socks_fd, cookie, &v, BPF_ANY) < 0) {
        *cookie = 0;
        return -1;
    }
    return 0;
}

void egress_remove(struct egress *e, uint64_t cookie, struct egress_counts *out)
{
    struct egress_sock v = {0};
    if (cookie != 0) {
        bpf_map_lookup_elem(e->socks_fd, &cookie, &v);
        bpf_map_delete_elem(e->socks_fd, &cookie);
    }
    if (out) {
        *out = (struct egress_counts){v.stamped, v.refused};
    }
}

void egress_close(struct egress *e, char *msg, size_t msglen)
{
    char name[IF_NAMESIZE];
    if (msg && msglen) {
        msg[0] = '\0';
    }
    if (!e) {
        return;
    }
    for (int i = 0; i < e->nif; i++) {
        int rc = detach(e, e->ifindex[i]);
        if (rc < 0 && msg) {
            appendf(msg, msglen, "%s%s (%s)", msg[0] ? ", " : "",
                    if_indextoname((unsigned)e->ifindex[i], name) ? name : "?", strerror(-rc));
        }
    }
    if (msg && msg[0]) {
        appendf(msg, msglen, "; tc filter del dev IF egress pref %u handle 0x%x bpf removes it",
                EGRESS_PRIORITY, e->handle);
    }
    bpf_object__close(e->obj);
    free(e);
}
