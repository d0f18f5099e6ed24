/* test_conf.c - config, limits and pass-phrase files (reference owampd/twampd syntax). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "addr.h"
#include "common.h"
#include "conf.h"

static char tmpdir[64];

/* ---------- helpers ---------- */

static void wfile(char *path, size_t len, const char *name, const char *content)
{
    snprintf(path, len, "%s/%s", tmpdir, name);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(content, fp);
    fclose(fp);
}

static struct sockaddr_storage sa_of(const char *ip)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
    } else {
        assert_int_equal(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
        sin6->sin6_family = AF_INET6;
    }
    return ss;
}

/* A sockaddr for ip, valid until eight more calls. */
static const struct sockaddr *SA(const char *ip)
{
    static struct sockaddr_storage ring[8];
    static unsigned next;
    struct sockaddr_storage *s = &ring[next++ % 8];
    *s = sa_of(ip);
    return (const struct sockaddr *)s;
}

/* err must start with "path:line: " and contain needle. */
static void expect_err_at(const char *err, const char *path, unsigned line, const char *needle)
{
    char prefix[512];
    snprintf(prefix, sizeof(prefix), "%s:%u: ", path, line);
    if (strncmp(err, prefix, strlen(prefix)) != 0 || strstr(err, needle) == NULL) {
        print_error("expected \"%s...%s\", got \"%s\"\n", prefix, needle, err);
        fail();
    }
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_conf.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    return nftw(tmpdir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* ---------- conf ---------- */

static void test_conf_defaults(void **state)
{
    (void)state;
    struct conf c;
    conf_defaults(&c, CONF_PROTO_OWAMP);
    assert_int_equal(c.authmode, CONF_MODE_OPEN | CONF_MODE_AUTH | CONF_MODE_ENC);
    assert_int_equal(c.controltimeout_s, 1800);
    assert_int_equal(c.pbkdf2_count, 2048); /* Count seen in every interop greeting */
    assert_int_equal(c.dieby_s, 5);
    assert_int_equal(c.facility, LOG_DAEMON);
    assert_true(c.diskfudge == 1.0);
    assert_int_equal(c.enddelay_ns, 1000000000);
    assert_int_equal(c.testport_lo, 0);
    assert_int_equal(c.testport_hi, 0);
    assert_int_equal(c.maxcontrolsessions, 0);
    assert_string_equal(c.srcnode, "");
    assert_false(c.rootfolly);
    assert_int_equal(c.n_third_party, 0);
    conf_defaults(&c, CONF_PROTO_TWAMP);
    assert_int_equal(c.controltimeout_s, 900);
    assert_int_equal(c.testtimeout_s, 900);
    assert_int_equal(c.lightidle_s, 30);
    assert_int_equal(c.authmode, 0xf);
}

static void set_ok(struct conf *c, const char *k, const char *v)
{
    char err[256] = "";
    int rc = conf_set(c, k, v, err, sizeof(err));
    if (rc != 0) {
        print_error("conf_set(%s, %s) = %d: %s\n", k, v ? v : "(null)", rc, err);
        fail();
    }
}

static void test_conf_set_every_key(void **state)
{
    (void)state;
    struct conf c;
    conf_defaults(&c, CONF_PROTO_OWAMP);
    set_ok(&c, "srcnode", "[::1]:18611");
    assert_string_equal(c.srcnode, "[::1]:18611");
    set_ok(&c, "authmode", "ao");
    assert_int_equal(c.authmode, CONF_MODE_AUTH | CONF_MODE_OPEN);
    set_ok(&c, "user", "owamp");
    assert_string_equal(c.user, "owamp");
    set_ok(&c, "group", "-123");
    assert_string_equal(c.group, "-123");
    set_ok(&c, "vardir", "/var/run/owamp");
    assert_string_equal(c.vardir, "/var/run/owamp");
    set_ok(&c, "datadir", "/var/lib/owamp");
    assert_string_equal(c.datadir, "/var/lib/owamp");
    set_ok(&c, "testports", "8760-9960");
    assert_int_equal(c.testport_lo, 8760);
    assert_int_equal(c.testport_hi, 9960);
    set_ok(&c, "testports", "5000");
    assert_int_equal(c.testport_lo, 5000);
    assert_int_equal(c.testport_hi, 5000);
    set_ok(&c, "testports", " 10 - 20 ");
    assert_int_equal(c.testport_lo, 10);
    assert_int_equal(c.testport_hi, 20);
    set_ok(&c, "testports", "0");
    assert_int_equal(c.testport_lo, 0);
    assert_int_equal(c.testport_hi, 0);
    set_ok(&c, "maxcontrolsessions", "50");
    assert_int_equal(c.maxcontrolsessions, 50);
    set_ok(&c, "maxcontrolsessionsperaddr", "8");
    assert_int_equal(c.maxconn_per_addr, 8);
    set_ok(&c, "maxsessionduration", "3600");
    assert_int_equal(c.maxsession_s, 3600);
    set_ok(&c, "facility", "LOCAL5");
    assert_int_equal(c.facility, LOG_LOCAL5);
    set_ok(&c, "loglevel", "debug");
    assert_int_equal(c.loglevel, CONF_LOG_DEBUG);
    set_ok(&c, "loglocation", NULL);
    assert_true(c.loglocation);
    set_ok(&c, "verbose", "");
    assert_true(c.verbose);
    set_ok(&c, "verbose", "off");
    assert_false(c.verbose);
    set_ok(&c, "RootFolly", NULL);
    assert_true(c.rootfolly);
    set_ok(&c, "diskfudge", "3.0");
    assert_true(c.diskfudge == 3.0);
    set_ok(&c, "dieby", "30");
    assert_int_equal(c.dieby_s, 30);
    set_ok(&c, "controltimeout", "60");
    assert_int_equal(c.controltimeout_s, 60);
    set_ok(&c, "servwait", "61");
    assert_int_equal(c.controltimeout_s, 61);
    set_ok(&c, "pbkdf2_count", "4096");
    assert_int_equal(c.pbkdf2_count, 4096);
    set_ok(&c, "pbkdf2_count", "0");
    assert_int_equal(c.pbkdf2_count, 2048);
    set_ok(&c, "enddelay", "0.25");
    assert_int_equal(c.enddelay_ns, 250000000);
    set_ok(&c, "enddelay", "2");
    assert_int_equal(c.enddelay_ns, 2000000000);
    set_ok(&c, "allow_third_party", "10.0.0.0/8, alice ::1");
    assert_int_equal(c.n_third_party, 3);
    assert_true(c.third_party[0].is_net);
    assert_string_equal(c.third_party[1].identity, "alice");
    assert_true(c.third_party[2].is_net);

    conf_defaults(&c, CONF_PROTO_TWAMP);
    set_ok(&c, "authmode", "AEOM");
    assert_int_equal(c.authmode, 0xf);
    set_ok(&c, "testtimeout", "120");
    assert_int_equal(c.testtimeout_s, 120);
    set_ok(&c, "refwait", "30");
    assert_int_equal(c.testtimeout_s, 30);
    set_ok(&c, "light", "0.0.0.0:862");
    assert_string_equal(c.light, "0.0.0.0:862");
    set_ok(&c, "lightidletimeout", "5");
    assert_int_equal(c.lightidle_s, 5);
    set_ok(&c, "egressstamp", "all");
    assert_string_equal(c.egressstamp, "all");
    set_ok(&c, "egressstamp", "lo,eth0.100,br-lan");
    assert_string_equal(c.egressstamp, "lo,eth0.100,br-lan");
    set_ok(&c, "egressstamp", "off");
    assert_string_equal(c.egressstamp, "");
}

static void set_fails(enum conf_proto p, const char *k, const char *v, int want)
{
    struct conf c;
    char err[256] = "";
    conf_defaults(&c, p);
    struct conf before;
    memcpy(&before, &c, sizeof(c));
    int rc = conf_set(&c, k, v, err, sizeof(err));
    if (rc != want || strstr(err, k) == NULL) {
        print_error("conf_set(%s, %s) = %d (%s), want %d\n", k, v ? v : "", rc, err, want);
        fail();
    }
    assert_memory_equal(&c, &before, sizeof(c)); /* nothing changed on error */
}

static void test_conf_set_errors(void **state)
{
    (void)state;
    const enum conf_proto O = CONF_PROTO_OWAMP, T = CONF_PROTO_TWAMP;
    set_fails(O, "bogus", "1", LP_E_NOTFOUND);
    set_fails(O, "sigchld", NULL, LP_E_NOTFOUND);
    set_fails(T, "diskfudge", "2", LP_E_NOTFOUND);   /* owampd only */
    set_fails(O, "testtimeout", "9", LP_E_NOTFOUND); /* twampd only */
    set_fails(O, "refwait", "9", LP_E_NOTFOUND);
    set_fails(O, "light", "[::1]:862", LP_E_NOTFOUND);
    set_fails(O, "lightidletimeout", "5", LP_E_NOTFOUND);
    set_fails(T, "lightidletimeout", "-1", LP_E_VALUE);
    set_fails(O, "egressstamp", "eth0/1", LP_E_VALUE);
    set_fails(T, "egressstamp", "lo,,eth0", LP_E_VALUE);
    set_fails(T, "egressstamp", "lo eth0", LP_E_VALUE);
    set_fails(T, "egressstamp", "sixteen-octets00", LP_E_VALUE); /* IFNAMSIZ - 1 at most */
    set_fails(O, "srcnode", "[::1", LP_E_VALUE);
    set_fails(O, "srcnode", "", LP_E_VALUE);
    set_fails(O, "authmode", "AEOM", LP_E_VALUE); /* mixed is TWAMP only */
    set_fails(T, "authmode", "AX", LP_E_VALUE);
    set_fails(T, "authmode", NULL, LP_E_VALUE);
    set_fails(O, "testports", "9960-8760", LP_E_VALUE);
    set_fails(O, "testports", "0-100", LP_E_VALUE);
    set_fails(O, "testports", "1-65536", LP_E_VALUE);
    set_fails(O, "testports", "1-", LP_E_VALUE);
    set_fails(O, "testports", "-5", LP_E_VALUE);
    set_fails(O, "testports", "1-2-3", LP_E_VALUE);
    set_fails(O, "testports", "x", LP_E_VALUE);
    set_fails(O, "maxcontrolsessions", "-1", LP_E_VALUE);
    set_fails(O, "maxcontrolsessions", "4294967296", LP_E_VALUE);
    set_fails(O, "maxcontrolsessions", "12abc", LP_E_VALUE);
    set_fails(O, "facility", "local8", LP_E_VALUE);
    set_fails(O, "loglevel", "chatty", LP_E_VALUE);
    set_fails(O, "rootfolly", "maybe", LP_E_VALUE);
    set_fails(O, "diskfudge", "0.5", LP_E_VALUE);
    set_fails(O, "diskfudge", "10.5", LP_E_VALUE);
    set_fails(O, "diskfudge", "nan", LP_E_VALUE);
    set_fails(O, "dieby", "", LP_E_VALUE);
    set_fails(O, "controltimeout", "1.5", LP_E_VALUE);
    set_fails(O, "pbkdf2_count", "many", LP_E_VALUE);
    set_fails(O, "enddelay", "-1", LP_E_VALUE);
    set_fails(O, "enddelay", "1.0000000001", LP_E_VALUE);
    set_fails(O, "enddelay", "1.", LP_E_VALUE);
    set_fails(O, "user", "", LP_E_VALUE);
    set_fails(O, "user", "a-very-long-user-name-that-goes-on-and-on-and-on-beyond-64-chars-x",
              LP_E_VALUE);
    set_fails(T, "light", "host:", LP_E_VALUE);
    set_fails(O, "allow_third_party", "10.0.0.1/8", LP_E_VALUE);
    set_fails(O, "allow_third_party", "10.0.0.0/33", LP_E_VALUE);
    set_fails(O, "allow_third_party", " , ", LP_E_VALUE);
}

static void test_conf_third_party(void **state)
{
    (void)state;
    struct conf c;
    conf_defaults(&c, CONF_PROTO_TWAMP);
    assert_false(conf_third_party_allowed(&c, SA("10.1.1.1"), "alice"));
    set_ok(&c, "allow_third_party", "10.0.0.0/8");
    set_ok(&c, "allow_third_party", "2001:db8::/32,carol");
    assert_int_equal(c.n_third_party, 3); /* repeated lines accumulate */
    assert_true(conf_third_party_allowed(&c, SA("10.1.1.1"), NULL));
    assert_true(conf_third_party_allowed(&c, SA("::ffff:10.1.1.1"), NULL));
    assert_false(conf_third_party_allowed(&c, SA("11.1.1.1"), NULL));
    assert_true(conf_third_party_allowed(&c, SA("2001:db8::7"), NULL));
    assert_true(conf_third_party_allowed(&c, SA("192.0.2.1"), "carol"));
    assert_false(conf_third_party_allowed(&c, SA("192.0.2.1"), "alice"));
    assert_false(conf_third_party_allowed(&c, NULL, NULL));
}

/* The reference's sample owampd.conf keys, tabs, comments, a trailing comment and a
 * continued line. */
static void test_conf_load_reference_style(void **state)
{
    (void)state;
    char path[256], err[512] = "";
    wfile(path, sizeof(path), "ref.conf",
          "#\n# Example owampd.conf\n\n"
          "user\t\towamp\n"
          "group\t\towamp\n"
          "verbose\n"
          "facility\tlocal5\n"
          "loglocation\n"
          "#vardir\t\t/var/run\n"
          "   # indented comment\n"
          "srcnode localhost:8765         # a trailing comment\n"
          "testports \\\n   8760-9960\n"
          "diskfudge\t3.0\n"
          "dieby 5\r\n"
          "controltimeout\t1800\n"
          "pbkdf2_count 2048\n"
          "enddelay 1.5\n"
          "maxcontrolsessions 100\n");
    struct conf c;
    conf_defaults(&c, CONF_PROTO_OWAMP);
    assert_int_equal(conf_load_file(&c, path, err, sizeof(err)), 0);
    assert_string_equal(c.user, "owamp");
    assert_string_equal(c.group, "owamp");
    assert_true(c.verbose);
    assert_true(c.loglocation);
    assert_int_equal(c.facility, LOG_LOCAL5);
    assert_string_equal(c.vardir, "");
    assert_string_equal(c.srcnode, "localhost:8765");
    assert_int_equal(c.testport_lo, 8760);
    assert_int_equal(c.testport_hi, 9960);
    assert_true(c.diskfudge == 3.0);
    assert_int_equal(c.dieby_s, 5);
    assert_int_equal(c.controltimeout_s, 1800);
    assert_int_equal(c.enddelay_ns, 1500000000);
    assert_int_equal(c.maxcontrolsessions, 100);
}

static void load_conf_fails(enum conf_proto p, const char *content, unsigned line,
                            const char *needle)
{
    char path[256], err[512] = "";
    wfile(path, sizeof(path), "bad.conf", content);
    struct conf c;
    conf_defaults(&c, p);
    assert_int_equal(conf_load_file(&c, path, err, sizeof(err)), LP_E_SYNTAX);
    expect_err_at(err, path, line, needle);
}

static void test_conf_load_errors(void **state)
{
    (void)state;
    const enum conf_proto O = CONF_PROTO_OWAMP, T = CONF_PROTO_TWAMP;
    load_conf_fails(O, "# c\n\nbogus 1\n", 3, "unknown key \"bogus\"");
    load_conf_fails(O, "verbose\naddr 127.0.0.1\n", 2, "unknown key \"addr\"");
    load_conf_fails(O, "dieby 5\n\n\ntestports 10-1\n", 4, "testports");
    load_conf_fails(O, "testports 1 2\n", 1, "one value");
    load_conf_fails(O, "datadir /a b\n", 1, "one value");
    load_conf_fails(O, "authmode Z\n", 1, "authmode");
    load_conf_fails(O, "# one\nvardir /x\\y\n", 2, "'\\'");
    load_conf_fails(O, "verbose\nfacility \\\n bogus\nuser x\n", 2, "facility");
    load_conf_fails(T, "diskfudge 2.0\n", 1, "not valid for twampd");
    load_conf_fails(O, "light :862\n", 1, "not valid for owampd");
    load_conf_fails(O, "verbose\nverbose\ncontroltimeout\n", 3, "controltimeout needs a value");
    load_conf_fails(O, "pbkdf2_count 2048\nrootfolly yes please\n", 2, "one value");

    char path[256], err[512] = "";
    snprintf(path, sizeof(path), "%s/nul.conf", tmpdir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fwrite("verbose\nuser a\0b\n", 1, 17, fp);
    fclose(fp);
    struct conf c;
    conf_defaults(&c, O);
    assert_int_equal(conf_load_file(&c, path, err, sizeof(err)), LP_E_SYNTAX);
    expect_err_at(err, path, 2, "NUL");

    snprintf(path, sizeof(path), "%s/missing.conf", tmpdir);
    assert_int_equal(conf_load_file(&c, path, err, sizeof(err)), LP_E_NOTFOUND);
    assert_non_null(strstr(err, "missing.conf"));
}

/* ---------- pass-phrase store ---------- */

static const char alice_pf[] = "correct horse battery staple"; /* interop README */

static void test_keys_alice_pfs(void **state)
{
    (void)state;
    const char *paths[] = {"../shared/interop/alice.pfs", "/work/shared/interop/alice.pfs"};
    const char *path = NULL;
    for (size_t i = 0; i < LP_ARRAY_LEN(paths) && !path; i++) {
        path = access(paths[i], R_OK) == 0 ? paths[i] : NULL;
    }
    if (path == NULL) {
        skip();
    }
    struct conf_keys k;
    char err[256] = "";
    uint8_t out[64];
    conf_keys_init(&k);
    assert_int_equal(conf_keys_load_file(&k, path, err, sizeof(err)), 0);
    assert_int_equal(k.n, 1);
    assert_true(conf_keys_has(&k, "alice"));
    assert_int_equal(conf_keys_lookup(&k, "alice", out, sizeof(out)), 28);
    assert_memory_equal(out, alice_pf, 28);
    conf_keys_free(&k);
    assert_int_equal(k.n, 0);
    assert_null(k.v);
}

static void test_keys_format(void **state)
{
    (void)state;
    char path[256], err[256] = "";
    char id80[81];
    memset(id80, 'x', 80);
    id80[80] = '\0';
    char content[512];
    snprintf(content, sizeof(content),
             "# pass-phrase store\n"
             "\n"
             "   # indented comment\n"
             "alice\t636f727265637420686f727365206261747465727920737461706c65\n"
             "bob    4142434445   \n"
             "carol 00ff\r\n"
             "dave\tDEADbeef # trailing comment\n"
             "  eve 61\n"
             "%s 7a\n",
             id80);
    wfile(path, sizeof(path), "ok.pfs", content);
    struct conf_keys k;
    conf_keys_init(&k);
    assert_int_equal(conf_keys_load_file(&k, path, err, sizeof(err)), 0);
    assert_int_equal(k.n, 6);
    uint8_t out[64];
    assert_int_equal(conf_keys_lookup(&k, "alice", out, sizeof(out)), 28);
    assert_memory_equal(out, alice_pf, 28);
    assert_int_equal(conf_keys_lookup(&k, "bob", out, sizeof(out)), 5);
    assert_memory_equal(out, "ABCDE", 5);
    assert_int_equal(conf_keys_lookup(&k, "carol", out, sizeof(out)), 2);
    assert_memory_equal(out, "\x00\xff", 2);
    assert_int_equal(conf_keys_lookup(&k, "dave", out, sizeof(out)), 4);
    assert_memory_equal(out, "\xde\xad\xbe\xef", 4);
    assert_int_equal(conf_keys_lookup(&k, "eve", out, sizeof(out)), 1);
    assert_int_equal(conf_keys_lookup(&k, id80, out, sizeof(out)), 1);
    assert_int_equal(out[0], 'z');
    assert_int_equal(conf_keys_lookup(&k, "mallory", out, sizeof(out)), LP_E_NOTFOUND);
    assert_int_equal(conf_keys_lookup(&k, "Alice", out, sizeof(out)), LP_E_NOTFOUND);
    assert_int_equal(conf_keys_lookup(&k, "alice", out, 27), LP_E_LEN);
    assert_false(conf_keys_has(&k, "alic"));
    assert_false(conf_keys_has(&k, NULL));
    conf_keys_free(&k);
    assert_int_equal(conf_keys_lookup(&k, "alice", out, sizeof(out)), LP_E_NOTFOUND);
}

static void load_keys_fails(const char *content, unsigned line, const char *needle)
{
    char path[256], err[256] = "";
    wfile(path, sizeof(path), "bad.pfs", content);
    struct conf_keys k;
    conf_keys_init(&k);
    assert_int_equal(conf_keys_load_file(&k, path, err, sizeof(err)), LP_E_SYNTAX);
    expect_err_at(err, path, line, needle);
    assert_int_equal(k.n, 0); /* emptied on error */
    assert_null(k.v);
}

static void test_keys_errors(void **state)
{
    (void)state;
    char id81[82], content[256];
    memset(id81, 'y', 81);
    id81[81] = '\0';
    snprintf(content, sizeof(content), "a 61\n# c\n%s 61\n", id81);
    load_keys_fails(content, 3, "identity longer than 80");
    load_keys_fails("alice 616\n", 1, "odd number");
    load_keys_fails("a 61\nb 6\n", 2, "odd number");
    load_keys_fails("# x\n\nalice 6g61\n", 3, "not hexadecimal");
    load_keys_fails("alice\n", 1, "missing pass-phrase");
    load_keys_fails("alice   \n", 1, "missing pass-phrase");
    load_keys_fails("alice 6161 6262\n", 1, "unexpected text");
    load_keys_fails("alice 61\nbob 62\nalice 63\n", 3, "listed twice");
    load_keys_fails("a 0x61\n", 1, "not hexadecimal");

    char path[256], err[256] = "";
    snprintf(path, sizeof(path), "%s/none.pfs", tmpdir);
    struct conf_keys k;
    conf_keys_init(&k);
    assert_int_equal(conf_keys_load_file(&k, path, err, sizeof(err)), LP_E_NOTFOUND);
}

/* ---------- limits ---------- */

static struct conf_limits load_limits(const char *content, const struct conf_keys *keys)
{
    char path[256], err[512] = "";
    wfile(path, sizeof(path), "t.limits", content);
    struct conf_limits l;
    assert_int_equal(conf_limits_init(&l), 0);
    int rc = conf_limits_load_file(&l, path, keys, err, sizeof(err));
    if (rc != 0) {
        print_error("%s\n", err);
        fail();
    }
    return l;
}

/* The reference's sample owampd.limits. */
static void test_limits_reference_sample(void **state)
{
    (void)state;
    struct conf_limits l =
        load_limits("# sample\n"
                    "limit root with disk=0,bandwidth=0\n"
                    "# limit box with parent=root,disk=1,bandwidth=1,allow_open_mode=off\n"
                    "limit box with parent=root,bandwidth=1k\n"
                    "limit sand with parent=box,disk=10M,bandwidth=1k,delete_on_fetch=on\n"
                    "\n"
                    "assign default sand\n"
                    "assign net ::/127 root\n",
                    NULL);
    assert_int_equal(l.nclasses, 3);
    assert_false(l.implicit);
    const struct conf_class *box = conf_limits_find(&l, "box");
    const struct conf_class *sand = conf_limits_find(&l, "sand");
    assert_non_null(box);
    assert_non_null(sand);
    assert_int_equal(box->bandwidth_bps, 1000);
    assert_int_equal(sand->disk_bytes, 10000000);
    assert_true(sand->delete_on_fetch);
    assert_true(sand->allow_open_mode);
    assert_ptr_equal(conf_limits_parent(&l, sand), box);
    assert_string_equal(conf_limits_parent(&l, box)->name, "root");
    assert_null(conf_limits_parent(&l, conf_limits_parent(&l, box)));
    assert_string_equal(conf_limits_class_for(&l, SA("::1"), NULL)->name, "root");
    assert_string_equal(conf_limits_class_for(&l, SA("::"), NULL)->name, "root");
    assert_string_equal(conf_limits_class_for(&l, SA("::2"), NULL)->name, "sand");
    assert_string_equal(conf_limits_class_for(&l, SA("127.0.0.1"), NULL)->name, "sand");
    conf_limits_free(&l);
}

static void test_limits_inheritance(void **state)
{
    (void)state;
    struct conf_limits l = load_limits(
        "limit root with allow_open_mode=off, disk=1g, test_sessions=4\n"
        "limit mid with parent=root, bandwidth=2M\n"
        "limit leaf with parent = mid ,\\\n"
        "      disk = 5k, allow_open_mode=ON\n"
        "limit bare with parent=mid\n"
        "limit other with bandwidth=3g , parent=root, test_sessions=0, delete_on_fetch=off\n",
        NULL);
    const struct conf_class *root = conf_limits_find(&l, "root");
    const struct conf_class *mid = conf_limits_find(&l, "mid");
    const struct conf_class *leaf = conf_limits_find(&l, "leaf");
    const struct conf_class *bare = conf_limits_find(&l, "bare");
    const struct conf_class *other = conf_limits_find(&l, "other");
    assert_int_equal(root->parent, -1);
    assert_false(root->allow_open_mode);
    assert_int_equal(root->disk_bytes, 1000000000ULL);
    assert_int_equal(root->bandwidth_bps, 0);
    assert_int_equal(root->set, CONF_LIM_ALLOW_OPEN_MODE | CONF_LIM_DISK | CONF_LIM_TEST_SESSIONS);
    /* mid: own bandwidth, the rest from root */
    assert_int_equal(mid->bandwidth_bps, 2000000);
    assert_int_equal(mid->disk_bytes, 1000000000ULL);
    assert_false(mid->allow_open_mode);
    assert_int_equal(mid->test_sessions, 4);
    assert_int_equal(mid->set, CONF_LIM_BANDWIDTH);
    /* leaf: own disk and open mode, bandwidth from mid, test_sessions from root */
    assert_int_equal(leaf->disk_bytes, 5000);
    assert_true(leaf->allow_open_mode);
    assert_int_equal(leaf->bandwidth_bps, 2000000);
    assert_int_equal(leaf->test_sessions, 4);
    assert_ptr_equal(conf_limits_parent(&l, leaf), mid);
    /* nothing explicit: everything from the parent chain */
    assert_int_equal(bare->set, 0);
    assert_int_equal(bare->bandwidth_bps, 2000000);
    assert_int_equal(bare->disk_bytes, 1000000000ULL);
    assert_false(bare->delete_on_fetch);
    /* parent given after other keys; explicit 0 overrides an inherited value */
    assert_int_equal(other->bandwidth_bps, 3000000000ULL);
    assert_int_equal(other->test_sessions, 0);
    assert_int_equal(other->disk_bytes, 1000000000ULL);
    assert_ptr_equal(conf_limits_parent(&l, other), root);
    /* no "assign default": the root */
    assert_ptr_equal(conf_limits_class_for(&l, SA("192.0.2.1"), "nobody"), root);
    conf_limits_free(&l);
}

static void test_limits_suffixes(void **state)
{
    (void)state;
    struct conf_limits l = load_limits("limit r with bandwidth=1K, disk=18e\n"
                                       "limit a with parent=r, bandwidth=7t, disk=3p\n"
                                       "limit b with parent=r, bandwidth=123, disk=2G\n",
                                       NULL);
    assert_int_equal(l.classes[0].bandwidth_bps, 1000);
    assert_int_equal(l.classes[0].disk_bytes, 18000000000000000000ULL);
    assert_int_equal(l.classes[1].bandwidth_bps, 7000000000000ULL);
    assert_int_equal(l.classes[1].disk_bytes, 3000000000000000ULL);
    assert_int_equal(l.classes[2].bandwidth_bps, 123);
    assert_int_equal(l.classes[2].disk_bytes, 2000000000ULL);
    conf_limits_free(&l);
}

static void test_limits_class_for(void **state)
{
    (void)state;
    struct conf_keys k;
    char path[256], err[256] = "";
    wfile(path, sizeof(path), "cf.pfs", "alice 61\nbob 62\nnet8 63\n");
    conf_keys_init(&k);
    assert_int_equal(conf_keys_load_file(&k, path, err, sizeof(err)), 0);
    struct conf_limits l = load_limits("limit root with bandwidth=0\n"
                                       "limit dflt with parent=root, allow_open_mode=off\n"
                                       "limit net8 with parent=root\n"
                                       "limit net16 with parent=root\n"
                                       "limit net24 with parent=root\n"
                                       "limit v6a with parent=root\n"
                                       "limit v6b with parent=root\n"
                                       "limit users with parent=root\n"
                                       "assign net 10.0.0.0/8 net8\n"
                                       "assign net 10.1.2.0/24 net24\n"
                                       "assign net 10.1.0.0/16 net16\n"
                                       "assign net 2001:db8::/32 v6a\n"
                                       "assign net 2001:db8:1::/48 v6b\n"
                                       "assign user alice users\n"
                                       "assign default dflt\n",
                                       &k);
    const struct conf_limits *L = &l;
    assert_string_equal(conf_limits_class_for(L, SA("10.9.9.9"), NULL)->name, "net8");
    assert_string_equal(conf_limits_class_for(L, SA("10.1.9.9"), NULL)->name, "net16");
    assert_string_equal(conf_limits_class_for(L, SA("10.1.2.3"), NULL)->name, "net24");
    assert_string_equal(conf_limits_class_for(L, SA("::ffff:10.1.2.3"), NULL)->name, "net24");
    assert_string_equal(conf_limits_class_for(L, SA("11.0.0.1"), NULL)->name, "dflt");
    assert_false(conf_limits_class_for(L, SA("11.0.0.1"), NULL)->allow_open_mode);
    assert_string_equal(conf_limits_class_for(L, SA("2001:db8:2::1"), NULL)->name, "v6a");
    assert_string_equal(conf_limits_class_for(L, SA("2001:db8:1::1"), NULL)->name, "v6b");
    assert_string_equal(conf_limits_class_for(L, SA("2001:db9::1"), NULL)->name, "dflt");
    assert_string_equal(conf_limits_class_for(L, NULL, NULL)->name, "dflt");
    /* user beats net */
    assert_string_equal(conf_limits_class_for(L, SA("10.1.2.3"), "alice")->name, "users");
    /* identity without an assign line: a class of that name (reference), else net */
    assert_string_equal(conf_limits_class_for(L, SA("11.0.0.1"), "net8")->name, "net8");
    assert_string_equal(conf_limits_class_for(L, SA("10.1.2.3"), "bob")->name, "net24");
    assert_string_equal(conf_limits_class_for(L, SA("10.1.2.3"), "")->name, "net24");
    conf_limits_free(&l);
    assert_null(conf_limits_class_for(&l, SA("10.1.2.3"), NULL));
    conf_keys_free(&k);
}

static void test_limits_implicit_default(void **state)
{
    (void)state;
    struct conf_limits l;
    assert_int_equal(conf_limits_init(&l), 0);
    const struct conf_class *c = conf_limits_class_for(&l, SA("192.0.2.1"), "alice");
    assert_non_null(c);
    assert_string_equal(c->name, "default");
    assert_true(c->allow_open_mode);
    assert_int_equal(c->bandwidth_bps, 0);
    assert_int_equal(c->disk_bytes, 0);
    assert_true(l.implicit);
    conf_limits_free(&l);
    l = load_limits("# only comments\n\n   \n", NULL);
    assert_int_equal(l.nclasses, 1);
    assert_true(l.implicit);
    assert_string_equal(conf_limits_class_for(&l, NULL, NULL)->name, "default");
    conf_limits_free(&l);
}

struct lim_bad {
    const char *content;
    unsigned line;
    const char *needle;
};

static void test_limits_errors(void **state)
{
    (void)state;
    static const struct lim_bad cases[] = {
        {"limit r with bogus=1\n", 1, "unknown limit \"bogus\""},
        {"limit r with parent=r\n", 1, "root"},
        {"limit r with disk=1\nlimit c with disk=2\n", 2, "needs a parent"},
        {"limit r with disk=1\nlimit c with parent=x\n", 2, "\"x\" is not defined"},
        {"limit r with disk=1\n# c\nlimit r with disk=2\n", 3, "defined twice"},
        {"limit r disk=1\n", 1, "\"with\""},
        {"limit\n", 1, "class name"},
        {"limit r with bandwidth=12x\n", 1, "bandwidth"},
        {"limit r with bandwidth=-1\n", 1, "bandwidth"},
        {"limit r with disk=20e\n", 1, "disk"},
        {"limit r with disk=1kk\n", 1, "disk"},
        {"limit r with delete_on_fetch=maybe\n", 1, "on or off"},
        {"limit r with allow_open_mode=yes\n", 1, "on or off"},
        {"limit r with disk=1, disk=2\n", 1, "disk given twice"},
        {"limit r with disk\n", 1, "key=value"},
        {"limit r with disk=\n", 1, "key=value"},
        {"limit r with disk=1 2\n", 1, "key=value"},
        {"limit r with x\nlimit c with parent=r, parent=r\n", 1, "key=value"},
        {"limit r with\nlimit c with parent=r, parent=r\n", 2, "parent given twice"},
        {"limit a/b with disk=1\n", 1, "invalid class name"},
        {"limit r with\nassign default q\n", 2, "unknown class \"q\""},
        {"limit r with\nassign default r\nassign default r\n", 3, "duplicate assign"},
        {"limit r with\nassign net 10.0.0.0/8 r\nassign net 10.0.0.0/8 r\n", 3, "duplicate"},
        {"limit r with\nassign net 10.0.0.1/8 r\n", 2, "beyond the prefix"},
        {"limit r with\nassign net ::1/127 r\n", 2, "beyond the prefix"},
        {"limit r with\nassign net 10.0.0.0/40 r\n", 2, "invalid subnet"},
        {"limit r with\nassign net host.example r\n", 2, "invalid subnet"},
        {"limit r with\nassign net\n", 2, "needs an argument"},
        {"limit r with\nassign user mallory r\n", 2, "not in the pass-phrase file"},
        {"limit r with\nassign group x r\n", 2, "assign needs"},
        {"limit r with\nassign default r extra\n", 2, "unexpected text"},
        {"limit r with\nassign user alice\n", 2, "unknown class"},
        {"limit r with\nallow everything\n", 2, "limit or assign"},
        {"limit r with disk=1,\\\n bandwidth=2x\n", 1, "bandwidth"},
        {"limit r with disk=1 \\ x\n", 1, "'\\'"},
    };
    struct conf_keys k;
    char path[256], err[512];
    wfile(path, sizeof(path), "e.pfs", "alice 61\n");
    conf_keys_init(&k);
    assert_int_equal(conf_keys_load_file(&k, path, err, sizeof(err)), 0);
    for (size_t i = 0; i < LP_ARRAY_LEN(cases); i++) {
        struct conf_limits l;
        assert_int_equal(conf_limits_init(&l), 0);
        wfile(path, sizeof(path), "e.limits", cases[i].content);
        err[0] = '\0';
        int rc = conf_limits_load_file(&l, path, &k, err, sizeof(err));
        if (rc != LP_E_SYNTAX) {
            print_error("case %zu: rc %d (%s)\n", i, rc, err);
            fail();
        }
        expect_err_at(err, path, cases[i].line, cases[i].needle);
        /* l unchanged on error: still the built-in default */
        assert_true(l.implicit);
        assert_string_equal(conf_limits_class_for(&l, NULL, NULL)->name, "default");
        conf_limits_free(&l);
    }
    conf_keys_free(&k);
}

/* ---------- configuration directory ---------- */

/* Exactly what ../shared/contract/common.sh confdir writes. */
static void write_contract_dir(const char *d, const char *p, unsigned port, const char *tp)
{
    char path[512], content[2048];
    mkdir(d, 0700);
    snprintf(content, sizeof(content),
             "srcnode 127.0.0.1:%u\n"
             "rootfolly\n"
             "authmode AEO%s\n"
             "vardir %s/var\n"
             "datadir %s/data\n"
             "testports %s\n",
             port, strcmp(p, "twamp") == 0 ? "M" : "", d, d, tp);
    snprintf(path, sizeof(path), "%s/%s-server.conf", d, p);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(content, fp);
    fclose(fp);
    snprintf(path, sizeof(path), "%s/%s-server.limits", d, p);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("limit root with disk=0, bandwidth=0, delete_on_fetch=on, allow_open_mode=on\n"
          "assign default root\n"
          "assign user alice root\n",
          fp);
    fclose(fp);
    snprintf(path, sizeof(path), "%s/%s-server.pfs", d, p);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("alice\t636f727265637420686f727365206261747465727920737461706c65\n", fp);
    fclose(fp);
}

static void check_contract_dir(const char *proto, uint32_t modes)
{
    char d[256], want[300], err[512] = "";
    snprintf(d, sizeof(d), "%s/contract-%s", tmpdir, proto);
    write_contract_dir(d, proto, 18610, "18700-18749");
    struct conf c;
    struct conf_keys k;
    struct conf_limits l;
    int rc = conf_dir_load(d, proto, CONF_DIR_REQUIRE_CONF, &c, &k, &l, err, sizeof(err));
    if (rc != 0) {
        print_error("%s\n", err);
        fail();
    }
    assert_string_equal(c.srcnode, "127.0.0.1:18610");
    assert_true(c.rootfolly);
    assert_int_equal(c.authmode, modes);
    snprintf(want, sizeof(want), "%s/var", d);
    assert_string_equal(c.vardir, want);
    snprintf(want, sizeof(want), "%s/data", d);
    assert_string_equal(c.datadir, want);
    assert_int_equal(c.testport_lo, 18700);
    assert_int_equal(c.testport_hi, 18749);
    uint8_t pf[64];
    assert_int_equal(conf_keys_lookup(&k, "alice", pf, sizeof(pf)), 28);
    assert_memory_equal(pf, alice_pf, 28);
    const struct conf_class *cls = conf_limits_class_for(&l, SA("127.0.0.1"), NULL);
    assert_string_equal(cls->name, "root");
    assert_true(cls->delete_on_fetch);
    assert_true(cls->allow_open_mode);
    assert_int_equal(cls->disk_bytes, 0);
    assert_int_equal(cls->bandwidth_bps, 0);
    assert_ptr_equal(conf_limits_class_for(&l, SA("::1"), "alice"), cls);
    conf_keys_free(&k);
    conf_limits_free(&l);
}

static void test_dir_contract(void **state)
{
    (void)state;
    check_contract_dir("owamp", CONF_MODE_OPEN | CONF_MODE_AUTH | CONF_MODE_ENC);
    check_contract_dir("twamp", 0xf);
}

static void test_dir_missing_files(void **state)
{
    (void)state;
    char d[256], path[512], err[512] = "";
    struct conf c;
    struct conf_keys k;
    struct conf_limits l;
    snprintf(d, sizeof(d), "%s/empty", tmpdir);
    mkdir(d, 0700);
    assert_int_equal(conf_dir_load(d, "twamp", 0, &c, &k, &l, err, sizeof(err)), 0);
    assert_int_equal(c.controltimeout_s, 900);
    assert_int_equal(k.n, 0);
    assert_true(l.implicit);
    conf_keys_free(&k);
    conf_limits_free(&l);
    assert_int_equal(conf_dir_load(d, "owamp", CONF_DIR_REQUIRE_CONF, &c, &k, &l, err, sizeof(err)),
                     LP_E_NOTFOUND);
    assert_non_null(strstr(err, "owamp-server.conf"));
    assert_int_equal(conf_dir_load(d, "stamp", 0, &c, &k, &l, err, sizeof(err)), LP_E_VALUE);

    /* limits naming a user without a pfs file: the reference's check, with file:line */
    snprintf(path, sizeof(path), "%s/owamp-server.limits", d);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("limit root with\nassign user alice root\n", fp);
    fclose(fp);
    assert_int_equal(conf_dir_load(d, "owamp", 0, &c, &k, &l, err, sizeof(err)), LP_E_SYNTAX);
    expect_err_at(err, path, 2, "alice");
    assert_int_equal(l.nclasses, 0);
    assert_int_equal(k.n, 0);

    /* a bad conf line stops the load */
    snprintf(path, sizeof(path), "%s/owamp-server.conf", d);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("verbose\n\nsrcnode [::1]:x:y\n", fp);
    fclose(fp);
    assert_int_equal(conf_dir_load(d, "owamp", 0, &c, &k, &l, err, sizeof(err)), LP_E_SYNTAX);
    expect_err_at(err, path, 3, "srcnode");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conf_defaults),
        cmocka_unit_test(test_conf_set_every_key),
        cmocka_unit_test(test_conf_set_errors),
        cmocka_unit_test(test_conf_third_party),
        cmocka_unit_test(test_conf_load_reference_style),
        cmocka_unit_test(test_conf_load_errors),
        cmocka_unit_test(test_keys_alice_pfs),
        cmocka_unit_test(test_keys_format),
        cmocka_unit_test(test_keys_errors),
        cmocka_unit_test(test_limits_reference_sample),
        cmocka_unit_test(test_limits_inheritance),
        cmocka_unit_test(test_limits_suffixes),
        cmocka_unit_test(test_limits_class_for),
        cmocka_unit_test(test_limits_implicit_default),
        cmocka_unit_test(test_limits_errors),
        cmocka_unit_test(test_dir_contract),
        cmocka_unit_test(test_dir_missing_files),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
