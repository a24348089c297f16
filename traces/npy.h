/* npusim — .npy files (format version 1.0), little-endian, C order.
 * dtypes numpy lacks (bf16, fp8) are stored as raw bits (<u2, |u1); the logical dtype
 * goes into manifest.json.
 *
 * Format (numpy.lib.format): "\x93NUMPY", version bytes, a little-endian header
 * length, then a Python dict literal {'descr': ..., 'fortran_order': False,
 * 'shape': (...), } padded with spaces and ended by '\n' so that the data starts at a
 * multiple of 64 bytes; then the raw array bytes. */
#pragma once
#include <glib.h>

G_BEGIN_DECLS

/**
 * npu_npy_write: write @nbytes of @data as an array of @descr ("<f4", "<f2", "<u2",
 * "|u1", "|i1", "<i4", "<i8", "<u8"; any little-endian "<" or one-byte "|" numpy
 * type string of kind b, i, u, f or c) and @shape (@ndim entries, C order; ndim 0 is a
 * scalar). @nbytes must equal the product of @shape times the item size (a
 * programmer error otherwise). The file is created or truncated.
 * Errors: G_FILE_ERROR_* on I/O (the partial file is removed).
 */
gboolean npu_npy_write (const char *path, const char *descr, guint ndim,
                        const gint64 *shape, gconstpointer data, guint64 nbytes,
                        GError **error);

/**
 * npu_npy_read: read a C-order little-endian .npy file (format 1.0, 2.0 or 3.0).
 * @descr_out, @shape_out, @data_out: (transfer full) g_free them. @shape_out has
 * @ndim_out entries; @nbytes_out is the product of the shape times the item size.
 * Errors: G_FILE_ERROR_* on I/O, G_FILE_ERROR_INVAL on a malformed, truncated,
 * big-endian, structured-dtype or Fortran-order file.
 */
gboolean npu_npy_read (const char *path, char **descr_out, guint *ndim_out,
                       gint64 **shape_out, gpointer *data_out, guint64 *nbytes_out,
                       GError **error);

G_END_DECLS
