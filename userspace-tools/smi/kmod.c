// SPDX-License-Identifier: GPL-2.0
/*
 * --load and --unload, through libkmod.
 *
 * libkmod is dlopen()ed by these two only, when they run: as a link-time
 * dependency its libcrypto, libzstd and liblzma were loaded and relocated
 * by every snapshot, for nothing (the snapshot reads /sys/module itself,
 * see read_module()). The prototypes still come from libkmod.h, so a
 * changed signature fails the build.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <libkmod.h>

#include "smi.h"

#define KMOD_SYMS(X) \
	X(new) X(unref) X(module_new_from_path) X(module_new_from_name) \
	X(module_get_initstate) X(module_insert_module) \
	X(module_probe_insert_module) X(module_unref) \
	X(module_remove_module) X(module_get_refcnt)

static struct {
#define X(name) __typeof__(kmod_##name) *name;
	KMOD_SYMS(X)
#undef X
} K;

static const struct {
	const char *name;
	size_t off;
} kmod_syms[] = {
#define X(name) { "kmod_" #name, offsetof(__typeof__(K), name) },
	KMOD_SYMS(X)
#undef X
};

/* Fills K; the library stays open until exit. */
static int kmod_open(void)
{
	void *lib = dlopen("libkmod.so.2", RTLD_NOW | RTLD_LOCAL);
	const char *err;
	size_t i;

	for (i = 0; lib && i < sizeof(kmod_syms) / sizeof(kmod_syms[0]); i++) {
		void *sym = dlsym(lib, kmod_syms[i].name);

		if (!sym)
			break;
		memcpy((char *)&K + kmod_syms[i].off, &sym, sizeof(sym));
	}
	if (lib && i == sizeof(kmod_syms) / sizeof(kmod_syms[0]))
		return 0;
	err = dlerror();
	fprintf(stderr, "%s: --load and --unload need libkmod (Debian package libkmod2): %s\n",
		prog, err ? err : "libkmod.so.2");
	if (lib)
		dlclose(lib);
	return -1;
}

/* libkmod's context and tt_alloc's module (the .ko at path, if given) */
static int kmod_module(const char *path, struct kmod_ctx **ctxp, struct kmod_module **modp)
{
	int ret;

	if (kmod_open())
		return -1;
	*ctxp = K.new(NULL, NULL);
	if (!*ctxp) {
		fprintf(stderr, "%s: cannot initialise libkmod\n", prog);
		return -1;
	}
	ret = path ? K.module_new_from_path(*ctxp, path, modp) :
		     K.module_new_from_name(*ctxp, MODNAME, modp);
	if (ret) {
		fprintf(stderr, "%s: cannot find module %s: %s\n", prog, path ? path : MODNAME,
			strerror(-ret));
		K.unref(*ctxp);
		return -1;
	}
	return 0;
}

int kmod_load(const char *devices, const char *arch, const char *path)
{
	struct kmod_ctx *ctx;
	struct kmod_module *mod = NULL;
	char options[512] = "";
	int ret, st;

	if (kmod_module(path, &ctx, &mod))
		return 1;
	if (devices)
		snprintf(options + strlen(options), sizeof(options) - strlen(options),
			 "devices=%s", devices);
	if (arch)
		snprintf(options + strlen(options), sizeof(options) - strlen(options),
			 "%sarch=%s", options[0] ? " " : "", arch);
	st = K.module_get_initstate(mod);
	if (st == KMOD_MODULE_LIVE || st == KMOD_MODULE_COMING) {
		printf("tt_alloc is already loaded%s\n",
		       options[0] ? "; unload it first (--unload) to change its parameters" : "");
		K.module_unref(mod);
		K.unref(ctx);
		return options[0] ? 1 : 0;
	}
	if (path)
		ret = K.module_insert_module(mod, 0, options);
	else
		ret = K.module_probe_insert_module(mod, 0, options, NULL, NULL, NULL);
	if (ret < 0) {
		fprintf(stderr, "%s: loading tt_alloc%s%s failed: %s\n", prog,
			options[0] ? " with " : "", options, strerror(-ret));
		if (ret == -EPERM)
			fprintf(stderr, "%s: loading a module needs root\n", prog);
		ret = 1;
	} else if (ret > 0) {
		fprintf(stderr, "%s: tt_alloc is blacklisted or has no module file (%d)\n", prog, ret);
		ret = 1;
	} else {
		printf("tt_alloc loaded%s%s\n", options[0] ? " with " : "", options);
	}
	K.module_unref(mod);
	K.unref(ctx);
	return ret;
}

int kmod_unload(void)
{
	struct kmod_ctx *ctx;
	struct kmod_module *mod = NULL;
	int ret, st;

	if (kmod_module(NULL, &ctx, &mod))
		return 1;
	st = K.module_get_initstate(mod);
	if (st < 0) {
		fprintf(stderr, "tt_alloc module is not loaded\n");
		ret = 1;
		goto out;
	}
	ret = K.module_remove_module(mod, KMOD_REMOVE_NOWAIT);
	if (ret < 0) {
		fprintf(stderr, "%s: unloading tt_alloc failed: %s\n", prog, strerror(-ret));
		if (ret == -EBUSY || ret == -EAGAIN)
			fprintf(stderr, "%s: tt_alloc is in use (refcount %d): close the programs using /dev/tt_alloc first\n",
				prog, K.module_get_refcnt(mod));
		if (ret == -EPERM)
			fprintf(stderr, "%s: unloading a module needs root\n", prog);
		ret = 1;
	} else {
		printf("tt_alloc unloaded\n");
		ret = 0;
	}
out:
	K.module_unref(mod);
	K.unref(ctx);
	return ret;
}
