/* bench-agmm-gemm: wall time of one npusim reference-order GEMM (ops/gemm.h) of the
 * given shape, the "GEMM alone" next to which bench/bench-agmm.py puts the data-mode
 * runs of the AllGatherMatmulV2 scenarios. Inputs are bf16 (or int8) values from a
 * fixed xorshift sequence; the result is fp32 (int32). Prints one JSON object:
 *   {"shape":[m,n,k],"dtype":"bfloat16","threads":T,"seconds":S,"gflops":G}
 * Usage: bench-agmm-gemm M N K [bfloat16|int8] [THREADS] */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include "ops/dtype.h"
#include "ops/gemm.h"

static guint32
xorshift (guint32 *s)
{
  *s ^= *s << 13;
  *s ^= *s >> 17;
  *s ^= *s << 5;
  return *s;
}

int
main (int argc, char **argv)
{
  if (argc < 4)
    {
      fprintf (stderr, "usage: bench-agmm-gemm M N K [bfloat16|int8] [THREADS]\n");
      return 2;
    }
  gint64 m = g_ascii_strtoll (argv[1], NULL, 10), n = g_ascii_strtoll (argv[2], NULL, 10),
         k = g_ascii_strtoll (argv[3], NULL, 10);
  NpuDtype dt = NPU_DT_BF16;
  if (argc > 4 && !npu_dtype_from_name (argv[4], &dt))
    return 2;
  guint threads = argc > 5 ? (guint) atoi (argv[5]) : 0;
  if (m <= 0 || n <= 0 || k <= 0 || (dt != NPU_DT_BF16 && dt != NPU_DT_INT8))
    return 2;
  gsize es = npu_dtype_size (dt);
  guint8 *a = g_malloc ((gsize) (m * k) * es), *b = g_malloc ((gsize) (k * n) * es);
  guint32 s = 2463534242u;
  for (gint64 i = 0; i < m * k; i++)
    npu_dtype_store_f32 (dt, a, (gsize) i, (float) ((gint) (xorshift (&s) % 11) - 5));
  for (gint64 i = 0; i < k * n; i++)
    npu_dtype_store_f32 (dt, b, (gsize) i, (float) ((gint) (xorshift (&s) % 11) - 5));
  gpointer c = g_malloc ((gsize) (m * n) * 4);
  NpuGemmOperand ao = { a, dt, m, k, k, 1 }, bo = { b, dt, k, n, n, 1 };
  gint64 t0 = g_get_monotonic_time ();
  if (dt == NPU_DT_INT8)
    npu_gemm_i32acc (&ao, &bo, c, threads);
  else
    npu_gemm_f32acc (&ao, &bo, c, threads);
  double sec = (g_get_monotonic_time () - t0) / 1e6;
  printf ("{\"shape\":[%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT
          "],\"dtype\":\"%s\",\"threads\":%u,\"seconds\":%.3f,\"gflops\":%.2f}\n", m, n, k,
          npu_dtype_name (dt), threads ? threads : npu_gemm_default_threads (), sec,
          2.0 * m * n * k / sec / 1e9);
  g_free (a);
  g_free (b);
  g_free (c);
  return 0;
}
