/* Tests of models/: preset loading, sources, overrides, errors, describe, JSON.
 * Expected values are the hardware numbers of CALIBRATION.md, written out by hand. */
#include <string.h>
#include <glib/gstdio.h>
#include <jansson.h>
#include "models/hw.h"

static char *tmp_dir; /* NPUSIM_PRESET_DIR: broken presets written by the tests */

static const char *
srcdir (void)
{
  const char *d = g_getenv ("NPU_SRCDIR");
  return d != NULL && d[0] != '\0' ? d : NPU_SRCDIR;
}

static NpuPreset *
load_ok (const char *name)
{
  g_autoptr (GError) error = NULL;
  NpuPreset *p = npu_preset_load (name, &error);
  g_assert_no_error (error);
  g_assert_nonnull (p);
  return p;
}

static void
test_load_a2 (void)
{
  g_autoptr (NpuPreset) p = load_ok ("a2");
  const NpuHw *hw = npu_preset_hw (p);
  g_assert_cmpstr (npu_preset_name (p), ==, "a2");
  g_assert_true (strlen (npu_preset_description (p)) > 0);
  g_assert_cmpint (hw->topology, ==, NPU_TOPO_A2);
  g_assert_cmpuint (hw->aic_count, ==, 24);
  g_assert_cmpuint (hw->aiv_count, ==, 48);
  g_assert_cmpuint (hw->aicpu_count, ==, 6);
  g_assert_cmpfloat (hw->core_freq_hz, ==, 1.8e9);
  g_assert_cmpuint (hw->cube_m * hw->cube_n * hw->cube_k_f16, ==, 4096);
  g_assert_cmpuint (hw->cube_m * hw->cube_n * hw->cube_k_i8, ==, 8192);
  g_assert_cmpuint (hw->vector_bytes_per_cycle, ==, 256);
  g_assert_cmpfloat (hw->hbm_bw_Bps, ==, 1.6 * 1024.0 * 1024.0 * 1024.0 * 1024.0);
  g_assert_cmpuint (hw->hbm_bytes, ==, G_GUINT64_CONSTANT (64) << 30);
  g_assert_cmpuint (hw->l2_bytes, ==, 192u << 20);
  g_assert_cmpuint (hw->l1_bytes, ==, 512u << 10);
  g_assert_cmpuint (hw->l0a_bytes, ==, 64u << 10);
  g_assert_cmpuint (hw->l0c_bytes, ==, 128u << 10);
  g_assert_cmpuint (hw->ub_bytes, ==, 192u << 10);
  g_assert_cmpuint (hw->mte2_bytes_per_cycle, ==, 32);
  g_assert_cmpuint (hw->l2_read_bytes_per_cycle, ==, 110);
  g_assert_cmpuint (hw->l2_write_bytes_per_cycle, ==, 86);
  g_assert_cmpuint (hw->mte3_bytes_per_cycle, ==, 64);
  /* µs in the file, ps in the struct. */
  g_assert_cmpuint (hw->sdma_fixed_small_ps, ==, 600000);
  g_assert_cmpuint (hw->sdma_fixed_large_ps, ==, 1500000);
  g_assert_cmpuint (hw->sdma_large_threshold_bytes, ==, 512 * 1024);
  g_assert_cmpfloat (hw->sdma_task_bw_Bps, ==, 19.3e9);
  g_assert_cmpuint (hw->rdma_fixed_ps, ==, 7000000);
  g_assert_cmpfloat (hw->rdma_task_bw_Bps, ==, 0);
  g_assert_cmpuint (hw->notify_record_ps, ==, 1000000);
  g_assert_cmpuint (hw->notify_record_local_ps, ==, 500000);
  g_assert_cmpuint (hw->notify_wait_ps, ==, 20000);
  g_assert_cmpuint (hw->aicpu_task_issue_ps, ==, 1500000);
  g_assert_cmpuint (hw->hccl_op_fixed_ps, ==, 10000000);
  g_assert_cmpuint (hw->kernel_launch_ps, ==, 5000000);
  g_assert_cmpuint (hw->hccl_buffer_bytes, ==, 200u * 1024 * 1024);
  g_assert_cmpfloat (hw->local_copy_bw_Bps, ==, 585e9);
  g_assert_cmpuint (hw->dies_per_server, ==, 8);
  g_assert_cmpuint (hw->max_servers, ==, 8);
  g_assert_cmpuint (hw->max_dies, ==, 64);
  g_assert_cmpuint (hw->dies_per_package, ==, 1);
  g_assert_cmpfloat (hw->hccs_link_bw_Bps, ==, 28e9);
  g_assert_cmpuint (hw->hccs_latency_ps, ==, 500000);
  g_assert_cmpfloat (hw->roce_bw_Bps, ==, 25e9);
  g_assert_cmpuint (hw->roce_latency_ps, ==, 1500000);
}

static void
test_load_a3 (void)
{
  g_autoptr (NpuPreset) p = load_ok ("a3");
  const NpuHw *hw = npu_preset_hw (p);
  g_assert_cmpint (hw->topology, ==, NPU_TOPO_A3);
  g_assert_cmpuint (hw->aic_count, ==, 24);
  g_assert_cmpuint (hw->aiv_count, ==, 48);
  g_assert_cmpfloat (hw->core_freq_hz, ==, 1.8e9);
  g_assert_cmpuint (hw->dies_per_server, ==, 16);
  g_assert_cmpuint (hw->dies_per_package, ==, 2);
  g_assert_cmpuint (hw->max_dies, ==, 768);
  g_assert_cmpfloat (hw->sio_bw_Bps, ==, 224e9);
  g_assert_cmpuint (hw->sio_latency_ps, ==, 200000);
  g_assert_cmpuint (hw->ub_ports, ==, 7);
  g_assert_cmpfloat (hw->ub_port_bw_Bps, ==, 28e9);
  g_assert_cmpuint (hw->ub_l1_latency_ps, ==, 500000);
  g_assert_cmpuint (hw->ub_l2_latency_ps, ==, 1500000);
  g_assert_cmpfloat (hw->roce_bw_Bps, ==, 25e9);
  g_assert_cmpuint (hw->roce_latency_ps, ==, 5500000);
  g_assert_cmpfloat (hw->local_copy_bw_Bps, ==, 650e9 * 0.9);
}

/* Every field of the table is in both presets, with a source that states a
 * confidence (H/M/L) and, unless structural, where the number comes from. */
static void
test_sources (void)
{
  const char *names[] = { "a2", "a3" };
  g_assert_cmpuint (npu_hw_n_fields (), >=, 50);
  for (guint n = 0; n < G_N_ELEMENTS (names); n++)
    {
      g_autoptr (NpuPreset) p = load_ok (names[n]);
      for (guint i = 0; i < npu_hw_n_fields (); i++)
        {
          const char *key = npu_hw_field_key (i);
          const char *src = npu_preset_source (p, key);
          g_assert_nonnull (src);
          if (!(g_str_has_prefix (src, "H") || g_str_has_prefix (src, "M")
                || g_str_has_prefix (src, "L")))
            g_error ("%s %s: source does not start with a confidence: %s", names[n], key, src);
          g_assert_cmpuint (strlen (src), >, 20);
          g_assert_nonnull (npu_hw_field_unit (i));
          g_assert_true (strlen (npu_hw_field_doc (i)) > 0);
        }
      g_assert_null (npu_preset_source (p, "die.no_such_field"));
    }
}

static void
test_override (void)
{
  g_autoptr (NpuPreset) p = load_ok ("a2");
  g_autoptr (GError) error = NULL;

  g_assert_true (npu_preset_set (p, "link.hccs_bw_Bps", "56e9", "--set", &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (npu_preset_hw (p)->hccs_link_bw_Bps, ==, 56e9);
  g_assert_cmpstr (npu_preset_source (p, "link.hccs_bw_Bps"), ==, "--set");

  g_assert_true (npu_preset_set (p, "die.aic_count", "20", "scenario cluster.set", &error));
  g_assert_cmpuint (npu_preset_hw (p)->aic_count, ==, 20);
  g_assert_cmpstr (npu_preset_source (p, "die.aic_count"), ==, "scenario cluster.set");

  /* _us keys take µs text and store ps. */
  g_assert_true (npu_preset_set (p, "cost.flag_poll_us", "0.25", "--set", &error));
  g_assert_cmpuint (npu_preset_hw (p)->flag_poll_ps, ==, 250000);
  g_assert_true (npu_preset_set (p, "link.roce_latency_us", "12", "--set", &error));
  g_assert_cmpuint (npu_preset_hw (p)->roce_latency_ps, ==, 12000000);
  g_assert_true (npu_preset_set (p, "cost.notify_wait_us", "0", "--set", &error));
  g_assert_cmpuint (npu_preset_hw (p)->notify_wait_ps, ==, 0);

  g_assert_true (npu_preset_set (p, "hccl.buffer_bytes", "1048576", "--set", &error));
  g_assert_cmpuint (npu_preset_hw (p)->hccl_buffer_bytes, ==, 1048576);
  g_assert_true (npu_preset_set (p, "topology.kind", "a3", "--set", &error));
  g_assert_cmpint (npu_preset_hw (p)->topology, ==, NPU_TOPO_A3);
  g_assert_no_error (error);

  /* Other fields keep their preset source. */
  g_assert_true (g_str_has_prefix (npu_preset_source (p, "die.aiv_count"), "H."));
}

static void
expect_error (NpuPreset *p, const char *key, const char *value, gint code)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *before = npu_preset_value_text (p, key);
  g_autofree char *src_before = g_strdup (npu_preset_source (p, key));
  g_assert_false (npu_preset_set (p, key, value, "--set", &error));
  g_assert_error (error, NPU_PRESET_ERROR, code);
  if (strstr (error->message, key) == NULL)
    g_error ("error for %s=%s does not name the key: %s", key, value, error->message);
  /* A failed override changes nothing. */
  if (before != NULL)
    {
      g_autofree char *after = npu_preset_value_text (p, key);
      g_assert_cmpstr (after, ==, before);
      g_assert_cmpstr (npu_preset_source (p, key), ==, src_before);
    }
}

static void
test_bad_overrides (void)
{
  g_autoptr (NpuPreset) p = load_ok ("a2");
  expect_error (p, "die.no_such_field", "1", NPU_PRESET_ERROR_KEY);
  expect_error (p, "die.aic_count", "-1", NPU_PRESET_ERROR_VALUE);
  expect_error (p, "die.aic_count", "abc", NPU_PRESET_ERROR_VALUE);
  expect_error (p, "die.aic_count", "24x", NPU_PRESET_ERROR_VALUE);
  expect_error (p, "die.aic_count", "", NPU_PRESET_ERROR_VALUE);
  expect_error (p, "die.aic_count", " 24", NPU_PRESET_ERROR_VALUE);
  expect_error (p, "die.aic_count", "2.5", NPU_PRESET_ERROR_VALUE);
  expect_error (p, "die.aic_count", "0", NPU_PRESET_ERROR_VALUE);          /* impossible */
  expect_error (p, "die.aic_count", "4294967296", NPU_PRESET_ERROR_VALUE); /* 2^32 */
  expect_error (p, "mem.hbm_bytes", "99999999999999999999", NPU_PRESET_ERROR_VALUE);
  expect_error (p, "die.core_freq_hz", "0", NPU_PRESET_ERROR_VALUE);
  expect_error (p, "die.core_freq_hz", "-1.8e9", NPU_PRESET_ERROR_VALUE);
  expect_error (p, "die.core_freq_hz", "1e400", NPU_PRESET_ERROR_VALUE);  /* inf */
  expect_error (p, "die.core_freq_hz", "nan", NPU_PRESET_ERROR_VALUE);
  expect_error (p, "link.hccs_bw_Bps", "28 GB/s", NPU_PRESET_ERROR_VALUE);
  expect_error (p, "mem.hbm_bw_Bps", "0", NPU_PRESET_ERROR_VALUE);
  expect_error (p, "cost.sdma_fixed_small_us", "-0.6", NPU_PRESET_ERROR_VALUE);
  expect_error (p, "cost.sdma_fixed_small_us", "1e20", NPU_PRESET_ERROR_VALUE); /* > 2^64 ps */
  expect_error (p, "topology.kind", "a5", NPU_PRESET_ERROR_VALUE);
}

/* One line per field, in table order: "key = value unit  # source". */
static void
test_describe (void)
{
  g_autoptr (NpuPreset) p = load_ok ("a2");
  g_autofree char *text = npu_preset_describe (p);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, npu_hw_n_fields () + 1); /* final "" */
  for (guint i = 0; i < npu_hw_n_fields (); i++)
    {
      g_autofree char *prefix = g_strdup_printf ("%s = ", npu_hw_field_key (i));
      g_assert_true (g_str_has_prefix (lines[i], prefix));
      g_autofree char *tail = g_strdup_printf ("  # %s", npu_preset_source (p, npu_hw_field_key (i)));
      g_assert_true (g_str_has_suffix (lines[i], tail));
    }
  g_assert_nonnull (strstr (text, "\ndie.aic_count = 24 cores  # H. "));
  g_assert_nonnull (strstr (text, "\nlink.hccs_latency_us = 0.5 us  # "));
  g_assert_nonnull (strstr (text, "\ncost.notify_wait_us = 0.02 us  # "));
  g_assert_nonnull (strstr (text, "\nlink.hccs_bw_Bps = 2.8e+10 B/s  # "));
  g_assert_nonnull (strstr (text, "\nmem.hbm_bw_Bps = 1759218604441.6 B/s  # "));
  g_assert_nonnull (strstr (text, "\nhccl.buffer_bytes = 209715200 bytes  # "));
  g_assert_true (g_str_has_prefix (text, "topology.kind = a2  # "));

  /* An override shows up with its origin. */
  g_assert_true (npu_preset_set (p, "cost.rdma_fixed_us", "3.25", "--set", NULL));
  g_autofree char *text2 = npu_preset_describe (p);
  g_assert_nonnull (strstr (text2, "\ncost.rdma_fixed_us = 3.25 us  # --set\n"));
}

/* Every value printed by value_text reads back to the same value. */
static void
test_round_trip (void)
{
  const char *names[] = { "a2", "a3" };
  for (guint n = 0; n < G_N_ELEMENTS (names); n++)
    {
      g_autoptr (NpuPreset) p = load_ok (names[n]);
      g_autoptr (NpuPreset) q = load_ok (names[n]);
      json_t *before = npu_preset_to_json (p);
      for (guint i = 0; i < npu_hw_n_fields (); i++)
        {
          const char *key = npu_hw_field_key (i);
          g_autofree char *text = npu_preset_value_text (p, key);
          g_autoptr (GError) error = NULL;
          g_assert_true (npu_preset_set (q, key, text, "round trip", &error));
          g_assert_no_error (error);
        }
      json_t *after = npu_preset_to_json (q);
      g_assert_true (json_equal (before, after));
      json_decref (before);
      json_decref (after);
    }
}

static void
test_to_json (void)
{
  g_autoptr (NpuPreset) p = load_ok ("a3");
  json_t *obj = npu_preset_to_json (p);
  g_assert_true (json_is_object (obj));
  g_assert_cmpuint (json_object_size (obj), ==, npu_hw_n_fields ());
  g_assert_cmpstr (json_string_value (json_object_get (obj, "topology.kind")), ==, "a3");
  g_assert_cmpint (json_integer_value (json_object_get (obj, "die.aic_count")), ==, 24);
  g_assert_cmpfloat (json_real_value (json_object_get (obj, "link.sio_bw_Bps")), ==, 224e9);
  g_assert_cmpfloat (json_real_value (json_object_get (obj, "link.ub_l2_latency_us")), ==, 1.5);
  g_assert_cmpint (json_integer_value (json_object_get (obj, "mem.hbm_bytes")), ==,
                   G_GINT64_CONSTANT (68719476736));
  json_decref (obj);
}

static void
test_list_and_unknown (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) names = npu_preset_list (&error);
  g_assert_no_error (error);
  gint ia2 = -1, ia3 = -1;
  for (guint i = 0; i < names->len; i++)
    {
      if (strcmp (names->pdata[i], "a2") == 0) ia2 = (gint) i;
      if (strcmp (names->pdata[i], "a3") == 0) ia3 = (gint) i;
      if (i > 0)
        g_assert_cmpstr (names->pdata[i - 1], <, names->pdata[i]);
    }
  g_assert_cmpint (ia2, >=, 0);
  g_assert_cmpint (ia3, ==, ia2 + 1);

  const char *const *dirs = npu_preset_dirs ();
  g_assert_cmpstr (dirs[0], ==, tmp_dir);
  g_assert_true (g_str_has_suffix (dirs[1], "/models/presets"));

  g_assert_null (npu_preset_load ("a9", &error));
  g_assert_error (error, NPU_PRESET_ERROR, NPU_PRESET_ERROR_UNKNOWN);
  g_assert_nonnull (strstr (error->message, "a9"));
  g_clear_error (&error);
  g_assert_null (npu_preset_load ("../presets/a2", &error));
  g_assert_error (error, NPU_PRESET_ERROR, NPU_PRESET_ERROR_UNKNOWN);
}

/* ---- broken preset files -------------------------------------------------- */

/* Write @name.json into tmp_dir: a2.json with @edit applied to its parsed form. */
static void
write_variant (const char *name, void (*edit) (json_t *root))
{
  g_autofree char *src = g_build_filename (srcdir (), "models", "presets", "a2.json", NULL);
  json_error_t jerr;
  json_t *root = json_load_file (src, 0, &jerr);
  g_assert_nonnull (root);
  json_object_set_new (root, "name", json_string (name));
  edit (root);
  g_autofree char *file = g_strdup_printf ("%s/%s.json", tmp_dir, name);
  g_assert_cmpint (json_dump_file (root, file, JSON_INDENT (1)), ==, 0);
  json_decref (root);
}

static json_t *
fields_of (json_t *root)
{
  return json_object_get (root, "fields");
}

static void edit_none (json_t *root) { (void) root; }
static void edit_missing (json_t *root) { json_object_del (fields_of (root), "link.roce_bw_Bps"); }
static void
edit_unknown (json_t *root)
{
  json_object_set_new (fields_of (root), "link.warp_bw_Bps",
                       json_pack ("{s:f, s:s}", "value", 1.0, "source", "made up"));
}
static void
edit_no_source (json_t *root)
{
  json_object_del (json_object_get (fields_of (root), "mem.l2_bytes"), "source");
}
static void
edit_empty_source (json_t *root)
{
  json_object_set_new (json_object_get (fields_of (root), "mem.l1_bytes"), "source",
                       json_string("   "));
}
static void
edit_bad_type (json_t *root)
{
  json_object_set_new (json_object_get (fields_of (root), "die.aiv_count"), "value",
                       json_string ("48"));
}
static void
edit_real_for_int (json_t *root)
{
  json_object_set_new (json_object_get (fields_of (root), "die.aiv_count"), "value",
                       json_real (48.5));
}
static void
edit_negative (json_t *root)
{
  json_object_set_new (json_object_get (fields_of (root), "cost.rdma_fixed_us"), "value",
                       json_integer (-7));
}
static void
edit_extra_member (json_t *root)
{
  json_object_set_new (json_object_get (fields_of (root), "die.cube_m"), "confidence",
                       json_string ("H"));
}

static void
expect_file_error (const char *name, void (*edit) (json_t *), gint code, const char *key)
{
  write_variant (name, edit);
  g_autoptr (GError) error = NULL;
  g_autoptr (NpuPreset) p = npu_preset_load (name, &error);
  g_assert_null (p);
  g_assert_error (error, NPU_PRESET_ERROR, code);
  g_autofree char *file = g_strdup_printf ("%s.json", name);
  if (strstr (error->message, file) == NULL || strstr (error->message, key) == NULL)
    g_error ("error for %s does not name the file and '%s': %s", name, key, error->message);
}

static void
test_file_errors (void)
{
  /* The unchanged copy loads: the checks below fail for the edit alone. */
  write_variant ("copy", edit_none);
  g_autoptr (NpuPreset) p = load_ok ("copy");
  g_assert_cmpuint (npu_preset_hw (p)->aic_count, ==, 24);

  expect_file_error ("missing", edit_missing, NPU_PRESET_ERROR_FILE, "link.roce_bw_Bps");
  expect_file_error ("unknown", edit_unknown, NPU_PRESET_ERROR_KEY, "link.warp_bw_Bps");
  expect_file_error ("nosource", edit_no_source, NPU_PRESET_ERROR_FILE, "mem.l2_bytes");
  expect_file_error ("emptysource", edit_empty_source, NPU_PRESET_ERROR_FILE, "mem.l1_bytes");
  expect_file_error ("badtype", edit_bad_type, NPU_PRESET_ERROR_VALUE, "die.aiv_count");
  expect_file_error ("realint", edit_real_for_int, NPU_PRESET_ERROR_VALUE, "die.aiv_count");
  expect_file_error ("negative", edit_negative, NPU_PRESET_ERROR_VALUE, "cost.rdma_fixed_us");
  expect_file_error ("extramember", edit_extra_member, NPU_PRESET_ERROR_FILE, "confidence");

  /* A key given twice: textual duplicate (a JSON object cannot hold it). */
  g_autofree char *dup = g_strdup_printf ("%s/dup.json", tmp_dir);
  g_autofree char *src = g_build_filename (srcdir (), "models", "presets", "a2.json", NULL);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (src, &text, NULL, NULL));
  GString *s = g_string_new (text);
  g_string_replace (s, "\"name\": \"a2\"", "\"name\": \"dup\"", 1);
  g_string_replace (s, "\"fields\": {",
                    "\"fields\": {\"die.aic_count\": {\"value\": 20, \"source\": \"x\"},", 1);
  g_assert_true (g_file_set_contents (dup, s->str, -1, NULL));
  g_string_free (s, TRUE);
  g_autoptr (GError) error = NULL;
  g_assert_null (npu_preset_load ("dup", &error));
  g_assert_error (error, NPU_PRESET_ERROR, NPU_PRESET_ERROR_FILE);
  g_assert_nonnull (strstr (error->message, "dup.json"));
  g_assert_nonnull (strstr (error->message, "die.aic_count"));
  g_clear_error (&error);

  /* Not JSON at all; and a name that does not match the file. */
  g_autofree char *junk = g_strdup_printf ("%s/junk.json", tmp_dir);
  g_assert_true (g_file_set_contents (junk, "{\"name\": ", -1, NULL));
  g_assert_null (npu_preset_load ("junk", &error));
  g_assert_error (error, NPU_PRESET_ERROR, NPU_PRESET_ERROR_FILE);
  g_assert_nonnull (strstr (error->message, "junk.json"));
  g_clear_error (&error);
  g_autofree char *renamed = g_strdup_printf ("%s/renamed.json", tmp_dir);
  g_autofree char *copy = g_strdup_printf ("%s/copy.json", tmp_dir);
  g_autofree char *copy_text = NULL;
  g_assert_true (g_file_get_contents (copy, &copy_text, NULL, NULL));
  g_assert_true (g_file_set_contents (renamed, copy_text, -1, NULL));
  g_assert_null (npu_preset_load ("renamed", &error));
  g_assert_error (error, NPU_PRESET_ERROR, NPU_PRESET_ERROR_FILE);
}

static void
remove_tmp_dir (void)
{
  g_autoptr (GDir) dir = g_dir_open (tmp_dir, 0, NULL);
  const char *entry;
  while (dir != NULL && (entry = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (tmp_dir, entry, NULL);
      g_unlink (path);
    }
  g_rmdir (tmp_dir);
}

int
main (int argc, char **argv)
{
  /* Before anything reads npu_preset_dirs(): broken presets go first in the path,
   * a2/a3 still come from the source tree. */
  tmp_dir = g_dir_make_tmp ("npusim-presets-XXXXXX", NULL);
  g_assert_nonnull (tmp_dir);
  g_setenv ("NPUSIM_PRESET_DIR", tmp_dir, TRUE);

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/models/preset/load-a2", test_load_a2);
  g_test_add_func ("/models/preset/load-a3", test_load_a3);
  g_test_add_func ("/models/preset/sources", test_sources);
  g_test_add_func ("/models/preset/override", test_override);
  g_test_add_func ("/models/preset/bad-overrides", test_bad_overrides);
  g_test_add_func ("/models/preset/describe", test_describe);
  g_test_add_func ("/models/preset/round-trip", test_round_trip);
  g_test_add_func ("/models/preset/to-json", test_to_json);
  g_test_add_func ("/models/preset/list-and-unknown", test_list_and_unknown);
  g_test_add_func ("/models/preset/file-errors", test_file_errors);
  int rc = g_test_run ();
  remove_tmp_dir ();
  g_free (tmp_dir);
  return rc;
}
