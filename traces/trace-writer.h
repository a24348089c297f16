/* npusim — Chrome/Perfetto JSON trace writer, an NpuSink.
 *
 * Writes {"traceEvents":[...],"displayTimeUnit":"ns"} streamed to the file (never
 * built in memory), one event per line. ts/dur are microseconds printed from integer
 * ps with exactly three decimals (ns resolution: ps are rounded to ns by the integer
 * rule "round half up" on the ps value) — never through a float printer. A slice's
 * start and end are rounded, and dur is their difference, so rounding keeps slices
 * that nest (or touch) in ps nesting (or touching) in the file.
 *
 * Event kinds: X (complete), C (counter), s/f flow pairs with "bp":"e", M metadata
 * (process_name, thread_name, process_sort_index, thread_sort_index). Counter values
 * are written as integers when integral and below 2^53, otherwise with the fewest
 * significant digits (15 to 17) that read back as the same double; NaN and infinities
 * are refused (JSON has none).
 *
 * Track names. Declare processes and threads before use; the first declaration wins
 * and is written once. A slice or counter on an undeclared track gets a placeholder
 * name ("Process <pid>", "Thread <tid>") so every track is named; a later declaration
 * then replaces the placeholder.
 *
 * Nesting. Slices that would break nesting on a track are moved to an overflow lane
 * of that track: a new thread named "<track> #2", "#3", ... with the track's sort
 * index (it sorts right after the original, whose name is a prefix of it). Overflow
 * lanes get thread ids NPU_TRACE_OVERFLOW_TID_BASE, +1, +2, ... in order of creation
 * over the whole trace (unique across processes), so callers must keep their own
 * tids below NPU_TRACE_OVERFLOW_TID_BASE.
 *
 * Zero-length slices nest with anything and always stay on the track's own tid.
 *
 * Flows. A flow endpoint (pid, tid, ts) is written on the lane of that track whose
 * slices contain ts (start <= ts < end; failing that, a slice ending at ts; lowest
 * lane first; failing that the track's own tid, where zero-length slices are). A
 * flow whose two endpoints are already covered when it is reported is written at
 * once; the others are kept and written at close. An endpoint that no slice ever covers stays on the declared tid and
 * tests/trace-check.py reports it. Perfetto binds a flow endpoint to the deepest slice
 * open on the lane at ts (the most recently started one), so put endpoints strictly
 * inside the intended slice, not at its end. Flow ids should stay below 2^53 for
 * chrome://tracing (JavaScript numbers).
 *
 * Ordering. The file lists events in call order. Perfetto sorts by (ts, longer slice
 * first), so a parent reported after its child (same start) still nests there; older
 * viewers that keep file order for equal timestamps may show such a pair inverted.
 * The output is byte-identical for the same sequence of calls. */
#pragma once
#include "sim/sink.h"

G_BEGIN_DECLS

/** First thread id used for overflow lanes; caller tids must be below it. */
#define NPU_TRACE_OVERFLOW_TID_BASE 0x40000000u

typedef struct _NpuTraceWriter NpuTraceWriter;

/**
 * npu_trace_writer_open: (transfer full) create/truncate @path and write the header.
 * Errors: G_FILE_ERROR_* from the OS.
 */
NpuTraceWriter *npu_trace_writer_open (const char *path, GError **error);
/** npu_trace_writer_sink: (transfer none) the sink view of the writer. */
NpuSink *npu_trace_writer_sink (NpuTraceWriter *writer);
/**
 * npu_trace_writer_close: write the pending flows, finish the JSON and close; frees
 * the writer. Errors: G_FILE_ERROR_* when a write or the close failed (the partial
 * file is left in place).
 */
gboolean npu_trace_writer_close (NpuTraceWriter *writer, GError **error);
/** npu_trace_writer_abort: close and delete the partial file; frees the writer. */
void npu_trace_writer_abort (NpuTraceWriter *writer);

/* g_autoptr(NpuTraceWriter) aborts a writer that was not closed: steal the pointer
 * (g_steal_pointer) into npu_trace_writer_close. */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NpuTraceWriter, npu_trace_writer_abort)

/** npu_trace_format_us: write @ps as microseconds with 3 decimals into @buf (>= 32 B). */
void npu_trace_format_us (NpuTime ps, char *buf);

G_END_DECLS
