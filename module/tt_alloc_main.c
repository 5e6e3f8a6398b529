// SPDX-License-Identifier: GPL-2.0
/*
 * tt_alloc: /dev/tt_alloc, the ioctl ABI, fdinfo, debugfs, module
 * parameters and the periodic sweep.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

#include "tt_alloc.h"

/* Ops copied from user memory per step of a batch. */
#define TT_BATCH_CHUNK	128

static unsigned int devices = 8;
module_param(devices, uint, 0444);
MODULE_PARM_DESC(devices, "Number of devices tracked (1..64, default 8)");

static char *arch;
module_param(arch, charp, 0444);
MODULE_PARM_DESC(arch, "Comma list of device architectures (wormhole_b0, blackhole); sets default capacities");

static void tt_sweep_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(tt_sweep_work, tt_sweep_fn);
/* Whether the sweep may be (re)armed; under kernel_param_lock(). */
static bool tt_sweep_armed;

static unsigned int sweep_interval_ms = 5000;
static int tt_set_sweep_interval(const char *val, const struct kernel_param *kp)
{
	int ret = param_set_uint_minmax(val, kp, 1, 3600 * 1000);

	/* A shorter interval must not wait for a sweep armed with the old one. */
	if (!ret && tt_sweep_armed)
		mod_delayed_work(system_wq, &tt_sweep_work,
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
};

static int tt_set_max_entries(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, TT_ALLOC_MAX_ENTRIES_LIMIT);
}

static const struct kernel_param_ops tt_max_entries_ops = {
	.set = tt_set_max_entries,
	.get = param_get_uint,
};
module_param_cb(max_allocations_per_file, &tt_max_entries_ops,
		&tt_limits.max_entries, 0644);
MODULE_PARM_DESC(max_allocations_per_file, "Entries one open file may hold (1..16777216, default 1048576)");

module_param_named(enforce_capacity, tt_limits.enforce_capacity, bool, 0644);
MODULE_PARM_DESC(enforce_capacity, "Refuse allocations beyond a known capacity with ENOSPC (default 0)");

static struct tt_core *tt_core;
static struct dentry *tt_debugfs;

static void tt_sweep_fn(struct work_struct *work)
{
	tt_core_sweep(tt_core);
	/* Re-read every time: the parameter may change at run time. */
	schedule_delayed_work(&tt_sweep_work,
			      msecs_to_jiffies(READ_ONCE(sweep_interval_ms)));
}

static int tt_open(struct inode *inode, struct file *file)
{
	char comm[TASK_COMM_LEN];
	struct tt_client *c;

	get_task_comm(comm, current);
	c = tt_client_create(tt_core, task_tgid(current), comm);
	if (IS_ERR(c))
		return PTR_ERR(c);
	file->private_data = c;
	return 0;
}

static int tt_release(struct inode *inode, struct file *file)
{
	tt_client_destroy(file->private_data);
	return 0;
}

static long tt_ioctl_info(struct tt_client *c, void __user *uarg)
{
	struct tt_alloc_info info = {
		.api_version = TT_ALLOC_API_VERSION,
		.num_devices = c->core->ndev,
		.num_mem_types = TT_ALLOC_MEM_COUNT,
		.client_id = c->id,
	};

	return copy_to_user(uarg, &info, sizeof(info)) ? -EFAULT : 0;
}

static long tt_ioctl_buffer(struct tt_client *c, void __user *uarg, bool alloc)
{
	struct tt_alloc_buffer b;

	if (copy_from_user(&b, uarg, sizeof(b)))
		return -EFAULT;
	if (!alloc)
		return tt_client_free(c, &b, task_tgid(current));
	/*
	 * Our own comm, read without task_lock(): it is copied only when a
	 * new recorder is created, and a racing rename is harmless there.
	 */
	return tt_client_alloc(c, &b, task_tgid(current), current->comm);
}

static long tt_ioctl_batch(struct tt_client *c, void __user *uarg)
{
	struct tt_alloc_batch __user *ubatch = uarg;
	struct tt_alloc_op __user *uops;
	struct tt_alloc_batch batch;
	struct tt_alloc_op *ops;
	unsigned int n, applied;
	unsigned long left;
	u32 done = 0;
	int ret = 0;

	if (copy_from_user(&batch, uarg, sizeof(batch)))
		return -EFAULT;
	if (batch.flags || batch.reserved)
		return -EINVAL;
	if (batch.count > TT_ALLOC_BATCH_MAX)
		return -E2BIG;
	uops = u64_to_user_ptr(batch.ops);

	ops = batch.count ? kmalloc_array(min(batch.count, TT_BATCH_CHUNK),
					  sizeof(*ops), GFP_KERNEL) : NULL;
	if (batch.count && !ops)
		ret = -ENOMEM;

	while (!ret && done < batch.count) {
		n = min(batch.count - done, TT_BATCH_CHUNK);
		left = copy_from_user(ops, uops + done, n * sizeof(*ops));
		if (left) {
			/* Apply the whole ops before the fault, then retry it alone. */
			n -= DIV_ROUND_UP(left, sizeof(*ops));
			if (!n) {
				if (copy_from_user(ops, uops + done, sizeof(*ops))) {
					ret = -EFAULT;
					break;
				}
				n = 1;
			}
		}
		ret = tt_client_apply(c, ops, n, &applied, task_tgid(current),
				      current->comm);
		done += applied;
		/* Up to TT_ALLOC_BATCH_MAX ops: let others run between chunks. */
		cond_resched();
	}
	kfree(ops);

	if (put_user(done, &ubatch->done))
		return -EFAULT;
	return ret;
}

static long tt_ioctl_usage(struct tt_client *c, void __user *uarg)
{
	struct tt_alloc_usage u;
	int ret;

	if (copy_from_user(&u, uarg, sizeof(u)))
		return -EFAULT;
	ret = tt_client_usage(c, &u);
	if (ret)
		return ret;
	return copy_to_user(uarg, &u, sizeof(u)) ? -EFAULT : 0;
}

static long tt_ioctl_clients(struct tt_client *c, void __user *uarg)
{
	struct tt_alloc_clients __user *uclients = uarg;
	struct pid_namespace *ns = task_active_pid_ns(current);
	struct tt_alloc_client *rows = NULL;
	struct tt_alloc_clients req;
	u32 room = 0, total, want;
	int ret = 0;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if (req.flags)
		return -EINVAL;
	if (req.count > TT_ALLOC_CLIENTS_MAX)
		return -E2BIG;

	/*
	 * Size the buffer by what exists rather than by what the caller
	 * offers, and go round again if clients arrived meanwhile.
	 */
	for (;;) {
		total = tt_core_list_clients(c->core, ns, rows, room);
		want = min(req.count, total);
		if (want <= room)
			break;
		kvfree(rows);
		room = min(req.count, want + 8);
		rows = kvcalloc(room, sizeof(*rows), GFP_KERNEL);
		if (!rows)
			return -ENOMEM;
	}

	if (want && copy_to_user(u64_to_user_ptr(req.clients), rows,
				 want * sizeof(*rows)))
		ret = -EFAULT;
	kvfree(rows);
	if (!ret && put_user(total, &uclients->count))
		ret = -EFAULT;
	return ret;
}

static long tt_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct tt_client *c = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case TT_ALLOC_IOC_INFO:
		return tt_ioctl_info(c, uarg);
	case TT_ALLOC_IOC_ALLOC:
		return tt_ioctl_buffer(c, uarg, true);
	case TT_ALLOC_IOC_FREE:
		return tt_ioctl_buffer(c, uarg, false);
	case TT_ALLOC_IOC_BATCH:
		return tt_ioctl_batch(c, uarg);
	case TT_ALLOC_IOC_USAGE:
		return tt_ioctl_usage(c, uarg);
	case TT_ALLOC_IOC_CLIENTS:
		return tt_ioctl_clients(c, uarg);
	default:
		return -ENOTTY;
	}
}

static void tt_show_fdinfo(struct seq_file *m, struct file *file)
{
	tt_client_show_fdinfo(file->private_data, m);
}

static const struct file_operations tt_fops = {
	.owner = THIS_MODULE,
	.open = tt_open,
	.release = tt_release,
	.unlocked_ioctl = tt_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.show_fdinfo = tt_show_fdinfo,
	.llseek = noop_llseek,
};

static struct miscdevice tt_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "tt_alloc",
	.fops = &tt_fops,
	/* Recording only affects the caller's own accounting; udev may narrow it. */
	.mode = 0666,
};

/*
 * debugfs "allocations": a header, then one seq_file record per client,
 * the client list locked from start to stop.
 */
static void *tt_dbg_start(struct seq_file *m, loff_t *pos)
{
	mutex_lock(&tt_core->clients_lock);
	return seq_list_start_head(&tt_core->clients, *pos);
}

static void *tt_dbg_next(struct seq_file *m, void *v, loff_t *pos)
{
	return seq_list_next(v, &tt_core->clients, pos);
}

static void tt_dbg_stop(struct seq_file *m, void *v)
{
	mutex_unlock(&tt_core->clients_lock);
}

static int tt_dbg_show(struct seq_file *m, void *v)
{
	if (v == &tt_core->clients)
		seq_puts(m, "client\tpid\tcomm\tdevice\ttype\tkind\tid\tsize\trefs\n");
	else
		tt_client_show_entries(list_entry(v, struct tt_client, node), m);
	return 0;
}

static const struct seq_operations tt_dbg_sops = {
	.start = tt_dbg_start,
	.next = tt_dbg_next,
	.stop = tt_dbg_stop,
	.show = tt_dbg_show,
};
DEFINE_SEQ_ATTRIBUTE(tt_dbg);

static int __init tt_parse_arch(struct tt_core *core)
{
	char *list, *cur, *name;
	unsigned int i = 0;
	int ret = 0;

	if (!arch)
		return 0;
	list = kstrdup(arch, GFP_KERNEL);
	if (!list)
		return -ENOMEM;
	cur = list;
	while ((name = strsep(&cur, ",")) && !ret) {
		if (i >= core->ndev) {
			pr_err("arch= names %u or more devices, but devices=%u\n",
			       i + 1, core->ndev);
			ret = -EINVAL;
		} else if (tt_device_set_arch(&core->devs[i], name)) {
			pr_err("arch=: unknown architecture '%s' for device %u (known: wormhole_b0, blackhole)\n",
			       name, i);
			ret = -EINVAL;
		}
		i++;
	}
	kfree(list);
	return ret;
}

static int __init tt_alloc_init(void)
{
	int ret;

	if (!devices || devices > TT_ALLOC_MAX_DEVICES) {
		pr_err("devices=%u is out of range (1..%u)\n", devices,
		       TT_ALLOC_MAX_DEVICES);
		return -EINVAL;
	}
	ret = tt_core_init_cache();
	if (ret)
		return ret;
	tt_core = tt_core_create(devices, &tt_limits);
	if (IS_ERR(tt_core)) {
		ret = PTR_ERR(tt_core);
		goto err_cache;
	}
	ret = tt_parse_arch(tt_core);
	if (ret)
		goto err_core;
	ret = tt_sysfs_init(tt_core);
	if (ret)
		goto err_core;
	ret = misc_register(&tt_misc);
	if (ret)
		goto err_sysfs;

	tt_debugfs = debugfs_create_dir("tt_alloc", NULL);
	debugfs_create_file("allocations", 0400, tt_debugfs, NULL, &tt_dbg_fops);

	kernel_param_lock(THIS_MODULE);
	tt_sweep_armed = true;
	schedule_delayed_work(&tt_sweep_work, msecs_to_jiffies(sweep_interval_ms));
	kernel_param_unlock(THIS_MODULE);
	pr_info("tracking %u devices (version %s)\n", devices, TT_ALLOC_VERSION);
	return 0;

err_sysfs:
	tt_sysfs_exit(tt_core);
err_core:
	tt_core_destroy(tt_core);
err_cache:
	tt_core_exit_cache();
	return ret;
}

static void __exit tt_alloc_exit(void)
{
	/*
	 * No file is open: the device holds a module reference per file.
	 * The parameter files outlive this function, so stop them re-arming
	 * the sweep before cancelling it.
	 */
	kernel_param_lock(THIS_MODULE);
	tt_sweep_armed = false;
	kernel_param_unlock(THIS_MODULE);
	cancel_delayed_work_sync(&tt_sweep_work);
	debugfs_remove(tt_debugfs);
	misc_deregister(&tt_misc);
	tt_sysfs_exit(tt_core);
	tt_core_destroy(tt_core);
	tt_core_exit_cache();
}

module_init(tt_alloc_init);
module_exit(tt_alloc_exit);

MODULE_DESCRIPTION("Per-process tracking of Tenstorrent device-memory allocations");
MODULE_LICENSE("GPL");
MODULE_VERSION(TT_ALLOC_VERSION);
