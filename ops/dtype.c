/* npusim — element types and bit-exact conversions (see ops/dtype.h).
 *
 * Every float narrowing goes through one integer routine, round_f32_bits(), that
 * works on the fp32 bit pattern: it never relies on the host's _Float16, on the
 * FPU rounding mode or on denormal flushing, so the results are the same on every
 * machine. Widening is exact and also done on the bits. */
#include "ops/dtype.h"

#include <math.h>
#include <string.h>

static const struct {
  const char *name;
  const char *alias;
  const char *npy;
  gsize size;
  gboolean is_float;
} dtype_info[NPU_DT_N_TYPES] = {
  [NPU_DT_FP32] = { "float32", "fp32", "<f4", 4, TRUE },
  [NPU_DT_FP16] = { "float16", "fp16", "<f2", 2, TRUE },
  [NPU_DT_BF16] = { "bfloat16", "bf16", "<u2", 2, TRUE },
  [NPU_DT_FP8_E4M3FN] = { "float8_e4m3fn", "fp8_e4m3fn", "|u1", 1, TRUE },
  [NPU_DT_FP8_E5M2] = { "float8_e5m2", "fp8_e5m2", "|u1", 1, TRUE },
  [NPU_DT_INT8] = { "int8", NULL, "|i1", 1, FALSE },
  [NPU_DT_INT32] = { "int32", NULL, "<i4", 4, FALSE },
  [NPU_DT_INT64] = { "int64", NULL, "<i8", 8, FALSE },
  [NPU_DT_UINT64] = { "uint64", NULL, "<u8", 8, FALSE },
};

gsize
npu_dtype_size (NpuDtype dt)
{
  g_return_val_if_fail ((guint) dt < NPU_DT_N_TYPES, 0);
  return dtype_info[dt].size;
}

const char *
npu_dtype_name (NpuDtype dt)
{
  g_return_val_if_fail ((guint) dt < NPU_DT_N_TYPES, NULL);
  return dtype_info[dt].name;
}

gboolean
npu_dtype_from_name (const char *name, NpuDtype *out)
{
  g_return_val_if_fail (name != NULL, FALSE);
  for (guint i = 0; i < NPU_DT_N_TYPES; i++)
    {
      if (g_strcmp0 (name, dtype_info[i].name) == 0
          || g_strcmp0 (name, dtype_info[i].alias) == 0)
        {
          if (out)
            *out = (NpuDtype) i;
          return TRUE;
        }
    }
  return FALSE;
}

const char *
npu_dtype_npy_descr (NpuDtype dt)
{
  g_return_val_if_fail ((guint) dt < NPU_DT_N_TYPES, NULL);
  return dtype_info[dt].npy;
}

gboolean
npu_dtype_is_float (NpuDtype dt)
{
  g_return_val_if_fail ((guint) dt < NPU_DT_N_TYPES, FALSE);
  return dtype_info[dt].is_float;
}

/* ---- bit casts ---------------------------------------------------------------- */

static inline guint32
f32_bits (float x)
{
  guint32 u;
  memcpy (&u, &x, sizeof u);
  return u;
}

static inline float
bits_f32 (guint32 u)
{
  float x;
  memcpy (&x, &u, sizeof x);
  return x;
}

/* ---- narrowing ---------------------------------------------------------------- */

/* A small binary float format: @mbits explicit mantissa bits, exponent @bias,
 * @max_finite the largest finite magnitude encoding (without sign) and
 * @overflow_code the magnitude encoding that finite overflow gives (the max finite
 * value for saturating conversions, the inf encoding otherwise). */
typedef struct {
  int mbits;
  int bias;
  guint32 max_finite;
  guint32 overflow_code;
} SmallFormat;

/* round_f32_bits: magnitude encoding of |x| in @fmt for a finite fp32 magnitude
 * @a (bits without sign), rounded to nearest, ties to even.
 *
 * The fp32 value is sig * 2^(E) with a 24-bit integer significand; the target's
 * encoding (exponent field << mbits | mantissa) is monotonic in the value, so
 * rounding the significand to the target's precision and letting the carry
 * ripple into the exponent field handles normal, subnormal and the
 * subnormal->normal / normal->next-binade boundaries in one expression. */
static inline guint32
round_f32_bits (guint32 a, const SmallFormat *fmt)
{
  gint32 e = (gint32) (a >> 23);
  guint32 f = a & 0x7fffffu;
  guint32 sig = e ? (f | 0x800000u) : f;
  gint32 e_eff = e ? e : 1;
  /* target biased exponent if the value is normal there */
  gint32 t = e_eff - 127 + fmt->bias;
  guint32 base;
  gint32 shift;

  if (t >= 1)
    {
      /* normal in the target: keep the hidden bit out, shift the fraction */
      base = (guint32) t << fmt->mbits;
      sig &= 0x7fffffu;
      shift = 23 - fmt->mbits;
    }
  else
    {
      /* subnormal in the target: value = m * 2^(1 - bias - mbits) */
      base = 0;
      shift = 23 - fmt->mbits + (1 - t);
    }

  guint32 q;
  if (shift >= 32)
    q = 0; /* below half the smallest subnormal: sig < 2^24 <= 2^(shift-1) */
  else
    {
      guint32 rem_mask = (1u << shift) - 1u;
      guint32 half = 1u << (shift - 1);
      guint32 rem = sig & rem_mask;
      q = sig >> shift;
      if (rem > half || (rem == half && (q & 1u)))
        q++;
    }
  guint32 code = base + q;
  if (code > fmt->max_finite)
    code = fmt->overflow_code;
  return code;
}

static const SmallFormat fmt_f16 = { 10, 15, 0x7bffu, 0x7bffu };   /* saturate 65504 */
static const SmallFormat fmt_e4m3 = { 3, 7, 0x7eu, 0x7eu };        /* saturate 448 */
static const SmallFormat fmt_e5m2 = { 2, 15, 0x7bu, 0x7bu };       /* saturate 57344 */

guint16
npu_f32_to_f16 (float x)
{
  guint32 u = f32_bits (x);
  guint32 sign = (u >> 16) & 0x8000u;
  guint32 a = u & 0x7fffffffu;
  if (a > 0x7f800000u) /* NaN: quiet, keep sign and the top payload bits */
    return (guint16) (sign | 0x7e00u | ((a >> 13) & 0x3ffu));
  if (a == 0x7f800000u)
    return (guint16) (sign | 0x7c00u);
  return (guint16) (sign | round_f32_bits (a, &fmt_f16));
}

float
npu_f16_to_f32 (guint16 h)
{
  guint32 sign = ((guint32) h & 0x8000u) << 16;
  guint32 e = (h >> 10) & 0x1fu;
  guint32 m = h & 0x3ffu;
  if (e == 0x1f)
    {
      if (m == 0)
        return bits_f32 (sign | 0x7f800000u);
      return bits_f32 (sign | 0x7fc00000u | (m << 13)); /* quiet NaN, payload kept */
    }
  if (e == 0)
    {
      if (m == 0)
        return bits_f32 (sign);
      /* subnormal: normalise; value = m * 2^-24 */
      int sh = __builtin_clz (m) - 21; /* shift so bit 10 becomes the leading bit */
      m <<= sh;
      return bits_f32 (sign | ((guint32) (113 - sh) << 23) | ((m & 0x3ffu) << 13));
    }
  return bits_f32 (sign | ((e + 112u) << 23) | (m << 13));
}

guint16
npu_f32_to_bf16 (float x)
{
  guint32 u = f32_bits (x);
  if ((u & 0x7fffffffu) > 0x7f800000u)
    return (guint16) ((u >> 16) | 0x0040u); /* quiet NaN */
  /* RNE on the low 16 bits; a carry out of the top mantissa bit moves into the
   * exponent, and 0x7f7fffff-ish values round up to the inf encoding, which is
   * the bf16 overflow rule. Subnormals are handled by the same carry. */
  return (guint16) ((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

float
npu_bf16_to_f32 (guint16 b)
{
  return bits_f32 ((guint32) b << 16);
}

guint8
npu_f32_to_e4m3 (float x)
{
  guint32 u = f32_bits (x);
  guint32 sign = (u >> 24) & 0x80u;
  guint32 a = u & 0x7fffffffu;
  if (a > 0x7f800000u)
    return (guint8) (sign | 0x7fu); /* the only NaN encoding */
  if (a == 0x7f800000u)
    return (guint8) (sign | 0x7eu); /* no inf in e4m3fn: saturate */
  return (guint8) (sign | round_f32_bits (a, &fmt_e4m3));
}

float
npu_e4m3_to_f32 (guint8 v)
{
  guint32 sign = ((guint32) v & 0x80u) << 24;
  guint32 e = (v >> 3) & 0xfu;
  guint32 m = v & 0x7u;
  if (e == 0xf && m == 0x7)
    return bits_f32 (sign | 0x7fc00000u);
  if (e == 0)
    {
      if (m == 0)
        return bits_f32 (sign);
      int sh = __builtin_clz (m) - 28; /* bring the leading bit to bit 3 */
      m <<= sh;
      return bits_f32 (sign | ((guint32) (121 - sh) << 23) | ((m & 0x7u) << 20));
    }
  return bits_f32 (sign | ((e + 120u) << 23) | (m << 20));
}

guint8
npu_f32_to_e5m2 (float x)
{
  guint32 u = f32_bits (x);
  guint32 sign = (u >> 24) & 0x80u;
  guint32 a = u & 0x7fffffffu;
  if (a > 0x7f800000u)
    return (guint8) (sign | 0x7eu | ((a >> 21) & 0x3u)); /* quiet NaN */
  if (a == 0x7f800000u)
    return (guint8) (sign | 0x7cu);
  return (guint8) (sign | round_f32_bits (a, &fmt_e5m2));
}

float
npu_e5m2_to_f32 (guint8 v)
{
  guint32 sign = ((guint32) v & 0x80u) << 24;
  guint32 e = (v >> 2) & 0x1fu;
  guint32 m = v & 0x3u;
  if (e == 0x1f)
    {
      if (m == 0)
        return bits_f32 (sign | 0x7f800000u);
      return bits_f32 (sign | 0x7fc00000u | (m << 21));
    }
  if (e == 0)
    {
      if (m == 0)
        return bits_f32 (sign);
      int sh = __builtin_clz (m) - 29; /* bring the leading bit to bit 2 */
      m <<= sh;
      return bits_f32 (sign | ((guint32) (113 - sh) << 23) | ((m & 0x3u) << 21));
    }
  return bits_f32 (sign | ((e + 112u) << 23) | (m << 21));
}

/* Float -> integer: round to nearest even in double (exact: a double holds every
 * float and every bound used below), then saturate; NaN -> 0. Like rint(), this
 * assumes the default IEEE rounding mode, which npusim never changes. */
static inline double
rne_double (double x)
{
  /* 2^52: adding and subtracting it rounds a double of magnitude < 2^52 to an
   * integer with the default round-to-nearest-even of IEEE arithmetic; bigger
   * magnitudes are already integers. */
  const double two52 = 4503599627370496.0;
  double ax = fabs (x);
  if (!(ax < two52))
    return x;
  double r = (ax + two52) - two52;
  return copysign (r, x);
}

gint8
npu_f32_to_i8 (float x)
{
  if (isnan (x))
    return 0;
  double r = rne_double (x);
  if (r > 127.0)
    return 127;
  if (r < -128.0)
    return -128;
  return (gint8) r;
}

gint32
npu_f32_to_i32 (float x)
{
  if (isnan (x))
    return 0;
  double r = rne_double (x);
  if (r > 2147483647.0)
    return G_MAXINT32;
  if (r < -2147483648.0)
    return G_MININT32;
  return (gint32) r;
}

static gint64
f32_to_i64 (float x)
{
  if (isnan (x))
    return 0;
  double r = rne_double (x);
  /* every float >= 2^63 overflows; -2^63 itself is representable */
  if (r >= 9223372036854775808.0)
    return G_MAXINT64;
  if (r < -9223372036854775808.0)
    return G_MININT64;
  return (gint64) r;
}

static guint64
f32_to_u64 (float x)
{
  if (isnan (x))
    return 0;
  double r = rne_double (x);
  if (r >= 18446744073709551616.0)
    return G_MAXUINT64;
  if (r <= 0.0)
    return 0;
  return (guint64) r;
}

/* ---- element access --------------------------------------------------------------- */

float
npu_dtype_load_f32 (NpuDtype dt, gconstpointer data, gsize i)
{
  switch (dt)
    {
    case NPU_DT_FP32:
      return ((const float *) data)[i];
    case NPU_DT_FP16:
      return npu_f16_to_f32 (((const guint16 *) data)[i]);
    case NPU_DT_BF16:
      return npu_bf16_to_f32 (((const guint16 *) data)[i]);
    case NPU_DT_FP8_E4M3FN:
      return npu_e4m3_to_f32 (((const guint8 *) data)[i]);
    case NPU_DT_FP8_E5M2:
      return npu_e5m2_to_f32 (((const guint8 *) data)[i]);
    case NPU_DT_INT8:
      return (float) ((const gint8 *) data)[i];
    case NPU_DT_INT32:
      return (float) ((const gint32 *) data)[i];
    case NPU_DT_INT64:
      return (float) ((const gint64 *) data)[i];
    case NPU_DT_UINT64:
      return (float) ((const guint64 *) data)[i];
    case NPU_DT_N_TYPES:
    default:
      break;
    }
  g_return_val_if_reached (0.0f);
}

void
npu_dtype_store_f32 (NpuDtype dt, gpointer data, gsize i, float x)
{
  switch (dt)
    {
    case NPU_DT_FP32:
      ((float *) data)[i] = x;
      return;
    case NPU_DT_FP16:
      ((guint16 *) data)[i] = npu_f32_to_f16 (x);
      return;
    case NPU_DT_BF16:
      ((guint16 *) data)[i] = npu_f32_to_bf16 (x);
      return;
    case NPU_DT_FP8_E4M3FN:
      ((guint8 *) data)[i] = npu_f32_to_e4m3 (x);
      return;
    case NPU_DT_FP8_E5M2:
      ((guint8 *) data)[i] = npu_f32_to_e5m2 (x);
      return;
    case NPU_DT_INT8:
      ((gint8 *) data)[i] = npu_f32_to_i8 (x);
      return;
    case NPU_DT_INT32:
      ((gint32 *) data)[i] = npu_f32_to_i32 (x);
      return;
    case NPU_DT_INT64:
      ((gint64 *) data)[i] = f32_to_i64 (x);
      return;
    case NPU_DT_UINT64:
      ((guint64 *) data)[i] = f32_to_u64 (x);
      return;
    case NPU_DT_N_TYPES:
    default:
      break;
    }
  g_return_if_reached ();
}

void
npu_convert_f32_array (NpuDtype dt, const float *src, gpointer dst, gsize n)
{
  g_return_if_fail ((guint) dt < NPU_DT_N_TYPES);
  g_return_if_fail (n == 0 || (src != NULL && dst != NULL));
  /* one switch per array, tight loops per type */
  switch (dt)
    {
    case NPU_DT_FP32:
      memmove (dst, src, n * sizeof (float));
      break;
    case NPU_DT_FP16:
      for (gsize i = 0; i < n; i++)
        ((guint16 *) dst)[i] = npu_f32_to_f16 (src[i]);
      break;
    case NPU_DT_BF16:
      for (gsize i = 0; i < n; i++)
        ((guint16 *) dst)[i] = npu_f32_to_bf16 (src[i]);
      break;
    default:
      for (gsize i = 0; i < n; i++)
        npu_dtype_store_f32 (dt, dst, i, src[i]);
      break;
    }
}

void
npu_load_f32_array (NpuDtype dt, gconstpointer src, float *dst, gsize n)
{
  g_return_if_fail ((guint) dt < NPU_DT_N_TYPES);
  g_return_if_fail (n == 0 || (src != NULL && dst != NULL));
  switch (dt)
    {
    case NPU_DT_FP32:
      memmove (dst, src, n * sizeof (float));
      break;
    case NPU_DT_FP16:
      for (gsize i = 0; i < n; i++)
        dst[i] = npu_f16_to_f32 (((const guint16 *) src)[i]);
      break;
    case NPU_DT_BF16:
      for (gsize i = 0; i < n; i++)
        dst[i] = npu_bf16_to_f32 (((const guint16 *) src)[i]);
      break;
    default:
      for (gsize i = 0; i < n; i++)
        dst[i] = npu_dtype_load_f32 (dt, src, i);
      break;
    }
}
