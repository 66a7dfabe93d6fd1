/* errors.h — the last-error message, the log callback and checked size arithmetic. */
#ifndef KN_ERRORS_H
#define KN_ERRORS_H

#include <stddef.h>
#include <stdint.h>
#include "kineto.h"

#define KN_LOG_INFO 0
#define KN_LOG_WARN 1
#define KN_LOG_ERROR 2

void kn_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Records msg as kineto_last_error(), logs it as an error and returns st. */
kineto_status kn_fail(kineto_status st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void kn_clear_error(void);

/* *out = a * b, or 0 when the product would exceed limit (which callers turn into an error). */
int kn_mul_limit(uint64_t a, uint64_t b, uint64_t limit, uint64_t *out);

#endif
