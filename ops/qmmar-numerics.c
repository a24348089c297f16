/* npusim — QuantMatmulAllReduceV3 element-wise numerics, one function per kernel step
 * (../shared/REFERENCE.md 2.1; docs/ops/QuantMatmulAllReduceV3.md "Numerics").
 *
 * Half-precision arithmetic of the AIV (fp16 Add, Div, Mul) is computed in fp32 and
 * rounded once to fp16: fp32 carries at least 2·11 + 2 significand bits, so for +, /
 * and x this is the correctly rounded fp16 result (Figueroa); an fp16 overflow
 * saturates at ±65504 (REFERENCE 9.8, the rule of npu_f32_to_f16). */
#include "ops/qmmar-private.h"
#include "ops/quant-scale.h"
#include <math.h>

static inline gint32
acc_at (const QmmarData *d, gint64 i, gint64 c)
{
  gint64 p = c / QMMAR_PANEL;
  return d->acc[(p * d->m + i) * QMMAR_PANEL + c % QMMAR_PANEL];
}

static inline float
to_f32 (NpuDtype dt, guint16 v)
{
  return dt == NPU_DT_BF16 ? npu_bf16_to_f32 (v) : npu_f16_to_f32 (v);
}

static inline guint16
from_f32 (NpuDtype dt, float x)
{
  return dt == NPU_DT_BF16 ? npu_f32_to_bf16 (x) : npu_f32_to_f16 (x);
}

guint16
qmmar_f64_to_f16 (double x)
{
  /* Round to fp32 by round-to-odd, then to fp16 by nearest-even: the odd last bit
   * keeps the information that decides the second rounding, so the result is x
   * rounded once to fp16 (fp32 has >= 11 + 2 bits). */
  float f = (float) x;
  if (isfinite (f) && (double) f != x)
    {
      if (fabs ((double) f) > fabs (x))
        f = nextafterf (f, 0.0f);
      guint32 b;
      memcpy (&b, &f, sizeof b);
      b |= 1u;
      memcpy (&f, &b, sizeof f);
    }
  return npu_f32_to_f16 (f);
}

/* dequantScale[c] as the AIV sees it (FLOAT32, or BFLOAT16 widened exactly). */
static inline float
deq_f32 (const QmmarData *d, gint64 c)
{
  gint64 j = d->deq_per_tensor ? 0 : c;
  if (d->deq_dt == NPU_DT_BF16)
    return npu_bf16_to_f32 (((const guint16 *) d->deq)[j]);
  return ((const float *) d->deq)[j];
}

/* The packed INT64/UINT64 scale: 19 bits of an fp32 (TransQuantParamV2). */
static inline float
deq_scale19 (const QmmarData *d, gint64 c)
{
  gint64 j = d->deq_per_tensor ? 0 : c;
  return npu_quant_scale19 (((const guint64 *) d->deq)[j]);
}

void
qmmar_num_epilogue (const QmmarData *d, gint64 r0, gint64 r1)
{
  for (gint64 i = r0; i < r1; i++)
    {
      guint16 *o = d->out + i * d->n;
      float pt = d->pertoken != NULL ? d->pertoken[i] : 1.0f;
      for (gint64 c = 0; c < d->n; c++)
        {
          /* the int32 bias is added in L0C: 32-bit two's-complement arithmetic */
          gint32 a = acc_at (d, i, c);
          if (d->bias != NULL)
            a = (gint32) ((guint32) a + (guint32) d->bias[c]);
          switch (d->epi)
            {
            case QE_FIXPIPE:
              /* fixpipe: int32 x 19-bit scale, one rounding to fp16 (the product is
               * exact in double: 32 x 11 significand bits) */
              o[c] = qmmar_f64_to_f16 ((double) a * (double) deq_scale19 (d, c));
              break;
            case QE_PERTOKEN:
              {
                /* AscendDequant: fp32(int32) (RINT) x scale; x pertoken; cast RINT */
                float f = (float) a * deq_f32 (d, c);
                f = f * pt;
                o[c] = from_f32 (d->out_dt, f);
                break;
              }
            default:
              o[c] = from_f32 (d->out_dt, (float) a * deq_f32 (d, c));
              break;
            }
        }
    }
}

void
qmmar_num_add_x3 (const QmmarData *d, gint64 r0, gint64 r1)
{
  /* bf16: Cast both to fp32, Add, Cast RINT; fp16: half Add (see the file comment) */
  for (gint64 i = r0 * d->n; i < r1 * d->n; i++)
    d->out[i] = from_f32 (d->out_dt, to_f32 (d->out_dt, d->out[i]) + to_f32 (d->out_dt, d->x3[i]));
}

void
qmmar_num_quantize (const QmmarData *d, gint64 row0, gint64 r0, gint64 r1, gint8 *q)
{
  for (gint64 r = r0; r < r1; r++)
    {
      const guint16 *x = d->out + (row0 + r) * d->n;
      gint8 *z = q + r * d->n;
      for (gint64 c = 0; c < d->n; c++)
        {
          float s1 = to_f32 (d->out_dt, d->cq1[c]);
          guint16 h;
          if (d->out_dt == NPU_DT_FP16)
            h = npu_f32_to_f16 (npu_f16_to_f32 (x[c]) / s1);  /* Div in fp16 */
          else
            h = npu_f32_to_f16 (npu_bf16_to_f32 (x[c]) / s1); /* Div fp32, Cast RINT */
          z[c] = npu_f32_to_i8 (npu_f16_to_f32 (h));          /* half -> int8 RINT */
        }
    }
}

void
qmmar_num_reduce_sum (const QmmarData *d, gint8 *t, gint64 chunk, guint w, guint g,
                      gint64 r0, gint64 r1)
{
  for (gint64 r = r0; r < r1; r++)
    for (gint64 c = 0; c < d->n; c++)
      {
        /* int8 -> fp16 -> fp32 (exact), summed in rank order 0, 1, ..., w-1 */
        float acc = npu_f16_to_f32 (npu_f32_to_f16 ((float) t[r * d->n + c]));
        for (guint j = 1; j < w; j++)
          acc = acc + npu_f16_to_f32 (npu_f32_to_f16 ((float) t[(j * chunk + r) * d->n + c]));
        /* x (fp32(s1) / fp32(s2)); fp32 -> fp16 RINT -> int8 RINT */
        float s = to_f32 (d->out_dt, d->cq1[c]) / to_f32 (d->out_dt, d->cq2[c]);
        acc = acc * s;
        t[(g * chunk + r) * d->n + c] = npu_f32_to_i8 (npu_f16_to_f32 (npu_f32_to_f16 (acc)));
      }
}

void
qmmar_num_dequant (const QmmarData *d, const gint8 *t, gint64 row0, gint64 r0, gint64 r1)
{
  for (gint64 r = r0; r < r1; r++)
    {
      guint16 *o = d->out + (row0 + r) * d->n;
      for (gint64 c = 0; c < d->n; c++)
        {
          float v = npu_f16_to_f32 (npu_f32_to_f16 ((float) t[r * d->n + c]));
          /* fp16: half Mul; bf16: fp32 Mul, Cast RINT */
          o[c] = from_f32 (d->out_dt, v * to_f32 (d->out_dt, d->cq2[c]));
        }
    }
}
