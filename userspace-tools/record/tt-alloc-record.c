// SPDX-License-Identifier: GPL-2.0
/*
 * tt-alloc-record: capture the tt_alloc:alloc/free/reclaim tracepoints
 * through tracefs into tt-alloc-replay traces, one file per client (open
 * file of /dev/tt_alloc), named after the process that recorded on it.
 *
 * Reads the text of trace_pipe rather than the binary per-CPU pipes: the
 * events are small and few next to what the runtime does, the text gives
 * names for types the tool need not hard-code, trace_pipe merges the CPUs
 * in timestamp order for us, and it reports lost events itself ("CPU:N
 * [LOST N EVENTS]"); parsing the binary ring-buffer pages would add a
 * page/event-header parser for no gain at these rates.
 *
 * See Documentation/admin-guide/tt-alloc-record.rst.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#ifndef TT_ALLOC_VERSION
#define TT_ALLOC_VERSION "unknown"
#endif

/* Exit statuses (documented in the man page and the admin guide). */
enum {
	EX_OK = 0,
	EX_ERR = 1,	/* runtime error: tracefs write, output file */
	EX_USAGE = 2,
	EX_LOST = 3,	/* events lost: the traces are incomplete */
	EX_NOTRACE = 4,	/* no tracefs, or no tt_alloc events (module absent) */
};

#define MAX_PIDS 64
#define MAX_MS 3600000ULL	/* the longest "sleep" tt-alloc-replay takes */

static const char *prog = "tt-alloc-record";
static volatile sig_atomic_t stop_sig;

static const char *const events[] = { "alloc", "free", "reclaim" };
static const char *const kinds[] = { "app", "fabric", "dispatch" };

/* A reclaim kept until we know whether the client lives on (see below). */
struct pending {
	unsigned long device, kind, refs;
	char type[24];
	unsigned long long id, size;
	long pid;
};

/*
 * References each live entry has in the trace written so far, per client:
 * what the replayer will count. An event that disagrees with it is on an
 * entry from before the recording started, which the trace cannot hold.
 */
struct slot {
	int used;		/* 0 empty, 1 live, 2 deleted */
	unsigned long long client, id;
	unsigned long device, refs;
	char type[24];
};

static struct {
	struct slot *s;
	size_t cap, filled;
} tab;

struct client {
	unsigned long long id;
	long pid;		/* the first process seen recording on it */
	char comm[64];
	char path[PATH_MAX];
	FILE *f;		/* NULL when closed to save descriptors */
	int selected;		/* passes the --comm filter */
	unsigned long nalloc, nfree, nreclaim;
	unsigned long partial;	/* events on entries from before the recording */
	double last_ts;		/* for --keep-time */
	struct pending *pend;
	size_t npend, cappend;
};

static struct {
	const char *outdir;
	const char *tracefs;
	const char *comm[MAX_PIDS];
	long pids[MAX_PIDS];
	int npids, ncomm;
	double duration;
	unsigned long buffer_kb;
	int keep_time, quiet;
	char inst[1024];	/* short enough for every path built on it */
	int inst_made;
	struct client *cl;
	size_t ncl, capcl;
	unsigned long lost_lines;	/* from "[LOST N EVENTS]" lines */
	unsigned long nevents, nskipped;
} g = { .outdir = ".", .buffer_kb = 4096 };

static void msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: %s [options]\n"
"Record the tt_alloc tracepoints into tt-alloc-replay traces, one file per\n"
"client, until SIGINT/SIGTERM or --duration.\n"
"  -o, --output DIR       write the traces into DIR (default .; created)\n"
"  -p, --pid PID          only processes PID (repeatable, up to %d)\n"
"  -c, --comm NAME        only processes named NAME (repeatable)\n"
"  -d, --duration SECS    stop after SECS seconds\n"
"  -b, --buffer-size KB   per-CPU trace buffer (default 4096)\n"
"  -s, --keep-time        write 'sleep MS' lines for gaps of 1 ms or more\n"
"  -t, --tracefs DIR      tracefs mount point (default: /sys/kernel/tracing,\n"
"                         then /sys/kernel/debug/tracing)\n"
"  -q, --quiet            no progress messages\n"
"  -h, --help             this help\n"
"  -V, --version          print the version\n"
"Exit status: 0 ok, 1 error, 2 usage, 3 events lost (traces renamed\n"
"*.trace.incomplete), 4 no tracefs or no tt_alloc events.\n",
		prog, MAX_PIDS);
}

static void on_signal(int sig)
{
	stop_sig = sig;
}

/* ---- tracefs --------------------------------------------------------------- */

static int write_file(const char *dir, const char *name, const char *val)
{
	char p[PATH_MAX];
	ssize_t len = (ssize_t)strlen(val), w;
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0) {
		msg("%s: %s", p, strerror(errno));
		return -1;
	}
	w = write(fd, val, (size_t)len);
	if (w != len) {
		msg("writing '%s' to %s: %s", val, p, w < 0 ? strerror(errno) : "short write");
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int has_instances(const char *root)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/instances", root);
	return is_dir(p);
}

/* The tracefs mount point, mounting it at /sys/kernel/tracing if need be. */
static const char *find_tracefs(void)
{
	static const char *const where[] = {
		"/sys/kernel/tracing", "/sys/kernel/debug/tracing",
	};
	size_t i;

	if (g.tracefs)
		return has_instances(g.tracefs) ? g.tracefs : NULL;
	for (i = 0; i < sizeof(where) / sizeof(where[0]); i++)
		if (has_instances(where[i]))
			return where[i];
	/* Kernels since 4.1 have the empty mount point when it is not mounted. */
	if (is_dir(where[0]) && mount("tracefs", where[0], "tracefs", 0, NULL) == 0 &&
	    has_instances(where[0]))
		return where[0];
	return NULL;
}

static void remove_instance(void)
{
	if (!g.inst_made)
		return;
	/* Disabled first: rmdir of an instance with enabled events is EBUSY on some kernels. */
	write_file(g.inst, "events/tt_alloc/enable", "0");
	if (rmdir(g.inst) != 0)
		msg("cannot remove %s: %s (remove it with rmdir)", g.inst, strerror(errno));
	g.inst_made = 0;
}

/* overrun + dropped events of every CPU of the instance */
static int lost_in_stats(unsigned long long *lost)
{
	char p[PATH_MAX], line[256];
	struct dirent *de;
	DIR *d;

	*lost = 0;
	snprintf(p, sizeof(p), "%s/per_cpu", g.inst);
	d = opendir(p);
	if (!d) {
		msg("%s: %s", p, strerror(errno));
		return -1;
	}
	while ((de = readdir(d))) {
		FILE *f;

		if (strncmp(de->d_name, "cpu", 3) != 0)
			continue;
		snprintf(p, sizeof(p), "%s/per_cpu/%s/stats", g.inst, de->d_name);
		f = fopen(p, "re");
		if (!f) {
			msg("%s: %s", p, strerror(errno));
			closedir(d);
			return -1;
		}
		while (fgets(line, sizeof(line), f)) {
			unsigned long long v;

			if (sscanf(line, "overrun: %llu", &v) == 1 ||
			    sscanf(line, "dropped events: %llu", &v) == 1)
				*lost += v;
		}
		fclose(f);
	}
	closedir(d);
	return 0;
}

/* ---- clients and their trace files ------------------------------------------ */

static void close_all_files(void)
{
	size_t i;

	for (i = 0; i < g.ncl; i++)
		if (g.cl[i].f) {
			fclose(g.cl[i].f);
			g.cl[i].f = NULL;
		}
}

/* The client's trace file, opened (or reopened for appending) on demand. */
static FILE *client_file(struct client *c)
{
	if (c->f)
		return c->f;
	c->f = fopen(c->path, c->nalloc + c->nfree + c->nreclaim ? "ae" : "wxe");
	if (!c->f && (errno == EMFILE || errno == ENFILE)) {
		/* Very many clients: keep none open, reopen as events come. */
		close_all_files();
		c->f = fopen(c->path, c->nalloc + c->nfree + c->nreclaim ? "ae" : "wxe");
	}
	if (!c->f)
		msg("%s: %s", c->path, strerror(errno));
	return c->f;
}

static void read_comm(long pid, char *comm, size_t len, const char *fallback)
{
	char p[64];
	FILE *f;

	snprintf(p, sizeof(p), "/proc/%ld/comm", pid);
	f = fopen(p, "re");
	if (f && fgets(comm, (int)len, f)) {
		comm[strcspn(comm, "\n")] = 0;
		fclose(f);
		return;
	}
	if (f)
		fclose(f);
	snprintf(comm, len, "%s", fallback);
}

static int comm_selected(const char *comm)
{
	int i;

	if (!g.ncomm)
		return 1;
	for (i = 0; i < g.ncomm; i++)
		if (strcmp(g.comm[i], comm) == 0)
			return 1;
	return 0;
}

static struct client *find_client(unsigned long long id, long pid, const char *tcomm,
				  int *fresh)
{
	struct client *c;
	size_t i;
	int same_pid = 0;

	*fresh = 0;
	for (i = g.ncl; i-- > 0;) {
		if (g.cl[i].id == id)
			return &g.cl[i];
		if (g.cl[i].pid == pid)
			same_pid = 1;
	}
	if (g.ncl == g.capcl) {
		size_t cap = g.capcl ? 2 * g.capcl : 16;
		struct client *n = realloc(g.cl, cap * sizeof(*n));

		if (!n) {
			msg("out of memory");
			return NULL;
		}
		g.cl = n;
		g.capcl = cap;
	}
	c = &g.cl[g.ncl++];
	memset(c, 0, sizeof(*c));
	c->id = id;
	c->pid = pid;
	c->last_ts = -1;
	/* /proc: the process's name, not the calling thread's (trace prefix). */
	read_comm(pid, c->comm, sizeof(c->comm), tcomm);
	c->selected = comm_selected(c->comm);
	/* A second client of one process (two opens) gets a file of its own. */
	if (same_pid)
		snprintf(c->path, sizeof(c->path), "%s/pid-%ld.client-%llu.trace",
			 g.outdir, pid, id);
	else
		snprintf(c->path, sizeof(c->path), "%s/pid-%ld.trace", g.outdir, pid);
	*fresh = 1;
	return c;
}

static int write_header(struct client *c)
{
	char when[64] = "?";
	struct utsname u;
	time_t now = time(NULL);
	struct tm tm;
	FILE *f = client_file(c);

	if (!f)
		return -1;
	if (gmtime_r(&now, &tm))
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (uname(&u) != 0)
		strcpy(u.release, "?");
	fprintf(f, "# tt-alloc-replay trace recorded by tt-alloc-record %s\n"
		"# pid %ld (%s), client %llu, from %s on Linux %s\n"
		"# Format: Documentation/userspace-api/libttalloc.rst, \"Trace format\".\n"
		"# Reclaims at release are comments: replaying and exiting reclaims the same.\n",
		TT_ALLOC_VERSION, c->pid, c->comm, c->id, when, u.release);
	return 0;
}

static void kind_name(char *buf, size_t len, const char *type, unsigned long kind)
{
	if (strcmp(type, "kernel") == 0 && kind < 3)
		snprintf(buf, len, "%s", kinds[kind]);
	else if (kind == 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%lu", kind);
}

/*
 * Reclaims held back: at release they are what the replayer's own exit
 * does again, so they stay comments; but if the client records again
 * afterwards, they came from the sweep (a process sharing the file died
 * while the file stayed open) and the replay must drop those references
 * explicitly or its later ops would not match: then they become frees.
 */
static int flush_pending(struct client *c, int as_free)
{
	FILE *f = client_file(c);
	size_t i;
	unsigned long r;

	if (!f)
		return -1;
	if (as_free && c->npend)
		fprintf(f, "# swept: entries of exited pids reclaimed while the file stayed open\n");
	for (i = 0; i < c->npend; i++) {
		struct pending *p = &c->pend[i];
		char kb[24];

		if (!as_free) {
			kind_name(kb, sizeof(kb), p->type, p->kind);
			fprintf(f, "# reclaim %lu %s %s 0x%llx %llu refs=%lu pid=%ld\n",
				p->device, p->type, kb, p->id, p->size, p->refs, p->pid);
			continue;
		}
		for (r = 0; r < p->refs; r++)
			fprintf(f, "free %lu %s 0x%llx\n", p->device, p->type, p->id);
	}
	c->npend = 0;
	return ferror(f) ? -1 : 0;
}

static size_t slot_hash(unsigned long long client, unsigned long device, const char *type,
			unsigned long long id)
{
	unsigned long long h = client * 0x9e3779b97f4a7c15ULL ^ id * 0xff51afd7ed558ccdULL ^ device;

	while (*type)
		h = h * 31 + (unsigned char)*type++;
	return (size_t)(h ^ (h >> 29));
}

/* The slot of a key, or where it would go; NULL only when out of memory. */
static struct slot *slot_find(unsigned long long client, unsigned long device, const char *type,
			      unsigned long long id, int create)
{
	struct slot *s, *del = NULL;
	size_t i;

	if (create && (tab.filled + 1) * 2 > tab.cap) {
		struct slot *old = tab.s;
		size_t oldcap = tab.cap, j;

		tab.cap = oldcap ? 2 * oldcap : 1024;
		tab.s = calloc(tab.cap, sizeof(*tab.s));
		if (!tab.s) {
			tab.s = old;
			tab.cap = oldcap;
			msg("out of memory");
			return NULL;
		}
		tab.filled = 0;
		for (j = 0; j < oldcap; j++) {
			if (old[j].used != 1)
				continue;
			for (i = slot_hash(old[j].client, old[j].device, old[j].type, old[j].id);
			     tab.s[i & (tab.cap - 1)].used; i++)
				;
			tab.s[i & (tab.cap - 1)] = old[j];
			tab.filled++;
		}
		free(old);
	}
	if (!tab.cap)
		return NULL;
	for (i = slot_hash(client, device, type, id);; i++) {
		s = &tab.s[i & (tab.cap - 1)];
		if (!s->used)
			break;
		if (s->used == 2) {
			del = del ? del : s;
			continue;
		}
		if (s->client == client && s->device == device && s->id == id &&
		    strcmp(s->type, type) == 0)
			return s;
	}
	if (!create)
		return NULL;
	if (del)
		s = del;
	else
		tab.filled++;
	s->used = 1;
	s->client = client;
	s->device = device;
	s->id = id;
	s->refs = 0;
	snprintf(s->type, sizeof(s->type), "%s", type);
	return s;
}

/* ---- parsing trace_pipe lines ------------------------------------------------ */

/*
 * "  <comm>-<tid>  [cpu] flags  <secs>.<usecs>: <event>: client=... refs=N"
 * The comm may hold anything, spaces and dashes included; the payload
 * cannot hold "client=" twice, so the last one starts it.
 */
static int handle_line(char *line)
{
	char *pl = NULL, *s, *ev, *colon, *br, *dash, tcomm[64] = "<...>";
	char type[24], kb[24];
	unsigned long long client, id, size;
	unsigned long device, kind, refs, lost;
	long pid;
	double ts = 0;
	struct client *c;
	int which = -1, fresh, i;
	FILE *f;

	if (sscanf(line, "CPU:%*d [LOST %lu EVENTS]", &lost) == 1) {
		g.lost_lines += lost;
		return 0;
	}
	for (s = line; (s = strstr(s, "client=")); s++)
		pl = s;
	if (!pl || pl - line < 3 || pl[-1] != ' ' || pl[-2] != ':')
		return 0;	/* not one of ours (the instance only has ours) */
	colon = pl - 2;
	*colon = 0;
	ev = strrchr(line, ' ');
	ev = ev ? ev + 1 : line;
	for (i = 0; i < 3; i++)
		if (strcmp(ev, events[i]) == 0)
			which = i;
	if (which < 0)
		return 0;
	/* the timestamp "secs.usecs:" before the event name, the comm before " [" */
	if (ev - line >= 2) {
		char *t;

		ev[-1] = 0;
		t = strrchr(line, ' ');
		t = t ? t + 1 : line;
		ts = strtod(t, NULL);
		br = strstr(line, " [");
		while (br && strstr(br + 1, " ["))
			br = strstr(br + 1, " [");
		if (br) {
			*br = 0;
			dash = strrchr(line, '-');
			if (dash) {
				*dash = 0;
				for (s = line; *s == ' '; s++)
					;
				snprintf(tcomm, sizeof(tcomm), "%s", s);
			}
		}
	}
	if (sscanf(pl, "client=%llu pid=%ld device=%lu type=%23s kind=%lu id=%llx size=%llu refs=%lu",
		   &client, &pid, &device, type, &kind, &id, &size, &refs) != 8) {
		msg("cannot parse a %s event: '%s'", events[which], pl);
		return -1;
	}
	g.nevents++;
	if (g.npids) {
		/* the kernel filter does this already; a second check is cheap */
		for (i = 0; i < g.npids && g.pids[i] != pid; i++)
			;
		if (i == g.npids)
			return 0;
	}
	c = find_client(client, pid, tcomm, &fresh);
	if (!c)
		return -1;
	if (!c->selected) {
		g.nskipped++;
		return 0;
	}
	if (fresh && write_header(c))
		return -1;
	if (which == 2) {
		struct pending *p;
		struct slot *sl = slot_find(client, device, type, id, 0);
		unsigned long known = sl ? sl->refs : 0;

		if (sl)
			sl->used = 2;
		if (known != refs)
			c->partial++;

		if (c->npend == c->cappend) {
			size_t cap = c->cappend ? 2 * c->cappend : 16;
			struct pending *n = realloc(c->pend, cap * sizeof(*n));

			if (!n) {
				msg("out of memory");
				return -1;
			}
			c->pend = n;
			c->cappend = cap;
		}
		p = &c->pend[c->npend++];
		p->device = device;
		snprintf(p->type, sizeof(p->type), "%s", type);
		p->kind = kind;
		p->id = id;
		p->size = size;
		p->refs = known;	/* what the trace holds, if the sweep makes frees */
		p->pid = pid;
		c->nreclaim++;
		return 0;
	}
	if (c->npend && flush_pending(c, 1))
		return -1;
	f = client_file(c);
	if (!f)
		return -1;
	if (g.keep_time && c->last_ts >= 0 && ts > c->last_ts) {
		unsigned long long ms = (unsigned long long)((ts - c->last_ts) * 1000.0);

		for (; ms >= 1; ms -= ms > MAX_MS ? MAX_MS : ms)
			fprintf(f, "sleep %llu\n", ms > MAX_MS ? MAX_MS : ms);
	}
	c->last_ts = ts;
	if (which == 0) {
		struct slot *sl = slot_find(client, device, type, id, 1);

		if (!sl)
			return -1;
		/* refs > known + 1: references taken before the recording */
		if (++sl->refs != refs)
			c->partial++;
		kind_name(kb, sizeof(kb), type, kind);
		fprintf(f, "alloc %lu %s %s 0x%llx %llu\n", device, type, kb, id, size);
		c->nalloc++;
	} else {
		struct slot *sl = slot_find(client, device, type, id, 0);

		if (!sl || !sl->refs) {
			/* never allocated in this trace: a free line would not replay */
			fprintf(f, "# free of an entry from before the recording: %lu %s 0x%llx refs=%lu\n",
				device, type, id, refs);
			c->partial++;
		} else {
			if (--sl->refs != refs)
				c->partial++;
			if (!sl->refs)
				sl->used = 2;
			fprintf(f, "free %lu %s 0x%llx\n", device, type, id);
		}
		c->nfree++;
	}
	if (ferror(f)) {
		msg("%s: write error", c->path);
		return -1;
	}
	return 0;
}

/* Feed what trace_pipe gave; keeps a partial last line for the next call. */
static int feed(char *buf, size_t *have)
{
	char *p = buf, *nl;

	while ((nl = memchr(p, '\n', *have - (size_t)(p - buf)))) {
		*nl = 0;
		if (handle_line(p))
			return -1;
		p = nl + 1;
	}
	*have -= (size_t)(p - buf);
	memmove(buf, p, *have);
	return 0;
}

/* ---- options ---------------------------------------------------------------- */

static int parse_ulong(const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	errno = 0;
	if (*s < '0' || *s > '9')
		return -1;
	*v = strtoul(s, &end, 10);
	return errno || *end || *v > max ? -1 : 0;
}

static int parse_args(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "pid", required_argument, NULL, 'p' },
		{ "comm", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'd' },
		{ "buffer-size", required_argument, NULL, 'b' },
		{ "keep-time", no_argument, NULL, 's' },
		{ "tracefs", required_argument, NULL, 't' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	char *end;
	int o;

	while ((o = getopt_long(argc, argv, "o:p:c:d:b:st:qhV", lopts, NULL)) != -1) {
		switch (o) {
		case 'o':
			g.outdir = optarg;
			break;
		case 'p':
			if (g.npids == MAX_PIDS) {
				msg("--pid: at most %d of them", MAX_PIDS);
				return -1;
			}
			if (parse_ulong(optarg, INT_MAX, &v) || !v) {
				msg("--pid: not a pid: '%s'", optarg);
				return -1;
			}
			g.pids[g.npids++] = (long)v;
			break;
		case 'c':
			if (g.ncomm == MAX_PIDS || !*optarg || strlen(optarg) > 15) {
				msg("--comm: '%s': 1 to 15 characters (the kernel's comm), at most %d names",
				    optarg, MAX_PIDS);
				return -1;
			}
			g.comm[g.ncomm++] = optarg;
			break;
		case 'd':
			errno = 0;
			g.duration = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(g.duration > 0) ||
			    g.duration > 31536000) {
				msg("--duration: '%s': seconds, more than 0, at most a year", optarg);
				return -1;
			}
			break;
		case 'b':
			if (parse_ulong(optarg, 1UL << 22, &v) || v < 4) {
				msg("--buffer-size: '%s': KiB per CPU, 4 to 4194304", optarg);
				return -1;
			}
			g.buffer_kb = v;
			break;
		case 's':
			g.keep_time = 1;
			break;
		case 't':
			g.tracefs = optarg;
			break;
		case 'q':
			g.quiet = 1;
			break;
		case 'h':
			usage(stdout);
			exit(EX_OK);
		case 'V':
			printf("%s %s\n", prog, TT_ALLOC_VERSION);
			exit(EX_OK);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		msg("unexpected argument '%s'", argv[optind]);
		usage(stderr);
		return -1;
	}
	return 0;
}

/* ---- main ------------------------------------------------------------------- */

static int setup(const char *root)
{
	char p[PATH_MAX], filter[MAX_PIDS * 24 + 1] = "";
	const char *clock_pref[] = { "mono", "global" };
	char clocks[512] = "";
	size_t i;
	FILE *f;
	int n;

	/* the top level lists the events every instance gets */
	snprintf(p, sizeof(p), "%s/events/tt_alloc", root);
	if (!is_dir(p)) {
		msg("no tt_alloc events in %s: is the tt_alloc module loaded (modprobe tt_alloc)?",
		    root);
		return EX_NOTRACE;
	}
	snprintf(g.inst, sizeof(g.inst), "%s/instances/tt_alloc_record.%ld", root, (long)getpid());
	if (mkdir(g.inst, 0700) != 0) {
		msg("cannot create the tracefs instance %s: %s", g.inst, strerror(errno));
		return EX_ERR;
	}
	g.inst_made = 1;
	if (write_file(g.inst, "tracing_on", "0"))
		return EX_ERR;
	snprintf(p, sizeof(p), "%lu", g.buffer_kb);
	if (write_file(g.inst, "buffer_size_kb", p))
		return EX_ERR;
	/*
	 * The default "local" clock need not agree between CPUs: a process
	 * that migrates could see its events reordered by the merge.
	 */
	snprintf(p, sizeof(p), "%s/trace_clock", g.inst);
	f = fopen(p, "re");
	if (f) {
		if (!fgets(clocks, sizeof(clocks), f))
			clocks[0] = 0;
		fclose(f);
	}
	for (i = 0; i < 2; i++) {
		char *hit = strstr(clocks, clock_pref[i]);
		size_t l = strlen(clock_pref[i]);

		if (hit && (hit == clocks || hit[-1] == ' ' || hit[-1] == '[') &&
		    (hit[l] == ' ' || hit[l] == ']' || hit[l] == '\n' || !hit[l])) {
			if (write_file(g.inst, "trace_clock", clock_pref[i]))
				return EX_ERR;
			break;
		}
	}
	for (n = 0; n < g.npids; n++)
		snprintf(filter + strlen(filter), sizeof(filter) - strlen(filter), "%spid == %ld",
			 n ? " || " : "", g.pids[n]);
	if (g.npids && write_file(g.inst, "events/tt_alloc/filter", filter))
		return EX_ERR;
	for (i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "events/tt_alloc/%s/enable", events[i]);
		if (write_file(g.inst, p, "1"))
			return EX_ERR;
	}
	return EX_OK;
}

int main(int argc, char **argv)
{
	static char buf[1 << 16];
	struct sigaction sa;
	struct timespec t0, now;
	unsigned long long lost = 0;
	const char *root;
	char p[PATH_MAX];
	size_t have = 0, i;
	int fd = -1, rc = EX_OK, failed = 0;

	if (parse_args(argc, argv))
		return EX_USAGE;
	if (mkdir(g.outdir, 0755) != 0 && errno != EEXIST) {
		msg("--output %s: %s", g.outdir, strerror(errno));
		return EX_ERR;
	}
	if (!is_dir(g.outdir)) {
		msg("--output %s: not a directory", g.outdir);
		return EX_ERR;
	}
	if (g.tracefs && strlen(g.tracefs) > 900) {
		msg("--tracefs: path too long");
		return EX_USAGE;
	}
	if (strlen(g.outdir) > PATH_MAX - 100) {
		msg("--output: path too long");
		return EX_USAGE;
	}
	root = find_tracefs();
	if (!root) {
		if (g.tracefs)
			msg("--tracefs %s: not a tracefs mount (no instances/ in it)", g.tracefs);
		else
			msg("no tracefs at /sys/kernel/tracing or /sys/kernel/debug/tracing "
			    "(kernel without CONFIG_FTRACE, or not root?)");
		return EX_NOTRACE;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: poll() returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	rc = setup(root);
	if (rc != EX_OK)
		goto out;
	snprintf(p, sizeof(p), "%s/trace_pipe", g.inst);
	fd = open(p, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		msg("%s: %s", p, strerror(errno));
		rc = EX_ERR;
		goto out;
	}
	if (write_file(g.inst, "tracing_on", "1")) {
		rc = EX_ERR;
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!g.quiet)
		msg("recording tt_alloc events into %s (%s); SIGINT/SIGTERM%s to stop",
		    g.outdir, g.inst, g.duration > 0 ? " or --duration" : "");

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int stopping = stop_sig != 0;
		ssize_t r;

		if (!stopping && g.duration > 0) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			stopping = (double)(now.tv_sec - t0.tv_sec) +
				   (double)(now.tv_nsec - t0.tv_nsec) / 1e9 >= g.duration;
		}
		if (stopping) {
			/* no new events; then drain what the buffer holds */
			write_file(g.inst, "tracing_on", "0");
			while ((r = read(fd, buf + have, sizeof(buf) - 1 - have)) > 0) {
				have += (size_t)r;
				if (feed(buf, &have)) {
					failed = 1;
					break;
				}
			}
			break;
		}
		/* a short timeout: --duration and signals are checked at least this often */
		if (poll(&pfd, 1, 200) < 0 && errno != EINTR) {
			msg("poll: %s", strerror(errno));
			failed = 1;
			break;
		}
		r = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (r < 0 && errno != EAGAIN && errno != EINTR) {
			msg("reading %s: %s", p, strerror(errno));
			failed = 1;
			break;
		}
		if (r > 0) {
			have += (size_t)r;
			if (have == sizeof(buf) - 1) {
				msg("a trace_pipe line longer than %zu bytes", sizeof(buf));
				failed = 1;
				break;
			}
			if (feed(buf, &have)) {
				failed = 1;
				break;
			}
		}
	}
	if (!failed && lost_in_stats(&lost))
		failed = 1;
	/* both report the same losses: the stats are exact, the lines a fallback */
	if (g.lost_lines > lost)
		lost = g.lost_lines;

	for (i = 0; i < g.ncl; i++) {
		struct client *c = &g.cl[i];

		if (!c->selected)
			continue;
		if (c->partial) {
			FILE *f = client_file(c);

			msg("%s: pid %ld held entries from before the recording started (%lu events "
			    "disagree with the trace): it replays what was recorded, not the whole run",
			    c->path, c->pid, c->partial);
			if (f)
				fprintf(f, "# partial: %lu events on entries from before the recording\n",
					c->partial);
		}
		if (flush_pending(c, 0) || (c->f && fclose(c->f) != 0)) {
			msg("%s: write error", c->path);
			failed = 1;
		}
		c->f = NULL;
	}
	if (lost) {
		msg("%llu events lost to trace buffer overruns (per_cpu/cpu*/stats): the traces are "
		    "incomplete and renamed *.trace.incomplete; retry with a larger --buffer-size "
		    "or --pid/--comm", lost);
		rc = EX_LOST;
	}
	for (i = 0; i < g.ncl; i++) {
		struct client *c = &g.cl[i];

		if (!c->selected)
			continue;
		if (lost) {
			char np[PATH_MAX + 16];

			snprintf(np, sizeof(np), "%s.incomplete", c->path);
			if (rename(c->path, np) != 0) {
				msg("rename %s: %s", c->path, strerror(errno));
				failed = 1;
			}
			printf("%s", np);
		} else {
			printf("%s", c->path);
		}
		printf(" pid=%ld comm=%s client=%llu alloc=%lu free=%lu reclaim=%lu partial=%lu\n",
		       c->pid, c->comm, c->id, c->nalloc, c->nfree, c->nreclaim, c->partial);
	}
	if (!g.quiet)
		msg("stopped%s%s: %lu events, %zu clients%s", stop_sig ? " by " : "",
		    stop_sig ? strsignal(stop_sig) : "", g.nevents, g.ncl,
		    g.nskipped ? " (some filtered out by --comm)" : "");
	if (failed && rc == EX_OK)
		rc = EX_ERR;
out:
	if (fd >= 0)
		close(fd);
	remove_instance();
	for (i = 0; i < g.ncl; i++) {
		if (g.cl[i].f)
			fclose(g.cl[i].f);
		free(g.cl[i].pend);
	}
	free(g.cl);
	free(tab.s);
	if (fflush(stdout) != 0 && rc == EX_OK)
		rc = EX_ERR;
	return rc;
}
