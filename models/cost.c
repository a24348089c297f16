/* npusim — cost functions (formulas documented in models/cost.h).
 *
 * Work is counted in whole core cycles (the cube issues whole fractals, the MTEs
 * move whole beats) and converted to ps once, so results are exact integers that
 * a test can derive by hand. */
#include <math.h>
#include "models/cost.h"

static guint64
ceil_div (guint64 a, guint64 b)
{
  g_assert (b > 0);
  return a / b + (a % b != 0);
}

NpuTime
npu_cost_cycles_to_ps (const NpuHw *hw, guint64 cycles)
{
  g_return_val_if_fail (hw != NULL, 0);
  double f = hw->core_freq_hz;
  g_assert (f > 0);
  if (f == floor (f) && f < 9.2e18)
    {
      /* Exact: ceil(cycles * 10^12 / f) in 128-bit integers. */
      unsigned __int128 fi = (unsigned __int128) (guint64) f;
      unsigned __int128 num = (unsigned __int128) cycles * 1000000000000u;
      unsigned __int128 ps = (num + fi - 1) / fi;
      g_assert (ps <= G_MAXUINT64);
      return (NpuTime) ps;
    }
  /* A fractional clock (only through an odd override): plain double arithmetic. */
  double ps = ceil ((double) cycles * 1e12 / f);
  g_assert (ps < 18446744073709551616.0);
  return (NpuTime) ps;
}

static guint
cube_k0 (const NpuHw *hw, NpuCubeMode mode)
{
  return mode == NPU_CUBE_I8 ? hw->cube_k_i8 : hw->cube_k_f16;
}

NpuTime
npu_cost_cube_tile (const NpuHw *hw, guint m, guint n, guint k, NpuCubeMode mode,
                    guint in_elem_bytes, guint out_elem_bytes)
{
  g_return_val_if_fail (hw != NULL, 0);
  guint k0 = cube_k0 (hw, mode);
  g_assert (hw->cube_m > 0 && hw->cube_n > 0 && k0 > 0);
  g_assert (hw->l2_read_bytes_per_cycle > 0 && hw->mte3_bytes_per_cycle > 0);

  guint64 compute = ceil_div (m, hw->cube_m) * ceil_div (n, hw->cube_n) * ceil_div (k, k0);
  guint64 load_bytes = ((guint64) m * k + (guint64) k * n) * in_elem_bytes;
  guint64 load = ceil_div (load_bytes, hw->l2_read_bytes_per_cycle);
  guint64 write = ceil_div ((guint64) m * n * out_elem_bytes, hw->mte3_bytes_per_cycle);
  return npu_cost_cycles_to_ps (hw, MAX (compute, load) + write) + hw->cube_tile_overhead_ps;
}

NpuTime
npu_cost_vector (const NpuHw *hw, guint64 elems, guint elem_bytes, guint passes,
                 guint64 gm_bytes)
{
  g_return_val_if_fail (hw != NULL, 0);
  g_assert (hw->vector_bytes_per_cycle > 0 && hw->mte2_bytes_per_cycle > 0);

  guint64 compute = (guint64) passes * ceil_div (elems * elem_bytes, hw->vector_bytes_per_cycle);
  guint64 gm = ceil_div (gm_bytes, hw->mte2_bytes_per_cycle);
  return npu_cost_cycles_to_ps (hw, MAX (compute, gm)) + hw->vector_op_overhead_ps;
}

double
npu_cost_core_mte_Bps (const NpuHw *hw)
{
  g_return_val_if_fail (hw != NULL, 0);
  return (double) hw->mte2_bytes_per_cycle * hw->core_freq_hz;
}

NpuTime
npu_cost_sdma_fixed (const NpuHw *hw, guint64 bytes)
{
  g_return_val_if_fail (hw != NULL, 0);
  /* hcomm task_profiling.h: size > DURATION_SDMA_FIXED_THRESHOLD is "large". */
  return bytes > hw->sdma_large_threshold_bytes ? hw->sdma_fixed_large_ps
                                                : hw->sdma_fixed_small_ps;
}

double
npu_cost_peak_flops (const NpuHw *hw, NpuCubeMode mode)
{
  g_return_val_if_fail (hw != NULL, 0);
  double macs = (double) hw->cube_m * hw->cube_n * cube_k0 (hw, mode);
  return (double) hw->aic_count * macs * 2.0 * hw->core_freq_hz;
}
