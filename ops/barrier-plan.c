/* npusim — DistributeBarrierV2: the kernel's steps as graph tasks, the group's
 * windows, and the timeout.
 *
 * Per rank (distribute_barrier.h, DistributeBarrier::Process; all AIV, batch mode):
 *   launch (cost.kernel_launch_us);
 *   AIV k = 1..47 (SplitToCore: W ranks dealt to the 47 cores, the first W mod 47 get
 *   one more; cores with none only SyncAll):
 *     InitStatus     read and toggle the core's dataState flag: one flag poll;
 *     SetStatus      per rank t of the core: 32 B (8 x 1.0f) straight into t's window
 *                    at half·512 KiB + myRank·512 B: a UB flow of 32 B at the core's
 *                    MTE rate, path latency included;
 *     WaitStatus     (after its own writes: PipeBarrier) poll its window entries of
 *                    the same ranks until they sum to 8·n: ends one poll after the
 *                    last flag landed (cost.flag_poll_us + one vector ReduceSum);
 *     CleanStatus    set its finish flag, zero the entries (one vector batch);
 *   AIV 0: InitStatus; TimeOutTest: poll the finish flags of the used cores (same
 *   cost rule), then clear them; SyncAll (one flag poll); end.
 * Data: the window entries and finish flags are real floats; a poll checks the sum it
 * reads (a schedule that polled too early would fail the run). The half is the call's
 * parity in the group (InitStatus toggles it every call), so back-to-back barriers do
 * not overwrite entries a slower peer has not cleared yet (the hazard checker sees
 * the window regions).
 * The windows of a group live as long as the run: graph data under
 * "DistributeBarrierV2/<group>" (npu_graph_set_data), shared by the group's barriers.
 * Timeout (timeOutOptional, µs): TimeOutTest starts when AIV 0's InitStatus ends; if
 * the finish flags are not all seen within the timeout the kernel traps: the op fails
 * the run (npu_graph_fail, the runner's exit 1), in data and timing-only mode. */
#include "ops/barrier-private.h"
#include <string.h>

#define WIN_HALF (512u * 1024u)      /* WIN_STATE_OFFSET */
#define STATE_OFFSET 512u            /* per source rank */
#define STATE_WIN_OFFSET (900u * 1024u)
#define UB_ALIGN 32u
#define FLAG_FLOATS 8u               /* UB_ALIGN / sizeof (float) */
#define WINDOW_BYTES (2u * 1024u * 1024u) /* virtual size of the window region */

struct _BarrierDomain {
  guint n;
  guint aiv;
  guint *calls;       /* [n] barrier calls planned so far, per group rank */
  guint *buf;         /* [n] graph buffer of each rank's window */
  float **win;        /* [n] data mode: entries [half][src][8], then finish [half][core][8] */
};

static gsize
entry_index (const BarrierDomain *d, guint half, guint src)
{
  return ((gsize) half * d->n + src) * FLAG_FLOATS;
}

static gsize
finish_index (const BarrierDomain *d, guint half, guint core)
{
  return ((gsize) 2 * d->n + (gsize) half * d->aiv + core) * FLAG_FLOATS;
}

static guint64
entry_offset (guint half, guint src)
{
  return (guint64) half * WIN_HALF + (guint64) src * STATE_OFFSET;
}

static guint64
finish_offset (guint half, guint aiv, guint core)
{
  return (guint64) half * WIN_HALF + STATE_WIN_OFFSET + (guint64) aiv * UB_ALIGN * sizeof (float)
         + (guint64) core * UB_ALIGN * sizeof (float);
}

static void
domain_free (gpointer data)
{
  BarrierDomain *d = data;
  for (guint g = 0; d->win != NULL && g < d->n; g++)
    g_free (d->win[g]);
  g_free (d->win);
  g_free (d->calls);
  g_free (d->buf);
  g_free (d);
}

/* (transfer none) the group's windows, made by its first barrier; owned by the graph. */
static BarrierDomain *
domain_get (BarrierOp *op, const NpuOpEnv *env, const char *group)
{
  g_autofree char *key = g_strdup_printf ("%s/%s", op->base.klass->name, group);
  BarrierDomain *d = npu_graph_get_data (env->graph, key);
  if (d == NULL)
    {
      d = g_new0 (BarrierDomain, 1);
      d->n = op->n;
      d->aiv = env->hw->aiv_count;
      d->calls = g_new0 (guint, d->n);
      d->buf = g_new0 (guint, d->n);
      if (env->data_mode)
        d->win = g_new0 (float *, d->n);
      for (guint g = 0; g < d->n; g++)
        {
          g_autofree char *name = g_strdup_printf ("r%u.window(%s)", npu_op_rank_of (&op->base, g),
                                                   group);
          d->buf[g] = npu_graph_add_buffer (env->graph, name, WINDOW_BYTES);
          if (d->win != NULL)
            d->win[g] = g_new0 (float, ((gsize) 2 * d->n + 2 * d->aiv) * FLAG_FLOATS);
        }
      npu_graph_set_data (env->graph, key, d, domain_free);
    }
  g_assert (d->n == op->n);
  return d;
}

void
barrier_split (guint world, guint aiv_num, guint core, guint *start, guint *count)
{
  guint send_aiv = aiv_num - 1, a = core - 1;
  guint per = world / send_aiv, rem = world % send_aiv;
  *start = per * a + (a < rem ? a : rem);
  *count = per + (a < rem ? 1 : 0);
}

/* ---- data effects ---- */

typedef struct {
  float *dst;   /* 8 floats */
  float value;
} FlagWrite;

static gboolean
flag_effect (gpointer data, GError **error)
{
  FlagWrite *w = data;
  for (guint i = 0; i < FLAG_FLOATS; i++)
    w->dst[i] = w->value;
  return TRUE;
}

typedef struct {
  float *first;       /* first entry (8 floats each, consecutive) */
  guint count;
  float want;         /* the sum the poll waits for */
  const char *what;
  guint rank;
  float *finish;      /* (nullable) CleanStatus: this core's finish flag */
} Poll;

static gboolean
poll_effect (gpointer data, GError **error)
{
  Poll *p = data;
  float sum = 0.0f;
  for (guint i = 0; i < p->count * FLAG_FLOATS; i++)
    sum += p->first[i];
  if (sum != p->want)
    {
      g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                   "rank %u: %s read flags summing to %g, expected %g (the poll ended before "
                   "every flag had arrived)", p->rank, p->what, (double) sum, (double) p->want);
      return FALSE;
    }
  return TRUE;
}

static gboolean
clear_effect (gpointer data, GError **error)
{
  Poll *p = data;
  memset (p->first, 0, sizeof (float) * p->count * FLAG_FLOATS);
  if (p->finish != NULL)
    for (guint i = 0; i < FLAG_FLOATS; i++)
      p->finish[i] = 1.0f;
  return TRUE;
}

/* ---- timeout ---- */

typedef struct {
  BarrierOp *op;
  NpuGraph *graph;
  guint g;
  NpuTask *t0, *poll;
  NpuTime timeout_ps;
  guint n_in;
  NpuTask *incoming[];   /* [n] the flag write of group rank s into g's window */
} Watch;

/* The kernel traps: fail the run (the first failure of the run stands). */
static void
report_timeout (Watch *w)
{
  NpuOp *b = &w->op->base;
  NpuTime limit = npu_task_end (w->t0) + w->timeout_ps;
  GString *late = g_string_new (NULL);
  for (guint s = 0; s < w->n_in; s++)
    {
      NpuTime end = npu_task_end (w->incoming[s]);
      if (end == NPU_TIME_NEVER || end > limit)
        g_string_append_printf (late, "%srank %u", late->len ? ", " : "", npu_op_rank_of (b, s));
    }
  npu_graph_fail (w->graph, g_error_new (
    NPU_GRAPH_ERROR, NPU_GRAPH_ERROR_TASK,
    "%s '%s': timeout on rank %u: AIV 0 had not seen the barrier complete %" G_GINT64_FORMAT
    " us (timeOutOptional) after it began waiting at %.3f us; the flags of %s "
    "arrived too late or never (the kernel traps, the op fails)", b->klass->name, b->name,
    npu_op_rank_of (b, w->g), w->op->timeout_us, (double) npu_task_end (w->t0) / NPU_PS_PER_US,
    late->len ? late->str : "the local cores' finish flags"));
  g_string_free (late, TRUE);
}

/* The timer: timeout + 1 ps after TimeOutTest began, the poll has not ended. */
static void
timer_end (gpointer data, NpuTask *task)
{
  Watch *w = data;
  if (npu_task_end (w->poll) == NPU_TIME_NEVER)
    report_timeout (w);
}

/* The poll has ended: too late? */
static void
poll_seen (gpointer data, NpuTask *task)
{
  Watch *w = data;
  if (npu_task_end (w->poll) - npu_task_end (w->t0) > w->timeout_ps)
    report_timeout (w);
}

/* ---- the spin before a poll observes ----
 * A polling core spins from the moment it starts polling (its own writes done, or
 * TimeOutTest begun) until the poll that sees every flag; the graph task is that last
 * poll only. A hidden helper after it draws the spin on the core's track and counts
 * it as communication (a wait on peers) in the op's report. (The model does not keep
 * the AIV server held while spinning; the kernel does hold the core.) */
typedef struct {
  BarrierOp *op;
  const NpuOpEnv *env;
  guint g, core;
  NpuTask *poll;
  guint n_from;
  NpuTask *from[];     /* polling starts when the last of these ended */
} Spin;

static void
spin_end (gpointer data, NpuTask *task)
{
  Spin *sp = data;
  NpuTime start = 0;
  for (guint i = 0; i < sp->n_from; i++)
    start = MAX (start, npu_task_end (sp->from[i]));
  NpuTime until = npu_task_start (sp->poll);
  if (until <= start)
    return;
  NpuOpRank *pr = &sp->op->base.per_rank[sp->g];
  if (pr->intervals[NPU_TASK_COMM] == NULL)
    pr->intervals[NPU_TASK_COMM] = g_array_new (FALSE, FALSE, sizeof (NpuInterval));
  NpuInterval iv = { start, until };
  g_array_append_val (pr->intervals[NPU_TASK_COMM], iv);
  NpuSink *sink = npu_graph_sink (sp->env->graph);
  if (sink != NULL && sp->env->trace_level >= NPU_TRACE_TASK)
    {
      guint32 pid, tid;
      npu_cluster_track (sp->env->cluster, npu_op_rank_of (&sp->op->base, sp->g), NPU_TRACK_AIV,
                         sp->core, &pid, &tid);
      npu_sink_slice (sink, pid, tid, "polling (waiting for peers)", "communication", start,
                      until - start, NULL);
    }
}

static void
add_spin (BarrierOp *op, const NpuOpEnv *env, guint g, guint core, NpuTask *poll,
          NpuTask *const *from, guint n_from)
{
  Spin *sp = g_malloc0 (sizeof (Spin) + sizeof (NpuTask *) * n_from);
  sp->op = op;
  sp->env = env;
  sp->g = g;
  sp->core = core;
  sp->poll = poll;
  sp->n_from = n_from;
  memcpy (sp->from, from, sizeof (NpuTask *) * n_from);
  NpuTask *h = npu_graph_task_new (env->graph, "barrier spin");
  npu_task_set_hidden (h);
  npu_task_depends_on (h, poll);
  npu_task_set_hooks (h, NULL, spin_end, sp);
  g_ptr_array_add (op->base.owned, sp);
}

/* ---- tasks ---- */

static NpuTask *
aiv_task (BarrierOp *op, const NpuOpEnv *env, guint g, guint core, const char *name,
          NpuTaskClass cls, NpuTime dur)
{
  NpuTask *t = npu_op_task_new (&op->base, env, g, name, cls, NPU_TRACK_AIV, core);
  npu_task_set_server (t, npu_cluster_aiv (env->cluster, npu_op_rank_of (&op->base, g), core));
  npu_task_set_duration (t, dur);
  return t;
}

gboolean
barrier_plan (NpuOp *base, const NpuOpEnv *env, GError **error)
{
  BarrierOp *op = (BarrierOp *) base;
  const NpuHw *hw = env->hw;
  guint n = op->n, aiv = hw->aiv_count;
  if (aiv < 2)
    {
      npu_op_error (error, base, NPU_OP_ERROR_TILING, "the barrier needs at least 2 AIV cores "
                    "(die.aiv_count is %u)", aiv);
      return FALSE;
    }
  const char *group = json_string_value (json_object_get (base->attrs, "group"));
  op->domain = domain_get (op, env, group != NULL ? group : "");
  BarrierDomain *dom = op->domain;
  op->half = g_new0 (guint, n);
  op->t0_task = g_new0 (NpuTask *, n);
  op->poll_task = g_new0 (NpuTask *, n);
  for (guint g = 0; g < n; g++)
    op->half[g] = dom->calls[g]++ % 2;
  json_object_set_new (base->attrs, "windowHalf", json_integer (op->half[0]));
  gboolean data = dom->win != NULL;
  double mte = npu_cost_core_mte_Bps (hw);
  /* writes[g * n + t]: rank g's flag into t's window */
  g_autofree NpuTask **writes = g_new0 (NpuTask *, (gsize) n * n);
  g_autofree NpuTask **init = g_new0 (NpuTask *, (gsize) n * aiv);
  g_autofree NpuTask **begin = g_new0 (NpuTask *, n);

  for (guint g = 0; g < n; g++)
    {
      guint rank = npu_op_rank_of (base, g);
      begin[g] = npu_op_begin (base, env, g, hw->kernel_launch_ps);
      for (guint k = 0; k < aiv; k++)
        {
          guint start = 0, count = 1;
          if (k > 0)
            barrier_split (n, aiv, k, &start, &count);
          if (count == 0)
            continue;
          NpuTask *it = aiv_task (op, env, g, k, "InitStatus", NPU_TASK_CONTROL, hw->flag_poll_ps);
          npu_task_depends_on (it, begin[g]);
          init[g * aiv + k] = it;
          if (k == 0)
            continue;
          for (guint t = start; t < start + count; t++)
            {
              guint trank = npu_op_rank_of (base, t);
              g_autofree char *name = g_strdup_printf ("flag r%u->r%u", rank, trank);
              NpuTask *w = npu_op_task_new (base, env, g, name, NPU_TASK_COMM,
                                            NPU_TRACK_COMM_PLANE, trank);
              guint links[NPU_MAX_PATH];
              guint nl = npu_cluster_path (env->cluster, rank, trank, links);
              npu_task_set_flow (w, links, nl, UB_ALIGN, mte);
              npu_task_depends_on (w, it);
              npu_task_writes (w, dom->buf[t], entry_offset (op->half[g], g), UB_ALIGN);
              if (data)
                {
                  FlagWrite *fw = g_new0 (FlagWrite, 1);
                  fw->dst = dom->win[t] + entry_index (dom, op->half[g], g);
                  fw->value = 1.0f;
                  npu_task_set_effect (w, flag_effect, fw, g_free);
                }
              writes[(gsize) g * n + t] = w;
            }
        }
    }

  guint used = MIN (n, aiv - 1);   /* cores with ranks */
  for (guint g = 0; g < n; g++)
    {
      guint rank = npu_op_rank_of (base, g);
      guint h = op->half[g];
      g_autoptr (GPtrArray) cleans = g_ptr_array_new ();
      for (guint k = 1; k < aiv; k++)
        {
          guint start, count;
          barrier_split (n, aiv, k, &start, &count);
          if (count == 0)
            continue;
          NpuTime vec = npu_cost_vector (hw, (guint64) count * FLAG_FLOATS, sizeof (float), 1,
                                         (guint64) count * UB_ALIGN);
          NpuTask *poll = aiv_task (op, env, g, k, "WaitStatus", NPU_TASK_COMM,
                                    hw->flag_poll_ps + vec);
          for (guint t = start; t < start + count; t++)
            {
              npu_task_depends_on (poll, writes[(gsize) g * n + t]);   /* PipeBarrier */
              npu_task_depends_on (poll, writes[(gsize) t * n + g]);   /* the flags it waits for */
              if (env->trace_level >= NPU_TRACE_ALL)
                npu_task_add_trace_flow (writes[(gsize) t * n + g], poll, "flag");
            }
          npu_task_reads (poll, dom->buf[g], entry_offset (h, start),
                          (guint64) count * STATE_OFFSET);
          add_spin (op, env, g, k, poll, writes + (gsize) g * n + start, count);
          NpuTask *clean = aiv_task (op, env, g, k, "CleanStatus", NPU_TASK_MEMORY, vec);
          npu_task_depends_on (clean, poll);
          npu_task_writes (clean, dom->buf[g], entry_offset (h, start),
                           (guint64) count * STATE_OFFSET);
          npu_task_writes (clean, dom->buf[g], finish_offset (h, aiv, k - 1), UB_ALIGN);
          if (data)
            {
              Poll *p = g_new0 (Poll, 1);
              p->first = dom->win[g] + entry_index (dom, h, start);
              p->count = count;
              p->want = (float) (count * FLAG_FLOATS);
              p->what = "WaitStatus";
              p->rank = rank;
              npu_task_set_effect (poll, poll_effect, p, g_free);
              Poll *c = g_memdup2 (p, sizeof *p);
              c->finish = dom->win[g] + finish_index (dom, h, k - 1);
              npu_task_set_effect (clean, clear_effect, c, g_free);
            }
          g_ptr_array_add (cleans, clean);
        }
      /* AIV 0: TimeOutTest */
      NpuTime vec0 = npu_cost_vector (hw, (guint64) used * FLAG_FLOATS, sizeof (float), 1,
                                      (guint64) used * UB_ALIGN);
      NpuTask *init0 = init[g * aiv];
      NpuTask *poll0 = aiv_task (op, env, g, 0, "TimeOutTest (finish flags)", NPU_TASK_COMM,
                                 hw->flag_poll_ps + vec0);
      npu_task_depends_on (poll0, init0);
      add_spin (op, env, g, 0, poll0, &init0, 1);
      for (guint i = 0; i < cleans->len; i++)
        npu_task_depends_on (poll0, g_ptr_array_index (cleans, i));
      guint64 flags_len = (guint64) used * UB_ALIGN * sizeof (float);
      npu_task_reads (poll0, dom->buf[g], finish_offset (h, aiv, 0), flags_len);
      NpuTask *clear0 = aiv_task (op, env, g, 0, "clear finish flags", NPU_TASK_MEMORY, vec0);
      npu_task_depends_on (clear0, poll0);
      npu_task_writes (clear0, dom->buf[g], finish_offset (h, aiv, 0), flags_len);
      if (data)
        {
          Poll *p = g_new0 (Poll, 1);
          p->first = dom->win[g] + finish_index (dom, h, 0);
          p->count = used;
          p->want = (float) (used * FLAG_FLOATS);
          p->what = "TimeOutTest";
          p->rank = rank;
          npu_task_set_effect (poll0, poll_effect, p, g_free);
          Poll *c = g_memdup2 (p, sizeof *p);
          npu_task_set_effect (clear0, clear_effect, c, g_free);
        }
      NpuTask *sync = aiv_task (op, env, g, 0, "SyncAll", NPU_TASK_CONTROL, hw->flag_poll_ps);
      npu_task_depends_on (sync, clear0);
      for (guint i = 0; i < cleans->len; i++)
        npu_task_depends_on (sync, g_ptr_array_index (cleans, i));
      g_autoptr (GPtrArray) deps = g_ptr_array_new ();
      g_ptr_array_add (deps, sync);
      npu_op_finish (base, env, g, deps);
      op->t0_task[g] = init0;
      op->poll_task[g] = poll0;

      if (op->has_timeout)
        {
          Watch *w = g_malloc0 (sizeof (Watch) + sizeof (NpuTask *) * n);
          w->op = op;
          w->graph = env->graph;
          w->g = g;
          w->t0 = init0;
          w->poll = poll0;
          w->timeout_ps = (NpuTime) op->timeout_us * NPU_PS_PER_US;
          w->n_in = n;
          for (guint s = 0; s < n; s++)
            w->incoming[s] = writes[(gsize) s * n + g];
          /* hidden helpers: their hooks see the times (op tasks keep the op's hooks) */
          NpuTask *timer = npu_graph_task_new (env->graph, "barrier timeout timer");
          npu_task_set_hidden (timer);
          npu_task_set_duration (timer, w->timeout_ps + 1);
          npu_task_depends_on (timer, init0);
          npu_task_set_hooks (timer, NULL, timer_end, w);
          NpuTask *seen = npu_graph_task_new (env->graph, "barrier poll seen");
          npu_task_set_hidden (seen);
          npu_task_depends_on (seen, poll0);
          npu_task_set_hooks (seen, NULL, poll_seen, w);
          g_ptr_array_add (base->owned, w);
        }
    }
  return TRUE;
}
