/* handlers.h - every route handler, grouped by the file that holds it.
 *
 * A handler parses and validates its input, checks what the caller may do,
 * calls the domain and the store, and renders exactly one response. The
 * route table (routes.c) has already authenticated the caller for the
 * route's access level before a handler runs.
 */
#ifndef OC_HANDLERS_H
#define OC_HANDLERS_H

#include "http/http.h"

/* auth.c */
void auth_login(http_req *req, http_res *res);
void auth_logout(http_req *req, http_res *res);
void auth_me(http_req *req, http_res *res);
void auth_users(http_req *req, http_res *res);

/* services.c */
void services_list(http_req *req, http_res *res);
void services_create(http_req *req, http_res *res);
void services_get(http_req *req, http_res *res);
void services_update(http_req *req, http_res *res);

/* cases.c */
void cases_list(http_req *req, http_res *res);
void cases_create(http_req *req, http_res *res);
void cases_get(http_req *req, http_res *res);
void cases_add_event(http_req *req, http_res *res);
void cases_close(http_req *req, http_res *res);
void cases_new_secret(http_req *req, http_res *res);
void cases_accesses(http_req *req, http_res *res);
void cases_update(http_req *req, http_res *res);

/* duties.c */
void calendar_get(http_req *req, http_res *res);
void calendar_put(http_req *req, http_res *res);
void duties_list(http_req *req, http_res *res);
void compliance_get(http_req *req, http_res *res);

/* track.c */
void track_get(http_req *req, http_res *res);
void track_message(http_req *req, http_res *res);
void track_feedback(http_req *req, http_res *res);

/* open311.c */
void o311_discovery(http_req *req, http_res *res);
void o311_services(http_req *req, http_res *res);
void o311_service_definition(http_req *req, http_res *res);
void o311_requests_list(http_req *req, http_res *res);
void o311_request_post(http_req *req, http_res *res);
void o311_request_get(http_req *req, http_res *res);
void o311_token_get(http_req *req, http_res *res);
void o311_updates_list(http_req *req, http_res *res);
void o311_update_post(http_req *req, http_res *res);

/* notify.c */
void notify_templates_list(http_req *req, http_res *res);
void notify_template_put(http_req *req, http_res *res);
void notify_webhooks_list(http_req *req, http_res *res);
void notify_webhook_create(http_req *req, http_res *res);
void notify_webhook_delete(http_req *req, http_res *res);
void notify_notices_list(http_req *req, http_res *res);
void notify_notice_get(http_req *req, http_res *res);
void notify_tasks_list(http_req *req, http_res *res);
void notify_task_done(http_req *req, http_res *res);

/* track.c: preferences */
void track_prefs_get(http_req *req, http_res *res);
void track_prefs_put(http_req *req, http_res *res);

/* web/track_page.c */
void page_home(http_req *req, http_res *res);
void page_track_form(http_req *req, http_res *res);
void page_track_show(http_req *req, http_res *res);
void page_track_message(http_req *req, http_res *res);
void page_track_feedback(http_req *req, http_res *res);
void page_track_preferences(http_req *req, http_res *res);

/* web/assets.c */
void assets_get(http_req *req, http_res *res);

/* log.c */
void log_checkpoint_get(http_req *req, http_res *res);
void log_tile_get(http_req *req, http_res *res);
void log_inclusion_get(http_req *req, http_res *res);
void log_consistency_get(http_req *req, http_res *res);
void log_entries_get(http_req *req, http_res *res);
/* appeals.c: appeals for witnesses */
void appeals_list(http_req *req, http_res *res);
void appeals_create(http_req *req, http_res *res);
void appeals_get(http_req *req, http_res *res);
void appeals_update(http_req *req, http_res *res);
void appeals_set_officer(http_req *req, http_res *res);
void appeals_publish(http_req *req, http_res *res);
void appeals_close(http_req *req, http_res *res);
void appeals_answers(http_req *req, http_res *res);
void public_appeals_list(http_req *req, http_res *res);
void public_appeals_geojson(http_req *req, http_res *res);
void public_appeal_get(http_req *req, http_res *res);
void public_answer_create(http_req *req, http_res *res);
void public_receipt_get(http_req *req, http_res *res);

/* web/appeals_page.c: the public appeal pages */
void page_appeals_list(http_req *req, http_res *res);
void page_appeal_show(http_req *req, http_res *res);
void page_appeal_answer(http_req *req, http_res *res);
void page_receipt_form(http_req *req, http_res *res);
void page_receipt_show(http_req *req, http_res *res);

/* routes.c */
void health_get(http_req *req, http_res *res);
void openapi_get(http_req *req, http_res *res);
void metrics_get(http_req *req, http_res *res);

#endif
