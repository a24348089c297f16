/* npusim — presets: loading models/presets/<name>.json, overrides, describing.
 *
 * File format (every NpuHw field exactly once, each with a non-empty source):
 *   {"name": "a2", "description": "...",
 *    "fields": {"die.aic_count": {"value": 24, "source": "..."}, ...}}
 * Values are JSON integers for counts and byte sizes, numbers for rates and clocks,
 * numbers in µs for _us keys, and "a2"/"a3" for "topology.kind". */
#include <string.h>
#include <jansson.h>
#include "models/hw-private.h"

/* jansson has no GLib cleanup function of its own. */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (json_t, json_decref)

struct _NpuPreset {
  char *name;
  char *description;
  char *path;      /* the file it was loaded from */
  NpuHw hw;
  char **sources;  /* one per table row */
};

G_DEFINE_QUARK (npu-preset-error-quark, npu_preset_error)

/* ---- where presets live ------------------------------------------------- */

const char *const *
npu_preset_dirs (void)
{
  static gsize once = 0;
  static const char **dirs = NULL;
  if (g_once_init_enter (&once))
    {
      GPtrArray *a = g_ptr_array_new ();
      const char *env = g_getenv ("NPUSIM_PRESET_DIR");
      if (env != NULL && env[0] != '\0')
        g_ptr_array_add (a, g_strdup (env));
      g_ptr_array_add (a, g_strdup (NPU_SRCDIR "/models/presets"));
      g_ptr_array_add (a, g_strdup (NPU_PKGDATADIR "/presets"));
      g_ptr_array_add (a, NULL);
      dirs = (const char **) g_ptr_array_free (a, FALSE);
      g_once_init_leave (&once, 1);
    }
  return dirs;
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

GPtrArray *
npu_preset_list (GError **error)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  for (const char *const *d = npu_preset_dirs (); *d != NULL; d++)
    {
      g_autoptr (GDir) dir = g_dir_open (*d, 0, NULL);
      if (dir == NULL)
        continue; /* a missing folder (e.g. not installed) is normal */
      const char *entry;
      while ((entry = g_dir_read_name (dir)) != NULL)
        {
          if (!g_str_has_suffix (entry, ".json") || entry[0] == '.')
            continue;
          char *name = g_strndup (entry, strlen (entry) - strlen (".json"));
          gboolean seen = FALSE;
          for (guint i = 0; i < names->len && !seen; i++)
            seen = strcmp (names->pdata[i], name) == 0;
          if (seen)
            g_free (name);
          else
            g_ptr_array_add (names, name);
        }
    }
  /* g_dir_read_name order is the file system's: sort for a stable answer. */
  g_ptr_array_sort (names, compare_names);
  (void) error;
  return g_steal_pointer (&names);
}

/* ---- loading ------------------------------------------------------------- */

void
npu_preset_free (NpuPreset *preset)
{
  if (preset == NULL)
    return;
  g_free (preset->name);
  g_free (preset->description);
  g_free (preset->path);
  if (preset->sources != NULL)
    for (guint i = 0; i < npu_hw_n_fields (); i++)
      g_free (preset->sources[i]);
  g_free (preset->sources);
  g_free (preset);
}

static gboolean
valid_name (const char *name)
{
  if (name[0] == '\0' || name[0] == '.')
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '_' && *p != '-' && *p != '.')
      return FALSE;
  return TRUE;
}

static gboolean
load_field (NpuPreset *preset, const NpuHwField *field, guint index, json_t *entry,
            GError **error)
{
  const char *path = preset->path, *key = field->key;
  if (!json_is_object (entry))
    {
      g_set_error (error, NPU_PRESET_ERROR, NPU_PRESET_ERROR_FILE,
                   "%s: field '%s' must be an object {\"value\": ..., \"source\": \"...\"}",
                   path, key);
      return FALSE;
    }
  const char *member;
  json_t *v;
  json_object_foreach (entry, member, v)
    if (strcmp (member, "value") != 0 && strcmp (member, "source") != 0)
      {
        g_set_error (error, NPU_PRESET_ERROR, NPU_PRESET_ERROR_FILE,
                     "%s: field '%s': unknown member '%s'", path, key, member);
        return FALSE;
      }
  json_t *value = json_object_get (entry, "value");
  json_t *source = json_object_get (entry, "source");
  if (value == NULL)
    {
      g_set_error (error, NPU_PRESET_ERROR, NPU_PRESET_ERROR_FILE,
                   "%s: field '%s' has no value", path, key);
      return FALSE;
    }
  if (source == NULL || !json_is_string (source))
    {
      g_set_error (error, NPU_PRESET_ERROR, NPU_PRESET_ERROR_FILE,
                   "%s: field '%s' has no source (a string citing where the number comes from)",
                   path, key);
      return FALSE;
    }
  g_autofree char *text = g_strstrip (g_strdup (json_string_value (source)));
  if (text[0] == '\0')
    {
      g_set_error (error, NPU_PRESET_ERROR, NPU_PRESET_ERROR_FILE,
                   "%s: field '%s' has an empty source", path, key);
      return FALSE;
    }
  g_autoptr (GError) local = NULL;
  if (!npu_hw_field_set_json (field, &preset->hw, value, &local))
    {
      g_set_error (error, NPU_PRESET_ERROR, NPU_PRESET_ERROR_VALUE, "%s: field '%s': %s",
                   path, key, local->message);
      return FALSE;
    }
  preset->sources[index] = g_steal_pointer (&text);
  return TRUE;
}

static NpuPreset *
load_file (const char *path, const char *name, GError **error)
{
  json_error_t jerr;
  /* JSON_REJECT_DUPLICATES: a key given twice is an error, not "last one wins". */
  g_autoptr (json_t) root = json_load_file (path, JSON_REJECT_DUPLICATES, &jerr);
  if (root == NULL)
    {
      g_set_error (error, NPU_PRESET_ERROR, NPU_PRESET_ERROR_FILE, "%s:%d:%d: %s", path,
                   jerr.line, jerr.column, jerr.text);
      return NULL;
    }
  if (!json_is_object (root))
    {
      g_set_error (error, NPU_PRESET_ERROR, NPU_PRESET_ERROR_FILE,
                   "%s: the top level must be an object", path);
      return NULL;
    }
  const char *member;
  json_t *v;
  json_object_foreach (root, member, v)
    if (strcmp (member, "name") != 0 && strcmp (member, "description") != 0
        && strcmp (member, "fields") != 0)
      {
        g_set_error (error, NPU_PRESET_ERROR, NPU_PRESET_ERROR_FILE,
                     "%s: unknown top-level key '%s'", path, member);
        return NULL;
      }
  json_t *jname = json_object_get (root, "name");
  json_t *jdesc = json_object_get (root, "description");
  json_t *jfields = json_object_get (root, "fields");
  if (!json_is_string (jname) || strcmp (json_string_value (jname), name) != 0)
    {
      g_set_error (error, NPU_PRESET_ERROR, NPU_PRESET_ERROR_FILE,
                   "%s: \"name\" must be the string \"%s\" (the file's name)", path, name);
      return NULL;
    }
  if (!json_is_string (jdesc))
    {
      g_set_error (error, NPU_PRESET_ERROR, NPU_PRESET_ERROR_FILE,
                   "%s: \"description\" must be a string", path);
      return NULL;
    }
  if (!json_is_object (jfields))
    {
      g_set_error (error, NPU_PRESET_ERROR, NPU_PRESET_ERROR_FILE,
                   "%s: \"fields\" must be an object", path);
      return NULL;
    }

  /* Unknown keys first (in file order), then every table row in table order. */
  json_object_foreach (jfields, member, v)
    if (npu_hw_field_index (member) < 0)
      {
        g_set_error (error, NPU_PRESET_ERROR, NPU_PRESET_ERROR_KEY,
                     "%s: unknown field key '%s'", path, member);
        return NULL;
      }

  g_autoptr (NpuPreset) preset = g_new0 (NpuPreset, 1);
  preset->name = g_strdup (name);
  preset->description = g_strdup (json_string_value (jdesc));
  preset->path = g_strdup (path);
  preset->sources = g_new0 (char *, npu_hw_n_fields ());
  for (guint i = 0; i < npu_hw_n_fields (); i++)
    {
      const NpuHwField *field = npu_hw_field (i);
      json_t *entry = json_object_get (jfields, field->key);
      if (entry == NULL)
        {
          g_set_error (error, NPU_PRESET_ERROR, NPU_PRESET_ERROR_FILE,
                       "%s: field '%s' is missing (every field needs a value and a source)",
                       path, field->key);
          return NULL;
        }
      if (!load_field (preset, field, i, entry, error))
        return NULL;
    }
  return g_steal_pointer (&preset);
}

NpuPreset *
npu_preset_load (const char *name, GError **error)
{
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!valid_name (name))
    {
      g_set_error (error, NPU_PRESET_ERROR, NPU_PRESET_ERROR_UNKNOWN,
                   "'%s' is not a valid preset name", name);
      return NULL;
    }
  g_autofree char *file = g_strconcat (name, ".json", NULL);
  for (const char *const *d = npu_preset_dirs (); *d != NULL; d++)
    {
      g_autofree char *path = g_build_filename (*d, file, NULL);
      if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
        return load_file (path, name, error);
    }
  g_autofree char *searched = g_strjoinv (", ", (char **) npu_preset_dirs ());
  g_set_error (error, NPU_PRESET_ERROR, NPU_PRESET_ERROR_UNKNOWN,
               "no preset '%s' (looked for %s in: %s)", name, file, searched);
  return NULL;
}

/* ---- overrides and queries ----------------------------------------------- */

gboolean
npu_preset_set (NpuPreset *preset, const char *key, const char *value, const char *origin,
                GError **error)
{
  g_return_val_if_fail (preset != NULL && key != NULL && value != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  gint index = npu_hw_field_index (key);
  if (index < 0)
    {
      g_set_error (error, NPU_PRESET_ERROR, NPU_PRESET_ERROR_KEY, "unknown field key '%s'", key);
      return FALSE;
    }
  g_autoptr (GError) local = NULL;
  if (!npu_hw_field_set_text (npu_hw_field ((guint) index), &preset->hw, value, &local))
    {
      g_set_error (error, NPU_PRESET_ERROR, NPU_PRESET_ERROR_VALUE, "%s: %s", key,
                   local->message);
      return FALSE;
    }
  g_free (preset->sources[index]);
  preset->sources[index] = g_strdup (origin != NULL && origin[0] != '\0' ? origin : "override");
  return TRUE;
}

const NpuHw *
npu_preset_hw (const NpuPreset *preset)
{
  g_return_val_if_fail (preset != NULL, NULL);
  return &preset->hw;
}

const char *
npu_preset_name (const NpuPreset *preset)
{
  g_return_val_if_fail (preset != NULL, NULL);
  return preset->name;
}

const char *
npu_preset_description (const NpuPreset *preset)
{
  g_return_val_if_fail (preset != NULL, NULL);
  return preset->description;
}

const char *
npu_preset_source (const NpuPreset *preset, const char *key)
{
  g_return_val_if_fail (preset != NULL && key != NULL, NULL);
  gint index = npu_hw_field_index (key);
  return index < 0 ? NULL : preset->sources[index];
}

char *
npu_preset_value_text (const NpuPreset *preset, const char *key)
{
  g_return_val_if_fail (preset != NULL && key != NULL, NULL);
  gint index = npu_hw_field_index (key);
  return index < 0 ? NULL : npu_hw_field_format (npu_hw_field ((guint) index), &preset->hw);
}

char *
npu_preset_describe (const NpuPreset *preset)
{
  g_return_val_if_fail (preset != NULL, NULL);
  GString *out = g_string_new (NULL);
  for (guint i = 0; i < npu_hw_n_fields (); i++)
    {
      const NpuHwField *field = npu_hw_field (i);
      g_autofree char *value = npu_hw_field_format (field, &preset->hw);
      g_string_append_printf (out, "%s = %s%s%s  # %s\n", field->key, value,
                              field->unit[0] != '\0' ? " " : "", field->unit,
                              preset->sources[i]);
    }
  return g_string_free (out, FALSE);
}

json_t *
npu_preset_to_json (const NpuPreset *preset)
{
  g_return_val_if_fail (preset != NULL, NULL);
  json_t *obj = json_object ();
  for (guint i = 0; i < npu_hw_n_fields (); i++)
    {
      const NpuHwField *field = npu_hw_field (i);
      json_object_set_new (obj, field->key, npu_hw_field_to_json (field, &preset->hw));
    }
  return obj;
}
