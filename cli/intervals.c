/* npusim — interval-set arithmetic on [start, end) picosecond ranges. */
#include "cli/intervals.h"

static gint
cmp_interval (gconstpointer a, gconstpointer b)
{
  const NpuInterval *x = a, *y = b;
  if (x->start != y->start)
    return x->start < y->start ? -1 : 1;
  if (x->end != y->end)
    return x->end < y->end ? -1 : 1;
  return 0;
}

GArray *
npu_intervals_normalize (const GArray *in)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (NpuInterval));
  if (in == NULL || in->len == 0)
    return out;
  g_autoptr (GArray) sorted = g_array_sized_new (FALSE, FALSE, sizeof (NpuInterval), in->len);
  g_array_append_vals (sorted, in->data, in->len);
  g_array_sort (sorted, cmp_interval);
  NpuInterval cur = g_array_index (sorted, NpuInterval, 0);
  for (guint i = 1; i < sorted->len; i++)
    {
      NpuInterval next = g_array_index (sorted, NpuInterval, i);
      if (next.start <= cur.end)
        cur.end = MAX (cur.end, next.end);
      else
        {
          if (cur.end > cur.start)
            g_array_append_val (out, cur);
          cur = next;
        }
    }
  if (cur.end > cur.start)
    g_array_append_val (out, cur);
  return out;
}

NpuTime
npu_intervals_total (const GArray *set)
{
  NpuTime t = 0;
  for (guint i = 0; set != NULL && i < set->len; i++)
    t += g_array_index (set, NpuInterval, i).end - g_array_index (set, NpuInterval, i).start;
  return t;
}

GArray *
npu_intervals_subtract (const GArray *a, const GArray *b)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (NpuInterval));
  guint j = 0;
  for (guint i = 0; i < a->len; i++)
    {
      NpuInterval cur = g_array_index (a, NpuInterval, i);
      while (j < b->len && g_array_index (b, NpuInterval, j).end <= cur.start)
        j++;
      for (guint k = j; k < b->len && cur.start < cur.end; k++)
        {
          NpuInterval cut = g_array_index (b, NpuInterval, k);
          if (cut.start >= cur.end)
            break;
          if (cut.start > cur.start)
            {
              NpuInterval piece = { cur.start, cut.start };
              g_array_append_val (out, piece);
            }
          cur.start = MAX (cur.start, cut.end);
        }
      if (cur.start < cur.end)
        g_array_append_val (out, cur);
    }
  return out;
}

GArray *
npu_intervals_union (const GArray *a, const GArray *b)
{
  g_autoptr (GArray) both = g_array_new (FALSE, FALSE, sizeof (NpuInterval));
  g_array_append_vals (both, a->data, a->len);
  g_array_append_vals (both, b->data, b->len);
  return npu_intervals_normalize (both);
}
