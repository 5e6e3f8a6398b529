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

#endif /* _TT_ALLOC_COMPAT_H */
