/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tt_alloc tracking core internals, shared by its files only:
 *
 *   tt_alloc_device.c    per-device counters, capacities, the instance
 *   tt_alloc_entry.c     entries: their memory, a client's table, its totals
 *   tt_alloc_ops.c       ALLOC, FREE, BATCH and USAGE on a client's entries
 *   tt_alloc_recorder.c  who holds an entry's references; reclaim
 *   tt_alloc_client.c    client lifetime, the sweep, the client list, fdinfo
 *   tt_alloc_debugfs.c   the debugfs dump of every entry
 *
 * Locking and lifetime
 * ====================
 *
 * Locks, never more than one of each kind held:
 *
 *   &tt_client.lock          a client's table, recorders, spare entries and
 *                            totals; held across work proportional to that
 *                            client's size only (its ops, its reclaim, a
 *                            rehash)
 *     &tt_device.lock        leaf: a few additions to device counters
 *     &tt_core.users_lock    leaf: a &struct tt_user found, made or freed
 *   &tt_core.clients_lock    list insertions and removals only; never
 *                            held with a &tt_client.lock
 *
 * A new entry's dmem cgroup charge is taken under its client's lock and
 * may sleep (the controller makes a cgroup's pool on first use); it is
 * dropped when the entry is unlinked, from whatever context unlinks it.
 *
 * Readers take neither a client's lock nor the list's: the client list,
 * fdinfo and USAGE read &tt_core.clients under rcu_read_lock() and a
 * client's totals under &tt_client.totals_seq (written under its lock,
 * preemption off, a few additions per entry); sysfs and USAGE read the
 * device counters under the leaf &tt_device.lock. No reader waits for
 * another client's work.
 *
 * A client lives from open() to the last put of &tt_client.ref. The open
 * file holds one reference; walkers that need the client's lock (sweep,
 * debugfs dump) take one under &tt_core.clients_lock and drop that lock
 * before taking the client's; CLIENTS holds one on the client of the last
 * row of each pass. release() reclaims every entry under the client's
 * lock, sets &tt_client.closed and puts the file's reference; when the
 * releasing process never recorded in the file, the module's workqueue
 * does the reclaim and the put (tt_client_release_file()). Whoever puts
 * the last one takes the client off the list (kref_put_mutex() with
 * &tt_core.clients_lock, so a client on the list always has a reference a
 * walker may take) and frees it after an RCU grace period, which lockless
 * readers may still be in. Nobody else frees a client.
 *
 * An entry is in its client's table, or among its spare entries, and changes
 * only under the client's lock; BATCH frees the entries it took off the
 * table in bulk after dropping the lock. A &struct tt_holder is on its
 * entry's ring and its recorder's list and goes when either lets it go,
 * under the same lock. A recorder lives in its client until it died and
 * was reclaimed, or the client is released; it charges a &struct tt_user,
 * which outlives its last recorder by one log interval and is freed by
 * the sweep.
 */
#ifndef _TT_ALLOC_PRIV_H
#define _TT_ALLOC_PRIV_H

#include <linux/slab.h>
#include <linux/workqueue.h>

#include "tt_alloc.h"
#include "tt_alloc_compat.h"

/**
 * struct tt_tally - what a recorder left behind, for the reclaim log line
 * @entries: entries of every type
 * @buf_n: buffers (DRAM, L1, SYSTEM, L1_SMALL, TRACE)
 * @buf_bytes: their bytes
 * @cb_n: circular buffers
 * @cb_bytes: their bytes
 * @kern_n: kernels
 * @kern_bytes: their bytes
 * @sys_bytes: bytes of the system (fabric and dispatch) kernels among them
 */
struct tt_tally {
	u64 entries;
	u64 buf_n, buf_bytes;
	u64 cb_n, cb_bytes;
	u64 kern_n, kern_bytes, sys_bytes;
};

/**
 * struct tt_user - what one user keeps in the kernel, all files together
 * @ref: one per &struct tt_recorder charging it; 0 while it lingers
 * @uid: the real uid
 * @holdings: holdings of its recorders in every file, at most
 *	&tt_limits.max_user (see &tt_client.nr_holdings)
 * @log_rs: the rate of its recorders' reclaim log lines, so that one
 *	user's processes cannot silence everyone else's
 * @idle_since: jiffies when @ref dropped to 0
 *
 * Without it a user could multiply the per-file cap by opening files up
 * to its RLIMIT_NOFILE, or by forking processes that each hold entries.
 * When its last recorder goes it lingers, unreferenced, until the sweep
 * after @log_rs's interval: a user whose processes each record and exit
 * one after the other must not get a fresh log allowance every time.
 */
struct tt_user {
	refcount_t ref;
	kuid_t uid;
	atomic_long_t holdings;
	struct ratelimit_state log_rs;
	unsigned long idle_since;
};

/**
 * struct tt_recorder - a thread group that recorded entries in a client
 * @node: in &tt_client.recorders
 * @tgid: the thread group; a reference, so a reused pid number never
 *	matches it
 * @user: the user its holdings are charged to: the real uid of the
 *	thread that created it, i.e. that recorded first in this file
 * @comm: its command name when it first recorded; gone once it exits
 * @holders: its &struct tt_holder; every reference it holds is on one
 *	unless it is the file's opener
 * @opener: it is the thread group that opened the file: entries it alone
 *	references carry no holder
 * @dead: its entries are being reclaimed
 * @tally: what was reclaimed, while @dead
 */
struct tt_recorder {
	struct list_head node;
	struct pid *tgid;
	struct tt_user *user;
	char comm[TASK_COMM_LEN];
	struct list_head holders;
	bool opener;
	bool dead;
	struct tt_tally tally;
};

/*
 * Freed entries a client keeps for its next ALLOCs, see &tt_client.spare:
 * up to TT_SPARE_MAX while it works, so that a runtime freeing and
 * allocating thousands of buffers in turn makes no slab call; every sweep
 * trims it to TT_SPARE_KEEP, so that an idle file keeps little.
 */
#define TT_SPARE_MAX	4096
#define TT_SPARE_KEEP	128

/**
 * struct tt_client - the tracking state of one open file
 * @core: the instance it belongs to
 * @id: client id, unique for the life of the module
 * @opener: thread group that opened the file
 * @comm: the opener's command name
 * @uid: the opener's real uid
 * @cgroup_id: the opener's cgroup v2 cgroup, 0 without %CONFIG_CGROUPS
 * @node: in &tt_core.clients, an RCU list
 * @ref: references, see below
 * @closed: the file was released; the client only waits for its walkers
 *	and, after a bystander's release, for @close_work
 * @close_work: reclaims for a bystander, see tt_client_release_file()
 * @rcu: frees the client after the readers of the list are done with it
 * @totals_seq: lets readers copy one device of @dev without @lock: written
 *	under @lock with preemption disabled, a few additions per entry, so a
 *	reader retries at most for that long, whatever the size of the
 *	client's work under @lock
 * @lock: protects everything below
 *
 * Lifetime and locks: "Locking and lifetime" in tt_alloc_priv.h. Lockless
 * readers read only @id, @opener, @comm, @uid, @cgroup_id, @closed and
 * @dev, the first five never written after tt_client_create(); @opener is put
 * when the client is freed, after the grace period.
 * @buckets: hash table of &struct tt_entry, keyed by (device, type, id)
 * @bits: log2 of the number of @buckets
 * @nr_entries: entries in the table
 * @nr_holdings: what counts against &tt_limits.max_entries: one per
 *	recorder per entry it holds references to, i.e. each entry
 *	without holders and each &struct tt_holder, so that forked
 *	children re-ALLOCing a file's entries cannot grow it past its cap
 * @bytes: bytes of all entries, at most &tt_limits.max_bytes
 * @recorders: &struct tt_recorder of this client
 * @reclaim_visited: entries reclaim has looked at, for the tests of its
 *	cost: a table walk looks at every entry, another recorder's exit
 *	only at its own
 * @last_rec: the recorder used last, so one process costs no list walk
 * @spare: freed entries kept for reuse, linked through &tt_entry.node,
 *	so that an ALLOC after a FREE costs no slab round trip: at most
 *	%TT_SPARE_MAX of them (192 KiB), and at most
 *	%TT_SPARE_KEEP (6 KiB) after each sweep, which a file idle
 *	since then keeps
 * @nr_spare: entries on @spare; written under @lock, read locklessly by
 *	BATCH to size its bulk kmalloc
 * @dev: per-device totals, @core->ndev of them
 */
struct tt_client {
	struct tt_core *core;
	u64 id;
	struct pid *opener;
	char comm[TASK_COMM_LEN];
	kuid_t uid;
	u64 cgroup_id;
	struct list_head node;
	struct kref ref;
	bool closed;
	struct work_struct close_work;
	struct rcu_head rcu;
	seqcount_t totals_seq;

	struct mutex lock;		/* guards the table and totals */
	struct hlist_head *buckets;
	unsigned int bits;
	u64 nr_entries;
	u64 nr_holdings;
	u64 bytes;
	struct list_head recorders;
	u64 reclaim_visited;
	struct tt_recorder *last_rec;
	struct hlist_head spare;
	unsigned int nr_spare;
	struct tt_file_dev dev[];
};

/**
 * struct tt_holder - one recorder's references to an entry
 * @enode: in the ring of the entry's holders, which has no head: the
 *	entry points to its first holder
 * @rnode: in &tt_recorder.holders
 * @rec: the recorder
 * @entry: the entry
 * @refs: its references, at least 1 while the entry lives
 *
 * Every reference a recorder other than the file's opener holds is on a
 * holder, so that its exit finds them in O(its references) without a
 * walk of the table (see tt_client_reclaim_dead()).
 */
struct tt_holder {
	struct list_head enode;
	struct list_head rnode;
	struct tt_recorder *rec;
	struct tt_entry *entry;
	u32 refs;
};

/* &tt_entry.owner points to the first of a ring of &struct tt_holder. */
#define TT_OWNER_HOLDERS	1UL

/**
 * struct tt_entry - one tracked allocation
 * @node: in its client's hash bucket
 * @id: the runtime's id
 * @size: bytes
 * @owner: who holds the references: the opener's &struct tt_recorder
 *	when it holds all of them, or, with %TT_OWNER_HOLDERS set, the first
 *	of a ring of &struct tt_holder, one per recorder, the first the one
 *	the entry is attributed to
 * @refs: references held, by every recorder together
 * @device: device number
 * @type: TT_ALLOC_MEM_*
 * @kind: TT_ALLOC_KERNEL_* for kernels
 * @pool: the dmem cgroup pool its size is charged to, NULL when none
 *	(with %CONFIG_CGROUP_DMEM only): the one of the recorder's cgroup
 *	when it was recorded, uncharged when it is unlinked, whoever does it
 *
 * Kept at 48 bytes (56 with the dmem controller): there can be a million
 * of these per file; holders cost memory only for the references of
 * other processes than the opener (fork children, a file passed on),
 * counted against the caps.
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
#if TT_HAVE_DMEM
	struct dmem_cgroup_pool_state *pool;
#endif
};

static inline void tt_entry_set_pool(struct tt_entry *e,
				     struct dmem_cgroup_pool_state *pool)
{
#if TT_HAVE_DMEM
	e->pool = pool;
#endif
}

static inline struct dmem_cgroup_pool_state *tt_entry_pool(const struct tt_entry *e)
{
#if TT_HAVE_DMEM
	return e->pool;
#else
	return NULL;
#endif
}

/* A client's hash table: 2^4 buckets when new, at most 2^24. */
#define TT_HASH_MIN_BITS	4
#define TT_HASH_MAX_BITS	24

extern struct kmem_cache *tt_entry_cache;

static inline bool tt_is_system_kernel(unsigned int type, unsigned int kind)
{
	return type == TT_ALLOC_MEM_KERNEL &&
	       (kind == TT_ALLOC_KERNEL_FABRIC ||
		kind == TT_ALLOC_KERNEL_DISPATCH);
}

/* The first holder of @e, or NULL when the opener holds every reference. */
static inline struct tt_holder *tt_entry_holders(const struct tt_entry *e)
{
	return e->owner & TT_OWNER_HOLDERS ?
	       (struct tt_holder *)(e->owner & ~TT_OWNER_HOLDERS) : NULL;
}

/* The recorder @e is attributed to: the first that holds a reference. */
static inline struct tt_recorder *tt_entry_rec(const struct tt_entry *e)
{
	struct tt_holder *h = tt_entry_holders(e);

	return h ? h->rec : (struct tt_recorder *)e->owner;
}

/* tt_alloc_device.c */
int tt_charge(struct tt_core *core, struct tt_device *d, unsigned int type,
	      unsigned int kind, u64 size);
void tt_uncharge(struct tt_device *d, unsigned int type, unsigned int kind,
		 u64 size, bool reclaimed);
void tt_device_apply(struct tt_device *d, unsigned int type, s64 bytes,
		     u64 max_prefix, s64 entries);

/* tt_alloc_entry.c */
struct tt_entry *tt_entry_new(struct tt_client *c);
void tt_entry_give_back(struct tt_client *c, struct tt_entry *e);
struct tt_entry *tt_lookup(struct tt_client *c, u32 device, u32 type, u64 id);
void tt_entry_insert(struct tt_client *c, struct tt_entry *e);
void tt_entry_unlink(struct tt_client *c, struct tt_entry *e);
void tt_entry_remove(struct tt_client *c, struct tt_entry *e, bool reclaimed);
void tt_client_maybe_shrink(struct tt_client *c);
void tt_client_drain_spare(struct tt_client *c);

/* tt_alloc_recorder.c */
struct tt_recorder *tt_find_recorder_walk(struct tt_client *c,
					  struct pid *tgid);
struct tt_recorder *tt_recorder_new(struct tt_client *c, struct pid *tgid,
				    const char *comm);
void tt_recorder_free(struct tt_client *c, struct tt_recorder *r);
int tt_holding_charge(struct tt_client *c, struct tt_recorder *rec);
void tt_holding_uncharge(struct tt_client *c, struct tt_recorder *rec);
int tt_entry_get(struct tt_client *c, struct tt_entry *e, struct pid *tgid,
		 const char *comm);
void tt_entry_put_shared(struct tt_client *c, struct tt_entry *e,
			 struct pid *tgid);
int tt_entry_own(struct tt_client *c, struct tt_entry *e,
		 struct tt_recorder *rec);
void tt_entry_disown(struct tt_client *c, struct tt_entry *e);
u64 tt_client_reclaim_dead(struct tt_client *c, bool swept);

/*
 * The two calls of every ALLOC and FREE into this file, with their common
 * case inline (why: "Recorder lookup and reference drop inline" in
 * Documentation/admin-guide/tt_alloc-bench.rst): the recorder used last,
 * and an entry one recorder holds alone.
 */

/* The recorder of @tgid in @c, or NULL. Under @c's lock. */
static inline struct tt_recorder *tt_find_recorder(struct tt_client *c,
						   struct pid *tgid)
{
	if (c->last_rec && c->last_rec->tgid == tgid)
		return c->last_rec;
	return tt_find_recorder_walk(c, tgid);
}

/*
 * Drop one reference of @e: the caller's own if it holds one, else one
 * of the recorder the entry is attributed to (a FREE may come from another
 * process than the ALLOC, e.g. a buffer handed over to a child).
 */
static inline void tt_entry_put(struct tt_client *c, struct tt_entry *e,
				struct pid *tgid)
{
	if (tt_entry_holders(e))
		tt_entry_put_shared(c, e, tgid);
	else
		e->refs--;
}

/* tt_alloc_client.c */
struct tt_client *tt_client_next(struct tt_core *core, struct tt_client *prev,
				 bool killable);
void tt_client_put(struct tt_client *c);

#endif /* _TT_ALLOC_PRIV_H */
