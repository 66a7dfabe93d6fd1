/* check.h — pass/fail counting shared by every C test of Kineto.
     check(ok, what)                    one result; a failure is printed by name, with the engine's
                                        last error when there is one
     check_within(what, err, tol, unit) a measured error against its tolerance, printed either way
     check_exit()                       prints "N passed, N failed"; main's exit status
   A test of the kernels alone, which does not link the engine, defines CHECK_WITHOUT_ENGINE first. */
#ifndef KINETO_TEST_CHECK_H
#define KINETO_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#ifndef CHECK_WITHOUT_ENGINE
#include "kineto.h"
#endif

static int passed, failed;
static int check_show_passes; /* set where every check is worth a line (test_parity's stages) */

static inline void check(int ok, const char *what) {
#ifdef CHECK_WITHOUT_ENGINE
    const char *last_error = "";
#else
    const char *last_error = kineto_last_error();
#endif
    if (ok && check_show_passes) printf("ok   %s\n", what);
    if (!ok && last_error[0]) printf("FAIL %s  (last error: %s)\n", what, last_error);
    else if (!ok) printf("FAIL %s\n", what);
    if (ok) passed++;
    else failed++;
}

/* err <= tol; a NaN error fails */
static inline void check_within(const char *what, double err, double tol, const char *unit) {
    int ok = err <= tol;
    printf("%-4s %-52s max %-12.4g tol %-10.4g %s\n", ok ? "ok" : "FAIL", what, err, tol, unit);
    if (ok) passed++;
    else failed++;
}

static inline int check_exit(void) {
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

#ifndef CHECK_WITHOUT_ENGINE
/* The model every later check needs, or exit 1 with the loader's reason. */
static inline kineto_ctx *check_load_model(const char *path) {
    kineto_status st;
    kineto_ctx *model = kineto_load_file(path, &st);
    if (!model) {
        fprintf(stderr, "cannot load %s: %s\n", path, kineto_last_error());
        exit(1);
    }
    return model;
}
#endif

#endif
