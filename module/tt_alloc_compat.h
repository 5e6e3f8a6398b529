/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tt_alloc_compat.h - every difference between the kernel versions
 * tt_alloc builds on (6.1 to 7.x), in one place. Each shim names the
 * version that needs it and why; the rest of the driver uses what is
 * defined here instead of testing versions itself.
 */
#ifndef _TT_ALLOC_COMPAT_H
#define _TT_ALLOC_COMPAT_H

#include <linux/module.h>
#include <linux/slab.h>

/*
 * TT_MODULE_IMPORT_KUNIT_NS() - import the namespace of the symbols that
 * EXPORT_SYMBOL_IF_KUNIT() exports.
 *
 * 6.13 made symbol namespaces string literals (commit cdd30ebb1b9f,
 * "module: Convert symbol namespace to string literal"):
 * MODULE_IMPORT_NS() takes "EXPORTED_FOR_KUNIT_TESTING" from then on, the
 * bare identifier (which it stringified) before. Both expand to the same
 * modinfo entry, written here directly so that one line fits every kernel
 * without a version test.
 */
#define TT_MODULE_IMPORT_KUNIT_NS() \
	MODULE_INFO(import_ns, "EXPORTED_FOR_KUNIT_TESTING")

/*
 * tt_cache_alloc_bulk() - allocate @n objects of @s into @p, all or none.
 *
 * kmem_cache_alloc_bulk() returns int up to 6.18 (the number allocated,
 * which SLUB makes @n or 0) and bool in 7.x (7.3: true when all were
 * allocated). Storing the 7.x result as a count would lose @n - 1
 * objects; nonzero means "all" in both.
 */
#define tt_cache_alloc_bulk(s, gfp, n, p) \
	(kmem_cache_alloc_bulk(s, gfp, n, p) != 0)

/*
 * The cgroup dmem controller (6.14, CONFIG_CGROUP_DMEM), behind four
 * wrappers that are no-ops without it, so that the driver needs no #if.
 *
 * dmem_cgroup_register_region() took the region's size (6.14 to 6.18 at
 * least) and later a struct dmem_cgroup_init (7.3 here), which adds an
 * optional reclaim callback we do not need. Which one a kernel has is
 * read from its header by Kbuild (TT_DMEM_CGROUP_INIT), not guessed from
 * a version: the first release with the struct is not one we test.
 *
 * A refused charge (dmem_cgroup_try_charge()'s -EAGAIN: a dmem.max of
 * the cgroup or an ancestor) is EDQUOT, a limit set by an administrator;
 * ENOSPC stays the meaning of enforce_capacity.
 */
struct dmem_cgroup_region;
struct dmem_cgroup_pool_state;

#if IS_ENABLED(CONFIG_CGROUP_DMEM)
#include <linux/cgroup_dmem.h>

#define TT_HAVE_DMEM	1

static inline struct dmem_cgroup_region *
tt_dmem_register(u64 size, unsigned int device, const char *type)
{
#ifdef TT_DMEM_CGROUP_INIT
	struct dmem_cgroup_init init = { .size = size };

	return dmem_cgroup_register_region(&init, "tt_alloc/%u/%s", device, type);
#else
	return dmem_cgroup_register_region(size, "tt_alloc/%u/%s", device, type);
#endif
}

static inline void tt_dmem_unregister(struct dmem_cgroup_region *region)
{
	dmem_cgroup_unregister_region(region);
}

static inline int tt_dmem_charge(struct dmem_cgroup_region *region, u64 size,
				 struct dmem_cgroup_pool_state **pool)
{
	int ret;

	*pool = NULL;
	if (!region)
		return 0;
	ret = dmem_cgroup_try_charge(region, size, pool, NULL);
	return ret == -EAGAIN ? -EDQUOT : ret;
}

static inline void tt_dmem_uncharge(struct dmem_cgroup_pool_state *pool, u64 size)
{
	dmem_cgroup_uncharge(pool, size);
}
#else
#define TT_HAVE_DMEM	0

static inline struct dmem_cgroup_region *
tt_dmem_register(u64 size, unsigned int device, const char *type)
{
	return NULL;
}

static inline void tt_dmem_unregister(struct dmem_cgroup_region *region)
{
}

static inline int tt_dmem_charge(struct dmem_cgroup_region *region, u64 size,
				 struct dmem_cgroup_pool_state **pool)
{
	*pool = NULL;
	return 0;
}

static inline void tt_dmem_uncharge(struct dmem_cgroup_pool_state *pool, u64 size)
{
}
#endif

#endif /* _TT_ALLOC_COMPAT_H */
