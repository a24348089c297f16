/* npusim — the table of operators a scenario can name, in a fixed order. */
#include "ops/op.h"
#include "ops/hccl.h"
#include "ops/moe.h"
#include "ops/agmm.h"
#include "ops/matmul.h"
#include "ops/gmm-op.h"
#include "ops/barrier-op.h"
#include "ops/qmmar.h"
#include "ops/nz.h"

static const NpuOpClass *const all_classes[] = {
  &npu_hccl_allgather_class,
  &npu_hccl_reducescatter_class,
  &npu_hccl_allreduce_class,
  &npu_hccl_alltoall_class,
  &npu_hccl_alltoallv_class,
  &npu_moe_dispatch_class,
  &npu_moe_dispatch_v2_class,
  &npu_moe_dispatch_v3_class,
  &npu_moe_experts_class,
  &npu_moe_combine_class,
  &npu_moe_combine_v2_class,
  &npu_moe_combine_v3_class,
  &npu_agmm_class,
  &npu_matmul_class,
  &npu_quant_matmul_class,
  &npu_gmm_alltoallv_class,
  &npu_barrier_v2_class,
  &npu_qmmar_class,
  &npu_nz_trans_class,
  NULL
};

const NpuOpClass *const *
npu_op_class_all (void)
{
  return all_classes;
}

const NpuOpClass *
npu_op_class_lookup (const char *name)
{
  for (guint i = 0; all_classes[i] != NULL; i++)
    if (g_strcmp0 (all_classes[i]->name, name) == 0)
      return all_classes[i];
  return NULL;
}
