/* npusim — typed access to an op's scenario JSON, with key-path errors. */
#include "ops/op.h"

static gboolean
fail (GError **error, const char *path, const char *key, const char *what)
{
  g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO, "%s.%s: %s", path, key, what);
  return FALSE;
}

gboolean
npu_spec_check_keys (const json_t *obj, const char *const *allowed, const char *path,
                     GError **error)
{
  const char *key;
  json_t *value;
  json_object_foreach ((json_t *) obj, key, value)
    if (!g_strv_contains (allowed, key))
      {
        g_autofree char *list = g_strjoinv (", ", (char **) allowed);
        g_autofree char *msg = g_strdup_printf ("unknown key (known: %s)", list);
        return fail (error, path, key, msg);
      }
  return TRUE;
}

gboolean
npu_spec_get_uint (const json_t *obj, const char *key, const char *path, gboolean required,
                   guint64 dflt, guint64 min, guint64 max, guint64 *out, GError **error)
{
  json_t *v = json_object_get (obj, key);
  if (v == NULL)
    {
      if (required)
        return fail (error, path, key, "missing (required)");
      *out = dflt;
      return TRUE;
    }
  if (!json_is_integer (v))
    return fail (error, path, key, "expected an integer");
  json_int_t x = json_integer_value (v);
  if (x < 0 || (guint64) x < min || (guint64) x > max)
    {
      g_autofree char *msg = g_strdup_printf ("%" JSON_INTEGER_FORMAT " is out of range [%"
                                              G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT "]",
                                              x, min, max);
      return fail (error, path, key, msg);
    }
  *out = (guint64) x;
  return TRUE;
}

gboolean
npu_spec_get_string (const json_t *obj, const char *key, const char *path, gboolean required,
                     const char *dflt, const char **out, GError **error)
{
  json_t *v = json_object_get (obj, key);
  if (v == NULL)
    {
      if (required)
        return fail (error, path, key, "missing (required)");
      *out = dflt;
      return TRUE;
    }
  if (!json_is_string (v))
    return fail (error, path, key, "expected a string");
  *out = json_string_value (v);
  return TRUE;
}

gboolean
npu_spec_get_bool (const json_t *obj, const char *key, const char *path, gboolean dflt,
                   gboolean *out, GError **error)
{
  json_t *v = json_object_get (obj, key);
  if (v == NULL)
    {
      *out = dflt;
      return TRUE;
    }
  if (!json_is_boolean (v))
    return fail (error, path, key, "expected true or false");
  *out = json_is_true (v);
  return TRUE;
}

gboolean
npu_spec_get_dtype (const json_t *obj, const char *key, const char *path, gboolean required,
                    NpuDtype dflt, NpuDtype *out, GError **error)
{
  const char *name;
  if (!npu_spec_get_string (obj, key, path, required, NULL, &name, error))
    return FALSE;
  if (name == NULL)
    {
      *out = dflt;
      return TRUE;
    }
  if (!npu_dtype_from_name (name, out))
    {
      g_autofree char *msg = g_strdup_printf ("unknown dtype '%s'", name);
      return fail (error, path, key, msg);
    }
  return TRUE;
}
