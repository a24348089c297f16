/* npusim — QuantMatmulAllReduceV3: the tasks of the A2 kernel (REFERENCE 2.2;
 * ops-transformer mc2/matmul_all_reduce/op_kernel: matmul_all_reduce_base.h /
 * matmul_all_reduce_quant.h for the normal path, matmul_all_reduce_quant_*_comm_int8.h
 * for the low-bit path).
 *
 * One MIX kernel per rank (cost.kernel_launch_us): AIC cores run the matmul of a tile
 * in base blocks of 128 rows x 256 columns (round-robin over the AICs, full K each,
 * npu_cube_task_new); the int32 result is dequantised by the fixpipe (fp16 output with
 * an INT64 scale) or by the AIV pair of the block's AIC (pertoken, bf16); SyncAll; the
 * x3 add on all AIVs; SyncAll; then AIV 0 commits the tile's collective to the AICPU
 * communication server (ops/hccl.h "Collectives inside another operator"), which runs
 * it while the cores go on with the next tile. Low-bit path per tile: quantise on the
 * AIVs, SyncAll, commit AlltoAll(i); from tile 1 on, wait for AlltoAll(i-1), ReduceSum
 * of tile i-1 on the AIVs (SyncAll around it), commit AllGather(i-1); after the loop
 * the last ReduceSum and AllGather, then per tile: wait for its AllGather, SyncAll,
 * dequantise into the output.
 *
 * Every core runs its tasks in program order (each task of a core depends on the
 * core's previous one); SyncAll is a join of the participating cores that takes one
 * flag poll (cost.flag_poll_us). Vector work is costed by npu_cost_vector with the
 * instruction passes of each step (docs/ops/QuantMatmulAllReduceV3.md "Timing"). */
#include "ops/qmmar-private.h"
#include "ops/cube.h"
#include "ops/nz.h"
#include "models/cost.h"

typedef struct {
  QmmarOp *q;
  const NpuOpEnv *env;
  const NpuHw *hw;
  guint g, rank, w, n_aic, n_aiv;
  QmmarRank *R;
} Ctx;

/* ---- data effects ---- */

typedef enum { FX_EPI, FX_X3, FX_QUANT, FX_RSUM, FX_DEQ, FX_NZ } FxKind;

typedef struct {
  FxKind kind;
  const QmmarData *d;
  gint64 row0, r0, r1;
  gint8 *t;            /* int8 tile: quantise target, reduce-sum tile, dequant source */
  gint64 chunk;
  guint w, g;
  gconstpointer nz;    /* FX_NZ: NZ storage -> ND */
  gint8 *nd;
  gint64 rows, cols;
} Fx;

static gboolean
run_fx (gpointer data, GError **error)
{
  Fx *f = data;
  switch (f->kind)
    {
    case FX_EPI:
      qmmar_num_epilogue (f->d, f->r0, f->r1);
      break;
    case FX_X3:
      qmmar_num_add_x3 (f->d, f->r0, f->r1);
      break;
    case FX_QUANT:
      qmmar_num_quantize (f->d, f->row0, f->r0, f->r1, f->t);
      break;
    case FX_RSUM:
      qmmar_num_reduce_sum (f->d, f->t, f->chunk, f->w, f->g, f->r0, f->r1);
      break;
    case FX_DEQ:
      qmmar_num_dequant (f->d, f->t, f->row0, f->r0, f->r1);
      break;
    case FX_NZ:
      npu_nz_to_nd (NPU_DT_INT8, f->rows, f->cols, f->nz, f->nd);
      break;
    }
  return TRUE;
}

static void
set_fx (Ctx *c, NpuTask *t, const Fx *proto)
{
  if (!c->env->data_mode)
    return;
  Fx *f = g_new (Fx, 1);
  *f = *proto;
  f->d = &c->R->data;
  npu_task_set_effect (t, run_fx, f, g_free);
}

/* ---- cores, program order, SyncAll ---- */

static void
on_core (NpuTask **last, NpuTask *t)
{
  npu_task_depends_on (t, *last);
  *last = t;
}

static gint
by_id (gconstpointer a, gconstpointer b)
{
  guint x = npu_task_id (*(NpuTask *const *) a), y = npu_task_id (*(NpuTask *const *) b);
  return x < y ? -1 : x > y;
}

/* A join of the last tasks of every AIV (and AIC): the cores wait for each other and
 * see the final flag one poll later. */
static NpuTask *
sync_all (Ctx *c, gboolean with_aic)
{
  g_autoptr (GPtrArray) deps = g_ptr_array_new ();
  for (guint i = 0; i < c->n_aiv; i++)
    g_ptr_array_add (deps, c->R->aiv_last[i]);
  for (guint i = 0; with_aic && i < c->n_aic; i++)
    g_ptr_array_add (deps, c->R->aic_last[i]);
  g_ptr_array_sort (deps, by_id);
  NpuTask *j = npu_graph_task_new (c->env->graph, with_aic ? "SyncAll" : "SyncAll (AIV)");
  npu_task_set_hidden (j);
  npu_task_set_duration (j, c->hw->flag_poll_ps);
  for (guint i = 0; i < deps->len; i++)
    if (i == 0 || deps->pdata[i] != deps->pdata[i - 1])
      npu_task_depends_on (j, deps->pdata[i]);
  for (guint i = 0; i < c->n_aiv; i++)
    c->R->aiv_last[i] = j;
  for (guint i = 0; with_aic && i < c->n_aic; i++)
    c->R->aic_last[i] = j;
  return j;
}

static NpuTask *
aiv_task (Ctx *c, guint core, const char *name, NpuTaskClass cls, NpuTime dur)
{
  NpuTask *t = npu_op_task_new (&c->q->base, c->env, c->g, name, cls, NPU_TRACK_AIV, core);
  npu_task_set_server (t, npu_cluster_aiv (c->env->cluster, c->rank, core));
  npu_task_set_duration (t, dur);
  on_core (&c->R->aiv_last[core], t);
  return t;
}

/* Rows of a step split over the AIVs as the kernels' SplitM does: rows / cores each,
 * the remainder one more row on the last cores (or one row on the first cores when
 * there are fewer rows than cores). */
static gint64
split_rows (gint64 rows, guint cores, guint core, gint64 *r0)
{
  gint64 single = rows / cores, rem = rows % cores;
  gint64 add = rem != 0 ? (gint64) cores - rem : (gint64) cores + 1;
  if (single == 0)
    {
      *r0 = core;
      return (gint64) core < rem ? 1 : 0;
    }
  if (rem != 0 && (gint64) core >= add)
    {
      *r0 = add * single + ((gint64) core - add) * (single + 1);
      return single + 1;
    }
  *r0 = (gint64) core * single;
  return single;
}

static guint64
out_es (const Ctx *c)
{
  return npu_dtype_size (c->q->out_dt);
}

static void
read_acc_rows (Ctx *c, NpuTask *t, gint64 a, gint64 b)
{
  gint64 panels = (c->q->n + QMMAR_PANEL - 1) / QMMAR_PANEL;
  for (gint64 p = 0; p < panels; p++)
    npu_task_reads (t, c->R->buf_acc, (guint64) ((p * c->q->m + a) * QMMAR_PANEL) * 4,
                    (guint64) ((b - a) * QMMAR_PANEL) * 4);
}

static void
out_rows (Ctx *c, NpuTask *t, gint64 a, gint64 b, gboolean write)
{
  guint64 off = (guint64) (a * c->q->n) * out_es (c), len = (guint64) ((b - a) * c->q->n) * out_es (c);
  if (write)
    npu_task_writes (t, c->R->buf[QT_OUT], off, len);
  else
    npu_task_reads (t, c->R->buf[QT_OUT], off, len);
}

/* ---- the steps ---- */

/* The dequant epilogue of output rows [a, b): one AIV (pertoken, bf16) or the
 * fixpipe's conversion, applied once the rows' last cube block has ended. */
static void
epilogue (Ctx *c, guint ti, gint64 a, gint64 b, guint aiv, GPtrArray *cubes)
{
  QmmarOp *q = c->q;
  NpuTask *t;
  if (q->epi == QE_FIXPIPE)
    {
      /* the fixpipe writes fp16 as the cube block drains (its time is in the cube
       * task); the conversion is applied when the rows' blocks have all ended */
      t = npu_graph_task_new (c->env->graph, "fixpipe dequant");
      npu_task_set_hidden (t);
    }
  else
    {
      g_autofree char *name = g_strdup_printf ("Dequant t%u rows %" G_GINT64_FORMAT "..%"
                                               G_GINT64_FORMAT, ti, a, b);
      guint64 elems = (guint64) ((b - a) * q->n);
      guint passes = q->epi == QE_PERTOKEN ? 4 : 3; /* cast, x scale, [x pertoken], cast */
      guint64 gm = elems * (4 + out_es (c)) + (guint64) q->n * 4
                   + (q->epi == QE_PERTOKEN ? (guint64) (b - a) * 4 : 0);
      t = aiv_task (c, aiv, name, NPU_TASK_COMPUTE, npu_cost_vector (c->hw, elems, 4, passes, gm));
    }
  for (guint i = 0; i < cubes->len; i++)
    npu_task_depends_on (t, cubes->pdata[i]);
  read_acc_rows (c, t, a, b);
  out_rows (c, t, a, b, TRUE);
  Fx f = { .kind = FX_EPI, .r0 = a, .r1 = b };
  set_fx (c, t, &f);
}

static void
plan_matmul (Ctx *c, guint ti)
{
  QmmarOp *q = c->q;
  const QmmarTile *tile = &q->tiles[ti];
  QmmarRank *R = c->R;
  gint64 panels = (q->n + QMMAR_PANEL - 1) / QMMAR_PANEL;
  gint64 k = q->k, n = q->n;
  const QmmarDesc *x2 = &q->d[QT_X2];
  gconstpointer bdata = x2->nz ? (gconstpointer) R->x2nd : npu_tensor_const_data (R->t[QT_X2]);
  NpuGemmOperand a = { npu_tensor_const_data (R->t[QT_X1]), NPU_DT_INT8, q->m, k, k, 1 };
  NpuGemmOperand b = { bdata, NPU_DT_INT8, k, n, x2->transpose ? 1 : n, x2->transpose ? k : 1 };
  guint bbuf = x2->nz ? R->buf_x2nd : R->buf[QT_X2];
  guint blk = 0;
  for (gint64 r0 = tile->row0; r0 < tile->row0 + tile->rows; r0 += QMMAR_BLOCK_M)
    {
      gint64 bm = MIN ((gint64) QMMAR_BLOCK_M, tile->row0 + tile->rows - r0);
      g_autoptr (GPtrArray) cubes = g_ptr_array_new ();
      guint core = 0;
      for (gint64 p = 0; p < panels; p++)
        {
          gint64 n0 = p * QMMAR_PANEL, bn = MIN ((gint64) QMMAR_PANEL, n - n0);
          core = blk++ % c->n_aic;
          NpuCubeTile ct = { 0 };
          ct.a = a;
          ct.b = b;
          ct.m_begin = r0;
          ct.m = bm;
          ct.n_begin = n0;
          ct.n = bn;
          /* panel p starts at acc + p·m·256; the cube writes acc[(i)·256 + n_begin + j] */
          ct.acc = R->acc != NULL ? (gpointer) (R->acc + p * q->m * QMMAR_PANEL - n0) : NULL;
          ct.acc_ld = QMMAR_PANEL;
          ct.out_elem_bytes = q->epi == QE_FIXPIPE ? (guint) out_es (c) : 4;
          ct.reads[0].buffer = R->buf[QT_X1];
          ct.reads[0].offset = (guint64) (r0 * k);
          ct.reads[0].length = (guint64) (bm * k);
          ct.reads[1].buffer = bbuf;
          ct.reads[1].offset = 0;
          ct.reads[1].length = (guint64) (k * n);
          ct.writes[0].buffer = R->buf_acc;
          ct.writes[0].offset = (guint64) ((p * q->m + r0) * QMMAR_PANEL) * 4;
          ct.writes[0].length = (guint64) (bm * QMMAR_PANEL) * 4;
          g_autofree char *name = g_strdup_printf ("MatMul t%u [%" G_GINT64_FORMAT ":%"
                                                   G_GINT64_FORMAT ", %" G_GINT64_FORMAT ":%"
                                                   G_GINT64_FORMAT "]", ti, r0, r0 + bm, n0,
                                                   n0 + bn);
          NpuTask *t = npu_cube_task_new (&q->base, c->env, c->g, core, name, &ct);
          on_core (&R->aic_last[core], t);
          g_ptr_array_add (cubes, t);
        }
      /* the AIV pair of the AIC that computed the rows' last block */
      gint64 half = (bm + 1) / 2;
      if (q->epi == QE_FIXPIPE)
        epilogue (c, ti, r0, r0 + bm, 0, cubes);
      else
        {
          epilogue (c, ti, r0, r0 + half, (2 * core) % c->n_aiv, cubes);
          if (half < bm)
            epilogue (c, ti, r0 + half, r0 + bm, (2 * core + 1) % c->n_aiv, cubes);
        }
    }
}

static void
plan_x3 (Ctx *c, guint ti)
{
  QmmarOp *q = c->q;
  const QmmarTile *tile = &q->tiles[ti];
  gboolean bf = q->out_dt == NPU_DT_BF16;
  for (guint v = 0; v < c->n_aiv; v++)
    {
      gint64 r0, cnt = split_rows (tile->rows, c->n_aiv, v, &r0);
      if (cnt == 0)
        continue;
      gint64 a = tile->row0 + r0, b = a + cnt;
      guint64 elems = (guint64) (cnt * q->n);
      g_autofree char *name = g_strdup_printf ("AddX3 t%u rows %" G_GINT64_FORMAT "..%"
                                               G_GINT64_FORMAT, ti, a, b);
      NpuTask *t = aiv_task (c, v, name, NPU_TASK_COMPUTE,
                             npu_cost_vector (c->hw, elems, bf ? 4 : 2, bf ? 4 : 1, elems * 6));
      out_rows (c, t, a, b, FALSE);
      out_rows (c, t, a, b, TRUE);
      npu_task_reads (t, c->R->buf[QT_X3], (guint64) (a * q->n) * out_es (c),
                      (guint64) (cnt * q->n) * out_es (c));
      Fx f = { .kind = FX_X3, .r0 = a, .r1 = b };
      set_fx (c, t, &f);
    }
}

/* The int8 buffer the quantised tile goes to and the AlltoAll sends from. */
static void
send_buffer (Ctx *c, guint *buf, gint8 **data)
{
  *buf = c->q->comm_in_window ? c->R->buf_win : c->R->buf_tmp;
  *data = c->q->comm_in_window ? c->R->win : c->R->tmp;
}

static void
plan_quantize (Ctx *c, guint ti)
{
  QmmarOp *q = c->q;
  const QmmarTile *tile = &q->tiles[ti];
  gboolean bf = q->out_dt == NPU_DT_BF16;
  guint sbuf;
  gint8 *sdata;
  send_buffer (c, &sbuf, &sdata);
  for (guint v = 0; v < c->n_aiv; v++)
    {
      gint64 r0, cnt = split_rows (tile->rows, c->n_aiv, v, &r0);
      if (cnt == 0)
        continue;
      guint64 elems = (guint64) (cnt * q->n);
      g_autofree char *name = g_strdup_printf ("Quantize t%u rows %" G_GINT64_FORMAT "..%"
                                               G_GINT64_FORMAT, ti, tile->row0 + r0,
                                               tile->row0 + r0 + cnt);
      /* fp16: Div, Cast; bf16: Cast, Div, Cast, Cast */
      NpuTask *t = aiv_task (c, v, name, NPU_TASK_COMPUTE,
                             npu_cost_vector (c->hw, elems, bf ? 4 : 2, bf ? 4 : 2,
                                              elems * 3 + (guint64) q->n * 2));
      out_rows (c, t, tile->row0 + r0, tile->row0 + r0 + cnt, FALSE);
      npu_task_reads (t, c->R->buf[QT_CQ1], 0, (guint64) q->n * out_es (c));
      npu_task_writes (t, sbuf, tile->pad_off + (guint64) (r0 * q->n), elems);
      Fx f = { .kind = FX_QUANT, .row0 = tile->row0, .r0 = r0, .r1 = r0 + cnt,
               .t = sdata != NULL ? sdata + tile->pad_off : NULL };
      set_fx (c, t, &f);
    }
}

static void
plan_reduce_sum (Ctx *c, guint ti)
{
  QmmarOp *q = c->q;
  const QmmarTile *tile = &q->tiles[ti];
  gint64 chunk = tile->pad_rows / c->w;
  for (guint v = 0; v < c->n_aiv; v++)
    {
      gint64 r0, cnt = split_rows (chunk, c->n_aiv, v, &r0);
      if (cnt == 0)
        continue;
      guint64 elems = (guint64) (cnt * q->n);
      g_autofree char *name = g_strdup_printf ("ReduceSum t%u rows %" G_GINT64_FORMAT "..%"
                                               G_GINT64_FORMAT, ti, r0, r0 + cnt);
      /* per rank: Cast int8->fp16, fp16->fp32, Add; then x s1/s2 and two Casts */
      NpuTask *t = aiv_task (c, v, name, NPU_TASK_COMPUTE,
                             npu_cost_vector (c->hw, elems, 4, 3 * c->w + 3,
                                              elems * (c->w + 1) + (guint64) q->n * 4));
      for (guint j = 0; j < c->w; j++)
        npu_task_reads (t, c->R->buf_tmp, tile->pad_off + (guint64) ((j * chunk + r0) * q->n),
                        elems);
      npu_task_writes (t, c->R->buf_tmp, tile->pad_off + (guint64) ((c->g * chunk + r0) * q->n),
                       elems);
      npu_task_reads (t, c->R->buf[QT_CQ1], 0, (guint64) q->n * out_es (c));
      npu_task_reads (t, c->R->buf[QT_CQ2], 0, (guint64) q->n * out_es (c));
      Fx f = { .kind = FX_RSUM, .r0 = r0, .r1 = r0 + cnt, .chunk = chunk, .w = c->w, .g = c->g,
               .t = c->R->tmp != NULL ? c->R->tmp + tile->pad_off : NULL };
      set_fx (c, t, &f);
    }
}

static void
plan_dequant (Ctx *c, guint ti)
{
  QmmarOp *q = c->q;
  const QmmarTile *tile = &q->tiles[ti];
  gboolean bf = q->out_dt == NPU_DT_BF16;
  for (guint v = 0; v < c->n_aiv; v++)
    {
      gint64 r0, cnt = split_rows (tile->rows, c->n_aiv, v, &r0);
      if (cnt == 0)
        continue;
      guint64 elems = (guint64) (cnt * q->n);
      g_autofree char *name = g_strdup_printf ("DequantComm t%u rows %" G_GINT64_FORMAT "..%"
                                               G_GINT64_FORMAT, ti, tile->row0 + r0,
                                               tile->row0 + r0 + cnt);
      /* fp16: Cast int8->half, Mul; bf16: Casts to fp32, Mul, Cast */
      NpuTask *t = aiv_task (c, v, name, NPU_TASK_COMPUTE,
                             npu_cost_vector (c->hw, elems, bf ? 4 : 2, bf ? 4 : 2,
                                              elems * (1 + out_es (c)) + (guint64) q->n * 2));
      npu_task_reads (t, c->R->buf_tmp, tile->pad_off + (guint64) (r0 * q->n), elems);
      npu_task_reads (t, c->R->buf[QT_CQ2], 0, (guint64) q->n * out_es (c));
      out_rows (c, t, tile->row0 + r0, tile->row0 + r0 + cnt, TRUE);
      Fx f = { .kind = FX_DEQ, .row0 = tile->row0, .r0 = r0, .r1 = r0 + cnt,
               .t = c->R->tmp != NULL ? c->R->tmp + tile->pad_off : NULL };
      set_fx (c, t, &f);
    }
}

/* AIV 0 hands a collective to the AICPU server (the message write the AICPU polls). */
static NpuTask *
commit (Ctx *c, const char *what, guint ti)
{
  g_autofree char *name = g_strdup_printf ("Commit %s t%u", what, ti);
  return aiv_task (c, 0, name, NPU_TASK_CONTROL, c->hw->flag_poll_ps);
}

/* AIV 0 waits for a committed collective (hccl_.Wait). */
static void
wait_done (Ctx *c, NpuTask *done)
{
  NpuTask *t = npu_graph_task_new (c->env->graph, "HCCL Wait");
  npu_task_set_hidden (t);
  npu_task_depends_on (t, done);
  on_core (&c->R->aiv_last[0], t);
}

/* ---- setup and the whole kernel ---- */

static void
add_buffers (Ctx *c)
{
  QmmarOp *q = c->q;
  QmmarRank *R = c->R;
  const char *op = q->base.name;
  for (guint i = 0; i < QT_N; i++)
    if (R->t[i] != NULL)
      {
        g_autofree char *name = g_strdup_printf ("r%u.%s.%s", c->rank, op, qmmar_tensor_names[i]);
        R->buf[i] = npu_graph_add_buffer (c->env->graph, name, MAX (npu_tensor_nbytes (R->t[i]), 1));
      }
  gint64 panels = (q->n + QMMAR_PANEL - 1) / QMMAR_PANEL;
  g_autofree char *an = g_strdup_printf ("r%u.%s.accumulator", c->rank, op);
  R->buf_acc = npu_graph_add_buffer (c->env->graph, an, (guint64) (panels * q->m * QMMAR_PANEL) * 4);
  if (q->d[QT_X2].nz)
    {
      g_autofree char *xn = g_strdup_printf ("r%u.%s.x2 (ND view)", c->rank, op);
      R->buf_x2nd = npu_graph_add_buffer (c->env->graph, xn, (guint64) (q->k * q->n));
    }
  if (q->comm_quant)
    {
      g_autofree char *wn = g_strdup_printf ("r%u.%s.window", c->rank, op);
      g_autofree char *tn = g_strdup_printf ("r%u.%s.workspace", c->rank, op);
      R->buf_tmp = npu_graph_add_buffer (c->env->graph, tn, MAX (q->pad_total, 1));
      R->buf_win = q->comm_in_window
                   ? npu_graph_add_buffer (c->env->graph, wn, MAX (q->pad_total, 1)) : R->buf_tmp;
    }
}

static void
begin_rank (Ctx *c)
{
  QmmarOp *q = c->q;
  QmmarRank *R = c->R;
  add_buffers (c);
  R->begin = npu_op_begin (&q->base, c->env, c->g, c->hw->kernel_launch_ps);
  R->aic_last = g_new (NpuTask *, c->n_aic);
  R->aiv_last = g_new (NpuTask *, c->n_aiv);
  for (guint i = 0; i < c->n_aic; i++)
    R->aic_last[i] = R->begin;
  for (guint i = 0; i < c->n_aiv; i++)
    R->aiv_last[i] = R->begin;
  if (q->d[QT_X2].nz)
    {
      /* The cube loads NZ fractals natively; the simulator's reference GEMM reads a
       * row-major view, made when the kernel starts (no time, not a device step). */
      NpuTask *t = npu_graph_task_new (c->env->graph, "x2 NZ view");
      npu_task_set_hidden (t);
      npu_task_depends_on (t, R->begin);
      npu_task_reads (t, R->buf[QT_X2], 0, npu_tensor_nbytes (R->t[QT_X2]));
      npu_task_writes (t, R->buf_x2nd, 0, (guint64) (q->k * q->n));
      Fx f = { .kind = FX_NZ, .nz = npu_tensor_const_data (R->t[QT_X2]), .nd = R->x2nd,
               .rows = q->d[QT_X2].transpose ? q->n : q->k,
               .cols = q->d[QT_X2].transpose ? q->k : q->n };
      set_fx (c, t, &f);
      for (guint i = 0; i < c->n_aic; i++)
        R->aic_last[i] = t;
    }
}

static void
finish_rank (Ctx *c)
{
  g_autoptr (GPtrArray) deps = g_ptr_array_new ();
  for (guint i = 0; i < c->n_aiv; i++)
    g_ptr_array_add (deps, c->R->aiv_last[i]);
  for (guint i = 0; i < c->n_aic; i++)
    g_ptr_array_add (deps, c->R->aic_last[i]);
  g_ptr_array_sort (deps, by_id);
  g_autoptr (GPtrArray) uniq = g_ptr_array_new ();
  for (guint i = 0; i < deps->len; i++)
    if (i == 0 || deps->pdata[i] != deps->pdata[i - 1])
      g_ptr_array_add (uniq, deps->pdata[i]);
  npu_op_finish (&c->q->base, c->env, c->g, uniq);
}

/* Compute part of tile @ti up to (and including) the commit of its collective. */
static NpuTask *
tile_compute (Ctx *c, guint ti)
{
  QmmarOp *q = c->q;
  plan_matmul (c, ti);
  sync_all (c, TRUE);
  if (q->d[QT_X3].present)
    {
      plan_x3 (c, ti);
      sync_all (c, TRUE);
    }
  if (!q->comm_quant)
    return commit (c, "AllReduce", ti);
  plan_quantize (c, ti);
  sync_all (c, TRUE);
  return commit (c, "AlltoAll", ti);
}

static void
regions_out (QmmarOp *q, guint ti, NpuHcclRegion *reg)
{
  const QmmarTile *t = &q->tiles[ti];
  guint64 es = npu_dtype_size (q->out_dt);
  for (guint g = 0; g < q->base.n_ranks; g++)
    {
      QmmarRank *R = &q->r[g];
      guint64 off = (guint64) (t->row0 * q->n) * es;
      guint8 *data = npu_tensor_data (R->t[QT_OUT]);
      reg[g] = (NpuHcclRegion) { R->buf[QT_OUT], off, data != NULL ? data + off : NULL,
                                 (guint64) (t->rows * q->n) * es };
    }
}

static gboolean
run_a2a (QmmarOp *q, guint ti, NpuTask **after, NpuTask **done, GError **error)
{
  guint w = q->base.n_ranks;
  const QmmarTile *t = &q->tiles[ti];
  g_autofree NpuHcclRegion *s = g_new (NpuHcclRegion, w), *r = g_new (NpuHcclRegion, w);
  guint64 bytes = (guint64) t->pad_rows * (guint64) q->n;
  for (guint g = 0; g < w; g++)
    {
      QmmarRank *R = &q->r[g];
      gint8 *sd = q->comm_in_window ? R->win : R->tmp;
      s[g] = (NpuHcclRegion) { q->comm_in_window ? R->buf_win : R->buf_tmp, t->pad_off,
                               sd != NULL ? (guint8 *) sd + t->pad_off : NULL, bytes };
      r[g] = (NpuHcclRegion) { R->buf_tmp, t->pad_off,
                               R->tmp != NULL ? (guint8 *) R->tmp + t->pad_off : NULL, bytes };
    }
  return npu_hccl_embed_run (q->embed, NPU_HCCL_EMBED_ALLTOALL, NPU_DT_INT8, bytes / w, s, r,
                             after, done, error);
}

static gboolean
run_ag (QmmarOp *q, guint ti, NpuTask **after, NpuTask **done, GError **error)
{
  guint w = q->base.n_ranks;
  const QmmarTile *t = &q->tiles[ti];
  g_autofree NpuHcclRegion *s = g_new (NpuHcclRegion, w), *r = g_new (NpuHcclRegion, w);
  guint64 bytes = (guint64) t->pad_rows * (guint64) q->n, chunk = bytes / w;
  for (guint g = 0; g < w; g++)
    {
      QmmarRank *R = &q->r[g];
      guint8 *base = R->tmp != NULL ? (guint8 *) R->tmp + t->pad_off : NULL;
      s[g] = (NpuHcclRegion) { R->buf_tmp, t->pad_off + g * chunk,
                               base != NULL ? base + g * chunk : NULL, chunk };
      r[g] = (NpuHcclRegion) { R->buf_tmp, t->pad_off, base, bytes };
    }
  return npu_hccl_embed_run (q->embed, NPU_HCCL_EMBED_ALLGATHER, NPU_DT_INT8, chunk, s, r,
                             after, done, error);
}

/* From tile 1 on (and once after the loop): wait for AlltoAll(ti), ReduceSum, commit
 * AllGather(ti). */
static gboolean
reduce_and_gather (QmmarOp *q, Ctx *ctx, guint ti, NpuTask ***done_a2a, NpuTask ***done_ag,
                   GError **error)
{
  guint w = q->base.n_ranks;
  g_autofree NpuTask **commits = g_new0 (NpuTask *, w);
  for (guint g = 0; g < w; g++)
    {
      Ctx *c = &ctx[g];
      wait_done (c, done_a2a[ti][g]);
      sync_all (c, FALSE);
      plan_reduce_sum (c, ti);
      sync_all (c, FALSE);
      commits[g] = commit (c, "AllGather", ti);
    }
  return run_ag (q, ti, commits, done_ag[ti], error);
}

gboolean
qmmar_plan (NpuOp *op, const NpuOpEnv *env, GError **error)
{
  QmmarOp *q = (QmmarOp *) op;
  guint w = op->n_ranks, T = q->n_tiles;
  g_autofree Ctx *ctx = g_new0 (Ctx, w);
  for (guint g = 0; g < w; g++)
    {
      Ctx *c = &ctx[g];
      c->q = q;
      c->env = env;
      c->hw = env->hw;
      c->g = g;
      c->rank = npu_op_rank_of (op, g);
      c->w = w;
      c->n_aic = MAX (env->hw->aic_count, 1u);
      c->n_aiv = MAX (env->hw->aiv_count, 1u);
      c->R = &q->r[g];
      begin_rank (c);
    }
  NpuTask ***done_a = g_new0 (NpuTask **, T), ***done_b = g_new0 (NpuTask **, T);
  for (guint i = 0; i < T; i++)
    {
      done_a[i] = g_new0 (NpuTask *, w);
      done_b[i] = g_new0 (NpuTask *, w);
    }
  g_autofree NpuTask **commits = g_new0 (NpuTask *, w);
  g_autofree NpuHcclRegion *reg = g_new0 (NpuHcclRegion, w);
  gboolean ok = TRUE;
  for (guint i = 0; ok && i < T; i++)
    {
      for (guint g = 0; g < w; g++)
        commits[g] = tile_compute (&ctx[g], i);
      if (!q->comm_quant)
        {
          regions_out (q, i, reg);
          ok = npu_hccl_embed_run (q->embed, NPU_HCCL_EMBED_ALLREDUCE, q->out_dt,
                                   (guint64) (q->tiles[i].rows * q->n), reg, reg, commits,
                                   done_a[i], error);
          continue;
        }
      ok = run_a2a (q, i, commits, done_a[i], error);
      if (ok && i >= 1)
        ok = reduce_and_gather (q, ctx, i - 1, done_a, done_b, error);
    }
  if (ok && q->comm_quant)
    ok = reduce_and_gather (q, ctx, T - 1, done_a, done_b, error);
  for (guint g = 0; ok && g < w; g++)
    {
      Ctx *c = &ctx[g];
      if (!q->comm_quant)
        {
          /* HcclFinalize: wait for every AllReduce, SyncAll */
          for (guint i = 0; i < T; i++)
            wait_done (c, done_a[i][g]);
          sync_all (c, TRUE);
        }
      else
        for (guint i = 0; i < T; i++)
          {
            wait_done (c, done_b[i][g]);
            sync_all (c, FALSE);
            plan_dequant (c, i);
            sync_all (c, FALSE);
          }
      finish_rank (c);
    }
  for (guint i = 0; i < T; i++)
    {
      g_free (done_a[i]);
      g_free (done_b[i]);
    }
  g_free (done_a);
  g_free (done_b);
  return ok;
}
