/* csrf.h - tying a public form to the browser it was shown to.
 *
 * Forms that change something without credentials of their own (answering
 * an appeal) carry a token that only the browser holding this site's form
 * cookie can present: the token is a keyed hash of the cookie's random value
 * (a double submit that an attacker's page can neither read nor forge), and
 * the cookie is SameSite=Strict, so a cross-site post arrives without it.
 * Forms that carry a secret the user typed (tracking) need none of this.
 */
#ifndef OC_CSRF_H
#define OC_CSRF_H

#include <stdbool.h>

#include "http/http.h"

#define CSRF_COOKIE "opencase_form"
#define CSRF_FIELD "form_token"

/* The token for the request's form cookie, in req->a; when the request has
 * no (valid) cookie a new one is made and set on res. NULL when memory runs
 * out. */
const char *csrf_token(http_req *req, http_res *res, const unsigned char key[32], bool secure);

/* Whether `posted` is the token of the request's form cookie. */
bool csrf_check(http_req *req, const unsigned char key[32], const char *posted);

#endif
