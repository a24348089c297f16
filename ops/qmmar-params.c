/* npusim — QuantMatmulAllReduceV3: scenario keys and the parameter checks of the real
 * API, in its order: aclnnQuantMatmulAllReduceV3GetWorkspaceSize's CheckParams
 * (null -> 161001; dtypes, attributes, shapes -> 161002; ops-transformer
 * mc2/matmul_all_reduce/op_api/aclnn_quant_matmul_all_reduce_v3.cpp), then the host
 * tiling (-> 561002: platform and rank count, CheckA8W8, CheckInput, CheckAxisSize,
 * empty tensors; op_tiling/matmul_all_reduce_tiling_base.cpp and
 * arch32/quant_matmul_all_reduce_tiling.cpp). ../shared/REFERENCE.md 2.3. */
#include "ops/qmmar-private.h"
#include "ops/nz.h"

const char *const qmmar_tensor_names[QT_N] = {
  "x1", "x2", "bias", "x3", "dequantScale", "pertokenScale", "commQuantScale1",
  "commQuantScale2", "output"
};

static char *
shape_str (const QmmarDesc *d)
{
  return npu_shape_string (d->ndim, d->shape);
}

static gint64
numel (const QmmarDesc *d)
{
  return npu_shape_numel (d->ndim, d->shape);
}

/* ---- parsing ---- */

static gboolean
parse_shape (const json_t *v, QmmarDesc *d, const char *path, GError **error)
{
  if (!json_is_array (v) || json_array_size (v) > NPU_MAX_DIMS)
    {
      g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                   "%s.shape: expected a list of at most %d dimensions", path, NPU_MAX_DIMS);
      return FALSE;
    }
  d->ndim = (guint) json_array_size (v);
  for (guint i = 0; i < d->ndim; i++)
    {
      json_t *x = json_array_get (v, i);
      if (!json_is_integer (x) || json_integer_value (x) < 0
          || json_integer_value (x) > ((json_int_t) 1 << 40))
        {
          g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                       "%s.shape[%u]: expected an integer in [0, 2^40]", path, i);
          return FALSE;
        }
      d->shape[i] = json_integer_value (x);
    }
  return TRUE;
}

/* One tensor key: absent, null (a nullptr) or {"shape", "dtype", "format", "transpose"}.
 * Returns whether a "shape" was given in *has_shape, a "dtype" in *has_dtype. */
static gboolean
parse_desc (QmmarOp *q, QmmarTensorId id, const json_t *spec, const char *path,
            gboolean *given, gboolean *has_shape, gboolean *has_dtype, GError **error)
{
  static const char *const keys[] = { "shape", "dtype", NULL };
  static const char *const keys_x2[] = { "shape", "dtype", "format", "transpose", NULL };
  const char *name = qmmar_tensor_names[id];
  QmmarDesc *d = &q->d[id];
  json_t *v = json_object_get (spec, name);
  g_autofree char *p = g_strdup_printf ("%s.%s", path, name);
  *given = v != NULL;
  *has_shape = *has_dtype = FALSE;
  if (v == NULL || json_is_null (v))
    return TRUE;
  if (!json_is_object (v))
    {
      g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                   "%s: expected an object like {\"shape\": [...], \"dtype\": \"...\"} or null "
                   "(a nullptr)", p);
      return FALSE;
    }
  if (!npu_spec_check_keys (v, id == QT_X2 ? keys_x2 : keys, p, error))
    return FALSE;
  d->present = TRUE;
  json_t *sh = json_object_get (v, "shape");
  if (sh != NULL)
    {
      if (!parse_shape (sh, d, p, error))
        return FALSE;
      *has_shape = TRUE;
    }
  if (json_object_get (v, "dtype") != NULL)
    {
      if (!npu_spec_get_dtype (v, "dtype", p, TRUE, NPU_DT_INT8, &d->dtype, error))
        return FALSE;
      *has_dtype = TRUE;
    }
  if (id == QT_X2)
    {
      const char *fmt;
      if (!npu_spec_get_string (v, "format", p, FALSE, "ND", &fmt, error)
          || !npu_spec_get_bool (v, "transpose", p, FALSE, &d->transpose, error))
        return FALSE;
      if (g_str_equal (fmt, "FRACTAL_NZ"))
        d->nz = TRUE;
      else if (!g_str_equal (fmt, "ND"))
        {
          g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                       "%s.format: expected \"ND\" or \"FRACTAL_NZ\"", p);
          return FALSE;
        }
    }
  return TRUE;
}

static void
set_shape (QmmarDesc *d, guint ndim, const gint64 *shape)
{
  d->ndim = ndim;
  memcpy (d->shape, shape, sizeof (gint64) * ndim);
}

static gboolean
qmmar_parse_keys (QmmarOp *q, const json_t *spec, const char *path, const NpuOpEnv *env,
                  GError **error)
{
  static const char *const keys[] = {
    "x1", "x2", "bias", "x3", "dequantScale", "pertokenScale", "commQuantScale1",
    "commQuantScale2", "output", "reduceOp", "commTurn", "streamMode", "tileM", "inputs", NULL
  };
  if (!npu_spec_check_keys (spec, keys, path, error))
    return FALSE;
  gboolean given[QT_N], has_shape[QT_N], has_dtype[QT_N];
  for (guint i = 0; i < QT_N; i++)
    if (!parse_desc (q, (QmmarTensorId) i, spec, path, &given[i], &has_shape[i], &has_dtype[i],
                     error))
      return FALSE;
  static const QmmarTensorId required[] = { QT_X1, QT_X2, QT_DEQ, QT_OUT };
  for (guint i = 0; i < G_N_ELEMENTS (required); i++)
    if (!given[required[i]])
      {
        g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                     "%s.%s: missing (required; null stands for a nullptr)", path,
                     qmmar_tensor_names[required[i]]);
        return FALSE;
      }
  for (guint i = 0; i < 2; i++)
    if (q->d[i].present && !has_shape[i])
      {
        g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO, "%s.%s.shape: missing",
                     path, qmmar_tensor_names[i]);
        return FALSE;
      }

  /* Defaults: int8 x1/x2, int32 bias, fp32 pertoken, fp16 output; x3 and the comm
   * scales take the output dtype; dequantScale the dtype the spec asks for. */
  QmmarDesc *d = q->d;
  if (!has_dtype[QT_X1])
    d[QT_X1].dtype = NPU_DT_INT8;
  if (!has_dtype[QT_X2])
    d[QT_X2].dtype = NPU_DT_INT8;
  if (!has_dtype[QT_BIAS])
    d[QT_BIAS].dtype = NPU_DT_INT32;
  if (!has_dtype[QT_PTS])
    d[QT_PTS].dtype = NPU_DT_FP32;
  if (!has_dtype[QT_OUT])
    d[QT_OUT].dtype = NPU_DT_FP16;
  NpuDtype out = d[QT_OUT].dtype;
  if (!has_dtype[QT_X3])
    d[QT_X3].dtype = out;
  if (!has_dtype[QT_CQ1])
    d[QT_CQ1].dtype = out;
  if (!has_dtype[QT_CQ2])
    d[QT_CQ2].dtype = out;
  if (!has_dtype[QT_DEQ])
    d[QT_DEQ].dtype = out == NPU_DT_BF16 ? NPU_DT_BF16
                      : d[QT_PTS].present ? NPU_DT_FP32 : NPU_DT_INT64;

  /* Default shapes from x1 (m rows, k) and x2 (k, n). */
  gint64 n = -1, m = 1;
  if (d[QT_X1].present && d[QT_X1].ndim >= 1)
    for (guint i = 0; i + 1 < d[QT_X1].ndim; i++)
      m *= d[QT_X1].shape[i];
  if (d[QT_OUT].present && has_shape[QT_OUT] && d[QT_OUT].ndim >= 1)
    n = d[QT_OUT].shape[d[QT_OUT].ndim - 1];
  else if (d[QT_X2].present && d[QT_X2].ndim == 2)
    n = d[QT_X2].shape[1];
  if (d[QT_OUT].present && !has_shape[QT_OUT])
    {
      if (n < 0 || !d[QT_X1].present || d[QT_X1].ndim < 1)
        {
          g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                       "%s.output.shape: missing (cannot be derived from x1 and x2)", path);
          return FALSE;
        }
      set_shape (&d[QT_OUT], d[QT_X1].ndim, d[QT_X1].shape);
      d[QT_OUT].shape[d[QT_OUT].ndim - 1] = n;
    }
  static const QmmarTensorId per_n[] = { QT_BIAS, QT_DEQ, QT_CQ1, QT_CQ2 };
  for (guint i = 0; i < G_N_ELEMENTS (per_n); i++)
    if (d[per_n[i]].present && !has_shape[per_n[i]])
      {
        if (n < 0)
          {
            g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO, "%s.%s.shape: missing",
                         path, qmmar_tensor_names[per_n[i]]);
            return FALSE;
          }
        set_shape (&d[per_n[i]], 1, &n);
      }
  if (d[QT_PTS].present && !has_shape[QT_PTS])
    set_shape (&d[QT_PTS], 1, &m);
  if (d[QT_X3].present && !has_shape[QT_X3])
    {
      if (!d[QT_OUT].present)
        {
          g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO, "%s.x3.shape: missing", path);
          return FALSE;
        }
      set_shape (&d[QT_X3], d[QT_OUT].ndim, d[QT_OUT].shape);
    }

  const char *red;
  if (!npu_spec_get_string (spec, "reduceOp", path, FALSE, "sum", &red, error))
    return FALSE;
  q->reduce_op = g_strdup (red);
  json_t *ct = json_object_get (spec, "commTurn"), *sm = json_object_get (spec, "streamMode");
  if ((ct != NULL && !json_is_integer (ct)) || (sm != NULL && !json_is_integer (sm)))
    {
      g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                   "%s.%s: expected an integer", path, ct != NULL && !json_is_integer (ct)
                   ? "commTurn" : "streamMode");
      return FALSE;
    }
  q->comm_turn = ct != NULL ? json_integer_value (ct) : 0;
  q->stream_mode = sm != NULL ? json_integer_value (sm) : 1;
  if (!npu_spec_get_uint (spec, "tileM", path, FALSE, 0, 0, G_MAXINT32, &q->tile_rows, error))
    return FALSE;

  static const char *const in_keys[] = {
    "x1", "x2", "bias", "x3", "dequantScale", "pertokenScale", "commQuantScale1",
    "commQuantScale2", NULL
  };
  json_t *inputs;
  if (!npu_spec_get_object (spec, "inputs", path, in_keys, "of init specs per input", &inputs,
                            error))
    return FALSE;
  for (guint i = 0; i < QT_OUT; i++)
    {
      json_t *v = json_object_get (inputs, qmmar_tensor_names[i]);
      if (v != NULL)
        q->d[i].init = json_incref (v);
    }
  (void) env;
  return TRUE;
}

/* ---- the aclnn checks (API level) ---- */

static gboolean
check_null (QmmarOp *q, GError **error)
{
  static const QmmarTensorId ids[] = { QT_X1, QT_X2, QT_DEQ, QT_OUT };
  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    if (!q->d[ids[i]].present)
      return npu_op_error (error, &q->base, NPU_OP_ERROR_PARAM_NULL, "%s is a nullptr",
                           qmmar_tensor_names[ids[i]]);
  return TRUE;
}

static gboolean
dtype_in (NpuDtype dt, const NpuDtype *list, guint n)
{
  for (guint i = 0; i < n; i++)
    if (list[i] == dt)
      return TRUE;
  return FALSE;
}

static gboolean
not_supported (GError **error, QmmarOp *q, QmmarTensorId id, const char *allowed)
{
  return npu_op_error (error, &q->base, NPU_OP_ERROR_PARAM_INVALID,
                       "%s: dtype %s is not supported (%s)",
                       qmmar_tensor_names[id], npu_dtype_name (q->d[id].dtype), allowed);
}

static gboolean
not_same (GError **error, QmmarOp *q, QmmarTensorId a, QmmarTensorId b)
{
  return npu_op_error (error, &q->base, NPU_OP_ERROR_PARAM_INVALID,
                       "%s: dtype %s must be the same as %s's (%s)", qmmar_tensor_names[a],
                       npu_dtype_name (q->d[a].dtype), qmmar_tensor_names[b],
                       npu_dtype_name (q->d[b].dtype));
}

static gboolean
check_dtypes (QmmarOp *q, GError **error)
{
  static const NpuDtype quant[] = { NPU_DT_INT8 };
  static const NpuDtype deq[] = { NPU_DT_UINT64, NPU_DT_INT64, NPU_DT_BF16, NPU_DT_FP32 };
  static const NpuDtype outs[] = { NPU_DT_FP16, NPU_DT_BF16 };
  QmmarDesc *d = q->d;
  if (!dtype_in (d[QT_X1].dtype, quant, 1))
    return not_supported (error, q, QT_X1, "int8");
  if (!dtype_in (d[QT_X2].dtype, quant, 1))
    return not_supported (error, q, QT_X2, "int8");
  if (!dtype_in (d[QT_DEQ].dtype, deq, 4))
    return not_supported (error, q, QT_DEQ, "uint64, int64, bfloat16, float32");
  if (!dtype_in (d[QT_OUT].dtype, outs, 2))
    return not_supported (error, q, QT_OUT, "float16, bfloat16");
  if (d[QT_BIAS].present && d[QT_BIAS].dtype != NPU_DT_INT32)
    return not_supported (error, q, QT_BIAS, "int32");
  if (d[QT_X3].present)
    {
      if (!dtype_in (d[QT_X3].dtype, outs, 2))
        return not_supported (error, q, QT_X3, "float16, bfloat16");
      if (d[QT_X3].dtype != d[QT_OUT].dtype)
        return not_same (error, q, QT_X3, QT_OUT);
    }
  if (d[QT_X1].dtype != d[QT_X2].dtype)
    return not_same (error, q, QT_X1, QT_X2);
  if ((d[QT_OUT].dtype == NPU_DT_BF16 || d[QT_DEQ].dtype == NPU_DT_BF16)
      && d[QT_DEQ].dtype != d[QT_OUT].dtype)
    return not_same (error, q, QT_DEQ, QT_OUT);
  if (d[QT_PTS].present)
    {
      if (d[QT_PTS].dtype != NPU_DT_FP32)
        return not_supported (error, q, QT_PTS, "float32");
      if (d[QT_OUT].dtype == NPU_DT_FP16 && d[QT_DEQ].dtype != d[QT_PTS].dtype)
        return not_same (error, q, QT_DEQ, QT_PTS);
    }
  if (d[QT_CQ1].present && d[QT_CQ2].present)
    {
      if (!dtype_in (d[QT_CQ1].dtype, outs, 2))
        return not_supported (error, q, QT_CQ1, "float16, bfloat16");
      if (!dtype_in (d[QT_CQ2].dtype, outs, 2))
        return not_supported (error, q, QT_CQ2, "float16, bfloat16");
      if (d[QT_CQ1].dtype != d[QT_OUT].dtype)
        return not_same (error, q, QT_CQ1, QT_OUT);
      if (d[QT_CQ2].dtype != d[QT_OUT].dtype)
        return not_same (error, q, QT_CQ2, QT_OUT);
    }
  return TRUE;
}

static gboolean
check_attrs (QmmarOp *q, GError **error)
{
  if (!g_str_equal (q->reduce_op, "sum"))
    return npu_op_error (error, &q->base, NPU_OP_ERROR_PARAM_INVALID,
                         "reduceOp: expected \"sum\", got \"%s\"", q->reduce_op);
  if (q->stream_mode != 1)
    return npu_op_error (error, &q->base, NPU_OP_ERROR_PARAM_INVALID,
                         "streamMode: expected 1 (ACL_STOP_ON_FAILURE), got %" G_GINT64_FORMAT,
                         q->stream_mode);
  return TRUE;
}

static gboolean
dims_in (GError **error, QmmarOp *q, QmmarTensorId id, guint lo, guint hi)
{
  guint nd = q->d[id].ndim;
  if (nd < lo || nd > hi)
    {
      if (lo == hi)
        return npu_op_error (error, &q->base, NPU_OP_ERROR_PARAM_INVALID,
                             "%s: expected %u dimensions, got %u", qmmar_tensor_names[id], lo,
                             nd);
      return npu_op_error (error, &q->base, NPU_OP_ERROR_PARAM_INVALID,
                           "%s: expected %u to %u dimensions, got %u", qmmar_tensor_names[id],
                           lo, hi, nd);
    }
  return TRUE;
}

static gboolean
check_shapes (QmmarOp *q, GError **error)
{
  QmmarDesc *d = q->d;
  if (!dims_in (error, q, QT_X1, 2, 3))
    return FALSE;
  /* IsWeightNZFormat: a FRACTAL_NZ x2 has a 4-D storage; the API checks no shape then */
  if (d[QT_X2].nz)
    return TRUE;
  if (!dims_in (error, q, QT_X2, 2, 2))
    return FALSE;
  guint x1n = d[QT_X1].ndim;
  gint64 k2 = d[QT_X2].shape[0], n = d[QT_X2].shape[1];
  if (d[QT_X1].shape[x1n - 1] != k2)
    {
      g_autofree char *a = shape_str (&d[QT_X1]), *b = shape_str (&d[QT_X2]);
      return npu_op_error (error, &q->base, NPU_OP_ERROR_PARAM_INVALID,
                           "x1: the last dim of x1 %s must equal the first dim of x2 %s", a, b);
    }
  QmmarDesc want = d[QT_X1];
  want.shape[x1n - 1] = n;
  gboolean same = d[QT_OUT].ndim == want.ndim;
  for (guint i = 0; same && i < want.ndim; i++)
    same = d[QT_OUT].shape[i] == want.shape[i];
  if (!same)
    {
      g_autofree char *a = shape_str (&d[QT_OUT]), *b = shape_str (&want);
      return npu_op_error (error, &q->base, NPU_OP_ERROR_PARAM_INVALID,
                           "output: shape %s, expected %s", a, b);
    }
  if (d[QT_BIAS].present)
    {
      if (!dims_in (error, q, QT_BIAS, 1, 1))
        return FALSE;
      if (d[QT_BIAS].shape[0] != n)
        {
          g_autofree char *a = shape_str (&d[QT_BIAS]);
          return npu_op_error (error, &q->base, NPU_OP_ERROR_PARAM_INVALID,
                               "bias: shape %s, expected (%" G_GINT64_FORMAT ",)", a, n);
        }
    }
  if (d[QT_X3].present)
    {
      gboolean eq = d[QT_X3].ndim == d[QT_OUT].ndim;
      for (guint i = 0; eq && i < d[QT_OUT].ndim; i++)
        eq = d[QT_X3].shape[i] == d[QT_OUT].shape[i];
      if (!eq)
        {
          g_autofree char *a = shape_str (&d[QT_X3]), *b = shape_str (&d[QT_OUT]);
          return npu_op_error (error, &q->base, NPU_OP_ERROR_PARAM_INVALID,
                               "x3: shape %s must equal output's %s", a, b);
        }
    }
  if (!dims_in (error, q, QT_DEQ, 1, 2))
    return FALSE;
  const gint64 *ds = d[QT_DEQ].shape;
  gboolean deq_ok = (d[QT_DEQ].ndim == 1 && (ds[0] == 1 || ds[0] == n))
                    || (d[QT_DEQ].ndim == 2 && ds[0] == 1 && ds[1] == n);
  if (!deq_ok)
    {
      g_autofree char *a = shape_str (&d[QT_DEQ]);
      return npu_op_error (error, &q->base, NPU_OP_ERROR_PARAM_INVALID,
                           "dequantScale: shape %s, expected (1,), (%" G_GINT64_FORMAT ",) or (1, %"
                           G_GINT64_FORMAT ")", a, n, n);
    }
  if (d[QT_PTS].present)
    {
      if (!dims_in (error, q, QT_PTS, 1, 1))
        return FALSE;
      gint64 m = 1;
      for (guint i = 0; i + 1 < x1n; i++)
        m *= d[QT_X1].shape[i];
      if (d[QT_PTS].shape[0] != m)
        {
          g_autofree char *a = shape_str (&d[QT_PTS]);
          return npu_op_error (error, &q->base, NPU_OP_ERROR_PARAM_INVALID,
                               "pertokenScale: shape %s, expected (%" G_GINT64_FORMAT ",)", a, m);
        }
    }
  if (d[QT_CQ1].present != d[QT_CQ2].present)
    return npu_op_error (error, &q->base, NPU_OP_ERROR_PARAM_INVALID,
                         "commQuantScale1 and commQuantScale2 must both be given or both be "
                         "nullptr (%s is a nullptr)",
                         d[QT_CQ1].present ? "commQuantScale2" : "commQuantScale1");
  if (d[QT_CQ1].present)
    {
      if (!dims_in (error, q, QT_CQ1, 1, 2) || !dims_in (error, q, QT_CQ2, 1, 2))
        return FALSE;
      if (d[QT_CQ1].ndim != d[QT_CQ2].ndim)
        return npu_op_error (error, &q->base, NPU_OP_ERROR_PARAM_INVALID,
                             "commQuantScale1 and commQuantScale2 must have the same number of "
                             "dims (%u and %u)", d[QT_CQ1].ndim, d[QT_CQ2].ndim);
      /* As the API does: both dims are read from commQuantScale2 (the shape of
       * commQuantScale1 is then only checked by the tiling, -> 561002). */
      const gint64 *s2 = d[QT_CQ2].shape;
      gboolean ok = (d[QT_CQ2].ndim == 1 && s2[0] == n)
                    || (d[QT_CQ2].ndim == 2 && s2[0] == 1 && s2[1] == n);
      if (!ok)
        {
          g_autofree char *a = shape_str (&d[QT_CQ1]), *b = shape_str (&d[QT_CQ2]);
          return npu_op_error (error, &q->base, NPU_OP_ERROR_PARAM_INVALID,
                               "commQuantScale1/commQuantScale2: shapes %s and %s, expected (%"
                               G_GINT64_FORMAT ",) or (1, %" G_GINT64_FORMAT ")", a, b, n, n);
        }
    }
  return TRUE;
}

/* ---- the host tiling's checks (561002) ---- */

static gboolean
check_tiling (QmmarOp *q, const NpuOpEnv *env, GError **error)
{
  QmmarDesc *d = q->d;
  const NpuHw *hw = env->hw;
  guint w = env->group_size;
  /* platform: only ascend910b has the kernel (matmul_all_reduce_def.cpp); the rank
   * check knows no A3 SoC (Mc2TilingUtils::CheckRankSize) */
  if (hw->topology != NPU_TOPO_A2)
    return npu_op_error (error, &q->base, NPU_OP_ERROR_TILING,
                         "Atlas A3 is not supported (the kernel exists for Atlas A2 "
                         "only; CheckRankSize knows no rank sizes for this SoC)");
  if (w != 1 && w != 2 && w != 4 && w != 8)
    return npu_op_error (error, &q->base, NPU_OP_ERROR_TILING,
                         "group: rank size %u is not supported on A2 (1, 2, 4, 8)", w);
  for (guint g = 1; g < w; g++)
    if (npu_cluster_server_of (env->cluster, env->group_ranks[g])
        != npu_cluster_server_of (env->cluster, env->group_ranks[0]))
      return npu_op_error (error, &q->base, NPU_OP_ERROR_TILING,
                           "group: ranks %u and %u are in different servers; only "
                           "the HCCS full mesh of one A2 server is supported",
                           env->group_ranks[0], env->group_ranks[g]);
  gint64 n = d[QT_OUT].shape[d[QT_OUT].ndim - 1];
  gint64 k = d[QT_X1].shape[d[QT_X1].ndim - 1];
  gint64 m = 1;
  for (guint i = 0; i + 1 < d[QT_X1].ndim; i++)
    m *= d[QT_X1].shape[i];
  /* CheckA8W8: bias, dequantScale, pertokenScale, commQuantScale shapes against n/m
   * (reached with FRACTAL_NZ x2, whose shapes the API does not check) */
  if (d[QT_BIAS].present && (d[QT_BIAS].ndim != 1 || numel (&d[QT_BIAS]) != n))
    return npu_op_error (error, &q->base, NPU_OP_ERROR_TILING,
                         "bias: expected shape (%" G_GINT64_FORMAT ",)", n);
  if (d[QT_DEQ].ndim > 3 || (numel (&d[QT_DEQ]) != 1 && numel (&d[QT_DEQ]) != n))
    return npu_op_error (error, &q->base, NPU_OP_ERROR_TILING,
                         "dequantScale: expected (1,), (n,) or (1, n), n = %"
                         G_GINT64_FORMAT, n);
  if (d[QT_PTS].present && (d[QT_PTS].ndim > 1 || numel (&d[QT_PTS]) != m))
    return npu_op_error (error, &q->base, NPU_OP_ERROR_TILING,
                         "pertokenScale: expected shape (%" G_GINT64_FORMAT ",)", m);
  if (d[QT_CQ1].present || d[QT_CQ2].present)
    {
      if (d[QT_CQ1].ndim > 2 || d[QT_CQ2].ndim > 2)
        return npu_op_error (error, &q->base, NPU_OP_ERROR_TILING,
                             "commQuantScale1/2: expected 1 or 2 dims");
      if (numel (&d[QT_CQ1]) != n || numel (&d[QT_CQ2]) != n)
        return npu_op_error (error, &q->base, NPU_OP_ERROR_TILING,
                             "commQuantScale1 and commQuantScale2: expected %"
                             G_GINT64_FORMAT " elements each, got %" G_GINT64_FORMAT " and %"
                             G_GINT64_FORMAT, n, numel (&d[QT_CQ1]), numel (&d[QT_CQ2]));
    }
  /* CheckInput */
  if (q->comm_turn != 0)
    return npu_op_error (error, &q->base, NPU_OP_ERROR_TILING,
                         "commTurn: expected 0, got %" G_GINT64_FORMAT, q->comm_turn);
  NpuDtype out = d[QT_OUT].dtype, deq = d[QT_DEQ].dtype;
  if (out == NPU_DT_FP16 && !d[QT_PTS].present && deq != NPU_DT_INT64 && deq != NPU_DT_UINT64)
    return npu_op_error (error, &q->base, NPU_OP_ERROR_TILING,
                         "dequantScale: with float16 output and no pertokenScale it "
                         "must be int64/uint64 (TransQuantParamV2), got %s", npu_dtype_name (deq));
  /* CheckAxisSize */
  if (m > G_MAXINT32)
    return npu_op_error (error, &q->base, NPU_OP_ERROR_TILING,
                         "x1: m = %" G_GINT64_FORMAT " exceeds %d", m, G_MAXINT32);
  if (k > 65535)
    return npu_op_error (error, &q->base, NPU_OP_ERROR_TILING,
                         "x1: k = %" G_GINT64_FORMAT " exceeds 65535", k);
  gint64 x2_last = d[QT_X2].transpose ? k : n;
  if (x2_last > 65535)
    return npu_op_error (error, &q->base, NPU_OP_ERROR_TILING,
                         "x2: the last dim %" G_GINT64_FORMAT " exceeds 65535", x2_last);
  /* CheckQuantEmptyTensor */
  static const QmmarTensorId opt[] = { QT_BIAS, QT_X3, QT_DEQ, QT_PTS, QT_CQ1, QT_CQ2 };
  for (guint i = 0; i < G_N_ELEMENTS (opt); i++)
    if (d[opt[i]].present && numel (&d[opt[i]]) == 0)
      return npu_op_error (error, &q->base, NPU_OP_ERROR_TILING,
                           "%s is an empty tensor", qmmar_tensor_names[opt[i]]);
  if (k == 0 || numel (&d[QT_OUT]) == 0)
    return npu_op_error (error, &q->base, NPU_OP_ERROR_TILING,
                         "output is an empty tensor or k is 0");
  if (numel (&d[QT_X1]) == 0)
    return npu_op_error (error, &q->base, NPU_OP_ERROR_TILING, "x1 is an empty tensor");
  return TRUE;
}

/* A FRACTAL_NZ x2 must hold the (k, n) weight the kernel reads (the real API cannot
 * check it and would read the wrong bytes): the simulator refuses the scenario. */
static gboolean
check_nz (QmmarOp *q, const char *path, GError **error)
{
  QmmarDesc *d = q->d;
  if (!d[QT_X2].nz)
    return TRUE;
  gint64 k = d[QT_X1].shape[d[QT_X1].ndim - 1];
  gint64 n = d[QT_OUT].shape[d[QT_OUT].ndim - 1];
  if (d[QT_X2].ndim != 2 || d[QT_X2].shape[0] != k || d[QT_X2].shape[1] != n)
    {
      g_autofree char *a = shape_str (&d[QT_X2]);
      g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                   "%s.x2.shape: a FRACTAL_NZ x2 is given by its view shape (k, n) = (%"
                   G_GINT64_FORMAT ", %" G_GINT64_FORMAT "), got %s (the real API does not "
                   "check NZ weights and would read wrong data)", path, k, n, a);
      return FALSE;
    }
  return TRUE;
}

gboolean
qmmar_parse (QmmarOp *q, const json_t *spec, const char *path, const NpuOpEnv *env,
             GError **error)
{
  return qmmar_parse_keys (q, spec, path, env, error)
         && check_null (q, error) && check_dtypes (q, error) && check_attrs (q, error)
         && check_shapes (q, error) && check_tiling (q, env, error)
         && check_nz (q, path, error);
}
