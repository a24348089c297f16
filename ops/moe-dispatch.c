/* npusim — the MoeDistributeDispatch operators (aclnn V1, V2, V3): scenario parsing
 * and checks, tensors, and the data effects the plans attach to their tasks.
 *
 * Output tensors hold the rows the kernel writes (expandX: the first rows_own (+ the
 * TP peer's) rows of the (A, H) buffer, assistInfoForCombine: 3 int32 per written row
 * on A3, BS * K expandIdx positions on A2);
 * the allocated sizes of the aclnn call (A, A * 128) are attributes. At EP 256 the
 * allocated expandX alone would be 235 MB per die. */
#include "ops/moe-private.h"
#include <string.h>

static const char *const dispatch_keys[] = {
  "epWorldSize", "tpWorldSize", "moeExpertNum", "sharedExpertNum", "sharedExpertRankNum",
  "expertShardType", "zeroExpertNum", "copyExpertNum", "constExpertNum", "h", "k", "bs",
  "globalBs", "quantMode", "expertTokenNumsType", "dtype", "smoothScales", "expertScales",
  "xActiveMask", "hcclBufferMB", "hierarchical", "groupEp", "groupTp", "commAlg", "aivNum",
  "routing", "inputs", "nullTensors", "tensorDtypes", "expandXRows", "hazardRegions", NULL
};

static const char *
assist_name (guint version)
{
  return version == 1 ? "expandIdx" : "assistInfoForCombine";
}

/* The tensors of the aclnn call (and its groupEp handle): nullptr and dtype rules. */
static gboolean
check_tensors (MoeDispatch *d, const json_t *spec, const char *path, GError **error)
{
  MoeAttrs *a = &d->a;
  enum { SCALES = 2, EXPERT_SCALES = 3, N_RULES = 12 };
  const MoeTensorRule rules[N_RULES] = {
    { "x", TRUE, a->x_dtype },
    { "expertIds", TRUE, NPU_DT_INT32 },
    [SCALES] = { "scales", FALSE, NPU_DT_FP32 },
    [EXPERT_SCALES] = { "expertScales", !a->a3, NPU_DT_FP32 },
    { "expandX", TRUE, a->expand_dtype },
    { "dynamicScales", a->quant_mode == 2, NPU_DT_FP32 },
    { assist_name (a->version), TRUE, NPU_DT_INT32 },
    { "expertTokenNums", TRUE, NPU_DT_INT64 },
    { "epRecvCounts", TRUE, NPU_DT_INT32 },
    { "tpRecvCounts", a->tp == 2, NPU_DT_INT32 },
    { "expandScales", FALSE, NPU_DT_FP32 },
    { "groupEp", TRUE, NPU_DT_INT32, MOE_RULE_HANDLE },
  };
  gboolean nulled[N_RULES] = { FALSE };
  if (!moe_check_tensor_rules (spec, path, &d->b.base, rules, N_RULES, NULL, NULL, nulled,
                               error))
    return FALSE;
  if (nulled[EXPERT_SCALES])
    a->has_expert_scales = FALSE;
  if (nulled[SCALES])
    a->smooth = FALSE;
  return TRUE;
}

static void
dispatch_finalize (NpuOp *op)
{
  MoeDispatch *d = (MoeDispatch *) op;
  moe_op_base_clear (&d->b);
  json_t *js[] = { d->routing_spec, d->weights_spec, d->mask_spec, d->x_init, d->scales_init };
  for (guint i = 0; i < G_N_ELEMENTS (js); i++)
    if (js[i] != NULL)
      json_decref (js[i]);
  moe_routing_free (d->routing);
  moe_layout_free (d->layout);
  NpuTensor ***arrs[] = { &d->x, &d->ids, &d->escales, &d->smooth, &d->mask, &d->expand_x,
                          &d->dyn_scales, &d->assist, &d->token_nums, &d->ep_recv,
                          &d->tp_recv, &d->expand_scales };
  for (guint i = 0; i < G_N_ELEMENTS (arrs); i++)
    {
      for (guint g = 0; *arrs[i] != NULL && g < d->a.n; g++)
        if ((*arrs[i])[g] != NULL)
          npu_tensor_unref ((*arrs[i])[g]);
      g_free (*arrs[i]);
    }
  g_free (d->buf_x);
  g_free (d->buf_expand);
  g_free (d->buf_meta);
  g_free (d->done);
  g_free (d->server);
  moe_attrs_clear (&d->a);
}

static json_t *
take (const json_t *obj, const char *key)
{
  json_t *v = obj != NULL ? json_object_get (obj, key) : NULL;
  return v != NULL && !json_is_null (v) ? json_incref (v) : NULL;
}

static NpuOp *
dispatch_create (guint version, const NpuOpClass *klass, const json_t *spec, const char *path,
                 const NpuOpEnv *env, GError **error)
{
  g_autoptr (NpuOp) op = (NpuOp *) g_new0 (MoeDispatch, 1);
  MoeDispatch *d = (MoeDispatch *) op;
  moe_op_base_init (&d->b, klass, MOE_KIND_DISPATCH, version, path, env);
  static const char *const in_keys[] = { "x", "scales", "expertScales", NULL };
  json_t *inputs;
  if (!npu_spec_check_keys (spec, dispatch_keys, path, error)
      || !moe_attrs_parse (&d->a, version, spec, path, env, op, error)
      || !npu_spec_get_object (spec, "inputs", path, in_keys, "of init specs", &inputs, error))
    return NULL;
  d->x_init = take (inputs, "x");
  d->scales_init = take (inputs, "scales");
  d->weights_spec = take (inputs, "expertScales");
  d->routing_spec = take (spec, "routing");
  d->mask_spec = take (spec, "xActiveMask");
  if (!check_tensors (d, spec, path, error) || !moe_check_dispatch (&d->a, op, error))
    return NULL;
  gint64 rows;
  json_t *jr = json_object_get (spec, "expandXRows");
  if (jr != NULL)
    {
      if (!json_is_integer (jr))
        return (npu_spec_error (error, "%s.expandXRows: expected an integer", path), NULL);
      rows = json_integer_value (jr);
      for (guint e = 0; e < d->a.ep; e++)
        if (rows < (gint64) moe_rows_capacity (&d->a, e))
          {
            npu_op_error (error, op, NPU_OP_ERROR_TILING,
                          "expandX has %" G_GINT64_FORMAT " rows, below A = %" G_GUINT64_FORMAT
                          " (epRankId %u)", rows, moe_rows_capacity (&d->a, e), e);
            return NULL;
          }
    }
  g_autofree char *rpath = g_strdup_printf ("%s.routing", path);
  if (!moe_routing_check (d->routing_spec, rpath, &d->a, env, error))
    return NULL;
  /* Init specs are checked on a one-element probe now (as the HCCL ops do). */
  json_t *inits[] = { d->x_init, d->scales_init, d->weights_spec };
  const char *names[] = { "x", "scales", "expertScales" };
  for (guint i = 0; i < G_N_ELEMENTS (inits); i++)
    if (inits[i] != NULL && i == 0 && npu_op_spec_is_from (inits[i]))
      continue;  /* x from an earlier op: resolved in prepare (npu_op_input_tensor) */
    else if (inits[i] != NULL)
      {
        gint64 one = 1;
        g_autofree char *ip = g_strdup_printf ("%s.inputs.%s", path, names[i]);
        g_autoptr (NpuTensor) probe = npu_tensor_new (NPU_DT_FP32, 1, &one, NPU_FORMAT_ND,
                                                       FALSE, error);
        if (probe == NULL || !npu_op_fill_input (probe, inits[i], ip, env, op,
                                                 env->group_ranks[0], 0, error))
          return NULL;
      }
  moe_attrs_to_json (&d->a, op->attrs);
  json_object_set_new (op->attrs, "expandXRowsAllocated",
                       json_integer ((json_int_t) moe_rows_capacity (&d->a, d->a.ep - 1)));
  json_object_set_new (op->attrs, "kernel", json_string (d->a.a3 ? "A3 MTE (all AIV)"
                       : d->a.hierarchical ? "A2 hierarchical (AIV + AICPU RDMA)"
                       : "A2 (AIV pack + AICPU RDMA batch write)"));
  return g_steal_pointer (&op);
}

static guint64
dispatch_data_bytes (NpuOp *op)
{
  MoeDispatch *d = (MoeDispatch *) op;
  const MoeAttrs *a = &d->a;
  guint64 tokens = 0;
  for (guint g = 0; g < a->n; g++)
    tokens += a->bs[g];
  guint64 rows = tokens * (a->k + a->shared_experts) * a->tpn; /* upper bound */
  guint64 xs = npu_dtype_size (a->x_dtype);
  return tokens * a->h * xs + tokens * a->k * 12
         + rows * (a->h * npu_dtype_size (a->expand_dtype) + 4 * 5)
         + (a->smooth ? (guint64) a->n * (a->moe_experts + a->shared_experts) * a->h * 4 : 0);
}

static NpuTensor *
new_tensor (NpuDtype dt, guint ndim, const gint64 *shape, gboolean data, GError **error)
{
  return npu_tensor_new (dt, ndim, shape, NPU_FORMAT_ND, data, error);
}

static gboolean
dispatch_prepare (NpuOp *op, const NpuOpEnv *env, GError **error)
{
  MoeDispatch *d = (MoeDispatch *) op;
  MoeAttrs *a = &d->a;
  guint n = a->n;
  g_autofree char *rpath = g_strdup_printf ("%s.routing", d->b.path);
  d->routing = moe_routing_new (d->routing_spec, d->weights_spec, d->mask_spec, rpath, a,
                                env, op, error);
  if (d->routing == NULL)
    return FALSE;
  /* The router's top-k experts of a token are distinct; a mapping that merges two of
   * them would overflow the kernel's window block (maxBS rows per source). */
  for (guint g = 0; g < n; g++)
    for (guint t = 0; t < a->bs[g]; t++)
      for (guint j = 1; j < a->k; j++)
        for (guint i = 0; i < j; i++)
          if (d->routing->ids[g][t * a->k + i] == d->routing->ids[g][t * a->k + j]
              && (guint) d->routing->ids[g][t * a->k + j] < a->moe_experts)
            {
              g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                           "%s: token %u of group rank %u routes twice to expert %d (top-k "
                           "experts must be distinct; check the expert mapping)", rpath, t, g,
                           d->routing->ids[g][t * a->k + j]);
              return FALSE;
            }
  json_object_set_new (op->attrs, "routing", json_deep_copy (d->routing->info));
  d->layout = moe_layout_new (a, d->routing);
  MoeLayout *l = d->layout;
  /* the group's windows and the half this dispatch takes (moe-window.c) */
  d->wg = moe_window_group_get (op, a, env, d->b.path, error);
  if (d->wg == NULL)
    return FALSE;
  d->half = moe_window_take_half (d->wg, op, a, MOE_KIND_DISPATCH, d->b.version);
  gboolean dm = env->data_mode;

#define ALLOC(field) d->field = g_new0 (NpuTensor *, n)
  ALLOC (x); ALLOC (ids); ALLOC (escales); ALLOC (smooth); ALLOC (mask);
  ALLOC (expand_x); ALLOC (dyn_scales); ALLOC (assist); ALLOC (token_nums); ALLOC (ep_recv);
  ALLOC (tp_recv); ALLOC (expand_scales);
#undef ALLOC
  d->buf_x = g_new0 (guint, n);
  d->buf_expand = g_new0 (guint, n);
  d->buf_meta = g_new0 (guint, n);
  d->done = g_new0 (NpuTask *, n);
  d->server = g_new0 (guint, n);
  for (guint g = 0; g < n; g++)
    d->server[g] = npu_cluster_server_of (env->cluster, npu_op_rank_of (op, g));
  g_autofree char *xpath = g_strdup_printf ("%s.inputs.x", d->b.path);
  g_autofree char *spath = g_strdup_printf ("%s.inputs.scales", d->b.path);
  json_t *dflt_scales = json_pack ("{s:s, s:f, s:f}", "dist", "uniform", "low", 0.5, "high", 1.5);
  gboolean ok = TRUE;
  guint ses = a->shared_ranks > 0 ? a->shared_experts : 0;
  for (guint g = 0; g < n && ok; g++)
    {
      guint rank = npu_op_rank_of (op, g);
      const MoeRankLayout *r = &l->r[g];
      guint e = g / a->tpn;
      gint64 bs = a->bs[g], K = a->k, H = a->h;
      gint64 sx[2] = { bs, H }, sk[2] = { bs, K };
      NpuTensor *t;
      /* inputs; x may be an earlier op's tensor ({"from": "<op>.<tensor>"}, e.g. the
       * previous MoE layer's combine output): shared, and that op runs first */
      ok = (t = d->x[g] = npu_op_input_tensor (op, env, g, "x", a->x_dtype, 2, sx, d->x_init,
                                               xpath, 0, error)) != NULL;
      if (!ok)
        break;
      npu_op_add_tensor (op, rank, "x", t, TRUE);
      ok = (t = d->ids[g] = new_tensor (NPU_DT_INT32, 2, sk, TRUE, error)) != NULL;
      if (!ok)
        break;
      memcpy (npu_tensor_data (t), d->routing->ids[g], sizeof (gint32) * bs * K);
      npu_op_add_tensor (op, rank, "expertIds", t, TRUE);
      ok = (t = d->escales[g] = new_tensor (NPU_DT_FP32, 2, sk, TRUE, error)) != NULL;
      if (!ok)
        break;
      memcpy (npu_tensor_data (t), d->routing->weights[g], sizeof (float) * bs * K);
      if (a->has_expert_scales)
        npu_op_add_tensor (op, rank, "expertScales", t, TRUE);
      if (a->smooth)
        {
          gint64 ss[2] = { a->moe_experts + ses, H };
          ok = (t = d->smooth[g] = new_tensor (NPU_DT_FP32, 2, ss, dm, error)) != NULL
               && npu_op_fill_input (t, d->scales_init != NULL ? d->scales_init : dflt_scales,
                                     spath, env, op, rank, 2, error);
          if (!ok)
            break;
          npu_op_add_tensor (op, rank, "scales", t, TRUE);
        }
      if (a->mask_dims != 0)
        {
          gint64 sm = a->mask_dims == 1 ? bs : bs * K;
          gint64 shape[2] = { bs, K };
          ok = (t = d->mask[g] = new_tensor (NPU_DT_INT8, a->mask_dims,
                                             a->mask_dims == 1 ? &sm : shape, TRUE, error)) != NULL;
          if (!ok)
            break;
          memcpy (npu_tensor_data (t), d->routing->mask[g], (gsize) sm);
          npu_op_add_tensor (op, rank, "xActiveMask", t, TRUE);
        }
      /* outputs */
      gint64 rows = r->rows, se[2] = { rows, H };
      ok = (t = d->expand_x[g] = new_tensor (a->expand_dtype, 2, se, dm, error)) != NULL;
      if (!ok)
        break;
      npu_op_add_tensor (op, rank, "expandX", t, FALSE);
      if (a->quant_mode == 2)
        {
          ok = (t = d->dyn_scales[g] = new_tensor (NPU_DT_FP32, 1, &rows, dm, error)) != NULL;
          if (!ok)
            break;
          npu_op_add_tensor (op, rank, "dynamicScales", t, FALSE);
        }
      /* expandIdx / assistInfoForCombine: V1 and every A2 kernel write expandIdx
       * (BS * K positions on the source); the A3 V2/V3 kernels the triples; the A2
       * hierarchical (layered) kernels do not write it at all (no tensor here). */
      if (!a->hierarchical)
        {
          gint64 na = moe_assist_is_expand_idx (a) ? bs * K : (gint64) r->rows_own * 3;
          ok = (t = d->assist[g] = new_tensor (NPU_DT_INT32, 1, &na, dm, error)) != NULL;
          if (!ok)
            break;
          npu_op_add_tensor (op, rank, assist_name (a->version), t, FALSE);
        }
      gint64 nt = moe_is_shared_rank (a, e) ? 1 : l->L;
      ok = (t = d->token_nums[g] = new_tensor (NPU_DT_INT64, 1, &nt, dm, error)) != NULL;
      if (!ok)
        break;
      npu_op_add_tensor (op, rank, "expertTokenNums", t, FALSE);
      gint64 ne = (gint64) r->n_blocks * a->tpn;
      if (!a->a3) /* A2: moeExpertNum + 2 * globalBs * K * serverNum (spec 004) */
        ne += 2 * (gint64) moe_axis_max_bs (a) * a->ep * K * a->servers;
      ok = (t = d->ep_recv[g] = new_tensor (NPU_DT_INT32, 1, &ne, dm, error)) != NULL;
      if (!ok)
        break;
      npu_op_add_tensor (op, rank, "epRecvCounts", t, FALSE);
      if (a->tp == 2)
        {
          gint64 two = 2;
          ok = (t = d->tp_recv[g] = new_tensor (NPU_DT_INT32, 1, &two, dm, error)) != NULL;
          if (!ok)
            break;
          npu_op_add_tensor (op, rank, "tpRecvCounts", t, FALSE);
        }
      /* expandScales: written by the A3 V2/V3 kernels (REFERENCE 9.3) and the A2
       * hierarchical (layered) kernels; the flat A2 kernel (moe_distribute_dispatch_a2.h)
       * takes neither expertScales nor expandScales, and the V1 A3 kernel skips it. */
      if (a->has_expert_scales && (a->a3 ? a->version >= 2 : a->hierarchical))
        {
          ok = (t = d->expand_scales[g] = new_tensor (NPU_DT_FP32, 1, &rows, dm, error)) != NULL;
          if (!ok)
            break;
          npu_op_add_tensor (op, rank, "expandScales", t, FALSE);
        }
      /* graph buffers for the hazard checker */
      g_autofree char *bx = g_strdup_printf ("r%u.%s.x", rank, op->name);
      g_autofree char *be = g_strdup_printf ("r%u.%s.expandX", rank, op->name);
      g_autofree char *bm = g_strdup_printf ("r%u.%s.outputs", rank, op->name);
      d->buf_x[g] = npu_graph_add_buffer (env->graph, bx, MAX (npu_tensor_nbytes (d->x[g]), 1));
      d->buf_expand[g] = npu_graph_add_buffer (env->graph, be,
                                               MAX ((guint64) rows * H
                                                    * npu_dtype_size (a->expand_dtype), 1));
      d->buf_meta[g] = npu_graph_add_buffer (env->graph, bm, MAX ((guint64) rows * 16, 1) + 4096);
    }
  json_decref (dflt_scales);
  if (!ok)
    return FALSE;
  json_object_set_new (op->attrs, "rowsReceived", json_integer ((json_int_t) l->total_rows));
  if (a->a3)
    json_object_set_new (op->attrs, "hazardRegions",
                         json_string (moe_hazard_per_row (a, l) ? "row" : "block"));
  return TRUE;
}

/* ---- data effects ---- */

/* Smooth-scale row of slot j of token t of source gs (REFERENCE 4.1: expertIndex =
 * expert id + sharedExpertNum for routed experts, the shared-expert index else). */
static const float *
smooth_row (MoeDispatch *d, guint gs, guint t, guint j)
{
  const MoeAttrs *a = &d->a;
  if (!a->smooth || d->smooth[gs] == NULL || npu_tensor_data (d->smooth[gs]) == NULL)
    return NULL;
  guint ses = a->shared_ranks > 0 ? a->shared_experts : 0;
  guint idx = j < a->k ? (guint) d->routing->ids[gs][t * a->k + j] + ses : j - a->k;
  return (const float *) npu_tensor_data (d->smooth[gs]) + (gsize) idx * a->h;
}

gboolean
moe_dispatch_copy_effect (gpointer data, GError **error)
{
  MoeCopyJob *job = data;
  MoeDispatch *d = job->d;
  const MoeAttrs *a = &d->a;
  guint g = job->g;
  guint8 *ex = npu_tensor_data (d->expand_x[g]);
  if (ex == NULL)
    return TRUE;
  gsize row_bytes = (gsize) a->h * npu_dtype_size (a->expand_dtype);
  float *ds = d->dyn_scales[g] != NULL ? npu_tensor_data (d->dyn_scales[g]) : NULL;
  float *es = d->expand_scales[g] != NULL ? npu_tensor_data (d->expand_scales[g]) : NULL;
  const MoeRankLayout *r = &d->layout->r[g];
  if (job->peer)
    {
      /* AllgatherProcessOut: the peer's own rows, from the TP window, after ours. */
      guint p = g ^ 1u;
      const guint8 *pex = npu_tensor_data (d->expand_x[p]);
      const float *pds = d->dyn_scales[p] != NULL ? npu_tensor_data (d->dyn_scales[p]) : NULL;
      for (guint i = job->first; i < job->first + job->count; i++)
        {
          memcpy (ex + (gsize) (r->rows_own + i) * row_bytes, pex + (gsize) i * row_bytes,
                  row_bytes);
          if (ds != NULL && pds != NULL)
            ds[r->rows_own + i] = pds[i];
        }
      return TRUE;
    }
  gint32 *assist = !moe_assist_is_expand_idx (a) && d->assist[g] != NULL
                   ? npu_tensor_data (d->assist[g]) : NULL;
  for (guint row = job->first; row < job->first + job->count; row++)
    {
      guint s = (guint) r->triple[row * 3], t = (guint) r->triple[row * 3 + 1];
      guint j = (guint) r->triple[row * 3 + 2];
      guint gs = moe_peer (a, g, s);
      const guint8 *xr = (const guint8 *) npu_tensor_data (d->x[gs])
                         + (gsize) t * a->h * npu_dtype_size (a->x_dtype);
      float sc = 0;
      moe_dispatch_row (a, xr, smooth_row (d, gs, t, j), ex + (gsize) row * row_bytes, &sc);
      if (ds != NULL)
        ds[row] = sc;
      if (assist != NULL)
        memcpy (assist + row * 3, r->triple + row * 3, sizeof (gint32) * 3);
      if (es != NULL && j < a->k)
        es[row] = d->routing->weights[gs][t * a->k + j];
    }
  (void) error;
  return TRUE;
}

gboolean
moe_dispatch_meta_effect (gpointer data, GError **error)
{
  MoeCopyJob *job = data;
  MoeDispatch *d = job->d;
  const MoeAttrs *a = &d->a;
  guint g = job->g;
  if (npu_tensor_data (d->ep_recv[g]) == NULL)
    return TRUE;
  guint n_out;
  moe_layout_ep_recv (a, d->layout, g, npu_tensor_data (d->ep_recv[g]), &n_out);
  moe_layout_token_nums (a, d->layout, g, npu_tensor_data (d->token_nums[g]), &n_out);
  if (d->tp_recv[g] != NULL)
    {
      gint32 *tr = npu_tensor_data (d->tp_recv[g]);
      guint j = g % 2;
      tr[j] = (gint32) d->layout->r[g].rows_own;
      tr[1 - j] = (gint32) d->layout->r[g ^ 1u].rows_own;
    }
  if (moe_assist_is_expand_idx (a) && d->assist[g] != NULL)
    /* expandIdx is an output of the source rank (the sending cores write it). */
    memcpy (npu_tensor_data (d->assist[g]), d->layout->r[g].expand_idx,
            sizeof (gint32) * a->bs[g] * a->k);
  if (!a->a3 && a->hierarchical)
    moe_layout_a2_combine_info (a, d->layout, d->routing, g,
                                (guint8 *) npu_tensor_data (d->ep_recv[g])
                                + 4 * (gsize) d->layout->r[g].n_blocks);
  (void) error;
  return TRUE;
}

static gboolean
dispatch_plan (NpuOp *op, const NpuOpEnv *env, GError **error)
{
  MoeDispatch *d = (MoeDispatch *) op;
  return d->a.a3 ? moe_a3_plan_dispatch (d, env, error) : moe_a2_plan_dispatch (d, env, error);
}

#define DISPATCH_CREATE(fn, V, klass)                                                   \
  static NpuOp *fn (const json_t *spec, const char *path, const NpuOpEnv *env,          \
                    GError **error)                                                     \
  {                                                                                     \
    return dispatch_create (V, &klass, spec, path, env, error);                         \
  }

DISPATCH_CREATE (create_v1, 1, npu_moe_dispatch_class)
DISPATCH_CREATE (create_v2, 2, npu_moe_dispatch_v2_class)
DISPATCH_CREATE (create_v3, 3, npu_moe_dispatch_v3_class)

const NpuOpClass npu_moe_dispatch_class = {
  "MoeDistributeDispatch", "MoE dispatch (aclnn V1): quantise and send each token to its "
  "top-k experts' ranks; expandIdx output",
  create_v1, dispatch_data_bytes, dispatch_prepare, dispatch_plan, dispatch_finalize
};
const NpuOpClass npu_moe_dispatch_v2_class = {
  "MoeDistributeDispatchV2", "MoE dispatch (aclnn V2): as V1 with assistInfoForCombine",
  create_v2, dispatch_data_bytes, dispatch_prepare, dispatch_plan, dispatch_finalize
};
const NpuOpClass npu_moe_dispatch_v3_class = {
  "MoeDistributeDispatchV3", "MoE dispatch (aclnn V3): V2 + elasticInfo (null) and special "
  "(zero) experts",
  create_v3, dispatch_data_bytes, dispatch_prepare, dispatch_plan, dispatch_finalize
};
