/* npusim — AllGatherMatmulV2 compute: the AIC tiles of a step and the AIV dequant
 * epilogue.
 *
 * AIC (gather_matmul.hpp Matmul / FixpipeMatmul): step s has actualP·W·nLoop tiles of
 * m0 x n0 (full K), numbered loopOffset = 0 .. and given to AIC core (coreLoops +
 * s·pValue·nLoop·W + loopOffset) mod coreNum, coreLoops = mLoop·nLoop; the source rank
 * of a tile is loopOffset mod W and its place in the step's actualP x nLoop grid is
 * the swizzle (swizzlDirect, swizzlCount) of loopOffset / W. A comes from x1 (or its
 * padded copy) for my own rows, else from my window's slot s % 2. fp16/bf16 tiles are
 * cast by the fixpipe; int8 tiles write int32 into the workspace, or (INT64 scale,
 * fp16 output) are dequantised by the fixpipe.
 *
 * AIV epilogue (all_gather_matmul_aiv_mode_dequant.h DequantRunner): the step's rows
 * of every source rank in m0 x n0 block tiles, block loopIdx handled by AIV block
 * loopIdx mod coreNum (swizzle direction 0 for per-channel, 1 for per-token only,
 * count 3), each block tile cut into 64 x 128 sub-tiles taken alternately by the
 * block's two AIVs (BlockEpilogue). Cost per sub-tile: npu_cost_vector with one pass
 * per vector instruction (cast in, one multiply per scale, cast out) and the GM bytes
 * of the int32 / fp16 input, the output and the scales. */
#include "ops/agmm-plan.h"
#include <string.h>

#define EPI_M 64
#define EPI_N 128

static guint64
box_index (const AgmmPlan *pl, guint s_or_slot, guint src, guint mi, guint ni)
{
  const AgmmTiling *t = &pl->a->t;
  return (((guint64) s_or_slot * pl->W + src) * t->p_value + mi) * t->n_loop + ni;
}

static guint64
box_elems (const AgmmPlan *pl)
{
  return (guint64) pl->a->t.m0 * pl->a->t.n0;
}

/* First int32 accumulator element of (step s, source src) in the workspace. */
static guint64
acc_block (const AgmmPlan *pl, guint s, guint src)
{
  const AgmmOp *a = pl->a;
  gint64 step = (gint64) a->t.m0 * a->t.p_value;
  if (a->acc_pingpong)
    return ((guint64) (s % 2) * pl->W + src) * step * a->n;
  return ((guint64) src * a->m + (guint64) s * step) * a->n;
}

static NpuGemmOperand
b_operand (AgmmPlan *pl, guint g, guint ni, gint64 cols)
{
  AgmmOp *a = pl->a;
  const guint8 *base = a->pad_b ? pl->r[g].bpad : npu_tensor_const_data (a->x2t[g]);
  NpuGemmOperand b = { NULL, a->in_dt, a->k, cols, 0, 0 };
  gint64 col0 = (gint64) ni * a->t.n0;
  if (!a->trans_b)
    {
      b.row_stride = a->pad_b ? a->n_align : a->n;
      b.col_stride = 1;
    }
  else
    {
      b.row_stride = 1;
      b.col_stride = a->pad_b ? a->k_align : a->k;
    }
  if (base != NULL)
    b.data = base + (guint64) col0 * b.col_stride * pl->es;
  return b;
}

void
agmm_plan_tiles (AgmmPlan *pl, guint g, guint s)
{
  AgmmOp *a = pl->a;
  AgmmRank *r = &pl->r[g];
  const AgmmTiling *t = &a->t;
  guint W = pl->W;
  gint64 rows_s = agmm_step_rows (a, s);
  gint64 row0 = (gint64) s * t->m0 * t->p_value;
  guint actual_p = (guint) ((rows_s + t->m0 - 1) / t->m0);
  guint64 loop_st = (guint64) t->m_loop * t->n_loop + (guint64) s * t->p_value * t->n_loop * W;
  guint n_tiles = actual_p * W * (guint) t->n_loop;
  gsize os = npu_dtype_size (a->out_dt);
  guint8 *out = npu_tensor_data (a->outt[g]);
  const guint64 *packed = a->fixpipe ? npu_tensor_const_data (a->x2st[g]) : NULL;
  gboolean to_acc = a->quant && !a->fixpipe;
  NpuTask *done = npu_graph_task_new (pl->env->graph, "AIC step done");
  npu_task_set_hidden (done);
  for (guint lo = 0; lo < n_tiles; lo++)
    {
      guint core = (guint) ((loop_st + lo) % pl->n_aic);
      guint src = lo % W, mi, ni;
      npu_mm_swizzle (lo / W, actual_p, (guint) t->n_loop, (guint) t->swizzl_direct,
                      (guint) t->swizzl_count, &mi, &ni);
      gint64 tr = mi == actual_p - 1 ? rows_s - (gint64) mi * t->m0 : t->m0;
      gint64 tc = ni == (guint) t->n_loop - 1 ? a->n - (gint64) ni * t->n0 : t->n0;
      NpuCubeTile tile = { 0 };
      tile.a.dtype = a->in_dt;
      tile.a.rows = tr;
      tile.a.cols = a->k;
      tile.a.col_stride = 1;
      if (src == g)
        {
          const guint8 *base = a->pad_a ? r->apad : npu_tensor_const_data (a->x1t[g]);
          guint64 off = (guint64) (row0 + (gint64) mi * t->m0) * pl->a_stride * pl->es;
          tile.a.row_stride = pl->a_stride;
          tile.a.data = base == NULL ? NULL : base + off;
          tile.reads[0].buffer = a->pad_a ? r->b_apad : r->b_x1;
          tile.reads[0].offset = off;
          tile.reads[0].length = ((guint64) (tr - 1) * pl->a_stride + a->k) * pl->es;
        }
      else
        {
          guint64 off = agmm_window_slot_offset (pl, s % 2, src)
                        + (guint64) mi * t->m0 * a->k_align * pl->es;
          tile.a.row_stride = a->k_align;
          tile.a.data = r->window == NULL ? NULL : r->window + off;
          tile.reads[0].buffer = r->b_window;
          tile.reads[0].offset = off;
          tile.reads[0].length = (guint64) tr * a->k_align * pl->es;
        }
      tile.b = b_operand (pl, g, ni, tc);
      if (a->pad_b)
        {
          tile.reads[1].buffer = r->b_bpad;
          tile.reads[1].offset = 0;
          tile.reads[1].length = (guint64) (a->trans_b ? a->n * a->k_align : a->k * a->n_align)
                                 * pl->es;
        }
      tile.m_begin = 0;
      tile.m = tr;
      tile.n_begin = 0;
      tile.n = tc;
      guint8 *scratch = r->scratch == NULL ? NULL
                        : r->scratch + (guint64) core * box_elems (pl) * 4;
      if (to_acc)
        {
          tile.acc = r->acc == NULL ? NULL
                     : r->acc + acc_block (pl, s, src) + (guint64) mi * t->m0 * a->n
                       + (guint64) ni * t->n0;
          tile.acc_ld = a->n;
          tile.out_elem_bytes = sizeof (gint32);
        }
      else
        {
          tile.acc = scratch;
          tile.acc_ld = tc;
          tile.out_elem_bytes = (guint) os;
        }
      g_autofree char *name = g_strdup_printf ("mm step %u r%u rows %" G_GINT64_FORMAT
                                               " cols %" G_GINT64_FORMAT, s,
                                               pl->r[src].rank, row0 + (gint64) mi * t->m0,
                                               (gint64) ni * t->n0);
      NpuTask *cube = npu_cube_task_new (pl->op, pl->env, g, core, name, &tile);
      npu_task_depends_on (cube, r->barrier); /* SetAicSync of this step */
      if (src != g && pl->flows)
        npu_task_add_trace_flow (pl->r[src].push[s * W + g], cube, "x1 chunk");
      if (to_acc)
        {
          npu_task_writes (cube, r->b_acc,
                           box_index (pl, a->acc_pingpong ? s % 2 : s, src, mi, ni)
                           * box_elems (pl) * sizeof (gint32),
                           box_elems (pl) * sizeof (gint32));
          npu_task_depends_on (done, cube);
          continue;
        }
      guint8 *dst = out == NULL ? NULL
                    : out + (((guint64) src * a->m + row0 + (guint64) mi * t->m0) * a->n
                             + (guint64) ni * t->n0) * os;
      NpuTask *wo = npu_mm_writeout_task_new (
        pl->env, cube, a->fixpipe ? NPU_MM_OUT_FIXPIPE : NPU_MM_OUT_CAST, scratch, (guint) tr,
        (guint) tc, packed == NULL ? NULL : packed + (guint64) ni * t->n0, a->out_dt, dst, a->n,
        r->b_out_tiles, box_index (pl, s, src, mi, ni) * box_elems (pl) * os,
        box_elems (pl) * os);
      npu_task_depends_on (done, wo);
    }
  r->aic_done[s] = done;
}

/* ---- the AIV dequant epilogue ---- */

typedef struct {
  guint src;
  guint r0, c0, rows, cols;  /* within the step's rows of that source rank */
} Rect;

typedef struct {
  gboolean per_channel, per_token, fixpipe;
  NpuDtype out_dt;
  guint n;
  const gint32 *acc[8];      /* per source: the step's accumulator block */
  guint8 *out[8];            /* per source: the step's first output row */
  const float *x2s;
  const float *x1s[8];       /* per source: the step's first gathered scale */
  GArray *rects;
} Dequant;

static gboolean
dequant_effect (gpointer data, GError **error)
{
  Dequant *d = data;
  for (guint i = 0; i < d->rects->len; i++)
    {
      Rect *q = &g_array_index (d->rects, Rect, i);
      if (d->out[q->src] == NULL)
        return TRUE;
      npu_mm_epilogue_block (d->fixpipe, d->acc[q->src], d->out[q->src], d->out_dt, d->n, q->r0,
                             q->c0, q->rows, q->cols, d->x2s,
                             d->per_token ? d->x1s[q->src] : NULL);
    }
  return TRUE;
}

static void
dequant_free (gpointer data)
{
  Dequant *d = data;
  g_array_unref (d->rects);
  g_free (d);
}

void
agmm_plan_dequant (AgmmPlan *pl, guint g, guint s)
{
  AgmmOp *a = pl->a;
  AgmmRank *r = &pl->r[g];
  const AgmmTiling *t = &a->t;
  if (!a->aiv_per_channel && !a->per_token)
    return;
  guint W = pl->W;
  g_assert (W <= 8);
  gint64 rows_s = agmm_step_rows (a, s);
  gint64 row0 = (gint64) s * t->m0 * t->p_value;
  guint m_loop = (guint) ((rows_s + t->m0 - 1) / t->m0), n_loop = (guint) t->n_loop;
  guint block_loop = m_loop * n_loop, total = block_loop * W;
  guint dir = a->aiv_per_channel && !a->per_token ? 0 : !a->aiv_per_channel ? 1 : 0;
  gsize os = npu_dtype_size (a->out_dt);
  guint in_bytes = a->fixpipe ? (guint) os : sizeof (gint32);
  guint passes = 2 + (a->aiv_per_channel ? 1 : 0) + (a->per_token ? 1 : 0);
  guint8 *out = npu_tensor_data (a->outt[g]);
  const float *x2s = a->aiv_per_channel ? npu_tensor_const_data (a->x2st[g]) : NULL;
  for (guint b = 0; b < pl->n_aic && b < total; b++)
    for (guint sub = 0; sub < 2; sub++)
      {
        Dequant *d = g_new0 (Dequant, 1);
        d->per_channel = a->aiv_per_channel;
        d->per_token = a->per_token;
        d->fixpipe = a->fixpipe;
        d->out_dt = a->out_dt;
        d->n = (guint) a->n;
        d->x2s = x2s;
        d->rects = g_array_new (FALSE, FALSE, sizeof (Rect));
        for (guint j = 0; j < W; j++)
          {
            d->acc[j] = r->acc == NULL ? NULL : r->acc + acc_block (pl, s, j);
            d->out[j] = out == NULL ? NULL : out + ((guint64) j * a->m + row0) * a->n * os;
            d->x1s[j] = r->scale_ws == NULL ? NULL : r->scale_ws + (guint64) j * a->m + row0;
          }
        NpuTime cost = 0;
        guint64 elems = 0;
        GArray *boxes = g_array_new (FALSE, FALSE, sizeof (guint64));
        for (guint li = b; li < total; li += pl->n_aic)
          {
            guint src = li / block_loop, mi, ni;
            npu_mm_swizzle (li % block_loop, m_loop, n_loop, dir, 3, &mi, &ni);
            guint br = mi == m_loop - 1 ? (guint) (rows_s - (gint64) mi * t->m0) : (guint) t->m0;
            guint bc = ni == n_loop - 1 ? (guint) (a->n - (gint64) ni * t->n0) : (guint) t->n0;
            guint sub_m = (br + EPI_M - 1) / EPI_M, sub_n = (bc + EPI_N - 1) / EPI_N;
            for (guint q = sub; q < sub_m * sub_n; q += 2)
              {
                guint qr = q / sub_n, qc = q % sub_n;
                Rect rc = { src, mi * t->m0 + qr * EPI_M, ni * t->n0 + qc * EPI_N,
                            MIN (EPI_M, br - qr * EPI_M), MIN (EPI_N, bc - qc * EPI_N) };
                g_array_append_val (d->rects, rc);
                guint64 e = (guint64) rc.rows * rc.cols;
                elems += e;
                cost += npu_cost_vector (pl->hw, e, sizeof (float), passes,
                                         e * (in_bytes + os) + (guint64) rc.cols * 4
                                         + (guint64) rc.rows * 4);
                /* hazard stand-ins: the sub-tile's range of its tile box */
                guint64 box = box_index (pl, s, src, mi, ni) * box_elems (pl)
                              + (guint64) q * EPI_M * EPI_N;
                g_array_append_val (boxes, box);
                guint64 abox = box_index (pl, a->acc_pingpong ? s % 2 : s, src, mi, ni)
                               * box_elems (pl) + (guint64) q * EPI_M * EPI_N;
                g_array_append_val (boxes, abox);
                guint64 e64 = e;
                g_array_append_val (boxes, e64);
              }
          }
        if (d->rects->len == 0)
          {
            g_array_unref (boxes);
            dequant_free (d);
            continue;
          }
        g_autofree char *name = g_strdup_printf ("dequant step %u (%u tiles, %" G_GUINT64_FORMAT
                                                 " elements)", s, d->rects->len, elems);
        NpuTask *task = agmm_aiv_task (pl, g, 2 * b + sub, name, NPU_TASK_COMPUTE);
        npu_task_set_duration (task, cost);
        for (guint i = 0; i < boxes->len; i += 3)
          {
            guint64 box = g_array_index (boxes, guint64, i);
            guint64 abox = g_array_index (boxes, guint64, i + 1);
            guint64 e = g_array_index (boxes, guint64, i + 2);
            if (!a->fixpipe)
              npu_task_reads (task, r->b_acc, abox * sizeof (gint32), e * sizeof (gint32));
            else
              npu_task_reads (task, r->b_out_tiles, box * os, e * os);
            npu_task_writes (task, r->b_out_tiles, box * os, e * os);
          }
        if (a->per_token)
          npu_task_reads (task, r->b_scale_ws, 0, (guint64) W * a->m * 4);
        g_array_unref (boxes);
        npu_task_set_effect (task, dequant_effect, d, dequant_free);
      }
}
