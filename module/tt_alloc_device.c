// SPDX-License-Identifier: GPL-2.0
/*
 * tt_alloc device counters: what every client together holds on each
 * device and memory type, the capacities, and the instance that owns them.
 */
#include <linux/ctype.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>

#include "tt_alloc_priv.h"

#include <kunit/visibility.h>

const char * const tt_mem_names[TT_ALLOC_MEM_COUNT] = TT_ALLOC_MEM_NAMES;
EXPORT_SYMBOL_IF_KUNIT(tt_mem_names);

/* ---- per-device counters ---- */

static void tt_wide_add(struct tt_wide *w, u64 v)
{
	w->lo += v;
	if (w->lo < v)
		w->hi++;
}

static void tt_wide_sub(struct tt_wide *w, u64 v)
{
	if (w->lo < v)
		w->hi--;
	w->lo -= v;
}

static bool tt_wide_gt(const struct tt_wide *a, const struct tt_wide *b)
{
	return a->hi != b->hi ? a->hi > b->hi : a->lo > b->lo;
}

static u64 tt_wide_sat(const struct tt_wide *w)
{
	return w->hi ? U64_MAX : w->lo;
}

/**
 * tt_wide_read() - read a byte sum of a device, saturated to U64_MAX
 * @d: the device
 * @w: one of its &struct tt_wide counters
 *
 * Return: the value, or U64_MAX if it does not fit.
 */
u64 tt_wide_read(struct tt_device *d, const struct tt_wide *w)
{
	u64 v;

	spin_lock(&d->lock);
	v = tt_wide_sat(w);
	spin_unlock(&d->lock);
	return v;
}
EXPORT_SYMBOL_IF_KUNIT(tt_wide_read);

/*
 * Charge @size bytes of @type to device @d. The capacity check sees the
 * value the update replaces, so two racing clients cannot both squeeze
 * under the capacity; nothing here can overflow (see struct tt_wide), so
 * the only error is the shared, documented, ENOSPC.
 */
int tt_charge(struct tt_core *core, struct tt_device *d, unsigned int type,
	      unsigned int kind, u64 size)
{
	struct tt_counter *ctr = &d->mem[type];
	bool enforce = READ_ONCE(core->limits->enforce_capacity);
	u64 cap = atomic64_read(&ctr->capacity);
	struct tt_wide new;

	spin_lock(&d->lock);
	new = ctr->used;
	tt_wide_add(&new, size);
	if (enforce && cap && (new.hi || new.lo > cap)) {
		spin_unlock(&d->lock);
		return -ENOSPC;
	}
	ctr->used = new;
	if (tt_wide_gt(&new, &ctr->peak))
		ctr->peak = new;
	if (tt_is_system_kernel(type, kind))
		tt_wide_add(&d->system_bytes, size);
	ctr->entries++;
	spin_unlock(&d->lock);
	return 0;
}

void tt_uncharge(struct tt_device *d, unsigned int type, unsigned int kind,
		 u64 size, bool reclaimed)
{
	struct tt_counter *ctr = &d->mem[type];

	spin_lock(&d->lock);
	tt_wide_sub(&ctr->used, size);
	if (tt_is_system_kernel(type, kind))
		tt_wide_sub(&d->system_bytes, size);
	if (reclaimed)
		tt_wide_add(&d->reclaimed_bytes, size);
	ctr->entries--;
	spin_unlock(&d->lock);
	if (reclaimed)
		atomic64_inc(&d->reclaimed_entries);
}

/**
 * tt_device_apply() - apply a BATCH step's changes of one memory type
 * @d: the device
 * @type: memory type (not the kernels: system bytes are charged per op)
 * @bytes: net change of the used bytes
 * @max_prefix: the highest running sum of the step's changes, >= 0: the
 *	peak the step reached above the use it started from
 * @entries: net change of the entries
 *
 * One update under the leaf lock for up to %TT_BULK ops, as if they were
 * applied together now: the use and the peak stay consistent for readers,
 * and the device totals equal the sum of the files' at every step
 * boundary. Only for types without an enforced capacity (the caller
 * charges those per op, so that the check sees every change).
 */
void tt_device_apply(struct tt_device *d, unsigned int type, s64 bytes,
		     u64 max_prefix, s64 entries)
{
	struct tt_counter *ctr = &d->mem[type];
	struct tt_wide top;

	spin_lock(&d->lock);
	top = ctr->used;
	tt_wide_add(&top, max_prefix);
	if (tt_wide_gt(&top, &ctr->peak))
		ctr->peak = top;
	if (bytes >= 0)
		tt_wide_add(&ctr->used, bytes);
	else
		tt_wide_sub(&ctr->used, -(u64)bytes);
	ctr->entries += entries;
	spin_unlock(&d->lock);
}

/**
 * tt_device_reset_peak() - restart peak tracking at the current use
 * @d: the device
 * @type: memory type
 */
void tt_device_reset_peak(struct tt_device *d, unsigned int type)
{
	struct tt_counter *ctr = &d->mem[type];

	spin_lock(&d->lock);
	ctr->peak = ctr->used;
	spin_unlock(&d->lock);
}
EXPORT_SYMBOL_IF_KUNIT(tt_device_reset_peak);

/**
 * tt_device_read() - one consistent reading of a device's memory type
 * @d: the device
 * @type: memory type
 * @snap: out: the values
 *
 * The use and the peak are read under the same lock that updates both,
 * so the peak is never below the use.
 */
void tt_device_read(struct tt_device *d, unsigned int type,
		    struct tt_counter_snap *snap)
{
	struct tt_counter *ctr = &d->mem[type];

	spin_lock(&d->lock);
	snap->used = tt_wide_sat(&ctr->used);
	snap->peak = tt_wide_sat(&ctr->peak);
	snap->entries = ctr->entries;
	spin_unlock(&d->lock);
	snap->capacity = atomic64_read(&ctr->capacity);
}
EXPORT_SYMBOL_IF_KUNIT(tt_device_read);

struct tt_arch_preset {
	const char *name;
	u64 dram;
	u64 l1;
};

/* Per-chip sizes published by Tenstorrent (n150 Wormhole, p150 Blackhole). */
static const struct tt_arch_preset tt_arch_presets[] = {
	{ "wormhole_b0", 12ULL << 30, 72ULL * 1499136 },
	{ "blackhole", 32ULL << 30, 140ULL * 1572864 },
};

/**
 * tt_device_set_arch() - name a device's architecture, set its capacities
 * @d: the device
 * @name: "wormhole_b0", "blackhole", or "unknown"/"" for no preset
 *
 * Return: 0, or -EINVAL for a name without a preset.
 */
int tt_device_set_arch(struct tt_device *d, const char *name)
{
	unsigned int i, t;

	if (!*name || !strcmp(name, "unknown")) {
		d->arch = "unknown";
		for (t = 0; t < TT_ALLOC_MEM_COUNT; t++)
			atomic64_set(&d->mem[t].capacity, 0);
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(tt_arch_presets); i++) {
		const struct tt_arch_preset *p = &tt_arch_presets[i];

		if (strcmp(name, p->name))
			continue;
		d->arch = p->name;
		atomic64_set(&d->mem[TT_ALLOC_MEM_DRAM].capacity, p->dram);
		atomic64_set(&d->mem[TT_ALLOC_MEM_L1].capacity, p->l1);
		return 0;
	}
	return -EINVAL;
}
EXPORT_SYMBOL_IF_KUNIT(tt_device_set_arch);

/**
 * tt_device_set_chip() - name the chip a device stands for
 * @d: the device
 * @name: "<pci-bus-id>/<index-on-card>", e.g. "0000:01:00.0/1"
 *
 * Only the shape is checked: the chip may be absent when the module loads
 * (tt-kmd not loaded yet, a card since removed), and the name is for people
 * and tools matching it against tt-kmd's devices.
 *
 * Return: 0, or -EINVAL for a name too long or not of that shape.
 */
int tt_device_set_chip(struct tt_device *d, const char *name)
{
	const char *slash = strchr(name, '/');
	unsigned int index;
	const char *c;

	if (!slash || slash == name || strlen(name) >= sizeof(d->chip))
		return -EINVAL;
	for (c = name; c < slash; c++)
		if (!isxdigit(*c) && *c != ':' && *c != '.')
			return -EINVAL;
	if (kstrtouint(slash + 1, 10, &index))
		return -EINVAL;
	strscpy(d->chip, name, sizeof(d->chip));
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(tt_device_set_chip);

/**
 * tt_core_create() - a tracking instance with no clients
 * @ndev: number of devices, 1..%TT_ALLOC_MAX_DEVICES
 * @limits: tunables; must outlive the instance
 *
 * Return: the instance, or an ERR_PTR().
 */
struct tt_core *tt_core_create(unsigned int ndev, const struct tt_limits *limits)
{
	struct tt_core *core;
	unsigned int i;

	if (!ndev || ndev > TT_ALLOC_MAX_DEVICES)
		return ERR_PTR(-EINVAL);
	core = kzalloc(struct_size(core, devs, ndev), GFP_KERNEL);
	if (!core)
		return ERR_PTR(-ENOMEM);
	core->ndev = ndev;
	core->limits = limits;
	mutex_init(&core->clients_lock);
	INIT_LIST_HEAD(&core->clients);
	mutex_init(&core->users_lock);
	xa_init(&core->users);
	for (i = 0; i < ndev; i++) {
		spin_lock_init(&core->devs[i].lock);
		core->devs[i].arch = "unknown";
		core->devs[i].index = i;
	}
	return core;
}
EXPORT_SYMBOL_IF_KUNIT(tt_core_create);

/**
 * tt_core_dmem_register() - a dmem cgroup region per known capacity
 * @core: the instance, its capacities set (arch=), no entry recorded yet
 *
 * One region "tt_alloc/<device>/<type>" of the capacity's size for each
 * device and memory type whose capacity is known now; a capacity set
 * later through sysfs gets none (a region's size is fixed). Without
 * %CONFIG_CGROUP_DMEM there are none, and nothing is charged.
 *
 * Return: 0, or a negative errno with no region left registered.
 */
int tt_core_dmem_register(struct tt_core *core)
{
	struct dmem_cgroup_region *r;
	unsigned int i, t;
	u64 cap;

	for (i = 0; i < core->ndev; i++) {
		for (t = 0; t < TT_ALLOC_MEM_COUNT; t++) {
			cap = atomic64_read(&core->devs[i].mem[t].capacity);
			if (!cap)
				continue;
			r = tt_dmem_register(cap, i, tt_mem_names[t]);
			if (IS_ERR(r)) {
				tt_core_dmem_unregister(core);
				return PTR_ERR(r);
			}
			core->devs[i].dmem[t] = r;
			core->nr_dmem += !!r;
		}
	}
	return 0;
}

/**
 * tt_core_dmem_unregister() - unregister the regions, nothing charged
 * @core: the instance, its clients all gone
 */
void tt_core_dmem_unregister(struct tt_core *core)
{
	unsigned int i, t;

	for (i = 0; i < core->ndev; i++)
		for (t = 0; t < TT_ALLOC_MEM_COUNT; t++) {
			tt_dmem_unregister(core->devs[i].dmem[t]);
			core->devs[i].dmem[t] = NULL;
		}
	core->nr_dmem = 0;
}

/**
 * tt_core_destroy() - free an instance whose clients are all gone
 * @core: the instance
 */
void tt_core_destroy(struct tt_core *core)
{
	/* The clients' RCU callbacks are this module's code. */
	rcu_barrier();
	WARN_ON(!list_empty(&core->clients));
	tt_users_prune(core, true);
	WARN_ON(!xa_empty(&core->users));
	xa_destroy(&core->users);
	mutex_destroy(&core->users_lock);
	mutex_destroy(&core->clients_lock);
	kfree(core);
}
EXPORT_SYMBOL_IF_KUNIT(tt_core_destroy);
