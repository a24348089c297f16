/* npusim — scenario loading and validation of its top level. Op-specific keys are
 * validated by each operator's create(). */
#include "cli/scenario.h"
#include <string.h>
#include <math.h>

G_DEFINE_QUARK (npu-scenario-error-quark, npu_scenario_error)

static const char *const top_keys[] = {
  "name", "description", "seed", "mode", "trace_level", "cluster", "groups", "ops", "inject",
  NULL
};

static gboolean
fail (GError **error, NpuScenarioError code, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

static gboolean
fail (GError **error, NpuScenarioError code, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error_literal (error, NPU_SCENARIO_ERROR, code, msg);
  return FALSE;
}

static void
group_free (gpointer p)
{
  NpuGroup *g = p;
  g_free (g->name);
  g_array_unref (g->ranks);
  g_free (g);
}

void
npu_scenario_free (NpuScenario *s)
{
  if (s == NULL)
    return;
  g_free (s->name);
  g_free (s->description);
  g_free (s->path);
  g_free (s->dir);
  g_free (s->trace_level);
  if (s->preset != NULL)
    npu_preset_free (s->preset);
  if (s->groups != NULL)
    g_ptr_array_unref (s->groups);
  if (s->stragglers != NULL)
    g_array_unref (s->stragglers);
  if (s->link_injects != NULL)
    {
      for (guint i = 0; i < s->link_injects->len; i++)
        g_free (g_array_index (s->link_injects, NpuLinkInject, i).match);
      g_array_unref (s->link_injects);
    }
  if (s->root != NULL)
    json_decref (s->root);
  g_free (s);
}

const NpuGroup *
npu_scenario_group (const NpuScenario *s, const char *name)
{
  for (guint i = 0; i < s->groups->len; i++)
    {
      NpuGroup *g = g_ptr_array_index (s->groups, i);
      if (g_str_equal (g->name, name))
        return g;
    }
  return NULL;
}

/* ---- --set patches on the scenario JSON: "ops[0].count=1024", "seed=7" ---- */

static gboolean
is_scenario_key (const char *key)
{
  gsize n = strcspn (key, ".[");
  g_autofree char *head = g_strndup (key, n);
  return g_strv_contains (top_keys, head);
}

static gboolean
apply_patch (json_t *root, const char *key, const char *text, GError **error)
{
  json_error_t jerr;
  json_t *value = json_loads (text, JSON_DECODE_ANY, &jerr);
  if (value == NULL)
    value = json_string (text);
  json_t *node = root;
  const char *p = key;
  while (TRUE)
    {
      if (*p == '[')
        {
          char *end;
          guint64 idx = g_ascii_strtoull (p + 1, &end, 10);
          if (end == p + 1 || *end != ']' || !json_is_array (node)
              || idx >= json_array_size (node))
            {
              json_decref (value);
              return fail (error, NPU_SCENARIO_ERROR_KEY,
                           "--set %s: no array element at '%.*s'", key, (int) (end - key + 1), key);
            }
          p = end + 1;
          if (*p == '\0')
            return json_array_set_new (node, idx, value) == 0;
          node = json_array_get (node, idx);
        }
      else
        {
          if (*p == '.')
            p++;
          gsize n = strcspn (p, ".[");
          g_autofree char *name = g_strndup (p, n);
          if (n == 0 || !json_is_object (node))
            {
              json_decref (value);
              return fail (error, NPU_SCENARIO_ERROR_KEY, "--set %s: not an object path", key);
            }
          p += n;
          if (*p == '\0')
            return json_object_set_new (node, name, value) == 0;
          json_t *child = json_object_get (node, name);
          if (child == NULL)
            {
              child = *p == '[' ? json_array () : json_object ();
              json_object_set_new (node, name, child);
            }
          node = child;
        }
    }
}

/* ---- top level ---- */

static gboolean
get_string (json_t *root, const char *key, const char *dflt, char **out, GError **error)
{
  json_t *v = json_object_get (root, key);
  if (v == NULL)
    {
      *out = g_strdup (dflt);
      return TRUE;
    }
  if (!json_is_string (v))
    return fail (error, NPU_SCENARIO_ERROR_VALUE, "%s: expected a string", key);
  *out = g_strdup (json_string_value (v));
  return TRUE;
}

static gboolean
parse_cluster (NpuScenario *s, json_t *cluster, GPtrArray *hw_sets, GError **error)
{
  static const char *const keys[] = { "preset", "ranks", "set", NULL };
  if (!json_is_object (cluster))
    return fail (error, NPU_SCENARIO_ERROR_VALUE,
                 "cluster: expected an object like {\"preset\": \"a2\", \"ranks\": 8}");
  const char *key;
  json_t *v;
  json_object_foreach (cluster, key, v)
    if (!g_strv_contains (keys, key))
      return fail (error, NPU_SCENARIO_ERROR_KEY,
                   "cluster.%s: unknown key (known: preset, ranks, set)", key);
  json_t *preset = json_object_get (cluster, "preset");
  if (!json_is_string (preset))
    return fail (error, NPU_SCENARIO_ERROR_VALUE,
                 "cluster.preset: expected a preset name (see `npusim presets`)");
  json_t *ranks = json_object_get (cluster, "ranks");
  if (!json_is_integer (ranks) || json_integer_value (ranks) <= 0
      || json_integer_value (ranks) > 100000)
    return fail (error, NPU_SCENARIO_ERROR_VALUE,
                 "cluster.ranks: expected a positive integer (dies in the run)");
  s->n_ranks = (guint) json_integer_value (ranks);

  GError *local = NULL;
  s->preset = npu_preset_load (json_string_value (preset), &local);
  if (s->preset == NULL)
    {
      g_set_error (error, NPU_SCENARIO_ERROR, NPU_SCENARIO_ERROR_VALUE, "cluster.preset: %s",
                   local->message);
      g_error_free (local);
      return FALSE;
    }
  json_t *set = json_object_get (cluster, "set");
  if (set != NULL && !json_is_object (set))
    return fail (error, NPU_SCENARIO_ERROR_VALUE, "cluster.set: expected an object");
  json_object_foreach (set, key, v)
    {
      g_autofree char *text = NULL;
      if (json_is_string (v))
        text = g_strdup (json_string_value (v));
      else if (json_is_number (v) || json_is_boolean (v))
        text = json_dumps (v, JSON_ENCODE_ANY);
      else
        return fail (error, NPU_SCENARIO_ERROR_VALUE,
                     "cluster.set.%s: expected a number or a string", key);
      if (!npu_preset_set (s->preset, key, text, "scenario cluster.set", &local))
        {
          g_set_error (error, NPU_SCENARIO_ERROR, NPU_SCENARIO_ERROR_VALUE,
                       "cluster.set.%s: %s", key, local->message);
          g_error_free (local);
          return FALSE;
        }
    }
  for (guint i = 0; i < hw_sets->len; i += 2)
    if (!npu_preset_set (s->preset, g_ptr_array_index (hw_sets, i),
                         g_ptr_array_index (hw_sets, i + 1), "--set", &local))
      {
        g_set_error (error, NPU_SCENARIO_ERROR, NPU_SCENARIO_ERROR_KEY, "--set %s: %s",
                     (char *) g_ptr_array_index (hw_sets, i), local->message);
        g_error_free (local);
        return FALSE;
      }
  return TRUE;
}

static gboolean
parse_groups (NpuScenario *s, json_t *groups, GError **error)
{
  s->groups = g_ptr_array_new_with_free_func (group_free);
  if (groups != NULL && !json_is_object (groups))
    return fail (error, NPU_SCENARIO_ERROR_VALUE,
                 "groups: expected an object {name: \"all\" | [ranks]}");
  gboolean have_world = groups != NULL && json_object_get (groups, "world") != NULL;
  if (!have_world)
    {
      NpuGroup *g = g_new0 (NpuGroup, 1);
      g->name = g_strdup ("world");
      g->ranks = g_array_new (FALSE, FALSE, sizeof (guint));
      for (guint r = 0; r < s->n_ranks; r++)
        g_array_append_val (g->ranks, r);
      g_ptr_array_add (s->groups, g);
    }
  const char *name;
  json_t *v;
  json_object_foreach (groups, name, v)
    {
      NpuGroup *g = g_new0 (NpuGroup, 1);
      g->name = g_strdup (name);
      g->ranks = g_array_new (FALSE, FALSE, sizeof (guint));
      g_ptr_array_add (s->groups, g);
      if (json_is_string (v) && g_str_equal (json_string_value (v), "all"))
        {
          for (guint r = 0; r < s->n_ranks; r++)
            g_array_append_val (g->ranks, r);
          continue;
        }
      if (!json_is_array (v) || json_array_size (v) == 0)
        return fail (error, NPU_SCENARIO_ERROR_VALUE,
                     "groups.%s: expected \"all\" or a non-empty list of ranks", name);
      if (json_array_size (v) > s->n_ranks)
        return fail (error, NPU_SCENARIO_ERROR_VALUE,
                     "groups.%s: %zu ranks, more than the cluster's %u", name,
                     json_array_size (v), s->n_ranks);
      g_autofree gboolean *seen = g_new0 (gboolean, s->n_ranks);
      gsize i;
      json_t *r;
      json_array_foreach (v, i, r)
        {
          if (!json_is_integer (r) || json_integer_value (r) < 0
              || json_integer_value (r) >= (json_int_t) s->n_ranks)
            return fail (error, NPU_SCENARIO_ERROR_VALUE,
                         "groups.%s[%zu]: expected a rank in 0..%u", name, i, s->n_ranks - 1);
          guint rank = (guint) json_integer_value (r);
          if (seen[rank])
            return fail (error, NPU_SCENARIO_ERROR_VALUE,
                         "groups.%s[%zu]: rank %u listed twice", name, i, rank);
          seen[rank] = TRUE;
          g_array_append_val (g->ranks, rank);
        }
    }
  return TRUE;
}

/* "inject": {"stragglers": [{"rank": r, "delay_us": d}],
 *            "links": [{"match": "glob", "bandwidth_factor": f}]} */
static gboolean
parse_inject (NpuScenario *s, json_t *inject, GError **error)
{
  s->stragglers = g_array_new (FALSE, FALSE, sizeof (NpuStraggler));
  s->link_injects = g_array_new (FALSE, FALSE, sizeof (NpuLinkInject));
  if (inject == NULL)
    return TRUE;
  if (!json_is_object (inject))
    return fail (error, NPU_SCENARIO_ERROR_VALUE,
                 "inject: expected an object {\"stragglers\": [...], \"links\": [...]}");
  const char *key;
  json_t *v;
  json_object_foreach (inject, key, v)
    if (!g_str_equal (key, "stragglers") && !g_str_equal (key, "links"))
      return fail (error, NPU_SCENARIO_ERROR_KEY,
                   "inject.%s: unknown key (known: stragglers, links)", key);
  json_t *list = json_object_get (inject, "stragglers");
  if (list != NULL && !json_is_array (list))
    return fail (error, NPU_SCENARIO_ERROR_VALUE,
                 "inject.stragglers: expected a list of {\"rank\": r, \"delay_us\": d}");
  gsize i;
  json_t *item;
  json_array_foreach (list, i, item)
    {
      if (!json_is_object (item))
        return fail (error, NPU_SCENARIO_ERROR_VALUE,
                     "inject.stragglers[%zu]: expected {\"rank\": r, \"delay_us\": d}", i);
      json_object_foreach (item, key, v)
        if (!g_str_equal (key, "rank") && !g_str_equal (key, "delay_us"))
          return fail (error, NPU_SCENARIO_ERROR_KEY,
                       "inject.stragglers[%zu].%s: unknown key (known: rank, delay_us)", i, key);
      json_t *rank = json_object_get (item, "rank"), *delay = json_object_get (item, "delay_us");
      if (!json_is_integer (rank) || json_integer_value (rank) < 0
          || json_integer_value (rank) >= (json_int_t) s->n_ranks)
        return fail (error, NPU_SCENARIO_ERROR_VALUE,
                     "inject.stragglers[%zu].rank: expected a rank in 0..%u", i, s->n_ranks - 1);
      if (!json_is_number (delay) || !(json_number_value (delay) >= 0)
          || json_number_value (delay) > 1e9)
        return fail (error, NPU_SCENARIO_ERROR_VALUE,
                     "inject.stragglers[%zu].delay_us: expected a number of microseconds >= 0",
                     i);
      NpuStraggler st = { (guint) json_integer_value (rank),
                          (NpuTime) llround (json_number_value (delay) * NPU_PS_PER_US) };
      for (guint k = 0; k < s->stragglers->len; k++)
        if (g_array_index (s->stragglers, NpuStraggler, k).rank == st.rank)
          return fail (error, NPU_SCENARIO_ERROR_VALUE,
                       "inject.stragglers[%zu].rank: rank %u is already a straggler", i,
                       st.rank);
      g_array_append_val (s->stragglers, st);
    }
  list = json_object_get (inject, "links");
  if (list != NULL && !json_is_array (list))
    return fail (error, NPU_SCENARIO_ERROR_VALUE,
                 "inject.links: expected a list of {\"match\": \"r0.ub_tx\", "
                 "\"bandwidth_factor\": f}");
  json_array_foreach (list, i, item)
    {
      if (!json_is_object (item))
        return fail (error, NPU_SCENARIO_ERROR_VALUE,
                     "inject.links[%zu]: expected {\"match\": glob, \"bandwidth_factor\": f}",
                     i);
      json_object_foreach (item, key, v)
        if (!g_str_equal (key, "match") && !g_str_equal (key, "bandwidth_factor"))
          return fail (error, NPU_SCENARIO_ERROR_KEY,
                       "inject.links[%zu].%s: unknown key (known: match, bandwidth_factor)", i,
                       key);
      json_t *match = json_object_get (item, "match"), *f = json_object_get (item, "bandwidth_factor");
      if (!json_is_string (match) || json_string_length (match) == 0)
        return fail (error, NPU_SCENARIO_ERROR_VALUE,
                     "inject.links[%zu].match: expected a link name or glob (e.g. \"r0.ub_tx\", "
                     "\"r*.sio->*\")", i);
      if (!json_is_number (f) || !(json_number_value (f) > 0) || json_number_value (f) > 1e6)
        return fail (error, NPU_SCENARIO_ERROR_VALUE,
                     "inject.links[%zu].bandwidth_factor: expected a number > 0", i);
      NpuLinkInject li = { g_strdup (json_string_value (match)), json_number_value (f) };
      g_array_append_val (s->link_injects, li);
    }
  return TRUE;
}

NpuScenario *
npu_scenario_load (const char *path, const char *const *sets, GError **error)
{
  g_autoptr (NpuScenario) s = g_new0 (NpuScenario, 1);
  json_error_t jerr;
  if (path == NULL)
    {
      s->root = json_loads (npu_scenario_default_json (), 0, &jerr);
      g_assert (s->root != NULL);
      s->path = g_strdup ("(built-in default)");
      s->dir = g_get_current_dir ();
    }
  else
    {
      if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
        {
          fail (error, NPU_SCENARIO_ERROR_FILE, "%s: no such scenario file", path);
          return NULL;
        }
      s->root = json_load_file (path, JSON_REJECT_DUPLICATES, &jerr);
      if (s->root == NULL)
        {
          fail (error, NPU_SCENARIO_ERROR_JSON, "%s:%d:%d: invalid JSON: %s", path, jerr.line,
                jerr.column, jerr.text);
          return NULL;
        }
      s->path = g_strdup (path);
      s->dir = g_path_get_dirname (path);
    }
  if (!json_is_object (s->root))
    {
      fail (error, NPU_SCENARIO_ERROR_VALUE, "the scenario must be a JSON object");
      return NULL;
    }

  g_autoptr (GPtrArray) hw_sets = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; sets != NULL && sets[i] != NULL; i++)
    {
      const char *eq = strchr (sets[i], '=');
      if (eq == NULL || eq == sets[i])
        {
          fail (error, NPU_SCENARIO_ERROR_KEY, "--set %s: expected key=value", sets[i]);
          return NULL;
        }
      g_autofree char *key = g_strndup (sets[i], eq - sets[i]);
      if (is_scenario_key (key))
        {
          if (!apply_patch (s->root, key, eq + 1, error))
            return NULL;
        }
      else
        {
          g_ptr_array_add (hw_sets, g_steal_pointer (&key));
          g_ptr_array_add (hw_sets, g_strdup (eq + 1));
        }
    }

  const char *key;
  json_t *v;
  json_object_foreach (s->root, key, v)
    if (!g_strv_contains (top_keys, key))
      {
        g_autofree char *list = g_strjoinv (", ", (char **) top_keys);
        fail (error, NPU_SCENARIO_ERROR_KEY, "%s: unknown key (known: %s)", key, list);
        return NULL;
      }
  g_autofree char *mode = NULL;
  if (!get_string (s->root, "name", "unnamed", &s->name, error)
      || !get_string (s->root, "description", "", &s->description, error)
      || !get_string (s->root, "mode", "data", &mode, error)
      || !get_string (s->root, "trace_level", "task", &s->trace_level, error))
    return NULL;
  if (!g_str_equal (mode, "data") && !g_str_equal (mode, "timing"))
    {
      fail (error, NPU_SCENARIO_ERROR_VALUE, "mode: expected \"data\" or \"timing\"");
      return NULL;
    }
  s->timing_only = g_str_equal (mode, "timing");
  if (!g_strv_contains ((const char *const[]) { "op", "task", "all", NULL }, s->trace_level))
    {
      fail (error, NPU_SCENARIO_ERROR_VALUE, "trace_level: expected \"op\", \"task\" or \"all\"");
      return NULL;
    }
  json_t *seed = json_object_get (s->root, "seed");
  if (seed != NULL && (!json_is_integer (seed) || json_integer_value (seed) < 0))
    {
      fail (error, NPU_SCENARIO_ERROR_VALUE, "seed: expected a non-negative integer");
      return NULL;
    }
  s->seed = seed != NULL ? (guint64) json_integer_value (seed) : 0;

  json_t *cluster = json_object_get (s->root, "cluster");
  if (cluster == NULL)
    {
      fail (error, NPU_SCENARIO_ERROR_VALUE, "cluster: missing (required)");
      return NULL;
    }
  if (!parse_cluster (s, cluster, hw_sets, error)
      || !parse_groups (s, json_object_get (s->root, "groups"), error)
      || !parse_inject (s, json_object_get (s->root, "inject"), error))
    return NULL;
  s->ops = json_object_get (s->root, "ops");
  if (!json_is_array (s->ops) || json_array_size (s->ops) == 0)
    {
      fail (error, NPU_SCENARIO_ERROR_VALUE, "ops: expected a non-empty list of op invocations");
      return NULL;
    }
  return g_steal_pointer (&s);
}
