/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The TAP helpers of the C test programs (host and guest): ok() prints
 * one numbered result and counts the failures; the program prints the
 * plan ("1..n") and exits non-zero when failed is not 0.
 */
#ifndef TT_ALLOC_TESTS_TAP_H
#define TT_ALLOC_TESTS_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int n, failed;

static void ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d ", cond ? "" : "not ", ++n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	/* flushed per line: a crash or timeout keeps the results before it */
	fflush(stdout);
	if (!cond)
		failed++;
}

#endif
