/* npusim — the built-in default scenario of `npusim run` with no file: one Atlas A2
 * server (8 x 910B2), an fp16 AllReduce of 1 MiB per rank followed by a bf16
 * AllGather, real tensors, task-level trace. Same as scenarios/a2-default.json. */
#include "cli/scenario.h"

static const char default_json[] =
  "{\n"
  "  \"name\": \"a2-default\",\n"
  "  \"description\": \"One A2 server: 8-rank fp16 AllReduce (1 MiB per rank) then a bf16 AllGather\",\n"
  "  \"seed\": 1,\n"
  "  \"cluster\": {\"preset\": \"a2\", \"ranks\": 8},\n"
  "  \"ops\": [\n"
  "    {\"op\": \"AllReduce\", \"name\": \"allreduce\", \"dtype\": \"float16\", \"count\": 524288},\n"
  "    {\"op\": \"AllGather\", \"name\": \"allgather\", \"dtype\": \"bfloat16\", \"count\": 65536,\n"
  "     \"after\": [\"allreduce\"]}\n"
  "  ]\n"
  "}\n";

const char *
npu_scenario_default_json (void)
{
  return default_json;
}
