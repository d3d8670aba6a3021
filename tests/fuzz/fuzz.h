/* fuzz.h — what every fuzz target shares: the libFuzzer entry point and a
 * check that aborts with a message, so that a broken property is a crash
 * both under libFuzzer and under the plain replay driver (replay.c).
 *
 * A target is one file defining LLVMFuzzerTestOneInput(); it must accept any
 * bytes, keep no state between calls and free everything it allocates
 * (LeakSanitizer runs after each input). */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property of the code under test that the input broke. */
#define FUZZ_CHECK(cond, ...)                                              \
  do {                                                                     \
    if (!(cond)) {                                                         \
      fprintf(stderr, "%s:%d: check failed: %s\n  ", __FILE__, __LINE__,  \
              #cond);                                                      \
      fprintf(stderr, __VA_ARGS__);                                        \
      fputc('\n', stderr);                                                 \
      abort();                                                             \
    }                                                                      \
  } while (0)

/* The input as a NUL-terminated string (it ends at the first NUL byte, as
 * C callers would see it). */
static inline char *fuzz_string(const uint8_t *data, size_t size) {
  return g_strndup((const char *)data, size);
}
