// SPDX-License-Identifier: GPL-2.0
/*
 * tt_alloc operations: ALLOC, FREE, BATCH and USAGE on one client's
 * entries (tt_alloc_entry.c). ALLOC, FREE and BATCH run under the
 * client's own lock; the device counters are charged under their own
 * leaf lock. Only BATCH's bulk slab calls are made without any lock: the
 * entries are allocated before the client's lock is taken and freed after
 * it is dropped, so no lock is held across slab work proportional to a
 * batch. A BATCH step also charges the device counters once per (device,
 * type) it changed rather than once per op (tt_device_apply()). That
 * bookkeeping stays in this file, passed down as a parameter: the entries
 * and reclaim know nothing of it.
 */
#include <linux/kernel.h>
#include <linux/nospec.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "tt_alloc_compat.h"
#include "tt_alloc_priv.h"

#define CREATE_TRACE_POINTS
#include "tt_alloc_trace.h"

#include <kunit/visibility.h>

/* Entries allocated in bulk for a BATCH chunk, and those it freed. */
#define TT_BULK		32
/* (device, type) pairs whose counter changes a BATCH step accumulates. */
#define TT_DEFER	4

/**
 * struct tt_defer - a BATCH step's changes of one device's memory type
 * @device: the device
 * @type: the memory type
 * @bytes: net change of its used bytes
 * @max_prefix: highest running sum of the changes (0 before the first)
 * @entries: net change of its entries
 */
struct tt_defer {
	u32 device;
	u32 type;
	s64 bytes;
	s64 max_prefix;
	s64 entries;
};

/**
 * struct tt_bulk - the slab work of one BATCH step, done outside the lock
 * @fresh: entries allocated before taking the client's lock
 * @nr_fresh: how many of @fresh are left
 * @dead: entries removed under the lock, freed after dropping it
 * @nr_dead: how many
 * @defer: device counter changes, applied once per pair at the step's end
 * @nr_defer: pairs in use
 *
 * A BATCH step hands it to the helpers of each of its ops; ALLOC and FREE
 * outside BATCH pass NULL, and the helpers then charge the device
 * counters and call the slab themselves.
 */
struct tt_bulk {
	void *fresh[TT_BULK];
	unsigned int nr_fresh;
	void *dead[TT_BULK];
	unsigned int nr_dead;
	struct tt_defer defer[TT_DEFER];
	unsigned int nr_defer;
};

/* Apply the step's accumulated device counter changes. */
static void tt_defer_flush(struct tt_client *c, struct tt_bulk *bulk)
{
	unsigned int i;

	for (i = 0; i < bulk->nr_defer; i++) {
		struct tt_defer *df = &bulk->defer[i];

		tt_device_apply(&c->core->devs[df->device], df->type, df->bytes,
				df->max_prefix, df->entries);
	}
	bulk->nr_defer = 0;
}

/*
 * The slot accumulating (@device, @type) in a BATCH step, or NULL when
 * the change must be charged now: outside BATCH (@bulk NULL), for kernels
 * (system bytes), and for a type whose capacity is enforced (the check
 * must see every change). Before such a direct charge the step's pending
 * changes are applied, so that it sees them.
 */
static struct tt_defer *tt_defer_slot(struct tt_client *c,
				      struct tt_bulk *bulk, u32 device,
				      u32 type)
{
	struct tt_defer *df;
	unsigned int i;

	if (!bulk)
		return NULL;
	if (type == TT_ALLOC_MEM_KERNEL ||
	    (READ_ONCE(c->core->limits->enforce_capacity) &&
	     atomic64_read(&c->core->devs[device].mem[type].capacity))) {
		tt_defer_flush(c, bulk);
		return NULL;
	}
	for (i = 0; i < bulk->nr_defer; i++) {
		df = &bulk->defer[i];
		if (df->device == device && df->type == type)
			return df;
	}
	if (bulk->nr_defer == TT_DEFER)
		tt_defer_flush(c, bulk);
	df = &bulk->defer[bulk->nr_defer++];
	*df = (struct tt_defer){ .device = device, .type = type };
	return df;
}

/* A new entry: a spare one, one of the BATCH step's @bulk, or the slab's. */
static struct tt_entry *tt_entry_alloc(struct tt_client *c,
				       struct tt_bulk *bulk)
{
	lockdep_assert_held(&c->lock);
	if (bulk && bulk->nr_fresh && hlist_empty(&c->spare))
		return bulk->fresh[--bulk->nr_fresh];
	return tt_entry_new(c);
}

/*
 * Give back @e, already off the table: keep it if there is room, else
 * leave it to the BATCH step's @bulk to free after the lock is dropped.
 */
static void tt_entry_recycle(struct tt_client *c, struct tt_bulk *bulk,
			     struct tt_entry *e)
{
	lockdep_assert_held(&c->lock);
	if (bulk && c->nr_spare >= TT_SPARE_MAX && bulk->nr_dead < TT_BULK)
		bulk->dead[bulk->nr_dead++] = e;
	else
		tt_entry_give_back(c, e);
}

/*
 * tt_entry_remove() for FREE: the device counters are charged through
 * the BATCH step's @bulk (directly when it is NULL), and the entry's
 * memory is left to it.
 */
static void tt_entry_forget(struct tt_client *c, struct tt_bulk *bulk,
			    struct tt_entry *e)
{
	struct tt_defer *df = tt_defer_slot(c, bulk, e->device, e->type);

	if (df) {
		df->bytes -= e->size;
		df->entries--;
	} else {
		tt_uncharge(&c->core->devs[e->device], e->type, e->kind,
			    e->size, false);
	}
	tt_entry_unlink(c, e);
	tt_entry_recycle(c, bulk, e);
}

static int tt_check_buffer(struct tt_core *core,
			   const struct tt_alloc_buffer *b, bool alloc)
{
	if (b->flags || b->type >= TT_ALLOC_MEM_COUNT)
		return -EINVAL;
	if (alloc) {
		if (!b->size || b->size > TT_ALLOC_SIZE_MAX)
			return -EINVAL;
		if (b->type == TT_ALLOC_MEM_KERNEL ?
		    b->kind > TT_ALLOC_KERNEL_DISPATCH : b->kind)
			return -EINVAL;
	}
	if (b->device >= core->ndev)
		return -ENODEV;
	if (alloc) {
		u32 dev = array_index_nospec(b->device, core->ndev);
		u32 type = array_index_nospec(b->type, TT_ALLOC_MEM_COUNT);
		u64 cap = atomic64_read(&core->devs[dev].mem[type].capacity);

		/* No device has it: a wrong size, not a full device. */
		if (cap && b->size > cap)
			return -EINVAL;
	}
	return 0;
}

/*
 * @b with its caller-chosen indices clamped under speculation, once
 * tt_check_buffer() accepted them: they index the device and type arrays.
 */
static void tt_buffer_nospec(struct tt_core *core, struct tt_alloc_buffer *b)
{
	b->device = array_index_nospec(b->device, core->ndev);
	b->type = array_index_nospec(b->type, TT_ALLOC_MEM_COUNT);
}

/* ALLOC under @c's lock; @bulk is the BATCH step's, or NULL. */
static int __tt_client_record_alloc(struct tt_client *c, struct tt_bulk *bulk,
				    const struct tt_alloc_buffer *ub,
				    struct pid *tgid, const char *comm)
{
	struct tt_alloc_buffer nb = *ub, *b = &nb;
	struct dmem_cgroup_pool_state *pool;
	struct tt_core *core = c->core;
	struct tt_recorder *rec;
	struct tt_defer *df;
	bool new_rec = false;
	struct tt_entry *e;
	int ret;

	lockdep_assert_held(&c->lock);
	ret = tt_check_buffer(core, b, true);
	if (ret)
		return ret;
	tt_buffer_nospec(core, b);

	e = tt_lookup(c, b->device, b->type, b->id);
	if (e) {
		if (e->size != b->size || e->kind != b->kind)
			return -EEXIST;
		if (e->refs == U32_MAX)
			return -EOVERFLOW;
		return tt_entry_get(c, e, tgid, comm);
	}
	if (c->nr_holdings >= READ_ONCE(core->limits->max_entries))
		return -EDQUOT;
	/* c->bytes <= 2^62 and size <= 2^40: the sum cannot wrap. */
	if (c->bytes + b->size > (u64)atomic64_read(&core->limits->max_bytes))
		return -EDQUOT;

	e = tt_entry_alloc(c, bulk);
	if (!e)
		return -ENOMEM;
	rec = tt_find_recorder(c, tgid);
	if (!rec) {
		rec = tt_recorder_new(c, tgid, comm);
		if (!rec) {
			ret = -ENOMEM;
			goto err_entry;
		}
		new_rec = true;
	}
	ret = tt_holding_charge(c, rec);
	if (ret)
		goto err_rec;
	ret = tt_entry_own(c, e, rec);
	if (ret)
		goto err_holding;
	/* The recorder's cgroup, now: a dmem.max there or above is EDQUOT. */
	ret = tt_dmem_charge(core->devs[b->device].dmem[b->type], b->size,
			     &pool);
	if (ret)
		goto err_own;

	/* Last, so that nothing above can leave a transient peak behind. */
	df = tt_defer_slot(c, bulk, b->device, b->type);
	if (df) {
		df->bytes += b->size;
		df->max_prefix = max(df->max_prefix, df->bytes);
		df->entries++;
	} else {
		ret = tt_charge(core, &core->devs[b->device], b->type, b->kind,
				b->size);
		if (ret)
			goto err_dmem;
	}

	e->id = b->id;
	e->size = b->size;
	e->refs = 1;
	e->device = b->device;
	e->type = b->type;
	e->kind = b->kind;
	tt_entry_set_pool(e, pool);
	tt_entry_insert(c, e);
	trace_alloc(c->id, tgid, e->device, e->type, e->kind, e->id, e->size, 1);
	return 0;

err_dmem:
	tt_dmem_uncharge(pool, b->size);
err_own:
	tt_entry_disown(c, e);
	goto err_rec;
err_holding:
	tt_holding_uncharge(c, rec);
err_rec:
	if (new_rec)
		tt_recorder_free(c, rec);
err_entry:
	tt_entry_recycle(c, bulk, e);
	return ret;
}

/* FREE under @c's lock; @bulk is the BATCH step's, or NULL. */
static int __tt_client_record_free(struct tt_client *c, struct tt_bulk *bulk,
				   const struct tt_alloc_buffer *ub,
				   struct pid *tgid)
{
	struct tt_alloc_buffer nb = *ub, *b = &nb;
	struct tt_entry *e;
	int ret;

	lockdep_assert_held(&c->lock);
	ret = tt_check_buffer(c->core, b, false);
	if (ret)
		return ret;
	tt_buffer_nospec(c->core, b);
	e = tt_lookup(c, b->device, b->type, b->id);
	if (!e)
		return -ENOENT;
	tt_entry_put(c, e, tgid);
	trace_free(c->id, tgid, e->device, e->type, e->kind, e->id, e->size,
		   e->refs);
	if (e->refs)
		return 0;

	/*
	 * A recorder is freed with its last entry only when it has died
	 * (the sweep's job); a live one is likely to record again.
	 */
	tt_entry_forget(c, bulk, e);
	return 0;
}

/**
 * tt_client_record_alloc() - record an allocation, or take another reference
 * @c: the client
 * @b: the allocation
 * @tgid: thread group recording it
 * @comm: its command name
 *
 * Return: 0 or a negative errno as documented for TT_ALLOC_IOC_ALLOC; on
 * error nothing changed.
 */
int tt_client_record_alloc(struct tt_client *c, const struct tt_alloc_buffer *b,
			   struct pid *tgid, const char *comm)
{
	int ret;

	if (mutex_lock_killable(&c->lock))
		return -EINTR;
	ret = __tt_client_record_alloc(c, NULL, b, tgid, comm);
	mutex_unlock(&c->lock);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(tt_client_record_alloc);

/**
 * tt_client_record_free() - drop one reference to an allocation
 * @c: the client
 * @b: the allocation (size and kind are ignored)
 * @tgid: thread group freeing it (for tracing)
 *
 * Return: 0 or a negative errno as documented for TT_ALLOC_IOC_FREE; on
 * error nothing changed.
 */
int tt_client_record_free(struct tt_client *c, const struct tt_alloc_buffer *b,
			  struct pid *tgid)
{
	int ret;

	if (mutex_lock_killable(&c->lock))
		return -EINTR;
	ret = __tt_client_record_free(c, NULL, b, tgid);
	mutex_unlock(&c->lock);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(tt_client_record_free);

/*
 * Up to %TT_BULK ops under one hold of the client's lock. The entries
 * its ALLOCs may need beyond the client's cache are allocated in one
 * kmem_cache_alloc_bulk() before the lock is taken, and the entries its
 * FREEs remove beyond the cache are freed in one kmem_cache_free_bulk()
 * after it is dropped: no slab call per op, and none under the lock.
 */
static int tt_client_batch_step(struct tt_client *c,
				const struct tt_alloc_op *ops, unsigned int n,
				unsigned int *applied, struct pid *tgid,
				const char *comm)
{
	struct tt_bulk bulk = { };
	unsigned int i, want = 0;
	int ret = 0;

	for (i = 0; i < n; i++)
		want += ops[i].op == TT_ALLOC_OP_ALLOC;
	/* Racy: a guess at what the cache will not cover; either way is fine. */
	want -= min(want, READ_ONCE(c->nr_spare));
	if (want && tt_cache_alloc_bulk(tt_entry_cache, GFP_KERNEL_ACCOUNT,
					want, bulk.fresh))
		bulk.nr_fresh = want;

	i = 0;
	if (mutex_lock_killable(&c->lock)) {
		ret = -EINTR;
		goto out;
	}
	for (; i < n; i++) {
		const struct tt_alloc_op *op = &ops[i];

		/* Between ops, each whole or not at all: a killed caller stops. */
		if (fatal_signal_pending(current))
			ret = -EINTR;
		else if (op->reserved)
			ret = -EINVAL;
		else if (op->op == TT_ALLOC_OP_ALLOC)
			ret = __tt_client_record_alloc(c, &bulk, &op->buf,
						       tgid, comm);
		else if (op->op == TT_ALLOC_OP_FREE)
			ret = __tt_client_record_free(c, &bulk, &op->buf,
						      tgid);
		else
			ret = -EINVAL;
		if (ret)
			break;
	}
	tt_defer_flush(c, &bulk);
	/* What the ops did not use goes to the spare entries while there is room. */
	while (bulk.nr_fresh && c->nr_spare < TT_SPARE_MAX)
		tt_entry_give_back(c, bulk.fresh[--bulk.nr_fresh]);
	mutex_unlock(&c->lock);
out:
	*applied = i;
	if (bulk.nr_fresh)
		kmem_cache_free_bulk(tt_entry_cache, bulk.nr_fresh, bulk.fresh);
	if (bulk.nr_dead)
		kmem_cache_free_bulk(tt_entry_cache, bulk.nr_dead, bulk.dead);
	return ret;
}

/**
 * tt_client_record_batch() - apply batch ops in order, stopping at the first error
 * @c: the client
 * @ops: the ops
 * @n: how many
 * @applied: out: ops applied before the first error
 * @tgid: thread group recording them
 * @comm: its command name
 *
 * Return: 0, or the error of op number *@applied, which changed nothing
 * (-EINTR when a fatal signal came before it).
 */
int tt_client_record_batch(struct tt_client *c, const struct tt_alloc_op *ops,
			   unsigned int n, unsigned int *applied, struct pid *tgid,
		    const char *comm)
{
	unsigned int i = 0, step;
	int ret = 0;

	while (!ret && i < n) {
		ret = tt_client_batch_step(c, ops + i, min(n - i, TT_BULK),
					   &step, tgid, comm);
		i += step;
	}
	*applied = i;
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(tt_client_record_batch);

/**
 * tt_client_refs() - references held on an entry
 * @c: the client
 * @device: device
 * @type: memory type
 * @id: the runtime's id
 *
 * Return: the reference count, 0 if the client does not hold the entry.
 */
u32 tt_client_refs(struct tt_client *c, u32 device, u32 type, u64 id)
{
	struct tt_entry *e;
	u32 refs;

	mutex_lock(&c->lock);
	e = tt_lookup(c, device, type, id);
	refs = e ? e->refs : 0;
	mutex_unlock(&c->lock);
	return refs;
}
EXPORT_SYMBOL_IF_KUNIT(tt_client_refs);

/**
 * tt_client_usage() - fill a usage query
 * @c: the client asking
 * @u: the query; its input fields are validated here
 *
 * Return: 0, -EINVAL or -ENODEV.
 */
int tt_client_usage(struct tt_client *c, struct tt_alloc_usage *u)
{
	struct tt_core *core = c->core;
	unsigned int t;

	if (u->flags || u->reserved || u->scope > TT_ALLOC_SCOPE_DEVICE)
		return -EINVAL;
	if (u->device >= core->ndev)
		return -ENODEV;
	u->device = array_index_nospec(u->device, core->ndev);

	memset(u->used, 0, sizeof(u->used));
	memset(u->allocations, 0, sizeof(u->allocations));
	memset(u->peak, 0, sizeof(u->peak));
	memset(u->capacity, 0, sizeof(u->capacity));

	if (u->scope == TT_ALLOC_SCOPE_FILE) {
		struct tt_file_dev fd;

		tt_client_read_dev(c, u->device, &fd);
		for (t = 0; t < TT_ALLOC_MEM_COUNT; t++) {
			u->used[t] = fd.used[t];
			u->allocations[t] = fd.entries[t];
		}
		return 0;
	}

	for (t = 0; t < TT_ALLOC_MEM_COUNT; t++) {
		struct tt_counter_snap snap;

		tt_device_read(&core->devs[u->device], t, &snap);
		u->used[t] = snap.used;
		u->allocations[t] = snap.entries;
		u->peak[t] = snap.peak;
		u->capacity[t] = snap.capacity;
	}
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(tt_client_usage);
