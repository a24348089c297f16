/* npusim — the arithmetic of MoeDistributeDispatch / MoeDistributeCombine, bit-exact
 * to the A2/A3 kernels as REFERENCE.md 4.1, 5.1 and 9.2 describe them (fp32 vector
 * ops in IEEE single, one rounding per instruction, no FMA: the build has
 * -ffp-contract=off). */
#include "ops/moe-private.h"
#include <math.h>
#include <string.h>

float
npu_moe_quant_dynamic (NpuDtype x_dtype, gconstpointer x, const float *smooth, guint h,
                       gint8 *q)
{
  g_autofree float *xf = g_new (float, h);
  moe_load_row (x_dtype, x, xf, h);                 /* Cast(CAST_NONE): exact widening */
  if (smooth != NULL)
    for (guint i = 0; i < h; i++)
      xf[i] = xf[i] * smooth[i];                    /* Mul */
  float amax = 0.0f;                                /* Abs + ReduceMax (order-free) */
  for (guint i = 0; i < h; i++)
    {
      float v = fabsf (xf[i]);
      if (v > amax)
        amax = v;
    }
  float ds = 127.0f / amax;                         /* scalar fp32 divide */
  /* 1.5 * 2^23: adding and subtracting it rounds a float of magnitude < 2^22 to an
   * integer, ties to even, in the default rounding mode. */
  const float magic = 12582912.0f;
  for (guint i = 0; i < h; i++)
    {
      float v = xf[i] * ds;                         /* Muls */
      /* Cast int32 (RINT, saturating, NaN -> 0), Cast half (CAST_ROUND: exact for
       * |v| <= 2048, saturating beyond), Cast int8 (TRUNC, saturating): together a
       * clamp of the rounded integer to [-128, 127]. */
      if (v != v)
        q[i] = 0;
      else if (v >= 127.0f)
        q[i] = 127;
      else if (v <= -128.0f)
        q[i] = -128;
      else
        q[i] = (gint8) (gint32) ((v + magic) - magic);
    }
  return 1.0f / ds;                                 /* stored: 1 / ds, not amax / 127 */
}

static guint16
round_scale (NpuDtype dt, float v)
{
  return dt == NPU_DT_BF16 ? npu_f32_to_bf16 (v) : npu_f32_to_f16 (v);
}

static float
widen (NpuDtype dt, guint16 bits)
{
  return dt == NPU_DT_BF16 ? npu_bf16_to_f32 (bits) : npu_f16_to_f32 (bits);
}

void
npu_moe_comm_quant_row (NpuDtype dt, gconstpointer x, guint h, gint8 *q, guint16 *scales)
{
  const float inv127 = 1.0f / 127.0f;               /* scaleValFloat_ = 1.0f / SCALE_PARAM */
  float blk[8];
  for (guint b = 0; b * 8 < h; b++)
    {
      guint n = MIN (8u, h - b * 8);
      npu_load_f32_array (dt, (const guint8 *) x + (gsize) b * 8 * 2, blk, n);
      float smax = 0.0f;                            /* BlockReduceMax of |x|, zero padded */
      for (guint i = 0; i < n; i++)
        smax = MAX (smax, fabsf (blk[i]));
      float scale = smax * inv127;                  /* Muls */
      scales[b] = round_scale (dt, scale);          /* Cast(CAST_RINT) to the x dtype */
      for (guint i = 0; i < n; i++)
        {
          float v = blk[i] / scale;                 /* Div by the unrounded fp32 scale */
          guint16 hv = npu_f32_to_f16 (v);          /* Cast fp16 (RINT, saturating) */
          q[b * 8 + i] = npu_f32_to_i8 (npu_f16_to_f32 (hv)); /* Cast int8 (RINT) */
        }
    }
}

void
npu_moe_comm_dequant_row (NpuDtype dt, const gint8 *q, const guint16 *scales, guint h,
                          float *out)
{
  for (guint i = 0; i < h; i++)
    {
      float s = widen (dt, scales[i / 8]);          /* Cast(CAST_NONE) */
      float v = (float) q[i] * s;                   /* int8 -> fp16 -> fp32 exact; Mul */
      out[i] = widen (dt, round_scale (dt, v));     /* Cast(CAST_RINT) to the x dtype */
    }
}

guint16
npu_moe_round_half_away_bf16 (float x)
{
  guint32 u;
  memcpy (&u, &x, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u)              /* NaN: keep it quiet */
    return (guint16) ((u >> 16) | 0x0040u);
  guint32 sign = u & 0x80000000u, mag = u & 0x7fffffffu;
  mag += 0x8000u;                                   /* half a bf16 ulp, ties away */
  return (guint16) ((sign | mag) >> 16);
}

float
moe_tp_add (NpuDtype dt, guint version, float a, float b)
{
  float s = a + b;
  if (dt == NPU_DT_BF16)
    return npu_bf16_to_f32 (version == 1 ? npu_moe_round_half_away_bf16 (s)
                                         : npu_f32_to_bf16 (s));
  return npu_f16_to_f32 (npu_f32_to_f16 (s));      /* half Add: RNE, saturating */
}

void
moe_dispatch_row (const MoeAttrs *a, gconstpointer x_row, const float *smooth,
                  gpointer out_row, float *scale_out)
{
  if (a->quant_mode == 2)
    *scale_out = npu_moe_quant_dynamic (a->x_dtype, x_row, smooth, a->h, out_row);
  else
    memcpy (out_row, x_row, (gsize) a->h * npu_dtype_size (a->x_dtype));
}
