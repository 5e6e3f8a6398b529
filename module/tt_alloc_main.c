// SPDX-License-Identifier: GPL-2.0
/*
 * tt_alloc: the module. Its parameters, the instance (the misc device, the
 * tracking core, the periodic sweep, debugfs) and the file operations of
 * /dev/tt_alloc; the ioctls are in tt_alloc_ioctl.c.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#include "tt_alloc.h"

static unsigned int devices = 8;
module_param(devices, uint, 0444);
MODULE_PARM_DESC(devices, "Number of devices tracked (1..64, default 8)");

static char *arch;
module_param(arch, charp, 0444);
MODULE_PARM_DESC(arch, "Comma list of device architectures (wormhole_b0, blackhole); sets default capacities");

static char *chips;
module_param(chips, charp, 0444);
MODULE_PARM_DESC(chips, "Comma list of the chip each device stands for, <pci-bus-id>/<index-on-card>");

/**
 * struct tt_alloc_dev - the module's one instance
 * @misc: /dev/tt_alloc; open() finds the instance from it (container_of)
 * @core: the tracking core
 * @sweep: the periodic sweep of exited recorders, on @wq
 * @wq: an unbound workqueue, as the sweep may reclaim a big table and a
 *	per-CPU worker would hold up the other work items of its CPU; our
 *	own because the system's is system_unbound_wq up to 6.16 and
 *	system_dfl_wq from 6.17, where 7.x warns about the old name
 * @debugfs: the debugfs directory
 */
struct tt_alloc_dev {
	struct miscdevice misc;
	struct tt_core *core;
	struct delayed_work sweep;
	struct workqueue_struct *wq;
	struct dentry *debugfs;
};

/*
 * The instance, for the one place that cannot reach it otherwise: the
 * sweep_interval_ms parameter, which re-arms its sweep. Set and cleared
 * under kernel_param_lock(), which the parameter's set() runs under.
 */
static struct tt_alloc_dev *tt_param_dev;

/* The instance: set once loaded, for release() and the module's exit. */
static struct tt_alloc_dev *tt_alloc_dev;

/*
 * param_set_uint_minmax() with a WRITE_ONCE(): the limits are read
 * locklessly (READ_ONCE()) by every ALLOC while root may write them.
 */
static int tt_param_set_uint(const char *val, const struct kernel_param *kp,
			     unsigned int min, unsigned int max)
{
	unsigned int v;
	int ret;

	ret = kstrtouint(val, 0, &v);
	if (ret)
		return ret;
	if (v < min || v > max)
		return -EINVAL;
	WRITE_ONCE(*(unsigned int *)kp->arg, v);
	return 0;
}

static unsigned int sweep_interval_ms = 5000;
static int tt_set_sweep_interval(const char *val, const struct kernel_param *kp)
{
	int ret = tt_param_set_uint(val, kp, 1, 3600 * 1000);

	/* A shorter interval must not wait for a sweep armed with the old one. */
	if (!ret && tt_param_dev)
		mod_delayed_work(tt_param_dev->wq, &tt_param_dev->sweep,
				 msecs_to_jiffies(sweep_interval_ms));
	return ret;
}

static const struct kernel_param_ops tt_sweep_interval_ops = {
	.set = tt_set_sweep_interval,
	.get = param_get_uint,
};
module_param_cb(sweep_interval_ms, &tt_sweep_interval_ops, &sweep_interval_ms, 0644);
MODULE_PARM_DESC(sweep_interval_ms, "Period of the sweep of exited recorders, ms (1..3600000, default 5000)");

static struct tt_limits tt_limits = {
	.max_entries = 1048576,
	.max_user = 4194304,
	.max_bytes = ATOMIC64_INIT(BIT_ULL(44)),
};

static int tt_set_max_entries(const char *val, const struct kernel_param *kp)
{
	return tt_param_set_uint(val, kp, 1, TT_ALLOC_MAX_ENTRIES_LIMIT);
}

static const struct kernel_param_ops tt_max_entries_ops = {
	.set = tt_set_max_entries,
	.get = param_get_uint,
};
module_param_cb(max_allocations_per_file, &tt_max_entries_ops,
		&tt_limits.max_entries, 0644);
MODULE_PARM_DESC(max_allocations_per_file, "Entries, and references other processes add to them, one open file may hold (1..16777216, default 1048576)");

/*
 * Four files at the default per-file cap: a runtime uses one file per
 * process, a user rarely runs more than a few at their peak, and the
 * kernel memory one user can pin stays a few hundred MiB.
 */
static int tt_set_max_user(const char *val, const struct kernel_param *kp)
{
	return tt_param_set_uint(val, kp, 1, TT_ALLOC_MAX_USER_LIMIT);
}

static const struct kernel_param_ops tt_max_user_ops = {
	.set = tt_set_max_user,
	.get = param_get_uint,
};
module_param_cb(max_allocations_per_user, &tt_max_user_ops,
		&tt_limits.max_user, 0644);
MODULE_PARM_DESC(max_allocations_per_user, "Entries and references one user (real uid) may hold, all files together (1..268435456, default 4194304)");

static int tt_set_max_bytes(const char *val, const struct kernel_param *kp)
{
	u64 v;
	int ret;

	ret = kstrtou64(val, 0, &v);
	if (ret)
		return ret;
	/* Up to 2^62: a file's u64 byte totals can then never wrap. */
	if (!v || v > TT_ALLOC_MAX_BYTES_LIMIT)
		return -EINVAL;
	atomic64_set(kp->arg, v);
	return 0;
}

static int tt_get_max_bytes(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%llu\n", (u64)atomic64_read(kp->arg));
}

static const struct kernel_param_ops tt_max_bytes_ops = {
	.set = tt_set_max_bytes,
	.get = tt_get_max_bytes,
};
module_param_cb(max_bytes_per_file, &tt_max_bytes_ops, &tt_limits.max_bytes, 0644);
MODULE_PARM_DESC(max_bytes_per_file, "Bytes one open file may hold, all devices and types (1..2^62, default 2^44 = 16 TiB)");

static int tt_set_enforce(const char *val, const struct kernel_param *kp)
{
	bool v;
	int ret;

	/* param_set_bool()'s parsing; a plain store would race with readers. */
	ret = kstrtobool(val ?: "1", &v);
	if (ret)
		return ret;
	WRITE_ONCE(*(bool *)kp->arg, v);
	return 0;
}

static const struct kernel_param_ops tt_enforce_ops = {
	.flags = KERNEL_PARAM_OPS_FL_NOARG,
	.set = tt_set_enforce,
	.get = param_get_bool,
};
module_param_cb(enforce_capacity, &tt_enforce_ops, &tt_limits.enforce_capacity, 0644);
MODULE_PARM_DESC(enforce_capacity, "Refuse allocations beyond a known capacity with ENOSPC (default 0)");

static void tt_sweep_fn(struct work_struct *work)
{
	struct tt_alloc_dev *td = container_of(to_delayed_work(work),
					       struct tt_alloc_dev, sweep);

	tt_core_sweep(td->core);
	/* Re-read every time: the parameter may change at run time. */
	queue_delayed_work(td->wq, &td->sweep,
			   msecs_to_jiffies(READ_ONCE(sweep_interval_ms)));
}

static int tt_open(struct inode *inode, struct file *file)
{
	/* misc_open() left our miscdevice here. */
	struct tt_alloc_dev *td = container_of(file->private_data,
					       struct tt_alloc_dev, misc);
	char comm[TASK_COMM_LEN];
	struct tt_client *c;

	get_task_comm(comm, current);
	c = tt_client_create(td->core, task_tgid(current), comm);
	if (IS_ERR(c))
		return PTR_ERR(c);
	file->private_data = c;
	return 0;
}

/*
 * Every close() of an fd of the file. When it comes from the exit of the
 * last thread of a thread group (exit_files(): the group's live count is
 * already 0), that recorder's references go now rather than at the last
 * fput(), which another holder of the file (a fork child, a reader of
 * /proc/PID/fdinfo, a unix socket) may delay past the parent's waitpid().
 *
 * signal->live is read because nothing else tells "the last thread of the
 * group is closing its files": PF_EXITING is per thread, and a group leader
 * exiting before its other threads (or a thread closing an fd while another
 * exits) must not drop the group's references. exit_files() runs after the
 * live count dropped (do_exit()), so the last thread sees 0 here.
 *
 * Exits that close no fd of the file never get here: a file shared through
 * clone(CLONE_FILES) without CLONE_THREAD, held only by an io_uring
 * fixed-file table, or in flight in a unix socket after its sender closed
 * its fd. tt_pid_exited() finds those recorders dead at the next sweep
 * (Documentation/admin-guide/tt_alloc.rst, "When the exit cannot reclaim").
 */
static int tt_flush(struct file *file, fl_owner_t id)
{
	if ((current->flags & PF_EXITING) && !atomic_read(&current->signal->live))
		tt_client_exit_recorder(file->private_data, task_tgid(current));
	return 0;
}

static int tt_release(struct inode *inode, struct file *file)
{
	tt_client_release_file(file->private_data, tt_alloc_dev->wq);
	return 0;
}

static void tt_show_fdinfo(struct seq_file *m, struct file *file)
{
	tt_client_show_fdinfo(file->private_data, m);
}

static const struct file_operations tt_fops = {
	.owner = THIS_MODULE,
	.open = tt_open,
	.flush = tt_flush,
	.release = tt_release,
	.unlocked_ioctl = tt_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.show_fdinfo = tt_show_fdinfo,
	.llseek = noop_llseek,
};

/* Empty items are left to @set: arch= resets them to unknown, chips= skips them. */
static int __init tt_parse_list(struct tt_core *core, const char *param,
				const char *value,
				int (*set)(struct tt_device *d, const char *name),
				const char *expect)
{
	char *list, *cur, *name;
	unsigned int i = 0;
	int ret = 0;

	if (!value)
		return 0;
	list = kstrdup(value, GFP_KERNEL);
	if (!list)
		return -ENOMEM;
	cur = list;
	while ((name = strsep(&cur, ",")) && !ret) {
		if (i >= core->ndev) {
			pr_err("%s= names %u or more devices, but devices=%u\n",
			       param, i + 1, core->ndev);
			ret = -EINVAL;
		} else if (set(&core->devs[i], name)) {
			pr_err("%s=: '%s' for device %u: %s\n", param, name, i,
			       expect);
			ret = -EINVAL;
		}
		i++;
	}
	kfree(list);
	return ret;
}

static int __init tt_set_chip(struct tt_device *d, const char *name)
{
	return *name ? tt_device_set_chip(d, name) : 0;
}

static int __init tt_alloc_init(void)
{
	struct tt_alloc_dev *td;
	int ret;

	if (!devices || devices > TT_ALLOC_MAX_DEVICES) {
		pr_err("devices=%u is out of range (1..%u)\n", devices,
		       TT_ALLOC_MAX_DEVICES);
		return -EINVAL;
	}
	td = kzalloc(sizeof(*td), GFP_KERNEL);
	if (!td)
		return -ENOMEM;
	td->misc.minor = MISC_DYNAMIC_MINOR;
	td->misc.name = "tt_alloc";
	td->misc.fops = &tt_fops;
	/* Recording only affects the caller's own accounting; udev may narrow it. */
	td->misc.mode = 0666;
	INIT_DELAYED_WORK(&td->sweep, tt_sweep_fn);

	td->wq = alloc_workqueue("tt_alloc", WQ_UNBOUND, 0);
	if (!td->wq) {
		ret = -ENOMEM;
		goto err_free;
	}
	ret = tt_core_init_cache();
	if (ret)
		goto err_wq;
	td->core = tt_core_create(devices, &tt_limits);
	if (IS_ERR(td->core)) {
		ret = PTR_ERR(td->core);
		goto err_cache;
	}
	ret = tt_parse_list(td->core, "arch", arch, tt_device_set_arch,
			    "unknown architecture (known: wormhole_b0, blackhole)");
	if (ret)
		goto err_core;
	ret = tt_parse_list(td->core, "chips", chips, tt_set_chip,
			    "not <pci-bus-id>/<index-on-card> of at most 31 characters");
	if (ret)
		goto err_core;
	ret = tt_core_dmem_register(td->core);
	if (ret) {
		pr_err("cannot register the dmem cgroup regions: %d\n", ret);
		goto err_core;
	}
	ret = tt_sysfs_init(td->core);
	if (ret)
		goto err_dmem;
	ret = misc_register(&td->misc);
	if (ret)
		goto err_sysfs;
	td->debugfs = tt_debugfs_init(td->core);

	kernel_param_lock(THIS_MODULE);
	tt_param_dev = td;
	queue_delayed_work(td->wq, &td->sweep,
			   msecs_to_jiffies(sweep_interval_ms));
	kernel_param_unlock(THIS_MODULE);
	tt_alloc_dev = td;
	pr_info("tracking %u devices (version %s), %u dmem cgroup regions\n",
		devices, TT_ALLOC_VERSION, td->core->nr_dmem);
	return 0;

err_sysfs:
	tt_sysfs_exit(td->core);
err_dmem:
	tt_core_dmem_unregister(td->core);
err_core:
	tt_core_destroy(td->core);
err_cache:
	tt_core_exit_cache();
err_wq:
	destroy_workqueue(td->wq);
err_free:
	kfree(td);
	return ret;
}

static void __exit tt_alloc_exit(void)
{
	struct tt_alloc_dev *td = tt_alloc_dev;

	/*
	 * No file is open: the device holds a module reference per file.
	 * The parameter files outlive this function, so stop them re-arming
	 * the sweep before cancelling it.
	 */
	kernel_param_lock(THIS_MODULE);
	tt_param_dev = NULL;
	kernel_param_unlock(THIS_MODULE);
	cancel_delayed_work_sync(&td->sweep);
	/* The reclaims release() handed to @wq, which no file reference waits for. */
	drain_workqueue(td->wq);
	tt_debugfs_exit(td->debugfs);
	misc_deregister(&td->misc);
	tt_sysfs_exit(td->core);
	tt_core_dmem_unregister(td->core);
	tt_core_destroy(td->core);
	tt_core_exit_cache();
	destroy_workqueue(td->wq);
	kfree(td);
}

module_init(tt_alloc_init);
module_exit(tt_alloc_exit);

MODULE_DESCRIPTION("Per-process tracking of Tenstorrent device-memory allocations");
MODULE_LICENSE("GPL");
MODULE_VERSION(TT_ALLOC_VERSION);
