/* npusim — "MoeExperts": the experts' work on each rank's expandX between dispatch and
 * combine. Not an aclnn operator: a scenario stand-in for the grouped matmul of a real
 * layer, with documented numerics (docs/ops/MoeDistributeCombine.md "Experts"):
 *
 *   identity: y = expandX (quantMode 0), or y = round(fp32(q) * dynamicScales[row])
 *             to the token dtype (quantMode 2: int8 -> fp16 -> fp32, one fp32 Mul, RINT);
 *   matmul:   per local expert e, y[rows of e] = expandX[rows of e] @ W[e] (H x H):
 *             fp16/bf16: fp32 accumulation (ops/gemm.h order), RINT to the dtype;
 *             int8: int32 accumulation, fp32(acc) * wScale[e][n] * dynamicScales[row]
 *             (two fp32 Muls in that order), RINT to the token dtype.
 * Timing: identity on the AIV cores (a vector pass per row), matmul as AIC cube tiles
 * (ops/cube.h) of 128 rows x 256 columns over the full H, round-robin over the AICs,
 * then an AIV epilogue. With TP 2 every TP rank runs the experts on all its rows (its
 * own and its TP peer's). */
#include "ops/moe-private.h"
#include "ops/cube.h"
#include <string.h>

typedef struct {
  MoeExperts *x;
  guint g;
  guint first, count;    /* rows */
  float *acc;            /* matmul accumulator (float or gint32), rows x H, or NULL */
} EpiJob;

static gboolean
epilogue_effect (gpointer data, GError **error)
{
  EpiJob *job = data;
  MoeExperts *x = job->x;
  MoeDispatch *d = x->dispatch;
  const MoeAttrs *a = &d->a;
  guint g = job->g, h = a->h;
  guint8 *y = x->y[g] != NULL ? npu_tensor_data (x->y[g]) : NULL;
  if (y == NULL)
    return TRUE;
  gsize yb = npu_dtype_size (a->x_dtype);
  const guint8 *ex = npu_tensor_data (d->expand_x[g]);
  const float *ds = d->dyn_scales[g] != NULL ? npu_tensor_data (d->dyn_scales[g]) : NULL;
  const MoeLayout *l = d->layout;
  const MoeRankLayout *r = &l->r[g];
  g_autofree float *tmp = g_new (float, h);
  for (guint row = job->first; row < job->first + job->count; row++)
    {
      if (x->ekind == MOE_EXPERT_IDENTITY)
        {
          if (a->quant_mode != 2)
            {
              memcpy (y + (gsize) row * h * yb, ex + (gsize) row * h * yb, (gsize) h * yb);
              continue;
            }
          const gint8 *q = (const gint8 *) ex + (gsize) row * h;
          for (guint i = 0; i < h; i++)
            tmp[i] = (float) q[i] * ds[row];
        }
      else if (a->quant_mode == 2)
        {
          /* local expert of the row: its block's expert index */
          guint le = 0;
          if (row < r->rows_own && !moe_is_shared_rank (a, g / a->tpn))
            {
              guint i = 0;
              while (i + 1 < r->n_blocks && r->blk_first[i + 1] <= row)
                i++;
              le = i / a->ep;
            }
          const float *ws = (const float *) npu_tensor_data (x->w_scale[g]) + (gsize) le * h;
          const gint32 *acc = (const gint32 *) job->acc + (gsize) row * h;
          for (guint i = 0; i < h; i++)
            {
              float v = (float) acc[i] * ws[i];
              tmp[i] = v * ds[row];
            }
        }
      else
        memcpy (tmp, job->acc + (gsize) row * h, sizeof (float) * h);
      npu_convert_f32_array (a->x_dtype, tmp, y + (gsize) row * h * yb, h);
    }
  (void) error;
  return TRUE;
}

static void
experts_finalize (NpuOp *op)
{
  MoeExperts *x = (MoeExperts *) op;
  moe_op_base_clear (&x->b);
  if (x->w_init != NULL)
    json_decref (x->w_init);
  g_free (x->w);
  g_free (x->w_scale);
  g_free (x->y);
  g_free (x->buf_y);
}

static NpuOp *
experts_create (const json_t *spec, const char *path, const NpuOpEnv *env, GError **error)
{
  static const char *const keys[] = { "dispatch", "expert", "inputs", "keepOutput", "untimed",
                                      NULL };
  g_autoptr (NpuOp) op = (NpuOp *) g_new0 (MoeExperts, 1);
  MoeExperts *x = (MoeExperts *) op;
  moe_op_base_init (&x->b, &npu_moe_experts_class, MOE_KIND_EXPERTS, 0, path, env);
  const char *dname, *kind;
  if (!npu_spec_check_keys (spec, keys, path, error)
      || !npu_spec_get_string (spec, "dispatch", path, TRUE, NULL, &dname, error)
      || !npu_spec_get_string (spec, "expert", path, FALSE, "identity", &kind, error)
      || !npu_spec_get_bool (spec, "keepOutput", path, TRUE, &x->keep, error)
      || !npu_spec_get_bool (spec, "untimed", path, FALSE, &x->untimed, error))
    return NULL;
  x->dispatch = moe_find_dispatch (env, dname, path, error);
  if (x->dispatch == NULL)
    return NULL;
  if (g_str_equal (kind, "identity"))
    x->ekind = MOE_EXPERT_IDENTITY;
  else if (g_str_equal (kind, "matmul"))
    x->ekind = MOE_EXPERT_MATMUL;
  else
    return (npu_spec_error (error, "%s.expert: '%s' is not \"identity\" or \"matmul\"", path,
                            kind), NULL);
  const MoeAttrs *a = &x->dispatch->a;
  static const char *const in_keys[] = { "weights", NULL };
  json_t *inputs;
  if (!moe_check_dispatch_group (x->dispatch, env, path, error)
      || !npu_spec_get_object (spec, "inputs", path, in_keys, NULL, &inputs, error))
    return NULL;
  x->w_dtype = a->quant_mode == 2 ? NPU_DT_INT8 : a->x_dtype;
  json_t *w = json_object_get (inputs, "weights");
  if (w != NULL)
    x->w_init = json_incref (w);
  if (x->untimed && x->ekind != MOE_EXPERT_IDENTITY)
    return (npu_spec_error (error, "%s.untimed: only identity experts can be untimed", path),
            NULL);
  if (!x->keep && x->ekind != MOE_EXPERT_IDENTITY)
    return (npu_spec_error (error, "%s.keepOutput: only identity experts can leave their output "
                            "virtual", path), NULL);
  json_object_set_new (op->attrs, "dispatch", json_string (dname));
  json_object_set_new (op->attrs, "expert", json_string (kind));
  json_object_set_new (op->attrs, "keepOutput", json_boolean (x->keep));
  json_object_set_new (op->attrs, "untimed", json_boolean (x->untimed));
  json_object_set_new (op->attrs, "inputFrom", json_pack ("{s:s}", "expandX",
                                                          dname));
  return g_steal_pointer (&op);
}

static guint64
experts_data_bytes (NpuOp *op)
{
  MoeExperts *x = (MoeExperts *) op;
  const MoeAttrs *a = &x->dispatch->a;
  guint64 tokens = 0;
  for (guint g = 0; g < a->n; g++)
    tokens += a->bs[g];
  guint64 rows = tokens * (a->k + a->shared_experts) * a->tpn;
  guint64 b = x->keep ? rows * a->h * npu_dtype_size (a->x_dtype) : 0;
  if (x->ekind == MOE_EXPERT_MATMUL)
    b += rows * a->h * 4 + (guint64) a->n * moe_local_experts (a) * a->h * a->h
                           * npu_dtype_size (x->w_dtype);
  return b;
}

static gboolean
experts_prepare (NpuOp *op, const NpuOpEnv *env, GError **error)
{
  MoeExperts *x = (MoeExperts *) op;
  MoeDispatch *d = x->dispatch;
  const MoeAttrs *a = &d->a;
  guint n = a->n;
  x->w = g_new0 (NpuTensor *, n);
  x->w_scale = g_new0 (NpuTensor *, n);
  x->y = g_new0 (NpuTensor *, n);
  x->buf_y = g_new0 (guint, n);
  g_autofree char *wpath = g_strdup_printf ("%s.inputs.weights", x->b.path);
  /* Default weights: small values so a layer keeps the activations' scale. */
  json_t *dflt = x->w_dtype == NPU_DT_INT8
    ? json_pack ("{s:s, s:i, s:i}", "dist", "randint", "low", -8, "high", 8)
    : json_pack ("{s:s, s:f, s:f}", "dist", "uniform", "low", -0.05, "high", 0.05);
  json_t *scale_spec = json_pack ("{s:s, s:f, s:f}", "dist", "uniform", "low", 0.001, "high", 0.01);
  gboolean ok = TRUE;
  for (guint g = 0; g < n && ok; g++)
    {
      guint rank = npu_op_rank_of (op, g);
      guint nl = moe_is_shared_rank (a, g / a->tpn) ? 1 : moe_local_experts (a);
      gint64 rows = d->layout->r[g].rows;
      gint64 sy[2] = { rows, a->h };
      g_autofree char *by = g_strdup_printf ("r%u.%s.y", rank, op->name);
      if (!x->keep)
        {
          /* virtual output: the combine reads the dispatch's expandX */
          x->buf_y[g] = d->buf_expand[g];
          continue;
        }
      ok = (x->y[g] = npu_tensor_new (a->x_dtype, 2, sy, NPU_FORMAT_ND, env->data_mode,
                                      error)) != NULL;
      if (!ok)
        break;
      npu_op_add_tensor (op, rank, "y", x->y[g], FALSE);
      npu_tensor_unref (x->y[g]); /* the op's list holds the reference */
      if (x->ekind == MOE_EXPERT_MATMUL)
        {
          gint64 sw[3] = { nl, a->h, a->h };
          ok = (x->w[g] = npu_tensor_new (x->w_dtype, 3, sw, NPU_FORMAT_ND, env->data_mode,
                                          error)) != NULL
               && npu_op_fill_input (x->w[g], x->w_init != NULL ? x->w_init : dflt, wpath,
                                     env, op, rank, 0, error);
          if (!ok)
            break;
          npu_op_add_tensor (op, rank, "weights", x->w[g], TRUE);
          npu_tensor_unref (x->w[g]);
          if (x->w_dtype == NPU_DT_INT8)
            {
              gint64 ss[2] = { nl, a->h };
              ok = (x->w_scale[g] = npu_tensor_new (NPU_DT_FP32, 2, ss, NPU_FORMAT_ND,
                                                    env->data_mode, error)) != NULL
                   && npu_op_fill_input (x->w_scale[g], scale_spec, wpath, env, op, rank, 1,
                                         error);
              if (!ok)
                break;
              npu_op_add_tensor (op, rank, "weightScale", x->w_scale[g], TRUE);
              npu_tensor_unref (x->w_scale[g]);
            }
        }
      x->buf_y[g] = npu_graph_add_buffer (env->graph, by, MAX (npu_tensor_nbytes (x->y[g]), 1));
    }
  json_decref (dflt);
  json_decref (scale_spec);
  return ok;
}

/* ---- plan ---- */

gboolean
moe_plan_experts (MoeExperts *x, const NpuOpEnv *env, GError **error)
{
  NpuOp *op = &x->b.base;
  MoeDispatch *d = x->dispatch;
  const MoeAttrs *a = &d->a;
  const NpuHw *hw = env->hw;
  guint h = a->h;
  gsize ein = npu_dtype_size (a->expand_dtype), eout = npu_dtype_size (a->x_dtype);
  for (guint g = 0; g < a->n; g++)
    {
      /* untimed: the expert output stands for a tensor prepared outside the timed region
       * (as DeepEP-Ascend's test_low_latency.py times dispatch and combine back to back
       * on one precomputed expandX): same numbers, no launch and no time */
      NpuTask *begin = npu_op_begin (op, env, g, x->untimed ? 0 : hw->kernel_launch_ps);
      if (d->done != NULL && d->done[g] != NULL)
        npu_task_depends_on (begin, d->done[g]);
      guint rank = npu_op_rank_of (op, g);
      const MoeRankLayout *r = &d->layout->r[g];
      guint rows = r->rows;
      g_autoptr (GPtrArray) ends = g_ptr_array_new ();
      float *acc = NULL;
      g_autoptr (GPtrArray) cubes = g_ptr_array_new ();
      if (x->ekind == MOE_EXPERT_MATMUL && rows > 0)
        {
          /* One GEMM per local expert over its contiguous rows (blocks of the expert;
           * TP 2 needs L = 1: every row belongs to expert 0). */
          gboolean dm = x->y[g] != NULL && npu_tensor_data (x->y[g]) != NULL;
          if (dm)
            {
              acc = g_malloc0 ((gsize) rows * h * 4);
              g_ptr_array_add (op->owned, acc);
            }
          guint nl = moe_is_shared_rank (a, g / a->tpn) ? 1 : d->layout->L;
          guint core = 0;
          for (guint le = 0; le < nl; le++)
            {
              guint first, count;
              if (nl == 1)
                {
                  first = 0;
                  count = rows;
                }
              else
                {
                  first = r->blk_first[le * a->ep];
                  count = 0;
                  for (guint s = 0; s < a->ep; s++)
                    count += r->blk_count[le * a->ep + s];
                }
              for (guint m0 = 0; m0 < count; m0 += 128)
                for (guint n0 = 0; n0 < h; n0 += 256)
                  {
                    NpuCubeTile tile = { 0 };
                    tile.a = (NpuGemmOperand) { dm ? npu_tensor_data (d->expand_x[g]) : NULL,
                                                a->expand_dtype, rows, h, h, 1 };
                    const guint8 *wb = dm ? npu_tensor_data (x->w[g]) : NULL;
                    tile.b = (NpuGemmOperand) { wb != NULL ? wb + (gsize) le * h * h
                                                  * npu_dtype_size (x->w_dtype) : NULL,
                                                x->w_dtype, h, h, h, 1 };
                    tile.m_begin = first + m0;
                    tile.m = MIN (128u, count - m0);
                    tile.n_begin = n0;
                    tile.n = MIN (256u, h - n0);
                    tile.acc = acc;
                    tile.acc_ld = h;
                    tile.out_elem_bytes = 4;
                    tile.reads[0].buffer = d->buf_expand[g];
                    tile.reads[0].offset = (guint64) tile.m_begin * h * ein;
                    tile.reads[0].length = (guint64) tile.m * h * ein;
                    g_autofree char *name = g_strdup_printf ("expert %u mm rows %u+%u n %u", le,
                                                             (guint) tile.m_begin,
                                                             (guint) tile.m, n0);
                    NpuTask *t = npu_cube_task_new (op, env, g, core, name, &tile);
                    npu_task_depends_on (t, begin);
                    g_ptr_array_add (cubes, t);
                    core = (core + 1) % hw->aic_count;
                  }
            }
        }
      /* AIV pass: identity dequant / copy, or the matmul epilogue; rows split evenly. */
      guint cores = MIN (a->aiv, MAX (rows, 1));
      for (guint c = 0; c < cores; c++)
        {
          guint first, count;
          moe_split (rows, cores, c, &first, &count);
          if (count == 0)
            continue;
          g_autofree char *name = g_strdup_printf ("%s rows %u+%u", x->ekind
                                                   == MOE_EXPERT_IDENTITY ? "identity"
                                                   : "epilogue", first, count);
          NpuTask *t = npu_op_task_new (op, env, g, name, NPU_TASK_COMPUTE, NPU_TRACK_AIV, c);
          npu_task_set_server (t, npu_cluster_aiv (env->cluster, rank, c));
          guint stages = x->ekind == MOE_EXPERT_MATMUL ? (a->quant_mode == 2 ? 4 : 1)
                                                       : (a->quant_mode == 2 ? 4 : 0);
          guint64 gm = (guint64) count * h * ((x->ekind == MOE_EXPERT_MATMUL ? 4 : ein) + eout);
          npu_task_set_duration (t, x->untimed ? 0
                                    : moe_cost_stages (hw, stages, (guint64) count * h, 4, gm));
          npu_task_depends_on (t, begin);
          for (guint i = 0; i < cubes->len; i++)
            npu_task_depends_on (t, g_ptr_array_index (cubes, i));
          npu_task_reads (t, d->buf_expand[g], (guint64) first * h * ein, (guint64) count * h * ein);
          if (x->keep)
            npu_task_writes (t, x->buf_y[g], (guint64) first * h * eout,
                             (guint64) count * h * eout);
          EpiJob *job = g_new0 (EpiJob, 1);
          *job = (EpiJob) { x, g, first, count, acc };
          npu_task_set_effect (t, epilogue_effect, job, g_free);
          g_ptr_array_add (ends, t);
        }
      x->b.graph = env->graph;
      npu_op_finish (op, env, g, ends);
    }
  (void) error;
  return TRUE;
}

static gboolean
experts_plan (NpuOp *op, const NpuOpEnv *env, GError **error)
{
  return moe_plan_experts ((MoeExperts *) op, env, error);
}

const NpuOpClass npu_moe_experts_class = {
  "MoeExperts", "per-rank expert work on a dispatch's expandX: identity (dequant) or one "
  "H x H matmul per local expert",
  experts_create, experts_data_bytes, experts_prepare, experts_plan, experts_finalize
};
