/* npusim — MatMul / QuantMatMul scenario ops: parsing, tensors (inputs may be other
 * ops' tensors: {"from": "<op>.<tensor>"}, npu_op_input_tensor), the NpuOpClass
 * tables. The plan is in matmul-plan.c. */
#include "ops/matmul-private.h"

static const char *const input_names[4] = { "x1", "x2", "x1Scale", "x2Scale" };

static void
mm_finalize (NpuOp *op)
{
  MmOp *mm = (MmOp *) op;
  g_free (mm->path);
  if (mm->inputs != NULL)
    json_decref (mm->inputs);
  g_free (mm->x1);
  g_free (mm->x2);
  g_free (mm->x1s);
  g_free (mm->x2s);
  g_free (mm->out);
}

static NpuOp *
mm_create (gboolean quant, const NpuOpClass *klass, const json_t *spec, const char *path,
           const NpuOpEnv *env, GError **error)
{
  static const char *const keys_mm[] = { "dtype", "m", "k", "n", "transposeX2", "inputs",
                                         "baselineOf", "baselineFrom", NULL };
  static const char *const keys_qmm[] = { "dtype", "m", "k", "n", "transposeX2", "outputDtype",
                                          "x2ScaleDtype", "perToken", "transQuantRoundMode",
                                          "inputs", "baselineOf", "baselineFrom", NULL };
  g_autoptr (NpuOp) op = (NpuOp *) g_new0 (MmOp, 1);
  npu_op_init (op, klass);
  MmOp *mm = (MmOp *) op;
  mm->path = g_strdup (path);
  mm->quant = quant;
  mm->n_ranks = env->group_size;
  mm->n_aic = env->hw->aic_count;
  guint64 m, k, n, rm = 0;
  const char *base_of, *base_from;
  if (!npu_spec_check_keys (spec, quant ? keys_qmm : keys_mm, path, error)
      || !npu_spec_get_dtype (spec, "dtype", path, TRUE, NPU_DT_FP16, &mm->in_dt, error)
      || !npu_spec_get_uint (spec, "m", path, TRUE, 0, 1, G_MAXINT32, &m, error)
      || !npu_spec_get_uint (spec, "k", path, TRUE, 0, 1, G_MAXINT32, &k, error)
      || !npu_spec_get_uint (spec, "n", path, TRUE, 0, 1, G_MAXINT32, &n, error)
      || !npu_spec_get_bool (spec, "transposeX2", path, FALSE, &mm->trans_b, error)
      || !npu_spec_get_string (spec, "baselineOf", path, FALSE, NULL, &base_of, error)
      || !npu_spec_get_string (spec, "baselineFrom", path, FALSE, NULL, &base_from, error))
    return NULL;
  mm->m = (gint64) m;
  mm->k = (gint64) k;
  mm->n = (gint64) n;
  if (!quant)
    {
      if (mm->in_dt != NPU_DT_FP16 && mm->in_dt != NPU_DT_BF16)
        {
          npu_op_error (error, op, NPU_OP_ERROR_PARAM_INVALID,
                        "x1 dtype %s is not supported (float16, bfloat16; int8 is "
                        "QuantMatMul)", npu_dtype_name (mm->in_dt));
          return NULL;
        }
      mm->out_dt = mm->in_dt;
    }
  else
    {
      const char *sdt;
      if (!npu_spec_get_dtype (spec, "outputDtype", path, FALSE, NPU_DT_FP16, &mm->out_dt, error)
          || !npu_spec_get_string (spec, "x2ScaleDtype", path, FALSE, "float32", &sdt, error)
          || !npu_spec_get_bool (spec, "perToken", path, FALSE, &mm->per_token, error)
          || !npu_spec_get_uint (spec, "transQuantRoundMode", path, FALSE, 0, 0, 1, &rm, error))
        return NULL;
      if (mm->in_dt != NPU_DT_INT8)
        {
          npu_op_error (error, op, NPU_OP_ERROR_PARAM_INVALID,
                        "x1 dtype %s is not supported (int8)", npu_dtype_name (mm->in_dt));
          return NULL;
        }
      if (mm->out_dt != NPU_DT_FP16 && mm->out_dt != NPU_DT_BF16)
        {
          npu_op_error (error, op, NPU_OP_ERROR_PARAM_INVALID,
                        "output dtype %s is not supported (float16, bfloat16)",
                        npu_dtype_name (mm->out_dt));
          return NULL;
        }
      if (g_str_equal (sdt, "int64"))
        mm->x2s_int64 = TRUE;
      else if (!g_str_equal (sdt, "float32"))
        {
          npu_op_error (error, op, NPU_OP_ERROR_PARAM_INVALID,
                        "x2Scale dtype %s is not supported (float32, int64)", sdt);
          return NULL;
        }
      if (mm->x2s_int64 && mm->out_dt != NPU_DT_FP16)
        {
          npu_op_error (error, op, NPU_OP_ERROR_PARAM_INVALID,
                        "an int64 x2Scale needs a float16 output");
          return NULL;
        }
      mm->fixpipe = mm->x2s_int64;
      mm->round_mode = (guint) rm;
    }
  static const char *const in_mm[] = { "x1", "x2", NULL };
  static const char *const in_qmm[] = { "x1", "x2", "x1Scale", "x2Scale", NULL };
  json_t *inputs;
  if (!npu_spec_get_object (spec, "inputs", path, quant ? in_qmm : in_mm,
                            "{\"x1\": {...}, ...}", &inputs, error))
    return NULL;
  if (inputs != NULL)
    mm->inputs = json_incref (inputs);
  json_object_set_new (op->attrs, "dtype", json_string (npu_dtype_name (mm->in_dt)));
  json_object_set_new (op->attrs, "outputDtype", json_string (npu_dtype_name (mm->out_dt)));
  json_object_set_new (op->attrs, "m", json_integer (mm->m));
  json_object_set_new (op->attrs, "k", json_integer (mm->k));
  json_object_set_new (op->attrs, "n", json_integer (mm->n));
  json_object_set_new (op->attrs, "transposeX2", json_boolean (mm->trans_b));
  if (quant)
    {
      json_object_set_new (op->attrs, "x2ScaleDtype",
                           json_string (mm->x2s_int64 ? "int64" : "float32"));
      json_object_set_new (op->attrs, "perToken", json_boolean (mm->per_token));
      json_object_set_new (op->attrs, "dequantPath",
                           json_string (mm->fixpipe ? (mm->per_token ? "fixpipe + AIV per-token"
                                                                     : "fixpipe")
                                                    : "AIV epilogue"));
      if (mm->x2s_int64)
        json_object_set_new (op->attrs, "transQuantRoundMode", json_integer (mm->round_mode));
    }
  json_object_set_new (op->attrs, "tile", json_pack ("{s:i, s:i}", "m0", MM_M0, "n0", MM_N0));
  if (base_of != NULL)
    json_object_set_new (op->attrs, "baselineOf", json_string (base_of));
  if (base_from != NULL)
    json_object_set_new (op->attrs, "baselineFrom", json_string (base_from));
  return g_steal_pointer (&op);
}

static guint64
mm_data_bytes (NpuOp *op)
{
  MmOp *mm = (MmOp *) op;
  gsize es = npu_dtype_size (mm->in_dt), os = npu_dtype_size (mm->out_dt);
  guint64 per = (guint64) mm->m * mm->k * es + (guint64) mm->k * mm->n * es
                + (guint64) mm->m * mm->n * os + (guint64) mm->m * 4 + (guint64) mm->n * 8
                + (guint64) mm->n_aic * MM_M0 * MM_N0 * 4;
  if (mm->quant && !mm->fixpipe)
    per += (guint64) mm->m * mm->n * sizeof (gint32);
  return per * mm->n_ranks;
}

/* Input @which of group rank @g, @dt x @shape (npu_mm_input_tensor). */
static NpuTensor *
mm_input (MmOp *mm, NpuMmInput which, guint g, NpuDtype dt, const gint64 *shape,
          const NpuOpEnv *env, GError **error)
{
  json_t *spec = mm->inputs != NULL ? json_object_get (mm->inputs, input_names[which]) : NULL;
  g_autofree char *path = g_strdup_printf ("%s.inputs.%s", mm->path, input_names[which]);
  return npu_mm_input_tensor (&mm->base, env, g, which, dt, 2, shape, spec, path,
                              mm->round_mode, error);
}

static gboolean
mm_prepare (NpuOp *op, const NpuOpEnv *env, GError **error)
{
  MmOp *mm = (MmOp *) op;
  guint W = mm->n_ranks;
  mm->x1 = g_new0 (NpuTensor *, W);
  mm->x2 = g_new0 (NpuTensor *, W);
  mm->x1s = g_new0 (NpuTensor *, W);
  mm->x2s = g_new0 (NpuTensor *, W);
  mm->out = g_new0 (NpuTensor *, W);
  for (guint g = 0; g < W; g++)
    {
      guint rank = npu_op_rank_of (op, g);
      gint64 s1[2] = { mm->m, mm->k };
      gint64 s2[2] = { mm->trans_b ? mm->n : mm->k, mm->trans_b ? mm->k : mm->n };
      gint64 so[2] = { mm->m, mm->n };
      g_autoptr (NpuTensor) x1 = mm_input (mm, NPU_MM_X1, g, mm->in_dt, s1, env, error);
      g_autoptr (NpuTensor) x2 = x1 == NULL ? NULL
        : mm_input (mm, NPU_MM_X2, g, mm->in_dt, s2, env, error);
      g_autoptr (NpuTensor) o = x2 == NULL ? NULL
        : npu_tensor_new (mm->out_dt, 2, so, NPU_FORMAT_ND, env->data_mode, error);
      if (o == NULL)
        return FALSE;
      npu_op_add_tensor (op, rank, "x1", x1, TRUE);
      npu_op_add_tensor (op, rank, "x2", x2, TRUE);
      mm->x1[g] = x1;
      mm->x2[g] = x2;
      if (mm->per_token)
        {
          gint64 ss[2] = { mm->m, 1 };
          g_autoptr (NpuTensor) t = mm_input (mm, NPU_MM_X1_SCALE, g, NPU_DT_FP32, ss, env, error);
          if (t == NULL)
            return FALSE;
          npu_op_add_tensor (op, rank, "x1Scale", t, TRUE);
          mm->x1s[g] = t;
        }
      if (mm->quant)
        {
          gint64 ss[2] = { 1, mm->n };
          g_autoptr (NpuTensor) t = mm_input (mm, NPU_MM_X2_SCALE, g,
                                              mm->x2s_int64 ? NPU_DT_INT64 : NPU_DT_FP32, ss, env,
                                              error);
          if (t == NULL)
            return FALSE;
          npu_op_add_tensor (op, rank, "x2Scale", t, TRUE);
          mm->x2s[g] = t;
        }
      npu_op_add_tensor (op, rank, "output", o, FALSE);
      mm->out[g] = o;
    }
  /* checked once the inputs are resolved: a "from" input orders its producer too */
  const char *base_from = json_string_value (json_object_get (op->attrs, "baselineFrom"));
  gboolean found = base_from == NULL;
  for (guint i = 0; !found && i < op->after->len; i++)
    found = g_str_equal (((NpuOp *) g_ptr_array_index (op->after, i))->name, base_from);
  if (!found)
    {
      g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                   "%s.baselineFrom: '%s' must be one of the ops in \"after\" or an op an "
                   "input comes \"from\"", mm->path, base_from);
      return FALSE;
    }
  return TRUE;
}

static gboolean
mm_plan_op (NpuOp *op, const NpuOpEnv *env, GError **error)
{
  return mm_plan ((MmOp *) op, env, error);
}

static NpuOp *
create_mm (const json_t *spec, const char *path, const NpuOpEnv *env, GError **error)
{
  return mm_create (FALSE, &npu_matmul_class, spec, path, env, error);
}

static NpuOp *
create_qmm (const json_t *spec, const char *path, const NpuOpEnv *env, GError **error)
{
  return mm_create (TRUE, &npu_quant_matmul_class, spec, path, env, error);
}

const NpuOpClass npu_matmul_class = {
  "MatMul", "single-rank matmul on every group rank: output = x1 @ x2 (fp16/bf16)",
  create_mm, mm_data_bytes, mm_prepare, mm_plan_op, mm_finalize
};
const NpuOpClass npu_quant_matmul_class = {
  "QuantMatMul",
  "single-rank int8 matmul with per-channel (fp32 / INT64) and optional per-token dequant",
  create_qmm, mm_data_bytes, mm_prepare, mm_plan_op, mm_finalize
};
