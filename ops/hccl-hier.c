/* npusim — HCCL on several A2 servers: the hierarchical algorithms.
 *
 * Level 0 is the in-server mesh (hccl-mesh.c phases among the members of one server),
 * level 1 the ranks with the same in-server index on every server, connected over
 * RoCE (RDMA tasks on the main stream):
 *   AllReduce:     in-server RS (all-to-all + tree reduce) -> inter-server RS + AG
 *                  (ring or NHR) on the rank's slice -> in-server AG
 *                  (CollAllReduceMeshOpbaseMidCountDeterministicExecutor)
 *   AllGather:     in-server AG -> inter-server AG of whole server blocks
 *                  (CollAllGatherMeshExecutor)
 *   ReduceScatter: in-server RS of the blocks of every server -> inter-server RS
 *                  (in-server first, so the sum order is in-server then server order,
 *                  the same as AllReduce's)
 *   AlltoAll(V):   in-server regrouping by destination in-server index, then pairwise
 *                  exchange over RoCE (RunAlltoAllVStaged)
 * Inter-server ring / NHR step schedules follow hcomm's templates
 * (reduce_scatter_ring / all_gather_ring, ReduceScatterNHR / AllGatherNHR::GetStepInfo
 * with the identity slice map). */
#include "ops/hccl-private.h"

/* ---- inter-server schedules ---- */

static guint
ceil_log2 (guint m)
{
  guint s = 0;
  while ((1u << s) < m)
    s++;
  return s;
}

guint
hccl_inter_steps (HcclAlgo algo, guint m)
{
  return algo == HCCL_ALGO_NHR ? ceil_log2 (m) : m - 1;
}

static guint
wrap (gint64 x, guint m)
{
  return (guint) (((x % (gint64) m) + m) % m);
}

void
hccl_inter_rs_step (HcclAlgo algo, guint r, guint m, guint st, HcclStep *out)
{
  if (algo != HCCL_ALGO_NHR)
    {
      /* Ring: send the partial sum of chunk r-st-1 to r+1, add chunk r-st-2 from r-1;
       * after m-1 steps rank r holds chunk r. */
      out->to = wrap ((gint64) r + 1, m);
      out->from = wrap ((gint64) r - 1, m);
      out->n = 1;
      out->tx[0] = wrap ((gint64) r - st - 1, m);
      out->rx[0] = wrap ((gint64) r - st - 2, m);
      return;
    }
  guint delta = 1u << st;
  out->to = wrap ((gint64) r - delta, m);
  out->from = wrap ((gint64) r + delta, m);
  out->n = (m - 1 + delta) / (2 * delta);
  g_assert (out->n <= G_N_ELEMENTS (out->tx));
  gint64 tx = out->to, rx = r;
  for (guint i = 0; i < out->n; i++)
    {
      out->tx[i] = wrap (tx, m);
      out->rx[i] = wrap (rx, m);
      tx -= 2 * delta;
      rx -= 2 * delta;
    }
}

void
hccl_inter_ag_step (HcclAlgo algo, guint r, guint m, guint st, HcclStep *out)
{
  if (algo != HCCL_ALGO_NHR)
    {
      out->to = wrap ((gint64) r + 1, m);
      out->from = wrap ((gint64) r - 1, m);
      out->n = 1;
      out->tx[0] = wrap ((gint64) r - st, m);
      out->rx[0] = wrap ((gint64) r - st - 1, m);
      return;
    }
  guint steps = ceil_log2 (m);
  guint delta = 1u << (steps - 1 - st);
  guint dslice = 1u << (steps - st);
  out->to = wrap ((gint64) r + delta, m);
  out->from = wrap ((gint64) r - delta, m);
  out->n = (m - 1 + delta) / dslice;
  g_assert (out->n <= G_N_ELEMENTS (out->tx));
  gint64 tx = r, rx = (gint64) r - delta;
  for (guint i = 0; i < out->n; i++)
    {
      out->tx[i] = wrap (tx, m);
      out->rx[i] = wrap (rx, m);
      tx -= dslice;
      rx -= dslice;
    }
}

/* ---- the inter-server phase ---- */

typedef struct {
  HcclAlgo algo;
  gboolean rs;        /* reduce-scatter (else all-gather) */
  const guint64 *off; /* [L * M] chunk offsets (bytes, from CO/CI offset 0) per local index */
  const guint64 *len; /* [L * M] */
} Inter;

static void
inter_phase (HcclPlan *pl, const Inter *it)
{
  const HcclGeom *geo = &hccl_plan_op (pl)->geom;
  guint m = geo->n_servers, L = geo->per_server;
  guint steps = hccl_inter_steps (it->algo, m);
  HcclPiece pc[32];
  for (guint st = 0; st < steps; st++)
    {
      for (guint g = 0; g < geo->n; g++)
        {
          guint s = geo->server[g], l = geo->local[g];
          HcclStep step;
          if (it->rs)
            hccl_inter_rs_step (it->algo, s, m, st, &step);
          else
            hccl_inter_ag_step (it->algo, s, m, st, &step);
          guint to = geo->member[step.to * L + l], from = geo->member[step.from * L + l];
          const guint64 *off = it->off + (gsize) l * m, *len = it->len + (gsize) l * m;
          /* TxAck to the rank that writes into us, RxAck from the one we write to. */
          hccl_signal (pl, g, HCCL_MAIN, from, HS_ACK);
          hccl_wait_signal (pl, g, HCCL_MAIN, to, HS_ACK);
          for (guint i = 0; i < step.n; i++)
            pc[i] = (HcclPiece) { off[step.tx[i]], off[step.tx[i]], len[step.tx[i]] };
          hccl_xfer (pl, g, HCCL_MAIN, HX_RDMA, g, HB_CO, to, it->rs ? HB_CI : HB_CO, pc,
                     step.n);
          hccl_signal (pl, g, HCCL_MAIN, to, HS_DATA);
          hccl_wait_signal (pl, g, HCCL_MAIN, from, HS_DATA);
        }
      /* The received partial sums arrive in CCL-in; add them to ours (created after
       * every rank's send of the step: creation order is program order). */
      for (guint g = 0; it->rs && g < geo->n; g++)
        {
          HcclStep step;
          hccl_inter_rs_step (it->algo, geo->server[g], m, st, &step);
          const guint64 *off = it->off + (gsize) geo->local[g] * m;
          const guint64 *len = it->len + (gsize) geo->local[g] * m;
          for (guint i = 0; i < step.n; i++)
            pc[i] = (HcclPiece) { off[step.rx[i]], off[step.rx[i]], len[step.rx[i]] };
          hccl_xfer (pl, g, HCCL_MAIN, HX_REDUCE, g, HB_CI, g, HB_CO, pc, step.n);
        }
      hccl_step_end (pl);
    }
}

/* ---- in-server peers ---- */

static guint
server_peers (HcclPlan *pl, guint g, guint *peers, gboolean fwd)
{
  const HcclGeom *geo = &hccl_plan_op (pl)->geom;
  guint L = geo->per_server, s = geo->server[g], l = geo->local[g];
  for (guint k = 1; k < L; k++)
    peers[k - 1] = geo->member[s * L + (fwd ? (l + k) % L : (l + L - k) % L)];
  return L - 1;
}

static guint
peers_fwd (HcclPlan *pl, guint g, guint *peers, gpointer data)
{
  return server_peers (pl, g, peers, TRUE);
}

static guint
peers_bwd (HcclPlan *pl, guint g, guint *peers, gpointer data)
{
  return server_peers (pl, g, peers, FALSE);
}

#define GEO (&hccl_plan_op (pl)->geom)

/* ---- AllReduce ---- */

typedef struct {
  guint64 o, c;   /* loop: first element, elements */
  guint64 slot;   /* in-server slice / CCL slot bytes */
} ArLoop;

static guint64
ar_len (HcclPlan *pl, const ArLoop *lp, guint l)
{
  return hccl_slice_len (lp->c * hccl_plan_esize (pl), lp->slot, l);
}

static void
ar_rs_pre (HcclPlan *pl, guint g, gpointer data)
{
  const ArLoop *lp = data;
  guint l = GEO->local[g];
  HcclPiece p = { lp->o * hccl_plan_esize (pl) + l * lp->slot, l * lp->slot, ar_len (pl, lp, l) };
  hccl_xfer (pl, g, HCCL_MAIN, HX_SDMA, g, HB_SEND, g, HB_CO, &p, 1);
}

static void
ar_rs_xfer (HcclPlan *pl, guint g, guint peer, guint s, gpointer data)
{
  const ArLoop *lp = data;
  guint l = GEO->local[g], lq = GEO->local[peer];
  HcclPiece p = { lp->o * hccl_plan_esize (pl) + lq * lp->slot, l * lp->slot,
                  ar_len (pl, lp, lq) };
  hccl_xfer (pl, g, s, HX_SDMA, g, HB_SEND, peer, HB_CO, &p, 1);
}

static void
ar_rs_post (HcclPlan *pl, guint g, gpointer data)
{
  const ArLoop *lp = data;
  hccl_tree_reduce (pl, g, GEO->per_server, 0, lp->slot, ar_len (pl, lp, GEO->local[g]));
}

static void
ar_ag_pre (HcclPlan *pl, guint g, gpointer data)
{
  const ArLoop *lp = data;
  guint l = GEO->local[g];
  HcclPiece p = { 0, lp->o * hccl_plan_esize (pl) + l * lp->slot, ar_len (pl, lp, l) };
  hccl_xfer (pl, g, HCCL_MAIN, HX_SDMA, g, HB_CO, g, HB_RECV, &p, 1);
}

static void
ar_ag_xfer (HcclPlan *pl, guint g, guint peer, guint s, gpointer data)
{
  const ArLoop *lp = data;
  guint lq = GEO->local[peer];
  HcclPiece p = { 0, lp->o * hccl_plan_esize (pl) + lq * lp->slot, ar_len (pl, lp, lq) };
  hccl_xfer (pl, g, s, HX_SDMA, peer, HB_CO, g, HB_RECV, &p, 1);
}

static gboolean
too_small (HcclPlan *pl, GError **error)
{
  const HcclOp *hop = hccl_plan_op (pl);
  npu_op_error (error, &hop->base, NPU_OP_ERROR_SCENARIO,
                "%s: hccl.buffer_bytes %" G_GUINT64_FORMAT " is too small for %u ranks",
                hop->path, hop->buffer_limit, hop->geom.n);
  return FALSE;
}

static gboolean
hier_allreduce (HcclPlan *pl, HcclAlgo algo, GError **error)
{
  const HcclOp *hop = hccl_plan_op (pl);
  guint L = hop->geom.per_server, M = hop->geom.n_servers;
  guint64 e = hccl_plan_esize (pl);
  guint64 slot_max = hop->buffer_limit / L / HCCL_SLICE_ALIGN * HCCL_SLICE_ALIGN;
  guint64 cmax = slot_max * L / e;
  if (cmax == 0)
    return too_small (pl, error);
  static const HcclMeshPhase rs = { FALSE, peers_fwd, ar_rs_pre, ar_rs_xfer, ar_rs_post };
  static const HcclMeshPhase ag = { TRUE, peers_bwd, ar_ag_pre, ar_ag_xfer, NULL };
  g_autofree guint64 *off = g_new0 (guint64, (gsize) L * M);
  g_autofree guint64 *len = g_new0 (guint64, (gsize) L * M);
  for (guint64 o = 0; o < hop->count; o += cmax)
    {
      hccl_plan_loop (pl);
      ArLoop lp = { o, MIN (cmax, hop->count - o), 0 };
      lp.slot = hccl_slice_size (lp.c * e, L, e);
      hccl_mesh_phase (pl, &rs, &lp);
      /* Level 1 works on the rank's reduced slice (CO offset 0), cut into M chunks. */
      for (guint l = 0; l < L; l++)
        {
          guint64 b = ar_len (pl, &lp, l);
          guint64 sub = hccl_slice_size (b, M, e);
          for (guint c = 0; c < M; c++)
            {
              off[l * M + c] = MIN (c * sub, b);
              len[l * M + c] = hccl_slice_len (b, sub, c);
            }
        }
      Inter rsi = { algo, TRUE, off, len }, agi = { algo, FALSE, off, len };
      inter_phase (pl, &rsi);
      inter_phase (pl, &agi);
      hccl_mesh_phase (pl, &ag, &lp);
    }
  return TRUE;
}

/* ---- AllGather ---- */

typedef struct {
  guint64 o, c;
} Loop;

static guint64
ag_block (HcclPlan *pl, const Loop *lp, guint s, guint l)
{
  return ((guint64) s * GEO->per_server + l) * lp->c * hccl_plan_esize (pl);
}

static void
ag_pre (HcclPlan *pl, guint g, gpointer data)
{
  const Loop *lp = data;
  guint64 e = hccl_plan_esize (pl);
  HcclPiece p = { lp->o * e, ag_block (pl, lp, GEO->server[g], GEO->local[g]), lp->c * e };
  hccl_xfer (pl, g, HCCL_MAIN, HX_SDMA, g, HB_SEND, g, HB_CO, &p, 1);
}

static void
ag_xfer (HcclPlan *pl, guint g, guint peer, guint s, gpointer data)
{
  const Loop *lp = data;
  guint64 b = ag_block (pl, lp, GEO->server[peer], GEO->local[peer]);
  HcclPiece p = { b, b, lp->c * hccl_plan_esize (pl) };
  hccl_xfer (pl, g, s, HX_SDMA, peer, HB_CO, g, HB_CO, &p, 1);
}

static gboolean
hier_allgather (HcclPlan *pl, HcclAlgo algo, GError **error)
{
  const HcclOp *hop = hccl_plan_op (pl);
  guint n = hop->geom.n, L = hop->geom.per_server, M = hop->geom.n_servers;
  guint64 e = hccl_plan_esize (pl);
  guint64 cmax = hop->buffer_limit / n / e;
  if (cmax == 0)
    return too_small (pl, error);
  static const HcclMeshPhase ph = { TRUE, peers_bwd, ag_pre, ag_xfer, NULL };
  g_autofree guint64 *off = g_new0 (guint64, (gsize) L * M);
  g_autofree guint64 *len = g_new0 (guint64, (gsize) L * M);
  g_autofree HcclPiece *pc = g_new0 (HcclPiece, n);
  for (guint64 o = 0; o < hop->count; o += cmax)
    {
      hccl_plan_loop (pl);
      Loop lp = { o, MIN (cmax, hop->count - o) };
      hccl_mesh_phase (pl, &ph, &lp);
      /* Level 1 moves whole server blocks of L contributions. */
      for (guint l = 0; l < L; l++)
        for (guint t = 0; t < M; t++)
          {
            off[l * M + t] = ag_block (pl, &lp, t, 0);
            len[l * M + t] = (guint64) L * lp.c * e;
          }
      Inter it = { algo, FALSE, off, len };
      inter_phase (pl, &it);
      for (guint g = 0; g < n; g++)
        {
          for (guint t = 0; t < M; t++)
            for (guint l = 0; l < L; l++)
              pc[t * L + l] = (HcclPiece) { ag_block (pl, &lp, t, l),
                                            (hop->geom.member[t * L + l] * hop->count + o) * e,
                                            lp.c * e };
          hccl_xfer (pl, g, HCCL_MAIN, HX_SDMA, g, HB_CO, g, HB_RECV, pc, n);
        }
    }
  return TRUE;
}

/* ---- ReduceScatter ---- */

/* CO slot of in-server sender l: M blocks (one per destination server) of c elements. */
static void
rs_pieces (HcclPlan *pl, const Loop *lp, guint sender_l, guint dest_l, HcclPiece *pc)
{
  const HcclOp *hop = hccl_plan_op (pl);
  guint M = hop->geom.n_servers, L = hop->geom.per_server;
  guint64 e = hccl_plan_esize (pl);
  for (guint t = 0; t < M; t++)
    pc[t] = (HcclPiece) { (hop->geom.member[t * L + dest_l] * hop->count + lp->o) * e,
                          ((guint64) sender_l * M + t) * lp->c * e, lp->c * e };
}

static void
rs_pre (HcclPlan *pl, guint g, gpointer data)
{
  guint l = GEO->local[g];
  g_autofree HcclPiece *pc = g_new0 (HcclPiece, GEO->n_servers);
  rs_pieces (pl, data, l, l, pc);
  hccl_xfer (pl, g, HCCL_MAIN, HX_SDMA, g, HB_SEND, g, HB_CO, pc, GEO->n_servers);
}

static void
rs_xfer (HcclPlan *pl, guint g, guint peer, guint s, gpointer data)
{
  g_autofree HcclPiece *pc = g_new0 (HcclPiece, GEO->n_servers);
  rs_pieces (pl, data, GEO->local[g], GEO->local[peer], pc);
  hccl_xfer (pl, g, s, HX_SDMA, g, HB_SEND, peer, HB_CO, pc, GEO->n_servers);
}

static void
rs_post (HcclPlan *pl, guint g, gpointer data)
{
  const Loop *lp = data;
  guint64 slot = (guint64) GEO->n_servers * lp->c * hccl_plan_esize (pl);
  hccl_tree_reduce (pl, g, GEO->per_server, 0, slot, slot);
}

static gboolean
hier_reducescatter (HcclPlan *pl, HcclAlgo algo, GError **error)
{
  const HcclOp *hop = hccl_plan_op (pl);
  guint n = hop->geom.n, L = hop->geom.per_server, M = hop->geom.n_servers;
  guint64 e = hccl_plan_esize (pl);
  guint64 cmax = hop->buffer_limit / n / e;
  if (cmax == 0)
    return too_small (pl, error);
  static const HcclMeshPhase ph = { FALSE, peers_fwd, rs_pre, rs_xfer, rs_post };
  g_autofree guint64 *off = g_new0 (guint64, (gsize) L * M);
  g_autofree guint64 *len = g_new0 (guint64, (gsize) L * M);
  for (guint64 o = 0; o < hop->count; o += cmax)
    {
      hccl_plan_loop (pl);
      Loop lp = { o, MIN (cmax, hop->count - o) };
      hccl_mesh_phase (pl, &ph, &lp);
      for (guint l = 0; l < L; l++)
        for (guint t = 0; t < M; t++)
          {
            off[l * M + t] = (guint64) t * lp.c * e;
            len[l * M + t] = lp.c * e;
          }
      Inter it = { algo, TRUE, off, len };
      inter_phase (pl, &it);
      for (guint g = 0; g < n; g++)
        {
          HcclPiece p = { (guint64) hop->geom.server[g] * lp.c * e, o * e, lp.c * e };
          hccl_xfer (pl, g, HCCL_MAIN, HX_SDMA, g, HB_CO, g, HB_RECV, &p, 1);
        }
    }
  return TRUE;
}

/* ---- AlltoAll(V), staged ---- */

/* Level 0: rank (s, l) hands local peer (s, q) everything destined to (t, q), for all
 * t, into q's CCL-in at [(t * L + l) * pm]. */
static void
a2a_pieces (HcclPlan *pl, const HcclA2aLoop *lp, guint g, guint q, HcclPiece *pc)
{
  const HcclGeom *geo = GEO;
  guint n = geo->n, L = geo->per_server, l = geo->local[g];
  guint64 e = hccl_plan_esize (pl);
  for (guint t = 0; t < geo->n_servers; t++)
    {
      guint dst = geo->member[t * L + q];
      pc[t] = (HcclPiece) { lp->sdispl[g * n + dst] * e + lp->k * lp->pm,
                            ((guint64) t * L + l) * lp->pm, hccl_a2a_len (pl, lp, g, dst) };
    }
}

static void
a2a_pre (HcclPlan *pl, guint g, gpointer data)
{
  g_autofree HcclPiece *pc = g_new0 (HcclPiece, GEO->n_servers);
  a2a_pieces (pl, data, g, GEO->local[g], pc);
  hccl_xfer (pl, g, HCCL_MAIN, HX_SDMA, g, HB_SEND, g, HB_CI, pc, GEO->n_servers);
}

static void
a2a_xfer (HcclPlan *pl, guint g, guint peer, guint s, gpointer data)
{
  g_autofree HcclPiece *pc = g_new0 (HcclPiece, GEO->n_servers);
  a2a_pieces (pl, data, g, GEO->local[peer], pc);
  hccl_xfer (pl, g, s, HX_SDMA, g, HB_SEND, peer, HB_CI, pc, GEO->n_servers);
}

static gboolean
hier_alltoall (HcclPlan *pl, GError **error)
{
  const HcclOp *hop = hccl_plan_op (pl);
  const HcclGeom *geo = &hop->geom;
  guint n = geo->n, L = geo->per_server, M = geo->n_servers;
  if (hop->buffer_limit / n < HCCL_SLICE_ALIGN)
    return too_small (pl, error);
  guint64 e = hccl_plan_esize (pl);
  HcclA2aLoop lp = { 0 };
  guint64 loops = hccl_a2a_layout (hop, &lp.sdispl, &lp.rdispl, &lp.pm);
  static const HcclMeshPhase ph = { FALSE, peers_fwd, a2a_pre, a2a_xfer, NULL };
  g_autofree HcclPiece *pc = g_new0 (HcclPiece, n);
  for (lp.k = 0; lp.k < loops; lp.k++)
    {
      hccl_plan_loop (pl);
      hccl_mesh_phase (pl, &ph, &lp);
      /* Data for my own server: CCL-in -> CCL-out locally (pairwise step 0). */
      for (guint g = 0; g < n; g++)
        {
          guint s = geo->server[g];
          for (guint l = 0; l < L; l++)
            pc[l] = (HcclPiece) { ((guint64) s * L + l) * lp.pm, ((guint64) s * L + l) * lp.pm,
                                  hccl_a2a_len (pl, &lp, geo->member[s * L + l], g) };
          hccl_xfer (pl, g, HCCL_MAIN, HX_SDMA, g, HB_CI, g, HB_CO, pc, L);
        }
      /* Level 1, pairwise: step k sends to server s+k, receives from server s-k. */
      for (guint st = 1; st < M; st++)
        {
          for (guint g = 0; g < n; g++)
            {
              guint s = geo->server[g], l = geo->local[g];
              guint to_t = (s + st) % M, from_t = (s + M - st) % M;
              guint to = geo->member[to_t * L + l], from = geo->member[from_t * L + l];
              hccl_signal (pl, g, HCCL_MAIN, from, HS_ACK);
              hccl_wait_signal (pl, g, HCCL_MAIN, to, HS_ACK);
              for (guint q = 0; q < L; q++)
                pc[q] = (HcclPiece) { ((guint64) to_t * L + q) * lp.pm,
                                      ((guint64) s * L + q) * lp.pm,
                                      hccl_a2a_len (pl, &lp, geo->member[s * L + q], to) };
              hccl_xfer (pl, g, HCCL_MAIN, HX_RDMA, g, HB_CI, to, HB_CO, pc, L);
              hccl_signal (pl, g, HCCL_MAIN, to, HS_DATA);
              hccl_wait_signal (pl, g, HCCL_MAIN, from, HS_DATA);
            }
          hccl_step_end (pl);
        }
      /* CCL-out -> recvBuf, in source order. */
      for (guint g = 0; g < n; g++)
        {
          for (guint t = 0; t < M; t++)
            for (guint q = 0; q < L; q++)
              {
                guint src = geo->member[t * L + q];
                pc[t * L + q] = (HcclPiece) { ((guint64) t * L + q) * lp.pm,
                                              lp.rdispl[g * n + src] * e + lp.k * lp.pm,
                                              hccl_a2a_len (pl, &lp, src, g) };
              }
          hccl_xfer (pl, g, HCCL_MAIN, HX_SDMA, g, HB_CO, g, HB_RECV, pc, n);
        }
    }
  g_free (lp.sdispl);
  g_free (lp.rdispl);
  return TRUE;
}

gboolean
hccl_plan_hier (HcclPlan *pl, GError **error)
{
  const HcclOp *hop = hccl_plan_op (pl);
  HcclAlgo algo = hccl_inter_algo (hop);
  switch (hop->kind)
    {
    case HCCL_AR:
      return hier_allreduce (pl, algo, error);
    case HCCL_AG:
      return hier_allgather (pl, algo, error);
    case HCCL_RS:
      return hier_reducescatter (pl, algo, error);
    default:
      return hier_alltoall (pl, error);
    }
}
