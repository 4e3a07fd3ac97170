/* casework.h - pieces shared by the staff case handlers and public tracking. */
#ifndef OC_CASEWORK_H
#define OC_CASEWORK_H

#include <stdbool.h>

#include "api/app.h"
#include "domain/ref.h"
#include "domain/workflow.h"
#include "http/http.h"
#include "store/store.h"

/* Parses a reference typed by a person into its canonical form; on failure
 * writes a 400 invalid_reference saying what is wrong and returns false. */
bool casework_reference(http_res *res, const char *text, char out[REF_TEXT_LEN + 1]);

/* The service with its parsed workflow, held until the request ends; on
 * failure writes the error and returns NULL. */
const app_service *casework_service(http_req *req, http_res *res, int64_t service_id);

/* The name of a stage, or its code when the workflow no longer has it. */
const char *casework_stage_name(const workflow *wf, const char *code);

/* A new random reference in canonical form (letters and digits only). */
void casework_new_reference(char out[REF_TEXT_LEN + 1]);

/* The query parameter `name` as a date or date-time (0 when absent); false
 * with a 400 written when it is neither. */
bool casework_query_time(http_req *req, http_res *res, const char *name, int64_t *out);

/* The query parameter `name` as a whole number in [min, max], left as it is
 * when absent; false with a 400 written otherwise. */
bool casework_query_int(http_req *req, http_res *res, const char *name, long long min,
                        long long max, long long *out);

/* Every response that carries a person's data is preceded by a durable
 * access record (store_access); analysts are never shown the person. */
bool casework_may_see_person(const store_principal *who);

/* The X-Access-Purpose header: why the caller reads people's data, 1 to 200
 * characters of plain text; absent, the purpose is ordinary case work. On a
 * bad header writes a 400 and returns false. */
bool casework_purpose(http_req *req, http_res *res, const char **out);

/* Fills `out` with the caller's access to case_id (0 when the case is still
 * to be made) and returns it, or returns NULL when the caller is not shown
 * people's data. */
const store_access *casework_access(http_req *req, int64_t case_id, const char *action,
                                    const char *purpose, store_access *out);

/* The answer when an access could not be recorded: the data stays unshown. */
void casework_access_refused(http_res *res);

#endif
