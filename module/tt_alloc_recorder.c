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
	strscpy(rec->comm, comm, sizeof(rec->comm));
	list_add_tail(&rec->node, &c->recorders);
	c->last_rec = rec;
	return rec;
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
 * be new to the client or to the entry; a recorder new to the entry is a
 * holding more (tt_holding_charge()). On error nothing changed.
 */
int tt_entry_get(struct tt_client *c, struct tt_entry *e, struct pid *tgid,
		 const char *comm)
{
	struct tt_recorder *rec = tt_find_recorder(c, tgid);
	struct tt_holder *h = tt_entry_holders(e), *n, *first = NULL, **tail;
	bool new_rec = false;
	int ret = -ENOMEM;

	if (!h && rec == (struct tt_recorder *)e->owner)
		goto done;
	for (tail = &h; *tail; tail = &(*tail)->next) {
		if ((*tail)->rec == rec) {
			(*tail)->refs++;
			goto done;
		}
	}
	/* A new holder: no allocation at all once the file is at its cap. */
	if (c->nr_holdings >= READ_ONCE(c->core->limits->max_entries))
		return -EDQUOT;
	/* The first holder too if the entry had a single recorder. */
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
		new_rec = true;
	}
	ret = tt_holding_charge(c, rec);
	if (ret)
		goto err_rec;
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
err_rec:
	if (new_rec)
		tt_recorder_free(c, rec);
err:
	kfree(first);
	kfree(n);
	return ret;
}

/* tt_entry_put() of an entry with several holders. */
void tt_entry_put_shared(struct tt_client *c, struct tt_entry *e,
			 struct pid *tgid)
{
	struct tt_holder **hp, *h, *first = tt_entry_holders(e);
	struct tt_recorder *rec = tt_find_recorder(c, tgid);

	e->refs--;
	for (hp = &first; (h = *hp); hp = &h->next)
		if (h->rec == rec)
			break;
	if (!h)
		hp = &first;
	h = *hp;
	if (!--h->refs) {
		*hp = h->next;
		tt_holding_uncharge(c, h->rec);
		kfree(h);
	}
	e->owner = (unsigned long)first | TT_OWNER_HOLDERS;
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
		if (dead)
			tt_holding_uncharge(c, h->rec);
		else
			dead = h->rec;
		left -= h->refs;
		*hp = h->next;
		kfree(h);
	}
	if (!first) {
		e->owner = (unsigned long)dead;
		return 0;
	}
	if (dead)
		tt_holding_uncharge(c, dead);
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
u64 tt_client_reclaim_dead(struct tt_client *c, bool swept)
{
	struct tt_recorder *r, *rtmp;
	struct hlist_node *tmp;
	struct tt_entry *e;
	unsigned int i;
	u64 nr = 0;

	lockdep_assert_held(&c->lock);
	for (i = 0; i < (1U << c->bits); i++) {
		hlist_for_each_entry_safe(e, tmp, &c->buckets[i], node) {
			if (tt_entry_drop_dead(c, e))
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
