/* npusim — one AIC cube task: out[m range, n range] = A[m range, :] @ B[:, n range].
 *
 * The shared primitive of every matmul in the simulator (the single-rank MatMul ops
 * and the MC2 operators): a task on one AIC core of a rank whose duration comes from
 * models/cost.h (npu_cost_cube_tile) and whose data effect, at the task's end, runs
 * the reference-order GEMM of ops/gemm.h on the tile and stores the fp32 / int32
 * accumulator into the caller's accumulator matrix. Rounding to the output dtype
 * (fixpipe or an AIV epilogue) is the caller's business: each operator's numerics
 * differ there. */
#pragma once
#include "ops/op.h"
#include "ops/gemm.h"

G_BEGIN_DECLS

/**
 * NpuCubeTile: what one cube task computes.
 * @a: A as an m_total x k view; rows [@m_begin, @m_begin + @m) are used. Its data may be
 *   NULL in timing-only mode. The pointer must stay valid until the task ends; the
 *   task reads it at its END (data moves with the events).
 * @b: B as a k x n_total view; columns [@n_begin, @n_begin + @n) are used.
 * @acc: the accumulator matrix (float for fp16/bf16/fp8/fp32 inputs, gint32 for int8),
 *   row-major with row stride @acc_ld elements; the tile is written at
 *   acc[(m_begin + i) * acc_ld + n_begin + j]. NULL in timing-only mode.
 * @out_elem_bytes: bytes per element the fixpipe writes out (for the cost only).
 * @reads / @writes: optional hazard regions (buffer id, offset, length in bytes);
 *   length 0 = none.
 */
typedef struct {
  NpuGemmOperand a, b;
  gint64 m_begin, m, n_begin, n;
  gpointer acc;
  gint64 acc_ld;
  guint out_elem_bytes;
  struct { guint buffer; guint64 offset, length; } reads[2], writes[1];
} NpuCubeTile;

/**
 * npu_cube_task_new: (transfer none) a cube task of @op on group rank @g, held on AIC
 * core @core of that rank, classified NPU_TASK_COMPUTE, drawn on the AIC @core track.
 * @tile is copied. The caller adds dependencies (e.g. on the data's arrival).
 */
NpuTask *npu_cube_task_new (NpuOp *op, const NpuOpEnv *env, guint g, guint core,
                            const char *name, const NpuCubeTile *tile);

G_END_DECLS
