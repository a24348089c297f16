/* gemm-run: runs one npusim GEMM on raw arrays, for tests/test-ops-gemm.py.
 *
 *   gemm-run DTYPE_A DTYPE_B M N K TRANS_A TRANS_B THREADS A.bin B.bin C.bin [KERNEL]
 *
 * A.bin holds A (m x k) row-major, or its transpose (k x m row-major) if TRANS_A
 * is 1; B.bin holds B (k x n), or its transpose (n x k) if TRANS_B is 1; elements
 * are raw little-endian bits of the dtype (names as npu_dtype_from_name). C.bin
 * receives C (m x n) row-major as float32, or int32 for int8 inputs. The
 * transposes are passed to the GEMM as strides (no copy), as an operator would.
 * With KERNEL the internal entry point is used, which runs exactly THREADS
 * threads even on tiny products: KERNEL is a micro-kernel variant ("generic",
 * "sse2", "avx2", "avx512"; exit status 77 if this CPU/build lacks it) or
 * "default". Without it, the public npu_gemm_f32acc / npu_gemm_i32acc. */
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "ops/dtype.h"
#include "ops/gemm.h"
#include "ops/gemm-kernels.h"

static gint64
parse_int (const char *s)
{
  char *end = NULL;
  gint64 v = g_ascii_strtoll (s, &end, 10);
  if (end == s || *end != '\0' || v < 0)
    {
      g_printerr ("gemm-run: bad number %s\n", s);
      exit (2);
    }
  return v;
}

static gpointer
read_exact (const char *path, gsize want)
{
  g_autoptr (GError) error = NULL;
  gchar *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents (path, &data, &len, &error))
    {
      g_printerr ("gemm-run: %s\n", error->message);
      exit (2);
    }
  if (len != want)
    {
      g_printerr ("gemm-run: %s has %zu bytes, want %zu\n", path, len, want);
      exit (2);
    }
  return data;
}

int
main (int argc, char **argv)
{
  if (argc != 12 && argc != 13)
    {
      g_printerr ("usage: gemm-run DTYPE_A DTYPE_B M N K TRANS_A TRANS_B THREADS A B C [KERNEL]\n");
      return 2;
    }
  NpuDtype da, db;
  if (!npu_dtype_from_name (argv[1], &da) || !npu_dtype_from_name (argv[2], &db))
    {
      g_printerr ("gemm-run: unknown dtype\n");
      return 2;
    }
  gint64 m = parse_int (argv[3]), n = parse_int (argv[4]), k = parse_int (argv[5]);
  gboolean ta = parse_int (argv[6]) != 0, tb = parse_int (argv[7]) != 0;
  guint threads = (guint) parse_int (argv[8]);
  const NpuGemmKernels *kern = NULL;
  gboolean internal = argc == 13;
  if (internal && strcmp (argv[12], "default") != 0)
    {
      kern = npu_gemm_kernels_get (argv[12]);
      if (kern == NULL)
        return 77;
    }

  g_autofree gpointer a = read_exact (argv[9], (gsize) (m * k) * npu_dtype_size (da));
  g_autofree gpointer b = read_exact (argv[10], (gsize) (k * n) * npu_dtype_size (db));
  NpuGemmOperand oa = { a, da, m, k, ta ? 1 : k, ta ? m : 1 };
  NpuGemmOperand ob = { b, db, k, n, tb ? 1 : n, tb ? k : 1 };
  gsize cbytes = (gsize) (m * n) * 4;
  g_autofree gpointer c = g_malloc (cbytes ? cbytes : 1);
  /* garbage in C: the GEMM must overwrite, not accumulate into, the output */
  memset (c, 0x5a, cbytes);
  gboolean is_int = da == NPU_DT_INT8;
  if (internal)
    npu_gemm_run_with_kernels (kern, &oa, &ob, c, is_int, threads);
  else if (is_int)
    npu_gemm_i32acc (&oa, &ob, c, threads);
  else
    npu_gemm_f32acc (&oa, &ob, c, threads);

  g_autoptr (GError) error = NULL;
  if (!g_file_set_contents (argv[11], c, (gssize) cbytes, &error))
    {
      g_printerr ("gemm-run: %s\n", error->message);
      return 2;
    }
  return 0;
}
