/* npusim — the per-expert AlltoAllV of GroupedMatMulAlltoAllv, as HCCL's AICPU
 * server runs it on A3 (REFERENCE §3.2: hccl_.AlltoAllV<commit>, "ai_cpu" mode; the
 * kernel's HCCL config "AlltoAll=level0:fullmesh").
 *
 * The structure is the A3 full-mesh AlltoAll(V) of docs/ops/hccl.md (the scenario
 * collectives, ops/hccl-mesh.c), with the kernel's offsets
 * (GroupedMatmulAlltoAllv::HcclAlltoAllvPrepare): the send blocks of expert j are
 * its rows in the gmmY workspace, destination-rank order; the block from rank s lands
 * in y at the rows of (s, j) in source-rank-major, expert-minor order. Per loop
 * (at most `pm` bytes of every (src, dst) block, pm = the CCL-in slot):
 *   main: one multi-piece SDMA copy of the outgoing blocks into the rank's CCL-in
 *         slots (slot d for rank d), one local SDMA copy of its own block into y;
 *   MainRecordSub / SubWaitMain; per peer p = g-1, g-2, ... on slave stream k:
 *   TxAck, RxAck ("my CCL-in holds your block"); SubRecordMain / MainWaitSub;
 *   MainRecordSub / SubWaitMain; per peer: SDMA read of slot g of p's CCL-in into y,
 *   TxDataSignal, RxDataSignal ("I am done with your buffer"); SubRecordMain /
 *   MainWaitSub.
 * Every task is issued in program order by the rank's AICPU 0
 * (cost.aicpu_task_issue_us each) and runs on its stream once issued and once the
 * stream's previous task has ended (AI_CPU expansion mode). The AICPU takes a
 * collective up once AIV 0 has committed it and it has issued the previous one;
 * consecutive experts reuse the CCL-in after the peers' "done" signals. */
#include "ops/gmm-private.h"
#include "ops/hccl.h"
#include <string.h>

#define SLICE_ALIGN 128u   /* HCCL_MIN_SLICE_ALIGN, as ops/hccl-private.h */
#define MAIN 0u

typedef enum { CB_GMM_OUT, CB_CCL, CB_Y } CommBuf;
typedef enum { SIG_ACK, SIG_DATA, SIG_N } Sig;

typedef struct {
  guint rank;
  NpuServer *aicpu;
  NpuTask *issue_last;
  NpuTask **last;          /* [n] 0 = main, k = slave stream of round k */
  guint ccl_buf;
  guint8 *ccl;             /* data mode */
  guint8 *gmm_out, *y;
  guint64 gmm_out_size, y_size;
  GmmCommBuffers b;
  guint64 tiles_lo, tiles_hi; /* of the expert being planned */
} CRank;

struct _GmmComm {
  GmmOp *op;
  const NpuOpEnv *env;
  const NpuHw *hw;
  NpuCluster *cluster;
  guint n;
  gsize esize;
  guint64 pm;              /* bytes of one CCL-in slot (per pair, per loop) */
  guint expert;            /* the expert being planned (trace args) */
  CRank *r;
  NpuHcclNotify *notify;   /* the ack / data handshakes of the current step */
};

/* Largest (src, dst) block of any expert, bytes. */
static guint64
max_pair_bytes (const GmmOp *op)
{
  guint64 m = 0;
  for (guint g = 0; g < op->n; g++)
    for (guint r = 0; r < op->n; r++)
      for (gint64 j = 0; j < op->e; j++)
        m = MAX (m, (guint64) gmm_send (op, g, r, (guint) j));
  return m * (guint64) op->n1 * npu_dtype_size (op->dtype);
}

/* The CCL-in slot: the largest block rounded up to 128 B, at most HCCL_BUFFSIZE / n
 * (larger blocks loop, as hccl_a2a_layout does). */
static guint64
slot_bytes (const GmmOp *op, guint64 buffer_limit)
{
  guint64 need = (max_pair_bytes (op) + SLICE_ALIGN - 1) / SLICE_ALIGN * SLICE_ALIGN;
  guint64 pmax = buffer_limit / op->n / SLICE_ALIGN * SLICE_ALIGN;
  return MAX (MIN (pmax, need), SLICE_ALIGN);
}

guint64
gmm_comm_ccl_bytes (const GmmOp *op, guint64 buffer_limit)
{
  return slot_bytes (op, buffer_limit) * op->n;
}

GmmComm *
gmm_comm_new (GmmOp *op, const NpuOpEnv *env, const GmmCommBuffers *bufs, GError **error)
{
  if (env->hw->hccl_buffer_bytes / op->n < SLICE_ALIGN)
    {
      npu_op_error (error, &op->base, NPU_OP_ERROR_SCENARIO,
                    "%s: hccl.buffer_bytes %" G_GUINT64_FORMAT " is too small for %u ranks",
                    op->path, env->hw->hccl_buffer_bytes, op->n);
      return NULL;
    }
  GmmComm *c = g_new0 (GmmComm, 1);
  c->op = op;
  c->env = env;
  c->hw = env->hw;
  c->cluster = env->cluster;
  c->n = op->n;
  c->esize = npu_dtype_size (op->dtype);
  c->pm = slot_bytes (op, env->hw->hccl_buffer_bytes);
  c->r = g_new0 (CRank, c->n);
  c->notify = npu_hccl_notify_new (c->n, SIG_N);
  guint64 ccl_size = c->pm * c->n;
  for (guint g = 0; g < c->n; g++)
    {
      CRank *r = &c->r[g];
      r->rank = npu_op_rank_of (&op->base, g);
      r->aicpu = npu_cluster_aicpu (c->cluster, r->rank, 0);
      r->last = g_new0 (NpuTask *, c->n);
      r->b = bufs[g];
      g_autofree char *name = g_strdup_printf ("r%u.%s.cclIn", r->rank, op->base.name);
      r->ccl_buf = npu_graph_add_buffer (env->graph, name, ccl_size);
      if (env->data_mode)
        {
          /* owned by the op: the copies' effects use it during the run */
          if (op->ccl == NULL)
            op->ccl = g_new0 (guint8 *, c->n);
          r->ccl = op->ccl[g] = g_try_malloc0 (ccl_size);
          if (r->ccl == NULL)
            {
              npu_op_error (error, &op->base, NPU_OP_ERROR_SCENARIO,
                            "%s: cannot allocate the CCL buffer (%" G_GUINT64_FORMAT
                            " bytes per rank)", op->path, ccl_size);
              gmm_comm_free (c);
              return NULL;
            }
        }
      r->gmm_out = op->gmm_out != NULL ? op->gmm_out[g] : NULL;
      r->gmm_out_size = op->rows[g] * (guint64) op->n1 * c->esize;
      r->y = npu_tensor_data (op->t[GT_Y][g]);
      r->y_size = npu_tensor_nbytes (op->t[GT_Y][g]);
    }
  return c;
}

void
gmm_comm_free (GmmComm *c)
{
  if (c == NULL)
    return;
  for (guint g = 0; g < c->n; g++)
    g_free (c->r[g].last);
  g_free (c->r);
  npu_hccl_notify_free (c->notify);
  g_free (c);
}

/* ---- tasks ---- */

static NpuTask *
plan_task (GmmComm *c, guint g, guint s, const char *name, NpuTaskClass cls,
           NpuTrackKind kind, guint index)
{
  CRank *r = &c->r[g];
  NpuOp *op = &c->op->base;
  g_autofree char *iname = g_strdup_printf ("issue %s", name);
  NpuTask *issue = npu_op_task_new (op, c->env, g, iname, NPU_TASK_CONTROL, NPU_TRACK_AICPU, 0);
  npu_task_set_server (issue, r->aicpu);
  npu_task_set_duration (issue, c->hw->aicpu_task_issue_ps);
  npu_task_depends_on (issue, r->issue_last);
  r->issue_last = issue;
  NpuTask *t = npu_op_task_new (op, c->env, g, name, cls, kind, index);
  npu_task_depends_on (t, issue);
  if (r->last[s] != NULL)
    npu_task_depends_on (t, r->last[s]);
  r->last[s] = t;
  return t;
}

static NpuTask *
record_local (GmmComm *c, guint g, guint s)
{
  NpuTask *t = plan_task (c, g, s, "Notify_Record", NPU_TASK_COMM, NPU_TRACK_COMM_GROUP, 0);
  npu_task_set_duration (t, c->hw->notify_record_local_ps);
  return t;
}

static void
wait_local (GmmComm *c, guint g, guint s, NpuTask *record)
{
  NpuTask *t = plan_task (c, g, s, "Notify_Wait", NPU_TASK_COMM, NPU_TRACK_COMM_GROUP, 0);
  npu_task_set_duration (t, c->hw->notify_wait_ps);
  npu_task_depends_on (t, record);
}

/* MainRecordSub / SubWaitMain (@to_subs) or SubRecordMain / MainWaitSub. */
static void
sync_main (GmmComm *c, guint g, guint np, gboolean to_subs)
{
  g_autofree NpuTask **rec = g_new0 (NpuTask *, MAX (np, 1));
  for (guint k = 0; k < np; k++)
    rec[k] = record_local (c, g, to_subs ? MAIN : k + 1);
  for (guint k = 0; k < np; k++)
    wait_local (c, g, to_subs ? k + 1 : MAIN, rec[k]);
}

static void
signal_peer (GmmComm *c, guint g, guint s, guint peer, Sig kind)
{
  g_autofree char *name = g_strdup_printf ("Notify_Record %s r%u->r%u",
                                           kind == SIG_ACK ? "ack" : "data", c->r[g].rank,
                                           c->r[peer].rank);
  NpuTask *t = plan_task (c, g, s, name, NPU_TASK_COMM, NPU_TRACK_COMM_GROUP, 0);
  npu_task_set_duration (t, c->hw->notify_record_ps);
  npu_hccl_notify_record (c->notify, g, peer, kind, t);
}

static void
wait_peer (GmmComm *c, guint g, guint s, guint peer, Sig kind)
{
  g_autofree char *name = g_strdup_printf ("Notify_Wait %s r%u", kind == SIG_ACK ? "ack" : "data",
                                           c->r[peer].rank);
  NpuTask *t = plan_task (c, g, s, name, NPU_TASK_COMM, NPU_TRACK_COMM_GROUP, 0);
  npu_task_set_duration (t, c->hw->notify_wait_ps);
  npu_hccl_notify_wait (c->notify, peer, g, kind, t);
}

typedef struct {
  guint64 src_off, dst_off, bytes;
} Piece;

typedef struct {
  guint8 *dst;
  const guint8 *src;
  guint64 bytes;
} Seg;

typedef struct {
  guint n;
  Seg seg[];
} Copy;

static gboolean
copy_effect (gpointer data, GError **error)
{
  Copy *cp = data;
  for (guint i = 0; i < cp->n; i++)
    memmove (cp->seg[i].dst, cp->seg[i].src, cp->seg[i].bytes);
  return TRUE;
}

static guint8 *
buf_data (CRank *r, CommBuf b)
{
  return b == CB_GMM_OUT ? r->gmm_out : b == CB_CCL ? r->ccl : r->y;
}

static guint64
buf_size (GmmComm *c, CRank *r, CommBuf b)
{
  return b == CB_GMM_OUT ? r->gmm_out_size : b == CB_CCL ? c->pm * c->n : r->y_size;
}

static const char *const buf_names[] = { "gmmY workspace", "cclIn", "y" };

/* An SDMA task on stream @s of @g moving @pieces from (@src_g, @sb) to (@dst_g, @db):
 * over UB/SIO between ranks, a die-local copy when @src_g == @dst_g. NULL if empty. */
static NpuTask *
xfer (GmmComm *c, guint g, guint s, guint src_g, CommBuf sb, guint dst_g, CommBuf db,
      const Piece *pieces, guint n_pieces)
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
  CRank *rs = &c->r[src_g], *rd = &c->r[dst_g];
  gboolean local = src_g == dst_g;
  guint other = g == src_g ? dst_g : src_g;
  g_autofree char *name = local ? g_strdup_printf ("Memcpy r%u", rs->rank)
                                : g_strdup_printf ("Memcpy r%u->r%u", rs->rank, rd->rank);
  NpuTask *t = plan_task (c, g, s, name, local ? NPU_TASK_MEMORY : NPU_TASK_COMM,
                          NPU_TRACK_COMM_PLANE, c->r[other].rank);
  guint links[NPU_MAX_PATH];
  guint n_links = npu_cluster_path (c->cluster, rs->rank, rd->rank, links);
  npu_task_set_duration (t, npu_cost_sdma_fixed (c->hw, total));
  npu_task_set_flow (t, links, n_links, total,
                     local ? c->hw->local_copy_bw_Bps : c->hw->sdma_task_bw_Bps);
  if (c->env->trace_level >= NPU_TRACE_TASK)
    {
      g_autofree char *args = g_strdup_printf ("{\"expert\":%u,\"bytes\":%" G_GUINT64_FORMAT
                                               ",\"pieces\":%u,\"src\":\"%s\",\"dst\":\"%s\"}",
                                               c->expert, total, n_live, buf_names[sb],
                                               buf_names[db]);
      npu_task_set_args (t, args);
    }
  gboolean data = buf_data (rs, sb) != NULL && buf_data (rd, db) != NULL;
  Copy *cp = data ? g_malloc0 (sizeof (Copy) + sizeof (Seg) * n_live) : NULL;
  if (sb == CB_GMM_OUT && rs->tiles_hi > rs->tiles_lo)
    npu_task_reads (t, rs->b.tiles_buf, rs->tiles_lo, rs->tiles_hi - rs->tiles_lo);
  for (guint i = 0; i < n_pieces; i++)
    {
      const Piece *p = &pieces[i];
      if (p->bytes == 0)
        continue;
      g_assert (p->src_off + p->bytes <= buf_size (c, rs, sb));
      g_assert (p->dst_off + p->bytes <= buf_size (c, rd, db));
      if (sb == CB_CCL)
        npu_task_reads (t, rs->ccl_buf, p->src_off, p->bytes);
      npu_task_writes (t, db == CB_CCL ? rd->ccl_buf : rd->b.y_buf, p->dst_off, p->bytes);
      if (cp != NULL)
        cp->seg[cp->n++] = (Seg) { buf_data (rd, db) + p->dst_off,
                                   buf_data (rs, sb) + p->src_off, p->bytes };
    }
  if (cp != NULL)
    npu_task_set_effect (t, copy_effect, cp, g_free);
  return t;
}

/* ---- one expert ---- */

/* Row offset of rank @g's block for destination @d inside expert @j's group. */
static guint64
send_row (const GmmComm *c, guint g, guint d, guint j)
{
  guint64 rows = c->op->expert_row0[g][j];
  for (guint r = 0; r < d; r++)
    rows += (guint64) gmm_send (c->op, g, r, j);
  return rows;
}

/* Row of y on rank @d where the block from rank @s, expert @j starts: rank-major,
 * expert-minor over d's recvCounts (HcclAlltoAllvPrepare's recvOffset). */
static guint64
recv_row (const GmmComm *c, guint d, guint s, guint j)
{
  guint64 rows = 0;
  guint64 upto = (guint64) s * c->op->e + j;
  for (guint64 i = 0; i < upto; i++)
    rows += (guint64) c->op->recv[d][i];
  return rows;
}

static guint64
slice (guint64 total, guint64 pm, guint64 k)
{
  guint64 start = pm * k;
  return start >= total ? 0 : MIN (pm, total - start);
}

void
gmm_comm_expert (GmmComm *c, guint j, NpuTask *const *commit, const guint64 *tiles_lo,
                 const guint64 *tiles_hi, NpuTask **done)
{
  guint n = c->n;
  guint64 row_bytes = (guint64) c->op->n1 * c->esize;
  guint64 maxpair = 0;
  c->expert = j;
  for (guint g = 0; g < n; g++)
    {
      CRank *r = &c->r[g];
      r->tiles_lo = tiles_lo[g];
      r->tiles_hi = tiles_hi[g];
      for (guint d = 0; d < n; d++)
        maxpair = MAX (maxpair, (guint64) gmm_send (c->op, g, d, j) * row_bytes);
      /* The AICPU takes the collective up once committed and after the previous one. */
      NpuTask *gate = npu_graph_task_new (c->env->graph, "HCCL commit");
      npu_task_set_hidden (gate);
      npu_task_depends_on (gate, commit[g]);
      if (r->issue_last != NULL)
        npu_task_depends_on (gate, r->issue_last);
      r->issue_last = gate;
    }
  guint64 loops = maxpair == 0 ? 1 : (maxpair + c->pm - 1) / c->pm;
  g_autofree Piece *pc = g_new0 (Piece, n);
  for (guint64 k = 0; k < loops; k++)
    {
      /* Every rank's local copies first: peers read them in this step (creation order
       * is the hazard checker's program order). */
      for (guint g = 0; g < n; g++)
        {
          guint np = 0;
          for (guint d = 0; d < n; d++)
            if (d != g)
              {
                guint64 bytes = (guint64) gmm_send (c->op, g, d, j) * row_bytes;
                pc[np++] = (Piece) { send_row (c, g, d, j) * row_bytes + k * c->pm,
                                     d * c->pm, slice (bytes, c->pm, k) };
              }
          xfer (c, g, MAIN, g, CB_GMM_OUT, g, CB_CCL, pc, np);
          guint64 own = (guint64) gmm_send (c->op, g, g, j) * row_bytes;
          Piece p = { send_row (c, g, g, j) * row_bytes + k * c->pm,
                      recv_row (c, g, g, j) * row_bytes + k * c->pm, slice (own, c->pm, k) };
          xfer (c, g, MAIN, g, CB_GMM_OUT, g, CB_Y, &p, 1);
        }
      for (guint g = 0; g < n; g++)
        {
          guint np = n - 1;
          sync_main (c, g, np, TRUE);
          for (guint k2 = 1; k2 < n; k2++)
            {
              guint peer = (g + n - k2) % n;
              signal_peer (c, g, k2, peer, SIG_ACK);
              wait_peer (c, g, k2, peer, SIG_ACK);
            }
          sync_main (c, g, np, FALSE);
          sync_main (c, g, np, TRUE);
          for (guint k2 = 1; k2 < n; k2++)
            {
              guint peer = (g + n - k2) % n;
              guint64 bytes = (guint64) gmm_send (c->op, peer, g, j) * row_bytes;
              Piece p = { (guint64) g * c->pm, recv_row (c, g, peer, j) * row_bytes + k * c->pm,
                          slice (bytes, c->pm, k) };
              xfer (c, g, k2, peer, CB_CCL, g, CB_Y, &p, 1);
              signal_peer (c, g, k2, peer, SIG_DATA);
              wait_peer (c, g, k2, peer, SIG_DATA);
            }
          sync_main (c, g, np, FALSE);
        }
      npu_hccl_notify_step_end (c->notify);
    }
  for (guint g = 0; g < n; g++)
    {
      CRank *r = &c->r[g];
      NpuTask *end = npu_graph_task_new (c->env->graph, "AlltoAllV end");
      npu_task_set_hidden (end);
      for (guint s = 0; s < n; s++)
        if (r->last[s] != NULL)
          npu_task_depends_on (end, r->last[s]);
      npu_task_depends_on (end, r->issue_last);
      done[g] = end;
    }
}
