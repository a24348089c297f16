/* npusim — scenario files: loading, `--set` patches, validation of the top level.
 *
 * A scenario is one JSON object (README "Scenario format"):
 *   name, description, seed, mode ("data" | "timing"), trace_level ("op"|"task"|"all"),
 *   cluster {preset, ranks, set {field: value}}, groups {name: "all" | [ranks]},
 *   ops [ {op, name, group, stream, after, ...op-specific keys} ],
 *   inject {stragglers [{rank, delay_us}], links [{match, bandwidth_factor}]}.
 * Every error names the key path ("ops[2].count: expected a positive integer"). */
#pragma once
#include <glib.h>
#include <jansson.h>
#include "models/hw.h"

G_BEGIN_DECLS

#define NPU_SCENARIO_ERROR (npu_scenario_error_quark ())
GQuark npu_scenario_error_quark (void);
typedef enum {
  NPU_SCENARIO_ERROR_FILE,   /* unreadable file */
  NPU_SCENARIO_ERROR_JSON,   /* not JSON: message has line and column */
  NPU_SCENARIO_ERROR_KEY,    /* unknown key */
  NPU_SCENARIO_ERROR_VALUE,  /* wrong type or impossible value */
} NpuScenarioError;

/** NpuStraggler: "inject.stragglers[i]": every stream of @rank starts @delay_ps late
 *  (its host issues everything that much later). */
typedef struct {
  guint rank;
  NpuTime delay_ps;
} NpuStraggler;

/** NpuLinkInject: "inject.links[i]": every fabric link whose name matches the glob
 *  @match (e.g. "r0.ub_tx", "r*.sio->*") runs at @bandwidth_factor times its
 *  bandwidth. */
typedef struct {
  char *match;
  double bandwidth_factor;
} NpuLinkInject;

/** NpuGroup: a named communication group: distinct global ranks in group order. */
typedef struct {
  char *name;
  GArray *ranks; /* guint */
} NpuGroup;

typedef struct {
  char *name;
  char *description;
  char *path;            /* file it came from, or "(built-in default)" */
  char *dir;             /* folder for relative paths (npy inputs) */
  guint64 seed;
  gboolean timing_only;
  char *trace_level;     /* "op" | "task" | "all" */
  NpuPreset *preset;     /* with overrides applied */
  guint n_ranks;
  GPtrArray *groups;     /* (element-type NpuGroup) in file order */
  json_t *ops;           /* the "ops" array (borrowed from root) */
  GArray *stragglers;    /* NpuStraggler, file order ("inject.stragglers") */
  GArray *link_injects;  /* NpuLinkInject, file order ("inject.links") */
  json_t *root;          /* owned */
} NpuScenario;

/** npu_scenario_default_json: (transfer none) the built-in default scenario text. */
const char *npu_scenario_default_json (void);

/**
 * npu_scenario_load: (transfer full) parse @path (NULL = the built-in default), apply
 * @sets ("key=value": a scenario path such as "ops[0].count" or "seed", or a hardware
 * field such as "link.hccs_bw_Bps"), check the top level, load the preset.
 */
NpuScenario *npu_scenario_load (const char *path, const char *const *sets, GError **error);
void npu_scenario_free (NpuScenario *scenario);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NpuScenario, npu_scenario_free)

/** npu_scenario_group: (nullable) (transfer none) the group named @name. */
const NpuGroup *npu_scenario_group (const NpuScenario *scenario, const char *name);

G_END_DECLS
