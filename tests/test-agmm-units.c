/* AllGatherMatmulV2 / MatMul building blocks: the decoded default CoC tilings (the
 * table of ../shared/REFERENCE.md §1.2), the window clamp of pValue, the CATLASS
 * swizzle and the dequant numerics, against hand-derived values. */
#include <glib.h>
#include <string.h>
#include "ops/agmm-private.h"
#include "ops/quant-scale.h"

static void
test_tiling_defaults (void)
{
  AgmmTiling t;
  /* REFERENCE.md §1.2 "Decoded defaults": 910B 8-rank fp16 128 / 8 / 16 / 1024. */
  agmm_tiling_default (FALSE, 8, FALSE, &t);
  g_assert_cmpint (t.m0, ==, 128);
  g_assert_cmpint (t.n0, ==, 256);
  g_assert_cmpint (t.k0, ==, 256);
  g_assert_cmpint (t.p_value, ==, 8);
  g_assert_cmpint (t.comm_data_split, ==, 16);
  g_assert_cmpint (t.ub_move_num, ==, 1024);
  g_assert_cmpint (t.comm_npu_split, ==, 1);
  g_assert_cmpint (t.comm_direct, ==, 1);
  g_assert_cmpint (t.swizzl_count, ==, 3);
  /* 910B 8-rank int8: 256 / 1 / 8 / 3072 (n0 = 128 with m0 = 256). */
  agmm_tiling_default (FALSE, 8, TRUE, &t);
  g_assert_cmpint (t.m0, ==, 256);
  g_assert_cmpint (t.n0, ==, 128);
  g_assert_cmpint (t.p_value, ==, 1);
  g_assert_cmpint (t.comm_data_split, ==, 8);
  g_assert_cmpint (t.ub_move_num, ==, 3072);
  /* A3 8-rank fp16: 256 / 1 / 8 / 8192; A3 4-rank int8: 256 / 12 / 16 / 8192. */
  agmm_tiling_default (TRUE, 8, FALSE, &t);
  g_assert_cmpint (t.m0, ==, 256);
  g_assert_cmpint (t.p_value, ==, 1);
  g_assert_cmpint (t.comm_data_split, ==, 8);
  g_assert_cmpint (t.ub_move_num, ==, 8192);
  agmm_tiling_default (TRUE, 4, TRUE, &t);
  g_assert_cmpint (t.p_value, ==, 12);
  g_assert_cmpint (t.comm_data_split, ==, 16);
  /* 2 ranks fp16 has no table: the kernel's "Default Tiling Func", 910B 8-rank fp16
   * (also on A3, whose tables cover 4 and 8 ranks only). */
  agmm_tiling_default (TRUE, 2, FALSE, &t);
  g_assert_cmpint (t.m0, ==, 128);
  g_assert_cmpint (t.p_value, ==, 8);
  g_assert_cmpstr (t.source, ==, "910B 8-rank fp16 default");
  /* A3 2 ranks int8 uses the 910B 2-rank int8 table. */
  agmm_tiling_default (TRUE, 2, TRUE, &t);
  g_assert_cmpstr (t.source, ==, "910B 2-rank int8 default");
}

static void
test_tiling_clamp (void)
{
  AgmmTiling t;
  /* maxPeerMemPerRank = (204 MiB - 2.5 MiB) / 2 / 8 / 2 = 211288064 / 32 = 6602752.
   * k = 8192: kLoop 32, maxP = 6602752 / 256 / 256 / 32 = 3: pValue 2 stays. */
  agmm_tiling_default (TRUE, 8, TRUE, &t);
  agmm_tiling_finish (&t, 1000, 8192, 300, 8);
  g_assert_cmpint (t.p_value, ==, 2);
  g_assert_cmpint (t.m0, ==, 256);
  g_assert_cmpint (t.m_loop, ==, 4);   /* ceil(1000 / 256) */
  g_assert_cmpint (t.n_loop, ==, 3);   /* ceil(300 / 128) */
  g_assert_cmpint (t.k_loop, ==, 32);
  g_assert_cmpint (t.len_per_loop, ==, 15360 * 8);
  /* k = 32768: kLoop 128, maxP = 0 -> pValue 1, and 1·256·256·128 = 8388608 >=
   * 6602752: m0 falls back to 128 (n0 256). */
  agmm_tiling_default (TRUE, 8, TRUE, &t);
  agmm_tiling_finish (&t, 1000, 32768, 300, 8);
  g_assert_cmpint (t.p_value, ==, 1);
  g_assert_cmpint (t.m0, ==, 128);
  g_assert_cmpint (t.n0, ==, 256);
  g_assert_cmpint (t.m_loop, ==, 8);
  g_assert_cmpint (t.n_loop, ==, 2);
  /* 910B 8-rank fp16, k = 65534 (kLoop 256): maxP = 0 -> pValue 1, m0 stays 128. */
  agmm_tiling_default (FALSE, 8, FALSE, &t);
  agmm_tiling_finish (&t, 64, 65534, 64, 8);
  g_assert_cmpint (t.p_value, ==, 1);
  g_assert_cmpint (t.m0, ==, 128);
}

static void
test_swizzle (void)
{
  /* Direction 0, count 3, 4 x 2 tiles: a band of rows 0-2 walked down each column,
   * then the last row (band 1, odd: n reversed). */
  static const guint want0[8][2] = { { 0, 0 }, { 1, 0 }, { 2, 0 }, { 0, 1 }, { 1, 1 },
                                     { 2, 1 }, { 3, 1 }, { 3, 0 } };
  for (guint i = 0; i < 8; i++)
    {
      guint m, n;
      npu_mm_swizzle (i, 4, 2, 0, 3, &m, &n);
      g_assert_cmpuint (m, ==, want0[i][0]);
      g_assert_cmpuint (n, ==, want0[i][1]);
    }
  /* Direction 1, count 3, 2 x 4 tiles: columns 0-2 walked along each row, then column
   * 3 (band 1, odd: m reversed). */
  static const guint want1[8][2] = { { 0, 0 }, { 0, 1 }, { 0, 2 }, { 1, 0 }, { 1, 1 },
                                     { 1, 2 }, { 1, 3 }, { 0, 3 } };
  for (guint i = 0; i < 8; i++)
    {
      guint m, n;
      npu_mm_swizzle (i, 2, 4, 1, 3, &m, &n);
      g_assert_cmpuint (m, ==, want1[i][0]);
      g_assert_cmpuint (n, ==, want1[i][1]);
    }
}

static void
test_dequant (void)
{
  /* 3 * 0.5 * 2 = 3.0 -> fp16 0x4200; 100000 * 1 -> fp16 saturates to 65504 (0x7BFF). */
  gint32 acc[2] = { 3, 100000 };
  float x2s[2] = { 0.5f, 1.0f };
  float x1s[1] = { 2.0f };
  guint16 out[2];
  npu_mm_dequant_i32 (acc, 2, 1, 2, x2s, x1s, NPU_DT_FP16, out, 2);
  g_assert_cmphex (out[0], ==, 0x4200);
  g_assert_cmphex (out[1], ==, 0x7BFF);
  /* int32 -> fp32 rounds to nearest even: 2^24 + 1 -> 2^24 (bf16 0x4B80). bf16 ties to
   * even: 257/256 = 1 + 2^-8 lies halfway between 0x3F80 and 0x3F81 -> 0x3F80;
   * 259/256 halfway between 0x3F81 and 0x3F82 -> 0x3F82. */
  gint32 acc2[3] = { 16777217, 257, 259 };
  float s2[3] = { 1.0f, 1.0f / 256, 1.0f / 256 };
  guint16 o2[3];
  npu_mm_dequant_i32 (acc2, 3, 1, 3, s2, NULL, NPU_DT_BF16, o2, 3);
  g_assert_cmphex (o2[0], ==, 0x4B80);
  g_assert_cmphex (o2[1], ==, 0x3F80);
  g_assert_cmphex (o2[2], ==, 0x3F82);
  /* Fixpipe with a packed scale 1 + 2^-11 (bits 0x3F800100): TransQuantParamV2 drops
   * the low 13 mantissa bits, leaving 1.0, so 2049 is a tie between 2048 (0x6800) and
   * 2050 (0x6801) -> even 0x6800 (the full-precision scale would give 0x6801). */
  float s;
  guint32 bits = 0x3F800100u;
  memcpy (&s, &bits, sizeof s);
  guint64 packed = npu_quant_pack_scale (s, FALSE, 0, 0);
  gint32 acc3 = 2049;
  guint16 o3;
  npu_mm_fixpipe_dequant (&acc3, 1, 1, 1, &packed, &o3, 1);
  g_assert_cmphex (o3, ==, 0x6800);
  /* Per token on fp16: 3.0 * 0.5 = 1.5 (0x3E00). */
  guint16 h = 0x4200;
  float half = 0.5f;
  npu_mm_pertoken_f16 (&h, 1, 1, 1, &half);
  g_assert_cmphex (h, ==, 0x3E00);
  /* Fixpipe cast: fp32 1/3 -> fp16 0x3555 (0.33325195), bf16 0x3EAB. */
  float third = 1.0f / 3.0f;
  guint16 c16, cb;
  npu_mm_cast_f32 (&third, 1, 1, 1, NPU_DT_FP16, &c16, 1);
  npu_mm_cast_f32 (&third, 1, 1, 1, NPU_DT_BF16, &cb, 1);
  g_assert_cmphex (c16, ==, 0x3555);
  g_assert_cmphex (cb, ==, 0x3EAB);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/agmm/tiling-defaults", test_tiling_defaults);
  g_test_add_func ("/agmm/tiling-clamp", test_tiling_clamp);
  g_test_add_func ("/agmm/swizzle", test_swizzle);
  g_test_add_func ("/agmm/dequant", test_dequant);
  return g_test_run ();
}
