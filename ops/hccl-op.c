/* npusim — the HCCL collective operators: scenario parsing, tensors, group geometry,
 * the reduction arithmetic, and the five NpuOpClass tables. Planning is in
 * hccl-plan.c (plumbing), hccl-mesh.c (single level) and hccl-hier.c (A2 servers). */
#include "ops/hccl-private.h"
#include <string.h>
#include <gsl/gsl_rng.h>

/* ---- reduction arithmetic ---- */

guint
npu_hccl_reduce_tree_steps (guint n, guint *heads, guint *counts)
{
  guint steps = 0;
  while (steps < 32 && (1u << steps) < n)
    steps++;
  /* ReduceScatterPlantLocalReduce::RunLocalReduce: round r adds slot head + o into
   * slot o for o in [0, tail - head], head = 2^(steps-r-1), tail = min(n, 2^(steps-r)) - 1 */
  for (guint r = 0; r < steps; r++)
    {
      guint head = 1u << (steps - r - 1);
      guint tail = MIN (n, 1u << (steps - r)) - 1;
      heads[r] = head;
      counts[r] = tail - head + 1;
    }
  return steps;
}

void
npu_hccl_reduce_add (NpuDtype dt, gpointer dst, gconstpointer src, gsize n)
{
  switch (dt)
    {
    case NPU_DT_FP32:
      {
        float *d = dst;
        const float *s = src;
        for (gsize i = 0; i < n; i++)
          d[i] = d[i] + s[i];
        break;
      }
    case NPU_DT_FP16:
      {
        /* fp16 + fp16 in fp32 then one rounding to fp16: fp32 keeps 24 >= 2*11 + 2
         * significand bits, so this equals a correctly rounded fp16 addition. */
        guint16 *d = dst;
        const guint16 *s = src;
        for (gsize i = 0; i < n; i++)
          d[i] = npu_f32_to_f16 (npu_f16_to_f32 (d[i]) + npu_f16_to_f32 (s[i]));
        break;
      }
    case NPU_DT_BF16:
      {
        guint16 *d = dst;
        const guint16 *s = src;
        for (gsize i = 0; i < n; i++)
          d[i] = npu_f32_to_bf16 (npu_bf16_to_f32 (d[i]) + npu_bf16_to_f32 (s[i]));
        break;
      }
    case NPU_DT_INT8:
      {
        /* Wrapping two's-complement sum (chosen; documented in docs/ops/hccl.md). */
        guint8 *d = dst;
        const guint8 *s = src;
        for (gsize i = 0; i < n; i++)
          d[i] = (guint8) (d[i] + s[i]);
        break;
      }
    default:
      g_assert_not_reached ();
    }
}

/* ---- group geometry ---- */

void
hccl_geom_clear (HcclGeom *geom)
{
  g_clear_pointer (&geom->server, g_free);
  g_clear_pointer (&geom->local, g_free);
  g_clear_pointer (&geom->member, g_free);
}

gboolean
hccl_geom_init (HcclGeom *geom, NpuCluster *cluster, const guint *ranks, guint n,
                const char *path, GError **error)
{
  const NpuHw *hw = npu_cluster_hw (cluster);
  memset (geom, 0, sizeof *geom);
  geom->a3 = hw->topology == NPU_TOPO_A3;
  geom->n = n;
  geom->server = g_new0 (guint, n);
  geom->local = g_new0 (guint, n);
  /* Servers in order of first appearance in the group; members in group order. */
  g_autofree guint *server_id = g_new0 (guint, n); /* cluster server of each level */
  g_autofree guint *first = g_new0 (guint, n);     /* its first group member's rank */
  g_autofree guint *size = g_new0 (guint, n);
  guint m = 0;
  for (guint g = 0; g < n; g++)
    {
      guint sv = geom->a3 ? 0 : npu_cluster_server_of (cluster, ranks[g]);
      guint s = 0;
      while (s < m && server_id[s] != sv)
        s++;
      if (s == m)
        {
          first[m] = ranks[g];
          server_id[m++] = sv;
        }
      geom->server[g] = s;
      geom->local[g] = size[s]++;
    }
  for (guint s = 1; s < m; s++)
    if (size[s] != size[0])
      {
        g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                     "%s.group: an A2 collective across servers needs the same number of "
                     "group ranks in every server (server of rank %u has %u, server of "
                     "rank %u has %u), as HCCL's hierarchical algorithms do",
                     path, first[0], size[0], first[s], size[s]);
        hccl_geom_clear (geom);
        return FALSE;
      }
  geom->n_servers = m;
  geom->per_server = size[0];
  geom->member = g_new0 (guint, n);
  for (guint g = 0; g < n; g++)
    geom->member[geom->server[g] * geom->per_server + geom->local[g]] = g;
  return TRUE;
}

/* ---- element counts ---- */

guint64
hccl_send_elems (const HcclOp *hop, guint g)
{
  guint n = hop->geom.n;
  switch (hop->kind)
    {
    case HCCL_AR:
    case HCCL_AG:
      return hop->count;
    case HCCL_RS:
      return hop->count * n;
    default:
      {
        guint64 s = 0;
        for (guint j = 0; j < n; j++)
          s += hop->counts[(gsize) g * n + j];
        return s;
      }
    }
}

guint64
hccl_recv_elems (const HcclOp *hop, guint g)
{
  guint n = hop->geom.n;
  switch (hop->kind)
    {
    case HCCL_AR:
    case HCCL_RS:
      return hop->count;
    case HCCL_AG:
      return hop->count * n;
    default:
      {
        guint64 s = 0;
        for (guint i = 0; i < n; i++)
          s += hop->counts[(gsize) i * n + g];
        return s;
      }
    }
}

gboolean
hccl_ar_inline (const HcclOp *hop)
{
  return hop->kind == HCCL_AR && !hop->deterministic && !hop->geom.a3
         && hop->geom.n_servers == 1 && hop->geom.n > 1;
}

HcclAlgo
hccl_inter_algo (const HcclOp *hop)
{
  if (hop->algo_req != HCCL_ALGO_AUTO)
    return hop->algo_req;
  /* hcomm CollAlgOperator::SelectAlgoTypeForReduceScatter & co.: ring costs
   * (m-1)*60us, NHR ceil(log2 m)*60us plus the same bandwidth term; NHR only when
   * strictly cheaper (ties go to ring), i.e. from 4 servers on. */
  guint m = hop->geom.n_servers, lg = 0;
  while ((1u << lg) < m)
    lg++;
  return lg < m - 1 ? HCCL_ALGO_NHR : HCCL_ALGO_RING;
}

/* What runs, for the manifest: the level-0 / level-1 algorithm names. */
static const char *
algorithm_name (const HcclOp *hop)
{
  if (hop->geom.n == 1)
    return "single rank";
  if (hccl_ar_inline (hop))
    return "mesh, inline reduce";
  if (hop->geom.n_servers == 1)
    return hop->geom.a3 ? "full mesh" : "mesh";
  if (hop->kind == HCCL_A2A || hop->kind == HCCL_A2AV)
    return "staged: mesh + pairwise";
  gboolean nhr = hccl_inter_algo (hop) == HCCL_ALGO_NHR;
  if (hop->kind == HCCL_AR)
    return nhr ? "hierarchical: mesh + nhr + mesh" : "hierarchical: mesh + ring + mesh";
  return nhr ? "hierarchical: mesh + nhr" : "hierarchical: mesh + ring";
}

/* ---- scenario parsing ---- */

static const char *
kind_name (HcclKind k)
{
  static const char *const names[] = { "AllGather", "ReduceScatter", "AllReduce",
                                       "AlltoAll", "AlltoAllV" };
  return names[k];
}

static void
hccl_finalize (NpuOp *op)
{
  HcclOp *hop = (HcclOp *) op;
  if (hop->send_init != NULL)
    json_decref (hop->send_init);
  g_free (hop->path);
  g_free (hop->counts);
  g_free (hop->send);
  g_free (hop->recv);
  if (hop->ccl_in != NULL)
    for (guint g = 0; g < hop->geom.n; g++)
      {
        g_free (hop->ccl_in[g]);
        g_free (hop->ccl_out[g]);
      }
  g_free (hop->ccl_in);
  g_free (hop->ccl_out);
  hccl_geom_clear (&hop->geom);
}

static gboolean
parse_counts (HcclOp *hop, const json_t *v, const char *path, guint n, GError **error)
{
  if (json_is_object (v))
    {
      static const char *const keys[] = { "dist", "low", "high", NULL };
      g_autofree char *sub = g_strdup_printf ("%s.sendCounts", path);
      const char *dist;
      if (!npu_spec_check_keys (v, keys, sub, error)
          || !npu_spec_get_string (v, "dist", sub, TRUE, NULL, &dist, error)
          || !npu_spec_get_uint (v, "low", sub, TRUE, 0, 0, G_MAXUINT32, &hop->rand_low, error)
          || !npu_spec_get_uint (v, "high", sub, TRUE, 0, 0, G_MAXUINT32, &hop->rand_high,
                                 error))
        return FALSE;
      if (!g_str_equal (dist, "randint"))
        {
          g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                       "%s.dist: only \"randint\" is supported", sub);
          return FALSE;
        }
      if (hop->rand_high < hop->rand_low)
        {
          g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                       "%s.high: must not be below low", sub);
          return FALSE;
        }
      hop->counts_random = TRUE;
      return TRUE;
    }
  if (!json_is_array (v) || json_array_size (v) != n)
    {
      g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                   "%s.sendCounts: expected a %u x %u matrix of element counts (one row per "
                   "sending rank, group order) or {\"dist\": \"randint\", \"low\": a, "
                   "\"high\": b}", path, n, n);
      return FALSE;
    }
  hop->counts = g_new0 (guint64, (gsize) n * n);
  for (guint i = 0; i < n; i++)
    {
      json_t *row = json_array_get (v, i);
      if (!json_is_array (row) || json_array_size (row) != n)
        {
          g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                       "%s.sendCounts[%u]: expected a list of %u counts", path, i, n);
          return FALSE;
        }
      for (guint j = 0; j < n; j++)
        {
          json_t *c = json_array_get (row, j);
          if (!json_is_integer (c) || json_integer_value (c) < 0
              || json_integer_value (c) > (json_int_t) 1 << 40)
            {
              g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                           "%s.sendCounts[%u][%u]: expected an integer in [0, 2^40]", path,
                           i, j);
              return FALSE;
            }
          hop->counts[(gsize) i * n + j] = (guint64) json_integer_value (c);
        }
    }
  return TRUE;
}

static NpuOp *
hccl_create (HcclKind kind, const NpuOpClass *klass, const json_t *spec, const char *path,
             const NpuOpEnv *env, GError **error)
{
  static const char *const keys_ar[] = { "dtype", "count", "reduceOp", "algorithm",
                                         "deterministic", "graphCache", "inputs", NULL };
  static const char *const keys_rs[] = { "dtype", "count", "reduceOp", "algorithm",
                                         "graphCache", "inputs", NULL };
  static const char *const keys_ag[] = { "dtype", "count", "algorithm", "graphCache", "inputs",
                                         NULL };
  static const char *const keys_a2a[] = { "dtype", "count", "graphCache", "inputs", NULL };
  static const char *const keys_a2av[] = { "dtype", "sendCounts", "graphCache", "inputs", NULL };
  const char *const *keys = kind == HCCL_AR ? keys_ar : kind == HCCL_RS ? keys_rs
    : kind == HCCL_AG ? keys_ag : kind == HCCL_A2A ? keys_a2a : keys_a2av;

  g_autoptr (NpuOp) op = (NpuOp *) g_new0 (HcclOp, 1);
  npu_op_init (op, klass);
  HcclOp *hop = (HcclOp *) op;
  hop->kind = kind;
  hop->path = g_strdup (path);
  hop->seed = env->seed;
  hop->buffer_limit = env->hw->hccl_buffer_bytes;
  guint n = env->group_size;
  g_return_val_if_fail (n > 0 && env->group_ranks != NULL, NULL);

  if (!npu_spec_check_keys (spec, keys, path, error)
      || !npu_spec_get_dtype (spec, "dtype", path, TRUE, NPU_DT_FP32, &hop->dtype, error))
    return NULL;
  if (hop->dtype != NPU_DT_FP16 && hop->dtype != NPU_DT_BF16 && hop->dtype != NPU_DT_FP32
      && hop->dtype != NPU_DT_INT8)
    {
      g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                   "%s.dtype: %s collectives support float16, bfloat16, float32 and int8, "
                   "not %s", path, kind_name (kind), npu_dtype_name (hop->dtype));
      return NULL;
    }
  if (kind != HCCL_A2AV
      && !npu_spec_get_uint (spec, "count", path, TRUE, 0, 1, (guint64) 1 << 40, &hop->count,
                             error))
    return NULL;
  if (kind == HCCL_AR || kind == HCCL_RS)
    {
      const char *red;
      if (!npu_spec_get_string (spec, "reduceOp", path, FALSE, "sum", &red, error))
        return NULL;
      if (!g_str_equal (red, "sum"))
        {
          g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                       "%s.reduceOp: '%s' is not supported (only \"sum\")", path, red);
          return NULL;
        }
    }
  if (kind == HCCL_AR || kind == HCCL_RS || kind == HCCL_AG)
    {
      const char *algo;
      if (!npu_spec_get_string (spec, "algorithm", path, FALSE, NULL, &algo, error))
        return NULL;
      if (algo == NULL)
        hop->algo_req = HCCL_ALGO_AUTO;
      else if (g_str_equal (algo, "ring"))
        hop->algo_req = HCCL_ALGO_RING;
      else if (g_str_equal (algo, "nhr"))
        hop->algo_req = HCCL_ALGO_NHR;
      else
        {
          g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                       "%s.algorithm: '%s' is not an inter-server algorithm (\"ring\" or "
                       "\"nhr\")", path, algo);
          return NULL;
        }
    }
  if (kind == HCCL_AR
      && !npu_spec_get_bool (spec, "deterministic", path, FALSE, &hop->deterministic, error))
    return NULL;
  {
    const char *cache;
    if (!npu_spec_get_string (spec, "graphCache", path, FALSE, "warm", &cache, error))
      return NULL;
    if (g_str_equal (cache, "warm"))
      hop->cache = HCCL_CACHE_WARM;
    else if (g_str_equal (cache, "cold"))
      hop->cache = HCCL_CACHE_COLD;
    else
      {
        g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                     "%s.graphCache: '%s' is not \"warm\" (the op's FFTS+ graph is in "
                     "HCCL's cache) or \"cold\" (it is built on this call)", path, cache);
        return NULL;
      }
  }
  if (kind == HCCL_A2A)
    {
      hop->counts = g_new0 (guint64, (gsize) n * n);
      for (gsize i = 0; i < (gsize) n * n; i++)
        hop->counts[i] = hop->count;
    }
  if (kind == HCCL_A2AV)
    {
      json_t *v = json_object_get (spec, "sendCounts");
      if (v == NULL)
        {
          g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                       "%s.sendCounts: missing (required)", path);
          return NULL;
        }
      if (!parse_counts (hop, v, path, n, error))
        return NULL;
    }

  static const char *const in_keys[] = { "sendBuf", NULL };
  json_t *inputs;
  if (!npu_spec_get_object (spec, "inputs", path, in_keys,
                            "like {\"sendBuf\": {\"dist\": \"uniform\"}}", &inputs, error))
    return NULL;
  json_t *sb = json_object_get (inputs, "sendBuf");
  if (sb != NULL)
    {
      /* Check the init spec now; {"from": ...} (chaining) is resolved in prepare(). */
      g_autofree char *spath = g_strdup_printf ("%s.inputs.sendBuf", path);
      if (!npu_op_check_input_spec (sb, spath, env, op, error))
        return NULL;
      hop->send_init = json_incref (sb);
    }

  if (!hccl_geom_init (&hop->geom, env->cluster, env->group_ranks, n, path, error))
    return NULL;

  json_object_set_new (op->attrs, "dtype", json_string (npu_dtype_name (hop->dtype)));
  if (kind != HCCL_A2AV)
    json_object_set_new (op->attrs, "count", json_integer ((json_int_t) hop->count));
  if (kind == HCCL_AR || kind == HCCL_RS)
    json_object_set_new (op->attrs, "reduceOp", json_string ("sum"));
  json_object_set_new (op->attrs, "algorithm", json_string (algorithm_name (hop)));
  if (kind == HCCL_AR)
    json_object_set_new (op->attrs, "deterministic", json_boolean (!hccl_ar_inline (hop)));
  json_object_set_new (op->attrs, "expansion", json_string (hop->geom.a3 ? "AI_CPU" : "HOST"));
  if (!hop->geom.a3)
    json_object_set_new (op->attrs, "graphCache",
                         json_string (hop->cache == HCCL_CACHE_COLD ? "cold" : "warm"));
  json_object_set_new (op->attrs, "cclBufferBytes",
                       json_integer ((json_int_t) hop->buffer_limit));
  return g_steal_pointer (&op);
}

/* Draw {"dist": "randint"} send counts once: row-major from a GSL mt19937 seeded with
 * splitmix64(seed ^ splitmix64((op index << 40) ^ 0xA2A5)), inclusive bounds. */
static void
resolve_counts (HcclOp *hop)
{
  if (hop->counts != NULL)
    return;
  guint n = hop->geom.n;
  hop->counts = g_new0 (guint64, (gsize) n * n);
  gsl_rng *rng = gsl_rng_alloc (gsl_rng_mt19937);
  gsl_rng_set (rng, npu_op_rng_seed (hop->seed, &hop->base, 0xA2A5u));
  for (gsize i = 0; i < (gsize) n * n; i++)
    hop->counts[i] = hop->rand_low
      + gsl_rng_uniform_int (rng, (unsigned long) (hop->rand_high - hop->rand_low + 1));
  gsl_rng_free (rng);
}

/* Size of each CCL buffer the op touches: HCCL_BUFFSIZE, or less when the op's data
 * is smaller (plus slice-alignment slack), so small runs hold small buffers. */
static guint64
ccl_bytes (HcclOp *hop)
{
  guint n = hop->geom.n;
  gsize e = npu_dtype_size (hop->dtype);
  guint64 bound = 0;
  switch (hop->kind)
    {
    case HCCL_AR:
      bound = hop->count * e;
      break;
    case HCCL_AG:
    case HCCL_RS:
      bound = hop->count * e * n;
      break;
    default:
      for (gsize i = 0; i < (gsize) n * n; i++)
        bound = MAX (bound, hop->counts[i] * e);
      bound = (bound + HCCL_SLICE_ALIGN - 1) / HCCL_SLICE_ALIGN * HCCL_SLICE_ALIGN * n;
      break;
    }
  bound += (guint64) n * HCCL_SLICE_ALIGN;
  return MIN (bound, hop->buffer_limit);
}

static guint64
hccl_data_bytes (NpuOp *op)
{
  HcclOp *hop = (HcclOp *) op;
  resolve_counts (hop);
  gsize e = npu_dtype_size (hop->dtype);
  guint64 total = 0;
  for (guint g = 0; g < hop->geom.n; g++)
    total += (hccl_send_elems (hop, g) + hccl_recv_elems (hop, g)) * e;
  return total + 2 * (guint64) hop->geom.n * ccl_bytes (hop);
}

static gboolean
hccl_prepare (NpuOp *op, const NpuOpEnv *env, GError **error)
{
  HcclOp *hop = (HcclOp *) op;
  guint n = hop->geom.n;
  resolve_counts (hop);
  if ((hop->kind == HCCL_A2A || hop->kind == HCCL_A2AV) && !hop->geom.a3)
    {
      /* CollAlltoAllExecutor::GetOpMeta: the graph is cached only in ZCopy mode, when
       * every rank's send and receive data fit the CCL buffer; BCOPY rebuilds it on
       * every call (UpdateAlltoAllZCopyMode). */
      gsize e = npu_dtype_size (hop->dtype);
      for (guint g = 0; g < n; g++)
        if (hccl_send_elems (hop, g) * e > hop->buffer_limit
            || hccl_recv_elems (hop, g) * e > hop->buffer_limit)
          hop->cache = HCCL_CACHE_COLD;
      json_object_set_new (op->attrs, "graphCache",
                           json_string (hop->cache == HCCL_CACHE_COLD ? "cold" : "warm"));
    }
  if (hop->kind == HCCL_A2AV)
    {
      json_t *m = json_array ();
      for (guint i = 0; i < n; i++)
        {
          json_t *row = json_array ();
          for (guint j = 0; j < n; j++)
            json_array_append_new (row, json_integer ((json_int_t) hop->counts[(gsize) i * n + j]));
          json_array_append_new (m, row);
        }
      json_object_set_new (op->attrs, "sendCounts", m);
    }
  hop->send = g_new0 (NpuTensor *, n);
  hop->recv = g_new0 (NpuTensor *, n);
  g_autofree char *ipath = g_strdup_printf ("%s.inputs.sendBuf", hop->path);
  for (guint g = 0; g < n; g++)
    {
      guint rank = npu_op_rank_of (op, g);
      gint64 ns = (gint64) hccl_send_elems (hop, g), nr = (gint64) hccl_recv_elems (hop, g);
      g_autoptr (NpuTensor) s = npu_op_input_tensor (op, env, g, "sendBuf", hop->dtype, 1, &ns,
                                                     hop->send_init, ipath, 0, error);
      if (s == NULL)
        return FALSE;
      g_autoptr (NpuTensor) r = npu_tensor_new (hop->dtype, 1, &nr, NPU_FORMAT_ND,
                                                env->data_mode, error);
      if (r == NULL)
        return FALSE;
      npu_op_add_tensor (op, rank, "sendBuf", s, TRUE);
      npu_op_add_tensor (op, rank, "recvBuf", r, FALSE);
      hop->send[g] = s;
      hop->recv[g] = r;
    }
  hop->ccl_bytes = ccl_bytes (hop);
  if (env->data_mode)
    {
      hop->ccl_in = g_new0 (guint8 *, n);
      hop->ccl_out = g_new0 (guint8 *, n);
      for (guint g = 0; g < n; g++)
        {
          hop->ccl_in[g] = g_try_malloc0 (MAX (hop->ccl_bytes, 1));
          hop->ccl_out[g] = g_try_malloc0 (MAX (hop->ccl_bytes, 1));
          if (hop->ccl_in[g] == NULL || hop->ccl_out[g] == NULL)
            {
              g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                           "%s: cannot allocate the CCL buffers (%" G_GUINT64_FORMAT
                           " bytes per rank)", hop->path, 2 * hop->ccl_bytes);
              return FALSE;
            }
        }
    }
  return TRUE;
}

static gboolean
hccl_plan (NpuOp *op, const NpuOpEnv *env, GError **error)
{
  HcclOp *hop = (HcclOp *) op;
  HcclPlan *pl = hccl_plan_new (hop, env);
  hccl_plan_begin (pl);
  gboolean ok = hop->geom.n_servers > 1 ? hccl_plan_hier (pl, error)
                                        : hccl_plan_flat (pl, error);
  if (ok)
    hccl_plan_finish (pl);
  hccl_plan_free (pl);
  return ok;
}

#define HCCL_CREATE(fn, KIND, klass)                                                    \
  static NpuOp *fn (const json_t *spec, const char *path, const NpuOpEnv *env,          \
                    GError **error)                                                     \
  {                                                                                     \
    return hccl_create (KIND, &klass, spec, path, env, error);                          \
  }

HCCL_CREATE (create_ag, HCCL_AG, npu_hccl_allgather_class)
HCCL_CREATE (create_rs, HCCL_RS, npu_hccl_reducescatter_class)
HCCL_CREATE (create_ar, HCCL_AR, npu_hccl_allreduce_class)
HCCL_CREATE (create_a2a, HCCL_A2A, npu_hccl_alltoall_class)
HCCL_CREATE (create_a2av, HCCL_A2AV, npu_hccl_alltoallv_class)

const NpuOpClass npu_hccl_allgather_class = {
  "AllGather", "HCCL AllGather: recvBuf = every rank's sendBuf, in group order",
  create_ag, hccl_data_bytes, hccl_prepare, hccl_plan, hccl_finalize
};
const NpuOpClass npu_hccl_reducescatter_class = {
  "ReduceScatter", "HCCL ReduceScatter (sum): rank g gets block g of the sum of all sendBufs",
  create_rs, hccl_data_bytes, hccl_prepare, hccl_plan, hccl_finalize
};
const NpuOpClass npu_hccl_allreduce_class = {
  "AllReduce", "HCCL AllReduce (sum): every recvBuf = the sum of all sendBufs",
  create_ar, hccl_data_bytes, hccl_prepare, hccl_plan, hccl_finalize
};
const NpuOpClass npu_hccl_alltoall_class = {
  "AlltoAll", "HCCL AlltoAll: block j of rank i's sendBuf becomes block i of rank j's recvBuf",
  create_a2a, hccl_data_bytes, hccl_prepare, hccl_plan, hccl_finalize
};
const NpuOpClass npu_hccl_alltoallv_class = {
  "AlltoAllV", "HCCL AlltoAllV: AlltoAll with per-pair element counts (sendCounts matrix)",
  create_a2av, hccl_data_bytes, hccl_prepare, hccl_plan, hccl_finalize
};
