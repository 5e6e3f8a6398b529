// SPDX-License-Identifier: GPL-2.0
/*
 * tt_alloc sysfs: /sys/class/tt_alloc/device<N>/, one value per file.
 *
 * Each memory type is a named attribute group (a subdirectory) whose
 * attributes carry the type and counter they show, so one show() serves
 * all 35 of them.
 */
#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/kstrtox.h>
#include <linux/sysfs.h>

#include "tt_alloc.h"

enum tt_field { TT_USED, TT_ENTRIES, TT_PEAK, TT_CAPACITY, TT_DMEM };

struct tt_type_attr {
	struct device_attribute attr;
	unsigned int type;
	enum tt_field field;
};

#define to_tt_type_attr(a) container_of(a, struct tt_type_attr, attr)

static ssize_t tt_counter_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct tt_type_attr *ta = to_tt_type_attr(attr);
	struct tt_device *d = dev_get_drvdata(dev);
	struct tt_counter_snap snap;
	u64 v;

	/* The dmem cgroup region charged for this type, an empty line if none. */
	if (ta->field == TT_DMEM)
		return d->dmem[ta->type] ?
		       sysfs_emit(buf, "tt_alloc/%u/%s\n", d->index,
				  tt_mem_names[ta->type]) :
		       sysfs_emit(buf, "\n");
	tt_device_read(d, ta->type, &snap);
	switch (ta->field) {
	case TT_USED:
		v = snap.used;
		break;
	case TT_ENTRIES:
		v = snap.entries;
		break;
	case TT_PEAK:
		v = snap.peak;
		break;
	default:
		v = snap.capacity;
		break;
	}
	return sysfs_emit(buf, "%llu\n", v);
}

/* Only "0" is accepted: it restarts the peak at the current use. */
static ssize_t tt_peak_store(struct device *dev, struct device_attribute *attr,
			     const char *buf, size_t count)
{
	u64 val;
	int ret;

	ret = kstrtou64(buf, 0, &val);
	if (ret)
		return ret;
	if (val)
		return -EINVAL;
	tt_device_reset_peak(dev_get_drvdata(dev), to_tt_type_attr(attr)->type);
	return count;
}

static ssize_t tt_capacity_store(struct device *dev,
				 struct device_attribute *attr,
				 const char *buf, size_t count)
{
	struct tt_device *d = dev_get_drvdata(dev);
	u64 val;
	int ret;

	ret = kstrtou64(buf, 0, &val);
	if (ret)
		return ret;
	atomic64_set(&d->mem[to_tt_type_attr(attr)->type].capacity, val);
	return count;
}

static ssize_t system_bytes_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	struct tt_device *d = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%llu\n", tt_wide_read(d, &d->system_bytes));
}
static DEVICE_ATTR_RO(system_bytes);

#define TT_TYPE_ATTR(_type, _name, _field, _mode, _store)		\
	static struct tt_type_attr tt_attr_##_type##_##_name = {	\
		.attr = __ATTR(_name, _mode, tt_counter_show, _store),	\
		.type = TT_ALLOC_MEM_##_type,				\
		.field = _field,					\
	}

/* capacity_bytes and peak_bytes are writable by root only (mode 0644). */
#define TT_TYPE_GROUP(type, _dir, ...)					\
	TT_TYPE_ATTR(type, used_bytes, TT_USED, 0444, NULL);		\
	TT_TYPE_ATTR(type, allocations, TT_ENTRIES, 0444, NULL);	\
	TT_TYPE_ATTR(type, peak_bytes, TT_PEAK, 0644, tt_peak_store);	\
	TT_TYPE_ATTR(type, capacity_bytes, TT_CAPACITY, 0644,		\
		     tt_capacity_store);				\
	TT_TYPE_ATTR(type, dmem_region, TT_DMEM, 0444, NULL);		\
	static struct attribute *tt_##type##_attrs[] = {		\
		&tt_attr_##type##_used_bytes.attr.attr,			\
		&tt_attr_##type##_allocations.attr.attr,		\
		&tt_attr_##type##_peak_bytes.attr.attr,			\
		&tt_attr_##type##_capacity_bytes.attr.attr,		\
		&tt_attr_##type##_dmem_region.attr.attr,		\
		##__VA_ARGS__,						\
		NULL							\
	};								\
	static const struct attribute_group tt_##type##_group = {	\
		.name = _dir,						\
		.attrs = tt_##type##_attrs,				\
	}

TT_TYPE_GROUP(DRAM, "dram");
TT_TYPE_GROUP(L1, "l1");
TT_TYPE_GROUP(SYSTEM, "system");
TT_TYPE_GROUP(L1_SMALL, "l1_small");
TT_TYPE_GROUP(TRACE, "trace");
TT_TYPE_GROUP(CB, "cb");
TT_TYPE_GROUP(KERNEL, "kernel", &dev_attr_system_bytes.attr);

static ssize_t arch_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	struct tt_device *d = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%s\n", d->arch);
}
static DEVICE_ATTR_RO(arch);

static ssize_t chip_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	struct tt_device *d = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%s\n", d->chip);
}
static DEVICE_ATTR_RO(chip);

static ssize_t clients_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	struct tt_device *d = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%d\n", atomic_read(&d->clients));
}
static DEVICE_ATTR_RO(clients);

static ssize_t reclaimed_bytes_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	struct tt_device *d = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%llu\n", tt_wide_read(d, &d->reclaimed_bytes));
}
static DEVICE_ATTR_RO(reclaimed_bytes);

static ssize_t reclaimed_allocations_show(struct device *dev,
					  struct device_attribute *attr,
					  char *buf)
{
	struct tt_device *d = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%llu\n",
			  (u64)atomic64_read(&d->reclaimed_entries));
}
static DEVICE_ATTR_RO(reclaimed_allocations);

static struct attribute *tt_device_attrs[] = {
	&dev_attr_arch.attr,
	&dev_attr_chip.attr,
	&dev_attr_clients.attr,
	&dev_attr_reclaimed_bytes.attr,
	&dev_attr_reclaimed_allocations.attr,
	NULL
};

static const struct attribute_group tt_device_group = {
	.attrs = tt_device_attrs,
};

static const struct attribute_group *tt_device_groups[] = {
	&tt_device_group,
	&tt_DRAM_group,
	&tt_L1_group,
	&tt_SYSTEM_group,
	&tt_L1_SMALL_group,
	&tt_TRACE_group,
	&tt_CB_group,
	&tt_KERNEL_group,
	NULL
};

static struct class tt_class = {
	.name = "tt_alloc",
	.dev_groups = tt_device_groups,
};

static void tt_sysfs_remove(struct tt_core *core, unsigned int n)
{
	while (n--)
		device_unregister(core->devs[n].sysfs);
}

/**
 * tt_sysfs_init() - create /sys/class/tt_alloc/device<N> for every device
 * @core: the instance
 *
 * Return: 0 or a negative errno.
 */
int tt_sysfs_init(struct tt_core *core)
{
	struct device *dev;
	unsigned int i;
	int ret;

	ret = class_register(&tt_class);
	if (ret)
		return ret;
	for (i = 0; i < core->ndev; i++) {
		/* Counters only: no char device behind them, so no devt. */
		dev = device_create(&tt_class, NULL, 0, &core->devs[i],
				    "device%u", i);
		if (IS_ERR(dev)) {
			tt_sysfs_remove(core, i);
			class_unregister(&tt_class);
			return PTR_ERR(dev);
		}
		core->devs[i].sysfs = dev;
	}
	return 0;
}

/**
 * tt_sysfs_exit() - remove what tt_sysfs_init() created
 * @core: the instance
 */
void tt_sysfs_exit(struct tt_core *core)
{
	tt_sysfs_remove(core, core->ndev);
	class_unregister(&tt_class);
}
