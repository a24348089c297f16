/* npusim — the run's report: per op and rank latency, busy time per task class,
 * exposed communication, overlap ratio, the bound verdict with the reason, link
 * statistics; the Overlap Analysis tracks of the trace; the stdout summary table. */
#pragma once
#include <stdio.h>
#include <jansson.h>
#include "cli/scenario.h"
#include "ops/op.h"

G_BEGIN_DECLS

typedef struct {
  const NpuScenario *scenario;
  GPtrArray *ops;          /* (element-type NpuOp) */
  NpuCluster *cluster;
  NpuEngine *engine;
  NpuGraph *graph;
  gboolean data_mode;
  const char *trace_level;
} NpuReportInput;

/**
 * npu_report_build: (transfer full) the report.json object. Also draws, per rank, the
 * Overlap Analysis tracks (Computing, Communication, Communication(Not Overlapped),
 * Free) on @sink (nullable).
 */
json_t *npu_report_build (const NpuReportInput *in, NpuSink *sink);

/** npu_report_print_summary: the human table (one line per op) for stdout. */
void npu_report_print_summary (json_t *report, FILE *out);

G_END_DECLS
