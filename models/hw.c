/* npusim — the NpuHw field table: keys, types, units, checks, text and JSON forms.
 *
 * The numbers themselves live in models/presets/<name>.json, each with its source;
 * this file only knows how to read, check and print them. */
#include <math.h>
#include <string.h>
#include "models/hw-private.h"

#define F(key, type, unit, member, positive, doc) \
  { key, type, unit, G_STRUCT_OFFSET (NpuHw, member), positive, doc }

/* Table order is the order of npu_preset_describe() and of NpuHw. `positive`
 * marks fields whose zero is physically impossible; fields that may be zero are
 * either optional mechanisms (a what-if "no overhead") or parts of the other
 * topology (A2 has no SIO/UB, the A3 model has no HCCS mesh). */
static const NpuHwField fields[] = {
  F ("topology.kind", NPU_FIELD_TOPOLOGY, "", topology, FALSE,
     "a2: 8-die servers, HCCS mesh + RoCE; a3: supernode, SIO pairs + UB switching"),
  /* Die */
  F ("die.aic_count", NPU_FIELD_UINT, "cores", aic_count, TRUE, "cube cores (AIC) per die"),
  F ("die.aiv_count", NPU_FIELD_UINT, "cores", aiv_count, TRUE, "vector cores (AIV) per die"),
  F ("die.aicpu_count", NPU_FIELD_UINT, "cores", aicpu_count, TRUE,
     "user-visible AICPU cores per die"),
  F ("die.core_freq_hz", NPU_FIELD_DOUBLE, "Hz", core_freq_hz, TRUE, "AIC/AIV clock"),
  F ("die.cube_m", NPU_FIELD_UINT, "elements", cube_m, TRUE, "cube fractal M"),
  F ("die.cube_n", NPU_FIELD_UINT, "elements", cube_n, TRUE, "cube fractal N"),
  F ("die.cube_k_f16", NPU_FIELD_UINT, "elements", cube_k_f16, TRUE,
     "cube fractal K for fp16/bf16"),
  F ("die.cube_k_i8", NPU_FIELD_UINT, "elements", cube_k_i8, TRUE, "cube fractal K for int8"),
  F ("die.vector_bytes_per_cycle", NPU_FIELD_UINT, "B/cycle", vector_bytes_per_cycle, TRUE,
     "AIV vector datapath width"),
  /* Memory */
  F ("mem.hbm_bw_Bps", NPU_FIELD_DOUBLE, "B/s", hbm_bw_Bps, TRUE, "HBM bandwidth per die"),
  F ("mem.hbm_bytes", NPU_FIELD_UINT64, "bytes", hbm_bytes, TRUE, "HBM capacity per die"),
  F ("mem.l2_bytes", NPU_FIELD_UINT64, "bytes", l2_bytes, TRUE, "L2 cache per die"),
  F ("mem.l1_bytes", NPU_FIELD_UINT64, "bytes", l1_bytes, TRUE, "L1 buffer per AIC"),
  F ("mem.l0a_bytes", NPU_FIELD_UINT64, "bytes", l0a_bytes, TRUE, "L0A buffer per AIC"),
  F ("mem.l0b_bytes", NPU_FIELD_UINT64, "bytes", l0b_bytes, TRUE, "L0B buffer per AIC"),
  F ("mem.l0c_bytes", NPU_FIELD_UINT64, "bytes", l0c_bytes, TRUE, "L0C buffer per AIC"),
  F ("mem.ub_bytes", NPU_FIELD_UINT64, "bytes", ub_bytes, TRUE, "unified buffer per AIV"),
  F ("mem.mte2_bytes_per_cycle", NPU_FIELD_UINT, "B/cycle", mte2_bytes_per_cycle, TRUE,
     "per-core GM->L1/UB rate (ini ddr_rate)"),
  F ("mem.l2_read_bytes_per_cycle", NPU_FIELD_UINT, "B/cycle", l2_read_bytes_per_cycle, TRUE,
     "per-core L2 read rate"),
  F ("mem.l2_write_bytes_per_cycle", NPU_FIELD_UINT, "B/cycle", l2_write_bytes_per_cycle, TRUE,
     "per-core L2 write rate"),
  F ("mem.mte3_bytes_per_cycle", NPU_FIELD_UINT, "B/cycle", mte3_bytes_per_cycle, TRUE,
     "per-core UB->GM rate (ini ub_to_l2_rate)"),
  /* Fixed costs */
  F ("cost.kernel_launch_us", NPU_FIELD_TIME, "us", kernel_launch_ps, FALSE,
     "one kernel launch, host -> device"),
  F ("cost.cube_tile_overhead_us", NPU_FIELD_TIME, "us", cube_tile_overhead_ps, FALSE,
     "per AIC tile: pipeline fill, fixpipe drain, loop setup"),
  F ("cost.vector_op_overhead_us", NPU_FIELD_TIME, "us", vector_op_overhead_ps, FALSE,
     "per AIV instruction batch: pipe barriers and flag sync"),
  F ("cost.flag_poll_us", NPU_FIELD_TIME, "us", flag_poll_ps, FALSE,
     "one poll of a flag in GM"),
  F ("cost.aicpu_task_issue_us", NPU_FIELD_TIME, "us", aicpu_task_issue_ps, FALSE,
     "AICPU posting one SDMA/RDMA task"),
  F ("cost.host_task_issue_us", NPU_FIELD_TIME, "us", host_task_issue_ps, FALSE,
     "host issuing one task (HCCL HOST expansion)"),
  F ("cost.sdma_fixed_small_us", NPU_FIELD_TIME, "us", sdma_fixed_small_ps, FALSE,
     "SDMA task fixed cost, payload <= threshold"),
  F ("cost.sdma_fixed_large_us", NPU_FIELD_TIME, "us", sdma_fixed_large_ps, FALSE,
     "SDMA task fixed cost, payload > threshold"),
  F ("cost.sdma_large_threshold_bytes", NPU_FIELD_UINT64, "bytes", sdma_large_threshold_bytes,
     FALSE, "SDMA payload above which the large fixed cost applies"),
  F ("cost.sdma_task_bw_Bps", NPU_FIELD_DOUBLE, "B/s", sdma_task_bw_Bps, TRUE,
     "one SDMA task's own rate limit"),
  F ("cost.rdma_fixed_us", NPU_FIELD_TIME, "us", rdma_fixed_ps, FALSE, "RDMA task fixed cost"),
  F ("cost.rdma_task_bw_Bps", NPU_FIELD_DOUBLE, "B/s", rdma_task_bw_Bps, FALSE,
     "one RDMA task's own rate limit (0 = only the NIC bounds it)"),
  F ("cost.notify_record_us", NPU_FIELD_TIME, "us", notify_record_ps, FALSE,
     "notify record across chips"),
  F ("cost.notify_record_local_us", NPU_FIELD_TIME, "us", notify_record_local_ps, FALSE,
     "notify record on the same chip"),
  F ("cost.notify_wait_us", NPU_FIELD_TIME, "us", notify_wait_ps, FALSE,
     "notify wait once the record has landed"),
  F ("hccl.op_fixed_us", NPU_FIELD_TIME, "us", hccl_op_fixed_ps, FALSE,
     "per collective launch on the host/AICPU side"),
  F ("hccl.buffer_bytes", NPU_FIELD_UINT64, "bytes", hccl_buffer_bytes, TRUE,
     "HCCL_BUFFSIZE window per rank"),
  F ("mem.local_copy_bw_Bps", NPU_FIELD_DOUBLE, "B/s", local_copy_bw_Bps, TRUE,
     "one die-local GM->GM copy (SDMA)"),
  /* Topology */
  F ("topology.dies_per_server", NPU_FIELD_UINT, "dies", dies_per_server, TRUE,
     "dies per A2 server / A3 node"),
  F ("topology.max_servers", NPU_FIELD_UINT, "servers", max_servers, TRUE,
     "largest number of servers (A2) / nodes (A3)"),
  F ("topology.max_dies", NPU_FIELD_UINT, "dies", max_dies, TRUE, "largest cluster"),
  F ("topology.dies_per_package", NPU_FIELD_UINT, "dies", dies_per_package, TRUE,
     "dies per package (A3: 2, joined by SIO)"),
  F ("link.hccs_bw_Bps", NPU_FIELD_DOUBLE, "B/s", hccs_link_bw_Bps, FALSE,
     "A2 HCCS, per link per direction"),
  F ("link.hccs_latency_us", NPU_FIELD_TIME, "us", hccs_latency_ps, FALSE, "A2 HCCS hop latency"),
  F ("link.roce_bw_Bps", NPU_FIELD_DOUBLE, "B/s", roce_bw_Bps, FALSE,
     "RoCE per NIC per direction"),
  F ("link.roce_latency_us", NPU_FIELD_TIME, "us", roce_latency_ps, FALSE, "RoCE hop latency"),
  F ("link.sio_bw_Bps", NPU_FIELD_DOUBLE, "B/s", sio_bw_Bps, FALSE,
     "A3 SIO die-to-die, per direction"),
  F ("link.sio_latency_us", NPU_FIELD_TIME, "us", sio_latency_ps, FALSE, "A3 SIO latency"),
  F ("link.ub_ports", NPU_FIELD_UINT, "ports", ub_ports, FALSE, "A3 UB ports per die"),
  F ("link.ub_port_bw_Bps", NPU_FIELD_DOUBLE, "B/s", ub_port_bw_Bps, FALSE,
     "A3 UB port, per direction"),
  F ("link.ub_l1_latency_us", NPU_FIELD_TIME, "us", ub_l1_latency_ps, FALSE,
     "A3 UB latency inside a node (L1 switch)"),
  F ("link.ub_l2_latency_us", NPU_FIELD_TIME, "us", ub_l2_latency_ps, FALSE,
     "A3 UB latency across nodes (L2 switch), total"),
  /* AIV instruction-level costs */
  F ("mem.gm_read_latency_us", NPU_FIELD_TIME, "us", gm_read_latency_ps, FALSE,
     "one GM->UB DMA, issue to first data"),
  F ("mem.gm_write_latency_us", NPU_FIELD_TIME, "us", gm_write_latency_ps, FALSE,
     "one UB->GM DMA to local GM, issue to completion"),
  F ("mem.l2_hit_latency_us", NPU_FIELD_TIME, "us", l2_hit_latency_ps, FALSE,
     "a scalar load served by L2"),
  F ("cost.vector_instr_us", NPU_FIELD_TIME, "us", vector_instr_ps, FALSE,
     "one AIV vector instruction's fixed latency (with the pipe barrier after it)"),
  F ("cost.vector_dep_repeat_cycles", NPU_FIELD_UINT, "cycles", vector_dep_repeat_cycles, FALSE,
     "cycles per repeat when each repeat needs the previous one's result"),
  F ("link.ub_aiv_write_efficiency", NPU_FIELD_DOUBLE, "fraction", ub_aiv_write_efficiency,
     FALSE, "A3 share of a UB link's capacity that AIV MTE writes sustain (0 = 1)"),
};

#undef F

guint
npu_hw_n_fields (void)
{
  return G_N_ELEMENTS (fields);
}

const NpuHwField *
npu_hw_field (guint index)
{
  g_return_val_if_fail (index < G_N_ELEMENTS (fields), NULL);
  return &fields[index];
}

const char *
npu_hw_field_key (guint index)
{
  g_return_val_if_fail (index < G_N_ELEMENTS (fields), NULL);
  return fields[index].key;
}

const char *
npu_hw_field_unit (guint index)
{
  g_return_val_if_fail (index < G_N_ELEMENTS (fields), NULL);
  return fields[index].unit;
}

const char *
npu_hw_field_doc (guint index)
{
  g_return_val_if_fail (index < G_N_ELEMENTS (fields), NULL);
  return fields[index].doc;
}

gint
npu_hw_field_index (const char *key)
{
  g_return_val_if_fail (key != NULL, -1);
  /* ~50 rows: a linear scan is simpler than a hash and costs nothing here. */
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    if (strcmp (fields[i].key, key) == 0)
      return (gint) i;
  return -1;
}

/* ---- storing ------------------------------------------------------------- */

#define MEMBER(hw, field, type) ((type *) ((guint8 *) (hw) + (field)->offset))

gboolean
npu_preset_fail (GError **error, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error_literal (error, NPU_PRESET_ERROR, NPU_PRESET_ERROR_VALUE, msg);
  return FALSE;
}

/* Store an integer already known to be >= 0. */
static gboolean
store_unsigned (const NpuHwField *field, NpuHw *hw, guint64 v, GError **error)
{
  if (field->positive && v == 0)
    return npu_preset_fail (error, "must be > 0");
  if (field->type == NPU_FIELD_UINT)
    {
      if (v > G_MAXUINT)
        return npu_preset_fail (error, "%" G_GUINT64_FORMAT " is too large (max %u)", v, G_MAXUINT);
      *MEMBER (hw, field, guint) = (guint) v;
    }
  else
    {
      /* The limit of a JSON integer (json_int_t), so every value round-trips. */
      if (v > (guint64) G_MAXINT64)
        return npu_preset_fail (error, "%" G_GUINT64_FORMAT " is too large", v);
      *MEMBER (hw, field, guint64) = v;
    }
  return TRUE;
}

/* Store a real: a double field as is, a time field given in µs as whole ps. */
static gboolean
store_real (const NpuHwField *field, NpuHw *hw, double v, GError **error)
{
  if (!isfinite (v))
    return npu_preset_fail (error, "must be a finite number");
  if (v < 0)
    return npu_preset_fail (error, "must not be negative");
  if (field->positive && v == 0)
    return npu_preset_fail (error, "must be > 0");
  if (field->type == NPU_FIELD_DOUBLE)
    {
      *MEMBER (hw, field, double) = v;
      return TRUE;
    }
  g_assert (field->type == NPU_FIELD_TIME);
  /* µs to ps rounded to the nearest ps: "0.6" is 600000 ps although 0.6 * 1e6 is
   * not exactly an integer in binary. 2^64 ps is about 213 days. */
  double ps = round (v * 1e6);
  if (ps >= 18446744073709551616.0)
    return npu_preset_fail (error, "%g us is too large", v);
  *MEMBER (hw, field, NpuTime) = (NpuTime) ps;
  return TRUE;
}

static gboolean
store_topology (NpuHw *hw, const char *text, GError **error)
{
  if (strcmp (text, "a2") == 0)
    hw->topology = NPU_TOPO_A2;
  else if (strcmp (text, "a3") == 0)
    hw->topology = NPU_TOPO_A3;
  else
    return npu_preset_fail (error, "'%s' is not a topology (expected \"a2\" or \"a3\")", text);
  return TRUE;
}

gboolean
npu_hw_field_set_text (const NpuHwField *field, NpuHw *hw, const char *text, GError **error)
{
  g_return_val_if_fail (field != NULL && hw != NULL && text != NULL, FALSE);

  switch (field->type)
    {
    case NPU_FIELD_UINT:
    case NPU_FIELD_UINT64:
      {
        guint64 v = 0;
        g_autoptr (GError) local = NULL;
        /* Base 10 only; rejects signs, spaces, trailing garbage and overflow. */
        if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT64, &v, &local))
          return npu_preset_fail (error, "'%s' is not a non-negative integer", text);
        return store_unsigned (field, hw, v, error);
      }
    case NPU_FIELD_DOUBLE:
    case NPU_FIELD_TIME:
      {
        char *end = NULL;
        if (text[0] == '\0' || g_ascii_isspace (text[0]))
          return npu_preset_fail (error, "'%s' is not a number", text);
        double v = g_ascii_strtod (text, &end);
        if (end == text || *end != '\0')
          return npu_preset_fail (error, "'%s' is not a number", text);
        return store_real (field, hw, v, error);
      }
    case NPU_FIELD_TOPOLOGY:
      return store_topology (hw, text, error);
    }
  g_assert_not_reached ();
}

gboolean
npu_hw_field_set_json (const NpuHwField *field, NpuHw *hw, const json_t *value, GError **error)
{
  g_return_val_if_fail (field != NULL && hw != NULL && value != NULL, FALSE);

  switch (field->type)
    {
    case NPU_FIELD_UINT:
    case NPU_FIELD_UINT64:
      if (!json_is_integer (value))
        return npu_preset_fail (error, "expected a JSON integer");
      if (json_integer_value (value) < 0)
        return npu_preset_fail (error, "must not be negative");
      return store_unsigned (field, hw, (guint64) json_integer_value (value), error);
    case NPU_FIELD_DOUBLE:
    case NPU_FIELD_TIME:
      if (!json_is_number (value))
        return npu_preset_fail (error, "expected a JSON number");
      return store_real (field, hw, json_number_value (value), error);
    case NPU_FIELD_TOPOLOGY:
      if (!json_is_string (value))
        return npu_preset_fail (error, "expected a JSON string \"a2\" or \"a3\"");
      return store_topology (hw, json_string_value (value), error);
    }
  g_assert_not_reached ();
}

/* ---- printing ------------------------------------------------------------ */

/* Shortest "%.Ng" (N = 1..17) that reads back to exactly @v: deterministic and
 * readable ("2.8e+10", "1759218604441.6"), independent of the C locale. */
static char *
format_double (double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  for (int prec = 1; prec <= 17; prec++)
    {
      char fmt[8];
      g_snprintf (fmt, sizeof fmt, "%%.%dg", prec);
      g_ascii_formatd (buf, sizeof buf, fmt, v);
      if (g_ascii_strtod (buf, NULL) == v)
        break;
    }
  return g_strdup (buf);
}

/* Whole ps as exact decimal µs: 600000 -> "0.6", 7000000 -> "7", 20000 -> "0.02".
 * Integer arithmetic only, so it never depends on a float printer. */
static char *
format_time_us (NpuTime ps)
{
  guint64 whole = ps / NPU_PS_PER_US, frac = ps % NPU_PS_PER_US;
  if (frac == 0)
    return g_strdup_printf ("%" G_GUINT64_FORMAT, whole);
  char digits[8];
  g_snprintf (digits, sizeof digits, "%06" G_GUINT64_FORMAT, frac);
  for (int i = 5; i > 0 && digits[i] == '0'; i--)
    digits[i] = '\0';
  return g_strdup_printf ("%" G_GUINT64_FORMAT ".%s", whole, digits);
}

char *
npu_hw_field_format (const NpuHwField *field, const NpuHw *hw)
{
  g_return_val_if_fail (field != NULL && hw != NULL, NULL);
  switch (field->type)
    {
    case NPU_FIELD_UINT:
      return g_strdup_printf ("%u", *MEMBER (hw, field, const guint));
    case NPU_FIELD_UINT64:
      return g_strdup_printf ("%" G_GUINT64_FORMAT, *MEMBER (hw, field, const guint64));
    case NPU_FIELD_DOUBLE:
      return format_double (*MEMBER (hw, field, const double));
    case NPU_FIELD_TIME:
      return format_time_us (*MEMBER (hw, field, const NpuTime));
    case NPU_FIELD_TOPOLOGY:
      return g_strdup (hw->topology == NPU_TOPO_A3 ? "a3" : "a2");
    }
  g_assert_not_reached ();
}

json_t *
npu_hw_field_to_json (const NpuHwField *field, const NpuHw *hw)
{
  g_return_val_if_fail (field != NULL && hw != NULL, NULL);
  switch (field->type)
    {
    case NPU_FIELD_UINT:
      return json_integer (*MEMBER (hw, field, const guint));
    case NPU_FIELD_UINT64:
      /* json_int_t is 64-bit signed; real presets stay far below 2^63. */
      return json_integer ((json_int_t) *MEMBER (hw, field, const guint64));
    case NPU_FIELD_DOUBLE:
      return json_real (*MEMBER (hw, field, const double));
    case NPU_FIELD_TIME:
      return json_real ((double) *MEMBER (hw, field, const NpuTime) / 1e6);
    case NPU_FIELD_TOPOLOGY:
      return json_string (hw->topology == NPU_TOPO_A3 ? "a3" : "a2");
    }
  g_assert_not_reached ();
}
