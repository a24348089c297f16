/* npusim — GroupedMatMulAlltoAllv: scenario parsing, the aclnn API and tiling
 * checks in the kernel's order, tensors. Planning is in ops/gmm-plan.c. */
#include "ops/gmm-private.h"
#include <string.h>

const char *const gmm_tensor_names[GT_N] = {
  "gmmX", "gmmWeight", "sendCountsTensorOptional", "recvCountsTensorOptional",
  "mmXOptional", "mmWeightOptional", "y", "mmYOptional"
};

/* Kernel limits (grouped_mat_mul_allto_allv_tiling.cpp, REFERENCE §3.3). */
#define MAX_COUNTS 256          /* MAX_EXPERT_NUM: length of sendCounts / recvCounts */
#define MAX_E 32                /* MAX_EXPERT_NUM_PER_RANK */
#define MAX_DIM 65536           /* H1, N1, N2 < 65536 */
#define MAX_H2 12288
#define MAX_BSK 52428800
#define MIN_PEER_ELEMS (1 << 20) /* RECV_SEND_MIN: 2 MB / sizeof(gmmX) elements per peer */
#define GROUP_NAME_MAX 128      /* HCCL_GROUP_NAME_MAX */

static void
gmm_finalize (NpuOp *base)
{
  GmmOp *op = (GmmOp *) base;
  g_free (op->path);
  for (guint g = 0; g < op->n; g++)
    {
      if (op->send != NULL)
        g_free (op->send[g]);
      if (op->recv != NULL)
        g_free (op->recv[g]);
      if (op->gmm_out != NULL)
        g_free (op->gmm_out[g]);
      if (op->ccl != NULL)
        g_free (op->ccl[g]);
      if (op->expert_row0 != NULL)
        g_free (op->expert_row0[g]);
    }
  g_free (op->send);
  g_free (op->recv);
  g_free (op->send_len);
  g_free (op->recv_len);
  g_free (op->desc);
  g_free (op->gmm_out);
  g_free (op->ccl);
  g_free (op->rows);
  g_free (op->expert_row0);
  g_free (op->gbase_r);
  for (guint i = 0; i < GT_N; i++)
    {
      if (op->init[i] != NULL)
        json_decref (op->init[i]);
      g_free (op->t[i]);
    }
}

/* ---- parsing ---- */

static gboolean
parse_int_list (const json_t *v, const char *what, gint64 **out, guint *len, GError **error)
{
  *len = (guint) json_array_size (v);
  *out = g_new0 (gint64, MAX (*len, 1));
  for (guint i = 0; i < *len; i++)
    {
      json_t *x = json_array_get (v, i);
      if (!json_is_integer (x) || json_integer_value (x) < -((json_int_t) 1 << 40)
          || json_integer_value (x) > ((json_int_t) 1 << 40))
        return npu_spec_error (error, "%s[%u]: expected an integer", what, i);
      (*out)[i] = json_integer_value (x);
    }
  return TRUE;
}

/* sendCounts / recvCounts: null, one list for every rank, or one list per group rank.
 * Fills @lists[n] / @lens[n]; *@null for a JSON null. */
static gboolean
parse_counts (const json_t *v, const char *path, const char *key, guint n, gint64 **lists,
              guint *lens, gboolean *null, GError **error)
{
  g_autofree char *what = g_strdup_printf ("%s.%s", path, key);
  *null = json_is_null (v);
  if (*null)
    return TRUE;
  if (!json_is_array (v))
    return npu_spec_error (error, "%s: expected a list of e·W row counts, a list of one such "
                           "list per group rank, or null", what);
  gboolean per_rank = json_array_size (v) > 0 && json_is_array (json_array_get (v, 0));
  if (!per_rank)
    {
      for (guint g = 0; g < n; g++)
        if (!parse_int_list (v, what, &lists[g], &lens[g], error))
          return FALSE;
      return TRUE;
    }
  if (json_array_size (v) != n)
    return npu_spec_error (error, "%s: %zu lists, but the group has %u ranks (one list per "
                           "group rank)", what, json_array_size (v), n);
  for (guint g = 0; g < n; g++)
    {
      json_t *row = json_array_get (v, g);
      g_autofree char *sub = g_strdup_printf ("%s[%u]", what, g);
      if (!json_is_array (row))
        return npu_spec_error (error, "%s: expected a list of row counts", sub);
      if (!parse_int_list (row, sub, &lists[g], &lens[g], error))
        return FALSE;
    }
  return TRUE;
}

static void
set_desc (GmmDesc *d, NpuDtype dt, guint ndim, gint64 d0, gint64 d1, gint64 d2)
{
  d->present = TRUE;
  d->dt = dt;
  d->ndim = ndim;
  d->shape[0] = d0;
  d->shape[1] = d1;
  d->shape[2] = d2;
}

static gint64
sum (const gint64 *v, guint n)
{
  gint64 s = 0;
  for (guint i = 0; v != NULL && i < n; i++)
    s += v[i];
  return s;
}

/* ---- the checks, in the order of the API and of the tiling ---- */

static gboolean
check_rank (GmmOp *op, guint g, GError **error)
{
  NpuOp *b = &op->base;
  GmmDesc *d = op->desc[g];
#define FAIL(code, ...) (npu_op_error (error, b, code, __VA_ARGS__), FALSE)
  /* aclnnGroupedMatMulAlltoAllvGetWorkspaceSize: CheckNullStatus -> 161001 */
  for (guint i = 0; i < GT_N; i++)
    if ((i == GT_GMM_X || i == GT_GMM_W || i == GT_Y) && !d[i].present)
      return FAIL (NPU_OP_ERROR_PARAM_NULL, "%s is a null pointer (required)", gmm_tensor_names[i]);
  if (d[GT_SEND_T].present || d[GT_RECV_T].present)
    return FAIL (NPU_OP_ERROR_PARAM_NULL, "sendCountsTensorOptional and recvCountsTensorOptional "
                 "should be empty (null pointers): not supported in this version");
  gboolean mmx = d[GT_MM_X].present, mmw = d[GT_MM_W].present, mmy = d[GT_MM_Y].present;
  if (!((mmx && mmw && mmy) || (!mmx && !mmw && !mmy)))
    return FAIL (NPU_OP_ERROR_PARAM_NULL, "mmXOptional, mmWeightOptional and mmYOptional should "
                 "all be null or all be non-null (mmXOptional %s, mmWeightOptional %s, "
                 "mmYOptional %s)", mmx ? "given" : "null", mmw ? "given" : "null",
                 mmy ? "given" : "null");
  /* CheckSendAndRecv -> 161002 */
  if (op->send == NULL)
    return FAIL (NPU_OP_ERROR_PARAM_INVALID, "sendCounts should not be null");
  if (op->recv == NULL)
    return FAIL (NPU_OP_ERROR_PARAM_INVALID, "recvCounts should not be null");
  if (op->recv_len[g] == 0)
    return FAIL (NPU_OP_ERROR_PARAM_INVALID, "recvCounts should not be empty");
  if (op->send_len[g] == 0)
    return FAIL (NPU_OP_ERROR_PARAM_INVALID, "sendCounts should not be empty");

  /* Tiling (GroupedMatMulAlltoAllvTilingFuncA3) -> 561002 */
  const NpuOpError T = NPU_OP_ERROR_TILING;
  if (op->trans_mm && !mmx)
    return FAIL (T, "transMmWeight should not be true when mmXOptional is null");
  NpuDtype xdt = d[GT_GMM_X].dt;
  if (xdt != NPU_DT_FP16 && xdt != NPU_DT_BF16)
    return FAIL (T, "gmmX: unsupported dtype %s, only float16 and bfloat16", npu_dtype_name (xdt));
  if (d[GT_GMM_W].dt != xdt || d[GT_Y].dt != xdt)
    return FAIL (T, "the dtype of gmmWeight (%s) and y (%s) should be the same as gmmX (%s)",
                 npu_dtype_name (d[GT_GMM_W].dt), npu_dtype_name (d[GT_Y].dt),
                 npu_dtype_name (xdt));
  if (mmx)
    {
      NpuDtype mdt = d[GT_MM_X].dt;
      if (mdt != NPU_DT_FP16 && mdt != NPU_DT_BF16)
        return FAIL (T, "mmXOptional: unsupported dtype %s, only float16 and bfloat16",
                     npu_dtype_name (mdt));
      if (d[GT_MM_W].dt != mdt || d[GT_MM_Y].dt != mdt)
        return FAIL (T, "the dtype of mmWeightOptional (%s) and mmYOptional (%s) should be the "
                     "same as mmXOptional (%s)", npu_dtype_name (d[GT_MM_W].dt),
                     npu_dtype_name (d[GT_MM_Y].dt), npu_dtype_name (mdt));
      /* Not checked by the tiling, but the kernel has a single element type for both
       * matmuls (docs/ops/GroupedMatMulAlltoAllv.md). */
      if (mdt != xdt)
        return FAIL (T, "mmXOptional (%s) should have the dtype of gmmX (%s): the kernel has "
                     "one element type", npu_dtype_name (mdt), npu_dtype_name (xdt));
    }
  /* CheckDimNum */
  if (d[GT_GMM_X].ndim != 2)
    return FAIL (T, "gmmX's dim is %u but should be 2", d[GT_GMM_X].ndim);
  if (d[GT_GMM_W].ndim != 3)
    return FAIL (T, "gmmWeight's dim is %u but should be 3", d[GT_GMM_W].ndim);
  if (d[GT_Y].ndim != 2)
    return FAIL (T, "y's dim is %u but should be 2", d[GT_Y].ndim);
  if (mmx && (d[GT_MM_X].ndim != 2 || d[GT_MM_W].ndim != 2 || d[GT_MM_Y].ndim != 2))
    return FAIL (T, "mmXOptional, mmWeightOptional and mmYOptional should be 2-D (%u, %u, %u)",
                 d[GT_MM_X].ndim, d[GT_MM_W].ndim, d[GT_MM_Y].ndim);
  /* CheckDimRelationship */
  const gint64 *xs = d[GT_GMM_X].shape, *ws = d[GT_GMM_W].shape, *ys = d[GT_Y].shape;
  gint64 w_h = op->trans_w ? ws[2] : ws[1], w_n = op->trans_w ? ws[1] : ws[2];
  if (xs[1] != w_h)
    return FAIL (T, "the H1 of gmmX %" G_GINT64_FORMAT " is not equal to H1 of gmmWeight %"
                 G_GINT64_FORMAT, xs[1], w_h);
  if (w_n != ys[1])
    return FAIL (T, "the N1 of gmmWeight %" G_GINT64_FORMAT " is not equal to N1 of y %"
                 G_GINT64_FORMAT, w_n, ys[1]);
  if (mmx)
    {
      const gint64 *ms = d[GT_MM_X].shape, *mw = d[GT_MM_W].shape, *my = d[GT_MM_Y].shape;
      gint64 mw_h = op->trans_mm ? mw[1] : mw[0], mw_n = op->trans_mm ? mw[0] : mw[1];
      if (ms[1] != mw_h)
        return FAIL (T, "the H2 of mmXOptional %" G_GINT64_FORMAT " is not equal to H2 of "
                     "mmWeightOptional %" G_GINT64_FORMAT, ms[1], mw_h);
      if (ms[0] != my[0])
        return FAIL (T, "the BS of mmXOptional %" G_GINT64_FORMAT " is not equal to BS of "
                     "mmYOptional %" G_GINT64_FORMAT, ms[0], my[0]);
      if (mw_n != my[1])
        return FAIL (T, "the N2 of mmWeightOptional %" G_GINT64_FORMAT " is not equal to N2 of "
                     "mmYOptional %" G_GINT64_FORMAT, mw_n, my[1]);
    }
  /* CheckDimValue */
  guint rl = op->recv_len[g], sl = op->send_len[g];
  if (rl > MAX_COUNTS)
    return FAIL (T, "the length of recvCounts (%u) should be in (0, 256]", rl);
  if (sl > MAX_COUNTS)
    return FAIL (T, "the length of sendCounts (%u) should be in (0, 256]", sl);
  gint64 a = xs[0], h = xs[1], e = ws[0], n1 = w_n, bsk = ys[0], W = op->ep_world;
  if (bsk <= 0 || bsk >= MAX_BSK)
    return FAIL (T, "BSK (y's dim 0, %" G_GINT64_FORMAT ") should be in (0, 52428800)", bsk);
  if (h <= 0 || h >= MAX_DIM)
    return FAIL (T, "H1 (%" G_GINT64_FORMAT ") should be in (0, 65536)", h);
  if (n1 <= 0 || n1 >= MAX_DIM)
    return FAIL (T, "N1 (%" G_GINT64_FORMAT ") should be in (0, 65536)", n1);
  if (e <= 0 || e > MAX_E)
    return FAIL (T, "e (gmmWeight's dim 0, %" G_GINT64_FORMAT ") should be in (0, 32]", e);
  /* CheckSendCntAndRecvCnt */
  if ((gint64) rl != W * e)
    return FAIL (T, "the length of recvCounts (%u) should be e * epWorldSize (%" G_GINT64_FORMAT
                 ")", rl, W * e);
  if ((gint64) sl != W * e)
    return FAIL (T, "the length of sendCounts (%u) should be e * epWorldSize (%" G_GINT64_FORMAT
                 ")", sl, W * e);
  const gint64 *rc = op->recv[g], *sc = op->send[g];
  if (sum (rc, rl) != bsk)
    return FAIL (T, "BSK (y's dim 0, %" G_GINT64_FORMAT ") should be equal to the sum of "
                 "recvCounts (%" G_GINT64_FORMAT ")", bsk, sum (rc, rl));
  if (sum (sc, sl) != a)
    return FAIL (T, "A (gmmX's dim 0, %" G_GINT64_FORMAT ") should be equal to the sum of "
                 "sendCounts (%" G_GINT64_FORMAT ")", a, sum (sc, sl));
  for (gint64 i = 0; i < W; i++)
    {
      gint64 rsum = 0, ssum = 0;
      for (gint64 j = i * e; j < (i + 1) * e; j++)
        {
          if (sc[j] < 0 || sc[j] > a)
            return FAIL (T, "sendCounts[%" G_GINT64_FORMAT "] should be in [0, A = %"
                         G_GINT64_FORMAT "], but is %" G_GINT64_FORMAT, j, a, sc[j]);
          if (rc[j] < 0 || rc[j] > bsk)
            return FAIL (T, "recvCounts[%" G_GINT64_FORMAT "] should be in [0, BSK = %"
                         G_GINT64_FORMAT "], but is %" G_GINT64_FORMAT, j, bsk, rc[j]);
          rsum += rc[j] * h;
          ssum += sc[j] * h;
        }
      if (rsum < MIN_PEER_ELEMS)
        return FAIL (T, "rank %" G_GINT64_FORMAT ": sum(recvCounts[%" G_GINT64_FORMAT ", %"
                     G_GINT64_FORMAT "]) * H1 * sizeof(gmmX) should be at least 2 MB, but is %"
                     G_GINT64_FORMAT " bytes", i, i * e, (i + 1) * e - 1, 2 * rsum);
      if (ssum < MIN_PEER_ELEMS)
        return FAIL (T, "rank %" G_GINT64_FORMAT ": sum(sendCounts[%" G_GINT64_FORMAT ", %"
                     G_GINT64_FORMAT "]) * H1 * sizeof(gmmX) should be at least 2 MB, but is %"
                     G_GINT64_FORMAT " bytes", i, i * e, (i + 1) * e - 1, 2 * ssum);
    }
  if (W != 8 && W != 16 && W != 32 && W != 64 && W != 128)
    return FAIL (T, "epWorldSize (%" G_GINT64_FORMAT ") should be 8, 16, 32, 64 or 128 on A3", W);
  if (mmx)
    {
      gint64 bs = d[GT_MM_X].shape[0], h2 = d[GT_MM_X].shape[1];
      gint64 n2 = op->trans_mm ? d[GT_MM_W].shape[0] : d[GT_MM_W].shape[1];
      if (bs <= 0)
        return FAIL (T, "BS (mmXOptional's dim 0, %" G_GINT64_FORMAT ") should be larger than 0",
                     bs);
      if (h2 <= 0 || h2 > MAX_H2)
        return FAIL (T, "H2 (%" G_GINT64_FORMAT ") should be in (0, 12288]", h2);
      if (n2 <= 0 || n2 >= MAX_DIM)
        return FAIL (T, "N2 (%" G_GINT64_FORMAT ") should be in (0, 65536)", n2);
      gint64 k = bsk / bs;
      if (k < 2 || k > 8)
        return FAIL (T, "K = BSK / BS = %" G_GINT64_FORMAT " / %" G_GINT64_FORMAT " = %"
                     G_GINT64_FORMAT " should be in [2, 8]", bsk, bs, k);
    }
#undef FAIL
  return TRUE;
}

/* After the API's checks: what a real run also needs but no single rank's API call can
 * see (scenario errors). */
static gboolean
check_group (GmmOp *op, const char *path, GError **error)
{
  guint n = op->n;
  if (op->ep_world != (gint64) n)
    return npu_spec_error (error, "%s.epWorldSize: %" G_GINT64_FORMAT " but the group has %u "
                           "ranks (HCCL's communicator size)", path, op->ep_world, n);
  for (guint d = 0; d < n; d++)
    for (guint s = 0; s < n; s++)
      for (gint64 j = 0; j < op->e; j++)
        if (gmm_recv (op, d, s, (guint) j) != gmm_send (op, s, d, (guint) j))
          return npu_spec_error (error, "%s.recvCounts: group rank %u expects %" G_GINT64_FORMAT
                                 " rows of expert %" G_GINT64_FORMAT " from group rank %u, which "
                                 "sends %" G_GINT64_FORMAT " (sendCounts[%" G_GINT64_FORMAT "])",
                                 path, d, gmm_recv (op, d, s, (guint) j), j, s,
                                 gmm_send (op, s, d, (guint) j), (gint64) d * op->e + j);
  return TRUE;
}

static const char *const tensor_keys[] = {
  "gmmX", "gmmWeight", "sendCountsTensorOptional", "recvCountsTensorOptional",
  "mmXOptional", "mmWeightOptional", "y", "mmYOptional", NULL
};

static const char *const input_names[] = { "gmmX", "gmmWeight", "mmXOptional",
                                           "mmWeightOptional", NULL };

static GmmTensorId
tensor_id (const char *name)
{
  for (guint i = 0; i < GT_N; i++)
    if (g_str_equal (gmm_tensor_names[i], name))
      return (GmmTensorId) i;
  return GT_N;
}

static NpuOp *
gmm_create (const json_t *spec, const char *path, const NpuOpEnv *env, GError **error)
{
  static const char *const keys[] = { "dtype", "e", "H1", "N1", "epWorldSize", "sendCounts",
                                      "recvCounts", "BS", "H2", "N2", "transGmmWeight",
                                      "transMmWeight", "inputs", "tensors", NULL };
  g_autoptr (NpuOp) base = (NpuOp *) g_new0 (GmmOp, 1);
  npu_op_init (base, &npu_gmm_alltoallv_class);
  GmmOp *op = (GmmOp *) base;
  guint n = env->group_size;
  g_return_val_if_fail (n > 0 && env->group_ranks != NULL, NULL);
  op->n = n;
  op->path = g_strdup (path);
  guint64 e, h1, n1, w;
  if (!npu_spec_check_keys (spec, keys, path, error)
      || !npu_spec_get_dtype (spec, "dtype", path, TRUE, NPU_DT_FP16, &op->dtype, error)
      || !npu_spec_get_uint (spec, "e", path, TRUE, 0, 0, 1u << 20, &e, error)
      || !npu_spec_get_uint (spec, "H1", path, TRUE, 0, 0, 1u << 24, &h1, error)
      || !npu_spec_get_uint (spec, "N1", path, TRUE, 0, 0, 1u << 24, &n1, error)
      || !npu_spec_get_uint (spec, "epWorldSize", path, FALSE, n, 0, 1u << 20, &w, error)
      || !npu_spec_get_bool (spec, "transGmmWeight", path, FALSE, &op->trans_w, error)
      || !npu_spec_get_bool (spec, "transMmWeight", path, FALSE, &op->trans_mm, error))
    return NULL;
  op->e = (gint64) e;
  op->h1 = (gint64) h1;
  op->n1 = (gint64) n1;
  op->ep_world = (gint64) w;

  /* shared expert */
  gboolean has[3] = { json_object_get (spec, "BS") != NULL, json_object_get (spec, "H2") != NULL,
                      json_object_get (spec, "N2") != NULL };
  op->shared = has[0] || has[1] || has[2];
  if (op->shared)
    {
      guint64 bs, h2, n2;
      if (!npu_spec_get_uint (spec, "BS", path, TRUE, 0, 0, 1u << 30, &bs, error)
          || !npu_spec_get_uint (spec, "H2", path, TRUE, 0, 0, 1u << 24, &h2, error)
          || !npu_spec_get_uint (spec, "N2", path, TRUE, 0, 0, 1u << 24, &n2, error))
        return NULL;
      op->bs = (gint64) bs;
      op->h2 = (gint64) h2;
      op->n2 = (gint64) n2;
    }

  /* counts */
  json_t *sc = json_object_get (spec, "sendCounts");
  if (sc == NULL)
    return (npu_spec_error (error, "%s.sendCounts: missing (required; null for a null "
                            "pointer)", path), NULL);
  gint64 **send = g_new0 (gint64 *, n), **recv = g_new0 (gint64 *, n);
  op->send = send;
  op->recv = recv;
  op->send_len = g_new0 (guint, n);
  op->recv_len = g_new0 (guint, n);
  gboolean send_null, recv_null = FALSE;
  if (!parse_counts (sc, path, "sendCounts", n, send, op->send_len, &send_null, error))
    return NULL;
  json_t *rc = json_object_get (spec, "recvCounts");
  if (rc != NULL
      && !parse_counts (rc, path, "recvCounts", n, recv, op->recv_len, &recv_null, error))
    return NULL;
  if (rc == NULL && !send_null)
    {
      /* what the peers' sendCounts deliver: recv_d[s·e + j] = send_s[d·e + j] */
      gboolean shaped = TRUE;
      for (guint g = 0; g < n; g++)
        shaped = shaped && op->send_len[g] == (guint) (e * n);
      for (guint d = 0; d < n; d++)
        {
          op->recv_len[d] = op->send_len[d];
          recv[d] = g_new0 (gint64, MAX (op->send_len[d], 1));
          for (guint i = 0; i < op->send_len[d]; i++)
            recv[d][i] = shaped ? send[i / e][(gsize) d * e + i % e] : send[d][i];
        }
    }
  if (send_null)
    op->send = NULL;
  if (recv_null || (rc == NULL && send_null))
    op->recv = NULL;
  if (op->send == NULL)
    {
      for (guint g = 0; g < n; g++)
        g_free (send[g]);
      g_free (send);
    }
  if (op->recv == NULL)
    {
      for (guint g = 0; g < n; g++)
        g_free (recv[g]);
      g_free (recv);
    }

  /* what the API is handed, per rank */
  op->desc = g_malloc0_n (n, sizeof *op->desc);
  NpuDtype dt = op->dtype;
  for (guint g = 0; g < n; g++)
    {
      GmmDesc *d = op->desc[g];
      gint64 a = op->send != NULL ? MAX (sum (op->send[g], op->send_len[g]), 0) : 0;
      gint64 bsk = op->recv != NULL ? MAX (sum (op->recv[g], op->recv_len[g]), 0) : 0;
      set_desc (&d[GT_GMM_X], dt, 2, a, op->h1, 0);
      if (op->trans_w)
        set_desc (&d[GT_GMM_W], dt, 3, op->e, op->n1, op->h1);
      else
        set_desc (&d[GT_GMM_W], dt, 3, op->e, op->h1, op->n1);
      set_desc (&d[GT_Y], dt, 2, bsk, op->n1, 0);
      d[GT_SEND_T] = (GmmDesc) { FALSE, NPU_DT_INT64, 1, { op->e * op->ep_world } };
      d[GT_RECV_T] = d[GT_SEND_T];
      if (op->shared)
        {
          set_desc (&d[GT_MM_X], dt, 2, op->bs, op->h2, 0);
          if (op->trans_mm)
            set_desc (&d[GT_MM_W], dt, 2, op->n2, op->h2, 0);
          else
            set_desc (&d[GT_MM_W], dt, 2, op->h2, op->n2, 0);
          set_desc (&d[GT_MM_Y], dt, 2, op->bs, op->n2, 0);
        }
      else
        {
          d[GT_MM_X] = d[GT_MM_W] = d[GT_MM_Y] = (GmmDesc) { FALSE, dt, 2, { 0 } };
        }
    }
  json_t *tensors, *inputs;
  if (!npu_spec_get_object (spec, "tensors", path, tensor_keys, NPU_SPEC_TENSORS_WHAT, &tensors,
                            error))
    return NULL;
  if (tensors != NULL)
    {
      g_autofree char *tpath = g_strdup_printf ("%s.tensors", path);
      const char *key;
      json_t *v;
      json_object_foreach (tensors, key, v)
        {
          g_autofree char *sub = g_strdup_printf ("%s.%s", tpath, key);
          GmmTensorId id = tensor_id (key);
          for (guint g = 0; g < n; g++)
            {
              GmmDesc *d = &op->desc[g][id];
              if (!npu_spec_get_tensor_desc (v, sub, NPU_MAX_DIMS, &d->present, &d->dt,
                                             &d->ndim, d->shape, error))
                return NULL;
            }
        }
    }
  if (!npu_spec_get_object (spec, "inputs", path, input_names, "{tensor name: init spec}",
                            &inputs, error))
    return NULL;
  if (inputs != NULL)
    {
      g_autofree char *ipath = g_strdup_printf ("%s.inputs", path);
      const char *key;
      json_t *v;
      json_object_foreach (inputs, key, v)
        {
          g_autofree char *sub = g_strdup_printf ("%s.%s", ipath, key);
          if (!npu_op_check_input_spec (v, sub, env, base, error))
            return NULL;
          op->init[tensor_id (key)] = json_incref (v);
        }
    }

  /* the checks of every rank's API call, then the group-wide consistency */
  for (guint g = 0; g < n; g++)
    {
      GError *local = NULL;
      if (!check_rank (op, g, &local))
        {
          /* name the rank whose call fails when rank 0's passed */
          if (g > 0)
            {
              char *msg = g_strdup_printf ("%s (rank %u)", local->message, env->group_ranks[g]);
              g_free (local->message);
              local->message = msg;
            }
          g_propagate_error (error, local);
          return NULL;
        }
    }
  if (!check_group (op, path, error))
    return NULL;

  json_object_set_new (base->attrs, "dtype", json_string (npu_dtype_name (dt)));
  json_object_set_new (base->attrs, "epWorldSize", json_integer (op->ep_world));
  json_object_set_new (base->attrs, "e", json_integer (op->e));
  json_object_set_new (base->attrs, "H1", json_integer (op->h1));
  json_object_set_new (base->attrs, "N1", json_integer (op->n1));
  if (op->shared)
    {
      json_object_set_new (base->attrs, "BS", json_integer (op->bs));
      json_object_set_new (base->attrs, "H2", json_integer (op->h2));
      json_object_set_new (base->attrs, "N2", json_integer (op->n2));
    }
  json_object_set_new (base->attrs, "transGmmWeight", json_boolean (op->trans_w));
  json_object_set_new (base->attrs, "transMmWeight", json_boolean (op->trans_mm));
  json_t *js = json_array (), *jr = json_array ();
  for (guint g = 0; g < n; g++)
    {
      json_t *a = json_array (), *b = json_array ();
      for (guint i = 0; i < op->send_len[g]; i++)
        json_array_append_new (a, json_integer (op->send[g][i]));
      for (guint i = 0; i < op->recv_len[g]; i++)
        json_array_append_new (b, json_integer (op->recv[g][i]));
      json_array_append_new (js, a);
      json_array_append_new (jr, b);
    }
  json_object_set_new (base->attrs, "sendCounts", js);
  json_object_set_new (base->attrs, "recvCounts", jr);
  json_object_set_new (base->attrs, "commEngine", json_string ("AICPU (HCCL server), full mesh"));
  return g_steal_pointer (&base);
}

static guint64
gmm_data_bytes (NpuOp *base)
{
  GmmOp *op = (GmmOp *) base;
  gsize es = npu_dtype_size (op->dtype);
  guint64 total = 0;
  for (guint g = 0; g < op->n; g++)
    {
      GmmDesc *d = op->desc[g];
      for (guint i = 0; i < GT_N; i++)
        if (d[i].present && i != GT_SEND_T && i != GT_RECV_T)
          total += (guint64) npu_shape_numel (d[i].ndim, d[i].shape) * es;
      total += (guint64) d[GT_GMM_X].shape[0] * (guint64) op->n1 * es; /* gmmY workspace */
    }
  return total + (guint64) op->n * gmm_comm_ccl_bytes (op, G_MAXUINT64 / 2);
}

static gboolean
gmm_prepare (NpuOp *base, const NpuOpEnv *env, GError **error)
{
  GmmOp *op = (GmmOp *) base;
  guint n = op->n;
  /* CheckNullStatus / CheckParams on the group name (HCCL_GROUP_NAME_MAX = 128): the
   * runner gives it in attrs.group after create(). */
  const char *group = json_string_value (json_object_get (base->attrs, "group"));
  if (group != NULL && group[0] == '\0')
    {
      npu_op_error (error, base, NPU_OP_ERROR_PARAM_NULL, "group: the required group name is "
                    "empty");
      return FALSE;
    }
  if (group != NULL && strlen (group) >= GROUP_NAME_MAX)
    {
      npu_op_error (error, base, NPU_OP_ERROR_PARAM_INVALID, "group: the group name (%zu "
                    "characters) exceeds %d", strlen (group), GROUP_NAME_MAX - 1);
      return FALSE;
    }
  op->gbase_r = g_new0 (NpuGmmBase, n);
  for (guint g = 0; g < n; g++)
    {
      guint a = (guint) op->desc[g][GT_GMM_X].shape[0];
      if (!npu_gmm_base_mnk (env->hw, a, (guint) op->n1, (guint) op->h1, &op->gbase_r[g]))
        {
          npu_op_error (error, base, NPU_OP_ERROR_TILING, "GMM tiling: baseK or baseM would "
                        "be 0 (A %u, N1 %" G_GINT64_FORMAT ", H1 %" G_GINT64_FORMAT ")", a,
                        op->n1, op->h1);
          return FALSE;
        }
    }
  if (op->shared
      && !npu_gmm_base_mnk (env->hw, (guint) op->bs, (guint) op->n2, (guint) op->h2, &op->sbase))
    {
      npu_op_error (error, base, NPU_OP_ERROR_TILING, "shared expert tiling: baseK or baseM "
                    "would be 0");
      return FALSE;
    }
  json_object_set_new (base->attrs, "baseM", json_integer (op->gbase_r[0].base_m));
  json_object_set_new (base->attrs, "baseN", json_integer (op->gbase_r[0].base_n));

  for (guint i = 0; i < GT_N; i++)
    op->t[i] = g_new0 (NpuTensor *, n);
  op->rows = g_new0 (guint64, n);
  op->expert_row0 = g_new0 (guint64 *, n);
  if (env->data_mode)
    op->gmm_out = g_new0 (guint8 *, n);
  gsize es = npu_dtype_size (op->dtype);
  for (guint g = 0; g < n; g++)
    {
      guint rank = npu_op_rank_of (base, g);
      op->rows[g] = (guint64) op->desc[g][GT_GMM_X].shape[0];
      op->expert_row0[g] = g_new0 (guint64, op->e + 1);
      for (gint64 j = 0; j < op->e; j++)
        {
          guint64 rows = 0;
          for (guint r = 0; r < n; r++)
            rows += (guint64) gmm_send (op, g, r, (guint) j);
          op->expert_row0[g][j + 1] = op->expert_row0[g][j] + rows;
        }
      for (guint i = 0; i < GT_N; i++)
        {
          GmmDesc *d = &op->desc[g][i];
          if (!d->present || i == GT_SEND_T || i == GT_RECV_T)
            continue;
          gboolean input = i != GT_Y && i != GT_MM_Y;
          g_autofree char *ipath = g_strdup_printf ("%s.inputs.%s", op->path, gmm_tensor_names[i]);
          g_autoptr (NpuTensor) t = input
            ? npu_op_input_tensor (base, env, g, gmm_tensor_names[i], d->dt, d->ndim, d->shape,
                                   op->init[i], ipath, i, error)
            : npu_tensor_new (d->dt, d->ndim, d->shape, NPU_FORMAT_ND, env->data_mode, error);
          if (t == NULL)
            return FALSE;
          npu_op_add_tensor (base, rank, gmm_tensor_names[i], t, input);
          op->t[i][g] = t;
        }
      if (env->data_mode)
        {
          op->gmm_out[g] = g_try_malloc0 (MAX (op->rows[g] * (guint64) op->n1 * es, 1));
          if (op->gmm_out[g] == NULL)
            {
              npu_op_error (error, base, NPU_OP_ERROR_SCENARIO, "%s: cannot allocate the gmmY "
                            "workspace", op->path);
              return FALSE;
            }
        }
    }
  return TRUE;
}

const NpuOpClass npu_gmm_alltoallv_class = {
  "GroupedMatMulAlltoAllv",
  "A3 MC2: per-expert grouped matmul, unpermute and AlltoAllv (+ shared-expert matmul)",
  gmm_create, gmm_data_bytes, gmm_prepare, gmm_plan, gmm_finalize
};
