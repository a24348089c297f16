/* TransQuantParamV2/V3 packing: the REFERENCE.md example and hand-derived bit patterns. */
#include <glib.h>
#include <math.h>
#include <string.h>
#include "ops/quant-scale.h"

static float
bits_to_float (guint32 bits)
{
  float f;
  memcpy (&f, &bits, sizeof f);
  return f;
}

static void
test_reference_example (void)
{
  /* REFERENCE.md §7 item 5: scale 1.0, offset 1.0 -> 0x3F800000 | 1<<46 | 1<<37. */
  guint64 want = G_GUINT64_CONSTANT (0x3F800000) | (G_GUINT64_CONSTANT (1) << 46)
                 | (G_GUINT64_CONSTANT (1) << 37);
  g_assert_cmphex (npu_quant_pack_scale (1.0f, TRUE, 1.0f, 0), ==, want);
  g_assert_cmpint (npu_quant_offset9 (want), ==, 1);
  g_assert_cmpfloat (npu_quant_scale19 (want), ==, 1.0f);
}

static void
test_truncate_and_round (void)
{
  /* bits 0x3F806001 = 1 + 2^-9 + 2^-10 + 2^-23: truncation drops the low 13 bits
   * (0x0001) and keeps 0x3F806000. */
  g_assert_cmphex (npu_quant_pack_scale (bits_to_float (0x3F806001u), FALSE, 0, 0)
                   & 0xFFFFFFFFu, ==, 0x3F806000u);
  /* Low 13 bits exactly half (0x1000) with an even kept part: ties to even stays. */
  g_assert_cmphex (npu_quant_pack_scale (bits_to_float (0x3F801000u), FALSE, 0, 1)
                   & 0xFFFFFFFFu, ==, 0x3F800000u);
  /* ... with an odd kept part (bit 13 set): rounds up to the next even. */
  g_assert_cmphex (npu_quant_pack_scale (bits_to_float (0x3F803000u), FALSE, 0, 1)
                   & 0xFFFFFFFFu, ==, 0x3F804000u);
  /* Above half rounds up under mode 1, truncates under mode 0. */
  g_assert_cmphex (npu_quant_pack_scale (bits_to_float (0x3F801001u), FALSE, 0, 1)
                   & 0xFFFFFFFFu, ==, 0x3F802000u);
  g_assert_cmphex (npu_quant_pack_scale (bits_to_float (0x3F801001u), FALSE, 0, 0)
                   & 0xFFFFFFFFu, ==, 0x3F800000u);
  /* Carry into the exponent: mantissa all ones rounds to the next power of two. */
  g_assert_cmphex (npu_quant_pack_scale (bits_to_float (0x3FFFFFFFu), FALSE, 0, 1)
                   & 0xFFFFFFFFu, ==, 0x40000000u);
  /* Negative scales keep their sign bit. */
  g_assert_cmpfloat (npu_quant_scale19 (npu_quant_pack_scale (-0.5f, FALSE, 0, 0)), ==, -0.5f);
}

static void
test_offset_clamp (void)
{
  g_assert_cmpint (npu_quant_offset9 (npu_quant_pack_scale (1, TRUE, 300.0f, 0)), ==, 255);
  g_assert_cmpint (npu_quant_offset9 (npu_quant_pack_scale (1, TRUE, -300.0f, 0)), ==, -256);
  g_assert_cmpint (npu_quant_offset9 (npu_quant_pack_scale (1, TRUE, 2.5f, 0)), ==, 2);
  g_assert_cmpint (npu_quant_offset9 (npu_quant_pack_scale (1, TRUE, -3.5f, 0)), ==, -4);
  g_assert_cmpint (npu_quant_offset9 (npu_quant_pack_scale (1, FALSE, 7.0f, 0)), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ops/quant-scale/reference-example", test_reference_example);
  g_test_add_func ("/ops/quant-scale/truncate-and-round", test_truncate_and_round);
  g_test_add_func ("/ops/quant-scale/offset-clamp", test_offset_clamp);
  return g_test_run ();
}
