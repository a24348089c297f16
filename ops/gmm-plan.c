/* npusim — GroupedMatMulAlltoAllv: the kernel's schedule as graph tasks
 * (REFERENCE §3.2, GroupedMatmulAlltoAllv::Process, MIX_AIC_1_2):
 *
 *   launch (cost.kernel_launch_us)
 *   for expert j:  AIC: the expert's blocks, block b on core b mod 24
 *                  (GMMProcess), each a cube task over the whole H1;
 *                  SyncAll (all cores);
 *                  AIV 0: Commit of AlltoAllV j -> HCCL's AICPU server issues it
 *                  (ops/gmm-a2av.c) while the AICs go on with expert j+1
 *   AIC: the shared expert's blocks (ShareMatMulCompute); SyncAll;
 *   AIV 0: Wait for every AlltoAllV; Finalize.
 *
 * SyncAll, Commit and Wait are GM flag handshakes: each is modelled as one flag poll
 * (cost.flag_poll_us) on AIV 0. Block durations come from models/cost.h
 * (npu_cost_cube_tile, fp16/bf16 datapath, 2-byte operands and output). Data: a block
 * task's effect runs the reference GEMM (ops/gemm.h: fp32, increasing k) on its rows
 * and columns and rounds the accumulator once to the output dtype (the fixpipe:
 * round to nearest even, fp16 saturating). */
#include "ops/gmm-private.h"
#include <string.h>
#include "ops/gemm.h"

typedef struct {
  NpuGemmOperand a, b;  /* a: the matmul's rows (m_total x k), b: k x n_total */
  gint64 m0, m, n0, n;
  NpuDtype out_dt;
  guint8 *out;          /* row 0 of the matmul's output; NULL in timing-only mode */
  gint64 out_ld;        /* elements */
} Block;

static gboolean
block_effect (gpointer data, GError **error)
{
  Block *bl = data;
  if (bl->out == NULL || bl->a.data == NULL || bl->b.data == NULL)
    return TRUE;
  gsize ea = npu_dtype_size (bl->a.dtype), eb = npu_dtype_size (bl->b.dtype);
  NpuGemmOperand a = bl->a, b = bl->b;
  a.data = (const guint8 *) bl->a.data + (gsize) (bl->m0 * bl->a.row_stride) * ea;
  a.rows = bl->m;
  b.data = (const guint8 *) bl->b.data + (gsize) (bl->n0 * bl->b.col_stride) * eb;
  b.cols = bl->n;
  g_autofree float *acc = g_new (float, (gsize) (bl->m * bl->n));
  npu_gemm_f32acc (&a, &b, acc, 0);
  gsize eo = npu_dtype_size (bl->out_dt);
  for (gint64 i = 0; i < bl->m; i++)
    npu_convert_f32_array (bl->out_dt, acc + i * bl->n,
                           bl->out + (gsize) ((bl->m0 + i) * bl->out_ld + bl->n0) * eo,
                           (gsize) bl->n);
  return TRUE;
}

/* One matmul (an expert's group, or the shared expert) dealt to the AIC cores as the
 * kernel's GMMProcess::Process does. Every block depends on @after; returns the
 * blocks in @blocks. Block (mIdx, nIdx) writes byte @tiles_lo + mIdx·dimN + nIdx of
 * @tiles_buf when @tiles_buf != G_MAXUINT. */
static void
plan_matmul (GmmOp *op, const NpuOpEnv *env, guint g, const char *what, const NpuGmmBase *base,
             const NpuGemmOperand *a, const NpuGemmOperand *b, guint8 *out, NpuTask *after,
             guint tiles_buf, guint64 tiles_lo, GPtrArray *blocks)
{
  guint m = (guint) a->rows, n = (guint) b->cols, k = (guint) a->cols;
  if (m == 0 || n == 0 || k == 0)
    return; /* GMMProcess::Process returns: no block */
  guint dim_m = (m + base->base_m - 1) / base->base_m;
  guint dim_n = (n + base->base_n - 1) / base->base_n;
  guint rank = npu_op_rank_of (&op->base, g);
  guint cores = MIN (GMM_CORE_NUM, env->hw->aic_count);
  for (guint bi = 0; bi < dim_m * dim_n; bi++)
    {
      guint mi, ni;
      npu_gmm_block_idx (bi, dim_m, dim_n, &mi, &ni);
      Block *bl = g_new0 (Block, 1);
      bl->a = *a;
      bl->b = *b;
      bl->m0 = (gint64) mi * base->base_m;
      bl->m = MIN (base->base_m, m - (guint) bl->m0);
      bl->n0 = (gint64) ni * base->base_n;
      bl->n = MIN (base->base_n, n - (guint) bl->n0);
      bl->out_dt = op->dtype;
      bl->out = out;
      bl->out_ld = n;
      guint core = bi % cores;
      g_autofree char *name = g_strdup_printf ("%s m%u n%u", what, mi, ni);
      NpuTask *t = npu_op_task_new (&op->base, env, g, name, NPU_TASK_COMPUTE, NPU_TRACK_AIC, core);
      npu_task_set_server (t, npu_cluster_aic (env->cluster, rank, core));
      npu_task_set_duration (t, npu_cost_cube_tile (env->hw, (guint) bl->m, (guint) bl->n, k,
                                                    NPU_CUBE_F16, 2, 2));
      npu_task_depends_on (t, after);
      if (tiles_buf != G_MAXUINT)
        npu_task_writes (t, tiles_buf, tiles_lo + (guint64) mi * dim_n + ni, 1);
      npu_task_set_effect (t, block_effect, bl, g_free);
      g_ptr_array_add (blocks, t);
    }
}

/* A GM flag handshake on AIV 0 (SyncAll, Commit, Wait): one flag poll. */
static NpuTask *
aiv0_task (GmmOp *op, const NpuOpEnv *env, guint g, const char *name, GPtrArray *deps,
           NpuTask *dep)
{
  guint rank = npu_op_rank_of (&op->base, g);
  NpuTask *t = npu_op_task_new (&op->base, env, g, name, NPU_TASK_CONTROL, NPU_TRACK_AIV, 0);
  npu_task_set_server (t, npu_cluster_aiv (env->cluster, rank, 0));
  npu_task_set_duration (t, env->hw->flag_poll_ps);
  for (guint i = 0; deps != NULL && i < deps->len; i++)
    npu_task_depends_on (t, g_ptr_array_index (deps, i));
  if (dep != NULL)
    npu_task_depends_on (t, dep);
  return t;
}

static NpuGemmOperand
operand (NpuTensor *t, NpuDtype dt, gsize offset_elems, gint64 rows, gint64 cols,
         gboolean transposed)
{
  NpuGemmOperand o = { 0 };
  gpointer data = t != NULL ? npu_tensor_data (t) : NULL;
  o.data = data != NULL ? (const guint8 *) data + offset_elems * npu_dtype_size (dt) : NULL;
  o.dtype = dt;
  o.rows = rows;
  o.cols = cols;
  /* stored rows x cols, or cols x rows when transposed */
  o.row_stride = transposed ? 1 : cols;
  o.col_stride = transposed ? rows : 1;
  return o;
}

gboolean
gmm_plan (NpuOp *base, const NpuOpEnv *env, GError **error)
{
  GmmOp *op = (GmmOp *) base;
  guint n = op->n;
  guint e = (guint) op->e;
  NpuDtype dt = op->dtype;

  /* tile spaces of the gmmY workspace: expert j's blocks at tiles_lo[g][j] */
  g_autofree guint64 *tiles_lo = g_new0 (guint64, (gsize) n * (e + 1));
  g_autofree GmmCommBuffers *bufs = g_new0 (GmmCommBuffers, n);
  for (guint g = 0; g < n; g++)
    {
      const NpuGmmBase *gb = &op->gbase_r[g];
      guint dim_n = (guint) ((op->n1 + gb->base_n - 1) / gb->base_n);
      for (guint j = 0; j < e; j++)
        {
          guint64 m = op->expert_row0[g][j + 1] - op->expert_row0[g][j];
          tiles_lo[g * (e + 1) + j + 1] = tiles_lo[g * (e + 1) + j]
                                          + (m + gb->base_m - 1) / gb->base_m * dim_n;
        }
      guint rank = npu_op_rank_of (base, g);
      g_autofree char *tn = g_strdup_printf ("r%u.%s.gmmY", rank, base->name);
      g_autofree char *yn = g_strdup_printf ("r%u.%s.y", rank, base->name);
      bufs[g].tiles_buf = npu_graph_add_buffer (env->graph, tn,
                                                MAX (tiles_lo[g * (e + 1) + e], 1));
      bufs[g].y_buf = npu_graph_add_buffer (env->graph, yn,
                                            MAX (npu_tensor_nbytes (op->t[GT_Y][g]), 1));
    }
  GmmComm *comm = gmm_comm_new (op, env, bufs, error);
  if (comm == NULL)
    return FALSE;

  g_autofree NpuTask **sync = g_new0 (NpuTask *, n);   /* last SyncAll (AICs go on) */
  g_autofree NpuTask **aiv0 = g_new0 (NpuTask *, n);   /* AIV 0's last task */
  g_autofree NpuTask **commit = g_new0 (NpuTask *, n);
  g_autofree NpuTask **done = g_new0 (NpuTask *, n);
  g_autofree guint64 *lo = g_new0 (guint64, n), *hi = g_new0 (guint64, n);
  g_autoptr (GPtrArray) waits = g_ptr_array_new ();   /* every AlltoAllV's end, per rank */
  GPtrArray **ends = g_new0 (GPtrArray *, n);
  for (guint g = 0; g < n; g++)
    {
      sync[g] = aiv0[g] = npu_op_begin (base, env, g, env->hw->kernel_launch_ps);
      ends[g] = g_ptr_array_new ();
    }
  for (guint j = 0; j < e; j++)
    {
      for (guint g = 0; g < n; g++)
        {
          g_autoptr (GPtrArray) blocks = g_ptr_array_new ();
          guint64 r0 = op->expert_row0[g][j], rows = op->expert_row0[g][j + 1] - r0;
          NpuGemmOperand a = operand (op->t[GT_GMM_X][g], dt, r0 * (guint64) op->h1,
                                      (gint64) rows, op->h1, FALSE);
          NpuGemmOperand b = operand (op->t[GT_GMM_W][g], dt, (gsize) j * op->h1 * op->n1,
                                      op->h1, op->n1, op->trans_w);
          guint8 *out = op->gmm_out != NULL
            ? op->gmm_out[g] + r0 * (guint64) op->n1 * npu_dtype_size (dt) : NULL;
          g_autofree char *what = g_strdup_printf ("GMM e%u", j);
          lo[g] = tiles_lo[g * (e + 1) + j];
          hi[g] = tiles_lo[g * (e + 1) + j + 1];
          plan_matmul (op, env, g, what, &op->gbase_r[g], &a, &b, out, sync[g],
                       bufs[g].tiles_buf, lo[g], blocks);
          g_autofree char *sname = g_strdup_printf ("SyncAll (expert %u)", j);
          sync[g] = aiv0_task (op, env, g, sname, blocks, aiv0[g]);
          g_autofree char *cname = g_strdup_printf ("Commit AlltoAllV (expert %u)", j);
          commit[g] = aiv0[g] = aiv0_task (op, env, g, cname, NULL, sync[g]);
        }
      gmm_comm_expert (comm, j, commit, lo, hi, done);
      for (guint g = 0; g < n; g++)
        g_ptr_array_add (ends[g], done[g]);
    }
  for (guint g = 0; g < n; g++)
    {
      g_autoptr (GPtrArray) blocks = g_ptr_array_new ();
      if (op->shared)
        {
          NpuGemmOperand a = operand (op->t[GT_MM_X][g], dt, 0, op->bs, op->h2, FALSE);
          NpuGemmOperand b = operand (op->t[GT_MM_W][g], dt, 0, op->h2, op->n2, op->trans_mm);
          guint8 *out = npu_tensor_data (op->t[GT_MM_Y][g]);
          plan_matmul (op, env, g, "MM shared", &op->sbase, &a, &b, out, sync[g], G_MAXUINT, 0,
                       blocks);
        }
      NpuTask *s = aiv0_task (op, env, g, "SyncAll", blocks, aiv0[g]);
      NpuTask *w = aiv0_task (op, env, g, "Wait AlltoAllV", ends[g], s);
      g_ptr_array_set_size (waits, 0);
      g_ptr_array_add (waits, w);
      npu_op_finish (base, env, g, waits);
      g_ptr_array_unref (ends[g]);
    }
  g_free (ends);
  gmm_comm_free (comm);
  return TRUE;
}
