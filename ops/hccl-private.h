/* npusim — shared internals of the HCCL collectives (ops/hccl-*.c). Not installed,
 * not for other modules: the operator struct, the group geometry, and the planning
 * helpers that turn HCCL's executor structure into graph tasks. */
#pragma once
#include "ops/hccl.h"
#include "models/cost.h"

G_BEGIN_DECLS

typedef enum { HCCL_AG, HCCL_RS, HCCL_AR, HCCL_A2A, HCCL_A2AV } HcclKind;
typedef enum { HCCL_ALGO_AUTO, HCCL_ALGO_RING, HCCL_ALGO_NHR } HcclAlgo;
/* "graphCache": whether the op's FFTS+ graph (A2 HOST mode) is already in hcomm's
 * cache (warm: refreshed and launched) or is built on this call (cold). */
typedef enum { HCCL_CACHE_WARM, HCCL_CACHE_COLD } HcclCache;

/* SDMA/RDMA transfers move at most 128-byte-aligned slices (HCCL_MIN_SLICE_ALIGN, the
 * alignment of the deterministic executors' PrepareSlicesInfo). */
#define HCCL_SLICE_ALIGN 128u

/* Group geometry: servers (A2) in order of first appearance in the group, each with
 * the same number of members in group order. On A3 and single-server A2 groups the
 * whole group is one level (n_servers = 1). */
typedef struct {
  gboolean a3;        /* A3: AI_CPU issue, flat full mesh */
  guint n;            /* group size */
  guint n_servers;    /* M: 1 = flat mesh */
  guint per_server;   /* L */
  guint *server;      /* [n] server index of group rank g */
  guint *local;       /* [n] index of g inside its server */
  guint *member;      /* [M * L] group rank of (server, local) */
} HcclGeom;

typedef struct {
  NpuOp base;
  HcclKind kind;
  NpuDtype dtype;
  guint64 count;           /* per kind (see ops/hccl.h); 0 for AlltoAllV */
  HcclAlgo algo_req;
  gboolean deterministic;  /* AllReduce "deterministic" (HCCL_DETERMINISTIC) */
  HcclCache cache;         /* "graphCache" */
  json_t *send_init;       /* (nullable) inputs.sendBuf */
  char *path;              /* "ops[i]" for errors at prepare */
  guint64 seed;
  guint64 *counts;         /* AlltoAll(V): [n * n] elements, row = sender */
  gboolean counts_random;
  guint64 rand_low, rand_high;
  HcclGeom geom;
  NpuTensor **send, **recv; /* [n] (references held by base.tensors) */
  guint8 **ccl_in, **ccl_out; /* [n] host memory of the CCL buffers (data mode) */
  guint64 buffer_limit;    /* HCCL_BUFFSIZE (hccl.buffer_bytes) */
  guint64 ccl_bytes;       /* size of each CCL buffer this op uses (<= HCCL_BUFFSIZE) */
  /* Collectives embedded in another op (ops/hccl-embed.c): */
  gboolean rank_order;     /* the deterministic AllReduce sums the slots 0, 1, ..., n-1
                              in sequence instead of the pairwise tree */
} HcclOp;

/* ---- hccl-op.c ---- */
gboolean hccl_geom_init (HcclGeom *geom, NpuCluster *cluster, const guint *ranks, guint n,
                         const char *path, GError **error);
void hccl_geom_clear (HcclGeom *geom);
/** Send / receive element counts of group rank g. */
guint64 hccl_send_elems (const HcclOp *hop, guint g);
guint64 hccl_recv_elems (const HcclOp *hop, guint g);
/** TRUE if @hop is an AllReduce that runs HCCL's default (non-deterministic) executor
 *  with concurrent inline reduces: A2, one server, more than one rank, not
 *  "deterministic". */
gboolean hccl_ar_inline (const HcclOp *hop);
/** The inter-server algorithm that runs for @hop's group (RING or NHR). */
HcclAlgo hccl_inter_algo (const HcclOp *hop);

/* ---- hccl-plan.c: turning HCCL's task structure into graph tasks ---- */

typedef enum { HB_SEND, HB_RECV, HB_CI, HB_CO, HB_N } HcclBuf;
typedef enum { HS_ACK, HS_DATA, HS_N } HcclSignal;
typedef enum { HX_SDMA, HX_RDMA, HX_REDUCE, HX_ATOMIC } HcclXfer;

/* One contiguous piece of a transfer: bytes at @src_off of the source buffer go to
 * @dst_off of the destination buffer. */
typedef struct {
  guint64 src_off, dst_off, bytes;
} HcclPiece;

typedef struct _HcclPlan HcclPlan;

HcclPlan *hccl_plan_new (HcclOp *hop, const NpuOpEnv *env);
void hccl_plan_free (HcclPlan *pl);
/** Streams of every rank: 0 = main, 1..n-1 = mesh slave streams (one per round),
 *  n.. = local-reduce streams. */
#define HCCL_MAIN 0u
guint hccl_plan_lr_stream (const HcclPlan *pl, guint offset);
const HcclOp *hccl_plan_op (const HcclPlan *pl);
gsize hccl_plan_esize (const HcclPlan *pl);

/** npu_op_begin on every rank (launch = hccl_op_fixed_ps); opens the first FFTS+
 *  graph on A2. */
void hccl_plan_begin (HcclPlan *pl);

/* Embedded collectives (ops/hccl-embed.c): a plan whose tasks belong to @owner (an
 * MC2 operator), issued by the rank's AICPU 0 (the MC2 communication server) at
 * cost.aicpu_task_issue_us: on A2 each collective is one cached FFTS+ graph launched
 * by the AICPU, on A3 every task is AICPU-issued. No op begin/finish; sendBuf and
 * recvBuf are bound per collective (hccl_plan_bind), the CCL buffers are the plan's. */
HcclPlan *hccl_plan_new_embedded (HcclOp *hop, NpuOp *owner, const NpuOpEnv *env);
/** Binds buffer @b (HB_SEND or HB_RECV) of group rank @g to @size bytes at byte @base of
 *  graph buffer @buffer, host memory @data (NULL in timing-only mode). */
void hccl_plan_bind (HcclPlan *pl, guint g, HcclBuf b, guint buffer, guint64 base,
                     guint8 *data, guint64 size);
/** Starts a collective (hop->kind, dtype, count, counts as set by the caller): on every
 *  rank its issue waits for @after[g] (the commit); opens its FFTS+ graph on A2. */
void hccl_plan_coll_open (HcclPlan *pl, NpuTask *const *after);
/** Ends it: launches the graph (A2); @done[g] = a hidden zero-time task that ends when
 *  every task of the collective on rank g has ended. */
void hccl_plan_coll_close (HcclPlan *pl, NpuTask **done);
/** A new loop of the executor (HCCL's RunLoopInner): on A2 the tasks planned so far
 *  form one FFTS+ graph that is launched, and the loop's tasks go into a new graph
 *  that starts when the previous one has ended. Nothing on A3 (AI_CPU mode). */
void hccl_plan_loop (HcclPlan *pl);
/** Launches the open FFTS+ graph (A2), then npu_op_finish on every rank after the
 *  last task of each of its streams. */
void hccl_plan_finish (HcclPlan *pl);

/** A notify record on stream @s of rank @g for a stream of the same rank. */
NpuTask *hccl_record_local (HcclPlan *pl, guint g, guint s);
/** A notify wait on stream @s of rank @g for @record. */
NpuTask *hccl_wait_local (HcclPlan *pl, guint g, guint s, NpuTask *record);
/** MainRecordSub / SubWaitMain for the @n streams in @subs. */
void hccl_sync_main_to (HcclPlan *pl, guint g, const guint *subs, guint n);
/** SubRecordMain / MainWaitSub. */
void hccl_sync_to_main (HcclPlan *pl, guint g, const guint *subs, guint n);
/** Tx<kind>: a notify record on stream @s of @g into peer @peer (inter-chip cost). */
void hccl_signal (HcclPlan *pl, guint g, guint s, guint peer, HcclSignal kind);
/** Rx<kind>: a notify wait on stream @s of @g for @peer's Tx<kind> to @g of this step. */
void hccl_wait_signal (HcclPlan *pl, guint g, guint s, guint peer, HcclSignal kind);
/** End of a step: every rank's tasks of the step exist; resolve the Rx waits. */
void hccl_step_end (HcclPlan *pl);

/** An empty SDMA task (zero bytes, the SDMA fixed cost) on stream @s of @g: the
 *  anchor HCCL's templates put between stream syncs (ExecEmptyTask / the 0-byte
 *  HcclD2DMemcpyAsync in AllReduceMeshDirect). */
NpuTask *hccl_empty_task (HcclPlan *pl, guint g, guint s);

/**
 * hccl_xfer: a transfer task on stream @s of rank @g (the issuing rank):
 * HX_SDMA: SDMA copy from (@src_g, @src_buf) to (@dst_g, @dst_buf) — over HCCS/UB/SIO
 *   between ranks, or a die-local copy when @src_g == @dst_g;
 * HX_RDMA: RDMA write over RoCE;
 * HX_REDUCE: die-local SDMA inline reduce, dst += src in the op's dtype;
 * HX_ATOMIC: SDMA inline reduce into another rank's CCL-out (dst += src), which may
 *   run at the same time as other ranks' inline reduces into the same bytes (the
 *   SDMA engine adds atomically): the additions happen in the order the tasks end.
 * Pieces with zero bytes are dropped; returns NULL (no task) if nothing is left.
 */
NpuTask *hccl_xfer (HcclPlan *pl, guint g, guint s, HcclXfer kind, guint src_g,
                    HcclBuf src_buf, guint dst_g, HcclBuf dst_buf, const HcclPiece *pieces,
                    guint n_pieces);

/* ---- hccl-mesh.c: mesh phases and the flat (single-level) algorithms ---- */

typedef struct {
  gboolean read_mode; /* the rank pulls from its peers (AllGather style) */
  /* peers of @g in round order, without @g; returns their number */
  guint (*peers) (HcclPlan *pl, guint g, guint *peers, gpointer data);
  void (*pre) (HcclPlan *pl, guint g, gpointer data);  /* nullable: main, first */
  void (*xfer) (HcclPlan *pl, guint g, guint peer, guint s, gpointer data);
  void (*post) (HcclPlan *pl, guint g, gpointer data); /* nullable: main, last */
  gboolean anchor;    /* an empty SDMA task on main between the ack and data syncs
                         (AllReduceMeshDirect) */
} HcclMeshPhase;

void hccl_mesh_phase (HcclPlan *pl, const HcclMeshPhase *ph, gpointer data);
/** Local tree reduce of @n_slots slots of @bytes at CO[@base + j·@stride] into slot 0. */
void hccl_tree_reduce (HcclPlan *pl, guint g, guint n_slots, guint64 base, guint64 stride,
                       guint64 bytes);
/** Bytes of slice @i when @total bytes are cut into @parts slices of
 *  roundup(ceil(total/parts), 128) bytes (the last ones may be short or empty). */
guint64 hccl_slice_size (guint64 total, guint parts, guint64 esize);
guint64 hccl_slice_len (guint64 total, guint64 slice, guint i);

gboolean hccl_plan_flat (HcclPlan *pl, GError **error);
/** AlltoAll(V) layout: element displacements sdispl[i*n+j] (block for j in i's
 *  sendBuf) and rdispl[j*n+i] (block from i in j's recvBuf), both (transfer full);
 *  @pm = bytes of each (src, dst) block moved per loop. Returns the number of loops. */
guint64 hccl_a2a_layout (const HcclOp *hop, guint64 **sdispl, guint64 **rdispl, guint64 *pm);
/** One loop of a staged AlltoAll(V). */
typedef struct {
  guint64 k;      /* loop index */
  guint64 pm;     /* bytes per pair per loop (CCL-in slot size) */
  guint64 *sdispl, *rdispl; /* [n * n] element displacements: sdispl[i*n+j] in i's
                               sendBuf, rdispl[j*n+i] in j's recvBuf */
} HcclA2aLoop;
/** Bytes of the (@i -> @j) block moved in loop @lp->k. */
guint64 hccl_a2a_len (HcclPlan *pl, const HcclA2aLoop *lp, guint i, guint j);

/* ---- hccl-hier.c: A2 multi-server algorithms ---- */
gboolean hccl_plan_hier (HcclPlan *pl, GError **error);

/* Inter-server schedules (level-1 index space of size m), step @st:
 * send chunks @tx[0..n) to @to, receive chunks @rx[0..n) from @from. */
typedef struct {
  guint to, from, n;
  guint tx[32], rx[32];
} HcclStep;
guint hccl_inter_steps (HcclAlgo algo, guint m);
void hccl_inter_rs_step (HcclAlgo algo, guint r, guint m, guint st, HcclStep *out);
void hccl_inter_ag_step (HcclAlgo algo, guint r, guint m, guint st, HcclStep *out);

G_END_DECLS
