/* test_note.c - signed notes and checkpoints: Go's sumdb/note example and the
 * C2SP example verified byte for byte, round trips with fresh keys, every
 * single-byte tampering rejected, and the malformed inputs Go rejects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "testrng.h"

#include "tlog/note.h"

static testrng rng = {0xBB67AE8584CAA73Bu};

/* From the documentation and tests of golang.org/x/mod/sumdb/note. */
#define PETER_SKEY "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
#define PETER_VKEY "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
#define ENOCH_VKEY "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
#define GO_TEXT                                                                                    \
    "If you think cryptography is the answer to your problem,\n"                                   \
    "then you don't know what your problem is.\n"
#define PETER_B64                                                                                  \
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
#define PETER_SIG "\xe2\x80\x94 PeterNeumann " PETER_B64 "\n"
#define ENOCH_B64                                                                                  \
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ="
#define ENOCH_SIG "\xe2\x80\x94 EnochRoot " ENOCH_B64 "\n"

/* From the C2SP signed-note specification. */
#define SPEC_VKEY "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
#define SPEC_NOTE                                                                                  \
    "This is an example message.\n\n\xe2\x80\x94 example.com/foo "                                 \
    "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=" \
    "\n"

static note_verifier vkey(const char *text)
{
    note_verifier v;
    assert_int_equal(note_verifier_parse(text, strlen(text), &v), NOTE_OK);
    return v;
}

static note_rc open_str(const char *msg, const note_verifier *known, size_t nknown, note *n)
{
    return note_open(msg, strlen(msg), known, nknown, n);
}

static void assert_slice(const char *p, size_t len, const char *want)
{
    assert_int_equal(len, strlen(want));
    assert_memory_equal(p, want, len);
}

static void assert_reencodes(const note *n, const char *msg, size_t len)
{
    buf b;
    buf_init(&b, 1 << 20);
    assert_int_equal(note_encode(n, &b), NOTE_OK);
    assert_int_equal(b.len, len);
    assert_memory_equal(b.data, msg, len);
    buf_free(&b);
}

static void test_go_example_sign(void **state)
{
    (void)state;
    note_signer s;
    note_verifier v;
    char text[NOTE_SIGNER_TEXT_MAX];
    buf b;

    assert_int_equal(note_signer_parse(PETER_SKEY, strlen(PETER_SKEY), &s), NOTE_OK);
    assert_string_equal(s.name, "PeterNeumann");
    assert_int_equal(s.key_id, 0xc74f20a3u);

    buf_init(&b, 4096);
    assert_int_equal(note_sign(GO_TEXT, strlen(GO_TEXT), &s, 1, &b), NOTE_OK);
    assert_string_equal(b.data, GO_TEXT "\n" PETER_SIG);
    buf_free(&b);

    /* Key texts come back out exactly as Go writes them. */
    assert_int_equal(note_signer_format(&s, text, sizeof(text)), NOTE_OK);
    assert_string_equal(text, PETER_SKEY);
    note_verifier_from_signer(&s, &v);
    assert_int_equal(note_verifier_format(&v, text, sizeof(text)), NOTE_OK);
    assert_string_equal(text, PETER_VKEY);
    note_verifier parsed = vkey(PETER_VKEY);
    assert_memory_equal(&parsed, &v, sizeof(v));

    note_signer_wipe(&s);
    assert_int_equal(s.key_id, 0);
    assert_int_equal(s.secret_key[0] | s.secret_key[63], 0);
}

static void test_go_example_open(void **state)
{
    (void)state;
    note_verifier keys[2] = {vkey(PETER_VKEY), vkey(ENOCH_VKEY)};
    const char *msg = GO_TEXT "\n" PETER_SIG ENOCH_SIG;
    note n;

    /* One known key: its signature verifies, the other is kept unverified. */
    assert_int_equal(open_str(msg, keys, 1, &n), NOTE_OK);
    assert_slice(n.text, n.text_len, GO_TEXT);
    assert_int_equal(n.nsigs, 2);
    assert_int_equal(n.verified, 1);
    assert_ptr_equal(n.sigs[0].by, &keys[0]);
    assert_slice(n.sigs[0].name, n.sigs[0].name_len, "PeterNeumann");
    assert_int_equal(n.sigs[0].key_id, 0xc74f20a3u);
    assert_slice(n.sigs[0].b64, n.sigs[0].b64_len, PETER_B64);
    assert_null(n.sigs[1].by);
    assert_slice(n.sigs[1].name, n.sigs[1].name_len, "EnochRoot");
    assert_int_equal(n.sigs[1].key_id, 0xaf0cfe78u);
    assert_reencodes(&n, msg, strlen(msg));

    assert_int_equal(open_str(msg, keys, 2, &n), NOTE_OK);
    assert_int_equal(n.verified, 2);
    assert_ptr_equal(n.sigs[1].by, &keys[1]);

    /* No known key: well formed but unverified, and the caller still sees
     * who signed. */
    assert_int_equal(open_str(msg, NULL, 0, &n), NOTE_EUNVERIFIED);
    assert_int_equal(n.nsigs, 2);
    assert_int_equal(n.verified, 0);
    assert_slice(n.text, n.text_len, GO_TEXT);

    /* Repeated signatures are all checked and all kept. */
    const char *dup = GO_TEXT "\n" PETER_SIG PETER_SIG ENOCH_SIG ENOCH_SIG;
    assert_int_equal(open_str(dup, keys, 1, &n), NOTE_OK);
    assert_int_equal(n.nsigs, 4);
    assert_int_equal(n.verified, 2);
    assert_reencodes(&n, dup, strlen(dup));
}

static void test_spec_example(void **state)
{
    (void)state;
    note_verifier v = vkey(SPEC_VKEY);
    note n;

    assert_string_equal(v.name, "example.com/foo");
    assert_int_equal(v.key_id, 0x530d903au);
    assert_int_equal(open_str(SPEC_NOTE, &v, 1, &n), NOTE_OK);
    assert_slice(n.text, n.text_len, "This is an example message.\n");
    assert_int_equal(n.verified, 1);
}

static void test_unknown_and_bad_keys_are_told_apart(void **state)
{
    (void)state;
    note_verifier peter = vkey(PETER_VKEY), other = peter;
    note n;

    /* Same name, different id; same id, different name: both unknown. */
    other.key_id ^= 1;
    assert_int_equal(open_str(GO_TEXT "\n" PETER_SIG, &other, 1, &n), NOTE_EUNVERIFIED);
    other = peter;
    memcpy(other.name, "PeterNeumanN", 12);
    assert_int_equal(open_str(GO_TEXT "\n" PETER_SIG, &other, 1, &n), NOTE_EUNVERIFIED);

    /* The known key with another public key: its signature is bad. */
    other = peter;
    other.public_key[0] ^= 1;
    assert_int_equal(open_str(GO_TEXT "\n" ENOCH_SIG PETER_SIG, &other, 1, &n), NOTE_EBAD_SIG);
    assert_int_equal(n.bad, 1);
    assert_int_equal(n.nsigs, 2);

    /* A good signature does not excuse a bad one from another known key. */
    note_verifier both[2] = {peter, vkey(ENOCH_VKEY)};
    both[1].public_key[3] ^= 0x10;
    assert_int_equal(open_str(GO_TEXT "\n" PETER_SIG ENOCH_SIG, both, 2, &n), NOTE_EBAD_SIG);
    assert_int_equal(n.bad, 1);
    assert_int_equal(n.verified, 1);

    /* Go's test: four extra bytes in a known key's signature. */
    const char *longer = GO_TEXT "\n\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLL"
                                 "ABCDr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
    assert_int_equal(open_str(longer, &peter, 1, &n), NOTE_EBAD_SIG);
    assert_int_equal(open_str(longer, NULL, 0, &n), NOTE_EUNVERIFIED);
}

static void test_malformed_notes(void **state)
{
    (void)state;
    note_verifier peter = vkey(PETER_VKEY);
    static const char *const bad[] = {
        GO_TEXT,
        GO_TEXT "\n",
        GO_TEXT "\n" PETER_SIG "\n",
        "\x01" GO_TEXT "\n" PETER_SIG,
        "\xff" GO_TEXT "\n" PETER_SIG,
        GO_TEXT "\n\xe2\x80\x94 Bad Name " PETER_B64 "\n",
        GO_TEXT "\n" PETER_SIG "Unexpected line.\n",
        /* No final newline. */
        GO_TEXT "\n\xe2\x80\x94 PeterNeumann " PETER_B64,
        /* Control characters and broken UTF-8 anywhere. */
        "If you think\tcryptography\n\n" PETER_SIG,
        "If you think\r\n\n" PETER_SIG,
        GO_TEXT "\n\xe2\x80\x94 PeterNeumann\x7f " PETER_B64 "\x0b\n",
        "\xc0\xaf\n\n" PETER_SIG,
        "\xed\xa0\x80\n\n" PETER_SIG,
        "\xf4\x90\x80\x80\n\n" PETER_SIG,
        "\xe2\x80\n\n" PETER_SIG,
        /* Signature lines that are not "— name base64". */
        GO_TEXT "\n- PeterNeumann " PETER_B64 "\n",
        GO_TEXT "\n\xe2\x80\x94PeterNeumann " PETER_B64 "\n",
        GO_TEXT "\n\xe2\x80\x94 PeterNeumann\n",
        GO_TEXT "\n\xe2\x80\x94 PeterNeumann \n",
        GO_TEXT "\n\xe2\x80\x94  " PETER_B64 "\n",
        GO_TEXT "\n\xe2\x80\x94 Peter+Neumann " PETER_B64 "\n",
        GO_TEXT "\n\xe2\x80\x94 Peter\xc2\xa0Neumann " PETER_B64 "\n",
        GO_TEXT "\n\xe2\x80\x94 Peter\xe3\x80\x80Neumann " PETER_B64 "\n",
        GO_TEXT "\n\xe2\x80\x94 PeterNeumann " PETER_B64 " \n",
        /* Base64 that is not canonical: trailing bits, padding, alphabet. */
        GO_TEXT "\n\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1"
                "FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAN=\n",
        GO_TEXT "\n\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1"
                "FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM\n",
        GO_TEXT "\n\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1"
                "FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM==\n",
        GO_TEXT "\n\xe2\x80\x94 PeterNeumann x08go_ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1"
                "FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
        GO_TEXT "\n\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1"
                "FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJn\xc3\xa9=\n",
        /* Too short to hold a key id and a signature byte. */
        GO_TEXT "\n\xe2\x80\x94 PeterNeumann AAAAAA==\n",
        "",
        "\n\n",
    };
    note n;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        n.nsigs = 99;
        assert_int_equal(open_str(bad[i], &peter, 1, &n), NOTE_EMALFORMED);
        assert_int_equal(n.nsigs, 0);
        assert_null(n.text);
    }
    /* A NUL byte is a control character too. */
    const char nul[] = "a\0b\n\n" PETER_SIG;
    assert_int_equal(note_open(nul, sizeof(nul) - 1, &peter, 1, &n), NOTE_EMALFORMED);
}

static void test_signature_count_limit(void **state)
{
    (void)state;
    note_verifier peter = vkey(PETER_VKEY);
    char msg[8192];
    size_t len = 0;
    note n;

    memcpy(msg, GO_TEXT "\n", sizeof(GO_TEXT));
    len = sizeof(GO_TEXT);
    for (int i = 0; i < NOTE_SIG_MAX; i++) {
        memcpy(msg + len, PETER_SIG, sizeof(PETER_SIG) - 1);
        len += sizeof(PETER_SIG) - 1;
    }
    assert_true(NOTE_SIG_MAX >= 16);
    assert_int_equal(note_open(msg, len, &peter, 1, &n), NOTE_OK);
    assert_int_equal(n.verified, NOTE_SIG_MAX);
    memcpy(msg + len, ENOCH_SIG, sizeof(ENOCH_SIG) - 1);
    len += sizeof(ENOCH_SIG) - 1;
    assert_int_equal(note_open(msg, len, &peter, 1, &n), NOTE_ETOO_MANY);
    assert_int_equal(note_open(msg, len, NULL, 0, &n), NOTE_ETOO_MANY);
}

/* Every single-byte change to a signed note must stop it opening. */
static void tamper_every_byte(const char *msg, size_t len, const note_verifier *known,
                              size_t nknown)
{
    char copy[4096];
    note n;

    assert_true(len <= sizeof(copy));
    memcpy(copy, msg, len);
    assert_int_equal(note_open(copy, len, known, nknown, &n), NOTE_OK);
    for (size_t i = 0; i < len; i++) {
        const unsigned char deltas[] = {0x01, 0x20, 0x80,
                                        (unsigned char)(1 + testrng_next(&rng) % 255)};
        for (size_t d = 0; d < sizeof(deltas); d++) {
            copy[i] = (char)(msg[i] ^ deltas[d]);
            assert_int_not_equal(note_open(copy, len, known, nknown, &n), NOTE_OK);
        }
        copy[i] = msg[i];
    }
    /* Dropping or adding a byte anywhere. */
    for (size_t i = 0; i < len; i++) {
        memcpy(copy, msg, i);
        memcpy(copy + i, msg + i + 1, len - i - 1);
        assert_int_not_equal(note_open(copy, len - 1, known, nknown, &n), NOTE_OK);
        memcpy(copy + i + 1, msg + i, len - i);
        copy[i] = 'A';
        assert_int_not_equal(note_open(copy, len + 1, known, nknown, &n), NOTE_OK);
    }
}

static void test_tampering_fails(void **state)
{
    (void)state;
    note_verifier peter = vkey(PETER_VKEY);
    const char *go = GO_TEXT "\n" PETER_SIG;
    tamper_every_byte(go, strlen(go), &peter, 1);

    note_verifier spec = vkey(SPEC_VKEY);
    tamper_every_byte(SPEC_NOTE, strlen(SPEC_NOTE), &spec, 1);

    /* A text byte changed is a bad signature, not a missing one. */
    char copy[512];
    note n;
    snprintf(copy, sizeof(copy), "%s", go);
    copy[3] = 'X';
    assert_int_equal(open_str(copy, &peter, 1, &n), NOTE_EBAD_SIG);
}

static void test_round_trip_fresh_keys(void **state)
{
    (void)state;
    const char *names[] = {"example.gov.uk/opencase", "a", "\xc3\xa9tat.example/log",
                           "x/y/z-1_2.3~!@#$%^&*()=[]{};:'\",<>?"};
    const char *texts[] = {"one line\n", "\n", "two\n\nparagraphs\n", "\xe2\x80\x94 dash\n",
                           "caf\xc3\xa9 \xf0\x9f\x8d\xb5\n"};

    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        note_signer s, s2;
        note_verifier v, v2;
        char stext[NOTE_SIGNER_TEXT_MAX], vtext[NOTE_VERIFIER_TEXT_MAX];

        assert_int_equal(note_generate(names[k], &s, &v), NOTE_OK);
        assert_string_equal(s.name, names[k]);
        assert_int_equal(v.key_id, s.key_id);
        assert_int_equal(note_signer_format(&s, stext, sizeof(stext)), NOTE_OK);
        assert_int_equal(note_verifier_format(&v, vtext, sizeof(vtext)), NOTE_OK);
        assert_int_equal(strncmp(stext, "PRIVATE+KEY+", 12), 0);
        assert_int_equal(strlen(stext), 12 + strlen(names[k]) + 1 + 8 + 1 + 44);
        assert_int_equal(note_signer_parse(stext, strlen(stext), &s2), NOTE_OK);
        assert_int_equal(note_verifier_parse(vtext, strlen(vtext), &v2), NOTE_OK);
        assert_memory_equal(&s2, &s, sizeof(s));
        assert_memory_equal(&v2, &v, sizeof(v));

        for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++) {
            buf b;
            note n;
            buf_init(&b, 4096);
            assert_int_equal(note_sign(texts[t], strlen(texts[t]), &s, 1, &b), NOTE_OK);
            assert_int_equal(note_open(b.data, b.len, &v, 1, &n), NOTE_OK);
            assert_slice(n.text, n.text_len, texts[t]);
            assert_int_equal(n.verified, 1);
            assert_reencodes(&n, b.data, b.len);
            if (t == 0)
                tamper_every_byte(b.data, b.len, &v, 1);
            buf_free(&b);
        }
        note_signer_wipe(&s);
        note_signer_wipe(&s2);
    }
}

/* The verifier-key manglings of Go's TestNewVerifier. */
static void test_key_text_rejections(void **state)
{
    (void)state;
    const char *vk = PETER_VKEY;
    size_t len = strlen(vk);
    note_verifier v;
    note_signer s;
    char b[256];

    for (size_t i = 0; i <= len; i++)
        for (size_t j = i + 1; j <= len; j++)
            if (i != 0 || j != len)
                assert_int_not_equal(note_verifier_parse(vk + i, j - i, &v), NOTE_OK);
    for (size_t i = 0; i < len; i++) {
        snprintf(b, sizeof(b), "%s", vk);
        b[i]++;
        assert_int_not_equal(note_verifier_parse(b, len, &v), NOTE_OK);
        assert_int_equal(v.key_id, 0);
    }
    /* Well formed, but the id belongs to another key. */
    const char *wrong_id = "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    assert_int_equal(note_verifier_parse(wrong_id, strlen(wrong_id), &v), NOTE_EKEY_ID);
    const char *upper = "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    assert_int_equal(note_verifier_parse(upper, strlen(upper), &v), NOTE_EKEY);
    /* Another algorithm byte (ECDSA's 0x02) with the same key. */
    const char *alg2 = "PeterNeumann+c74f20a3+Ahpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    assert_int_equal(note_verifier_parse(alg2, strlen(alg2), &v), NOTE_EKEY);

    const char *sk = PETER_SKEY;
    len = strlen(sk);
    for (size_t i = 0; i < len; i++) {
        snprintf(b, sizeof(b), "%s", sk);
        b[i]++;
        assert_int_not_equal(note_signer_parse(b, len, &s), NOTE_OK);
        assert_int_equal(s.secret_key[0] | s.secret_key[40], 0);
        assert_int_not_equal(note_signer_parse(sk, i, &s), NOTE_OK);
    }
    assert_int_equal(note_signer_parse(PETER_VKEY, strlen(PETER_VKEY), &s), NOTE_EKEY);
    assert_int_equal(note_verifier_parse(PETER_SKEY, strlen(PETER_SKEY), &v), NOTE_EKEY);
    /* A signer key whose seed is someone else's. */
    const char *swapped = "PRIVATE+KEY+PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/"
                          "LDE4izWy10TW";
    assert_int_equal(note_signer_parse(swapped, strlen(swapped), &s), NOTE_EKEY_ID);

    /* Names a key may not have. */
    char long_name[NOTE_NAME_MAX + 2];
    memset(long_name, 'n', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    const char *bad_names[] = {"",     "bad name",     "a+b",  "tab\there",
                               "nl\n", "nbsp\xc2\xa0", "\xff", long_name};
    for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
        assert_int_equal(note_generate(bad_names[i], &s, &v), NOTE_EKEY);
        assert_int_equal(s.key_id | v.key_id, 0);
    }
    long_name[NOTE_NAME_MAX] = '\0';
    assert_int_equal(note_generate(long_name, &s, &v), NOTE_OK);
    char out[NOTE_SIGNER_TEXT_MAX];
    assert_int_equal(note_signer_format(&s, out, sizeof(out)), NOTE_OK);
    assert_int_equal(strlen(out), NOTE_SIGNER_TEXT_MAX - 1);
    assert_int_equal(note_signer_format(&s, out, sizeof(out) - 1), NOTE_ESPACE);
    assert_string_equal(out, "");
    assert_int_equal(note_verifier_format(&v, out, NOTE_VERIFIER_TEXT_MAX), NOTE_OK);
    assert_int_equal(strlen(out), NOTE_VERIFIER_TEXT_MAX - 1);
    note_signer_wipe(&s);
}

static void test_sign_rejections(void **state)
{
    (void)state;
    note_signer s;
    buf b;

    assert_int_equal(note_signer_parse(PETER_SKEY, strlen(PETER_SKEY), &s), NOTE_OK);
    buf_init(&b, 4096);
    const char *bad_texts[] = {"", "abc", "tab\tinside\n", "cr\r\n", "\xc3\n", "\xed\xa0\x80\n"};
    for (size_t i = 0; i < sizeof(bad_texts) / sizeof(bad_texts[0]); i++)
        assert_int_equal(note_sign(bad_texts[i], strlen(bad_texts[i]), &s, 1, &b), NOTE_ETEXT);
    assert_int_equal(note_sign("a\n", 2, &s, 0, &b), NOTE_EKEY);
    note_signer renamed = s;
    memcpy(renamed.name, "bad name", 9);
    assert_int_equal(note_sign("a\n", 2, &renamed, 1, &b), NOTE_EKEY);
    assert_int_equal(b.len, 0);
    buf_free(&b);

    /* An output cap too small for the note. */
    buf_init(&b, 64);
    assert_int_equal(note_sign(GO_TEXT, strlen(GO_TEXT), &s, 1, &b), NOTE_ESPACE);
    buf_free(&b);

    /* Two signers, in order. */
    note_signer two[2];
    note_verifier v2;
    two[0] = s;
    assert_int_equal(note_generate("second.example", &two[1], &v2), NOTE_OK);
    note_verifier both[2] = {vkey(PETER_VKEY), v2};
    note n;
    buf_init(&b, 4096);
    assert_int_equal(note_sign(GO_TEXT, strlen(GO_TEXT), two, 2, &b), NOTE_OK);
    assert_int_equal(strncmp(b.data, GO_TEXT "\n" PETER_SIG, strlen(GO_TEXT "\n" PETER_SIG)), 0);
    assert_int_equal(note_open(b.data, b.len, both, 2, &n), NOTE_OK);
    assert_int_equal(n.verified, 2);
    assert_int_equal(note_open(b.data, b.len, &v2, 1, &n), NOTE_OK);
    assert_int_equal(n.verified, 1);
    assert_null(n.sigs[0].by);
    buf_free(&b);
    note_signer_wipe(&s);
    note_signer_wipe(&two[0]);
    note_signer_wipe(&two[1]);
}

#define SPEC_CHECKPOINT                                                                            \
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"

static void assert_checkpoint_round_trip(const char *text)
{
    note_checkpoint cp;
    buf b;

    assert_int_equal(note_checkpoint_parse(text, strlen(text), &cp), NOTE_OK);
    buf_init(&b, 4096);
    assert_int_equal(note_checkpoint_format(&cp, &b), NOTE_OK);
    assert_string_equal(b.data, text);
    buf_free(&b);
}

static void test_checkpoint_parse_and_format(void **state)
{
    (void)state;
    note_checkpoint cp;

    assert_int_equal(note_checkpoint_parse(SPEC_CHECKPOINT, strlen(SPEC_CHECKPOINT), &cp), NOTE_OK);
    assert_slice(cp.origin, cp.origin_len, "example.com/behind-the-sofa");
    assert_int_equal(cp.size, 20852163);
    assert_int_equal(cp.root.b[0], 0x0a);
    assert_int_equal(cp.root.b[31], 0x62);
    assert_int_equal(cp.extensions_len, 0);
    assert_checkpoint_round_trip(SPEC_CHECKPOINT);

    const char *with_ext = "log.example+x\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
                           "ext one\n\xe2\x80\x94 two\n";
    assert_int_equal(note_checkpoint_parse(with_ext, strlen(with_ext), &cp), NOTE_OK);
    assert_int_equal(cp.size, 0);
    assert_slice(cp.extensions, cp.extensions_len, "ext one\n\xe2\x80\x94 two\n");
    merkle_hash empty;
    merkle_empty_root(&empty);
    assert_memory_equal(cp.root.b, empty.b, MERKLE_HASH_SIZE);
    assert_checkpoint_round_trip(with_ext);
    assert_checkpoint_round_trip("o\n18446744073709551615\n"
                                 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n");

    /* Formatting from values, then parsing back. */
    for (int i = 0; i < 200; i++) {
        note_checkpoint in = {
            "example.gov.uk/opencase", 23, testrng_next(&rng) >> (i % 64), {{0}}, NULL, 0};
        randombytes_buf(in.root.b, sizeof(in.root.b));
        buf b;
        buf_init(&b, 4096);
        assert_int_equal(note_checkpoint_format(&in, &b), NOTE_OK);
        assert_int_equal(note_checkpoint_parse(b.data, b.len, &cp), NOTE_OK);
        assert_int_equal(cp.size, in.size);
        assert_memory_equal(cp.root.b, in.root.b, MERKLE_HASH_SIZE);
        assert_slice(cp.origin, cp.origin_len, in.origin);
        char size[24];
        snprintf(size, sizeof(size), "\n%llu\n", (unsigned long long)in.size);
        assert_non_null(strstr(b.data, size));
        buf_free(&b);
    }
}

static void test_checkpoint_rejections(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "example.com\n",
        "example.com\n5\n",
        "example.com\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=",
        "\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "example com\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "example\302\240com\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "example\tcom\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "example.com\r\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "\xff\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        /* Sizes: leading zeros, signs, spaces, hex, empty, past 64 bits. */
        "example.com\n05\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "example.com\n00\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "example.com\n+5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "example.com\n-5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "example.com\n 5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "example.com\n5 \nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "example.com\n0x5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "example.com\n\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "example.com\n18446744073709551616\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "example.com\n99999999999999999999\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        /* Roots: short, long, unpadded, non-canonical, wrong alphabet. */
        "example.com\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxqw==\n",
        "example.com\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2IA\n",
        "example.com\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n",
        "example.com\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n",
        "example.com\n5\nCsUYapGGPo4dkMgIAUqom_Xajj7h2fB2MPA3j2jxq2I=\n",
        "example.com\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jx\xc3\xa9I=\n",
        "example.com\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jx\xe3q2I=\n",
        "example.com\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=AAAA\n",
        /* Extension lines: empty, unterminated, with controls. */
        "example.com\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n",
        "example.com\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\next\n\n",
        "example.com\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\next",
        "example.com\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\ne\x01xt\n",
    };
    note_checkpoint cp;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cp.size = 7;
        assert_int_equal(note_checkpoint_parse(bad[i], strlen(bad[i]), &cp), NOTE_ECHECKPOINT);
        assert_int_equal(cp.size, 0);
        assert_null(cp.origin);
    }

    /* Formatting refuses what could not be parsed back. */
    buf b;
    buf_init(&b, 4096);
    note_checkpoint in = {"bad origin", 10, 1, {{0}}, NULL, 0};
    assert_int_equal(note_checkpoint_format(&in, &b), NOTE_ECHECKPOINT);
    in.origin = "";
    in.origin_len = 0;
    assert_int_equal(note_checkpoint_format(&in, &b), NOTE_ECHECKPOINT);
    in.origin = "ok";
    in.origin_len = 2;
    in.extensions = "a\n\nb\n";
    in.extensions_len = 5;
    assert_int_equal(note_checkpoint_format(&in, &b), NOTE_ECHECKPOINT);
    in.extensions = "no newline";
    in.extensions_len = 10;
    assert_int_equal(note_checkpoint_format(&in, &b), NOTE_ECHECKPOINT);
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

static void test_signed_checkpoint_end_to_end(void **state)
{
    (void)state;
    note_signer s;
    note_verifier v;
    note_checkpoint cp = {"example.gov.uk/opencase", 23, 1234567, {{0}}, NULL, 0}, back;
    buf body, signed_note;
    note n;

    assert_int_equal(note_generate("example.gov.uk/opencase", &s, &v), NOTE_OK);
    merkle_leaf_hash("entry", 5, &cp.root);
    buf_init(&body, 4096);
    buf_init(&signed_note, 4096);
    assert_int_equal(note_checkpoint_format(&cp, &body), NOTE_OK);
    assert_int_equal(note_sign(body.data, body.len, &s, 1, &signed_note), NOTE_OK);
    assert_int_equal(note_open(signed_note.data, signed_note.len, &v, 1, &n), NOTE_OK);
    assert_int_equal(note_checkpoint_parse(n.text, n.text_len, &back), NOTE_OK);
    assert_int_equal(back.size, 1234567);
    assert_memory_equal(back.root.b, cp.root.b, MERKLE_HASH_SIZE);
    tamper_every_byte(signed_note.data, signed_note.len, &v, 1);
    buf_free(&body);
    buf_free(&signed_note);
    note_signer_wipe(&s);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_go_example_sign),
        cmocka_unit_test(test_go_example_open),
        cmocka_unit_test(test_spec_example),
        cmocka_unit_test(test_unknown_and_bad_keys_are_told_apart),
        cmocka_unit_test(test_malformed_notes),
        cmocka_unit_test(test_signature_count_limit),
        cmocka_unit_test(test_tampering_fails),
        cmocka_unit_test(test_round_trip_fresh_keys),
        cmocka_unit_test(test_key_text_rejections),
        cmocka_unit_test(test_sign_rejections),
        cmocka_unit_test(test_checkpoint_parse_and_format),
        cmocka_unit_test(test_checkpoint_rejections),
        cmocka_unit_test(test_signed_checkpoint_end_to_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
