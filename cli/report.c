/* npusim — report.json, the Overlap Analysis tracks and the summary table. */
#include "cli/report.h"
#include "cli/intervals.h"

static const char *const class_keys[] = {
  [NPU_TASK_COMPUTE] = "compute_busy_ps",
  [NPU_TASK_COMM] = "comm_busy_ps",
  [NPU_TASK_MEMORY] = "memory_busy_ps",
  [NPU_TASK_CONTROL] = "control_busy_ps",
};

static double
ps_to_us (NpuTime ps)
{
  return (double) ps / (double) NPU_PS_PER_US;
}

typedef struct {
  NpuTime start, end;
  NpuTime busy[4];
  NpuTime exposed_comm;
  NpuTime core_busy[NPU_N_CORE_KINDS]; /* core-time: summed task lengths */
  guint cores_used[NPU_N_CORE_KINDS];  /* distinct cores with a task */
} RankStats;

static const char *const core_names[NPU_N_CORE_KINDS] = { "aic", "aiv" };

/* Core-time and distinct cores of one kind from the op's NpuCoreInterval list. */
static void
core_stats (GArray *ivs, NpuTime *busy, guint *used)
{
  *busy = 0;
  *used = 0;
  if (ivs == NULL)
    return;
  guint max = 0;
  for (guint i = 0; i < ivs->len; i++)
    max = MAX (max, g_array_index (ivs, NpuCoreInterval, i).core);
  g_autofree gboolean *seen = g_new0 (gboolean, (gsize) max + 1);
  for (guint i = 0; i < ivs->len; i++)
    {
      NpuCoreInterval *iv = &g_array_index (ivs, NpuCoreInterval, i);
      *busy += iv->end - iv->start;
      *used += !seen[iv->core];
      seen[iv->core] = TRUE;
    }
}

/* Set <kind>_busy_core_ps, <kind>_cores_used and <kind>_utilisation (core-time over
 * the die's cores of that kind x the rank's span of the op) on @j. */
static void
set_core_fields (json_t *j, const RankStats *st, const NpuHw *hw)
{
  const guint n_cores[NPU_N_CORE_KINDS] = { hw->aic_count, hw->aiv_count };
  NpuTime span = st->end - st->start;
  for (guint k = 0; k < NPU_N_CORE_KINDS; k++)
    {
      g_autofree char *kb = g_strdup_printf ("%s_busy_core_ps", core_names[k]);
      g_autofree char *ku = g_strdup_printf ("%s_cores_used", core_names[k]);
      g_autofree char *kr = g_strdup_printf ("%s_utilisation", core_names[k]);
      json_object_set_new (j, kb, json_integer ((json_int_t) st->core_busy[k]));
      json_object_set_new (j, ku, json_integer (st->cores_used[k]));
      json_object_set_new (j, kr, json_real (span > 0 && n_cores[k] > 0
                                             ? (double) st->core_busy[k]
                                               / ((double) span * n_cores[k])
                                             : 0.0));
    }
}

static void
rank_stats (NpuOp *op, guint g, RankStats *st)
{
  NpuOpRank *pr = &op->per_rank[g];
  st->start = npu_task_start (pr->begin);
  st->end = npu_task_end (pr->finish);
  GArray *sets[4];
  for (guint c = 0; c < 4; c++)
    {
      sets[c] = npu_intervals_normalize (pr->intervals[c]);
      st->busy[c] = npu_intervals_total (sets[c]);
    }
  g_autoptr (GArray) exposed = npu_intervals_subtract (sets[NPU_TASK_COMM],
                                                       sets[NPU_TASK_COMPUTE]);
  st->exposed_comm = npu_intervals_total (exposed);
  for (guint c = 0; c < 4; c++)
    g_array_unref (sets[c]);
  for (guint k = 0; k < NPU_N_CORE_KINDS; k++)
    core_stats (pr->core_intervals[k], &st->core_busy[k], &st->cores_used[k]);
}

/* The verdict: the class of work that occupies the critical rank longest. Control
 * work only (launches, issue) means the op is latency-bound. */
static const char *
verdict (const RankStats *st)
{
  NpuTime c = st->busy[NPU_TASK_COMPUTE], m = st->busy[NPU_TASK_COMM],
          mem = st->busy[NPU_TASK_MEMORY];
  if (c == 0 && m == 0 && mem == 0)
    return "latency";
  if (m >= c && m >= mem)
    return "communication";
  if (c >= mem)
    return "compute";
  return "memory";
}

static json_t *
op_report (NpuOp *op, const NpuHw *hw)
{
  json_t *j = json_object ();
  json_object_set_new (j, "name", json_string (op->name));
  json_object_set_new (j, "op", json_string (op->klass->name));
  json_t *ranks = json_array ();
  NpuTime start = NPU_TIME_NEVER, end = 0;
  guint critical = 0;
  RankStats crit = { 0 };
  for (guint g = 0; g < op->n_ranks; g++)
    {
      RankStats st;
      rank_stats (op, g, &st);
      start = MIN (start, st.start);
      if (st.end > end || g == 0)
        {
          end = MAX (end, st.end);
          critical = g;
          crit = st;
        }
      json_t *jr = json_object ();
      json_object_set_new (jr, "rank", json_integer (op->ranks[g]));
      json_object_set_new (jr, "start_ps", json_integer ((json_int_t) st.start));
      json_object_set_new (jr, "end_ps", json_integer ((json_int_t) st.end));
      for (guint c = 0; c < 4; c++)
        json_object_set_new (jr, class_keys[c], json_integer ((json_int_t) st.busy[c]));
      json_object_set_new (jr, "exposed_comm_ps", json_integer ((json_int_t) st.exposed_comm));
      set_core_fields (jr, &st, hw);
      json_array_append_new (ranks, jr);
    }
  NpuTime latency = end - start;
  json_object_set_new (j, "start_ps", json_integer ((json_int_t) start));
  json_object_set_new (j, "end_ps", json_integer ((json_int_t) end));
  json_object_set_new (j, "latency_ps", json_integer ((json_int_t) latency));
  json_object_set_new (j, "latency_us", json_real (ps_to_us (latency)));
  json_object_set_new (j, "critical_rank", json_integer (op->ranks[critical]));
  for (guint c = 0; c < 4; c++)
    json_object_set_new (j, class_keys[c], json_integer ((json_int_t) crit.busy[c]));
  json_object_set_new (j, "exposed_comm_ps", json_integer ((json_int_t) crit.exposed_comm));
  set_core_fields (j, &crit, hw);
  NpuTime comm = crit.busy[NPU_TASK_COMM];
  json_object_set_new (j, "comm_hidden_ratio",
                       json_real (comm > 0 ? 1.0 - (double) crit.exposed_comm / (double) comm
                                           : 0.0));
  const char *bound = verdict (&crit);
  json_object_set_new (j, "bound", json_string (bound));
  g_autofree char *why = g_strdup_printf (
    "rank %u ends last: over its %.3f us, communication is busy %.3f us (%.3f us not "
    "hidden by compute), compute %.3f us, local memory moves %.3f us, control %.3f us",
    op->ranks[critical], ps_to_us (crit.end - crit.start), ps_to_us (comm),
    ps_to_us (crit.exposed_comm), ps_to_us (crit.busy[NPU_TASK_COMPUTE]),
    ps_to_us (crit.busy[NPU_TASK_MEMORY]), ps_to_us (crit.busy[NPU_TASK_CONTROL]));
  json_object_set_new (j, "critical_path", json_string (why));
  json_object_set (j, "attrs", op->attrs);
  json_object_set_new (j, "ranks", ranks);
  return j;
}

/* Overlap Analysis, as msprof draws it: per rank, the union of compute, of
 * communication, communication not hidden by compute, and the rest up to the end. */
static void
draw_overlap (const NpuReportInput *in, NpuSink *sink, NpuTime makespan)
{
  guint n = npu_cluster_n_ranks (in->cluster);
  g_autofree GArray **compute = g_new0 (GArray *, n);
  g_autofree GArray **comm = g_new0 (GArray *, n);
  for (guint r = 0; r < n; r++)
    {
      compute[r] = g_array_new (FALSE, FALSE, sizeof (NpuInterval));
      comm[r] = g_array_new (FALSE, FALSE, sizeof (NpuInterval));
    }
  for (guint i = 0; i < in->ops->len; i++)
    {
      NpuOp *op = g_ptr_array_index (in->ops, i);
      for (guint g = 0; g < op->n_ranks; g++)
        {
          GArray **iv = op->per_rank[g].intervals;
          if (iv[NPU_TASK_COMPUTE] != NULL)
            g_array_append_vals (compute[op->ranks[g]], iv[NPU_TASK_COMPUTE]->data,
                                 iv[NPU_TASK_COMPUTE]->len);
          if (iv[NPU_TASK_COMM] != NULL)
            g_array_append_vals (comm[op->ranks[g]], iv[NPU_TASK_COMM]->data,
                                 iv[NPU_TASK_COMM]->len);
        }
    }
  static const char *const names[] = { "Computing", "Communication",
                                        "Communication(Not Overlapped)", "Free" };
  for (guint r = 0; r < n; r++)
    {
      g_autoptr (GArray) c = npu_intervals_normalize (compute[r]);
      g_autoptr (GArray) m = npu_intervals_normalize (comm[r]);
      g_autoptr (GArray) exposed = npu_intervals_subtract (m, c);
      g_autoptr (GArray) busy = npu_intervals_union (c, m);
      g_autoptr (GArray) all = g_array_new (FALSE, FALSE, sizeof (NpuInterval));
      NpuInterval whole = { 0, makespan };
      g_array_append_val (all, whole);
      g_autoptr (GArray) free_ = npu_intervals_subtract (all, busy);
      GArray *sets[4] = { c, m, exposed, free_ };
      for (guint k = 0; k < 4; k++)
        {
          if (sets[k]->len == 0)
            continue;
          guint32 pid, tid;
          npu_cluster_track (in->cluster, r, NPU_TRACK_OVERLAP, k, &pid, &tid);
          for (guint i = 0; i < sets[k]->len; i++)
            {
              NpuInterval iv = g_array_index (sets[k], NpuInterval, i);
              npu_sink_slice (sink, pid, tid, names[k], "overlap", iv.start,
                              iv.end - iv.start, NULL);
            }
        }
      g_array_unref (compute[r]);
      g_array_unref (comm[r]);
    }
}

static json_t *
links_report (NpuCluster *cluster)
{
  NpuFabric *fabric = npu_cluster_fabric (cluster);
  json_t *links = json_array ();
  for (guint l = 0; l < npu_fabric_n_links (fabric); l++)
    {
      double bytes = npu_fabric_link_bytes (fabric, l);
      if (bytes <= 0)
        continue;
      NpuTime busy = npu_fabric_link_busy_ps (fabric, l);
      double bw = npu_fabric_link_bandwidth (fabric, l);
      json_t *j = json_object ();
      json_object_set_new (j, "name", json_string (npu_fabric_link_name (fabric, l)));
      json_object_set_new (j, "kind", json_string (npu_cluster_link_kind (cluster, l)));
      json_object_set_new (j, "bandwidth_Bps", json_real (bw));
      json_object_set_new (j, "bytes", json_real (bytes));
      json_object_set_new (j, "busy_ps", json_integer ((json_int_t) busy));
      json_object_set_new (j, "utilisation_while_busy",
                           json_real (busy > 0 ? bytes / (bw * ps_to_us (busy) * 1e-6) : 0.0));
      json_array_append_new (links, j);
    }
  return links;
}

/* Fused-vs-unfused comparisons. An op whose attributes name "baselineOf" (a fused
 * op, e.g. an AllGatherMatmulV2) ends the unfused baseline of that op; the baseline
 * starts with the op named by its "baselineFrom" attribute (default: itself). The
 * unfused latency runs from the baseline's first op's start to its last op's end. */
static json_t *
find_op_report (json_t *ops, const char *name)
{
  size_t i;
  json_t *o;
  json_array_foreach (ops, i, o)
    if (name != NULL && g_strcmp0 (json_string_value (json_object_get (o, "name")), name) == 0)
      return o;
  return NULL;
}

static json_t *
comparisons (json_t *ops)
{
  json_t *list = json_array ();
  size_t i;
  json_t *last;
  json_array_foreach (ops, i, last)
    {
      json_t *attrs = json_object_get (last, "attrs");
      const char *of = json_string_value (json_object_get (attrs, "baselineOf"));
      const char *from = json_string_value (json_object_get (attrs, "baselineFrom"));
      json_t *fused = find_op_report (ops, of);
      json_t *first = from != NULL ? find_op_report (ops, from) : last;
      if (fused == NULL || first == NULL)
        continue;
      json_int_t f = json_integer_value (json_object_get (fused, "latency_ps"));
      json_int_t u = json_integer_value (json_object_get (last, "end_ps"))
                     - json_integer_value (json_object_get (first, "start_ps"));
      json_t *c = json_object ();
      json_object_set_new (c, "fused", json_string (of));
      json_object_set (c, "baseline_first", json_object_get (first, "name"));
      json_object_set (c, "baseline_last", json_object_get (last, "name"));
      json_object_set_new (c, "fused_latency_ps", json_integer (f));
      json_object_set_new (c, "unfused_latency_ps", json_integer (u));
      json_object_set_new (c, "fused_vs_unfused", json_real (u > 0 ? (double) f / u : 0.0));
      json_object_set_new (c, "speedup", json_real (f > 0 ? (double) u / f : 0.0));
      json_array_append_new (list, c);
    }
  return list;
}

json_t *
npu_report_build (const NpuReportInput *in, NpuSink *sink)
{
  json_t *r = json_object ();
  json_object_set_new (r, "npusim", json_string (PACKAGE_VERSION));
  json_object_set_new (r, "scenario", json_string (in->scenario->name));
  json_object_set_new (r, "preset", json_string (npu_preset_name (in->scenario->preset)));
  json_object_set_new (r, "ranks", json_integer (in->scenario->n_ranks));
  json_object_set_new (r, "mode", json_string (in->data_mode ? "data" : "timing"));
  json_object_set_new (r, "seed", json_integer ((json_int_t) in->scenario->seed));
  json_object_set_new (r, "trace_level", json_string (in->trace_level));
  NpuTime makespan = 0;
  json_t *ops = json_array ();
  for (guint i = 0; i < in->ops->len; i++)
    {
      json_t *jo = op_report (g_ptr_array_index (in->ops, i), npu_cluster_hw (in->cluster));
      makespan = MAX (makespan, (NpuTime) json_integer_value (json_object_get (jo, "end_ps")));
      json_array_append_new (ops, jo);
    }
  json_object_set_new (r, "makespan_ps", json_integer ((json_int_t) makespan));
  json_object_set_new (r, "events", json_integer ((json_int_t) npu_engine_fired (in->engine)));
  json_object_set_new (r, "tasks", json_integer (npu_graph_n_tasks (in->graph)));
  json_object_set_new (r, "ops", ops);
  json_object_set_new (r, "comparisons", comparisons (ops));
  json_object_set_new (r, "links", links_report (in->cluster));
  json_object_set_new (r, "hardware", npu_preset_to_json (in->scenario->preset));
  draw_overlap (in, sink, makespan);
  return r;
}

void
npu_report_print_summary (json_t *report, FILE *out)
{
  fprintf (out, "npusim: scenario '%s' on %s, %d ranks, %s mode: %.3f us simulated, "
           "%" JSON_INTEGER_FORMAT " events\n",
           json_string_value (json_object_get (report, "scenario")),
           json_string_value (json_object_get (report, "preset")),
           (int) json_integer_value (json_object_get (report, "ranks")),
           json_string_value (json_object_get (report, "mode")),
           ps_to_us ((NpuTime) json_integer_value (json_object_get (report, "makespan_ps"))),
           json_integer_value (json_object_get (report, "events")));
  fprintf (out, "%-16s %-24s %5s %12s %12s %12s %12s  %s\n", "op", "kind", "ranks",
           "latency(us)", "compute(us)", "comm(us)", "exposed(us)", "bound");
  size_t i;
  json_t *op;
  json_array_foreach (json_object_get (report, "ops"), i, op)
    {
#define US(key) ps_to_us ((NpuTime) json_integer_value (json_object_get (op, key)))
      fprintf (out, "%-16s %-24s %5zu %12.3f %12.3f %12.3f %12.3f  %s\n",
               json_string_value (json_object_get (op, "name")),
               json_string_value (json_object_get (op, "op")),
               json_array_size (json_object_get (op, "ranks")), US ("latency_ps"),
               US ("compute_busy_ps"), US ("comm_busy_ps"), US ("exposed_comm_ps"),
               json_string_value (json_object_get (op, "bound")));
#undef US
    }
  /* Ops that used AIC or AIV cores on some rank: the critical rank's core-time, with
   * the share of communication hidden by compute. */
  json_array_foreach (json_object_get (report, "ops"), i, op)
    {
      size_t j;
      json_t *jr;
      gboolean used = FALSE;
      json_array_foreach (json_object_get (op, "ranks"), j, jr)
        used = used || json_integer_value (json_object_get (jr, "aic_busy_core_ps")) > 0
               || json_integer_value (json_object_get (jr, "aiv_busy_core_ps")) > 0;
      if (!used)
        continue;
      fprintf (out, "%s (rank %d): AIC busy %.3f core-us (%.1f%% of its AIC cores), "
               "AIV busy %.3f core-us (%.1f%%)",
               json_string_value (json_object_get (op, "name")),
               (int) json_integer_value (json_object_get (op, "critical_rank")),
               ps_to_us ((NpuTime) json_integer_value (json_object_get (op, "aic_busy_core_ps"))),
               100 * json_real_value (json_object_get (op, "aic_utilisation")),
               ps_to_us ((NpuTime) json_integer_value (json_object_get (op, "aiv_busy_core_ps"))),
               100 * json_real_value (json_object_get (op, "aiv_utilisation")));
      if (json_integer_value (json_object_get (op, "comm_busy_ps")) > 0)
        fprintf (out, ", communication hidden by compute %.1f%%",
                 100 * json_real_value (json_object_get (op, "comm_hidden_ratio")));
      fputc ('\n', out);
    }
  json_array_foreach (json_object_get (report, "comparisons"), i, op)
    fprintf (out, "%s vs unfused %s .. %s: %.3f us fused, %.3f us unfused, speedup %.3fx\n",
             json_string_value (json_object_get (op, "fused")),
             json_string_value (json_object_get (op, "baseline_first")),
             json_string_value (json_object_get (op, "baseline_last")),
             ps_to_us ((NpuTime) json_integer_value (json_object_get (op, "fused_latency_ps"))),
             ps_to_us ((NpuTime) json_integer_value (json_object_get (op, "unfused_latency_ps"))),
             json_real_value (json_object_get (op, "speedup")));
  /* The busiest link of the run (per-link bytes and busy time are in report.json). */
  json_t *busiest = NULL;
  json_array_foreach (json_object_get (report, "links"), i, op)
    if (busiest == NULL || json_integer_value (json_object_get (op, "busy_ps"))
                           > json_integer_value (json_object_get (busiest, "busy_ps")))
      busiest = op;
  if (busiest != NULL)
    fprintf (out, "links: %zu used, busiest %s: busy %.3f us, %.0f bytes\n",
             json_array_size (json_object_get (report, "links")),
             json_string_value (json_object_get (busiest, "name")),
             ps_to_us ((NpuTime) json_integer_value (json_object_get (busiest, "busy_ps"))),
             json_real_value (json_object_get (busiest, "bytes")));
}
