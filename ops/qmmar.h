/* npusim — aclnnQuantMatmulAllReduceV3 on Atlas A2 (../shared/spec/000_*.txt,
 * ../shared/REFERENCE.md section 2), as the scenario operator "QuantMatmulAllReduceV3".
 *
 * Every rank of the group computes mm = dequantScale · pertoken · (x1 @ x2 + bias) + x3
 * (int8 x1, x2; int32 bias; fp16 or bf16 output) and the op all-reduces mm (sum); with
 * commQuantScale1/2 the all-reduce is low-bit: quantise to int8, AlltoAll, ReduceSum,
 * AllGather, dequantise. The execution follows the A2 kernel: M cut into tiles by the
 * host tiling's formulaic cut; per tile the AIC matmul (+ fixpipe or AIV dequant),
 * SyncAll, the AIV x3 add, then the collective committed to the AICPU communication
 * server, overlapping the next tile's matmul.
 *
 * Scenario keys and the numerics are documented in docs/ops/QuantMatmulAllReduceV3.md.
 * Tensors per rank (aclnn names without the "Optional" suffix): inputs x1, x2, bias,
 * x3, dequantScale, pertokenScale, commQuantScale1, commQuantScale2; output "output".
 */
#pragma once
#include "ops/op.h"

G_BEGIN_DECLS

extern const NpuOpClass npu_qmmar_class; /* "QuantMatmulAllReduceV3" */

G_END_DECLS
