/*
 * capture.h — unit tests that read what the code logs: stderr (fd 2, where the
 * JSON log goes) redirected into a temporary file between capture_begin and
 * capture_end. Header-only (static inline); include after <cmocka.h>.
 */
#ifndef PB_TEST_CAPTURE_H
#define PB_TEST_CAPTURE_H

#include <stdio.h>
#include <unistd.h>

typedef struct capture {
    int saved_fd;
    FILE *file;
    char text[8192]; /* the first 8 KiB logged */
} capture;

static inline void capture_begin(capture *c)
{
    fflush(stderr);
    c->saved_fd = dup(2);
    assert_true(c->saved_fd >= 0);
    c->file = tmpfile();
    assert_non_null(c->file);
    assert_true(dup2(fileno(c->file), 2) >= 0);
}

/* Restores stderr; the text logged meanwhile. */
static inline const char *capture_end(capture *c)
{
    fflush(stderr);
    assert_true(dup2(c->saved_fd, 2) >= 0);
    close(c->saved_fd);
    rewind(c->file);
    size_t n = fread(c->text, 1, sizeof c->text - 1, c->file);
    c->text[n] = '\0';
    fclose(c->file);
    return c->text;
}

#endif
