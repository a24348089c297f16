/* npusim — durations of the MoE kernels' pieces, from NpuHw fields only.
 * The dispatch / combine plans (A2 and A3) use the instruction-level costs below
 * (moe_vec, moe_dma_in/out: PyPTO's A2/A3 cost model via the presets). The MoeExperts
 * op keeps the generic models/cost.h vector model (moe_cost_stages: one AIV
 * instruction per stage plus cost.vector_op_overhead_us). */
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

/* ---- A3 plans: instruction-level costs (PyPTO's A2/A3 cost model, see the presets) ---- */

static NpuTime
cycles_for_bytes (const NpuHw *hw, guint64 bytes, guint rate)
{
  g_assert (rate > 0);
  return npu_cost_cycles_to_ps (hw, (bytes + rate - 1) / rate);
}

NpuTime
moe_vec (const NpuHw *hw, guint64 bytes)
{
  return hw->vector_instr_ps + cycles_for_bytes (hw, MAX (bytes, 1), hw->vector_bytes_per_cycle);
}

NpuTime
moe_vec_chain (const NpuHw *hw, guint64 repeats)
{
  return hw->vector_instr_ps + npu_cost_cycles_to_ps (hw, repeats * hw->vector_dep_repeat_cycles);
}

NpuTime
moe_dma_in_stream (const NpuHw *hw, guint64 bytes, gboolean l2)
{
  return cycles_for_bytes (hw, bytes, l2 ? hw->l2_read_bytes_per_cycle : hw->mte2_bytes_per_cycle);
}

NpuTime
moe_dma_in (const NpuHw *hw, guint64 bytes, gboolean l2)
{
  return hw->gm_read_latency_ps + moe_dma_in_stream (hw, bytes, l2);
}

NpuTime
moe_dma_out_stream (const NpuHw *hw, guint64 bytes)
{
  return cycles_for_bytes (hw, bytes, hw->l2_write_bytes_per_cycle);
}

NpuTime
moe_dma_out (const NpuHw *hw, guint64 bytes)
{
  return hw->gm_write_latency_ps + moe_dma_out_stream (hw, bytes);
}

double
moe_ub_efficiency (const NpuHw *hw)
{
  return hw->ub_aiv_write_efficiency > 0 ? hw->ub_aiv_write_efficiency : 1.0;
}
