/* npusim — the NpuHw field table (private to models/).
 *
 * One row per NpuHw member: its dotted key, how its value is typed and checked,
 * and where it lives in the struct. The preset loader, `--set` overrides,
 * npu_preset_describe() and npu_preset_to_json() all go through this table, so a
 * field added to NpuHw needs exactly one new row in models/hw.c. */
#pragma once
#include <jansson.h>
#include "models/hw.h"

G_BEGIN_DECLS

typedef enum {
  NPU_FIELD_UINT,     /* guint; JSON integer / decimal text */
  NPU_FIELD_UINT64,   /* guint64; JSON integer / decimal text */
  NPU_FIELD_DOUBLE,   /* double; JSON number / text such as "28e9" */
  NPU_FIELD_TIME,     /* NpuTime (ps); written in µs in presets and overrides */
  NPU_FIELD_TOPOLOGY, /* NpuTopologyKind; "a2" / "a3" */
} NpuFieldType;

typedef struct {
  const char *key;     /* dotted key, e.g. "link.hccs_bw_Bps" */
  NpuFieldType type;
  const char *unit;    /* unit of the value as written in presets */
  gsize offset;        /* G_STRUCT_OFFSET (NpuHw, member) */
  gboolean positive;   /* TRUE: zero is impossible (a clock, a core count, ...) */
  const char *doc;
} NpuHwField;

/** npu_hw_field: (transfer none) row @index (< npu_hw_n_fields()). */
const NpuHwField *npu_hw_field (guint index);

/** npu_hw_field_index: the row of @key, or -1 if there is none. */
gint npu_hw_field_index (const char *key);

/**
 * npu_hw_field_set_text: parse @text by @field's type into @hw.
 * Errors: NPU_PRESET_ERROR_VALUE with a message that does not name the key (the
 * caller adds it). @hw is unchanged on error.
 */
gboolean npu_hw_field_set_text (const NpuHwField *field, NpuHw *hw, const char *text,
                                GError **error);

/** npu_hw_field_set_json: as npu_hw_field_set_text() for a JSON value. */
gboolean npu_hw_field_set_json (const NpuHwField *field, NpuHw *hw, const json_t *value,
                                GError **error);

/**
 * npu_hw_field_format: (transfer full) the value as text, deterministic: integers in
 * decimal, doubles as the shortest "%.Ng" that reads back to the same double, times
 * as exact decimal µs.
 */
char *npu_hw_field_format (const NpuHwField *field, const NpuHw *hw);

/** npu_hw_field_to_json: (transfer full) the value as a JSON value. */
json_t *npu_hw_field_to_json (const NpuHwField *field, const NpuHw *hw);

/** npu_preset_fail: set an NPU_PRESET_ERROR_VALUE error and return FALSE, for
 *  `return npu_preset_fail (error, "...", ...);` (models/hw.c, models/cluster.c). */
gboolean npu_preset_fail (GError **error, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

G_END_DECLS
