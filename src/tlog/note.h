/* note.h - signed notes and checkpoints (C2SP signed-note, tlog-checkpoint).
 *
 * The log publishes its tree head as a checkpoint, a three-line text signed
 * with an Ed25519 note key, in the exact format Go's golang.org/x/mod/sumdb/note
 * reads, so anyone can check it with existing tools:
 *
 *     example.gov.uk/opencase
 *     20852163
 *     CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=
 *
 *     — example.gov.uk/opencase Az3grlgtzPICa5OS8npVmf1M...
 *
 * Keys travel as text: the verifier key "name+hex8(key id)+base64(0x01 ||
 * public key)" is published, the signer key "PRIVATE+KEY+name+hex8+base64(0x01
 * || seed)" is kept secret. The key id is the first four bytes of
 * SHA-256(name || 0x0A || 0x01 || public key), read big-endian.
 *
 * Parsing is strict and never allocates: parsed notes and checkpoints point
 * into the caller's input, which must outlive them. Functions that append to
 * a buf check their inputs before writing; after NOTE_ESPACE or NOTE_ECRYPTO
 * the buf may hold a partial result, which the caller discards. libsodium
 * must be initialised (sodium_init) before use.
 */
#ifndef OC_NOTE_H
#define OC_NOTE_H

#include <stddef.h>
#include <stdint.h>

#include "tlog/merkle.h"
#include "util/buf.h"

#define NOTE_NAME_MAX 255 /* bytes in a key name we hold keys for */
#define NOTE_PUBLIC_KEY_SIZE 32
#define NOTE_SECRET_KEY_SIZE 64 /* libsodium's layout: seed || public key */
/* Signature lines accepted in one note; the spec asks for at least 16. */
#define NOTE_SIG_MAX 32
/* Decoded bytes in one signature line (key id and signature): room for the
 * post-quantum signatures the spec anticipates. */
#define NOTE_SIG_BYTES_MAX 8192
/* Key texts, with their terminating NUL. */
#define NOTE_VERIFIER_TEXT_MAX (NOTE_NAME_MAX + 1 + 8 + 1 + 44 + 1)
#define NOTE_SIGNER_TEXT_MAX (12 + NOTE_VERIFIER_TEXT_MAX)

typedef enum {
    NOTE_OK = 0,
    NOTE_EKEY,        /* key text malformed, bad name, or not an Ed25519 key */
    NOTE_EKEY_ID,     /* key text well formed, but its key id does not match */
    NOTE_ETEXT,       /* text to sign: empty, no final newline, bad UTF-8 or controls */
    NOTE_EMALFORMED,  /* not a well-formed signed note */
    NOTE_ETOO_MANY,   /* more than NOTE_SIG_MAX signature lines */
    NOTE_EBAD_SIG,    /* a known key's signature does not verify: reject the note */
    NOTE_EUNVERIFIED, /* well formed, but signed by no known key */
    NOTE_ECHECKPOINT, /* not a well-formed checkpoint */
    NOTE_ESPACE,      /* output buffer too small, or out of memory */
    NOTE_ECRYPTO,     /* libsodium failed */
} note_rc;

typedef struct note_verifier {
    char name[NOTE_NAME_MAX + 1];
    uint32_t key_id;
    uint8_t public_key[NOTE_PUBLIC_KEY_SIZE];
} note_verifier;

/* Holds a secret key: wipe it with note_signer_wipe when done. */
typedef struct note_signer {
    char name[NOTE_NAME_MAX + 1];
    uint32_t key_id;
    uint8_t secret_key[NOTE_SECRET_KEY_SIZE];
} note_signer;

/* One signature line of an opened note; the slices point into the note. */
typedef struct note_sig {
    const char *name;
    size_t name_len;
    uint32_t key_id;
    const char *b64; /* base64(key id || signature), as it appeared */
    size_t b64_len;
    const note_verifier *by; /* the known key that verified it, or NULL if unknown */
} note_sig;

typedef struct note {
    const char *text; /* the signed text, final newline included */
    size_t text_len;
    note_sig sigs[NOTE_SIG_MAX]; /* every signature line, in order */
    size_t nsigs;
    size_t verified; /* lines verified by a known key */
    size_t bad;      /* with NOTE_EBAD_SIG: the line that failed */
} note;

/* A checkpoint body. Parsed slices point into the text. */
typedef struct note_checkpoint {
    const char *origin; /* non-empty, no spaces or controls */
    size_t origin_len;
    uint64_t size;
    merkle_hash root;
    const char *extensions; /* zero or more non-empty lines, each ending in '\n' */
    size_t extensions_len;
} note_checkpoint;

/* A new random key named `name` (non-empty, no spaces, '+' or controls). */
note_rc note_generate(const char *name, note_signer *signer, note_verifier *verifier);
/* The verifier key that checks `signer`'s signatures. */
void note_verifier_from_signer(const note_signer *signer, note_verifier *verifier);
void note_signer_wipe(note_signer *signer);

/* Parse `len` bytes of key text. NOTE_EKEY_ID means the key id in the text
 * does not belong to the key, which is a corrupted or tampered key. */
note_rc note_verifier_parse(const char *text, size_t len, note_verifier *out);
note_rc note_signer_parse(const char *text, size_t len, note_signer *out);

/* Write key text and a NUL into out[cap]; NOTE_ESPACE if it does not fit
 * (NOTE_*_TEXT_MAX always does). */
note_rc note_verifier_format(const note_verifier *v, char *out, size_t cap);
note_rc note_signer_format(const note_signer *s, char *out, size_t cap);

/* Appends to `out` the note signed by each of `signers` (1 to NOTE_SIG_MAX):
 * text, a blank line, then one line "— name base64(key id || signature)"
 * per signer. The text must be valid UTF-8 ending in '\n', with no control
 * characters but newlines. */
note_rc note_sign(const char *text, size_t len, const note_signer *signers, size_t nsigners,
                  buf *out);

/* Opens the signed note msg[len], checking signatures by the `known` keys
 * (matched on name and key id; keys must be distinct in both). Signatures by
 * other keys are kept, unverified. Returns NOTE_OK when at least one known
 * key signed and every signature by a known key verifies. On NOTE_EBAD_SIG
 * and NOTE_EUNVERIFIED *out still describes the note, so the caller can say
 * which key failed or who did sign; on other errors it is cleared. */
note_rc note_open(const char *msg, size_t len, const note_verifier *known, size_t nknown,
                  note *out);

/* Appends the note as it was opened: text, blank line, signature lines. */
note_rc note_encode(const note *n, buf *out);

/* Parses a checkpoint body (an opened note's text). Strict: tree size in
 * plain decimal without leading zeros, a root of exactly 32 bytes in
 * canonical base64, non-empty extension lines. */
note_rc note_checkpoint_parse(const char *text, size_t len, note_checkpoint *out);
/* Appends the checkpoint body; NOTE_ECHECKPOINT if its origin or extension
 * lines would not parse back. */
note_rc note_checkpoint_format(const note_checkpoint *cp, buf *out);

#endif
