/* npusim — flow-level fabric: max-min fair sharing by water-filling.
 *
 * Life of a flow with bytes > 0 over a path of links:
 *   start  -> it joins the active lists of its links, which become "dirty", and one
 *             NPU_PRIO_RATE event is requested for the current instant;
 *   RATE   -> the connected component of flows/links reachable from the dirty links
 *             is re-allocated; every flow whose rate changed has its progress settled
 *             (remaining -= old rate * elapsed) and its drain time recomputed;
 *   drain  -> (NPU_PRIO_END) the last byte left the source: the flow leaves its links
 *             (dirty again, RATE requested); the done callback follows after the sum of
 *             the path latencies.
 * Drain times live in the fabric's own indexed min-heap keyed by (drain time, flow
 * id); the engine holds one event for the earliest of them. When re-allocation moves
 * that time, a new event is scheduled and the old one is recognised as stale because
 * its sequence number is no longer the armed one (npu_engine_current_seq), so nothing
 * is cancelled and re-rating thousands of flows does not flood the engine's queue.
 * Flows draining at the same instant drain in flow-id order, in one event.
 *
 * Determinism: nothing depends on pointers or hashing. The component is found by a
 * search whose order follows the dirty list and the links' active lists, both fixed
 * by the history of starts and drains; within one level of the water-filling every
 * frozen flow subtracts the same value, so the order of those subtractions is moot. */
#include "sim/fabric.h"

#include <math.h>

#define NO_SEQ G_MAXUINT64
#define NO_POS G_MAXUINT
#define PS_PER_S 1e12

typedef struct _Flow Flow;

typedef struct {
  NpuTime s, e;              /* [s, e), s < e */
} Span;

typedef struct {
  char *name;
  double bw;                 /* bytes/s */
  NpuTime latency;           /* ps */
  Flow **active;             /* flows draining over this link (unordered) */
  guint n_active;
  guint cap_active;
  double bytes_settled;      /* bytes moved by flows up to their last settlement */
  NpuTime busy;              /* closed busy periods */
  NpuTime busy_since;        /* start of the open busy period when n_active > 0 */
  /* npu_fabric_account(): the union of the accounted intervals (Span, sorted, disjoint,
   * not touching) and its length; once it exists, the flows' closed busy periods are
   * kept too (periods closed before the first accounted interval end before it starts,
   * since an interval never starts in the past), to count overlapping time once */
  GArray *acct;
  NpuTime acct_busy;
  GArray *periods;
  guint mark;                /* component search epoch */
  gboolean dirty;
  /* water-filling scratch */
  double rem;
  guint n_unfrozen;
  double used;               /* sum of its flows' rates after a re-allocation */
  /* utilisation counter */
  double util_reported;
  gboolean described;
  gboolean counter_on;
  guint32 counter_pid;
  char *counter_name;
} Link;

struct _Flow {
  NpuFabric *fabric;
  guint64 id;
  guint *links;              /* path; pos[i] = index of this flow in links[i]'s list */
  guint *pos;
  guint n_links;
  guint links_cap;
  double remaining;          /* bytes still to send as of t0 */
  NpuTime t0;
  double rate;               /* current rate, bytes/s */
  double new_rate;
  double cap;                /* own limit, 0 = none */
  NpuTime latency;           /* sum over the path */
  NpuTime drain_at;          /* when the last byte leaves, while in the drain heap */
  guint heap_pos;            /* index in fabric->drains, or NO_POS */
  NpuFlowDoneFunc done;
  gpointer data;
  guint mark;
  gboolean frozen;
  Flow *next_free;
};

struct _NpuFabric {
  NpuEngine *engine;
  GArray *links;             /* Link, indexed by link id */
  guint64 next_flow_id;
  GHashTable *live;          /* &flow->id -> Flow, flows that are draining (lookup only) */
  GPtrArray *all_flows;      /* every record ever allocated, for freeing */
  Flow *free_list;
  gboolean rate_pending;
  Flow **drains;             /* min-heap of draining flows by (drain_at, id) */
  guint n_drains;
  guint cap_drains;
  guint64 armed_seq;         /* the engine event for the earliest drain, or NO_SEQ */
  NpuTime armed_at;
  GArray *dirty;             /* guint link ids, in the order they became dirty */
  guint epoch;
  GPtrArray *comp_flows;     /* scratch */
  GPtrArray *capped;         /* scratch: the component's capped flows */
  GPtrArray *round;          /* scratch */
  GArray *comp_links;        /* scratch, guint */
  NpuSink *sink;
  NpuLinkCounterFunc describe;
  gpointer describe_data;
};

static inline Link *
link_at (const NpuFabric *fabric, guint id)
{
  return &g_array_index (fabric->links, Link, id);
}

NpuFabric *
npu_fabric_new (NpuEngine *engine)
{
  g_return_val_if_fail (engine != NULL, NULL);
  NpuFabric *fabric = g_new0 (NpuFabric, 1);
  fabric->engine = engine;
  fabric->links = g_array_new (FALSE, TRUE, sizeof (Link));
  fabric->live = g_hash_table_new (g_int64_hash, g_int64_equal);
  fabric->all_flows = g_ptr_array_new ();
  fabric->dirty = g_array_new (FALSE, FALSE, sizeof (guint));
  fabric->epoch = 1;
  fabric->armed_seq = NO_SEQ;
  fabric->comp_flows = g_ptr_array_new ();
  fabric->capped = g_ptr_array_new ();
  fabric->round = g_ptr_array_new ();
  fabric->comp_links = g_array_new (FALSE, FALSE, sizeof (guint));
  return fabric;
}

void
npu_fabric_free (NpuFabric *fabric)
{
  if (fabric == NULL)
    return;
  for (guint i = 0; i < fabric->links->len; i++)
    {
      Link *l = link_at (fabric, i);
      g_free (l->name);
      g_free (l->active);
      g_free (l->counter_name);
      if (l->acct != NULL)
        g_array_unref (l->acct);
      if (l->periods != NULL)
        g_array_unref (l->periods);
    }
  g_array_unref (fabric->links);
  for (guint i = 0; i < fabric->all_flows->len; i++)
    {
      Flow *f = g_ptr_array_index (fabric->all_flows, i);
      g_free (f->links);
      g_free (f->pos);
      g_free (f);
    }
  g_ptr_array_unref (fabric->all_flows);
  g_free (fabric->drains);
  g_hash_table_unref (fabric->live);
  g_array_unref (fabric->dirty);
  g_ptr_array_unref (fabric->comp_flows);
  g_ptr_array_unref (fabric->capped);
  g_ptr_array_unref (fabric->round);
  g_array_unref (fabric->comp_links);
  g_free (fabric);
}

guint
npu_fabric_add_link (NpuFabric *fabric, const char *name, double bandwidth_Bps,
                     NpuTime latency_ps)
{
  g_return_val_if_fail (fabric != NULL && name != NULL, G_MAXUINT);
  g_return_val_if_fail (bandwidth_Bps > 0 && isfinite (bandwidth_Bps), G_MAXUINT);
  Link l = { 0 };
  l.name = g_strdup (name);
  l.bw = bandwidth_Bps;
  l.latency = latency_ps;
  g_array_append_val (fabric->links, l);
  return fabric->links->len - 1;
}

guint
npu_fabric_n_links (const NpuFabric *fabric)
{
  return fabric->links->len;
}

const char *
npu_fabric_link_name (const NpuFabric *fabric, guint link)
{
  g_return_val_if_fail (link < fabric->links->len, NULL);
  return link_at (fabric, link)->name;
}

double
npu_fabric_link_bandwidth (const NpuFabric *fabric, guint link)
{
  g_return_val_if_fail (link < fabric->links->len, 0);
  return link_at (fabric, link)->bw;
}

NpuTime
npu_fabric_link_latency (const NpuFabric *fabric, guint link)
{
  g_return_val_if_fail (link < fabric->links->len, 0);
  return link_at (fabric, link)->latency;
}

/* ---- re-allocation ---- */

static void rate_event (gpointer data, NpuTime now);

static void
request_rate (NpuFabric *fabric)
{
  /* The pending event is always at the current instant (time cannot advance before
   * it fires), so one flag coalesces every change of the instant into one event. */
  if (!fabric->rate_pending)
    {
      fabric->rate_pending = TRUE;
      npu_engine_schedule (fabric->engine, npu_engine_now (fabric->engine), NPU_PRIO_RATE,
                           rate_event, fabric);
    }
}

static void
mark_dirty (NpuFabric *fabric, guint link)
{
  Link *l = link_at (fabric, link);
  if (!l->dirty)
    {
      l->dirty = TRUE;
      g_array_append_val (fabric->dirty, link);
    }
}

/* Account the bytes moved since t0 at the current rate. */
static void
settle (NpuFabric *fabric, Flow *f, NpuTime now)
{
  if (f->rate > 0 && now > f->t0)
    {
      double moved = f->rate * (double) (now - f->t0) / PS_PER_S;
      if (moved > f->remaining)
        moved = f->remaining;
      f->remaining -= moved;
      for (guint i = 0; i < f->n_links; i++)
        link_at (fabric, f->links[i])->bytes_settled += moved;
    }
  f->t0 = now;
}

/* ---- the drain heap ---- */

static inline gboolean
drains_before (const Flow *a, const Flow *b)
{
  return a->drain_at < b->drain_at || (a->drain_at == b->drain_at && a->id < b->id);
}

static inline void
heap_set (NpuFabric *fabric, guint i, Flow *f)
{
  fabric->drains[i] = f;
  f->heap_pos = i;
}

static void
heap_sift_up (NpuFabric *fabric, guint i)
{
  Flow *f = fabric->drains[i];
  while (i > 0)
    {
      guint parent = (i - 1) / 2;
      if (!drains_before (f, fabric->drains[parent]))
        break;
      heap_set (fabric, i, fabric->drains[parent]);
      i = parent;
    }
  heap_set (fabric, i, f);
}

static void
heap_sift_down (NpuFabric *fabric, guint i)
{
  Flow *f = fabric->drains[i];
  guint n = fabric->n_drains;
  for (;;)
    {
      guint c = 2 * i + 1;
      if (c >= n)
        break;
      if (c + 1 < n && drains_before (fabric->drains[c + 1], fabric->drains[c]))
        c++;
      if (!drains_before (fabric->drains[c], f))
        break;
      heap_set (fabric, i, fabric->drains[c]);
      i = c;
    }
  heap_set (fabric, i, f);
}

static void
heap_remove (NpuFabric *fabric, Flow *f)
{
  guint i = f->heap_pos;
  g_assert (i < fabric->n_drains && fabric->drains[i] == f);
  f->heap_pos = NO_POS;
  Flow *last = fabric->drains[--fabric->n_drains];
  if (last == f)
    return;
  heap_set (fabric, i, last);
  heap_sift_up (fabric, i);
  heap_sift_down (fabric, last->heap_pos);
}

static void drain_event (gpointer data, NpuTime now);

/* Keep one engine event at the earliest drain time. */
static void
arm_drain (NpuFabric *fabric)
{
  if (fabric->n_drains == 0)
    {
      fabric->armed_seq = NO_SEQ;
      return;
    }
  NpuTime t = fabric->drains[0]->drain_at;
  if (fabric->armed_seq != NO_SEQ && fabric->armed_at == t)
    return;
  fabric->armed_at = t;
  fabric->armed_seq = npu_engine_schedule (fabric->engine, t, NPU_PRIO_END, drain_event,
                                           fabric);
}

/* (Re)compute when the flow's last byte leaves, from its remaining bytes and rate. */
static void
schedule_drain (NpuFabric *fabric, Flow *f, NpuTime now)
{
  g_assert (f->rate > 0);
  double ps = ceil (f->remaining * PS_PER_S / f->rate);
  g_assert (ps < 18446744073709551616.0 && now + (NpuTime) ps >= now);
  f->drain_at = now + (NpuTime) ps;
  if (f->heap_pos == NO_POS)
    {
      if (fabric->n_drains == fabric->cap_drains)
        {
          fabric->cap_drains = fabric->cap_drains ? 2 * fabric->cap_drains : 64;
          fabric->drains = g_renew (Flow *, fabric->drains, fabric->cap_drains);
        }
      heap_set (fabric, fabric->n_drains++, f);
      heap_sift_up (fabric, f->heap_pos);
    }
  else
    {
      heap_sift_up (fabric, f->heap_pos);
      heap_sift_down (fabric, f->heap_pos);
    }
}

static gint
cmp_guint (gconstpointer a, gconstpointer b)
{
  guint x = *(const guint *) a, y = *(const guint *) b;
  return x < y ? -1 : x > y;
}

/* Collect the flows and links connected to the dirty links. */
static void
collect_component (NpuFabric *fabric)
{
  guint epoch = ++fabric->epoch;
  GArray *cl = fabric->comp_links;
  GPtrArray *cf = fabric->comp_flows;
  g_array_set_size (cl, 0);
  g_ptr_array_set_size (cf, 0);
  for (guint i = 0; i < fabric->dirty->len; i++)
    {
      guint id = g_array_index (fabric->dirty, guint, i);
      Link *l = link_at (fabric, id);
      l->dirty = FALSE;
      if (l->mark != epoch)
        {
          l->mark = epoch;
          g_array_append_val (cl, id);
        }
    }
  g_array_set_size (fabric->dirty, 0);
  for (guint i = 0; i < cl->len; i++)
    {
      Link *l = link_at (fabric, g_array_index (cl, guint, i));
      for (guint j = 0; j < l->n_active; j++)
        {
          Flow *f = l->active[j];
          if (f->mark == epoch)
            continue;
          f->mark = epoch;
          g_ptr_array_add (cf, f);
          for (guint k = 0; k < f->n_links; k++)
            {
              Link *lk = link_at (fabric, f->links[k]);
              if (lk->mark != epoch)
                {
                  lk->mark = epoch;
                  g_array_append_val (cl, f->links[k]);
                }
            }
        }
    }
  /* Links in id order: the utilisation samples of an instant come out in that order. */
  g_array_sort (cl, cmp_guint);
}

static gint
cmp_flow_cap (gconstpointer a, gconstpointer b)
{
  const Flow *fa = *(Flow *const *) a, *fb = *(Flow *const *) b;
  if (fa->cap != fb->cap)
    return fa->cap < fb->cap ? -1 : 1;
  return fa->id < fb->id ? -1 : fa->id > fb->id;
}

/* Progressive filling: raise all unfrozen flows together; at each level m (the lowest
 * fair share left on a link, or the lowest own cap) freeze the flows that the level
 * saturates, subtract their rate from their links, repeat. Sets flow->new_rate.
 * Within a level every frozen flow subtracts the same m, so the order in which they
 * are found does not change any result. A link is a bottleneck once (then it has no
 * unfrozen flow left), so the cost is O(flows x path + levels x links). */
static void
water_fill (NpuFabric *fabric)
{
  GArray *cl = fabric->comp_links;
  GPtrArray *capped = fabric->capped, *round = fabric->round;

  for (guint i = 0; i < cl->len; i++)
    {
      Link *l = link_at (fabric, g_array_index (cl, guint, i));
      l->rem = l->bw;
      l->n_unfrozen = l->n_active;
    }
  g_ptr_array_set_size (capped, 0);
  for (guint i = 0; i < fabric->comp_flows->len; i++)
    {
      Flow *f = g_ptr_array_index (fabric->comp_flows, i);
      f->frozen = FALSE;
      if (f->cap > 0)
        g_ptr_array_add (capped, f);
    }
  g_ptr_array_sort (capped, cmp_flow_cap);

  guint left = fabric->comp_flows->len, ci = 0;
  while (left > 0)
    {
      double m = INFINITY;
      for (guint i = 0; i < cl->len; i++)
        {
          Link *l = link_at (fabric, g_array_index (cl, guint, i));
          if (l->n_unfrozen > 0 && l->rem / l->n_unfrozen < m)
            m = l->rem / l->n_unfrozen;
        }
      while (ci < capped->len && ((Flow *) g_ptr_array_index (capped, ci))->frozen)
        ci++;
      if (ci < capped->len && ((Flow *) g_ptr_array_index (capped, ci))->cap < m)
        m = ((Flow *) g_ptr_array_index (capped, ci))->cap;
      g_assert (isfinite (m) && m > 0);

      /* Freeze at level m: the flows of every link whose share is m, and the flows
       * whose own cap is m. Shares are read before anything is subtracted. */
      g_ptr_array_set_size (round, 0);
      for (guint i = 0; i < cl->len; i++)
        {
          Link *l = link_at (fabric, g_array_index (cl, guint, i));
          if (l->n_unfrozen == 0 || l->rem / l->n_unfrozen > m)
            continue;
          for (guint j = 0; j < l->n_active; j++)
            {
              Flow *f = l->active[j];
              if (!f->frozen)
                {
                  f->frozen = TRUE;
                  f->new_rate = m;
                  g_ptr_array_add (round, f);
                }
            }
        }
      for (guint j = ci; j < capped->len; j++)
        {
          Flow *f = g_ptr_array_index (capped, j);
          if (f->cap > m)
            break;
          if (!f->frozen)
            {
              f->frozen = TRUE;
              f->new_rate = m;
              g_ptr_array_add (round, f);
            }
        }
      g_assert (round->len > 0);
      for (guint i = 0; i < round->len; i++)
        {
          Flow *f = g_ptr_array_index (round, i);
          for (guint k = 0; k < f->n_links; k++)
            {
              Link *l = link_at (fabric, f->links[k]);
              l->rem -= m;
              if (l->rem < 0)
                l->rem = 0;
              l->n_unfrozen--;
            }
        }
      left -= round->len;
    }
}

static void
report_util (NpuFabric *fabric, guint id, Link *l, NpuTime now)
{
  double util = l->used / l->bw;
  if (util == l->util_reported)
    return;
  l->util_reported = util;
  if (fabric->sink == NULL || fabric->describe == NULL)
    return;
  if (!l->described)
    {
      const char *name = NULL;
      guint32 pid = 0;
      l->described = TRUE;
      l->counter_on = fabric->describe (fabric->describe_data, id, &pid, &name) && name != NULL;
      l->counter_pid = pid;
      l->counter_name = g_strdup (name);
    }
  if (l->counter_on)
    npu_sink_counter (fabric->sink, l->counter_pid, l->counter_name, "util", now, util);
}

static void
rate_event (gpointer data, NpuTime now)
{
  NpuFabric *fabric = data;
  fabric->rate_pending = FALSE;
  collect_component (fabric);
  water_fill (fabric);

  GArray *cl = fabric->comp_links;
  for (guint i = 0; i < cl->len; i++)
    link_at (fabric, g_array_index (cl, guint, i))->used = 0;
  for (guint i = 0; i < fabric->comp_flows->len; i++)
    {
      Flow *f = g_ptr_array_index (fabric->comp_flows, i);
      if (f->new_rate != f->rate)
        {
          settle (fabric, f, now);
          f->rate = f->new_rate;
          schedule_drain (fabric, f, now);
        }
      for (guint k = 0; k < f->n_links; k++)
        link_at (fabric, f->links[k])->used += f->rate;
    }
  arm_drain (fabric);
  for (guint i = 0; i < cl->len; i++)
    {
      guint id = g_array_index (cl, guint, i);
      report_util (fabric, id, link_at (fabric, id), now);
    }
}

/* ---- flow life ---- */

static Flow *
flow_alloc (NpuFabric *fabric, guint n_links)
{
  Flow *f = fabric->free_list;
  if (f != NULL)
    fabric->free_list = f->next_free;
  else
    {
      f = g_new0 (Flow, 1);
      g_ptr_array_add (fabric->all_flows, f);
    }
  if (f->links_cap < n_links)
    {
      f->links_cap = n_links;
      f->links = g_renew (guint, f->links, n_links);
      f->pos = g_renew (guint, f->pos, n_links);
    }
  f->fabric = fabric;
  f->n_links = n_links;
  f->next_free = NULL;
  f->heap_pos = NO_POS;
  f->rate = 0;
  f->new_rate = 0;
  return f;
}

/* Return the record to the free list, then tell the owner. */
static void
flow_finish (Flow *f, NpuTime now)
{
  NpuFabric *fabric = f->fabric;
  NpuFlowDoneFunc done = f->done;
  gpointer data = f->data;
  f->done = NULL;
  f->data = NULL;
  f->next_free = fabric->free_list;
  fabric->free_list = f;
  if (done != NULL)
    done (data, now);
}

static void
done_event (gpointer data, NpuTime now)
{
  flow_finish (data, now);
}

/* The flow's last byte has left: free its links, then deliver after the latency. */
static void
drain_flow (NpuFabric *fabric, Flow *f, NpuTime now)
{
  /* Whatever is left (rounding of the ceil'd drain time) has now been sent. */
  for (guint i = 0; i < f->n_links; i++)
    link_at (fabric, f->links[i])->bytes_settled += f->remaining;
  f->remaining = 0;
  f->rate = 0;
  f->t0 = now;
  g_hash_table_remove (fabric->live, &f->id);

  for (guint i = 0; i < f->n_links; i++)
    {
      Link *l = link_at (fabric, f->links[i]);
      guint p = f->pos[i];
      g_assert (p < l->n_active && l->active[p] == f);
      Flow *last = l->active[--l->n_active];
      if (last != f)
        {
          l->active[p] = last;
          for (guint k = 0; k < last->n_links; k++)
            if (last->links[k] == f->links[i])
              last->pos[k] = p;
        }
      if (l->n_active == 0)
        {
          l->busy += now - l->busy_since;
          if (l->periods != NULL && now > l->busy_since)
            {
              Span sp = { l->busy_since, now };
              g_array_append_val (l->periods, sp);
            }
        }
      mark_dirty (fabric, f->links[i]);
    }
  if (f->n_links > 0)
    request_rate (fabric);

  if (f->latency > 0)
    npu_engine_schedule (fabric->engine, now + f->latency, NPU_PRIO_END, done_event, f);
  else
    flow_finish (f, now);
}

static void
drain_event (gpointer data, NpuTime now)
{
  NpuFabric *fabric = data;
  if (fabric->armed_seq != npu_engine_current_seq (fabric->engine))
    return; /* superseded: the earliest drain time moved */
  fabric->armed_seq = NO_SEQ;
  /* Every flow due now, in id order (done callbacks may start flows: they drain
   * later, or at a re-allocation of this instant, which arms a new event). */
  while (fabric->n_drains > 0 && fabric->drains[0]->drain_at <= now)
    {
      Flow *f = fabric->drains[0];
      g_assert (f->drain_at == now);
      heap_remove (fabric, f);
      drain_flow (fabric, f, now);
    }
  /* A pending re-allocation of this instant arms the next drain itself. */
  if (!fabric->rate_pending)
    arm_drain (fabric);
}

guint64
npu_fabric_start_flow (NpuFabric *fabric, const guint *links, guint n_links, guint64 bytes,
                       double rate_cap_Bps, NpuFlowDoneFunc done, gpointer data)
{
  g_return_val_if_fail (fabric != NULL, G_MAXUINT64);
  g_return_val_if_fail (n_links == 0 || links != NULL, G_MAXUINT64);
  g_return_val_if_fail (rate_cap_Bps >= 0 && isfinite (rate_cap_Bps), G_MAXUINT64);
  g_return_val_if_fail (n_links > 0 || bytes == 0 || rate_cap_Bps > 0, G_MAXUINT64);
  for (guint i = 0; i < n_links; i++)
    {
      g_return_val_if_fail (links[i] < fabric->links->len, G_MAXUINT64);
      for (guint j = 0; j < i; j++)
        g_return_val_if_fail (links[j] != links[i], G_MAXUINT64); /* a path is a set */
    }

  NpuTime now = npu_engine_now (fabric->engine);
  Flow *f = flow_alloc (fabric, n_links);
  f->id = fabric->next_flow_id++;
  f->latency = 0;
  for (guint i = 0; i < n_links; i++)
    {
      f->links[i] = links[i];
      f->latency += link_at (fabric, links[i])->latency;
    }
  f->remaining = (double) bytes;
  f->t0 = now;
  f->cap = rate_cap_Bps;
  f->done = done;
  f->data = data;

  if (bytes == 0)
    {
      /* Nothing to share: only the path latency. Kept off the links and the
       * re-allocation, and delivered as an event rather than from inside this call. */
      npu_engine_schedule (fabric->engine, now + f->latency, NPU_PRIO_END, done_event, f);
      return f->id;
    }

  g_hash_table_insert (fabric->live, &f->id, f);
  if (n_links == 0)
    {
      /* A local move: only its own cap bounds it. */
      f->rate = rate_cap_Bps;
      schedule_drain (fabric, f, now);
      arm_drain (fabric);
      return f->id;
    }

  for (guint i = 0; i < n_links; i++)
    {
      Link *l = link_at (fabric, links[i]);
      if (l->n_active == l->cap_active)
        {
          l->cap_active = l->cap_active ? 2 * l->cap_active : 4;
          l->active = g_renew (Flow *, l->active, l->cap_active);
        }
      if (l->n_active == 0)
        l->busy_since = now;
      f->pos[i] = l->n_active;
      l->active[l->n_active++] = f;
      mark_dirty (fabric, links[i]);
    }
  request_rate (fabric);
  return f->id;
}

void
npu_fabric_set_link_bandwidth (NpuFabric *fabric, guint link, double bandwidth_Bps)
{
  g_return_if_fail (fabric != NULL && link < fabric->links->len);
  g_return_if_fail (bandwidth_Bps > 0 && isfinite (bandwidth_Bps));
  Link *l = link_at (fabric, link);
  l->bw = bandwidth_Bps;
  if (l->n_active > 0)
    {
      mark_dirty (fabric, link);
      request_rate (fabric);
    }
}

double
npu_fabric_current_rate (const NpuFabric *fabric, guint64 flow_id)
{
  const Flow *f = g_hash_table_lookup (fabric->live, &flow_id);
  return f != NULL ? f->rate : 0;
}

double
npu_fabric_link_bytes (const NpuFabric *fabric, guint link)
{
  g_return_val_if_fail (link < fabric->links->len, 0);
  const Link *l = link_at (fabric, link);
  NpuTime now = npu_engine_now (fabric->engine);
  double bytes = l->bytes_settled;
  /* Add what the flows still on the link moved since their last settlement. */
  for (guint i = 0; i < l->n_active; i++)
    {
      const Flow *f = l->active[i];
      if (f->rate > 0 && now > f->t0)
        {
          double moved = f->rate * (double) (now - f->t0) / PS_PER_S;
          bytes += moved < f->remaining ? moved : f->remaining;
        }
    }
  return bytes;
}

/* Time covered by both @a and @b (each sorted and disjoint), by a merge of the two. */
static NpuTime
spans_overlap (const Span *a, guint na, const Span *b, guint nb)
{
  NpuTime both = 0;
  guint i = 0, j = 0;
  while (i < na && j < nb)
    {
      NpuTime s = MAX (a[i].s, b[j].s), e = MIN (a[i].e, b[j].e);
      if (e > s)
        both += e - s;
      if (a[i].e < b[j].e)
        i++;
      else
        j++;
    }
  return both;
}

NpuTime
npu_fabric_link_busy_ps (const NpuFabric *fabric, guint link)
{
  g_return_val_if_fail (link < fabric->links->len, 0);
  const Link *l = link_at (fabric, link);
  NpuTime now = npu_engine_now (fabric->engine);
  NpuTime busy = l->busy;
  if (l->n_active > 0)
    busy += now - l->busy_since;
  if (l->acct == NULL)
    return busy;
  /* the union: flows' time + accounted time - the time covered by both */
  busy += l->acct_busy;
  const Span *acct = (const Span *) (gpointer) l->acct->data;
  busy -= spans_overlap ((const Span *) (gpointer) l->periods->data, l->periods->len, acct,
                         l->acct->len);
  if (l->n_active > 0 && now > l->busy_since)
    {
      Span open = { l->busy_since, now };
      busy -= spans_overlap (&open, 1, acct, l->acct->len);
    }
  return busy;
}

void
npu_fabric_account (NpuFabric *fabric, guint link, guint64 bytes, NpuTime start_ps,
                    NpuTime end_ps)
{
  g_return_if_fail (fabric != NULL && link < fabric->links->len);
  g_return_if_fail (end_ps >= start_ps);
  g_return_if_fail (start_ps >= npu_engine_now (fabric->engine));
  Link *l = link_at (fabric, link);
  l->bytes_settled += (double) bytes;
  if (l->acct == NULL)
    {
      l->acct = g_array_new (FALSE, FALSE, sizeof (Span));
      l->periods = g_array_new (FALSE, FALSE, sizeof (Span));
    }
  if (end_ps == start_ps)
    return;
  /* Merge [start, end) into the union: the spans from the first one that ends at or
   * after @start_ps up to the last one that starts at or before @end_ps become one.
   * Port queues account in time order, so this is nearly always an append or an
   * extension of the last span. */
  GArray *u = l->acct;
  Span *v = (Span *) (gpointer) u->data;
  guint lo = 0, hi = u->len;
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      if (v[mid].e < start_ps)
        lo = mid + 1;
      else
        hi = mid;
    }
  guint first = lo, last = lo;
  Span m = { start_ps, end_ps };
  while (last < u->len && v[last].s <= end_ps)
    {
      m.s = MIN (m.s, v[last].s);
      m.e = MAX (m.e, v[last].e);
      l->acct_busy -= v[last].e - v[last].s;
      last++;
    }
  l->acct_busy += m.e - m.s;
  if (last > first)
    {
      v[first] = m;
      if (last > first + 1)
        g_array_remove_range (u, first + 1, last - first - 1);
    }
  else
    g_array_insert_val (u, first, m);
}

void
npu_fabric_set_counter_sink (NpuFabric *fabric, NpuSink *sink, NpuLinkCounterFunc describe,
                             gpointer data)
{
  g_return_if_fail (fabric != NULL);
  fabric->sink = sink;
  fabric->describe = describe;
  fabric->describe_data = data;
  for (guint i = 0; i < fabric->links->len; i++)
    {
      Link *l = link_at (fabric, i);
      l->described = FALSE;
      l->counter_on = FALSE;
      g_clear_pointer (&l->counter_name, g_free);
    }
}
