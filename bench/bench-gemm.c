/* bench-gemm: GFLOP/s of npusim's reference-order GEMM (bf16 inputs with fp32
 * accumulation, int8 with int32 accumulation) next to OpenBLAS sgemm on the same
 * shapes, in the same run, with the same number of threads. Prints one JSON object:
 *   {"bench":"gemm","threads":T,"kernel":"avx512","results":[{"shape":[m,n,k],
 *    "path":"bf16","gflops":..,"openblas_sgemm_gflops":..,"ratio":..},...]}
 * (a multiply-add counts as 2 flops for every path; the openblas fields are null
 * when the build has no OpenBLAS). Each figure is the best of --reps runs.
 *
 * Usage: bench-gemm [--threads T] [--reps R] [--shape MxNxK]... */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "ops/dtype.h"
#include "ops/gemm.h"
#include "ops/gemm-kernels.h"

#ifdef HAVE_OPENBLAS
/* The Fortran entry point, not cblas_sgemm: the link also carries GSL's
 * libgslcblas (via $(GSL_LIBS)), whose cblas_sgemm would win symbol lookup. */
#include <cblas.h>
#include <f77blas.h>
#endif

typedef struct {
  gint64 m, n, k;
} Shape;

static double
best_seconds (void (*fn) (gpointer), gpointer data, int reps)
{
  double best = G_MAXDOUBLE;
  fn (data); /* warm-up: page faults, thread start-up, packing buffers */
  for (int r = 0; r < reps; r++)
    {
      gint64 t0 = g_get_monotonic_time ();
      fn (data);
      gint64 t1 = g_get_monotonic_time ();
      best = MIN (best, (t1 - t0) / 1e6);
    }
  return best;
}

typedef struct {
  Shape s;
  guint threads;
  NpuGemmOperand a16, b16, a8, b8;
  float *af, *bf, *cf;
  gint32 *ci;
} Ctx;

static void
run_bf16 (gpointer p)
{
  Ctx *x = p;
  npu_gemm_f32acc (&x->a16, &x->b16, x->cf, x->threads);
}

static void
run_int8 (gpointer p)
{
  Ctx *x = p;
  npu_gemm_i32acc (&x->a8, &x->b8, x->ci, x->threads);
}

#ifdef HAVE_OPENBLAS
static void
run_sgemm (gpointer p)
{
  Ctx *x = p;
  /* column-major BLAS: C^T (n x m) = B^T (n x k) * A^T (k x m), i.e. the
   * row-major C = A B with the operands' roles swapped */
  blasint m = (blasint) x->s.m, n = (blasint) x->s.n, k = (blasint) x->s.k;
  float one = 1.0f, zero = 0.0f;
  char no = 'N';
  sgemm_ (&no, &no, &n, &m, &k, &one, x->bf, &n, x->af, &k, &zero, x->cf, &n);
}
#endif

static gboolean
parse_shape (const char *str, Shape *out)
{
  gint64 v[3];
  g_auto (GStrv) parts = g_strsplit (str, "x", -1);
  if (g_strv_length (parts) != 3)
    return FALSE;
  for (int i = 0; i < 3; i++)
    {
      char *end = NULL;
      v[i] = g_ascii_strtoll (parts[i], &end, 10);
      if (end == parts[i] || *end != '\0' || v[i] <= 0 || v[i] > 65536)
        return FALSE;
    }
  out->m = v[0];
  out->n = v[1];
  out->k = v[2];
  return TRUE;
}

int
main (int argc, char **argv)
{
  int threads = 0, reps = 3;
  g_auto (GStrv) shape_args = NULL;
  GOptionEntry entries[] = {
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, "threads (default: npu_gemm_default_threads)", "T" },
    { "reps", 'r', 0, G_OPTION_ARG_INT, &reps, "timed runs per figure (best is kept)", "R" },
    { "shape", 's', 0, G_OPTION_ARG_STRING_ARRAY, &shape_args, "MxNxK (repeatable)", "MxNxK" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- GEMM throughput vs OpenBLAS");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("bench-gemm: %s\n", error->message);
      return 2;
    }
  if (threads <= 0)
    threads = (int) npu_gemm_default_threads ();
  if (reps <= 0)
    reps = 1;

  g_autoptr (GArray) shapes = g_array_new (FALSE, FALSE, sizeof (Shape));
  if (shape_args)
    for (char **s = shape_args; *s; s++)
      {
        Shape sh;
        if (!parse_shape (*s, &sh))
          {
            g_printerr ("bench-gemm: bad --shape %s (want MxNxK)\n", *s);
            return 2;
          }
        g_array_append_val (shapes, sh);
      }
  else
    {
      Shape defaults[] = { { 1024, 1024, 1024 }, { 2048, 2048, 1024 } };
      g_array_append_vals (shapes, defaults, G_N_ELEMENTS (defaults));
    }

#ifdef HAVE_OPENBLAS
  openblas_set_num_threads (threads);
#endif
  g_autoptr (GRand) rng = g_rand_new_with_seed (12345);

  GString *out = g_string_new (NULL);
  const char *kenv = g_getenv ("NPUSIM_GEMM_KERNEL");
  const NpuGemmKernels *kern = kenv && *kenv ? npu_gemm_kernels_get (kenv) : NULL;
  if (kern == NULL)
    kern = npu_gemm_kernels_get (NULL);
  g_string_append_printf (out, "{\"bench\":\"gemm\",\"threads\":%d,\"kernel\":\"%s\",\"results\":[",
                          threads, kern->name);
  gboolean first = TRUE;
  for (guint si = 0; si < shapes->len; si++)
    {
      Ctx x = { .s = g_array_index (shapes, Shape, si), .threads = (guint) threads };
      gint64 m = x.s.m, n = x.s.n, k = x.s.k;
      g_autofree guint16 *a16 = g_new (guint16, m * k);
      g_autofree guint16 *b16 = g_new (guint16, k * n);
      g_autofree gint8 *a8 = g_new (gint8, m * k);
      g_autofree gint8 *b8 = g_new (gint8, k * n);
      g_autofree float *af = g_new (float, m * k);
      g_autofree float *bf = g_new (float, k * n);
      g_autofree float *cf = g_new0 (float, m * n);
      g_autofree gint32 *ci = g_new0 (gint32, m * n);
      for (gint64 i = 0; i < m * k; i++)
        {
          a16[i] = npu_f32_to_bf16 ((float) g_rand_double_range (rng, -1, 1));
          af[i] = npu_bf16_to_f32 (a16[i]);
          a8[i] = (gint8) g_rand_int_range (rng, -128, 128);
        }
      for (gint64 i = 0; i < k * n; i++)
        {
          b16[i] = npu_f32_to_bf16 ((float) g_rand_double_range (rng, -1, 1));
          bf[i] = npu_bf16_to_f32 (b16[i]);
          b8[i] = (gint8) g_rand_int_range (rng, -128, 128);
        }
      x.a16 = (NpuGemmOperand) { a16, NPU_DT_BF16, m, k, k, 1 };
      x.b16 = (NpuGemmOperand) { b16, NPU_DT_BF16, k, n, n, 1 };
      x.a8 = (NpuGemmOperand) { a8, NPU_DT_INT8, m, k, k, 1 };
      x.b8 = (NpuGemmOperand) { b8, NPU_DT_INT8, k, n, n, 1 };
      x.af = af;
      x.bf = bf;
      x.cf = cf;
      x.ci = ci;

      double flop = 2.0 * m * n * k;
      double t_bf16 = best_seconds (run_bf16, &x, reps);
      double t_int8 = best_seconds (run_int8, &x, reps);
      double t_blas = 0;
#ifdef HAVE_OPENBLAS
      t_blas = best_seconds (run_sgemm, &x, reps);
#endif
      struct {
        const char *path;
        double t;
      } rows[] = { { "bf16", t_bf16 }, { "int8", t_int8 } };
      for (guint r = 0; r < G_N_ELEMENTS (rows); r++)
        {
          double gf = flop / rows[r].t / 1e9;
          g_string_append_printf (out, "%s{\"shape\":[%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT
                                  ",%" G_GINT64_FORMAT "],\"path\":\"%s\",\"gflops\":%.2f,",
                                  first ? "" : ",", m, n, k, rows[r].path, gf);
          if (t_blas > 0)
            {
              double bgf = flop / t_blas / 1e9;
              g_string_append_printf (out, "\"openblas_sgemm_gflops\":%.2f,\"ratio\":%.3f}",
                                      bgf, gf / bgf);
            }
          else
            g_string_append (out, "\"openblas_sgemm_gflops\":null,\"ratio\":null}");
          first = FALSE;
        }
    }
  g_string_append (out, "]}");
  puts (out->str);
  g_string_free (out, TRUE);
  return 0;
}
