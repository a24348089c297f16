/* npusim — FRACTAL_NZ index arithmetic (see ops/nz.h). */
#include "ops/nz.h"
#include <string.h>

#define NZ_R0 16

gint64
npu_nz_c0 (NpuDtype dt)
{
  gsize s = npu_dtype_size (dt);
  g_return_val_if_fail (s > 0 && s <= 32, 1);
  return (gint64) (32 / s);
}

void
npu_nz_shape (NpuDtype dt, gint64 rows, gint64 cols, gint64 shape[4])
{
  gint64 c0 = npu_nz_c0 (dt);
  shape[0] = (cols + c0 - 1) / c0;
  shape[1] = (rows + NZ_R0 - 1) / NZ_R0;
  shape[2] = NZ_R0;
  shape[3] = c0;
}

gint64
npu_nz_index (NpuDtype dt, gint64 rows, gint64 r, gint64 c)
{
  gint64 c0 = npu_nz_c0 (dt);
  gint64 r1 = (rows + NZ_R0 - 1) / NZ_R0;
  return (((c / c0) * r1 + r / NZ_R0) * NZ_R0 + r % NZ_R0) * c0 + c % c0;
}

void
npu_nz_from_nd (NpuDtype dt, gint64 rows, gint64 cols, gconstpointer nd, gpointer nz,
                gint64 c_begin, gint64 c_end)
{
  gsize es = npu_dtype_size (dt);
  gint64 c0 = npu_nz_c0 (dt);
  gint64 r1 = (rows + NZ_R0 - 1) / NZ_R0;
  /* whole fractal columns: zero them first, so the padding is zero */
  gint64 f0 = c_begin / c0, f1 = (c_end + c0 - 1) / c0;
  memset ((guint8 *) nz + (gsize) (f0 * r1 * NZ_R0 * c0) * es, 0,
          (gsize) ((f1 - f0) * r1 * NZ_R0 * c0) * es);
  for (gint64 r = 0; r < rows; r++)
    for (gint64 c = c_begin; c < c_end; c++)
      memcpy ((guint8 *) nz + (gsize) npu_nz_index (dt, rows, r, c) * es,
              (const guint8 *) nd + (gsize) (r * cols + c) * es, es);
}

void
npu_nz_to_nd (NpuDtype dt, gint64 rows, gint64 cols, gconstpointer nz, gpointer nd)
{
  gsize es = npu_dtype_size (dt);
  for (gint64 r = 0; r < rows; r++)
    for (gint64 c = 0; c < cols; c++)
      memcpy ((guint8 *) nd + (gsize) (r * cols + c) * es,
              (const guint8 *) nz + (gsize) npu_nz_index (dt, rows, r, c) * es, es);
}
