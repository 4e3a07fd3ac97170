/* fuzz_note.c - the signed-note opener, the checkpoint parser and the key
 * parsers on arbitrary bytes: whatever they accept must write back out as
 * exactly the bytes that came in, and whatever they refuse must leave no
 * half-filled result behind. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "tlog/note.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* From Go's sumdb/note documentation and the C2SP signed-note example. */
static const char *const known_keys[] = {
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
};

static void same_bytes(const buf *b, const char *in, size_t size)
{
    if (b->failed || b->len != size || (size && memcmp(b->data, in, size) != 0))
        abort();
}

static void check_checkpoint(const char *text, size_t len)
{
    note_checkpoint cp;
    buf b;

    if (note_checkpoint_parse(text, len, &cp) != NOTE_OK) {
        if (cp.origin || cp.size)
            abort();
        return;
    }
    buf_init(&b, 1 << 20);
    if (note_checkpoint_format(&cp, &b) != NOTE_OK)
        abort();
    same_bytes(&b, text, len);
    buf_free(&b);
}

static void check_note(const char *in, size_t size, const note_verifier *known, size_t nknown)
{
    note n;
    buf b;

    note_rc rc = note_open(in, size, known, nknown, &n);
    if (rc != NOTE_OK && rc != NOTE_EBAD_SIG && rc != NOTE_EUNVERIFIED) {
        if (n.text || n.nsigs || n.verified)
            abort();
        return;
    }
    if (n.nsigs == 0 || n.nsigs > NOTE_SIG_MAX || n.text != in || n.text_len >= size ||
        (rc == NOTE_OK) != (n.verified > 0 && rc != NOTE_EBAD_SIG))
        abort();
    size_t by = 0;
    for (size_t i = 0; i < n.nsigs; i++)
        by += n.sigs[i].by != NULL;
    if (by != n.verified || (rc == NOTE_EBAD_SIG && n.bad >= n.nsigs))
        abort();

    buf_init(&b, 1 << 20);
    if (note_encode(&n, &b) != NOTE_OK)
        abort();
    same_bytes(&b, in, size);
    buf_free(&b);
    check_checkpoint(n.text, n.text_len);
}

static void check_keys(const char *in, size_t size)
{
    note_verifier v;
    note_signer s;
    char out[NOTE_SIGNER_TEXT_MAX];

    if (note_verifier_parse(in, size, &v) == NOTE_OK) {
        if (note_verifier_format(&v, out, sizeof(out)) != NOTE_OK || strlen(out) != size ||
            memcmp(out, in, size) != 0)
            abort();
    } else if (v.key_id != 0 || v.name[0] != '\0') {
        abort();
    }
    if (note_signer_parse(in, size, &s) == NOTE_OK) {
        if (note_signer_format(&s, out, sizeof(out)) != NOTE_OK || strlen(out) != size ||
            memcmp(out, in, size) != 0)
            abort();
    }
    note_signer_wipe(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static note_verifier known[2];
    static int ready;

    if (!ready) {
        if (sodium_init() < 0)
            abort();
        for (size_t i = 0; i < 2; i++)
            if (note_verifier_parse(known_keys[i], strlen(known_keys[i]), &known[i]) != NOTE_OK)
                abort();
        ready = 1;
    }

    /* A private copy: the parsers must not read past size. */
    char *in = malloc(size ? size : 1);
    if (!in)
        return 0;
    if (size)
        memcpy(in, data, size);
    check_note(in, size, known, 2);
    check_note(in, size, NULL, 0);
    check_checkpoint(in, size);
    check_keys(in, size);
    free(in);
    return 0;
}
