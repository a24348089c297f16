/* npusim — MoeDistributeDispatch / MoeDistributeCombine on A3 as the MTE kernels run
 * them (REFERENCE 4.2 and 5.2; moe_distribute_dispatch_v2.h, moe_distribute_combine_v2.h):
 * all AIV, no AICPU, every byte moved by an AIV core's MTE straight into the
 * destination die's HCCL window over UB (or SIO to the package twin).
 *
 * Dispatch, on every die:
 *  1. AlltoAllDispatch: the (token, k) list is split evenly over the AIV cores (the
 *     last aivNum * S / (K + S) cores send to the shared experts). Per row a core
 *     counts the earlier entries of the same expert (5 vector stages over the list
 *     prefix), loads the token (MTE2), quantises it (8 stages, quantMode 2) and writes
 *     token + scale + triple to the destination window slot (MTE3, a flow over the
 *     fabric at the core's write rate). FillTriple waits for the previous row's write
 *     to complete (MTE3_S): a write completes when the destination acknowledges it,
 *     one path latency after the data landed; two UB buffers let the next row load
 *     and quantise meanwhile.
 *  2. SetStatus: each core counts the tokens of its range of experts (5 stages over
 *     the list per expert), SyncAll, then writes a 32 B status {1.0, count} per
 *     (expert, this source) into the destination's windowsExp.
 *  3. WaitDispatch: each core polls its share of the W * L (W on a shared-expert die)
 *     status entries until all have arrived (one poll after the last lands), clears
 *     them, publishes its count; SyncAll.
 *  4. LocalWindowCopy: each core copies its blocks' rows out of the window in status
 *     order into expandX / dynamicScales / assistInfo / expandScales (a GM->UB and a
 *     UB->GM DMA per row plus the small ones); with TP 2 it also writes each row into
 *     the TP peer's window, flags the peer, waits for the peer's flag and copies the
 *     peer's rows behind its own (AllGatherSetStatusAndWait / AllgatherProcessOut).
 *  5. UpdateTokenNumsOut on the last core: expertTokenNums, epRecvCounts, tpRecvCounts.
 * Combine, on every die:
 *  1. (TP 2) ReduceScatterTrans: the rows of the TP peer go to the peer's TP window,
 *     then a flag each way per core.
 *  2. Send: the rank's rows are split evenly over the cores, each core taking its rows
 *     in the staggered order (i + epRankId) % n; per row: load (and add the TP
 *     partial / quantise to int8), write to the token owner's window slot
 *     (t * (K + S) + k), PipeBarrier<PIPE_MTE3> (the write must be acknowledged), then
 *     a 32 B flag per row.
 *  3. Reduce: the rank's tokens are split evenly over the cores; a token is reduced as
 *     soon as all its rows' flags are in (one poll), so tokens complete in arrival
 *     order, not token order (a core's queue is served first come first served), or,
 *     with "tokenOrder": "index" (the kernels up to CANN 8.5), in token order.
 * Durations: the instruction-level costs of moe-cost.c (PyPTO's A2/A3 cost model via
 * the preset: vector instruction, GM read/write latency, L2 / DDR / L2-write rates) and
 * the dies' UB links at link.ub_aiv_write_efficiency of their current capacity;
 * docs/ops/MoeDistributeDispatch.md "Costs".
 * Windows are double-buffered (dataState halves, moe-window.c): every MoE op of a group
 * uses the group's window buffers, in the half its kernel's state word gives it (V2/V3:
 * layer l's dispatch and combine both in half l mod 2; V1: dispatches half 0, combines
 * half 1), so a layer that reused a half before the previous user's reads were done on
 * every die would be reported by the hazard checker.
 *
 * Per-row tasks are drawn in the trace only for runs of at most MOE_TRACE_ROWS rows;
 * bigger runs draw the per-core phases (their timing is unchanged; with the per-row
 * slices a trace of EP 256 would hold millions of slices, so it is viewed at
 * --trace-level op). Hazard regions (moe_hazard_per_row): up to MOE_DETAIL_ROWS rows
 * every row write declares its window slot and every status flag its entry; beyond
 * (or "hazardRegions": "block"), coarser regions with the same guarantees where a
 * single writer exists: the first status write of a source to a destination declares
 * the source's whole window span there (all its rows landed before any of its status
 * writes, after the SyncAll), each copy-out core reads the span of its blocks, each
 * combine reduce reads its token's K + S slots at once; the combine's row writes stay
 * per row (rows of many senders interleave in a token-slot layout) and the 32 B flags
 * are not declared (they are the dependencies themselves; per row, every status entry
 * and combine flag is declared in its half's windowsExp). The ops' tensors are
 * declared per core at every scale. */
#include "ops/moe-private.h"
#include <string.h>

#define MOE_TRACE_ROWS 16384u
#define STATE_COMBINE_OFFSET (64u * 1024u)

typedef struct {
  const NpuOpEnv *env;
  NpuOpEnv quiet;         /* env at trace level "op", for tasks that are not drawn */
  NpuOp *op;
  const NpuHw *hw;
  NpuCluster *cl;
  MoeDispatch *d;
  const MoeAttrs *a;
  const MoeLayout *l;
  gboolean hide_rows;      /* per-row tasks not drawn */
  gboolean detail;         /* per-row window / flag regions declared to the hazard
                              checker (runs of at most MOE_DETAIL_ROWS rows) */
  guint slot_bytes;       /* dispatch window slot */
  guint write_bytes;      /* bytes a dispatch row write moves */
  guint64 data_base;      /* dispatch data region inside the window half */
  const MoeWindows *w;    /* [n] the buffers of the op's window half */
  guint64 max_bs;
  MoePorts *ports;
} Plan;

static void
plan_init (Plan *p, MoeDispatch *d, NpuOp *op, guint half, const NpuOpEnv *env)
{
  memset (p, 0, sizeof *p);
  p->env = env;
  p->quiet = *env;
  p->quiet.trace_level = NPU_TRACE_OP;
  p->op = op;
  p->hw = env->hw;
  p->cl = env->cluster;
  p->d = d;
  p->a = &d->a;
  p->l = d->layout;
  p->hide_rows = d->layout->total_rows > MOE_TRACE_ROWS;
  p->detail = moe_hazard_per_row (p->a, p->l);
  p->slot_bytes = moe_win_slot_bytes (p->a);
  guint64 hout = ((guint64) p->a->h * npu_dtype_size (p->a->expand_dtype) + 31) / 32 * 32;
  p->write_bytes = (guint) (hout + 32 + 12);
  p->max_bs = moe_axis_max_bs (p->a);
  p->data_base = p->max_bs * (p->a->k + p->a->shared_experts)
                 * moe_combine_slot_bytes (p->a, 0);
  p->w = moe_window_half (d->wg, half);
  MoeOpBase *b = (MoeOpBase *) op;
  p->ports = moe_ports_get (env->graph, env->cluster);
  b->holds_ports = TRUE;
  b->graph = env->graph;
}

static guint
rank_of (Plan *p, guint g)
{
  return npu_op_rank_of (p->op, g);
}

/* A task of the op on group rank @g; per-row tasks are hidden in big runs. */
static NpuTask *
task (Plan *p, guint g, gboolean row, const char *name, NpuTaskClass cls, NpuTrackKind kind,
      guint index)
{
  if (row && p->hide_rows)
    {
      /* not drawn: created at trace level "op" so no track is looked up */
      NpuTask *t = npu_op_task_new (p->op, &p->quiet, g, name, cls, kind, index);
      npu_task_set_hidden (t);
      return t;
    }
  return npu_op_task_new (p->op, p->env, g, name, cls, kind, index);
}

static NpuTask *
aiv_task (Plan *p, guint g, guint core, gboolean row, const char *name, NpuTime dur)
{
  NpuTask *t = task (p, g, row, name, NPU_TASK_COMPUTE, NPU_TRACK_AIV, core);
  npu_task_set_server (t, npu_cluster_aiv (p->cl, rank_of (p, g), core));
  npu_task_set_duration (t, dur);
  return t;
}

/* An MTE write of @bytes from group rank @src to @dst's memory, as one task that ends
 * when the sender learns the write completed (the MTE3 pipe is done with it: what
 * PipeBarrier<PIPE_MTE3> and SyncFunc<MTE3_S> wait for). Between dies the bytes take
 * the sender's port set and then the receiver's, first come first served in the order
 * the writes are issued (an output-queued switch: MoePorts keeps each port set's next
 * free time): over UB the sender's ub_tx (and, across nodes, ub_l2) link and the
 * receiver's ub_rx link, each at its current fabric capacity (what --set
 * link.ub_port_bw_Bps and inject.links give it) times link.ub_aiv_write_efficiency; to
 * the package twin the SIO link at its capacity. The bytes and each port's busy interval
 * are accounted on those fabric links (npu_fabric_account), so the report lists them,
 * but the writes are not max-min flows: they do not share capacity with other
 * operators' flows on the same links. The data lands one path latency after the
 * receiver's port is done, is written there (mem.gm_write_latency_us) and acknowledged
 * one path latency later; the task's end is that acknowledgement plus @extra. Inside a
 * die it is a local write: the latency plus bytes at the core's L2 write rate. */
typedef struct {
  MoePorts *ports;
  NpuFabric *fabric;
  double eff;             /* UB efficiency (1 for SIO) */
  guint64 bytes;
  guint rs, rd;           /* global ranks */
  guint kind;             /* 0 local, 1 UB, 2 SIO */
  guint n_tx;             /* sender-side links: ub_tx (+ ub_l2) or the sio link */
  guint tx[2];
  guint rx;               /* ub_rx of the receiver (UB) */
  NpuTime dur;            /* local: bytes at the core's rate */
  NpuTime lat;            /* path latency */
  NpuTime commit;         /* the memory write at the far end (mem.gm_write_latency_us) */
  NpuTime extra;          /* time after the acknowledgement (e.g. a flag's latency) */
} WriteJob;

static NpuTime
write_duration (gpointer data, NpuTime now)
{
  WriteJob *w = data;
  if (w->kind == 0)
    return w->dur + w->commit + w->extra;
  /* the ports' rates from the links' current capacity (read when the write starts) */
  double tx_bw = npu_fabric_link_bandwidth (w->fabric, w->tx[0]);
  for (guint i = 1; i < w->n_tx; i++)
    tx_bw = MIN (tx_bw, npu_fabric_link_bandwidth (w->fabric, w->tx[i]));
  double rx_bw = w->kind == 1 ? npu_fabric_link_bandwidth (w->fabric, w->rx) : tx_bw;
  NpuTime dtx = npu_time_for_bytes (w->bytes, tx_bw * w->eff);
  NpuTime drx = npu_time_for_bytes (w->bytes, rx_bw * w->eff);
  NpuTime *tx = &w->ports->free[w->kind == 2 ? 2 : 0][w->rs];
  NpuTime *rx = &w->ports->free[w->kind == 2 ? 3 : 1][w->rd];
  NpuTime tx_start = MAX (now, *tx), tx_end = tx_start + dtx;
  *tx = tx_end;
  NpuTime rx_start = MAX (tx_end, *rx), rx_end = rx_start + drx;
  *rx = rx_end;
  for (guint i = 0; i < w->n_tx; i++)
    npu_fabric_account (w->fabric, w->tx[i], w->bytes, tx_start, tx_end);
  if (w->kind == 1) /* (SIO: one link, already counted on the sender's side) */
    npu_fabric_account (w->fabric, w->rx, w->bytes, rx_start, rx_end);
  return rx_end + 2 * w->lat + w->commit + w->extra - now;
}

static NpuTask *
ub_write (Plan *p, guint owner, guint src, guint dst, gboolean row, const char *name,
          guint64 bytes, NpuTime extra)
{
  guint rs = rank_of (p, src), rd = rank_of (p, dst);
  const NpuHw *hw = p->hw;
  WriteJob *w = g_new0 (WriteJob, 1);
  w->ports = p->ports;
  w->fabric = npu_cluster_fabric (p->cl);
  w->bytes = bytes;
  w->rs = rs;
  w->rd = rd;
  w->extra = extra;
  w->commit = hw->gm_write_latency_ps;
  NpuTask *t;
  if (rs == rd)
    {
      t = task (p, owner, row, name, NPU_TASK_MEMORY, NPU_TRACK_COMM_PLANE, rd);
      w->dur = moe_dma_out_stream (hw, bytes);
    }
  else
    {
      guint links[NPU_MAX_PATH];
      guint nl = npu_cluster_path (p->cl, rs, rd, links);
      w->lat = moe_path_latency (p->cl, links, nl);
      gboolean sio = rs / hw->dies_per_package == rd / hw->dies_per_package;
      w->kind = sio ? 2 : 1;
      w->eff = sio ? 1.0 : moe_ub_efficiency (hw);
      /* the path (models/cluster.h): the SIO link, or ub_tx [, ub_l2], ub_rx */
      guint n_tx = sio ? nl : nl - 1;
      g_assert (n_tx >= 1 && n_tx <= G_N_ELEMENTS (w->tx));
      for (guint i = 0; i < n_tx; i++)
        w->tx[w->n_tx++] = links[i];
      if (!sio)
        {
          w->rx = links[nl - 1];
          g_assert (g_strcmp0 (npu_cluster_link_kind (p->cl, w->rx), "ub_rx") == 0);
        }
      t = task (p, owner, row, name, NPU_TASK_COMM, NPU_TRACK_COMM_PLANE, rd);
    }
  npu_task_set_duration_func (t, write_duration, w);
  g_ptr_array_add (p->op->owned, w);
  return t;
}

/* Path latency between group ranks @src and @dst (0 on the same die). */
static NpuTime
path_latency (Plan *p, guint src, guint dst)
{
  guint links[NPU_MAX_PATH];
  guint rs = rank_of (p, src), rd = rank_of (p, dst);
  if (rs == rd)
    return 0;
  guint nl = npu_cluster_path (p->cl, rs, rd, links);
  return moe_path_latency (p->cl, links, nl);
}

/* A 32 B status / flag write: it lands one path latency after it is issued (its
 * bandwidth is negligible, so it takes no port time). */
static NpuTask *
flag_task (Plan *p, guint owner, guint src, guint dst, gboolean row, const char *name,
           NpuTime extra)
{
  guint links[NPU_MAX_PATH];
  guint rs = rank_of (p, src), rd = rank_of (p, dst);
  NpuTime lat = 0;
  if (rs != rd)
    {
      guint nl = npu_cluster_path (p->cl, rs, rd, links);
      lat = moe_path_latency (p->cl, links, nl);
    }
  NpuTask *t = task (p, owner, row, name, NPU_TASK_COMM, NPU_TRACK_COMM_PLANE, rd);
  npu_task_set_duration (t, extra + lat + npu_time_for_bytes (32, moe_core_write_Bps (p->hw)));
  return t;
}

/* A zero-server wait of @dur (an acknowledgement coming back, a barrier). */
static NpuTask *
wait_task (Plan *p, guint g, gboolean row, const char *name, NpuTime dur)
{
  NpuTask *t = task (p, g, row, name, NPU_TASK_COMM, NPU_TRACK_COMM_GROUP, 0);
  npu_task_set_duration (t, dur);
  return t;
}

static const char *
rname (Plan *p, char *buf, gsize len, const char *fmt, ...) G_GNUC_PRINTF (4, 5);

static const char *
rname (Plan *p, char *buf, gsize len, const char *fmt, ...)
{
  if (p->hide_rows)
    return "row";
  va_list ap;
  va_start (ap, fmt);
  g_vsnprintf (buf, len, fmt, ap);
  va_end (ap);
  return buf;
}

/* ================= dispatch ================= */

typedef struct {
  NpuTask *begin, *sync1, *finish_dep;
  NpuTask **core_last;    /* [aiv] last task of each core's program so far */
  NpuTask **core_ack;     /* [aiv] last acknowledgement of the send loop */
  NpuTask **status_in;    /* [n_blocks] status flows landing here, by status index */
} DRank;

/* Window offset of own row @row of rank @g (the dispatch data region, half 0). */
static guint64
row_win_off (Plan *p, guint g, guint row)
{
  return p->data_base + (guint64) p->l->r[g].row_slot[row] * p->slot_bytes;
}

/* Window slots one source owns at group rank @dg: L blocks of maxBS on a MoE rank, one
 * on a shared-expert rank (win_block = src * L + localExpert, or src). */
static guint64
src_span_slots (Plan *p, guint dg)
{
  guint blocks = p->l->r[dg].n_blocks == p->a->ep ? 1 : p->l->L;
  return (guint64) blocks * p->max_bs;
}

/* The kernel's work on one (token, expert) row before its write, in program order:
 * everything waits for the previous step (the scalar waits with SyncFunc / DeQue), so
 * the steps add up. */
static NpuTime
send_row_cost (Plan *p, guint index, guint token, gboolean routed)
{
  const NpuHw *hw = p->hw;
  const MoeAttrs *a = p->a;
  guint64 hf = (guint64) a->h * 4;     /* the row as fp32 */
  NpuTime t = 0;
  if (routed && index > 0 && token > 0) /* CalTokenSendExpertCnt: Duplicate, Sub, Abs,
                                           Mins, ReduceSum over the `index` earlier ids */
    t += 5 * moe_vec (hw, 4ull * index);
  t += moe_dma_in (hw, (guint64) a->h * npu_dtype_size (a->x_dtype), TRUE); /* x row (in L2) */
  if (a->quant_mode == 2)
    {
      /* QuantProcess: Cast to fp32, Abs, ReduceMaxInplace (a Max whose repeats accumulate
       * into one block, then WholeReduceMax), Muls, Cast to int32, to half, to int8 */
      t += 5 * moe_vec (hw, hf) + moe_vec (hw, (guint64) a->h * 2)
           + moe_vec_chain (hw, (hf + 255) / 256 - 1) + moe_vec (hw, 256);
      if (a->smooth)
        t += moe_dma_in (hw, hf, TRUE) + moe_vec (hw, hf);
    }
  return t;
}

/* Kernel start on one core before its first row: InitWinState (read the 32 B state, then
 * write it back flipped, PipeBarrier<PIPE_ALL>) and the copy of the expertIds. */
static NpuTime
init_cost (Plan *p, guint g)
{
  const NpuHw *hw = p->hw;
  return moe_dma_in (hw, 32, TRUE) + moe_dma_out (hw, 32)
         + moe_dma_in (hw, 4ull * p->a->bs[g] * p->a->k, TRUE);
}

/* Phase 1: every core's send loop. */
static void
dispatch_send (Plan *p, guint g, DRank *dr)
{
  const MoeAttrs *a = p->a;
  const MoeRankLayout *r = &p->l->r[g];
  guint K = a->k, SE = a->shared_experts, H = a->h;
  gsize xs = npu_dtype_size (a->x_dtype);
  guint shared_cores = 0;
  if (a->shared_ranks > 0)
    shared_cores = MAX (a->aiv * SE / (K + SE), 1u);
  guint moe_cores = a->aiv - shared_cores;
  char buf[96];
  for (guint c = 0; c < a->aiv; c++)
    {
      guint start, count;
      const guint *list;
      gboolean routed = c < moe_cores;
      if (routed)
        {
          moe_split (r->n_send, moe_cores, c, &start, &count);
          list = r->send_slot;
        }
      else
        {
          moe_split (r->n_send_shared, shared_cores, c - moe_cores, &start, &count);
          list = r->send_shared;
        }
      NpuTask *init = aiv_task (p, g, c, FALSE, "Init", init_cost (p, g));
      npu_task_depends_on (init, dr->begin);
      NpuTask *prev_c = init, *ack1 = NULL, *ack2 = NULL;
      for (guint i = start; i < start + count; i++)
        {
          guint slot = list[i], t = slot / (K + SE);
          guint d_ep = (guint) r->dst_ep[slot], drow = (guint) r->dst_row[slot];
          guint dg = moe_peer (a, g, d_ep);
          NpuTask *cp = aiv_task (p, g, c, TRUE,
                                  rname (p, buf, sizeof buf, "send row %u (token %u)", i, t),
                                  send_row_cost (p, i, t, routed));
          npu_task_depends_on (cp, prev_c);
          if (ack2 != NULL)  /* two UB buffers: row i waits for row i-2's write */
            npu_task_depends_on (cp, ack2);
          if (i == start)    /* the core reads tokens of x from here on (one check) */
            npu_task_reads (cp, p->d->buf_x[g], 0, (guint64) a->bs[g] * H * xs);
          NpuTask *w = ub_write (p, g, g, dg, TRUE,
                                 rname (p, buf, sizeof buf, "write row -> r%u", rank_of (p, dg)),
                                 p->write_bytes, 0);
          npu_task_depends_on (w, cp);
          if (ack1 != NULL)  /* FillTriple: the previous row's write completed */
            npu_task_depends_on (w, ack1);
          if (p->detail)
            npu_task_writes (w, p->w[dg].win, row_win_off (p, dg, drow), p->slot_bytes);
          NpuTask *ack = w;  /* the write task ends at its acknowledgement */
          ack2 = ack1;
          ack1 = ack;
          prev_c = cp;
        }
      dr->core_last[c] = prev_c;
      dr->core_ack[c] = ack1;
    }
}

/* Phase 2: counts, SyncAll, status writes. */
static void
dispatch_status (Plan *p, guint g, DRank *dr, DRank *all)
{
  const MoeAttrs *a = p->a;
  const NpuHw *hw = p->hw;
  guint W = a->ep, S = a->shared_ranks, L = p->l->L;
  guint total = S + a->moe_experts;
  guint s = g / a->tpn;
  guint entries = p->l->r[g].n_send;
  char buf[96];
  /* coarse hazard regions: the first status to each destination announces this
   * source's whole window span there */
  g_autofree gboolean *announced = p->detail ? NULL : g_new0 (gboolean, a->n);
  NpuTask **counts = g_newa (NpuTask *, a->aiv);
  for (guint c = 0; c < a->aiv; c++)
    {
      guint start, n_e;
      moe_split (total, a->aiv, c, &start, &n_e);
      counts[c] = NULL;
      if (n_e == 0)
        continue;
      counts[c] = aiv_task (p, g, c, FALSE, "SetStatus count",
                            n_e * 5 * moe_vec (hw, 4ull * MAX (entries, 1)));
      npu_task_depends_on (counts[c], dr->core_last[c]);
    }
  dr->sync1 = wait_task (p, g, FALSE, "SyncAll (status)", hw->flag_poll_ps);
  for (guint c = 0; c < a->aiv; c++)
    {
      npu_task_depends_on (dr->sync1, counts[c] != NULL ? counts[c] : dr->core_last[c]);
      if (dr->core_ack[c] != NULL)
        npu_task_depends_on (dr->sync1, dr->core_ack[c]);
    }
  for (guint c = 0; c < a->aiv; c++)
    {
      guint start, n_e;
      moe_split (total, a->aiv, c, &start, &n_e);
      dr->core_last[c] = dr->sync1;
      if (n_e == 0)
        continue;
      /* one 32 B DataCopy per expert, queued in the MTE3 pipe */
      NpuTask *issue = aiv_task (p, g, c, FALSE, "SetStatus write",
                                 moe_dma_out (hw, 32) + (n_e - 1) * moe_dma_out_stream (hw, 32));
      npu_task_depends_on (issue, dr->sync1);
      NpuTime lat_max = 0;
      for (guint x = start; x < start + n_e; x++)
        {
          guint d_ep, idx;
          if (x < S)
            {
              d_ep = x;
              idx = s;
            }
          else
            {
              d_ep = (x - S) / L + S;
              idx = ((x - S) % L) * W + s;
            }
          guint dg = moe_peer (a, g, d_ep);
          NpuTask *f = flag_task (p, g, g, dg, TRUE,
                                  rname (p, buf, sizeof buf, "status -> r%u", rank_of (p, dg)), 0);
          npu_task_depends_on (f, issue);
          lat_max = MAX (lat_max, path_latency (p, g, dg));
          if (p->detail)
            npu_task_writes (f, p->w[dg].state, (guint64) idx * 32, 32);
          else if (!announced[dg])
            {
              /* every row of this source has landed at dg before any of its status
               * writes starts (SyncAll after the acknowledgements), so one status task
               * per (source, destination) stands for the rows' writes */
              announced[dg] = TRUE;
              guint64 span = src_span_slots (p, dg);
              npu_task_writes (f, p->w[dg].win,
                               p->data_base + (guint64) s * span * p->slot_bytes,
                               span * p->slot_bytes);
            }
          g_assert (idx < p->l->r[dg].n_blocks);
          all[dg].status_in[idx] = f;
        }
      /* SyncFunc<MTE3_S>: the core goes on once its status writes are acknowledged */
      NpuTask *ack = aiv_task (p, g, c, FALSE, "SetStatus wait ack",
                               2 * lat_max + hw->gm_write_latency_ps);
      npu_task_depends_on (ack, issue);
      dr->core_last[c] = ack;
    }
}

/* Phases 3-5 on the receiving die. */
static void
dispatch_receive (Plan *p, guint g, DRank *dr)
{
  const MoeAttrs *a = p->a;
  const NpuHw *hw = p->hw;
  const MoeRankLayout *r = &p->l->r[g];
  MoeDispatch *d = p->d;
  guint nb = r->n_blocks;
  guint H = a->h;
  gsize os = npu_dtype_size (a->expand_dtype);
  NpuTask **polls = g_newa (NpuTask *, a->aiv);
  for (guint c = 0; c < a->aiv; c++)
    {
      guint start, n;
      moe_split (nb, a->aiv, c, &start, &n);
      polls[c] = dr->core_last[c];
      if (n == 0)
        continue;
      /* the poll that sees the last status (DataCopy of the n entries + ReduceSum),
       * WaitDispatchClearStatus (Duplicate + DataCopy out), SyncCntOnCore (GatherMask,
       * Sum, Duplicate, the count to the workspace for every core, PipeBarrier<ALL>) */
      NpuTime dur = moe_dma_in (hw, 32ull * n, TRUE) + moe_vec (hw, 32ull * n)
                    + moe_vec (hw, 32ull * n) + moe_dma_out (hw, 32ull * n)
                    + 3 * moe_vec (hw, 32ull * MAX (n, a->aiv))
                    + moe_dma_out (hw, 32ull * a->aiv);
      NpuTask *pt = aiv_task (p, g, c, FALSE, "WaitDispatch", dur);
      npu_task_depends_on (pt, dr->core_last[c]);
      for (guint i = start; i < start + n; i++)
        {
          g_assert (dr->status_in[i] != NULL);
          npu_task_depends_on (pt, dr->status_in[i]);
        }
      if (p->detail)
        {
          npu_task_reads (pt, p->w[g].state, (guint64) start * 32, (guint64) n * 32);
          npu_task_writes (pt, p->w[g].state, (guint64) start * 32, (guint64) n * 32);
        }
      polls[c] = pt;
    }
  NpuTask *sync2 = wait_task (p, g, FALSE, "SyncAll (received)", hw->flag_poll_ps);
  for (guint c = 0; c < a->aiv; c++)
    npu_task_depends_on (sync2, polls[c]);
  NpuTask *last_core_task = sync2;
  guint last_core = MIN (nb, a->aiv) - 1;
  g_autoptr (GPtrArray) copies = g_ptr_array_new ();
  for (guint c = 0; c < a->aiv; c++)
    {
      guint start, n;
      moe_split (nb, a->aiv, c, &start, &n);
      if (n == 0)
        continue;
      guint first = r->blk_first[start], rows = 0;
      for (guint i = start; i < start + n; i++)
        rows += r->blk_count[i];
      /* GetCumSum (the earlier cores' counts from the workspace, GatherMask, Sum),
       * then per row a window read (L2 bypassed: CACHE_MODE_DISABLE, so at the DDR
       * rate) and, in the MTE3 pipe, the triple, the scale and the token (and the TP
       * peer's copy); two UB buffers let row j+1's read run during row j's writes;
       * finally this core's epRecvCounts */
      NpuTime read = moe_dma_in (hw, p->write_bytes, FALSE);
      NpuTime writes = moe_dma_out (hw, 12) + moe_dma_out_stream (hw, (guint64) H * os)
                       + (a->quant_mode == 2 ? moe_dma_out_stream (hw, 4) : 0)
                       + (a->tpn > 1 ? moe_dma_out_stream (hw, p->write_bytes) : 0);
      NpuTime dur = moe_dma_in (hw, 32ull * a->aiv, TRUE) + 3 * moe_vec (hw, 32ull * a->aiv)
                    + (rows > 0 ? read + (rows - 1) * MAX (read, writes) + writes : 0)
                    + moe_dma_out (hw, 4ull * n);
      g_autofree char *name = g_strdup_printf ("LocalWindowCopy rows %u+%u", first, rows);
      NpuTask *k = aiv_task (p, g, c, FALSE, name, dur);
      npu_task_depends_on (k, sync2);
      guint64 lo = G_MAXUINT64, hi = 0;
      for (guint i = start; i < start + n; i++)
        if (r->blk_count[i] > 0)
          {
            guint64 off = row_win_off (p, g, r->blk_first[i]);
            guint64 len = (guint64) r->blk_count[i] * p->slot_bytes;
            if (p->detail)
              npu_task_reads (k, p->w[g].win, off, len);
            lo = MIN (lo, off);
            hi = MAX (hi, off + len);
          }
      if (!p->detail && hi > lo)  /* coarse: the span of the core's blocks */
        npu_task_reads (k, p->w[g].win, lo, hi - lo);
      if (rows > 0)
        {
          npu_task_writes (k, d->buf_expand[g], (guint64) first * H * os, (guint64) rows * H * os);
          npu_task_writes (k, d->buf_meta[g], (guint64) first * 16, (guint64) rows * 16);
        }
      MoeCopyJob *job = g_new0 (MoeCopyJob, 1);
      *job = (MoeCopyJob) { d, g, first, rows, FALSE };
      npu_task_set_effect (k, moe_dispatch_copy_effect, job, g_free);
      g_ptr_array_add (copies, k);
      dr->core_last[c] = k;
      if (c == last_core)
        last_core_task = k;
    }
  dr->finish_dep = last_core_task;
}

/* TP 2: every core sends its rows to the TP peer's window and flags it. */
static void
dispatch_tp_send (Plan *p, guint g, DRank *dr, NpuTask ***tp_flag)
{
  const MoeAttrs *a = p->a;
  const MoeRankLayout *r = &p->l->r[g];
  guint peer = g ^ 1u;
  for (guint c = 0; c < a->aiv; c++)
    {
      guint start, n;
      moe_split (r->n_blocks, a->aiv, c, &start, &n);
      tp_flag[g][c] = NULL;
      if (n == 0)
        continue;
      guint first = r->blk_first[start], rows = 0;
      for (guint i = start; i < start + n; i++)
        rows += r->blk_count[i];
      NpuTask *after = dr->core_last[c];
      if (rows > 0)
        {
          NpuTask *w = ub_write (p, g, g, peer, FALSE, "TP copy -> peer window",
                                 (guint64) rows * p->write_bytes, 0);
          npu_task_depends_on (w, dr->core_last[c]);
          npu_task_writes (w, p->w[peer].tp_win, (guint64) first * p->slot_bytes,
                           (guint64) rows * p->slot_bytes);
          after = w;
        }
      /* PipeBarrier<PIPE_ALL>: the copy is acknowledged before the flag goes */
      NpuTask *f = flag_task (p, g, g, peer, FALSE, "TP status -> peer", 0);
      npu_task_depends_on (f, after);
      npu_task_writes (f, p->w[peer].tp_state, (guint64) c * 512, 32);
      tp_flag[g][c] = f;
      dr->core_last[c] = f;
    }
}

static void
dispatch_tp_gather (Plan *p, guint g, DRank *dr, NpuTask ***tp_flag)
{
  const MoeAttrs *a = p->a;
  const NpuHw *hw = p->hw;
  guint peer = g ^ 1u;
  const MoeRankLayout *rp = &p->l->r[peer];
  const MoeRankLayout *r = &p->l->r[g];
  MoeDispatch *d = p->d;
  gsize os = npu_dtype_size (a->expand_dtype);
  guint last_core = MIN (r->n_blocks, a->aiv) - 1;
  for (guint c = 0; c < a->aiv; c++)
    {
      if (tp_flag[peer][c] == NULL)
        continue;
      guint start, n;
      moe_split (rp->n_blocks, a->aiv, c, &start, &n);
      guint first = rp->blk_first[start], rows = 0;
      for (guint i = start; i < start + n; i++)
        rows += rp->blk_count[i];
      NpuTime read = moe_dma_in (hw, p->write_bytes, TRUE);
      NpuTime writes = moe_dma_out (hw, (guint64) a->h * os)
                       + (a->quant_mode == 2 ? moe_dma_out_stream (hw, 4) : 0);
      NpuTime dur = moe_dma_in (hw, 32, TRUE) + moe_dma_out (hw, 4ull * n)
                    + (rows > 0 ? read + (rows - 1) * MAX (read, writes) + writes : 0);
      g_autofree char *name = g_strdup_printf ("AllgatherProcessOut rows %u+%u", first, rows);
      NpuTask *k = aiv_task (p, g, c, FALSE, name, dur);
      npu_task_depends_on (k, dr->core_last[c]);
      npu_task_depends_on (k, tp_flag[peer][c]);
      npu_task_reads (k, p->w[g].tp_state, (guint64) c * 512, 32);
      if (rows > 0)
        {
          npu_task_reads (k, p->w[g].tp_win, (guint64) first * p->slot_bytes,
                          (guint64) rows * p->slot_bytes);
          npu_task_writes (k, d->buf_expand[g], (guint64) (r->rows_own + first) * a->h * os,
                           (guint64) rows * a->h * os);
          npu_task_writes (k, d->buf_meta[g], (guint64) (r->rows_own + first) * 16,
                           (guint64) rows * 16);
          /* the peer's expandX rows it copied out itself (the same bytes as its window) */
          npu_task_reads (k, d->buf_expand[peer], (guint64) first * a->h * os,
                          (guint64) rows * a->h * os);
        }
      MoeCopyJob *job = g_new0 (MoeCopyJob, 1);
      *job = (MoeCopyJob) { d, g, first, rows, TRUE };
      npu_task_set_effect (k, moe_dispatch_copy_effect, job, g_free);
      dr->core_last[c] = k;
      if (c == last_core)
        dr->finish_dep = k;
    }
}

gboolean
moe_a3_plan_dispatch (MoeDispatch *d, const NpuOpEnv *env, GError **error)
{
  NpuOp *op = &d->b.base;
  Plan p;
  plan_init (&p, d, op, d->half, env);
  const MoeAttrs *a = p.a;
  guint n = a->n;
  DRank *dr = g_new0 (DRank, n);
  for (guint g = 0; g < n; g++)
    {
      dr[g].core_last = g_new0 (NpuTask *, a->aiv);
      dr[g].core_ack = g_new0 (NpuTask *, a->aiv);
      dr[g].status_in = g_new0 (NpuTask *, p.l->r[g].n_blocks);
      dr[g].begin = npu_op_begin (op, env, g, p.hw->kernel_launch_ps);
    }
  /* Program order across ranks follows the kernel's phases, so every window region is
   * written (by tasks created earlier) before it is read. */
  for (guint g = 0; g < n; g++)
    dispatch_send (&p, g, &dr[g]);
  for (guint g = 0; g < n; g++)
    dispatch_status (&p, g, &dr[g], dr);
  for (guint g = 0; g < n; g++)
    dispatch_receive (&p, g, &dr[g]);
  NpuTask ***tp_flag = NULL;
  if (a->tpn > 1)
    {
      tp_flag = g_new0 (NpuTask **, n);
      for (guint g = 0; g < n; g++)
        tp_flag[g] = g_new0 (NpuTask *, a->aiv);
      for (guint g = 0; g < n; g++)
        dispatch_tp_send (&p, g, &dr[g], tp_flag);
      for (guint g = 0; g < n; g++)
        dispatch_tp_gather (&p, g, &dr[g], tp_flag);
    }
  for (guint g = 0; g < n; g++)
    {
      /* UpdateTokenNumsOut on the last core (after a SyncAll when L > 1). */
      guint last_core = MIN (p.l->r[g].n_blocks, a->aiv) - 1;
      /* scalar stores with a cache write-back (DataCacheCleanAndInvalid) each; with
       * several local experts, per expert two scalar loads of epRecvCounts (L2 hits
       * after the invalidate) and one store + write-back */
      const NpuHw *hw = p.hw;
      guint L = p.l->r[g].n_blocks == (guint) a->ep ? 1 : p.l->L;
      NpuTime meta_dur = hw->gm_write_latency_ps;
      if (L > 1)
        meta_dur += hw->l2_hit_latency_ps + hw->gm_write_latency_ps
                    + (L - 1) * (2 * hw->l2_hit_latency_ps + hw->gm_write_latency_ps);
      NpuTask *meta = aiv_task (&p, g, last_core, FALSE, "UpdateTokenNumsOut", meta_dur);
      npu_task_depends_on (meta, dr[g].finish_dep);
      if (p.l->L > 1)
        for (guint c = 0; c < a->aiv; c++)
          npu_task_depends_on (meta, dr[g].core_last[c]);
      guint rows = p.l->r[g].rows;
      npu_task_writes (meta, d->buf_meta[g], (guint64) rows * 16, 4096);
      MoeCopyJob *job = g_new0 (MoeCopyJob, 1);
      *job = (MoeCopyJob) { d, g, 0, 0, FALSE };
      npu_task_set_effect (meta, moe_dispatch_meta_effect, job, g_free);
      g_autoptr (GPtrArray) deps = g_ptr_array_new ();
      g_ptr_array_add (deps, meta);
      for (guint c = 0; c < a->aiv; c++)
        {
          if (dr[g].core_last[c] != NULL)
            g_ptr_array_add (deps, dr[g].core_last[c]);
          if (dr[g].core_ack[c] != NULL)
            g_ptr_array_add (deps, dr[g].core_ack[c]);
        }
      d->done[g] = npu_op_finish (op, env, g, deps);
    }
  for (guint g = 0; g < n; g++)
    {
      g_free (dr[g].core_last);
      g_free (dr[g].core_ack);
      g_free (dr[g].status_in);
      if (tp_flag != NULL)
        g_free (tp_flag[g]);
    }
  g_free (tp_flag);
  g_free (dr);
  (void) error;
  return TRUE;
}

/* ================= combine ================= */

typedef struct {
  NpuTask *begin;
  NpuTask **core_last;   /* [aiv] */
  NpuTask **flag;        /* [n_slots] the flag of each of this rank's token slots */
  NpuTask **tp_flag;     /* [aiv] TP flags sent to the peer */
} CRank;

static guint64
combine_row_bytes (const MoeAttrs *a, guint cq)
{
  if (cq == 2) /* int8 row aligned to 32 B + one fp16/bf16 scale per 8 elements */
    return ((guint64) a->h + 31) / 32 * 32 + (guint64) (a->h + 7) / 8 * 2;
  return (guint64) a->h * npu_dtype_size (a->x_dtype);
}

static guint
combine_src_buffer (MoeCombine *c, guint g)
{
  return c->experts != NULL ? c->experts->buf_y[g] : c->dispatch->buf_expand[g];
}

/* Bytes per row of that buffer (the dispatch's expandX when the experts' output is
 * virtual or absent). */
static guint64
combine_src_row_bytes (MoeCombine *c)
{
  const MoeAttrs *a = &c->dispatch->a;
  gboolean y = c->experts != NULL && c->experts->keep;
  return (guint64) a->h * npu_dtype_size (y ? a->x_dtype : a->expand_dtype);
}

static void
combine_tp (Plan *p, MoeCombine *cb, guint g, CRank *cr)
{
  const MoeAttrs *a = p->a;
  const NpuHw *hw = p->hw;
  guint peer = g ^ 1u;
  guint rows_self = p->l->r[g].rows_own, rows_remote = p->l->r[peer].rows_own;
  guint slot_c = moe_combine_slot_bytes (a, 0);
  guint64 rb = (guint64) a->h * npu_dtype_size (a->x_dtype);
  for (guint c = 0; c < a->aiv; c++)
    {
      cr->tp_flag[c] = NULL;
      if (c >= rows_remote && c >= rows_self)
        continue;
      guint start, n;
      moe_split (rows_remote, a->aiv, c, &start, &n);
      NpuTask *after = cr->begin;
      if (n > 0)
        {
          NpuTask *ld = aiv_task (p, g, c, FALSE, "ReduceScatterTrans load",
                                  moe_dma_in (hw, rb, TRUE)
                                  + (n - 1) * moe_dma_in_stream (hw, rb, TRUE));
          npu_task_depends_on (ld, cr->begin);
          npu_task_reads (ld, combine_src_buffer (cb, g),
                          (guint64) (rows_self + start) * combine_src_row_bytes (cb),
                          (guint64) n * combine_src_row_bytes (cb));
          NpuTask *w = ub_write (p, g, g, peer, FALSE, "ReduceScatterTrans -> peer",
                                 (guint64) n * rb, 0);
          npu_task_depends_on (w, ld);
          npu_task_writes (w, p->w[peer].tp_win, (guint64) start * slot_c,
                           (guint64) n * slot_c);
          after = w;
        }
      NpuTask *f = flag_task (p, g, g, peer, FALSE, "TP status -> peer", 0);
      npu_task_depends_on (f, after);
      npu_task_writes (f, p->w[peer].tp_state, 512ull * 64 + (guint64) c * 512, 32);
      cr->tp_flag[c] = f;
      cr->core_last[c] = f;
    }
}

static void
combine_send (Plan *p, MoeCombine *cb, guint g, CRank *cr, CRank *all)
{
  const MoeAttrs *a = p->a;
  const NpuHw *hw = p->hw;
  const MoeRankLayout *r = &p->l->r[g];
  guint K = a->k, SE = a->shared_experts, H = a->h;
  guint e = g / a->tpn;
  guint peer = g ^ 1u;
  guint slot_c = moe_combine_slot_bytes (a, cb->comm_quant);
  guint64 rb = (guint64) H * npu_dtype_size (a->x_dtype);
  guint64 wb = combine_row_bytes (a, cb->comm_quant);
  /* per row: the expandX row into UB (issued while the MTE3 pipe still works on the
   * previous row, so its latency is hidden when the writes are the bottleneck), plus
   * with TP 2 the peer's partial and CustomAdd (Cast, Cast, Add, Cast), or with
   * commQuantMode 2 Int8QuantProcess (nine instructions over the row) */
  guint64 hf = (guint64) H * 4;
  NpuTime row_cost = moe_dma_in (hw, rb, TRUE);
  if (a->tpn > 1)
    row_cost += moe_dma_in_stream (hw, rb, TRUE) + 4 * moe_vec (hw, hf);
  if (cb->comm_quant == 2)
    row_cost += 9 * moe_vec (hw, hf);
  char buf[96];
  for (guint c = 0; c < a->aiv; c++)
    {
      guint start, n;
      moe_split (r->rows_own, a->aiv, c, &start, &n);
      NpuTask *prev = cr->core_last[c] != NULL ? cr->core_last[c] : cr->begin;
      /* Init: the window state read and flipped, this core's assistInfo triples */
      NpuTask *init = aiv_task (p, g, c, FALSE, "Init",
                                moe_dma_in (hw, 32, TRUE) + moe_dma_out (hw, 32)
                                + (n > 0 ? moe_dma_in (hw, 12ull * n, TRUE) : 0));
      npu_task_depends_on (init, prev);
      prev = init;
      if (a->tpn > 1 && cr->tp_flag[c] != NULL)
        {
          /* wait for the peer's partial rows of this core (its flag) */
          NpuTask *wt = aiv_task (p, g, c, FALSE, "wait TP peer", hw->flag_poll_ps);
          npu_task_depends_on (wt, prev);
          npu_task_depends_on (wt, all[peer].tp_flag[c]);
          npu_task_reads (wt, p->w[g].tp_state, 512ull * 64 + (guint64) c * 512, 32);
          prev = wt;
        }
      NpuTask *ack_prev = NULL, *ack_prev2 = NULL;
      for (guint loop = 0; loop < n; loop++)
        {
          guint row = start + (loop + e) % n;
          guint s = (guint) r->triple[row * 3], t = (guint) r->triple[row * 3 + 1];
          guint j = (guint) r->triple[row * 3 + 2];
          guint sg = moe_peer (a, g, s);
          guint slot = t * (K + SE) + j;
          NpuTask *cp = aiv_task (p, g, c, TRUE,
                                  rname (p, buf, sizeof buf, "combine row %u (r%u token %u)",
                                         row, rank_of (p, sg), t), row_cost);
          npu_task_depends_on (cp, prev);
          if (ack_prev2 != NULL)  /* two UB buffers: row i reuses row i-2's */
            npu_task_depends_on (cp, ack_prev2);
          if (loop == 0)
            {
              /* the core's rows of expandX (and of the TP partials), read from here on */
              npu_task_reads (cp, combine_src_buffer (cb, g),
                              (guint64) start * combine_src_row_bytes (cb),
                              (guint64) n * combine_src_row_bytes (cb));
              if (a->tpn > 1)
                npu_task_reads (cp, p->w[g].tp_win,
                                (guint64) start * moe_combine_slot_bytes (a, 0),
                                (guint64) n * moe_combine_slot_bytes (a, 0));
            }
          NpuTask *w = ub_write (p, g, g, sg, TRUE,
                                 rname (p, buf, sizeof buf, "row -> r%u", rank_of (p, sg)), wb, 0);
          npu_task_depends_on (w, cp);
          if (ack_prev != NULL)  /* PipeBarrier<PIPE_MTE3>: the previous row acknowledged */
            npu_task_depends_on (w, ack_prev);
          /* per row at every scale: rows of many senders interleave in the owner's
           * token-slot layout, so no coarser region has a single writer */
          npu_task_writes (w, p->w[sg].win, (guint64) slot * slot_c, wb);
          NpuTask *ack = w;
          NpuTask *f = flag_task (p, g, g, sg, TRUE, "flag", 0);
          npu_task_depends_on (f, ack);
          if (p->detail)  /* the slot's flag in the half's combine status area */
            npu_task_writes (f, p->w[sg].state, STATE_COMBINE_OFFSET + (guint64) slot * 32, 32);
          all[sg].flag[slot] = f;
          ack_prev2 = ack_prev;
          ack_prev = ack;
          prev = cp;
        }
      cr->core_last[c] = ack_prev != NULL ? ack_prev : prev;
    }
}

static void
combine_reduce (Plan *p, MoeCombine *cb, guint g, CRank *cr, GPtrArray *deps)
{
  const MoeAttrs *a = p->a;
  const NpuHw *hw = p->hw;
  const MoeRankLayout *r = &p->l->r[g];
  guint K = a->k, SE = a->shared_experts, H = a->h;
  guint slot_c = moe_combine_slot_bytes (a, cb->comm_quant);
  guint64 rb = (guint64) H * npu_dtype_size (a->x_dtype);
  guint64 wb = combine_row_bytes (a, cb->comm_quant);
  /* tokens with at least one row (the kernel's active / valid tokens) */
  g_autofree guint *tok = g_new0 (guint, a->bs[g] + 1);
  guint nt = moe_layout_active_tokens (a, p->l, g, tok);
  /* per row: the window row into UB (two buffers: the next row's read runs during this
   * row's vector work) and Cast, Muls, Add over the fp32 row (+ four instructions of
   * Int8DequantProcess for commQuantMode 2) */
  guint64 hf = (guint64) H * 4;
  NpuTime row_in = moe_dma_in_stream (hw, wb, TRUE);
  NpuTime row_vec = 3 * moe_vec (hw, hf) + (cb->comm_quant == 2 ? 4 * moe_vec (hw, hf) : 0);
  char buf[96];
  for (guint c = 0; c < a->aiv; c++)
    {
      guint start, n;
      moe_split (nt, a->aiv, c, &start, &n);
      NpuTask *prev = cr->core_last[c] != NULL ? cr->core_last[c] : cr->begin;
      if (n > 0)
        {
          /* ExpertScaleCopy: this core's expertScales */
          NpuTask *sc = aiv_task (p, g, c, FALSE, "ExpertScaleCopy",
                                  moe_dma_in (hw, 4ull * n * K, TRUE));
          npu_task_depends_on (sc, prev);
          prev = sc;
        }
      for (guint i = start; i < start + n; i++)
        {
          guint t = tok[i], rows = 0;
          for (guint j = 0; j < K + SE; j++)
            rows += r->dst_ep[t * (K + SE) + j] >= 0;
          /* WaitDispatch: the poll that sees the token's last flag (DataCopy of its
           * (K + S) flags, Sum), the flags cleared, the state word; the sum zeroed; the
           * rows (the first read's latency, then the reads stream behind the vector
           * work), the shared-expert x, the Cast back and the row out */
          NpuTime dur = moe_dma_in (hw, 32ull * (K + SE), TRUE) + moe_vec (hw, 32ull * (K + SE))
                        + moe_dma_out (hw, 32ull * (K + SE)) + hw->l2_hit_latency_ps
                        + moe_vec (hw, hf)
                        + (rows > 0 ? hw->gm_read_latency_ps + row_in
                                      + (rows - 1) * MAX (row_in, row_vec) + row_vec : 0)
                        + (cb->shared_x ? moe_dma_in (hw, rb, TRUE) + 2 * moe_vec (hw, hf) : 0)
                        + moe_vec (hw, hf) + moe_dma_out (hw, rb);
          NpuTask *rt = aiv_task (p, g, c, FALSE,
                                  rname (p, buf, sizeof buf, "reduce token %u", t), dur);
          /* a core waits for its own sends first, then serves its tokens in the order
           * their flags complete (the server queue is first come, first served), or,
           * with tokenOrder "index", strictly in token order */
          npu_task_depends_on (rt, prev);
          if (cb->token_in_order)
            prev = rt;
          for (guint j = 0; j < K + SE; j++)
            {
              guint slot = t * (K + SE) + j;
              if (r->dst_ep[slot] < 0)
                continue;
              g_assert (cr->flag[slot] != NULL);
              npu_task_depends_on (rt, cr->flag[slot]);
              if (p->detail)
                npu_task_reads (rt, p->w[g].win, (guint64) slot * slot_c, wb);
            }
          if (!p->detail) /* coarse: the token's K + S slots in one region */
            npu_task_reads (rt, p->w[g].win, (guint64) t * (K + SE) * slot_c,
                            (guint64) (K + SE - 1) * slot_c + wb);
          else
            {
              /* the poll reads the token's K + S flags, then clears them */
              guint64 fo = STATE_COMBINE_OFFSET + (guint64) t * (K + SE) * 32;
              npu_task_reads (rt, p->w[g].state, fo, 32ull * (K + SE));
              npu_task_writes (rt, p->w[g].state, fo, 32ull * (K + SE));
            }
          /* (the flags themselves are the dependencies; the hazard checker guards the
           * rows they announce) */
          npu_task_writes (rt, cb->buf_out[g], (guint64) t * rb, rb);
          MoeReduceJob *job = g_new0 (MoeReduceJob, 1);
          *job = (MoeReduceJob) { cb, g, t };
          npu_task_set_effect (rt, moe_combine_reduce_effect, job, g_free);
          g_ptr_array_add (deps, rt);
        }
      g_ptr_array_add (deps, prev);
    }
}

gboolean
moe_a3_plan_combine (MoeCombine *cb, const NpuOpEnv *env, GError **error)
{
  NpuOp *op = &cb->b.base;
  MoeDispatch *d = cb->dispatch;
  Plan p;
  plan_init (&p, d, op, cb->half, env);
  const MoeAttrs *a = p.a;
  guint n = a->n;
  CRank *cr = g_new0 (CRank, n);
  for (guint g = 0; g < n; g++)
    {
      cr[g].core_last = g_new0 (NpuTask *, a->aiv);
      cr[g].tp_flag = g_new0 (NpuTask *, a->aiv);
      cr[g].flag = g_new0 (NpuTask *, MAX (p.l->r[g].n_slots, 1));
      cr[g].begin = moe_combine_begin (cb, env, g);
    }
  if (a->tpn > 1)
    for (guint g = 0; g < n; g++)
      combine_tp (&p, cb, g, &cr[g]);
  for (guint g = 0; g < n; g++)
    combine_send (&p, cb, g, &cr[g], cr);
  for (guint g = 0; g < n; g++)
    {
      g_autoptr (GPtrArray) deps = g_ptr_array_new ();
      combine_reduce (&p, cb, g, &cr[g], deps);
      npu_op_finish (op, env, g, deps);
    }
  for (guint g = 0; g < n; g++)
    {
      g_free (cr[g].core_last);
      g_free (cr[g].tp_flag);
      g_free (cr[g].flag);
    }
  g_free (cr);
  (void) error;
  return TRUE;
}
