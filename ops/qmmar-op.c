/* npusim — QuantMatmulAllReduceV3: the op class (create, memory, tensors). Parsing and
 * checks are in qmmar-params.c, the M cut in qmmar-tiling.c, the numerics in
 * qmmar-numerics.c, the tasks in qmmar-plan.c. */
#include "ops/qmmar-private.h"
#include "ops/nz.h"
#include "ops/quant-scale.h"
#include <math.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC (json_t, json_decref)

static guint64
tensor_bytes (const QmmarDesc *d)
{
  if (!d->present)
    return 0;
  guint64 n = npu_dtype_size (d->dtype);
  for (guint i = 0; i < d->ndim; i++)
    n *= (guint64) d->shape[i];
  return n;
}

/* Stored shape of x2: (k, n), (n, k) when transposed, the NZ storage when FRACTAL_NZ. */
static guint
x2_storage (const QmmarOp *q, gint64 *shape, gint64 *rows, gint64 *cols)
{
  *rows = q->d[QT_X2].transpose ? q->n : q->k;
  *cols = q->d[QT_X2].transpose ? q->k : q->n;
  if (q->d[QT_X2].nz)
    {
      npu_nz_shape (NPU_DT_INT8, *rows, *cols, shape);
      return 4;
    }
  shape[0] = *rows;
  shape[1] = *cols;
  return 2;
}

static void
qmmar_finalize (NpuOp *op)
{
  QmmarOp *q = (QmmarOp *) op;
  for (guint i = 0; i < QT_N; i++)
    if (q->d[i].init != NULL)
      json_decref (q->d[i].init);
  for (guint g = 0; q->r != NULL && g < op->n_ranks; g++)
    {
      QmmarRank *r = &q->r[g];
      g_free (r->acc);
      g_free (r->x2nd);
      g_free (r->win);
      g_free (r->tmp);
      g_free (r->aic_last);
      g_free (r->aiv_last);
    }
  g_free (q->r);
  npu_hccl_embed_free (q->embed);
  g_free (q->tiles);
  g_free (q->reduce_op);
  g_free (q->path);
}

/* The tiles of the cut, and the int8 comm layout (rows padded to the rank count). */
static gboolean
make_tiles (QmmarOp *q, guint w, const char *path, GError **error)
{
  guint64 rows_sum = q->cut.tile_cnt * q->cut.tile_m + q->cut.tail_cnt * q->cut.tail_m;
  q->n_tiles = (guint) (q->cut.tile_cnt + q->cut.tail_cnt);
  if (rows_sum != (guint64) q->m || q->n_tiles == 0 || q->n_tiles > 16)
    {
      g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                   "%s: the M cut (%" G_GUINT64_FORMAT " x %" G_GUINT64_FORMAT " + %"
                   G_GUINT64_FORMAT " x %" G_GUINT64_FORMAT ") does not cover m = %"
                   G_GINT64_FORMAT " in 1..16 tiles", path, q->cut.tile_cnt, q->cut.tile_m,
                   q->cut.tail_cnt, q->cut.tail_m, q->m);
      return FALSE;
    }
  q->tiles = g_new0 (QmmarTile, q->n_tiles);
  gint64 row = 0;
  guint64 off = 0;
  for (guint i = 0; i < q->n_tiles; i++)
    {
      QmmarTile *t = &q->tiles[i];
      t->row0 = row;
      t->rows = (gint64) (i < q->cut.tile_cnt ? q->cut.tile_m : q->cut.tail_m);
      t->pad_rows = (t->rows + w - 1) / w * w;
      t->pad_off = off;
      row += t->rows;
      off += (guint64) t->pad_rows * (guint64) q->n;
    }
  q->pad_total = q->comm_quant ? off : 0;
  return TRUE;
}

static NpuOp *
qmmar_create (const json_t *spec, const char *path, const NpuOpEnv *env, GError **error)
{
  g_autoptr (NpuOp) op = (NpuOp *) g_new0 (QmmarOp, 1);
  npu_op_init (op, &npu_qmmar_class);
  QmmarOp *q = (QmmarOp *) op;
  q->path = g_strdup (path);
  if (!qmmar_parse (q, spec, path, env, error))
    return NULL;
  QmmarDesc *d = q->d;
  guint w = env->group_size;
  q->k = d[QT_X1].shape[d[QT_X1].ndim - 1];
  q->n = d[QT_OUT].shape[d[QT_OUT].ndim - 1];
  q->m = 1;
  for (guint i = 0; i + 1 < d[QT_X1].ndim; i++)
    q->m *= d[QT_X1].shape[i];
  q->out_dt = d[QT_OUT].dtype;
  q->comm_quant = d[QT_CQ1].present;
  q->deq_per_tensor = d[QT_DEQ].ndim >= 1 && tensor_bytes (&d[QT_DEQ])
                      == npu_dtype_size (d[QT_DEQ].dtype);
  q->epi = d[QT_PTS].present ? QE_PERTOKEN : q->out_dt == NPU_DT_BF16 ? QE_BF16 : QE_FIXPIPE;

  /* The M cut: the real tiling's formulaic cut, or the "tileM" what-if override. */
  if (q->tile_rows > 0)
    {
      guint64 t = MIN (q->tile_rows, (guint64) q->m);
      q->cut = (QmmarCut) { t, (guint64) q->m / t, (guint64) q->m % t,
                            (guint64) q->m % t != 0 ? 1 : 0, TRUE };
    }
  else
    {
      QmmarShape s = { (guint64) q->m, (guint64) q->n, (guint64) q->k, w, env->hw->aic_count,
                       env->hw->l2_bytes == G_GUINT64_CONSTANT (100663296),
                       (guint) npu_dtype_size (q->out_dt) };
      qmmar_formulaic_cut (&s, q->comm_quant, &q->cut);
    }
  if (!make_tiles (q, w, path, error))
    return NULL;
  q->comm_in_window = q->pad_total < env->hw->hccl_buffer_bytes;

  /* CCL buffers: the largest collective. */
  guint64 ccl = 1;
  for (guint i = 0; i < q->n_tiles; i++)
    {
      const QmmarTile *t = &q->tiles[i];
      guint64 lim = env->hw->hccl_buffer_bytes;
      if (q->comm_quant)
        {
          guint64 per = (guint64) t->pad_rows / w * (guint64) q->n;
          ccl = MAX (ccl, npu_hccl_embed_ccl_bytes (NPU_HCCL_EMBED_ALLTOALL, NPU_DT_INT8, per, w, lim));
          ccl = MAX (ccl, npu_hccl_embed_ccl_bytes (NPU_HCCL_EMBED_ALLGATHER, NPU_DT_INT8, per, w, lim));
        }
      else
        ccl = MAX (ccl, npu_hccl_embed_ccl_bytes (NPU_HCCL_EMBED_ALLREDUCE, q->out_dt,
                                                   (guint64) t->rows * (guint64) q->n, w, lim));
    }
  q->ccl_bytes = ccl;

  json_t *a = op->attrs;
  json_object_set_new (a, "m", json_integer (q->m));
  json_object_set_new (a, "k", json_integer (q->k));
  json_object_set_new (a, "n", json_integer (q->n));
  json_object_set_new (a, "reduceOp", json_string (q->reduce_op));
  json_object_set_new (a, "commTurn", json_integer (q->comm_turn));
  json_object_set_new (a, "streamMode", json_integer (q->stream_mode));
  json_object_set_new (a, "transposeX2", json_boolean (d[QT_X2].transpose));
  json_object_set_new (a, "x2Format", json_string (d[QT_X2].nz ? "FRACTAL_NZ" : "ND"));
  json_object_set_new (a, "outputDtype", json_string (npu_dtype_name (q->out_dt)));
  json_object_set_new (a, "dequantScaleDtype", json_string (npu_dtype_name (d[QT_DEQ].dtype)));
  json_object_set_new (a, "dequantMode", json_string (q->deq_per_tensor ? "pertensor"
                                                      : "perchannel"));
  json_object_set_new (a, "pertoken", json_boolean (d[QT_PTS].present));
  json_object_set_new (a, "epilogue", json_string (q->epi == QE_FIXPIPE ? "fixpipe (AIC)"
                                                   : q->epi == QE_PERTOKEN ? "AIV dequant x pertoken"
                                                   : "AIV dequant"));
  json_object_set_new (a, "commQuant", json_boolean (q->comm_quant));
  json_object_set_new (a, "communication",
                       json_string (q->comm_quant ? "int8: AlltoAll, ReduceSum, AllGather per tile"
                                                  : "AllReduce per tile"));
  json_object_set_new (a, "reduceOrder", json_string (q->comm_quant
                       ? "ReduceSum of the ranks' int8 chunks in rank order 0..W-1 (fp32)"
                       : "ranks 0..W-1 in sequence, each addition rounded to the output dtype"));
  json_object_set_new (a, "tileCut", json_string (q->tile_rows > 0 ? "tileM (what-if)" : "formulaic"));
  json_object_set_new (a, "tileM", json_integer ((json_int_t) q->cut.tile_m));
  json_object_set_new (a, "tileCnt", json_integer ((json_int_t) q->cut.tile_cnt));
  json_object_set_new (a, "tailM", json_integer ((json_int_t) q->cut.tail_m));
  json_object_set_new (a, "tailCnt", json_integer ((json_int_t) q->cut.tail_cnt));
  if (q->comm_quant)
    json_object_set_new (a, "commBuffer", json_string (q->comm_in_window ? "HCCL window"
                                                        : "workspace (AlltoAll in place)"));
  return g_steal_pointer (&op);
}

static guint64
qmmar_data_bytes (NpuOp *op)
{
  QmmarOp *q = (QmmarOp *) op;
  guint64 per = 0;
  for (guint i = 0; i < QT_N; i++)
    per += tensor_bytes (&q->d[i]);
  guint64 panels = ((guint64) q->n + QMMAR_PANEL - 1) / QMMAR_PANEL;
  per += panels * (guint64) q->m * QMMAR_PANEL * sizeof (gint32);
  if (q->d[QT_X2].nz)
    per += 2 * (guint64) q->k * (guint64) q->n;
  per += 2 * q->pad_total + 2 * q->ccl_bytes;
  return per * op->n_ranks;
}

/* The default init spec of each input (docs/ops/QuantMatmulAllReduceV3.md). */
static json_t *
default_init (QmmarOp *q, QmmarTensorId id, guint w)
{
  double sk = 10.0 * sqrt ((double) MAX (q->k, 1));
  switch (id)
    {
    case QT_X1:
    case QT_X2:
      return json_pack ("{sssisi}", "dist", "randint", "low", -5, "high", 5);
    case QT_BIAS:
      return json_pack ("{sssisi}", "dist", "randint", "low", -10, "high", 10);
    case QT_DEQ:
      return json_pack ("{sssfsf}", "dist", "uniform", "low", 0.5 / sk, "high", 1.5 / sk);
    case QT_PTS:
      return json_pack ("{sssfsf}", "dist", "uniform", "low", 0.5, "high", 1.5);
    case QT_CQ1:
      return json_pack ("{sssf}", "dist", "const", "value", 6.5 / 127.0);
    case QT_CQ2:
      return json_pack ("{sssf}", "dist", "const", "value", 6.5 * sqrt ((double) w) / 127.0);
    default:
      return json_pack ("{sssfsf}", "dist", "uniform", "low", -1.0, "high", 1.0);
    }
}

static gboolean
is_npy (const json_t *spec)
{
  return spec != NULL && json_is_object (spec) && json_object_get (spec, "npy") != NULL;
}

/* dequantScale of dtype int64/uint64 drawn from a distribution: the distribution gives
 * the fp32 scales, packed as aclnnTransQuantParamV2 does (round mode 0). */
static NpuTensor *
packed_scale (QmmarOp *q, const NpuOpEnv *env, guint g, const json_t *spec, const char *ipath,
              GError **error)
{
  const QmmarDesc *d = &q->d[QT_DEQ];
  g_autoptr (NpuTensor) f = npu_tensor_new (NPU_DT_FP32, d->ndim, d->shape, NPU_FORMAT_ND,
                                            env->data_mode, error);
  if (f == NULL || !npu_op_fill_input (f, spec, ipath, env, &q->base, npu_op_rank_of (&q->base, g),
                                       QT_DEQ, error))
    return NULL;
  NpuTensor *t = npu_tensor_new (d->dtype, d->ndim, d->shape, NPU_FORMAT_ND, env->data_mode,
                                 error);
  if (t == NULL || !env->data_mode)
    return t;
  const float *src = npu_tensor_const_data (f);
  guint64 *dst = npu_tensor_data (t);
  for (gint64 i = 0; i < npu_tensor_numel (t); i++)
    dst[i] = npu_quant_pack_scale (src[i], FALSE, 0.0f, 0);
  return t;
}

static NpuTensor *
make_input (QmmarOp *q, const NpuOpEnv *env, guint g, QmmarTensorId id, GError **error)
{
  const QmmarDesc *d = &q->d[id];
  const char *name = qmmar_tensor_names[id];
  g_autofree char *ipath = g_strdup_printf ("%s.inputs.%s", q->path, name);
  g_autoptr (json_t) dflt = d->init == NULL ? default_init (q, id, q->base.n_ranks) : NULL;
  const json_t *spec = d->init != NULL ? d->init : dflt;
  if (id == QT_DEQ && (d->dtype == NPU_DT_INT64 || d->dtype == NPU_DT_UINT64)
      && !npu_op_spec_is_from (spec) && !is_npy (spec))
    return packed_scale (q, env, g, spec, ipath, error);
  if (id != QT_X2)
    {
      /* commQuantScale1/2 must be the same on every rank (spec): drawn values come
       * from group rank 0's random stream on every rank */
      guint src = (id == QT_CQ1 || id == QT_CQ2) && !npu_op_spec_is_from (spec) ? 0 : g;
      return npu_op_input_tensor (&q->base, env, src, name, d->dtype, d->ndim, d->shape, spec,
                                  ipath, id, error);
    }
  gint64 shape[4], rows, cols;
  guint nd = x2_storage (q, shape, &rows, &cols);
  if (!d->nz || npu_op_spec_is_from (spec))
    {
      NpuTensor *t = npu_op_input_tensor (&q->base, env, g, name, d->dtype, nd, shape, spec,
                                          ipath, id, error);
      if (t != NULL && d->nz && npu_tensor_format (t) != NPU_FORMAT_FRACTAL_NZ)
        {
          g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                       "%s.from: x2 is FRACTAL_NZ but that tensor is ND (use TransDataNZ)",
                       ipath);
          npu_tensor_unref (t);
          return NULL;
        }
      return t;
    }
  /* An NZ x2 from an init spec: the spec gives the stored ND matrix (rows x cols),
   * laid out as FRACTAL_NZ here, as TransDataNZ would. */
  gint64 nds[2] = { rows, cols };
  g_autoptr (NpuTensor) tmp = npu_op_input_tensor (&q->base, env, g, name, d->dtype, 2, nds, spec,
                                                   ipath, id, error);
  if (tmp == NULL)
    return NULL;
  NpuTensor *t = npu_tensor_new (d->dtype, 4, shape, NPU_FORMAT_FRACTAL_NZ, env->data_mode, error);
  if (t != NULL && env->data_mode)
    npu_nz_from_nd (d->dtype, rows, cols, npu_tensor_const_data (tmp), npu_tensor_data (t), 0, cols);
  return t;
}

static gboolean
qmmar_prepare (NpuOp *op, const NpuOpEnv *env, GError **error)
{
  QmmarOp *q = (QmmarOp *) op;
  guint w = op->n_ranks;
  q->r = g_new0 (QmmarRank, w);
  guint64 panels = ((guint64) q->n + QMMAR_PANEL - 1) / QMMAR_PANEL;
  for (guint g = 0; g < w; g++)
    {
      QmmarRank *r = &q->r[g];
      guint rank = npu_op_rank_of (op, g);
      for (guint i = 0; i < QT_N; i++)
        {
          if (!q->d[i].present)
            continue;
          g_autoptr (NpuTensor) t = NULL;
          if (i == QT_OUT)
            t = npu_tensor_new (q->out_dt, q->d[i].ndim, q->d[i].shape, NPU_FORMAT_ND,
                                env->data_mode, error);
          else
            t = make_input (q, env, g, (QmmarTensorId) i, error);
          if (t == NULL)
            return FALSE;
          npu_op_add_tensor (op, rank, qmmar_tensor_names[i], t, i != QT_OUT);
          r->t[i] = t;
        }
      if (env->data_mode)
        {
          gsize acc_n = (gsize) (panels * (guint64) q->m * QMMAR_PANEL);
          r->acc = g_try_new0 (gint32, MAX (acc_n, 1));
          if (q->d[QT_X2].nz)
            r->x2nd = g_try_malloc0 ((gsize) (q->k * q->n));
          if (q->comm_quant)
            {
              r->tmp = g_try_malloc0 (MAX (q->pad_total, 1));
              if (q->comm_in_window)
                r->win = g_try_malloc0 (MAX (q->pad_total, 1));
            }
          if (r->acc == NULL || (q->d[QT_X2].nz && r->x2nd == NULL)
              || (q->comm_quant && (r->tmp == NULL || (q->comm_in_window && r->win == NULL))))
            {
              g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                           "%s: cannot allocate the workspace of rank %u", q->path, rank);
              return FALSE;
            }
        }
      QmmarData *dd = &r->data;
      dd->epi = q->epi;
      dd->out_dt = q->out_dt;
      dd->deq_dt = q->d[QT_DEQ].dtype;
      dd->m = q->m;
      dd->n = q->n;
      dd->k = q->k;
      dd->deq_per_tensor = q->deq_per_tensor;
      dd->acc = r->acc;
      dd->bias = r->t[QT_BIAS] != NULL ? npu_tensor_const_data (r->t[QT_BIAS]) : NULL;
      dd->deq = npu_tensor_const_data (r->t[QT_DEQ]);
      dd->pertoken = r->t[QT_PTS] != NULL ? npu_tensor_const_data (r->t[QT_PTS]) : NULL;
      dd->x3 = r->t[QT_X3] != NULL ? npu_tensor_const_data (r->t[QT_X3]) : NULL;
      dd->cq1 = r->t[QT_CQ1] != NULL ? npu_tensor_const_data (r->t[QT_CQ1]) : NULL;
      dd->cq2 = r->t[QT_CQ2] != NULL ? npu_tensor_const_data (r->t[QT_CQ2]) : NULL;
      dd->out = npu_tensor_data (r->t[QT_OUT]);
    }
  q->embed = npu_hccl_embed_new (op, env, q->ccl_bytes, TRUE, error);
  return q->embed != NULL;
}

const NpuOpClass npu_qmmar_class = {
  "QuantMatmulAllReduceV3",
  "aclnnQuantMatmulAllReduceV3 (A2): int8 matmul + dequant (+ x3), all-reduced; int8 "
  "communication with commQuantScale1/2",
  qmmar_create, qmmar_data_bytes, qmmar_prepare, qmmar_plan, qmmar_finalize
};
