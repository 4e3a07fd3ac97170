/* logkey.c - the log's signing key file; see logkey.h. */
#include "cli/logkey.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

static bool is_postgresql(const char *db)
{
    return strncmp(db, "postgresql://", 13) == 0 || strncmp(db, "postgres://", 11) == 0;
}

bool logkey_default_path(const char *db, char *out, size_t len)
{
    if (is_postgresql(db))
        return false;
    if (strncmp(db, "sqlite://", 9) == 0)
        db += 9;
    else if (strncmp(db, "sqlite:", 7) == 0)
        db += 7;
    int n = snprintf(out, len, "%s.logkey", db);
    return n > 0 && (size_t)n < len;
}

void logkey_default_origin(const char *host, char *out, size_t len)
{
    char name[256] = "";
    if (!host[0] || strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 ||
        strcmp(host, "*") == 0) {
        if (gethostname(name, sizeof(name) - 1) != 0 || !name[0])
            snprintf(name, sizeof(name), "localhost");
        host = name;
    }
    snprintf(out, len, "%s/log", host);
}

static void set_err(char *err, size_t errlen, const char *path, const char *what)
{
    if (err && errlen)
        snprintf(err, errlen, "%s: %s", path, what);
}

logkey_rc logkey_create(const char *path, const char *origin, char *err, size_t errlen)
{
    note_signer signer;
    note_verifier verifier;
    char text[NOTE_SIGNER_TEXT_MAX + 1];
    logkey_rc rc = LOGKEY_INVALID;
    if (note_generate(origin, &signer, &verifier) != NOTE_OK ||
        note_signer_format(&signer, text, sizeof(text) - 1) != NOTE_OK) {
        set_err(err, errlen, origin,
                "not a valid log origin (no spaces, '+' or control characters)");
        goto out;
    }
    size_t len = strlen(text);
    text[len++] = '\n';
    /* O_EXCL: an existing key is never overwritten, since checkpoints already
     * published could then no longer be checked. */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = errno == EEXIST ? LOGKEY_EXISTS : LOGKEY_IO;
        if (rc == LOGKEY_IO)
            set_err(err, errlen, path, strerror(errno));
        goto out;
    }
    rc = LOGKEY_OK;
    if (write(fd, text, len) != (ssize_t)len || fsync(fd) != 0) {
        set_err(err, errlen, path, strerror(errno));
        rc = LOGKEY_IO;
    }
    if (close(fd) != 0 && rc == LOGKEY_OK) {
        set_err(err, errlen, path, strerror(errno));
        rc = LOGKEY_IO;
    }
    if (rc != LOGKEY_OK)
        unlink(path);
out:
    note_signer_wipe(&signer);
    sodium_memzero(text, sizeof(text));
    return rc;
}

logkey_rc logkey_load(const char *path, note_signer *out, char *err, size_t errlen)
{
    char text[NOTE_SIGNER_TEXT_MAX + 2];
    logkey_rc rc = LOGKEY_IO;
    memset(out, 0, sizeof(*out));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        set_err(err, errlen, path, strerror(errno));
        return errno == ENOENT ? LOGKEY_MISSING : LOGKEY_IO;
    }
    struct stat st;
    ssize_t n = 0;
    if (fstat(fd, &st) != 0) {
        set_err(err, errlen, path, strerror(errno));
        goto out;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        set_err(err, errlen, path,
                "the log's signing key may be read by others; make it readable by its owner "
                "only (chmod 600)");
        rc = LOGKEY_EXPOSED;
        goto out;
    }
    n = read(fd, text, sizeof(text) - 1);
    if (n < 0) {
        set_err(err, errlen, path, strerror(errno));
        goto out;
    }
    size_t len = (size_t)n;
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        len--;
    rc = LOGKEY_INVALID;
    if ((size_t)n == sizeof(text) - 1 || note_signer_parse(text, len, out) != NOTE_OK)
        set_err(err, errlen, path, "not a log signing key");
    else
        rc = LOGKEY_OK;
out:
    close(fd);
    sodium_memzero(text, sizeof(text));
    if (rc != LOGKEY_OK)
        note_signer_wipe(out);
    return rc;
}
