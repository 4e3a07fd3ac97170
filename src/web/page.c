/* page.c - the public pages' frame and small HTML pieces.
 *
 * Class names are GOV.UK Frontend's, whose stylesheet web/assets.c serves.
 */
#include "web/page.h"

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
