/* npusim — tensors: dtype, shape, strides, format and owned host data (or, for a
 * view, the data of the base tensor the view holds a reference to). */
#include "ops/tensor.h"

#include <string.h>

struct _NpuTensor {
  gint ref_count; /* atomic */
  NpuDtype dtype;
  NpuFormat format;
  guint ndim;
  gint64 shape[NPU_MAX_DIMS];
  gint64 strides[NPU_MAX_DIMS];
  gint64 numel;
  gpointer data; /* g_malloc0'ed and owned, or base's (view); NULL in timing-only mode */
  NpuTensor *base; /* (nullable) (owned ref) the tensor whose storage a view shares */
};

G_DEFINE_QUARK (npu-tensor-error-quark, npu_tensor_error)

/* The element count of @shape in *@numel, *@overflow set if it does not fit in 64
 * bits. FALSE for a negative dim (a programmer error, reported as critical). */
static gboolean
shape_numel (guint ndim, const gint64 *shape, guint64 *numel, gboolean *overflow)
{
  *numel = 1;
  *overflow = FALSE;
  for (guint i = 0; i < ndim; i++)
    {
      g_return_val_if_fail (shape[i] >= 0, FALSE);
      if (!g_uint64_checked_mul (numel, *numel, (guint64) shape[i]))
        *overflow = TRUE;
    }
  return TRUE;
}

static void
set_contiguous_strides (NpuTensor *t)
{
  gint64 stride = 1;
  for (guint i = t->ndim; i-- > 0;)
    {
      t->strides[i] = stride;
      stride *= t->shape[i] > 0 ? t->shape[i] : 1;
    }
}

NpuTensor *
npu_tensor_new (NpuDtype dt, guint ndim, const gint64 *shape, NpuFormat format,
                gboolean with_data, GError **error)
{
  g_return_val_if_fail ((guint) dt < NPU_DT_N_TYPES, NULL);
  g_return_val_if_fail (ndim <= NPU_MAX_DIMS, NULL);
  g_return_val_if_fail (ndim == 0 || shape != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* numel and byte size must fit in gint64 / gsize */
  guint64 numel;
  gboolean overflow;
  if (!shape_numel (ndim, shape, &numel, &overflow))
    return NULL;
  guint64 nbytes = 0;
  if (overflow || numel > (guint64) G_MAXINT64
      || !g_uint64_checked_mul (&nbytes, numel, npu_dtype_size (dt))
      || nbytes > (guint64) G_MAXSIZE)
    {
      g_set_error (error, NPU_TENSOR_ERROR, NPU_TENSOR_ERROR_TOO_LARGE, "tensor of %u dims of %s is too large",
                   ndim, npu_dtype_name (dt));
      return NULL;
    }

  gpointer data = NULL;
  if (with_data)
    {
      /* always allocate at least one byte so an empty tensor still "has data" */
      data = g_try_malloc0 (nbytes ? (gsize) nbytes : 1);
      if (data == NULL)
        {
          g_set_error (error, NPU_TENSOR_ERROR, NPU_TENSOR_ERROR_NO_MEMORY,
                       "cannot allocate %" G_GUINT64_FORMAT " bytes for a tensor", nbytes);
          return NULL;
        }
    }

  NpuTensor *t = g_new0 (NpuTensor, 1);
  t->ref_count = 1;
  t->dtype = dt;
  t->format = format;
  t->ndim = ndim;
  t->numel = (gint64) numel;
  t->data = data;
  if (ndim > 0)
    memcpy (t->shape, shape, ndim * sizeof (gint64));
  set_contiguous_strides (t);
  return t;
}

NpuTensor *
npu_tensor_new_view (NpuTensor *base, guint ndim, const gint64 *shape, GError **error)
{
  g_return_val_if_fail (base != NULL, NULL);
  g_return_val_if_fail (ndim <= NPU_MAX_DIMS, NULL);
  g_return_val_if_fail (ndim == 0 || shape != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  guint64 numel;
  gboolean overflow;   /* a shape whose count overflows cannot match */
  if (!shape_numel (ndim, shape, &numel, &overflow))
    return NULL;
  if (base->format != NPU_FORMAT_ND || !npu_tensor_is_contiguous (base))
    {
      g_set_error (error, NPU_TENSOR_ERROR, NPU_TENSOR_ERROR_VIEW,
                   "a %s tensor cannot be reshaped (only a contiguous ND tensor can)",
                   base->format != NPU_FORMAT_ND ? "FRACTAL_NZ" : "strided");
      return NULL;
    }
  if (overflow || numel != (guint64) base->numel)
    {
      g_set_error (error, NPU_TENSOR_ERROR, NPU_TENSOR_ERROR_VIEW,
                   "a reshape must keep the number of elements (%" G_GINT64_FORMAT
                   " elements, the new shape holds %s%" G_GUINT64_FORMAT ")", base->numel,
                   overflow ? "more than " : "", numel);
      return NULL;
    }
  NpuTensor *t = g_new0 (NpuTensor, 1);
  t->ref_count = 1;
  t->dtype = base->dtype;
  t->format = NPU_FORMAT_ND;
  t->ndim = ndim;
  t->numel = base->numel;
  t->data = base->data;
  t->base = npu_tensor_ref (base);
  if (ndim > 0)
    memcpy (t->shape, shape, ndim * sizeof (gint64));
  set_contiguous_strides (t);
  return t;
}

NpuTensor *
npu_tensor_base (const NpuTensor *t)
{
  g_return_val_if_fail (t != NULL, NULL);
  return t->base;
}

NpuTensor *
npu_tensor_new_2d (NpuDtype dt, gint64 rows, gint64 cols)
{
  g_autoptr (GError) error = NULL;
  gint64 shape[2] = { rows, cols };
  NpuTensor *t = npu_tensor_new (dt, 2, shape, NPU_FORMAT_ND, TRUE, &error);
  if (t == NULL)
    g_error ("npu_tensor_new_2d: %s", error ? error->message : "invalid shape");
  return t;
}

NpuTensor *
npu_tensor_ref (NpuTensor *t)
{
  g_return_val_if_fail (t != NULL, NULL);
  g_atomic_int_inc (&t->ref_count);
  return t;
}

void
npu_tensor_unref (NpuTensor *t)
{
  if (t == NULL)
    return;
  if (g_atomic_int_dec_and_test (&t->ref_count))
    {
      if (t->base != NULL)
        npu_tensor_unref (t->base); /* a view: the storage is the base's */
      else
        g_free (t->data);
      g_free (t);
    }
}

NpuDtype
npu_tensor_dtype (const NpuTensor *t)
{
  g_return_val_if_fail (t != NULL, NPU_DT_FP32);
  return t->dtype;
}

NpuFormat
npu_tensor_format (const NpuTensor *t)
{
  g_return_val_if_fail (t != NULL, NPU_FORMAT_ND);
  return t->format;
}

guint
npu_tensor_ndim (const NpuTensor *t)
{
  g_return_val_if_fail (t != NULL, 0);
  return t->ndim;
}

gint64
npu_tensor_dim (const NpuTensor *t, guint i)
{
  g_return_val_if_fail (t != NULL, 0);
  g_return_val_if_fail (i < t->ndim, 0);
  return t->shape[i];
}

const gint64 *
npu_tensor_shape (const NpuTensor *t)
{
  g_return_val_if_fail (t != NULL, NULL);
  return t->shape;
}

const gint64 *
npu_tensor_strides (const NpuTensor *t)
{
  g_return_val_if_fail (t != NULL, NULL);
  return t->strides;
}

gint64
npu_tensor_numel (const NpuTensor *t)
{
  g_return_val_if_fail (t != NULL, 0);
  return t->numel;
}

guint64
npu_tensor_nbytes (const NpuTensor *t)
{
  g_return_val_if_fail (t != NULL, 0);
  return (guint64) t->numel * npu_dtype_size (t->dtype);
}

gboolean
npu_tensor_is_contiguous (const NpuTensor *t)
{
  g_return_val_if_fail (t != NULL, FALSE);
  /* dims of size 1 (and any tensor with no elements) impose no stride constraint */
  if (t->numel == 0)
    return TRUE;
  gint64 expect = 1;
  for (guint i = t->ndim; i-- > 0;)
    {
      if (t->shape[i] != 1 && t->strides[i] != expect)
        return FALSE;
      expect *= t->shape[i];
    }
  return TRUE;
}

gpointer
npu_tensor_data (NpuTensor *t)
{
  g_return_val_if_fail (t != NULL, NULL);
  return t->data;
}

gconstpointer
npu_tensor_const_data (const NpuTensor *t)
{
  g_return_val_if_fail (t != NULL, NULL);
  return t->data;
}

void
npu_tensor_set_strides (NpuTensor *t, const gint64 *strides)
{
  g_return_if_fail (t != NULL);
  g_return_if_fail (t->ndim == 0 || strides != NULL);
  /* The storage is the contiguous allocation of numel elements: every element the
   * new layout addresses must lie inside it. */
  gint64 max_off = 0;
  for (guint i = 0; i < t->ndim; i++)
    {
      g_return_if_fail (strides[i] >= 0);
      if (t->shape[i] > 0)
        max_off += (t->shape[i] - 1) * strides[i];
    }
  g_return_if_fail (t->numel == 0 || max_off < t->numel);
  memcpy (t->strides, strides, t->ndim * sizeof (gint64));
}

char *
npu_shape_string (guint ndim, const gint64 *shape)
{
  GString *s = g_string_new ("(");
  for (guint i = 0; i < ndim; i++)
    g_string_append_printf (s, "%s%" G_GINT64_FORMAT, i ? ", " : "", shape[i]);
  if (ndim == 1)
    g_string_append_c (s, ','); /* Python's tuple spelling: (5,) */
  g_string_append_c (s, ')');
  return g_string_free (s, FALSE);
}

char *
npu_tensor_shape_string (const NpuTensor *t)
{
  g_return_val_if_fail (t != NULL, NULL);
  return npu_shape_string (t->ndim, t->shape);
}

gint64
npu_shape_numel (guint ndim, const gint64 *shape)
{
  gint64 n = 1;
  for (guint i = 0; i < ndim; i++)
    n *= shape[i];
  return n;
}
