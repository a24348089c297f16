/* npusim — the operator base: registration of tensors, input generation, the
 * begin/finish protocol on streams and task classification for the report. */
#include "ops/op.h"
#include <gsl/gsl_rng.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <string.h>
#include "traces/npy.h"

G_DEFINE_QUARK (npu-op-error-quark, npu_op_error)

gboolean
npu_op_error (GError **error, const NpuOp *op, NpuOpError code, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  if (code == NPU_OP_ERROR_SCENARIO)
    g_set_error (error, NPU_OP_ERROR, code, "%s", msg);
  else
    g_set_error (error, NPU_OP_ERROR, code, "%s: aclnn error %d: %s",
                 op != NULL && op->klass != NULL ? op->klass->name : "op", (int) code, msg);
  return FALSE;
}

static void
op_tensor_free (gpointer p)
{
  NpuOpTensor *t = p;
  g_free (t->name);
  npu_tensor_unref (t->tensor);
  g_free (t);
}

void
npu_op_init (NpuOp *op, const NpuOpClass *klass)
{
  op->klass = klass;
  op->after = g_ptr_array_new ();
  op->tensors = g_ptr_array_new_with_free_func (op_tensor_free);
  op->attrs = json_object ();
  op->owned = g_ptr_array_new_with_free_func (g_free);
}

void
npu_op_free (NpuOp *op)
{
  if (op == NULL)
    return;
  if (op->klass != NULL && op->klass->finalize != NULL)
    op->klass->finalize (op);
  if (op->per_rank != NULL)
    for (guint g = 0; g < op->n_ranks; g++)
      for (guint c = 0; c < G_N_ELEMENTS (op->per_rank[g].intervals); c++)
        if (op->per_rank[g].intervals[c] != NULL)
          g_array_unref (op->per_rank[g].intervals[c]);
  if (op->per_rank != NULL)
    for (guint g = 0; g < op->n_ranks; g++)
      for (guint k = 0; k < NPU_N_CORE_KINDS; k++)
        if (op->per_rank[g].core_intervals[k] != NULL)
          g_array_unref (op->per_rank[g].core_intervals[k]);
  g_free (op->per_rank);
  g_free (op->name);
  g_free (op->ranks);
  g_ptr_array_unref (op->after);
  g_ptr_array_unref (op->tensors);
  g_ptr_array_unref (op->owned);
  json_decref (op->attrs);
  g_free (op);
}

void
npu_op_add_tensor (NpuOp *op, guint rank, const char *name, NpuTensor *tensor,
                   gboolean is_input)
{
  NpuOpTensor *t = g_new0 (NpuOpTensor, 1);
  t->rank = rank;
  t->name = g_strdup (name);
  t->tensor = npu_tensor_ref (tensor);
  t->is_input = is_input;
  g_ptr_array_add (op->tensors, t);
}

NpuTensor *
npu_op_find_tensor (NpuOp *op, guint rank, const char *name)
{
  for (guint i = 0; i < op->tensors->len; i++)
    {
      NpuOpTensor *t = g_ptr_array_index (op->tensors, i);
      if (t->rank == rank && g_strcmp0 (t->name, name) == 0)
        return t->tensor;
    }
  return NULL;
}

guint
npu_op_rank_of (const NpuOp *op, guint g)
{
  g_assert (g < op->n_ranks);
  return op->ranks[g];
}

/* splitmix64: a fixed, documented mixing of (seed, op, tag) into one RNG seed, so
 * every generated value is reproducible from the scenario alone. */
static guint64
mix64 (guint64 x)
{
  x += G_GUINT64_CONSTANT (0x9e3779b97f4a7c15);
  x = (x ^ (x >> 30)) * G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
  x = (x ^ (x >> 27)) * G_GUINT64_CONSTANT (0x94d049bb133111eb);
  return x ^ (x >> 31);
}

gulong
npu_op_rng_seed (guint64 seed, const NpuOp *op, guint64 tag)
{
  guint64 s = mix64 (seed ^ mix64 (((guint64) op->index << 40) ^ tag));
  return (gulong) (s & 0xffffffffu) ^ (gulong) (s >> 32);
}

static gboolean
spec_number (const json_t *spec, const char *key, double dflt, double *out,
             const char *path, GError **error)
{
  json_t *v = json_object_get (spec, key);
  if (v == NULL)
    {
      *out = dflt;
      return TRUE;
    }
  if (!json_is_number (v))
    {
      g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                   "%s.%s: expected a number", path, key);
      return FALSE;
    }
  *out = json_number_value (v);
  return TRUE;
}

static gboolean
check_keys (const json_t *spec, const char *const *allowed, const char *path, GError **error)
{
  const char *key;
  json_t *value;
  json_object_foreach ((json_t *) spec, key, value)
    {
      if (!g_strv_contains (allowed, key))
        {
          g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                       "%s.%s: unknown key", path, key);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
fill_from_npy (NpuTensor *t, const char *file, const char *path, const NpuOpEnv *env,
               GError **error)
{
  g_autofree char *full = g_path_is_absolute (file) || env->scenario_dir == NULL
    ? g_strdup (file) : g_build_filename (env->scenario_dir, file, NULL);
  g_autofree char *descr = NULL;
  g_autofree gint64 *shape = NULL;
  g_autofree gpointer data = NULL;
  guint ndim = 0;
  guint64 nbytes = 0;
  GError *local = NULL;
  if (!npu_npy_read (full, &descr, &ndim, &shape, &data, &nbytes, &local))
    {
      g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO, "%s.npy: %s", path,
                   local->message);
      g_error_free (local);
      return FALSE;
    }
  NpuDtype dt = npu_tensor_dtype (t);
  if (g_strcmp0 (descr, npu_dtype_npy_descr (dt)) != 0)
    {
      g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                   "%s.npy: %s holds '%s' but the tensor is %s (expects '%s')", path, full,
                   descr, npu_dtype_name (dt), npu_dtype_npy_descr (dt));
      return FALSE;
    }
  gboolean same = ndim == npu_tensor_ndim (t);
  for (guint i = 0; same && i < ndim; i++)
    same = shape[i] == npu_tensor_dim (t, i);
  if (!same)
    {
      g_autofree char *want = npu_tensor_shape_string (t);
      g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                   "%s.npy: %s has a different shape than the tensor %s", path, full, want);
      return FALSE;
    }
  g_assert (nbytes == npu_tensor_nbytes (t));
  memcpy (npu_tensor_data (t), data, nbytes);
  return TRUE;
}

gboolean
npu_op_fill_input (NpuTensor *t, const json_t *spec, const char *path, const NpuOpEnv *env,
                   const NpuOp *op, guint rank, guint stream_id, GError **error)
{
  if (spec != NULL && !json_is_object (spec))
    {
      g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                   "%s: expected an object like {\"dist\": \"uniform\"} or {\"npy\": \"file\"}",
                   path);
      return FALSE;
    }
  if (spec != NULL && json_object_get (spec, "npy") != NULL)
    {
      static const char *const keys[] = { "npy", NULL };
      json_t *file = json_object_get (spec, "npy");
      if (!check_keys (spec, keys, path, error))
        return FALSE;
      if (!json_is_string (file))
        {
          g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                       "%s.npy: expected a file name", path);
          return FALSE;
        }
      if (npu_tensor_data (t) == NULL)
        return TRUE; /* timing-only: shapes were checked by the op */
      return fill_from_npy (t, json_string_value (file), path, env, error);
    }

  const char *dist = "uniform";
  if (spec != NULL && json_object_get (spec, "dist") != NULL)
    {
      json_t *d = json_object_get (spec, "dist");
      if (!json_is_string (d))
        {
          g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                       "%s.dist: expected a string", path);
          return FALSE;
        }
      dist = json_string_value (d);
    }
  static const char *const keys[] = { "dist", "low", "high", "mean", "std", "value", NULL };
  if (spec != NULL && !check_keys (spec, keys, path, error))
    return FALSE;
  double low, high, mean, sd, value;
  if (!spec_number (spec, "low", -1.0, &low, path, error)
      || !spec_number (spec, "high", 1.0, &high, path, error)
      || !spec_number (spec, "mean", 0.0, &mean, path, error)
      || !spec_number (spec, "std", 1.0, &sd, path, error)
      || !spec_number (spec, "value", 0.0, &value, path, error))
    return FALSE;
  enum { UNIFORM, NORMAL, RANDINT, ARANGE, CONST } kind;
  if (g_str_equal (dist, "uniform"))
    kind = UNIFORM;
  else if (g_str_equal (dist, "normal"))
    kind = NORMAL;
  else if (g_str_equal (dist, "randint"))
    kind = RANDINT;
  else if (g_str_equal (dist, "arange"))
    kind = ARANGE;
  else if (g_str_equal (dist, "const"))
    kind = CONST;
  else
    {
      g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                   "%s.dist: unknown distribution '%s' (uniform, normal, randint, arange, const)",
                   path, dist);
      return FALSE;
    }
  if ((kind == UNIFORM || kind == RANDINT) && !(low <= high))
    {
      g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                   "%s: low must not exceed high", path);
      return FALSE;
    }
  if (kind == NORMAL && !(sd >= 0))
    {
      g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                   "%s.std: must be >= 0", path);
      return FALSE;
    }
  gpointer data = npu_tensor_data (t);
  if (data == NULL)
    return TRUE;

  gsl_rng *rng = gsl_rng_alloc (gsl_rng_mt19937);
  gsl_rng_set (rng, npu_op_rng_seed (env->seed, op, ((guint64) rank << 16) ^ stream_id));
  NpuDtype dt = npu_tensor_dtype (t);
  gint64 n = npu_tensor_numel (t);
  for (gint64 i = 0; i < n; i++)
    {
      double v;
      switch (kind)
        {
        case UNIFORM: v = low + (high - low) * gsl_rng_uniform (rng); break;
        case NORMAL: v = mean + gsl_ran_gaussian (rng, sd); break;
        case RANDINT:
          v = floor (low) + (double) gsl_rng_uniform_int (rng,
                                      (unsigned long) (floor (high) - floor (low) + 1));
          break;
        case ARANGE: v = (double) i; break;
        default: v = value; break;
        }
      if (dt == NPU_DT_INT64)
        ((gint64 *) data)[i] = (gint64) v;
      else if (dt == NPU_DT_UINT64)
        ((guint64 *) data)[i] = v < 0 ? 0 : (guint64) v;
      else
        npu_dtype_store_f32 (dt, data, (gsize) i, (float) v);
    }
  gsl_rng_free (rng);
  return TRUE;
}

/* ---- op chaining by tensors ---- */

gboolean
npu_op_check_input_spec (const json_t *spec, const char *path, const NpuOpEnv *env,
                         const NpuOp *op, GError **error)
{
  if (npu_op_spec_is_from (spec))
    return TRUE;
  /* A tensor without storage: npu_op_fill_input checks the spec and draws nothing. */
  gint64 one = 1;
  g_autoptr (NpuTensor) probe = npu_tensor_new (NPU_DT_FP32, 1, &one, NPU_FORMAT_ND, FALSE,
                                                error);
  return probe != NULL && npu_op_fill_input (probe, spec, path, env, op, 0, 0, error);
}

gboolean
npu_op_spec_is_from (const json_t *spec)
{
  return spec != NULL && json_is_object (spec) && json_object_get (spec, "from") != NULL;
}

NpuTensor *
npu_op_from_tensor (NpuOp *op, const NpuOpEnv *env, guint g, const json_t *spec,
                    const char *path, NpuOp **producer, GError **error)
{
  guint rank = npu_op_rank_of (op, g);
  json_t *from = npu_op_spec_is_from (spec) ? json_object_get (spec, "from") : NULL;
  const char *ref = json_is_string (from) ? json_string_value (from) : NULL;
  const char *dot = ref != NULL ? strrchr (ref, '.') : NULL;
  if (json_object_size (spec) != 1 || dot == NULL || dot == ref || dot[1] == '\0')
    {
      g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                   "%s.from: expected \"<earlier op>.<tensor name>\" and no other key", path);
      return NULL;
    }
  g_autofree char *op_name = g_strndup (ref, dot - ref);
  NpuOp *src = env->find_op != NULL ? env->find_op (env->runner, op_name) : NULL;
  if (src == NULL || src == op)
    {
      g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                   "%s.from: no earlier op named '%s'", path, op_name);
      return NULL;
    }
  NpuTensor *t = npu_op_find_tensor (src, rank, dot + 1);
  if (t == NULL)
    {
      g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                   "%s.from: op '%s' has no tensor '%s' on rank %u", path, op_name, dot + 1,
                   rank);
      return NULL;
    }
  if (producer != NULL)
    *producer = src;
  return t;
}

NpuTensor *
npu_op_input_tensor (NpuOp *op, const NpuOpEnv *env, guint g, const char *name, NpuDtype dt,
                     guint ndim, const gint64 *shape, const json_t *spec, const char *path,
                     guint stream_id, GError **error)
{
  if (!npu_op_spec_is_from (spec))
    {
      g_autoptr (NpuTensor) t = npu_tensor_new (dt, ndim, shape, NPU_FORMAT_ND, env->data_mode,
                                                error);
      if (t == NULL || !npu_op_fill_input (t, spec, path, env, op, npu_op_rank_of (op, g),
                                           stream_id, error))
        return NULL;
      return g_steal_pointer (&t);
    }
  NpuOp *producer = NULL;
  NpuTensor *t = npu_op_from_tensor (op, env, g, spec, path, &producer, error);
  if (t == NULL)
    return NULL;
  const char *ref = json_string_value (json_object_get (spec, "from"));
  gboolean same = npu_tensor_ndim (t) == ndim;
  for (guint i = 0; same && i < ndim; i++)
    same = npu_tensor_dim (t, i) == shape[i];
  g_autoptr (NpuTensor) in = NULL;
  g_autoptr (GError) local = NULL;
  if (npu_tensor_dtype (t) == dt && same)
    in = npu_tensor_ref (t);
  else if (npu_tensor_dtype (t) == dt)
    in = npu_tensor_new_view (t, ndim, shape, &local);  /* a reshape, or why not */
  if (in == NULL)
    {
      g_autofree char *have = npu_tensor_shape_string (t);
      g_autofree char *want = npu_shape_string (ndim, shape);
      g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                   "%s.from: %s is %s %s, but this input must be %s %s (the same dtype; the "
                   "same shape, or the same number of elements to reshape)%s%s", path, ref,
                   npu_dtype_name (npu_tensor_dtype (t)), have, npu_dtype_name (dt), want,
                   local != NULL ? ": " : "", local != NULL ? local->message : "");
      return NULL;
    }
  gboolean listed = FALSE;
  for (guint i = 0; i < op->after->len; i++)
    listed = listed || g_ptr_array_index (op->after, i) == producer;
  if (!listed)
    g_ptr_array_add (op->after, producer);
  return g_steal_pointer (&in);
}

/* ---- begin / finish and classified tasks ---- */

typedef struct {
  NpuOp *op;
  guint g;
  NpuTaskClass cls;
  gint core_kind;  /* NpuCoreKind, or -1 for tasks not on an AI Core */
  guint core;
} TaskTag;

static void
record_interval (gpointer data, NpuTask *task)
{
  TaskTag *tag = data;
  NpuOpRank *pr = &tag->op->per_rank[tag->g];
  if (pr->intervals[tag->cls] == NULL)
    pr->intervals[tag->cls] = g_array_new (FALSE, FALSE, sizeof (NpuInterval));
  NpuInterval iv = { npu_task_start (task), npu_task_end (task) };
  if (iv.end <= iv.start)
    return;
  g_array_append_val (pr->intervals[tag->cls], iv);
  if (tag->core_kind < 0)
    return;
  GArray **ci = &pr->core_intervals[tag->core_kind];
  if (*ci == NULL)
    *ci = g_array_new (FALSE, FALSE, sizeof (NpuCoreInterval));
  NpuCoreInterval civ = { iv.start, iv.end, tag->core };
  g_array_append_val (*ci, civ);
}

static void
ensure_per_rank (NpuOp *op)
{
  if (op->per_rank == NULL)
    op->per_rank = g_new0 (NpuOpRank, op->n_ranks);
}

static const char *
class_category (NpuTaskClass cls)
{
  switch (cls)
    {
    case NPU_TASK_COMPUTE: return "compute";
    case NPU_TASK_COMM: return "communication";
    case NPU_TASK_MEMORY: return "memory";
    default: return "control";
    }
}

NpuTask *
npu_op_task_new (NpuOp *op, const NpuOpEnv *env, guint g, const char *name,
                 NpuTaskClass cls, NpuTrackKind kind, guint index)
{
  ensure_per_rank (op);
  NpuTask *task = npu_graph_task_new (env->graph, name);
  TaskTag *tag = g_new0 (TaskTag, 1);
  tag->op = op;
  tag->g = g;
  tag->cls = cls;
  tag->core_kind = kind == NPU_TRACK_AIC ? NPU_CORE_AIC : kind == NPU_TRACK_AIV ? NPU_CORE_AIV : -1;
  tag->core = index;
  g_ptr_array_add (op->owned, tag);
  npu_task_set_hooks (task, NULL, record_interval, tag);
  if (env->trace_level >= NPU_TRACE_TASK)
    {
      guint32 pid, tid;
      npu_cluster_track (env->cluster, npu_op_rank_of (op, g), kind, index, &pid, &tid);
      npu_task_set_track (task, pid, tid, class_category (cls));
    }
  return task;
}

/* Position of global @rank in @other's group, or -1. */
static gint
group_index (const NpuOp *other, guint rank)
{
  for (guint i = 0; i < other->n_ranks; i++)
    if (other->ranks[i] == rank)
      return (gint) i;
  return -1;
}

NpuTask *
npu_op_begin (NpuOp *op, const NpuOpEnv *env, guint g, NpuTime launch_ps)
{
  ensure_per_rank (op);
  guint rank = npu_op_rank_of (op, g);
  g_autofree char *name = g_strdup_printf ("%s launch", op->name);
  NpuTask *task = npu_op_task_new (op, env, g, name, NPU_TASK_CONTROL, NPU_TRACK_STREAM,
                                   op->stream);
  npu_task_set_duration (task, launch_ps);
  for (guint i = 0; i < op->after->len; i++)
    {
      NpuOp *before = g_ptr_array_index (op->after, i);
      gint bg = group_index (before, rank);
      if (bg >= 0 && before->per_rank != NULL && before->per_rank[bg].finish != NULL)
        npu_task_depends_on (task, before->per_rank[bg].finish);
    }
  npu_stream_append (env->stream (env->runner, rank, op->stream), task);
  op->per_rank[g].begin = task;
  return task;
}

typedef struct {
  NpuOp *op;
  guint g;
  NpuSink *sink;
  guint32 pid, tid;
} FinishTag;

static void
draw_op_slice (gpointer data, NpuTask *task)
{
  FinishTag *tag = data;
  NpuTask *begin = tag->op->per_rank[tag->g].begin;
  NpuTime start = npu_task_start (begin);
  g_autofree char *args = g_strdup_printf ("{\"op\":\"%s\",\"group_rank\":%u}",
                                           tag->op->klass->name, tag->g);
  npu_sink_slice (tag->sink, tag->pid, tag->tid,
                  tag->op->name, "op", start, npu_task_end (task) - start, args);
}

NpuTask *
npu_op_finish (NpuOp *op, const NpuOpEnv *env, guint g, GPtrArray *deps)
{
  ensure_per_rank (op);
  guint rank = npu_op_rank_of (op, g);
  g_assert (op->per_rank[g].begin != NULL);
  g_autofree char *name = g_strdup_printf ("%s end", op->name);
  NpuTask *task = npu_graph_task_new (env->graph, name);
  npu_task_set_hidden (task);
  npu_task_depends_on (task, op->per_rank[g].begin);
  for (guint i = 0; deps != NULL && i < deps->len; i++)
    npu_task_depends_on (task, g_ptr_array_index (deps, i));
  FinishTag *tag = g_new0 (FinishTag, 1);
  tag->op = op;
  tag->g = g;
  tag->sink = npu_graph_sink (env->graph);
  npu_cluster_track (env->cluster, rank, NPU_TRACK_STREAM, op->stream, &tag->pid, &tag->tid);
  g_ptr_array_add (op->owned, tag);
  npu_task_set_hooks (task, NULL, draw_op_slice, tag);
  npu_stream_append (env->stream (env->runner, rank, op->stream), task);
  op->per_rank[g].finish = task;
  return task;
}
