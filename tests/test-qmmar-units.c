/* Unit tests of QuantMatmulAllReduceV3 pieces with hand-derived values: the single
 * rounding double -> fp16 of the fixpipe, the quantise / ReduceSum / dequant steps on
 * hand-picked values (saturation, ties), the FRACTAL_NZ index arithmetic, and the M
 * cut's invariants. */
#include <glib.h>
#include "ops/qmmar-private.h"
#include "ops/nz.h"
#include "ops/quant-scale.h"

static void
test_f64_to_f16 (void)
{
  g_assert_cmphex (qmmar_f64_to_f16 (1.0), ==, 0x3C00);
  g_assert_cmphex (qmmar_f64_to_f16 (-2.0), ==, 0xC000);
  g_assert_cmphex (qmmar_f64_to_f16 (65504.0), ==, 0x7BFF);
  g_assert_cmphex (qmmar_f64_to_f16 (70000.0), ==, 0x7BFF);   /* saturates */
  g_assert_cmphex (qmmar_f64_to_f16 (-1e30), ==, 0xFBFF);
  /* 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties to even -> 1 */
  g_assert_cmphex (qmmar_f64_to_f16 (1.0 + 0x1p-11), ==, 0x3C00);
  /* 1 + 2^-11 + 2^-40: above the tie, rounds up. Via fp32 by nearest-even it would be
   * 1 + 2^-11 (a tie) and then 1: the single rounding needs round-to-odd. */
  g_assert_cmphex (qmmar_f64_to_f16 (1.0 + 0x1p-11 + 0x1p-40), ==, 0x3C01);
  g_assert_cmphex (qmmar_f64_to_f16 (1.0 + 0x1p-10 + 0x1p-11), ==, 0x3C02); /* tie -> even */
  g_assert_cmphex (qmmar_f64_to_f16 (0x1p-24), ==, 0x0001);   /* smallest subnormal */
  g_assert_cmphex (qmmar_f64_to_f16 (0x1p-26), ==, 0x0000);
  g_assert_cmphex (qmmar_f64_to_f16 (3.0 * 0x1p-26), ==, 0x0001); /* 0.75 ulp -> 1 ulp */
}

/* A one-rank QmmarData with n columns for the element-wise steps. */
static QmmarData
data_fp16 (gint64 m, gint64 n, guint16 *out, const guint16 *s1, const guint16 *s2)
{
  QmmarData d = { 0 };
  d.out_dt = NPU_DT_FP16;
  d.m = m;
  d.n = n;
  d.out = out;
  d.cq1 = s1;
  d.cq2 = s2;
  return d;
}

static void
test_quantize (void)
{
  /* fp16: q = int8(rint(fp16(x / s1))) with saturation */
  guint16 out[4] = { npu_f32_to_f16 (1.0f), npu_f32_to_f16 (-0.3125f), npu_f32_to_f16 (2.5f),
                     npu_f32_to_f16 (0.0234375f) };
  guint16 s1[4] = { npu_f32_to_f16 (0.0078125f), npu_f32_to_f16 (0.125f),
                    npu_f32_to_f16 (1.0f), npu_f32_to_f16 (0.015625f) };
  QmmarData d = data_fp16 (1, 4, out, s1, s1);
  gint8 q[4];
  qmmar_num_quantize (&d, 0, 0, 1, q);
  g_assert_cmpint (q[0], ==, 127);  /* 128 saturates */
  g_assert_cmpint (q[1], ==, -2);   /* -2.5 -> even */
  g_assert_cmpint (q[2], ==, 2);    /* 2.5 -> even */
  g_assert_cmpint (q[3], ==, 2);    /* 1.5 -> even */
}

static void
test_reduce_sum (void)
{
  /* w = 3 ranks, chunk = 1 row, n = 2: column 0 sums 100 + 100 + 100 = 300,
   * x s1/s2 = 0.5 -> 150 -> saturates to 127; column 1: -3 + 1 + 1 = -1, x 0.5 = -0.5
   * -> fp16 -0.5 -> rint -> -0 -> 0 */
  gint8 t[6] = { 100, -3, 100, 1, 100, 1 };
  guint16 s1[2] = { npu_f32_to_f16 (0.5f), npu_f32_to_f16 (0.5f) };
  guint16 s2[2] = { npu_f32_to_f16 (1.0f), npu_f32_to_f16 (1.0f) };
  QmmarData d = data_fp16 (3, 2, NULL, s1, s2);
  qmmar_num_reduce_sum (&d, t, 1, 3, 1, 0, 1);
  g_assert_cmpint (t[2], ==, 127);
  g_assert_cmpint (t[3], ==, 0);
  g_assert_cmpint (t[0], ==, 100); /* other chunks untouched */
  g_assert_cmpint (t[4], ==, 100);
}

static void
test_dequant (void)
{
  /* fp16: out = fp16(int8 x s2): 127 x 600 = 76200 saturates; -3 x 0.1 */
  gint8 t[2] = { 127, -3 };
  guint16 s2[2] = { npu_f32_to_f16 (600.0f), npu_f32_to_f16 (0.1f) };
  guint16 out[2] = { 0 };
  QmmarData d = data_fp16 (1, 2, out, s2, s2);
  qmmar_num_dequant (&d, t, 0, 0, 1);
  g_assert_cmphex (out[0], ==, 0x7BFF);
  g_assert_cmphex (out[1], ==, npu_f32_to_f16 (-3.0f * npu_f16_to_f32 (s2[1])));
}

static void
test_epilogue_fixpipe (void)
{
  /* acc 1000 + bias 24 = 1024, scale 0.1 packed (19 bits) -> 1024 x scale19 rounded once */
  gint32 acc[QMMAR_PANEL] = { 1000 };
  gint32 bias[1] = { 24 };
  guint64 deq[1] = { npu_quant_pack_scale (0.1f, FALSE, 0.0f, 0) };
  guint16 out[1];
  QmmarData d = { 0 };
  d.epi = QE_FIXPIPE;
  d.out_dt = NPU_DT_FP16;
  d.deq_dt = NPU_DT_INT64;
  d.m = 1;
  d.n = 1;
  d.acc = acc;
  d.bias = bias;
  d.deq = deq;
  d.out = out;
  qmmar_num_epilogue (&d, 0, 1);
  g_assert_cmphex (out[0], ==, qmmar_f64_to_f16 (1024.0 * (double) npu_quant_scale19 (deq[0])));
  /* scale19 keeps 10 mantissa bits of 0.1: 0x3DCCC000 */
  g_assert_cmpfloat (npu_quant_scale19 (deq[0]), ==, 0x1.99800p-4f);
}

static void
test_nz_index (void)
{
  gint64 s[4];
  npu_nz_shape (NPU_DT_INT8, 20, 40, s);
  g_assert_cmpint (s[0], ==, 2);
  g_assert_cmpint (s[1], ==, 2);
  g_assert_cmpint (s[2], ==, 16);
  g_assert_cmpint (s[3], ==, 32);
  /* (17, 33): fractal column 1, fractal row 1, row 1 in it, column 1 in it */
  g_assert_cmpint (npu_nz_index (NPU_DT_INT8, 20, 17, 33), ==, ((1 * 2 + 1) * 16 + 1) * 32 + 1);
  g_assert_cmpint (npu_nz_c0 (NPU_DT_FP16), ==, 16);
  /* round trip with zero padding */
  gint8 nd[20 * 40], back[20 * 40], nz[2 * 2 * 16 * 32];
  for (guint i = 0; i < G_N_ELEMENTS (nd); i++)
    nd[i] = (gint8) (i * 7 + 3);
  memset (nz, 0x55, sizeof nz);
  npu_nz_from_nd (NPU_DT_INT8, 20, 40, nd, nz, 0, 40);
  npu_nz_to_nd (NPU_DT_INT8, 20, 40, nz, back);
  g_assert_cmpmem (nd, sizeof nd, back, sizeof back);
  g_assert_cmpint (nz[npu_nz_index (NPU_DT_INT8, 32, 25, 39)], ==, 0); /* padding row */
  g_assert_cmpint (nz[(1 * 2 + 0) * 512 + 0 * 32 + 9], ==, 0);        /* padding column 41 */
}

static void
test_cut (void)
{
  /* every cut covers m in 1..16 tiles */
  static const guint64 ms[] = { 1, 127, 128, 256, 1000, 4096, 10000, 65536 };
  static const guint64 nk[][2] = { { 128, 64 }, { 8192, 3584 }, { 4096, 16384 }, { 1024, 1024 } };
  for (guint a = 0; a < G_N_ELEMENTS (ms); a++)
    for (guint b = 0; b < G_N_ELEMENTS (nk); b++)
      for (guint quant = 0; quant < 2; quant++)
        {
          QmmarShape s = { ms[a], nk[b][0], nk[b][1], 8, 24, FALSE, 2 };
          QmmarCut c;
          qmmar_formulaic_cut (&s, quant, &c);
          g_assert_cmpuint (c.tile_m * c.tile_cnt + c.tail_m * c.tail_cnt, ==, ms[a]);
          g_assert_cmpuint (c.tile_cnt + c.tail_cnt, >=, 1);
          g_assert_cmpuint (c.tile_cnt + c.tail_cnt, <=, 16);
        }
  /* m below two minimum tiles: no cut */
  QmmarShape s = { 256, 8192, 3584, 8, 24, FALSE, 2 };
  QmmarCut c;
  qmmar_formulaic_cut (&s, FALSE, &c);
  g_assert_cmpuint (c.tile_cnt, ==, 1);
  g_assert_cmpuint (c.tile_m, ==, 256);
  g_assert_cmpuint (c.tail_cnt, ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/qmmar/f64-to-f16", test_f64_to_f16);
  g_test_add_func ("/qmmar/quantize", test_quantize);
  g_test_add_func ("/qmmar/reduce-sum", test_reduce_sum);
  g_test_add_func ("/qmmar/dequant", test_dequant);
  g_test_add_func ("/qmmar/epilogue-fixpipe", test_epilogue_fixpipe);
  g_test_add_func ("/qmmar/nz-index", test_nz_index);
  g_test_add_func ("/qmmar/cut", test_cut);
  return g_test_run ();
}
