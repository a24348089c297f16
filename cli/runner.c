/* npusim — running one scenario end to end. */
#include "cli/runner.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "cli/outputs.h"
#include "cli/report.h"
#include "traces/trace-writer.h"

#define NPU_RUN_ERROR (npu_run_error_quark ())
static G_DEFINE_QUARK (npu-run-error-quark, npu_run_error)
enum { RUN_ERROR_MEMORY = 1 };

typedef struct {
  NpuScenario *sc;
  const NpuRunOptions *opt;
  gboolean data_mode;
  NpuTraceLevel level;
  const char *level_name;
  NpuEngine *engine;
  NpuFabric *fabric;
  NpuCluster *cluster;
  NpuGraph *graph;
  NpuTraceWriter *trace;
  GHashTable *streams; /* (rank * 1024 + index) -> NpuStream; lookups only */
  GPtrArray *ops;      /* NpuOp, owned */
  NpuOpEnv env;
  char *staging;
  char *trace_tmp;     /* --trace FILE: written as FILE.partial, renamed at the end */
  json_t *inject;       /* the report's "inject" section: what was applied */
  gint64 wall_start;
  gint64 last_progress; /* wall time of the last progress line, µs */
  gboolean progress_shown;
} Runner;

NpuExit
npu_exit_for_error (const GError *error)
{
  if (error == NULL)
    return NPU_EXIT_OK;
  if (error->domain == NPU_OP_ERROR)
    return error->code == NPU_OP_ERROR_SCENARIO ? NPU_EXIT_SCENARIO : NPU_EXIT_PARAM;
  if (error->domain == NPU_SCENARIO_ERROR || error->domain == NPU_PRESET_ERROR)
    return NPU_EXIT_SCENARIO;
  if (error->domain == NPU_RUN_ERROR)
    return NPU_EXIT_MEMORY;
  if (error->domain == G_FILE_ERROR)
    return NPU_EXIT_IO;
  return NPU_EXIT_RUNTIME;
}

static NpuStream *
runner_stream (gpointer data, guint rank, guint index)
{
  Runner *run = data;
  gpointer key = GUINT_TO_POINTER (rank * 1024u + index + 1u);
  NpuStream *s = g_hash_table_lookup (run->streams, key);
  if (s == NULL)
    {
      guint32 pid, tid;
      npu_cluster_track (run->cluster, rank, NPU_TRACK_STREAM, index, &pid, &tid);
      g_autofree char *name = g_strdup_printf ("r%u.stream%u", rank, index);
      s = npu_graph_stream_new (run->graph, name, pid, tid);
      g_hash_table_insert (run->streams, key, s);
      /* "inject.stragglers": the rank's host issues everything late, so each of its
       * streams starts with the delay (drawn on the stream track). */
      for (guint i = 0; i < run->sc->stragglers->len; i++)
        {
          const NpuStraggler *st = &g_array_index (run->sc->stragglers, NpuStraggler, i);
          if (st->rank != rank || st->delay_ps == 0)
            continue;
          NpuTask *delay = npu_graph_task_new (run->graph, "straggler delay (inject)");
          npu_task_set_duration (delay, st->delay_ps);
          npu_task_set_track (delay, pid, tid, "inject");
          npu_stream_append (s, delay);
        }
    }
  return s;
}

static NpuOp *
find_op (Runner *run, const char *name)
{
  for (guint i = 0; i < run->ops->len; i++)
    {
      NpuOp *op = g_ptr_array_index (run->ops, i);
      if (g_str_equal (op->name, name))
        return op;
    }
  return NULL;
}

static NpuOp *
runner_find_op (gpointer data, const char *name)
{
  return find_op (data, name);
}

/* An op class with exclusive_group set (DistributeBarrierV2, spec 003: its group
 * "不允许有其他算子") shares its communication group with no other kind of op. */
static gboolean
check_exclusive_groups (Runner *run, GError **error)
{
  for (guint i = 0; i < run->ops->len; i++)
    {
      NpuOp *op = g_ptr_array_index (run->ops, i);
      if (!op->klass->exclusive_group)
        continue;
      const char *group = json_string_value (json_object_get (op->attrs, "group"));
      for (guint k = 0; k < run->ops->len; k++)
        {
          NpuOp *other = g_ptr_array_index (run->ops, k);
          const char *og = json_string_value (json_object_get (other->attrs, "group"));
          if (other->klass != op->klass && g_strcmp0 (og, group) == 0)
            {
              g_set_error (error, NPU_SCENARIO_ERROR, NPU_SCENARIO_ERROR_VALUE,
                           "ops[%u].group: '%s' is the communication group of %s '%s' "
                           "(ops[%u]), which may hold no other op: give %s a group of its own",
                           other->index, group, op->klass->name, op->name, op->index,
                           op->klass->name);
              return FALSE;
            }
        }
    }
  return TRUE;
}

static gboolean
create_ops (Runner *run, GError **error)
{
  static const char *const common[] = { "op", "name", "group", "stream", "after", NULL };
  size_t i;
  json_t *spec;
  json_array_foreach (run->sc->ops, i, spec)
    {
      g_autofree char *path = g_strdup_printf ("ops[%zu]", i);
      if (!json_is_object (spec))
        {
          g_set_error (error, NPU_SCENARIO_ERROR, NPU_SCENARIO_ERROR_VALUE,
                       "%s: expected an object with an \"op\" key", path);
          return FALSE;
        }
      const char *kind, *name, *group_name;
      guint64 stream;
      if (!npu_spec_get_string (spec, "op", path, TRUE, NULL, &kind, error))
        return FALSE;
      const NpuOpClass *klass = npu_op_class_lookup (kind);
      if (klass == NULL)
        {
          GString *known = g_string_new (NULL);
          for (const NpuOpClass *const *k = npu_op_class_all (); *k != NULL; k++)
            g_string_append_printf (known, "%s%s", known->len ? ", " : "", (*k)->name);
          g_set_error (error, NPU_SCENARIO_ERROR, NPU_SCENARIO_ERROR_VALUE,
                       "%s.op: unknown op '%s' (known: %s)", path, kind, known->str);
          g_string_free (known, TRUE);
          return FALSE;
        }
      g_autofree char *dflt_name = g_strdup_printf ("op%zu", i);
      if (!npu_spec_get_string (spec, "name", path, FALSE, dflt_name, &name, error)
          || !npu_spec_get_string (spec, "group", path, FALSE, "world", &group_name, error)
          || !npu_spec_get_uint (spec, "stream", path, FALSE, 0, 0, 63, &stream, error))
        return FALSE;
      if (find_op (run, name) != NULL)
        {
          g_set_error (error, NPU_SCENARIO_ERROR, NPU_SCENARIO_ERROR_VALUE,
                       "%s.name: '%s' is already the name of an earlier op", path, name);
          return FALSE;
        }
      const NpuGroup *group = npu_scenario_group (run->sc, group_name);
      if (group == NULL)
        {
          g_set_error (error, NPU_SCENARIO_ERROR, NPU_SCENARIO_ERROR_VALUE,
                       "%s.group: no group named '%s' in \"groups\"", path, group_name);
          return FALSE;
        }
      json_t *after = json_object_get (spec, "after");
      if (after != NULL && !json_is_array (after))
        {
          g_set_error (error, NPU_SCENARIO_ERROR, NPU_SCENARIO_ERROR_VALUE,
                       "%s.after: expected a list of earlier op names", path);
          return FALSE;
        }
      g_autoptr (GPtrArray) before = g_ptr_array_new ();
      size_t k;
      json_t *a;
      json_array_foreach (after, k, a)
        {
          NpuOp *dep = json_is_string (a) ? find_op (run, json_string_value (a)) : NULL;
          if (dep == NULL)
            {
              g_set_error (error, NPU_SCENARIO_ERROR, NPU_SCENARIO_ERROR_VALUE,
                           "%s.after[%zu]: not the name of an earlier op", path, k);
              return FALSE;
            }
          g_ptr_array_add (before, dep);
        }

      json_t *own = json_deep_copy (spec);
      for (guint c = 0; common[c] != NULL; c++)
        json_object_del (own, common[c]);
      run->env.group_ranks = (const guint *) group->ranks->data;
      run->env.group_size = group->ranks->len;
      NpuOp *op = klass->create (own, path, &run->env, error);
      json_decref (own);
      run->env.group_ranks = NULL;
      run->env.group_size = 0;
      if (op == NULL)
        return FALSE;
      op->name = g_strdup (name);
      op->index = (guint) i;
      op->n_ranks = group->ranks->len;
      op->ranks = g_memdup2 (group->ranks->data, sizeof (guint) * group->ranks->len);
      op->stream = (guint) stream;
      g_ptr_array_extend (op->after, before, NULL, NULL);
      /* The group's name (the aclnn "group" string), for the manifest and for ops that
       * check it (read from attrs in prepare()). */
      if (json_object_get (op->attrs, "group") == NULL)
        json_object_set_new (op->attrs, "group", json_string (group_name));
      g_ptr_array_add (run->ops, op);
    }
  return check_exclusive_groups (run, error);
}

/* Memory a data-mode run may use: $NPUSIM_MEMORY_LIMIT bytes if set (for tests and
 * for shared machines), else 90% of MemAvailable. */
static guint64
memory_budget (void)
{
  const char *limit = g_getenv ("NPUSIM_MEMORY_LIMIT");
  if (limit != NULL)
    return g_ascii_strtoull (limit, NULL, 10);
  g_autofree char *meminfo = NULL;
  if (g_file_get_contents ("/proc/meminfo", &meminfo, NULL, NULL))
    {
      const char *line = strstr (meminfo, "MemAvailable:");
      if (line != NULL)
        return g_ascii_strtoull (line + strlen ("MemAvailable:"), NULL, 10) * 1024 / 10 * 9;
    }
  return G_MAXUINT64;
}

static gboolean
check_memory (Runner *run, GError **error)
{
  if (!run->data_mode)
    return TRUE;
  guint64 need = 0;
  for (guint i = 0; i < run->ops->len; i++)
    {
      NpuOp *op = g_ptr_array_index (run->ops, i);
      need += op->klass->data_bytes (op);
    }
  guint64 budget = memory_budget ();
  if (need > budget)
    {
      g_set_error (error, NPU_RUN_ERROR, RUN_ERROR_MEMORY,
                   "data mode needs %.2f GiB of tensors but only %.2f GiB may be used on this "
                   "machine; run with --timing-only (or set NPUSIM_MEMORY_LIMIT)",
                   need / 1073741824.0, budget / 1073741824.0);
      return FALSE;
    }
  return TRUE;
}

static void
progress (gpointer data, NpuTime now)
{
  Runner *run = data;
  gint64 wall = g_get_monotonic_time ();
  /* Only runs longer than a second show progress, refreshed five times a second. */
  if (wall - run->wall_start < G_USEC_PER_SEC || wall - run->last_progress < G_USEC_PER_SEC / 5)
    return;
  run->last_progress = wall;
  fprintf (stderr, "\r[npusim] simulated %.3f us, %" G_GUINT64_FORMAT " events ",
           (double) now / NPU_PS_PER_US, npu_engine_fired (run->engine));
  run->progress_shown = TRUE;
}

static gboolean
describe_link (gpointer data, guint link, guint32 *pid, const char **name)
{
  Runner *run = data;
  guint32 tid;
  npu_cluster_track (run->cluster, npu_cluster_link_rank (run->cluster, link),
                     NPU_TRACK_COMM_GROUP, 0, pid, &tid);
  *name = npu_fabric_link_name (run->fabric, link);
  return TRUE;
}

/* "inject.links": scale the bandwidth of every matching link (factors multiply). */
static gboolean
apply_link_injects (Runner *run, GError **error)
{
  GArray *li = run->sc->link_injects;
  guint n = npu_fabric_n_links (run->fabric);
  json_t *links = json_array ();
  json_object_set_new (run->inject, "links", links);
  g_autofree double *orig = g_new0 (double, MAX (n, 1));
  g_autofree gboolean *hit = g_new0 (gboolean, MAX (n, 1));
  for (guint l = 0; l < n; l++)
    orig[l] = npu_fabric_link_bandwidth (run->fabric, l);
  for (guint i = 0; i < li->len; i++)
    {
      const NpuLinkInject *x = &g_array_index (li, NpuLinkInject, i);
      guint matched = 0;
      for (guint l = 0; l < n; l++)
        if (g_pattern_match_simple (x->match, npu_fabric_link_name (run->fabric, l)))
          {
            npu_fabric_set_link_bandwidth (run->fabric, l, npu_fabric_link_bandwidth (run->fabric, l)
                                                           * x->bandwidth_factor);
            hit[l] = TRUE;
            matched++;
          }
      if (matched == 0)
        {
          g_set_error (error, NPU_SCENARIO_ERROR, NPU_SCENARIO_ERROR_VALUE,
                       "inject.links[%u].match: no link of the cluster is named like '%s' "
                       "(names look like r0.ub_tx, r0.ub_rx, r0.sio->r1, r0.hccs->r3, "
                       "r0.roce_tx, r0.hbm)", i, x->match);
          return FALSE;
        }
    }
  for (guint l = 0; l < n; l++)
    if (hit[l])
      {
        json_t *j = json_object ();
        json_object_set_new (j, "name", json_string (npu_fabric_link_name (run->fabric, l)));
        json_object_set_new (j, "bandwidth_Bps_preset", json_real (orig[l]));
        json_object_set_new (j, "bandwidth_Bps", json_real (npu_fabric_link_bandwidth (run->fabric, l)));
        json_array_append_new (links, j);
      }
  json_t *st = json_array ();
  for (guint i = 0; i < run->sc->stragglers->len; i++)
    {
      const NpuStraggler *x = &g_array_index (run->sc->stragglers, NpuStraggler, i);
      json_t *j = json_object ();
      json_object_set_new (j, "rank", json_integer (x->rank));
      json_object_set_new (j, "delay_ps", json_integer ((json_int_t) x->delay_ps));
      json_array_append_new (st, j);
    }
  json_object_set_new (run->inject, "stragglers", st);
  return TRUE;
}

static void
runner_clear (Runner *run)
{
  if (run->trace != NULL)
    npu_trace_writer_abort (run->trace);
  if (run->trace_tmp != NULL)
    g_unlink (run->trace_tmp);
  npu_outputs_discard (run->staging);
  g_free (run->staging);
  g_free (run->trace_tmp);
  if (run->ops != NULL)
    g_ptr_array_unref (run->ops);
  if (run->streams != NULL)
    g_hash_table_unref (run->streams);
  if (run->graph != NULL)
    npu_graph_free (run->graph);
  if (run->cluster != NULL)
    npu_cluster_free (run->cluster);
  if (run->fabric != NULL)
    npu_fabric_free (run->fabric);
  if (run->engine != NULL)
    npu_engine_free (run->engine);
  if (run->inject != NULL)
    json_decref (run->inject);
}

static gboolean
write_outputs (Runner *run, GError **error)
{
  NpuSink *sink = run->trace != NULL ? npu_trace_writer_sink (run->trace) : NULL;
  NpuReportInput in = { run->sc, run->ops, run->cluster, run->engine, run->graph,
                        run->data_mode, run->level_name };
  json_t *report = npu_report_build (&in, sink);
  if (run->sc->stragglers->len > 0 || run->sc->link_injects->len > 0)
    json_object_set (report, "inject", run->inject);
  NpuTraceWriter *trace = g_steal_pointer (&run->trace);
  if (!npu_trace_writer_close (trace, error))
    return FALSE;
  g_autofree char *report_path = g_build_filename (run->staging, "report.json", NULL);
  g_autofree char *manifest_path = g_build_filename (run->staging, "manifest.json", NULL);
  json_t *manifest = npu_outputs_write_tensors (run->staging, run->sc, run->ops,
                                                run->data_mode, error);
  gboolean ok = manifest != NULL && npu_outputs_write_json (report_path, report, error)
                && npu_outputs_write_json (manifest_path, manifest, error);
  if (manifest != NULL)
    json_decref (manifest);
  if (!ok)
    {
      json_decref (report);
      return FALSE;
    }
  if (run->trace_tmp != NULL && g_rename (run->trace_tmp, run->opt->trace_path) != 0)
    {
      json_decref (report);
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_IO, "cannot write %s: %s",
                   run->opt->trace_path, g_strerror (errno));
      return FALSE;
    }
  g_clear_pointer (&run->trace_tmp, g_free);
  if (!npu_outputs_commit (run->staging, run->opt->out_dir, error))
    {
      json_decref (report);
      return FALSE;
    }
  g_clear_pointer (&run->staging, g_free);
  if (!run->opt->quiet)
    {
      npu_report_print_summary (report, stdout);
      printf ("outputs: %s/ (report.json, manifest.json%s%s)\n", run->opt->out_dir,
              run->data_mode ? ", tensors/" : "",
              run->opt->trace_path != NULL ? "" : ", trace.json");
      if (run->opt->trace_path != NULL)
        printf ("trace: %s\n", run->opt->trace_path);
    }
  json_decref (report);
  return TRUE;
}

NpuExit
npu_run_scenario (NpuScenario *sc, const NpuRunOptions *opt, GError **error)
{
  Runner run = { 0 };
  run.sc = sc;
  run.opt = opt;
  run.data_mode = !(opt->timing_only || sc->timing_only);
  run.level_name = opt->trace_level != NULL ? opt->trace_level : sc->trace_level;
  if (g_str_equal (run.level_name, "op"))
    run.level = NPU_TRACE_OP;
  else if (g_str_equal (run.level_name, "all"))
    run.level = NPU_TRACE_ALL;
  else if (g_str_equal (run.level_name, "task"))
    run.level = NPU_TRACE_TASK;
  else
    {
      g_set_error (error, NPU_SCENARIO_ERROR, NPU_SCENARIO_ERROR_VALUE,
                   "--trace-level: expected op, task or all");
      return NPU_EXIT_USAGE;
    }
  run.wall_start = g_get_monotonic_time ();

  GError *local = NULL;
  const NpuHw *hw = npu_preset_hw (sc->preset);
  run.engine = npu_engine_new ();
  run.fabric = npu_fabric_new (run.engine);
  if (!opt->validate_only)
    {
      run.staging = npu_outputs_stage (opt->out_dir, &local);
      if (run.staging == NULL)
        goto fail;
      g_autofree char *trace_path = NULL;
      if (opt->trace_path != NULL)
        {
          run.trace_tmp = g_strdup_printf ("%s.partial", opt->trace_path);
          trace_path = g_strdup (run.trace_tmp);
        }
      else
        trace_path = g_build_filename (run.staging, "trace.json", NULL);
      run.trace = npu_trace_writer_open (trace_path, &local);
      if (run.trace == NULL)
        goto fail;
    }
  NpuSink *sink = run.trace != NULL ? npu_trace_writer_sink (run.trace) : NULL;
  run.cluster = npu_cluster_new (hw, sc->n_ranks, run.engine, run.fabric, sink, &local);
  if (run.cluster == NULL)
    {
      g_prefix_error (&local, "cluster.ranks: ");
      goto fail;
    }
  run.inject = json_object ();
  if (!apply_link_injects (&run, &local))
    goto fail;
  run.graph = npu_graph_new (run.engine, run.fabric, sink, run.data_mode, TRUE);
  run.streams = g_hash_table_new (g_direct_hash, g_direct_equal);
  run.ops = g_ptr_array_new_with_free_func ((GDestroyNotify) npu_op_free);
  run.env = (NpuOpEnv) { .cluster = run.cluster, .graph = run.graph, .hw = hw,
                         .data_mode = run.data_mode, .seed = sc->seed,
                         .trace_level = run.level, .scenario_dir = sc->dir,
                         .stream = runner_stream, .find_op = runner_find_op,
                         .runner = &run };
  if (!create_ops (&run, &local) || !check_memory (&run, &local))
    goto fail;
  if (opt->validate_only)
    {
      runner_clear (&run);
      return NPU_EXIT_OK;
    }
  if (run.level == NPU_TRACE_ALL)
    npu_fabric_set_counter_sink (run.fabric, sink, describe_link, &run);
  for (guint i = 0; i < run.ops->len; i++)
    {
      NpuOp *op = g_ptr_array_index (run.ops, i);
      if (!op->klass->prepare (op, &run.env, &local) || !op->klass->plan (op, &run.env, &local))
        goto fail;
    }
  if (isatty (fileno (stderr)))
    npu_engine_set_progress (run.engine, 4096, progress, &run);
  gboolean ok = npu_graph_run (run.graph, &local);
  if (run.progress_shown)
    fputc ('\n', stderr);
  if (!ok || !write_outputs (&run, &local))
    goto fail;
  runner_clear (&run);
  return NPU_EXIT_OK;

fail:
  {
    NpuExit code = npu_exit_for_error (local);
    g_propagate_error (error, local);
    runner_clear (&run);
    return code;
  }
}
