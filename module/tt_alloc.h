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
/* "0000:01:00.0/31" plus room for a longer PCI domain; the terminator included */
#define TT_ALLOC_CHIP_LEN	32
#define TT_ALLOC_MAX_ENTRIES_LIMIT	BIT(24)
/* Largest max_allocations_per_user: 16 files at the largest per-file cap. */
#define TT_ALLOC_MAX_USER_LIMIT		BIT(28)

struct dentry;
struct device;
struct file;
struct dmem_cgroup_region;
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
 * @chip: the chip this device stands for, "<pci-bus-id>/<index-on-card>"
 *	from chips=, empty when not given
 * @sysfs: its /sys/class/tt_alloc/device<N>
 * @index: N
 * @dmem: the dmem cgroup region of each memory type, "tt_alloc/<N>/<type>",
 *	for the types whose capacity was known at load; NULL for the others
 *	and without %CONFIG_CGROUP_DMEM (tt_core_dmem_register())
 */
struct tt_device {
	spinlock_t lock;	/* guards the byte counters */
	struct tt_counter mem[TT_ALLOC_MEM_COUNT];
	struct tt_wide system_bytes;
	struct tt_wide reclaimed_bytes;
	atomic64_t reclaimed_entries;
	atomic_t clients;
	const char *arch;
	char chip[TT_ALLOC_CHIP_LEN];
	struct device *sysfs;
	unsigned int index;
	struct dmem_cgroup_region *dmem[TT_ALLOC_MEM_COUNT];
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
 * @max_bytes: bytes one file may hold, all devices and types together; an
 *	atomic64_t because every ALLOC reads it while root may write it, and
 *	a plain u64 would tear on a 32-bit kernel
 * @enforce_capacity: refuse allocations beyond a known capacity
 */
struct tt_limits {
	unsigned int max_entries;
	unsigned int max_user;
	atomic64_t max_bytes;
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
 * @nr_dmem: dmem regions registered, 0 when nothing is charged to cgroups
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
	unsigned int nr_dmem;
	struct tt_device devs[];
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

struct tt_client;
struct workqueue_struct;

extern const char * const tt_mem_names[TT_ALLOC_MEM_COUNT];

int tt_core_init_cache(void);
void tt_core_exit_cache(void);

struct tt_core *tt_core_create(unsigned int ndev, const struct tt_limits *limits);
void tt_core_destroy(struct tt_core *core);
int tt_core_dmem_register(struct tt_core *core);
void tt_core_dmem_unregister(struct tt_core *core);
int tt_device_set_arch(struct tt_device *d, const char *name);
int tt_device_set_chip(struct tt_device *d, const char *name);
void tt_device_reset_peak(struct tt_device *d, unsigned int type);
void tt_device_read(struct tt_device *d, unsigned int type,
		    struct tt_counter_snap *snap);
u64 tt_wide_read(struct tt_device *d, const struct tt_wide *w);

struct tt_client *tt_client_create(struct tt_core *core, struct pid *opener,
				   const char *comm);
u64 tt_client_id(const struct tt_client *c);
struct tt_core *tt_client_core(const struct tt_client *c);
void tt_client_close(struct tt_client *c);
void tt_client_release_file(struct tt_client *c, struct workqueue_struct *wq);

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
void tt_client_trim_spare(struct tt_client *c, unsigned int keep,
			  struct hlist_head *out);
void tt_entries_destroy(struct hlist_head *list);
bool tt_pid_exited(struct pid *tgid);

void tt_client_show_fdinfo(struct tt_client *c, struct seq_file *m);
struct dentry *tt_debugfs_init(struct tt_core *core);
void tt_debugfs_exit(struct dentry *dir);

long tt_ioctl(struct file *file, unsigned int cmd, unsigned long uarg);

int tt_sysfs_init(struct tt_core *core);
void tt_sysfs_exit(struct tt_core *core);

#endif /* _TT_ALLOC_H */
