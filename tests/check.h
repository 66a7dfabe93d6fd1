/* check.h — pass/fail counting shared by the engine's C tests. check() counts one result and prints
   a failure by name, with the engine's last error when there is one; check_exit() prints the totals
   and is main's exit status. (tests/ops/test_ops.c checks errors against tolerances with its own.) */
#ifndef KINETO_TEST_CHECK_H
#define KINETO_TEST_CHECK_H

#include <stdio.h>

#include "kineto.h"

static int passed, failed;
static int check_show_passes; /* set where every check is worth a line (test_parity's stages) */

static inline void check(int ok, const char *what) {
    const char *last_error = kineto_last_error();
    if (ok && check_show_passes) printf("ok   %s\n", what);
    if (!ok && last_error[0]) printf("FAIL %s  (last error: %s)\n", what, last_error);
    else if (!ok) printf("FAIL %s\n", what);
    if (ok) passed++;
    else failed++;
}

static inline int check_exit(void) {
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

#endif
