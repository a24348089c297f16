/* npusim — HCCL mesh phases and the single-level algorithms (one A2 server, or A3).
 *
 * A mesh phase is HCCL's AlgTemplate body for a full mesh (AllReduceMeshDirect,
 * ReduceScatterPlantLocalReduce::RunAlltoAll, AllGatherMesh): the main stream runs
 * the local copies, then
 *   MainRecordSub / SubWaitMain;  per peer on its slave stream: TxAck, RxAck;
 *   SubRecordMain / MainWaitSub;  MainRecordSub / SubWaitMain;
 *   per peer on its slave stream: the SDMA task, TxDataSignal, RxDataSignal;
 *   SubRecordMain / MainWaitSub;
 * so every peer's SDMA runs at once, each on its own HCCS / UB link. In write mode the
 * rank pushes into the peer's CCL buffer (after the peer's ack said the buffer is
 * free) and its data signal says "your data is there"; in read mode it pulls from the
 * peer's CCL buffer and its data signal says "I am done with your buffer". */
#include "ops/hccl-private.h"

guint64
hccl_slice_size (guint64 total, guint parts, guint64 esize)
{
  guint64 elems = total / esize;
  guint64 per = (elems + parts - 1) / parts * esize;
  return (per + HCCL_SLICE_ALIGN - 1) / HCCL_SLICE_ALIGN * HCCL_SLICE_ALIGN;
}

guint64
hccl_slice_len (guint64 total, guint64 slice, guint i)
{
  guint64 start = slice * i;
  return start >= total ? 0 : MIN (slice, total - start);
}

void
hccl_mesh_phase (HcclPlan *pl, const HcclMeshPhase *ph, gpointer data)
{
  guint n = hccl_plan_op (pl)->geom.n;
  g_autofree guint *peers = g_new0 (guint, n);
  g_autofree guint *subs = g_new0 (guint, n);
  for (guint k = 0; k < n; k++)
    subs[k] = k + 1;
  /* All ranks' local copies first: peers may read them in this phase (creation order
   * is the hazard checker's program order). */
  if (ph->pre != NULL)
    for (guint g = 0; g < n; g++)
      ph->pre (pl, g, data);
  for (guint g = 0; g < n; g++)
    {
      guint np = ph->peers (pl, g, peers, data);
      g_assert (np < n);
      hccl_sync_main_to (pl, g, subs, np);
      for (guint k = 0; k < np; k++)
        {
          hccl_signal (pl, g, subs[k], peers[k], HS_ACK);
          hccl_wait_signal (pl, g, subs[k], peers[k], HS_ACK);
        }
      hccl_sync_to_main (pl, g, subs, np);
      if (ph->anchor)
        hccl_empty_task (pl, g, HCCL_MAIN);
      hccl_sync_main_to (pl, g, subs, np);
      for (guint k = 0; k < np; k++)
        {
          ph->xfer (pl, g, peers[k], subs[k], data);
          hccl_signal (pl, g, subs[k], peers[k], HS_DATA);
          hccl_wait_signal (pl, g, subs[k], peers[k], HS_DATA);
        }
      hccl_sync_to_main (pl, g, subs, np);
    }
  if (ph->post != NULL)
    for (guint g = 0; g < n; g++)
      ph->post (pl, g, data);
  hccl_step_end (pl);
}

void
hccl_tree_reduce (HcclPlan *pl, guint g, guint n_slots, guint64 base, guint64 stride,
                  guint64 bytes)
{
  guint heads[32], counts[32];
  guint rounds = npu_hccl_reduce_tree_steps (n_slots, heads, counts);
  g_autofree guint *subs = g_new0 (guint, MAX (n_slots, 1));
  for (guint r = 0; r < rounds; r++)
    {
      /* The reduce of offset 0 runs on the main stream, the others on local-reduce
       * slave streams, all of one round at once (RunLocalReduce). */
      guint nsub = counts[r] - 1;
      for (guint o = 1; o < counts[r]; o++)
        subs[o - 1] = hccl_plan_lr_stream (pl, o);
      hccl_sync_main_to (pl, g, subs, nsub);
      for (guint o = 0; o < counts[r]; o++)
        {
          HcclPiece p = { base + (guint64) (heads[r] + o) * stride, base + (guint64) o * stride,
                          bytes };
          hccl_xfer (pl, g, o == 0 ? HCCL_MAIN : subs[o - 1], HX_REDUCE, g, HB_CO, g, HB_CO,
                     &p, 1);
        }
      hccl_sync_to_main (pl, g, subs, nsub);
    }
}

/* ---- peers in round order ---- */

/* Write mode: round k talks to g + k (AllReduceMeshDirect::RunReduceScatter). */
static guint
peers_fwd (HcclPlan *pl, guint g, guint *peers, gpointer data)
{
  guint n = hccl_plan_op (pl)->geom.n;
  for (guint k = 1; k < n; k++)
    peers[k - 1] = (g + k) % n;
  return n - 1;
}

/* Read mode: round k talks to g - k (BackwardRank in RunAllGather). */
static guint
peers_bwd (HcclPlan *pl, guint g, guint *peers, gpointer data)
{
  guint n = hccl_plan_op (pl)->geom.n;
  for (guint k = 1; k < n; k++)
    peers[k - 1] = (g + n - k) % n;
  return n - 1;
}

/* ---- AllReduce: RS by all-to-all + local tree reduce, then AG by reads ---- */

typedef struct {
  guint64 o;     /* first element of this loop */
  guint64 c;     /* elements of this loop */
  guint64 slot;  /* bytes of one slice / CCL slot */
} Loop;

static guint64
loop_slice (HcclPlan *pl, const Loop *lp, guint i)
{
  return hccl_slice_len (lp->c * hccl_plan_esize (pl), lp->slot, i);
}

static void
ar_rs_pre (HcclPlan *pl, guint g, gpointer data)
{
  const Loop *lp = data;
  guint64 e = hccl_plan_esize (pl);
  HcclPiece p = { lp->o * e + g * lp->slot, g * lp->slot, loop_slice (pl, lp, g) };
  hccl_xfer (pl, g, HCCL_MAIN, HX_SDMA, g, HB_SEND, g, HB_CO, &p, 1);
}

static void
ar_rs_xfer (HcclPlan *pl, guint g, guint peer, guint s, gpointer data)
{
  const Loop *lp = data;
  guint64 e = hccl_plan_esize (pl);
  HcclPiece p = { lp->o * e + peer * lp->slot, g * lp->slot, loop_slice (pl, lp, peer) };
  hccl_xfer (pl, g, s, HX_SDMA, g, HB_SEND, peer, HB_CO, &p, 1);
}

/* Rank order (embedded MC2 AllReduce, REFERENCE 9.13): slot 0 += slot 1, then slot 2,
 * ..., slot n-1, one local inline reduce after the other on the main stream. */
static void
seq_reduce (HcclPlan *pl, guint g, guint n_slots, guint64 stride, guint64 bytes)
{
  for (guint j = 1; j < n_slots; j++)
    {
      HcclPiece p = { (guint64) j * stride, 0, bytes };
      hccl_xfer (pl, g, HCCL_MAIN, HX_REDUCE, g, HB_CO, g, HB_CO, &p, 1);
    }
}

static void
ar_rs_post (HcclPlan *pl, guint g, gpointer data)
{
  const Loop *lp = data;
  if (hccl_plan_op (pl)->rank_order)
    seq_reduce (pl, g, hccl_plan_op (pl)->geom.n, lp->slot, loop_slice (pl, lp, g));
  else
    hccl_tree_reduce (pl, g, hccl_plan_op (pl)->geom.n, 0, lp->slot, loop_slice (pl, lp, g));
}

static void
ar_ag_pre (HcclPlan *pl, guint g, gpointer data)
{
  const Loop *lp = data;
  guint64 e = hccl_plan_esize (pl);
  HcclPiece p = { 0, lp->o * e + g * lp->slot, loop_slice (pl, lp, g) };
  hccl_xfer (pl, g, HCCL_MAIN, HX_SDMA, g, HB_CO, g, HB_RECV, &p, 1);
}

static void
ar_ag_xfer (HcclPlan *pl, guint g, guint peer, guint s, gpointer data)
{
  const Loop *lp = data;
  guint64 e = hccl_plan_esize (pl);
  HcclPiece p = { 0, lp->o * e + peer * lp->slot, loop_slice (pl, lp, peer) };
  hccl_xfer (pl, g, s, HX_SDMA, peer, HB_CO, g, HB_RECV, &p, 1);
}

/* An AllReduce as loops over chunks of at most @cmax elements, each a reduce-scatter
 * phase @rs then an all-gather phase @ag over n slices of the chunk. */
static void
allreduce_loops (HcclPlan *pl, guint64 cmax, const HcclMeshPhase *rs, const HcclMeshPhase *ag)
{
  const HcclOp *hop = hccl_plan_op (pl);
  guint n = hop->geom.n;
  guint64 e = hccl_plan_esize (pl);
  for (guint64 o = 0; o < hop->count; o += cmax)
    {
      hccl_plan_loop (pl);
      Loop lp = { o, MIN (cmax, hop->count - o), 0 };
      lp.slot = hccl_slice_size (lp.c * e, n, e);
      hccl_mesh_phase (pl, rs, &lp);
      hccl_mesh_phase (pl, ag, &lp);
    }
}

static gboolean
flat_allreduce (HcclPlan *pl, GError **error)
{
  const HcclOp *hop = hccl_plan_op (pl);
  guint n = hop->geom.n;
  guint64 e = hccl_plan_esize (pl);
  /* Per loop the CCL buffer holds n slots of 128-byte-aligned slices. */
  guint64 slot_max = hop->buffer_limit / n / HCCL_SLICE_ALIGN * HCCL_SLICE_ALIGN;
  guint64 cmax = slot_max * n / e;
  if (cmax == 0)
    {
      npu_op_error (error, &hop->base, NPU_OP_ERROR_SCENARIO,
                    "%s: hccl.buffer_bytes %" G_GUINT64_FORMAT " is too small for %u ranks",
                    hop->path, hop->buffer_limit, n);
      return FALSE;
    }
  static const HcclMeshPhase rs = { FALSE, peers_fwd, ar_rs_pre, ar_rs_xfer, ar_rs_post };
  static const HcclMeshPhase ag = { TRUE, peers_bwd, ar_ag_pre, ar_ag_xfer, NULL };
  allreduce_loops (pl, cmax, &rs, &ag);
  return TRUE;
}

/* ---- AllReduce, HCCL's default on one A2 server: AllReduceMeshDirect ----
 *
 * CollAllReduceMeshOpbaseExecutor ("AllReduceMeshOpbaseLoopExecutor", what
 * AllReduceOperator::SelectAlgfor910B picks for one 910B server with
 * HCCL_DETERMINISTIC off and more than 256 KiB): no user <-> CCL staging copies
 * (DMAReduceFlag_), loops of n * HCCL_BUFFSIZE bytes (CalcLoopMaxCount), and the
 * template AllReduceMeshDirect per loop:
 *   RS: own slice sendBuf -> CCL-out[0]; acks; empty task; every peer p gets an SDMA
 *       inline reduce of slice p straight from sendBuf into p's CCL-out[0]; data
 *       signals. The n - 1 inline reduces into one rank's slice run at once.
 *   AG: CCL-out[0] -> own recvBuf slice; acks; empty task; every rank reads each
 *       peer's CCL-out[0] into its recvBuf slice; data signals. */

static void
ari_rs_pre (HcclPlan *pl, guint g, gpointer data)
{
  const Loop *lp = data;
  guint64 e = hccl_plan_esize (pl);
  HcclPiece p = { lp->o * e + g * lp->slot, 0, loop_slice (pl, lp, g) };
  hccl_xfer (pl, g, HCCL_MAIN, HX_SDMA, g, HB_SEND, g, HB_CO, &p, 1);
}

static void
ari_rs_xfer (HcclPlan *pl, guint g, guint peer, guint s, gpointer data)
{
  const Loop *lp = data;
  guint64 e = hccl_plan_esize (pl);
  HcclPiece p = { lp->o * e + peer * lp->slot, 0, loop_slice (pl, lp, peer) };
  hccl_xfer (pl, g, s, HX_ATOMIC, g, HB_SEND, peer, HB_CO, &p, 1);
}

static gboolean
flat_allreduce_inline (HcclPlan *pl, GError **error)
{
  const HcclOp *hop = hccl_plan_op (pl);
  guint n = hop->geom.n;
  guint64 e = hccl_plan_esize (pl);
  /* Per loop every rank's CCL-out holds one slice of HCCL_BUFFSIZE at most. */
  guint64 slot_max = hop->buffer_limit / HCCL_SLICE_ALIGN * HCCL_SLICE_ALIGN;
  guint64 cmax = slot_max / e * n;
  if (cmax == 0)
    {
      npu_op_error (error, &hop->base, NPU_OP_ERROR_SCENARIO,
                    "%s: hccl.buffer_bytes %" G_GUINT64_FORMAT " is too small",
                    hop->path, hop->buffer_limit);
      return FALSE;
    }
  static const HcclMeshPhase rs = { FALSE, peers_fwd, ari_rs_pre, ari_rs_xfer, NULL, TRUE };
  static const HcclMeshPhase ag = { TRUE, peers_bwd, ar_ag_pre, ar_ag_xfer, NULL, TRUE };
  allreduce_loops (pl, cmax, &rs, &ag);
  return TRUE;
}

/* ---- AllGather: copy into CCL-in, every rank reads every peer's CCL-in ---- */

static void
ag_pre (HcclPlan *pl, guint g, gpointer data)
{
  const Loop *lp = data;
  const HcclOp *hop = hccl_plan_op (pl);
  guint64 e = hccl_plan_esize (pl);
  HcclPiece in = { lp->o * e, 0, lp->c * e };
  hccl_xfer (pl, g, HCCL_MAIN, HX_SDMA, g, HB_SEND, g, HB_CI, &in, 1);
  HcclPiece own = { lp->o * e, (g * hop->count + lp->o) * e, lp->c * e };
  hccl_xfer (pl, g, HCCL_MAIN, HX_SDMA, g, HB_SEND, g, HB_RECV, &own, 1);
}

static void
ag_xfer (HcclPlan *pl, guint g, guint peer, guint s, gpointer data)
{
  const Loop *lp = data;
  const HcclOp *hop = hccl_plan_op (pl);
  guint64 e = hccl_plan_esize (pl);
  HcclPiece p = { 0, (peer * hop->count + lp->o) * e, lp->c * e };
  hccl_xfer (pl, g, s, HX_SDMA, peer, HB_CI, g, HB_RECV, &p, 1);
}

static gboolean
flat_allgather (HcclPlan *pl, GError **error)
{
  const HcclOp *hop = hccl_plan_op (pl);
  guint64 e = hccl_plan_esize (pl);
  guint64 cmax = hop->buffer_limit / e;
  if (cmax == 0)
    {
      npu_op_error (error, &hop->base, NPU_OP_ERROR_SCENARIO,
                    "%s: hccl.buffer_bytes %" G_GUINT64_FORMAT " is too small",
                    hop->path, hop->buffer_limit);
      return FALSE;
    }
  static const HcclMeshPhase ph = { TRUE, peers_bwd, ag_pre, ag_xfer, NULL };
  for (guint64 o = 0; o < hop->count; o += cmax)
    {
      hccl_plan_loop (pl);
      Loop lp = { o, MIN (cmax, hop->count - o), 0 };
      hccl_mesh_phase (pl, &ph, &lp);
    }
  return TRUE;
}

/* ---- ReduceScatter: all-to-all into CCL slots, tree reduce, copy out ---- */

static void
rs_pre (HcclPlan *pl, guint g, gpointer data)
{
  const Loop *lp = data;
  const HcclOp *hop = hccl_plan_op (pl);
  guint64 e = hccl_plan_esize (pl);
  HcclPiece p = { (g * hop->count + lp->o) * e, g * lp->slot, lp->c * e };
  hccl_xfer (pl, g, HCCL_MAIN, HX_SDMA, g, HB_SEND, g, HB_CO, &p, 1);
}

static void
rs_xfer (HcclPlan *pl, guint g, guint peer, guint s, gpointer data)
{
  const Loop *lp = data;
  const HcclOp *hop = hccl_plan_op (pl);
  guint64 e = hccl_plan_esize (pl);
  HcclPiece p = { (peer * hop->count + lp->o) * e, g * lp->slot, lp->c * e };
  hccl_xfer (pl, g, s, HX_SDMA, g, HB_SEND, peer, HB_CO, &p, 1);
}

static void
rs_post (HcclPlan *pl, guint g, gpointer data)
{
  const Loop *lp = data;
  const HcclOp *hop = hccl_plan_op (pl);
  guint64 e = hccl_plan_esize (pl);
  hccl_tree_reduce (pl, g, hop->geom.n, 0, lp->slot, lp->c * e);
  HcclPiece p = { 0, lp->o * e, lp->c * e };
  hccl_xfer (pl, g, HCCL_MAIN, HX_SDMA, g, HB_CO, g, HB_RECV, &p, 1);
}

static gboolean
flat_reducescatter (HcclPlan *pl, GError **error)
{
  const HcclOp *hop = hccl_plan_op (pl);
  guint n = hop->geom.n;
  guint64 e = hccl_plan_esize (pl);
  guint64 cmax = hop->buffer_limit / n / e;
  if (cmax == 0)
    {
      npu_op_error (error, &hop->base, NPU_OP_ERROR_SCENARIO,
                    "%s: hccl.buffer_bytes %" G_GUINT64_FORMAT " is too small for %u ranks",
                    hop->path, hop->buffer_limit, n);
      return FALSE;
    }
  static const HcclMeshPhase ph = { FALSE, peers_fwd, rs_pre, rs_xfer, rs_post };
  for (guint64 o = 0; o < hop->count; o += cmax)
    {
      hccl_plan_loop (pl);
      Loop lp = { o, MIN (cmax, hop->count - o), 0 };
      lp.slot = lp.c * e;
      hccl_mesh_phase (pl, &ph, &lp);
    }
  return TRUE;
}

/* ---- AlltoAll(V): copy the outgoing blocks into CCL-in, every rank reads its block
 * from every peer's CCL-in; per loop at most @pm bytes of each (src, dst) block. ---- */

guint64
hccl_a2a_len (HcclPlan *pl, const HcclA2aLoop *lp, guint i, guint j)
{
  const HcclOp *hop = hccl_plan_op (pl);
  guint64 total = hop->counts[(gsize) i * hop->geom.n + j] * hccl_plan_esize (pl);
  return hccl_slice_len (total, lp->pm, (guint) lp->k);
}

static void
a2a_pre (HcclPlan *pl, guint g, gpointer data)
{
  const HcclA2aLoop *lp = data;
  guint n = hccl_plan_op (pl)->geom.n;
  guint64 e = hccl_plan_esize (pl);
  g_autofree HcclPiece *pc = g_new0 (HcclPiece, n);
  guint np = 0;
  for (guint j = 0; j < n; j++)
    if (j != g)
      pc[np++] = (HcclPiece) { lp->sdispl[g * n + j] * e + lp->k * lp->pm, j * lp->pm,
                               hccl_a2a_len (pl, lp, g, j) };
  hccl_xfer (pl, g, HCCL_MAIN, HX_SDMA, g, HB_SEND, g, HB_CI, pc, np);
  HcclPiece own = { lp->sdispl[g * n + g] * e + lp->k * lp->pm,
                    lp->rdispl[g * n + g] * e + lp->k * lp->pm, hccl_a2a_len (pl, lp, g, g) };
  hccl_xfer (pl, g, HCCL_MAIN, HX_SDMA, g, HB_SEND, g, HB_RECV, &own, 1);
}

static void
a2a_xfer (HcclPlan *pl, guint g, guint peer, guint s, gpointer data)
{
  const HcclA2aLoop *lp = data;
  guint n = hccl_plan_op (pl)->geom.n;
  guint64 e = hccl_plan_esize (pl);
  HcclPiece p = { g * lp->pm, lp->rdispl[g * n + peer] * e + lp->k * lp->pm,
                  hccl_a2a_len (pl, lp, peer, g) };
  hccl_xfer (pl, g, s, HX_SDMA, peer, HB_CI, g, HB_RECV, &p, 1);
}

/* Displacements and the per-pair loop size shared by the flat and staged A2A. */
guint64
hccl_a2a_layout (const HcclOp *hop, guint64 **sdispl, guint64 **rdispl, guint64 *pm)
{
  guint n = hop->geom.n;
  gsize e = npu_dtype_size (hop->dtype);
  *sdispl = g_new0 (guint64, (gsize) n * n);
  *rdispl = g_new0 (guint64, (gsize) n * n);
  guint64 maxpair = 0;
  for (guint i = 0; i < n; i++)
    {
      guint64 s = 0;
      for (guint j = 0; j < n; j++)
        {
          (*sdispl)[i * n + j] = s;
          s += hop->counts[(gsize) i * n + j];
          maxpair = MAX (maxpair, hop->counts[(gsize) i * n + j] * e);
        }
    }
  for (guint j = 0; j < n; j++)
    {
      guint64 s = 0;
      for (guint i = 0; i < n; i++)
        {
          (*rdispl)[j * n + i] = s;
          s += hop->counts[(gsize) i * n + j];
        }
    }
  guint64 pmax = hop->buffer_limit / n / HCCL_SLICE_ALIGN * HCCL_SLICE_ALIGN;
  guint64 need = (maxpair + HCCL_SLICE_ALIGN - 1) / HCCL_SLICE_ALIGN * HCCL_SLICE_ALIGN;
  *pm = MAX (MIN (pmax, need), HCCL_SLICE_ALIGN);
  return maxpair == 0 ? 1 : (maxpair + *pm - 1) / *pm;
}

static gboolean
flat_alltoall (HcclPlan *pl, GError **error)
{
  const HcclOp *hop = hccl_plan_op (pl);
  guint n = hop->geom.n;
  if (hop->buffer_limit / n < HCCL_SLICE_ALIGN)
    {
      npu_op_error (error, &hop->base, NPU_OP_ERROR_SCENARIO,
                    "%s: hccl.buffer_bytes %" G_GUINT64_FORMAT " is too small for %u ranks",
                    hop->path, hop->buffer_limit, n);
      return FALSE;
    }
  HcclA2aLoop lp = { 0 };
  guint64 loops = hccl_a2a_layout (hop, &lp.sdispl, &lp.rdispl, &lp.pm);
  static const HcclMeshPhase ph = { TRUE, peers_bwd, a2a_pre, a2a_xfer, NULL };
  for (lp.k = 0; lp.k < loops; lp.k++)
    {
      hccl_plan_loop (pl);
      hccl_mesh_phase (pl, &ph, &lp);
    }
  g_free (lp.sdispl);
  g_free (lp.rdispl);
  return TRUE;
}

/* A group of one rank: HCCL's single-rank executors do one local copy. */
static gboolean
single_rank (HcclPlan *pl)
{
  const HcclOp *hop = hccl_plan_op (pl);
  HcclPiece p = { 0, 0, npu_tensor_nbytes (hop->send[0]) };
  hccl_xfer (pl, 0, HCCL_MAIN, HX_SDMA, 0, HB_SEND, 0, HB_RECV, &p, 1);
  return TRUE;
}

gboolean
hccl_plan_flat (HcclPlan *pl, GError **error)
{
  const HcclOp *hop = hccl_plan_op (pl);
  if (hop->geom.n == 1)
    return single_rank (pl);
  switch (hop->kind)
    {
    case HCCL_AR:
      return hccl_ar_inline (hop) ? flat_allreduce_inline (pl, error)
                                  : flat_allreduce (pl, error);
    case HCCL_AG:
      return flat_allgather (pl, error);
    case HCCL_RS:
      return flat_reducescatter (pl, error);
    default:
      return flat_alltoall (pl, error);
    }
}
