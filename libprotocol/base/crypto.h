/* crypto.h - every cryptographic operation of OWAMP (RFC 4656), TWAMP (RFC 5357) and STAMP
 * (RFC 8762), backed by nettle (AES-128, HMAC-SHA1, PBKDF2) and libsodium (random, wiping,
 * constant-time compare, HMAC-SHA-256). No I/O, no global state.
 *
 * Control connection (A/E/M modes), as the reference (perfSONAR owamp 5.2.3) does it:
 *   K = PBKDF2-HMAC-SHA1(pass-phrase, Salt, Count, 16)        cry_kdf
 *   Token = AES-CBC(K, IV 0, Challenge | AES-key | HMAC-key)  cry_token_encrypt / _open
 *   after Server-Start each direction is one AES-CBC stream (IV = Client-IV client->server,
 *   Server-IV server->client) chained across messages; each message's HMAC field is
 *   HMAC-SHA1/16 over the plaintext since the previous HMAC, and is itself encrypted.
 *
 * Server-Start: its first 32 octets are sent in clear; its last block (Start-Time + MBZ) is
 * the first block of the server->client stream and is covered by the server's next HMAC
 * (the one closing the first Accept-Session). Handle it as:
 *   server: cry_stream_init(&tx, keys, server_iv, on); cry_stream_send(&tx, blk, 16);
 *   client: cry_stream_init(&rx, keys, server_iv, on); cry_stream_recv(&rx, blk, 16);
 * then every following message with cry_stream_seal_msg / cry_stream_open_msg. */
#ifndef LP_CRYPTO_H
#define LP_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nettle/aes.h>
#include <nettle/hmac.h>

#define CRY_BLOCK_LEN 16    /* AES block, and the unit of every control message */
#define CRY_KEY_LEN 16      /* AES-128 key, and K */
#define CRY_HMAC_KEY_LEN 32 /* HMAC session key and test HMAC key */
#define CRY_MAC_LEN 16      /* truncated HMAC on the wire */
#define CRY_SALT_LEN 16
#define CRY_CHALLENGE_LEN 16
#define CRY_TOKEN_LEN 64
#define CRY_SID_LEN 16

/* Initialise libsodium (idempotent, thread-safe). Call once at start-up; 0 or LP_E_CRYPTO. */
int cry_init(void);

/* Fill buf with len octets from the system CSPRNG. */
void cry_random(void *buf, size_t len);

/* Overwrite a secret with zeros in a way the compiler cannot drop. */
void cry_wipe(void *buf, size_t len);

/* Decode hexlen hexadecimal digits into out (cap octets at most): 0 with *outlen set when
 * every digit is one and they fit, LP_E_SYNTAX otherwise (out is then wiped). */
int cry_hex_decode(const char *hex, size_t hexlen, uint8_t *out, size_t cap, size_t *outlen);

/* AES-128 on single blocks with one key (the RFC 4656 schedule generator keys it with the
 * SID and encrypts a counter). */
struct cry_aes_ecb {
    struct aes128_ctx ctx;
};

void cry_aes_ecb_init(struct cry_aes_ecb *a, const uint8_t key[CRY_KEY_LEN]);
void cry_aes_ecb_block(const struct cry_aes_ecb *a, const uint8_t in[CRY_BLOCK_LEN],
                       uint8_t out[CRY_BLOCK_LEN]);

/* K = PBKDF2-HMAC-SHA1(pass, salt, count) truncated to 16 octets; OWAMP salts are
 * CRY_SALT_LEN octets. The caller enforces the Count policy (RFC 4656: at least 1024; bound
 * it above against hostile servers). 0, or LP_E_VALUE if count is 0. */
int cry_kdf(const uint8_t *pass, size_t passlen, const uint8_t *salt, size_t saltlen,
            uint32_t count, uint8_t key[CRY_KEY_LEN]);

/* The two session keys a client picks and sends inside the Token. */
struct cry_session_keys {
    uint8_t aes[CRY_KEY_LEN];
    uint8_t hmac[CRY_HMAC_KEY_LEN];
};

/* Fill keys with fresh random session keys (client side). */
void cry_session_keys_generate(struct cry_session_keys *keys);

/* Token = AES-CBC(key, IV 0, challenge | keys->aes | keys->hmac) (client side). */
void cry_token_encrypt(const uint8_t key[CRY_KEY_LEN], const uint8_t challenge[CRY_CHALLENGE_LEN],
                       const struct cry_session_keys *keys, uint8_t token[CRY_TOKEN_LEN]);

/* Inverse of cry_token_encrypt: recover the echoed challenge and the session keys. */
void cry_token_decrypt(const uint8_t key[CRY_KEY_LEN], const uint8_t token[CRY_TOKEN_LEN],
                       uint8_t challenge[CRY_CHALLENGE_LEN], struct cry_session_keys *keys);

/* Server side: decrypt token and compare its challenge with the one sent, in constant time.
 * 0 with keys filled, or LP_E_AUTH (keys wiped) when the challenge does not match. */
int cry_token_open(const uint8_t key[CRY_KEY_LEN], const uint8_t token[CRY_TOKEN_LEN],
                   const uint8_t challenge[CRY_CHALLENGE_LEN], struct cry_session_keys *keys);

/* One direction of the control connection: CBC chaining value plus a running HMAC.
 * When !enabled (open mode) encryption is the identity, the MAC is all zeros and any
 * received MAC is accepted, so callers need not branch on the mode. */
struct cry_stream {
    bool enabled;
    uint8_t iv[CRY_BLOCK_LEN];
    struct aes128_ctx enc;
    struct aes128_ctx dec;
    struct hmac_sha1_ctx mac;
};

/* Set up one direction from the session keys and its IV (keys and iv may be NULL when
 * !enabled). */
void cry_stream_init(struct cry_stream *s, const struct cry_session_keys *keys,
                     const uint8_t iv[CRY_BLOCK_LEN], bool enabled);

/* Wipe every key and chaining value of s. */
void cry_stream_wipe(struct cry_stream *s);

/* In-place CBC over whole blocks, continuing the chain. 0 or LP_E_LEN (len % 16 != 0). */
int cry_stream_encrypt(struct cry_stream *s, uint8_t *buf, size_t len);
int cry_stream_decrypt(struct cry_stream *s, uint8_t *buf, size_t len);

/* Feed plaintext into the running HMAC. */
void cry_stream_mac_update(struct cry_stream *s, const uint8_t *plain, size_t len);

/* Write HMAC-SHA1/16 of everything fed since the last final/verify, then restart. */
void cry_stream_mac_final(struct cry_stream *s, uint8_t out[CRY_MAC_LEN]);

/* Compare mac with the running HMAC in constant time, then restart. 0 or LP_E_HMAC. */
int cry_stream_mac_verify(struct cry_stream *s, const uint8_t mac[CRY_MAC_LEN]);

/* Plaintext blocks that do not end a message: MAC them, then encrypt in place. */
int cry_stream_send(struct cry_stream *s, uint8_t *buf, size_t len);

/* Ciphertext blocks that do not end a message: decrypt in place, then MAC them. */
int cry_stream_recv(struct cry_stream *s, uint8_t *buf, size_t len);

/* A whole message whose last 16 octets are its HMAC field: MAC the rest, store the MAC in
 * the field, encrypt everything in place. 0 or LP_E_LEN. */
int cry_stream_seal_msg(struct cry_stream *s, uint8_t *msg, size_t len);

/* Decrypt a whole message in place and check its trailing HMAC. 0, LP_E_LEN or LP_E_HMAC
 * (the plaintext must then be discarded and the connection closed). */
int cry_stream_open_msg(struct cry_stream *s, uint8_t *msg, size_t len);

/* Per-session test-packet keys, with their expanded forms ready for per-packet use. */
struct cry_test_keys {
    uint8_t aes[CRY_KEY_LEN];       /* AES-ECB(key = SID, AES session key) */
    uint8_t hmac[CRY_HMAC_KEY_LEN]; /* AES-CBC(key = SID, IV 0, HMAC session key) */
    struct aes128_ctx enc;
    struct aes128_ctx dec;
    struct hmac_sha1_ctx mac;
};

/* Derive the test keys of session sid from the control session keys. */
void cry_test_keys_derive(const struct cry_session_keys *keys, const uint8_t sid[CRY_SID_LEN],
                          struct cry_test_keys *out);

/* Wipe test keys. */
void cry_test_keys_wipe(struct cry_test_keys *k);

/* Test-packet protection. Mixed mode (RFC 5618) uses CRY_TEST_OPEN. */
enum cry_test_mode {
    CRY_TEST_OPEN = 0,
    CRY_TEST_AUTH = 1, /* first block AES-ECB; HMAC over that block only */
    CRY_TEST_ENC = 2,  /* first 32 (sender) or 96 (reflector) octets AES-CBC IV 0 + HMAC */
};

/* OWAMP packets and TWAMP Session-Sender packets share one layout; TWAMP reflector
 * packets have the other. */
enum cry_pkt_kind {
    CRY_PKT_SENDER = 0,
    CRY_PKT_REFLECTOR = 1,
};

/* Where protection applies: octets [0, enc_len) are encrypted and HMAC'd, the 16-octet HMAC
 * sits at hmac_off. All zero in open mode. */
struct cry_test_layout {
    size_t enc_len;
    size_t hmac_off;
};

/* Layout for mode and kind. 0 or LP_E_MODE. */
int cry_test_layout(enum cry_test_mode mode, enum cry_pkt_kind kind, struct cry_test_layout *out);

/* Protect a plaintext test packet in place: HMAC over the plaintext of the covered octets
 * written (in clear) at hmac_off, then encryption of the covered octets; this is what the
 * reference does (see crypto.c for how it differs from the RFC text). No-op in open mode.
 * 0, LP_E_SHORT or LP_E_MODE. */
int cry_test_seal(struct cry_test_keys *k, enum cry_test_mode mode, enum cry_pkt_kind kind,
                  uint8_t *pkt, size_t len);

/* Decrypt and verify a received test packet. pkt is only modified (decrypted in place) when
 * the HMAC verifies; on LP_E_HMAC it is left as received. 0, LP_E_SHORT, LP_E_MODE or
 * LP_E_HMAC. */
int cry_test_open(struct cry_test_keys *k, enum cry_test_mode mode, enum cry_pkt_kind kind,
                  uint8_t *pkt, size_t len);

/* STAMP (RFC 8762 §4.4): HMAC-SHA-256 truncated to 16 octets over pkt[0, len), which is the
 * packet up to (not including) its HMAC field. */
void cry_stamp_hmac(const uint8_t *key, size_t keylen, const uint8_t *pkt, size_t len,
                    uint8_t out[CRY_MAC_LEN]);

/* Constant-time check of a STAMP HMAC. 0 or LP_E_HMAC. */
int cry_stamp_verify(const uint8_t *key, size_t keylen, const uint8_t *pkt, size_t len,
                     const uint8_t mac[CRY_MAC_LEN]);

#endif
