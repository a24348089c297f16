/* npusim — AllGatherMatmulV2: scenario parsing, tensors and the NpuOpClass table.
 * Validation is in agmm-check.c, the tiling in agmm-tiling.c, the plan in agmm-plan*.c. */
#include "ops/agmm-private.h"
#include <string.h>

static void
decl_clear (AgmmDecl *d)
{
  g_clear_pointer (&d->dtype_name, g_free);
}

static void
agmm_finalize (NpuOp *op)
{
  AgmmOp *a = (AgmmOp *) op;
  AgmmDecl *decls[] = { &a->x1, &a->x2, &a->bias, &a->x1s, &a->x2s, &a->qs, &a->out,
                        &a->gout, &a->amax };
  for (guint i = 0; i < G_N_ELEMENTS (decls); i++)
    decl_clear (decls[i]);
  g_free (a->path);
  g_free (a->comm_mode);
  if (a->inputs != NULL)
    json_decref (a->inputs);
  if (a->tiling_set != NULL)
    json_decref (a->tiling_set);
  g_free (a->x1t);
  g_free (a->x2t);
  g_free (a->x1st);
  g_free (a->x2st);
  g_free (a->outt);
  g_free (a->goutt);
}

static void
decl_set (AgmmDecl *d, const char *dtype, guint ndim, gint64 d0, gint64 d1)
{
  g_free (d->dtype_name);
  d->present = TRUE;
  d->dtype_name = g_strdup (dtype);
  d->dtype_known = npu_dtype_from_name (dtype, &d->dtype);
  d->ndim = ndim;
  d->shape[0] = d0;
  d->shape[1] = d1;
}

/* Overlay the scenario's declaration of tensor @key on the defaults in @d. */
static gboolean
decl_parse (AgmmDecl *d, const json_t *spec, const char *key, const char *path,
            gboolean may_transpose, GError **error)
{
  json_t *v = json_object_get (spec, key);
  if (v == NULL)
    return TRUE;
  g_autofree char *sub = g_strdup_printf ("%s.%s", path, key);
  if (json_is_null (v))
    {
      d->present = FALSE;
      return TRUE;
    }
  if (!json_is_object (v))
    {
      g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                   "%s: expected null (nullptr) or an object {\"dtype\", \"shape\"%s}", sub,
                   may_transpose ? ", \"transposed\"" : "");
      return FALSE;
    }
  static const char *const keys_t[] = { "dtype", "shape", "transposed", NULL };
  static const char *const keys[] = { "dtype", "shape", NULL };
  if (!npu_spec_check_keys (v, may_transpose ? keys_t : keys, sub, error))
    return FALSE;
  d->present = TRUE;
  json_t *dt = json_object_get (v, "dtype");
  if (dt != NULL)
    {
      if (!json_is_string (dt))
        {
          g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                       "%s.dtype: expected a dtype name", sub);
          return FALSE;
        }
      g_free (d->dtype_name);
      d->dtype_name = g_strdup (json_string_value (dt));
      d->dtype_known = npu_dtype_from_name (d->dtype_name, &d->dtype);
    }
  json_t *sh = json_object_get (v, "shape");
  if (sh != NULL)
    {
      if (!json_is_array (sh) || json_array_size (sh) > G_N_ELEMENTS (d->shape))
        {
          g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                       "%s.shape: expected a list of at most %u dimensions", sub,
                       (guint) G_N_ELEMENTS (d->shape));
          return FALSE;
        }
      d->ndim = (guint) json_array_size (sh);
      for (guint i = 0; i < d->ndim; i++)
        {
          json_t *x = json_array_get (sh, i);
          if (!json_is_integer (x) || json_integer_value (x) < 0
              || json_integer_value (x) > ((json_int_t) 1 << 31))
            {
              g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                           "%s.shape[%u]: expected an integer in [0, 2^31]", sub, i);
              return FALSE;
            }
          d->shape[i] = json_integer_value (x);
        }
    }
  if (may_transpose
      && !npu_spec_get_bool (v, "transposed", sub, d->transposed, &d->transposed, error))
    return FALSE;
  return TRUE;
}

static NpuOp *
agmm_create (const json_t *spec, const char *path, const NpuOpEnv *env, GError **error)
{
  static const char *const keys[] = {
    "dtype", "m", "k", "n", "transposeX2", "x1", "x2", "output", "gatherOut", "bias",
    "x1Scale", "x2Scale", "quantScale", "amaxOut", "commMode", "streamMode", "gatherIndex",
    "commTurn", "groupSize", "blockSize", "transQuantRoundMode", "tiling", "inputs", NULL
  };
  g_autoptr (NpuOp) op = (NpuOp *) g_new0 (AgmmOp, 1);
  npu_op_init (op, &npu_agmm_class);
  AgmmOp *a = (AgmmOp *) op;
  a->path = g_strdup (path);
  a->seed = env->seed;
  a->W = env->group_size;
  const char *dtype;
  guint64 m, k, n, round_mode;
  gboolean trans_b;
  if (!npu_spec_check_keys (spec, keys, path, error)
      || !npu_spec_get_string (spec, "dtype", path, TRUE, NULL, &dtype, error)
      || !npu_spec_get_uint (spec, "m", path, TRUE, 0, 0, G_MAXINT32, &m, error)
      || !npu_spec_get_uint (spec, "k", path, TRUE, 0, 0, G_MAXINT32, &k, error)
      || !npu_spec_get_uint (spec, "n", path, TRUE, 0, 0, G_MAXINT32, &n, error)
      || !npu_spec_get_bool (spec, "transposeX2", path, FALSE, &trans_b, error)
      || !npu_spec_get_uint (spec, "transQuantRoundMode", path, FALSE, 0, 0, 1, &round_mode,
                             error)
      || !npu_mm_get_int (spec, "streamMode", path, 1, &a->stream_mode, error)
      || !npu_mm_get_int (spec, "gatherIndex", path, 0, &a->gather_index, error)
      || !npu_mm_get_int (spec, "commTurn", path, 0, &a->comm_turn, error)
      || !npu_mm_get_int (spec, "groupSize", path, 0, &a->group_size, error)
      || !npu_mm_get_int (spec, "blockSize", path, 0, &a->block_size, error))
    return NULL;
  a->round_mode = (guint) round_mode;

  /* Defaults derived from dtype, m, k, n; then the scenario's declarations. */
  NpuDtype dt;
  gboolean known = npu_dtype_from_name (dtype, &dt);
  gboolean half = known && (dt == NPU_DT_FP16 || dt == NPU_DT_BF16);
  const char *out_default = half ? dtype : "float16";
  gint64 M = (gint64) m * a->W;
  decl_set (&a->x1, dtype, 2, (gint64) m, (gint64) k);
  decl_set (&a->x2, dtype, 2, (gint64) k, (gint64) n);
  a->x2.transposed = trans_b;
  decl_set (&a->out, out_default, 2, M, (gint64) n);
  decl_set (&a->gout, dtype, 2, M, (gint64) k);
  decl_set (&a->bias, half ? dtype : "float32", 1, (gint64) n, 0);
  decl_set (&a->x1s, "float32", 2, (gint64) m, 1);
  decl_set (&a->x2s, "float32", 2, 1, (gint64) n);
  decl_set (&a->qs, "float32", 1, 1, 0);
  decl_set (&a->amax, "float32", 1, 1, 0);
  a->bias.present = a->x1s.present = a->x2s.present = a->qs.present = a->amax.present = FALSE;
  if (!decl_parse (&a->x1, spec, "x1", path, TRUE, error)
      || !decl_parse (&a->x2, spec, "x2", path, TRUE, error)
      || !decl_parse (&a->out, spec, "output", path, FALSE, error)
      || !decl_parse (&a->gout, spec, "gatherOut", path, FALSE, error)
      || !decl_parse (&a->bias, spec, "bias", path, FALSE, error)
      || !decl_parse (&a->x1s, spec, "x1Scale", path, FALSE, error)
      || !decl_parse (&a->x2s, spec, "x2Scale", path, FALSE, error)
      || !decl_parse (&a->qs, spec, "quantScale", path, FALSE, error)
      || !decl_parse (&a->amax, spec, "amaxOut", path, FALSE, error))
    return NULL;

  json_t *cm = json_object_get (spec, "commMode");
  if (cm == NULL)
    a->comm_mode = g_strdup ("aiv");
  else if (json_is_string (cm))
    a->comm_mode = g_strdup (json_string_value (cm));
  else if (!json_is_null (cm))
    {
      g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                   "%s.commMode: expected a string or null", path);
      return NULL;
    }

  json_t *tiling = json_object_get (spec, "tiling");
  if (tiling != NULL)
    {
      g_autofree char *tpath = g_strdup_printf ("%s.tiling", path);
      AgmmTiling probe;
      agmm_tiling_default (FALSE, 8, FALSE, &probe);
      if (!agmm_tiling_override (&probe, tiling, tpath, error))
        return NULL;
      a->tiling_set = json_incref (tiling);
    }

  static const char *const in_keys[] = { "x1", "x2", "x1Scale", "x2Scale", NULL };
  json_t *inputs;
  if (!npu_spec_get_object (spec, "inputs", path, in_keys, "{\"x1\": {...}, ...}", &inputs,
                            error))
    return NULL;
  if (inputs != NULL)
    a->inputs = json_incref (inputs);

  /* The aclnn checks and the kernel's tiling rules (error codes as the real API). */
  if (!agmm_check (a, env, error))
    return NULL;

  json_object_set_new (op->attrs, "dtype", json_string (npu_dtype_name (a->in_dt)));
  json_object_set_new (op->attrs, "outputDtype", json_string (npu_dtype_name (a->out_dt)));
  json_object_set_new (op->attrs, "m", json_integer (a->m));
  json_object_set_new (op->attrs, "k", json_integer (a->k));
  json_object_set_new (op->attrs, "n", json_integer (a->n));
  json_object_set_new (op->attrs, "rankSize", json_integer (a->W));
  json_object_set_new (op->attrs, "transposeX1", json_false ());
  json_object_set_new (op->attrs, "transposeX2", json_boolean (a->trans_b));
  json_object_set_new (op->attrs, "commMode", json_string ("aiv"));
  json_object_set_new (op->attrs, "streamMode", json_integer (a->stream_mode));
  json_object_set_new (op->attrs, "gatherIndex", json_integer (a->gather_index));
  json_object_set_new (op->attrs, "commTurn", json_integer (a->comm_turn));
  json_object_set_new (op->attrs, "groupSize", json_integer (a->group_size));
  json_object_set_new (op->attrs, "blockSize", json_integer (a->block_size));
  json_object_set_new (op->attrs, "isGatherOut", json_boolean (a->gather_out));
  if (a->quant)
    {
      json_object_set_new (op->attrs, "dequant",
                           json_string (a->per_token ? "per-token + per-channel"
                                                     : "per-channel"));
      json_object_set_new (op->attrs, "x2ScaleDtype",
                           json_string (a->x2s_int64 ? "int64" : "float32"));
      json_object_set_new (op->attrs, "dequantPath",
                           json_string (a->fixpipe ? (a->per_token ? "fixpipe + AIV per-token"
                                                                   : "fixpipe")
                                                   : "AIV epilogue"));
      if (a->x2s_int64)
        json_object_set_new (op->attrs, "transQuantRoundMode", json_integer (a->round_mode));
    }
  json_t *jt = json_object ();
  json_object_set_new (jt, "source", json_string (a->t.source));
  json_object_set_new (jt, "m0", json_integer (a->t.m0));
  json_object_set_new (jt, "n0", json_integer (a->t.n0));
  json_object_set_new (jt, "k0", json_integer (a->t.k0));
  json_object_set_new (jt, "pValue", json_integer (a->t.p_value));
  json_object_set_new (jt, "ubMoveNum", json_integer (a->t.ub_move_num));
  json_object_set_new (jt, "commDataSplit", json_integer (a->t.comm_data_split));
  json_object_set_new (jt, "commNpuSplit", json_integer (a->t.comm_npu_split));
  json_object_set_new (jt, "commDirect", json_integer (a->t.comm_direct));
  json_object_set_new (jt, "swizzlCount", json_integer (a->t.swizzl_count));
  json_object_set_new (jt, "swizzlDirect", json_integer (a->t.swizzl_direct));
  json_object_set_new (jt, "steps", json_integer (a->cal_count));
  json_object_set_new (jt, "padA", json_boolean (a->pad_a));
  json_object_set_new (jt, "padB", json_boolean (a->pad_b));
  json_object_set_new (jt, "accumPingPong", json_boolean (a->acc_pingpong));
  json_object_set_new (op->attrs, "tiling", jt);
  return g_steal_pointer (&op);
}

static guint64
agmm_data_bytes (NpuOp *op)
{
  return agmm_host_bytes ((AgmmOp *) op);
}

/* Input @which of group rank @g (npu_mm_input_tensor, the MatMul ops' rules). */
static NpuTensor *
agmm_input (AgmmOp *a, const NpuOpEnv *env, guint g, NpuMmInput which, NpuDtype dt, guint ndim,
            const gint64 *shape, GError **error)
{
  static const char *const names[] = { "x1", "x2", "x1Scale", "x2Scale" };
  json_t *spec = a->inputs != NULL ? json_object_get (a->inputs, names[which]) : NULL;
  g_autofree char *path = g_strdup_printf ("%s.inputs.%s", a->path, names[which]);
  return npu_mm_input_tensor (&a->base, env, g, which, dt, ndim, shape, spec, path,
                              a->round_mode, error);
}

static NpuTensor *
new_tensor (NpuDtype dt, gint64 d0, gint64 d1, const NpuOpEnv *env, GError **error)
{
  gint64 shape[2] = { d0, d1 };
  return npu_tensor_new (dt, 2, shape, NPU_FORMAT_ND, env->data_mode, error);
}

static gboolean
agmm_prepare (NpuOp *op, const NpuOpEnv *env, GError **error)
{
  AgmmOp *a = (AgmmOp *) op;
  guint W = a->W;
  a->x1t = g_new0 (NpuTensor *, W);
  a->x2t = g_new0 (NpuTensor *, W);
  a->x1st = g_new0 (NpuTensor *, W);
  a->x2st = g_new0 (NpuTensor *, W);
  a->outt = g_new0 (NpuTensor *, W);
  a->goutt = g_new0 (NpuTensor *, W);
  for (guint g = 0; g < W; g++)
    {
      guint rank = npu_op_rank_of (op, g);
      gint64 s1[2] = { a->m, a->k };
      gint64 s2[2] = { a->trans_b ? a->n : a->k, a->trans_b ? a->k : a->n };
      g_autoptr (NpuTensor) x1 = agmm_input (a, env, g, NPU_MM_X1, a->in_dt, 2, s1, error);
      g_autoptr (NpuTensor) x2 = x1 == NULL ? NULL
        : agmm_input (a, env, g, NPU_MM_X2, a->in_dt, 2, s2, error);
      if (x2 == NULL)
        return FALSE;
      npu_op_add_tensor (op, rank, "x1", x1, TRUE);
      npu_op_add_tensor (op, rank, "x2", x2, TRUE);
      a->x1t[g] = x1;
      a->x2t[g] = x2;
      if (a->per_token)
        {
          g_autoptr (NpuTensor) t = agmm_input (a, env, g, NPU_MM_X1_SCALE, NPU_DT_FP32,
                                                a->x1s.ndim, a->x1s.shape, error);
          if (t == NULL)
            return FALSE;
          npu_op_add_tensor (op, rank, "x1Scale", t, TRUE);
          a->x1st[g] = t;
        }
      if (a->quant)
        {
          g_autoptr (NpuTensor) t = agmm_input (a, env, g, NPU_MM_X2_SCALE,
                                                a->x2s_int64 ? NPU_DT_INT64 : NPU_DT_FP32,
                                                a->x2s.ndim, a->x2s.shape, error);
          if (t == NULL)
            return FALSE;
          npu_op_add_tensor (op, rank, "x2Scale", t, TRUE);
          a->x2st[g] = t;
        }
      if (a->gather_out)
        {
          g_autoptr (NpuTensor) t = new_tensor (a->in_dt, a->m * W, a->k, env, error);
          if (t == NULL)
            return FALSE;
          npu_op_add_tensor (op, rank, "gatherOut", t, FALSE);
          a->goutt[g] = t;
        }
      g_autoptr (NpuTensor) o = new_tensor (a->out_dt, a->m * W, a->n, env, error);
      if (o == NULL)
        return FALSE;
      npu_op_add_tensor (op, rank, "output", o, FALSE);
      a->outt[g] = o;
    }
  return TRUE;
}

static gboolean
agmm_plan_op (NpuOp *op, const NpuOpEnv *env, GError **error)
{
  return agmm_plan ((AgmmOp *) op, env, error);
}

const NpuOpClass npu_agmm_class = {
  "AllGatherMatmulV2",
  "aclnnAllGatherMatmulV2 (A2/A3 aiv mode): gatherOut = allgather(x1), output = gatherOut @ x2 "
  "(fp16/bf16, or int8 with per-channel/per-token dequant)",
  agmm_create, agmm_data_bytes, agmm_prepare, agmm_plan_op, agmm_finalize
};
