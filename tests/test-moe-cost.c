/* npusim — the MoE A3 plans' instruction-level costs (ops/moe-cost.c) on values derived
 * by hand from the a3 preset: 1.8 GHz, vector 256 B/cycle, L2 read 110 B/cycle, DDR
 * (ddr_rate) 32 B/cycle, L2 write 86 B/cycle, cost.vector_instr_us 0.017,
 * cost.vector_dep_repeat_cycles 4, mem.gm_read_latency_us 0.778,
 * mem.gm_write_latency_us 0.167, link.ub_aiv_write_efficiency 0.55867347. Cycles become ps as
 * ceil(cycles * 1e12 / 1.8e9). */
#include "ops/moe-private.h"
#include <math.h>

static NpuPreset *
load (const char *name)
{
  GError *error = NULL;
  NpuPreset *p = npu_preset_load (name, &error);
  g_assert_no_error (error);
  return p;
}

static void
test_vector (void)
{
  g_autoptr (NpuPreset) p = load ("a3");
  const NpuHw *hw = npu_preset_hw (p);
  /* a Cast over a 7168-element fp32 row: 28672 B = 112 repeats = 112 cycles =
   * ceil (62222.2) ps, plus 17000 ps */
  g_assert_cmpuint (moe_vec (hw, 28672), ==, 17000 + 62223);
  /* 33 B still take one whole cycle: ceil (555.6) */
  g_assert_cmpuint (moe_vec (hw, 33), ==, 17000 + 556);
  /* ReduceMaxInplace's Max: 111 dependent repeats x 4 cycles = 444 cycles = 246666.7 */
  g_assert_cmpuint (moe_vec_chain (hw, 111), ==, 17000 + 246667);
}

static void
test_dma (void)
{
  g_autoptr (NpuPreset) p = load ("a3");
  const NpuHw *hw = npu_preset_hw (p);
  /* a bf16 token (14336 B) from L2: 14336 / 110 = 130.3 -> 131 cycles = 72777.8 */
  g_assert_cmpuint (moe_dma_in (hw, 14336, TRUE), ==, 778000 + 72778);
  g_assert_cmpuint (moe_dma_in_stream (hw, 14336, TRUE), ==, 72778);
  /* a dispatch window slot read that bypasses L2: 7212 / 32 = 225.4 -> 226 cycles */
  g_assert_cmpuint (moe_dma_in (hw, 7212, FALSE), ==, 778000 + 125556);
  /* a bf16 row out: 14336 / 86 = 166.7 -> 167 cycles = 92777.8 */
  g_assert_cmpuint (moe_dma_out (hw, 14336), ==, 167000 + 92778);
  g_assert_cmpuint (moe_dma_out_stream (hw, 32), ==, 556);
}

static void
test_ub_efficiency (void)
{
  g_autoptr (NpuPreset) p = load ("a3");
  /* 109.5 GB/s of the 7 x 28 GB/s line rate */
  g_assert_cmpfloat (moe_ub_efficiency (npu_preset_hw (p)), ==, 0.55867347);
  g_assert_cmpfloat (fabs (moe_ub_efficiency (npu_preset_hw (p)) * 196e9 - 109.5e9), <, 1e3);
  /* 0 falls back to the line rate */
  GError *error = NULL;
  g_assert_true (npu_preset_set (p, "link.ub_aiv_write_efficiency", "0", "test", &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (moe_ub_efficiency (npu_preset_hw (p)), ==, 1.0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/moe/cost/vector", test_vector);
  g_test_add_func ("/moe/cost/dma", test_dma);
  g_test_add_func ("/moe/cost/ub-efficiency", test_ub_efficiency);
  return g_test_run ();
}
