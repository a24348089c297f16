/* npusim — the table of operators a scenario can name, in a fixed order. */
#include "ops/op.h"
#include "ops/hccl.h"

static const NpuOpClass *const all_classes[] = {
  &npu_hccl_allgather_class,
  &npu_hccl_reducescatter_class,
  &npu_hccl_allreduce_class,
  &npu_hccl_alltoall_class,
  &npu_hccl_alltoallv_class,
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
