/* npusim — the expert-parallel pair MoeDistributeDispatch / MoeDistributeCombine
 * (aclnn V1, V2 and V3 forms) and a per-rank expert op between them, on Atlas A2 and
 * A3 (../shared/spec/004_*.txt, the V3 call form of 003_*.txt, REFERENCE.md sections
 * 4 and 5). docs/ops/MoeDistributeDispatch.md and MoeDistributeCombine.md describe the
 * scenario keys, the tensors and the modelled kernel structure.
 *
 * Scenario operators:
 *   "MoeDistributeDispatch", "MoeDistributeDispatchV2", "MoeDistributeDispatchV3":
 *       quantise (quantMode 0 or 2) and send every (token, expert) row to the rank of
 *       its expert; outputs expandX, dynamicScales, expandIdx (V1) or
 *       assistInfoForCombine (V2/V3), expertTokenNums, epRecvCounts, tpRecvCounts,
 *       expandScales.
 *   "MoeExperts": the work of the experts on each rank's expandX: "identity" (dequant
 *       to the token dtype) or "matmul" (one H x H GEMM per local expert).
 *   "MoeDistributeCombine", "MoeDistributeCombineV2", "MoeDistributeCombineV3": send
 *       every row back to its token's rank and reduce in fp32, in top-k order, weighted
 *       by expertScales, shared-expert rows unweighted; commQuantMode 0 or 2.
 * The op group is the EP x TP world: group rank g = epRankId * max(tpWorldSize, 1) +
 * tpRankId (the layout of the spec's A3 example). A combine names its dispatch
 * ("dispatch") and optionally the op that computed its expandX ("experts").
 *
 * The numerical kernels below are exposed for the unit tests; they follow REFERENCE.md
 * 4.1 and 5.1 bit for bit. */
#pragma once
#include "ops/op.h"

G_BEGIN_DECLS

extern const NpuOpClass npu_moe_dispatch_class;    /* "MoeDistributeDispatch" */
extern const NpuOpClass npu_moe_dispatch_v2_class; /* "MoeDistributeDispatchV2" */
extern const NpuOpClass npu_moe_dispatch_v3_class; /* "MoeDistributeDispatchV3" */
extern const NpuOpClass npu_moe_experts_class;     /* "MoeExperts" */
extern const NpuOpClass npu_moe_combine_class;     /* "MoeDistributeCombine" */
extern const NpuOpClass npu_moe_combine_v2_class;  /* "MoeDistributeCombineV2" */
extern const NpuOpClass npu_moe_combine_v3_class;  /* "MoeDistributeCombineV3" */

/**
 * npu_moe_quant_dynamic: quantMode 2 of one token row (REFERENCE 4.1,
 * moe_distribute_dispatch_v2_quant): xf = fp32(x) (· smooth[h] if @smooth), amax =
 * max|xf|, ds = 127.0f / amax, xf ·= ds (fp32), q = int8(trunc(fp16_round_half_away(
 * rint_int32(xf)))) = clamp(rint(xf)); returns the stored scale 1.0f / ds.
 * @x: @h elements of @x_dtype (FP16 or BF16). @smooth: (nullable) @h floats.
 * @q: (out) @h int8. amax = 0 gives ds = inf, q = 0 (0·inf = NaN -> 0) and scale 0.
 */
float npu_moe_quant_dynamic (NpuDtype x_dtype, gconstpointer x, const float *smooth, guint h,
                             gint8 *q);

/**
 * npu_moe_comm_quant_row: commQuantMode 2 of one row on the expert side (REFERENCE
 * 5.1, Int8QuantProcess): per block of 8 elements (the last one zero-padded),
 * scale = blockmax|fp32(x)| · (1.0f/127.0f); stored scale = round(scale) to @dt;
 * q = int8_rint(fp16_rint(fp32(x) / scale)) (saturating; 0/0 -> NaN -> 0).
 * @q: (out) @h int8; @scales: (out) ceil(@h/8) elements of @dt (FP16 or BF16 bits).
 */
void npu_moe_comm_quant_row (NpuDtype dt, gconstpointer x, guint h, gint8 *q, guint16 *scales);

/**
 * npu_moe_comm_dequant_row: the receiving side (Int8DequantProcess): out[i] =
 * round_to_@dt(fp32(fp16(q[i])) · fp32(scales[i/8])) as floats (already rounded to @dt).
 */
void npu_moe_comm_dequant_row (NpuDtype dt, const gint8 *q, const guint16 *scales, guint h,
                               float *out);

/**
 * npu_moe_round_half_away_bf16: fp32 -> bf16 rounding half away from zero (AscendC
 * CAST_ROUND), as the V1 combine's TP partial-sum add uses (REFERENCE 9.2).
 */
guint16 npu_moe_round_half_away_bf16 (float x);

G_END_DECLS
