/* note.c - signed notes, note keys and checkpoints, byte-compatible with
 * Go's sumdb/note and the C2SP specifications.
 *
 * Opening follows Go's note.Open: the whole message must be UTF-8 without
 * control characters other than newline, the text ends at the last blank
 * line, and every line after it is "— name base64". Base64 is decoded by
 * libsodium, which insists on canonical padding and zero trailing bits, so
 * an accepted note re-encodes to the same bytes.
 */
#include "tlog/note.h"

#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define ALG_ED25519 0x01
#define SIG_PREFIX "\xe2\x80\x94 " /* em dash, space */
#define SIG_PREFIX_LEN 4
#define ED25519_SIG_SIZE 64
#define KEY_B64_LEN 44  /* base64 of 0x01 || 32 bytes */
#define ROOT_B64_LEN 44 /* base64 of a 32-byte hash */

_Static_assert(NOTE_PUBLIC_KEY_SIZE == crypto_sign_PUBLICKEYBYTES, "Ed25519 public key size");
_Static_assert(NOTE_SECRET_KEY_SIZE == crypto_sign_SECRETKEYBYTES, "Ed25519 secret key size");
_Static_assert(ED25519_SIG_SIZE == crypto_sign_BYTES, "Ed25519 signature size");

/* Decodes one UTF-8 sequence strictly (no overlong forms, surrogates or
 * values past U+10FFFF). Returns the code point and sets *n, or -1. */
static long utf8_decode(const unsigned char *s, size_t len, size_t *n)
{
    unsigned char c = s[0];
    long cp;
    size_t need;

    if (c < 0x80) {
        *n = 1;
        return c;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        cp = c & 0x07;
    } else {
        return -1;
    }
    if (len < need + 1)
        return -1;
    for (size_t i = 1; i <= need; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return -1;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return -1;
    *n = need + 1;
    return cp;
}

/* Go's unicode.IsSpace: the characters a key name may not contain. */
static bool is_space(long cp)
{
    return cp == ' ' || (cp >= '\t' && cp <= '\r') || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
           cp == 0x205F || cp == 0x3000;
}

/* Valid UTF-8 with no control characters except, if allowed, newline. */
static bool clean_text(const char *s, size_t len, bool newlines)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, n = 0;

    while (i < len) {
        long cp = utf8_decode(p + i, len - i, &n);
        if (cp < 0 || (cp < 0x20 && !(newlines && cp == '\n')))
            return false;
        i += n;
    }
    return true;
}

/* A key name, or a checkpoint origin when plus signs are allowed. */
static bool valid_name(const char *s, size_t len, bool allow_plus)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, n = 0;

    if (len == 0)
        return false;
    while (i < len) {
        long cp = utf8_decode(p + i, len - i, &n);
        if (cp < 0x20 || is_space(cp) || (cp == '+' && !allow_plus))
            return false;
        i += n;
    }
    return true;
}

/* Strict standard base64 into out[cap]; false unless canonical and it fits.
 * libsodium checks padding and trailing bits, but (in 1.0.18) reads bytes
 * above 0x7F as '/', so the alphabet is checked here first. */
static bool b64_decode(const char *s, size_t len, unsigned char *out, size_t cap, size_t *n)
{
    *n = 0;
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/' || c == '='))
            return false;
    }
    return sodium_base642bin(out, cap, s, len, NULL, n, NULL, sodium_base64_VARIANT_ORIGINAL) == 0;
}

static uint32_t key_id(const char *name, size_t name_len, const uint8_t *pub)
{
    static const unsigned char sep[2] = {'\n', ALG_ED25519};
    crypto_hash_sha256_state st;
    unsigned char h[crypto_hash_sha256_BYTES];

    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const unsigned char *)name, name_len);
    crypto_hash_sha256_update(&st, sep, sizeof(sep));
    crypto_hash_sha256_update(&st, pub, NOTE_PUBLIC_KEY_SIZE);
    crypto_hash_sha256_final(&st, h);
    return (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
}

static const char *find_byte(const char *s, size_t len, char c)
{
    return len ? memchr(s, c, len) : NULL;
}

note_rc note_generate(const char *name, note_signer *signer, note_verifier *verifier)
{
    size_t len = strlen(name);
    uint8_t pub[NOTE_PUBLIC_KEY_SIZE];

    memset(signer, 0, sizeof(*signer));
    memset(verifier, 0, sizeof(*verifier));
    if (len > NOTE_NAME_MAX || !valid_name(name, len, false))
        return NOTE_EKEY;
    if (crypto_sign_keypair(pub, signer->secret_key) != 0) {
        note_signer_wipe(signer);
        return NOTE_ECRYPTO;
    }
    memcpy(signer->name, name, len);
    signer->key_id = key_id(name, len, pub);
    note_verifier_from_signer(signer, verifier);
    return NOTE_OK;
}

void note_verifier_from_signer(const note_signer *signer, note_verifier *verifier)
{
    memset(verifier, 0, sizeof(*verifier));
    memcpy(verifier->name, signer->name, sizeof(verifier->name));
    verifier->key_id = signer->key_id;
    crypto_sign_ed25519_sk_to_pk(verifier->public_key, signer->secret_key);
}

void note_signer_wipe(note_signer *signer)
{
    sodium_memzero(signer, sizeof(*signer));
}

/* Splits "name+hex8+base64(0x01 || 32 bytes)" and checks all but the id. */
static note_rc parse_key_fields(const char *text, size_t len, char name[NOTE_NAME_MAX + 1],
                                uint32_t *id, uint8_t key[NOTE_PUBLIC_KEY_SIZE])
{
    const char *plus = find_byte(text, len, '+');
    if (!plus)
        return NOTE_EKEY;
    size_t name_len = (size_t)(plus - text);
    const char *hex = plus + 1, *end = text + len;
    if (name_len > NOTE_NAME_MAX || !valid_name(text, name_len, false) || end - hex < 9 ||
        hex[8] != '+')
        return NOTE_EKEY;

    uint32_t v = 0;
    for (int i = 0; i < 8; i++) {
        char c = hex[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return NOTE_EKEY;
        v = v << 4 | (uint32_t)d;
    }

    const char *b64 = hex + 9;
    unsigned char raw[1 + NOTE_PUBLIC_KEY_SIZE];
    size_t n = 0;
    if ((size_t)(end - b64) != KEY_B64_LEN || !b64_decode(b64, KEY_B64_LEN, raw, sizeof(raw), &n) ||
        n != sizeof(raw) || raw[0] != ALG_ED25519) {
        sodium_memzero(raw, sizeof(raw));
        return NOTE_EKEY;
    }
    memcpy(name, text, name_len);
    name[name_len] = '\0';
    *id = v;
    memcpy(key, raw + 1, NOTE_PUBLIC_KEY_SIZE);
    sodium_memzero(raw, sizeof(raw));
    return NOTE_OK;
}

note_rc note_verifier_parse(const char *text, size_t len, note_verifier *out)
{
    memset(out, 0, sizeof(*out));
    note_rc rc = parse_key_fields(text, len, out->name, &out->key_id, out->public_key);
    if (rc == NOTE_OK && key_id(out->name, strlen(out->name), out->public_key) != out->key_id)
        rc = NOTE_EKEY_ID;
    if (rc != NOTE_OK)
        memset(out, 0, sizeof(*out));
    return rc;
}

note_rc note_signer_parse(const char *text, size_t len, note_signer *out)
{
    static const char prefix[] = "PRIVATE+KEY+";
    const size_t plen = sizeof(prefix) - 1;
    uint8_t seed[NOTE_PUBLIC_KEY_SIZE], pub[NOTE_PUBLIC_KEY_SIZE];
    note_rc rc;

    memset(out, 0, sizeof(*out));
    if (len < plen || memcmp(text, prefix, plen) != 0)
        return NOTE_EKEY;
    rc = parse_key_fields(text + plen, len - plen, out->name, &out->key_id, seed);
    if (rc != NOTE_OK)
        goto out;
    if (crypto_sign_seed_keypair(pub, out->secret_key, seed) != 0) {
        rc = NOTE_ECRYPTO;
        goto out;
    }
    /* The id names the public key, which only the seed can tell us. */
    if (key_id(out->name, strlen(out->name), pub) != out->key_id)
        rc = NOTE_EKEY_ID;
out:
    sodium_memzero(seed, sizeof(seed));
    if (rc != NOTE_OK)
        note_signer_wipe(out);
    return rc;
}

static note_rc format_key(const char *prefix, const char *name, uint32_t id,
                          const uint8_t key[NOTE_PUBLIC_KEY_SIZE], char *out, size_t cap)
{
    unsigned char raw[1 + NOTE_PUBLIC_KEY_SIZE];
    char b64[KEY_B64_LEN + 1];
    size_t name_len = strnlen(name, NOTE_NAME_MAX + 1);

    if (cap > 0)
        out[0] = '\0';
    if (name_len > NOTE_NAME_MAX || !valid_name(name, name_len, false))
        return NOTE_EKEY;
    raw[0] = ALG_ED25519;
    memcpy(raw + 1, key, NOTE_PUBLIC_KEY_SIZE);
    sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw), sodium_base64_VARIANT_ORIGINAL);
    sodium_memzero(raw, sizeof(raw));
    int n = snprintf(out, cap, "%s%s+%08x+%s", prefix, name, (unsigned)id, b64);
    sodium_memzero(b64, sizeof(b64));
    if (n < 0 || (size_t)n >= cap) {
        sodium_memzero(out, cap);
        return NOTE_ESPACE;
    }
    return NOTE_OK;
}

note_rc note_verifier_format(const note_verifier *v, char *out, size_t cap)
{
    return format_key("", v->name, v->key_id, v->public_key, out, cap);
}

note_rc note_signer_format(const note_signer *s, char *out, size_t cap)
{
    /* libsodium's secret key starts with the seed, which is what we publish. */
    return format_key("PRIVATE+KEY+", s->name, s->key_id, s->secret_key, out, cap);
}

static void put_sig_line(buf *out, const char *name, size_t name_len, const char *b64,
                         size_t b64_len)
{
    buf_append(out, SIG_PREFIX, SIG_PREFIX_LEN);
    buf_append(out, name, name_len);
    buf_putc(out, ' ');
    buf_append(out, b64, b64_len);
    buf_putc(out, '\n');
}

note_rc note_sign(const char *text, size_t len, const note_signer *signers, size_t nsigners,
                  buf *out)
{
    if (len == 0 || text[len - 1] != '\n' || !clean_text(text, len, true))
        return NOTE_ETEXT;
    if (nsigners == 0 || nsigners > NOTE_SIG_MAX)
        return NOTE_EKEY;
    for (size_t i = 0; i < nsigners; i++) {
        size_t name_len = strnlen(signers[i].name, NOTE_NAME_MAX + 1);
        if (name_len > NOTE_NAME_MAX || !valid_name(signers[i].name, name_len, false))
            return NOTE_EKEY;
    }

    buf_append(out, text, len);
    buf_putc(out, '\n');
    for (size_t i = 0; i < nsigners; i++) {
        const note_signer *s = &signers[i];
        unsigned char raw[4 + ED25519_SIG_SIZE];
        char b64[sodium_base64_ENCODED_LEN(sizeof(raw), sodium_base64_VARIANT_ORIGINAL)];

        raw[0] = (unsigned char)(s->key_id >> 24);
        raw[1] = (unsigned char)(s->key_id >> 16);
        raw[2] = (unsigned char)(s->key_id >> 8);
        raw[3] = (unsigned char)s->key_id;
        if (crypto_sign_detached(raw + 4, NULL, (const unsigned char *)text, len, s->secret_key) !=
            0)
            return NOTE_ECRYPTO;
        sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw), sodium_base64_VARIANT_ORIGINAL);
        put_sig_line(out, s->name, strlen(s->name), b64, strlen(b64));
    }
    return out->failed ? NOTE_ESPACE : NOTE_OK;
}

/* Parses one signature line (without its newline) into *sig. */
static note_rc parse_sig_line(const char *line, size_t len, note_sig *sig, unsigned char *raw,
                              size_t *raw_len)
{
    if (len < SIG_PREFIX_LEN || memcmp(line, SIG_PREFIX, SIG_PREFIX_LEN) != 0)
        return NOTE_EMALFORMED;
    line += SIG_PREFIX_LEN;
    len -= SIG_PREFIX_LEN;
    const char *space = find_byte(line, len, ' ');
    if (!space)
        return NOTE_EMALFORMED;
    sig->name = line;
    sig->name_len = (size_t)(space - line);
    sig->b64 = space + 1;
    sig->b64_len = len - sig->name_len - 1;
    if (!valid_name(sig->name, sig->name_len, false) ||
        !b64_decode(sig->b64, sig->b64_len, raw, NOTE_SIG_BYTES_MAX, raw_len) || *raw_len < 5)
        return NOTE_EMALFORMED;
    sig->key_id = (uint32_t)raw[0] << 24 | (uint32_t)raw[1] << 16 | (uint32_t)raw[2] << 8 | raw[3];
    return NOTE_OK;
}

static const note_verifier *find_known(const note_verifier *known, size_t nknown,
                                       const note_sig *sig)
{
    for (size_t i = 0; i < nknown; i++) {
        const note_verifier *v = &known[i];
        if (v->key_id == sig->key_id && strlen(v->name) == sig->name_len &&
            memcmp(v->name, sig->name, sig->name_len) == 0)
            return v;
    }
    return NULL;
}

note_rc note_open(const char *msg, size_t len, const note_verifier *known, size_t nknown, note *out)
{
    unsigned char raw[NOTE_SIG_BYTES_MAX];
    size_t split = len, raw_len = 0;
    note_rc rc = NOTE_EMALFORMED;
    bool bad = false;

    memset(out, 0, sizeof(*out));
    if (!clean_text(msg, len, true))
        goto fail;
    /* The signatures start after the last blank line. */
    for (size_t i = len; i >= 2; i--) {
        if (msg[i - 1] == '\n' && msg[i - 2] == '\n') {
            split = i - 2;
            break;
        }
    }
    if (split == len || split + 2 == len || msg[len - 1] != '\n')
        goto fail;
    out->text = msg;
    out->text_len = split + 1;

    for (size_t at = split + 2; at < len;) {
        const char *line = msg + at;
        size_t line_len = (size_t)((const char *)memchr(line, '\n', len - at) - line);
        if (out->nsigs == NOTE_SIG_MAX) {
            rc = NOTE_ETOO_MANY;
            goto fail;
        }
        note_sig *sig = &out->sigs[out->nsigs];
        rc = parse_sig_line(line, line_len, sig, raw, &raw_len);
        if (rc != NOTE_OK)
            goto fail;
        out->nsigs++;
        at += line_len + 1;

        const note_verifier *v = find_known(known, nknown, sig);
        if (!v)
            continue;
        if (raw_len == 4 + ED25519_SIG_SIZE &&
            crypto_sign_verify_detached(raw + 4, (const unsigned char *)out->text, out->text_len,
                                        v->public_key) == 0) {
            sig->by = v;
            out->verified++;
        } else if (!bad) {
            /* Keep parsing: a malformed line later still makes it malformed. */
            bad = true;
            out->bad = out->nsigs - 1;
        }
    }
    if (bad)
        return NOTE_EBAD_SIG;
    return out->verified > 0 ? NOTE_OK : NOTE_EUNVERIFIED;

fail:
    memset(out, 0, sizeof(*out));
    return rc;
}

note_rc note_encode(const note *n, buf *out)
{
    buf_append(out, n->text, n->text_len);
    buf_putc(out, '\n');
    for (size_t i = 0; i < n->nsigs; i++)
        put_sig_line(out, n->sigs[i].name, n->sigs[i].name_len, n->sigs[i].b64, n->sigs[i].b64_len);
    return out->failed ? NOTE_ESPACE : NOTE_OK;
}

/* Extension lines: each non-empty and newline-terminated, no controls. */
static bool valid_extensions(const char *s, size_t len)
{
    if (len == 0)
        return true;
    if (s[len - 1] != '\n' || s[0] == '\n' || !clean_text(s, len, true))
        return false;
    for (size_t i = 1; i < len; i++)
        if (s[i] == '\n' && s[i - 1] == '\n')
            return false;
    return true;
}

note_rc note_checkpoint_parse(const char *text, size_t len, note_checkpoint *out)
{
    const char *end = text + len, *lines[3];
    size_t lens[3];
    const char *at = text;

    memset(out, 0, sizeof(*out));
    for (int i = 0; i < 3; i++) {
        const char *nl = find_byte(at, (size_t)(end - at), '\n');
        if (!nl)
            return NOTE_ECHECKPOINT;
        lines[i] = at;
        lens[i] = (size_t)(nl - at);
        at = nl + 1;
    }
    if (!valid_name(lines[0], lens[0], true) || !valid_extensions(at, (size_t)(end - at)))
        return NOTE_ECHECKPOINT;

    /* Tree size: plain decimal, "0" or no leading zero, within 64 bits. */
    uint64_t size = 0;
    if (lens[1] == 0 || (lines[1][0] == '0' && lens[1] > 1))
        return NOTE_ECHECKPOINT;
    for (size_t i = 0; i < lens[1]; i++) {
        char c = lines[1][i];
        if (c < '0' || c > '9')
            return NOTE_ECHECKPOINT;
        unsigned d = (unsigned)(c - '0');
        if (size > (UINT64_MAX - d) / 10)
            return NOTE_ECHECKPOINT;
        size = size * 10 + d;
    }

    merkle_hash root = {{0}};
    size_t n = 0;
    if (lens[2] != ROOT_B64_LEN || !b64_decode(lines[2], lens[2], root.b, sizeof(root.b), &n) ||
        n != sizeof(root.b))
        return NOTE_ECHECKPOINT;

    out->origin = lines[0];
    out->origin_len = lens[0];
    out->size = size;
    out->root = root;
    out->extensions = at;
    out->extensions_len = (size_t)(end - at);
    return NOTE_OK;
}

note_rc note_checkpoint_format(const note_checkpoint *cp, buf *out)
{
    char b64[ROOT_B64_LEN + 1];

    if (!valid_name(cp->origin, cp->origin_len, true) ||
        !valid_extensions(cp->extensions, cp->extensions_len))
        return NOTE_ECHECKPOINT;
    sodium_bin2base64(b64, sizeof(b64), cp->root.b, sizeof(cp->root.b),
                      sodium_base64_VARIANT_ORIGINAL);
    buf_append(out, cp->origin, cp->origin_len);
    buf_printf(out, "\n%llu\n%s\n", (unsigned long long)cp->size, b64);
    if (cp->extensions_len)
        buf_append(out, cp->extensions, cp->extensions_len);
    return out->failed ? NOTE_ESPACE : NOTE_OK;
}
