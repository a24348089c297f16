/* npusim — the FRACTAL_NZ layout of a 2-D matrix, and the "TransDataNZ" scenario op
 * that converts ND weights to it (what aclnnTransMatmulWeight does before an MC2
 * call, e.g. the x2 of QuantMatmulAllReduceV3).
 *
 * An ND matrix of R rows and C columns is stored as fractals of 16 rows x c0 columns,
 * c0 = 32 bytes / element size (int8: 32, fp16/bf16: 16): storage shape
 * (ceil(C / c0), ceil(R / 16), 16, c0), element (r, c) at
 * [c / c0][r / 16][r % 16][c % c0]; the padding is zero (aclnnCalculateMatmulWeightSizeV2:
 * int8 occupies Align(R, 16) x Align(C, 32) elements). */
#pragma once
#include "ops/op.h"

G_BEGIN_DECLS

/** npu_nz_c0: fractal width in elements for @dt (32 bytes / size). */
gint64 npu_nz_c0 (NpuDtype dt);
/** npu_nz_shape: the 4-D storage shape of an @rows x @cols ND matrix of @dt. */
void npu_nz_shape (NpuDtype dt, gint64 rows, gint64 cols, gint64 shape[4]);
/** npu_nz_index: storage element index of ND element (@r, @c) of an @rows-row matrix. */
gint64 npu_nz_index (NpuDtype dt, gint64 rows, gint64 r, gint64 c);
/** npu_nz_from_nd: @nz (storage, zero-filled padding) from row-major @nd; columns
 *  [@c_begin, @c_end) only (a whole column range of fractals is independent). */
void npu_nz_from_nd (NpuDtype dt, gint64 rows, gint64 cols, gconstpointer nd, gpointer nz,
                     gint64 c_begin, gint64 c_end);
/** npu_nz_to_nd: row-major @nd from @nz storage. */
void npu_nz_to_nd (NpuDtype dt, gint64 rows, gint64 cols, gconstpointer nz, gpointer nd);

extern const NpuOpClass npu_nz_trans_class; /* "TransDataNZ" */

G_END_DECLS
