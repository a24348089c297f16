/* npusim — MoeDistributeDispatch / MoeDistributeCombine on A2 (moe_distribute_dispatch_a2.h,
 * moe_distribute_combine_a2.h, the design document's sections 2-3; REFERENCE 4.2 / 5.2):
 * AIV cores prepare, the AICPU moves the data with RDMA batch writes.
 *
 * Dispatch, on every die:
 *  1. IndexSort + ReorderTokens (AIV): every core scans the routing (a pass over the
 *     BS * K list), then the valid (token, k) list is split evenly over the cores; per
 *     row a core loads the token, quantises it (quantMode 2) and writes it into the
 *     WindowsOut region of its destination rank, packed per destination (die-local
 *     DMAs). The last core writes the count array + FLAG1 of every destination.
 *  2. SyncAll, the batch-write descriptors (one per destination), then AIV 0 hands
 *     them to the AICPU (hccl BatchWrite): the AICPU issues one write per destination
 *     rank, one after the other (cost.aicpu_task_issue_us each, the design's 1-2 us):
 *     HCCS to the dies of the same server (an SDMA transfer: cost.sdma_fixed_*,
 *     cost.sdma_task_bw_Bps), RoCE to the other servers (an RDMA write:
 *     cost.rdma_fixed_us, the NIC's bandwidth). Counts, tokens and FLAG2 go in the same
 *     write; the rank's own part is copied locally by the last core.
 *  3. WaitDispatch: the source ranks are split over the cores; a core polls FLAG1 then
 *     FLAG2 of each of its sources (two GM reads per source once the data is in).
 *  4. SyncAll, GetStatusCumSum (epRecvCounts, expertTokenNums on the last core), then
 *     LocalWindowCopy: per local expert, the rows of the core's sources go from the
 *     window into expandX (and dynamicScales, expandScales).
 * Combine: the expert rank packs the rows per token owner into WindowsOut (AIV, split
 * over the owners), the AICPU issues one write per owner, and on the owner the tokens
 * are split over the cores, which wait for all writes and reduce (same arithmetic and
 * order as A3).
 * Hierarchical option (HCCL_INTRA_PCIE_ENABLE=1, HCCL_INTRA_ROCE_ENABLE=0; the layered
 * kernels): across servers a token crosses RoCE once per destination server, to the
 * die of the same local index there (the relay), which forwards its rows over HCCS;
 * combine pre-reduces each token's rows of one server on that server's relay
 * (SumToWindow: fp32 weighted sum, rounded to the token dtype) and the owner adds the
 * servers' partial sums (SumToServer), so crossing RoCE carries one row per token and
 * server instead of one per expert.
 * Durations: the instruction-level costs of moe-cost.c, as in the A3 plans (a vector
 * instruction = cost.vector_instr_us + bytes / die.vector_bytes_per_cycle; a GM -> UB
 * DMA = mem.gm_read_latency_us + bytes at the L2 read rate; UB -> GM =
 * mem.gm_write_latency_us + bytes at the L2 write rate; a scalar load of a flag that
 * another engine wrote = mem.l2_hit_latency_us; two UB buffers overlap one row's read
 * with the previous row's work, see pipelined()). The kernels' scalar loops over UB
 * (IndexSort's count loop, the cumulative sums of GetStatusCumSum) are not costed: the
 * preset has no field for scalar instructions. The AICPU and the links:
 * cost.aicpu_task_issue_us, cost.sdma_*, cost.rdma_fixed_us and the fabric.
 * Windows (moe-window.c): dispatch and combine flip one bufferChosen word, so each op
 * takes the half after the previous EP op's; the batch writes declare their source's
 * region of the destination's half, the receivers' polls, copies and reduces read them
 * (hierarchical: the RDMA half only; the servers' IPC area is single-buffered). */
#include "ops/moe-private.h"
#include <string.h>

typedef struct {
  const NpuOpEnv *env;
  NpuOp *op;
  const NpuHw *hw;
  NpuCluster *cl;
  MoeDispatch *d;
  const MoeAttrs *a;
  const MoeLayout *l;
  guint slot_bytes;
  guint64 xs, os;
  const MoeWindows *w;    /* [n] the buffers of the op's window half */
  guint64 src_bytes;      /* flat: a source's region in a half of windowsIn */
  guint64 server_bytes;   /* hierarchical: a source server's region in a half of the
                             RDMA part of windowsIn */
} A2Plan;

/* Window layout of a half (b122ed222 moe_distribute_dispatch_a2.h / _combine_a2.h):
 * HCCL_BUFFSIZE / 2 minus 1 MB of state, split evenly over the source ranks (32 B
 * aligned); the layered kernels use the first 100 MB for RDMA (halves of 50 MB, 1 MB of
 * state each) split over the source servers, and a shared IPC area behind it that is
 * not double-buffered (its own magic-numbered flags). */
#define A2_STATE_BYTES (1024u * 1024u)
#define A2_RDMA_HALF (50ull * 1024 * 1024)

/* Region of source @src's data in a window half (@bytes clipped to the region). */
static void
src_region (const A2Plan *p, NpuTask *t, guint dst, guint src, guint64 bytes, gboolean write)
{
  guint64 len = MIN (MAX (bytes, 1), p->src_bytes);
  if (write)
    npu_task_writes (t, p->w[dst].win, (guint64) src * p->src_bytes, len);
  else
    npu_task_reads (t, p->w[dst].win, (guint64) src * p->src_bytes, len);
}

/* Hierarchical: region of source server @sv's data in @dst's RDMA half. */
static void
server_region (const A2Plan *p, NpuTask *t, guint dst, guint sv, guint64 bytes, gboolean write)
{
  guint64 len = MIN (MAX (bytes, 1), p->server_bytes);
  if (write)
    npu_task_writes (t, p->w[dst].win, (guint64) sv * p->server_bytes, len);
  else
    npu_task_reads (t, p->w[dst].win, (guint64) sv * p->server_bytes, len);
}

static guint
rank_of (A2Plan *p, guint g)
{
  return npu_op_rank_of (p->op, g);
}

/* @n items through a two-buffer pipeline (SetFlag / WaitFlag on two UB buffers): stage
 * @a of item i + 1 (its read) runs during stage @b of item i, so the items cost
 * a + (n - 1) max(a, b) + b. */
static NpuTime
pipelined (guint64 n, NpuTime a, NpuTime b)
{
  return n == 0 ? 0 : a + (n - 1) * MAX (a, b) + b;
}

static NpuTask *
aiv (A2Plan *p, guint g, guint core, const char *name, NpuTime dur)
{
  NpuTask *t = npu_op_task_new (p->op, p->env, g, name, NPU_TASK_COMPUTE, NPU_TRACK_AIV, core);
  npu_task_set_server (t, npu_cluster_aiv (p->cl, rank_of (p, g), core));
  npu_task_set_duration (t, dur);
  return t;
}

static NpuTask *
barrier (A2Plan *p, guint g, const char *name, NpuTime dur)
{
  NpuTask *t = npu_op_task_new (p->op, p->env, g, name, NPU_TASK_CONTROL, NPU_TRACK_COMM_GROUP, 0);
  npu_task_set_duration (t, dur);
  return t;
}

/* One transfer of @bytes from @src to @dst: an AICPU-issued write (SDMA over HCCS in a
 * server, RDMA over RoCE across servers); @issue_prev chains the AICPU's issues. */
static NpuTask *
transfer (A2Plan *p, guint owner, guint src, guint dst, guint64 bytes, NpuTask **issue_prev,
          NpuTask *after, const char *what)
{
  const NpuHw *hw = p->hw;
  guint rs = rank_of (p, src), rd = rank_of (p, dst);
  gboolean same = npu_cluster_same_server (p->cl, rs, rd);
  g_autofree char *iname = g_strdup_printf ("issue %s -> r%u", what, rd);
  NpuTask *iss = npu_op_task_new (p->op, p->env, owner, iname, NPU_TASK_CONTROL,
                                  NPU_TRACK_AICPU, 0);
  npu_task_set_server (iss, npu_cluster_aicpu (p->cl, rank_of (p, owner), 0));
  npu_task_set_duration (iss, hw->aicpu_task_issue_ps);
  npu_task_depends_on (iss, after);
  if (*issue_prev != NULL)
    npu_task_depends_on (iss, *issue_prev);
  *issue_prev = iss;
  g_autofree char *name = g_strdup_printf ("%s %s r%u->r%u", same ? "SDMA" : "RDMA", what, rs, rd);
  NpuTask *t = npu_op_task_new (p->op, p->env, owner, name, NPU_TASK_COMM,
                                NPU_TRACK_COMM_PLANE, rd);
  guint links[NPU_MAX_PATH];
  guint n = npu_cluster_path (p->cl, rs, rd, links);
  npu_task_set_duration (t, same ? npu_cost_sdma_fixed (hw, bytes) : hw->rdma_fixed_ps);
  npu_task_set_flow (t, links, n, bytes, same ? hw->sdma_task_bw_Bps : hw->rdma_task_bw_Bps);
  npu_task_depends_on (t, iss);
  return t;
}

/* A die-local write of @bytes through an AIV core's MTE (IPC over HCCS for a peer of the
 * same server, used by the hierarchical relays). */
static NpuTask *
ipc_write (A2Plan *p, guint owner, guint core, guint src, guint dst, guint64 bytes,
           NpuTask *after, const char *what)
{
  guint rs = rank_of (p, src), rd = rank_of (p, dst);
  g_autofree char *name = g_strdup_printf ("%s r%u->r%u", what, rs, rd);
  NpuTask *t = npu_op_task_new (p->op, p->env, owner, name, rs == rd ? NPU_TASK_MEMORY
                                : NPU_TASK_COMM, NPU_TRACK_COMM_PLANE, rd);
  guint links[NPU_MAX_PATH];
  guint n = npu_cluster_path (p->cl, rs, rd, links);
  /* the bytes at the core's MTE3 rate over the fabric, then the far write completes */
  npu_task_set_duration (t, p->hw->gm_write_latency_ps);
  npu_task_set_flow (t, links, n, MAX (bytes, 1), moe_core_write_Bps (p->hw));
  npu_task_depends_on (t, after);
  (void) core;
  return t;
}

static void
plan_init (A2Plan *p, MoeDispatch *d, NpuOp *op, guint half, const NpuOpEnv *env)
{
  memset (p, 0, sizeof *p);
  p->env = env;
  p->op = op;
  p->hw = env->hw;
  p->cl = env->cluster;
  p->d = d;
  p->a = &d->a;
  p->l = d->layout;
  p->slot_bytes = moe_win_slot_bytes (p->a);
  p->xs = npu_dtype_size (p->a->x_dtype);
  p->os = npu_dtype_size (p->a->expand_dtype);
  p->w = moe_window_half (d->wg, half);
  guint64 hb = p->a->win_bytes / 2;
  p->src_bytes = MAX ((hb > A2_STATE_BYTES ? hb - A2_STATE_BYTES : hb) / p->a->ep / 32 * 32, 32);
  guint servers = MAX (p->a->servers, 1u);
  p->server_bytes = (A2_RDMA_HALF - A2_STATE_BYTES) / servers / 32 * 32;
}

/* rows source g sends to destination EP rank e (routed entries) */
static guint
rows_to (A2Plan *p, guint g, guint e)
{
  const MoeRankLayout *r = &p->l->r[g];
  guint n = 0;
  for (guint i = 0; i < r->n_slots; i++)
    n += r->dst_ep[i] == (gint32) e;
  return n;
}

/* rows of g for the dies of server @server (hierarchical) */
/* A source's rows to itself: WindowsOut -> WindowsIn row by row on its last core, then
 * FLAG2 (a scalar store). */
static NpuTask *
local_window_copy (A2Plan *p, guint g, NpuTask *after)
{
  const NpuHw *hw = p->hw;
  NpuTask *cp = aiv (p, g, p->a->aiv - 1, "local window copy",
                     pipelined (rows_to (p, g, g), moe_dma_in (hw, p->slot_bytes, TRUE),
                                moe_dma_out_stream (hw, p->slot_bytes))
                     + hw->gm_write_latency_ps);
  npu_task_depends_on (cp, after);
  return cp;
}

static guint
rows_to_server (A2Plan *p, guint g, guint server)
{
  const MoeRankLayout *r = &p->l->r[g];
  guint n = 0;
  for (guint i = 0; i < r->n_slots; i++)
    n += r->dst_ep[i] >= 0
         && npu_cluster_server_of (p->cl, rank_of (p, (guint) r->dst_ep[i])) == server;
  return n;
}

/* distinct tokens of g with a row for a die of server @server (hierarchical) */
static guint
tokens_to_server (A2Plan *p, guint g, guint server)
{
  const MoeAttrs *a = p->a;
  const MoeRankLayout *r = &p->l->r[g];
  guint n = 0, per = a->k + a->shared_experts;
  for (guint t = 0; t < a->bs[g]; t++)
    for (guint j = 0; j < per; j++)
      {
        gint32 e = r->dst_ep[t * per + j];
        if (e >= 0 && npu_cluster_server_of (p->cl, rank_of (p, (guint) e)) == server)
          {
            n++;
            break;
          }
      }
  return n;
}

gboolean
moe_a2_plan_dispatch (MoeDispatch *d, const NpuOpEnv *env, GError **error)
{
  NpuOp *op = &d->b.base;
  A2Plan p;
  plan_init (&p, d, op, d->half, env);
  const MoeAttrs *a = p.a;
  const NpuHw *hw = p.hw;
  guint n = a->n, W = a->ep, H = a->h, L = p.l->L;
  guint per_server = hw->dies_per_server;
  NpuTask **begin = g_new0 (NpuTask *, n);
  NpuTask **sync1 = g_new0 (NpuTask *, n);
  /* arrive[d * n + s]: the task after which source s's data is in d's window */
  NpuTask **arrive = g_new0 (NpuTask *, (gsize) n * n);
  for (guint g = 0; g < n; g++)
    begin[g] = npu_op_begin (op, env, g, hw->kernel_launch_ps);

  /* 1-2: pack and send */
  for (guint g = 0; g < n; g++)
    {
      const MoeRankLayout *r = &p.l->r[g];
      /* IndexSort on every core: the expertIds into UB, Duplicate of the counts and of
       * the W x 32 status matrix (its count loop is scalar, not costed); the last core
       * also writes expandIdx and, per destination, its status row (128 B) and FLAG2 */
      guint64 nk = (guint64) a->bs[g] * a->k;
      NpuTime sort = moe_dma_in (hw, 4 * nk, TRUE) + moe_vec (hw, 4 * nk) + moe_vec (hw, 128ull * W);
      NpuTime sort_last = moe_dma_out (hw, 4 * nk) + W * moe_dma_out_stream (hw, 128 + 4);
      /* ReorderTokens, per (token, expert) row: the token in (L2), then quantMode 0 its
       * copy into WindowsOut (the next row's read overlaps it), quantMode 2 QuantProcess
       * (Cast, Abs, ReduceMax, Muls, three Casts, with smooth scales their row in and a
       * Mul) and the copy, which the next row's vector work waits for (MTE3_V) */
      NpuTime row_in = moe_dma_in (hw, H * p.xs, TRUE);
      guint64 hf = 4ull * H;
      NpuTime row_body = moe_dma_out (hw, p.slot_bytes);
      if (a->quant_mode == 2)
        row_body += 7 * moe_vec (hw, hf) + moe_vec (hw, 256)
                    + (a->smooth ? moe_dma_in (hw, hf, TRUE) + moe_vec (hw, hf) : 0);
      sync1[g] = barrier (&p, g, "SyncAll (packed)", hw->flag_poll_ps);
      for (guint c = 0; c < a->aiv; c++)
        {
          guint start, cnt;
          moe_split (r->n_send, a->aiv, c, &start, &cnt);
          NpuTask *t = aiv (&p, g, c, "IndexSort + ReorderTokens",
                            sort + (c == a->aiv - 1 ? sort_last : 0)
                            + pipelined (cnt, row_in, row_body));
          npu_task_depends_on (t, begin[g]);
          if (c == 0)
            npu_task_reads (t, d->buf_x[g], 0, (guint64) a->bs[g] * H * p.xs);
          npu_task_depends_on (sync1[g], t);
        }
      /* one 32 B descriptor per destination (the cores write theirs in parallel) */
      NpuTask *bw = aiv (&p, g, 0, "BatchWrite descriptors",
                         moe_dma_out (hw, 32ull * ((W + a->aiv - 1) / a->aiv)));
      npu_task_depends_on (bw, sync1[g]);
      NpuTask *issue_prev = NULL;
      guint e = g;  /* tp is 0 on A2: group rank = EP rank */
      if (!a->hierarchical)
        for (guint k = 1; k <= W; k++)
          {
            guint dst = (e + k) % W;  /* staggered, own rank last (local copy) */
            guint64 bytes = 64 + (guint64) rows_to (&p, g, dst) * p.slot_bytes + 4;
            arrive[dst * n + g] = dst == e ? local_window_copy (&p, g, sync1[g])
                                  : transfer (&p, g, g, dst, bytes, &issue_prev, bw, "dispatch");
            /* counts, rows and FLAG2 land in the source's region of dst's half */
            src_region (&p, arrive[dst * n + g], dst, g, bytes, TRUE);
          }
      else
        {
          /* own server directly over HCCS, the other servers through their relay */
          guint my_server = g / per_server;
          for (guint k = 0; k < W; k++)
            {
              guint dst = k;
              if (dst / per_server != my_server)
                continue;
              guint64 bytes = 64 + (guint64) rows_to (&p, g, dst) * p.slot_bytes + 4;
              arrive[dst * n + g] = dst == g ? local_window_copy (&p, g, sync1[g])
                                    : transfer (&p, g, g, dst, bytes, &issue_prev, bw,
                                                "dispatch");
            }
          for (guint s2 = 0; s2 < W / per_server; s2++)
            {
              if (s2 == my_server)
                continue;
              guint relay = s2 * per_server + g % per_server;
              guint64 tb = (guint64) tokens_to_server (&p, g, s2)
                           * (H * p.os + 4 + 4 * ((a->k + 7) / 8 * 8) * 4) + 64;
              NpuTask *x = transfer (&p, g, g, relay, tb, &issue_prev, bw, "dispatch (to relay)");
              /* into the relay's RDMA half, in the region of this server */
              server_region (&p, x, relay, my_server, tb, TRUE);
              /* the relay's AIV forwards the rows over HCCS (IPC) */
              for (guint k = 0; k < per_server; k++)
                {
                  guint dst = s2 * per_server + k;
                  guint64 rb = (guint64) rows_to (&p, g, dst) * p.slot_bytes + 64;
                  arrive[dst * n + g] = ipc_write (&p, relay, 0, relay, dst, rb, x, "forward");
                  server_region (&p, arrive[dst * n + g], relay, my_server, tb, FALSE);
                }
            }
        }
    }

  /* 3-4: wait, copy out, meta */
  g_autofree guint64 *from_bytes = g_new0 (guint64, W);
  for (guint g = 0; g < n; g++)
    {
      const MoeRankLayout *r = &p.l->r[g];
      /* bytes each source wrote into this rank's half (as sent above) */
      for (guint s = 0; s < W; s++)
        {
          guint rows = 0;
          for (guint le = 0; le < L && r->n_blocks == L * W; le++)
            rows += r->blk_count[le * W + s];
          from_bytes[s] = 64 + (guint64) rows * p.slot_bytes + 4;
        }
      NpuTask *sync2 = barrier (&p, g, "SyncAll (received)", hw->flag_poll_ps);
      for (guint c = 0; c < a->aiv; c++)
        {
          guint s0, ns;
          moe_split (W, a->aiv, c, &s0, &ns);
          if (ns == 0)
            {
              npu_task_depends_on (sync2, sync1[g]);
              continue;
            }
          /* the poll that finds each source in: its status row (count array + FLAG1),
           * then its FLAG2 behind the tokens */
          NpuTask *w = aiv (&p, g, c, "WaitDispatch",
                            ns * (moe_dma_in (hw, 128, TRUE) + moe_dma_in (hw, 4, TRUE)));
          npu_task_depends_on (w, sync1[g]);
          for (guint s = s0; s < s0 + ns; s++)
            {
              g_assert (arrive[g * n + s] != NULL);
              npu_task_depends_on (w, arrive[g * n + s]);
              if (!a->hierarchical)  /* the status row and FLAG2 of the source's region */
                src_region (&p, w, g, s, from_bytes[s], FALSE);
            }
          npu_task_depends_on (sync2, w);
        }
      g_autoptr (GPtrArray) ends = g_ptr_array_new ();
      /* GetStatusCumSum on every core: the W status rows in, Add row by row (W
       * dependent instructions), per expert GatherMask + Adds; the last core writes
       * expertTokenNums and epRecvCounts */
      NpuTime cumsum = moe_dma_in (hw, 128ull * W, TRUE) + W * moe_vec (hw, 4ull * L)
                       + 2ull * L * moe_vec (hw, 4ull * W);
      NpuTime outs = moe_dma_out (hw, 8ull * L) + moe_dma_out_stream (hw, 4ull * W * L);
      /* LocalWindowCopy per (source, local expert) block: window row in, expandX row
       * out through two buffers; quantMode 2 fences each row (PipeBarrier<PIPE_ALL>
       * around the scalar read of its scale) and writes the block's scales */
      NpuTime cp_in = moe_dma_in (hw, p.slot_bytes, TRUE);
      NpuTime cp_out = moe_dma_out_stream (hw, (guint64) H * p.os);
      for (guint c = 0; c < a->aiv; c++)
        {
          guint s0, ns;
          moe_split (W, a->aiv, c, &s0, &ns);
          gboolean last = c == a->aiv - 1;
          NpuTask *cs = aiv (&p, g, c, "GetStatusCumSum", cumsum + (last ? outs : 0));
          npu_task_depends_on (cs, sync2);
          if (last)
            {
              npu_task_writes (cs, d->buf_meta[g], (guint64) r->rows * 16, 4096);
              MoeCopyJob *mj = g_new0 (MoeCopyJob, 1);
              *mj = (MoeCopyJob) { d, g, 0, 0, FALSE };
              npu_task_set_effect (cs, moe_dispatch_meta_effect, mj, g_free);
            }
          NpuTask *prev = cs;
          for (guint le = 0; le < L && ns > 0; le++)
            {
              guint first = r->blk_first[le * W + s0], rows = 0;
              NpuTime dur = 0;
              for (guint s = s0; s < s0 + ns; s++)
                {
                  guint b = r->blk_count[le * W + s];
                  rows += b;
                  if (b == 0)
                    continue;
                  dur += a->quant_mode == 2
                         ? b * (moe_dma_in (hw, p.slot_bytes, TRUE)
                                + moe_dma_out (hw, (guint64) H * p.os))
                           + moe_dma_out (hw, 4ull * b)
                         : pipelined (b, cp_in, cp_out) + hw->gm_write_latency_ps;
                }
              if (rows == 0)
                continue;
              g_autofree char *name = g_strdup_printf ("LocalWindowCopy expert %u rows %u+%u",
                                                       le, first, rows);
              NpuTask *k = aiv (&p, g, c, name, dur);
              npu_task_depends_on (k, prev);
              /* the rows of the core's sources in this half (hierarchical: they came
               * through the server's IPC area, which is not double-buffered) */
              for (guint s = s0; s < s0 + ns && !a->hierarchical; s++)
                if (r->blk_count[le * W + s] > 0)
                  src_region (&p, k, g, s, from_bytes[s], FALSE);
              npu_task_writes (k, d->buf_expand[g], (guint64) first * H * p.os,
                               (guint64) rows * H * p.os);
              npu_task_writes (k, d->buf_meta[g], (guint64) first * 16, (guint64) rows * 16);
              MoeCopyJob *job = g_new0 (MoeCopyJob, 1);
              *job = (MoeCopyJob) { d, g, first, rows, FALSE };
              npu_task_set_effect (k, moe_dispatch_copy_effect, job, g_free);
              prev = k;
            }
          g_ptr_array_add (ends, prev);
        }
      d->done[g] = npu_op_finish (op, env, g, ends);
    }
  g_free (begin);
  g_free (sync1);
  g_free (arrive);
  (void) error;
  return TRUE;
}

static guint
combine_src_bytes_row (MoeCombine *c)
{
  const MoeAttrs *a = &c->dispatch->a;
  if (c->comm_quant == 2)
    return (a->h + 31) / 32 * 32 + (a->h + 7) / 8 * 2;
  return a->h * (guint) npu_dtype_size (a->x_dtype);
}

gboolean
moe_a2_plan_combine (MoeCombine *cb, const NpuOpEnv *env, GError **error)
{
  NpuOp *op = &cb->b.base;
  MoeDispatch *d = cb->dispatch;
  A2Plan p;
  plan_init (&p, d, op, cb->half, env);
  const MoeAttrs *a = p.a;
  const NpuHw *hw = p.hw;
  guint n = a->n, W = a->ep, H = a->h, K = a->k, SE = a->shared_experts;
  guint per_server = hw->dies_per_server;
  guint64 rb = combine_src_bytes_row (cb);
  guint64 xb = (guint64) H * p.xs;
  NpuTask **begin = g_new0 (NpuTask *, n);
  NpuTask **arrive = g_new0 (NpuTask *, (gsize) n * n);
  for (guint g = 0; g < n; g++)
    {
      begin[g] = moe_combine_begin (cb, env, g);
    }
  /* rows of expert rank g that belong to owner s */
  for (guint g = 0; g < n; g++)
    {
      const MoeRankLayout *r = &p.l->r[g];
      g_autofree guint *to = g_new0 (guint, W);
      for (guint row = 0; row < r->rows_own; row++)
        to[r->triple[row * 3]]++;
      NpuTask *sync = barrier (&p, g, "SyncAll (reordered)", hw->flag_poll_ps);
      /* ReorderToken (ConstructBatchWriteInfo), per core its owners: the sendCounts in,
       * per owner its rows from expandX into WindowsOut through two buffers (with
       * commQuantMode 2 the nine instructions of Int8QuantProcess per row), then the
       * row count and the tail FLAG (a scalar store with a cache write-back) */
      guint64 hf = 4ull * H;
      NpuTime r_in = moe_dma_in (hw, xb, TRUE);
      NpuTime r_body = moe_dma_out_stream (hw, rb) + (cb->comm_quant == 2 ? 9 * moe_vec (hw, hf) : 0);
      for (guint c = 0; c < a->aiv; c++)
        {
          guint s0, ns;
          moe_split (W, a->aiv, c, &s0, &ns);
          NpuTime dur = ns > 0 ? moe_dma_in (hw, 4ull * a->moe_experts, TRUE) : 0;
          for (guint s = s0; s < s0 + ns; s++)
            dur += pipelined (to[s], r_in, r_body) + moe_dma_out (hw, 4)
                   + hw->gm_write_latency_ps;
          NpuTask *t = aiv (&p, g, c, "ReorderToken", dur);
          npu_task_depends_on (t, begin[g]);
          if (c == 0 && cb->experts != NULL && cb->experts->keep)
            npu_task_reads (t, cb->experts->buf_y[g], 0, MAX ((guint64) r->rows * xb, 1));
          npu_task_depends_on (sync, t);
        }
      NpuTask *issue_prev = NULL;
      guint my_server = g / per_server;
      for (guint k = 1; k <= W; k++)
        {
          guint s = (g + k) % W;
          if (s == g)
            {
              NpuTask *cp = aiv (&p, g, a->aiv - 1, "local window copy",
                                 pipelined (to[s], moe_dma_in (hw, rb, TRUE),
                                            moe_dma_out_stream (hw, rb))
                                 + moe_dma_out (hw, 4) + hw->gm_write_latency_ps);
              npu_task_depends_on (cp, sync);
              if (!a->hierarchical)
                src_region (&p, cp, s, g, (guint64) to[s] * rb + 64, TRUE);
              arrive[s * n + g] = cp;
              continue;
            }
          if (a->hierarchical && s / per_server != my_server)
            {
              /* to the relay of s in this server, which pre-reduces (below) */
              guint relay = my_server * per_server + s % per_server;
              arrive[s * n + g] = ipc_write (&p, g, 0, g, relay, (guint64) to[s] * xb + 64,
                                             sync, "combine (to relay)");
              continue;
            }
          arrive[s * n + g] = transfer (&p, g, g, s, (guint64) to[s] * rb + 64, &issue_prev,
                                        sync, "combine");
          /* the rows and the tail FLAG in this rank's region of the owner's half */
          if (!a->hierarchical)
            src_region (&p, arrive[s * n + g], s, g, (guint64) to[s] * rb + 64, TRUE);
        }
    }
  if (a->hierarchical)
    {
      /* SumToWindow on the relays, then one RoCE write per (relay, owner) */
      for (guint relay = 0; relay < n; relay++)
        {
          guint srv = relay / per_server;
          NpuTask *issue_prev = NULL;
          for (guint s = 0; s < n; s++)
            {
              if (s % per_server != relay % per_server || s / per_server == srv)
                continue;
              /* core sv works for the owner in server sv (SumToWindow: "one core per
               * rank"), using the dispatch's inner reduce tables; per token with rows
               * here: Duplicate, its rows in (two buffers) with Cast, Muls, Add each,
               * the Cast back and the partial sum out */
              guint64 hf = 4ull * H;
              NpuTask *sum = aiv (&p, relay, (s / per_server) % a->aiv, "SumToWindow",
                                  tokens_to_server (&p, s, srv)
                                  * (2 * moe_vec (hw, hf) + moe_dma_out_stream (hw, xb))
                                  + pipelined (rows_to_server (&p, s, srv),
                                               moe_dma_in (hw, xb, TRUE), 3 * moe_vec (hw, hf)));
              for (guint e = srv * per_server; e < (srv + 1) * per_server && e < n; e++)
                npu_task_depends_on (sum, arrive[s * n + e]);
              guint64 pb = (guint64) tokens_to_server (&p, s, srv) * xb + 64;
              NpuTask *x = transfer (&p, relay, relay, s, pb, &issue_prev, sum,
                                     "combine (partial sums)");
              /* into the owner's RDMA half, in the region of this server */
              server_region (&p, x, s, srv, pb, TRUE);
              for (guint e = srv * per_server; e < (srv + 1) * per_server && e < n; e++)
                arrive[s * n + e] = x;
            }
        }
    }
  for (guint g = 0; g < n; g++)
    {
      const MoeRankLayout *r = &p.l->r[g];
      g_autoptr (GPtrArray) ends = g_ptr_array_new ();
      g_autofree guint *tok = g_new0 (guint, a->bs[g] + 1);
      guint nt = moe_layout_active_tokens (a, p.l, g, tok);
      /* rows of this rank's tokens on each expert rank (what that rank sends back) */
      g_autofree guint *rows_from = g_new0 (guint, W);
      for (guint i = 0; i < r->n_slots; i++)
        if (r->dst_ep[i] >= 0)
          rows_from[r->dst_ep[i]]++;
      /* WaitDispatch: each core's share of the sources, per source the tail FLAG read
       * after a cache invalidate (an L2 hit) and cleared (a store + write-back), SyncAll */
      NpuTask *waitall = barrier (&p, g, "wait all sources",
                                  (W + a->aiv - 1) / a->aiv
                                  * (hw->l2_hit_latency_ps + hw->gm_write_latency_ps)
                                  + hw->flag_poll_ps);
      npu_task_depends_on (waitall, begin[g]);
      for (guint s = 0; s < n; s++)
        if (arrive[g * n + s] != NULL)
          npu_task_depends_on (waitall, arrive[g * n + s]);
      /* LocalWindowCopy per token: Duplicate of the fp32 sum, its rows from the window
       * (the next row's read during this row's Cast, Muls, Add; commQuantMode 2 adds the
       * four instructions of Int8DequantProcess), the Cast back and the row out; on the
       * hierarchical path one partial sum per server instead of one row per expert */
      guint64 hf = 4ull * H;
      NpuTime t_in = moe_dma_in (hw, rb, TRUE);
      NpuTime t_vec = 3 * moe_vec (hw, hf) + (cb->comm_quant == 2 ? 4 * moe_vec (hw, hf) : 0);
      for (guint c = 0; c < a->aiv; c++)
        {
          guint start, cnt;
          moe_split (nt, a->aiv, c, &start, &cnt);
          NpuTask *prev = waitall;
          if (cnt > 0)
            {
              /* the tile's expertScales, expandIdx, expertIds and the window offsets */
              NpuTask *ld = aiv (&p, g, c, "load routing tile",
                                 moe_dma_in (hw, 4ull * a->moe_experts, TRUE)
                                 + 3 * moe_dma_in_stream (hw, 4ull * cnt * K, TRUE));
              npu_task_depends_on (ld, prev);
              prev = ld;
            }
          for (guint i = start; i < start + cnt; i++)
            {
              guint t_rows = 0;
              guint64 servers = 0;
              for (guint j = 0; j < K + SE; j++)
                {
                  gint32 e = r->dst_ep[tok[i] * (K + SE) + j];
                  if (e < 0)
                    continue;
                  guint sv = npu_cluster_server_of (p.cl, rank_of (&p, (guint) e));
                  if (!a->hierarchical || sv == g / per_server || !(servers & (1ull << sv)))
                    t_rows++;
                  servers |= 1ull << sv;
                }
              NpuTime tok_cost = moe_vec (hw, hf) + pipelined (t_rows, t_in, t_vec)
                                 + moe_vec (hw, hf) + moe_dma_out (hw, xb);
              g_autofree char *name = g_strdup_printf ("reduce token %u", tok[i]);
              NpuTask *t = aiv (&p, g, c, name, tok_cost);
              npu_task_depends_on (t, prev);
              npu_task_writes (t, cb->buf_out[g], (guint64) tok[i] * xb, xb);
              MoeReduceJob *job = g_new0 (MoeReduceJob, 1);
              *job = (MoeReduceJob) { cb, g, tok[i] };
              npu_task_set_effect (t, moe_combine_reduce_effect, job, g_free);
              prev = t;
            }
          if (cnt > 0)
            {
              /* the core's reads of this half: the regions of the ranks (flat) or servers
               * (hierarchical, partial sums) its tokens' rows came from, declared on its
               * last reduce (it starts after every arrival and ends after its reads) */
              g_autofree gboolean *used = g_new0 (gboolean, W);
              for (guint i = start; i < start + cnt; i++)
                for (guint j = 0; j < K + SE; j++)
                  {
                    gint32 e = r->dst_ep[tok[i] * (K + SE) + j];
                    if (e < 0)
                      continue;
                    guint sv = npu_cluster_server_of (p.cl, rank_of (&p, (guint) e));
                    if (!a->hierarchical)
                      used[e] = TRUE;
                    else if (sv != g / per_server)
                      used[sv] = TRUE;
                  }
              for (guint x = 0; x < W; x++)
                if (used[x] && !a->hierarchical)
                  src_region (&p, prev, g, x, (guint64) rows_from[x] * rb + 64, FALSE);
                else if (used[x])
                  server_region (&p, prev, g, x, (guint64) tokens_to_server (&p, g, x) * xb + 64,
                                 FALSE);
            }
          g_ptr_array_add (ends, prev);
        }
      npu_op_finish (op, env, g, ends);
    }
  g_free (begin);
  g_free (arrive);
  (void) error;
  return TRUE;
}
