/* npusim — cost functions: durations derived from NpuHw fields only.
 * No operator hard-codes a hardware constant; they all come through here. */
#pragma once
#include "models/hw.h"

G_BEGIN_DECLS

/** NpuCubeMode: the cube's datapath: fp16/bf16 (16x16x16) or int8 (16x32x16). */
typedef enum { NPU_CUBE_F16, NPU_CUBE_I8 } NpuCubeMode;

/**
 * npu_cost_cube_tile: one AIC computing an m x n output tile over depth k.
 * Everything is counted in whole core cycles, then converted to ps once:
 *   compute = ceil(m/cube_m)·ceil(n/cube_n)·ceil(k/k0)   (k0 = cube_k_f16 or cube_k_i8)
 *   load    = ceil((m·k + k·n)·@in_elem_bytes / l2_read_bytes_per_cycle)
 *   write   = ceil(m·n·@out_elem_bytes / mte3_bytes_per_cycle)
 *   time    = ps(max(compute, load) + write) + cube_tile_overhead_ps
 * with ps(c) = ceil(c·1e12 / core_freq_hz). Loading and compute overlap
 * (double-buffered L1/L0), the write-out does not.
 * Why the L2 read rate for operands and not ddr_rate (mte2_bytes_per_cycle): a GEMM's
 * A and B blocks are re-read by many cores and served from the 192 MiB L2; at 32
 * B/cycle even the MC2 base block 128x256x64 would be 3x load-bound, contradicting
 * Huawei's own 0.85 cube utilisation for in-L2 working sets (CALIBRATION.md 4.1),
 * while at 110 B/cycle it is just compute-bound (447 vs 512 cycles). Returns ps.
 */
NpuTime npu_cost_cube_tile (const NpuHw *hw, guint m, guint n, guint k, NpuCubeMode mode,
                            guint in_elem_bytes, guint out_elem_bytes);

/**
 * npu_cost_vector: one AIV streaming @elems elements of @elem_bytes through @passes
 * vector instructions each, with @gm_bytes of GM traffic (in + out together) at the
 * core's MTE2 rate, overlapped with compute:
 *   compute = @passes · ceil(@elems·@elem_bytes / vector_bytes_per_cycle)
 *   gm      = ceil(@gm_bytes / mte2_bytes_per_cycle)
 *   time    = ps(max(compute, gm)) + vector_op_overhead_ps
 * (ps() as for npu_cost_cube_tile; the overhead is paid once per call = one batch).
 * Returns ps.
 */
NpuTime npu_cost_vector (const NpuHw *hw, guint64 elems, guint elem_bytes, guint passes,
                         guint64 gm_bytes);

/** npu_cost_core_mte_Bps: one core's MTE2 rate (GM/remote -> local),
 * mte2_bytes_per_cycle · core_freq_hz, B/s: the rate cap of an AIV's own flows. */
double npu_cost_core_mte_Bps (const NpuHw *hw);

/** npu_cost_sdma_fixed: an SDMA task's fixed cost for a payload of @bytes, ps:
 * sdma_fixed_large_ps if @bytes > sdma_large_threshold_bytes, else the small one
 * (hcomm task_profiling: size > 512 KiB is "large"). */
NpuTime npu_cost_sdma_fixed (const NpuHw *hw, guint64 bytes);

/** npu_cost_peak_flops: whole-die cube peak (ops/s: 2 per MAC) for @mode:
 * aic_count · cube_m·cube_n·k0 · 2 · core_freq_hz. */
double npu_cost_peak_flops (const NpuHw *hw, NpuCubeMode mode);

/**
 * npu_cost_cycles_to_ps: @cycles of the core clock in ps, ceil(@cycles·1e12 / f),
 * computed exactly (integer arithmetic) when core_freq_hz is a whole number of Hz.
 */
NpuTime npu_cost_cycles_to_ps (const NpuHw *hw, guint64 cycles);

G_END_DECLS
