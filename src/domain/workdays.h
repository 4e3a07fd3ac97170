/* workdays.h - counting working days.
 *
 * Target times are stated in working days. For now a working day is Monday to
 * Friday in UTC; bank-holiday calendars plug in here. Pure functions.
 */
#ifndef OC_WORKDAYS_H
#define OC_WORKDAYS_H

#include <stdint.h>

/* The time `days` working days after `t` (seconds since the epoch, UTC): the
 * same time of day on the day reached. days <= 0 returns t. */
int64_t workdays_add(int64_t t, int days);

/* Whole working days from `from` to `to` (0 if to <= from). */
int workdays_between(int64_t from, int64_t to);

#endif
