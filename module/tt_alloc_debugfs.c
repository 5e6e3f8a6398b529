// SPDX-License-Identifier: GPL-2.0
/*
 * tt_alloc debugfs: /sys/kernel/debug/tt_alloc/allocations, every entry of
 * every client, beside the table it dumps.
 */
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/seq_file.h>

#include "tt_alloc_priv.h"

/**
 * struct tt_entries_iter - where a read of the debugfs dump stands
 * @pos: seq_file position of the entry below (0 is the header)
 * @client_id: client of that entry
 * @bucket: its hash bucket
 * @idx: its place in the bucket's chain
 * @c: that client, locked between start() and stop(), else NULL
 * @core: the instance dumped
 */
struct tt_entries_iter {
	loff_t pos;
	u64 client_id;
	unsigned int bucket;
	unsigned int idx;
	struct tt_client *c;
	struct tt_core *core;
};

/* ---- debugfs "allocations": every entry, one seq_file record each ---- */

/*
 * A read() of the dump holds a reference on, and the lock of, the one
 * client being dumped from start() to stop(), and seq_file stops as soon
 * as its buffer (a page, or what the reader asked for) is full: memory
 * and lock hold times are bounded by one buffer, whatever the number of
 * entries, and no global lock is held while waiting for a client. Between
 * reads nothing is held; the iterator remembers (client id, bucket, place
 * in the chain) and resumes there, so entries added, removed or moved by
 * a rehash meanwhile may be missed or shown twice.
 */

/* The first entry at or after (@bucket, @idx) of @c, updating @it. */
static struct tt_entry *tt_entries_seek(struct tt_entries_iter *it,
					struct tt_client *c,
					unsigned int bucket, unsigned int idx)
{
	struct tt_entry *e;
	unsigned int i;

	lockdep_assert_held(&c->lock);
	for (; bucket < (1U << c->bits); bucket++, idx = 0) {
		i = 0;
		hlist_for_each_entry(e, &c->buckets[bucket], node) {
			if (i++ < idx)
				continue;
			it->client_id = c->id;
			it->bucket = bucket;
			it->idx = i - 1;
			return e;
		}
	}
	return NULL;
}

/*
 * The first entry of the first client after @prev (whose reference this
 * consumes) with an id >= @id, from (@bucket, @idx) in a client of that
 * very id. On success @it->c holds the client, referenced and locked.
 */
static struct tt_entry *tt_entries_scan(struct tt_entries_iter *it,
					struct tt_client *prev, u64 id,
					unsigned int bucket, unsigned int idx)
{
	struct tt_client *c = prev;
	struct tt_entry *e;

	for (;;) {
		c = tt_client_next(it->core, c, true);
		if (IS_ERR_OR_NULL(c))
			return ERR_CAST(c);
		if (c->id < id)
			continue;
		if (c->id > id) {
			bucket = 0;
			idx = 0;
		}
		if (mutex_lock_killable(&c->lock)) {
			tt_client_put(c);
			return ERR_PTR(-EINTR);
		}
		e = tt_entries_seek(it, c, bucket, idx);
		if (e) {
			it->c = c;
			return e;
		}
		mutex_unlock(&c->lock);
	}
}

/* The entry after the current one, in this client or the next ones. */
static struct tt_entry *tt_entries_advance(struct tt_entries_iter *it)
{
	struct tt_client *c = it->c;
	struct tt_entry *e;

	e = tt_entries_seek(it, c, it->bucket, it->idx + 1);
	if (e)
		return e;
	mutex_unlock(&c->lock);
	it->c = NULL;
	return tt_entries_scan(it, c, c->id + 1, 0, 0);
}

static void *tt_entries_start(struct seq_file *m, loff_t *pos)
{
	struct tt_entries_iter *it = m->private;
	struct tt_entry *e;
	loff_t i;

	it->c = NULL;
	if (!*pos)
		return SEQ_START_TOKEN;
	if (*pos == it->pos)
		return tt_entries_scan(it, NULL, it->client_id, it->bucket, it->idx);
	/* Not where the last read stopped (a seek): walk from the start. */
	e = tt_entries_scan(it, NULL, 0, 0, 0);
	for (i = 1; !IS_ERR_OR_NULL(e) && i < *pos; i++)
		e = tt_entries_advance(it);
	it->pos = *pos;
	/* At the end: a read after it must not find the last entry again. */
	if (!e)
		it->client_id = U64_MAX;
	return e;
}

static void *tt_entries_next(struct seq_file *m, void *v, loff_t *pos)
{
	struct tt_entries_iter *it = m->private;
	struct tt_entry *e;

	++*pos;
	if (v == SEQ_START_TOKEN)
		e = tt_entries_scan(it, NULL, 0, 0, 0);
	else
		e = tt_entries_advance(it);
	it->pos = *pos;
	if (!e)
		it->client_id = U64_MAX;
	return e;
}

static void tt_entries_stop(struct seq_file *m, void *v)
{
	struct tt_entries_iter *it = m->private;
	struct tt_client *c = it->c;

	it->c = NULL;
	if (!c)
		return;
	mutex_unlock(&c->lock);
	tt_client_put(c);
}

static int tt_entries_show(struct seq_file *m, void *v)
{
	struct tt_entries_iter *it = m->private;
	struct tt_entry *e = v;

	if (v == SEQ_START_TOKEN) {
		seq_puts(m, "client\tpid\tcomm\tdevice\ttype\tkind\tid\tsize\trefs\n");
		return 0;
	}
	seq_printf(m, "%llu\t%d\t%s\t%u\t%s\t%u\t0x%llx\t%llu\t%u\n",
		   it->c->id, pid_nr(tt_entry_rec(e)->tgid), tt_entry_rec(e)->comm,
		   e->device,
		   tt_mem_names[e->type], e->kind, e->id, e->size, e->refs);
	return 0;
}

static const struct seq_operations tt_entries_sops = {
	.start = tt_entries_start,
	.next = tt_entries_next,
	.stop = tt_entries_stop,
	.show = tt_entries_show,
};

static int tt_entries_open(struct inode *inode, struct file *file)
{
	struct tt_entries_iter *it;

	it = __seq_open_private(file, &tt_entries_sops, sizeof(*it));
	if (!it)
		return -ENOMEM;
	it->core = inode->i_private;
	return 0;
}

static const struct file_operations tt_entries_fops = {
	.owner = THIS_MODULE,
	.open = tt_entries_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = seq_release_private,
};

/**
 * tt_debugfs_init() - create /sys/kernel/debug/tt_alloc/allocations
 * @core: the instance it dumps
 *
 * Return: the directory, for tt_debugfs_exit(); debugfs errors are not
 * fatal (the dump is a debugging aid).
 */
struct dentry *tt_debugfs_init(struct tt_core *core)
{
	struct dentry *dir = debugfs_create_dir("tt_alloc", NULL);

	debugfs_create_file("allocations", 0400, dir, core, &tt_entries_fops);
	return dir;
}

/**
 * tt_debugfs_exit() - remove what tt_debugfs_init() created
 * @dir: its directory
 */
void tt_debugfs_exit(struct dentry *dir)
{
	debugfs_remove(dir);
}
