/* Tests of the .npy writer/reader (traces/npy.c). The expected header bytes follow
 * numpy's format description (numpy.lib.format, version 1.0); numpy itself reads and
 * writes files in tests/test-traces-output.py. */
#include "traces/npy.h"

#include <string.h>
#include <glib/gstdio.h>

static char *tmpdir;

static char *
tmp_path (const char *name)
{
  return g_build_filename (tmpdir, name, NULL);
}

static void
test_header_bytes (void)
{
  g_autofree char *path = tmp_path ("f4.npy");
  g_autoptr (GError) error = NULL;
  const float data[3] = { 1.0f, -2.0f, 0.5f };
  const gint64 shape[1] = { 3 };
  g_assert_true (npu_npy_write (path, "<f4", 1, shape, data, sizeof data, &error));
  g_assert_no_error (error);

  g_autofree char *bytes = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (path, &bytes, &len, NULL));
  const char dict[] = "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }";
  /* magic(6) + version(2) + length(2) + dict(57) + spaces + '\n' = 128, the next
   * multiple of 64 */
  gsize hlen = 128 - 10;
  g_assert_cmpuint (len, ==, 128 + sizeof data);
  g_assert_cmpmem (bytes, 6, "\x93NUMPY", 6);
  g_assert_cmpint (bytes[6], ==, 1);
  g_assert_cmpint (bytes[7], ==, 0);
  g_assert_cmpuint ((guint8) bytes[8] | (guint8) bytes[9] << 8, ==, hlen);
  g_assert_cmpmem (bytes + 10, strlen (dict), dict, strlen (dict));
  for (gsize i = 10 + strlen (dict); i < 127; i++)
    g_assert_cmpint (bytes[i], ==, ' ');
  g_assert_cmpint (bytes[127], ==, '\n');
  g_assert_cmpmem (bytes + 128, sizeof data, data, sizeof data);
  g_unlink (path);
}

static void
check_roundtrip (const char *descr, guint ndim, const gint64 *shape, gconstpointer data,
                 guint64 nbytes, const char *dict)
{
  g_autofree char *path = tmp_path ("rt.npy");
  g_autoptr (GError) error = NULL;
  g_assert_true (npu_npy_write (path, descr, ndim, shape, data, nbytes, &error));
  g_assert_no_error (error);

  g_autofree char *bytes = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (path, &bytes, &len, NULL));
  gsize hlen = (guint8) bytes[8] | (guint8) bytes[9] << 8;
  g_assert_cmpuint ((10 + hlen) % 64, ==, 0);
  g_assert_cmpuint (len, ==, 10 + hlen + nbytes);
  g_assert_true (strncmp (bytes + 10, dict, strlen (dict)) == 0);

  g_autofree char *rdescr = NULL;
  g_autofree gint64 *rshape = NULL;
  g_autofree gpointer rdata = NULL;
  guint rndim = 99;
  guint64 rnbytes = 0;
  g_assert_true (npu_npy_read (path, &rdescr, &rndim, &rshape, &rdata, &rnbytes, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (rdescr, ==, descr);
  g_assert_cmpuint (rndim, ==, ndim);
  for (guint i = 0; i < ndim; i++)
    g_assert_cmpint (rshape[i], ==, shape[i]);
  g_assert_cmpuint (rnbytes, ==, nbytes);
  if (nbytes > 0)
    g_assert_cmpmem (rdata, nbytes, data, nbytes);
  g_unlink (path);
}

static void
test_roundtrips (void)
{
  const gint64 s0[1] = { 0 };
  const gint64 s23[2] = { 2, 3 };
  const gint64 s222[3] = { 2, 2, 2 };
  const gint64 s03[2] = { 0, 3 };
  const gint64 s4[1] = { 4 };
  const gint64 big = -1234567890123;
  const guint16 bf16[6] = { 0x3f80, 0x4000, 0xbf80, 0, 0x7f80, 0xffff };
  const gint8 i8[8] = { -4, -3, -2, -1, 0, 1, 2, 3 };
  const guint64 u8s[4] = { 0, 1, G_GUINT64_CONSTANT (1) << 63, G_MAXUINT64 };
  check_roundtrip ("<i8", 0, NULL, &big, sizeof big,
                   "{'descr': '<i8', 'fortran_order': False, 'shape': (), }");
  check_roundtrip ("<u2", 2, s23, bf16, sizeof bf16,
                   "{'descr': '<u2', 'fortran_order': False, 'shape': (2, 3), }");
  check_roundtrip ("|i1", 3, s222, i8, sizeof i8,
                   "{'descr': '|i1', 'fortran_order': False, 'shape': (2, 2, 2), }");
  check_roundtrip ("<u8", 1, s4, u8s, sizeof u8s,
                   "{'descr': '<u8', 'fortran_order': False, 'shape': (4,), }");
  check_roundtrip ("<f4", 1, s0, NULL, 0,
                   "{'descr': '<f4', 'fortran_order': False, 'shape': (0,), }");
  check_roundtrip ("<f2", 2, s03, NULL, 0,
                   "{'descr': '<f2', 'fortran_order': False, 'shape': (0, 3), }");
}

/* Write raw bytes as a file, then expect npu_npy_read to fail with @code. */
static void
expect_read_error (const char *name, const char *content, gsize len, gint code)
{
  g_autofree char *path = tmp_path (name);
  g_assert_true (g_file_set_contents (path, content, (gssize) len, NULL));
  g_autofree char *descr = NULL;
  g_autofree gint64 *shape = NULL;
  g_autofree gpointer data = NULL;
  guint ndim;
  guint64 nbytes;
  g_autoptr (GError) error = NULL;
  g_assert_false (npu_npy_read (path, &descr, &ndim, &shape, &data, &nbytes, &error));
  g_assert_error (error, G_FILE_ERROR, code);
  g_unlink (path);
}

static GString *
npy_bytes (const char *dict, gsize data_len)
{
  GString *s = g_string_new_len ("\x93NUMPY\x01\x00", 8);
  gsize hlen = strlen (dict) + 1;
  g_string_append_c (s, (char) (hlen & 0xff));
  g_string_append_c (s, (char) (hlen >> 8));
  g_string_append (s, dict);
  g_string_append_c (s, '\n');
  for (gsize i = 0; i < data_len; i++)
    g_string_append_c (s, (char) i);
  return s;
}

static void
test_read_errors (void)
{
  expect_read_error ("text.npy", "hello world, not numpy", 22, G_FILE_ERROR_INVAL);
  expect_read_error ("short.npy", "\x93NUM", 4, G_FILE_ERROR_INVAL);

  g_autoptr (GString) fortran =
    npy_bytes ("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", 16);
  expect_read_error ("fortran.npy", fortran->str, fortran->len, G_FILE_ERROR_INVAL);
  g_autoptr (GString) be =
    npy_bytes ("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", 8);
  expect_read_error ("be.npy", be->str, be->len, G_FILE_ERROR_INVAL);
  g_autoptr (GString) truncated =
    npy_bytes ("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", 15);
  expect_read_error ("trunc.npy", truncated->str, truncated->len, G_FILE_ERROR_INVAL);
  g_autoptr (GString) structured =
    npy_bytes ("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", 4);
  expect_read_error ("struct.npy", structured->str, structured->len, G_FILE_ERROR_INVAL);
  g_autoptr (GString) nokey = npy_bytes ("{'descr': '<f4', 'shape': (1,), }", 4);
  expect_read_error ("nokey.npy", nokey->str, nokey->len, G_FILE_ERROR_INVAL);
  g_autoptr (GString) v9 =
    npy_bytes ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", 4);
  v9->str[6] = 9;
  expect_read_error ("v9.npy", v9->str, v9->len, G_FILE_ERROR_INVAL);

  g_autofree char *missing = tmp_path ("missing.npy");
  g_autofree char *descr = NULL;
  g_autofree gint64 *shape = NULL;
  g_autofree gpointer data = NULL;
  guint ndim;
  guint64 nbytes;
  g_autoptr (GError) error = NULL;
  g_assert_false (npu_npy_read (missing, &descr, &ndim, &shape, &data, &nbytes, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
}

static void
test_read_tolerant (void)
{
  /* Key order, double quotes and Python-2 'L' suffixes are all valid headers. */
  g_autoptr (GString) s =
    npy_bytes ("{\"shape\": (2L, 1L), \"fortran_order\": False, \"descr\": \"|u1\"}", 2);
  g_autofree char *path = tmp_path ("tolerant.npy");
  g_assert_true (g_file_set_contents (path, s->str, (gssize) s->len, NULL));
  g_autofree char *descr = NULL;
  g_autofree gint64 *shape = NULL;
  g_autofree guint8 *data = NULL;
  guint ndim;
  guint64 nbytes;
  g_autoptr (GError) error = NULL;
  g_assert_true (npu_npy_read (path, &descr, &ndim, &shape, (gpointer *) &data, &nbytes, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (descr, ==, "|u1");
  g_assert_cmpuint (ndim, ==, 2);
  g_assert_cmpint (shape[0], ==, 2);
  g_assert_cmpint (shape[1], ==, 1);
  g_assert_cmpuint (nbytes, ==, 2);
  g_assert_cmpint (data[0], ==, 0);
  g_assert_cmpint (data[1], ==, 1);
  g_unlink (path);
}

static void
test_write_error (void)
{
  g_autofree char *path = g_build_filename (tmpdir, "no-such-dir", "x.npy", NULL);
  const gint64 shape[1] = { 1 };
  const float v = 1.0f;
  g_autoptr (GError) error = NULL;
  g_assert_false (npu_npy_write (path, "<f4", 1, shape, &v, sizeof v, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_autoptr (GError) error = NULL;
  tmpdir = g_dir_make_tmp ("npu-npy-test-XXXXXX", &error);
  g_assert_no_error (error);
  g_test_add_func ("/traces/npy/header-bytes", test_header_bytes);
  g_test_add_func ("/traces/npy/roundtrips", test_roundtrips);
  g_test_add_func ("/traces/npy/read-errors", test_read_errors);
  g_test_add_func ("/traces/npy/read-tolerant", test_read_tolerant);
  g_test_add_func ("/traces/npy/write-error", test_write_error);
  int rc = g_test_run ();
  g_rmdir (tmpdir);
  g_free (tmpdir);
  return rc;
}
