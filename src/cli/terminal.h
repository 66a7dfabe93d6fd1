/* terminal.h — what the CLI prints. Text that came from outside (paths, prompts, option values,
   messages that quote them) may hold control characters or invalid UTF-8: they are shown escaped
   (\n, \t, \r, \xNN), never sent raw to a terminal. Standard output is checked: a reader that went
   away (EPIPE, with SIGPIPE ignored) stops the printing but not the run; any other write error is
   reported when the command ends. */
#ifndef KN_TERMINAL_H
#define KN_TERMINAL_H

#if defined(__GNUC__)
#define KN_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define KN_PRINTF(f, a)
#endif

/* "kineto: " + the message, escaped, + newline on stderr. Returns 1 (an exit status). */
int kn_complain(const char *fmt, ...) KN_PRINTF(1, 2);

/* prefix (not escaped) + text, escaped, + newline on stderr. */
void kn_note(const char *prefix, const char *text);

/* The message on stdout, escaped except for its newlines. */
void kn_say(const char *fmt, ...) KN_PRINTF(1, 2);

/* Flushes stdout: 0 when everything reached it (or its reader left), else the errno of the failure. */
int kn_stdout_error(void);

#endif
