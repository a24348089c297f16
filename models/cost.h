/* npusim — cost functions: durations derived from NpuHw fields only.
 * No operator hard-codes a hardware constant; they all come through here. */
#pragma once
#include "models/hw.h"

G_BEGIN_DECLS

/** NpuCubeMode: the cube's datapath: fp16/bf16 (16x16x16) or int8 (16x32x16). */
typedef enum { NPU_CUBE_F16, NPU_CUBE_I8 } NpuCubeMode;

/**
 * npu_cost_cube_tile: one AIC computing an m x n output tile over depth k.
 * Compute: ceil(m/16)·ceil(n/16)·ceil(k/k0) cycles (k0 = 16 fp16/bf16, 32 int8);
 * operand load: (m·k + k·n)·@in_elem_bytes at the core's MTE2 rate; output write:
 * m·n·@out_elem_bytes at the MTE3 rate. Loading and compute overlap (double-buffered
 * L1/L0), so the tile takes the larger of compute and load, plus the write-out and
 * the per-tile overhead. Returns ps.
 */
NpuTime npu_cost_cube_tile (const NpuHw *hw, guint m, guint n, guint k, NpuCubeMode mode,
                            guint in_elem_bytes, guint out_elem_bytes);

/**
 * npu_cost_vector: one AIV streaming @elems elements of @elem_bytes through @passes
 * vector instructions each, with GM in and out traffic of @gm_bytes at the core's
 * MTE rates (overlapped with compute). Returns ps.
 */
NpuTime npu_cost_vector (const NpuHw *hw, guint64 elems, guint elem_bytes, guint passes,
                         guint64 gm_bytes);

/** npu_cost_core_mte_Bps: one core's MTE2 rate (GM/remote -> local), B/s. */
double npu_cost_core_mte_Bps (const NpuHw *hw);

/** npu_cost_sdma_fixed: an SDMA task's fixed cost for a payload of @bytes, ps. */
NpuTime npu_cost_sdma_fixed (const NpuHw *hw, guint64 bytes);

/** npu_cost_peak_flops: whole-die cube peak (ops/s: 2 per MAC) for @mode. */
double npu_cost_peak_flops (const NpuHw *hw, NpuCubeMode mode);

G_END_DECLS
