/* npusim — a tensor: dtype, shape, strides (elements), format, data.
 *
 * Data is host memory owned by the tensor (or NULL in timing-only mode), or, for a
 * view (npu_tensor_new_view), the storage of another tensor the view keeps alive.
 * Strides are in elements; a freshly created tensor is contiguous row-major.
 * FRACTAL_NZ tensors keep their 4-D storage shape (the ND<->NZ transform is an op of
 * its own). */
#pragma once
#include <glib.h>
#include "ops/dtype.h"

G_BEGIN_DECLS

#define NPU_MAX_DIMS 8

typedef enum { NPU_FORMAT_ND, NPU_FORMAT_FRACTAL_NZ } NpuFormat;

typedef struct _NpuTensor NpuTensor;

#define NPU_TENSOR_ERROR (npu_tensor_error_quark ())
GQuark npu_tensor_error_quark (void);
/** NpuTensorError: why a tensor could not be made. */
typedef enum {
  NPU_TENSOR_ERROR_TOO_LARGE = 1, /* the element or byte count overflows */
  NPU_TENSOR_ERROR_NO_MEMORY,     /* the host allocation failed */
  NPU_TENSOR_ERROR_VIEW,          /* a view's shape or base does not fit */
} NpuTensorError;

/**
 * npu_tensor_new: (transfer full) a zero-filled contiguous tensor.
 * @shape: (array length=ndim) ndim in 0..NPU_MAX_DIMS, every dim >= 0.
 * @with_data: FALSE for timing-only (no storage).
 * Returns NULL with @error if the size overflows or the allocation fails.
 */
NpuTensor *npu_tensor_new (NpuDtype dt, guint ndim, const gint64 *shape, NpuFormat format,
                           gboolean with_data, GError **error);
/** npu_tensor_new_2d: convenience for rows x cols, ND, with data; aborts on OOM. */
NpuTensor *npu_tensor_new_2d (NpuDtype dt, gint64 rows, gint64 cols);
/**
 * npu_tensor_new_view: (transfer full) a reshape of @base: a tensor of @ndim dims
 * @shape that shares @base's storage (no copy), with @base's dtype, ND format and
 * contiguous row-major strides. Element i of the view (row-major) is element i of
 * @base's storage, so writes through either are seen through both.
 * Ownership: the view holds a reference to @base, released when the view is freed;
 * the storage lives as long as either. A @base without data (timing-only) gives a view
 * without data.
 * @shape: (array length=ndim) ndim in 0..NPU_MAX_DIMS, every dim >= 0.
 * Returns NULL with NPU_TENSOR_ERROR_VIEW if @base is not ND, not contiguous
 * (npu_tensor_is_contiguous), or holds a different number of elements than @shape.
 */
NpuTensor *npu_tensor_new_view (NpuTensor *base, guint ndim, const gint64 *shape,
                                GError **error);
/** npu_tensor_base: (transfer none) (nullable) the tensor whose storage the view @t
 *  shares; NULL for a tensor that owns its storage. */
NpuTensor *npu_tensor_base (const NpuTensor *t);
NpuTensor *npu_tensor_ref (NpuTensor *t);
void npu_tensor_unref (NpuTensor *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NpuTensor, npu_tensor_unref)

NpuDtype npu_tensor_dtype (const NpuTensor *t);
NpuFormat npu_tensor_format (const NpuTensor *t);
guint npu_tensor_ndim (const NpuTensor *t);
gint64 npu_tensor_dim (const NpuTensor *t, guint i);
const gint64 *npu_tensor_shape (const NpuTensor *t);
const gint64 *npu_tensor_strides (const NpuTensor *t);
gint64 npu_tensor_numel (const NpuTensor *t);
/** npu_tensor_nbytes: numel * dtype size (the storage of a contiguous tensor). */
guint64 npu_tensor_nbytes (const NpuTensor *t);
gboolean npu_tensor_is_contiguous (const NpuTensor *t);
/** npu_tensor_data: (transfer none) (nullable) NULL in timing-only mode. */
gpointer npu_tensor_data (NpuTensor *t);
gconstpointer npu_tensor_const_data (const NpuTensor *t);
/** npu_tensor_set_strides: make a view-like layout (e.g. a transposed x2).
 *  @strides: (array length=ndim) non-negative, in elements; every addressed
 *  element must lie inside the tensor's numel-element storage. */
void npu_tensor_set_strides (NpuTensor *t, const gint64 *strides);
/** npu_tensor_shape_string: (transfer full) "(32, 256)"; Python's spelling for
 *  1-D "(5,)" and 0-D "()". */
char *npu_tensor_shape_string (const NpuTensor *t);
/** npu_shape_string: (transfer full) the same spelling for a shape given as @ndim
 *  dims (e.g. one an aclnn call declares, before any tensor exists). */
char *npu_shape_string (guint ndim, const gint64 *shape);
/** npu_shape_numel: the product of the @ndim dims of @shape (1 for 0-D); no overflow
 *  check: for declared shapes whose dims the caller has bounded. */
gint64 npu_shape_numel (guint ndim, const gint64 *shape);

G_END_DECLS
