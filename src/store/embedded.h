/* embedded.h — files compiled into the binary by scripts/embed.py (the SQL migrations). */
#ifndef PB_STORE_EMBEDDED_H
#define PB_STORE_EMBEDDED_H

typedef struct pb_embedded_file {
    const char *name; /* base name, e.g. "0001_ledger.sql"; NULL ends the list */
    const char *data; /* NUL-terminated contents */
} pb_embedded_file;

#endif
