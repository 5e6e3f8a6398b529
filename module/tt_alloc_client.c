// SPDX-License-Identifier: GPL-2.0
/*
 * tt_alloc clients: one per open file. Their lifetime (the rule is written
 * at &struct tt_client), release and the exit of a recorder, the sweep of
 * recorders that died elsewhere, the client list and fdinfo.
 */
#include <linux/cgroup.h>
#include <linux/cred.h>
#include <linux/kernel.h>
#include <linux/kref.h>
#include <linux/mm.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/rcupdate.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "tt_alloc_priv.h"

#include <kunit/visibility.h>

/**
 * tt_pid_exited() - has every thread of a thread group exited?
 * @tgid: the thread group
 *
 * True once the group is reaped, and also while its leader is an unreaped
 * zombie: the memory it recorded is no longer in use either way. This is
 * how the sweep finds the recorders whose exit closed no fd of the file
 * (see tt_flush()). A group whose live count is 0 is not done yet while a
 * thread has still to reach exit_notify(): that thread's exit_files(),
 * which comes before, may still close an fd of the file and reclaim by
 * its exit; the sweep must not take that for an exit that closed nothing.
 *
 * Return: true if every thread of the group has finished exiting.
 */
bool tt_pid_exited(struct pid *tgid)
{
	struct task_struct *task, *t;
	bool exited = true;

	rcu_read_lock();
	task = pid_task(tgid, PIDTYPE_TGID);
	if (task && atomic_read(&task->signal->live)) {
		exited = false;
	} else if (task) {
		for_each_thread(task, t) {
			if (!READ_ONCE(t->exit_state)) {
				exited = false;
				break;
			}
		}
	}
	rcu_read_unlock();
	return exited;
}
EXPORT_SYMBOL_IF_KUNIT(tt_pid_exited);

/* ---- clients ---- */

/*
 * The cgroup v2 cgroup of the current task, the one a container runtime or
 * systemd placed it in (on a v1-only system the root, 1).
 */
static u64 tt_current_cgroup_id(void)
{
#ifdef CONFIG_CGROUPS
	u64 id;

	rcu_read_lock();
	id = cgroup_id(task_dfl_cgroup(current));
	rcu_read_unlock();
	return id;
#else
	return 0;
#endif
}

/**
 * tt_client_create() - a new, empty client
 * @core: the instance
 * @opener: thread group that opens it (a reference is taken)
 * @comm: the opener's command name
 *
 * The client's owner (&tt_client.uid, &tt_client.cgroup_id) is that of the
 * current task, which opens the file.
 *
 * Return: the client, or ERR_PTR(-ENOMEM) or ERR_PTR(-EINTR).
 */
struct tt_client *tt_client_create(struct tt_core *core, struct pid *opener,
				   const char *comm)
{
	struct tt_client *c;

	c = kzalloc(struct_size(c, dev, core->ndev), GFP_KERNEL_ACCOUNT);
	if (!c)
		return ERR_PTR(-ENOMEM);
	c->bits = TT_HASH_MIN_BITS;
	c->buckets = kvcalloc(1U << c->bits, sizeof(*c->buckets),
			      GFP_KERNEL_ACCOUNT);
	if (!c->buckets) {
		kfree(c);
		return ERR_PTR(-ENOMEM);
	}
	c->core = core;
	c->opener = get_pid(opener);
	strscpy(c->comm, comm, sizeof(c->comm));
	c->uid = current_uid();
	c->cgroup_id = tt_current_cgroup_id();
	mutex_init(&c->lock);
	seqcount_init(&c->totals_seq);
	INIT_LIST_HEAD(&c->recorders);
	INIT_HLIST_HEAD(&c->spare);
	kref_init(&c->ref);

	/*
	 * The id under the lock: the list stays sorted by id for the cursor.
	 * Held only for list operations by others, but killable all the same.
	 */
	if (mutex_lock_killable(&core->clients_lock)) {
		mutex_destroy(&c->lock);
		put_pid(c->opener);
		kvfree(c->buckets);
		kfree(c);
		return ERR_PTR(-EINTR);
	}
	c->id = ++core->next_client_id;
	list_add_tail_rcu(&c->node, &core->clients);
	mutex_unlock(&core->clients_lock);
	return c;
}
EXPORT_SYMBOL_IF_KUNIT(tt_client_create);

/* What lockless readers of the client list may still read goes last. */
static void tt_client_free_rcu(struct rcu_head *rcu)
{
	struct tt_client *c = container_of(rcu, struct tt_client, rcu);

	put_pid(c->opener);
	kfree(c);
}

/* kref release, called with &tt_core.clients_lock held: see tt_client_put(). */
static void tt_client_release(struct kref *ref)
{
	struct tt_client *c = container_of(ref, struct tt_client, ref);

	list_del_rcu(&c->node);
	mutex_unlock(&c->core->clients_lock);

	WARN_ON(c->nr_entries || c->nr_holdings || !list_empty(&c->recorders) ||
		!hlist_empty(&c->spare));
	mutex_destroy(&c->lock);
	kvfree(c->buckets);
	call_rcu(&c->rcu, tt_client_free_rcu);
}

/* For the ioctl layer, which does not see the client's internals. */
u64 tt_client_id(const struct tt_client *c)
{
	return c->id;
}

struct tt_core *tt_client_core(const struct tt_client *c)
{
	return c->core;
}

/* Put a reference; the last one frees the client. Never with a lock held. */
void tt_client_put(struct tt_client *c)
{
	kref_put_mutex(&c->ref, tt_client_release, &c->core->clients_lock);
}

/**
 * tt_client_next() - the next open client, with a reference
 * @core: the instance
 * @prev: the client the walker holds a reference on, NULL to start
 * @killable: a fatal signal interrupts the wait for &tt_core.clients_lock
 *
 * The reference on @prev is put in every case. @prev is still on the list
 * (it has a reference), so the walk goes on from it even if the list
 * changed meanwhile; clients whose file was released are skipped.
 *
 * Return: the next client, NULL at the end, or ERR_PTR(-EINTR).
 */
struct tt_client *tt_client_next(struct tt_core *core, struct tt_client *prev,
				 bool killable)
{
	struct list_head *pos;
	struct tt_client *c = NULL;

	if (killable) {
		if (mutex_lock_killable(&core->clients_lock)) {
			if (prev)
				tt_client_put(prev);
			return ERR_PTR(-EINTR);
		}
	} else {
		mutex_lock(&core->clients_lock);
	}
	for (pos = prev ? prev->node.next : core->clients.next;
	     pos != &core->clients; pos = pos->next) {
		c = list_entry(pos, struct tt_client, node);
		if (!READ_ONCE(c->closed)) {
			kref_get(&c->ref);
			break;
		}
		c = NULL;
	}
	mutex_unlock(&core->clients_lock);
	if (prev)
		tt_client_put(prev);
	return c;
}

/**
 * tt_client_close() - reclaim everything a client holds, put the file's
 *	reference
 * @c: the client of a file being released
 *
 * Takes no global lock while reclaiming: other files' open() and close()
 * never wait for it. Walkers still holding a reference keep the (empty)
 * client until they put it.
 */
void tt_client_close(struct tt_client *c)
{
	struct tt_recorder *r;

	mutex_lock(&c->lock);
	WRITE_ONCE(c->closed, true);
	list_for_each_entry(r, &c->recorders, node)
		r->dead = true;
	tt_client_reclaim_dead(c, false);
	tt_client_drain_spare(c);
	mutex_unlock(&c->lock);
	tt_client_put(c);
}
EXPORT_SYMBOL_IF_KUNIT(tt_client_close);

static void tt_client_close_workfn(struct work_struct *work)
{
	tt_client_close(container_of(work, struct tt_client, close_work));
}

/**
 * tt_client_release_file() - the last fput() of a client's file
 * @c: the client
 * @wq: the workqueue that reclaims for a bystander
 *
 * The reclaim runs here when the caller recorded in the file (it closes
 * its own file) or is exiting (the last holder of a file going with its
 * process): whoever waits for that, its parent's waitpid() or the caller
 * reading the counters after close(), finds the entries gone. A live
 * process that never recorded in the file is a bystander whose fput()
 * happened to be the last one (a reader of /proc/PID/fdinfo, a process
 * the file was passed to) and does not pay for a big file's teardown:
 * @wq does it, with the file's reference. The file is closed from here
 * either way: no row once it holds nothing.
 */
void tt_client_release_file(struct tt_client *c, struct workqueue_struct *wq)
{
	bool own;

	mutex_lock(&c->lock);
	own = !c->nr_holdings || (current->flags & PF_EXITING) ||
	      tt_find_recorder(c, task_tgid(current));
	WRITE_ONCE(c->closed, true);
	mutex_unlock(&c->lock);
	if (own) {
		tt_client_close(c);
		return;
	}
	INIT_WORK(&c->close_work, tt_client_close_workfn);
	queue_work(wq, &c->close_work);
}
EXPORT_SYMBOL_IF_KUNIT(tt_client_release_file);

/**
 * tt_client_exit_recorder() - reclaim what an exiting thread group recorded
 * @c: the client
 * @tgid: the thread group, whose every thread has exited
 *
 * From .flush of its last fd of the file, while it exits: its references
 * go before its parent can reap it, whoever else still holds the file.
 */
void tt_client_exit_recorder(struct tt_client *c, struct pid *tgid)
{
	struct tt_recorder *r;

	mutex_lock(&c->lock);
	r = tt_find_recorder(c, tgid);
	if (r) {
		r->dead = true;
		tt_client_reclaim_dead(c, false);
	}
	mutex_unlock(&c->lock);
}
EXPORT_SYMBOL_IF_KUNIT(tt_client_exit_recorder);

/**
 * tt_core_sweep() - reclaim the entries of recorders that have exited
 * @core: the instance
 *
 * For files that outlive a recorder that no longer held them when it died
 * (it closed its fd, or passed the file on). Costs O(recorders) when
 * nobody died; the table of a client is walked only when one of its
 * recorders did, under that client's lock alone. Also shrinks every
 * client's sparse table and trims its spare entries to
 * %TT_SPARE_KEEP, freed after its lock is dropped: a busy file
 * refills it at most once per sweep.
 *
 * Return: entries reclaimed.
 */
unsigned int tt_core_sweep(struct tt_core *core)
{
	struct tt_recorder *r;
	struct tt_client *c = NULL;
	unsigned int nr = 0;
	HLIST_HEAD(spare);
	bool any;

	while ((c = tt_client_next(core, c, false))) {
		any = false;
		mutex_lock(&c->lock);
		list_for_each_entry(r, &c->recorders, node) {
			if (!tt_pid_exited(r->tgid))
				continue;
			r->dead = true;
			any = true;
		}
		if (any)
			nr += tt_client_reclaim_dead(c, true);
		tt_client_maybe_shrink(c);
		tt_client_trim_spare(c, TT_SPARE_KEEP, &spare);
		mutex_unlock(&c->lock);
		tt_entries_destroy(&spare);
		cond_resched();
	}
	tt_users_prune(core, false);
	return nr;
}
EXPORT_SYMBOL_IF_KUNIT(tt_core_sweep);

static void tt_fill_row(struct tt_alloc_client *row, struct tt_client *c,
			pid_t nr, u32 device, u32 flags,
			const struct tt_file_dev *fd)
{
	unsigned int t;

	memset(row, 0, sizeof(*row));
	row->client_id = c->id;
	row->pid = nr;
	row->device = device;
	row->flags = flags;
	strscpy(row->comm, c->comm, sizeof(row->comm));
	row->uid = from_kuid_munged(current_user_ns(), c->uid);
	row->cgroup_id = c->cgroup_id;
	if (device == TT_ALLOC_DEVICE_NONE)
		return;
	for (t = 0; t < TT_ALLOC_MEM_COUNT; t++) {
		row->used[t] = fd->used[t];
		row->allocations[t] = fd->entries[t];
	}
}

/* Is the row (@id, @device) after the cursor (@after_id, @after_device)? */
static bool tt_row_after(u64 id, u32 device, u64 after_id, u32 after_device)
{
	return id != after_id ? id > after_id : device > after_device;
}

/**
 * tt_core_list_clients() - the client list as seen from a pid namespace
 * @core: the instance
 * @ns: the caller's pid namespace; clients opened outside it are left out
 * @pos: the cursor: only rows after (@pos->after_id, @pos->after_device)
 *	count, the walk starting at @pos->from (see &struct tt_list_pos)
 * @rows: where to write rows, may be NULL when @room is 0
 * @room: rows that fit in @rows
 * @chunk: stop once @rows is full, the cursor moved to its last row and
 *	its client kept in @pos->from for the next call; else walk to the
 *	end, counting every row (the first @room written), and put
 *	@pos->from
 *
 * One row per client and device it holds entries on; one row with
 * %TT_ALLOC_DEVICE_NONE for a client holding nothing whose file is still
 * open. Rows come in (client id, device) order: the list is kept sorted
 * by id. Uids are those of the caller's user namespace. No lock is taken
 * (see &struct tt_client): a client busy with a long reclaim delays nobody
 * here, and while its file is released its rows show its totals as they
 * shrink, so that the rows always add up to the device counters. The work is
 * one copy per client and device walked.
 *
 * Return: the rows after the cursor: written ones with @chunk, else all.
 */
u32 tt_core_list_clients(struct tt_core *core, struct pid_namespace *ns,
			 struct tt_list_pos *pos, struct tt_alloc_client *rows,
			 u32 room, bool chunk)
{
	struct tt_client *c, *start = pos->from, *last = NULL, *pin = NULL;
	struct tt_file_dev fd;
	unsigned int d;
	u32 n = 0, flags;
	bool held;
	pid_t nr;

	rcu_read_lock();
	/* A client with a reference stays on the list: go on from it. */
	c = start ?: list_entry_rcu(core->clients.next, struct tt_client, node);
	list_for_each_entry_from_rcu(c, &core->clients, node) {
		if (c->id < pos->after_id)
			continue;
		if (chunk && n == room)
			break;
		nr = pid_nr_ns(c->opener, ns);
		if (!nr)
			continue;
		flags = tt_pid_exited(c->opener) ? TT_ALLOC_CLIENT_OPENER_EXITED : 0;
		held = false;
		for (d = 0; d < core->ndev; d++) {
			tt_client_read_dev(c, d, &fd);
			if (!fd.total)
				continue;
			held = true;
			if (!tt_row_after(c->id, d, pos->after_id, pos->after_device) ||
			    (chunk && n == room))
				continue;
			if (n < room) {
				tt_fill_row(&rows[n], c, nr, d, flags, &fd);
				last = c;
			}
			n++;
		}
		if (!held && !READ_ONCE(c->closed) &&
		    tt_row_after(c->id, TT_ALLOC_DEVICE_NONE, pos->after_id,
				 pos->after_device) && !(chunk && n == room)) {
			if (n < room) {
				tt_fill_row(&rows[n], c, nr, TT_ALLOC_DEVICE_NONE,
					    flags, NULL);
				last = c;
			}
			n++;
		}
	}
	if (chunk && n == room && last) {
		pos->after_id = last->id;
		pos->after_device = rows[n - 1].device;
		/* One being freed cannot be kept: the next call starts over. */
		if (kref_get_unless_zero(&last->ref))
			pin = last;
	}
	rcu_read_unlock();
	if (start)
		tt_client_put(start);
	pos->from = pin;
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(tt_core_list_clients);

/**
 * tt_list_pos_release() - end a walk of the client list before its end
 * @pos: the position; the client it holds, if any, is put
 */
void tt_list_pos_release(struct tt_list_pos *pos)
{
	if (pos->from)
		tt_client_put(pos->from);
	pos->from = NULL;
}

/**
 * tt_client_show_fdinfo() - per-file usage, DRM usage-stats style
 * @c: the client
 * @m: fdinfo seq_file
 */
void tt_client_show_fdinfo(struct tt_client *c, struct seq_file *m)
{
	struct tt_file_dev fd;
	unsigned int d, t;

	/* No lock: a reader of fdinfo never waits for the client's work. */
	seq_printf(m, "tt_alloc-client-id:\t%llu\n", c->id);
	seq_printf(m, "tt_alloc-uid:\t%u\n",
		   from_kuid_munged(seq_user_ns(m), c->uid));
	seq_printf(m, "tt_alloc-cgroup-id:\t%llu\n", c->cgroup_id);
	for (d = 0; d < c->core->ndev; d++) {
		tt_client_read_dev(c, d, &fd);
		for (t = 0; t < TT_ALLOC_MEM_COUNT; t++)
			if (fd.entries[t])
				seq_printf(m, "tt_alloc-total-dev%u-%s:\t%llu\n",
					   d, tt_mem_names[t], fd.used[t]);
	}
}
