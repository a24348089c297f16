/* npusim — INT64/UINT64 packed dequant scales (aclnnTransQuantParamV2/V3), as the
 * fixpipe consumes them (../shared/REFERENCE.md "Generic numerics"):
 *   packed = (bits(fp32 scale) & 0xFFFFE000) | (1 << 46) [| (offset9 & 0x1FF) << 37]
 * The scale keeps sign, 8 exponent bits and the top 10 mantissa bits (bits [31:13]);
 * roundMode 0 (V2) truncates the low 13 bits, roundMode 1 (V3) rounds them to nearest
 * even first. The offset is clamp(rint(offset), -256, 255). */
#pragma once
#include <glib.h>

G_BEGIN_DECLS

/**
 * npu_quant_pack_scale: pack one fp32 scale (and optional offset).
 * @round_mode: 0 = truncate (TransQuantParamV2), 1 = round to nearest even (V3).
 * @offset: used only if @has_offset.
 */
guint64 npu_quant_pack_scale (float scale, gboolean has_offset, float offset, guint round_mode);
/** npu_quant_scale19: the 19-bit scale of a packed value, as an fp32. */
float npu_quant_scale19 (guint64 packed);
/** npu_quant_offset9: the signed 9-bit offset of a packed value. */
gint npu_quant_offset9 (guint64 packed);

G_END_DECLS
