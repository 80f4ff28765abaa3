/*
 * print_event_types — prints the event type table (pb_event_types, src/events/outbox.c)
 * as the server has it compiled in: one line per type, "<name>\t<permission>", in
 * table order. check_event_types.py compares the README and docs/openapi.yaml with it
 * (test docs_event_types), so the docs are checked against the table itself rather
 * than against a parse of its C source.
 */
#include <stdio.h>

#include "events/events.h"

int main(void)
{
    for (size_t i = 0; i < pb_event_type_count; i++)
        if (printf("%s\t%s\n", pb_event_types[i].name, pb_event_types[i].permission) < 0)
            return 1;
    return fflush(stdout) == 0 ? 0 : 1;
}
