/* log.h - structured log lines on standard error.
 *
 * One line per event, logfmt style (`ts=... level=... msg="..." k=v`), so that
 * log collectors can parse them. Callers must never pass personal data,
 * secrets or free text from citizens: log identifiers and outcomes only.
 */
#ifndef OC_LOG_H
#define OC_LOG_H

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
