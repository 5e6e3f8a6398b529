// SPDX-License-Identifier: GPL-2.0
/*
 * -w: a terminal UI when stdout is a terminal, a plain log otherwise.
 *
 * The terminal side is ncurses: it owns the alternate screen (smcup/rmcup
 * from terminfo, so no escape codes are hard-wired here) and SIGWINCH (as
 * KEY_RESIZE), and endwin() puts the terminal back. SIGINT, SIGTERM,
 * SIGHUP and SIGTSTP are ours, installed before ncurses so that it leaves
 * them alone: the handlers only set flags, the loop does the work outside
 * signal context (ncurses' own SIGTSTP handler calls endwin() from the
 * handler, and under valgrind it did not stop at all).
 */
#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include <curses.h>

#include "smi.h"

static volatile sig_atomic_t stop_watch, got_tstp;

static void on_signal(int sig)
{
	if (sig == SIGTSTP)
		got_tstp = 1;
	else
		stop_watch = 1;
}

static void catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static void catch_tstp(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTSTP, &sa, NULL);
}

/*
 * A parent in our session but in another process group is a job-control
 * shell that can continue us. Without one (e.g. `tmux new 'tt-alloc-smi
 * -w'`) the group is orphaned: the kernel drops a default SIGTSTP there,
 * and stopping anyway would leave nobody to send SIGCONT.
 */
static int has_job_control(void)
{
	pid_t pp = getppid();

	return getpgid(pp) != getpgrp() && getsid(pp) == getsid(0);
}

/* Ctrl-Z: give the shell its terminal back, stop, and redraw on SIGCONT. */
static void suspend(void)
{
	got_tstp = 0;
	endwin();
	/* SIGSTOP, not a default-action SIGTSTP: valgrind does not stop on
	 * the latter, and the shell treats both as the job stopping. */
	if (has_job_control())
		kill(getpid(), SIGSTOP);	/* stopped here until SIGCONT */
	catch_tstp();
	refresh();		/* back to the program's terminal modes */
	clearok(curscr, TRUE);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleep up to secs; a signal ends it early (stop_watch is then set). */
static void nap(double secs)
{
	struct timespec ts = { (time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9) };

	nanosleep(&ts, NULL);
}

/* Not a terminal: snapshots one after the other, each after a blank line
 * and a timestamp, so a log or `grep -A` can tell them apart. */
static int watch_plain(const struct opts *o)
{
	struct layout lay = { 0, 0 };
	long i;
	int ret = 0;

	for (i = 0; !stop_watch && (!o->count || i < o->count); i++) {
		struct snapshot s;

		if (i)
			nap(o->interval);
		if (stop_watch)
			break;
		snapshot_take(&s);
		if (o->prom_file) {
			ret = write_prom_file(o->prom_file, &s, o) ? 1 : 0;
		} else {
			char tbuf[64];
			struct tm tm;

			localtime_r(&s.ts, &tm);
			strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%S%z", &tm);
			printf("%s--- %s\n", i ? "\n" : "", tbuf);
			render_text(stdout, &s, o, &lay);
			if (fflush(stdout) || ferror(stdout))
				ret = 1;
		}
		snapshot_free(&s);
		if (ret)
			break;
	}
	return ret;
}

/* One line, cut to the screen width (never wrapped onto the next line). */
static void put_line(int y, const char *p, size_t len, int width)
{
	mbstate_t st;
	wchar_t wc;
	int w = 0;

	memset(&st, 0, sizeof(st));
	move(y, 0);
	while (len) {
		size_t l = mbrtowc(&wc, p, len, &st);
		int cw;

		if (l == (size_t)-1 || l == (size_t)-2) {
			memset(&st, 0, sizeof(st));
			wc = L'?';
			l = 1;
		}
		if (l == 0)
			break;
		cw = wcwidth(wc);
		if (cw < 0)
			cw = 1, wc = L'?';
		if (w + cw > width)
			break;
		addnwstr(&wc, 1);
		w += cw;
		p += l;
		len -= l;
	}
}

static int draw(const struct opts *o, long n)
{
	struct layout lay = { COLS, LINES - 1 };
	struct snapshot s;
	char *buf = NULL, *p;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	int y;

	if (!m)
		return -1;
	snapshot_take(&s);
	render_text(m, &s, o, &lay);
	snapshot_free(&s);
	fclose(m);
	erase();
	for (p = buf, y = 0; *p && y < LINES - 1; y++) {
		char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);

		put_line(y, p, l, COLS);
		p += l + (nl ? 1 : 0);
	}
	free(buf);
	move(LINES - 1, 0);
	attron(A_REVERSE);
	{
		char foot[128];

		snprintf(foot, sizeof(foot), " every %.1f s (#%ld)  q: quit ", o->interval, n);
		put_line(LINES - 1, foot, strlen(foot), COLS - 1);
	}
	attroff(A_REVERSE);
	refresh();
	return 0;
}

static int watch_tty(const struct opts *o)
{
	SCREEN *scr;
	double due = 0;
	long n = 0;

	catch_tstp();
	scr = newterm(NULL, stdout, stdin);

	if (!scr) {
		fprintf(stderr, "%s: cannot drive this terminal (TERM=%s)\n", prog,
			getenv("TERM") ? getenv("TERM") : "");
		return 1;
	}
	cbreak();	/* not raw(): Ctrl-C and Ctrl-Z stay signals */
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	/* short, so that a signal or the end of the interval is noticed soon */
	timeout(100);
	while (!stop_watch) {
		int ch;

		if (now() >= due) {
			if (o->count && n == o->count)
				break;
			draw(o, ++n);
			due = now() + o->interval;
		}
		ch = getch();
		if (got_tstp) {
			suspend();
			draw(o, n);
			continue;
		}
		if (ch == 'q' || ch == 'Q' || ch == 3)
			break;
		if (ch == KEY_RESIZE || ch == 12 /* Ctrl-L */) {
			clearok(curscr, TRUE);
			draw(o, n);
		} else if (ch != ERR) {
			due = 0;	/* any other key: refresh now */
		}
	}
	endwin();
	delscreen(scr);
	return 0;
}

int watch(const struct opts *o)
{
	catch_signals();
	if (isatty(STDOUT_FILENO) && isatty(STDIN_FILENO) && !o->prom_file && o->fmt == OUT_TEXT)
		return watch_tty(o);
	return watch_plain(o);
}
