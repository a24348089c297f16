/* npusim — nesting lanes of one trace track. See trace-lanes.h for the model. */
#include "traces/trace-lanes.h"

typedef struct {
  guint64 start, end;   /* ns, start <= end */
} Span;

struct _NpuTraceLane {
  guint32 tid;
  GArray *tops;    /* Span, sorted by start, tops[k].end <= tops[k+1].start */
  GArray *forest;  /* Span, same invariant, all inside the last element of tops */
};

#define SPAN(a, k) (g_array_index ((a), Span, (k)))

NpuTraceLane *
npu_trace_lane_new (guint32 tid)
{
  NpuTraceLane *lane = g_new0 (NpuTraceLane, 1);
  lane->tid = tid;
  lane->tops = g_array_new (FALSE, FALSE, sizeof (Span));
  lane->forest = g_array_new (FALSE, FALSE, sizeof (Span));
  return lane;
}

void
npu_trace_lane_free (NpuTraceLane *lane)
{
  if (lane == NULL)
    return;
  g_array_unref (lane->tops);
  g_array_unref (lane->forest);
  g_free (lane);
}

guint32
npu_trace_lane_tid (const NpuTraceLane *lane)
{
  return lane->tid;
}

guint
npu_trace_lane_n_tops (const NpuTraceLane *lane)
{
  return lane->tops->len;
}

/* Both starts and ends of a span array are non-decreasing, so these are binary
 * searches for the first index whose field passes a monotone test. */
static guint
first_end_after (GArray *a, guint64 x)
{
  guint lo = 0, hi = a->len;
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      if (SPAN (a, mid).end > x)
        hi = mid;
      else
        lo = mid + 1;
    }
  return lo;
}

static guint
first_start_at_or_after (GArray *a, guint64 x)
{
  guint lo = 0, hi = a->len;
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      if (SPAN (a, mid).start >= x)
        hi = mid;
      else
        lo = mid + 1;
    }
  return lo;
}

static guint
first_start_after (GArray *a, guint64 x)
{
  guint lo = 0, hi = a->len;
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      if (SPAN (a, mid).start > x)
        hi = mid;
      else
        lo = mid + 1;
    }
  return lo;
}

static void
insert_top (NpuTraceLane *lane, guint at, Span span)
{
  /* A new last top-level interval starts a new tree: its descendants are unknown,
   * i.e. none yet. */
  if (at == lane->tops->len)
    g_array_set_size (lane->forest, 0);
  g_array_insert_val (lane->tops, at, span);
}

gboolean
npu_trace_lane_place (NpuTraceLane *lane, guint64 start, guint64 end)
{
  g_return_val_if_fail (lane != NULL, FALSE);
  g_return_val_if_fail (start <= end, FALSE);

  /* A zero-length slice never partially overlaps anything, and it is not recorded:
   * recording it would only split the last tree (an instant at its end starts a new
   * one) and cost the equal-end case below. */
  if (start == end)
    return TRUE;

  GArray *tops = lane->tops;
  guint n = tops->len;
  /* tops[lo, hi) are the top-level intervals that meet [start, end): the ones
   * before lo end at or before start, the ones from hi on start at or after end. */
  guint lo = first_end_after (tops, start);
  guint hi = first_start_at_or_after (tops, end);
  g_assert (lo <= hi);

  if (lo == hi)
    {
      insert_top (lane, lo, (Span) { start, end });
      return TRUE;
    }

  Span first = SPAN (tops, lo);
  Span last = SPAN (tops, hi - 1);

  if (start <= first.start && last.end <= end)
    {
      /* The new slice contains every interval it meets: it becomes their parent. */
      if (hi == n)
        {
          /* It takes over the last tree. Its non-chain descendants' tops: when it
           * ends where the old last tree ended, the old tree's chain continues
           * through it, so the old forest stays and the other absorbed intervals
           * join it; otherwise every absorbed interval is a forest top. */
          g_autoptr (GArray) forest = g_array_new (FALSE, FALSE, sizeof (Span));
          if (end == last.end)
            {
              g_array_append_vals (forest, &SPAN (tops, lo), hi - 1 - lo);
              g_array_append_vals (forest, lane->forest->data, lane->forest->len);
            }
          else
            g_array_append_vals (forest, &SPAN (tops, lo), hi - lo);
          g_array_unref (lane->forest);
          lane->forest = g_steal_pointer (&forest);
        }
      g_array_remove_range (tops, lo, hi - lo);
      g_array_insert_val (tops, lo, ((Span) { start, end }));
      return TRUE;
    }

  if (hi - lo == 1 && hi == n && end == last.end && start > last.start)
    {
      /* Inside the last tree, ending with it: it nests unless some descendant that
       * ends earlier straddles its start. Such a descendant exists iff one of the
       * forest tops does. */
      GArray *forest = lane->forest;
      guint k = first_start_at_or_after (forest, start);
      if (k > 0 && SPAN (forest, k - 1).end > start)
        return FALSE;
      return TRUE;
    }

  return FALSE;
}

NpuTraceCover
npu_trace_lane_covers (const NpuTraceLane *lane, guint64 t)
{
  g_return_val_if_fail (lane != NULL, NPU_TRACE_COVER_NONE);
  guint k = first_start_after (lane->tops, t);
  if (k == 0)
    return NPU_TRACE_COVER_NONE;
  Span c = SPAN (lane->tops, k - 1);
  if (c.start <= t && t < c.end)
    return NPU_TRACE_COVER_INSIDE;
  if (c.end == t)
    return NPU_TRACE_COVER_END;
  return NPU_TRACE_COVER_NONE;
}
