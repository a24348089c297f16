/* npusim — the built-in default scenario of `npusim run` with no file: a MoE layer on
 * one Atlas A3 node (16 dies): MoeDistributeDispatchV2 with int8 tokens, identity
 * experts, MoeDistributeCombineV2 in bf16; DeepSeek-V3 shape (H 7168, 256 experts,
 * top-8) with 16 tokens per die, real tensors, task-level trace. Same as
 * scenarios/moe-a3-default.json (the former default, an A2 AllReduce + AllGather, is
 * scenarios/a2-default.json). */
#include "cli/scenario.h"

static const char default_json[] =
  "{\n"
  "  \"name\": \"moe-a3-default\",\n"
  "  \"description\": \"One A3 node (16 dies): a MoE layer, MoeDistributeDispatchV2 (int8) -> identity experts -> MoeDistributeCombineV2 (bf16), DeepSeek-V3 shape (H 7168, 256 experts, top-8), 16 tokens per die\",\n"
  "  \"seed\": 1,\n"
  "  \"cluster\": {\"preset\": \"a3\", \"ranks\": 16},\n"
  "  \"ops\": [\n"
  "    {\"op\": \"MoeDistributeDispatchV2\", \"name\": \"dispatch\", \"bs\": 16, \"h\": 7168, \"k\": 8,\n"
  "     \"moeExpertNum\": 256, \"quantMode\": 2,\n"
  "     \"inputs\": {\"x\": {\"dist\": \"normal\", \"mean\": 0, \"std\": 1}}},\n"
  "    {\"op\": \"MoeExperts\", \"name\": \"experts\", \"dispatch\": \"dispatch\"},\n"
  "    {\"op\": \"MoeDistributeCombineV2\", \"name\": \"combine\", \"dispatch\": \"dispatch\",\n"
  "     \"experts\": \"experts\"}\n"
  "  ]\n"
  "}\n";

const char *
npu_scenario_default_json (void)
{
  return default_json;
}
