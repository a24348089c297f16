/* npusim — HCCL planning plumbing: per-rank streams and the issuing thread, CCL
 * buffers, notify record/wait pairs (local syncs and cross-rank handshakes), and the
 * SDMA / RDMA / inline-reduce transfer tasks with their data effects.
 *
 * How tasks reach the device depends on HCCL's expansion mode (docs/ops/hccl.md
 * "Task costs"):
 *
 *  - A2, HOST mode: hcomm builds each loop of the executor as one FFTS+ graph
 *    (DispatcherGraph: InitTask -> GraphAdd*Task -> LaunchTaskExtend) and launches it
 *    with a single task submission; the graph is cached under the op's HcclOpMetaInfo
 *    key, so a repeated call only refreshes the descriptors. Syncs between streams of
 *    the same chip are not tasks in the graph but successor edges resolved by the
 *    FFTS+ hardware (GraphAddRecordTask / GraphAddWaitTask with inchip = true add no
 *    context). Modelled: per graph a launch on the host thread
 *    (cost.host_task_issue_us), preceded on a cold call by the build of every context
 *    (cost.host_task_issue_us each); the graph's tasks start once it is launched and
 *    the rank's previous graph has ended; local syncs are zero-time edges.
 *  - A3, AI_CPU mode: every device task is issued, in program order, by AICPU 0
 *    (cost.aicpu_task_issue_us per task) and runs on its stream once issued and once
 *    the stream's previous task has ended; issue overlaps with the running tasks.
 *
 * Device-side durations all come from the preset (NpuHw, models/cost.h). */
#include "ops/hccl-private.h"
#include <string.h>

typedef struct {
  HcclBuf buf;
  guint64 off, len;
  NpuTask *task;
} Written;

typedef struct {
  guint rank;
  NpuServer *issuer;
  NpuTask *issue_last;       /* last task of the issuing thread (host / AICPU 0) */
  NpuTask **last;            /* [n_streams] last task of each stream */
  /* FFTS+ graphs (A2): */
  NpuTask *gstart;           /* start of the open graph: after its launch and after
                                the rank's previous graph */
  guint epoch;               /* number of the open graph */
  guint *epoch_of;           /* [n_streams] graph of last[s] */
  guint n_ctx;               /* contexts in the open graph */
  guint n_alg;               /* of which the executor's (not the counters) */
  guint *atomic;             /* [n] 1 + buffer id of the CCL-out region written by
                                inline reduces from group rank j (0 = none yet) */
  guint buf[HB_N];           /* graph buffer ids */
  guint64 base[HB_N];        /* byte offset of the buffer in that graph buffer (a
                                bound buffer of an embedded plan; else 0) */
  guint8 *data[HB_N];        /* host memory, NULL in timing-only mode */
  guint64 size[HB_N];
  GArray *written;           /* Written: data that arrived from other ranks (flows) */
} Rank;

struct _HcclPlan {
  HcclOp *hop;
  NpuOp *op;
  const NpuOpEnv *env;
  const NpuHw *hw;
  NpuCluster *cluster;
  guint n;
  gsize esize;
  NpuTime issue_ps;
  gboolean ffts;             /* A2 HOST mode: FFTS+ graphs */
  gboolean aicpu;            /* embedded (MC2): issued by AICPU 0, not the host */
  gboolean cold;             /* graphs are built on this call (graphCache "cold") */
  guint n_streams;
  Rank *r;
  NpuHcclNotify *notify;     /* Tx records and Rx waits of the current step */
  gboolean flows;            /* trace level "all": arrows from transfers to their uses */
  gboolean detail;           /* trace level "task" or more: slice args */
};

static const char *const buf_names[HB_N] = { "sendBuf", "recvBuf", "cclIn", "cclOut" };

static HcclPlan *
plan_new (HcclOp *hop, NpuOp *owner, const NpuOpEnv *env, gboolean embedded)
{
  HcclPlan *pl = g_new0 (HcclPlan, 1);
  pl->hop = hop;
  pl->op = owner;
  pl->env = env;
  pl->hw = env->hw;
  pl->cluster = env->cluster;
  pl->n = hop->geom.n;
  pl->esize = npu_dtype_size (hop->dtype);
  pl->aicpu = embedded || hop->geom.a3;
  pl->issue_ps = pl->aicpu ? env->hw->aicpu_task_issue_ps : env->hw->host_task_issue_ps;
  pl->ffts = !hop->geom.a3;
  pl->cold = hop->cache == HCCL_CACHE_COLD;
  pl->n_streams = 2 * pl->n + 1;
  pl->flows = env->trace_level >= NPU_TRACE_ALL;
  pl->detail = env->trace_level >= NPU_TRACE_TASK;
  pl->r = g_new0 (Rank, pl->n);
  for (guint g = 0; g < pl->n; g++)
    {
      Rank *r = &pl->r[g];
      r->rank = npu_op_rank_of (pl->op, g);
      r->issuer = pl->aicpu ? npu_cluster_aicpu (pl->cluster, r->rank, 0)
                            : npu_cluster_host (pl->cluster, r->rank);
      r->last = g_new0 (NpuTask *, pl->n_streams);
      r->epoch_of = g_new0 (guint, pl->n_streams);
      r->atomic = g_new0 (guint, pl->n);
      if (!embedded)
        {
          r->size[HB_SEND] = npu_tensor_nbytes (hop->send[g]);
          r->size[HB_RECV] = npu_tensor_nbytes (hop->recv[g]);
          r->data[HB_SEND] = npu_tensor_data (hop->send[g]);
          r->data[HB_RECV] = npu_tensor_data (hop->recv[g]);
        }
      r->size[HB_CI] = r->size[HB_CO] = hop->ccl_bytes;
      r->data[HB_CI] = hop->ccl_in != NULL ? hop->ccl_in[g] : NULL;
      r->data[HB_CO] = hop->ccl_out != NULL ? hop->ccl_out[g] : NULL;
      for (guint b = 0; b < HB_N; b++)
        {
          if (embedded && (b == HB_SEND || b == HB_RECV))
            continue; /* bound per collective (hccl_plan_bind) */
          g_autofree char *name = g_strdup_printf ("r%u.%s.%s", r->rank, pl->op->name,
                                                   buf_names[b]);
          r->buf[b] = npu_graph_add_buffer (env->graph, name, MAX (r->size[b], 1));
        }
      r->written = g_array_new (FALSE, FALSE, sizeof (Written));
    }
  pl->notify = npu_hccl_notify_new (pl->n, HS_N);
  return pl;
}

HcclPlan *
hccl_plan_new (HcclOp *hop, const NpuOpEnv *env)
{
  return plan_new (hop, &hop->base, env, FALSE);
}

HcclPlan *
hccl_plan_new_embedded (HcclOp *hop, NpuOp *owner, const NpuOpEnv *env)
{
  return plan_new (hop, owner, env, TRUE);
}

void
hccl_plan_bind (HcclPlan *pl, guint g, HcclBuf b, guint buffer, guint64 base, guint8 *data,
                guint64 size)
{
  g_return_if_fail (g < pl->n && (b == HB_SEND || b == HB_RECV));
  Rank *r = &pl->r[g];
  r->buf[b] = buffer;
  r->base[b] = base;
  r->data[b] = data;
  r->size[b] = size;
  /* Deliveries into the previous binding no longer name these bytes. */
  for (guint i = r->written->len; i-- > 0;)
    if (g_array_index (r->written, Written, i).buf == b)
      g_array_remove_index (r->written, i);
}

void
hccl_plan_free (HcclPlan *pl)
{
  for (guint g = 0; g < pl->n; g++)
    {
      g_free (pl->r[g].last);
      g_free (pl->r[g].epoch_of);
      g_free (pl->r[g].atomic);
      g_array_unref (pl->r[g].written);
    }
  g_free (pl->r);
  npu_hccl_notify_free (pl->notify);
  g_free (pl);
}

guint
hccl_plan_lr_stream (const HcclPlan *pl, guint offset)
{
  g_assert (offset > 0 && pl->n + offset < pl->n_streams);
  return pl->n + offset;
}

const HcclOp *
hccl_plan_op (const HcclPlan *pl)
{
  return pl->hop;
}

gsize
hccl_plan_esize (const HcclPlan *pl)
{
  return pl->esize;
}

/* ---- FFTS+ graphs (A2 HOST mode) ---- */

static NpuTask *plan_task (HcclPlan *pl, guint g, guint s, const char *name, NpuTaskClass cls,
                           NpuTrackKind kind, guint index, gboolean context);

/* The stuck-detection op counter (hcomm OpExeCounter, on by default: HCCL_DFS_CONFIG
 * stuck_detection): InitTask and LaunchTaskExtend add to every FFTS+ graph a head
 * and a tail counter, a 4-byte SDMA inline reduce (+1) on the main stream. */
static void
graph_counter (HcclPlan *pl, guint g, gboolean head)
{
  NpuTask *t = plan_task (pl, g, HCCL_MAIN, head ? "op counter head" : "op counter tail",
                          NPU_TASK_CONTROL, NPU_TRACK_COMM_PLANE, pl->r[g].rank, TRUE);
  guint links[NPU_MAX_PATH];
  guint n_links = npu_cluster_path (pl->cluster, pl->r[g].rank, pl->r[g].rank, links);
  npu_task_set_duration (t, npu_cost_sdma_fixed (pl->hw, sizeof (gint32)));
  npu_task_set_flow (t, links, n_links, sizeof (gint32), pl->hw->local_copy_bw_Bps);
}

static void
graph_open (HcclPlan *pl, guint g)
{
  Rank *r = &pl->r[g];
  r->epoch++;
  r->n_ctx = 0;
  r->n_alg = 0;
  /* The graph is one task of the main stream: it starts after the rank's previous
   * graph (every stream) has ended, and after its own launch (graph_close). */
  r->gstart = npu_graph_task_new (pl->env->graph, "FFTS+ graph start");
  npu_task_set_hidden (r->gstart);
  for (guint s = 0; s < pl->n_streams; s++)
    if (r->last[s] != NULL)
      npu_task_depends_on (r->gstart, r->last[s]);
  graph_counter (pl, g, TRUE);
}

/* A2 (FFTS+ graphs) is issued by the host thread, A3 and embedded collectives by
 * AICPU 0. */
static NpuTrackKind
issuer_track (const HcclPlan *pl)
{
  return pl->aicpu ? NPU_TRACK_AICPU : NPU_TRACK_HOST;
}

static void
graph_close (HcclPlan *pl, guint g)
{
  Rank *r = &pl->r[g];
  graph_counter (pl, g, FALSE);
  /* LaunchGraph: one task submission (FftsPlusTaskLaunch) by the host thread, after
   * the contexts were built (cold) or refreshed (warm). */
  g_autofree char *name = g_strdup_printf ("launch FFTS+ graph (%u contexts%s)", r->n_ctx,
                                           pl->cold ? ", built" : ", cached");
  NpuTask *launch = npu_op_task_new (pl->op, pl->env, g, name, NPU_TASK_CONTROL,
                                     issuer_track (pl), 0);
  npu_task_set_server (launch, r->issuer);
  npu_task_set_duration (launch, pl->issue_ps);
  npu_task_depends_on (launch, r->issue_last);
  r->issue_last = launch;
  npu_task_depends_on (r->gstart, launch);
}

void
hccl_plan_begin (HcclPlan *pl)
{
  for (guint g = 0; g < pl->n; g++)
    {
      NpuTask *begin = npu_op_begin (pl->op, pl->env, g, pl->hw->hccl_op_fixed_ps);
      pl->r[g].last[HCCL_MAIN] = begin;
      pl->r[g].issue_last = begin;
      if (pl->ffts)
        graph_open (pl, g);
    }
}

void
hccl_plan_coll_open (HcclPlan *pl, NpuTask *const *after)
{
  g_assert (pl->aicpu);
  pl->esize = npu_dtype_size (pl->hop->dtype);
  for (guint g = 0; g < pl->n; g++)
    {
      Rank *r = &pl->r[g];
      /* The AICPU takes the collective up once it was committed (and once it has
       * issued everything before it). */
      NpuTask *gate = npu_graph_task_new (pl->env->graph, "HCCL commit");
      npu_task_set_hidden (gate);
      if (r->issue_last != NULL)
        npu_task_depends_on (gate, r->issue_last);
      if (after != NULL && after[g] != NULL)
        npu_task_depends_on (gate, after[g]);
      r->issue_last = gate;
      if (pl->ffts)
        graph_open (pl, g);
    }
}

void
hccl_plan_coll_close (HcclPlan *pl, NpuTask **done)
{
  g_assert (npu_hccl_notify_idle (pl->notify));
  for (guint g = 0; g < pl->n; g++)
    {
      Rank *r = &pl->r[g];
      if (pl->ffts)
        graph_close (pl, g);
      NpuTask *end = npu_graph_task_new (pl->env->graph, "HCCL collective end");
      npu_task_set_hidden (end);
      for (guint s = 0; s < pl->n_streams; s++)
        if (r->last[s] != NULL)
          npu_task_depends_on (end, r->last[s]);
      if (pl->ffts)
        npu_task_depends_on (end, r->gstart);
      npu_task_depends_on (end, r->issue_last);
      if (done != NULL)
        done[g] = end;
    }
}

/* A loop starts a new graph unless the open one has none of the executor's tasks yet
 * (the first loop continues the graph opened by hccl_plan_begin). */
void
hccl_plan_loop (HcclPlan *pl)
{
  if (!pl->ffts)
    return;
  for (guint g = 0; g < pl->n; g++)
    if (pl->r[g].n_alg > 0)
      {
        graph_close (pl, g);
        graph_open (pl, g);
      }
}

void
hccl_plan_finish (HcclPlan *pl)
{
  g_assert (npu_hccl_notify_idle (pl->notify));
  for (guint g = 0; g < pl->n; g++)
    {
      if (pl->ffts)
        graph_close (pl, g);
      g_autoptr (GPtrArray) deps = g_ptr_array_new ();
      for (guint s = 0; s < pl->n_streams; s++)
        if (pl->r[g].last[s] != NULL)
          g_ptr_array_add (deps, pl->r[g].last[s]);
      if (pl->ffts)
        g_ptr_array_add (deps, pl->r[g].gstart);
      npu_op_finish (pl->op, pl->env, g, deps);
    }
}

/* A task on stream @s of rank @g. @context: it is a task of its own on the device (an
 * FFTS+ context, or an AICPU-issued task); FALSE for a sync between streams of the
 * same chip, which FFTS+ turns into a graph edge. */
static NpuTask *
plan_task (HcclPlan *pl, guint g, guint s, const char *name, NpuTaskClass cls,
           NpuTrackKind kind, guint index, gboolean context)
{
  Rank *r = &pl->r[g];
  g_assert (s < pl->n_streams);
  NpuTask *issue = NULL;
  if (!pl->ffts || (context && pl->cold))
    {
      /* AICPU issue (A3) or the host building the context (A2, cold graph). */
      g_autofree char *iname = g_strdup_printf (pl->ffts ? "build %s" : "issue %s", name);
      issue = npu_op_task_new (pl->op, pl->env, g, iname, NPU_TASK_CONTROL, issuer_track (pl), 0);
      npu_task_set_server (issue, r->issuer);
      npu_task_set_duration (issue, pl->issue_ps);
      npu_task_depends_on (issue, r->issue_last);
      r->issue_last = issue;
    }
  NpuTask *t = npu_op_task_new (pl->op, pl->env, g, name, cls, kind, index);
  if (!pl->ffts)
    {
      npu_task_depends_on (t, issue);
      if (r->last[s] != NULL)
        npu_task_depends_on (t, r->last[s]);
    }
  else
    {
      /* In the graph: after the previous task of the stream in this graph, else after
       * the graph's start (the build is covered by the launch). */
      if (r->last[s] != NULL && r->epoch_of[s] == r->epoch)
        npu_task_depends_on (t, r->last[s]);
      else
        npu_task_depends_on (t, r->gstart);
      r->epoch_of[s] = r->epoch;
      if (context)
        {
          r->n_ctx++;
          r->n_alg += cls != NPU_TASK_CONTROL;
        }
    }
  r->last[s] = t;
  return t;
}

/* Syncs between streams of one chip: notify tasks in AI_CPU mode; in an FFTS+ graph
 * only the successor edge they stand for (zero time, not drawn). */
NpuTask *
hccl_record_local (HcclPlan *pl, guint g, guint s)
{
  NpuTask *t = plan_task (pl, g, s, "Notify_Record", NPU_TASK_COMM, NPU_TRACK_COMM_GROUP, 0,
                          !pl->ffts);
  if (pl->ffts)
    npu_task_set_hidden (t);
  else
    npu_task_set_duration (t, pl->hw->notify_record_local_ps);
  return t;
}

NpuTask *
hccl_wait_local (HcclPlan *pl, guint g, guint s, NpuTask *record)
{
  NpuTask *t = plan_task (pl, g, s, "Notify_Wait", NPU_TASK_COMM, NPU_TRACK_COMM_GROUP, 0,
                          !pl->ffts);
  if (pl->ffts)
    npu_task_set_hidden (t);
  else
    npu_task_set_duration (t, pl->hw->notify_wait_ps);
  npu_task_depends_on (t, record);
  return t;
}

void
hccl_sync_main_to (HcclPlan *pl, guint g, const guint *subs, guint n)
{
  g_autofree NpuTask **rec = g_new0 (NpuTask *, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    rec[i] = hccl_record_local (pl, g, HCCL_MAIN);
  for (guint i = 0; i < n; i++)
    hccl_wait_local (pl, g, subs[i], rec[i]);
}

void
hccl_sync_to_main (HcclPlan *pl, guint g, const guint *subs, guint n)
{
  g_autofree NpuTask **rec = g_new0 (NpuTask *, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    rec[i] = hccl_record_local (pl, g, subs[i]);
  for (guint i = 0; i < n; i++)
    hccl_wait_local (pl, g, HCCL_MAIN, rec[i]);
}

void
hccl_signal (HcclPlan *pl, guint g, guint s, guint peer, HcclSignal kind)
{
  g_autofree char *name = g_strdup_printf ("Notify_Record %s r%u->r%u",
                                           kind == HS_ACK ? "ack" : "data", pl->r[g].rank,
                                           pl->r[peer].rank);
  NpuTask *t = plan_task (pl, g, s, name, NPU_TASK_COMM, NPU_TRACK_COMM_GROUP, 0, TRUE);
  npu_task_set_duration (t, pl->hw->notify_record_ps);
  npu_hccl_notify_record (pl->notify, g, peer, kind, t);
}

void
hccl_wait_signal (HcclPlan *pl, guint g, guint s, guint peer, HcclSignal kind)
{
  g_autofree char *name = g_strdup_printf ("Notify_Wait %s r%u", kind == HS_ACK ? "ack" : "data",
                                           pl->r[peer].rank);
  NpuTask *t = plan_task (pl, g, s, name, NPU_TASK_COMM, NPU_TRACK_COMM_GROUP, 0, TRUE);
  npu_task_set_duration (t, pl->hw->notify_wait_ps);
  npu_hccl_notify_wait (pl->notify, peer, g, kind, t);
}

void
hccl_step_end (HcclPlan *pl)
{
  npu_hccl_notify_step_end (pl->notify);
}

/* ---- transfers ---- */

typedef struct {
  guint8 *dst;
  const guint8 *src;
  guint64 bytes;
} Seg;

typedef struct {
  gboolean reduce;
  NpuDtype dt;
  gsize esize;
  guint n;
  Seg seg[];
} Effect;

static gboolean
run_effect (gpointer data, GError **error)
{
  Effect *e = data;
  for (guint i = 0; i < e->n; i++)
    if (e->reduce)
      npu_hccl_reduce_add (e->dt, e->seg[i].dst, e->seg[i].src, e->seg[i].bytes / e->esize);
    else
      memmove (e->seg[i].dst, e->seg[i].src, e->seg[i].bytes);
  return TRUE;
}

/* Trace arrows: a task that reads bytes another rank delivered gets an arrow from the
 * delivering transfer. */
static void
flows_to (HcclPlan *pl, guint g, HcclBuf buf, guint64 off, guint64 len, NpuTask *use)
{
  GArray *w = pl->r[g].written;
  for (guint i = 0; i < w->len; i++)
    {
      Written *x = &g_array_index (w, Written, i);
      if (x->buf == buf && x->off < off + len && off < x->off + x->len && x->task != use)
        npu_task_add_trace_flow (x->task, use, "data");
    }
}

static void
forget_written (HcclPlan *pl, guint g, HcclBuf buf, guint64 off, guint64 len)
{
  GArray *w = pl->r[g].written;
  for (guint i = w->len; i-- > 0;)
    {
      Written *x = &g_array_index (w, Written, i);
      if (x->buf == buf && x->off < off + len && off < x->off + x->len)
        g_array_remove_index (w, i);
    }
}

/* Graph buffer of the bytes of @dst_g's CCL-out that inline reduces from @src_g add
 * into (created at the first one). The SDMA engine adds atomically, so several ranks'
 * inline reduces into the same bytes may run at once: each writes its own stand-in
 * buffer for the hazard checker, and every later reader or writer of the CCL-out
 * region also touches the stand-ins, so it must come after all of them. */
static guint
atomic_buffer (HcclPlan *pl, guint dst_g, guint src_g)
{
  Rank *rd = &pl->r[dst_g];
  if (rd->atomic[src_g] == 0)
    {
      g_autofree char *name = g_strdup_printf ("r%u.%s.%s+r%u", rd->rank, pl->op->name,
                                               buf_names[HB_CO], pl->r[src_g].rank);
      rd->atomic[src_g] = 1 + npu_graph_add_buffer (pl->env->graph, name,
                                                    MAX (rd->size[HB_CO], 1));
    }
  return rd->atomic[src_g] - 1;
}

/* Reads (or writes) of CCL-out bytes also touch the inline-reduce stand-ins. */
static void
touch_atomic (HcclPlan *pl, NpuTask *t, guint g, guint64 off, guint64 len, gboolean write)
{
  Rank *r = &pl->r[g];
  for (guint j = 0; j < pl->n; j++)
    if (r->atomic[j] != 0)
      {
        if (write)
          npu_task_writes (t, r->atomic[j] - 1, off, len);
        else
          npu_task_reads (t, r->atomic[j] - 1, off, len);
      }
}

NpuTask *
hccl_empty_task (HcclPlan *pl, guint g, guint s)
{
  g_autofree char *name = g_strdup_printf ("Memcpy r%u (0 B)", pl->r[g].rank);
  NpuTask *t = plan_task (pl, g, s, name, NPU_TASK_MEMORY, NPU_TRACK_COMM_PLANE, pl->r[g].rank,
                          TRUE);
  npu_task_set_duration (t, npu_cost_sdma_fixed (pl->hw, 0));
  return t;
}

NpuTask *
hccl_xfer (HcclPlan *pl, guint g, guint s, HcclXfer kind, guint src_g, HcclBuf src_buf,
           guint dst_g, HcclBuf dst_buf, const HcclPiece *pieces, guint n_pieces)
{
  guint64 total = 0;
  guint n_live = 0;
  for (guint i = 0; i < n_pieces; i++)
    if (pieces[i].bytes > 0)
      {
        total += pieces[i].bytes;
        n_live++;
      }
  if (total == 0)
    return NULL;
  const NpuHw *hw = pl->hw;
  Rank *rs = &pl->r[src_g], *rd = &pl->r[dst_g];
  gboolean local = src_g == dst_g;
  gboolean reduce = kind == HX_REDUCE || kind == HX_ATOMIC;
  g_assert (kind != HX_REDUCE || (local && src_g == g));
  g_assert (kind != HX_ATOMIC || (!local && src_g == g && dst_buf == HB_CO));
  g_assert (kind != HX_RDMA || !local);

  NpuTime fixed;
  double cap;
  const char *what;
  NpuTaskClass cls;
  switch (kind)
    {
    case HX_RDMA:
      fixed = hw->rdma_fixed_ps;
      cap = hw->rdma_task_bw_Bps;
      what = "RDMASend";
      cls = NPU_TASK_COMM;
      break;
    case HX_REDUCE:
      fixed = npu_cost_sdma_fixed (hw, total);
      cap = hw->local_copy_bw_Bps;
      what = "Reduce_Inline";
      cls = NPU_TASK_MEMORY;
      break;
    case HX_ATOMIC:
      fixed = npu_cost_sdma_fixed (hw, total);
      cap = hw->sdma_task_bw_Bps;
      what = "Reduce_Inline";
      cls = NPU_TASK_COMM;
      break;
    default:
      fixed = npu_cost_sdma_fixed (hw, total);
      cap = local ? hw->local_copy_bw_Bps : hw->sdma_task_bw_Bps;
      what = "Memcpy";
      cls = local ? NPU_TASK_MEMORY : NPU_TASK_COMM;
      break;
    }
  guint other = g == src_g ? dst_g : src_g;
  g_autofree char *name = local ? g_strdup_printf ("%s r%u", what, rs->rank)
                                : g_strdup_printf ("%s r%u->r%u", what, rs->rank, rd->rank);
  NpuTask *t = plan_task (pl, g, s, name, cls, NPU_TRACK_COMM_PLANE, pl->r[other].rank, TRUE);
  guint links[NPU_MAX_PATH];
  guint n_links = npu_cluster_path (pl->cluster, rs->rank, rd->rank, links);
  npu_task_set_duration (t, fixed);
  npu_task_set_flow (t, links, n_links, total, cap);
  if (pl->detail)
    {
      g_autofree char *args = g_strdup_printf ("{\"bytes\":%" G_GUINT64_FORMAT
                                               ",\"pieces\":%u,\"src\":\"%s\",\"dst\":\"%s\"}",
                                               total, n_live, buf_names[src_buf],
                                               buf_names[dst_buf]);
      npu_task_set_args (t, args);
    }

  Effect *eff = NULL;
  gboolean data = rs->data[src_buf] != NULL && rd->data[dst_buf] != NULL;
  if (data)
    {
      eff = g_malloc0 (sizeof (Effect) + sizeof (Seg) * n_live);
      eff->reduce = reduce;
      eff->dt = pl->hop->dtype;
      eff->esize = pl->esize;
    }
  guint abuf = kind == HX_ATOMIC ? atomic_buffer (pl, dst_g, src_g) : 0;
  for (guint i = 0; i < n_pieces; i++)
    {
      const HcclPiece *p = &pieces[i];
      if (p->bytes == 0)
        continue;
      g_assert (p->src_off + p->bytes <= rs->size[src_buf]);
      g_assert (p->dst_off + p->bytes <= rd->size[dst_buf]);
      g_assert (p->src_off % pl->esize == 0 && p->dst_off % pl->esize == 0
                && p->bytes % pl->esize == 0);
      npu_task_reads (t, rs->buf[src_buf], rs->base[src_buf] + p->src_off, p->bytes);
      if (src_buf == HB_CO)
        touch_atomic (pl, t, src_g, p->src_off, p->bytes, FALSE);
      if (reduce)
        npu_task_reads (t, rd->buf[dst_buf], rd->base[dst_buf] + p->dst_off, p->bytes);
      if (kind == HX_ATOMIC)
        npu_task_writes (t, abuf, p->dst_off, p->bytes);
      else
        {
          npu_task_writes (t, rd->buf[dst_buf], rd->base[dst_buf] + p->dst_off, p->bytes);
          if (dst_buf == HB_CO)
            touch_atomic (pl, t, dst_g, p->dst_off, p->bytes, TRUE);
        }
      if (pl->flows)
        {
          flows_to (pl, src_g, src_buf, p->src_off, p->bytes, t);
          if (kind == HX_REDUCE)
            flows_to (pl, dst_g, dst_buf, p->dst_off, p->bytes, t);
          if (kind != HX_ATOMIC) /* concurrent inline reduces all deliver their part */
            forget_written (pl, dst_g, dst_buf, p->dst_off, p->bytes);
          if (!local)
            {
              Written w = { dst_buf, p->dst_off, p->bytes, t };
              g_array_append_val (rd->written, w);
            }
        }
      if (eff != NULL)
        eff->seg[eff->n++] = (Seg) { rd->data[dst_buf] + p->dst_off,
                                     rs->data[src_buf] + p->src_off, p->bytes };
    }
  if (eff != NULL)
    npu_task_set_effect (t, run_effect, eff, g_free);
  return t;
}
