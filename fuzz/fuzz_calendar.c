/* fuzz_calendar.c - calendar_parse on arbitrary text: a refusal gives a
 * sentence in valid UTF-8 and no calendar; an accepted calendar keeps every
 * promise of calendar.h, and working-day arithmetic over it agrees with
 * itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "domain/calendar.h"
#include "domain/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena a;
    calendar cal;
    cal_error err;
    arena_init(&a);
    if (calendar_parse(&a, (const char *)data, size, &cal, &err) != 0) {
        if (cal.days || cal.n || err.message[0] == '\0' || err.line < 0 ||
            !valid_text(err.message, sizeof(err.message) - 1, false))
            abort();
        goto out;
    }
    if (cal.n > CAL_MAX_DAYS || (cal.n && !cal.days))
        abort();
    for (size_t i = 0; i < cal.n; i++) {
        const cal_holiday *h = &cal.days[i];
        if (!h->name || !valid_text(h->name, CAL_NAME_MAX, false) ||
            (i && h->day <= cal.days[i - 1].day))
            abort();
        int y, m, d;
        calendar_civil_from_day(h->day, &y, &m, &d);
        if (y < 1970 || y > 9999 || calendar_day_from_civil(y, m, d) != h->day ||
            !calendar_is_holiday(&cal, h->day) || calendar_is_workday(&cal, h->day))
            abort();
        /* The next working day is after the holiday, a weekday, and no
         * holiday; counting one more lands after it. */
        int64_t next = calendar_add_workdays(&cal, h->day, 1);
        if (next <= h->day || !calendar_is_workday(&cal, next) ||
            calendar_add_workdays(&cal, h->day, 2) <= next)
            abort();
    }
out:
    arena_free(&a);
    return 0;
}
