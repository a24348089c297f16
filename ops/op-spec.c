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

gboolean
npu_spec_get_object (const json_t *obj, const char *key, const char *path,
                     const char *const *allowed, const char *what, json_t **out, GError **error)
{
  json_t *v = json_object_get (obj, key);
  *out = NULL;
  if (v == NULL)
    return TRUE;
  g_autofree char *sub = g_strdup_printf ("%s.%s", path, key);
  if (!json_is_object (v))
    return npu_spec_error (error, "%s: expected an object%s%s", sub, what != NULL ? " " : "",
                           what != NULL ? what : "");
  if (!npu_spec_check_keys (v, allowed, sub, error))
    return FALSE;
  *out = v;
  return TRUE;
}

gboolean
npu_spec_get_tensor_desc (const json_t *v, const char *path, guint max_dims, gboolean *present,
                          NpuDtype *dt, guint *ndim, gint64 *shape, GError **error)
{
  if (json_is_null (v))
    {
      *present = FALSE;
      return TRUE;
    }
  static const char *const keys[] = { "dtype", "shape", NULL };
  if (!json_is_object (v))
    return npu_spec_error (error, "%s: expected null or {\"dtype\": ..., \"shape\": [...]}",
                           path);
  if (!npu_spec_check_keys (v, keys, path, error)
      || !npu_spec_get_dtype (v, "dtype", path, FALSE, *dt, dt, error))
    return FALSE;
  json_t *sh = json_object_get (v, "shape");
  if (sh != NULL)
    {
      if (!json_is_array (sh) || json_array_size (sh) > max_dims)
        return npu_spec_error (error, "%s.shape: expected a list of at most %u dims", path,
                               max_dims);
      *ndim = (guint) json_array_size (sh);
      for (guint i = 0; i < *ndim; i++)
        {
          json_t *x = json_array_get (sh, i);
          if (!json_is_integer (x) || json_integer_value (x) < 0
              || json_integer_value (x) > ((json_int_t) 1 << 40))
            return npu_spec_error (error, "%s.shape[%u]: expected a dim >= 0", path, i);
          shape[i] = json_integer_value (x);
        }
    }
  *present = TRUE;
  return TRUE;
}

gboolean
npu_spec_error (GError **error, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error_literal (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO, msg);
  return FALSE;
}
