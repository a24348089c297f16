/* Unit tests of ops/tensor.c: shapes, strides, sizes, data ownership, refcounts,
 * reshape views. */
#include <glib.h>
#include <string.h>

#include "ops/tensor.h"

static void
test_new (void)
{
  g_autoptr (GError) error = NULL;
  gint64 shape[3] = { 2, 3, 4 };
  g_autoptr (NpuTensor) t = npu_tensor_new (NPU_DT_BF16, 3, shape, NPU_FORMAT_ND, TRUE, &error);
  g_assert_no_error (error);
  g_assert_nonnull (t);
  g_assert_cmpint (npu_tensor_dtype (t), ==, NPU_DT_BF16);
  g_assert_cmpint (npu_tensor_format (t), ==, NPU_FORMAT_ND);
  g_assert_cmpuint (npu_tensor_ndim (t), ==, 3);
  g_assert_cmpint (npu_tensor_dim (t, 0), ==, 2);
  g_assert_cmpint (npu_tensor_dim (t, 2), ==, 4);
  g_assert_cmpmem (npu_tensor_shape (t), 3 * sizeof (gint64), shape, sizeof shape);
  const gint64 want_strides[3] = { 12, 4, 1 };
  g_assert_cmpmem (npu_tensor_strides (t), 3 * sizeof (gint64), want_strides, sizeof want_strides);
  g_assert_cmpint (npu_tensor_numel (t), ==, 24);
  g_assert_cmpuint (npu_tensor_nbytes (t), ==, 48);
  g_assert_true (npu_tensor_is_contiguous (t));
  /* zero-filled, writable, owned */
  guint16 *d = npu_tensor_data (t);
  g_assert_nonnull (d);
  for (int i = 0; i < 24; i++)
    g_assert_cmpuint (d[i], ==, 0);
  d[23] = 0x3f80;
  g_assert_true (npu_tensor_const_data (t) == (gconstpointer) d);
  g_autofree char *s = npu_tensor_shape_string (t);
  g_assert_cmpstr (s, ==, "(2, 3, 4)");
}

static void
test_timing_only (void)
{
  g_autoptr (GError) error = NULL;
  /* 1 Ti elements: fine without data */
  gint64 shape[2] = { 1 << 20, 1 << 20 };
  g_autoptr (NpuTensor) t = npu_tensor_new (NPU_DT_FP16, 2, shape, NPU_FORMAT_FRACTAL_NZ, FALSE, &error);
  g_assert_no_error (error);
  g_assert_null (npu_tensor_data (t));
  g_assert_cmpint (npu_tensor_numel (t), ==, G_GINT64_CONSTANT (1) << 40);
  g_assert_cmpuint (npu_tensor_nbytes (t), ==, G_GUINT64_CONSTANT (1) << 41);
  g_assert_cmpint (npu_tensor_format (t), ==, NPU_FORMAT_FRACTAL_NZ);
}

static void
test_overflow (void)
{
  g_autoptr (GError) error = NULL;
  gint64 shape[3] = { G_MAXINT64 / 2, 4, 1 };
  NpuTensor *t = npu_tensor_new (NPU_DT_FP32, 3, shape, NPU_FORMAT_ND, FALSE, &error);
  g_assert_null (t);
  g_assert_nonnull (error);
  g_clear_error (&error);
  /* numel fits, bytes do not */
  gint64 shape2[1] = { G_MAXINT64 / 2 };
  t = npu_tensor_new (NPU_DT_INT64, 1, shape2, NPU_FORMAT_ND, FALSE, &error);
  g_assert_null (t);
  g_assert_nonnull (error);
}

static void
test_scalar_and_empty (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NpuTensor) s = npu_tensor_new (NPU_DT_INT32, 0, NULL, NPU_FORMAT_ND, TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpint (npu_tensor_numel (s), ==, 1);
  g_assert_cmpuint (npu_tensor_nbytes (s), ==, 4);
  g_autofree char *ss = npu_tensor_shape_string (s);
  g_assert_cmpstr (ss, ==, "()");

  gint64 shape[2] = { 0, 5 };
  g_autoptr (NpuTensor) e = npu_tensor_new (NPU_DT_FP16, 2, shape, NPU_FORMAT_ND, TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpint (npu_tensor_numel (e), ==, 0);
  g_assert_cmpuint (npu_tensor_nbytes (e), ==, 0);
  g_assert_true (npu_tensor_is_contiguous (e));

  gint64 one[1] = { 7 };
  g_autoptr (NpuTensor) v = npu_tensor_new (NPU_DT_INT8, 1, one, NPU_FORMAT_ND, TRUE, &error);
  g_autofree char *vs = npu_tensor_shape_string (v);
  g_assert_cmpstr (vs, ==, "(7,)");
}

static void
test_2d_and_strides (void)
{
  g_autoptr (NpuTensor) t = npu_tensor_new_2d (NPU_DT_INT8, 3, 5);
  g_assert_cmpint (npu_tensor_dim (t, 0), ==, 3);
  g_assert_cmpint (npu_tensor_strides (t)[0], ==, 5);
  g_assert_cmpint (npu_tensor_strides (t)[1], ==, 1);
  g_assert_true (npu_tensor_is_contiguous (t));
  /* a 3x5 view of 5x3 storage, i.e. a transposed matrix: column-major strides */
  const gint64 tr[2] = { 1, 3 };
  npu_tensor_set_strides (t, tr);
  g_assert_cmpint (npu_tensor_strides (t)[0], ==, 1);
  g_assert_cmpint (npu_tensor_strides (t)[1], ==, 3);
  g_assert_false (npu_tensor_is_contiguous (t));
  g_assert_cmpuint (npu_tensor_nbytes (t), ==, 15);

  /* size-1 dims do not break contiguity whatever their stride */
  g_autoptr (NpuTensor) u = npu_tensor_new_2d (NPU_DT_FP32, 1, 4);
  const gint64 odd[2] = { 99, 1 };
  npu_tensor_set_strides (u, odd);
  g_assert_true (npu_tensor_is_contiguous (u));
}

static void
test_refcount (void)
{
  NpuTensor *t = npu_tensor_new_2d (NPU_DT_FP32, 2, 2);
  float *d = npu_tensor_data (t);
  d[3] = 4.0f;
  NpuTensor *r = npu_tensor_ref (t);
  g_assert_true (r == t);
  npu_tensor_unref (t);
  /* still alive through the second reference */
  g_assert_cmpfloat (((float *) npu_tensor_data (r))[3], ==, 4.0f);
  npu_tensor_unref (r);
  npu_tensor_unref (NULL); /* NULL is ignored, like g_object_unref's cleanup use */
}

/* A reshape view: the 1-D 12-element storage seen as 3 x 4 and as 2 x 2 x 3, row-major
 * element i of the view being element i of the base; writes go both ways. */
static void
test_view_reshape (void)
{
  g_autoptr (GError) error = NULL;
  gint64 n = 12;
  NpuTensor *base = npu_tensor_new (NPU_DT_INT32, 1, &n, NPU_FORMAT_ND, TRUE, &error);
  g_assert_no_error (error);
  gint32 *b = npu_tensor_data (base);
  for (int i = 0; i < 12; i++)
    b[i] = 100 + i;
  gint64 shape[2] = { 3, 4 };
  NpuTensor *v = npu_tensor_new_view (base, 2, shape, &error);
  g_assert_no_error (error);
  g_assert_nonnull (v);
  g_assert_true (npu_tensor_base (v) == base);
  g_assert_null (npu_tensor_base (base));
  g_assert_cmpint (npu_tensor_dtype (v), ==, NPU_DT_INT32);
  g_assert_cmpint (npu_tensor_format (v), ==, NPU_FORMAT_ND);
  g_assert_cmpuint (npu_tensor_ndim (v), ==, 2);
  const gint64 want_strides[2] = { 4, 1 };
  g_assert_cmpmem (npu_tensor_strides (v), 2 * sizeof (gint64), want_strides, sizeof want_strides);
  g_assert_cmpint (npu_tensor_numel (v), ==, 12);
  g_assert_cmpuint (npu_tensor_nbytes (v), ==, 48);
  g_assert_true (npu_tensor_is_contiguous (v));
  /* shared storage: view[2][1] is base[2*4 + 1] = base[9] */
  gint32 *vd = npu_tensor_data (v);
  g_assert_true ((gpointer) vd == (gpointer) b);
  g_assert_cmpint (vd[2 * 4 + 1], ==, 109);
  vd[0] = -7;
  g_assert_cmpint (b[0], ==, -7);
  b[11] = 42;
  g_assert_cmpint (vd[2 * 4 + 3], ==, 42);
  /* a view of a view shares the same bytes */
  gint64 shape3[3] = { 2, 2, 3 };
  NpuTensor *w = npu_tensor_new_view (v, 3, shape3, &error);
  g_assert_no_error (error);
  g_assert_true (npu_tensor_base (w) == v);
  g_assert_true (npu_tensor_const_data (w) == (gconstpointer) b);
  g_autofree char *ws = npu_tensor_shape_string (w);
  g_assert_cmpstr (ws, ==, "(2, 2, 3)");
  /* ownership: the views keep the storage alive after the base's owner lets go */
  npu_tensor_unref (base);
  npu_tensor_unref (v);
  g_assert_cmpint (((const gint32 *) npu_tensor_const_data (w))[11], ==, 42);
  g_assert_cmpint (((const gint32 *) npu_tensor_const_data (w))[0], ==, -7);
  npu_tensor_unref (w);

  /* timing-only: a base without data gives a view without data */
  g_autoptr (NpuTensor) tb = npu_tensor_new (NPU_DT_FP16, 1, &n, NPU_FORMAT_ND, FALSE, &error);
  g_autoptr (NpuTensor) tv = npu_tensor_new_view (tb, 2, shape, &error);
  g_assert_no_error (error);
  g_assert_null (npu_tensor_data (tv));
  g_assert_cmpint (npu_tensor_numel (tv), ==, 12);
}

/* What cannot be viewed: another element count, a strided base, an NZ base. */
static void
test_view_errors (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NpuTensor) t = npu_tensor_new_2d (NPU_DT_FP32, 3, 4);
  gint64 wrong[2] = { 5, 2 };
  NpuTensor *v = npu_tensor_new_view (t, 2, wrong, &error);
  g_assert_null (v);
  g_assert_error (error, NPU_TENSOR_ERROR, NPU_TENSOR_ERROR_VIEW);
  g_assert_nonnull (strstr (error->message, "12 elements"));
  g_assert_nonnull (strstr (error->message, "holds 10"));
  g_clear_error (&error);
  /* a shape whose element count overflows cannot match */
  gint64 huge[3] = { G_MAXINT64 / 2, 4, 3 };
  g_assert_null (npu_tensor_new_view (t, 3, huge, &error));
  g_assert_error (error, NPU_TENSOR_ERROR, NPU_TENSOR_ERROR_VIEW);
  g_clear_error (&error);

  g_autoptr (NpuTensor) s = npu_tensor_new_2d (NPU_DT_FP32, 4, 3);
  const gint64 tr[2] = { 1, 4 };   /* a transposed layout */
  npu_tensor_set_strides (s, tr);
  gint64 flat = 12;
  g_assert_null (npu_tensor_new_view (s, 1, &flat, &error));
  g_assert_error (error, NPU_TENSOR_ERROR, NPU_TENSOR_ERROR_VIEW);
  g_clear_error (&error);

  gint64 nz[4] = { 1, 1, 16, 16 };
  g_autoptr (NpuTensor) z = npu_tensor_new (NPU_DT_FP16, 4, nz, NPU_FORMAT_FRACTAL_NZ, TRUE,
                                            &error);
  g_assert_no_error (error);
  gint64 nd[2] = { 16, 16 };
  g_assert_null (npu_tensor_new_view (z, 2, nd, &error));
  g_assert_error (error, NPU_TENSOR_ERROR, NPU_TENSOR_ERROR_VIEW);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ops/tensor/new", test_new);
  g_test_add_func ("/ops/tensor/timing-only", test_timing_only);
  g_test_add_func ("/ops/tensor/overflow", test_overflow);
  g_test_add_func ("/ops/tensor/scalar-and-empty", test_scalar_and_empty);
  g_test_add_func ("/ops/tensor/2d-and-strides", test_2d_and_strides);
  g_test_add_func ("/ops/tensor/refcount", test_refcount);
  g_test_add_func ("/ops/tensor/view-reshape", test_view_reshape);
  g_test_add_func ("/ops/tensor/view-errors", test_view_errors);
  return g_test_run ();
}
