// SPDX-License-Identifier: GPL-2.0
/*
 * tt_alloc ioctls: argument sizes and copies, the file's access mode, and
 * the calls into the tracking core. See
 * Documentation/userspace-api/tt_alloc.rst for the ABI.
 */
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/minmax.h>
#include <linux/nospec.h>
#include <linux/overflow.h>
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "tt_alloc.h"

/* Ops copied from user memory per step of a batch. */
#define TT_BATCH_CHUNK	128

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
		.num_devices = tt_client_core(call->c)->ndev,
		.num_mem_types = TT_ALLOC_MEM_COUNT,
		.client_id = tt_client_id(call->c),
		.features = TT_ALLOC_FEATURE_CLIENTS_CURSOR |
			    TT_ALLOC_FEATURE_ELEM_SIZE |
			    TT_ALLOC_FEATURE_CLIENT_OWNER |
			    (tt_client_core(call->c)->nr_dmem ?
			     TT_ALLOC_FEATURE_DMEM : 0),
	};
	return 0;
}

static long tt_ioctl_alloc(struct tt_ioctl_call *call, union tt_ioctl_arg *arg)
{
	/*
	 * Our own comm, read without task_lock(): it is copied only when a
	 * new recorder is created, and a racing rename is harmless there.
	 */
	return tt_client_record_alloc(call->c, &arg->buf, task_tgid(current),
			       current->comm);
}

static long tt_ioctl_free(struct tt_ioctl_call *call, union tt_ioctl_arg *arg)
{
	return tt_client_record_free(call->c, &arg->buf, task_tgid(current));
}

/*
 * A u64 user pointer a 32-bit kernel cannot represent: refused with
 * EFAULT rather than truncated to another address of the caller's.
 */
static bool tt_user_ptr_bad(u64 ptr)
{
	return !IS_ENABLED(CONFIG_64BIT) && upper_32_bits(ptr);
}

/*
 * Ops of this kernel's size, as many of @n as can be read at once.
 * Return: the whole ops read, 0 with *@err set when not even the first
 * one could be.
 */
static unsigned int tt_batch_read(struct tt_alloc_op *ops,
				  const struct tt_alloc_op __user *uops,
				  unsigned int n, int *err)
{
	unsigned long left;

	*err = 0;
	left = copy_from_user(ops, uops, n * sizeof(*ops));
	if (!left)
		return n;
	/* Apply the whole ops before the fault, then retry it alone. */
	n -= DIV_ROUND_UP(left, sizeof(*ops));
	if (n)
		return n;
	if (copy_from_user(ops, uops, sizeof(*ops))) {
		*err = -EFAULT;
		return 0;
	}
	return 1;
}

/*
 * Ops of another size than this kernel's, each read as
 * copy_struct_from_user() reads a structure: a shorter one zero-extended,
 * a longer one only if its bytes beyond ours are zero.
 * Return: the ops read before the first that could not be (*@err its
 * error, E2BIG or EFAULT), else @n.
 */
static unsigned int tt_batch_read_sized(struct tt_alloc_op *ops,
					const u8 __user *src, size_t stride,
					unsigned int n, int *err)
{
	unsigned int i;

	*err = 0;
	for (i = 0; i < n; i++, src += stride) {
		*err = copy_struct_from_user(&ops[i], sizeof(ops[i]), src, stride);
		if (*err)
			break;
	}
	return i;
}

static int tt_batch_ops(struct tt_client *c, const struct tt_alloc_batch *batch,
			u32 *done)
{
	const u8 __user *uops = u64_to_user_ptr(batch->ops);
	size_t stride = batch->op_size ?: TT_ALLOC_OP_SIZE_VER0;
	struct tt_alloc_op *ops;
	unsigned int n, applied;
	size_t bytes;
	int ret = 0, err;

	if (batch->flags || stride < TT_ALLOC_OP_SIZE_VER0 ||
	    stride > TT_ALLOC_ELEM_SIZE_MAX)
		return -EINVAL;
	if (batch->count > TT_ALLOC_BATCH_MAX)
		return -E2BIG;
	if (!batch->count)
		return 0;
	/* Both factors are bounded; kept so that no bound change can wrap. */
	if (check_mul_overflow((size_t)batch->count, stride, &bytes))
		return -EINVAL;
	if (tt_user_ptr_bad(batch->ops))
		return -EFAULT;
	ops = kmalloc_array(min(batch->count, TT_BATCH_CHUNK), sizeof(*ops),
			    GFP_KERNEL);
	if (!ops)
		return -ENOMEM;

	while (!ret && *done < batch->count) {
		n = min(batch->count - *done, TT_BATCH_CHUNK);
		/* Per chunk, not per op: our own size keeps one bulk copy. */
		if (stride == sizeof(*ops))
			n = tt_batch_read(ops, (const struct tt_alloc_op __user *)uops +
					  *done, n, &err);
		else
			n = tt_batch_read_sized(ops, uops + (size_t)*done * stride,
						stride, n, &err);
		/*
		 * The ops read before one that could not be are applied; an
		 * error of theirs comes first, as it is the earlier op's.
		 */
		if (n) {
			ret = tt_client_record_batch(c, ops, n, &applied,
						     task_tgid(current), current->comm);
			*done += applied;
		}
		if (!ret)
			ret = err;
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

/*
 * @n rows into the caller's array of rows @stride bytes apart: of each the
 * bytes both sides know, the rest of a longer row zeroed, as
 * copy_struct_to_user() (6.13, absent from older kernels) writes one.
 */
static int tt_clients_put(u8 __user *dst, const struct tt_alloc_client *rows,
			  u32 n, size_t stride)
{
	size_t ksize = sizeof(*rows), len = min(stride, ksize);
	u32 i;

	if (stride == ksize)
		return copy_to_user(dst, rows, array_size(n, ksize)) ? -EFAULT : 0;
	for (i = 0; i < n; i++, dst += stride) {
		if (copy_to_user(dst, &rows[i], len))
			return -EFAULT;
		if (stride > ksize && clear_user(dst + ksize, stride - ksize))
			return -EFAULT;
	}
	return 0;
}

/*
 * Rows per pass of CLIENTS: the kernel's buffer is at most 23 KiB,
 * charged to the caller, whatever the number of rows asked for.
 */
#define TT_CLIENTS_CHUNK	128

static long tt_ioctl_clients(struct tt_ioctl_call *call, union tt_ioctl_arg *arg)
{
	struct tt_alloc_clients __user *uclients = call->uarg;
	struct pid_namespace *ns = task_active_pid_ns(current);
	struct tt_alloc_clients *req = &arg->clients;
	size_t stride = req->row_size ?: TT_ALLOC_CLIENT_SIZE_VER0;
	struct tt_core *core = tt_client_core(call->c);
	struct tt_list_pos pos = {
		.after_id = req->after_id, .after_device = req->after_device,
	};
	struct tt_alloc_client *rows = NULL;
	u32 written = 0, total, want, n;
	size_t bytes;
	int ret = 0;

	if (req->flags || req->reserved2[0] || req->reserved2[1] ||
	    stride < TT_ALLOC_CLIENT_SIZE_VER0 || stride > TT_ALLOC_ELEM_SIZE_MAX)
		return -EINVAL;
	if (req->count > TT_ALLOC_CLIENTS_MAX)
		return -E2BIG;
	/* Both factors are bounded; kept so that no bound change can wrap. */
	if (check_mul_overflow((size_t)req->count, stride, &bytes))
		return -EINVAL;

	if (req->count) {
		rows = kvmalloc_array(min(req->count, TT_CLIENTS_CHUNK),
				      sizeof(*rows), GFP_KERNEL_ACCOUNT);
		if (!rows)
			return -ENOMEM;
	}
	/*
	 * In passes of a chunk, each going on from the last row of the one
	 * before (whose client it holds): rows that come or go meanwhile may
	 * or may not be listed, as between two calls with a cursor.
	 */
	while ((want = min(req->count - written, TT_CLIENTS_CHUNK))) {
		n = tt_core_list_clients(core, ns, &pos, rows, want, true);
		if (n && tt_user_ptr_bad(req->clients))
			ret = -EFAULT;
		else if (n)
			ret = tt_clients_put((u8 __user *)u64_to_user_ptr(req->clients) +
					     (size_t)written * stride, rows, n, stride);
		if (ret)
			break;
		written += n;
		if (n < want)
			break;
	}
	kvfree(rows);
	if (ret) {
		tt_list_pos_release(&pos);
		return ret;
	}
	/* Then count the rest, from where the walk stopped. */
	total = written;
	if (written == req->count)
		total += tt_core_list_clients(core, ns, &pos, NULL, 0, false);
	if (put_user(total, &uclients->count))
		return -EFAULT;
	return 0;
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

/**
 * tt_ioctl() - the unlocked_ioctl of /dev/tt_alloc
 * @file: an open file, its private_data the client
 * @cmd: the command
 * @uarg: its argument
 *
 * Return: 0 or a negative errno, see Documentation/userspace-api/tt_alloc.rst.
 */
long tt_ioctl(struct file *file, unsigned int cmd, unsigned long uarg)
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
