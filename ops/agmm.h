/* npusim — aclnnAllGatherMatmulV2 on Atlas A2 / A3 (commMode "aiv"), a scenario op.
 *
 * gatherOut = allgather(x1) in group order; output = gatherOut @ x2, for fp16/bf16, or
 * int8 with a per-channel x2Scale (fp32, or INT64 TransQuantParamV2-packed with fp16
 * output) and an optional per-token x1Scale. The plan follows the real aiv-mode kernel
 * (../shared/REFERENCE.md §1.2, docs/ops/AllGatherMatmulV2.md): blocks of 1 AIC + 2 AIV;
 * steps of m0·pValue rows; AIV cores push each step's chunk of x1 into every peer's
 * HCCL window (two-slot ping-pong, cross-rank flags), unpack the received chunks into
 * gatherOut, and run the int8 dequant epilogue; AIC cores compute the tiles of all
 * source ranks of a step once its data has arrived.
 *
 * Scenario keys (besides "op", "name", "group", "stream", "after"):
 *   "dtype"       x1/x2 dtype name (required): float16, bfloat16, int8 run; anything
 *                 else (float8_e4m3fn, float8_e5m2, hifloat8, int4, ...) is declared so
 *                 that it is rejected as the real API does
 *   "m", "k", "n" x1 is (m, k) on every rank, x2 is (k, n) (required)
 *   "transposeX2" x2 is a transposed view of an (n, k) tensor (default false)
 *   "x1", "x2", "output", "gatherOut", "bias", "x1Scale", "x2Scale", "quantScale",
 *   "amaxOut"     tensor arguments: null (nullptr) or {"dtype", "shape", "transposed"}
 *                 overriding the derived defaults (x1/x2/output/gatherOut present;
 *                 the others absent; {} = present with defaults: x1Scale float32 (m, 1),
 *                 x2Scale float32 (1, n), bias (n,), quantScale / amaxOut float32 (1,))
 *   "commMode"    "aiv" (default) or another string, or null
 *   "streamMode" (1), "gatherIndex" (0), "commTurn" (0), "groupSize" (0),
 *   "blockSize" (0)   the aclnn integer attributes
 *   "transQuantRoundMode"  0 (TransQuantParamV2, default) or 1 (V3 rounding): how
 *                 generated fp32 scales are packed into an INT64 x2Scale
 *   "tiling"      {"m0", "pValue", "commDataSplit", "commNpuSplit", "commDirect",
 *                 "ubMoveNum", "swizzlCount", "swizzlDirect"}: replace the kernel's
 *                 default CoC tiling (e.g. with the entry its shape table picks)
 *   "inputs"      init specs {"x1", "x2", "x1Scale", "x2Scale"} (npu_op_fill_input)
 * Tensors per rank: inputs "x1", "x2" (stored (n, k) when transposeX2), "x1Scale",
 * "x2Scale"; outputs "gatherOut" (W·m, k), "output" (W·m, n).
 */
#pragma once
#include "ops/op.h"

G_BEGIN_DECLS

extern const NpuOpClass npu_agmm_class; /* "AllGatherMatmulV2" */

G_END_DECLS
