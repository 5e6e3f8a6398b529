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
#include <linux/nospec.h>
#include <linux/moduleparam.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
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
	.max_bytes = BIT_ULL(44),
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
	WRITE_ONCE(*(u64 *)kp->arg, v);
	return 0;
}

static const struct kernel_param_ops tt_max_bytes_ops = {
	.set = tt_set_max_bytes,
	.get = param_get_ullong,
};
module_param_cb(max_bytes_per_file, &tt_max_bytes_ops, &tt_limits.max_bytes, 0644);
MODULE_PARM_DESC(max_bytes_per_file, "Bytes one open file may hold, all devices and types (1..2^62, default 2^44 = 16 TiB)");

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

/*
 * Every close() of an fd of the file. When it comes from the exit of the
 * last thread of a thread group (exit_files(): the group's live count is
 * already 0), that recorder's references go now rather than at the last
 * fput(), which another holder of the file (a fork child, a reader of
 * /proc/PID/fdinfo, a unix socket) may delay past the parent's waitpid().
 */
static int tt_flush(struct file *file, fl_owner_t id)
{
	if ((current->flags & PF_EXITING) && !atomic_read(&current->signal->live))
		tt_client_exit_recorder(file->private_data, task_tgid(current));
	return 0;
}

static int tt_release(struct inode *inode, struct file *file)
{
	tt_client_destroy(file->private_data);
	return 0;
}

/*
 * The ioctl arguments. Commands are dispatched on their type and number;
 * the size encoded in the command is the caller's struct size, so that a
 * structure can grow at its end: input is read with copy_struct_from_user()
 * (an older, shorter struct is zero-extended, a newer, longer one is
 * accepted only if the bytes this kernel does not know are zero, else
 * E2BIG) and output is written for the bytes both sides know.
 */
union tt_ioctl_arg {
	struct tt_alloc_info info;
	struct tt_alloc_buffer buf;
	struct tt_alloc_batch batch;
	struct tt_alloc_usage usage;
	struct tt_alloc_clients clients;
};

struct tt_ioctl_call {
	struct tt_client *c;
	void __user *uarg;
	size_t usize;		/* the caller's struct size */
};

static long tt_ioctl_info(struct tt_ioctl_call *call, union tt_ioctl_arg *arg)
{
	arg->info = (struct tt_alloc_info){
		.api_version = TT_ALLOC_API_VERSION,
		.num_devices = call->c->core->ndev,
		.num_mem_types = TT_ALLOC_MEM_COUNT,
		.client_id = call->c->id,
		.features = TT_ALLOC_FEATURE_CLIENTS_CURSOR,
	};
	return 0;
}

static long tt_ioctl_alloc(struct tt_ioctl_call *call, union tt_ioctl_arg *arg)
{
	/*
	 * Our own comm, read without task_lock(): it is copied only when a
	 * new recorder is created, and a racing rename is harmless there.
	 */
	return tt_client_alloc(call->c, &arg->buf, task_tgid(current),
			       current->comm);
}

static long tt_ioctl_free(struct tt_ioctl_call *call, union tt_ioctl_arg *arg)
{
	return tt_client_free(call->c, &arg->buf, task_tgid(current));
}

static int tt_batch_ops(struct tt_client *c, const struct tt_alloc_batch *batch,
			u32 *done)
{
	struct tt_alloc_op __user *uops = u64_to_user_ptr(batch->ops);
	struct tt_alloc_op *ops;
	unsigned int n, applied;
	unsigned long left;
	int ret = 0;

	if (batch->flags || batch->reserved)
		return -EINVAL;
	if (batch->count > TT_ALLOC_BATCH_MAX)
		return -E2BIG;
	if (!batch->count)
		return 0;
	ops = kmalloc_array(min(batch->count, TT_BATCH_CHUNK), sizeof(*ops),
			    GFP_KERNEL);
	if (!ops)
		return -ENOMEM;

	while (!ret && *done < batch->count) {
		n = min(batch->count - *done, TT_BATCH_CHUNK);
		left = copy_from_user(ops, uops + *done, n * sizeof(*ops));
		if (left) {
			/* Apply the whole ops before the fault, then retry it alone. */
			n -= DIV_ROUND_UP(left, sizeof(*ops));
			if (!n) {
				if (copy_from_user(ops, uops + *done, sizeof(*ops))) {
					ret = -EFAULT;
					break;
				}
				n = 1;
			}
		}
		ret = tt_client_apply(c, ops, n, &applied, task_tgid(current),
				      current->comm);
		*done += applied;
		/* Up to TT_ALLOC_BATCH_MAX ops: let others run between chunks. */
		cond_resched();
	}
	kfree(ops);
	return ret;
}

static long tt_ioctl_batch(struct tt_ioctl_call *call, union tt_ioctl_arg *arg)
{
	struct tt_alloc_batch __user *ubatch = call->uarg;
	u32 done = 0;
	int ret;

	ret = tt_batch_ops(call->c, &arg->batch, &done);
	/* The header was read: done is written whatever the outcome. */
	if (put_user(done, &ubatch->done))
		return -EFAULT;
	return ret;
}

static long tt_ioctl_usage(struct tt_ioctl_call *call, union tt_ioctl_arg *arg)
{
	return tt_client_usage(call->c, &arg->usage);
}

static long tt_ioctl_clients(struct tt_ioctl_call *call, union tt_ioctl_arg *arg)
{
	struct tt_alloc_clients __user *uclients = call->uarg;
	struct pid_namespace *ns = task_active_pid_ns(current);
	struct tt_alloc_clients *req = &arg->clients;
	struct tt_alloc_client *rows = NULL;
	u32 room = 0, total, want;
	int ret = 0;

	if (req->flags || req->reserved || req->reserved2[0] || req->reserved2[1])
		return -EINVAL;
	if (req->count > TT_ALLOC_CLIENTS_MAX)
		return -E2BIG;

	/*
	 * Size the buffer by what exists rather than by what the caller
	 * offers, and go round again if clients arrived meanwhile.
	 */
	for (;;) {
		ret = tt_core_list_clients(call->c->core, ns, req->after_id,
					   req->after_device, rows, room, &total);
		if (ret) {
			kvfree(rows);
			return ret;
		}
		want = min(req->count, total);
		if (want <= room)
			break;
		kvfree(rows);
		room = min(req->count, want + 8);
		rows = kvcalloc(room, sizeof(*rows), GFP_KERNEL);
		if (!rows)
			return -ENOMEM;
	}

	if (want && copy_to_user(u64_to_user_ptr(req->clients), rows,
				 array_size(want, sizeof(*rows))))
		ret = -EFAULT;
	kvfree(rows);
	if (!ret && put_user(total, &uclients->count))
		ret = -EFAULT;
	return ret;
}

/**
 * struct tt_ioctl_desc - one command of the ABI
 * @cmd: the command of this kernel's header: its direction (another one
 *	is an unknown command) and its size of the structure
 * @minsize: the first published size, smaller is EINVAL
 * @writes: changes the file's entries: needs a file opened for writing
 * @copy_out: on success, copy the structure back (the others write their
 *	few output fields themselves)
 * @fn: the handler
 */
struct tt_ioctl_desc {
	unsigned int cmd;
	u32 minsize;
	bool writes;
	bool copy_out;
	long (*fn)(struct tt_ioctl_call *call, union tt_ioctl_arg *arg);
};

static const struct tt_ioctl_desc tt_ioctls[] = {
	[_IOC_NR(TT_ALLOC_IOC_INFO)] = {
		.cmd = TT_ALLOC_IOC_INFO, .minsize = TT_ALLOC_INFO_SIZE_VER0,
		.copy_out = true, .fn = tt_ioctl_info,
	},
	[_IOC_NR(TT_ALLOC_IOC_ALLOC)] = {
		.cmd = TT_ALLOC_IOC_ALLOC, .minsize = TT_ALLOC_BUFFER_SIZE_VER0,
		.writes = true, .fn = tt_ioctl_alloc,
	},
	[_IOC_NR(TT_ALLOC_IOC_FREE)] = {
		.cmd = TT_ALLOC_IOC_FREE, .minsize = TT_ALLOC_BUFFER_SIZE_VER0,
		.writes = true, .fn = tt_ioctl_free,
	},
	[_IOC_NR(TT_ALLOC_IOC_BATCH)] = {
		.cmd = TT_ALLOC_IOC_BATCH, .minsize = TT_ALLOC_BATCH_SIZE_VER0,
		.writes = true, .fn = tt_ioctl_batch,
	},
	[_IOC_NR(TT_ALLOC_IOC_USAGE)] = {
		.cmd = TT_ALLOC_IOC_USAGE, .minsize = TT_ALLOC_USAGE_SIZE_VER0,
		.copy_out = true, .fn = tt_ioctl_usage,
	},
	[_IOC_NR(TT_ALLOC_IOC_CLIENTS)] = {
		.cmd = TT_ALLOC_IOC_CLIENTS, .minsize = TT_ALLOC_CLIENTS_SIZE_VER0,
		.fn = tt_ioctl_clients,
	},
};

static long tt_ioctl(struct file *file, unsigned int cmd, unsigned long uarg)
{
	struct tt_ioctl_call call = {
		.c = file->private_data,
		.uarg = (void __user *)uarg,
		.usize = _IOC_SIZE(cmd),
	};
	const struct tt_ioctl_desc *desc;
	union tt_ioctl_arg arg;
	unsigned int nr = _IOC_NR(cmd);
	size_t ksize;
	long ret;

	if (_IOC_TYPE(cmd) != TT_ALLOC_IOC_MAGIC || nr >= ARRAY_SIZE(tt_ioctls))
		return -ENOTTY;
	nr = array_index_nospec(nr, ARRAY_SIZE(tt_ioctls));
	desc = &tt_ioctls[nr];
	ksize = _IOC_SIZE(desc->cmd);
	if (_IOC_DIR(cmd) != _IOC_DIR(desc->cmd))
		return -ENOTTY;
	/* Recording needs a writable file; reading the counters does not. */
	if (desc->writes && !(file->f_mode & FMODE_WRITE))
		return -EBADF;
	if (call.usize < desc->minsize)
		return -EINVAL;

	if (_IOC_DIR(cmd) & _IOC_WRITE) {
		ret = copy_struct_from_user(&arg, ksize, call.uarg, call.usize);
		if (ret)
			return ret;
	} else {
		memset(&arg, 0, sizeof(arg));
	}
	ret = desc->fn(&call, &arg);
	if (!ret && desc->copy_out &&
	    copy_to_user(call.uarg, &arg, min(ksize, call.usize)))
		ret = -EFAULT;
	return ret;
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

static struct miscdevice tt_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "tt_alloc",
	.fops = &tt_fops,
	/* Recording only affects the caller's own accounting; udev may narrow it. */
	.mode = 0666,
};

static int tt_dbg_open(struct inode *inode, struct file *file)
{
	struct tt_entries_iter *it;

	it = __seq_open_private(file, &tt_entries_sops, sizeof(*it));
	if (!it)
		return -ENOMEM;
	it->core = inode->i_private;
	return 0;
}

static const struct file_operations tt_dbg_fops = {
	.owner = THIS_MODULE,
	.open = tt_dbg_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = seq_release_private,
};

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
	debugfs_create_file("allocations", 0400, tt_debugfs, tt_core, &tt_dbg_fops);

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
