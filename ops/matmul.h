/* npusim — single-rank matmul scenario ops: "MatMul" (fp16/bf16) and "QuantMatMul"
 * (int8 with per-channel x2Scale and optional per-token x1Scale), the unfused baseline
 * of AllGatherMatmulV2: an HCCL AllGather followed by one of these gives the same
 * numbers as the fused op (same accumulation order, same dequant; ops/matmul-common.h).
 * Each rank of the op's group runs its own independent matmul.
 *
 * Execution: one kernel launch (cost.kernel_launch_us), then m0 x n0 = 128 x 256 base
 * tiles (full K; the MC2 base block of CALIBRATION.md 3.5) over the die's AIC cores,
 * tile i on core i mod aic_count in swizzled order (direction 1, count 3, as the MC2
 * kernels); fp16/bf16 and INT64-scale fp16 tiles are written out by the fixpipe;
 * otherwise each tile's int32 result is dequantised by the two AIVs of its core's
 * block (64 x 128 sub-tiles, alternating), right after the tile.
 *
 * Scenario keys (besides "op", "name", "group", "stream", "after"):
 *   "dtype"        MatMul: "float16" | "bfloat16"; QuantMatMul: "int8" (required)
 *   "m", "k", "n"  x1 is (m, k), x2 is (k, n) on every rank (required)
 *   "transposeX2"  x2 stored as (n, k) (default false)
 *   QuantMatMul only:
 *   "outputDtype"  "float16" (default) | "bfloat16"
 *   "x2ScaleDtype" "float32" (default) | "int64" (TransQuantParamV2-packed; fp16 output)
 *   "perToken"     true: an x1Scale (m, 1) multiplies each row (default false)
 *   "transQuantRoundMode" 0 (default) | 1: packing of generated INT64 scales
 *   "inputs"       {"x1", "x2", "x1Scale", "x2Scale"}: init specs, or
 *                  {"from": "<op>.<tensor>"}: another op's tensor on the same rank,
 *                  shared (npu_op_input_tensor: same dtype; same shape, or the same
 *                  element count of a contiguous ND tensor, seen reshaped), the op
 *                  then starts after that one, e.g. {"from": "ag.recvBuf"}
 *   "baselineOf"   name of a fused op this op (with the ops before it) is the unfused
 *                  baseline of; the report then compares their latencies
 *   "baselineFrom" the first op of the unfused chain (in "after", or an op an input
 *                  comes "from"); default this
 * Tensors per rank: inputs "x1", "x2" [, "x1Scale", "x2Scale"], output "output" (m, n).
 */
#pragma once
#include "ops/op.h"

G_BEGIN_DECLS

extern const NpuOpClass npu_matmul_class;       /* "MatMul" */
extern const NpuOpClass npu_quant_matmul_class; /* "QuantMatMul" */

G_END_DECLS
