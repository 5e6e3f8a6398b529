/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints tt_alloc:alloc, tt_alloc:free and tt_alloc:reclaim, one event
 * per entry and reference, for operators who want to see what a runtime
 * records (tracefs: events/tt_alloc/).
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM tt_alloc

#if !defined(_TT_ALLOC_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TT_ALLOC_TRACE_H

#include <linux/pid.h>
#include <linux/tracepoint.h>

#define TT_ALLOC_TP_PROTO						\
	TP_PROTO(u64 client, struct pid *pid, u32 device, u32 type,	\
		 u32 kind, u64 id, u64 size, u32 refs)
#define TT_ALLOC_TP_ARGS						\
	TP_ARGS(client, pid, device, type, kind, id, size, refs)

/*
 * __print_symbolic() needs (value, name) pairs, which the uapi's array
 * initializer TT_ALLOC_MEM_NAMES cannot give: these repeat its names, and
 * trace_test checks every type's symbol against it on each kernel.
 */
#define tt_print_mem(val)						\
	__print_symbolic(val,						\
			 { TT_ALLOC_MEM_DRAM, "dram" },			\
			 { TT_ALLOC_MEM_L1, "l1" },			\
			 { TT_ALLOC_MEM_SYSTEM, "system" },		\
			 { TT_ALLOC_MEM_L1_SMALL, "l1_small" },		\
			 { TT_ALLOC_MEM_TRACE, "trace" },		\
			 { TT_ALLOC_MEM_CB, "cb" },			\
			 { TT_ALLOC_MEM_KERNEL, "kernel" },		\
			 { TT_ALLOC_MEM_COUNT, "unknown" })

DECLARE_EVENT_CLASS(tt_alloc_entry, TT_ALLOC_TP_PROTO, TT_ALLOC_TP_ARGS,
		    TP_STRUCT__entry(__field(u64, client)
				     __field(pid_t, pid)
				     __field(u32, device)
				     __field(u32, type)
				     __field(u32, kind)
				     __field(u64, id)
				     __field(u64, size)
				     __field(u32, refs)),
		    TP_fast_assign(__entry->client = client;
				   __entry->pid = pid_nr(pid);
				   __entry->device = device;
				   __entry->type = type;
				   __entry->kind = kind;
				   __entry->id = id;
				   __entry->size = size;
				   __entry->refs = refs;),
		    TP_printk("client=%llu pid=%d device=%u type=%s kind=%u id=0x%llx size=%llu refs=%u",
			      __entry->client, __entry->pid, __entry->device,
			      tt_print_mem(__entry->type),
			      __entry->kind, __entry->id, __entry->size,
			      __entry->refs));

/* A new entry, or another reference to one (refs > 1); pid: the caller. */
DEFINE_EVENT(tt_alloc_entry, alloc, TT_ALLOC_TP_PROTO, TT_ALLOC_TP_ARGS);

/* One reference dropped; refs == 0 means the entry is gone. */
DEFINE_EVENT(tt_alloc_entry, free, TT_ALLOC_TP_PROTO, TT_ALLOC_TP_ARGS);

/* An entry taken back at release or by the sweep; pid: its recorder. */
DEFINE_EVENT(tt_alloc_entry, reclaim, TT_ALLOC_TP_PROTO, TT_ALLOC_TP_ARGS);

#endif /* _TT_ALLOC_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE tt_alloc_trace
#include <trace/define_trace.h>
