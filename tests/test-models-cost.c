/* Tests of models/cost.c against hand-computed values for the a2 preset
 * (1.8 GHz, 16x16x16 / 16x32x16 cube, L2 read 110 B/cycle, MTE2 32 B/cycle,
 * MTE3 64 B/cycle, 256 B/cycle vector, tile overhead 0.25 µs, vector overhead
 * 0.1 µs). ps(c) = ceil(c * 1e12 / 1.8e9) = ceil(c * 5000 / 9). */
#include "models/cost.h"

static NpuPreset *
a2 (void)
{
  g_autoptr (GError) error = NULL;
  NpuPreset *p = npu_preset_load ("a2", &error);
  g_assert_no_error (error);
  return p;
}

static void
test_cycles (void)
{
  g_autoptr (NpuPreset) p = a2 ();
  const NpuHw *hw = npu_preset_hw (p);
  g_assert_cmpuint (npu_cost_cycles_to_ps (hw, 0), ==, 0);
  g_assert_cmpuint (npu_cost_cycles_to_ps (hw, 9), ==, 5000);      /* exact */
  g_assert_cmpuint (npu_cost_cycles_to_ps (hw, 1), ==, 556);       /* 555.6 up */
  g_assert_cmpuint (npu_cost_cycles_to_ps (hw, 1800), ==, 1000000); /* exactly 1 µs */
  /* 10^12 cycles = 555.56 s: no overflow, still exact. */
  g_assert_cmpuint (npu_cost_cycles_to_ps (hw, G_GUINT64_CONSTANT (1000000000000)), ==,
                    G_GUINT64_CONSTANT (555555555555556));

  /* A fractional clock goes the double way: 1000 cycles at 1e9 + 0.5 Hz =
   * 999999.9995 ps -> 1000000. */
  g_assert_true (npu_preset_set (p, "die.core_freq_hz", "1000000000.5", "test", NULL));
  g_assert_cmpuint (npu_cost_cycles_to_ps (npu_preset_hw (p), 1000), ==, 1000000);
}

static void
test_cube_tile (void)
{
  g_autoptr (NpuPreset) p = a2 ();
  const NpuHw *hw = npu_preset_hw (p);

  /* MC2 base block 128x256x64 fp16 -> fp16: compute 8*16*4 = 512 cycles; load
   * (128*64 + 64*256)*2 = 49152 B / 110 = 446.8 -> 447 (hidden); write
   * 128*256*2 / 64 = 1024. 1536 cycles = 853333.3 -> 853334 ps, + 250000. */
  g_assert_cmpuint (npu_cost_cube_tile (hw, 128, 256, 64, NPU_CUBE_F16, 2, 2), ==, 1103334);

  /* int8 in, int32 out: compute 8*16*2 = 256; load 24576/110 -> 224; write
   * 128*256*4/64 = 2048. 2304 cycles = 1280000 ps exactly, + 250000. */
  g_assert_cmpuint (npu_cost_cube_tile (hw, 128, 256, 64, NPU_CUBE_I8, 1, 4), ==, 1530000);

  /* Load-bound: 16x16 over k = 4096: compute 256 cycles; load (16*4096*2)*2 =
   * 262144 / 110 = 2383.1 -> 2384; write 512/64 = 8. 2392 cycles = 1328888.9 ->
   * 1328889, + 250000. */
  g_assert_cmpuint (npu_cost_cube_tile (hw, 16, 16, 4096, NPU_CUBE_F16, 2, 2), ==, 1578889);

  /* Partial fractals round up: 17x1x1: compute 2*1*1 = 2; load 36/110 -> 1; write
   * 34/64 -> 1. 3 cycles = 1666.7 -> 1667, + 250000. */
  g_assert_cmpuint (npu_cost_cube_tile (hw, 17, 1, 1, NPU_CUBE_F16, 2, 2), ==, 251667);

  /* A what-if: L2 read rate 32 B/cycle makes the base block load-bound: load
   * 49152/32 = 1536 > 512; 1536 + 1024 = 2560 cycles = 1422222.2 -> 1422223, + 250000. */
  g_assert_true (npu_preset_set (p, "mem.l2_read_bytes_per_cycle", "32", "test", NULL));
  g_assert_cmpuint (npu_cost_cube_tile (npu_preset_hw (p), 128, 256, 64, NPU_CUBE_F16, 2, 2),
                    ==, 1672223);
  /* No overhead: exactly the cycles. */
  g_assert_true (npu_preset_set (p, "cost.cube_tile_overhead_us", "0", "test", NULL));
  g_assert_cmpuint (npu_cost_cube_tile (npu_preset_hw (p), 128, 256, 64, NPU_CUBE_F16, 2, 2),
                    ==, 1422223);
}

static void
test_vector (void)
{
  g_autoptr (NpuPreset) p = a2 ();
  const NpuHw *hw = npu_preset_hw (p);

  /* 4096 fp16 x 3 passes: compute 3 * 8192/256 = 96 cycles; GM 16384 B / 32 = 512
   * cycles (bound). 512 cycles = 284444.4 -> 284445, + 100000. */
  g_assert_cmpuint (npu_cost_vector (hw, 4096, 2, 3, 16384), ==, 384445);

  /* Compute-bound: 100 fp32 = 400 B -> 2 cycles per pass, 10 passes = 20 cycles
   * = 11111.1 -> 11112, + 100000. */
  g_assert_cmpuint (npu_cost_vector (hw, 100, 4, 10, 0), ==, 111112);

  /* Nothing to do costs the batch overhead only. */
  g_assert_cmpuint (npu_cost_vector (hw, 0, 2, 1, 0), ==, 100000);
}

static void
test_rates (void)
{
  g_autoptr (NpuPreset) p = a2 ();
  const NpuHw *hw = npu_preset_hw (p);

  g_assert_cmpfloat (npu_cost_core_mte_Bps (hw), ==, 57.6e9); /* 32 B * 1.8 GHz */

  /* hcomm: > 512 KiB is "large". */
  g_assert_cmpuint (npu_cost_sdma_fixed (hw, 0), ==, 600000);
  g_assert_cmpuint (npu_cost_sdma_fixed (hw, 524288), ==, 600000);
  g_assert_cmpuint (npu_cost_sdma_fixed (hw, 524289), ==, 1500000);

  /* 24 AIC * 4096 MAC * 2 * 1.8e9 = 353.8944 TFLOPS (CALIBRATION.md 1.2: 353.9);
   * int8 twice that. */
  g_assert_cmpfloat (npu_cost_peak_flops (hw, NPU_CUBE_F16), ==, 353894400000000.0);
  g_assert_cmpfloat (npu_cost_peak_flops (hw, NPU_CUBE_I8), ==, 707788800000000.0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/models/cost/cycles", test_cycles);
  g_test_add_func ("/models/cost/cube-tile", test_cube_tile);
  g_test_add_func ("/models/cost/vector", test_vector);
  g_test_add_func ("/models/cost/rates", test_rates);
  return g_test_run ();
}
