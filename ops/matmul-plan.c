/* npusim — MatMul / QuantMatMul plan (ops/matmul.h): per rank one kernel launch, the
 * 128 x 256 tiles on the AIC cores (ops/cube.h), the fixpipe write-out or, for the
 * int8 AIV path, the dequant epilogue of each tile on the two AIVs of its block. */
#include "ops/matmul-private.h"
#include "models/cost.h"

#define EPI_M 64
#define EPI_N 128

typedef struct {
  gboolean fixpipe;
  NpuDtype out_dt;
  guint n;
  const gint32 *acc;         /* tile's first accumulator (row stride n) */
  guint8 *out;               /* tile's first output element (row stride n) */
  const float *x2s, *x1s;    /* tile's first column / row scales (nullable) */
  GArray *rects;             /* guint quadruples r0, c0, rows, cols within the tile */
} Epi;

static gboolean
epi_effect (gpointer data, GError **error)
{
  Epi *e = data;
  if (e->out == NULL)
    return TRUE;
  for (guint i = 0; i < e->rects->len; i += 4)
    npu_mm_epilogue_block (e->fixpipe, e->acc, e->out, e->out_dt, e->n,
                           g_array_index (e->rects, guint, i),
                           g_array_index (e->rects, guint, i + 1),
                           g_array_index (e->rects, guint, i + 2),
                           g_array_index (e->rects, guint, i + 3), e->x2s, e->x1s);
  return TRUE;
}

static void
epi_free (gpointer data)
{
  Epi *e = data;
  g_array_unref (e->rects);
  g_free (e);
}

static guint
buffer (const NpuOpEnv *env, NpuOp *op, guint rank, const char *what, guint64 size)
{
  g_autofree char *name = g_strdup_printf ("r%u.%s.%s", rank, op->name, what);
  return npu_graph_add_buffer (env->graph, name, MAX (size, 1));
}

gboolean
mm_plan (MmOp *mm, const NpuOpEnv *env, GError **error)
{
  NpuOp *op = &mm->base;
  const NpuHw *hw = env->hw;
  guint n_aic = hw->aic_count, n_aiv = 2 * hw->aic_count;
  guint W = mm->n_ranks;
  gsize es = npu_dtype_size (mm->in_dt), os = npu_dtype_size (mm->out_dt);
  guint m_loop = (guint) ((mm->m + MM_M0 - 1) / MM_M0);
  guint n_loop = (guint) ((mm->n + MM_N0 - 1) / MM_N0);
  guint64 box = (guint64) MM_M0 * MM_N0;
  gboolean to_acc = mm->quant && !mm->fixpipe;
  gboolean epilogue = mm->quant && (!mm->fixpipe || mm->per_token);
  guint passes = 2 + (to_acc ? 1 : 0) + (mm->per_token ? 1 : 0);
  for (guint g = 0; g < W; g++)
    {
      guint rank = npu_op_rank_of (op, g);
      NpuTask *begin = npu_op_begin (op, env, g, hw->kernel_launch_ps);
      guint b_x1 = buffer (env, op, rank, "x1", (guint64) mm->m * mm->k * es);
      guint b_acc = buffer (env, op, rank, "accumulator(tiles)",
                            (guint64) m_loop * n_loop * box * 4);
      guint b_out = buffer (env, op, rank, "output(tiles)", (guint64) m_loop * n_loop * box * os);
      guint8 *scratch = NULL;
      gint32 *acc = NULL;
      if (env->data_mode)
        {
          if (to_acc)
            acc = g_try_malloc0 ((gsize) mm->m * mm->n * sizeof (gint32));
          else
            scratch = g_try_malloc0 ((gsize) n_aic * box * 4);
          if ((to_acc && acc == NULL) || (!to_acc && scratch == NULL))
            {
              g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                           "%s: cannot allocate the matmul workspace", mm->path);
              return FALSE;
            }
          g_ptr_array_add (op->owned, to_acc ? (gpointer) acc : (gpointer) scratch);
        }
      const guint8 *x1d = npu_tensor_const_data (mm->x1[g]);
      const guint8 *x2d = npu_tensor_const_data (mm->x2[g]);
      guint8 *outd = npu_tensor_data (mm->out[g]);
      const guint64 *packed = mm->fixpipe ? npu_tensor_const_data (mm->x2s[g]) : NULL;
      const float *x2s = to_acc ? npu_tensor_const_data (mm->x2s[g]) : NULL;
      const float *x1s = mm->per_token ? npu_tensor_const_data (mm->x1s[g]) : NULL;
      g_autofree NpuTask **aiv_last = g_new0 (NpuTask *, n_aiv);
      g_autoptr (GPtrArray) deps = g_ptr_array_new ();
      for (guint t = 0; t < m_loop * n_loop; t++)
        {
          guint core = t % n_aic, mi, ni;
          npu_mm_swizzle (t, m_loop, n_loop, 1, 3, &mi, &ni);
          gint64 r0 = (gint64) mi * MM_M0, c0 = (gint64) ni * MM_N0;
          gint64 tr = MIN ((gint64) MM_M0, mm->m - r0), tc = MIN ((gint64) MM_N0, mm->n - c0);
          NpuCubeTile tile = { 0 };
          tile.a = (NpuGemmOperand) { x1d == NULL ? NULL : x1d + (guint64) r0 * mm->k * es,
                                      mm->in_dt, tr, mm->k, mm->k, 1 };
          tile.b.dtype = mm->in_dt;
          tile.b.rows = mm->k;
          tile.b.cols = tc;
          tile.b.row_stride = mm->trans_b ? 1 : mm->n;
          tile.b.col_stride = mm->trans_b ? mm->k : 1;
          tile.b.data = x2d == NULL ? NULL : x2d + (guint64) c0 * tile.b.col_stride * es;
          tile.m = tr;
          tile.n = tc;
          tile.reads[0].buffer = b_x1;
          tile.reads[0].offset = (guint64) r0 * mm->k * es;
          tile.reads[0].length = (guint64) tr * mm->k * es;
          guint8 *sc = scratch == NULL ? NULL : scratch + (guint64) core * box * 4;
          if (to_acc)
            {
              tile.acc = acc == NULL ? NULL : acc + (guint64) r0 * mm->n + c0;
              tile.acc_ld = mm->n;
              tile.out_elem_bytes = sizeof (gint32);
            }
          else
            {
              tile.acc = sc;
              tile.acc_ld = tc;
              tile.out_elem_bytes = (guint) os;
            }
          g_autofree char *name = g_strdup_printf ("mm rows %" G_GINT64_FORMAT " cols %"
                                                   G_GINT64_FORMAT, r0, c0);
          NpuTask *cube = npu_cube_task_new (op, env, g, core, name, &tile);
          npu_task_depends_on (cube, begin);
          NpuTask *last = cube;
          guint8 *out_tile = outd == NULL ? NULL : outd + ((guint64) r0 * mm->n + c0) * os;
          if (to_acc)
            npu_task_writes (cube, b_acc, (guint64) t * box * 4, box * 4);
          else
            last = npu_mm_writeout_task_new (env, cube, mm->fixpipe ? NPU_MM_OUT_FIXPIPE
                                                                    : NPU_MM_OUT_CAST,
                                             sc, (guint) tr, (guint) tc,
                                             packed == NULL ? NULL : packed + c0, mm->out_dt,
                                             out_tile, mm->n, b_out, (guint64) t * box * os,
                                             box * os);
          if (!epilogue)
            {
              g_ptr_array_add (deps, last);
              continue;
            }
          guint sub_m = (guint) ((tr + EPI_M - 1) / EPI_M), sub_n = (guint) ((tc + EPI_N - 1) / EPI_N);
          for (guint sub = 0; sub < 2 && sub < sub_m * sub_n; sub++)
            {
              guint c = 2 * core + sub;
              Epi *e = g_new0 (Epi, 1);
              *e = (Epi) { mm->fixpipe, mm->out_dt, (guint) mm->n,
                           acc == NULL ? NULL : acc + (guint64) r0 * mm->n + c0, out_tile,
                           x2s == NULL ? NULL : x2s + c0, x1s == NULL ? NULL : x1s + r0,
                           g_array_new (FALSE, FALSE, sizeof (guint)) };
              NpuTime cost = 0;
              g_autofree char *ename = g_strdup_printf ("dequant rows %" G_GINT64_FORMAT
                                                        " cols %" G_GINT64_FORMAT, r0, c0);
              NpuTask *et = npu_op_task_new (op, env, g, ename, NPU_TASK_COMPUTE, NPU_TRACK_AIV, c);
              npu_task_set_server (et, npu_cluster_aiv (env->cluster, rank, c));
              npu_task_depends_on (et, last);
              if (aiv_last[c] != NULL)
                npu_task_depends_on (et, aiv_last[c]);
              aiv_last[c] = et;
              for (guint q = sub; q < sub_m * sub_n; q += 2)
                {
                  guint qr = q / sub_n, qc = q % sub_n;
                  guint rect[4] = { qr * EPI_M, qc * EPI_N, MIN (EPI_M, (guint) tr - qr * EPI_M),
                                    MIN (EPI_N, (guint) tc - qc * EPI_N) };
                  g_array_append_vals (e->rects, rect, 4);
                  guint64 el = (guint64) rect[2] * rect[3];
                  cost += npu_cost_vector (hw, el, sizeof (float), passes,
                                           el * ((mm->fixpipe ? os : 4) + os)
                                           + (guint64) rect[3] * 4 + (guint64) rect[2] * 4);
                  guint64 sub_off = (guint64) t * box + (guint64) q * EPI_M * EPI_N;
                  if (to_acc)
                    npu_task_reads (et, b_acc, sub_off * 4, el * 4);
                  else
                    npu_task_reads (et, b_out, sub_off * os, el * os);
                  npu_task_writes (et, b_out, sub_off * os, el * os);
                }
              npu_task_set_duration (et, cost);
              npu_task_set_effect (et, epi_effect, e, epi_free);
              g_ptr_array_add (deps, et);
            }
        }
      npu_op_finish (op, env, g, deps);
    }
  return TRUE;
}
