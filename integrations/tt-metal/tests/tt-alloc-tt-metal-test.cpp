// SPDX-License-Identifier: GPL-2.0
/*
 * Guest test of the tt-metal integration (include/tt_alloc/tt_metal.hpp;
 * root, tt_alloc loaded with its defaults: 8 devices). A model of
 * tt-metal's event sequence calls the hooks exactly where
 * tt-metal-tt_alloc.patch puts them (after Buffer's track_allocate /
 * track_deallocate, in Device::close, in Device::publish_cb_residency,
 * where Device loads its dispatch and fabric kernels),
 * on model types with tt-metal's member names: IDevice::id() is the chip
 * id, a MeshDevice has a mesh id of its own (a process-wide counter) and
 * get_devices(), a MeshBuffer's backing Buffer lives on the MeshDevice.
 * After each step what tt-metal's allocator holds, chip by chip and type by
 * type, must be exactly what the module's device scope and sysfs say:
 * a 2-chip mesh opened (system kernels loaded), used from 4 threads, CBs
 * resident, programs' kernel binaries created and destroyed, a graph capture,
 * closed with buffers alive, reopened, then the same as a 4-chip mesh;
 * a single chip; a process SIGKILLed mid-way; a chip id the module does
 * not have; tracking off. TAP.
 */
#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include <tt_alloc/tt_metal.hpp>

using ttalloc::metal::Recorder;

/* ---- the model of tt-metal's types (member names as in tt-metal) ---- */
enum class BufferType { DRAM, L1, SYSTEM_MEMORY, L1_SMALL, TRACE };

class IDevice {
public:
	virtual ~IDevice() = default;
	virtual int id() const = 0;
};
class Device final : public IDevice {
public:
	explicit Device(int chip) : chip_(chip) {}
	int id() const override { return chip_; }

private:
	int chip_;
};
class MeshDevice final : public IDevice {
public:
	explicit MeshDevice(std::vector<IDevice *> chips) : chips_(std::move(chips)) {}
	/* tt-metal: a process-wide mesh counter, not a chip */
	int id() const override { return mesh_id_; }
	std::vector<IDevice *> get_devices() const { return chips_; }

private:
	static inline std::atomic<int> next_{1000};
	int mesh_id_ = next_++;
	std::vector<IDevice *> chips_;
};
struct Buffer {
	IDevice *device_;
	BufferType type_;
	std::uint32_t address_;
	std::uint64_t size_;
	IDevice *device() const { return device_; }
	BufferType buffer_type() const { return type_; }
	std::uint32_t address() const { return address_; }
	std::uint64_t size() const { return size_; }
};

/* ProgramImpl::collect_kernel_meta(): per kernel, each binary's size */
struct KernelBinaryMeta {
	std::uint32_t processor_type;
	std::size_t packed_size;
};
struct KernelMeta {
	std::vector<KernelBinaryMeta> binary_meta;
};

/* ---- what tt-metal's allocator holds, chip by chip ------------------ */
static const unsigned CHIPS = 4;
struct Held {
	std::uint64_t b[CHIPS][TT_ALLOC_MEM_COUNT] = {};
	std::uint64_t e[CHIPS][TT_ALLOC_MEM_COUNT] = {};
	void add(const Buffer &buf, int sign)
	{
		auto *mesh = dynamic_cast<MeshDevice *>(buf.device());
		std::vector<IDevice *> chips = mesh ? mesh->get_devices()
						    : std::vector<IDevice *>{buf.device()};
		unsigned t = static_cast<unsigned>(buf.buffer_type());
		for (IDevice *c : chips) {
			b[c->id()][t] += sign * static_cast<std::int64_t>(buf.size());
			e[c->id()][t] += sign;
		}
	}
	void cbs(unsigned chip, std::uint64_t bytes)
	{
		b[chip][TT_ALLOC_MEM_CB] = bytes;
		e[chip][TT_ALLOC_MEM_CB] = bytes ? 1 : 0;
	}
	/* system kernels of one kind loaded: they replace that kind's */
	std::uint64_t kb[CHIPS][3] = {}, ke[CHIPS][3] = {};
	void system(unsigned chip, std::uint32_t kind, const std::vector<KernelMeta> &k)
	{
		kb[chip][kind] = ke[chip][kind] = 0;
		for (const auto &m : k) {
			for (const auto &bin : m.binary_meta)
				kb[chip][kind] += bin.packed_size;
			ke[chip][kind]++;
		}
		b[chip][TT_ALLOC_MEM_KERNEL] = e[chip][TT_ALLOC_MEM_KERNEL] = 0;
		for (unsigned i = 0; i < 3; i++) {
			b[chip][TT_ALLOC_MEM_KERNEL] += kb[chip][i];
			e[chip][TT_ALLOC_MEM_KERNEL] += ke[chip][i];
		}
	}
	void close(unsigned chip)
	{
		for (unsigned t = 0; t < TT_ALLOC_MEM_COUNT; t++)
			b[chip][t] = e[chip][t] = 0;
		for (unsigned i = 0; i < 3; i++)
			kb[chip][i] = ke[chip][i] = 0;
	}
};

/* the hooks, called as the patch calls them */
static void allocate(Recorder &r, Held &h, const Buffer &b, bool hooked = false)
{
	ttalloc::metal::buffer_allocated<MeshDevice>(b, hooked, r);
	if (!hooked)
		h.add(b, +1);
}
static void deallocate(Recorder &r, Held &h, const Buffer &b, bool hooked = false)
{
	ttalloc::metal::buffer_deallocated<MeshDevice>(b, hooked, r);
	if (!hooked)
		h.add(b, -1);
}
static void load_system_kernels(Recorder &r, Held &h, const IDevice &d, std::uint32_t kind,
				const std::vector<KernelMeta> &k)
{
	ttalloc::metal::system_kernels_loaded(d, kind, [&] { return k; }, r);
	h.system(static_cast<unsigned>(d.id()), kind, k);
}
static void close_chip(Recorder &r, Held &h, const IDevice &d)
{
	ttalloc::metal::device_closed(d, r);
	h.close(static_cast<unsigned>(d.id()));
}

/* ---- TAP and the module's view ---------------------------------------- */
static int n, failed;
static struct tt_alloc_ctx *mon;

static void ok(bool c, const std::string &what)
{
	n++;
	if (!c)
		failed++;
	std::printf("%s %d %s\n", c ? "ok" : "not ok", n, what.c_str());
	std::fflush(stdout);
}

static std::uint64_t sysfs(unsigned d, const char *type, const char *attr)
{
	char path[128];
	std::snprintf(path, sizeof(path), "/sys/class/tt_alloc/device%u/%s/%s", d, type, attr);
	FILE *f = std::fopen(path, "r");
	unsigned long long v = ~0ULL;
	if (f) {
		if (std::fscanf(f, "%llu", &v) != 1)
			v = ~0ULL;
		std::fclose(f);
	}
	return v;
}

static const char *const names[TT_ALLOC_MEM_COUNT] = {
	"dram", "l1", "system", "l1_small", "trace", "cb", "kernel",
};

/* every chip, every type: the module's device scope and sysfs hold
 * exactly what tt-metal's allocator holds */
static void check(const std::string &step, const Held &h)
{
	std::string bad;
	for (unsigned d = 0; d < CHIPS; d++) {
		struct tt_alloc_usage u{};
		if (tt_alloc_get_usage(mon, d, TT_ALLOC_SCOPE_DEVICE, &u)) {
			bad += " usage failed";
			continue;
		}
		for (unsigned t = 0; t < TT_ALLOC_MEM_COUNT; t++) {
			if (u.used[t] == h.b[d][t] && u.allocations[t] == h.e[d][t] &&
			    sysfs(d, names[t], "used_bytes") == h.b[d][t] &&
			    sysfs(d, names[t], "allocations") == h.e[d][t])
				continue;
			char m[160];
			std::snprintf(m, sizeof(m),
				      " [chip %u %s: tt-metal %" PRIu64 " B/%" PRIu64
				      ", module %llu/%llu]",
				      d, names[t], h.b[d][t], h.e[d][t], (unsigned long long)u.used[t],
				      (unsigned long long)u.allocations[t]);
			bad += m;
		}
		/* every kernel recorded here is a system kernel */
		if (sysfs(d, "kernel", "system_bytes") != h.b[d][TT_ALLOC_MEM_KERNEL])
			bad += " [chip " + std::to_string(d) + " kernel/system_bytes " +
			       std::to_string(sysfs(d, "kernel", "system_bytes")) + "]";
	}
	ok(bad.empty(), step + bad);
}

static const std::uint64_t K = 1024, M = 1024 * 1024;

/* the system kernels of a chip, as collect_kernel_meta() describes them:
 * prefetch and dispatch (46 KiB each), two fabric routers (56 KiB each),
 * 204 KiB in all; sizes per binary (processor) */
static const std::vector<KernelMeta> dispatch_kernels = {
	{{{0, 40 * K}, {1, 6 * K}}},
	{{{0, 38 * K}, {1, 8 * K}}},
};
static const std::vector<KernelMeta> fabric_kernels = {
	{{{0, 56 * K}}},
	{{{0, 50 * K}, {1, 6 * K}}},
};

/* a mesh's lifetime: used from 4 threads, CBs, a capture, closed with
 * buffers alive. Buffers at the same addresses every time: a chip whose
 * records outlived its close would refuse them (EEXIST). */
static void mesh_session(Recorder &r, Held &h, std::vector<IDevice *> chips, const char *name)
{
	MeshDevice mesh(chips);
	std::string p = std::string(name) + " mesh (id " + std::to_string(mesh.id()) + "): ";

	/* Device::initialize of each chip loads its dispatch and fabric
	 * kernels; a fabric reconfigured replaces its kernels */
	for (IDevice *c : chips) {
		load_system_kernels(r, h, *c, TT_ALLOC_KERNEL_DISPATCH, dispatch_kernels);
		load_system_kernels(r, h, *c, TT_ALLOC_KERNEL_FABRIC, fabric_kernels);
	}
	check(p + "system kernels loaded: 204 KiB in 4 kernels on every chip", h);
	for (IDevice *c : chips)
		load_system_kernels(r, h, *c, TT_ALLOC_KERNEL_FABRIC, {{{{0, 60 * K}}}});
	check(p + "fabric reconfigured: one 60 KiB router replaces the two", h);
	for (IDevice *c : chips)
		load_system_kernels(r, h, *c, TT_ALLOC_KERNEL_FABRIC, fabric_kernels);

	/* weights: replicated DRAM, lock-step on every chip */
	Buffer wts{&mesh, BufferType::DRAM, 0x10000000, 96 * M};
	Buffer kv{&mesh, BufferType::DRAM, 0x20000000, 40 * M};
	allocate(r, h, wts);
	allocate(r, h, kv);
	check(p + "weights and KV cache on every chip, each chip its own size", h);

	/* activations from 4 threads (tt-metal's worker threads allocate too) */
	std::vector<Buffer> acts;
	for (unsigned i = 0; i < 4 * 16; i++)
		acts.push_back({&mesh, i % 2 ? BufferType::L1 : BufferType::DRAM,
				0x40000000u + i * 0x100000u, (i + 1) * 4 * K});
	Held hs[4];
	std::vector<std::thread> th;
	for (unsigned t = 0; t < 4; t++)
		th.emplace_back([&, t] {
			for (unsigned i = t; i < acts.size(); i += 4)
				allocate(r, hs[t], acts[i]);
		});
	for (auto &t : th)
		t.join();
	for (const auto &b : acts)
		h.add(b, +1);
	check(p + "64 activations allocated from 4 threads", h);

	/* a program dispatched on each chip: its CBs resident; a cached
	 * re-dispatch changes nothing; a second program's CBs replace them */
	for (IDevice *c : chips) {
		ttalloc::metal::device_cbs_resident(*c, 200 * K, r);
		h.cbs(static_cast<unsigned>(c->id()), 200 * K);
	}
	for (IDevice *c : chips)
		ttalloc::metal::device_cbs_resident(*c, 200 * K, r);
	check(p + "program A's CBs resident (200 KiB), re-dispatched from the cache", h);
	for (IDevice *c : chips) {
		ttalloc::metal::device_cbs_resident(*c, 120 * K, r);
		h.cbs(static_cast<unsigned>(c->id()), 120 * K);
	}
	check(p + "program B dispatched: 120 KiB of CBs resident", h);

	/* programs: tt-metal keeps a program's kernel binaries in a DRAM
	 * Buffer it creates once per program and device, sized by the
	 * binaries (ProgramImpl::allocate_kernel_bin_buf_on_device), owned
	 * by the program: a cached re-dispatch allocates nothing, the
	 * program's destruction frees it */
	Buffer prog_a{&mesh, BufferType::DRAM, 0x7f000000, 24 * K};
	Buffer prog_b{&mesh, BufferType::DRAM, 0x7f100000, 12 * K};
	allocate(r, h, prog_a);
	allocate(r, h, prog_b);
	check(p + "programs A and B compiled: kernel binaries (24, 12 KiB) on every chip", h);
	deallocate(r, h, prog_a);
	check(p + "program A destroyed: its kernel binaries freed, B's stay", h);

	/* a graph capture (NO_DISPATCH): hooked, address 0, never allocated */
	Buffer cap1{&mesh, BufferType::DRAM, 0, 8 * M}, cap2{&mesh, BufferType::L1, 0, 64 * K};
	allocate(r, h, cap1, true);
	allocate(r, h, cap2, true);
	check(p + "graph capture: two hooked allocations not recorded", h);
	deallocate(r, h, cap2, true);
	deallocate(r, h, cap1, true);

	/* half the activations freed, from 2 threads */
	th.clear();
	for (unsigned t = 0; t < 2; t++)
		th.emplace_back([&, t] {
			for (unsigned i = t; i < acts.size() / 2; i += 2)
				deallocate(r, hs[t], acts[i]);
		});
	for (auto &t : th)
		t.join();
	for (unsigned i = 0; i < acts.size() / 2; i++)
		h.add(acts[i], -1);
	check(p + "32 activations freed from 2 threads", h);

	/* close with weights, KV cache, 32 activations, program B and the
	 * system kernels alive: tt-metal resets each chip's allocator; their
	 * later frees raise no event */
	for (IDevice *c : chips)
		close_chip(r, h, *c);
	check(p + "closed with 35 buffers and the system kernels alive: every chip empty", h);
	ok(r.errors() == 0, p + "no call refused (errors " + std::to_string(r.errors()) + ", last " +
			       std::to_string(r.last_error()) + ")");
}

int main()
{
	std::printf("TAP version 13\n");
	if (tt_alloc_open_ex(nullptr, TT_ALLOC_OPEN_MONITOR, &mon)) {
		std::printf("1..1\nnot ok 1 /dev/tt_alloc opens (monitor)\n");
		return 1;
	}
	setenv("TT_ALLOC_TRACKING_ENABLED", "1", 1);
	struct tt_alloc_ctx *ctx = nullptr;
	tt_alloc_open(&ctx);
	Recorder r(ctx);
	ok(r.enabled(), "TT_ALLOC_TRACKING_ENABLED=1: the recorder tracks");

	Held h;
	Device c0(0), c1(1), c2(2), c3(3);
	check("nothing recorded yet", h);
	mesh_session(r, h, {&c0, &c1}, "2-chip");
	mesh_session(r, h, {&c0, &c1}, "2-chip reopened");
	mesh_session(r, h, {&c0, &c1, &c2, &c3}, "4-chip");
	mesh_session(r, h, {&c0, &c1, &c2, &c3}, "4-chip reopened");

	/* a single chip: Buffers on the Device itself */
	Buffer s1{&c2, BufferType::TRACE, 0x30000000, 8 * M};
	Buffer s2{&c2, BufferType::L1_SMALL, 0x8000, 32 * K};
	allocate(r, h, s1);
	allocate(r, h, s2);
	check("chip 2 alone: a trace region and an L1_SMALL buffer", h);
	deallocate(r, h, s2);
	check("chip 2: the L1_SMALL buffer freed", h);
	/* a buffer allocated before tracking began is freed: ignored */
	Buffer before{&c2, BufferType::DRAM, 0x5000000, 4 * K};
	ttalloc::metal::buffer_deallocated<MeshDevice>(before, false, r);
	ok(r.errors() == 0, "a free of a buffer never recorded: ignored, no error");
	check("and nothing changed", h);

	/* a process killed mid-way: what it held goes, this process's stays */
	int pfd[2];
	if (pipe(pfd)) {
		ok(false, "pipe");
		return 1;
	}
	pid_t pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		struct tt_alloc_ctx *cctx = nullptr;
		tt_alloc_open(&cctx);
		Recorder cr(cctx);
		Held ch;
		MeshDevice m({&c0, &c1, &c2, &c3});
		Buffer b{&m, BufferType::DRAM, 0x70000000, 256 * M};
		allocate(cr, ch, b);
		ttalloc::metal::device_cbs_resident(c3, 64 * K, cr);
		ttalloc::metal::system_kernels_loaded(
			c3, TT_ALLOC_KERNEL_DISPATCH, [] { return dispatch_kernels; }, cr);
		char x = cr.errors() == 0 ? 'y' : 'n';
		if (write(pfd[1], &x, 1) != 1)
			_exit(2);
		pause();
		_exit(0);
	}
	close(pfd[1]);
	char x = 0;
	bool got = read(pfd[0], &x, 1) == 1 && x == 'y';
	close(pfd[0]);
	Held with = h;
	Buffer other{nullptr, BufferType::DRAM, 0x70000000, 256 * M};
	for (Device *c : {&c0, &c1, &c2, &c3}) {
		other.device_ = c;
		with.add(other, +1);
	}
	with.cbs(3, 64 * K);
	with.b[3][TT_ALLOC_MEM_KERNEL] += 92 * K;
	with.e[3][TT_ALLOC_MEM_KERNEL] += 2;
	ok(got, "another process: a 256 MiB buffer on a 4-chip mesh, 64 KiB of CBs and "
		"92 KiB of dispatch kernels on chip 3");
	check("both processes' memory on each chip", with);
	kill(pid, SIGKILL);
	int st = 0;
	waitpid(pid, &st, 0);
	ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "the other process was SIGKILLed");
	check("after the SIGKILL: only this process's memory", h);

	close_chip(r, h, c2);
	check("chip 2 closed: nothing left", h);

	/* a chip id past the module's devices: refused, counted, never thrown */
	Device far(4096);
	Buffer fb{&far, BufferType::DRAM, 0x1000, 4 * K};
	ttalloc::metal::buffer_allocated<MeshDevice>(fb, false, r);
	ok(r.errors() == 1 && r.last_error() < 0,
	   "a chip id past the module's devices: one error counted (" +
		   std::to_string(r.last_error()) + "), nothing thrown");
	check("and nothing recorded", h);

	/* tracking off: the same hooks record nothing */
	unsetenv("TT_ALLOC_TRACKING_ENABLED");
	struct tt_alloc_ctx *off = nullptr;
	tt_alloc_open(&off);
	{
		Recorder ro(off);
		ok(!ro.enabled(), "TT_ALLOC_TRACKING_ENABLED unset: the recorder is off");
		MeshDevice m({&c0, &c1});
		Buffer b{&m, BufferType::DRAM, 0x10000000, 96 * M};
		ttalloc::metal::buffer_allocated<MeshDevice>(b, false, ro);
		ttalloc::metal::device_cbs_resident(c0, 200 * K, ro);
		check("tracking off: a mesh buffer and CBs, nothing recorded", h);
		ttalloc::metal::buffer_deallocated<MeshDevice>(b, false, ro);
		ttalloc::metal::device_closed(c0, ro);
		ok(ro.errors() == 0, "tracking off: no errors");
	}

	tt_alloc_close(mon);
	std::printf("1..%d\n", n);
	return failed ? 1 : 0;
}
