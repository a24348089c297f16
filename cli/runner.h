/* npusim — running a scenario: build the simulated cluster, create and plan the
 * ops, run the events, then write the trace, report.json, tensors and manifest into
 * a staging folder that is renamed onto the output folder only when all succeeded. */
#pragma once
#include "cli/scenario.h"
#include "ops/op.h"

G_BEGIN_DECLS

/** NpuExit: exit codes of `npusim` (documented in `npusim --help`). */
typedef enum {
  NPU_EXIT_OK = 0,
  NPU_EXIT_RUNTIME = 1,   /* simulation failure: hazard, deadlock, failed effect */
  NPU_EXIT_USAGE = 2,     /* bad command line */
  NPU_EXIT_SCENARIO = 3,  /* bad scenario: JSON, keys, types, values, presets */
  NPU_EXIT_PARAM = 4,     /* an operator parameter the aclnn API rejects (161001/161002/561002) */
  NPU_EXIT_MEMORY = 5,    /* data-mode tensors would not fit in this machine's memory */
  NPU_EXIT_IO = 6,        /* cannot write the outputs */
} NpuExit;

typedef struct {
  const char *out_dir;     /* default "npusim-out" */
  const char *trace_path;  /* nullable: default <out_dir>/trace.json */
  gboolean timing_only;
  const char *trace_level; /* nullable: the scenario's (default "task") */
  gboolean validate_only;  /* `npusim validate`: check everything, run nothing */
  gboolean quiet;          /* no summary table */
} NpuRunOptions;

/**
 * npu_run_scenario: run @scenario with @options.
 * Returns: an NpuExit code; on failure @error holds the one-line message.
 */
NpuExit npu_run_scenario (NpuScenario *scenario, const NpuRunOptions *options, GError **error);

/** npu_exit_for_error: the exit code a GError of any npusim domain maps to. */
NpuExit npu_exit_for_error (const GError *error);

G_END_DECLS
