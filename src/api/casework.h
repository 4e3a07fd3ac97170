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

#endif
