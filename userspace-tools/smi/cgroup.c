// SPDX-License-Identifier: GPL-2.0
/*
 * tt-alloc-smi: the cgroup of each client row. The kernel gives a cgroup
 * v2 id, which is the inode number of the cgroup's directory in a cgroup2
 * mount; one walk of the tool's own mount (/sys/fs/cgroup, or the
 * "unified" one of a hybrid systemd setup; under --sysroot DIR, DIR's)
 * turns the ids of a snapshot into paths, relative to the mount's root,
 * which inside a container is its cgroup namespace's root. An id found
 * nowhere there (a cgroup outside the namespace, or removed since) stays
 * unresolved and is shown as "#ID".
 */
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include "smi.h"

/* A bound on the walk: a machine has thousands of cgroups, not millions. */
#define CG_WALK_MAX	200000

static char cg_root[4096];
static size_t cg_rootlen;

/* The walk's state: nftw() gives its callback no argument of ours. */
static struct {
	const uint64_t *ids;	/* sorted, unique */
	char **paths;		/* parallel to ids */
	size_t n, found, seen;
} walk;

const char *cgroup_root(void)
{
	static const char *const cand[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
	struct statfs sfs;
	size_t i;

	if (cg_rootlen)
		return cg_root;
	for (i = 0; i < sizeof(cand) / sizeof(cand[0]); i++) {
		snprintf(cg_root, sizeof(cg_root), "%s%s", sysroot_dir(), cand[i]);
		/* A --sysroot tree is a copy: any directory will do there. */
		if (*sysroot_dir() ? !access(cg_root, R_OK | X_OK) :
		    !statfs(cg_root, &sfs) && sfs.f_type == CGROUP2_SUPER_MAGIC) {
			cg_rootlen = strlen(cg_root);
			return cg_root;
		}
	}
	cg_root[0] = 0;
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int visit(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	const uint64_t *hit;
	uint64_t ino = st->st_ino;
	size_t k;

	(void)ftw;
	if (flag != FTW_D || ++walk.seen > CG_WALK_MAX)
		return walk.seen > CG_WALK_MAX;
	hit = bsearch(&ino, walk.ids, walk.n, sizeof(*walk.ids), cmp_u64);
	if (!hit)
		return 0;
	k = (size_t)(hit - walk.ids);
	if (!walk.paths[k]) {
		walk.paths[k] = strdup(path[cg_rootlen] ? path + cg_rootlen : "/");
		walk.found += walk.paths[k] != NULL;
	}
	return walk.found == walk.n;	/* all found: stop */
}

void cgroup_resolve(struct snapshot *s)
{
	uint64_t *ids;
	char **paths;
	size_t i, k, n = 0;

	if (!s->nclients || !cgroup_root())
		return;
	ids = calloc(s->nclients, sizeof(*ids));
	paths = calloc(s->nclients, sizeof(*paths));
	s->cgroups = calloc(s->nclients, sizeof(*s->cgroups));
	if (!ids || !paths || !s->cgroups)
		goto out;
	for (i = 0; i < s->nclients; i++)
		if (s->clients[i].cgroup_id)
			ids[n++] = s->clients[i].cgroup_id;
	qsort(ids, n, sizeof(*ids), cmp_u64);
	for (i = 0, k = 0; i < n; i++)
		if (!k || ids[k - 1] != ids[i])
			ids[k++] = ids[i];
	n = k;
	walk.ids = ids;
	walk.paths = paths;
	walk.n = n;
	walk.found = walk.seen = 0;
	/* Physical walk, one file system: the cgroup2 mount only. */
	if (n)
		nftw(cg_root, visit, 32, FTW_PHYS | FTW_MOUNT);
	for (i = 0; i < s->nclients; i++) {
		const uint64_t *hit = bsearch(&s->clients[i].cgroup_id, ids, n,
					      sizeof(*ids), cmp_u64);

		if (hit && paths[hit - ids])
			s->cgroups[i] = strdup(paths[hit - ids]);
	}
out:
	for (i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	free(ids);
}

/* --cgroup PATH: only the rows of that subtree, in every view. */
static const char *cg_filter;

int cgroup_set_filter(const char *tree)
{
	char dir[8192];
	struct stat st;

	if (tree[0] != '/') {
		fprintf(stderr, "%s: --cgroup %s: a path from the cgroup2 root, starting with /\n",
			prog, tree);
		return -1;
	}
	if (!cgroup_root()) {
		fprintf(stderr, "%s: --cgroup: no cgroup2 file system at %s/sys/fs/cgroup\n",
			prog, sysroot_dir());
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s%s", cg_root, tree);
	if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "%s: --cgroup %s: no such cgroup (%s)\n", prog, tree, dir);
		return -1;
	}
	cg_filter = tree;
	return 0;
}

void cgroup_filter_rows(struct snapshot *s)
{
	size_t i, j;

	if (!cg_filter)
		return;
	for (i = 0, j = 0; i < s->nclients; i++) {
		if (s->cgroups && cgroup_in(s->cgroups[i], cg_filter)) {
			s->clients[j] = s->clients[i];
			s->cgroups[j++] = s->cgroups[i];
		} else if (s->cgroups) {
			free(s->cgroups[i]);
		}
	}
	s->nclients = j;
}

/*
 * The dmem.max of cgroup @path for the regions of device @device: @max[t]
 * for "tt_alloc/<device>/<type>", UINT64_MAX where there is no limit (max,
 * no such line, no controller, a cgroup not under the mount).
 */
void cgroup_dmem_max(const char *path, uint32_t device, uint64_t max[TT_ALLOC_MEM_COUNT])
{
	char file[8192], line[256], name[64];
	unsigned int t;
	FILE *f;

	for (t = 0; t < TT_ALLOC_MEM_COUNT; t++)
		max[t] = UINT64_MAX;
	if (!path || !cgroup_root())
		return;
	snprintf(file, sizeof(file), "%s%s/dmem.max", cg_root, strcmp(path, "/") ? path : "");
	f = fopen(file, "re");
	while (f && fgets(line, sizeof(line), f)) {
		char *sp = strchr(line, ' ');

		if (!sp)
			continue;
		*sp++ = 0;
		for (t = 0; t < TT_ALLOC_MEM_COUNT; t++) {
			snprintf(name, sizeof(name), "tt_alloc/%" PRIu32 "/%s", device,
				 tt_alloc_mem_type_name(t));
			if (!strcmp(line, name) && *sp >= '0' && *sp <= '9')
				max[t] = strtoull(sp, NULL, 10);
		}
	}
	if (f)
		fclose(f);
}

/* Is @path @tree or inside it? Both relative to the root, "/" the root. */
int cgroup_in(const char *path, const char *tree)
{
	size_t n = strlen(tree);

	while (n > 1 && tree[n - 1] == '/')
		n--;
	if (n == 1 && tree[0] == '/')
		return path != NULL;
	return path && !strncmp(path, tree, n) && (!path[n] || path[n] == '/');
}

static int all_hex(const char *s, size_t n)
{
	return strspn(s, "0123456789abcdef") >= n;
}

/*
 * What the path alone says of a Kubernetes pod and a container: the pod's
 * uid (from kubepods-...-pod<uid with '_'>.slice, or cgroupfs's
 * pod<uid>) and the container runtime's id cut to 12 digits (from the last
 * component: docker-, libpod-, cri-containerd-, crio-<64 hex>.scope or a
 * bare 64-digit id). Empty strings when it says nothing.
 */
void cgroup_k8s(const char *path, char *pod, size_t podlen, char *ctr, size_t ctrlen)
{
	const char *comp, *next, *p, *dot;
	size_t n, i;

	*pod = *ctr = 0;
	for (comp = path; comp && *comp; comp = next) {
		while (*comp == '/')
			comp++;
		next = strchr(comp, '/');
		n = next ? (size_t)(next - comp) : strlen(comp);
		/* the container: a 64-digit id after the last '-' of the last component */
		if (!next) {
			p = memrchr(comp, '-', n);
			p = p ? p + 1 : comp;
			if ((size_t)(comp + n - p) >= 64 && all_hex(p, 64) &&
			    (comp + n == p + 64 || !strcmp(p + 64, ".scope")))
				snprintf(ctr, ctrlen, "%.12s", p);
		}
		p = !strncmp(comp, "pod", 3) ? comp : memmem(comp, n, "-pod", 4);
		if (!p)
			continue;
		p += *p == '-' ? 4 : 3;
		dot = memmem(p, (size_t)(comp + n - p), ".slice", 6);
		if ((dot ? (size_t)(dot - p) : (size_t)(comp + n - p)) != 36)
			continue;
		snprintf(pod, podlen, "%.36s", p);
		for (i = 0; pod[i]; i++)
			if (pod[i] == '_')
				pod[i] = '-';
	}
}

/*
 * A short, recognisable name for a cgroup path, as the CGROUP column shows
 * it: a container's id shortened to 12 digits as "docker ps" does
 * (docker-ID.scope, libpod-ID.scope, cri-containerd-ID.scope, crio-ID.scope,
 * or a bare ID of the cgroupfs driver), a Kubernetes pod slice as
 * "pod:UID", else the last component (foo.service, user@1000.service).
 */
const char *cgroup_short(const char *path, uint64_t id, char *buf, size_t len)
{
	char pod[40], ctr[16];
	const char *last;

	if (!path) {
		if (!id)
			return "-";
		snprintf(buf, len, "#%" PRIu64, id);
		return buf;
	}
	if (!strcmp(path, "/"))
		return "/";
	last = strrchr(path, '/');
	last = last ? last + 1 : path;
	cgroup_k8s(path, pod, sizeof(pod), ctr, sizeof(ctr));
	if (*ctr)
		snprintf(buf, len, "%s", ctr);
	else if (*pod && strstr(last, "pod"))
		snprintf(buf, len, "pod:%s", pod);
	else
		snprintf(buf, len, "%s", last);
	return buf;
}
