/* page.c - the public pages' frame, stylesheet and small HTML pieces.
 *
 * Class names follow GOV.UK Frontend's so that its stylesheet can replace
 * this small one without touching the pages.
 */
#include "web/page.h"

static const char stylesheet[] =
    "body{margin:0;font-family:Arial,sans-serif;font-size:19px;line-height:1.32;color:#0b0c0c;"
    "background:#fff}"
    ".govuk-header{background:#0b0c0c;color:#fff;padding:10px 0;border-bottom:10px solid #1d70b8}"
    ".govuk-header__link{color:#fff;font-weight:700;font-size:24px;text-decoration:none}"
    ".govuk-width-container{max-width:960px;margin:0 15px}"
    "@media(min-width:1020px){.govuk-width-container{margin:0 auto}}"
    ".govuk-main-wrapper{padding:30px 0}"
    ".govuk-heading-xl{font-size:36px;margin:0 0 30px}"
    ".govuk-heading-m{font-size:24px;margin:30px 0 15px}"
    ".govuk-body{margin:0 0 20px}"
    ".govuk-caption-l{color:#505a5f;font-size:24px;display:block;margin-bottom:5px}"
    ".govuk-form-group{margin-bottom:30px}"
    ".govuk-label{display:block;font-weight:700;margin-bottom:5px}"
    ".govuk-hint{color:#505a5f;margin-bottom:15px}"
    ".govuk-input,.govuk-textarea,.govuk-select{font-size:19px;padding:5px;border:2px solid "
    "#0b0c0c;width:100%;max-width:30em;box-sizing:border-box}"
    ".govuk-input:focus,.govuk-textarea:focus{outline:3px solid #fd0;box-shadow:inset 0 0 0 2px}"
    ".govuk-button{background:#00703c;color:#fff;border:0;padding:8px 10px;font-size:19px;"
    "box-shadow:0 2px 0 #002d18;cursor:pointer}"
    ".govuk-button:focus{outline:3px solid #fd0}"
    ".govuk-error-summary{border:5px solid #d4351c;padding:20px;margin-bottom:30px}"
    ".govuk-error-summary__title{font-size:24px;margin:0 0 15px}"
    ".govuk-error-summary a{color:#d4351c;font-weight:700}"
    ".govuk-panel{background:#00703c;color:#fff;padding:25px;margin-bottom:30px}"
    ".govuk-summary-list{margin:0 0 30px;display:grid;grid-template-columns:max-content 1fr;"
    "gap:10px 30px}"
    ".govuk-summary-list dt{font-weight:700}.govuk-summary-list dd{margin:0}"
    ".app-timeline{list-style:none;padding:0;margin:0 0 30px;border-left:5px solid #1d70b8}"
    ".app-timeline li{padding:0 0 20px 20px}"
    ".app-timeline__title{font-weight:700;display:block}"
    ".app-timeline__date{color:#505a5f;display:block}"
    ".govuk-fieldset{border:0;padding:0;margin:0 0 20px}"
    ".govuk-radios__item{display:inline-block;margin-right:20px}"
    ".govuk-table{width:100%;border-collapse:collapse;margin-bottom:30px}"
    ".govuk-table__caption{font-weight:700;text-align:left;margin-bottom:10px}"
    ".govuk-table__header,.govuk-table__cell{padding:10px 20px 10px 0;border-bottom:1px solid "
    "#b1b4b6;text-align:left;vertical-align:top}"
    ".govuk-table__header{font-weight:700}";

void page_stylesheet(http_req *req, http_res *res)
{
    (void)req;
    res->status = 200;
    res->content_type = "text/css; charset=utf-8";
    http_res_header(res, "Cache-Control", "public, max-age=3600");
    buf_append(&res->body, stylesheet, sizeof(stylesheet) - 1);
}

void page_begin(http_res *res, const char *title)
{
    buf *b = &res->body;
    buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                "<title>");
    buf_put_html(b, title);
    buf_puts(b, " - opencase</title><link rel=\"stylesheet\" href=\"/assets/opencase.css\">"
                "</head><body><a href=\"#main-content\" class=\"govuk-skip-link\">Skip to main "
                "content</a><header class=\"govuk-header\"><div class=\"govuk-width-container\">"
                "<a href=\"/track\" class=\"govuk-header__link\">Track your case</a></div>"
                "</header><div class=\"govuk-width-container\"><main class=\"govuk-main-wrapper\" "
                "id=\"main-content\">");
}

void page_end(http_res *res, int status)
{
    buf_puts(&res->body, "</main></div></body></html>\n");
    res->status = status;
    res->content_type = "text/html; charset=utf-8";
    http_res_header(res, "Content-Security-Policy",
                    "default-src 'self'; frame-ancestors 'none'; form-action 'self'");
    http_res_header(res, "Referrer-Policy", "no-referrer");
    http_res_header(res, "Cache-Control", "no-store");
}

void page_heading(http_res *res, const char *text)
{
    buf_puts(&res->body, "<h1 class=\"govuk-heading-xl\">");
    buf_put_html(&res->body, text);
    buf_puts(&res->body, "</h1>");
}

void page_paragraph(http_res *res, const char *text)
{
    buf_puts(&res->body, "<p class=\"govuk-body\">");
    buf_put_html(&res->body, text);
    buf_puts(&res->body, "</p>");
}

void page_error_summary(http_res *res, const char *message, const char *field_id)
{
    buf *b = &res->body;
    buf_puts(b, "<div class=\"govuk-error-summary\" role=\"alert\" tabindex=\"-1\">"
                "<h2 class=\"govuk-error-summary__title\">There is a problem</h2><ul><li>"
                "<a href=\"#");
    buf_put_html(b, field_id);
    buf_puts(b, "\">");
    buf_put_html(b, message);
    buf_puts(b, "</a></li></ul></div>");
}
