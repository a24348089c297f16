/* npusim — writing the output folder atomically. */
#include "cli/outputs.h"
#include <errno.h>
#include <glib/gstdio.h>
#include "traces/npy.h"

static void
rm_rf (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      GDir *dir = g_dir_open (path, 0, NULL);
      const char *name;
      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          rm_rf (child);
        }
      if (dir != NULL)
        g_dir_close (dir);
      g_rmdir (path);
    }
  else
    g_unlink (path);
}

char *
npu_outputs_stage (const char *out_dir, GError **error)
{
  g_autofree char *tmpl = g_strdup_printf ("%s.partial-XXXXXX", out_dir);
  if (g_mkdtemp (tmpl) == NULL)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
                   "cannot create the staging folder %s: %s", tmpl, g_strerror (errno));
      return NULL;
    }
  /* mkdtemp makes the folder private; the outputs are ordinary files. */
  g_chmod (tmpl, 0755);
  return g_steal_pointer (&tmpl);
}

void
npu_outputs_discard (const char *staging)
{
  if (staging != NULL)
    rm_rf (staging);
}

gboolean
npu_outputs_write_json (const char *path, json_t *value, GError **error)
{
  if (json_dump_file (value, path, JSON_INDENT (2) | JSON_PRESERVE_ORDER) != 0)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_IO, "cannot write %s", path);
      return FALSE;
    }
  return TRUE;
}

static json_t *
shape_json (const NpuTensor *t)
{
  json_t *shape = json_array ();
  for (guint i = 0; i < npu_tensor_ndim (t); i++)
    json_array_append_new (shape, json_integer (npu_tensor_dim (t, i)));
  return shape;
}

json_t *
npu_outputs_write_tensors (const char *staging, const NpuScenario *scenario, GPtrArray *ops,
                           gboolean data_mode, GError **error)
{
  g_autofree char *dir = g_build_filename (staging, "tensors", NULL);
  if (data_mode && g_mkdir_with_parents (dir, 0755) != 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
                   "cannot create %s: %s", dir, g_strerror (errno));
      return NULL;
    }
  json_t *manifest = json_object ();
  json_object_set_new (manifest, "scenario", json_string (scenario->name));
  json_object_set_new (manifest, "preset", json_string (npu_preset_name (scenario->preset)));
  json_object_set_new (manifest, "ranks", json_integer (scenario->n_ranks));
  json_object_set_new (manifest, "seed", json_integer ((json_int_t) scenario->seed));
  json_object_set_new (manifest, "mode", json_string (data_mode ? "data" : "timing"));
  json_t *jops = json_array ();
  json_t *jtensors = json_array ();
  for (guint i = 0; i < ops->len; i++)
    {
      NpuOp *op = g_ptr_array_index (ops, i);
      json_t *jop = json_object ();
      json_object_set_new (jop, "name", json_string (op->name));
      json_object_set_new (jop, "op", json_string (op->klass->name));
      json_t *group = json_array ();
      for (guint g = 0; g < op->n_ranks; g++)
        json_array_append_new (group, json_integer (op->ranks[g]));
      json_object_set_new (jop, "group", group);
      json_object_set_new (jop, "stream", json_integer (op->stream));
      json_object_set (jop, "attrs", op->attrs);
      json_t *inputs = json_array (), *outputs = json_array ();
      for (guint k = 0; k < op->tensors->len; k++)
        {
          NpuOpTensor *t = g_ptr_array_index (op->tensors, k);
          g_autofree char *rel = g_strdup_printf ("tensors/%s.r%u.%s.npy", op->name, t->rank,
                                                  t->name);
          json_t *jt = json_object ();
          json_object_set_new (jt, "rank", json_integer (t->rank));
          json_object_set_new (jt, "op", json_string (op->name));
          json_object_set_new (jt, "name", json_string (t->name));
          json_object_set_new (jt, "dtype", json_string (npu_dtype_name (npu_tensor_dtype (t->tensor))));
          json_object_set_new (jt, "format", json_string (npu_tensor_format (t->tensor)
                                                          == NPU_FORMAT_FRACTAL_NZ
                                                          ? "FRACTAL_NZ" : "ND"));
          json_object_set_new (jt, "shape", shape_json (t->tensor));
          json_object_set_new (jt, "role", json_string (t->is_input ? "input" : "output"));
          if (data_mode)
            {
              g_autofree char *full = g_build_filename (staging, rel, NULL);
              NpuTensor *tt = t->tensor;
              if (!npu_npy_write (full, npu_dtype_npy_descr (npu_tensor_dtype (tt)),
                                  npu_tensor_ndim (tt), npu_tensor_shape (tt),
                                  npu_tensor_const_data (tt), npu_tensor_nbytes (tt), error))
                {
                  json_decref (manifest);
                  json_decref (jtensors);
                  json_decref (jops);
                  json_decref (jop);
                  json_decref (jt);
                  json_decref (inputs);
                  json_decref (outputs);
                  return NULL;
                }
              json_object_set_new (jt, "file", json_string (rel));
              json_array_append_new (t->is_input ? inputs : outputs, json_string (rel));
            }
          else
            json_object_set_new (jt, "file", json_null ());
          json_array_append_new (jtensors, jt);
        }
      json_object_set_new (jop, "inputs", inputs);
      json_object_set_new (jop, "outputs", outputs);
      json_array_append_new (jops, jop);
    }
  json_object_set_new (manifest, "ops", jops);
  json_object_set_new (manifest, "tensors", jtensors);
  return manifest;
}

gboolean
npu_outputs_commit (const char *staging, const char *out_dir, GError **error)
{
  g_autofree char *old = NULL;
  if (g_file_test (out_dir, G_FILE_TEST_EXISTS))
    {
      old = g_strdup_printf ("%s.old-XXXXXX", out_dir);
      if (g_mkdtemp (old) == NULL || g_rmdir (old) != 0 || g_rename (out_dir, old) != 0)
        {
          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
                       "cannot move the old %s aside: %s", out_dir, g_strerror (errno));
          return FALSE;
        }
    }
  if (g_rename (staging, out_dir) != 0)
    {
      int e = errno;
      if (old != NULL)
        g_rename (old, out_dir);
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e), "cannot create %s: %s",
                   out_dir, g_strerror (e));
      return FALSE;
    }
  if (old != NULL)
    rm_rf (old);
  return TRUE;
}
