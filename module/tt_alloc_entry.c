// SPDX-License-Identifier: GPL-2.0
/*
 * tt_alloc entries: their memory (the slab cache, then a client's spare
 * entries), the hash table of one client keyed by (device, type, id), and
 * the client's totals that lockless readers copy. An entry enters and
 * leaves the table only through tt_entry_insert() and tt_entry_unlink(),
 * so that the table, the totals and the counts the caps check cannot
 * disagree. Kept apart from the operations (tt_alloc_ops.c): reclaim
 * (tt_alloc_recorder.c) removes entries too and must not depend on
 * BATCH's bookkeeping, so this file calls only the recorders and the
 * device counters. What it changes, it changes under the client's lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/log2.h>
#include <linux/random.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "tt_alloc_priv.h"

#include <kunit/visibility.h>

struct kmem_cache *tt_entry_cache;

/*
 * The key of the table's hash, new at every load: the ids are the
 * caller's choice, and with a known hash a caller could put them all in
 * one bucket. Two random odd multipliers, see tt_hash().
 */
static u64 tt_hash_key[2] __read_mostly;

int tt_core_init_cache(void)
{
	tt_hash_key[0] = get_random_u64() | 1;
	tt_hash_key[1] = get_random_u64() | 1;
	tt_entry_cache = KMEM_CACHE(tt_entry, SLAB_ACCOUNT);
	return tt_entry_cache ? 0 : -ENOMEM;
}

void tt_core_exit_cache(void)
{
	kmem_cache_destroy(tt_entry_cache);
}

/* ---- entry memory: the client's spare entries, then the slab ---- */

/**
 * tt_entry_new() - memory for a new entry: a spare one, else the slab's
 * @c: the client, locked
 *
 * Return: the entry, its fields unset, or NULL.
 */
struct tt_entry *tt_entry_new(struct tt_client *c)
{
	struct tt_entry *e;

	lockdep_assert_held(&c->lock);
	if (!hlist_empty(&c->spare)) {
		e = hlist_entry(c->spare.first, struct tt_entry, node);
		hlist_del(&e->node);
		WRITE_ONCE(c->nr_spare, c->nr_spare - 1);
		return e;
	}
	return kmem_cache_alloc(tt_entry_cache, GFP_KERNEL_ACCOUNT);
}

/**
 * tt_entry_give_back() - give back the memory of an entry off the table
 * @c: the client, locked
 * @e: the entry
 *
 * Kept among the spare entries if there is room, else freed.
 */
void tt_entry_give_back(struct tt_client *c, struct tt_entry *e)
{
	lockdep_assert_held(&c->lock);
	if (c->nr_spare < TT_SPARE_MAX) {
		hlist_add_head(&e->node, &c->spare);
		WRITE_ONCE(c->nr_spare, c->nr_spare + 1);
	} else {
		kmem_cache_free(tt_entry_cache, e);
	}
}

/**
 * tt_client_drain_spare() - return the spare entries to the slab
 * @c: the client, being released
 */
void tt_client_drain_spare(struct tt_client *c)
{
	struct hlist_node *tmp;
	struct tt_entry *e;

	lockdep_assert_held(&c->lock);
	hlist_for_each_entry_safe(e, tmp, &c->spare, node)
		kmem_cache_free(tt_entry_cache, e);
	INIT_HLIST_HEAD(&c->spare);
	WRITE_ONCE(c->nr_spare, 0);
}

/**
 * tt_client_trim_spare() - take the spare entries beyond @keep
 * @c: the client
 * @keep: how many stay cached
 * @out: an empty list; gets the others, for tt_entries_destroy() once @c's
 *	lock is dropped
 *
 * O(@keep) under the lock, whatever the cache holds: the list is cut
 * after its first @keep entries.
 */
void tt_client_trim_spare(struct tt_client *c, unsigned int keep,
			  struct hlist_head *out)
{
	struct hlist_node *last = NULL, *rest = c->spare.first;
	unsigned int i;

	lockdep_assert_held(&c->lock);
	if (c->nr_spare <= keep)
		return;
	for (i = 0; i < keep; i++) {
		last = rest;
		rest = rest->next;
	}
	if (last)
		last->next = NULL;
	else
		c->spare.first = NULL;
	out->first = rest;
	rest->pprev = &out->first;
	WRITE_ONCE(c->nr_spare, keep);
}
EXPORT_SYMBOL_IF_KUNIT(tt_client_trim_spare);

/**
 * tt_entries_destroy() - return a list of entries off any table to the slab
 * @list: the entries, linked through &tt_entry.node; left empty
 */
void tt_entries_destroy(struct hlist_head *list)
{
	struct hlist_node *tmp;
	struct tt_entry *e;

	hlist_for_each_entry_safe(e, tmp, list, node)
		kmem_cache_free(tt_entry_cache, e);
	INIT_HLIST_HEAD(list);
}
EXPORT_SYMBOL_IF_KUNIT(tt_entries_destroy);

/* ---- the per-client hash table ---- */

/*
 * A chained table of our own rather than rhashtable: every lookup, insert
 * and removal is made under the client's lock anyway, so rhashtable's
 * lockless lookups and background resizing would buy nothing, while its
 * per-operation bucket lock and atomic element count would cost, and its
 * walker can miss entries when a removal starts a shrink (measured in
 * Documentation/admin-guide/tt_alloc-bench.rst, "A private table, not
 * rhashtable").
 */

/*
 * Multiply-shift with random odd multipliers (Dietzfelbinger et al.,
 * "A reliable randomized algorithm for the closest-pair problem", 1997):
 * a universal family, so two keys share a bucket with probability about
 * 2/buckets whatever ids a caller picks without knowing the key. Seeded
 * jhash, as rhashtable uses, is some 30 ALU operations per key against
 * two multiplications here, and made every BATCH op measurably slower;
 * this costs what the unkeyed hash did. The measurement is in
 * Documentation/admin-guide/tt_alloc-bench.rst, "Design choices and
 * what they buy".
 */
static unsigned int tt_hash(u32 device, u32 type, u64 id, unsigned int bits)
{
	return (id * tt_hash_key[0] +
		(((u64)device << 8) | type) * tt_hash_key[1]) >> (64 - bits);
}

static struct hlist_head *tt_bucket(struct tt_client *c, u32 device,
				    u32 type, u64 id)
{
	return &c->buckets[tt_hash(device, type, id, c->bits)];
}

/**
 * tt_lookup() - find an entry in a client's table
 * @c: the client, locked
 * @device: device
 * @type: memory type
 * @id: the runtime's id
 *
 * Return: the entry, or NULL.
 */
struct tt_entry *tt_lookup(struct tt_client *c, u32 device, u32 type, u64 id)
{
	struct tt_entry *e;

	lockdep_assert_held(&c->lock);
	hlist_for_each_entry(e, tt_bucket(c, device, type, id), node)
		if (e->id == id && e->device == device && e->type == type)
			return e;
	return NULL;
}

/*
 * Keep the load factor at or below one: grow at one. Resizing inline under
 * the client lock keeps the table simple (no RCU, no deferred work); the
 * O(n) rehash is amortised over the n insertions that triggered it. The
 * sweep shrinks a table below a load of 1/8 to one at most half full, so
 * that a file that held a million entries and now holds ten keeps a table
 * for ten: not on FREE, where a file that fills and empties its table in
 * turn (a BATCH of ALLOCs, then one of FREEs) would rebuild it every time
 * (measured in Documentation/admin-guide/tt_alloc-bench.rst, "Design
 * choices and what they buy"). If a new table cannot be had, the old one
 * stays.
 */
static void tt_rehash(struct tt_client *c, unsigned int bits)
{
	struct hlist_head *nb;
	struct hlist_node *tmp;
	struct tt_entry *e;
	unsigned int i;

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

static void tt_maybe_grow(struct tt_client *c)
{
	if (c->nr_entries >= (1ULL << c->bits) && c->bits < TT_HASH_MAX_BITS)
		tt_rehash(c, c->bits + 1);
}

/**
 * tt_client_maybe_shrink() - give back a table the entries left
 * @c: the client, not while its table is walked; from the sweep
 */
void tt_client_maybe_shrink(struct tt_client *c)
{
	lockdep_assert_held(&c->lock);
	if (c->bits > TT_HASH_MIN_BITS &&
	    c->nr_entries < (1ULL << (c->bits - 3)))
		tt_rehash(c, max_t(unsigned int, TT_HASH_MIN_BITS,
				   order_base_2(c->nr_entries + 1) + 1));
}

/*
 * &tt_client.dev changes only between these two, under &tt_client.lock:
 * lockless readers see each device's totals of one moment.
 */
static void tt_totals_begin(struct tt_client *c)
{
	preempt_disable();
	write_seqcount_begin(&c->totals_seq);
}

static void tt_totals_end(struct tt_client *c)
{
	write_seqcount_end(&c->totals_seq);
	preempt_enable();
}

/**
 * tt_client_read_dev() - what a client holds on one device, without its lock
 * @c: the client, alive (a reference, or under rcu_read_lock())
 * @device: the device, below &tt_core.ndev
 * @out: the copy
 */
void tt_client_read_dev(struct tt_client *c, unsigned int device,
			struct tt_file_dev *out)
{
	unsigned int seq;

	do {
		seq = read_seqcount_begin(&c->totals_seq);
		*out = c->dev[device];
	} while (read_seqcount_retry(&c->totals_seq, seq));
}

static void tt_file_charge(struct tt_client *c, const struct tt_entry *e)
{
	struct tt_file_dev *fd = &c->dev[e->device];

	tt_totals_begin(c);
	fd->used[e->type] += e->size;
	fd->entries[e->type]++;
	fd->total++;
	tt_totals_end(c);
	if (fd->total == 1)
		atomic_inc(&c->core->devs[e->device].clients);
	c->nr_entries++;
	c->bytes += e->size;
}

/**
 * tt_entry_insert() - put a new entry in its client's table and totals
 * @c: the client, locked
 * @e: the entry, every field set, its device already charged
 */
void tt_entry_insert(struct tt_client *c, struct tt_entry *e)
{
	lockdep_assert_held(&c->lock);
	hlist_add_head(&e->node, tt_bucket(c, e->device, e->type, e->id));
	tt_file_charge(c, e);
	tt_maybe_grow(c);
}

/**
 * tt_entry_unlink() - take an entry off its client's table and totals
 * @c: the client, locked
 * @e: the entry, in @c's table, its device already uncharged; its memory
 *	is the caller's to give back
 */
void tt_entry_unlink(struct tt_client *c, struct tt_entry *e)
{
	struct tt_file_dev *fd = &c->dev[e->device];

	lockdep_assert_held(&c->lock);
	hlist_del(&e->node);
	/* The pool it was charged to, whoever removes it and wherever. */
	tt_dmem_uncharge(tt_entry_pool(e), e->size);
	tt_entry_set_pool(e, NULL);
	tt_totals_begin(c);
	fd->used[e->type] -= e->size;
	fd->entries[e->type]--;
	fd->total--;
	tt_totals_end(c);
	if (!fd->total)
		atomic_dec(&c->core->devs[e->device].clients);
	tt_entry_disown(c, e);
	c->nr_entries--;
	c->bytes -= e->size;
}

/**
 * tt_entry_remove() - forget an entry everywhere, outside BATCH
 * @c: the client, locked
 * @e: the entry, in @c's table
 * @reclaimed: count it as taken back (reclaim), not as freed
 */
void tt_entry_remove(struct tt_client *c, struct tt_entry *e, bool reclaimed)
{
	tt_uncharge(&c->core->devs[e->device], e->type, e->kind, e->size,
		    reclaimed);
	tt_entry_unlink(c, e);
	tt_entry_give_back(c, e);
}
