/* npusim — shared matmul numerics, swizzle, fixpipe write-out (see ops/matmul-common.h). */
#include "ops/matmul-common.h"
#include <string.h>
#include "ops/quant-scale.h"

static void
store_row (NpuDtype dt, gpointer out, gsize base, const float *v, guint n)
{
  if (dt == NPU_DT_FP16)
    {
      guint16 *o = (guint16 *) out + base;
      for (guint j = 0; j < n; j++)
        o[j] = npu_f32_to_f16 (v[j]);
    }
  else
    {
      g_assert (dt == NPU_DT_BF16);
      guint16 *o = (guint16 *) out + base;
      for (guint j = 0; j < n; j++)
        o[j] = npu_f32_to_bf16 (v[j]);
    }
}

void
npu_mm_dequant_i32 (const gint32 *acc, gsize acc_ld, guint rows, guint cols,
                    const float *x2_scale, const float *x1_scale, NpuDtype out_dt,
                    gpointer out, gsize out_ld)
{
  g_autofree float *row = g_new (float, MAX (cols, 1));
  for (guint i = 0; i < rows; i++)
    {
      const gint32 *a = acc + (gsize) i * acc_ld;
      for (guint j = 0; j < cols; j++)
        row[j] = (float) a[j]; /* CAST_RINT: int32 -> fp32 rounds to nearest even */
      if (x2_scale != NULL)
        for (guint j = 0; j < cols; j++)
          row[j] = row[j] * x2_scale[j];
      if (x1_scale != NULL)
        {
          float s = x1_scale[i];
          for (guint j = 0; j < cols; j++)
            row[j] = row[j] * s;
        }
      store_row (out_dt, out, (gsize) i * out_ld, row, cols);
    }
}

void
npu_mm_fixpipe_dequant (const gint32 *acc, gsize acc_ld, guint rows, guint cols,
                        const guint64 *packed, guint16 *out, gsize out_ld)
{
  g_autofree float *s = g_new (float, MAX (cols, 1));
  for (guint j = 0; j < cols; j++)
    s[j] = npu_quant_scale19 (packed[j]);
  for (guint i = 0; i < rows; i++)
    {
      const gint32 *a = acc + (gsize) i * acc_ld;
      guint16 *o = out + (gsize) i * out_ld;
      for (guint j = 0; j < cols; j++)
        o[j] = npu_f32_to_f16 ((float) a[j] * s[j]);
    }
}

void
npu_mm_epilogue_block (gboolean fixpipe, const gint32 *acc, gpointer out, NpuDtype out_dt,
                       gsize n, guint r0, guint c0, guint rows, guint cols,
                       const float *x2_scale, const float *x1_scale)
{
  guint8 *o = (guint8 *) out + ((guint64) r0 * n + c0) * npu_dtype_size (out_dt);
  const float *x1s = x1_scale != NULL ? x1_scale + r0 : NULL;
  if (fixpipe)
    npu_mm_pertoken_f16 ((guint16 *) o, n, rows, cols, x1s);
  else
    npu_mm_dequant_i32 (acc + (guint64) r0 * n + c0, n, rows, cols, x2_scale + c0, x1s, out_dt,
                        o, n);
}

void
npu_mm_pertoken_f16 (guint16 *out, gsize out_ld, guint rows, guint cols, const float *x1_scale)
{
  for (guint i = 0; i < rows; i++)
    {
      guint16 *o = out + (gsize) i * out_ld;
      float s = x1_scale[i];
      for (guint j = 0; j < cols; j++)
        o[j] = npu_f32_to_f16 (npu_f16_to_f32 (o[j]) * s);
    }
}

void
npu_mm_cast_f32 (const float *acc, gsize acc_ld, guint rows, guint cols, NpuDtype out_dt,
                 gpointer out, gsize out_ld)
{
  for (guint i = 0; i < rows; i++)
    store_row (out_dt, out, (gsize) i * out_ld, acc + (gsize) i * acc_ld, cols);
}

void
npu_mm_swizzle (guint loop, guint m_loop, guint n_loop, guint direction, guint count,
                guint *m_idx, guint *n_idx)
{
  g_assert (m_loop > 0 && n_loop > 0 && count > 0);
  guint in_batch = loop % (m_loop * n_loop);
  if (direction == 0)
    {
      guint bands = (m_loop + count - 1) / count;
      guint band = in_batch / (count * n_loop);
      guint in_band = in_batch % (count * n_loop);
      guint rows = band == bands - 1 ? m_loop - count * band : count;
      *m_idx = band * count + in_band % rows;
      *n_idx = in_band / rows;
      if (band % 2 != 0)
        *n_idx = n_loop - *n_idx - 1;
    }
  else
    {
      guint bands = (n_loop + count - 1) / count;
      guint band = in_batch / (count * m_loop);
      guint in_band = in_batch % (count * m_loop);
      guint cols = band == bands - 1 ? n_loop - count * band : count;
      *m_idx = in_band / cols;
      *n_idx = band * count + in_band % cols;
      if (band % 2 != 0)
        *m_idx = m_loop - *m_idx - 1;
    }
}

typedef struct {
  NpuMmWriteOut kind;
  gpointer scratch;
  guint rows, cols;
  const guint64 *packed;
  NpuDtype out_dt;
  gpointer out;
  gsize out_ld;
} WriteOut;

static gboolean
writeout_effect (gpointer data, GError **error)
{
  WriteOut *w = data;
  if (w->scratch == NULL || w->out == NULL)
    return TRUE;
  if (w->kind == NPU_MM_OUT_CAST)
    npu_mm_cast_f32 (w->scratch, w->cols, w->rows, w->cols, w->out_dt, w->out, w->out_ld);
  else
    npu_mm_fixpipe_dequant (w->scratch, w->cols, w->rows, w->cols, w->packed, w->out,
                            w->out_ld);
  return TRUE;
}

NpuTask *
npu_mm_writeout_task_new (const NpuOpEnv *env, NpuTask *cube, NpuMmWriteOut kind,
                          gpointer scratch, guint rows, guint cols, const guint64 *packed,
                          NpuDtype out_dt, gpointer out, gsize out_ld, guint write_buffer,
                          guint64 write_offset, guint64 write_length)
{
  g_autofree char *name = g_strdup_printf ("%s fixpipe", npu_task_name (cube));
  NpuTask *t = npu_graph_task_new (env->graph, name);
  npu_task_set_hidden (t);
  npu_task_depends_on (t, cube);
  if (write_length > 0)
    npu_task_writes (t, write_buffer, write_offset, write_length);
  WriteOut *w = g_new0 (WriteOut, 1);
  *w = (WriteOut) { kind, scratch, rows, cols, packed, out_dt, out, out_ld };
  npu_task_set_effect (t, writeout_effect, w, g_free);
  return t;
}

gboolean
npu_mm_get_int (const json_t *obj, const char *key, const char *path, gint64 dflt,
                gint64 *out, GError **error)
{
  json_t *v = json_object_get (obj, key);
  if (v == NULL)
    {
      *out = dflt;
      return TRUE;
    }
  if (!json_is_integer (v))
    {
      g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO, "%s.%s: expected an integer",
                   path, key);
      return FALSE;
    }
  *out = (gint64) json_integer_value (v);
  return TRUE;
}

gboolean
npu_mm_fill_x2scale_int64 (NpuTensor *t, const json_t *spec, double low, double high,
                           guint round_mode, const char *path, const NpuOpEnv *env,
                           const NpuOp *op, guint rank, guint stream_id, GError **error)
{
  g_return_val_if_fail (npu_tensor_dtype (t) == NPU_DT_INT64, FALSE);
  if (spec != NULL && json_is_object (spec) && json_object_get (spec, "npy") != NULL)
    return npu_op_fill_input (t, spec, path, env, op, rank, stream_id, error);
  gint64 n = npu_tensor_numel (t);
  g_autoptr (NpuTensor) f = npu_tensor_new (NPU_DT_FP32, 1, &n, NPU_FORMAT_ND,
                                            npu_tensor_data (t) != NULL, error);
  if (f == NULL)
    return FALSE;
  json_t *dflt = json_pack ("{s:s, s:f, s:f}", "dist", "uniform", "low", low, "high", high);
  gboolean ok = npu_op_fill_input (f, spec != NULL ? spec : dflt, path, env, op, rank,
                                   stream_id, error);
  json_decref (dflt);
  if (!ok)
    return FALSE;
  guint64 *dst = npu_tensor_data (t);
  const float *src = npu_tensor_const_data (f);
  for (gint64 i = 0; dst != NULL && i < n; i++)
    dst[i] = npu_quant_pack_scale (src[i], FALSE, 0.0f, round_mode);
  return TRUE;
}

NpuTensor *
npu_mm_input_tensor (NpuOp *op, const NpuOpEnv *env, guint g, NpuMmInput which, NpuDtype dt,
                     guint ndim, const gint64 *shape, const json_t *spec, const char *path,
                     guint round_mode, GError **error)
{
  static const char *const names[] = { "x1", "x2", "x1Scale", "x2Scale" };
  if (which == NPU_MM_X2_SCALE && dt == NPU_DT_INT64 && !npu_op_spec_is_from (spec))
    {
      g_autoptr (NpuTensor) t = npu_tensor_new (dt, ndim, shape, NPU_FORMAT_ND, env->data_mode,
                                                error);
      if (t == NULL
          || !npu_mm_fill_x2scale_int64 (t, spec, 0.001, 0.01, round_mode, path, env, op,
                                         npu_op_rank_of (op, g), which, error))
        return NULL;
      return g_steal_pointer (&t);
    }
  json_t *dflt = NULL;
  if (spec == NULL && which == NPU_MM_X1_SCALE)
    dflt = json_pack ("{s:s, s:f, s:f}", "dist", "uniform", "low", 0.5, "high", 1.5);
  else if (spec == NULL && which == NPU_MM_X2_SCALE)
    dflt = json_pack ("{s:s, s:f, s:f}", "dist", "uniform", "low", 0.001, "high", 0.01);
  else if (spec == NULL && dt == NPU_DT_INT8)
    dflt = json_pack ("{s:s, s:i, s:i}", "dist", "randint", "low", -5, "high", 5);
  NpuTensor *t = npu_op_input_tensor (op, env, g, names[which], dt, ndim, shape,
                                      spec != NULL ? spec : dflt, path, which, error);
  if (dflt != NULL)
    json_decref (dflt);
  return t;
}
