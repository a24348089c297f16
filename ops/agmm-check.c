/* npusim — AllGatherMatmulV2 parameter checks, in the order the real A2/A3 API runs
 * them, with its return codes (docs/ops/AllGatherMatmulV2.md "Parameter checks"):
 *
 *  1. aclnnAllGatherMatmulV2GetWorkspaceSize (op_api, master @ 25fb6b928): commMode
 *     nullptr -> 561103; commMode not "aiv" on DAV_2201 -> 161002; then
 *     CheckParamsAndShapeForAIVMode: x1 / x2 / output nullptr -> 161001; x1, x2 not in
 *     {fp16, bf16, int8, int4} or output not in {fp16, bf16} -> 161002; streamMode != 1
 *     -> 161002; x1 / x2 not 2-D, x1 transposed, k of x1 != k of x2, k of gatherOut
 *     != k, n of x2 != n of output -> 161002.
 *  2. The operator definition (op_host/all_gather_matmul_v2_def.cpp, ascend910b /
 *     ascend910_93 dtype lists) and the documented constraints of the spec, which the
 *     API reports as 161002 ("dtype or dims outside the supported range"): output dtype
 *     = x1 dtype for fp16/bf16 inputs; gatherOut dtype = x1 dtype; x1Scale / x2Scale
 *     nullptr for fp16/bf16; x1Scale float32 (m, 1); x2Scale float32 or int64 (1, n);
 *     quantScale nullptr; amaxOut nullptr or empty; bias dtype; gatherIndex, commTurn,
 *     groupSize, blockSize 0; no empty tensors; k in [256, 65535); output and gatherOut
 *     of (rank_size·m) rows.
 *  3. Host tiling (op_host/op_tiling/arch22, OP_TILING_CHECK -> 561002): x1 dtype !=
 *     x2 dtype; bias given; rank size not 2, 4 or 8; int8 without a valid x2Scale
 *     (nullptr, or INT64 with a non-fp16 output); HCCL buffer below 200 MiB.
 */
#include "ops/agmm-private.h"
#include <string.h>

#define ACLNN_ERR_INNER_NULLPTR ((NpuOpError) 561103)

static gboolean
dtype_in (const AgmmDecl *d, const char *const *names)
{
  for (guint i = 0; names[i] != NULL; i++)
    {
      NpuDtype want;
      if (g_str_equal (d->dtype_name, names[i])
          || (d->dtype_known && npu_dtype_from_name (names[i], &want) && want == d->dtype))
        return TRUE;
    }
  return FALSE;
}

static gint64
numel (const AgmmDecl *d)
{
  return npu_shape_numel (d->ndim, d->shape);
}

static char *
shape_str (const AgmmDecl *d)
{
  return npu_shape_string (d->ndim, d->shape);
}

static gboolean
is_dt (const AgmmDecl *d, NpuDtype dt)
{
  return d->dtype_known && d->dtype == dt;
}

gboolean
agmm_check (AgmmOp *a, const NpuOpEnv *env, GError **error)
{
  static const char *const aiv_in[] = { "float16", "bfloat16", "int8", "int4", NULL };
  static const char *const aiv_out[] = { "float16", "bfloat16", NULL };
  const NpuHw *hw = env->hw;
  guint W = a->W;

  /* ---- 1. op_api ---- */
  if (a->comm_mode == NULL)
    return npu_op_error (error, &a->base, ACLNN_ERR_INNER_NULLPTR, "commMode is nullptr");
  if (strncmp (a->comm_mode, "aiv", 7) != 0)
    return npu_op_error (error, &a->base, NPU_OP_ERROR_PARAM_INVALID,
                         "commMode '%s' is invalid: Atlas A2/A3 support only \"aiv\"",
                         a->comm_mode);
  if (!a->x1.present)
    return npu_op_error (error, &a->base, NPU_OP_ERROR_PARAM_NULL, "x1 is nullptr");
  if (!a->x2.present)
    return npu_op_error (error, &a->base, NPU_OP_ERROR_PARAM_NULL, "x2 is nullptr");
  if (!a->out.present)
    return npu_op_error (error, &a->base, NPU_OP_ERROR_PARAM_NULL, "output is nullptr");
  if (!dtype_in (&a->x1, aiv_in))
    return npu_op_error (error, &a->base, NPU_OP_ERROR_PARAM_INVALID,
                         "x1 dtype %s is not supported in aiv mode (float16, bfloat16, int8, int4)",
                         a->x1.dtype_name);
  if (!dtype_in (&a->x2, aiv_in))
    return npu_op_error (error, &a->base, NPU_OP_ERROR_PARAM_INVALID,
                         "x2 dtype %s is not supported in aiv mode (float16, bfloat16, int8, int4)",
                         a->x2.dtype_name);
  if (!dtype_in (&a->out, aiv_out))
    return npu_op_error (error, &a->base, NPU_OP_ERROR_PARAM_INVALID,
                         "output dtype %s is not supported in aiv mode (float16, bfloat16)",
                         a->out.dtype_name);
  if (a->stream_mode != 1)
    return npu_op_error (error, &a->base, NPU_OP_ERROR_PARAM_INVALID,
                         "streamMode %" G_GINT64_FORMAT " is invalid: only 1 is supported",
                         a->stream_mode);
  if (a->x1.ndim != 2)
    return npu_op_error (error, &a->base, NPU_OP_ERROR_PARAM_INVALID,
                         "x1 must be 2-D, got %uD", a->x1.ndim);
  if (a->x2.ndim != 2)
    return npu_op_error (error, &a->base, NPU_OP_ERROR_PARAM_INVALID,
                         "x2 must be 2-D, got %uD", a->x2.ndim);
  if (a->x1.transposed)
    return npu_op_error (error, &a->base, NPU_OP_ERROR_PARAM_INVALID,
                         "x1 is transposed: only a non-transposed x1 is supported");
  gint64 k1 = a->x1.shape[1];
  /* IsViewTransposeX2: an x2 view of shape (n, k) is taken as transposed. */
  gboolean view_trans = !a->x2.transposed && k1 != a->x2.shape[0] && k1 == a->x2.shape[1];
  gint64 k2 = view_trans ? a->x2.shape[1] : a->x2.shape[0];
  gint64 n2 = view_trans ? a->x2.shape[0] : a->x2.shape[1];
  if (k1 != k2)
    return npu_op_error (error, &a->base, NPU_OP_ERROR_PARAM_INVALID,
                         "x1 and x2: the k-axis must be the same (%" G_GINT64_FORMAT " and %"
                         G_GINT64_FORMAT ")", k1, k2);
  gboolean gather_out = a->gout.present && numel (&a->gout) > 0;
  if (gather_out && (a->gout.ndim != 2 || a->gout.shape[1] != k1))
    return npu_op_error (error, &a->base, NPU_OP_ERROR_PARAM_INVALID,
                         "x1 and gatherOut: the k-axis must be the same (%" G_GINT64_FORMAT " and %"
                         G_GINT64_FORMAT ")", k1, a->gout.ndim >= 2 ? a->gout.shape[1] : -1);
  if (a->out.ndim != 2 || a->out.shape[1] != n2)
    return npu_op_error (error, &a->base, NPU_OP_ERROR_PARAM_INVALID,
                         "x2 and output: the n-axis must be the same (%" G_GINT64_FORMAT " and %"
                         G_GINT64_FORMAT ")", n2, a->out.ndim >= 2 ? a->out.shape[1] : -1);

  /* ---- 2. operator definition and documented constraints ---- */
  gboolean half = is_dt (&a->x1, NPU_DT_FP16) || is_dt (&a->x1, NPU_DT_BF16);
  gboolean int8 = is_dt (&a->x1, NPU_DT_INT8);
  if (!half && !int8)
    {
      /* int4 passes the API but npusim has no int4 storage type. */
      g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                   "%s.dtype: %s inputs are accepted by the real API but not modelled by "
                   "npusim (float16, bfloat16, int8)", a->path, a->x1.dtype_name);
      return FALSE;
    }
  if (half && !(a->out.dtype_known && a->out.dtype == a->x1.dtype))
    return npu_op_error (error, &a->base, NPU_OP_ERROR_PARAM_INVALID,
                         "output dtype %s must equal x1's (%s) for float16/bfloat16 inputs",
                         a->out.dtype_name, a->x1.dtype_name);
  if (a->gout.present && !(a->gout.dtype_known && a->gout.dtype == a->x1.dtype))
    return npu_op_error (error, &a->base, NPU_OP_ERROR_PARAM_INVALID,
                         "gatherOut dtype %s must equal x1's (%s)", a->gout.dtype_name,
                         a->x1.dtype_name);
  if (half && a->x1s.present)
    return npu_op_error (error, &a->base, NPU_OP_ERROR_PARAM_INVALID,
                         "x1Scale must be nullptr for float16/bfloat16 inputs");
  if (half && a->x2s.present)
    return npu_op_error (error, &a->base, NPU_OP_ERROR_PARAM_INVALID,
                         "x2Scale must be nullptr for float16/bfloat16 inputs");
  if (a->x1s.present && !is_dt (&a->x1s, NPU_DT_FP32))
    return npu_op_error (error, &a->base, NPU_OP_ERROR_PARAM_INVALID,
                         "x1Scale dtype %s is not supported (float32)", a->x1s.dtype_name);
  if (a->x2s.present && !is_dt (&a->x2s, NPU_DT_FP32) && !is_dt (&a->x2s, NPU_DT_INT64))
    return npu_op_error (error, &a->base, NPU_OP_ERROR_PARAM_INVALID,
                         "x2Scale dtype %s is not supported (float32, int64)", a->x2s.dtype_name);
  if (a->qs.present)
    return npu_op_error (error, &a->base, NPU_OP_ERROR_PARAM_INVALID,
                         "quantScale must be nullptr in this version");
  if (a->amax.present && numel (&a->amax) > 0)
    return npu_op_error (error, &a->base, NPU_OP_ERROR_PARAM_INVALID,
                         "amaxOut must be nullptr or an empty tensor in this version");
  if (a->bias.present
      && !(half ? is_dt (&a->bias, a->x1.dtype) : is_dt (&a->bias, NPU_DT_FP32)))
    return npu_op_error (error, &a->base, NPU_OP_ERROR_PARAM_INVALID,
                         "bias dtype %s is not supported (%s for %s inputs)", a->bias.dtype_name,
                         half ? a->x1.dtype_name : "float32", a->x1.dtype_name);
  if (a->gather_index != 0)
    return npu_op_error (error, &a->base, NPU_OP_ERROR_PARAM_INVALID,
                         "gatherIndex %" G_GINT64_FORMAT " is invalid: only 0 (gather x1)",
                         a->gather_index);
  if (a->comm_turn != 0)
    return npu_op_error (error, &a->base, NPU_OP_ERROR_PARAM_INVALID,
                         "commTurn %" G_GINT64_FORMAT " is invalid: only 0", a->comm_turn);
  if (a->group_size != 0)
    return npu_op_error (error, &a->base, NPU_OP_ERROR_PARAM_INVALID,
                         "groupSize %" G_GINT64_FORMAT " is invalid: only 0 on Atlas A2/A3",
                         a->group_size);
  if (a->block_size != 0)
    return npu_op_error (error, &a->base, NPU_OP_ERROR_PARAM_INVALID,
                         "blockSize %" G_GINT64_FORMAT " is invalid: only 0 (blockSizeM = "
                         "blockSizeN = 0)", a->block_size);
  gint64 m = a->x1.shape[0];
  if (m == 0 || k1 == 0 || n2 == 0)
    {
      g_autofree char *s1 = shape_str (&a->x1), *s2 = shape_str (&a->x2);
      return npu_op_error (error, &a->base, NPU_OP_ERROR_PARAM_INVALID,
                           "x1 %s, x2 %s: empty tensors are not supported on Atlas A2/A3", s1, s2);
    }
  if (k1 < 256 || k1 >= 65535)
    return npu_op_error (error, &a->base, NPU_OP_ERROR_PARAM_INVALID,
                         "x1: the k-axis %" G_GINT64_FORMAT " must be in the range [256, 65535)",
                         k1);
  if (a->out.shape[0] != m * W)
    {
      g_autofree char *s = shape_str (&a->out);
      return npu_op_error (error, &a->base, NPU_OP_ERROR_PARAM_INVALID,
                           "output %s must have m * rank_size = %" G_GINT64_FORMAT " rows", s,
                           m * W);
    }
  if (gather_out && a->gout.shape[0] != m * W)
    {
      g_autofree char *s = shape_str (&a->gout);
      return npu_op_error (error, &a->base, NPU_OP_ERROR_PARAM_INVALID,
                           "gatherOut %s must have m * rank_size = %" G_GINT64_FORMAT " rows", s,
                           m * W);
    }
  if (a->x1s.present
      && !((a->x1s.ndim == 2 && a->x1s.shape[0] == m && a->x1s.shape[1] == 1)
           || (a->x1s.ndim == 1 && a->x1s.shape[0] == m)))
    {
      g_autofree char *s = shape_str (&a->x1s);
      return npu_op_error (error, &a->base, NPU_OP_ERROR_PARAM_INVALID,
                           "x1Scale %s must be (m, 1) = (%" G_GINT64_FORMAT ", 1) per token", s, m);
    }
  if (a->x2s.present
      && !((a->x2s.ndim == 2 && a->x2s.shape[0] == 1 && a->x2s.shape[1] == n2)
           || (a->x2s.ndim == 1 && a->x2s.shape[0] == n2)))
    {
      g_autofree char *s = shape_str (&a->x2s);
      return npu_op_error (error, &a->base, NPU_OP_ERROR_PARAM_INVALID,
                           "x2Scale %s must be (1, n) = (1, %" G_GINT64_FORMAT ") per channel", s,
                           n2);
    }

  /* ---- 3. host tiling ---- */
  if (!(a->x2.dtype_known && a->x2.dtype == a->x1.dtype))
    return npu_op_error (error, &a->base, NPU_OP_ERROR_TILING,
                         "x1 (%s) and x2 (%s) must have the same data type", a->x1.dtype_name,
                         a->x2.dtype_name);
  if (a->bias.present)
    return npu_op_error (error, &a->base, NPU_OP_ERROR_TILING, "bias must be nullptr in aiv mode");
  if (W != 2 && W != 4 && W != 8)
    return npu_op_error (error, &a->base, NPU_OP_ERROR_TILING,
                         "rank size %u of the group is unsupported: 2, 4 or 8", W);
  if (int8 && !a->x2s.present)
    return npu_op_error (error, &a->base, NPU_OP_ERROR_TILING,
                         "invalid x2Scale: nullptr for int8 inputs");
  if (int8 && is_dt (&a->x2s, NPU_DT_INT64) && !is_dt (&a->out, NPU_DT_FP16))
    return npu_op_error (error, &a->base, NPU_OP_ERROR_TILING,
                         "invalid x2Scale: int64 scales need a float16 output (output is %s)",
                         a->out.dtype_name);
  if (hw->hccl_buffer_bytes < (guint64) 200 << 20)
    return npu_op_error (error, &a->base, NPU_OP_ERROR_TILING,
                         "the HCCL window (hccl.buffer_bytes = %" G_GUINT64_FORMAT ") is below the "
                         "200 MiB the kernel's window layout needs", hw->hccl_buffer_bytes);

  /* ---- what the simulator can run ---- */
  a->a3 = hw->topology == NPU_TOPO_A3;
  a->n_aic = hw->aic_count;
  const guint *ranks = env->group_ranks;
  for (guint g = 1; g < W && !a->a3; g++)
    if (!npu_cluster_same_server (env->cluster, ranks[0], ranks[g]))
      {
        g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                     "%s.group: ranks %u and %u are in different A2 servers; the aiv-mode "
                     "kernel writes into the peers' windows over HCCS, inside one server",
                     a->path, ranks[0], ranks[g]);
        return FALSE;
      }
  if (hw->aiv_count < 2 * hw->aic_count || hw->aic_count == 0)
    {
      g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                   "%s: the kernel runs blocks of 1 AIC + 2 AIV; die.aiv_count (%u) must be at "
                   "least 2 * die.aic_count (%u)", a->path, hw->aiv_count, hw->aic_count);
      return FALSE;
    }

  /* ---- resolved parameters ---- */
  a->m = m;
  a->k = k1;
  a->n = n2;
  a->in_dt = a->x1.dtype;
  a->out_dt = a->out.dtype;
  a->quant = int8;
  a->per_token = int8 && a->x1s.present;
  a->x2s_int64 = int8 && is_dt (&a->x2s, NPU_DT_INT64);
  a->fixpipe = a->x2s_int64 && a->out_dt == NPU_DT_FP16;
  a->aiv_per_channel = int8 && !a->fixpipe;
  a->trans_b = a->x2.transposed || view_trans;
  a->gather_out = gather_out;
  gint64 esize = (gint64) npu_dtype_size (a->in_dt);
  gint64 elem_align = 512 / esize;
  a->k_align = (a->k + elem_align - 1) / elem_align * elem_align;
  a->n_align = (a->n + elem_align - 1) / elem_align * elem_align;
  /* GetUsrWorkSpaceSize: IsMatrixAligned on the contiguous dimension. */
  a->pad_a = a->k % elem_align != 0 && a->m != 1;
  a->pad_b = (a->trans_b ? a->k : a->n) % elem_align != 0;

  agmm_tiling_default (a->a3, W, a->quant, &a->t);
  if (a->tiling_set != NULL)
    {
      g_autofree char *tpath = g_strdup_printf ("%s.tiling", a->path);
      if (!agmm_tiling_override (&a->t, a->tiling_set, tpath, error))
        return FALSE;
    }
  agmm_tiling_finish (&a->t, a->m, a->k, a->n, W);
  if ((guint) (a->t.comm_npu_split * a->t.comm_data_split) >= hw->aic_count)
    {
      g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                   "%s.tiling: commNpuSplit * commDataSplit = %d pushing blocks leave no block "
                   "of the die's %u for unpacking", a->path,
                   a->t.comm_npu_split * a->t.comm_data_split, hw->aic_count);
      return FALSE;
    }
  a->cal_count = (guint) ((a->t.m_loop + a->t.p_value - 1) / a->t.p_value);
  a->acc_pingpong = a->quant && a->m >= 2 * (gint64) a->t.m0 * a->t.p_value;
  return TRUE;
}
