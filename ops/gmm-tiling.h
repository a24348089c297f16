/* npusim — GroupedMatMulAlltoAllv tiling: the matmul base block and how the AIC
 * cores share an expert's blocks, as the real kernel computes them.
 *
 * Source (cannmirror/ops-transformer, ../shared/REFERENCE.md §3):
 *  - mc2/grouped_mat_mul_allto_allv/op_host/op_tiling/grouped_mat_mul_allto_allv_tiling.cpp
 *    ComputeBaseMNK / ComputeSharedBaseMNK (baseM, baseN, baseK from L0A/L0B/L0C);
 *  - mc2/allto_allv_grouped_mat_mul/op_kernel/allto_allv_gmm.h GMMProcess::Process
 *    (block b of an expert goes to core b mod coreNum, coreNum = 24) and
 *    MnBlockIdxCompute (the block's (mIdx, nIdx), swizzled in bands of 8 when the
 *    expert has more than 5 block rows). */
#pragma once
#include <glib.h>
#include "models/hw.h"

G_BEGIN_DECLS

/** GMM_CORE_NUM: GMMProcess::Init(baseM, baseN, 24) in the kernel: the blocks of one
 *  matmul are dealt to 24 AIC cores, whatever the die has. */
#define GMM_CORE_NUM 24u

typedef struct {
  guint base_m, base_n, base_k;
} NpuGmmBase;

/**
 * npu_gmm_base_mnk: ComputeBaseMNK for a matmul whose largest M is @max_m (gmmX rows A,
 * or BS for the shared expert), N @max_n and K @max_k, fp16/bf16 operands, with the
 * die's L0A/L0B/L0C sizes (@hw). baseM is then clipped to @max_m as SetFixSplit does.
 * Returns FALSE when the tiling fails (baseK or baseM would be 0).
 */
gboolean npu_gmm_base_mnk (const NpuHw *hw, guint max_m, guint max_n, guint max_k,
                           NpuGmmBase *out);

/**
 * npu_gmm_block_idx: MnBlockIdxCompute: the (m, n) block index of relative block
 * @block of a @block_dim_m x @block_dim_n grid.
 */
void npu_gmm_block_idx (guint block, guint block_dim_m, guint block_dim_n, guint *m_idx,
                        guint *n_idx);

G_END_DECLS
