/* npusim — HCCL collectives as scenario operators.
 *
 * AllGather, ReduceScatter, AllReduce (sum), AlltoAll and AlltoAllV on fp16, bf16,
 * fp32 and int8, planned as the task streams HCCL's executors emit (hicann/hcomm
 * "coll_executor" + "alg_template"), in HCCL's default expansion mode per product:
 *
 *   A2, one server (or a group inside one server): the mesh algorithms, one slave
 *     stream per peer so every HCCS link is used at once; AllReduce by default as
 *     HCCL's AllReduceMeshDirect (concurrent SDMA inline reduces into the peers'
 *     CCL buffers). HOST mode: each loop is one FFTS+ graph, launched by the host
 *     (cost.host_task_issue_us) and cached (a cold graph is first built,
 *     cost.host_task_issue_us per context); syncs between streams of a chip are
 *     graph edges.
 *   A2, several servers: hierarchical: in-server mesh step, then ring or NHR over
 *     RoCE (RDMA tasks) between the ranks with the same in-server index, then an
 *     in-server mesh step (AlltoAll: in-server mesh, then pairwise over RoCE); FFTS+
 *     graphs as above.
 *   A3: full mesh over UB (and SIO to the package twin) among all dies of the group;
 *     tasks issued by the AICPU (AI_CPU mode, cost.aicpu_task_issue_us per task).
 *
 * Reductions (docs/ops/hccl.md "Reduction order"): the default A2 one-server AllReduce
 * adds the peers' contributions in the order their inline reduces end (as HCCL's
 * default executor, order set by timing); everything else, and AllReduce with
 * "deterministic": true, follows HCCL's deterministic executors: every rank's
 * contribution lands in its own slot of the CCL buffer and the slots are summed by a
 * fixed pairwise tree. fp16/bf16 partial sums are rounded to the dtype after every
 * addition (fp16 saturates at ±65504), int8 sums wrap modulo 256.
 *
 * Scenario keys (besides the runner's "op", "name", "group", "stream", "after"):
 *   "dtype":      "float16" | "bfloat16" | "float32" | "int8"  (required)
 *   "count":      elements (> 0): AllReduce per rank; AllGather each rank's
 *                 contribution; ReduceScatter each rank's result; AlltoAll per
 *                 (src, dst) pair. Not used by AlltoAllV.
 *   "sendCounts": AlltoAllV only (required): an n x n matrix of element counts
 *                 (row = sender, column = receiver, group order), or
 *                 {"dist": "randint", "low": a, "high": b} drawn from the seed.
 *   "reduceOp":   "sum" (AllReduce, ReduceScatter; the only one supported)
 *   "algorithm":  "ring" | "nhr": the inter-server algorithm of A2 multi-server
 *                 AllGather / ReduceScatter / AllReduce (default: HCCL's selector,
 *                 ring for 2-3 servers, NHR from 4). Ignored where no inter-server
 *                 step exists (the manifest's attrs say what ran).
 *   "deterministic": AllReduce: false (default, HCCL_DETERMINISTIC unset) | true.
 *   "graphCache": "warm" (default: the op's FFTS+ graph is in HCCL's cache, a repeated
 *                 call) | "cold" (built on this call). A2 only.
 *   "inputs":     {"sendBuf": <init spec of npu_op_fill_input>}
 * Tensors per rank: "sendBuf" (input) and "recvBuf" (output), 1-D.
 */
#pragma once
#include "ops/op.h"

G_BEGIN_DECLS

extern const NpuOpClass npu_hccl_allgather_class;     /* "AllGather" */
extern const NpuOpClass npu_hccl_reducescatter_class; /* "ReduceScatter" */
extern const NpuOpClass npu_hccl_allreduce_class;     /* "AllReduce" */
extern const NpuOpClass npu_hccl_alltoall_class;      /* "AlltoAll" */
extern const NpuOpClass npu_hccl_alltoallv_class;     /* "AlltoAllV" */

/**
 * npu_hccl_reduce_tree_steps: the pairwise tree HCCL's local reduce uses to sum @n
 * slots (ReduceScatterPlantLocalReduce::RunLocalReduce). Fills @heads/@counts (room
 * for 32 rounds) so that round r adds slot heads[r] + o into slot o for
 * o = 0 .. counts[r] - 1; the sum ends in slot 0. Returns the number of rounds,
 * ceil(log2 n). Exposed so tests and other operators can reproduce the order.
 */
guint npu_hccl_reduce_tree_steps (guint n, guint *heads, guint *counts);

/**
 * npu_hccl_reduce_add: @dst[i] = @dst[i] + @src[i] for @n elements of @dt, rounded
 * to @dt after the addition (fp16 via fp32 then RNE with saturation at ±65504, bf16
 * via fp32 then RNE, fp32 in IEEE single, int8 wrapping modulo 256). This is the
 * arithmetic of one SDMA inline-reduce step.
 */
void npu_hccl_reduce_add (NpuDtype dt, gpointer dst, gconstpointer src, gsize n);

/* ---- Cross-rank notify handshakes ----
 *
 * Within one step of an HCCL executor, rank a's Tx<kind> (a notify record into rank
 * b) pairs with b's Rx<kind> (a notify wait for it). Ranks are planned one after
 * another, so a wait may be planned before its record: waits are held until the
 * step ends. Used by the collectives' plans and by operators that plan HCCL's AICPU
 * tasks themselves (GroupedMatMulAlltoAllv's AlltoAllV). */

typedef struct _NpuHcclNotify NpuHcclNotify;

/** npu_hccl_notify_new: (transfer full) handshakes among @n ranks with @n_kinds kinds
 *  of signal (e.g. ack and data). */
NpuHcclNotify *npu_hccl_notify_new (guint n, guint n_kinds);
void npu_hccl_notify_free (NpuHcclNotify *nt);
/** npu_hccl_notify_record: @record is the Tx@kind of rank @from into rank @to in this
 *  step (at most one per step). */
void npu_hccl_notify_record (NpuHcclNotify *nt, guint from, guint to, guint kind,
                             NpuTask *record);
/** npu_hccl_notify_wait: @wait is the Rx@kind of rank @to for rank @from's record of
 *  this step; it comes to depend on that record at npu_hccl_notify_step_end(). */
void npu_hccl_notify_wait (NpuHcclNotify *nt, guint from, guint to, guint kind,
                           NpuTask *wait);
/** npu_hccl_notify_step_end: every task of the step exists: each wait (in the order
 *  they were planned) depends on its record, which must exist; the step is
 *  forgotten. */
void npu_hccl_notify_step_end (NpuHcclNotify *nt);
/** npu_hccl_notify_idle: no wait is held (every step was ended). */
gboolean npu_hccl_notify_idle (const NpuHcclNotify *nt);

/* ---- Collectives inside another operator ----
 *
 * The MC2 operators that hand their communication to HCCL's AICPU server (e.g.
 * QuantMatmulAllReduceV3: the AI cores commit one collective per M tile) plan those
 * collectives with the same algorithms as the scenario ops above (one A2 server: the
 * mesh phases; A3: full mesh), on memory the operator owns. Differences from the
 * scenario ops: the tasks belong to the owning op (its report, its trace tracks); each
 * collective is issued by the rank's AICPU 0 (cost.aicpu_task_issue_us: on A2 one
 * launch of the collective's cached FFTS+ graph, on A3 per task) once the op commits
 * it; the AllReduce is the deterministic structure, optionally summing the ranks in
 * rank order; no hccl.op_fixed_us per collective (the MC2 kernel is already running).
 * A group spanning A2 servers is not supported (MC2 on A2 is HCCS full mesh only). */

typedef struct _NpuHcclEmbed NpuHcclEmbed;

typedef enum {
  NPU_HCCL_EMBED_ALLREDUCE, /* sum; count = elements per rank */
  NPU_HCCL_EMBED_ALLGATHER, /* count = each rank's contribution */
  NPU_HCCL_EMBED_ALLTOALL,  /* count = elements per (src, dst) pair */
} NpuHcclEmbedKind;

/** NpuHcclRegion: bytes of one rank's memory: @bytes at byte @offset of graph buffer
 *  @buffer (for the hazard checker); @data its first byte in host memory (NULL in
 *  timing-only mode). */
typedef struct {
  guint buffer;
  guint64 offset;
  guint8 *data;
  guint64 bytes;
} NpuHcclRegion;

/**
 * npu_hccl_embed_new: (transfer full) collectives of @owner on its group (owner->ranks,
 * owner->n_ranks must be set). @ccl_bytes: size of each rank's CCL-in and CCL-out
 * buffer (at most hccl.buffer_bytes; larger data loops, as HCCL does); allocated here
 * in data mode. @rank_order: the AllReduce adds the ranks' contributions in rank order
 * 0, 1, ..., n-1 (each addition rounded to the dtype) instead of the pairwise tree.
 * Errors: NPU_OP_ERROR_SCENARIO (a group across A2 servers, no memory).
 */
NpuHcclEmbed *npu_hccl_embed_new (NpuOp *owner, const NpuOpEnv *env, guint64 ccl_bytes,
                                  gboolean rank_order, GError **error);
void npu_hccl_embed_free (NpuHcclEmbed *e);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NpuHcclEmbed, npu_hccl_embed_free)

/**
 * npu_hccl_embed_ccl_bytes: bytes of each rank's CCL buffers that one collective of
 * @kind on @count elements of @dt over @n ranks touches (at most @buffer_limit =
 * HCCL_BUFFSIZE, beyond which it loops): the @ccl_bytes an op passes to
 * npu_hccl_embed_new is the largest of its collectives'.
 */
guint64 npu_hccl_embed_ccl_bytes (NpuHcclEmbedKind kind, NpuDtype dt, guint64 count, guint n,
                                  guint64 buffer_limit);

/**
 * npu_hccl_embed_run: plan one collective of @kind on @dt (float16, bfloat16, float32,
 * int8). @send / @recv: per group rank (arrays of owner->n_ranks) the regions it reads
 * and writes; they may overlap (in place). @after: (nullable) per group rank the task
 * whose end commits the collective. @done: (out) per group rank a hidden zero-time task
 * that ends when every task of the collective on that rank has ended (what the op's
 * Wait sees). Collectives of one embed run one after the other on each rank, in the
 * order they are planned. Returns FALSE with @error if a region is too small.
 */
gboolean npu_hccl_embed_run (NpuHcclEmbed *e, NpuHcclEmbedKind kind, NpuDtype dt,
                             guint64 count, const NpuHcclRegion *send,
                             const NpuHcclRegion *recv, NpuTask *const *after,
                             NpuTask **done, GError **error);

G_END_DECLS
