// SPDX-License-Identifier: GPL-2.0
/*
 * Harness self-test: a deliberate slab out-of-bounds read on load. The
 * test VM runner must see the KASAN report and fail the run.
 */
#include <linux/module.h>
#include <linux/slab.h>

static int oob_index = 16;
module_param(oob_index, int, 0444);

static int __init tt_kasan_oob_init(void)
{
	volatile char *p = kmalloc(16, GFP_KERNEL);
	char c;

	if (!p)
		return -ENOMEM;
	c = p[oob_index];	/* one past the end: KASAN slab-out-of-bounds */
	pr_info("tt_kasan_oob: read %d past the end\n", c);
	kfree((void *)p);
	return 0;
}

static void __exit tt_kasan_oob_exit(void)
{
}

module_init(tt_kasan_oob_init);
module_exit(tt_kasan_oob_exit);
MODULE_DESCRIPTION("tt_alloc harness self-test: deliberate KASAN report");
MODULE_LICENSE("GPL");
