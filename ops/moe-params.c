/* npusim — MoE dispatch/combine attributes: scenario keys, derived sizes and the
 * parameter checks of the aclnn API and its host tiling, per product
 * (../shared/spec/004_*.txt, REFERENCE.md 4.3 and 5.3, section 9 items 2 and 10).
 *
 * Codes: 161001 a required tensor is nullptr; 161002 a dtype/format/attribute the API
 * rejects; 561002 a shape or value the tiling rejects (ranges, HCCL_BUFFSIZE). */
#include "ops/moe-private.h"
#include <string.h>

#define MIB (1024.0 * 1024.0)

static guint64
align_up (guint64 x, guint64 a)
{
  return (x + a - 1) / a * a;
}

guint
moe_local_experts (const MoeAttrs *a)
{
  guint moe_ranks = a->ep > a->shared_ranks ? a->ep - a->shared_ranks : 1;
  return MAX (a->moe_experts / moe_ranks, 1);
}

gboolean
moe_is_shared_rank (const MoeAttrs *a, guint ep_rank)
{
  return ep_rank < a->shared_ranks;
}

guint64
moe_axis_max_bs (const MoeAttrs *a)
{
  /* The kernel's axisMaxBS_ = globalBS / epWorldSize; the tiling turns globalBs 0
   * into BS * epWorldSize. */
  return a->global_bs != 0 ? a->global_bs / a->ep : a->max_bs;
}

guint64
moe_rows_capacity (const MoeAttrs *a, guint ep_rank)
{
  guint64 gbs = moe_axis_max_bs (a) * a->ep;
  if (moe_is_shared_rank (a, ep_rank))
    return a->shared_ranks > 0 ? gbs * a->shared_experts / a->shared_ranks : 0;
  return gbs * MIN (moe_local_experts (a), a->k);
}

guint
moe_win_slot_bytes (const MoeAttrs *a)
{
  /* moe_distribute_dispatch_v2.h Init: token aligned to 32 B, a 32 B block holding
   * the fp32 scale, the 3 x int32 triple (+4 B for the expert scale, REFERENCE 4.2),
   * the slot aligned to 512 B. */
  guint64 h_out = align_up ((guint64) a->h * npu_dtype_size (a->expand_dtype), 32);
  return (guint) align_up (h_out + 32 + 3 * 4 + 4, 512);
}

guint
moe_combine_slot_bytes (const MoeAttrs *a, guint comm_quant)
{
  guint64 row = (guint64) a->h * npu_dtype_size (a->x_dtype);
  if (comm_quant == 2) /* int8 row aligned to 32 B + one fp16/bf16 scale per 8 */
    row = align_up (a->h, 32) + (guint64) (a->h + 7) / 8 * 2;
  return (guint) align_up (row, 512);
}

guint64
moe_required_win_spec (const MoeAttrs *a)
{
  guint64 bs = moe_axis_max_bs (a);
  guint L = moe_local_experts (a);
  if (a->a3)
    {
      /* 1024^2 * (HCCL_BUFFSIZE - 2) / 2 >= BS * 2 * (H + 128) * (ep * L + K + 1), MB */
      double need = (double) bs * 2.0 * (a->h + 128) * ((double) a->ep * L + a->k + 1);
      return (guint64) ((2.0 * need / MIB + 2.0) * MIB);
    }
  if (a->hierarchical)
    /* moeExpertNum * BS * (H * sizeof(x) + 4 * ((K + 7) / 8 * 8) * 4) + 4 MB + 100 MB */
    return (guint64) a->moe_experts * bs
             * ((guint64) a->h * npu_dtype_size (a->x_dtype) + 4 * ((a->k + 7) / 8 * 8) * 4)
           + (guint64) (104 * MIB);
  /* 2 * (BS * ep * min(L, K) * H * sizeof(uint16) + 2 MB) */
  return 2 * (bs * a->ep * MIN (L, a->k) * a->h * 2 + (guint64) (2 * MIB));
}

guint64
moe_required_win_kernel (const MoeAttrs *a)
{
  /* CheckActualWinSize (REFERENCE 4.3): both halves of dispatch + combine regions. */
  guint64 bs = moe_axis_max_bs (a);
  guint L = moe_local_experts (a);
  guint64 h2 = (guint64) a->h * 2;
  return 2 * ((guint64) L * bs * a->ep * align_up (align_up (h2, 32) + 64, 512)
              + (guint64) (a->k + a->shared_experts) * bs * align_up (h2, 512));
}

void
moe_attrs_clear (MoeAttrs *a)
{
  g_clear_pointer (&a->bs, g_free);
}

void
moe_attrs_copy (MoeAttrs *dst, const MoeAttrs *src)
{
  *dst = *src;
  dst->bs = g_memdup2 (src->bs, sizeof (guint) * src->n);
}

/* ---- parsing ---- */

static gboolean
get_int (const json_t *spec, const char *key, const char *path, gboolean required,
         gint64 dflt, gint64 *out, GError **error)
{
  json_t *v = json_object_get (spec, key);
  if (v == NULL)
    {
      if (required)
        return npu_spec_error (error, "%s.%s: missing (required)", path, key);
      *out = dflt;
      return TRUE;
    }
  if (!json_is_integer (v))
    return npu_spec_error (error, "%s.%s: expected an integer", path, key);
  *out = json_integer_value (v);
  return TRUE;
}

gboolean
moe_attrs_parse (MoeAttrs *a, guint version, const json_t *spec, const char *path,
                 const NpuOpEnv *env, const NpuOp *op, GError **error)
{
  memset (a, 0, sizeof *a);
  a->version = version;
  a->a3 = env->hw->topology == NPU_TOPO_A3;
  a->n = env->group_size;
  a->aiv = env->hw->aiv_count;
  gint64 v = 0;

  if (!get_int (spec, "tpWorldSize", path, FALSE, 0, &v, error))
    return FALSE;
  if (v < 0 || v > 1024)
    return npu_spec_error (error, "%s.tpWorldSize: expected 0, 1 or 2", path);
  a->tp = (guint) v;
  a->tpn = MAX (a->tp, 1);
  if (a->n % a->tpn != 0)
    {
      g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                   "%s.group: %u ranks do not split into EP ranks of %u TP ranks "
                   "(group rank = epRankId * tpWorldSize + tpRankId)", path, a->n, a->tpn);
      return FALSE;
    }
  if (!get_int (spec, "epWorldSize", path, FALSE, a->n / a->tpn, &v, error))
    return FALSE;
  if (v != (gint64) (a->n / a->tpn))
    {
      g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                   "%s.epWorldSize: %" G_GINT64_FORMAT " does not match the group (%u ranks / "
                   "%u TP ranks = %u EP ranks)", path, v, a->n, a->tpn, a->n / a->tpn);
      return FALSE;
    }
  a->ep = (guint) v;

  struct { const char *key; gboolean required; gint64 dflt; guint *dst; } ints[] = {
    { "moeExpertNum", TRUE, 0, &a->moe_experts },
    { "sharedExpertNum", FALSE, 0, &a->shared_experts },
    { "sharedExpertRankNum", FALSE, 0, &a->shared_ranks },
    { "expertShardType", FALSE, 0, &a->shard_type },
    { "zeroExpertNum", FALSE, 0, &a->zero_experts },
    { "h", TRUE, 0, &a->h },
    { "k", TRUE, 0, &a->k },
    { "quantMode", FALSE, 0, &a->quant_mode },
    { "expertTokenNumsType", FALSE, 1, &a->token_nums_type },
    { "aivNum", FALSE, env->hw->aiv_count, &a->aiv },
  };
  for (guint i = 0; i < G_N_ELEMENTS (ints); i++)
    {
      if (!get_int (spec, ints[i].key, path, ints[i].required, ints[i].dflt, &v, error))
        return FALSE;
      /* Negative or huge values: the aclnn checks report them (as unsigned they
       * fall out of every range); keep them recognisable. */
      if (v < 0 || v > G_MAXINT32)
        v = G_MAXINT32;
      *ints[i].dst = (guint) v;
    }
  if (a->zero_experts != 0 && version < 3)
    return npu_spec_error (error, "%s.zeroExpertNum: is a V3 attribute "
                           "(MoeDistributeDispatchV3)", path);
  for (guint i = 0; i < 2; i++)
    {
      const char *key = i == 0 ? "copyExpertNum" : "constExpertNum";
      if (!get_int (spec, key, path, FALSE, 0, &v, error))
        return FALSE;
      if (v != 0)
        return npu_spec_error (error, "%s.%s: copy and constant experts are not modelled "
                               "(only 0)", path, key);
    }
  if (a->aiv == 0 || a->aiv > env->hw->aiv_count)
    return npu_spec_error (error, "%s.aivNum: must be in [1, die.aiv_count]", path);

  /* BS: one value, or one per group rank. */
  a->bs = g_new0 (guint, a->n);
  json_t *bs = json_object_get (spec, "bs");
  if (bs == NULL)
    return npu_spec_error (error, "%s.bs: missing (required)", path);
  for (guint g = 0; g < a->n; g++)
    {
      json_t *e = json_is_array (bs) ? json_array_get (bs, g) : bs;
      if (json_is_array (bs) && json_array_size (bs) != a->n)
        {
          g_autofree char *msg = g_strdup_printf ("expected one BS per group rank (%u)", a->n);
          return npu_spec_error (error, "%s.bs: %s", path, msg);
        }
      if (!json_is_integer (e) || json_integer_value (e) < 0
          || json_integer_value (e) > 1 << 20)
        return npu_spec_error (error, "%s.bs: expected an integer in [0, 2^20] or a list of them "
                               "(one per group rank)", path);
      a->bs[g] = (guint) json_integer_value (e);
      a->max_bs = MAX (a->max_bs, a->bs[g]);
    }
  if (!get_int (spec, "globalBs", path, FALSE, 0, &v, error))
    return FALSE;
  if (v < 0)
    v = G_MAXINT32;
  a->global_bs = (guint64) v;

  const char *dt_name;
  if (!npu_spec_get_string (spec, "dtype", path, FALSE, "bfloat16", &dt_name, error))
    return FALSE;
  if (!npu_dtype_from_name (dt_name, &a->x_dtype))
    return npu_spec_error (error, "%s.dtype: unknown dtype", path);
  a->expand_dtype = a->quant_mode == 2 ? NPU_DT_INT8 : a->x_dtype;
  if (!npu_spec_get_bool (spec, "smoothScales", path, FALSE, &a->smooth, error)
      || !npu_spec_get_bool (spec, "expertScales", path, TRUE, &a->has_expert_scales, error)
      || !npu_spec_get_bool (spec, "hierarchical", path, FALSE, &a->hierarchical, error))
    return FALSE;
  if (a->hierarchical && a->a3)
    return npu_spec_error (error, "%s.hierarchical: is an A2 option (HCCL_INTRA_PCIE_ENABLE=1, "
                           "HCCL_INTRA_ROCE_ENABLE=0)", path);
  const char *hz;
  if (!npu_spec_get_string (spec, "hazardRegions", path, FALSE, "auto", &hz, error))
    return FALSE;
  if (g_str_equal (hz, "auto"))
    a->hazard_regions = 0;
  else if (g_str_equal (hz, "row"))
    a->hazard_regions = 1;
  else if (g_str_equal (hz, "block"))
    a->hazard_regions = 2;
  else
    return npu_spec_error (error, "%s.hazardRegions: expected \"auto\", \"row\" or \"block\"",
                           path);

  json_t *mask = json_object_get (spec, "xActiveMask");
  if (mask != NULL && !json_is_null (mask))
    {
      guint64 dims;
      g_autofree char *mpath = g_strdup_printf ("%s.xActiveMask", path);
      static const char *const keys[] = { "dims", "active", "p", NULL };
      if (!json_is_object (mask) || !npu_spec_check_keys (mask, keys, mpath, error)
          || !npu_spec_get_uint (mask, "dims", mpath, TRUE, 1, 1, 2, &dims, error))
        {
          if (error != NULL && *error == NULL)
            return npu_spec_error (error, "%s.xActiveMask: expected {\"dims\": 1, \"active\": n} "
                                   "or {\"dims\": 2, \"p\": 0.8}", path);
          return FALSE;
        }
      a->mask_dims = (guint) dims;
    }

  double mb = (double) env->hw->hccl_buffer_bytes / MIB;
  json_t *jmb = json_object_get (spec, "hcclBufferMB");
  if (jmb != NULL)
    {
      if (!json_is_number (jmb) || json_number_value (jmb) < 0
          || json_number_value (jmb) > 1 << 20)
        return npu_spec_error (error, "%s.hcclBufferMB: expected a size in MB", path);
      mb = json_number_value (jmb);
    }
  a->win_bytes = (guint64) (mb * MIB);

  const char *gep, *gtp;
  if (!npu_spec_get_string (spec, "groupEp", path, FALSE, "ep", &gep, error)
      || !npu_spec_get_string (spec, "groupTp", path, FALSE, "tp", &gtp, error))
    return FALSE;
  a->group_len = (guint) strlen (gep);
  a->same_group_names = a->tp >= 2 && g_strcmp0 (gep, gtp) == 0;

  const char *alg;
  if (!npu_spec_get_string (spec, "commAlg", path, FALSE, "", &alg, error))
    return FALSE;
  if (alg[0] != '\0')
    return npu_spec_error (error, "%s.commAlg: only the default algorithm (\"\") is modelled",
                           path);

  /* Servers spanned (A2). */
  a->servers = 1;
  if (!a->a3 && env->group_ranks != NULL)
    {
      guint first = npu_cluster_server_of (env->cluster, env->group_ranks[0]);
      guint last = first;
      for (guint g = 0; g < a->n; g++)
        {
          guint s = npu_cluster_server_of (env->cluster, env->group_ranks[g]);
          first = MIN (first, s);
          last = MAX (last, s);
        }
      a->servers = last - first + 1;
    }
  (void) op;
  return TRUE;
}

/* ---- checks ---- */

#define REJECT(code, ...)                                                       \
  do {                                                                          \
    npu_op_error (error, op, NPU_OP_ERROR_##code, __VA_ARGS__);                 \
    return FALSE;                                                               \
  } while (0)

static gboolean
in_list (guint v, const guint *list, guint n)
{
  for (guint i = 0; i < n; i++)
    if (list[i] == v)
      return TRUE;
  return FALSE;
}

gboolean
moe_check_dispatch (const MoeAttrs *a, const NpuOp *op, GError **error)
{
  /* API level (161002): dtypes. */
  if (a->x_dtype != NPU_DT_FP16 && a->x_dtype != NPU_DT_BF16)
    REJECT (PARAM_INVALID, "x dtype %s is not supported (float16 or bfloat16)",
            npu_dtype_name (a->x_dtype));
  if (a->quant_mode == 0 && a->smooth)
    REJECT (PARAM_INVALID, "scales must be nullptr when quantMode is 0");

  if (a->group_len == 0 || a->group_len >= 128)
    REJECT (TILING, "groupEp length %u is out of [1, 128)", a->group_len);
  if (a->same_group_names)
    REJECT (TILING, "groupEp and groupTp must differ");

  guint L = moe_local_experts (a);
  if (a->a3)
    {
      static const guint ep_v1[] = { 8, 16, 32, 64, 128, 144, 256, 288 };
      if (a->version == 1 && !in_list (a->ep, ep_v1, G_N_ELEMENTS (ep_v1)))
        REJECT (TILING, "epWorldSize %u is not supported on A3 (8, 16, 32, 64, 128, 144, "
                "256, 288)", a->ep);
      if (a->ep < 2 || a->ep > 768)
        REJECT (TILING, "epWorldSize %u is out of [2, 768]", a->ep);
      if (a->tp > 2)
        REJECT (TILING, "tpWorldSize %u is out of [0, 2]", a->tp);
      if (a->h < 1024 || a->h > 8192)
        REJECT (TILING, "H %u is out of [1024, 8192]", a->h);
      if (a->max_bs == 0 || a->max_bs > 512)
        REJECT (TILING, "BS %u is out of (0, 512]", a->max_bs);
      guint max_moe = a->version == 1 ? 512 : 1024;
      if (a->moe_experts == 0 || a->moe_experts > max_moe)
        REJECT (TILING, "moeExpertNum %u is out of (0, %u]", a->moe_experts, max_moe);
      guint max_shared = a->version == 1 ? 1 : 4;
      if (a->shared_experts > max_shared)
        REJECT (TILING, "sharedExpertNum %u is out of [0, %u]", a->shared_experts, max_shared);
      if (a->shared_ranks >= a->ep)
        REJECT (TILING, "sharedExpertRankNum %u is out of [0, epWorldSize %u)",
                a->shared_ranks, a->ep);
      if ((a->shared_experts == 0) != (a->shared_ranks == 0))
        REJECT (TILING, "sharedExpertNum %u and sharedExpertRankNum %u must both be 0 or "
                "both be positive", a->shared_experts, a->shared_ranks);
      if (a->shared_experts > 0 && a->shared_ranks % a->shared_experts != 0)
        REJECT (TILING, "sharedExpertRankNum %u is not a multiple of sharedExpertNum %u",
                a->shared_ranks, a->shared_experts);
    }
  else
    {
      static const guint ep_a2[] = { 16, 32, 64 };
      if (!in_list (a->ep, ep_a2, G_N_ELEMENTS (ep_a2)))
        REJECT (TILING, "epWorldSize %u is not supported on A2 (16, 32, 64)", a->ep);
      if (a->tp != 0)
        REJECT (TILING, "tpWorldSize %u: A2 has no TP domain (pass 0)", a->tp);
      if (a->h == 0 || a->h > 7168 || a->h % 32 != 0)
        REJECT (TILING, "H %u must be in (0, 7168] and a multiple of 32 on A2", a->h);
      if (a->max_bs == 0 || a->max_bs > 256)
        REJECT (TILING, "BS %u is out of (0, 256] on A2", a->max_bs);
      if (a->moe_experts == 0 || a->moe_experts > 512)
        REJECT (TILING, "moeExpertNum %u is out of (0, 512]", a->moe_experts);
      if (a->shared_experts != 0 || a->shared_ranks != 0)
        REJECT (TILING, "shared experts are not supported on A2 (sharedExpertNum and "
                "sharedExpertRankNum must be 0)");
      if (a->mask_dims == 2)
        REJECT (TILING, "a 2-D xActiveMask is not supported on A2");
    }
  if (a->k == 0 || a->k > 16)
    REJECT (TILING, "K %u is out of (0, 16]", a->k);
  if (a->k > a->moe_experts)
    REJECT (TILING, "K %u exceeds moeExpertNum %u", a->k, a->moe_experts);
  if (a->shard_type != 0)
    REJECT (TILING, "expertShardType %u is not supported (only 0)", a->shard_type);
  guint moe_ranks = a->ep - MIN (a->shared_ranks, a->ep);
  if (moe_ranks == 0 || a->moe_experts % moe_ranks != 0)
    REJECT (TILING, "moeExpertNum %u is not a multiple of epWorldSize - "
            "sharedExpertRankNum = %u", a->moe_experts, moe_ranks);
  if ((guint64) L * a->ep > 2048)
    REJECT (TILING, "localExpertNum * epWorldSize = %" G_GUINT64_FORMAT " exceeds 2048",
            (guint64) L * a->ep);
  if (!a->a3 && !a->hierarchical && L > 24)
    REJECT (TILING, "moeExpertNum / epWorldSize = %u exceeds 24 on A2", L);
  if (a->tp == 2 && L > 1)
    REJECT (TILING, "localExpertNum %u > 1 does not support the TP domain", L);
  if (a->quant_mode != 0 && a->quant_mode != 2)
    REJECT (TILING, "quantMode %u is not supported (0 or 2)", a->quant_mode);
  if (a->token_nums_type > 1)
    REJECT (TILING, "expertTokenNumsType %u is out of {0, 1}", a->token_nums_type);

  /* BS per rank and globalBs. */
  guint min_bs = a->bs[0];
  for (guint g = 0; g < a->n; g++)
    min_bs = MIN (min_bs, a->bs[g]);
  if (min_bs == 0)
    REJECT (TILING, "BS 0: every rank needs at least one token");
  if (a->global_bs != 0)
    {
      if (a->global_bs % a->ep != 0)
        REJECT (TILING, "globalBs %" G_GUINT64_FORMAT " is not a multiple of epWorldSize %u",
                a->global_bs, a->ep);
      if (a->global_bs < (guint64) a->max_bs * a->ep)
        REJECT (TILING, "globalBs %" G_GUINT64_FORMAT " is below maxBs * epWorldSize = %"
                G_GUINT64_FORMAT, a->global_bs, (guint64) a->max_bs * a->ep);
      if (a->a3 && a->global_bs / a->ep > 512)
        REJECT (TILING, "globalBs / epWorldSize = %" G_GUINT64_FORMAT " exceeds 512",
                a->global_bs / a->ep);
    }
  else if (min_bs != a->max_bs)
    REJECT (TILING, "BS differs across ranks (%u..%u): globalBs must be maxBs * "
            "epWorldSize", min_bs, a->max_bs);

  /* HCCL_BUFFSIZE (spec formulas). */
  guint64 need = moe_required_win_spec (a);
  if (a->win_bytes < (guint64) (2 * MIB) || a->win_bytes < need)
    REJECT (TILING, "HCCL_BUFFSIZE %.0f MB is too small: this shape needs at least %.1f MB "
            "(spec 004 formula for %s%s)", a->win_bytes / MIB, need / MIB,
            a->a3 ? "A3" : "A2", a->hierarchical ? ", hierarchical" : "");
  return TRUE;
}

gboolean
moe_check_combine (const MoeAttrs *a, guint comm_quant, NpuDtype expand_dtype,
                   guint version, const NpuOp *op, GError **error)
{
  if (expand_dtype != NPU_DT_FP16 && expand_dtype != NPU_DT_BF16)
    REJECT (PARAM_INVALID, "expandX dtype %s is not supported (float16 or bfloat16)",
            npu_dtype_name (expand_dtype));
  if (expand_dtype != a->x_dtype)
    REJECT (PARAM_INVALID, "expandX dtype %s differs from the tokens' dtype %s",
            npu_dtype_name (expand_dtype), npu_dtype_name (a->x_dtype));
  if (comm_quant != 0 && comm_quant != 2)
    REJECT (TILING, "commQuantMode %u is not supported (0 or 2)", comm_quant);
  if (comm_quant != 0 && a->tp > 1)
    REJECT (TILING, "commQuantMode only supports 0 when tpWorldSize > 1 (got %u)",
            comm_quant);
  if (comm_quant != 0 && version == 1 && a->a3)
    REJECT (TILING, "commQuantMode %u is a V2 feature (aclnnMoeDistributeCombineV2)",
            comm_quant);
  return TRUE;
}

gboolean
moe_check_tensor_rules (const json_t *spec, const char *path, const NpuOp *op,
                        const MoeTensorRule *rules, guint n, MoeDtypeCheck own_check,
                        gconstpointer data, gboolean *nulled, GError **error)
{
  json_t *nulls = json_object_get (spec, "nullTensors");
  json_t *dts = json_object_get (spec, "tensorDtypes");
  if (nulls != NULL && !json_is_array (nulls))
    return npu_spec_error (error, "%s.nullTensors: expected a list of tensor names passed as "
                           "nullptr", path);
  if (dts != NULL && !json_is_object (dts))
    return npu_spec_error (error, "%s.tensorDtypes: expected {\"tensor\": \"dtype\"}", path);
  size_t i;
  json_t *v;
  json_array_foreach (nulls, i, v)
    {
      guint r = 0;
      while (r < n && g_strcmp0 (rules[r].name, json_string_value (v)) != 0)
        r++;
      if (r == n)
        return npu_spec_error (error, "%s.nullTensors[%zu]: not a tensor of this op", path, i);
      if (rules[r].required)
        return npu_op_error (error, op, NPU_OP_ERROR_PARAM_NULL, "%s is nullptr", rules[r].name);
      if (nulled != NULL)
        nulled[r] = TRUE;
    }
  const char *key;
  json_object_foreach (dts, key, v)
    {
      NpuDtype dt;
      guint r = 0;
      while (r < n && (rules[r].kind == MOE_RULE_HANDLE || !g_str_equal (rules[r].name, key)))
        r++;
      if (r == n || !json_is_string (v) || !npu_dtype_from_name (json_string_value (v), &dt))
        return npu_spec_error (error, "%s.tensorDtypes.%s: not a tensor of this op or not a "
                               "dtype", path, key);
      if (rules[r].kind == MOE_RULE_OWN_DTYPE)
        {
          if (!own_check (dt, data, error))
            return FALSE;
        }
      else if (dt != rules[r].dtype)
        return npu_op_error (error, op, NPU_OP_ERROR_PARAM_INVALID,
                             "%s dtype %s is not supported (expected %s)", key,
                             npu_dtype_name (dt), npu_dtype_name (rules[r].dtype));
    }
  return TRUE;
}

void
moe_attrs_to_json (const MoeAttrs *a, json_t *attrs)
{
  json_object_set_new (attrs, "epWorldSize", json_integer (a->ep));
  json_object_set_new (attrs, "tpWorldSize", json_integer (a->tp));
  json_object_set_new (attrs, "moeExpertNum", json_integer (a->moe_experts));
  json_object_set_new (attrs, "localExpertNum", json_integer (moe_local_experts (a)));
  json_object_set_new (attrs, "sharedExpertNum", json_integer (a->shared_experts));
  json_object_set_new (attrs, "sharedExpertRankNum", json_integer (a->shared_ranks));
  json_object_set_new (attrs, "expertShardType", json_integer (a->shard_type));
  if (a->version >= 3)
    json_object_set_new (attrs, "zeroExpertNum", json_integer (a->zero_experts));
  json_object_set_new (attrs, "H", json_integer (a->h));
  json_object_set_new (attrs, "K", json_integer (a->k));
  json_t *bs = json_array ();
  for (guint g = 0; g < a->n; g++)
    json_array_append_new (bs, json_integer (a->bs[g]));
  json_object_set_new (attrs, "BS", bs);
  json_object_set_new (attrs, "globalBs", json_integer ((json_int_t) a->global_bs));
  json_object_set_new (attrs, "quantMode", json_integer (a->quant_mode));
  json_object_set_new (attrs, "expertTokenNumsType", json_integer (a->token_nums_type));
  json_object_set_new (attrs, "xDtype", json_string (npu_dtype_name (a->x_dtype)));
  json_object_set_new (attrs, "smoothScales", json_boolean (a->smooth));
  json_object_set_new (attrs, "xActiveMaskDims", json_integer (a->mask_dims));
  json_object_set_new (attrs, "hcclBufferBytes", json_integer ((json_int_t) a->win_bytes));
  json_object_set_new (attrs, "hcclBufferRequiredBytes",
                       json_integer ((json_int_t) moe_required_win_spec (a)));
  json_object_set_new (attrs, "product", json_string (a->a3 ? "A3" : "A2"));
  if (!a->a3)
    json_object_set_new (attrs, "hierarchical", json_boolean (a->hierarchical));
  json_object_set_new (attrs, "aivNum", json_integer (a->aiv));
  json_object_set_new (attrs, "version", json_integer (a->version));
}
