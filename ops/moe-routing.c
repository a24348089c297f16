/* npusim — the router's decisions fed to MoeDistributeDispatch: expertIds,
 * expertScales and xActiveMask of every rank, from
 *   - seeded distributions: "uniform" (K distinct experts per token, all equally
 *     likely) or "zipf" (expert popularity 1/(r+1)^s over a seeded random ranking
 *     of the experts, K distinct experts drawn without replacement; s is the
 *     imbalance: 0 = uniform);
 *   - .npy files: {"npy": "ids.npy", "weights": "w.npy"} with shape (ranks, BS, K) or
 *     (BS, K) (the same for every rank);
 *   - a fixed list: {"ids": [e0, ..., eK-1]} for every token (the spec examples route
 *     every token to experts 0..K-1);
 *   - recorded router decisions in the JSON-lines form of
 *     ../shared/data/routing/README.md: {"jsonl": FILE, "layer": L}. The layer's
 *     tokens, in order of their recorded batches (then file order), starting at batch
 *     "startBatch", are dealt to the ranks in group order, BS each. The file's expert
 *     count (max id + 1, or "fileExperts") and k must match moeExpertNum and K, or the
 *     user names a mapping: "expertMap": "identity" (ids kept, needs file experts <=
 *     moeExpertNum) or "modulo" (id % moeExpertNum), "topk": "first" (the first K of a
 *     larger recorded k). Anything else is an error that says what to add.
 * Every draw uses GSL mt19937 seeded by npu_op_rng_seed from (scenario seed, op index,
 * group rank, a per-purpose constant), so the routing is the same in data and timing
 * mode. */
#include "ops/moe-private.h"
#include <math.h>
#include <string.h>
#include <gsl/gsl_rng.h>
#include "traces/npy.h"

static gsl_rng *
rng_for (const NpuOpEnv *env, const NpuOp *op, guint g, guint purpose)
{
  gsl_rng *rng = gsl_rng_alloc (gsl_rng_mt19937);
  gsl_rng_set (rng, npu_op_rng_seed (env->seed, op, ((guint64) g << 16)
                                                    ^ ((guint64) purpose << 8) ^ 0x0E1Du));
  return rng;
}

static gboolean
fail (GError **error, const char *path, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

static gboolean
fail (GError **error, const char *path, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO, "%s: %s", path, msg);
  return FALSE;
}

static char *
full_path (const NpuOpEnv *env, const char *file)
{
  return g_path_is_absolute (file) || env->scenario_dir == NULL
    ? g_strdup (file) : g_build_filename (env->scenario_dir, file, NULL);
}

/* ---- recorded routing (JSON lines) ---- */

typedef struct {
  gint64 batch;
  guint line;
  gint32 *experts;
  float *weights;      /* NULL if the record has none */
  guint k;
} Record;

static void
record_clear (gpointer p)
{
  Record *r = p;
  g_free (r->experts);
  g_free (r->weights);
}

static gint
record_cmp (gconstpointer pa, gconstpointer pb)
{
  const Record *a = pa, *b = pb;
  if (a->batch != b->batch)
    return a->batch < b->batch ? -1 : 1;
  return a->line < b->line ? -1 : a->line > b->line;
}

/* Reads the records of @layer from @file, sorted by (batch, line). */
static GArray *
read_jsonl (const char *file, gint64 layer, const char *path, guint *max_id, GError **error)
{
  g_autofree char *text = NULL;
  gsize len;
  GError *local = NULL;
  if (!g_file_get_contents (file, &text, &len, &local))
    {
      fail (error, path, "cannot read %s: %s", file, local->message);
      g_error_free (local);
      return NULL;
    }
  GArray *recs = g_array_new (FALSE, FALSE, sizeof (Record));
  g_array_set_clear_func (recs, record_clear);
  *max_id = 0;
  guint line = 0;
  char *save = NULL;
  for (char *l = strtok_r (text, "\n", &save); l != NULL; l = strtok_r (NULL, "\n", &save))
    {
      line++;
      if (l[strspn (l, " \t\r")] == '\0')
        continue;
      json_error_t jerr;
      json_t *o = json_loads (l, 0, &jerr);
      json_t *jl = o != NULL ? json_object_get (o, "layer") : NULL;
      json_t *je = o != NULL ? json_object_get (o, "experts") : NULL;
      if (o == NULL || !json_is_object (o) || !json_is_integer (jl) || !json_is_array (je)
          || json_array_size (je) == 0)
        {
          if (o != NULL)
            json_decref (o);
          g_array_unref (recs);
          fail (error, path, "%s line %u: not a routing record {\"layer\", \"token\", "
                "\"experts\", \"weights\", \"batch\"}", file, line);
          return NULL;
        }
      if (json_integer_value (jl) != layer)
        {
          json_decref (o);
          continue;
        }
      Record r = { 0 };
      json_t *jb = json_object_get (o, "batch");
      r.batch = json_is_integer (jb) ? json_integer_value (jb) : 0;
      r.line = line;
      r.k = (guint) json_array_size (je);
      r.experts = g_new0 (gint32, r.k);
      json_t *jw = json_object_get (o, "weights");
      if (json_is_array (jw) && json_array_size (jw) == r.k)
        r.weights = g_new0 (float, r.k);
      for (guint i = 0; i < r.k; i++)
        {
          json_t *x = json_array_get (je, i);
          if (!json_is_integer (x) || json_integer_value (x) < 0
              || json_integer_value (x) > 1 << 20)
            {
              json_decref (o);
              record_clear (&r);
              g_array_unref (recs);
              fail (error, path, "%s line %u: expert ids must be integers >= 0", file, line);
              return NULL;
            }
          r.experts[i] = (gint32) json_integer_value (x);
          *max_id = MAX (*max_id, (guint) r.experts[i]);
          if (r.weights != NULL)
            r.weights[i] = (float) json_number_value (json_array_get (jw, i));
        }
      json_decref (o);
      g_array_append_val (recs, r);
    }
  g_array_sort (recs, record_cmp);
  return recs;
}

typedef struct {
  const char *file;
  gint64 layer, start_batch;
  gboolean map_modulo;
  gboolean topk_first;
  guint file_experts;     /* 0 = max id + 1 */
} JsonlSpec;

static gboolean
parse_jsonl_spec (const json_t *spec, const char *path, JsonlSpec *js, GError **error)
{
  static const char *const keys[] = { "jsonl", "layer", "startBatch", "expertMap", "topk",
                                      "fileExperts", NULL };
  guint64 layer, start, fexp;
  const char *map, *topk;
  memset (js, 0, sizeof *js);
  if (!npu_spec_check_keys (spec, keys, path, error)
      || !npu_spec_get_string (spec, "jsonl", path, TRUE, NULL, &js->file, error)
      || !npu_spec_get_uint (spec, "layer", path, TRUE, 0, 0, 1 << 20, &layer, error)
      || !npu_spec_get_uint (spec, "startBatch", path, FALSE, 0, 0, G_MAXINT32, &start, error)
      || !npu_spec_get_uint (spec, "fileExperts", path, FALSE, 0, 0, 1 << 20, &fexp, error)
      || !npu_spec_get_string (spec, "expertMap", path, FALSE, "none", &map, error)
      || !npu_spec_get_string (spec, "topk", path, FALSE, "exact", &topk, error))
    return FALSE;
  js->layer = (gint64) layer;
  js->start_batch = (gint64) start;
  js->file_experts = (guint) fexp;
  if (!g_str_equal (map, "none") && !g_str_equal (map, "identity") && !g_str_equal (map, "modulo"))
    return fail (error, path, "expertMap: '%s' is not \"identity\" or \"modulo\"", map);
  js->map_modulo = g_str_equal (map, "modulo");
  if (!g_str_equal (topk, "exact") && !g_str_equal (topk, "first"))
    return fail (error, path, "topk: '%s' is not \"exact\" or \"first\"", topk);
  js->topk_first = g_str_equal (topk, "first");
  /* "none" vs "identity" matters for the count check below */
  if (g_str_equal (map, "identity"))
    js->file_experts = js->file_experts == 0 ? G_MAXUINT - 1 : js->file_experts;
  return TRUE;
}

/* Fills ids/weights of every rank from the records; checks the mapping rules. */
static gboolean
routing_from_jsonl (MoeRouting *rt, const json_t *spec, const char *path, const MoeAttrs *a,
                    const NpuOpEnv *env, GError **error)
{
  JsonlSpec js;
  if (!parse_jsonl_spec (spec, path, &js, error))
    return FALSE;
  gboolean identity = js.file_experts == G_MAXUINT - 1;
  if (identity)
    js.file_experts = 0;
  g_autofree char *file = full_path (env, js.file);
  guint max_id = 0;
  g_autoptr (GArray) recs = read_jsonl (file, js.layer, path, &max_id, error);
  if (recs == NULL)
    return FALSE;
  if (recs->len == 0)
    return fail (error, path, "%s has no records of layer %" G_GINT64_FORMAT, js.file, js.layer);
  guint file_k = g_array_index (recs, Record, 0).k;
  guint file_e = js.file_experts != 0 ? js.file_experts : max_id + 1;
  if (max_id >= file_e)
    return fail (error, path, "fileExperts %u is not above the largest recorded id %u",
                 file_e, max_id);
  guint m = a->moe_experts;
  if (file_k != a->k && !(js.topk_first && file_k > a->k))
    return fail (error, path, "the file records top-%u routing but K is %u: set K to %u, or "
                 "\"topk\": \"first\" to keep the first K of each record (K < %u)", file_k,
                 a->k, file_k, file_k);
  if (file_e != m && !js.map_modulo && !(identity && file_e <= m))
    return fail (error, path, "the file routes over %u experts but moeExpertNum is %u: set "
                 "moeExpertNum to %u, or name a mapping: \"expertMap\": \"identity\" (ids "
                 "kept, needs %u <= moeExpertNum) or \"modulo\" (id %% moeExpertNum)", file_e,
                 m, file_e, file_e);
  guint first = 0;
  while (first < recs->len && g_array_index (recs, Record, first).batch < js.start_batch)
    first++;
  guint64 need = 0;
  for (guint g = 0; g < rt->n; g++)
    need += a->bs[g];
  if (recs->len - first < need)
    return fail (error, path, "layer %" G_GINT64_FORMAT " has %u tokens from batch %"
                 G_GINT64_FORMAT " on, but the ranks need %" G_GUINT64_FORMAT " (BS per rank "
                 "times ranks)", js.layer, recs->len - first, js.start_batch, need);
  guint next = first;
  gint64 first_batch = g_array_index (recs, Record, first).batch, last_batch = first_batch;
  gboolean have_weights = TRUE;
  for (guint g = 0; g < rt->n; g++)
    for (guint t = 0; t < a->bs[g]; t++)
      {
        Record *r = &g_array_index (recs, Record, next++);
        if (r->k != file_k)
          return fail (error, path, "%s line %u has %u experts, earlier records %u", js.file,
                       r->line, r->k, file_k);
        last_batch = r->batch;
        for (guint j = 0; j < a->k; j++)
          {
            gint32 e = r->experts[j];
            rt->ids[g][t * a->k + j] = js.map_modulo ? (gint32) ((guint) e % m) : e;
            if (r->weights != NULL)
              rt->weights[g][t * a->k + j] = r->weights[j];
            else
              have_weights = FALSE;
          }
      }
  json_t *info = rt->info;
  json_object_set_new (info, "source", json_string ("jsonl"));
  json_object_set_new (info, "file", json_string (js.file));
  json_object_set_new (info, "layer", json_integer (js.layer));
  json_object_set_new (info, "batches", json_pack ("[I, I]", (json_int_t) first_batch,
                                                   (json_int_t) last_batch));
  json_object_set_new (info, "fileExperts", json_integer (file_e));
  json_object_set_new (info, "fileTopk", json_integer (file_k));
  json_object_set_new (info, "expertMap", json_string (js.map_modulo ? "modulo"
                                                       : identity ? "identity" : "none"));
  json_object_set_new (info, "recordedWeights", json_boolean (have_weights));
  return TRUE;
}

/* ---- .npy ---- */

static gboolean
load_npy_ids (MoeRouting *rt, const char *file, gboolean weights, const char *path,
              const MoeAttrs *a, const NpuOpEnv *env, GError **error)
{
  g_autofree char *full = full_path (env, file);
  g_autofree char *descr = NULL;
  g_autofree gint64 *shape = NULL;
  g_autofree gpointer data = NULL;
  guint ndim;
  guint64 nbytes;
  GError *local = NULL;
  if (!npu_npy_read (full, &descr, &ndim, &shape, &data, &nbytes, &local))
    {
      fail (error, path, "%s", local->message);
      g_error_free (local);
      return FALSE;
    }
  gboolean per_rank = ndim == 3;
  if ((ndim != 2 && ndim != 3) || (per_rank && shape[0] != rt->n)
      || shape[ndim - 1] != a->k || shape[ndim - 2] != a->max_bs)
    return fail (error, path, "%s: expected shape (%u, %u, %u) or (%u, %u) (ranks, BS, K); "
                 "unequal BS ranks use the first BS rows", file, rt->n, a->max_bs, a->k,
                 a->max_bs, a->k);
  const char *want = weights ? "<f4" : NULL;
  if (weights ? g_strcmp0 (descr, want) != 0
              : g_strcmp0 (descr, "<i4") != 0 && g_strcmp0 (descr, "<i8") != 0)
    return fail (error, path, "%s holds '%s'; expected %s", file, descr,
                 weights ? "float32 ('<f4')" : "int32 or int64 ('<i4', '<i8')");
  for (guint g = 0; g < rt->n; g++)
    for (guint i = 0; i < a->bs[g] * a->k; i++)
      {
        gsize src = (per_rank ? (gsize) g * a->max_bs * a->k : 0) + i;
        if (weights)
          rt->weights[g][i] = ((const float *) data)[src];
        else
          {
            gint64 v = g_strcmp0 (descr, "<i4") == 0 ? ((const gint32 *) data)[src]
                                                     : ((const gint64 *) data)[src];
            if (v < 0 || v >= (gint64) (a->moe_experts + a->zero_experts))
              return fail (error, path, "%s: expert id %" G_GINT64_FORMAT " of rank %u is "
                           "outside [0, %u)", file, v, g, a->moe_experts + a->zero_experts);
            rt->ids[g][i] = (gint32) v;
          }
      }
  return TRUE;
}

/* ---- seeded draws ---- */

static void
draw_ids (MoeRouting *rt, const MoeAttrs *a, double zipf_s, const NpuOpEnv *env,
          const NpuOp *op)
{
  guint e_total = a->moe_experts + a->zero_experts;
  g_autofree double *w = g_new0 (double, e_total);
  g_autofree double *wk = g_new0 (double, e_total);
  /* Popularity: a ranking of the experts drawn once per op (purpose 1), weight
   * 1/(rank+1)^s; s = 0 gives uniform. */
  g_autofree guint *perm = g_new0 (guint, e_total);
  for (guint e = 0; e < e_total; e++)
    perm[e] = e;
  gsl_rng *prng = rng_for (env, op, 0, 1);
  for (guint e = e_total; e > 1; e--)
    {
      guint j = (guint) gsl_rng_uniform_int (prng, e);
      guint tmp = perm[e - 1];
      perm[e - 1] = perm[j];
      perm[j] = tmp;
    }
  gsl_rng_free (prng);
  for (guint r = 0; r < e_total; r++)
    w[perm[r]] = zipf_s == 0 ? 1.0 : pow ((double) (r + 1), -zipf_s);
  for (guint g = 0; g < rt->n; g++)
    {
      gsl_rng *rng = rng_for (env, op, g, 2);
      for (guint t = 0; t < a->bs[g]; t++)
        {
          memcpy (wk, w, sizeof (double) * e_total);
          double total = 0;
          for (guint e = 0; e < e_total; e++)
            total += wk[e];
          for (guint j = 0; j < a->k; j++)
            {
              /* One draw, then the first expert whose cumulative weight exceeds it
               * (in id order); the chosen expert is removed (distinct top-k). */
              double u = gsl_rng_uniform (rng) * total, c = 0;
              guint pick = e_total - 1;
              for (guint e = 0; e < e_total; e++)
                {
                  c += wk[e];
                  if (wk[e] > 0 && u < c)
                    {
                      pick = e;
                      break;
                    }
                }
              while (wk[pick] == 0) /* rounding at the very end of the range */
                pick--;
              rt->ids[g][t * a->k + j] = (gint32) pick;
              total -= wk[pick];
              wk[pick] = 0;
            }
        }
      gsl_rng_free (rng);
    }
}

gboolean
moe_routing_check (const json_t *spec, const char *path, const MoeAttrs *a,
                   const NpuOpEnv *env, GError **error)
{
  if (spec == NULL)
    return TRUE;
  if (!json_is_object (spec))
    return fail (error, path, "expected {\"dist\": \"uniform\"}, {\"dist\": \"zipf\", \"s\": "
                 "1.2}, {\"npy\": \"ids.npy\"} or {\"jsonl\": \"file\", \"layer\": n}");
  if (json_object_get (spec, "jsonl") != NULL)
    {
      JsonlSpec js;
      if (!parse_jsonl_spec (spec, path, &js, error))
        return FALSE;
      g_autofree char *file = full_path (env, js.file);
      if (!g_file_test (file, G_FILE_TEST_IS_REGULAR))
        return fail (error, path, "jsonl: no such file %s", file);
      return TRUE;
    }
  if (json_object_get (spec, "ids") != NULL)
    {
      json_t *ids = json_object_get (spec, "ids");
      static const char *const keys[] = { "ids", NULL };
      if (!npu_spec_check_keys (spec, keys, path, error))
        return FALSE;
      if (!json_is_array (ids) || json_array_size (ids) != a->k)
        return fail (error, path, "ids: expected a list of K = %u expert ids", a->k);
      for (guint j = 0; j < a->k; j++)
        {
          json_t *v = json_array_get (ids, j);
          if (!json_is_integer (v) || json_integer_value (v) < 0
              || json_integer_value (v) >= (json_int_t) (a->moe_experts + a->zero_experts))
            return fail (error, path, "ids[%u]: expected an expert id in [0, %u)", j,
                         a->moe_experts + a->zero_experts);
        }
      return TRUE;
    }
  if (json_object_get (spec, "npy") != NULL)
    {
      static const char *const keys[] = { "npy", "weights", NULL };
      const char *f, *w;
      return npu_spec_check_keys (spec, keys, path, error)
             && npu_spec_get_string (spec, "npy", path, TRUE, NULL, &f, error)
             && npu_spec_get_string (spec, "weights", path, FALSE, NULL, &w, error);
    }
  static const char *const keys[] = { "dist", "s", NULL };
  const char *dist;
  if (!npu_spec_check_keys (spec, keys, path, error)
      || !npu_spec_get_string (spec, "dist", path, FALSE, "uniform", &dist, error))
    return FALSE;
  if (!g_str_equal (dist, "uniform") && !g_str_equal (dist, "zipf"))
    return fail (error, path, "dist: '%s' is not \"uniform\" or \"zipf\"", dist);
  json_t *s = json_object_get (spec, "s");
  if (s != NULL && (!json_is_number (s) || json_number_value (s) < 0
                    || json_number_value (s) > 20))
    return fail (error, path, "s: expected a number in [0, 20]");
  (void) a;
  return TRUE;
}

void
moe_routing_free (MoeRouting *rt)
{
  if (rt == NULL)
    return;
  for (guint g = 0; g < rt->n; g++)
    {
      g_free (rt->ids[g]);
      g_free (rt->weights[g]);
      if (rt->mask != NULL)
        g_free (rt->mask[g]);
    }
  g_free (rt->ids);
  g_free (rt->weights);
  g_free (rt->mask);
  if (rt->info != NULL)
    json_decref (rt->info);
  g_free (rt);
}

static void
load_stats (MoeRouting *rt, const MoeAttrs *a)
{
  /* Rows per destination EP rank (tokens x routed experts, before masks), max/mean. */
  guint L = moe_local_experts (a);
  g_autofree guint64 *load = g_new0 (guint64, a->ep);
  guint64 total = 0;
  for (guint g = 0; g < rt->n; g++)
    for (guint i = 0; i < a->bs[g] * a->k; i++)
      if ((guint) rt->ids[g][i] < a->moe_experts)
        {
          load[rt->ids[g][i] / L + a->shared_ranks]++;
          total++;
        }
  guint64 mx = 0;
  for (guint e = a->shared_ranks; e < a->ep; e++)
    mx = MAX (mx, load[e]);
  guint moe_ranks = a->ep - a->shared_ranks;
  double mean = moe_ranks > 0 ? (double) total / moe_ranks : 0;
  json_object_set_new (rt->info, "rankLoadMaxOverMean", json_real (mean > 0 ? mx / mean : 0));
}

MoeRouting *
moe_routing_new (const json_t *spec, const json_t *weights_spec, const json_t *mask_spec,
                 const char *path, const MoeAttrs *a, const NpuOpEnv *env, const NpuOp *op,
                 GError **error)
{
  MoeRouting *rt = g_new0 (MoeRouting, 1);
  rt->n = a->n;
  rt->ids = g_new0 (gint32 *, a->n);
  rt->weights = g_new0 (float *, a->n);
  rt->info = json_object ();
  for (guint g = 0; g < a->n; g++)
    {
      rt->ids[g] = g_new0 (gint32, (gsize) a->bs[g] * a->k);
      rt->weights[g] = g_new0 (float, (gsize) a->bs[g] * a->k);
    }
  gboolean recorded_weights = FALSE;
  gboolean ok = TRUE;
  if (spec != NULL && json_object_get (spec, "jsonl") != NULL)
    {
      ok = routing_from_jsonl (rt, spec, path, a, env, error);
      recorded_weights = ok && json_is_true (json_object_get (rt->info, "recordedWeights"));
    }
  else if (spec != NULL && json_object_get (spec, "ids") != NULL)
    {
      json_t *ids = json_object_get (spec, "ids");
      json_object_set_new (rt->info, "source", json_string ("ids"));
      for (guint g = 0; g < a->n; g++)
        for (guint t = 0; t < a->bs[g]; t++)
          for (guint j = 0; j < a->k; j++)
            rt->ids[g][t * a->k + j] = (gint32) json_integer_value (json_array_get (ids, j));
    }
  else if (spec != NULL && json_object_get (spec, "npy") != NULL)
    {
      json_object_set_new (rt->info, "source", json_string ("npy"));
      ok = load_npy_ids (rt, json_string_value (json_object_get (spec, "npy")), FALSE, path,
                         a, env, error);
      json_t *w = json_object_get (spec, "weights");
      if (ok && w != NULL)
        {
          ok = load_npy_ids (rt, json_string_value (w), TRUE, path, a, env, error);
          recorded_weights = ok;
        }
    }
  else
    {
      const char *dist = "uniform";
      double s = 0;
      if (spec != NULL)
        {
          npu_spec_get_string (spec, "dist", path, FALSE, "uniform", &dist, NULL);
          json_t *js = json_object_get (spec, "s");
          s = js != NULL ? json_number_value (js) : 1.0;
        }
      if (g_str_equal (dist, "uniform"))
        s = 0;
      json_object_set_new (rt->info, "source", json_string (dist));
      if (s != 0)
        json_object_set_new (rt->info, "s", json_real (s));
      draw_ids (rt, a, s, env, op);
    }
  if (!ok)
    {
      moe_routing_free (rt);
      return NULL;
    }
  /* Recorded ids must be usable experts. */
  for (guint g = 0; g < a->n; g++)
    for (guint i = 0; i < a->bs[g] * a->k; i++)
      if (rt->ids[g][i] < 0 || (guint) rt->ids[g][i] >= a->moe_experts + a->zero_experts)
        {
          fail (error, path, "expert id %d (rank %u, entry %u) is outside [0, %u)",
                rt->ids[g][i], g, i, a->moe_experts + a->zero_experts);
          moe_routing_free (rt);
          return NULL;
        }
  if (weights_spec != NULL || !recorded_weights)
    {
      /* expertScales from an init spec (default uniform [0, 1)), stream 1 of the op. */
      json_t *dflt = json_pack ("{s:s, s:f, s:f}", "dist", "uniform", "low", 0.0, "high", 1.0);
      const json_t *ws = weights_spec != NULL ? weights_spec : dflt;
      g_autofree char *wpath = g_strdup_printf ("%s.inputs.expertScales", path);
      for (guint g = 0; g < a->n && ok; g++)
        {
          gint64 shape[2] = { a->bs[g], a->k };
          g_autoptr (NpuTensor) t = npu_tensor_new (NPU_DT_FP32, 2, shape, NPU_FORMAT_ND, TRUE,
                                                    error);
          ok = t != NULL && npu_op_fill_input (t, ws, wpath, env, op, op->ranks != NULL
                                               ? op->ranks[g] : g, 1, error);
          if (ok)
            memcpy (rt->weights[g], npu_tensor_data (t), sizeof (float) * a->bs[g] * a->k);
        }
      json_decref (dflt);
      if (!ok)
        {
          moe_routing_free (rt);
          return NULL;
        }
    }
  if (a->mask_dims != 0)
    {
      rt->mask = g_new0 (guint8 *, a->n);
      json_t *active = json_object_get (mask_spec, "active");
      json_t *p = json_object_get (mask_spec, "p");
      for (guint g = 0; g < a->n; g++)
        {
          guint len = a->mask_dims == 1 ? a->bs[g] : a->bs[g] * a->k;
          rt->mask[g] = g_new0 (guint8, len);
          if (a->mask_dims == 1)
            {
              json_t *v = json_is_array (active) ? json_array_get (active, g) : active;
              guint n_act = json_is_integer (v) ? (guint) MAX (json_integer_value (v), 0)
                                                : a->bs[g];
              for (guint t = 0; t < a->bs[g]; t++)
                rt->mask[g][t] = t < n_act;
            }
          else
            {
              double prob = json_is_number (p) ? json_number_value (p) : 1.0;
              gsl_rng *rng = rng_for (env, op, g, 3);
              for (guint i = 0; i < len; i++)
                rt->mask[g][i] = gsl_rng_uniform (rng) < prob;
              gsl_rng_free (rng);
            }
        }
    }
  load_stats (rt, a);
  return rt;
}
