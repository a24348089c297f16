/* npusim — element types and conversions, bit-exact to the Ascend arch22 rules
 * (../shared/REFERENCE.md "Generic numerics"):
 *  - float -> float conversions round to nearest, ties to even (CAST_RINT);
 *  - fp32 -> fp16 saturates to ±65504 on overflow (AscendC default), ±inf stays inf;
 *  - fp32 -> bf16 overflows to ±inf (REFERENCE 9.8);
 *  - fp32 -> fp8 e4m3fn saturates to ±448 (no inf in the format), e5m2 to ±57344;
 *  - float -> int8/int32 round to nearest even and saturate; NaN -> 0;
 *  - NaN stays NaN (quiet) in float formats; subnormals are kept both ways.
 * Details the header above leaves open, as implemented (and tested by
 * tests/test-ops-dtype.py against an independent NumPy model):
 *  - "overflow" means the value after RNE rounding exceeds the largest finite
 *    value (e.g. 65519.99 -> 65504 for fp16 either way, 65520 -> 65504 by
 *    saturation where IEEE would give inf);
 *  - ±inf -> e4m3fn gives ±448 (the format has no inf; saturating, like
 *    CUDA's __NV_SATFINITE); ±inf -> e5m2 stays ±inf (the format has it);
 *  - NaN encodings produced: fp16 sign|0x7e00|top 10 payload bits, bf16 the top
 *    16 bits |0x0040, e4m3fn sign|0x7f (its only NaN), e5m2 sign|0x7e|top 2
 *    payload bits; widening a NaN gives sign|0x7fc00000|payload (quiet), except
 *    bf16 widening, which is exactly bits << 16;
 *  - float -> int64 / uint64 (store) also RINT + saturate, NaN -> 0, and
 *    negative -> 0 for uint64.
 * Everything is integer bit manipulation: no dependence on the host's _Float16,
 * denormal flushing or FMA. (The float -> int paths assume the default IEEE
 * rounding mode, which npusim never changes.) */
#pragma once
#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  NPU_DT_FP32,
  NPU_DT_FP16,
  NPU_DT_BF16,
  NPU_DT_FP8_E4M3FN,
  NPU_DT_FP8_E5M2,
  NPU_DT_INT8,
  NPU_DT_INT32,
  NPU_DT_INT64,
  NPU_DT_UINT64,
  NPU_DT_N_TYPES
} NpuDtype;

/** npu_dtype_size: bytes per element. */
gsize npu_dtype_size (NpuDtype dt);
/** npu_dtype_name: aclnn-style name: "float32", "float16", "bfloat16",
 *  "float8_e4m3fn", "float8_e5m2", "int8", "int32", "int64", "uint64". */
const char *npu_dtype_name (NpuDtype dt);
/** npu_dtype_from_name: also accepts "fp32", "fp16", "bf16", "fp8_e4m3fn", "fp8_e5m2". */
gboolean npu_dtype_from_name (const char *name, NpuDtype *out);
/** npu_dtype_npy_descr: .npy descr; bf16 -> "<u2", fp8 -> "|u1" (raw bits). */
const char *npu_dtype_npy_descr (NpuDtype dt);
gboolean npu_dtype_is_float (NpuDtype dt);

/* Scalar conversions (all pure, no global state). */
guint16 npu_f32_to_f16 (float x);
float npu_f16_to_f32 (guint16 h);
guint16 npu_f32_to_bf16 (float x);
float npu_bf16_to_f32 (guint16 b);
guint8 npu_f32_to_e4m3 (float x);
float npu_e4m3_to_f32 (guint8 v);
guint8 npu_f32_to_e5m2 (float x);
float npu_e5m2_to_f32 (guint8 v);
/** npu_f32_to_i8: RINT then saturate to [-128, 127]; NaN -> 0. */
gint8 npu_f32_to_i8 (float x);
/** npu_f32_to_i32: RINT then saturate; NaN -> 0. */
gint32 npu_f32_to_i32 (float x);

/**
 * npu_dtype_load_f32: element @i of a buffer of @dt as float (int types converted
 * exactly where representable; int64/uint64 by C conversion).
 */
float npu_dtype_load_f32 (NpuDtype dt, gconstpointer data, gsize i);
/** npu_dtype_store_f32: round @x to @dt by the rules above into element @i. */
void npu_dtype_store_f32 (NpuDtype dt, gpointer data, gsize i, float x);

/** npu_convert_f32_array: convert @n floats to @dt (bulk, same rules). */
void npu_convert_f32_array (NpuDtype dt, const float *src, gpointer dst, gsize n);
/** npu_load_f32_array: widen @n elements of @dt to floats. */
void npu_load_f32_array (NpuDtype dt, gconstpointer src, float *dst, gsize n);

G_END_DECLS
