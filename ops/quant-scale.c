/* npusim — TransQuantParamV2/V3 scale packing (see ops/quant-scale.h). */
#include "ops/quant-scale.h"
#include <math.h>
#include <string.h>

#define SCALE_MASK G_GUINT64_CONSTANT (0xFFFFE000)
#define SCALE_FLAG (G_GUINT64_CONSTANT (1) << 46)

static guint32
f32_bits (float x)
{
  guint32 b;
  memcpy (&b, &x, sizeof b);
  return b;
}

guint64
npu_quant_pack_scale (float scale, gboolean has_offset, float offset, guint round_mode)
{
  guint32 bits = f32_bits (scale);
  if (round_mode == 1 && !isnan (scale) && !isinf (scale))
    {
      /* Round the 13 dropped mantissa bits to nearest, ties to even; a carry into the
       * exponent is the correct rounding (up to inf at the top of the range). */
      guint32 low = bits & 0x1FFFu, keep = bits & ~0x1FFFu;
      guint32 half = 0x1000u;
      if (low > half || (low == half && (keep & 0x2000u) != 0))
        keep += 0x2000u;
      bits = keep;
    }
  guint64 packed = ((guint64) bits & SCALE_MASK) | SCALE_FLAG;
  if (has_offset)
    {
      double o = rint ((double) offset);
      gint off = (gint) CLAMP (o, -256.0, 255.0);
      packed |= ((guint64) ((guint32) off & 0x1FFu)) << 37;
    }
  return packed;
}

float
npu_quant_scale19 (guint64 packed)
{
  guint32 bits = (guint32) (packed & SCALE_MASK);
  float x;
  memcpy (&x, &bits, sizeof x);
  return x;
}

gint
npu_quant_offset9 (guint64 packed)
{
  gint v = (gint) ((packed >> 37) & 0x1FFu);
  return v >= 256 ? v - 512 : v;
}
