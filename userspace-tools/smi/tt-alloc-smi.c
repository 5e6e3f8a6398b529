// SPDX-License-Identifier: GPL-2.0
/*
 * tt-alloc-smi: per-process Tenstorrent device-memory view of tt_alloc.
 *
 * Options and the choice of view; the data comes from snapshot.c.
 * Nothing here needs root except --load and --unload (kmod.c) and
 * --configure writing its default file (configure.c).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <locale.h>
#include <unistd.h>

#include "smi.h"

const char *prog = "tt-alloc-smi";

/* ------------------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
"Usage: %s [OPTIONS]\n"
"Show Tenstorrent device memory tracked by the tt_alloc kernel module,\n"
"per device and per process.\n"
"\n"
"  -a, --all              also show devices with no capacity and no use\n"
"  -d, --device N         show device N only (with its breakdown)\n"
"  -v, --verbose          add the parameters and every device's breakdown\n"
"  -o, --output LIST      process table columns, comma-separated, from\n"
"                         PID,NAME,DEV,CLIENT,DRAM,L1,SYSTEM,L1_SMALL,TRACE,\n"
"                         CB,KERNELS,TOTAL,ALLOCS,EXITED,USER,CGROUP\n"
"      --cgroup PATH      only the processes of the cgroup PATH (from the\n"
"                         cgroup2 root, e.g. /system.slice) and below\n"
"      --sort COLUMN      order of the process table (default DRAM; sizes\n"
"                         biggest first, PID/NAME/DEV/CLIENT ascending)\n"
"  -r, --raw              process table only, raw (space-separated, bytes)\n"
"      --csv              process table only, CSV (RFC 4180, bytes)\n"
"  -j, --json             print one JSON document (schema_version %d)\n"
"  -p, --prometheus       print Prometheus text exposition format\n"
"      --prometheus-top N per-process Prometheus series for the N biggest\n"
"                         (process, device) pairs, the rest summed (default 10);\n"
"                         the same for the (cgroup, device) pairs\n"
"      --prometheus-file PATH\n"
"                         write the exposition to PATH atomically (for the\n"
"                         node_exporter textfile collector)\n"
"  -w, --watch[=SECONDS]  refresh every SECONDS (default 1): a full-screen\n"
"                         view on a terminal (q or Ctrl-C quits), one\n"
"                         snapshot after another otherwise\n"
"  -n, --count N          with -w: stop after N snapshots\n"
"      --load             load tt_alloc through libkmod (root)\n"
"      --devices N        with --load: number of devices to track\n"
"      --arch LIST        with --load: comma-separated architectures\n"
"      --module-path FILE with --load: insert this .ko instead of probing\n"
"      --unload           unload tt_alloc through libkmod (root)\n"
"      --configure        write tt_alloc's module options for this machine's\n"
"                         chips to " CONF_DEFAULT_OUTPUT "\n"
"                         (root), or to the FILE of --output (- for stdout)\n"
"      --sysroot DIR      read /sys and /dev under DIR instead of /\n"
"  -h, --help             this text\n"
"  -V, --version          print the version\n"
"\n"
"See tt-alloc-smi(8).\n", prog, SCHEMA_VERSION);
}

enum {
	OPT_LOAD = 256, OPT_UNLOAD, OPT_DEVICES, OPT_ARCH, OPT_MODPATH,
	OPT_SORT, OPT_CSV, OPT_PTOP, OPT_PFILE, OPT_SYSROOT, OPT_CONFIGURE,
	OPT_CGROUP,
};

static int parse_long(const char *arg, long min, long max, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(arg, &end, 10);
	return errno || *end || end == arg || *v < min || *v > max ? -1 : 0;
}

/* Everything but the text view has a machine reader: say what failed in
 * its format too, not only on stderr. */
static int fail_device(const struct snapshot *s, const struct opts *o)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "device %ld does not exist (%zu device%s tracked)",
		 o->device, s->ndev, s->ndev == 1 ? "" : "s");
	if (o->fmt == OUT_JSON)
		render_json_error(stdout, msg, o->device);
	fprintf(stderr, "%s: %s\n", prog, msg);
	return 1;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "device", required_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "output", required_argument, NULL, 'o' },
		{ "sort", required_argument, NULL, OPT_SORT },
		{ "cgroup", required_argument, NULL, OPT_CGROUP },
		{ "raw", no_argument, NULL, 'r' },
		{ "csv", no_argument, NULL, OPT_CSV },
		{ "json", no_argument, NULL, 'j' },
		{ "prometheus", no_argument, NULL, 'p' },
		{ "prometheus-top", required_argument, NULL, OPT_PTOP },
		{ "prometheus-file", required_argument, NULL, OPT_PFILE },
		{ "watch", optional_argument, NULL, 'w' },
		{ "count", required_argument, NULL, 'n' },
		{ "load", no_argument, NULL, OPT_LOAD },
		{ "unload", no_argument, NULL, OPT_UNLOAD },
		{ "configure", no_argument, NULL, OPT_CONFIGURE },
		{ "devices", required_argument, NULL, OPT_DEVICES },
		{ "arch", required_argument, NULL, OPT_ARCH },
		{ "module-path", required_argument, NULL, OPT_MODPATH },
		{ "sysroot", required_argument, NULL, OPT_SYSROOT },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .device = -1, .interval = 1.0, .prom_top = 10 };
	const char *devices = NULL, *arch = NULL, *modpath = NULL, *sysroot = NULL;
	const char *cgroup = NULL;
	int load = 0, unload = 0, conf = 0, c, status, nfmt = 0;
	struct snapshot s;
	struct layout lay;
	char *end;

	/* comm and arch are shown as UTF-8 when the terminal is */
	setlocale(LC_ALL, "");
	while ((c = getopt_long(argc, argv, "ad:vo:rjpw::n:hV", lopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			o.all = 1;
			break;
		case 'd':
			if (parse_long(optarg, 0, UINT32_MAX, &o.device)) {
				fprintf(stderr, "%s: bad device number '%s'\n", prog, optarg);
				return 2;
			}
			break;
		case 'v':
			o.verbose = 1;
			break;
		case 'o':
			o.columns = optarg;
			break;
		case OPT_SORT:
			o.sort = optarg;
			break;
		case OPT_CGROUP:
			cgroup = optarg;
			break;
		case 'r':
			o.fmt = OUT_RAW;
			nfmt++;
			break;
		case OPT_CSV:
			o.fmt = OUT_CSV;
			nfmt++;
			break;
		case 'j':
			o.fmt = OUT_JSON;
			nfmt++;
			break;
		case 'p':
			o.fmt = OUT_PROM;
			nfmt++;
			break;
		case OPT_PTOP:
			if (parse_long(optarg, 0, 100000, &o.prom_top)) {
				fprintf(stderr, "%s: --prometheus-top needs a number 0-100000\n", prog);
				return 2;
			}
			break;
		case OPT_PFILE:
			o.prom_file = optarg;
			break;
		case 'w': {
			const char *arg = optarg;

			o.watch = 1;
			if (!arg && optind < argc && argv[optind][0] &&
			    strspn(argv[optind], "0123456789.") == strlen(argv[optind]))
				arg = argv[optind++];
			if (arg) {
				o.interval = strtod(arg, &end);
				if (*end || end == arg || !(o.interval >= 0.1 && o.interval <= 86400)) {
					fprintf(stderr, "%s: bad watch interval '%s' (0.1-86400 seconds)\n", prog, arg);
					return 2;
				}
			}
			break;
		}
		case 'n':
			if (parse_long(optarg, 1, LONG_MAX, &o.count)) {
				fprintf(stderr, "%s: --count needs a positive number\n", prog);
				return 2;
			}
			break;
		case OPT_LOAD:
			load = 1;
			break;
		case OPT_UNLOAD:
			unload = 1;
			break;
		case OPT_CONFIGURE:
			conf = 1;
			break;
		case OPT_DEVICES:
			if (!*optarg || strspn(optarg, "0123456789") != strlen(optarg)) {
				fprintf(stderr, "%s: --devices needs a number\n", prog);
				return 2;
			}
			devices = optarg;
			break;
		case OPT_ARCH:
			if (!*optarg || strspn(optarg, "abcdefghijklmnopqrstuvwxyz0123456789_,") != strlen(optarg)) {
				fprintf(stderr, "%s: --arch needs a comma-separated list of names\n", prog);
				return 2;
			}
			arch = optarg;
			break;
		case OPT_MODPATH:
			modpath = optarg;
			break;
		case OPT_SYSROOT:
			if (!*optarg || sysroot_set(optarg)) {
				fprintf(stderr, "%s: bad --sysroot '%s'\n", prog, optarg);
				return 2;
			}
			sysroot = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("tt-alloc-smi %s (libttalloc %s)\n", TT_ALLOC_VERSION,
			       tt_alloc_library_version());
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", prog, argv[optind]);
		usage(stderr);
		return 2;
	}
	if (conf) {
		/* --output names the file written here, not table columns */
		if (load || unload || nfmt || o.watch || o.prom_file || o.device >= 0 || o.all ||
		    o.verbose || o.sort || o.count || devices || arch || modpath || cgroup) {
			fprintf(stderr, "%s: --configure goes with --sysroot and --output only\n", prog);
			return 2;
		}
		if (o.columns && !*o.columns) {
			fprintf(stderr, "%s: --output needs a file name (- for stdout)\n", prog);
			return 2;
		}
		return configure(o.columns ? o.columns : CONF_DEFAULT_OUTPUT);
	}
	if (o.prom_file && (nfmt == 0 || o.fmt == OUT_PROM)) {
		o.fmt = OUT_PROM;
		nfmt = 1;
	}
	if (load + unload + (nfmt || o.watch) > 1 || nfmt > 1 || (o.prom_file && o.fmt != OUT_PROM) ||
	    (o.watch && o.fmt != OUT_TEXT && !o.prom_file)) {
		fprintf(stderr, "%s: --load, --unload, --json, --prometheus, --raw, --csv and --watch do not combine\n"
			"(--watch goes with the text view and --prometheus-file)\n", prog);
		return 2;
	}
	if ((devices || arch || modpath) && !load) {
		fprintf(stderr, "%s: --devices, --arch and --module-path go with --load\n", prog);
		return 2;
	}
	if (sysroot && (load || unload)) {
		/* libkmod works on the running kernel only */
		fprintf(stderr, "%s: --sysroot does not go with --load or --unload\n", prog);
		return 2;
	}
	if (o.count && !o.watch) {
		fprintf(stderr, "%s: --count goes with --watch\n", prog);
		return 2;
	}
	if (table_check_opts(&o))
		return 2;
	if (cgroup && (load || unload)) {
		fprintf(stderr, "%s: --cgroup does not go with --load or --unload\n", prog);
		return 2;
	}
	/* After --sysroot, wherever it came: the cgroup tree is under it. */
	if (cgroup && cgroup_set_filter(cgroup))
		return 2;
	if (load)
		return kmod_load(devices, arch, modpath);
	if (unload)
		return kmod_unload();
	if (o.watch)
		return watch(&o);

	snapshot_take(&s);
	status = 0;
	if (o.prom_file) {
		/* A valid file (tt_alloc_module_loaded 0) is the point even
		 * without the module: the collector must not keep serving
		 * what an old file said. */
		status = write_prom_file(o.prom_file, &s, &o) ? 1 : 0;
		if (!s.mod.loaded)
			print_not_loaded(stderr);
		snapshot_free(&s);
		return status;
	}
	if (!s.mod.loaded) {
		if (o.fmt == OUT_JSON)
			render_json(stdout, &s, &o);
		else if (o.fmt == OUT_PROM)
			render_prom(stdout, &s, &o);
		print_not_loaded(stderr);
		status = 1;
	} else {
		if (o.device >= 0) {
			size_t i;

			for (i = 0; i < s.ndev; i++)
				if ((long)s.devs[i].idx == o.device)
					break;
			if (i == s.ndev) {
				status = fail_device(&s, &o);
				snapshot_free(&s);
				fflush(stdout);
				return status;
			}
		}
		switch (o.fmt) {
		case OUT_JSON:
			render_json(stdout, &s, &o);
			break;
		case OUT_PROM:
			render_prom(stdout, &s, &o);
			break;
		case OUT_RAW:
		case OUT_CSV:
			if (render_list(stdout, &s, &o))
				status = 1;
			break;
		default:
			layout_of_stdout(&lay);
			if (render_text(stdout, &s, &o, &lay))
				status = 1;
		}
	}
	snapshot_free(&s);
	if (fflush(stdout) || ferror(stdout))
		status = 1;
	return status;
}
