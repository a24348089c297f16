/* npusim — HCCL collectives inside another operator (see ops/hccl.h, "Collectives
 * inside another operator"): one HcclPlan per owning op, re-bound to the op's memory
 * for every collective, so an MC2 operator's per-tile AllReduce / AlltoAll /
 * AllGather run the same mesh algorithms, task costs and data effects as the
 * scenario collectives (ops/hccl-mesh.c). */
#include "ops/hccl-private.h"
#include <string.h>

struct _NpuHcclEmbed {
  HcclOp hop;       /* the collective being planned (kind, dtype, count, geometry) */
  HcclPlan *plan;
  NpuOp *owner;
  guint n;
};

guint64
npu_hccl_embed_ccl_bytes (NpuHcclEmbedKind kind, NpuDtype dt, guint64 count, guint n,
                          guint64 buffer_limit)
{
  guint64 e = npu_dtype_size (dt);
  guint64 b;
  switch (kind)
    {
    case NPU_HCCL_EMBED_ALLREDUCE:
      /* n slots of roundup(ceil(count/n)·e, 128) bytes (hccl_slice_size) */
      b = (guint64) n * hccl_slice_size (count * e, n, e);
      break;
    case NPU_HCCL_EMBED_ALLGATHER:
      b = count * e;
      break;
    default:
      {
        guint64 need = (count * e + HCCL_SLICE_ALIGN - 1) / HCCL_SLICE_ALIGN * HCCL_SLICE_ALIGN;
        b = (guint64) n * MAX (need, HCCL_SLICE_ALIGN);
        break;
      }
    }
  return MIN (b, buffer_limit);
}

NpuHcclEmbed *
npu_hccl_embed_new (NpuOp *owner, const NpuOpEnv *env, guint64 ccl_bytes, gboolean rank_order,
                    GError **error)
{
  g_return_val_if_fail (owner != NULL && owner->n_ranks > 0 && owner->ranks != NULL, NULL);
  NpuHcclEmbed *e = g_new0 (NpuHcclEmbed, 1);
  HcclOp *hop = &e->hop;
  e->owner = owner;
  e->n = owner->n_ranks;
  hop->path = g_strdup (owner->name);
  hop->deterministic = TRUE;
  hop->cache = HCCL_CACHE_WARM;
  hop->rank_order = rank_order;
  hop->dtype = NPU_DT_FP16;
  hop->buffer_limit = env->hw->hccl_buffer_bytes;
  hop->ccl_bytes = MAX (MIN (ccl_bytes, hop->buffer_limit), 1);
  if (!hccl_geom_init (&hop->geom, env->cluster, owner->ranks, e->n, owner->name, error))
    {
      npu_hccl_embed_free (e);
      return NULL;
    }
  if (hop->geom.n_servers > 1)
    {
      g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                   "%s: collectives inside an operator need the group in one A2 server "
                   "(HCCS full mesh)", owner->name);
      npu_hccl_embed_free (e);
      return NULL;
    }
  if (env->data_mode)
    {
      hop->ccl_in = g_new0 (guint8 *, e->n);
      hop->ccl_out = g_new0 (guint8 *, e->n);
      for (guint g = 0; g < e->n; g++)
        {
          hop->ccl_in[g] = g_try_malloc0 (hop->ccl_bytes);
          hop->ccl_out[g] = g_try_malloc0 (hop->ccl_bytes);
          if (hop->ccl_in[g] == NULL || hop->ccl_out[g] == NULL)
            {
              g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                           "%s: cannot allocate the CCL buffers (%" G_GUINT64_FORMAT
                           " bytes per rank)", owner->name, 2 * hop->ccl_bytes);
              npu_hccl_embed_free (e);
              return NULL;
            }
        }
    }
  hop->counts = g_new0 (guint64, (gsize) e->n * e->n);
  e->plan = hccl_plan_new_embedded (hop, owner, env);
  return e;
}

void
npu_hccl_embed_free (NpuHcclEmbed *e)
{
  if (e == NULL)
    return;
  HcclOp *hop = &e->hop;
  if (e->plan != NULL)
    hccl_plan_free (e->plan);
  for (guint g = 0; hop->ccl_in != NULL && g < e->n; g++)
    {
      g_free (hop->ccl_in[g]);
      g_free (hop->ccl_out[g]);
    }
  g_free (hop->ccl_in);
  g_free (hop->ccl_out);
  g_free (hop->counts);
  g_free (hop->path);
  hccl_geom_clear (&hop->geom);
  g_free (e);
}

gboolean
npu_hccl_embed_run (NpuHcclEmbed *e, NpuHcclEmbedKind kind, NpuDtype dt, guint64 count,
                    const NpuHcclRegion *send, const NpuHcclRegion *recv,
                    NpuTask *const *after, NpuTask **done, GError **error)
{
  HcclOp *hop = &e->hop;
  guint n = e->n;
  hop->kind = kind == NPU_HCCL_EMBED_ALLREDUCE ? HCCL_AR
              : kind == NPU_HCCL_EMBED_ALLGATHER ? HCCL_AG : HCCL_A2A;
  hop->dtype = dt;
  hop->count = count;
  for (gsize i = 0; i < (gsize) n * n; i++)
    hop->counts[i] = count;
  gsize es = npu_dtype_size (dt);
  for (guint g = 0; g < n; g++)
    if (hccl_send_elems (hop, g) * es > send[g].bytes
        || hccl_recv_elems (hop, g) * es > recv[g].bytes)
      {
        g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                     "%s: the buffers of group rank %u are too small for the collective",
                     e->owner->name, g);
        return FALSE;
      }
  for (guint g = 0; g < n; g++)
    {
      hccl_plan_bind (e->plan, g, HB_SEND, send[g].buffer, send[g].offset, send[g].data,
                      send[g].bytes);
      hccl_plan_bind (e->plan, g, HB_RECV, recv[g].buffer, recv[g].offset, recv[g].data,
                      recv[g].bytes);
    }
  hccl_plan_coll_open (e->plan, after);
  gboolean ok = TRUE;
  if (n == 1)
    {
      /* HCCL's single-rank executors: one local copy, none when in place. */
      gboolean in_place = send[0].buffer == recv[0].buffer && send[0].offset == recv[0].offset;
      HcclPiece p = { 0, 0, hccl_send_elems (hop, 0) * es };
      if (!in_place)
        hccl_xfer (e->plan, 0, HCCL_MAIN, HX_SDMA, 0, HB_SEND, 0, HB_RECV, &p, 1);
    }
  else
    ok = hccl_plan_flat (e->plan, error);
  hccl_plan_coll_close (e->plan, done);
  return ok;
}
