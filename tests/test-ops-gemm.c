/* Tests of ops/gemm.c against GSL's float64 dgemm and against itself.
 *
 *  - accuracy: |C - C64| <= 1.01 * k * 2^-24 * (|A| |B|) elementwise, where C64 and
 *    |A||B| come from gsl_blas_dgemm on the widened inputs (exact in float64 for
 *    these sizes). Sequential fp32 summation of k exact products has error at most
 *    (k-1)u/(1-(k-1)u) * sum|a b| with u = 2^-24 (Higham, Accuracy and Stability,
 *    eq. 4.4); fp32 inputs add one product rounding each, still within k*u;
 *  - int8: exact, equal to a naive int64 triple loop and to dgemm;
 *  - determinism: 1, 2, 3, 4 threads and every micro-kernel variant give the same
 *    bits; strided operands (sub-matrix views, transposes) the same bits as the
 *    contiguous copy;
 *  - edge cases: k = 0, empty m/n, inf * 0 -> NaN, the default thread count.
 * (tests/test-ops-gemm.py checks bit-exactness against a NumPy model of the order.) */
#include <glib.h>
#include <gsl/gsl_blas.h>
#include <gsl/gsl_matrix.h>
#include <math.h>
#include <string.h>

#include "ops/dtype.h"
#include "ops/gemm.h"
#include "ops/gemm-kernels.h"

/* random operand of @dt, values spread over binades; also its float64 copy */
static gpointer
random_operand (GRand *rng, NpuDtype dt, gint64 rows, gint64 cols, gsl_matrix **as_double)
{
  gsize n = (gsize) (rows * cols);
  gpointer data = g_malloc0 (n * npu_dtype_size (dt) + 1);
  *as_double = gsl_matrix_alloc (rows ? rows : 1, cols ? cols : 1);
  for (gsize i = 0; i < n; i++)
    {
      if (dt == NPU_DT_INT8)
        ((gint8 *) data)[i] = (gint8) g_rand_int_range (rng, -128, 128);
      else
        {
          double v = g_rand_double_range (rng, -1, 1) * ldexp (1.0, g_rand_int_range (rng, -5, 6));
          npu_dtype_store_f32 (dt, data, i, (float) v);
        }
      gsl_matrix_set (*as_double, i / cols, i % cols, npu_dtype_load_f32 (dt, data, i));
    }
  return data;
}

static gsl_matrix *
abs_matrix (const gsl_matrix *m)
{
  gsl_matrix *r = gsl_matrix_alloc (m->size1, m->size2);
  for (size_t i = 0; i < m->size1; i++)
    for (size_t j = 0; j < m->size2; j++)
      gsl_matrix_set (r, i, j, fabs (gsl_matrix_get (m, i, j)));
  return r;
}

static void
check_accuracy (NpuDtype da, NpuDtype db, gint64 m, gint64 n, gint64 k, guint seed)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (seed);
  gsl_matrix *a64, *b64;
  g_autofree gpointer a = random_operand (rng, da, m, k, &a64);
  g_autofree gpointer b = random_operand (rng, db, k, n, &b64);
  NpuGemmOperand oa = { a, da, m, k, k, 1 };
  NpuGemmOperand ob = { b, db, k, n, n, 1 };
  g_autofree float *c = g_new (float, m * n);
  npu_gemm_f32acc (&oa, &ob, c, 0);

  gsl_matrix *ref = gsl_matrix_alloc (m, n), *absref = gsl_matrix_alloc (m, n);
  gsl_matrix *aa = abs_matrix (a64), *ab = abs_matrix (b64);
  gsl_blas_dgemm (CblasNoTrans, CblasNoTrans, 1.0, a64, b64, 0.0, ref);
  gsl_blas_dgemm (CblasNoTrans, CblasNoTrans, 1.0, aa, ab, 0.0, absref);
  double worst = 0;
  for (gint64 i = 0; i < m; i++)
    for (gint64 j = 0; j < n; j++)
      {
        double err = fabs ((double) c[i * n + j] - gsl_matrix_get (ref, i, j));
        double bound = 1.01 * (double) k * ldexp (1.0, -24) * gsl_matrix_get (absref, i, j);
        if (err > bound)
          g_error ("%s x %s %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT "x%" G_GINT64_FORMAT
                   " C[%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT "] = %.9g, float64 %.17g, "
                   "error %.3g > bound %.3g",
                   npu_dtype_name (da), npu_dtype_name (db), m, n, k, i, j, c[i * n + j],
                   gsl_matrix_get (ref, i, j), err, bound);
        if (bound > 0)
          worst = MAX (worst, err / bound);
      }
  g_test_message ("%s %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT "x%" G_GINT64_FORMAT
                  ": worst error / bound = %.3f", npu_dtype_name (da), m, n, k, worst);
  gsl_matrix_free (a64);
  gsl_matrix_free (b64);
  gsl_matrix_free (aa);
  gsl_matrix_free (ab);
  gsl_matrix_free (ref);
  gsl_matrix_free (absref);
}

static void
test_accuracy (void)
{
  check_accuracy (NPU_DT_BF16, NPU_DT_BF16, 67, 45, 1000, 1);
  check_accuracy (NPU_DT_FP16, NPU_DT_FP16, 33, 70, 777, 2);
  check_accuracy (NPU_DT_FP8_E4M3FN, NPU_DT_FP8_E4M3FN, 20, 19, 300, 3);
  check_accuracy (NPU_DT_FP8_E5M2, NPU_DT_BF16, 9, 40, 129, 4);
  check_accuracy (NPU_DT_FP32, NPU_DT_FP32, 40, 33, 513, 5);
  check_accuracy (NPU_DT_BF16, NPU_DT_BF16, 5, 7, 1, 6);
}

static void
test_int8_exact (void)
{
  const gint64 m = 37, n = 29, k = 1031;
  g_autoptr (GRand) rng = g_rand_new_with_seed (11);
  gsl_matrix *a64, *b64;
  g_autofree gint8 *a = random_operand (rng, NPU_DT_INT8, m, k, &a64);
  g_autofree gint8 *b = random_operand (rng, NPU_DT_INT8, k, n, &b64);
  /* extremes: a row of -128 against a column of -128 gives k * 16384 */
  for (gint64 kk = 0; kk < k; kk++)
    {
      a[kk] = -128;
      b[kk * n] = -128;
      gsl_matrix_set (a64, 0, kk, -128);
      gsl_matrix_set (b64, kk, 0, -128);
    }
  NpuGemmOperand oa = { a, NPU_DT_INT8, m, k, k, 1 };
  NpuGemmOperand ob = { b, NPU_DT_INT8, k, n, n, 1 };
  g_autofree gint32 *c = g_new (gint32, m * n);
  npu_gemm_i32acc (&oa, &ob, c, 2);
  gsl_matrix *ref = gsl_matrix_alloc (m, n);
  gsl_blas_dgemm (CblasNoTrans, CblasNoTrans, 1.0, a64, b64, 0.0, ref);
  for (gint64 i = 0; i < m; i++)
    for (gint64 j = 0; j < n; j++)
      {
        gint64 s = 0;
        for (gint64 kk = 0; kk < k; kk++)
          s += (gint64) a[i * k + kk] * b[kk * n + j];
        g_assert_cmpint (c[i * n + j], ==, s);
        g_assert_cmpfloat (gsl_matrix_get (ref, i, j), ==, (double) s);
      }
  g_assert_cmpint (c[0], ==, 1031 * 16384);
  gsl_matrix_free (a64);
  gsl_matrix_free (b64);
  gsl_matrix_free (ref);
}

/* bits of one GEMM run with the given threads / kernels / operands */
static gpointer
run (const NpuGemmKernels *kern, const NpuGemmOperand *a, const NpuGemmOperand *b,
     guint threads, gboolean forced)
{
  gboolean is_int = a->dtype == NPU_DT_INT8;
  gpointer c = g_malloc (a->rows * b->cols * 4 + 1);
  if (forced || kern)
    npu_gemm_run_with_kernels (kern, a, b, c, is_int, threads);
  else if (is_int)
    npu_gemm_i32acc (a, b, c, threads);
  else
    npu_gemm_f32acc (a, b, c, threads);
  return c;
}

static void
test_thread_and_kernel_invariance (void)
{
  static const NpuDtype dts[] = { NPU_DT_BF16, NPU_DT_FP16, NPU_DT_INT8 };
  const gint64 m = 203, n = 301, k = 517; /* 31M MACs: the public API uses threads */
  for (guint d = 0; d < G_N_ELEMENTS (dts); d++)
    {
      g_autoptr (GRand) rng = g_rand_new_with_seed (100 + d);
      gsl_matrix *a64, *b64;
      g_autofree gpointer a = random_operand (rng, dts[d], m, k, &a64);
      g_autofree gpointer b = random_operand (rng, dts[d], k, n, &b64);
      NpuGemmOperand oa = { a, dts[d], m, k, k, 1 };
      NpuGemmOperand ob = { b, dts[d], k, n, n, 1 };
      gsize bytes = m * n * 4;
      g_autofree gpointer c1 = run (NULL, &oa, &ob, 1, FALSE);
      for (guint t = 2; t <= 4; t++)
        {
          g_autofree gpointer ct = run (NULL, &oa, &ob, t, FALSE);
          g_assert_cmpmem (ct, bytes, c1, bytes);
        }
      /* a tall-skinny shape splits along m instead of n */
      NpuGemmOperand oa2 = { a, dts[d], m, 64, k, 1 };
      NpuGemmOperand ob2 = { b, dts[d], 64, 5, n, 1 };
      g_autofree gpointer s1 = run (NULL, &oa2, &ob2, 1, TRUE);
      g_autofree gpointer s3 = run (NULL, &oa2, &ob2, 3, TRUE);
      g_assert_cmpmem (s3, m * 5 * 4, s1, m * 5 * 4);
      static const char *names[] = { "generic", "sse2", "avx2", "avx512" };
      for (guint i = 0; i < G_N_ELEMENTS (names); i++)
        {
          const NpuGemmKernels *kern = npu_gemm_kernels_get (names[i]);
          if (kern == NULL)
            {
              g_test_message ("kernel %s not available here", names[i]);
              continue;
            }
          g_autofree gpointer ck = run (kern, &oa, &ob, 2, TRUE);
          g_assert_cmpmem (ck, bytes, c1, bytes);
        }
      gsl_matrix_free (a64);
      gsl_matrix_free (b64);
    }
}

/* A and B as strided views (inside larger buffers, and transposed) give the same
 * bits as contiguous copies. */
static void
test_strided_views (void)
{
  const gint64 m = 45, n = 38, k = 300, lda = 333, ldb = 50;
  g_autoptr (GRand) rng = g_rand_new_with_seed (77);
  g_autofree guint16 *abig = g_new (guint16, m * lda);
  g_autofree guint16 *bbig = g_new (guint16, k * ldb);
  for (gint64 i = 0; i < m * lda; i++)
    abig[i] = npu_f32_to_bf16 ((float) g_rand_double_range (rng, -4, 4));
  for (gint64 i = 0; i < k * ldb; i++)
    bbig[i] = npu_f32_to_bf16 ((float) g_rand_double_range (rng, -4, 4));
  g_autofree guint16 *a = g_new (guint16, m * k);
  g_autofree guint16 *b = g_new (guint16, k * n);
  g_autofree guint16 *bt = g_new (guint16, n * k); /* B^T stored n x k */
  for (gint64 i = 0; i < m; i++)
    for (gint64 kk = 0; kk < k; kk++)
      a[i * k + kk] = abig[i * lda + kk];
  for (gint64 kk = 0; kk < k; kk++)
    for (gint64 j = 0; j < n; j++)
      {
        b[kk * n + j] = bbig[kk * ldb + j];
        bt[j * k + kk] = b[kk * n + j];
      }
  NpuGemmOperand oa = { a, NPU_DT_BF16, m, k, k, 1 };
  NpuGemmOperand ob = { b, NPU_DT_BF16, k, n, n, 1 };
  NpuGemmOperand va = { abig, NPU_DT_BF16, m, k, lda, 1 };
  NpuGemmOperand vb = { bbig, NPU_DT_BF16, k, n, ldb, 1 };
  NpuGemmOperand tb = { bt, NPU_DT_BF16, k, n, 1, k };
  gsize bytes = m * n * 4;
  g_autofree gpointer c = run (NULL, &oa, &ob, 1, FALSE);
  g_autofree gpointer cv = run (NULL, &va, &vb, 2, TRUE);
  g_autofree gpointer ct = run (NULL, &va, &tb, 2, TRUE);
  g_assert_cmpmem (cv, bytes, c, bytes);
  g_assert_cmpmem (ct, bytes, c, bytes);
}

static void
test_edges (void)
{
  /* k = 0: C is zero-filled */
  float c[6];
  memset (c, 0x7f, sizeof c);
  guint16 dummy = 0;
  NpuGemmOperand a0 = { &dummy, NPU_DT_FP16, 2, 0, 0, 1 };
  NpuGemmOperand b0 = { &dummy, NPU_DT_FP16, 0, 3, 3, 1 };
  npu_gemm_f32acc (&a0, &b0, c, 1);
  for (int i = 0; i < 6; i++)
    g_assert_cmphex (((guint32 *) c)[i], ==, 0);
  /* empty m: nothing is touched */
  NpuGemmOperand ae = { NULL, NPU_DT_FP16, 0, 4, 4, 1 };
  NpuGemmOperand be = { &dummy, NPU_DT_FP16, 4, 3, 3, 1 };
  npu_gemm_f32acc (&ae, &be, NULL, 1);

  /* inf * 0 = NaN; inf * 1 = inf; -0 products leave a +0 accumulator at +0 */
  float a[2 * 2] = { INFINITY, 1.0f, -0.0f, -0.0f };
  float b[2 * 2] = { 0.0f, 1.0f, 0.0f, 0.0f };
  NpuGemmOperand oa = { a, NPU_DT_FP32, 2, 2, 2, 1 };
  NpuGemmOperand ob = { b, NPU_DT_FP32, 2, 2, 2, 1 };
  float r[4];
  npu_gemm_f32acc (&oa, &ob, r, 1);
  g_assert_true (isnan (r[0]));
  g_assert_true (isinf (r[1]) && r[1] > 0);
  g_assert_cmphex (((guint32 *) r)[2], ==, 0); /* +0 + (-0*0) + (-0*0) = +0 */
  g_assert_cmphex (((guint32 *) r)[3], ==, 0);
}

static void
test_default_threads (void)
{
  g_setenv ("NPUSIM_THREADS", "3", TRUE);
  g_assert_cmpuint (npu_gemm_default_threads (), ==, 3);
  g_setenv ("NPUSIM_THREADS", "lots", TRUE);
  g_test_expect_message (NULL, G_LOG_LEVEL_WARNING, "*NPUSIM_THREADS*");
  g_assert_cmpuint (npu_gemm_default_threads (), ==, MAX (1u, g_get_num_processors ()));
  g_test_assert_expected_messages ();
  g_unsetenv ("NPUSIM_THREADS");
  g_assert_cmpuint (npu_gemm_default_threads (), ==, MAX (1u, g_get_num_processors ()));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  gsl_set_error_handler_off ();
  /* first: it sets environment variables, which is only safe before the GEMM
   * thread pool exists */
  g_test_add_func ("/ops/gemm/default-threads", test_default_threads);
  g_test_add_func ("/ops/gemm/accuracy-vs-gsl-dgemm", test_accuracy);
  g_test_add_func ("/ops/gemm/int8-exact", test_int8_exact);
  g_test_add_func ("/ops/gemm/thread-and-kernel-invariance", test_thread_and_kernel_invariance);
  g_test_add_func ("/ops/gemm/strided-views", test_strided_views);
  g_test_add_func ("/ops/gemm/edges", test_edges);
  return g_test_run ();
}
