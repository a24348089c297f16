/* npusim — aclnnGroupedMatMulAlltoAllv (spec 001) as a scenario operator, on A3.
 *
 * Semantics (../shared/REFERENCE.md §3.1, §9 item 12: compute first, then
 * communicate): e local experts per rank, W = epWorldSize ranks of the group.
 * sendCounts[r·e + j] rows of local expert j go to rank r; gmmX (A, H1) holds expert
 * j's rows as one contiguous group, ordered by destination rank inside it;
 * gmmY_j = gmmX_j @ gmmWeight[j] (fp32 accumulation over H1 in increasing order,
 * rounded once to fp16/bf16, fp16 saturating); y (BSK, N1) = AlltoAllv of the
 * unpermuted rows: ordered by source rank, then source expert, then row;
 * recvCounts[r·e + j] = rows received from rank r's expert j. Optional shared expert
 * mmYOptional = mmXOptional @ mmWeightOptional. Weights may be transposed.
 *
 * Execution (REFERENCE §3.2, kernel GroupedMatmulAlltoAllv, MIX_AIC_1_2): per expert
 * the AIC cores compute its blocks (ops/gmm-tiling.h), all cores SyncAll, AIV 0
 * commits the expert's AlltoAllV to HCCL's AICPU server, which issues it (A3 full
 * mesh, as docs/ops/hccl.md's AlltoAll(V)) while the AICs go on with the next expert;
 * then the shared expert's matmul, a SyncAll, and AIV 0 waits for every AlltoAllV.
 *
 * Scenario keys (besides the runner's op, name, group, stream, after):
 *   "dtype"          float16 | bfloat16 (required): gmmX, gmmWeight, y and the shared
 *                    expert's tensors
 *   "e"              local experts per rank (required; gmmWeight's dim 0)
 *   "H1", "N1"       hidden size and output size of the routed experts (required)
 *   "epWorldSize"    default: the group size (must equal it)
 *   "sendCounts"     e·W row counts, the same on every rank, or a list of W such lists
 *                    (one per group rank); null = the aclIntArray is a null pointer
 *   "recvCounts"     same forms; default: what the peers' sendCounts deliver
 *   "BS", "H2", "N2" the shared expert (all three, or none): mmXOptional (BS, H2),
 *                    mmWeightOptional (H2, N2), mmYOptional (BS, N2)
 *   "transGmmWeight", "transMmWeight"  booleans (default false): weights stored
 *                    (e, N1, H1) / (N2, H2)
 *   "inputs"         init specs (ops/op.h npu_op_fill_input) for gmmX, gmmWeight,
 *                    mmXOptional, mmWeightOptional
 *   "tensors"        per aclnn tensor name, null (a null pointer) or
 *                    {"dtype": ..., "shape": [...]} overriding what the keys above
 *                    derive (same on every rank): to pose the API the cases its
 *                    checks reject; sendCountsTensorOptional / recvCountsTensorOptional
 *                    are absent unless given here
 * Tensors per rank: gmmX, gmmWeight, [mmXOptional, mmWeightOptional] (inputs), y,
 * [mmYOptional] (outputs).
 */
#pragma once
#include "ops/op.h"

G_BEGIN_DECLS

extern const NpuOpClass npu_gmm_alltoallv_class; /* "GroupedMatMulAlltoAllv" */

G_END_DECLS
