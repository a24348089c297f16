/* GroupedMatMulAlltoAllv tiling (ops/gmm-tiling.h): ComputeBaseMNK on the A3 die's L0
 * sizes, worked by hand from grouped_mat_mul_allto_allv_tiling.cpp, and the block
 * order of MnBlockIdxCompute (hand-worked values, and a permutation of the grid). */
#include <glib.h>
#include "models/hw.h"
#include "ops/gmm-tiling.h"

static const NpuHw *
a3 (void)
{
  static NpuPreset *p;
  if (p == NULL)
    {
      g_autoptr (GError) error = NULL;
      p = npu_preset_load ("a3", &error);
      g_assert_no_error (error);
    }
  return npu_preset_hw (p);
}

static void
check_base (guint m, guint n, guint k, guint bm, guint bn, guint bk)
{
  NpuGmmBase b;
  g_assert_true (npu_gmm_base_mnk (a3 (), m, n, k, &b));
  g_assert_cmpuint (b.base_m, ==, bm);
  g_assert_cmpuint (b.base_n, ==, bn);
  g_assert_cmpuint (b.base_k, ==, bk);
}

static void
test_base_mnk (void)
{
  /* L0A = L0B = 64 KiB, L0C = 128 KiB.
   * Spec example, N1 = 4096: baseN 256; baseK = 32768 / (256*2) = 64;
   * baseM = min(32768 / (64*2) = 256, 131072 / (256*4) = 128) = 128. */
  check_base (8192, 4096, 7168, 128, 256, 64);
  /* N = 48: baseN 32 -> doubled to 64; baseK = 32768 / 128 = 256 > 128 -> 128, baseN
   * stays min(64, 32768 / 256 = 128) = 64; baseM = min(32768 / 256 = 128, 512) = 128. */
  check_base (1024, 48, 8192, 128, 64, 128);
  /* N = 16: baseN 16 (exact power of two); baseK 1024 -> 128; baseM 128. */
  check_base (1024, 16, 8192, 128, 16, 128);
  /* A = 40 < 128: baseM = SixteenAlign(40, up) = 48, then SetFixSplit(min(48, 40)). */
  check_base (40, 4096, 7168, 40, 256, 64);
  /* K = 40 < baseK 64: baseK = min(64, SixteenAlign(40, up) = 48) = 48;
   * baseM = min(32768 / (48*2) = 341, 131072 / (256*4) = 128) = 128. */
  check_base (4096, 4096, 40, 128, 256, 48);
}

static void
test_block_order (void)
{
  guint m, n;
  /* up to 5 block rows: row-major */
  npu_gmm_block_idx (7, 5, 3, &m, &n);
  g_assert_cmpuint (m, ==, 2);
  g_assert_cmpuint (n, ==, 1);
  /* 16 x 16 (the spec example's experts): 8 x 8 groups walked diagonally */
  static const guint cases[][3] = { { 0, 0, 0 }, { 1, 1, 1 }, { 8, 0, 1 }, { 9, 1, 2 },
                                    { 64, 0, 8 }, { 128, 8, 0 } };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      npu_gmm_block_idx (cases[i][0], 16, 16, &m, &n);
      g_assert_cmpuint (m, ==, cases[i][1]);
      g_assert_cmpuint (n, ==, cases[i][2]);
    }
  /* every grid up to 70 x 40: a permutation of the blocks */
  for (guint dm = 1; dm <= 70; dm++)
    for (guint dn = 1; dn <= 40; dn++)
      {
        g_autofree guint8 *seen = g_new0 (guint8, dm * dn);
        for (guint b = 0; b < dm * dn; b++)
          {
            npu_gmm_block_idx (b, dm, dn, &m, &n);
            g_assert_cmpuint (m, <, dm);
            g_assert_cmpuint (n, <, dn);
            g_assert_cmpuint (seen[m * dn + n], ==, 0);
            seen[m * dn + n] = 1;
          }
      }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/gmm/tiling/base-mnk", test_base_mnk);
  g_test_add_func ("/gmm/tiling/block-order", test_block_order);
  return g_test_run ();
}
