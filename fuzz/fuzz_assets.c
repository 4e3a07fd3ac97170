/* Fuzz target: what a client controls when it asks for a static file: the
 * path, Accept-Encoding and If-None-Match. The input holds the three,
 * separated by newlines. The path is percent-decoded as the server does it;
 * it finds an asset only when it is then exactly that asset's name, and so
 * can never step outside the table (../, //, encoded dots or NULs); the
 * header parsers must agree with simple truths. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "web/assets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char *path = text;
    char *accept = strchr(path, '\n');
    char *inm = NULL;
    if (accept) {
        *accept++ = '\0';
        inm = strchr(accept, '\n');
        if (inm)
            *inm++ = '\0';
    }

    size_t raw_len = strlen(path);
    size_t len = http_unescape(path);
    if (len > raw_len || len != strlen(path))
        abort();

    const asset *a = asset_find(path);
    if (a && (strcmp(a->path, path) != 0 || strncmp(path, "/assets/", 8) != 0 ||
              strstr(path, "..") || strstr(path, "//") || strchr(path, '%') || strchr(path, '\\')))
        abort();
    if (strcmp(asset_url(path), path) != 0 && !a)
        abort();

    if (accept) {
        bool gz = asset_accepts_gzip(accept);
        /* Nothing but whitespace and commas names no coding at all. */
        if (gz && strspn(accept, " \t,") == strlen(accept))
            abort();
    }
    if (inm && a) {
        bool hit = asset_etag_matches(inm, a->etag);
        /* A list without a quote or a star can hold no entity tag. */
        if (hit && !strchr(inm, '"') && !strchr(inm, '*'))
            abort();
    }
    free(text);
    return 0;
}
