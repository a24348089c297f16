/* npusim — the MoeDistributeCombine operators (aclnn V1, V2, V3): scenario parsing and
 * checks, the output tensor, and the reduce arithmetic (REFERENCE 5.1, 9.2, 9.4):
 *
 *   sum = 0 (fp32)
 *   for k in top-k order (skipping masked entries and zero experts):
 *       sum = sum + fp32(row_k) * expertScales[t, k]      (Muls, then Add)
 *   for each shared expert s: sum = sum + fp32(row_s)     (unweighted: the kernel, not
 *                                                           the spec's formula)
 *   if sharedExpertX: sum = sum + fp32(sharedExpertX[t])
 *   xOut[t] = RINT(sum) to the token dtype
 *
 * row_k is the expert rank's expandX row (the experts op's y) after, with TP 2, the add
 * of the two TP partial rows (fp32 add, one rounding: RINT in V2/V3, half away from zero
 * in V1 for bf16) and, with commQuantMode 2, the int8 round trip of ops/moe.h. Tokens
 * the xActiveMask excludes are not written (zeros here). */
#include "ops/moe-private.h"
#include <string.h>

static const char *
out_name (guint version)
{
  return version == 1 ? "x" : "xOut";
}

static void
combine_finalize (NpuOp *op)
{
  MoeCombine *c = (MoeCombine *) op;
  moe_op_base_clear (&c->b);
  if (c->shared_x_init != NULL)
    json_decref (c->shared_x_init);
  g_free (c->shx);
  g_free (c->out);
  g_free (c->buf_out);
}

static NpuDtype
combine_expand_dtype (const MoeCombine *c)
{
  return c->experts != NULL ? c->dispatch->a.x_dtype : c->dispatch->a.expand_dtype;
}

/* expandX's dtype has its own rule (fp16/bf16, equal to the tokens'). */
static gboolean
check_expand_dtype (NpuDtype dt, gconstpointer data, GError **error)
{
  const MoeCombine *c = data;
  return moe_check_combine (&c->dispatch->a, 0, dt, c->b.version, &c->b.base, error);
}

static gboolean
combine_tensor_checks (MoeCombine *c, const json_t *spec, const char *path, GError **error)
{
  const MoeAttrs *a = &c->dispatch->a;
  const MoeTensorRule rules[] = {
    { "expandX", TRUE, combine_expand_dtype (c), MOE_RULE_OWN_DTYPE },
    { "expertIds", TRUE, NPU_DT_INT32 },
    { c->b.version == 1 ? "expandIdx" : "assistInfoForCombine", TRUE, NPU_DT_INT32 },
    { "epSendCounts", TRUE, NPU_DT_INT32 },
    { "expertScales", TRUE, NPU_DT_FP32 },
    { "tpSendCounts", a->tp == 2, NPU_DT_INT32 },
    { "sharedExpertX", FALSE, a->x_dtype },
    { out_name (c->b.version), TRUE, a->x_dtype },
  };
  return moe_check_tensor_rules (spec, path, &c->b.base, rules, G_N_ELEMENTS (rules),
                                 check_expand_dtype, c, NULL, error);
}

static NpuOp *
combine_create (guint version, const NpuOpClass *klass, const json_t *spec, const char *path,
                const NpuOpEnv *env, GError **error)
{
  static const char *const keys[] = { "dispatch", "experts", "commQuantMode", "sharedExpertX",
                                      "inputs", "nullTensors", "tensorDtypes", "outDtype",
                                      "groupListType", "tokenOrder", NULL };
  g_autoptr (NpuOp) op = (NpuOp *) g_new0 (MoeCombine, 1);
  MoeCombine *c = (MoeCombine *) op;
  moe_op_base_init (&c->b, klass, MOE_KIND_COMBINE, version, path, env);
  const char *dname, *xname, *order;
  guint64 cq, dummy;
  if (!npu_spec_check_keys (spec, keys, path, error)
      || !npu_spec_get_string (spec, "dispatch", path, TRUE, NULL, &dname, error)
      || !npu_spec_get_string (spec, "experts", path, FALSE, NULL, &xname, error)
      || !npu_spec_get_uint (spec, "commQuantMode", path, FALSE, 0, 0, G_MAXINT32, &cq, error)
      || !npu_spec_get_uint (spec, "outDtype", path, FALSE, 0, 0, G_MAXINT32, &dummy, error)
      || !npu_spec_get_uint (spec, "groupListType", path, FALSE, 0, 0, 1, &dummy, error)
      || !npu_spec_get_bool (spec, "sharedExpertX", path, FALSE, &c->shared_x, error)
      || !npu_spec_get_string (spec, "tokenOrder", path, FALSE, "arrival", &order, error))
    return NULL;
  c->comm_quant = (guint) cq;
  /* A3 timing only: the kernels up to CANN 8.5 (ops-transformer b122ed222 of 2025-09-28,
   * branch 8.5.0) wait for each token's flags in token order; master since 37ee34fc1
   * (2026-02-06) reduces whichever token is complete first. */
  if (g_strcmp0 (order, "arrival") == 0)
    c->token_in_order = FALSE;
  else if (g_strcmp0 (order, "index") == 0)
    c->token_in_order = TRUE;
  else
    return (npu_spec_error (error, "%s.tokenOrder: expected \"arrival\" or \"index\", not "
                            "'%s'", path, order), NULL);
  c->dispatch = moe_find_dispatch (env, dname, path, error);
  if (c->dispatch == NULL)
    return NULL;
  if ((version == 1) != (c->dispatch->b.version == 1))
    return (npu_spec_error (error, "%s.dispatch: %s pairs with %s, not with %s", path,
                            klass->name, version == 1 ? "MoeDistributeDispatch"
                                                      : "MoeDistributeDispatchV2/V3",
                            c->dispatch->b.base.klass->name), NULL);
  if (xname != NULL)
    {
      c->experts = (MoeExperts *) moe_registry_find (env->graph, xname, MOE_KIND_EXPERTS);
      if (c->experts == NULL || c->experts->dispatch != c->dispatch)
        return (npu_spec_error (error, "%s.experts: no MoeExperts op named '%s' on dispatch "
                                "'%s' earlier in the scenario", path, xname, dname), NULL);
    }
  const MoeAttrs *a = &c->dispatch->a;
  static const char *const in_keys[] = { "sharedExpertX", NULL };
  json_t *inputs;
  if (!moe_check_dispatch_group (c->dispatch, env, path, error)
      || !npu_spec_get_object (spec, "inputs", path, in_keys, NULL, &inputs, error))
    return NULL;
  json_t *sx = json_object_get (inputs, "sharedExpertX");
  if (sx != NULL)
    c->shared_x_init = json_incref (sx);
  if (!combine_tensor_checks (c, spec, path, error)
      || !moe_check_combine (a, c->comm_quant, combine_expand_dtype (c), version, op, error))
    return NULL;
  if (!a->a3 && c->shared_x)
    {
      npu_op_error (error, op, NPU_OP_ERROR_TILING, "sharedExpertX is not supported on A2");
      return NULL;
    }
  json_object_set_new (op->attrs, "dispatch", json_string (dname));
  if (xname != NULL)
    json_object_set_new (op->attrs, "experts", json_string (xname));
  json_object_set_new (op->attrs, "commQuantMode", json_integer (c->comm_quant));
  json_object_set_new (op->attrs, "sharedExpertX", json_boolean (c->shared_x));
  json_object_set_new (op->attrs, "tokenOrder", json_string (c->token_in_order ? "index"
                                                                              : "arrival"));
  /* Inputs that are outputs of the paired ops (not written again): */
  json_object_set_new (op->attrs, "inputFrom",
                       json_pack ("{s:s, s:s, s:s, s:s, s:s}",
                                  "expandX", xname != NULL ? xname : dname,
                                  "expertIds", dname, "expertScales", dname,
                                  version == 1 ? "expandIdx" : "assistInfoForCombine", dname,
                                  "epSendCounts", dname));
  moe_attrs_to_json (a, op->attrs);
  return g_steal_pointer (&op);
}

static guint64
combine_data_bytes (NpuOp *op)
{
  MoeCombine *c = (MoeCombine *) op;
  const MoeAttrs *a = &c->dispatch->a;
  guint64 tokens = 0;
  for (guint g = 0; g < a->n; g++)
    tokens += a->bs[g];
  return tokens * a->h * npu_dtype_size (a->x_dtype) * (c->shared_x ? 2 : 1);
}

static gboolean
combine_prepare (NpuOp *op, const NpuOpEnv *env, GError **error)
{
  MoeCombine *c = (MoeCombine *) op;
  const MoeAttrs *a = &c->dispatch->a;
  guint n = a->n;
  c->shx = g_new0 (NpuTensor *, n);
  c->out = g_new0 (NpuTensor *, n);
  c->buf_out = g_new0 (guint, n);
  /* the half this combine takes in its group's windows (moe-window.c) */
  c->half = moe_window_take_half (c->dispatch->wg, op, a, MOE_KIND_COMBINE, c->b.version);
  g_autofree char *spath = g_strdup_printf ("%s.inputs.sharedExpertX", c->b.path);
  for (guint g = 0; g < n; g++)
    {
      guint rank = npu_op_rank_of (op, g);
      gint64 shape[2] = { a->bs[g], a->h };
      if (c->shared_x)
        {
          c->shx[g] = npu_tensor_new (a->x_dtype, 2, shape, NPU_FORMAT_ND, env->data_mode, error);
          if (c->shx[g] == NULL
              || !npu_op_fill_input (c->shx[g], c->shared_x_init, spath, env, op, rank, 3, error))
            return FALSE;
          npu_op_add_tensor (op, rank, "sharedExpertX", c->shx[g], TRUE);
          npu_tensor_unref (c->shx[g]);
        }
      c->out[g] = npu_tensor_new (a->x_dtype, 2, shape, NPU_FORMAT_ND, env->data_mode, error);
      if (c->out[g] == NULL)
        return FALSE;
      npu_op_add_tensor (op, rank, out_name (c->b.version), c->out[g], FALSE);
      npu_tensor_unref (c->out[g]);
      g_autofree char *bo = g_strdup_printf ("r%u.%s.%s", rank, op->name, out_name (c->b.version));
      c->buf_out[g] = npu_graph_add_buffer (env->graph, bo, MAX (npu_tensor_nbytes (c->out[g]), 1));
    }
  return TRUE;
}

/* ---- arithmetic ---- */

/* Row @row of the expert output of group rank @g (the experts' y, or the identity
 * experts' values computed from the dispatch's expandX), as floats of the x dtype. */
static void
expert_row (MoeCombine *c, guint g, guint row, float *out)
{
  const MoeAttrs *a = &c->dispatch->a;
  guint h = a->h;
  if (c->experts != NULL && c->experts->y[g] != NULL)
    {
      const guint8 *y = npu_tensor_data (c->experts->y[g]);
      moe_load_row (a->x_dtype, y + (gsize) row * h * npu_dtype_size (a->x_dtype), out, h);
      return;
    }
  const guint8 *ex = npu_tensor_data (c->dispatch->expand_x[g]);
  if (a->quant_mode == 2)
    {
      /* MoeExperts identity without a tensor: round(fp32(q) * dynamicScales[row]) */
      const gint8 *q = (const gint8 *) ex + (gsize) row * h;
      float s = ((const float *) npu_tensor_data (c->dispatch->dyn_scales[g]))[row];
      for (guint i = 0; i < h; i++)
        out[i] = (float) q[i] * s;
      moe_round_row (a->x_dtype, out, h);
      return;
    }
  moe_load_row (a->x_dtype, ex + (gsize) row * h * npu_dtype_size (a->x_dtype), out, h);
}

void
moe_combine_row (MoeCombine *c, guint g, guint row, float *out, float *tmp)
{
  const MoeAttrs *a = &c->dispatch->a;
  guint h = a->h;
  expert_row (c, g, row, out);
  if (a->tpn > 1)
    {
      /* ReduceScatterTrans + CustomAdd: my partial + the TP peer's partial of my row,
       * which the peer holds after its own rows. */
      guint p = g ^ 1u;
      expert_row (c, p, c->dispatch->layout->r[p].rows_own + row, tmp);
      for (guint i = 0; i < h; i++)
        out[i] = moe_tp_add (a->x_dtype, c->b.version, tmp[i], out[i]);
      return;
    }
  if (c->comm_quant == 2)
    {
      g_autofree guint16 *bits = g_new (guint16, h);
      g_autofree gint8 *q = g_new (gint8, h);
      g_autofree guint16 *s = g_new (guint16, (h + 7) / 8);
      npu_convert_f32_array (a->x_dtype, out, bits, h); /* exact: values of the dtype */
      npu_moe_comm_quant_row (a->x_dtype, bits, h, q, s);
      npu_moe_comm_dequant_row (a->x_dtype, q, s, h, out);
    }
}

NpuTask *
moe_combine_begin (MoeCombine *c, const NpuOpEnv *env, guint g)
{
  NpuTask *begin = npu_op_begin (&c->b.base, env, g, env->hw->kernel_launch_ps);
  NpuOp *src = c->experts != NULL ? &c->experts->b.base : &c->dispatch->b.base;
  if (src->per_rank != NULL && src->per_rank[g].finish != NULL)
    npu_task_depends_on (begin, src->per_rank[g].finish);
  return begin;
}

gboolean
moe_combine_reduce_effect (gpointer data, GError **error)
{
  MoeReduceJob *job = data;
  MoeCombine *c = job->c;
  MoeDispatch *d = c->dispatch;
  const MoeAttrs *a = &d->a;
  guint g = job->g, t = job->t, h = a->h, K = a->k, SE = a->shared_experts;
  guint8 *out = npu_tensor_data (c->out[g]);
  if (out == NULL)
    return TRUE;
  const MoeRankLayout *r = &d->layout->r[g];
  g_autofree float *sum = g_new0 (float, h);
  g_autofree float *row = g_new (float, h);
  g_autofree float *tmp = g_new (float, h);
  const float *w = d->routing->weights[g] + (gsize) t * K;
  if (!a->a3 && a->hierarchical)
    {
      /* Layered A2 (SumToWindow / SumToServer): the rows of one server are summed on
       * that server's relay (first row Muls, then multiply and add; one rounding to
       * the token dtype), and the owner adds the servers' partial sums in server
       * order. */
      g_autofree float *part = g_new (float, h);
      guint n_servers = 0;
      for (guint j = 0; j < K + SE; j++)
        if (r->dst_ep[t * (K + SE) + j] >= 0)
          n_servers = MAX (n_servers, d->server[moe_peer (a, g, (guint) r->dst_ep[t * (K + SE) + j])] + 1);
      for (guint sv = 0; sv < n_servers; sv++)
        {
          gboolean any = FALSE;
          for (guint j = 0; j < K + SE; j++)
            {
              guint slot = t * (K + SE) + j;
              if (r->dst_ep[slot] < 0)
                continue;
              guint dg = moe_peer (a, g, (guint) r->dst_ep[slot]);
              if (d->server[dg] != sv)
                continue;
              moe_combine_row (c, dg, (guint) r->dst_row[slot], row, tmp);
              float wj = j < K ? w[j] : 1.0f;
              for (guint i = 0; i < h; i++)
                {
                  float m = row[i] * wj;
                  part[i] = any ? part[i] + m : m;
                }
              any = TRUE;
            }
          if (!any)
            continue;
          moe_round_row (a->x_dtype, part, h);
          for (guint i = 0; i < h; i++)
            sum[i] = sum[i] + part[i];
        }
    }
  else
    for (guint j = 0; j < K + SE; j++)
      {
        guint slot = t * (K + SE) + j;
        if (r->dst_ep[slot] < 0)
          continue;
        guint dg = moe_peer (a, g, (guint) r->dst_ep[slot]);
        moe_combine_row (c, dg, (guint) r->dst_row[slot], row, tmp);
        if (j < K)
          for (guint i = 0; i < h; i++)
            {
              float m = row[i] * w[j];              /* Muls */
              sum[i] = sum[i] + m;                  /* Add */
            }
        else
          for (guint i = 0; i < h; i++)
            sum[i] = sum[i] + row[i];               /* shared expert: unweighted */
      }
  if (c->shared_x && c->shx[g] != NULL)
    {
      moe_load_row (a->x_dtype, (const guint8 *) npu_tensor_data (c->shx[g])
                          + (gsize) t * h * npu_dtype_size (a->x_dtype), row, h);
      for (guint i = 0; i < h; i++)
        sum[i] = sum[i] + row[i];
    }
  moe_store_row (a->x_dtype, sum, out + (gsize) t * h * npu_dtype_size (a->x_dtype), h);
  (void) error;
  return TRUE;
}

static gboolean
combine_plan (NpuOp *op, const NpuOpEnv *env, GError **error)
{
  MoeCombine *c = (MoeCombine *) op;
  return c->dispatch->a.a3 ? moe_a3_plan_combine (c, env, error)
                           : moe_a2_plan_combine (c, env, error);
}

#define COMBINE_CREATE(fn, V, klass)                                                    \
  static NpuOp *fn (const json_t *spec, const char *path, const NpuOpEnv *env,          \
                    GError **error)                                                     \
  {                                                                                     \
    return combine_create (V, &klass, spec, path, env, error);                          \
  }

COMBINE_CREATE (create_v1, 1, npu_moe_combine_class)
COMBINE_CREATE (create_v2, 2, npu_moe_combine_v2_class)
COMBINE_CREATE (create_v3, 3, npu_moe_combine_v3_class)

const NpuOpClass npu_moe_combine_class = {
  "MoeDistributeCombine", "MoE combine (aclnn V1): rows back to their tokens' ranks, fp32 "
  "weighted sum in top-k order",
  create_v1, combine_data_bytes, combine_prepare, combine_plan, combine_finalize
};
const NpuOpClass npu_moe_combine_v2_class = {
  "MoeDistributeCombineV2", "MoE combine (aclnn V2): as V1, assistInfoForCombine input, "
  "commQuantMode 2 (int8 rows)",
  create_v2, combine_data_bytes, combine_prepare, combine_plan, combine_finalize
};
const NpuOpClass npu_moe_combine_v3_class = {
  "MoeDistributeCombineV3", "MoE combine (aclnn V3): V2 + elasticInfo (null) and special "
  "(zero) experts",
  create_v3, combine_data_bytes, combine_prepare, combine_plan, combine_finalize
};
