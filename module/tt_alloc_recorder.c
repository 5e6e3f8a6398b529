// SPDX-License-Identifier: GPL-2.0
/*
 * tt_alloc recorders: the thread groups that took references through a
 * client, who holds which references of an entry, and reclaim, which
 * drops the references of recorders that died. Under the client's lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cred.h>
#include <linux/kernel.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/string_helpers.h>
#include <linux/user_namespace.h>
#include <kunit/visibility.h>

#include "tt_alloc_priv.h"
#include "tt_alloc_trace.h"

/* tt_find_recorder() past the recorder used last: the list walk. */
struct tt_recorder *tt_find_recorder_walk(struct tt_client *c,
					  struct pid *tgid)
{
	struct tt_recorder *r;

	list_for_each_entry(r, &c->recorders, node) {
		if (r->tgid == tgid) {
			c->last_rec = r;
			return r;
		}
	}
	return NULL;
}

/* The charge account of @uid in @core, with a reference; NULL if no memory. */
static struct tt_user *tt_user_get(struct tt_core *core, kuid_t uid)
{
	unsigned long key = __kuid_val(uid);
	struct tt_user *u;

	mutex_lock(&core->users_lock);
	u = xa_load(&core->users, key);
	if (u) {
		/* A lingering one: its count drops to 0 only under the lock. */
		if (!refcount_inc_not_zero(&u->ref))
			refcount_set(&u->ref, 1);
		goto out;
	}
	u = kzalloc(sizeof(*u), GFP_KERNEL_ACCOUNT);
	if (!u)
		goto out;
	refcount_set(&u->ref, 1);
	u->uid = uid;
	ratelimit_state_init(&u->log_rs, DEFAULT_RATELIMIT_INTERVAL,
			     DEFAULT_RATELIMIT_BURST);
	if (xa_err(xa_store(&core->users, key, u, GFP_KERNEL_ACCOUNT))) {
		kfree(u);
		u = NULL;
	}
out:
	mutex_unlock(&core->users_lock);
	return u;
}

/* The last put leaves @u to linger: tt_users_prune() frees it. */
static void tt_user_put(struct tt_core *core, struct tt_user *u)
{
	if (!refcount_dec_and_mutex_lock(&u->ref, &core->users_lock))
		return;
	WARN_ON(atomic_long_read(&u->holdings));
	u->idle_since = jiffies;
	mutex_unlock(&core->users_lock);
}

/**
 * tt_users_prune() - free the users that no recorder references
 * @core: the instance
 * @all: every such user; else only those idle for a whole log interval
 *
 * From the sweep, so a lingering user costs its memory for at most one
 * log interval plus one sweep interval.
 */
void tt_users_prune(struct tt_core *core, bool all)
{
	struct tt_user *u;
	unsigned long key;

	mutex_lock(&core->users_lock);
	xa_for_each(&core->users, key, u) {
		if (refcount_read(&u->ref) ||
		    (!all && time_before(jiffies, u->idle_since +
					 u->log_rs.interval)))
			continue;
		xa_erase(&core->users, key);
		kfree(u);
	}
	mutex_unlock(&core->users_lock);
}
EXPORT_SYMBOL_IF_KUNIT(tt_users_prune);

/**
 * tt_holding_charge() - count one more holding of @rec in @c
 * @c: the client
 * @rec: the recorder that starts holding references to an entry
 *
 * Against the file's cap and against the cap of the user @rec charges,
 * so that neither forked children nor more files multiply what one user
 * makes the kernel keep.
 *
 * Return: 0, or -EDQUOT with nothing charged.
 */
int tt_holding_charge(struct tt_client *c, struct tt_recorder *rec)
{
	const struct tt_limits *lim = c->core->limits;
	long max = READ_ONCE(lim->max_user);
	long cur;

	lockdep_assert_held(&c->lock);
	if (c->nr_holdings >= READ_ONCE(lim->max_entries))
		return -EDQUOT;
	/* Files of one user are charged concurrently: never past the cap. */
	cur = atomic_long_read(&rec->user->holdings);
	do {
		if (cur >= max)
			return -EDQUOT;
	} while (!atomic_long_try_cmpxchg(&rec->user->holdings, &cur, cur + 1));
	c->nr_holdings++;
	return 0;
}

/* @rec stops holding references to an entry of @c. */
void tt_holding_uncharge(struct tt_client *c, struct tt_recorder *rec)
{
	lockdep_assert_held(&c->lock);
	c->nr_holdings--;
	atomic_long_dec(&rec->user->holdings);
}

void tt_recorder_free(struct tt_client *c, struct tt_recorder *r)
{
	WARN_ON(!list_empty(&r->holders));
	if (c->last_rec == r)
		c->last_rec = NULL;
	list_del(&r->node);
	put_pid(r->tgid);
	tt_user_put(c->core, r->user);
	kfree(r);
}

struct tt_recorder *tt_recorder_new(struct tt_client *c, struct pid *tgid,
				    const char *comm)
{
	struct tt_recorder *rec = kzalloc(sizeof(*rec), GFP_KERNEL_ACCOUNT);

	if (!rec)
		return NULL;
	/* Recording runs in the recorder's context: charge its real uid. */
	rec->user = tt_user_get(c->core, current_uid());
	if (!rec->user) {
		kfree(rec);
		return NULL;
	}
	rec->tgid = get_pid(tgid);
	rec->opener = tgid == c->opener;
	strscpy(rec->comm, comm, sizeof(rec->comm));
	INIT_LIST_HEAD(&rec->holders);
	list_add_tail(&rec->node, &c->recorders);
	c->last_rec = rec;
	return rec;
}

static struct tt_holder *tt_holder_new(struct tt_entry *e,
				       struct tt_recorder *rec, u32 refs)
{
	struct tt_holder *h = kmalloc(sizeof(*h), GFP_KERNEL_ACCOUNT);

	if (!h)
		return NULL;
	INIT_LIST_HEAD(&h->enode);
	list_add_tail(&h->rnode, &rec->holders);
	h->rec = rec;
	h->entry = e;
	h->refs = refs;
	return h;
}

/*
 * Take @h off its entry's ring and its recorder's list and free it,
 * without uncharging its holding. The entry keeps at least one holder
 * unless @h was its last.
 */
static void tt_holder_unlink(struct tt_entry *e, struct tt_holder *h)
{
	if (tt_entry_holders(e) == h)
		e->owner = list_empty(&h->enode) ? 0 :
			(unsigned long)list_next_entry(h, enode) |
			TT_OWNER_HOLDERS;
	list_del(&h->enode);
	list_del(&h->rnode);
	kfree(h);
}

/* Drop @h and the holding it counted. */
static void tt_holder_drop(struct tt_client *c, struct tt_entry *e,
			   struct tt_holder *h)
{
	tt_holding_uncharge(c, h->rec);
	tt_holder_unlink(e, h);
}

/* Down to the opener alone: back to a plain recorder pointer. */
static void tt_entry_collapse(struct tt_entry *e)
{
	struct tt_holder *h = tt_entry_holders(e);
	struct tt_recorder *rec;

	if (!h || !list_empty(&h->enode) || !h->rec->opener)
		return;
	rec = h->rec;
	tt_holder_unlink(e, h);
	e->owner = (unsigned long)rec;
}

/**
 * tt_entry_own() - attribute a new entry to the recorder that made it
 * @c: the client
 * @e: the entry, its one reference not yet owned
 * @rec: the recorder, its holding charged
 *
 * Return: 0, or -ENOMEM with nothing changed.
 */
int tt_entry_own(struct tt_client *c, struct tt_entry *e,
		 struct tt_recorder *rec)
{
	struct tt_holder *h;

	lockdep_assert_held(&c->lock);
	if (rec->opener) {
		e->owner = (unsigned long)rec;
		return 0;
	}
	h = tt_holder_new(e, rec, 1);
	if (!h)
		return -ENOMEM;
	e->owner = (unsigned long)h | TT_OWNER_HOLDERS;
	return 0;
}

/**
 * tt_entry_disown() - free what says who holds an entry that goes
 * @c: the client
 * @e: the entry, off the table, its references gone
 *
 * Uncharges the holding of every holder left (one, the last), or of the
 * opener.
 */
void tt_entry_disown(struct tt_client *c, struct tt_entry *e)
{
	struct tt_holder *h;

	while ((h = tt_entry_holders(e)))
		tt_holder_drop(c, e, h);
	if (e->owner)
		tt_holding_uncharge(c, (struct tt_recorder *)e->owner);
	e->owner = 0;
}

/* The holder of @rec in the ring of @e, or NULL. */
static struct tt_holder *tt_holder_find(struct tt_entry *e,
					struct tt_recorder *rec)
{
	struct tt_holder *first = tt_entry_holders(e), *h;

	if (!first || !rec)
		return NULL;
	if (first->rec == rec)
		return first;
	list_for_each_entry(h, &first->enode, enode)
		if (h->rec == rec)
			return h;
	return NULL;
}

/*
 * One more reference to @e, counted for the recorder of @tgid, which may
 * be new to the client or to the entry; a recorder new to the entry is a
 * holding more (tt_holding_charge()). On error nothing changed.
 */
int tt_entry_get(struct tt_client *c, struct tt_entry *e, struct pid *tgid,
		 const char *comm)
{
	struct tt_recorder *rec = tt_find_recorder(c, tgid);
	struct tt_holder *first = tt_entry_holders(e), *h, *n = NULL;
	bool new_rec = false;
	int ret = -ENOMEM;

	if (!first && rec == (struct tt_recorder *)e->owner)
		goto done;
	h = tt_holder_find(e, rec);
	if (h) {
		h->refs++;
		goto done;
	}
	/* A new holder: not even a kmalloc once the file is at its cap. */
	if (c->nr_holdings >= READ_ONCE(c->core->limits->max_entries))
		return -EDQUOT;
	if (!rec) {
		rec = tt_recorder_new(c, tgid, comm);
		if (!rec)
			return -ENOMEM;
		new_rec = true;
	}
	/* The opener's references go on a holder of their own too. */
	if (!first) {
		first = tt_holder_new(e, (struct tt_recorder *)e->owner,
				      e->refs);
		if (!first)
			goto err_rec;
	}
	ret = tt_holding_charge(c, rec);
	if (ret)
		goto err_first;
	n = tt_holder_new(e, rec, 1);
	if (!n) {
		ret = -ENOMEM;
		goto err_holding;
	}
	/* At the ring's tail: the attribution stays with the first. */
	list_add_tail(&n->enode, &first->enode);
	e->owner = (unsigned long)first | TT_OWNER_HOLDERS;
done:
	e->refs++;
	trace_alloc(c->id, tgid, e->device, e->type, e->kind, e->id, e->size,
		    e->refs);
	return 0;
err_holding:
	tt_holding_uncharge(c, rec);
err_first:
	if (!tt_entry_holders(e)) {
		list_del(&first->rnode);
		kfree(first);
	}
err_rec:
	if (new_rec)
		tt_recorder_free(c, rec);
	return ret;
}

/* tt_entry_put() of an entry with holders. */
void tt_entry_put_shared(struct tt_client *c, struct tt_entry *e,
			 struct pid *tgid)
{
	struct tt_holder *h = tt_holder_find(e, tt_find_recorder(c, tgid));

	if (!h)
		h = tt_entry_holders(e);
	e->refs--;
	/* The last reference: the holder goes with the entry. */
	if (--h->refs || !e->refs)
		return;
	tt_holder_drop(c, e, h);
	tt_entry_collapse(e);
}

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

	if (!__ratelimit(&r->user->log_rs))
		return;
	string_get_size(t->buf_bytes, 1, STRING_UNITS_2, buf, sizeof(buf));
	string_get_size(t->cb_bytes, 1, STRING_UNITS_2, cb, sizeof(cb));
	string_get_size(t->kern_bytes, 1, STRING_UNITS_2, kern, sizeof(kern));
	string_get_size(t->sys_bytes, 1, STRING_UNITS_2, sys, sizeof(sys));
	pr_info("pid %d (%s) %sleft %llu allocations: reclaimed %llu buffers (%s), %llu CBs (%s), %llu kernels (%s, %s system)\n",
		pid_nr(r->tgid), r->comm,
		swept ? "exited with its file still open, " : "",
		t->entries, t->buf_n, buf, t->cb_n, cb, t->kern_n, kern, sys);
}

/*
 * Drop the references the dead recorders hold on @e. Return: the number
 * of references left; 0 means the entry goes, attributed (for the log and
 * the trace) to a dead recorder, its reference count left as it was, and
 * that recorder's holding uncharged with the entry (tt_entry_remove()).
 */
static u32 tt_entry_drop_dead(struct tt_client *c, struct tt_entry *e)
{
	struct tt_holder *first = tt_entry_holders(e), *h, *next, *last;
	struct tt_holder *dead = NULL;
	u32 left = e->refs;
	bool done;

	if (!first)
		return tt_entry_rec(e)->dead ? 0 : left;
	/* The ring has no head: stop after the holder before the first. */
	last = list_prev_entry(first, enode);
	for (h = first, done = false; !done; h = next) {
		next = list_next_entry(h, enode);
		done = h == last;
		if (!h->rec->dead)
			continue;
		left -= h->refs;
		if (dead)
			tt_holder_drop(c, e, h);
		else
			dead = h;
	}
	if (!left)
		return 0;
	if (dead)
		tt_holder_drop(c, e, dead);
	e->refs = left;
	tt_entry_collapse(e);
	return left;
}

/* Take @e off the table as reclaimed, in the tally of its last recorder. */
static void tt_entry_reclaim(struct tt_client *c, struct tt_entry *e)
{
	struct tt_recorder *r = tt_entry_rec(e);

	tt_tally_add(&r->tally, e);
	trace_reclaim(c->id, r->tgid, e->device, e->type, e->kind, e->id,
		      e->size, e->refs);
	tt_entry_remove(c, e, true);
}

/* Every entry, for when the opener died: its references have no holder. */
static u64 tt_reclaim_walk(struct tt_client *c)
{
	struct hlist_node *tmp;
	struct tt_entry *e;
	unsigned int i;
	u64 nr = 0;

	for (i = 0; i < (1U << c->bits); i++) {
		hlist_for_each_entry_safe(e, tmp, &c->buckets[i], node) {
			c->reclaim_visited++;
			if (tt_entry_drop_dead(c, e))
				continue;
			tt_entry_reclaim(c, e);
			nr++;
		}
		if (!(i & 1023))
			cond_resched();
	}
	return nr;
}

/* The references of @r, which is not the opener: only its own holders. */
static u64 tt_reclaim_holders(struct tt_client *c, struct tt_recorder *r)
{
	struct tt_holder *h, *tmp;
	u64 nr = 0, seen = 0;
	struct tt_entry *e;

	list_for_each_entry_safe(h, tmp, &r->holders, rnode) {
		/* Every holder counts: those of shared entries remove none. */
		if (!(++seen & 1023))
			cond_resched();
		e = h->entry;	/* @h may go with the references it held */
		c->reclaim_visited++;
		if (tt_entry_drop_dead(c, e))
			continue;
		tt_entry_reclaim(c, e);
		nr++;
	}
	return nr;
}

/**
 * tt_client_reclaim_dead() - drop every reference of the dead recorders
 * @c: the client, locked
 * @swept: found dead by the sweep, not at their exit
 *
 * Removes the entries left without references, then logs and frees those
 * recorders. Costs O(their references) unless the opener is among them:
 * the opener's references carry no holder (a file's opener usually holds
 * most of its entries, and a holder would cost more than the entry), so
 * they are found by one pass over the table, however many died. The
 * opener's exit is most often the file's last close, which walks the
 * table anyway.
 *
 * Return: entries removed.
 */
u64 tt_client_reclaim_dead(struct tt_client *c, bool swept)
{
	struct tt_recorder *r, *rtmp;
	bool walk = false;
	u64 nr = 0;

	lockdep_assert_held(&c->lock);
	list_for_each_entry(r, &c->recorders, node)
		walk |= r->dead && r->opener;
	if (walk) {
		nr = tt_reclaim_walk(c);
	} else {
		list_for_each_entry(r, &c->recorders, node)
			if (r->dead)
				nr += tt_reclaim_holders(c, r);
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
