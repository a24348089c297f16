/* npusim — building blocks shared by the single-rank MatMul / QuantMatMul ops and
 * AllGatherMatmulV2 (ops/agmm-*.c): the output numerics after the cube (fixpipe cast,
 * fixpipe dequant with packed INT64 scales, the AIV dequant epilogue), the
 * CATLASS tile swizzle, the fixpipe write-out task, and small spec readers.
 *
 * Numerics (../shared/REFERENCE.md §1.1 and "Generic numerics"; docs/ops/MatMul.md):
 *  - fp16/bf16: fp32 accumulator (ops/gemm.h order) rounded once to the output dtype
 *    by the fixpipe, round-to-nearest-even, fp16 saturating at ±65504.
 *  - int8, fp32 x2Scale (AIV epilogue, all_gather_matmul_aiv_mode_block_epilogue_
 *    dequant.h): f = fp32(int32 acc) (CAST_RINT); f = f * x2Scale[col] (fp32);
 *    [f = f * x1Scale[row] (fp32), per-token]; out = RINT(f) to fp16/bf16.
 *  - int8, INT64 x2Scale, fp16 output (fixpipe dequant): f = fp32(acc) (RINT) *
 *    scale19[col] (fp32 multiply, scale19 = the packed value's bits [31:13]), then
 *    RINT to fp16 (saturating). REFERENCE §8: the fixpipe's internal rounding is not
 *    public; this two-step fp32 rounding is our documented choice. With a per-token
 *    scale the AIV then computes out = RINT(fp32(out_fp16) * x1Scale[row]) (CAST_NONE
 *    widening is exact).
 * Every multiply is a single IEEE fp32 multiply (no FMA: -ffp-contract=off). */
#pragma once
#include "ops/op.h"
#include "ops/cube.h"

G_BEGIN_DECLS

/**
 * npu_mm_dequant_i32: the AIV epilogue on a rows x cols block.
 * @acc: int32 accumulators, row stride @acc_ld elements.
 * @x2_scale: (nullable) fp32 per-channel scales of the block's first column onwards.
 * @x1_scale: (nullable) fp32 per-token scales of the block's first row onwards.
 * @out: output of @out_dt (FP16 or BF16), row stride @out_ld elements.
 */
void npu_mm_dequant_i32 (const gint32 *acc, gsize acc_ld, guint rows, guint cols,
                         const float *x2_scale, const float *x1_scale, NpuDtype out_dt,
                         gpointer out, gsize out_ld);

/**
 * npu_mm_fixpipe_dequant: fp16 out = RINT(fp32(acc) * scale19(packed[col])) for a
 * rows x cols block; @packed are TransQuantParamV2 INT64 values (ops/quant-scale.h).
 */
void npu_mm_fixpipe_dequant (const gint32 *acc, gsize acc_ld, guint rows, guint cols,
                             const guint64 *packed, guint16 *out, gsize out_ld);

/** npu_mm_pertoken_f16: in place, out = RINT(fp32(out) * x1_scale[row]) (fp16). */
void npu_mm_pertoken_f16 (guint16 *out, gsize out_ld, guint rows, guint cols,
                          const float *x1_scale);

/**
 * npu_mm_epilogue_block: the AIV epilogue of the rows x cols block at (@r0, @c0) of an
 * output with row stride @n: with @fixpipe, npu_mm_pertoken_f16 on the fp16 output in
 * place; otherwise npu_mm_dequant_i32 of the int32 accumulators. @acc, @out, @x2_scale,
 * @x1_scale point at row 0 / column 0 (@acc and @x2_scale unused with @fixpipe;
 * @x1_scale nullable: no per-token scale).
 */
void npu_mm_epilogue_block (gboolean fixpipe, const gint32 *acc, gpointer out, NpuDtype out_dt,
                            gsize n, guint r0, guint c0, guint rows, guint cols,
                            const float *x2_scale, const float *x1_scale);

/** npu_mm_cast_f32: the fixpipe cast: out = RINT(acc) to @out_dt (FP16/BF16). */
void npu_mm_cast_f32 (const float *acc, gsize acc_ld, guint rows, guint cols,
                      NpuDtype out_dt, gpointer out, gsize out_ld);

/**
 * npu_mm_swizzle: CATLASS GetBlockIdx: tile @loop of an @m_loop x @n_loop grid in
 * swizzled order. @direction 0 ("Zn"): bands of @count tile rows, walked column by
 * column, every other band reversed in n; 1 ("Nz"): bands of @count tile columns,
 * walked row by row, every other band reversed in m. Only which core gets which tile
 * (and so the timing) depends on it; the results do not.
 */
void npu_mm_swizzle (guint loop, guint m_loop, guint n_loop, guint direction, guint count,
                     guint *m_idx, guint *n_idx);

/** NpuMmWriteOut: what the fixpipe does with a tile's accumulator. */
typedef enum {
  NPU_MM_OUT_CAST,     /* fp32 -> fp16/bf16 */
  NPU_MM_OUT_FIXPIPE,  /* int32 x scale19 -> fp16 */
} NpuMmWriteOut;

/**
 * npu_mm_writeout_task_new: (transfer none) a hidden zero-time task after @cube that
 * turns the tile's accumulator in @scratch (rows x cols, row stride cols; fp32 or
 * int32) into the output at @out (row stride @out_ld, @out_dt) — the fixpipe part of
 * the cube tile, whose time the cube task already includes (models/cost.h "write").
 * @packed: the INT64 scales of the tile's first column (FIXPIPE only).
 * @write_buffer / @write_offset / @write_length: the hazard region the tile's output
 * stands for (length 0 = none). Callers use a tile-major stand-in buffer (one region
 * per tile) rather than the row-major output, whose tile rows interleave.
 * Pointers may be NULL in timing-only mode (no effect then).
 */
NpuTask *npu_mm_writeout_task_new (const NpuOpEnv *env, NpuTask *cube, NpuMmWriteOut kind,
                                   gpointer scratch, guint rows, guint cols,
                                   const guint64 *packed, NpuDtype out_dt, gpointer out,
                                   gsize out_ld, guint write_buffer, guint64 write_offset,
                                   guint64 write_length);

/**
 * npu_mm_get_int: a signed integer key (aclnn int64 attributes may be negative);
 * absent -> @dflt. Errors name "<path>.<key>".
 */
gboolean npu_mm_get_int (const json_t *obj, const char *key, const char *path, gint64 dflt,
                         gint64 *out, GError **error);

/**
 * npu_mm_fill_x2scale_int64: fill an INT64 x2Scale tensor: from {"npy": ...} as raw
 * packed values, otherwise draw fp32 scales from @spec (npu_op_fill_input rules,
 * default uniform [@low, @high)) and pack them with TransQuantParamV2 (@round_mode 0)
 * or V3 round mode 1 (no offset).
 */
gboolean npu_mm_fill_x2scale_int64 (NpuTensor *t, const json_t *spec, double low, double high,
                                    guint round_mode, const char *path, const NpuOpEnv *env,
                                    const NpuOp *op, guint rank, guint stream_id, GError **error);

/** NpuMmInput: the inputs of the matmul-like ops, in RNG stream order. */
typedef enum { NPU_MM_X1, NPU_MM_X2, NPU_MM_X1_SCALE, NPU_MM_X2_SCALE } NpuMmInput;

/**
 * npu_mm_input_tensor: (transfer full) input @which ("x1", "x2", "x1Scale", "x2Scale")
 * of group rank @g, @dt x @shape (@ndim dims), for prepare(): from @spec
 * (npu_op_input_tensor, RNG stream @which: an init spec, or {"from": "<op>.<tensor>"}
 * shared with an earlier op), or by default: int8 x1 / x2 randint [-5, 5] (as the ST
 * cases draw them), fp16/bf16 x1 / x2 uniform [-1, 1), x1Scale uniform [0.5, 1.5),
 * x2Scale uniform [0.001, 0.01). An INT64 x2Scale not taken "from" an op is drawn as
 * fp32 and packed with @round_mode (npu_mm_fill_x2scale_int64). @path: the input's key
 * path for errors.
 */
NpuTensor *npu_mm_input_tensor (NpuOp *op, const NpuOpEnv *env, guint g, NpuMmInput which,
                                NpuDtype dt, guint ndim, const gint64 *shape, const json_t *spec,
                                const char *path, guint round_mode, GError **error);

G_END_DECLS
