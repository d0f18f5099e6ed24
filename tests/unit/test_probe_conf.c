/* test_probe_conf.c - ippm_exporter's YAML configuration: the example of the issue, defaults,
 * durations, every key, and errors that name the file and line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "pconf.h"

static char keyfile[64];

static int setup(void **state)
{
    (void)state;
    snprintf(keyfile, sizeof(keyfile), "/tmp/test_probe_conf.%d.pfs", (int)getpid());
    FILE *f = fopen(keyfile, "w");
    assert_non_null(f);
    fputs("alice\t616c6963652d73656372657421\n", f); /* "alice-secret!" */
    fclose(f);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(keyfile);
    return 0;
}

/* Load text (with KEYFILE replaced); expect success. */
static void load_ok(const char *text, struct pc_config *c)
{
    char buf[4096], err[512];
    const char *k = strstr(text, "KEYFILE");
    if (k) {
        snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(k - text), text, keyfile, k + 7);
        text = buf;
    }
    int rc = pc_load_string(text, "t.yml", c, err, sizeof(err));
    if (rc != 0) {
        fail_msg("unexpected error: %s", err);
    }
}

/* Expect an error whose message starts with want. */
static void load_bad(const char *text, const char *want)
{
    struct pc_config c;
    char err[512];
    assert_int_equal(pc_load_string(text, "t.yml", &c, err, sizeof(err)), -1);
    if (strncmp(err, want, strlen(want)) != 0) {
        fail_msg("error '%s' does not start with '%s'", err, want);
    }
    pc_free(&c);
}

static void test_example(void **state)
{
    (void)state;
    struct pc_config c;
    load_ok("modules:\n"
            "  light:    {protocol: twamp-light, count: 10, interval: 0.01}\n"
            "  stamp-a:  {protocol: stamp, auth: A, identity: alice, keyfile: KEYFILE}\n"
            "  owamp:    {protocol: owamp, count: 100, interval: 0.1e, mode: AEO}\n"
            "  twamp:    {protocol: twamp, count: 100, interval: 0.01f, dscp: EF, padding: 64}\n"
            "targets:                 # measured continuously\n"
            "  - {target: \"192.0.2.10:862\", module: twamp, every: 10s}\n",
            &c);
    assert_int_equal(c.nmodules, 4);
    const struct pc_module *m = pc_module_find(&c, "light");
    assert_non_null(m);
    assert_int_equal(m->proto, PC_LIGHT);
    assert_int_equal(m->count, 10);
    assert_int_equal(m->slots[0].type, WIRE_SLOT_EXP);
    assert_int_equal(m->modes, WIRE_MODE_OPEN);
    m = pc_module_find(&c, "stamp-a");
    assert_int_equal(m->modes, WIRE_MODE_AUTH);
    assert_int_equal(m->passlen, 13);
    assert_memory_equal(m->pass, "alice-secret!", 13);
    m = pc_module_find(&c, "owamp");
    assert_int_equal(m->modes, WIRE_MODE_OPEN | WIRE_MODE_AUTH | WIRE_MODE_ENC);
    assert_int_equal(m->passlen, -1); /* no identity: open mode only at run time */
    m = pc_module_find(&c, "twamp");
    assert_int_equal(m->dscp, 46);
    assert_int_equal(m->padding, 64);
    assert_int_equal(m->slots[0].type, WIRE_SLOT_FIXED);
    assert_int_equal(m->slots[0].param, clk_ns_to_ntp_duration(10000000));
    assert_int_equal(c.ntargets, 1);
    assert_string_equal(c.targets[0].target, "192.0.2.10:862");
    assert_int_equal(c.targets[0].mod, 3);
    assert_int_equal(c.targets[0].every_ns, 10000000000LL);
    assert_int_equal(c.nbuckets, 19); /* 10 us to 10 s, 1-2.5-5 */
    assert_int_equal(c.buckets_ns[0], 10000);
    assert_int_equal(c.buckets_ns[18], 10000000000LL);
    assert_int_equal(c.max_probes, PC_MAX_PROBES_DEFAULT);
    pc_free(&c);
}

static void test_every_key(void **state)
{
    (void)state;
    struct pc_config c;
    load_ok("max_probes: 3\n"
            "buckets: [100us, 1ms, 0.01, 1s]\n"
            "modules:\n"
            "  m:\n"
            "    protocol: owamp\n"
            "    count: 5\n"
            "    schedule: 0.1e,0f\n"
            "    loss_timeout: 500ms\n"
            "    mode: A\n"
            "    identity: alice\n"
            "    keyfile: KEYFILE\n"
            "    dscp: 10\n"
            "    padding: 0\n"
            "    source: \"::1\"\n"
            "    ip_version: 6\n"
            "    direction: to\n"
            "    test_ports: 9000-9010\n"
            "targets:\n"
            "  - target: \"[::1]:861\"\n"
            "    module: m\n",
            &c);
    const struct pc_module *m = &c.modules[0];
    assert_int_equal(c.max_probes, 3);
    assert_int_equal(c.nbuckets, 4);
    assert_int_equal(c.buckets_ns[2], 10000000);
    assert_int_equal(m->nslots, 2);
    assert_int_equal(m->loss_timeout_ns, 500000000);
    assert_int_equal(m->family, AF_INET6);
    assert_true(m->to);
    assert_false(m->from);
    assert_int_equal(m->port_lo, 9000);
    assert_int_equal(m->port_hi, 9010);
    assert_string_equal(m->source, "::1");
    assert_int_equal(c.targets[0].every_ns, 60000000000LL); /* the default */
    pc_free(&c);
}

static void test_durations(void **state)
{
    (void)state;
    int64_t ns;
    assert_int_equal(pc_parse_duration("10s", &ns), 0);
    assert_int_equal(ns, 10000000000LL);
    assert_int_equal(pc_parse_duration("250ms", &ns), 0);
    assert_int_equal(ns, 250000000);
    assert_int_equal(pc_parse_duration("10us", &ns), 0);
    assert_int_equal(ns, 10000);
    assert_int_equal(pc_parse_duration("2m", &ns), 0);
    assert_int_equal(ns, 120000000000LL);
    assert_int_equal(pc_parse_duration("0.5", &ns), 0);
    assert_int_equal(ns, 500000000);
    assert_int_equal(pc_parse_duration("1x", &ns), -1);
    assert_int_equal(pc_parse_duration("-1s", &ns), -1);
    assert_int_equal(pc_parse_duration("", &ns), -1);
}

static void test_errors(void **state)
{
    (void)state;
    load_bad("modules:\n  a: {protocol: twamp, colour: red}\n",
             "t.yml:2: module a: unknown key 'colour'");
    load_bad("modules:\n  a:\n    protocol: twamp\n    count: many\n",
             "t.yml:4: module a: bad count");
    load_bad("modules:\n  a: {protocol: ftp}\n", "t.yml:2: module a: bad protocol");
    load_bad("modules:\n  a: {count: 3}\n", "t.yml:2: module a: protocol is required");
    load_bad("modules:\n  a: {protocol: twamp-light, mode: A}\n",
             "t.yml:2: module a: twamp-light has open mode only");
    load_bad("modules:\n  a: {protocol: twamp, mode: A}\n",
             "t.yml:2: module a: modes other than O need identity and keyfile");
    load_bad("modules:\n  a: {protocol: twamp, direction: to}\n",
             "t.yml:2: module a: direction is for owamp only");
    load_bad("modules:\n  a: {protocol: twamp}\ntargets:\n  - {target: x, module: b}\n",
             "t.yml:4: targets: no module called b");
    load_bad("modules:\n  a: {protocol: twamp}\ntargets:\n  - {target: x, module: a, often: 1}\n",
             "t.yml:4: targets: unknown key 'often'");
    load_bad("modules:\n  a: {protocol: twamp}\ntargets:\n  - {target: x, module: a}\n"
             "  - {target: x, module: a}\n",
             "t.yml:5: targets: x with module a is listed twice");
    load_bad("buckets: [1s, 1ms]\n", "t.yml:1: buckets: '1ms' is not a duration above");
    load_bad("colour: red\n", "t.yml:1: unknown key 'colour'");
    load_bad("modules: [\n", "t.yml:2: ");
    load_bad("modules:\n  a: {protocol: stamp, mode: A, identity: bob, keyfile: /nonexistent}\n",
             "t.yml:2: module a: cannot read key file /nonexistent");
}

static void test_empty_and_buckets(void **state)
{
    (void)state;
    struct pc_config a, b;
    load_ok("", &a);
    assert_int_equal(a.nmodules, 0);
    assert_int_equal(a.ntargets, 0);
    load_ok("buckets: [1ms]\n", &b);
    assert_false(pc_same_buckets(&a, &b));
    pc_free(&b);
    load_ok("# nothing but a comment\n", &b);
    assert_true(pc_same_buckets(&a, &b));
    pc_free(&a);
    pc_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example),           cmocka_unit_test(test_every_key),
        cmocka_unit_test(test_durations),         cmocka_unit_test(test_errors),
        cmocka_unit_test(test_empty_and_buckets),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
