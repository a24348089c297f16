/* npusim — DistributeBarrierV2: scenario parsing, the aclnn API / op-def / tiling
 * checks in the real order, tensors. Planning is in ops/barrier-plan.c. */
#include "ops/barrier-private.h"
#include <string.h>

const char *const barrier_tensor_names[BT_N] = { "xRef", "timeOutOptional",
                                                 "elasticInfoOptional" };
static const char *const tensor_keys[] = { "xRef", "timeOutOptional", "elasticInfoOptional",
                                           NULL };

/* distribute_barrier_tiling.cpp (A3): MIN_WORLD_SIZE, MAX_WORLD_SIZE; elasticInfo =
 * 4 header ints + 2 rank lists. */
#define MIN_WORLD 2
#define MAX_WORLD 384
#define ELASTIC_HEADER 4
#define GROUP_NAME_MAX 128

static void
barrier_finalize (NpuOp *base)
{
  BarrierOp *op = (BarrierOp *) base;
  g_free (op->path);
  for (guint i = 0; i < BT_N; i++)
    {
      if (op->init[i] != NULL)
        json_decref (op->init[i]);
      g_free (op->t[i]);
    }
  g_free (op->t0_task);
  g_free (op->poll_task);
  g_free (op->half);
}

static gboolean
xref_dtype_ok (NpuDtype dt)
{
  /* op def x_ref: BF16, FP16, FP32, BOOL, INT8, INT16, INT32, INT64, UINT8, UINT16,
   * UINT32, UINT64 (of npusim's dtypes: all but the fp8 formats) */
  return dt != NPU_DT_FP8_E4M3FN && dt != NPU_DT_FP8_E5M2;
}

/* The xRef checks of the API and the op definition (also run at prepare() for an xRef
 * that comes from another op). */
static gboolean
check_xref (BarrierOp *op, const BarrierDesc *x, GError **error)
{
  if (!x->present)
    {
      npu_op_error (error, &op->base, NPU_OP_ERROR_PARAM_NULL, "xRef is a null pointer");
      return FALSE;
    }
  if (!xref_dtype_ok (x->dt))
    {
      npu_op_error (error, &op->base, NPU_OP_ERROR_PARAM_INVALID, "xRef: dtype %s is not "
                    "supported (BFLOAT16, FLOAT16, FLOAT32, BOOL, INT8, INT16, INT32, INT64, "
                    "UINT8, UINT16, UINT32, UINT64)", npu_dtype_name (x->dt));
      return FALSE;
    }
  if (x->ndim > NPU_MAX_DIMS)
    {
      npu_op_error (error, &op->base, NPU_OP_ERROR_PARAM_INVALID, "xRef: %u dims, the "
                    "supported range is 0-8", x->ndim);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_params (BarrierOp *op, GError **error)
{
  NpuOp *b = &op->base;
  BarrierDesc *d = op->desc;
  /* aclnnDistributeBarrierV2GetWorkspaceSize (CheckNullStatus) and the op definition's
   * dtype lists (161001 / 161002) */
  if (!d[BT_X].from && !check_xref (op, &d[BT_X], error))
    return FALSE;
  for (guint i = BT_TIMEOUT; i <= BT_ELASTIC; i++)
    if (d[i].present && d[i].dt != NPU_DT_INT32)
      {
        npu_op_error (error, b, NPU_OP_ERROR_PARAM_INVALID, "%s: dtype %s is not supported "
                      "(INT32 only)", barrier_tensor_names[i], npu_dtype_name (d[i].dt));
        return FALSE;
      }
  /* DistributeBarrierTilingFunc -> 561002 */
  if (op->world < MIN_WORLD || op->world > MAX_WORLD)
    {
      npu_op_error (error, b, NPU_OP_ERROR_TILING, "worldSize is invalid, only support [%d, %d], "
                    "but got worldSize=%" G_GINT64_FORMAT, MIN_WORLD, MAX_WORLD, op->world);
      return FALSE;
    }
  if (d[BT_TIMEOUT].present && (d[BT_TIMEOUT].ndim != 1 || d[BT_TIMEOUT].shape[0] != 1))
    {
      npu_op_error (error, b, NPU_OP_ERROR_TILING, "timeOutOptional must be 1-D with dim0 1, "
                    "but has %u dims (dim0 %" G_GINT64_FORMAT ")", d[BT_TIMEOUT].ndim,
                    d[BT_TIMEOUT].ndim > 0 ? d[BT_TIMEOUT].shape[0] : 0);
      return FALSE;
    }
  if (d[BT_ELASTIC].present
      && (d[BT_ELASTIC].ndim != 1
          || d[BT_ELASTIC].shape[0] != ELASTIC_HEADER + 2 * op->world))
    {
      npu_op_error (error, b, NPU_OP_ERROR_TILING, "elasticInfoOptional must be 1-D with dim0 "
                    "4 + 2 * worldSize = %" G_GINT64_FORMAT ", but has %u dims (dim0 %"
                    G_GINT64_FORMAT ")", ELASTIC_HEADER + 2 * op->world, d[BT_ELASTIC].ndim,
                    d[BT_ELASTIC].ndim > 0 ? d[BT_ELASTIC].shape[0] : 0);
      return FALSE;
    }
  return TRUE;
}

static NpuOp *
barrier_create (const json_t *spec, const char *path, const NpuOpEnv *env, GError **error)
{
  static const char *const keys[] = { "worldSize", "timeOut", "inputs", "tensors", NULL };
  g_autoptr (NpuOp) base = (NpuOp *) g_new0 (BarrierOp, 1);
  npu_op_init (base, &npu_barrier_v2_class);
  BarrierOp *op = (BarrierOp *) base;
  guint n = env->group_size;
  g_return_val_if_fail (n > 0 && env->group_ranks != NULL, NULL);
  op->n = n;
  op->path = g_strdup (path);
  guint64 w, timeout = 0;
  if (!npu_spec_check_keys (spec, keys, path, error)
      || !npu_spec_get_uint (spec, "worldSize", path, FALSE, n, 0, 1u << 20, &w, error)
      || !npu_spec_get_uint (spec, "timeOut", path, FALSE, 0, 0, G_MAXINT32, &timeout, error))
    return NULL;
  op->world = (gint64) w;
  op->has_timeout = json_object_get (spec, "timeOut") != NULL;
  op->timeout_us = (gint64) timeout;

  BarrierDesc *d = op->desc;
  d[BT_X] = (BarrierDesc) { TRUE, FALSE, NPU_DT_FP16, 1, { 1 } };
  d[BT_TIMEOUT] = (BarrierDesc) { op->has_timeout, FALSE, NPU_DT_INT32, 1, { 1 } };
  d[BT_ELASTIC] = (BarrierDesc) { FALSE, FALSE, NPU_DT_INT32, 1, { ELASTIC_HEADER + 2 * op->world } };
  json_t *tensors, *inputs;
  if (!npu_spec_get_object (spec, "tensors", path, tensor_keys, NPU_SPEC_TENSORS_WHAT, &tensors,
                            error))
    return NULL;
  if (tensors != NULL)
    {
      g_autofree char *tpath = g_strdup_printf ("%s.tensors", path);
      for (guint i = 0; i < BT_N; i++)
        {
          json_t *v = json_object_get (tensors, barrier_tensor_names[i]);
          g_autofree char *sub = g_strdup_printf ("%s.%s", tpath, barrier_tensor_names[i]);
          if (v != NULL
              && !npu_spec_get_tensor_desc (v, sub, NPU_MAX_DIMS + 1, &d[i].present, &d[i].dt,
                                            &d[i].ndim, d[i].shape, error))
            return NULL;
        }
    }
  static const char *const in_keys[] = { "xRef", "elasticInfoOptional", NULL };
  if (!npu_spec_get_object (spec, "inputs", path, in_keys, "{\"xRef\": init spec or "
                            "{\"from\": \"<op>.<tensor>\"}}", &inputs, error))
    return NULL;
  if (inputs != NULL)
    {
      g_autofree char *ipath = g_strdup_printf ("%s.inputs", path);
      for (guint i = 0; i < BT_N; i++)
        {
          json_t *v = json_object_get (inputs, barrier_tensor_names[i]);
          if (v == NULL)
            continue;
          g_autofree char *sub = g_strdup_printf ("%s.%s", ipath, barrier_tensor_names[i]);
          gboolean from = npu_op_spec_is_from (v);
          if (from && (tensors != NULL && json_object_get (tensors, "xRef") != NULL))
            return (npu_spec_error (error, "%s: an xRef that comes \"from\" another op takes "
                                    "its dtype and shape, drop tensors.xRef", sub), NULL);
          if (!npu_op_check_input_spec (v, sub, env, base, error))
            return NULL;
          d[i].from = from;
          op->init[i] = json_incref (v);
        }
    }
  if (!check_params (op, error))
    return NULL;
  if (op->world != (gint64) n)
    return (npu_spec_error (error, "%s.worldSize: %" G_GINT64_FORMAT " but the group has %u "
                            "ranks (HCCL's communicator size)", path, op->world, n), NULL);
  json_object_set_new (base->attrs, "worldSize", json_integer (op->world));
  if (op->has_timeout)
    json_object_set_new (base->attrs, "timeOut_us", json_integer (op->timeout_us));
  json_object_set_new (base->attrs, "aivNum", json_integer (env->hw->aiv_count));
  json_object_set_new (base->attrs, "commEngine", json_string ("AIV (direct UB writes)"));
  return g_steal_pointer (&base);
}

static guint64
barrier_data_bytes (NpuOp *base)
{
  BarrierOp *op = (BarrierOp *) base;
  guint64 total = 0;
  for (guint i = 0; i < BT_N; i++)
    if (op->desc[i].present && !op->desc[i].from)
      total += (guint64) npu_shape_numel (op->desc[i].ndim, op->desc[i].shape)
               * npu_dtype_size (op->desc[i].dt);
  /* the windows' flag entries: two halves of 8 floats per rank, finish flags */
  return total * op->n + (guint64) op->n * (2 * op->n * 8 + 64) * sizeof (float);
}

static gboolean
barrier_prepare (NpuOp *base, const NpuOpEnv *env, GError **error)
{
  BarrierOp *op = (BarrierOp *) base;
  guint n = op->n;
  /* The group string. aclnnDistributeBarrierV2's CheckParams returns `false` (= 0 =
   * ACLNN_SUCCESS) for an empty or too long name; no HCCL communicator has such a name,
   * so the tiling's communicator set-up fails: 561002. */
  const char *group = json_string_value (json_object_get (base->attrs, "group"));
  if (group != NULL && (group[0] == '\0' || strlen (group) >= GROUP_NAME_MAX))
    {
      npu_op_error (error, base, NPU_OP_ERROR_TILING, "group: no HCCL communicator is named "
                    "'%s' (names are 1 to 127 characters)", group);
      return FALSE;
    }
  for (guint i = 0; i < BT_N; i++)
    op->t[i] = g_new0 (NpuTensor *, n);
  for (guint g = 0; g < n; g++)
    {
      guint rank = npu_op_rank_of (base, g);
      for (guint i = 0; i < BT_N; i++)
        {
          BarrierDesc *d = &op->desc[i];
          if (!d->present)
            continue;
          g_autofree char *ipath = g_strdup_printf ("%s.inputs.%s", op->path,
                                                    barrier_tensor_names[i]);
          json_t *spec = op->init[i];
          g_autoptr (NpuTensor) t = NULL;
          if (d->from)
            {
              /* the producer's tensor: its dtype and shape, checked as the API would */
              NpuTensor *pt = npu_op_from_tensor (base, env, g, spec, ipath, NULL, error);
              if (pt == NULL)
                return FALSE;
              BarrierDesc x = { TRUE, TRUE, npu_tensor_dtype (pt), npu_tensor_ndim (pt), { 0 } };
              memcpy (x.shape, npu_tensor_shape (pt), sizeof (gint64) * x.ndim);
              if (!check_xref (op, &x, error))
                return FALSE;
              t = npu_op_input_tensor (base, env, g, "xRef", x.dt, x.ndim, x.shape, spec, ipath,
                                       i, error);
            }
          else
            {
              json_t *zero = NULL;
              if (i != BT_X && spec == NULL)
                zero = json_pack ("{s:s, s:f}", "dist", "const", "value",
                                  i == BT_TIMEOUT ? (double) op->timeout_us : 0.0);
              t = npu_op_input_tensor (base, env, g, barrier_tensor_names[i], d->dt, d->ndim,
                                       d->shape, zero != NULL ? zero : spec, ipath, i, error);
              if (zero != NULL)
                json_decref (zero);
            }
          if (t == NULL)
            return FALSE;
          npu_op_add_tensor (base, rank, barrier_tensor_names[i], t, TRUE);
          op->t[i][g] = t;
        }
    }
  return TRUE;
}

const NpuOpClass npu_barrier_v2_class = {
  "DistributeBarrierV2",
  "A3: all-AIV barrier of the group (flags into every peer's window); xRef only orders it",
  barrier_create, barrier_data_bytes, barrier_prepare, barrier_plan, barrier_finalize,
  .exclusive_group = TRUE,
};
