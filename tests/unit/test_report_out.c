/* test_report_out.c - the report module's file outputs: CSV records, saved records read back
 * (-T/-F files and --read), Error Estimates recovered from their printed seconds, the pcap
 * writer (read back with libpcap, checksums verified the way a receiver checks them), and the
 * additions to the JSON summary (direction, RFC 5481 PDV) and tagged JSON Lines. */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <pcap/pcap.h>

#include "common.h"
#include "metrics.h"
#include "report.h"

#define BASE_NS (1700000000LL * 1000000000LL)

static char *text_of(void (*fill)(FILE *))
{
    static char *data; /* static: the stream keeps their addresses until closed */
    static size_t len;
    data = NULL;
    len = 0;
    FILE *f = open_memstream(&data, &len);
    assert_non_null(f);
    fill(f);
    fclose(f);
    return data;
}

/* Two OWAMP records: seq 0 arrived 1.5 ms after it left, seq 1 lost. */
static const struct met_owrec ow2[] = {
    {.seq = 0,
     .send = {BASE_NS},
     .recv = {BASE_NS + 1500000},
     .send_err = 0x8001,
     .recv_err = 0x0102,
     .ttl = 254,
     .recv_src = CLK_SRC_KERNEL},
    {.seq = 1, .send = {BASE_NS + 100000000}, .lost = true, .send_err = 0x8001, .recv_err = 0x0102},
};

static struct rep_session session(void)
{
    struct rep_session s = {.from_host = "a.example",
                            .from_addr = "192.0.2.1",
                            .from_port = "5000",
                            .to_host = "b.example",
                            .to_addr = "192.0.2.2",
                            .to_port = "6000",
                            .type_p = 46u << 24,
                            .loss_timeout_ns = 2000000000,
                            .padding = 12,
                            .npackets = 2,
                            .finished = true,
                            .direction = "to"};
    for (int i = 0; i < 16; i++) {
        s.sid[i] = (uint8_t)(0xA0 + i);
    }
    return s;
}

/* ---- CSV ---- */

/* Record i of a saved session read back. */
static const struct met_owrec *saved_ow(struct rep_saved *sv, uint64_t i)
{
    const void *p = NULL;
    assert_true(rst_get(sv->recs, i, &p, NULL) >= 1);
    return p;
}

static const struct met_twrec *saved_tw(struct rep_saved *sv, uint64_t i)
{
    const void *p = NULL;
    assert_true(rst_get(sv->recs, i, &p, NULL) >= 1);
    return p;
}

static void fill_ow_csv(FILE *f)
{
    struct rep_session s = session();
    assert_int_equal(rep_ow_csv_header(f), 0);
    assert_int_equal(rep_ow_csv(f, &s, ow2, 2), 0);
}

static size_t fields(const char *line)
{
    size_t n = 1;
    for (; *line && *line != '\n'; line++) {
        n += *line == ',';
    }
    return n;
}

static void assert_prefix(const char *got, const char *want)
{
    assert_int_equal(strncmp(got, want, strlen(want)), 0);
}

static void test_ow_csv(void **state)
{
    (void)state;
    char *t = text_of(fill_ow_csv);
    char *l1 = strchr(t, '\n') + 1, *l2 = strchr(l1, '\n') + 1;
    assert_int_equal(fields(t), 15);
    assert_int_equal(fields(l1), 15);
    assert_int_equal(fields(l2), 15);
    /* 0x8001: S set, scale 0, multiplier 1 = 2^-32 s, rounded up to 1 ns */
    assert_prefix(l1, "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf,to,0,1700000000000000000,"
                      "1700000000001500000,1500000,0,1,");
    assert_non_null(strstr(l1, ",1,0,254,kernel,1700000000000000000,packet\n"));
    /* lost: empty receive time and delay */
    assert_prefix(l2, "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf,to,1,1700000000100000000,,,1,");
    free(t);
}

static void fill_tw_csv(FILE *f)
{
    struct met_twrec r = {.seq = 3,
                          .refl_seq = 2,
                          .t1 = {BASE_NS},
                          .t2 = {BASE_NS + 1000},
                          .t3 = {BASE_NS + 1500},
                          .t4 = {BASE_NS + 3000},
                          .sender_ttl = 255,
                          .refl_ttl = 254,
                          .t1_src = CLK_SRC_KERNEL,
                          .t4_src = CLK_SRC_HARDWARE};
    assert_int_equal(rep_tw_csv_header(f), 0);
    assert_int_equal(rep_tw_csv(f, NULL, &r, 1), 0);
}

static void test_tw_csv(void **state)
{
    (void)state;
    char *t = text_of(fill_tw_csv);
    char *l1 = strchr(t, '\n') + 1;
    assert_int_equal(fields(t), 16);
    assert_int_equal(fields(l1), 16);
    /* round trip (T4-T1)-(T3-T2) = 3000 - 500 = 2500, forward 1000, reverse 1500 */
    assert_string_equal(l1, ",,3,2,1700000000000000000,1700000000000001000,1700000000000001500,"
                            "1700000000000003000,2500,1000,1500,0,255,254,kernel,hardware\n");
    free(t);
}

/* ---- Error Estimates from printed seconds ---- */

static void test_errest_from_seconds(void **state)
{
    (void)state;
    char buf[32];
    for (unsigned scale = 0; scale < 64; scale++) {
        for (unsigned mult = 1; mult < 256; mult++) {
            uint16_t raw = clk_errest_encode((struct clk_errest){
                .sync = mult & 1, .scale = (uint8_t)scale, .mult = (uint8_t)mult});
            /* as the -R format prints it */
            snprintf(buf, sizeof(buf), "%g", ldexp((double)mult, (int)scale - 32));
            uint16_t back = rep_errest_from_seconds(strtod(buf, NULL), mult & 1);
            assert_int_equal(met_errest_ntp(back), met_errest_ntp(raw));
            assert_int_equal(met_errest_synced(back), mult & 1);
        }
    }
    assert_int_equal(clk_errest_decode(rep_errest_from_seconds(0, true)).mult, 0);
}

/* ---- saved records ---- */

static void test_saved_ow_roundtrip(void **state)
{
    (void)state;
    struct rep_session s = session();
    struct met_params mp = {.loss_timeout_ns = 2000000000, .npackets = 2};
    struct rep_saved sv;
    char *data = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&data, &len);
    assert_int_equal(rep_saved_write_ow(f, &s, &mp, ow2, 2), 0);
    fclose(f);
    f = fmemopen(data, len, "r");
    assert_int_equal(rep_saved_read(f, true, &sv), 0); /* the header says OWAMP */
    fclose(f);
    assert_false(sv.two_way);
    assert_int_equal(sv.n, 2);
    assert_memory_equal(sv.rs.sid, s.sid, 16);
    assert_string_equal(sv.rs.from_host, "a.example");
    assert_string_equal(sv.rs.to_port, "6000");
    assert_string_equal(sv.rs.direction, "to");
    assert_int_equal(sv.rs.type_p, 46u << 24);
    assert_int_equal(sv.rs.padding, 12);
    assert_true(sv.rs.finished);
    assert_int_equal(sv.mp.loss_timeout_ns, 2000000000);
    assert_int_equal(sv.mp.npackets, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(saved_ow(&sv, i)->seq, ow2[i].seq);
        assert_int_equal(saved_ow(&sv, i)->send.ns, ow2[i].send.ns);
        assert_int_equal(saved_ow(&sv, i)->lost, ow2[i].lost);
        assert_int_equal(met_errest_ntp(saved_ow(&sv, i)->send_err),
                         met_errest_ntp(ow2[i].send_err));
        assert_int_equal(met_errest_ntp(saved_ow(&sv, i)->recv_err),
                         met_errest_ntp(ow2[i].recv_err));
        assert_int_equal(met_errest_synced(saved_ow(&sv, i)->send_err),
                         met_errest_synced(ow2[i].send_err));
    }
    assert_int_equal(saved_ow(&sv, 0)->recv.ns, ow2[0].recv.ns);
    assert_int_equal(saved_ow(&sv, 0)->ttl, 254);
    rep_saved_free(&sv);
    free(data);
}

static void test_saved_tw_and_bare(void **state)
{
    (void)state;
    struct met_twrec r[2] = {
        {.seq = 0,
         .refl_seq = 0,
         .t1 = {BASE_NS},
         .t2 = {BASE_NS + 1000},
         .t3 = {BASE_NS + 2000},
         .t4 = {BASE_NS + 5000},
         .sender_ttl = 255,
         .refl_ttl = 253,
         .flags = MET_TW_REFL_SEQ},
        {.seq = 1, .t1 = {BASE_NS + 10000000}, .flags = MET_TW_LOST},
    };
    struct rep_session s = session();
    struct met_params mp = {.loss_timeout_ns = 1, .npackets = 2};
    struct rep_saved sv;
    char *data = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&data, &len);
    assert_int_equal(rep_saved_write_tw(f, &s, &mp, r, 2), 0);
    fclose(f);
    f = fmemopen(data, len, "r");
    assert_int_equal(rep_saved_read(f, false, &sv), 0);
    fclose(f);
    assert_true(sv.two_way);
    assert_int_equal(sv.n, 2);
    assert_int_equal(saved_tw(&sv, 0)->t4.ns, BASE_NS + 5000);
    assert_int_equal(saved_tw(&sv, 0)->t3.ns, BASE_NS + 2000);
    assert_int_equal(saved_tw(&sv, 0)->refl_ttl, 253);
    assert_int_equal(saved_tw(&sv, 0)->flags, MET_TW_REFL_SEQ);
    assert_int_equal(saved_tw(&sv, 1)->flags, MET_TW_LOST);
    rep_saved_free(&sv);
    free(data);

    /* bare -R lines of the reference (no header) and a broken one */
    const char *bare =
        "0 16788979056430284800 1 0.000244141 16788979056430714297 1 0.000244141 255\n";
    f = fmemopen((void *)(uintptr_t)bare, strlen(bare), "r");
    assert_int_equal(rep_saved_read(f, false, &sv), 0);
    fclose(f);
    assert_int_equal(sv.n, 1);
    assert_int_equal(met_owrec_delay_ns(saved_ow(&sv, 0)), 100000); /* the two NTP times: 100 us */
    assert_null(sv.rs.from_host);
    rep_saved_free(&sv);
    const char *bad = "#KIND\towamp\n0 1 1 0.1 2 1 0.1\n";
    f = fmemopen((void *)(uintptr_t)bad, strlen(bad), "r");
    assert_int_equal(rep_saved_read(f, false, &sv), LP_E_SYNTAX);
    assert_int_equal(sv.line, 2);
    fclose(f);
    rep_saved_free(&sv);
}

/* rep_saved_read of the first len octets of text, as a file. */
static int read_prefix(const char *text, size_t len, struct rep_saved *sv)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    rewind(f);
    int rc = rep_saved_read(f, false, sv);
    fclose(f);
    return rc;
}

/* A saved file announces its record count: a file cut short anywhere (at a line end too,
 * as a full disk may leave it) or an empty one is refused, never read as a shorter session. */
static void test_saved_cut_short(void **state)
{
    (void)state;
    struct rep_session s = session();
    struct met_params mp = {.loss_timeout_ns = 2000000000, .npackets = 2};
    struct rep_saved sv;
    char *data = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&data, &len);
    assert_int_equal(rep_saved_write_ow(f, &s, &mp, ow2, 2), 0);
    fclose(f);
    assert_non_null(strstr(data, "\n#RECORDS\t2\n"));
    assert_int_equal(read_prefix(data, len, &sv), 0);
    assert_int_equal(sv.n, 2);
    rep_saved_free(&sv);

    /* cut at the line end before the last record: one record of two */
    const char *last = data + len - 1;
    while (last > data && last[-1] != '\n') {
        last--;
    }
    assert_int_equal(read_prefix(data, (size_t)(last - data), &sv), LP_E_SHORT);
    assert_int_equal(sv.n, 1);
    assert_true(sv.line > 0);
    rep_saved_free(&sv);
    /* cut inside the last record: without its line break */
    assert_int_equal(read_prefix(data, len - 1, &sv), LP_E_SHORT);
    rep_saved_free(&sv);
    /* cut inside the header, before the count: no records at all */
    const char *third = strchr(strchr(strchr(data, '\n') + 1, '\n') + 1, '\n') + 1;
    assert_int_equal(read_prefix(data, (size_t)(third - data), &sv), LP_E_SHORT);
    assert_int_equal(sv.line, 0);
    rep_saved_free(&sv);
    /* empty */
    assert_int_equal(read_prefix(data, 0, &sv), LP_E_SHORT);
    assert_int_equal(sv.line, 0);
    assert_int_equal(sv.n, 0);
    rep_saved_free(&sv);

    /* more records than announced: the extra line is the error */
    size_t rec_len = len - (size_t)(last - data);
    char *more = malloc(len + rec_len + 1);
    assert_non_null(more);
    memcpy(more, data, len);
    memcpy(more + len, last, rec_len);
    assert_int_equal(read_prefix(more, len + rec_len, &sv), LP_E_SYNTAX);
    rep_saved_free(&sv);
    free(more);
    free(data);
}

/* ---- pcap ---- */

static uint32_t csum_add(uint32_t acc, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        acc += (i & 1) ? b[i] : (uint32_t)b[i] << 8;
    }
    return acc;
}

static uint16_t csum_fold(uint32_t acc)
{
    while (acc >> 16) {
        acc = (acc & 0xFFFF) + (acc >> 16);
    }
    return (uint16_t)acc;
}

/* A receiver's check: the sum over pseudo-header and UDP datagram is all ones. */
static void assert_udp_ok(const uint8_t *sa, const uint8_t *da, size_t alen, const uint8_t *udp,
                          size_t ulen)
{
    uint8_t pseudo[4] = {0, IPPROTO_UDP, (uint8_t)(ulen >> 8), (uint8_t)ulen};
    uint32_t acc = csum_add(csum_add(csum_add(0, sa, alen), da, alen), pseudo, 4);
    assert_int_equal(csum_fold(csum_add(acc, udp, ulen)), 0xFFFF);
    assert_int_equal(lp_load16(udp + 4), ulen);
}

static void test_pcap(void **state)
{
    (void)state;
    char path[] = "/tmp/test_report_pcapXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(5000)},
                       b4 = {.sin_family = AF_INET, .sin_port = htons(861)};
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(7000)},
                        b6 = {.sin6_family = AF_INET6, .sin6_port = htons(862)};
    inet_pton(AF_INET, "192.0.2.1", &a4.sin_addr);
    inet_pton(AF_INET, "198.51.100.7", &b4.sin_addr);
    inet_pton(AF_INET6, "2001:db8::1", &a6.sin6_addr);
    inet_pton(AF_INET6, "2001:db8::2", &b6.sin6_addr);
    uint8_t payload[15];
    for (size_t i = 0; i < sizeof(payload); i++) {
        payload[i] = (uint8_t)(0x30 + i);
    }
    struct rep_pcap *p = rep_pcap_open(path, NULL, 0);
    assert_non_null(p);
    struct rep_pkt k4 = {payload,
                         sizeof(payload),
                         (struct sockaddr *)&a4,
                         (struct sockaddr *)&b4,
                         {BASE_NS + 123456789},
                         64,
                         0xB8};
    struct rep_pkt k6 = {
        payload, 14, (struct sockaddr *)&a6, (struct sockaddr *)&b6, {BASE_NS + 999999999}, -1, -1};
    struct rep_pkt mixed = {payload, 4, (struct sockaddr *)&a4, (struct sockaddr *)&b6, {0},
                            -1,      -1};
    assert_int_equal(rep_pcap_write(p, &k4), 0);
    assert_int_equal(rep_pcap_write(p, &k6), 0);
    assert_int_equal(rep_pcap_write(p, &mixed), LP_E_VALUE);
    assert_int_equal(rep_pcap_count(p), 2);
    assert_int_equal(rep_pcap_close(p), 0);

    char err[PCAP_ERRBUF_SIZE];
    pcap_t *r = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
    assert_non_null(r);
    assert_int_equal(pcap_datalink(r), DLT_RAW);
    struct pcap_pkthdr *h;
    const u_char *d;
    assert_int_equal(pcap_next_ex(r, &h, &d), 1);
    assert_int_equal(h->ts.tv_sec, 1700000000);
    assert_int_equal(h->ts.tv_usec, 123456789); /* nanoseconds */
    assert_int_equal(h->caplen, 20 + 8 + 15);
    assert_int_equal(d[0], 0x45);
    assert_int_equal(d[1], 0xB8);
    assert_int_equal(d[8], 64);
    assert_int_equal(d[9], IPPROTO_UDP);
    assert_int_equal(lp_load16(d + 2), 43);
    assert_int_equal(csum_fold(csum_add(0, d, 20)), 0xFFFF); /* IPv4 header checksum */
    assert_int_equal(lp_load16(d + 20), 5000);
    assert_int_equal(lp_load16(d + 22), 861);
    assert_udp_ok(d + 12, d + 16, 4, d + 20, 23);
    assert_memory_equal(d + 28, payload, 15);
    assert_int_equal(pcap_next_ex(r, &h, &d), 1);
    assert_int_equal(h->ts.tv_usec, 999999999);
    assert_int_equal(h->caplen, 40 + 8 + 14);
    assert_int_equal(d[0] >> 4, 6);
    assert_int_equal(d[6], IPPROTO_UDP);
    assert_int_equal(d[7], 255);
    assert_int_equal(lp_load16(d + 4), 22);
    assert_udp_ok(d + 8, d + 24, 16, d + 40, 22);
    assert_int_equal(pcap_next_ex(r, &h, &d), PCAP_ERROR_BREAK);
    pcap_close(r);
    unlink(path);
}

/* ---- JSON additions ---- */

static void test_json_additions(void **state)
{
    (void)state;
    /* delays 1, 2, 3, 4 ms: PDV = percentile - min: p50 1 ms, p95 3 ms, max 3 ms */
    struct met_owrec r[4];
    for (int i = 0; i < 4; i++) {
        r[i] = (struct met_owrec){.seq = (uint32_t)i,
                                  .send = {BASE_NS + i * 10000000LL},
                                  .recv = {BASE_NS + i * 10000000LL + (i + 1) * 1000000LL},
                                  .ttl = 255,
                                  .recv_src = CLK_SRC_KERNEL};
    }
    struct met_params mp = {0, 4};
    struct met_ow_stats st;
    struct rep_session s = session();
    assert_int_equal(met_ow_compute(r, 4, &mp, &st), 0);
    struct json_object *j = rep_ow_json_object(&s, NULL, &st), *v;
    assert_non_null(j);
    assert_true(json_object_object_get_ex(j, "direction", &v));
    assert_string_equal(json_object_get_string(v), "to");
    assert_true(json_object_object_get_ex(j, "dscp", &v));
    assert_int_equal(json_object_get_int(v), 46);
    assert_true(json_object_object_get_ex(j, "pdv_ns", &v));
    assert_int_equal(json_object_get_int64(json_object_object_get(v, "p50")), 1000000);
    assert_int_equal(json_object_get_int64(json_object_object_get(v, "p95")), 3000000);
    assert_int_equal(json_object_get_int64(json_object_object_get(v, "max")), 3000000);
    json_object_put(j);
    met_ow_stats_free(&st);

    char *data = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&data, &len);
    assert_int_equal(rep_ow_jsonl_tagged(f, &s, r, 1), 0);
    fclose(f);
    j = json_tokener_parse(data);
    assert_non_null(j);
    assert_string_equal(json_object_get_string(json_object_object_get(j, "sid")),
                        "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
    assert_int_equal(json_object_get_int64(json_object_object_get(j, "delay_ns")), 1000000);
    json_object_put(j);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ow_csv),
        cmocka_unit_test(test_tw_csv),
        cmocka_unit_test(test_errest_from_seconds),
        cmocka_unit_test(test_saved_ow_roundtrip),
        cmocka_unit_test(test_saved_tw_and_bare),
        cmocka_unit_test(test_saved_cut_short),
        cmocka_unit_test(test_pcap),
        cmocka_unit_test(test_json_additions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
