/* terminal.c — see terminal.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "terminal.h"

static int stdout_gone;  /* the reader closed the pipe: print nothing more */
static int stdout_errno; /* the first other write error */

/* Length of the valid UTF-8 sequence at s that is not a C1 control, else 0. */
static int printable_utf8(const unsigned char *s) {
    uint32_t cp;
    int n;
    if (s[0] >= 0xC2 && s[0] <= 0xDF) n = 2, cp = s[0] & 0x1F;
    else if (s[0] >= 0xE0 && s[0] <= 0xEF) n = 3, cp = s[0] & 0x0F;
    else if (s[0] >= 0xF0 && s[0] <= 0xF4) n = 4, cp = s[0] & 0x07;
    else return 0;
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < least[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || cp <= 0x9F) return 0;
    return n;
}

/* s escaped into a new string; newlines kept when keep_newlines. NULL when out of memory. */
static char *escaped(const char *text, int keep_newlines) {
    const unsigned char *s = (const unsigned char *)text;
    size_t len = strlen(text), at = 0;
    char *out = malloc(4 * len + 1); /* \xNN is the widest form of one byte */
    if (!out) return NULL;
    for (size_t i = 0; i < len;) {
        unsigned char c = s[i];
        int n;
        if (c == '\n' && keep_newlines) out[at++] = '\n', i++;
        else if (c == '\n') memcpy(out + at, "\\n", 2), at += 2, i++;
        else if (c == '\t') memcpy(out + at, "\\t", 2), at += 2, i++;
        else if (c == '\r') memcpy(out + at, "\\r", 2), at += 2, i++;
        else if (c >= 0x20 && c < 0x7F) out[at++] = (char)c, i++;
        else if (c >= 0x80 && (n = printable_utf8(s + i)) > 0) memcpy(out + at, s + i, (size_t)n), at += (size_t)n, i += (size_t)n;
        else at += (size_t)sprintf(out + at, "\\x%02X", c), i++;
    }
    out[at] = 0;
    return out;
}

static char *formatted(const char *fmt, va_list ap) {
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    char *text = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (text) vsnprintf(text, (size_t)n + 1, fmt, again);
    va_end(again);
    return text;
}

void kn_note(const char *prefix, const char *text) {
    char *shown = escaped(text, 0);
    fprintf(stderr, "%s%s\n", prefix, shown ? shown : "(out of memory)");
    free(shown);
}

int kn_complain(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *text = formatted(fmt, ap);
    va_end(ap);
    kn_note("kineto: ", text ? text : "out of memory");
    free(text);
    return 1;
}

static void note_stdout_failure(void) {
    if (errno == EPIPE) stdout_gone = 1;
    else if (!stdout_errno) stdout_errno = errno ? errno : EIO;
}

void kn_say(const char *fmt, ...) {
    if (stdout_gone) return;
    va_list ap;
    va_start(ap, fmt);
    char *text = formatted(fmt, ap);
    va_end(ap);
    char *shown = text ? escaped(text, 1) : NULL;
    errno = 0;
    if (shown && (fputs(shown, stdout) == EOF || fflush(stdout) == EOF)) note_stdout_failure();
    free(shown);
    free(text);
}

int kn_stdout_error(void) {
    errno = 0;
    if (!stdout_gone && fflush(stdout) == EOF) note_stdout_failure();
    if (!stdout_gone && ferror(stdout) && !stdout_errno) stdout_errno = EIO;
    return stdout_errno;
}
