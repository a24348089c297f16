/* npusim — the MoE kernels' arithmetic (ops/moe.h) on hand-derived values. */
#include <string.h>
#include <math.h>
#include "ops/moe.h"

static guint16
bf (float x)
{
  return npu_f32_to_bf16 (x);
}

/* quantMode 2: x = [1, -2, 0.5, 4]: amax 4, ds = 127/4 = 31.75 (exact), x * ds =
 * [31.75, -63.5, 15.875, 127] -> rint (ties to even) [32, -64, 16, 127]; the scale is
 * 1/31.75 rounded to fp32. */
static void
test_quant_dynamic (void)
{
  guint16 x[4] = { bf (1), bf (-2), bf (0.5f), bf (4) };
  gint8 q[4];
  float s = npu_moe_quant_dynamic (NPU_DT_BF16, x, NULL, 4, q);
  g_assert_cmpint (q[0], ==, 32);
  g_assert_cmpint (q[1], ==, -64);
  g_assert_cmpint (q[2], ==, 16);
  g_assert_cmpint (q[3], ==, 127);
  volatile float ds = 31.75f;
  g_assert_true (s == 1.0f / ds);
  /* smooth scales multiply before the max: [1*2, -2*0.25, ...] */
  float sm[4] = { 2.0f, 0.25f, 1.0f, 0.5f };
  s = npu_moe_quant_dynamic (NPU_DT_BF16, x, sm, 4, q);
  /* xf = [2, -0.5, 0.5, 2], amax 2, ds = 63.5: [127, -31.75, 31.75, 127] */
  g_assert_cmpint (q[0], ==, 127);
  g_assert_cmpint (q[1], ==, -32);
  g_assert_cmpint (q[2], ==, 32);
  g_assert_cmpint (q[3], ==, 127);
  volatile float ds2 = 63.5f;
  g_assert_true (s == 1.0f / ds2);
  /* amax 0: ds = inf, 0 * inf = NaN -> 0, scale 1/inf = 0 */
  guint16 z[3] = { 0, 0x8000, 0 };
  s = npu_moe_quant_dynamic (NPU_DT_BF16, z, NULL, 3, q);
  g_assert_cmpint (q[0], ==, 0);
  g_assert_cmpint (q[1], ==, 0);
  g_assert_true (s == 0.0f);
}

/* commQuantMode 2 on a block of eight 3.0: smax 3, scale = 3 * (1/127) (fp32), the
 * quotient rounds to 127 (fp16 then int8) and comes back as 127 * bf16(scale). */
static void
test_comm_quant (void)
{
  guint16 x[10];
  for (guint i = 0; i < 8; i++)
    x[i] = bf (3.0f);
  x[8] = bf (-1.0f);
  x[9] = bf (0.5f); /* second block: [-1, 0.5] zero padded: smax 1 */
  gint8 q[10];
  guint16 sc[2];
  npu_moe_comm_quant_row (NPU_DT_BF16, x, 10, q, sc);
  volatile float inv = 1.0f / 127.0f;
  g_assert_cmpuint (sc[0], ==, bf (3.0f * inv));
  g_assert_cmpuint (sc[1], ==, bf (1.0f * inv));
  for (guint i = 0; i < 8; i++)
    g_assert_cmpint (q[i], ==, 127);
  g_assert_cmpint (q[8], ==, -127);
  g_assert_cmpint (q[9], ==, 64); /* 0.5 / (1/127) = 63.5 -> fp16 63.5 -> rint 64 */
  float out[10];
  npu_moe_comm_dequant_row (NPU_DT_BF16, q, sc, 10, out);
  g_assert_true (out[0] == npu_bf16_to_f32 (bf (127.0f * npu_bf16_to_f32 (sc[0]))));
  g_assert_true (fabsf (out[0] - 3.0f) < 0.02f);
  g_assert_true (fabsf (out[9] - 0.5f) < 0.01f);
  /* an all-zero block: scale 0, 0/0 = NaN -> int8 0, back to 0 */
  guint16 zz[8] = { 0 };
  npu_moe_comm_quant_row (NPU_DT_BF16, zz, 8, q, sc);
  g_assert_cmpuint (sc[0], ==, 0);
  for (guint i = 0; i < 8; i++)
    g_assert_cmpint (q[i], ==, 0);
}

/* CAST_ROUND to bf16: 1 + 2^-8 is half a bf16 ulp above 1: away from zero -> 1 + 2^-7
 * (0x3F81), where round-to-nearest-even gives 1 (0x3F80). */
static void
test_round_half_away (void)
{
  float x = 1.0f + ldexpf (1.0f, -8);
  g_assert_cmphex (npu_moe_round_half_away_bf16 (x), ==, 0x3F81);
  g_assert_cmphex (npu_f32_to_bf16 (x), ==, 0x3F80);
  g_assert_cmphex (npu_moe_round_half_away_bf16 (-x), ==, 0xBF81);
  g_assert_cmphex (npu_moe_round_half_away_bf16 (1.0f + ldexpf (1.0f, -9)), ==, 0x3F80);
  g_assert_cmphex (npu_moe_round_half_away_bf16 (2.0f), ==, 0x4000);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/moe/quant-dynamic", test_quant_dynamic);
  g_test_add_func ("/moe/comm-quant", test_comm_quant);
  g_test_add_func ("/moe/round-half-away", test_round_half_away);
  return g_test_run ();
}
