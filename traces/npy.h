/* npusim — .npy files (format version 1.0), little-endian, C order.
 * dtypes numpy lacks (bf16, fp8) are stored as raw bits (<u2, |u1); the logical dtype
 * goes into manifest.json. */
#pragma once
#include <glib.h>

G_BEGIN_DECLS

/**
 * npu_npy_write: write @nbytes of @data as an array of @descr ("<f4", "<f2", "<u2",
 * "|u1", "|i1", "<i4", "<i8", "<u8") and @shape (C order).
 */
gboolean npu_npy_write (const char *path, const char *descr, guint ndim,
                        const gint64 *shape, gconstpointer data, guint64 nbytes,
                        GError **error);

/**
 * npu_npy_read: read a C-order little-endian .npy file.
 * @descr_out, @shape_out, @data_out: (transfer full) g_free them.
 * Errors: G_FILE_ERROR_* on I/O, G_FILE_ERROR_INVAL on a malformed or Fortran-order file.
 */
gboolean npu_npy_read (const char *path, char **descr_out, guint *ndim_out,
                       gint64 **shape_out, gpointer *data_out, guint64 *nbytes_out,
                       GError **error);

G_END_DECLS
