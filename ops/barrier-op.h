/* npusim — aclnnDistributeBarrierV2 (spec 003) as a scenario operator, on A3.
 *
 * A full barrier of the group, all on AIV (REFERENCE §6, kernel
 * mc2/distribute_barrier/op_kernel/distribute_barrier.h): AIV cores 1..47 split the W
 * ranks; for each of its ranks t a core writes 8 x float 1.0 (32 B) into t's window at
 * dataState·512 KiB + myRank·512 B (a direct remote write over UB), then polls its own
 * window entries of the same ranks until they sum to 8·n, clears them and sets its
 * finish flag; AIV 0 polls the finish flags (with the optional timeout) and clears
 * them; SyncAll. dataState toggles every call, so consecutive barriers of a group use
 * the two window halves alternately. xRef is not touched: it only orders the barrier
 * after its producer (an input {"from": "<op>.<tensor>"}).
 *
 * Scenario keys (besides the runner's op, name, group, stream, after):
 *   "worldSize"  default: the group size (must equal it)
 *   "timeOut"    µs: passes a timeOutOptional tensor (int32, shape (1,)) holding it;
 *                when AIV 0 has not seen every core finish within it, the op fails and
 *                the run stops with an error naming the ranks that had not arrived
 *   "inputs"     {"xRef": init spec or {"from": "<earlier op>.<tensor>"}}
 *   "tensors"    per aclnn tensor name (xRef, timeOutOptional, elasticInfoOptional):
 *                null (a null pointer) or {"dtype": ..., "shape": [...]}; xRef
 *                defaults to float16 (1,) unless it comes "from" another op;
 *                elasticInfoOptional is absent unless given (its content is not
 *                modelled: filled with zeros = no elastic remap)
 * The barrier's group may hold no other kind of op (spec 003; the runner checks it).
 * Tensors per rank: xRef [, timeOutOptional, elasticInfoOptional] (inputs).
 */
#pragma once
#include "ops/op.h"

G_BEGIN_DECLS

extern const NpuOpClass npu_barrier_v2_class; /* "DistributeBarrierV2" */

G_END_DECLS
