// SPDX-License-Identifier: GPL-2.0
/*
 * Guest test of the tt-metal tracking processor (root, tt_alloc loaded with
 * defaults): a TT-NN-like sequence of graph-tracker callbacks (two devices
 * opened with their system kernels, weights and activations, CBs of a
 * program, the program itself, the CB deallocation, buffer frees, device
 * close) goes through GraphTracker into TtAllocProcessor and so into the
 * module; after each step the device-scope TT_ALLOC_IOC_USAGE, the sysfs
 * counters and the processor's own file scope are checked. Then the same
 * sequence with TT_ALLOC_TRACKING_ENABLED unset records nothing. TAP.
 */
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "tt_alloc_processor.hpp"

using namespace tt::tt_metal;
using tt_alloc::TtAllocProcessor;

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

/* want[device][type] = {bytes, entries}: device scope, sysfs and the
 * processor's file scope all say exactly that, for devices 0 and 1 */
struct State {
	std::uint64_t b[2][TT_ALLOC_MEM_COUNT] = {};
	std::uint64_t e[2][TT_ALLOC_MEM_COUNT] = {};
	void add(unsigned d, unsigned t, std::uint64_t bytes, long entries)
	{
		b[d][t] += bytes;
		e[d][t] += entries;
	}
	void sub(unsigned d, unsigned t, std::uint64_t bytes, long entries)
	{
		b[d][t] -= bytes;
		e[d][t] -= entries;
	}
};

static void check(const char *step, const State &s, struct tt_alloc_ctx *own)
{
	std::string bad;
	for (unsigned d = 0; d < 2; d++) {
		struct tt_alloc_usage dev{}, file{};
		int rc = tt_alloc_get_usage(mon, d, TT_ALLOC_SCOPE_DEVICE, &dev);
		int rc2 = own ? tt_alloc_get_usage(own, d, TT_ALLOC_SCOPE_FILE, &file) : 0;
		if (rc || rc2) {
			bad += " usage failed";
			continue;
		}
		for (unsigned t = 0; t < TT_ALLOC_MEM_COUNT; t++) {
			std::uint64_t fb = own ? file.used[t] : s.b[d][t];
			std::uint64_t fe = own ? file.allocations[t] : s.e[d][t];
			if (dev.used[t] != s.b[d][t] || dev.allocations[t] != s.e[d][t] ||
			    sysfs(d, names[t], "used_bytes") != s.b[d][t] ||
			    sysfs(d, names[t], "allocations") != s.e[d][t] || fb != s.b[d][t] ||
			    fe != s.e[d][t]) {
				char m[160];
				std::snprintf(m, sizeof(m),
					      " [device %u %s: want %" PRIu64 " B/%" PRIu64
					      ", usage %llu/%llu, file %" PRIu64 "/%" PRIu64 "]",
					      d, names[t], s.b[d][t], s.e[d][t],
					      (unsigned long long)dev.used[t],
					      (unsigned long long)dev.allocations[t], fb, fe);
				bad += m;
			}
		}
	}
	ok(bad.empty(), std::string(step) + bad);
}

static const std::uint64_t K = 1024, M = 1024 * 1024;
/* the kernel binaries of a program, as the runtime would compute them */
static std::uint64_t program_bytes(const Program *p, const IDevice *)
{
	return p->get_id() == 1 ? 24 * K : 12 * K;
}

/* The TT-NN-like sequence; without tracking nothing must be recorded. */
static void replay(bool tracking)
{
	const char *mode = tracking ? "" : "disabled, nothing recorded: ";
	auto proc = std::make_shared<TtAllocProcessor>(program_bytes);
	ok(proc->enabled() == tracking,
	   std::string(mode) + "processor enabled() is " + (tracking ? "true" : "false"));
	ok(!proc->is_capture_processor(), std::string(mode) + "a background processor");
	GraphTracker &gt = GraphTracker::instance();
	gt.push_processor(proc);
	ok(!gt.is_enabled(), std::string(mode) + "GraphTracker::is_enabled() stays false");
	struct tt_alloc_ctx *own = tracking ? proc->context() : nullptr;
	State s, zero;
	State &w = tracking ? s : zero;
	auto step = [&](const std::string &what) { check((mode + what).c_str(), w, own); };

	IDevice d0(0), d1(1);
	/* device open: 2 fabric (56 KiB) and 2 dispatch (46 KiB) kernels each */
	for (IDevice *d : {&d0, &d1}) {
		unsigned i = static_cast<unsigned>(d->id());
		proc->system_kernel(d, TT_ALLOC_KERNEL_FABRIC, 0x1000, 56 * K);
		proc->system_kernel(d, TT_ALLOC_KERNEL_FABRIC, 0x2000, 56 * K);
		proc->system_kernel(d, TT_ALLOC_KERNEL_DISPATCH, 0x3000, 46 * K);
		proc->system_kernel(d, TT_ALLOC_KERNEL_DISPATCH, 0x4000, 46 * K);
		s.add(i, TT_ALLOC_MEM_KERNEL, 204 * K, 4);
	}
	step("devices 0 and 1 opened: 204 KiB of system kernels each");
	if (tracking)
		ok(sysfs(0, "kernel", "system_bytes") == 204 * K &&
			   sysfs(1, "kernel", "system_bytes") == 204 * K,
		   "kernel/system_bytes is 204 KiB on both devices");

	/* weights, KV cache, activations, config, a trace region */
	Buffer w0(&d0, 0x10000000, 64 * M, BufferType::DRAM);
	Buffer w1(&d0, 0x20000000, 16 * M, BufferType::DRAM);
	Buffer kv(&d1, 0x10000000, 32 * M, BufferType::DRAM);
	Buffer act(&d0, 0x100000, 1 * M, BufferType::L1);
	Buffer cfg(&d0, 0x8000, 32 * K, BufferType::L1_SMALL);
	Buffer tr(&d0, 0x30000000, 8 * M, BufferType::TRACE);
	Buffer host(&d1, 0x0, 2 * M, BufferType::SYSTEM_MEMORY);
	for (Buffer *b : {&w0, &w1, &kv, &act, &cfg, &tr, &host}) {
		gt.track_allocate(b);
		std::uint32_t t = 0;
		TtAllocProcessor::map_buffer_type(b->buffer_type(), &t);
		s.add(static_cast<unsigned>(b->device()->id()), t, b->size(), 1);
	}
	step("buffers: DRAM, L1, L1_SMALL, TRACE, SYSTEM_MEMORY on their types");

	/* a program's CBs: 3 on 64 cores, one on 8 cores of device 1, one
	 * globally allocated (its memory is a buffer: not counted twice) */
	CoreRangeSet grid(64), row(8);
	gt.track_allocate_cb(grid, 0x20000, 4 * K, false, &d0);
	gt.track_allocate_cb(grid, 0x21000, 8 * K, false, &d0);
	gt.track_allocate_cb(grid, 0x23000, 2 * K, false, &d0);
	gt.track_allocate_cb(row, 0x20000, 16 * K, false, &d1);
	gt.track_allocate_cb(grid, 0x40000, 64 * K, true, &d0);
	s.add(0, TT_ALLOC_MEM_CB, 64 * 14 * K, 3);
	s.add(1, TT_ALLOC_MEM_CB, 8 * 16 * K, 1);
	step("CBs: size x cores, per device; the globally allocated one skipped");

	Program p1(1), p2(2);
	gt.track_program(&p1, &d0);
	gt.track_program(&p1, &d0); /* cached program, run again */
	gt.track_program(&p2, &d0);
	gt.track_program(&p1, &d1);
	s.add(0, TT_ALLOC_MEM_KERNEL, 36 * K, 2);
	s.add(1, TT_ALLOC_MEM_KERNEL, 24 * K, 1);
	step("programs: app kernels once per (program, device)");

	/* a second op reuses a CB address with another size */
	gt.track_allocate_cb(grid, 0x20000, 6 * K, false, &d0);
	s.add(0, TT_ALLOC_MEM_CB, 64 * 6 * K, 1);
	step("CB at an address already held: an entry of its own");

	gt.track_deallocate_cb(&d0);
	s.sub(0, TT_ALLOC_MEM_CB, 64 * 20 * K, 4);
	step("track_deallocate_cb(device 0): its 4 CBs gone, device 1's stay");
	gt.track_deallocate_cb(&d0);
	step("track_deallocate_cb(device 0) again: nothing to free");

	for (Buffer *b : {&act, &cfg, &w1}) {
		gt.track_deallocate(b);
		std::uint32_t t = 0;
		TtAllocProcessor::map_buffer_type(b->buffer_type(), &t);
		s.sub(static_cast<unsigned>(b->device()->id()), t, b->size(), 1);
	}
	step("buffer frees");
	Buffer never(&d0, 0x7777000, 4 * K, BufferType::DRAM);
	gt.track_deallocate(&never); /* allocated before the processor was registered */
	step("free of a buffer never recorded: counters unchanged");
	if (tracking)
		ok(proc->errors() == 1 && proc->last_error() == -ENOENT,
		   "... and counted as one error (-ENOENT), not thrown");
	else
		ok(proc->errors() == 0, "disabled: no errors counted");

	for (Buffer *b : {&w0, &kv, &tr, &host})
		gt.track_deallocate(b);
	s.sub(0, TT_ALLOC_MEM_DRAM, 64 * M, 1);
	s.sub(1, TT_ALLOC_MEM_DRAM, 32 * M, 1);
	s.sub(0, TT_ALLOC_MEM_TRACE, 8 * M, 1);
	s.sub(1, TT_ALLOC_MEM_SYSTEM, 2 * M, 1);
	step("every buffer freed: kernels and device 1's CB left");

	proc->device_closed(&d0);
	for (unsigned t = 0; t < TT_ALLOC_MEM_COUNT; t++)
		s.sub(0, t, s.b[0][t], static_cast<long>(s.e[0][t]));
	step("device 0 closed: nothing left on it");
	proc->device_closed(&d1);
	for (unsigned t = 0; t < TT_ALLOC_MEM_COUNT; t++)
		s.sub(1, t, s.b[1][t], static_cast<long>(s.e[1][t]));
	step("device 1 closed: everything is 0");

	/* a leak the runtime forgot: the processor's close reclaims it */
	Buffer leak(&d1, 0x5000000, 1 * M, BufferType::DRAM);
	gt.track_allocate(&leak);
	s.add(1, TT_ALLOC_MEM_DRAM, 1 * M, 1);
	step("a buffer the runtime never frees");
	gt.pop_processor();
	ok(proc.use_count() == 1, std::string(mode) + "popped from GraphTracker");
	proc.reset();
	check((std::string(mode) + "processor destroyed: a leaked buffer reclaimed, all 0").c_str(),
	      zero, nullptr);
}

int main()
{
	if (tt_alloc_open_ex(nullptr, TT_ALLOC_OPEN_MONITOR, &mon) != 0) {
		std::printf("not ok 1 open /dev/tt_alloc for monitoring\n1..1\n");
		return 1;
	}
	setenv("TT_ALLOC_TRACKING_ENABLED", "1", 1);
	replay(true);
	unsetenv("TT_ALLOC_TRACKING_ENABLED");
	replay(false);
	tt_alloc_close(mon);
	std::printf("1..%d\n", n);
	return failed ? 1 : 0;
}
