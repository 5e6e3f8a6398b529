// SPDX-License-Identifier: GPL-2.0
/*
 * Replace a file so that a reader sees the old content or the new one,
 * never a half-written file: the Prometheus textfile (--prometheus-file),
 * which node_exporter may read at any moment, and the modprobe.d file of
 * --configure, which modprobe may read at boot. A temporary file is
 * written next to PATH (same file system, so rename() is atomic; a name
 * starting with '.' and ending in random characters, so neither the
 * textfile collector, which reads *.prom, nor modprobe, which reads
 * *.conf, picks it up) and renamed over PATH.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "smi.h"

int replace_file(const char *path, void (*render)(FILE *f, const void *arg),
		 const void *arg)
{
	char *dup = strdup(path), *dup2 = strdup(path), *tmp = NULL;
	int fd = -1, ret = -1, created = 0;
	FILE *f = NULL;

	if (!dup || !dup2 || asprintf(&tmp, "%s/.%s.XXXXXX", dirname(dup), basename(dup2)) < 0) {
		tmp = NULL;
		errno = ENOMEM;
		goto out;
	}
	fd = mkstemp(tmp);
	if (fd < 0)
		goto out;
	created = 1;
	/* mkstemp() makes it 0600; node_exporter usually runs as another user. */
	if (fchmod(fd, 0644))
		goto out;
	f = fdopen(fd, "w");
	if (!f)
		goto out;
	fd = -1;
	render(f, arg);
	if (fflush(f) || ferror(f) || fsync(fileno(f)))
		goto out;
	if (fclose(f)) {
		f = NULL;
		goto out;
	}
	f = NULL;
	if (rename(tmp, path))
		goto out;
	ret = 0;
out:
	if (ret) {
		int e = errno;

		if (f)
			fclose(f);
		if (fd >= 0)
			close(fd);
		if (created)
			unlink(tmp);
		errno = e;
	}
	free(tmp);
	free(dup);
	free(dup2);
	return ret;
}
