/* errors.c — Kineto's status strings, last-error message and log callback. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

#include "errors.h"

static _Thread_local char last_error[512];
/* Process-wide (kineto.h): set from any thread, read by every thread that logs. The lock keeps
   the function and its user_data a pair; the callback itself runs outside it. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static kineto_log_fn log_fn;
static void *log_user_data;

const char *kineto_status_str(kineto_status st) {
    switch (st) {
    case KINETO_OK: return "ok";
    case KINETO_ERR_ARG: return "invalid argument";
    case KINETO_ERR_IO: return "cannot read the weights file";
    case KINETO_ERR_NOMEM: return "out of memory";
    case KINETO_ERR_MAGIC: return "not a Kineto weights file";
    case KINETO_ERR_VERSION: return "unsupported weights format version";
    case KINETO_ERR_TRUNCATED: return "weights file truncated";
    case KINETO_ERR_CHECKSUM: return "checksum mismatch";
    case KINETO_ERR_HPARAMS: return "bad hyperparameter";
    case KINETO_ERR_TENSOR_MISSING: return "tensor missing";
    case KINETO_ERR_TENSOR_SHAPE: return "tensor with wrong dtype, shape or offset";
    case KINETO_ERR_PROMPT_EMPTY: return "the prompt has no words";
    case KINETO_ERR_PROMPT_TOO_LONG: return "the prompt has too many words";
    case KINETO_ERR_PROMPT_UNKNOWN: return "no word of the prompt is known";
    case KINETO_ERR_PARAM: return "parameter out of range";
    case KINETO_ERR_STATE: return "call out of order";
    case KINETO_ERR_NO_ENCODER: return "these weights have no VAE encoder; image start needs one";
    case KINETO_ERR_IMAGE: return "the start image is empty or too large";
    }
    return "unknown status";
}

const char *kineto_last_error(void) { return last_error; }

void kineto_set_log(kineto_log_fn fn, void *user_data) {
    pthread_mutex_lock(&log_lock);
    log_fn = fn;
    log_user_data = user_data;
    pthread_mutex_unlock(&log_lock);
}

static void emit(int level, const char *msg) {
    pthread_mutex_lock(&log_lock);
    kineto_log_fn fn = log_fn;
    void *user_data = log_user_data;
    pthread_mutex_unlock(&log_lock);
    if (fn) fn(level, msg, user_data);
    else if (level >= KN_LOG_WARN) fprintf(stderr, "kineto: %s\n", msg);
}

void kn_log(int level, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    emit(level, msg);
}

kineto_status kn_fail(kineto_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    emit(KN_LOG_ERROR, last_error);
    return st;
}

void kn_clear_error(void) { last_error[0] = 0; }

int kn_mul_limit(uint64_t a, uint64_t b, uint64_t limit, uint64_t *out) {
    if (a != 0 && b > limit / a) return 0;
    *out = a * b;
    return 1;
}
