/* npusim — durations of the MoE kernels' pieces, from NpuHw fields only (models/cost.h):
 * a vector "stage" is one AIV instruction over a row followed by the pipe barrier or
 * flag the kernel source puts after it (cost.vector_op_overhead_us each); a DMA is one
 * DataCopy(Pad) between GM and UB at the core's MTE2 (read) or MTE3 (write) rate. */
#include "ops/moe-private.h"

NpuTime
moe_cost_stages (const NpuHw *hw, guint stages, guint64 elems, guint elem_bytes,
                 guint64 gm_bytes)
{
  NpuTime t = 0;
  for (guint s = 0; s < stages; s++)
    t += npu_cost_vector (hw, elems, elem_bytes, 1, 0);
  if (gm_bytes > 0)
    t += npu_cost_vector (hw, 0, 1, 0, gm_bytes);
  return t;
}

NpuTime
moe_cost_dma (const NpuHw *hw, guint64 bytes, gboolean write)
{
  guint rate = write ? hw->mte3_bytes_per_cycle : hw->mte2_bytes_per_cycle;
  g_assert (rate > 0);
  return npu_cost_cycles_to_ps (hw, (bytes + rate - 1) / rate) + hw->vector_op_overhead_ps;
}

double
moe_core_write_Bps (const NpuHw *hw)
{
  return (double) hw->mte3_bytes_per_cycle * hw->core_freq_hz;
}

NpuTime
moe_path_latency (NpuCluster *cl, const guint *links, guint n_links)
{
  NpuFabric *f = npu_cluster_fabric (cl);
  NpuTime t = 0;
  for (guint i = 0; i < n_links; i++)
    t += npu_fabric_link_latency (f, links[i]);
  return t;
}
