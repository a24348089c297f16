/* npusim — hardware parameters and presets.
 *
 * NpuHw is the resolved set of hardware numbers one run uses: a preset from
 * models/presets/<name>.json (every field there carries its source, see
 * ../shared/CALIBRATION.md) plus overrides from the scenario or `--set key=value`.
 * Field keys are the dotted names in the table in models/hw.c (e.g.
 * "link.hccs_bw_Bps"); an unknown key is an error.
 *
 * Units in names: _Bps bytes/s, _hz Hz, _ps picoseconds (presets write _us fields in
 * microseconds where the key says _us), _bytes bytes. */
#pragma once
#include <glib.h>
#include "sim/engine.h"

G_BEGIN_DECLS

/** NpuTopologyKind: how dies are wired. */
typedef enum {
  NPU_TOPO_A2, /* servers of 8 dies, HCCS full mesh inside, one RoCE NIC per die */
  NPU_TOPO_A3, /* supernode: 2 dies per package over SIO, UB switching for the rest */
} NpuTopologyKind;

/** NpuHw: resolved hardware parameters (a plain value type, read-only for users). */
typedef struct {
  NpuTopologyKind topology;
  /* Die */
  guint aic_count;              /* cube cores per die */
  guint aiv_count;              /* vector cores per die */
  guint aicpu_count;            /* user-visible AICPU cores per die */
  double core_freq_hz;          /* AIC/AIV clock */
  guint cube_m, cube_n, cube_k_f16;   /* cube fractal for fp16/bf16: 16x16x16 */
  guint cube_k_i8;              /* int8 fractal K: 32 (16x32x16) */
  guint vector_bytes_per_cycle; /* AIV vector datapath: 256 B/cycle (128 fp16 / 64 fp32) */
  double hbm_bw_Bps;            /* HBM bandwidth per die */
  guint64 hbm_bytes, l2_bytes, l1_bytes, l0a_bytes, l0b_bytes, l0c_bytes, ub_bytes;
  guint mte2_bytes_per_cycle;   /* per-core GM->L1/UB rate (ddr_rate) */
  guint l2_read_bytes_per_cycle, l2_write_bytes_per_cycle; /* per core */
  guint mte3_bytes_per_cycle;   /* per-core UB->GM rate (ub_to_l2_rate) */
  /* Fixed costs */
  NpuTime kernel_launch_ps;     /* one kernel launch (host -> device) */
  NpuTime cube_tile_overhead_ps;/* per AIC tile: fixpipe drain, loop overhead */
  NpuTime vector_op_overhead_ps;/* per AIV instruction batch */
  NpuTime flag_poll_ps;         /* one poll of a flag in GM (local or remote) */
  NpuTime aicpu_task_issue_ps;  /* AICPU posting one SDMA/RDMA task */
  NpuTime host_task_issue_ps;   /* host (HOST expansion mode) issuing one task */
  NpuTime sdma_fixed_small_ps;  /* SDMA task fixed cost up to the threshold */
  NpuTime sdma_fixed_large_ps;  /* SDMA task fixed cost above the threshold (hcomm
                                   task_profiling: size > 512 KiB) */
  guint64 sdma_large_threshold_bytes;
  double sdma_task_bw_Bps;      /* one SDMA task's own rate limit */
  NpuTime rdma_fixed_ps;        /* RDMA task fixed cost */
  double rdma_task_bw_Bps;      /* one RDMA task's own rate limit (0 = NIC bound only) */
  NpuTime notify_record_ps;     /* notify record across chips */
  NpuTime notify_record_local_ps; /* notify record on the same chip */
  NpuTime notify_wait_ps;       /* notify wait once the record has landed */
  NpuTime hccl_op_fixed_ps;     /* per collective launch on the host/AICPU side */
  guint64 hccl_buffer_bytes;    /* HCCL_BUFFSIZE window per rank */
  double local_copy_bw_Bps;     /* one die-local GM->GM copy (SDMA), e.g. user buffer
                                   -> HCCL buffer */
  /* Topology */
  guint dies_per_server;        /* A2: 8 per server; A3: 16 per node */
  guint max_servers;            /* A2: 8 */
  guint max_dies;               /* A2: 64; A3: 768 */
  guint dies_per_package;       /* A2: 1; A3: 2 */
  double hccs_link_bw_Bps;      /* A2 HCCS, per link per direction (0 on A3: absent) */
  NpuTime hccs_latency_ps;
  double roce_bw_Bps;           /* per NIC per direction */
  NpuTime roce_latency_ps;
  double sio_bw_Bps;            /* A3 die-to-die in a package, per direction (0 on A2) */
  NpuTime sio_latency_ps;
  guint ub_ports;               /* A3 UB ports per die (0 on A2) */
  double ub_port_bw_Bps;        /* per port per direction */
  NpuTime ub_l1_latency_ps;     /* inside a node */
  NpuTime ub_l2_latency_ps;     /* across nodes of the supernode */
  /* AIV instruction-level costs (Huawei's PyPTO A2/A3 tile cost model, see the presets) */
  NpuTime gm_read_latency_ps;   /* one GM->UB DMA: issue to first data (MTE2) */
  NpuTime gm_write_latency_ps;  /* one UB->GM DMA: issue to completion (MTE3), local GM */
  NpuTime l2_hit_latency_ps;    /* a scalar load served by L2 (after a cache invalidate) */
  NpuTime vector_instr_ps;      /* one vector instruction's fixed latency (issue to result,
                                   the pipe barrier after it included) */
  guint vector_dep_repeat_cycles; /* cycles per repeat of a vector instruction whose
                                   repeats depend on each other (in-place accumulation) */
  double ub_aiv_write_efficiency; /* A3: fraction of a UB link's capacity that AIV MTE
                                   writes sustain (0 = 1, the line rate); the MoE plans
                                   scale the fabric's current ub_tx / ub_rx capacity by it */
} NpuHw;

/** NpuPreset: a parsed preset with overrides and the source of every field. */
typedef struct _NpuPreset NpuPreset;

#define NPU_PRESET_ERROR (npu_preset_error_quark ())
GQuark npu_preset_error_quark (void);
typedef enum {
  NPU_PRESET_ERROR_UNKNOWN,   /* no such preset */
  NPU_PRESET_ERROR_KEY,       /* unknown field key */
  NPU_PRESET_ERROR_VALUE,     /* wrong type or impossible value */
  NPU_PRESET_ERROR_FILE,      /* unreadable / malformed preset file */
} NpuPresetError;

/**
 * npu_preset_dirs: (transfer none) the folders searched for presets, in order:
 * $NPUSIM_PRESET_DIR if set, the source tree's models/presets, the installed
 * $(pkgdatadir)/presets. NULL-terminated.
 */
const char *const *npu_preset_dirs (void);

/** npu_preset_list: (transfer full) sorted names of the available presets. */
GPtrArray *npu_preset_list (GError **error);

/** npu_preset_load: (transfer full) load preset @name ("a2", "a3") or NULL + error. */
NpuPreset *npu_preset_load (const char *name, GError **error);
void npu_preset_free (NpuPreset *preset);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NpuPreset, npu_preset_free)

/**
 * npu_preset_set: override one field. @value is text ("28e9", "24", "0.5") parsed by
 * the field's type; @origin (e.g. "--set" or "scenario cluster.set") is recorded as
 * the new source. Errors: NPU_PRESET_ERROR_KEY, NPU_PRESET_ERROR_VALUE.
 */
gboolean npu_preset_set (NpuPreset *preset, const char *key, const char *value,
                         const char *origin, GError **error);

/** npu_preset_hw: (transfer none) the resolved parameters. */
const NpuHw *npu_preset_hw (const NpuPreset *preset);
const char *npu_preset_name (const NpuPreset *preset);
const char *npu_preset_description (const NpuPreset *preset);

/**
 * npu_preset_describe: (transfer full) every resolved field, one per line:
 * "key = value unit  # source". Used by `npusim presets show`.
 */
char *npu_preset_describe (const NpuPreset *preset);

/**
 * npu_preset_to_json: (transfer full) jansson object {key: value} for report.json.
 * Integers as JSON integers, bandwidths/clock as reals, _us keys as reals in µs,
 * "topology.kind" as "a2"/"a3".
 */
struct json_t;
struct json_t *npu_preset_to_json (const NpuPreset *preset);

/**
 * npu_preset_source: (transfer none) the source text of field @key (the preset's
 * citation, or the origin of the last npu_preset_set()), or NULL if @key is unknown.
 */
const char *npu_preset_source (const NpuPreset *preset, const char *key);

/**
 * npu_preset_value_text: (transfer full) field @key's value as text in the preset
 * file's unit (µs for _us keys), formatted as npu_preset_describe() prints it and
 * accepted back by npu_preset_set(); NULL if @key is unknown.
 */
char *npu_preset_value_text (const NpuPreset *preset, const char *key);

/* The field table, in its fixed order (the order of npu_preset_describe()). */
guint npu_hw_n_fields (void);
/** npu_hw_field_key: (transfer none) dotted key of field @index, e.g. "die.aic_count". */
const char *npu_hw_field_key (guint index);
/** npu_hw_field_unit: (transfer none) unit as written in presets ("B/s", "us", ...). */
const char *npu_hw_field_unit (guint index);
/** npu_hw_field_doc: (transfer none) one-line description. */
const char *npu_hw_field_doc (guint index);

G_END_DECLS
