/* crypto.c - OWAMP/TWAMP/STAMP cryptography on top of nettle and libsodium. */
#include "crypto.h"

#include <string.h>

#include <nettle/cbc.h>
#include <nettle/nettle-meta.h>
#include <nettle/pbkdf2.h>
#include <sodium.h>

#include "common.h"

/* Offsets of the HMAC field in authenticated/encrypted test packets (RFC 4656 §4.1.2,
 * RFC 5357 §4.1.2 and §4.2.1 with erratum 5045: 112-octet minimum). */
#define TEST_HMAC_OFF_SENDER 32
#define TEST_HMAC_OFF_REFLECTOR 96
#define TEST_ENC_MAX 96

int cry_init(void)
{
    return sodium_init() < 0 ? LP_E_CRYPTO : 0;
}

void cry_random(void *buf, size_t len)
{
    randombytes_buf(buf, len);
}

void cry_wipe(void *buf, size_t len)
{
    sodium_memzero(buf, len);
}

int cry_hex_decode(const char *hex, size_t hexlen, uint8_t *out, size_t cap, size_t *outlen)
{
    const char *end = NULL;
    if (hexlen % 2 != 0 || hexlen / 2 > cap ||
        sodium_hex2bin(out, cap, hex, hexlen, NULL, outlen, &end) != 0 || end != hex + hexlen ||
        *outlen != hexlen / 2) {
        sodium_memzero(out, cap);
        return LP_E_SYNTAX;
    }
    return 0;
}

void cry_aes_ecb_init(struct cry_aes_ecb *a, const uint8_t key[CRY_KEY_LEN])
{
    aes128_set_encrypt_key(&a->ctx, key);
}

void cry_aes_ecb_block(const struct cry_aes_ecb *a, const uint8_t in[CRY_BLOCK_LEN],
                       uint8_t out[CRY_BLOCK_LEN])
{
    aes128_encrypt(&a->ctx, CRY_BLOCK_LEN, out, in);
}

int cry_kdf(const uint8_t *pass, size_t passlen, const uint8_t *salt, size_t saltlen,
            uint32_t count, uint8_t key[CRY_KEY_LEN])
{
    if (count == 0) {
        return LP_E_VALUE;
    }
    pbkdf2_hmac_sha1(passlen, pass, count, saltlen, salt, CRY_KEY_LEN, key);
    return 0;
}

/* One-shot AES-128-CBC with IV 0 (len a multiple of 16). */
static void cbc0_encrypt(const uint8_t key[CRY_KEY_LEN], uint8_t *dst, const uint8_t *src,
                         size_t len)
{
    struct aes128_ctx ctx;
    uint8_t iv[CRY_BLOCK_LEN] = {0};

    aes128_set_encrypt_key(&ctx, key);
    cbc_encrypt(&ctx, nettle_aes128.encrypt, CRY_BLOCK_LEN, iv, len, dst, src);
    cry_wipe(&ctx, sizeof(ctx));
}

static void cbc0_decrypt(const uint8_t key[CRY_KEY_LEN], uint8_t *dst, const uint8_t *src,
                         size_t len)
{
    struct aes128_ctx ctx;
    uint8_t iv[CRY_BLOCK_LEN] = {0};

    aes128_set_decrypt_key(&ctx, key);
    cbc_decrypt(&ctx, nettle_aes128.decrypt, CRY_BLOCK_LEN, iv, len, dst, src);
    cry_wipe(&ctx, sizeof(ctx));
}

void cry_session_keys_generate(struct cry_session_keys *keys)
{
    cry_random(keys, sizeof(*keys));
}

void cry_token_encrypt(const uint8_t key[CRY_KEY_LEN], const uint8_t challenge[CRY_CHALLENGE_LEN],
                       const struct cry_session_keys *keys, uint8_t token[CRY_TOKEN_LEN])
{
    uint8_t plain[CRY_TOKEN_LEN];

    memcpy(plain, challenge, CRY_CHALLENGE_LEN);
    memcpy(plain + 16, keys->aes, CRY_KEY_LEN);
    memcpy(plain + 32, keys->hmac, CRY_HMAC_KEY_LEN);
    cbc0_encrypt(key, token, plain, CRY_TOKEN_LEN);
    cry_wipe(plain, sizeof(plain));
}

void cry_token_decrypt(const uint8_t key[CRY_KEY_LEN], const uint8_t token[CRY_TOKEN_LEN],
                       uint8_t challenge[CRY_CHALLENGE_LEN], struct cry_session_keys *keys)
{
    uint8_t plain[CRY_TOKEN_LEN];

    cbc0_decrypt(key, plain, token, CRY_TOKEN_LEN);
    memcpy(challenge, plain, CRY_CHALLENGE_LEN);
    memcpy(keys->aes, plain + 16, CRY_KEY_LEN);
    memcpy(keys->hmac, plain + 32, CRY_HMAC_KEY_LEN);
    cry_wipe(plain, sizeof(plain));
}

int cry_token_open(const uint8_t key[CRY_KEY_LEN], const uint8_t token[CRY_TOKEN_LEN],
                   const uint8_t challenge[CRY_CHALLENGE_LEN], struct cry_session_keys *keys)
{
    uint8_t echo[CRY_CHALLENGE_LEN];

    cry_token_decrypt(key, token, echo, keys);
    if (sodium_memcmp(echo, challenge, CRY_CHALLENGE_LEN) != 0) {
        cry_wipe(keys, sizeof(*keys));
        return LP_E_AUTH;
    }
    return 0;
}

void cry_stream_init(struct cry_stream *s, const struct cry_session_keys *keys,
                     const uint8_t iv[CRY_BLOCK_LEN], bool enabled)
{
    memset(s, 0, sizeof(*s));
    s->enabled = enabled;
    if (!enabled) {
        return;
    }
    memcpy(s->iv, iv, CRY_BLOCK_LEN);
    aes128_set_encrypt_key(&s->enc, keys->aes);
    aes128_set_decrypt_key(&s->dec, keys->aes);
    hmac_sha1_set_key(&s->mac, CRY_HMAC_KEY_LEN, keys->hmac);
}

void cry_stream_wipe(struct cry_stream *s)
{
    cry_wipe(s, sizeof(*s));
}

int cry_stream_encrypt(struct cry_stream *s, uint8_t *buf, size_t len)
{
    if (len % CRY_BLOCK_LEN != 0) {
        return LP_E_LEN;
    }
    if (s->enabled && len > 0) {
        cbc_encrypt(&s->enc, nettle_aes128.encrypt, CRY_BLOCK_LEN, s->iv, len, buf, buf);
    }
    return 0;
}

int cry_stream_decrypt(struct cry_stream *s, uint8_t *buf, size_t len)
{
    if (len % CRY_BLOCK_LEN != 0) {
        return LP_E_LEN;
    }
    if (s->enabled && len > 0) {
        cbc_decrypt(&s->dec, nettle_aes128.decrypt, CRY_BLOCK_LEN, s->iv, len, buf, buf);
    }
    return 0;
}

void cry_stream_mac_update(struct cry_stream *s, const uint8_t *plain, size_t len)
{
    if (s->enabled) {
        hmac_sha1_update(&s->mac, len, plain);
    }
}

/* nettle's digest call also restarts the HMAC with the same key. */
void cry_stream_mac_final(struct cry_stream *s, uint8_t out[CRY_MAC_LEN])
{
    if (s->enabled) {
        hmac_sha1_digest(&s->mac, CRY_MAC_LEN, out);
    } else {
        memset(out, 0, CRY_MAC_LEN);
    }
}

/* Open mode: RFC 4656 leaves the field unused; the reference sends zeros, we accept any. */
int cry_stream_mac_verify(struct cry_stream *s, const uint8_t mac[CRY_MAC_LEN])
{
    uint8_t want[CRY_MAC_LEN];
    int rc = 0;

    if (!s->enabled) {
        return 0;
    }
    cry_stream_mac_final(s, want);
    if (sodium_memcmp(want, mac, CRY_MAC_LEN) != 0) {
        rc = LP_E_HMAC;
    }
    cry_wipe(want, sizeof(want));
    return rc;
}

int cry_stream_send(struct cry_stream *s, uint8_t *buf, size_t len)
{
    if (len % CRY_BLOCK_LEN != 0) {
        return LP_E_LEN;
    }
    cry_stream_mac_update(s, buf, len);
    return cry_stream_encrypt(s, buf, len);
}

int cry_stream_recv(struct cry_stream *s, uint8_t *buf, size_t len)
{
    int rc = cry_stream_decrypt(s, buf, len);

    if (rc == 0) {
        cry_stream_mac_update(s, buf, len);
    }
    return rc;
}

int cry_stream_seal_msg(struct cry_stream *s, uint8_t *msg, size_t len)
{
    if (len < CRY_MAC_LEN || len % CRY_BLOCK_LEN != 0) {
        return LP_E_LEN;
    }
    cry_stream_mac_update(s, msg, len - CRY_MAC_LEN);
    cry_stream_mac_final(s, msg + len - CRY_MAC_LEN);
    return cry_stream_encrypt(s, msg, len);
}

int cry_stream_open_msg(struct cry_stream *s, uint8_t *msg, size_t len)
{
    if (len < CRY_MAC_LEN || len % CRY_BLOCK_LEN != 0) {
        return LP_E_LEN;
    }
    cry_stream_decrypt(s, msg, len);
    cry_stream_mac_update(s, msg, len - CRY_MAC_LEN);
    return cry_stream_mac_verify(s, msg + len - CRY_MAC_LEN);
}

void cry_test_keys_derive(const struct cry_session_keys *keys, const uint8_t sid[CRY_SID_LEN],
                          struct cry_test_keys *out)
{
    /* One block under CBC with IV 0 is exactly ECB. */
    cbc0_encrypt(sid, out->aes, keys->aes, CRY_KEY_LEN);
    cbc0_encrypt(sid, out->hmac, keys->hmac, CRY_HMAC_KEY_LEN);
    aes128_set_encrypt_key(&out->enc, out->aes);
    aes128_set_decrypt_key(&out->dec, out->aes);
    hmac_sha1_set_key(&out->mac, CRY_HMAC_KEY_LEN, out->hmac);
}

void cry_test_keys_wipe(struct cry_test_keys *k)
{
    cry_wipe(k, sizeof(*k));
}

/* Test-packet HMAC, as the reference (perfSONAR owamp 5.2.3) computes it and as every A/E
 * capture in ../shared/interop confirms: HMAC-SHA1/16 over the PLAINTEXT of the encrypted
 * octets only (authenticated: the first block; encrypted: 32 or 96 octets), then those octets
 * are encrypted and the HMAC field itself travels in clear. As we read RFC 4656 §4.1.2 and
 * RFC 5357 §4.1.2/§4.2.1, the HMAC should protect every field before it, so in authenticated
 * mode the reference leaves the clear Timestamp and Error Estimate (and the reflector's clear
 * fields) unprotected. We follow the reference, which is what is deployed. */
int cry_test_layout(enum cry_test_mode mode, enum cry_pkt_kind kind, struct cry_test_layout *out)
{
    size_t hmac_off = kind == CRY_PKT_REFLECTOR ? TEST_HMAC_OFF_REFLECTOR : TEST_HMAC_OFF_SENDER;

    if (kind != CRY_PKT_SENDER && kind != CRY_PKT_REFLECTOR) {
        return LP_E_MODE;
    }
    switch (mode) {
    case CRY_TEST_OPEN: *out = (struct cry_test_layout){0, 0}; return 0;
    case CRY_TEST_AUTH: *out = (struct cry_test_layout){CRY_BLOCK_LEN, hmac_off}; return 0;
    case CRY_TEST_ENC: *out = (struct cry_test_layout){hmac_off, hmac_off}; return 0;
    }
    return LP_E_MODE;
}

static int test_prepare(enum cry_test_mode mode, enum cry_pkt_kind kind, size_t len,
                        struct cry_test_layout *lay)
{
    int rc = cry_test_layout(mode, kind, lay);

    if (rc < 0) {
        return rc;
    }
    if (lay->enc_len > 0 && len < lay->hmac_off + CRY_MAC_LEN) {
        return LP_E_SHORT;
    }
    return 0;
}

int cry_test_seal(struct cry_test_keys *k, enum cry_test_mode mode, enum cry_pkt_kind kind,
                  uint8_t *pkt, size_t len)
{
    struct cry_test_layout lay;
    uint8_t iv[CRY_BLOCK_LEN] = {0};
    int rc = test_prepare(mode, kind, len, &lay);

    if (rc < 0 || lay.enc_len == 0) {
        return rc;
    }
    hmac_sha1_update(&k->mac, lay.enc_len, pkt);
    hmac_sha1_digest(&k->mac, CRY_MAC_LEN, pkt + lay.hmac_off);
    cbc_encrypt(&k->enc, nettle_aes128.encrypt, CRY_BLOCK_LEN, iv, lay.enc_len, pkt, pkt);
    return 0;
}

int cry_test_open(struct cry_test_keys *k, enum cry_test_mode mode, enum cry_pkt_kind kind,
                  uint8_t *pkt, size_t len)
{
    struct cry_test_layout lay;
    uint8_t iv[CRY_BLOCK_LEN] = {0};
    uint8_t plain[TEST_ENC_MAX];
    uint8_t want[CRY_MAC_LEN];
    int rc = test_prepare(mode, kind, len, &lay);

    if (rc < 0 || lay.enc_len == 0) {
        return rc;
    }
    cbc_decrypt(&k->dec, nettle_aes128.decrypt, CRY_BLOCK_LEN, iv, lay.enc_len, plain, pkt);
    hmac_sha1_update(&k->mac, lay.enc_len, plain);
    hmac_sha1_digest(&k->mac, CRY_MAC_LEN, want);
    if (sodium_memcmp(want, pkt + lay.hmac_off, CRY_MAC_LEN) != 0) {
        rc = LP_E_HMAC;
    } else {
        memcpy(pkt, plain, lay.enc_len);
    }
    cry_wipe(plain, sizeof(plain));
    return rc;
}

void cry_stamp_hmac(const uint8_t *key, size_t keylen, const uint8_t *pkt, size_t len,
                    uint8_t out[CRY_MAC_LEN])
{
    crypto_auth_hmacsha256_state st;
    uint8_t full[crypto_auth_hmacsha256_BYTES];

    crypto_auth_hmacsha256_init(&st, key, keylen);
    crypto_auth_hmacsha256_update(&st, pkt, len);
    crypto_auth_hmacsha256_final(&st, full);
    memcpy(out, full, CRY_MAC_LEN);
    cry_wipe(&st, sizeof(st));
    cry_wipe(full, sizeof(full));
}

int cry_stamp_verify(const uint8_t *key, size_t keylen, const uint8_t *pkt, size_t len,
                     const uint8_t mac[CRY_MAC_LEN])
{
    uint8_t want[CRY_MAC_LEN];
    int rc;

    cry_stamp_hmac(key, keylen, pkt, len, want);
    rc = sodium_memcmp(want, mac, CRY_MAC_LEN) == 0 ? 0 : LP_E_HMAC;
    cry_wipe(want, sizeof(want));
    return rc;
}
