/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tt_alloc internals shared by the character device, sysfs and the KUnit
 * suite. The tracking core (tt_alloc_{device,table,recorder,client,
 * debugfs}.c, its own internals in tt_alloc_priv.h) knows nothing about
 * files or user memory so that it can be tested in isolation.
 */
#ifndef _TT_ALLOC_H
#define _TT_ALLOC_H

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/cache.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/ratelimit.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/seqlock.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/xarray.h>
#include <linux/tt_alloc.h>

#define TT_ALLOC_MAX_DEVICES	64
#define TT_ALLOC_MAX_ENTRIES_LIMIT	BIT(24)
/* Largest max_allocations_per_user: 16 files at the largest per-file cap. */
#define TT_ALLOC_MAX_USER_LIMIT		BIT(28)

struct dentry;
struct device;
struct file;
struct pid;
struct pid_namespace;
struct seq_file;

/**
 * struct tt_wide - a byte sum that cannot wrap
 * @lo: low 64 bits
 * @hi: high 64 bits
 *
 * Every size is at most %TT_ALLOC_SIZE_MAX (2^40) and every entry costs at
 * least a 48-byte object, so fewer than 2^47 entries can exist on any
 * machine whose memory a 64-bit kernel can map (2^52 bytes): a sum of them
 * stays below 2^87. Readers see it saturated to U64_MAX, which only
 * self-reported sizes beyond 16 EiB can reach.
 */
struct tt_wide {
	u64 lo;
	u64 hi;
};

/**
 * struct tt_counter - one memory type of one device, all clients together
 * @used: bytes in use
 * @peak: highest @used since load or the last reset, never below it
 * @entries: tracked entries (fewer than 2^47, see &struct tt_wide)
 * @capacity: bytes the device has, 0 when unknown
 *
 * @used, @peak and @entries are under &tt_device.lock, so that the
 * capacity check, the update and the peak are one step, readers never see
 * a peak below the use, and a change costs one shared atomic operation
 * (the lock) rather than two; @capacity is read locklessly. They are exact
 * totals, not per-CPU approximations: the peak and the capacity check
 * need the sum at the moment of each change. A BATCH makes them cheap
 * instead: it charges each (device, type) once per step of up to 32 ops
 * (types with an enforced capacity excepted), so the shared cache line is
 * touched once per step, not once per op.
 */
struct tt_counter {
	struct tt_wide used;
	struct tt_wide peak;
	u64 entries;
	atomic64_t capacity;
};

/**
 * struct tt_device - counters of one device
 * @lock: guards the &struct tt_wide counters; a leaf lock, held for a few
 *	additions only
 * @mem: per memory type counters
 * @system_bytes: bytes of fabric and dispatch kernels
 * @reclaimed_bytes: bytes taken back from released or abandoned files
 * @reclaimed_entries: entries taken back likewise
 * @clients: open files holding at least one entry on this device
 * @arch: architecture name, "unknown" without a preset
 * @sysfs: its /sys/class/tt_alloc/device<N>
 */
struct tt_device {
	spinlock_t lock;	/* guards the byte counters */
	struct tt_counter mem[TT_ALLOC_MEM_COUNT];
	struct tt_wide system_bytes;
	struct tt_wide reclaimed_bytes;
	atomic64_t reclaimed_entries;
	atomic_t clients;
	const char *arch;
	struct device *sysfs;
} ____cacheline_aligned_in_smp;

/**
 * struct tt_counter_snap - one consistent reading of a &struct tt_counter
 * @used: bytes in use, saturated
 * @peak: peak, saturated, at least @used
 * @entries: entries
 * @capacity: capacity, 0 when unknown
 */
struct tt_counter_snap {
	u64 used;
	u64 peak;
	u64 entries;
	u64 capacity;
};

/**
 * struct tt_limits - tunables, shared with the module parameters
 * @max_entries: holdings one file may keep (see &tt_client.nr_holdings)
 * @max_user: holdings one user may keep, all files together (see
 *	&struct tt_user)
 * @max_bytes: bytes one file may hold, all devices and types together
 * @enforce_capacity: refuse allocations beyond a known capacity
 */
struct tt_limits {
	unsigned int max_entries;
	unsigned int max_user;
	u64 max_bytes;
	bool enforce_capacity;
};

/* Largest max_bytes_per_file: a file's u64 totals can then never wrap. */
#define TT_ALLOC_MAX_BYTES_LIMIT	BIT_ULL(62)

/**
 * struct tt_core - one tracking instance (the module has exactly one)
 * @ndev: number of devices
 * @limits: tunables, read locklessly
 * @clients_lock: protects @clients and @next_client_id; never held
 *	together with a &tt_client.lock, and only for list operations, so
 *	that nobody's open() or close() waits for another file's work
 * @clients: every client with a reference (see &struct tt_client), sorted
 *	by id; an RCU list, which readers walk without @clients_lock
 * @next_client_id: last client id handed out, under @clients_lock
 * @users_lock: serialises the creation and removal of @users entries; a
 *	leaf lock, taken under a &tt_client.lock only to find or create one
 * @users: &struct tt_user by the kuid's value in the initial namespace
 * @devs: per-device counters
 */
struct tt_core {
	unsigned int ndev;
	const struct tt_limits *limits;
	struct mutex clients_lock;	/* guards clients */
	struct list_head clients;
	u64 next_client_id;
	struct mutex users_lock;	/* guards users' insert/erase */
	struct xarray users;
	struct tt_device devs[];
};

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

/**
 * struct tt_file_dev - what one client holds on one device
 * @used: bytes per memory type
 * @entries: entries per memory type
 * @total: entries on the device, all types
 */
struct tt_file_dev {
	u64 used[TT_ALLOC_MEM_COUNT];
	u64 entries[TT_ALLOC_MEM_COUNT];
	u64 total;
};

/*
 * Freed entries a client keeps for its next ALLOCs, see &tt_client.free:
 * up to TT_FREE_CACHE_MAX while it works, so that a runtime freeing and
 * allocating thousands of buffers in turn makes no slab call; every sweep
 * trims it to TT_FREE_CACHE_KEEP, so that an idle file keeps little.
 */
#define TT_FREE_CACHE_MAX	4096
#define TT_FREE_CACHE_KEEP	128

struct tt_bulk;

/**
 * struct tt_client - the tracking state of one open file
 * @core: the instance it belongs to
 * @id: client id, unique for the life of the module
 * @opener: thread group that opened the file
 * @comm: the opener's command name
 * @node: in &tt_core.clients, an RCU list
 * @ref: references, see below
 * @closed: the file was released; the client only waits for its walkers
 * @rcu: frees the client after the readers of the list are done with it
 * @totals_seq: lets readers copy one device of @dev without @lock: written
 *	under @lock with preemption disabled, a few additions per entry, so a
 *	reader retries at most for that long, whatever the size of the
 *	client's work under @lock
 * @lock: protects everything below
 *
 * Lifetime and locks: "Locking and lifetime" in tt_alloc_priv.h. Lockless
 * readers read only @id, @opener, @comm, @closed and @dev; @opener is put
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
 * @free: freed entries kept for reuse, linked through &tt_entry.node,
 *	so that an ALLOC after a FREE costs no slab round trip: at most
 *	%TT_FREE_CACHE_MAX of them (192 KiB), and at most
 *	%TT_FREE_CACHE_KEEP (6 KiB) after each sweep, which a file idle
 *	since then keeps
 * @nr_free: entries on @free; written under @lock, read locklessly by
 *	BATCH to size its bulk allocation
 * @bulk: while a BATCH chunk is applied, the entries it allocated in bulk
 *	before taking @lock and those it frees in bulk after dropping it
 * @dev: per-device totals, @core->ndev of them
 */
struct tt_client {
	struct tt_core *core;
	u64 id;
	struct pid *opener;
	char comm[TASK_COMM_LEN];
	struct list_head node;
	struct kref ref;
	bool closed;
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
	struct hlist_head free;
	unsigned int nr_free;
	struct tt_bulk *bulk;
	struct tt_file_dev dev[];
};

extern const char * const tt_mem_names[TT_ALLOC_MEM_COUNT];

int tt_core_init_cache(void);
void tt_core_exit_cache(void);

struct tt_core *tt_core_create(unsigned int ndev, const struct tt_limits *limits);
void tt_core_destroy(struct tt_core *core);
int tt_device_set_arch(struct tt_device *d, const char *name);
void tt_device_reset_peak(struct tt_device *d, unsigned int type);
void tt_device_read(struct tt_device *d, unsigned int type,
		    struct tt_counter_snap *snap);
u64 tt_wide_read(struct tt_device *d, const struct tt_wide *w);

struct tt_client *tt_client_create(struct tt_core *core, struct pid *opener,
				   const char *comm);
void tt_client_close(struct tt_client *c);

int tt_client_record_alloc(struct tt_client *c, const struct tt_alloc_buffer *b,
			   struct pid *tgid, const char *comm);
int tt_client_record_free(struct tt_client *c, const struct tt_alloc_buffer *b,
			  struct pid *tgid);
int tt_client_record_batch(struct tt_client *c, const struct tt_alloc_op *ops,
			   unsigned int n, unsigned int *applied, struct pid *tgid,
		    const char *comm);
int tt_client_usage(struct tt_client *c, struct tt_alloc_usage *u);
void tt_client_read_dev(struct tt_client *c, unsigned int device,
			struct tt_file_dev *out);
u32 tt_client_refs(struct tt_client *c, u32 device, u32 type, u64 id);

/**
 * struct tt_list_pos - where a walk of the client list is
 * @after_id: only rows after (@after_id, @after_device); 0 for all rows
 *	(client ids start at 1)
 * @after_device: the device of that row
 * @from: the client the walk goes on from, with a reference the walk
 *	puts; NULL to start at the first client
 */
struct tt_list_pos {
	u64 after_id;
	u32 after_device;
	struct tt_client *from;
};

u32 tt_core_list_clients(struct tt_core *core, struct pid_namespace *ns,
			 struct tt_list_pos *pos, struct tt_alloc_client *rows,
			 u32 room, bool chunk);
void tt_list_pos_release(struct tt_list_pos *pos);
void tt_client_exit_recorder(struct tt_client *c, struct pid *tgid);
unsigned int tt_core_sweep(struct tt_core *core);
void tt_users_prune(struct tt_core *core, bool all);
void tt_client_trim_free(struct tt_client *c, unsigned int keep,
			 struct hlist_head *out);
void tt_entries_free(struct hlist_head *list);
bool tt_pid_exited(struct pid *tgid);

void tt_client_show_fdinfo(struct tt_client *c, struct seq_file *m);
struct dentry *tt_debugfs_init(struct tt_core *core);
void tt_debugfs_exit(struct dentry *dir);

long tt_ioctl(struct file *file, unsigned int cmd, unsigned long uarg);

int tt_sysfs_init(struct tt_core *core);
void tt_sysfs_exit(struct tt_core *core);

#endif /* _TT_ALLOC_H */
