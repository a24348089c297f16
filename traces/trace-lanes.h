/* npusim — nesting lanes of one trace track (internal to traces/).
 *
 * Perfetto's JSON importer requires the complete ('X') slices of one thread to nest:
 * two slices are either disjoint or one contains the other. The simulator reports
 * slices when they end, so a busy engine can produce partial overlaps on one track.
 * The trace writer gives every track a list of lanes; a slice goes to the first lane
 * where it nests, and lanes after the first become extra threads ("<track> #2").
 *
 * A lane stores only what deciding "does [s,e) nest here?" needs:
 *  - tops: its top-level intervals, sorted by start, tops[k].end <= tops[k+1].start.
 *    Their union is exactly the union of the lane's slices, which is what flow
 *    endpoints are resolved against.
 *  - forest: for the last top-level interval T only, the top-level intervals of its
 *    descendants that do not end at T.end. It decides the one "inside" case that
 *    end-ordered reporting produces: a slice inside T that ends exactly at T.end
 *    (reported just after T at the same simulated time).
 * Any other slice strictly inside an existing top-level interval is sent to the next
 * lane, which is always safe (never wrong nesting), only sometimes one lane more than
 * necessary.
 *
 * Times are integer nanoseconds (the trace's resolution), so the decision is made on
 * exactly the numbers written to the file. */
#pragma once
#include <glib.h>

G_BEGIN_DECLS

typedef struct _NpuTraceLane NpuTraceLane;

/** npu_trace_lane_new: (transfer full) an empty lane written as thread @tid. */
NpuTraceLane *npu_trace_lane_new (guint32 tid);
void npu_trace_lane_free (NpuTraceLane *lane);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NpuTraceLane, npu_trace_lane_free)

/** npu_trace_lane_tid: the thread id this lane is written as. */
guint32 npu_trace_lane_tid (const NpuTraceLane *lane);

/**
 * npu_trace_lane_place: try to add the slice [@start_ns, @end_ns) (@start_ns <=
 * @end_ns) to @lane. Returns TRUE and records it when it nests with every slice
 * already on the lane (as far as the lane can tell, see above); FALSE leaves the lane
 * unchanged. A zero-length slice always nests: it is accepted and not recorded
 * (npu_trace_lane_covers does not see it).
 */
gboolean npu_trace_lane_place (NpuTraceLane *lane, guint64 start_ns, guint64 end_ns);

typedef enum {
  NPU_TRACE_COVER_NONE = 0,  /* no slice of the lane contains the point */
  NPU_TRACE_COVER_END,       /* a slice ends exactly at the point, none contains it */
  NPU_TRACE_COVER_INSIDE,    /* a slice has start <= t < end */
} NpuTraceCover;

/** npu_trace_lane_covers: how the lane's slices cover the instant @t_ns. */
NpuTraceCover npu_trace_lane_covers (const NpuTraceLane *lane, guint64 t_ns);

/** npu_trace_lane_n_tops: number of top-level intervals (for tests). */
guint npu_trace_lane_n_tops (const NpuTraceLane *lane);

G_END_DECLS
