/* npusim — Chrome/Perfetto JSON trace writer, an NpuSink.
 *
 * Writes {"traceEvents":[...],"displayTimeUnit":"ns"} streamed to the file (never
 * built in memory). ts/dur are microseconds printed from integer ps with exactly
 * three decimals (ns resolution, truncation-free: ps are rounded to ns by the
 * integer rule "round half up" on the ps value) — never through a float printer.
 * Event kinds: X (complete), C (counter), s/f flow pairs with "bp":"e", M metadata
 * (process_name, thread_name, process_sort_index, thread_sort_index).
 * Slices that would break nesting on a track are moved to an overflow lane (a new
 * thread named "<track> #2", ...) so every track nests, as Perfetto requires. */
#pragma once
#include "sim/sink.h"

G_BEGIN_DECLS

typedef struct _NpuTraceWriter NpuTraceWriter;

/** npu_trace_writer_open: (transfer full) create/truncate @path. */
NpuTraceWriter *npu_trace_writer_open (const char *path, GError **error);
/** npu_trace_writer_sink: (transfer none) the sink view of the writer. */
NpuSink *npu_trace_writer_sink (NpuTraceWriter *writer);
/** npu_trace_writer_close: finish the JSON and close; frees the writer. */
gboolean npu_trace_writer_close (NpuTraceWriter *writer, GError **error);
/** npu_trace_writer_abort: close and delete the partial file; frees the writer. */
void npu_trace_writer_abort (NpuTraceWriter *writer);

/** npu_trace_format_us: write @ps as microseconds with 3 decimals into @buf (>= 32 B). */
void npu_trace_format_us (NpuTime ps, char *buf);

G_END_DECLS
