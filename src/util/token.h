/* token.h - random secrets and their keyed hashes (libsodium).
 *
 * Tracking secrets, session tokens and API keys are long random tokens, so a
 * fast keyed hash (BLAKE2b with the deployment's secret key) is enough to
 * store them: nothing can be learnt from the table without the key, and a
 * look-up costs microseconds rather than an Argon2id run.
 */
#ifndef OC_TOKEN_H
#define OC_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#define TOKEN_HASH_BYTES 32
#define TOKEN_KEY_BYTES 32

/* Call once before any other function here; false if libsodium cannot start. */
bool token_init(void);

/* Writes `nchars` random Crockford Base32 symbols (5 bits each) and a NUL. */
void token_random(char *out, size_t nchars);

/* Writes `nchars` random symbols in groups of five separated by hyphens
 * ("7KQ2M-XPD4A-..."), NUL-terminated; out needs nchars + nchars/5 + 1 bytes. */
void token_random_grouped(char *out, size_t nchars);

/* Keyed hash of `text` with hyphens and spaces removed and letters
 * upper-cased, so that a secret typed in any grouping hashes the same. */
void token_hash(const unsigned char key[TOKEN_KEY_BYTES], const char *text,
                unsigned char out[TOKEN_HASH_BYTES]);

/* Constant-time comparison of two hashes. */
bool token_hash_equal(const unsigned char a[TOKEN_HASH_BYTES],
                      const unsigned char b[TOKEN_HASH_BYTES]);

/* Argon2id password hashing (libsodium's interactive limits). out must hold
 * PASSWORD_HASH_MAX bytes. Returns false on failure (out of memory). */
#define PASSWORD_HASH_MAX 128
bool password_hash(const char *password, char out[PASSWORD_HASH_MAX]);
bool password_verify(const char *stored_hash, const char *password);

#endif
