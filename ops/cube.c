/* npusim — the AIC cube task (see ops/cube.h). */
#include "ops/cube.h"
#include <string.h>
#include "models/cost.h"

typedef struct {
  NpuCubeTile tile;
} CubeJob;

static NpuGemmOperand
sub_view (const NpuGemmOperand *v, gint64 row0, gint64 rows, gint64 col0, gint64 cols)
{
  NpuGemmOperand s = *v;
  gsize elem = npu_dtype_size (v->dtype);
  if (v->data != NULL)
    s.data = (const guint8 *) v->data + (gsize) (row0 * v->row_stride + col0 * v->col_stride) * elem;
  s.rows = rows;
  s.cols = cols;
  return s;
}

static gboolean
cube_effect (gpointer data, GError **error)
{
  CubeJob *job = data;
  NpuCubeTile *t = &job->tile;
  if (t->acc == NULL || t->a.data == NULL || t->b.data == NULL)
    return TRUE;
  gint64 k = t->a.cols;
  NpuGemmOperand a = sub_view (&t->a, t->m_begin, t->m, 0, k);
  NpuGemmOperand b = sub_view (&t->b, 0, k, t->n_begin, t->n);
  gboolean int8 = t->a.dtype == NPU_DT_INT8;
  gsize elem = int8 ? sizeof (gint32) : sizeof (float);
  g_autofree guint8 *tmp = g_malloc ((gsize) (t->m * t->n) * elem);
  if (int8)
    npu_gemm_i32acc (&a, &b, (gint32 *) tmp, 0);
  else
    npu_gemm_f32acc (&a, &b, (float *) tmp, 0);
  for (gint64 i = 0; i < t->m; i++)
    memcpy ((guint8 *) t->acc + (gsize) ((t->m_begin + i) * t->acc_ld + t->n_begin) * elem,
            tmp + (gsize) (i * t->n) * elem, (gsize) t->n * elem);
  return TRUE;
}

NpuTask *
npu_cube_task_new (NpuOp *op, const NpuOpEnv *env, guint g, guint core, const char *name,
                   const NpuCubeTile *tile)
{
  g_return_val_if_fail (tile->a.cols == tile->b.rows, NULL);
  NpuTask *task = npu_op_task_new (op, env, g, name, NPU_TASK_COMPUTE, NPU_TRACK_AIC, core);
  npu_task_set_server (task, npu_cluster_aic (env->cluster, npu_op_rank_of (op, g), core));
  NpuCubeMode mode = tile->a.dtype == NPU_DT_INT8 ? NPU_CUBE_I8 : NPU_CUBE_F16;
  npu_task_set_duration (task, npu_cost_cube_tile (env->hw, (guint) tile->m, (guint) tile->n,
                                                   (guint) tile->a.cols, mode,
                                                   (guint) npu_dtype_size (tile->a.dtype),
                                                   tile->out_elem_bytes));
  for (guint i = 0; i < G_N_ELEMENTS (tile->reads); i++)
    if (tile->reads[i].length > 0)
      npu_task_reads (task, tile->reads[i].buffer, tile->reads[i].offset, tile->reads[i].length);
  if (tile->writes[0].length > 0)
    npu_task_writes (task, tile->writes[0].buffer, tile->writes[0].offset,
                     tile->writes[0].length);
  CubeJob *job = g_new0 (CubeJob, 1);
  job->tile = *tile;
  npu_task_set_effect (task, cube_effect, job, g_free);
  return task;
}
