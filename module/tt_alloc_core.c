// SPDX-License-Identifier: GPL-2.0
/*
 * tt_alloc tracking core: entries, per-file and per-device counters,
 * reclaim and the sweep of exited recorders.
 *
 * Locking: &tt_core.clients_lock, then &tt_client.lock. The allocation
 * path takes only its own client's lock; device counters are atomics.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hash.h>
#include <linux/kernel.h>
#include <linux/math64.h>
#include <linux/overflow.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/rcupdate.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/string_helpers.h>

#include "tt_alloc.h"

#define CREATE_TRACE_POINTS
#include "tt_alloc_trace.h"

#include <kunit/visibility.h>

#define TT_HASH_MIN_BITS	4
#define TT_HASH_MAX_BITS	24

/**
 * struct tt_holder - references of one recorder to an entry that several
 *	recorders reference
 * @next: the entry's next holder
 * @rec: the recorder
 * @refs: its references, at least 1
 */
struct tt_holder {
	struct tt_holder *next;
	struct tt_recorder *rec;
	u32 refs;
};

/* &tt_entry.owner points to a list of &struct tt_holder. */
#define TT_OWNER_HOLDERS	1UL

/**
 * struct tt_entry - one tracked allocation
 * @node: in its client's hash bucket
 * @id: the runtime's id
 * @size: bytes
 * @owner: who holds the references: the &struct tt_recorder holding all of
 *	them, or, with %TT_OWNER_HOLDERS set, a list of &struct tt_holder,
 *	one per recorder (a fork child re-reporting a cached buffer), the
 *	first the one the entry is attributed to
 * @refs: references held, by every recorder together
 * @device: device number
 * @type: TT_ALLOC_MEM_*
 * @kind: TT_ALLOC_KERNEL_* for kernels
 *
 * Kept at 48 bytes: there can be a million of these per file; the holder
 * list costs memory only for the rare entries several processes reference.
 */
struct tt_entry {
	struct hlist_node node;
	u64 id;
	u64 size;
	unsigned long owner;
	u32 refs;
	u16 device;
	u8 type;
	u8 kind;
};

const char * const tt_mem_names[TT_ALLOC_MEM_COUNT] = {
	[TT_ALLOC_MEM_DRAM] = "dram",
	[TT_ALLOC_MEM_L1] = "l1",
	[TT_ALLOC_MEM_SYSTEM] = "system",
	[TT_ALLOC_MEM_L1_SMALL] = "l1_small",
	[TT_ALLOC_MEM_TRACE] = "trace",
	[TT_ALLOC_MEM_CB] = "cb",
	[TT_ALLOC_MEM_KERNEL] = "kernel",
};
EXPORT_SYMBOL_IF_KUNIT(tt_mem_names);

static struct kmem_cache *tt_entry_cache;

int tt_core_init_cache(void)
{
	tt_entry_cache = KMEM_CACHE(tt_entry, SLAB_ACCOUNT);
	return tt_entry_cache ? 0 : -ENOMEM;
}

void tt_core_exit_cache(void)
{
	kmem_cache_destroy(tt_entry_cache);
}

static bool tt_is_system_kernel(unsigned int type, unsigned int kind)
{
	return type == TT_ALLOC_MEM_KERNEL &&
	       (kind == TT_ALLOC_KERNEL_FABRIC ||
		kind == TT_ALLOC_KERNEL_DISPATCH);
}

/**
 * tt_pid_exited() - has every thread of a thread group exited?
 * @tgid: the thread group
 *
 * True once the group is reaped, and also while its leader is an unreaped
 * zombie with no live thread left: the memory it recorded is no longer in
 * use either way.
 *
 * Return: true if no thread of the group is alive.
 */
bool tt_pid_exited(struct pid *tgid)
{
	struct task_struct *task;
	bool exited;

	rcu_read_lock();
	task = pid_task(tgid, PIDTYPE_TGID);
	exited = !task || !atomic_read(&task->signal->live);
	rcu_read_unlock();
	return exited;
}
EXPORT_SYMBOL_IF_KUNIT(tt_pid_exited);

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
static int tt_charge(struct tt_core *core, struct tt_device *d,
		     unsigned int type, unsigned int kind, u64 size)
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
	spin_unlock(&d->lock);
	atomic64_inc(&ctr->entries);
	return 0;
}

static void tt_uncharge(struct tt_device *d, const struct tt_entry *e,
			bool reclaimed)
{
	struct tt_counter *ctr = &d->mem[e->type];

	spin_lock(&d->lock);
	tt_wide_sub(&ctr->used, e->size);
	if (tt_is_system_kernel(e->type, e->kind))
		tt_wide_sub(&d->system_bytes, e->size);
	if (reclaimed)
		tt_wide_add(&d->reclaimed_bytes, e->size);
	spin_unlock(&d->lock);
	atomic64_dec(&ctr->entries);
	if (reclaimed)
		atomic64_inc(&d->reclaimed_entries);
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
	spin_unlock(&d->lock);
	snap->entries = atomic64_read(&ctr->entries);
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
	for (i = 0; i < ndev; i++) {
		spin_lock_init(&core->devs[i].lock);
		core->devs[i].arch = "unknown";
	}
	return core;
}
EXPORT_SYMBOL_IF_KUNIT(tt_core_create);

/**
 * tt_core_destroy() - free an instance whose clients are all gone
 * @core: the instance
 */
void tt_core_destroy(struct tt_core *core)
{
	WARN_ON(!list_empty(&core->clients));
	mutex_destroy(&core->clients_lock);
	kfree(core);
}
EXPORT_SYMBOL_IF_KUNIT(tt_core_destroy);

/* ---- the per-client hash table ---- */

static unsigned int tt_hash(u32 device, u32 type, u64 id, unsigned int bits)
{
	return hash_64(id ^ hash_64(((u64)device << 8) | type, 64), bits);
}

static struct hlist_head *tt_bucket(struct tt_client *c, u32 device,
				    u32 type, u64 id)
{
	return &c->buckets[tt_hash(device, type, id, c->bits)];
}

static struct tt_entry *tt_lookup(struct tt_client *c, u32 device, u32 type,
				  u64 id)
{
	struct tt_entry *e;

	lockdep_assert_held(&c->lock);
	hlist_for_each_entry(e, tt_bucket(c, device, type, id), node)
		if (e->id == id && e->device == device && e->type == type)
			return e;
	return NULL;
}

/*
 * Keep the load factor at or below one. Resizing inline under the client
 * lock keeps the table simple (no RCU, no deferred work); the O(n) rehash
 * is amortised over the n insertions that triggered it. If the bigger
 * table cannot be had, the old one just gets more crowded.
 */
static void tt_maybe_grow(struct tt_client *c)
{
	unsigned int bits = c->bits + 1, i;
	struct hlist_head *nb;
	struct hlist_node *tmp;
	struct tt_entry *e;

	if (c->nr_entries < (1ULL << c->bits) || c->bits >= TT_HASH_MAX_BITS)
		return;
	nb = kvcalloc(1U << bits, sizeof(*nb), GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!nb)
		return;
	for (i = 0; i < (1U << c->bits); i++) {
		hlist_for_each_entry_safe(e, tmp, &c->buckets[i], node)
			hlist_add_head(&e->node,
				       &nb[tt_hash(e->device, e->type, e->id, bits)]);
		if (!(i & 1023))
			cond_resched();
	}
	kvfree(c->buckets);
	c->buckets = nb;
	c->bits = bits;
}

/* ---- clients ---- */

/**
 * tt_client_create() - a new, empty client
 * @core: the instance
 * @opener: thread group that opens it (a reference is taken)
 * @comm: the opener's command name
 *
 * Return: the client, or an ERR_PTR().
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
	mutex_init(&c->lock);
	INIT_LIST_HEAD(&c->recorders);
	kref_init(&c->ref);

	/* The id under the lock: the list stays sorted by id for the cursor. */
	mutex_lock(&core->clients_lock);
	c->id = ++core->next_client_id;
	list_add_tail(&c->node, &core->clients);
	mutex_unlock(&core->clients_lock);
	return c;
}
EXPORT_SYMBOL_IF_KUNIT(tt_client_create);

static struct tt_recorder *tt_find_recorder(struct tt_client *c,
					    struct pid *tgid)
{
	struct tt_recorder *r;

	if (c->last_rec && c->last_rec->tgid == tgid)
		return c->last_rec;
	list_for_each_entry(r, &c->recorders, node) {
		if (r->tgid == tgid) {
			c->last_rec = r;
			return r;
		}
	}
	return NULL;
}

static void tt_recorder_free(struct tt_client *c, struct tt_recorder *r)
{
	if (c->last_rec == r)
		c->last_rec = NULL;
	list_del(&r->node);
	put_pid(r->tgid);
	kfree(r);
}

static struct tt_recorder *tt_recorder_new(struct tt_client *c,
					   struct pid *tgid, const char *comm)
{
	struct tt_recorder *rec = kzalloc(sizeof(*rec), GFP_KERNEL_ACCOUNT);

	if (!rec)
		return NULL;
	rec->tgid = get_pid(tgid);
	strscpy(rec->comm, comm, sizeof(rec->comm));
	list_add_tail(&rec->node, &c->recorders);
	c->last_rec = rec;
	return rec;
}

/* The holders of @e, or NULL when one recorder holds every reference. */
static struct tt_holder *tt_entry_holders(const struct tt_entry *e)
{
	return e->owner & TT_OWNER_HOLDERS ?
	       (struct tt_holder *)(e->owner & ~TT_OWNER_HOLDERS) : NULL;
}

/* The recorder @e is attributed to: the first that holds a reference. */
static struct tt_recorder *tt_entry_rec(const struct tt_entry *e)
{
	struct tt_holder *h = tt_entry_holders(e);

	return h ? h->rec : (struct tt_recorder *)e->owner;
}

/* Down to one holder (or none left): back to a plain recorder pointer. */
static void tt_entry_collapse(struct tt_entry *e)
{
	struct tt_holder *h = tt_entry_holders(e);

	if (!h || h->next)
		return;
	e->owner = (unsigned long)h->rec;
	kfree(h);
}

/*
 * One more reference to @e, counted for the recorder of @tgid, which may
 * be new to the client or to the entry. On -ENOMEM nothing changed.
 */
static int tt_entry_get(struct tt_client *c, struct tt_entry *e,
			struct pid *tgid, const char *comm)
{
	struct tt_recorder *rec = tt_find_recorder(c, tgid);
	struct tt_holder *h = tt_entry_holders(e), *n, *first = NULL, **tail;

	if (!h && rec == (struct tt_recorder *)e->owner)
		goto done;
	for (tail = &h; *tail; tail = &(*tail)->next) {
		if ((*tail)->rec == rec) {
			(*tail)->refs++;
			goto done;
		}
	}
	/* A new holder; the first one too if the entry had a single recorder. */
	n = kmalloc(sizeof(*n), GFP_KERNEL_ACCOUNT);
	if (!n)
		return -ENOMEM;
	if (!h) {
		first = kmalloc(sizeof(*first), GFP_KERNEL_ACCOUNT);
		if (!first)
			goto err;
	}
	if (!rec) {
		rec = tt_recorder_new(c, tgid, comm);
		if (!rec)
			goto err;
	}
	n->rec = rec;
	n->refs = 1;
	n->next = NULL;
	if (first) {
		first->rec = (struct tt_recorder *)e->owner;
		first->refs = e->refs;
		first->next = n;
		e->owner = (unsigned long)first | TT_OWNER_HOLDERS;
	} else {
		*tail = n;	/* last: the attribution stays with the first */
	}
done:
	e->refs++;
	trace_alloc(c->id, tgid, e->device, e->type, e->kind, e->id, e->size,
		    e->refs);
	return 0;
err:
	kfree(first);
	kfree(n);
	return -ENOMEM;
}

/*
 * Drop one reference of @e: the caller's own if it holds one, else one
 * of the recorder the entry is attributed to (a FREE may come from another
 * process than the ALLOC, e.g. a buffer handed over to a child).
 */
static void tt_entry_put(struct tt_client *c, struct tt_entry *e,
			 struct pid *tgid)
{
	struct tt_recorder *rec = tt_find_recorder(c, tgid);
	struct tt_holder **hp, *h, *first = tt_entry_holders(e);

	e->refs--;
	if (!first)
		return;
	for (hp = &first; (h = *hp); hp = &h->next)
		if (h->rec == rec)
			break;
	if (!h)
		hp = &first;
	h = *hp;
	if (!--h->refs) {
		*hp = h->next;
		kfree(h);
	}
	e->owner = (unsigned long)first | TT_OWNER_HOLDERS;
	tt_entry_collapse(e);
}

static int tt_check_buffer(struct tt_core *core, const struct tt_alloc_buffer *b,
			   bool alloc)
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
		u64 cap = atomic64_read(&core->devs[b->device].mem[b->type].capacity);

		/* No device has it: a wrong size, not a full device. */
		if (cap && b->size > cap)
			return -EINVAL;
	}
	return 0;
}

static void tt_file_charge(struct tt_client *c, const struct tt_entry *e)
{
	struct tt_file_dev *fd = &c->dev[e->device];

	fd->used[e->type] += e->size;
	fd->entries[e->type]++;
	if (!fd->total++)
		atomic_inc(&c->core->devs[e->device].clients);
	c->nr_entries++;
	c->bytes += e->size;
}

/* Forget @e everywhere; when @reclaimed, count it as taken back. */
static void tt_entry_remove(struct tt_client *c, struct tt_entry *e,
			    bool reclaimed)
{
	struct tt_device *d = &c->core->devs[e->device];
	struct tt_file_dev *fd = &c->dev[e->device];

	hlist_del(&e->node);
	tt_uncharge(d, e, reclaimed);
	fd->used[e->type] -= e->size;
	fd->entries[e->type]--;
	if (!--fd->total)
		atomic_dec(&d->clients);
	c->nr_entries--;
	c->bytes -= e->size;
	kmem_cache_free(tt_entry_cache, e);
}

static int __tt_client_alloc(struct tt_client *c, const struct tt_alloc_buffer *b,
			     struct pid *tgid, const char *comm)
{
	struct tt_core *core = c->core;
	struct tt_recorder *rec;
	bool new_rec = false;
	struct tt_entry *e;
	int ret;

	lockdep_assert_held(&c->lock);
	ret = tt_check_buffer(core, b, true);
	if (ret)
		return ret;

	e = tt_lookup(c, b->device, b->type, b->id);
	if (e) {
		if (e->size != b->size || e->kind != b->kind)
			return -EEXIST;
		if (e->refs == U32_MAX)
			return -EOVERFLOW;
		return tt_entry_get(c, e, tgid, comm);
	}
	if (c->nr_entries >= READ_ONCE(core->limits->max_entries))
		return -EDQUOT;
	/* c->bytes <= 2^62 and size <= 2^40: the sum cannot wrap. */
	if (c->bytes + b->size > READ_ONCE(core->limits->max_bytes))
		return -EDQUOT;

	e = kmem_cache_alloc(tt_entry_cache, GFP_KERNEL_ACCOUNT);
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

	/* Last, so that nothing above can leave a transient peak behind. */
	ret = tt_charge(core, &core->devs[b->device], b->type, b->kind, b->size);
	if (ret)
		goto err_rec;

	e->id = b->id;
	e->size = b->size;
	e->owner = (unsigned long)rec;
	e->refs = 1;
	e->device = b->device;
	e->type = b->type;
	e->kind = b->kind;
	hlist_add_head(&e->node, tt_bucket(c, b->device, b->type, b->id));
	tt_file_charge(c, e);
	trace_alloc(c->id, tgid, e->device, e->type, e->kind, e->id, e->size, 1);
	tt_maybe_grow(c);
	return 0;

err_rec:
	if (new_rec)
		tt_recorder_free(c, rec);
err_entry:
	kmem_cache_free(tt_entry_cache, e);
	return ret;
}

static int __tt_client_free(struct tt_client *c, const struct tt_alloc_buffer *b,
			    struct pid *tgid)
{
	struct tt_entry *e;
	int ret;

	lockdep_assert_held(&c->lock);
	ret = tt_check_buffer(c->core, b, false);
	if (ret)
		return ret;
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
	tt_entry_remove(c, e, false);
	return 0;
}

/**
 * tt_client_alloc() - record an allocation, or take another reference
 * @c: the client
 * @b: the allocation
 * @tgid: thread group recording it
 * @comm: its command name
 *
 * Return: 0 or a negative errno as documented for TT_ALLOC_IOC_ALLOC; on
 * error nothing changed.
 */
int tt_client_alloc(struct tt_client *c, const struct tt_alloc_buffer *b,
		    struct pid *tgid, const char *comm)
{
	int ret;

	if (mutex_lock_killable(&c->lock))
		return -EINTR;
	ret = __tt_client_alloc(c, b, tgid, comm);
	mutex_unlock(&c->lock);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(tt_client_alloc);

/**
 * tt_client_free() - drop one reference to an allocation
 * @c: the client
 * @b: the allocation (size and kind are ignored)
 * @tgid: thread group freeing it (for tracing)
 *
 * Return: 0 or a negative errno as documented for TT_ALLOC_IOC_FREE; on
 * error nothing changed.
 */
int tt_client_free(struct tt_client *c, const struct tt_alloc_buffer *b,
		   struct pid *tgid)
{
	int ret;

	if (mutex_lock_killable(&c->lock))
		return -EINTR;
	ret = __tt_client_free(c, b, tgid);
	mutex_unlock(&c->lock);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(tt_client_free);

/**
 * tt_client_apply() - apply batch ops in order, stopping at the first error
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
int tt_client_apply(struct tt_client *c, const struct tt_alloc_op *ops,
		    unsigned int n, unsigned int *applied, struct pid *tgid,
		    const char *comm)
{
	unsigned int i;
	int ret = 0;

	*applied = 0;
	if (mutex_lock_killable(&c->lock))
		return -EINTR;
	for (i = 0; i < n; i++) {
		const struct tt_alloc_op *op = &ops[i];

		/* Between ops, each whole or not at all: a killed caller stops. */
		if (fatal_signal_pending(current))
			ret = -EINTR;
		else if (op->reserved)
			ret = -EINVAL;
		else if (op->op == TT_ALLOC_OP_ALLOC)
			ret = __tt_client_alloc(c, &op->buf, tgid, comm);
		else if (op->op == TT_ALLOC_OP_FREE)
			ret = __tt_client_free(c, &op->buf, tgid);
		else
			ret = -EINVAL;
		if (ret)
			break;
	}
	mutex_unlock(&c->lock);
	*applied = i;
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(tt_client_apply);

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
 * Return: 0, -EINVAL, -ENODEV or -EINTR.
 */
int tt_client_usage(struct tt_client *c, struct tt_alloc_usage *u)
{
	struct tt_core *core = c->core;
	unsigned int t;

	if (u->flags || u->reserved || u->scope > TT_ALLOC_SCOPE_DEVICE)
		return -EINVAL;
	if (u->device >= core->ndev)
		return -ENODEV;

	memset(u->used, 0, sizeof(u->used));
	memset(u->allocations, 0, sizeof(u->allocations));
	memset(u->peak, 0, sizeof(u->peak));
	memset(u->capacity, 0, sizeof(u->capacity));

	if (u->scope == TT_ALLOC_SCOPE_FILE) {
		struct tt_file_dev *fd = &c->dev[u->device];

		if (mutex_lock_killable(&c->lock))
			return -EINTR;
		for (t = 0; t < TT_ALLOC_MEM_COUNT; t++) {
			u->used[t] = fd->used[t];
			u->allocations[t] = fd->entries[t];
		}
		mutex_unlock(&c->lock);
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

/* ---- reclaim ---- */

static void tt_tally_add(struct tt_tally *t, const struct tt_entry *e)
{
	t->entries++;
	switch (e->type) {
	case TT_ALLOC_MEM_CB:
		t->cb_n++;
		t->cb_bytes += e->size;
		break;
	case TT_ALLOC_MEM_KERNEL:
		t->kern_n++;
		t->kern_bytes += e->size;
		if (tt_is_system_kernel(e->type, e->kind))
			t->sys_bytes += e->size;
		break;
	default:
		t->buf_n++;
		t->buf_bytes += e->size;
		break;
	}
}

static void tt_log_reclaim(const struct tt_recorder *r, const struct tt_tally *t,
			   bool swept)
{
	char buf[16], cb[16], kern[16], sys[16];

	string_get_size(t->buf_bytes, 1, STRING_UNITS_2, buf, sizeof(buf));
	string_get_size(t->cb_bytes, 1, STRING_UNITS_2, cb, sizeof(cb));
	string_get_size(t->kern_bytes, 1, STRING_UNITS_2, kern, sizeof(kern));
	string_get_size(t->sys_bytes, 1, STRING_UNITS_2, sys, sizeof(sys));
	pr_info_ratelimited("pid %d (%s) %sleft %llu allocations: reclaimed %llu buffers (%s), %llu CBs (%s), %llu kernels (%s, %s system)\n",
			    pid_nr(r->tgid), r->comm,
			    swept ? "exited with its file still open, " : "",
			    t->entries, t->buf_n, buf, t->cb_n, cb, t->kern_n,
			    kern, sys);
}

/*
 * Drop the references the dead recorders hold on @e. Return: the number
 * of references left; 0 means the entry goes, attributed (for the log and
 * the trace) to a dead recorder, its reference count left as it was.
 */
static u32 tt_entry_drop_dead(struct tt_entry *e)
{
	struct tt_holder **hp, *h, *first = tt_entry_holders(e);
	struct tt_recorder *dead = NULL;
	u32 left = e->refs;

	if (!first)
		return tt_entry_rec(e)->dead ? 0 : left;
	for (hp = &first; (h = *hp);) {
		if (!h->rec->dead) {
			hp = &h->next;
			continue;
		}
		dead = dead ?: h->rec;
		left -= h->refs;
		*hp = h->next;
		kfree(h);
	}
	if (!first) {
		e->owner = (unsigned long)dead;
		return 0;
	}
	/* Live holders are left: the entry is now attributed to the first. */
	e->refs = left;
	e->owner = (unsigned long)first | TT_OWNER_HOLDERS;
	tt_entry_collapse(e);
	return left;
}

/*
 * Remove the references of every recorder marked dead, and the entries
 * left without any, then log and free those recorders. One pass over the
 * table, however many died.
 */
static u64 tt_client_reclaim_dead(struct tt_client *c, bool swept)
{
	struct tt_recorder *r, *rtmp;
	struct hlist_node *tmp;
	struct tt_entry *e;
	unsigned int i;
	u64 nr = 0;

	lockdep_assert_held(&c->lock);
	for (i = 0; i < (1U << c->bits); i++) {
		hlist_for_each_entry_safe(e, tmp, &c->buckets[i], node) {
			if (tt_entry_drop_dead(e))
				continue;
			tt_tally_add(&tt_entry_rec(e)->tally, e);
			trace_reclaim(c->id, tt_entry_rec(e)->tgid, e->device, e->type,
				      e->kind, e->id, e->size, e->refs);
			tt_entry_remove(c, e, true);
			nr++;
		}
		if (!(i & 1023))
			cond_resched();
	}
	list_for_each_entry_safe(r, rtmp, &c->recorders, node) {
		if (!r->dead)
			continue;
		if (r->tally.entries)
			tt_log_reclaim(r, &r->tally, swept);
		tt_recorder_free(c, r);
	}
	return nr;
}

/* kref release, called with &tt_core.clients_lock held: see tt_client_put(). */
static void tt_client_release(struct kref *ref)
{
	struct tt_client *c = container_of(ref, struct tt_client, ref);

	list_del(&c->node);
	mutex_unlock(&c->core->clients_lock);

	WARN_ON(c->nr_entries || !list_empty(&c->recorders));
	mutex_destroy(&c->lock);
	kvfree(c->buckets);
	put_pid(c->opener);
	kfree(c);
}

/* Put a reference; the last one frees the client. Never with a lock held. */
static void tt_client_put(struct tt_client *c)
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
static struct tt_client *tt_client_next(struct tt_core *core,
					struct tt_client *prev, bool killable)
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
 * tt_client_destroy() - reclaim everything a client holds, put the file's
 *	reference
 * @c: the client of a file being released
 *
 * Takes no global lock while reclaiming: other files' open() and close()
 * never wait for it. Walkers still holding a reference keep the (empty)
 * client until they put it.
 */
void tt_client_destroy(struct tt_client *c)
{
	struct tt_recorder *r;

	mutex_lock(&c->lock);
	WRITE_ONCE(c->closed, true);
	list_for_each_entry(r, &c->recorders, node)
		r->dead = true;
	tt_client_reclaim_dead(c, false);
	mutex_unlock(&c->lock);
	tt_client_put(c);
}
EXPORT_SYMBOL_IF_KUNIT(tt_client_destroy);

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
 * recorders did, under that client's lock alone.
 *
 * Return: entries reclaimed.
 */
unsigned int tt_core_sweep(struct tt_core *core)
{
	struct tt_recorder *r;
	struct tt_client *c = NULL;
	unsigned int nr = 0;
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
		mutex_unlock(&c->lock);
		cond_resched();
	}
	return nr;
}
EXPORT_SYMBOL_IF_KUNIT(tt_core_sweep);

static void tt_fill_row(struct tt_alloc_client *row, struct tt_client *c,
			pid_t nr, u32 device, u32 flags)
{
	unsigned int t;

	memset(row, 0, sizeof(*row));
	row->client_id = c->id;
	row->pid = nr;
	row->device = device;
	row->flags = flags;
	strscpy(row->comm, c->comm, sizeof(row->comm));
	if (device == TT_ALLOC_DEVICE_NONE)
		return;
	for (t = 0; t < TT_ALLOC_MEM_COUNT; t++) {
		row->used[t] = c->dev[device].used[t];
		row->allocations[t] = c->dev[device].entries[t];
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
 * @after_id: cursor: only rows after (@after_id, @after_device) count;
 *	0 for all rows (client ids start at 1)
 * @after_device: the cursor's device
 * @rows: where to write rows, may be NULL when @room is 0
 * @room: rows that fit in @rows
 * @total: out: the number of rows after the cursor (the first @room are
 *	written)
 *
 * One row per client and device it holds entries on; one row with
 * %TT_ALLOC_DEVICE_NONE for a client holding nothing. Rows come in
 * (client id, device) order: the list is kept sorted by id. Each client
 * is locked alone, so a client busy with a long reclaim or rehash delays
 * this caller only, and the wait can be killed.
 *
 * Return: 0, or -EINTR on a fatal signal.
 */
int tt_core_list_clients(struct tt_core *core, struct pid_namespace *ns,
			 u64 after_id, u32 after_device,
			 struct tt_alloc_client *rows, u32 room, u32 *total)
{
	struct tt_client *c = NULL;
	unsigned int d;
	u32 n = 0, flags;
	bool held;
	pid_t nr;

	for (;;) {
		c = tt_client_next(core, c, true);
		if (IS_ERR_OR_NULL(c))
			break;
		if (c->id < after_id)
			continue;
		nr = pid_nr_ns(c->opener, ns);
		if (!nr)
			continue;
		flags = tt_pid_exited(c->opener) ? TT_ALLOC_CLIENT_OPENER_EXITED : 0;
		held = false;
		if (mutex_lock_killable(&c->lock)) {
			tt_client_put(c);
			return -EINTR;
		}
		for (d = 0; d < core->ndev; d++) {
			if (!c->dev[d].total)
				continue;
			held = true;
			if (!tt_row_after(c->id, d, after_id, after_device))
				continue;
			if (n < room)
				tt_fill_row(&rows[n], c, nr, d, flags);
			n++;
		}
		mutex_unlock(&c->lock);
		if (!held && tt_row_after(c->id, TT_ALLOC_DEVICE_NONE, after_id,
					  after_device)) {
			if (n < room)
				tt_fill_row(&rows[n], c, nr, TT_ALLOC_DEVICE_NONE,
					    flags);
			n++;
		}
	}
	if (IS_ERR(c))
		return PTR_ERR(c);
	*total = n;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(tt_core_list_clients);

/**
 * tt_client_show_fdinfo() - per-file usage, DRM usage-stats style
 * @c: the client
 * @m: fdinfo seq_file
 */
void tt_client_show_fdinfo(struct tt_client *c, struct seq_file *m)
{
	unsigned int d, t;

	seq_printf(m, "tt_alloc-client-id:\t%llu\n", c->id);
	mutex_lock(&c->lock);
	for (d = 0; d < c->core->ndev; d++)
		for (t = 0; t < TT_ALLOC_MEM_COUNT; t++)
			if (c->dev[d].entries[t])
				seq_printf(m, "tt_alloc-total-dev%u-%s:\t%llu\n",
					   d, tt_mem_names[t], c->dev[d].used[t]);
	mutex_unlock(&c->lock);
}

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

const struct seq_operations tt_entries_sops = {
	.start = tt_entries_start,
	.next = tt_entries_next,
	.stop = tt_entries_stop,
	.show = tt_entries_show,
};
