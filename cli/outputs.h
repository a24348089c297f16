/* npusim — the output folder: staging, tensors (.npy) + manifest.json, JSON files,
 * and the final rename that makes a run's outputs appear all at once or not at all. */
#pragma once
#include <jansson.h>
#include "cli/scenario.h"
#include "ops/op.h"

G_BEGIN_DECLS

/** npu_outputs_stage: (transfer full) make an empty staging folder beside @out_dir. */
char *npu_outputs_stage (const char *out_dir, GError **error);
/** npu_outputs_write_json: write @value to @path (2-space indent, key order kept). */
gboolean npu_outputs_write_json (const char *path, json_t *value, GError **error);
/**
 * npu_outputs_write_tensors: write every registered tensor of @ops (element-type NpuOp)
 * as <staging>/tensors/<op>.r<rank>.<name>.npy (data mode only) and return the
 * manifest (transfer full) describing ops, attributes and files.
 */
json_t *npu_outputs_write_tensors (const char *staging, const NpuScenario *scenario,
                                   GPtrArray *ops, gboolean data_mode, GError **error);
/** npu_outputs_commit: replace @out_dir by @staging (rename; the old folder is removed). */
gboolean npu_outputs_commit (const char *staging, const char *out_dir, GError **error);
/** npu_outputs_discard: remove the staging folder and everything in it. */
void npu_outputs_discard (const char *staging);

G_END_DECLS
