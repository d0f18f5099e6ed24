/* test_crypto.c - crypto module against RFC 6070 (PBKDF2), RFC 4231 (HMAC-SHA-256) and the
 * values printed in the ../shared/interop decoded.txt files and bytes taken from the matching
 * pcaps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common.h"
#include "crypto.h"

/* Decode hex into out (exactly len octets expected). */
static void hex(const char *s, uint8_t *out, size_t len)
{
    assert_int_equal(strlen(s), 2 * len);
    for (size_t i = 0; i < len; i++) {
        unsigned v;
        assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

static void assert_hex(const uint8_t *got, const char *want)
{
    uint8_t buf[256];
    size_t len = strlen(want) / 2;

    assert_true(len <= sizeof(buf));
    hex(want, buf, len);
    assert_memory_equal(got, buf, len);
}

/* ---- PBKDF2-HMAC-SHA1: RFC 6070 §2, first 16 octets of each DK ---- */

static void test_pbkdf2_rfc6070(void **state)
{
    static const struct {
        const char *p;
        size_t plen;
        const char *s;
        size_t slen;
        uint32_t c;
        const char *dk16;
    } v[] = {
        {"password", 8, "salt", 4, 1, "0c60c80f961f0e71f3a9b524af601206"},
        {"password", 8, "salt", 4, 2, "ea6c014dc72d6f8ccd1ed92ace1d41f0"},
        {"password", 8, "salt", 4, 4096, "4b007901b765489abead49d926f721d0"},
        {"passwordPASSWORDpassword", 24, "saltSALTsaltSALTsaltSALTsaltSALTsalt", 36, 4096,
         "3d2eec4fe41c849b80c8d83662c0e44a"},
        {"pass\0word", 9, "sa\0lt", 5, 4096, "56fa6aa75548099dcc37d7f03425e0c3"},
    };
    uint8_t key[CRY_KEY_LEN];

    (void)state;
    for (size_t i = 0; i < LP_ARRAY_LEN(v); i++) {
        assert_int_equal(cry_kdf((const uint8_t *)v[i].p, v[i].plen, (const uint8_t *)v[i].s,
                                 v[i].slen, v[i].c, key),
                         0);
        assert_hex(key, v[i].dk16);
    }
    assert_int_equal(cry_kdf((const uint8_t *)"x", 1, (const uint8_t *)"salt", 4, 0, key),
                     LP_E_VALUE);
}

/* ---- values printed in the .decoded.txt files ---- */

struct capture_keys {
    const char *file;
    const char *pass;
    const char *salt, *challenge, *token, *k, *aes, *hmac;
};

static const struct capture_keys captures[] = {
    {"owamp-auth", "correct horse battery staple", "d03b223966c4ee501f17f31ff27ecb97",
     "9ff5f0adbcd84d3d1ad11a6e5f4fceff",
     "7ef7eacb1ba2e7e1608db9eff95237a036c145658be1821b2b98a834fced14954a970a8585eb8b0bf6e5f4b8"
     "8af1cf91c05c39abb96224f068077922862ae9b5",
     "24384b4aafa8e2307179bc9b7cce3f0f", "eba059325dd109fda7b0875d944b046f",
     "9f9726b20c853bf4286f55cf90344049b58d06ade063946a2719dd73e868136e"},
    {"owamp-enc", "correct horse battery staple", "0fe93399635d8e7a42e9aea41e4dc6a0",
     "6caae8ae7bb45690f2214f4e24737f1e",
     "ad5166fba42b516ec9bea47204153b906bcaf43d7433e9216400dba9020d307e2187c332c38f8473645b5f2f"
     "3e9b1172e84727a0472af753fb9a5d21e3c14455",
     "ec3b4e21fa7934a10218cff5cc4e9ad2", "3295d61291208400f90b42f6e672aebb",
     "f73c62cf53b298e942a1234762344736b14ef4a9765a1a62c76653edd642f468"},
    {"twamp-auth", "correct horse battery staple", "4365f8210c1bfd4fdc9d43527049cd33",
     "d052dff33e2d3005c8e81128e02dc3ce",
     "070b5ed324dc70d3afe7d8963dc2d2b004ebb5915fd1d088666bf6f2ec5022198e67047bfa6cccd0669fabe0"
     "6edf7a8b953a47abc11cfc8a75fd899ad4146f20",
     "815f9bb44ca56b1e6300688bbe65cd15", "9dcdae77037545bd70bf7c28564d5104",
     "24e1e306b2d2438579ad9404d0e5b67c9e62c9863b6708df89ccae6f43b8b386"},
    {"twamp-enc", "correct horse battery staple", "bcacfd8dacdb5493afd082c0274b7a80",
     "9ac88e2377161cfc3b7adafcca4332c0",
     "b415d8ff6e72ac2917c5b634d1460cc51662504bae35eed17ba83e64fd2b48383508e40fd73b0d79838154f6"
     "80e5b7b92a5a7edfa655ab53b5d8ec4772b6f39f",
     "d1c71d62b2c4dc4a4527e330e1bb88c3", "08028d95e546d1b9e3c3b1636b5a76d1",
     "a34715b791bc79e85929a2b6d04684e955836dc45bd6b9fa4d516d39d3654d73"},
    {"twamp-mixed", "correct horse battery staple", "892cb2791b5c949f6ad9e9b749cd967a",
     "eb84bb0bca3eb85c203946e86146e14a",
     "4c44d1bfed9fa9ef4594b316966dcc8ab2e56756512f5037f70579913c1f138302ed5d871cb1be0568d50a27"
     "eab69d7cbaa961f1aa002c3a0be912724dc75e79",
     "de608d7177a172f810d0f833d716276f", "e777850de421be8b12b19042333e93ec",
     "b643e5a8fbef3848f6c08e2cfe0b9490466506c6b667154b75923a5b134a999a"},
    {"owamp-auth-wrongkey", "wrong passphrase", "8b4d045f1d6230c13db4ee504c8e7282",
     "794013bf6e5cc0aaf338b6e2a48a30f9",
     "baea58a7d45bbbbee4f3d669cf2f2e35c9912cafc10024e98d3e02f2ef48774321aa80e933f4c65da452eaab"
     "cb10bde037c52cc96daa3e88cdd0b46151de56bc",
     "0fa37efbb8f4dc5e63f0973204f12251", "19a8dcf8d6084ab637ef131e7ed7c00d",
     "e7e56efec6b34aea319a9de41c7e57e44210d251cd52d38b137e474be13afed0"},
};

static void test_capture_kdf_and_token(void **state)
{
    (void)state;
    for (size_t i = 0; i < LP_ARRAY_LEN(captures); i++) {
        const struct capture_keys *c = &captures[i];
        uint8_t salt[16], chal[16], token[64], k[16], echo[16], tok2[64];
        struct cry_session_keys keys, keys2;

        hex(c->salt, salt, 16);
        hex(c->challenge, chal, 16);
        hex(c->token, token, 64);
        assert_int_equal(cry_kdf((const uint8_t *)c->pass, strlen(c->pass), salt, 16, 2048, k), 0);
        assert_hex(k, c->k);
        cry_token_decrypt(k, token, echo, &keys);
        assert_memory_equal(echo, chal, 16);
        assert_hex(keys.aes, c->aes);
        assert_hex(keys.hmac, c->hmac);
        cry_token_encrypt(k, chal, &keys, tok2);
        assert_memory_equal(tok2, token, 64);
        assert_int_equal(cry_token_open(k, token, chal, &keys2), 0);
        assert_memory_equal(&keys2, &keys, sizeof(keys));
        chal[15] ^= 1;
        assert_int_equal(cry_token_open(k, token, chal, &keys2), LP_E_AUTH);
        assert_true(lp_all_zero((const uint8_t *)&keys2, sizeof(keys2)));
    }
}

/* The server holds the right pass-phrase and cannot open the wrong-key client's token. */
static void test_capture_wrongkey_rejected(void **state)
{
    const struct capture_keys *c = &captures[5];
    const char *right = "correct horse battery staple";
    uint8_t salt[16], chal[16], token[64], k[16];
    struct cry_session_keys keys;

    (void)state;
    hex(c->salt, salt, 16);
    hex(c->challenge, chal, 16);
    hex(c->token, token, 64);
    assert_int_equal(cry_kdf((const uint8_t *)right, strlen(right), salt, 16, 2048, k), 0);
    assert_int_equal(cry_token_open(k, token, chal, &keys), LP_E_AUTH);
}

static void test_capture_test_keys(void **state)
{
    static const struct {
        int cap; /* index in captures[] */
        const char *sid, *aes, *hmac;
    } v[] = {
        {0, "7f000001eeb396b54d464dc27c87a440", "8dbc86c9c5c6d14678673e03845bf5a5",
         "124c0d914f17be5327ec6da3023cc2355e76bf5ec898706ea41682cbd369e548"},
        {0, "7f000001eeb396b54d7aaac1450226a7", "4f0c7b8d739edbedaac310ad96da3660",
         "5c918e057f409f38f124aea384a96ab2f13aba247e06b25195e4acc7624c5f6c"},
        {1, "7f000001eeb396bbe0a9bcfdf8cace59", "148a2fb4ee57e797e813df97a7cee1a9",
         "5a617ecdb1d5105207983aad207b3a5ab19ab2bfd11c470be2ac64291663ce23"},
        {1, "7f000001eeb396bbe10e5604803242c7", "3caec366e1d9b6d43f33183631906321",
         "15ecd8cb5189efcaf927566a9bdf155702ae511ae5ea519ce0c09057a5ab99ca"},
        {2, "7f000001eeb39779d2ea747dc289de88", "465e89101605e1535ec50a7fa45852d2",
         "2e3719d795cdd49709ddec291edb9976e75634c7d1180d5665a277a6e9ebd271"},
        {3, "7f000001eeb3977f54d53048ef84e92b", "b9ee62fc93063ac3644e338ffcc0af5c",
         "0c291046088c4bb5dd445215e089d5852b41e5a759a3d1458c86d1ab7fcbbd5e"},
    };

    (void)state;
    for (size_t i = 0; i < LP_ARRAY_LEN(v); i++) {
        struct cry_session_keys keys;
        struct cry_test_keys tk;
        uint8_t sid[16];

        hex(captures[v[i].cap].aes, keys.aes, 16);
        hex(captures[v[i].cap].hmac, keys.hmac, 32);
        hex(v[i].sid, sid, 16);
        cry_test_keys_derive(&keys, sid, &tk);
        assert_hex(tk.aes, v[i].aes);
        assert_hex(tk.hmac, v[i].hmac);
        cry_test_keys_wipe(&tk);
        assert_true(lp_all_zero(tk.hmac, sizeof(tk.hmac)));
    }
}

/* ---- control stream: twamp-auth.pcap TCP payloads after Set-Up-Response ---- */

static void session_keys_of(int cap, struct cry_session_keys *keys)
{
    hex(captures[cap].aes, keys->aes, 16);
    hex(captures[cap].hmac, keys->hmac, 32);
}

static void test_capture_control_stream(void **state)
{
    struct cry_session_keys keys;
    struct cry_stream up, down;
    uint8_t civ[16], siv[16], blk[16], acc[48], req[112], ack[32], start[32], stop[32];

    (void)state;
    session_keys_of(2, &keys);
    hex("53ad4d41b69f7756c7c5568eb27f9308", civ, 16); /* Client-IV */
    hex("7968b4c599676d0d871310035789bb5e", siv, 16); /* Server-IV */
    cry_stream_init(&up, &keys, civ, true);
    cry_stream_init(&down, &keys, siv, true);

    /* Server-Start's last block: encrypted Start-Time + 8 MBZ, MAC'd into Accept-Session. */
    hex("662f6c26e5ffdf6a9cae6da76b66befc", blk, 16);
    assert_int_equal(cry_stream_recv(&down, blk, 16), 0);
    assert_int_equal(lp_load32(blk), 4004747118u); /* Start-Time seconds, decoded.txt */
    assert_true(lp_all_zero(blk + 8, 8));

    hex("ccbbef179a4c7a8c6ca44bea44028cb983de446b34ee04e43153ec366db685ae95bcaa4fa897f4dc2d3a7c"
        "f966eeed5bf64a7741b42531f53fa848843906ee2a0d4f74db8057d145471a3822532e144a431b7d4871"
        "21074da9a2cffb8635d7564689ccb962a10b235d7db3ea3eb281da",
        req, 112);
    assert_int_equal(cry_stream_open_msg(&up, req, 112), 0);
    assert_int_equal(req[0], 5); /* Request-TW-Session */

    hex("af690e0a087769dad85dd547368ff2625f4ff7ff2d1e5a72f900ad1dec6a18b5eb0b3c0df8c6a7b21eae"
        "f161a2a60522",
        acc, 48);
    assert_int_equal(cry_stream_open_msg(&down, acc, 48), 0);
    assert_int_equal(acc[0], 0);                 /* Accept */
    assert_int_equal(lp_load16(acc + 2), 18842); /* Port */
    assert_hex(acc + 4, "7f000001eeb39779d2ea747dc289de88");

    hex("75ccf27b97b6b8420120eeb431ee41e40d276e5e419bfb5b60def4d812525e43", start, 32);
    assert_int_equal(cry_stream_open_msg(&up, start, 32), 0);
    assert_int_equal(start[0], 2); /* Start-Sessions */
    hex("c113c858a285c74fea9083e031cdf574c14ddc5ed35b2a5fcbe8d4380cc4d377", ack, 32);
    assert_int_equal(cry_stream_open_msg(&down, ack, 32), 0);
    assert_int_equal(ack[0], 0);
    hex("951465bafb24707e75b856b0b9ed0ed3f6646ac0ed4fe2c2d14f60caecd5703b", stop, 32);
    assert_int_equal(cry_stream_open_msg(&up, stop, 32), 0);
    assert_int_equal(stop[0], 3);
    assert_int_equal(lp_load32(stop + 4), 1); /* Number of Sessions */
}

/* Without the Server-Start block in the server's HMAC, Accept-Session does not verify. */
static void test_capture_server_start_block_is_maced(void **state)
{
    struct cry_session_keys keys;
    struct cry_stream down;
    uint8_t siv[16], blk[16], acc[48];

    (void)state;
    session_keys_of(2, &keys);
    hex("7968b4c599676d0d871310035789bb5e", siv, 16);
    cry_stream_init(&down, &keys, siv, true);
    hex("662f6c26e5ffdf6a9cae6da76b66befc", blk, 16);
    assert_int_equal(cry_stream_decrypt(&down, blk, 16), 0); /* chain, but no MAC */
    hex("af690e0a087769dad85dd547368ff2625f4ff7ff2d1e5a72f900ad1dec6a18b5eb0b3c0df8c6a7b21eae"
        "f161a2a60522",
        acc, 48);
    assert_int_equal(cry_stream_open_msg(&down, acc, 48), LP_E_HMAC);
}

/* ---- control stream round trip ---- */

static void test_stream_roundtrip(void **state)
{
    static const size_t lens[] = {48, 112, 32, 32, 16, 64, 272};
    struct cry_session_keys keys;
    struct cry_stream tx, rx;
    uint8_t iv[16], msg[272], orig[272], prev[272];

    (void)state;
    cry_session_keys_generate(&keys);
    cry_random(iv, sizeof(iv));
    cry_stream_init(&tx, &keys, iv, true);
    cry_stream_init(&rx, &keys, iv, true);
    memset(prev, 0, sizeof(prev));
    for (size_t i = 0; i < LP_ARRAY_LEN(lens); i++) {
        size_t n = lens[i];

        memset(msg, 0x42, n); /* the same plaintext every time */
        memcpy(orig, msg, n);
        assert_int_equal(cry_stream_seal_msg(&tx, msg, n), 0);
        assert_memory_not_equal(msg, orig, n);  /* a 16-octet message is just its HMAC */
        assert_memory_not_equal(msg, prev, 16); /* the chain continues across messages */
        memcpy(prev, msg, 16);
        assert_int_equal(cry_stream_open_msg(&rx, msg, n), 0);
        if (n > 16) {
            assert_memory_equal(msg, orig, n - 16);
        }
    }

    /* A message delivered in pieces (as over TCP) verifies the same way. */
    memset(msg, 7, 144);
    memcpy(orig, msg, 144);
    assert_int_equal(cry_stream_send(&tx, msg, 112), 0);
    assert_int_equal(cry_stream_seal_msg(&tx, msg + 112, 32), 0);
    assert_int_equal(cry_stream_recv(&rx, msg, 16), 0);
    assert_int_equal(cry_stream_recv(&rx, msg + 16, 96), 0);
    assert_int_equal(cry_stream_open_msg(&rx, msg + 112, 32), 0);
    assert_memory_equal(msg, orig, 128);

    /* Tampering with any ciphertext bit breaks the HMAC. */
    memset(msg, 1, 48);
    assert_int_equal(cry_stream_seal_msg(&tx, msg, 48), 0);
    msg[5] ^= 0x10;
    assert_int_equal(cry_stream_open_msg(&rx, msg, 48), LP_E_HMAC);

    assert_int_equal(cry_stream_encrypt(&tx, msg, 15), LP_E_LEN);
    assert_int_equal(cry_stream_decrypt(&rx, msg, 17), LP_E_LEN);
    assert_int_equal(cry_stream_seal_msg(&tx, msg, 8), LP_E_LEN);
    cry_stream_wipe(&tx);
    assert_false(tx.enabled);
    assert_true(lp_all_zero(tx.iv, 16));
}

static void test_stream_open_mode(void **state)
{
    struct cry_stream s;
    uint8_t msg[48], orig[48], zero[16] = {0};

    (void)state;
    cry_stream_init(&s, NULL, zero, false);
    memset(msg, 0x5a, sizeof(msg));
    memcpy(orig, msg, sizeof(msg));
    assert_int_equal(cry_stream_seal_msg(&s, msg, 48), 0);
    assert_memory_equal(msg, orig, 32);
    assert_true(lp_all_zero(msg + 32, 16));
    assert_int_equal(cry_stream_open_msg(&s, msg, 48), 0);
    assert_memory_equal(msg, orig, 32);
}

/* ---- test packets: bytes from the captures ---- */

static void check_capture_packet(int cap, const char *sid, enum cry_test_mode mode,
                                 enum cry_pkt_kind kind, const char *pkt_hex, uint32_t ts_sec)
{
    struct cry_session_keys keys;
    struct cry_test_keys tk;
    uint8_t s[16], pkt[112], rx[112];
    size_t len = strlen(pkt_hex) / 2;

    session_keys_of(cap, &keys);
    hex(sid, s, 16);
    cry_test_keys_derive(&keys, s, &tk);
    hex(pkt_hex, pkt, len);
    memcpy(rx, pkt, len);
    assert_int_equal(cry_test_open(&tk, mode, kind, rx, len), 0);
    assert_int_equal(lp_load32(rx), 0); /* first packet: seq 0 */
    assert_true(lp_all_zero(rx + 4, 12));
    assert_int_equal(lp_load32(rx + 16), ts_sec);
    assert_int_equal(lp_load16(rx + 24), 1); /* Error Estimate S 0 Z 0 scale 0 mult 1 */
    /* Sealing the plaintext again reproduces the captured packet. */
    assert_int_equal(cry_test_seal(&tk, mode, kind, rx, len), 0);
    assert_memory_equal(rx, pkt, len);
    /* A flipped sequence-number bit is caught. */
    pkt[3] ^= 1;
    memcpy(rx, pkt, len);
    assert_int_equal(cry_test_open(&tk, mode, kind, rx, len), LP_E_HMAC);
    assert_memory_equal(rx, pkt, len);
}

static void test_capture_test_packets(void **state)
{
    (void)state;
    /* owamp-auth: 9502 -> 18720 and 18723 -> 8818, seq 0 */
    check_capture_packet(0, "7f000001eeb396b54d464dc27c87a440", CRY_TEST_AUTH, CRY_PKT_SENDER,
                         "ac9de6f15ef9af376dc7050db1a4c138eeb396b65ea465a50001000000000000ac9d682b"
                         "c972aa1db1cfa8f6c3fc8750",
                         4004746934u);
    check_capture_packet(0, "7f000001eeb396b54d7aaac1450226a7", CRY_TEST_AUTH, CRY_PKT_SENDER,
                         "3932ab3c46a78b0b11efa66ea2dd3397eeb396b65ea4766c000100000000000090c0d738"
                         "4b48968745b9a06395c80c0e",
                         4004746934u);
    /* owamp-enc: 8789 -> 18714 and 18701 -> 9895, seq 0 */
    check_capture_packet(1, "7f000001eeb396bbe0a9bcfdf8cace59", CRY_TEST_ENC, CRY_PKT_SENDER,
                         "4f27d8b57436c09275c60a48806626340341a0dad744e99c3c572e738c4fc507911ac165"
                         "ea56fe421116412fe2687cf7",
                         4004746940u);
    check_capture_packet(1, "7f000001eeb396bbe10e5604803242c7", CRY_TEST_ENC, CRY_PKT_SENDER,
                         "c9a17c2e87050098e29b1a3855cc987484874bcf9b615104dbad4577f0aab9ab6ac5999c"
                         "2e198206ee95bdff0c9c0508",
                         4004746940u);
    /* twamp-auth: sender and reflected packet, seq 0 */
    check_capture_packet(2, "7f000001eeb39779d2ea747dc289de88", CRY_TEST_AUTH, CRY_PKT_SENDER,
                         "6f1ad2c522c46a1847f2f94f2ecbf645eeb3977aeec0e7bc00010000000000005474f307"
                         "16dbfbbe1d80423052acd8c3e3bb109c0cf76bb7e1a7dd2ccfca1d046ad070dbdb2528d3"
                         "858f45ee748100289534a54c9708bff3bb91443d8a653eb7c1bb9e3ba1a9fee12b4fc3ac"
                         "c46f191f",
                         4004747130u);
    check_capture_packet(2, "7f000001eeb39779d2ea747dc289de88", CRY_TEST_AUTH, CRY_PKT_REFLECTOR,
                         "6f1ad2c522c46a1847f2f94f2ecbf645eeb3977aeec508b30001000000000000eeb3977a"
                         "eec3c9ee000000000000000000000000000000000000000000000000eeb3977aeec0e7bc"
                         "0001000000000000ff0000000000000000000000000000005474f30716dbfbbe1d804230"
                         "52acd8c3",
                         4004747130u);
    /* twamp-enc: sender and reflected packet, seq 0 */
    check_capture_packet(3, "7f000001eeb3977f54d53048ef84e92b", CRY_TEST_ENC, CRY_PKT_SENDER,
                         "26cd088ae95f630ffd86f71ed62e66161e0a6bf5dcd9eda9b93f5b2c766300453e3f4b9e"
                         "c8dfa75da120fadd4293a8586b35fa69d8f66abe54838557367305e85eb7493827daff40"
                         "d41e6efd24b9f4c7762b5eab55acdc690fe4735e2e0168bc72b817be672049c67c4d3d9c"
                         "d9237a27",
                         4004747136u);
    check_capture_packet(3, "7f000001eeb3977f54d53048ef84e92b", CRY_TEST_ENC, CRY_PKT_REFLECTOR,
                         "26cd088ae95f630ffd86f71ed62e6616f9e1fc520247123206d867400e6b676a5540eee5"
                         "9d00c2b3c2e7192230f6a13d0d6a1dc6c13184f233c70232c0fa40aa4dbc77ca4b90b13a"
                         "cf31d0fe88a314a1f4604a6e061debece8a03ffa66ee9809fcad2984492ee0c21a2a3dba"
                         "000dbe30",
                         4004747136u);
}

/* ---- test packets: round trip and tamper detection ---- */

static void roundtrip_one(struct cry_test_keys *tk, enum cry_test_mode mode, enum cry_pkt_kind kind)
{
    struct cry_test_layout lay;
    uint8_t plain[112], pkt[112], rx[112];

    assert_int_equal(cry_test_layout(mode, kind, &lay), 0);
    cry_random(plain, sizeof(plain));
    memcpy(pkt, plain, sizeof(pkt));
    assert_int_equal(cry_test_seal(tk, mode, kind, pkt, sizeof(pkt)), 0);
    assert_memory_not_equal(pkt, plain, 16);
    memcpy(rx, pkt, sizeof(rx));
    assert_int_equal(cry_test_open(tk, mode, kind, rx, sizeof(rx)), 0);
    assert_memory_equal(rx, plain, lay.enc_len);
    /* Every bit of the protected octets and of the HMAC field is covered. */
    for (size_t bit = 0; bit < 8 * sizeof(pkt); bit++) {
        size_t byte = bit / 8;
        bool covered = byte < lay.enc_len || (byte >= lay.hmac_off && byte < lay.hmac_off + 16);

        memcpy(rx, pkt, sizeof(rx));
        rx[byte] ^= (uint8_t)(1u << (bit % 8));
        assert_int_equal(cry_test_open(tk, mode, kind, rx, sizeof(rx)), covered ? LP_E_HMAC : 0);
    }
}

static void test_test_packet_roundtrip(void **state)
{
    struct cry_session_keys keys;
    struct cry_test_keys tk;
    struct cry_test_layout lay;
    uint8_t sid[16], pkt[112] = {0};

    (void)state;
    cry_session_keys_generate(&keys);
    cry_random(sid, sizeof(sid));
    cry_test_keys_derive(&keys, sid, &tk);
    roundtrip_one(&tk, CRY_TEST_AUTH, CRY_PKT_SENDER);
    roundtrip_one(&tk, CRY_TEST_AUTH, CRY_PKT_REFLECTOR);
    roundtrip_one(&tk, CRY_TEST_ENC, CRY_PKT_SENDER);
    roundtrip_one(&tk, CRY_TEST_ENC, CRY_PKT_REFLECTOR);

    assert_int_equal(cry_test_layout(CRY_TEST_ENC, CRY_PKT_REFLECTOR, &lay), 0);
    assert_int_equal(lay.enc_len, 96);
    assert_int_equal(lay.hmac_off, 96);
    assert_int_equal(cry_test_layout(CRY_TEST_AUTH, CRY_PKT_SENDER, &lay), 0);
    assert_int_equal(lay.enc_len, 16);
    assert_int_equal(lay.hmac_off, 32);
    assert_int_equal(cry_test_layout((enum cry_test_mode)7, CRY_PKT_SENDER, &lay), LP_E_MODE);
    assert_int_equal(cry_test_seal(&tk, CRY_TEST_AUTH, CRY_PKT_SENDER, pkt, 47), LP_E_SHORT);
    assert_int_equal(cry_test_open(&tk, CRY_TEST_ENC, CRY_PKT_REFLECTOR, pkt, 111), LP_E_SHORT);
    assert_int_equal(cry_test_seal(&tk, CRY_TEST_OPEN, CRY_PKT_SENDER, pkt, 14), 0);
    assert_true(lp_all_zero(pkt, sizeof(pkt)));
}

/* ---- STAMP: RFC 4231 HMAC-SHA-256 test cases 2 and 5, first 128 bits ---- */

static void test_stamp_hmac_rfc4231(void **state)
{
    const char *data2 = "what do ya want for nothing?";
    const char *data5 = "Test With Truncation";
    uint8_t key5[20], mac[16];

    (void)state;
    cry_stamp_hmac((const uint8_t *)"Jefe", 4, (const uint8_t *)data2, strlen(data2), mac);
    assert_hex(mac, "5bdcc146bf60754e6a042426089575c7");
    assert_int_equal(
        cry_stamp_verify((const uint8_t *)"Jefe", 4, (const uint8_t *)data2, strlen(data2), mac),
        0);
    memset(key5, 0x0c, sizeof(key5));
    cry_stamp_hmac(key5, sizeof(key5), (const uint8_t *)data5, strlen(data5), mac);
    assert_hex(mac, "a3b6167473100ee06e0c796c2955552b");
    mac[15] ^= 0x80;
    assert_int_equal(
        cry_stamp_verify(key5, sizeof(key5), (const uint8_t *)data5, strlen(data5), mac),
        LP_E_HMAC);
}

static void test_random_and_wipe(void **state)
{
    uint8_t a[32], b[32];

    (void)state;
    assert_int_equal(cry_init(), 0);
    cry_random(a, sizeof(a));
    cry_random(b, sizeof(b));
    assert_memory_not_equal(a, b, sizeof(a));
    assert_false(lp_all_zero(a, sizeof(a)));
    cry_wipe(a, sizeof(a));
    assert_true(lp_all_zero(a, sizeof(a)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pbkdf2_rfc6070),
        cmocka_unit_test(test_capture_kdf_and_token),
        cmocka_unit_test(test_capture_wrongkey_rejected),
        cmocka_unit_test(test_capture_test_keys),
        cmocka_unit_test(test_capture_control_stream),
        cmocka_unit_test(test_capture_server_start_block_is_maced),
        cmocka_unit_test(test_stream_roundtrip),
        cmocka_unit_test(test_stream_open_mode),
        cmocka_unit_test(test_capture_test_packets),
        cmocka_unit_test(test_test_packet_roundtrip),
        cmocka_unit_test(test_stamp_hmac_rfc4231),
        cmocka_unit_test(test_random_and_wipe),
    };

    if (cry_init() < 0) {
        return 1;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
