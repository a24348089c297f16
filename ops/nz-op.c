/* npusim — "TransDataNZ": an ND weight to FRACTAL_NZ (ops/nz.h), as
 * aclnnTransMatmulWeight prepares weights for the matmul and MC2 operators.
 *
 * Scenario keys: "dtype" ("int8" default, "float16", "bfloat16"), "shape": [rows, cols]
 * of the ND input, "inputs": {"x": <init spec or {"from": "<op>.<tensor>"}>}.
 * Tensors per rank: "x" (ND input), "y" (FRACTAL_NZ output, 4-D storage shape).
 * Execution: one vector kernel (cost.kernel_launch_us), the fractal columns split
 * evenly over the AIV cores, each moving its bytes GM -> UB -> GM
 * (npu_cost_vector: one pass, read + write at the core's MTE rate). */
#include "ops/nz.h"
#include "models/cost.h"

typedef struct {
  NpuOp base;
  char *path;
  NpuDtype dt;
  gint64 rows, cols;
  json_t *init;
  NpuTensor **x, **y;  /* [n_ranks], references held by base.tensors */
} NzOp;

typedef struct {
  NpuDtype dt;
  gint64 rows, cols, c_begin, c_end;
  gconstpointer nd;
  gpointer nz;
} NzJob;

static gboolean
nz_effect (gpointer data, GError **error)
{
  NzJob *j = data;
  if (j->nd != NULL && j->nz != NULL)
    npu_nz_from_nd (j->dt, j->rows, j->cols, j->nd, j->nz, j->c_begin, j->c_end);
  return TRUE;
}

static void
nz_finalize (NpuOp *op)
{
  NzOp *z = (NzOp *) op;
  g_free (z->path);
  g_free (z->x);
  g_free (z->y);
  if (z->init != NULL)
    json_decref (z->init);
}

static NpuOp *
nz_create (const json_t *spec, const char *path, const NpuOpEnv *env, GError **error)
{
  static const char *const keys[] = { "dtype", "shape", "inputs", NULL };
  g_autoptr (NpuOp) op = (NpuOp *) g_new0 (NzOp, 1);
  npu_op_init (op, &npu_nz_trans_class);
  NzOp *z = (NzOp *) op;
  z->path = g_strdup (path);
  if (!npu_spec_check_keys (spec, keys, path, error)
      || !npu_spec_get_dtype (spec, "dtype", path, FALSE, NPU_DT_INT8, &z->dt, error))
    return NULL;
  if (z->dt != NPU_DT_INT8 && z->dt != NPU_DT_FP16 && z->dt != NPU_DT_BF16)
    {
      g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                   "%s.dtype: TransDataNZ converts int8, float16 or bfloat16 weights", path);
      return NULL;
    }
  json_t *shape = json_object_get (spec, "shape");
  if (!json_is_array (shape) || json_array_size (shape) != 2
      || !json_is_integer (json_array_get (shape, 0))
      || !json_is_integer (json_array_get (shape, 1))
      || json_integer_value (json_array_get (shape, 0)) < 1
      || json_integer_value (json_array_get (shape, 1)) < 1
      || json_integer_value (json_array_get (shape, 0)) > (1 << 20)
      || json_integer_value (json_array_get (shape, 1)) > (1 << 20))
    {
      g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                   "%s.shape: expected [rows, cols], each in [1, 2^20]", path);
      return NULL;
    }
  z->rows = json_integer_value (json_array_get (shape, 0));
  z->cols = json_integer_value (json_array_get (shape, 1));
  static const char *const in_keys[] = { "x", NULL };
  json_t *inputs;
  if (!npu_spec_get_object (spec, "inputs", path, in_keys,
                            "like {\"x\": {\"dist\": \"randint\"}}", &inputs, error))
    return NULL;
  json_t *x = json_object_get (inputs, "x");
  if (x != NULL)
    z->init = json_incref (x);
  gint64 s[4];
  npu_nz_shape (z->dt, z->rows, z->cols, s);
  json_object_set_new (op->attrs, "dtype", json_string (npu_dtype_name (z->dt)));
  json_object_set_new (op->attrs, "shape", json_pack ("[II]", (json_int_t) z->rows,
                                                      (json_int_t) z->cols));
  json_object_set_new (op->attrs, "nzShape", json_pack ("[IIII]", (json_int_t) s[0],
                                                        (json_int_t) s[1], (json_int_t) s[2],
                                                        (json_int_t) s[3]));
  return g_steal_pointer (&op);
}

static guint64
nz_data_bytes (NpuOp *op)
{
  NzOp *z = (NzOp *) op;
  gint64 s[4];
  npu_nz_shape (z->dt, z->rows, z->cols, s);
  return (guint64) op->n_ranks * npu_dtype_size (z->dt)
         * (guint64) (z->rows * z->cols + s[0] * s[1] * s[2] * s[3]);
}

static gboolean
nz_prepare (NpuOp *op, const NpuOpEnv *env, GError **error)
{
  NzOp *z = (NzOp *) op;
  z->x = g_new0 (NpuTensor *, op->n_ranks);
  z->y = g_new0 (NpuTensor *, op->n_ranks);
  gint64 nd[2] = { z->rows, z->cols }, s[4];
  npu_nz_shape (z->dt, z->rows, z->cols, s);
  g_autofree char *ipath = g_strdup_printf ("%s.inputs.x", z->path);
  for (guint g = 0; g < op->n_ranks; g++)
    {
      guint rank = npu_op_rank_of (op, g);
      g_autoptr (NpuTensor) x = npu_op_input_tensor (op, env, g, "x", z->dt, 2, nd, z->init,
                                                     ipath, 0, error);
      if (x == NULL)
        return FALSE;
      g_autoptr (NpuTensor) y = npu_tensor_new (z->dt, 4, s, NPU_FORMAT_FRACTAL_NZ,
                                                env->data_mode, error);
      if (y == NULL)
        return FALSE;
      npu_op_add_tensor (op, rank, "x", x, TRUE);
      npu_op_add_tensor (op, rank, "y", y, FALSE);
      z->x[g] = x;
      z->y[g] = y;
    }
  return TRUE;
}

static gboolean
nz_plan (NpuOp *op, const NpuOpEnv *env, GError **error)
{
  NzOp *z = (NzOp *) op;
  const NpuHw *hw = env->hw;
  gsize es = npu_dtype_size (z->dt);
  gint64 c0 = npu_nz_c0 (z->dt), s[4];
  npu_nz_shape (z->dt, z->rows, z->cols, s);
  gint64 frac_cols = s[0];
  guint n_aiv = MAX (hw->aiv_count, 1u);
  for (guint g = 0; g < op->n_ranks; g++)
    {
      guint rank = npu_op_rank_of (op, g);
      g_autofree char *xn = g_strdup_printf ("r%u.%s.x", rank, op->name);
      g_autofree char *yn = g_strdup_printf ("r%u.%s.y", rank, op->name);
      guint bx = npu_graph_add_buffer (env->graph, xn, npu_tensor_nbytes (z->x[g]));
      guint by = npu_graph_add_buffer (env->graph, yn, npu_tensor_nbytes (z->y[g]));
      NpuTask *begin = npu_op_begin (op, env, g, hw->kernel_launch_ps);
      g_autoptr (GPtrArray) ends = g_ptr_array_new ();
      for (guint a = 0; a < n_aiv; a++)
        {
          /* fractal columns split evenly, the first ones one more */
          gint64 per = frac_cols / n_aiv, extra = frac_cols % n_aiv;
          gint64 f0 = a * per + MIN ((gint64) a, extra);
          gint64 f1 = f0 + per + (a < extra ? 1 : 0);
          if (f1 <= f0)
            continue;
          gint64 elems = (f1 - f0) * s[1] * s[2] * s[3];
          g_autofree char *name = g_strdup_printf ("TransData ND->NZ cols %" G_GINT64_FORMAT
                                                   "..%" G_GINT64_FORMAT, f0 * c0,
                                                   MIN (f1 * c0, z->cols));
          NpuTask *t = npu_op_task_new (op, env, g, name, NPU_TASK_MEMORY, NPU_TRACK_AIV, a);
          npu_task_set_server (t, npu_cluster_aiv (env->cluster, rank, a));
          npu_task_set_duration (t, npu_cost_vector (hw, (guint64) elems, (guint) es, 1,
                                                     2 * (guint64) elems * es));
          npu_task_depends_on (t, begin);
          npu_task_reads (t, bx, 0, npu_tensor_nbytes (z->x[g]));
          npu_task_writes (t, by, (guint64) (f0 * s[1] * s[2] * s[3]) * es, (guint64) elems * es);
          NzJob *job = g_new0 (NzJob, 1);
          *job = (NzJob) { z->dt, z->rows, z->cols, f0 * c0, MIN (f1 * c0, z->cols),
                           npu_tensor_data (z->x[g]), npu_tensor_data (z->y[g]) };
          npu_task_set_effect (t, nz_effect, job, g_free);
          g_ptr_array_add (ends, t);
        }
      npu_op_finish (op, env, g, ends);
    }
  return TRUE;
}

const NpuOpClass npu_nz_trans_class = {
  "TransDataNZ", "ND -> FRACTAL_NZ weight layout (aclnnTransMatmulWeight), y = NZ(x) per rank",
  nz_create, nz_data_bytes, nz_prepare, nz_plan, nz_finalize
};
