/* fuzz_conf.c - libFuzzer harness for the configuration parsers: the daemon config
 * (conf_load_file, OWAMP and TWAMP), the pass-phrase store (conf_keys_load_file) and the
 * limits file (conf_limits_load_file), each reading the input from a temporary file.
 * Input: octet 0 picks the parser; the rest is the file. After a successful load the
 * lookups the daemon makes are run, and the class tree must have no cycle. */
#include "common.h"
#include "conf.h"
#include "fuzz.h"

#include <netinet/in.h>
#include <sys/mman.h>
#include <unistd.h>

static char path[64];
static int fd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* An in-memory file (a disk file makes every run wait on ftruncate), opened by the
     * parsers through /proc like any path. */
    fd = memfd_create("fuzz_conf", 0);
    if (fd < 0) {
        snprintf(path, sizeof(path), "/tmp/fuzz_conf.XXXXXX");
        fd = mkstemp(path);
        FUZZ_CHECK(fd >= 0);
        unlink(path);
    }
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    return 0;
}

static void put_file(const uint8_t *b, size_t len)
{
    FUZZ_CHECK(ftruncate(fd, 0) == 0);
    FUZZ_CHECK(pwrite(fd, b, len, 0) == (ssize_t)len);
}

static void peers(struct sockaddr_in *v4, struct sockaddr_in6 *v6)
{
    *v4 = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x0a000001)};
    *v6 = (struct sockaddr_in6){.sin6_family = AF_INET6};
    v6->sin6_addr.s6_addr[0] = 0x20;
    v6->sin6_addr.s6_addr[1] = 0x01;
    v6->sin6_addr.s6_addr[15] = 1;
}

static void do_conf(enum conf_proto proto)
{
    static struct conf c;
    char err[256];
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
    conf_defaults(&c, proto);
    if (conf_load_file(&c, path, err, sizeof(err)) == 0) {
        FUZZ_CHECK(c.n_third_party <= CONF_THIRD_PARTY_MAX);
        peers(&v4, &v6);
        conf_third_party_allowed(&c, (struct sockaddr *)&v4, NULL);
        conf_third_party_allowed(&c, (struct sockaddr *)&v6, "alice");
    }
}

static void do_keys(void)
{
    struct conf_keys k;
    char err[256];
    uint8_t out[CONF_PASSPHRASE_MAX];
    conf_keys_init(&k);
    if (conf_keys_load_file(&k, path, err, sizeof(err)) == 0) {
        for (size_t i = 0; i < k.n; i++) {
            FUZZ_CHECK(conf_keys_has(&k, k.v[i].identity));
            int n = conf_keys_lookup(&k, k.v[i].identity, out, sizeof(out));
            FUZZ_CHECK(n == LP_E_LEN || (n >= 0 && (size_t)n <= sizeof(out)));
        }
    } else {
        FUZZ_CHECK(k.n == 0);
    }
    conf_keys_free(&k);
}

/* Walking up from cls reaches the root in fewer than nclasses steps. */
static void check_chain(const struct conf_limits *l, const struct conf_class *cls)
{
    size_t steps = 0;
    while (cls != NULL) {
        FUZZ_CHECK(steps++ <= l->nclasses);
        cls = conf_limits_parent(l, cls);
    }
}

static void do_limits(void)
{
    static uint8_t pf[] = "secret";
    struct conf_key key = {.identity = "alice", .pf = pf, .pf_len = 6};
    struct conf_keys keys = {.v = &key, .n = 1};
    struct conf_limits l;
    char err[256];
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
    FUZZ_CHECK(conf_limits_init(&l) == 0);
    if (conf_limits_load_file(&l, path, &keys, err, sizeof(err)) == 0) {
        peers(&v4, &v6);
        for (size_t i = 0; i < l.nclasses; i++) {
            check_chain(&l, &l.classes[i]);
            FUZZ_CHECK(conf_limits_find(&l, l.classes[i].name) != NULL);
        }
        check_chain(&l, conf_limits_class_for(&l, (struct sockaddr *)&v4, NULL));
        check_chain(&l, conf_limits_class_for(&l, (struct sockaddr *)&v6, "alice"));
        check_chain(&l, conf_limits_class_for(&l, NULL, "bob"));
    }
    conf_limits_free(&l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 16384) {
        return 0;
    }
    if (fd < 0) {
        LLVMFuzzerInitialize(NULL, NULL);
    }
    put_file(data + 1, size - 1);
    switch (data[0] % 4) {
    case 0: do_conf(CONF_PROTO_OWAMP); break;
    case 1: do_conf(CONF_PROTO_TWAMP); break;
    case 2: do_keys(); break;
    default: do_limits(); break;
    }
    return 0;
}
