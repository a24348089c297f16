/* npusim — shared internals of the MoE operators (ops/moe-*.c). Not for other modules.
 *
 * Files: moe-params.c (scenario keys, aclnn parameter checks, window sizes),
 * moe-routing.c (expertIds / expertScales / xActiveMask inputs: seeded, .npy, recorded
 * JSON lines), moe-layout.c (who sends which row where, the receive order of
 * REFERENCE 4.1), moe-numerics.c (quantisation and the combine arithmetic),
 * moe-dispatch.c / moe-experts.c / moe-combine.c (the op classes), moe-a3-plan.c and
 * moe-a2-plan.c (tasks), moe-registry.c (finding the paired ops by name). */
#pragma once
#include "ops/moe.h"
#include "models/cost.h"

G_BEGIN_DECLS

typedef enum { MOE_KIND_DISPATCH, MOE_KIND_EXPERTS, MOE_KIND_COMBINE } MoeKind;

/* Attributes of a dispatch (its combine inherits them: the aclnn docs require the same
 * values on both). Group rank g = ep_rank * tpn + tp_rank. */
typedef struct {
  guint version;          /* aclnn API version: 1, 2 or 3 */
  gboolean a3;            /* product: A3 (TRUE) or A2 */
  guint n;                /* group size = ep * tpn */
  guint ep;               /* epWorldSize */
  guint tp;               /* tpWorldSize as given: 0, 1 or 2 */
  guint tpn;              /* max(tp, 1): TP ranks per EP rank */
  guint moe_experts;      /* moeExpertNum */
  guint shared_experts;   /* sharedExpertNum */
  guint shared_ranks;     /* sharedExpertRankNum (S): EP ranks 0..S-1 */
  guint shard_type;       /* expertShardType */
  guint zero_experts;     /* V3 zeroExpertNum: ids in [M, M + zero) are not sent */
  guint h, k;
  guint *bs;              /* [n] tokens (BS) of every group rank */
  guint max_bs;           /* max over ranks */
  guint64 global_bs;      /* globalBs as given (0 allowed) */
  guint quant_mode;       /* 0 or 2 */
  guint token_nums_type;  /* expertTokenNumsType */
  NpuDtype x_dtype;       /* x: FP16 or BF16 */
  NpuDtype expand_dtype;  /* expandX: INT8 for quantMode 2, else x_dtype */
  gboolean smooth;        /* scales given (quantMode 2 smooth scales) */
  gboolean has_expert_scales; /* expertScales input present */
  guint mask_dims;        /* xActiveMask: 0 none, 1 (BS), 2 (BS, K) */
  guint64 win_bytes;      /* HCCL_BUFFSIZE of the EP group, bytes */
  gboolean hierarchical;  /* A2: HCCL_INTRA_PCIE_ENABLE=1 and HCCL_INTRA_ROCE_ENABLE=0 */
  guint aiv;              /* AIV cores the kernel runs on (aivNum) */
  guint servers;          /* A2: servers spanned by the group */
  guint group_len;        /* length of the groupEp name (checked [1, 128)) */
  gboolean same_group_names; /* groupEp == groupTp (rejected) */
  guint hazard_regions;   /* A3 window regions for the hazard checker: 0 auto (per row up
                             to MOE_DETAIL_ROWS rows), 1 per row, 2 per block */
} MoeAttrs;

/* Derived sizes. */
guint moe_local_experts (const MoeAttrs *a);      /* L on MoE ranks */
gboolean moe_is_shared_rank (const MoeAttrs *a, guint ep_rank);
guint64 moe_axis_max_bs (const MoeAttrs *a);      /* globalBs / ep, or max BS */
guint64 moe_rows_capacity (const MoeAttrs *a, guint ep_rank); /* A of the spec */
guint moe_win_slot_bytes (const MoeAttrs *a);     /* hAlignWinSize of a dispatch row */
guint moe_combine_slot_bytes (const MoeAttrs *a, guint comm_quant); /* Align512 of a
                                                     combine row (+ int8 scales) */
/* HCCL_BUFFSIZE the spec requires (bytes), and the kernel's own CheckActualWinSize. */
guint64 moe_required_win_spec (const MoeAttrs *a);
guint64 moe_required_win_kernel (const MoeAttrs *a);

/* ---- moe-params.c ---- */

/* Parse the dispatch keys of @spec (already free of the runner's common keys) into
 * @a. Scenario errors name the key path; aclnn rejections carry their code. */
gboolean moe_attrs_parse (MoeAttrs *a, guint version, const json_t *spec, const char *path,
                          const NpuOpEnv *env, const NpuOp *op, GError **error);
void moe_attrs_clear (MoeAttrs *a);
void moe_attrs_copy (MoeAttrs *dst, const MoeAttrs *src);
/* aclnn / tiling checks of the dispatch (REFERENCE 4.3, spec 004), per product. */
gboolean moe_check_dispatch (const MoeAttrs *a, const NpuOp *op, GError **error);
/* Combine-only checks (REFERENCE 5.3) on top of the dispatch's. */
gboolean moe_check_combine (const MoeAttrs *a, guint comm_quant, NpuDtype expand_dtype,
                            guint version, const NpuOp *op, GError **error);
void moe_attrs_to_json (const MoeAttrs *a, json_t *attrs);

/* A tensor (or a nullable handle) of an aclnn call, for the scenario keys
 * "nullTensors" (names passed as nullptr) and "tensorDtypes" ({name: dtype}). */
typedef enum {
  MOE_RULE_TENSOR,     /* a dtype other than the rule's -> 161002 */
  MOE_RULE_OWN_DTYPE,  /* a given dtype goes to the caller's check instead */
  MOE_RULE_HANDLE,     /* not a tensor (groupEp): only "nullTensors" may name it */
} MoeRuleKind;
typedef struct {
  const char *name;
  gboolean required;   /* passed as nullptr -> 161001 "<name> is nullptr" */
  NpuDtype dtype;
  MoeRuleKind kind;
} MoeTensorRule;
typedef gboolean (*MoeDtypeCheck) (NpuDtype dt, gconstpointer data, GError **error);
/* Check @spec's "nullTensors", then its "tensorDtypes", in their order, against
 * @rules[@n]: names no rule has are scenario errors naming the key path; the aclnn
 * codes as above; @own_check (@data) takes the dtypes of MOE_RULE_OWN_DTYPE rules.
 * @nulled: (nullable) [n], set TRUE for the rules "nullTensors" names. */
gboolean moe_check_tensor_rules (const json_t *spec, const char *path, const NpuOp *op,
                                 const MoeTensorRule *rules, guint n, MoeDtypeCheck own_check,
                                 gconstpointer data, gboolean *nulled, GError **error);

/* ---- moe-routing.c ---- */

/* The router's decisions of every group rank. */
typedef struct {
  guint n;
  gint32 **ids;      /* [n][bs * k] expertIds */
  float **weights;   /* [n][bs * k] expertScales */
  guint8 **mask;     /* [n][bs] or [n][bs * k]: xActiveMask (NULL if none) */
  json_t *info;      /* attrs: source, load statistics */
} MoeRouting;

/* Check the "routing" spec at create time (files exist, counts match). */
gboolean moe_routing_check (const json_t *spec, const char *path, const MoeAttrs *a,
                            const NpuOpEnv *env, GError **error);
/* Draw / read the routing. @weights_spec: init spec of expertScales (nullable). */
MoeRouting *moe_routing_new (const json_t *spec, const json_t *weights_spec,
                             const json_t *mask_spec, const char *path, const MoeAttrs *a,
                             const NpuOpEnv *env, const NpuOp *op, GError **error);
void moe_routing_free (MoeRouting *r);

/* ---- moe-layout.c ---- */

/* Where every row goes. Indexing: group rank g; its EP rank e = g / tpn and TP index
 * j = g % tpn; EP peers of g are e' * tpn + j. Slot (t, j) of a source: j < K the
 * routed expert of top-k index j, j >= K shared expert j - K. */
typedef struct {
  /* receive side (the rank as an expert rank) */
  guint n_blocks;      /* status entries: W * L (MoE rank) or W (shared-expert rank) */
  guint *blk_count;    /* [n_blocks] rows received per status index i = le * W + src */
  guint *blk_first;    /* [n_blocks] first row of the block in expandX */
  guint rows_own;      /* rows received in the EP all-to-all */
  guint rows;          /* rows_own + the TP peer's rows_own (TP 2) */
  gint32 *triple;      /* [rows_own * 3]: srcEpRank, tokenIndex, topkIndex (K + s for
                          shared expert s) */
  guint *row_slot;     /* [rows_own]: the row's window slot index at this rank
                          (winOffset * maxBS + position), for the window regions */
  /* send side (the rank as a token owner) */
  guint n_slots;       /* bs * (K + sharedExpertNum) */
  gint32 *dst_ep;      /* [n_slots]: EP rank the row goes to, -1 = not sent */
  gint32 *dst_row;     /* [n_slots]: its row in the destination's own rows */
  gint32 *expand_idx;  /* [bs * K]: V1 expandIdx = position in its (src, expert) block */
  guint n_active;      /* tokens taking part (xActiveMask) */
  /* the kernel's send list: (t, j) slots in the order the AIV cores take them */
  guint n_send;        /* routed entries (compacted (t, k) list) */
  guint *send_slot;    /* [n_send] slot index t * (K + S_n) + k, in list order */
  guint n_send_shared; /* shared-expert sends */
  guint *send_shared;  /* [n_send_shared] slot index, virtual-token order */
} MoeRankLayout;

typedef struct {
  guint n;
  MoeRankLayout *r;    /* [n] */
  guint L;             /* local experts of a MoE rank */
  guint slots_per_token; /* K + sharedExpertNum */
  guint64 max_rows;    /* max over ranks of rows */
  guint64 total_rows;  /* sum over ranks of rows_own */
} MoeLayout;

MoeLayout *moe_layout_new (const MoeAttrs *a, const MoeRouting *rt);
/* A3 plans: the window regions of every row are declared to the hazard checker (else
 * per (source, destination) spans and per-token spans; moe-a3-plan.c). Per row up to
 * MOE_DETAIL_ROWS received rows, or as the scenario's "hazardRegions" says. */
#define MOE_DETAIL_ROWS 65536u
static inline gboolean
moe_hazard_per_row (const MoeAttrs *a, const MoeLayout *l)
{
  return a->hazard_regions == 1 || (a->hazard_regions == 0 && l->total_rows <= MOE_DETAIL_ROWS);
}
void moe_layout_free (MoeLayout *l);
/* The tokens of group rank @g that send at least one row (the kernels' active / valid
 * tokens), in token order, into @tok (room for a->bs[g]); returns their count. */
guint moe_layout_active_tokens (const MoeAttrs *a, const MoeLayout *l, guint g, guint *tok);
/* SplitToCore: @total items over @parts cores, the first total % parts get one more;
 * core @i's range is [*@first, *@first + *@count). */
static inline void
moe_split (guint total, guint parts, guint i, guint *first, guint *count)
{
  guint per = total / parts, rem = total % parts;
  *first = per * i + MIN (i, rem);
  *count = per + (i < rem);
}
/* Group rank of EP rank @e in the TP slice of group rank @g. */
static inline guint
moe_peer (const MoeAttrs *a, guint g, guint e)
{
  return e * a->tpn + g % a->tpn;
}
/* Status index of (src EP rank, slot) at the destination, and epRecvCounts values. */
void moe_layout_ep_recv (const MoeAttrs *a, const MoeLayout *l, guint g, gint32 *out,
                         guint *n_out);
void moe_layout_token_nums (const MoeAttrs *a, const MoeLayout *l, guint g, gint64 *out,
                            guint *n_out);
/* The expandIdx / assistInfoForCombine output holds the V1 expandIdx form (BS * K
 * positions on the source): V1, and every A2 kernel (they all take V1's argument). */
static inline gboolean
moe_assist_is_expand_idx (const MoeAttrs *a)
{
  return a->version == 1 || !a->a3;
}
/* A2 hierarchical: the combine's reduce tables that the layered dispatch kernel writes
 * behind the W * L counts of epRecvCounts (@out: that region, 2 * globalBs * K *
 * serverNum int32 long), for group rank @g; moe-layout.c, docs/ops/MoeDistributeDispatch.md. */
void moe_layout_a2_combine_info (const MoeAttrs *a, const MoeLayout *l, const MoeRouting *rt,
                                 guint g, guint8 *out);

/* ---- moe-numerics.c (besides the public kernels of ops/moe.h) ---- */

/* Write row @row of a dispatch output: expandX (quantised or copied), dynamicScales. */
void moe_dispatch_row (const MoeAttrs *a, gconstpointer x_row, const float *smooth,
                       gpointer out_row, float *scale_out);
/* fp32 partial-sum add of the TP 2 combine: returns the sum rounded to @dt (V1 bf16:
 * half away from zero; otherwise RINT; fp16 saturating). */
float moe_tp_add (NpuDtype dt, guint version, float a, float b);

/* Hot-loop conversions, bit-identical to ops/dtype.h (checked by
 * tests/test-moe-numerics.c): bf16 inline, fp16 through dtype.c. */
static inline float
moe_bf16_f32 (guint16 b)
{
  union { guint32 u; float f; } v = { (guint32) b << 16 };
  return v.f;
}

static inline guint16
moe_f32_bf16 (float x)
{
  union { float f; guint32 u; } v = { x };
  guint32 u = v.u;
  if ((u & 0x7fffffffu) > 0x7f800000u)
    return (guint16) ((u >> 16) | 0x0040u);
  return (guint16) ((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

/* @n elements of @dt (FP16/BF16) to floats. */
static inline void
moe_load_row (NpuDtype dt, gconstpointer src, float *dst, guint n)
{
  const guint16 *s = src;
  if (dt == NPU_DT_BF16)
    for (guint i = 0; i < n; i++)
      dst[i] = moe_bf16_f32 (s[i]);
  else
    npu_load_f32_array (dt, src, dst, n);
}

/* Round @n floats to @dt in place (the values stay floats). */
static inline void
moe_round_row (NpuDtype dt, float *v, guint n)
{
  if (dt == NPU_DT_BF16)
    for (guint i = 0; i < n; i++)
      v[i] = moe_bf16_f32 (moe_f32_bf16 (v[i]));
  else
    for (guint i = 0; i < n; i++)
      v[i] = npu_f16_to_f32 (npu_f32_to_f16 (v[i]));
}

/* Store @n floats rounded to @dt (FP16/BF16 bits). */
static inline void
moe_store_row (NpuDtype dt, const float *v, gpointer dst, guint n)
{
  guint16 *d = dst;
  if (dt == NPU_DT_BF16)
    for (guint i = 0; i < n; i++)
      d[i] = moe_f32_bf16 (v[i]);
  else
    npu_convert_f32_array (dt, v, dst, n);
}

/* ---- the op structs ---- */

typedef struct {
  NpuOp base;
  MoeKind kind;
  guint version;
  char *path;
  NpuGraph *graph;         /* for the registry: ops of one run */
  gboolean holds_ports;    /* took a reference on the run's MoePorts */
} MoeOpBase;

/* ---- moe-window.c: the HCCL windows of a communication group ---- */

/* Graph buffers of one half of one rank's windows (hazard checker only: the payload
 * is carried by the tasks' effects, see docs/ops/MoeDistributeDispatch.md "Data").
 * Offsets inside a buffer are offsets inside that half. */
typedef struct {
  guint win;               /* windowsIn of the EP group: half h of HCCL_BUFFSIZE */
  guint state;             /* windowsExp at h * WIN_STATE_OFFSET (status flags) */
  guint tp_win;            /* TP group window (TP 2), same half */
  guint tp_state;
} MoeWindows;

/* The word in the windows that picks a half (dataState / bufferChosen): each kernel
 * reads it in its Init and writes it back flipped, so the ops that share a word take
 * the halves in turn (ops-transformer, first open-source version b122ed222). */
typedef enum {
  MOE_SEL_A3_DISPATCH, /* V2/V3 dispatch: windowsExp + 950 KB (per core) */
  MOE_SEL_A3_COMBINE,  /* V2/V3 combine: windowsExp + 975 KB (per core) */
  MOE_SEL_A3_V1,       /* V1 dispatch and V1 combine: both windowsExp + 900 KB */
  MOE_SEL_A2,          /* A2 dispatch and combine: windowsIn + the data size of half 0 */
  MOE_SEL_A2_LAYERED,  /* A2 hierarchical dispatch and combine: windowsIn + 49 MB + W*512 */
  MOE_N_SEL
} MoeWindowSelector;

/* The windows of the MoE ops of one scenario group in one run: graph data under
 * "moe-window/<group>" (npu_graph_set_data), owned by the graph, made by the group's
 * first dispatch. Every MoE op of the group uses them (so consecutive layers meet in
 * the same buffers and the hazard checker sees a layer that reuses a half too early). */
typedef struct {
  char *group;             /* scenario group name */
  guint n;                 /* group ranks */
  guint64 win_bytes;       /* HCCL_BUFFSIZE (every op of the group must have the same) */
  guint uses[MOE_N_SEL];   /* ops planned per selector word so far */
  MoeWindows *half[2];     /* [2][n] */
  gboolean has_tp;         /* the TP buffers exist */
} MoeWindowGroup;

/* (transfer none) The windows of @op's group (op->attrs "group"), created on first use;
 * an op whose HCCL_BUFFSIZE differs from the group's is a scenario error naming @path. */
MoeWindowGroup *moe_window_group_get (NpuOp *op, const MoeAttrs *a, const NpuOpEnv *env,
                                      const char *path, GError **error);
/* The half the next op of @kind (MOE_KIND_DISPATCH or _COMBINE) takes, as its kernel
 * flips its selector word (moe_window_selector); records it in op->attrs
 * ("windowHalf", "windowSelector", "windowUse"). Call once per op, in scenario order
 * (prepare()). */
guint moe_window_take_half (MoeWindowGroup *w, NpuOp *op, const MoeAttrs *a, MoeKind kind,
                            guint version);
MoeWindowSelector moe_window_selector (const MoeAttrs *a, MoeKind kind, guint version);
/* (transfer none) [n] the buffers of half @half (0 or 1). */
static inline const MoeWindows *
moe_window_half (const MoeWindowGroup *w, guint half)
{
  return w->half[half & 1u];
}

typedef struct {
  MoeOpBase b;
  MoeAttrs a;
  json_t *routing_spec, *weights_spec, *mask_spec;
  json_t *x_init, *scales_init;
  MoeRouting *routing;
  MoeLayout *layout;
  NpuTensor **x, **ids, **escales, **smooth, **mask;         /* inputs [n] */
  NpuTensor **expand_x, **dyn_scales, **assist, **token_nums, **ep_recv, **tp_recv,
            **expand_scales;                                  /* outputs [n] */
  guint *buf_x, *buf_expand, *buf_meta;                       /* graph buffers [n] */
  MoeWindowGroup *wg;      /* (transfer none) the group's windows (owned by the graph) */
  guint half;              /* the window half this dispatch uses */
  NpuTask **done;          /* [n] the last task of the dispatch on each rank */
  guint *server;           /* [n] A2 server (A3 node) of each group rank */
} MoeDispatch;

typedef enum { MOE_EXPERT_IDENTITY, MOE_EXPERT_MATMUL } MoeExpertKind;

typedef struct {
  MoeOpBase b;
  MoeExpertKind ekind;
  MoeDispatch *dispatch;   /* (transfer none) */
  json_t *w_init;
  NpuDtype w_dtype;        /* matmul weights: x dtype, or INT8 for int8 expandX */
  NpuTensor **w, **w_scale, **y;   /* [n] weights (L, H, H), scales (L, H), y (rows, H) */
  guint *buf_y;
  gboolean keep;           /* identity: materialise y (else the combine dequantises
                              expandX where it reads it: same numbers, no tensor) */
  gboolean untimed;        /* no launch, zero-time tasks (an input prepared outside the
                              timed region) */
} MoeExperts;

typedef struct {
  MoeOpBase b;
  MoeDispatch *dispatch;   /* (transfer none) */
  MoeExperts *experts;     /* (transfer none) (nullable): expandX = experts' y */
  guint comm_quant;        /* commQuantMode */
  gboolean shared_x;       /* sharedExpertX input */
  gboolean token_in_order; /* A3 timing: tokens reduced in token order ("tokenOrder":
                              "index", kernels up to CANN 8.5) instead of as they complete */
  guint half;              /* the window half this combine uses */
  json_t *shared_x_init;
  NpuTensor **shx, **out;  /* [n] */
  guint *buf_out;
} MoeCombine;

/* ---- moe-registry.c ---- */
/* The dies' ports (A3: the UB uplink/downlink and the SIO link to the package twin)
 * as first-come-first-served queues, one set per run, shared by the MoE ops: the
 * time each is next free; free[0] ub_tx, [1] ub_rx, [2] sio_tx, [3] sio_rx, indexed
 * by global rank. */
typedef struct {
  guint n;
  NpuTime *free[4];
} MoePorts;
MoePorts *moe_ports_get (NpuGraph *graph, NpuCluster *cluster);  /* takes a reference */
void moe_ports_release (NpuGraph *graph);
void moe_registry_add (MoeOpBase *op);
void moe_registry_remove (MoeOpBase *op);
/* The op named @name of @kind created earlier in the run of @graph, or NULL. */
MoeOpBase *moe_registry_find (NpuGraph *graph, const char *name, MoeKind kind);
/* create() / finalize() of every MoE op: npu_op_init and the base fields, registered
 * for the later ops to find; and the reverse. */
void moe_op_base_init (MoeOpBase *b, const NpuOpClass *klass, MoeKind kind, guint version,
                       const char *path, const NpuOpEnv *env);
void moe_op_base_clear (MoeOpBase *b);
/* For the experts and combine ops at @path: the dispatch named @name (their "dispatch"
 * key) created earlier in the run, or NULL with a scenario error naming @path.dispatch. */
MoeDispatch *moe_find_dispatch (const NpuOpEnv *env, const char *name, const char *path,
                                GError **error);
/* The group of the op being created (env->group_ranks) must be @d's, in the same order
 * (else a scenario error naming @path.group). */
gboolean moe_check_dispatch_group (const MoeDispatch *d, const NpuOpEnv *env, const char *path,
                                   GError **error);

/* ---- plans ---- */
gboolean moe_a3_plan_dispatch (MoeDispatch *d, const NpuOpEnv *env, GError **error);
gboolean moe_a3_plan_combine (MoeCombine *c, const NpuOpEnv *env, GError **error);
gboolean moe_a2_plan_dispatch (MoeDispatch *d, const NpuOpEnv *env, GError **error);
gboolean moe_a2_plan_combine (MoeCombine *c, const NpuOpEnv *env, GError **error);
gboolean moe_plan_experts (MoeExperts *x, const NpuOpEnv *env, GError **error);

/* Shared by the plans: the data effects of the dispatch copy-out and the combine
 * reduce (moe-dispatch.c / moe-combine.c). */
typedef struct {
  MoeDispatch *d;
  guint g;                 /* receiving group rank */
  guint first, count;      /* own rows [first, first + count) */
  gboolean peer;           /* the TP peer's rows (appended after rows_own) */
} MoeCopyJob;
gboolean moe_dispatch_copy_effect (gpointer data, GError **error);
gboolean moe_dispatch_meta_effect (gpointer data, GError **error);  /* MoeCopyJob, g only */

typedef struct {
  MoeCombine *c;
  guint g;                 /* source group rank (the token owner) */
  guint t;                 /* token */
} MoeReduceJob;
gboolean moe_combine_reduce_effect (gpointer data, GError **error);
/* The combine's expandX row @row of group rank @g as floats rounded to x dtype, after
 * the TP partial-sum add and the commQuantMode round trip; @tmp has room for h floats. */
void moe_combine_row (MoeCombine *c, guint g, guint row, float *out, float *tmp);
/* The combine's start on group rank @g (npu_op_begin with the kernel launch), after the
 * op whose rows it reads there: its experts op, or else its dispatch. */
NpuTask *moe_combine_begin (MoeCombine *c, const NpuOpEnv *env, guint g);

/* Time helpers of the A3 and A2 plans (NpuHw fields only; moe-cost.c): one vector instruction
 * over @bytes (its widest operand) = cost.vector_instr_us + bytes / vector_bytes_per_cycle;
 * an instruction of @repeats repeats that each need the previous one's result; a DMA
 * GM->UB (latency + bytes at the core's L2 read rate, or at the DDR rate ini ddr_rate
 * for reads that bypass L2) and UB->GM (latency + bytes at the L2 write rate); the
 * _stream variants are DMAs queued behind another in the same pipe (latency hidden). */
NpuTime moe_vec (const NpuHw *hw, guint64 bytes);
NpuTime moe_vec_chain (const NpuHw *hw, guint64 repeats);
NpuTime moe_dma_in (const NpuHw *hw, guint64 bytes, gboolean l2);
NpuTime moe_dma_in_stream (const NpuHw *hw, guint64 bytes, gboolean l2);
NpuTime moe_dma_out (const NpuHw *hw, guint64 bytes);
NpuTime moe_dma_out_stream (const NpuHw *hw, guint64 bytes);
/* Share of a UB link's capacity that the MoE AIV writes sustain
 * (link.ub_aiv_write_efficiency; 0 means 1, the line rate). The A3 plans multiply each
 * die's current ub_tx / ub_rx fabric capacity by it. */
double moe_ub_efficiency (const NpuHw *hw);

/* Generic models/cost.h vector time (the MoeExperts op). */
NpuTime moe_cost_stages (const NpuHw *hw, guint stages, guint64 elems, guint elem_bytes,
                         guint64 gm_bytes);
double moe_core_write_Bps (const NpuHw *hw);
NpuTime moe_path_latency (NpuCluster *cl, const guint *links, guint n_links);

G_END_DECLS
