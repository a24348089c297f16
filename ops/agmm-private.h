/* npusim — internals of AllGatherMatmulV2 (ops/agmm-*.c): the operator struct, the
 * declared tensors of the aclnn call, the CoC tiling, and the planning entry points.
 * Not for other modules. */
#pragma once
#include "ops/agmm.h"
#include "ops/matmul-common.h"

G_BEGIN_DECLS

/* A tensor argument of the aclnn call as the scenario declares it: absent (nullptr)
 * or present with a dtype name (possibly one npusim has no storage type for, such as
 * "hifloat8": it can still be rejected as the API does), a shape, and for x1/x2
 * whether it is a transposed view. */
typedef struct {
  gboolean present;
  char *dtype_name;
  gboolean dtype_known;   /* dtype_name names an NpuDtype */
  NpuDtype dtype;
  guint ndim;
  gint64 shape[4];
  gboolean transposed;
} AgmmDecl;

/* The "CoC" tiling of the A2/A3 aiv-mode kernel (REFERENCE.md §1.2,
 * op_host/op_tiling/arch22/all_gather_matmul_aiv_mode_tiling.cpp). */
typedef struct {
  gint m0, n0, k0;
  gint p_value;
  gint ub_move_num;       /* elements */
  gint comm_data_split, comm_npu_split, comm_direct;
  gint swizzl_count, swizzl_direct;
  gint len_per_loop;      /* ub_move_num * comm_data_split */
  gint m_loop, n_loop, k_loop;
  const char *source;     /* which default configuration (or "scenario") */
} AgmmTiling;

typedef struct _AgmmPlan AgmmPlan;

typedef struct {
  NpuOp base;
  char *path;             /* "ops[i]" */
  /* ---- parameters as declared ---- */
  AgmmDecl x1, x2, bias, x1s, x2s, qs, out, gout, amax;
  char *comm_mode;        /* NULL = nullptr */
  gint64 stream_mode, gather_index, comm_turn, group_size, block_size;
  guint round_mode;       /* TransQuantParam round mode for generated INT64 scales */
  json_t *inputs;         /* (nullable) init specs by tensor name */
  json_t *tiling_set;     /* (nullable) "tiling" overrides */
  /* ---- resolved by agmm_check ---- */
  guint W;
  guint n_aic;            /* AIC cores per die (blocks of the kernel) */
  gboolean a3;
  gint64 m, k, n;
  NpuDtype in_dt, out_dt;
  gboolean quant;         /* int8 x int8 */
  gboolean per_token;     /* x1Scale given */
  gboolean x2s_int64;     /* INT64 packed x2Scale */
  gboolean fixpipe;       /* int8 + INT64 scale + fp16: the AIC dequantises */
  gboolean aiv_per_channel; /* the AIV epilogue multiplies by x2Scale */
  gboolean trans_b;
  gboolean gather_out;
  AgmmTiling t;
  gint64 k_align, n_align;  /* K and N aligned to 512 bytes of the input dtype */
  gboolean pad_a, pad_b;    /* the AIV pads A / B into the workspace first */
  guint cal_count;          /* communication steps */
  gboolean acc_pingpong;    /* int32 workspace holds 2 steps instead of all of M */
  /* ---- tensors, per group rank (references held by base.tensors) ---- */
  NpuTensor **x1t, **x2t, **x1st, **x2st, **outt, **goutt;
  guint64 seed;
} AgmmOp;

/* agmm-check.c: every aclnn / tiling rule; fills the resolved fields (not the tiling). */
gboolean agmm_check (AgmmOp *a, const NpuOpEnv *env, GError **error);

/* agmm-tiling.c */
/** The kernel's default CoC configuration for (product, rank count, quant), decoded. */
void agmm_tiling_default (gboolean a3, guint ranks, gboolean quant, AgmmTiling *t);
/** Loops for (m, k, n) and the window-size clamp of pValue (DealTilingParamByBuffSize). */
void agmm_tiling_finish (AgmmTiling *t, gint64 m, gint64 k, gint64 n, guint ranks);
/** Apply the scenario's "tiling" object (validated keys) before agmm_tiling_finish. */
gboolean agmm_tiling_override (AgmmTiling *t, const json_t *obj, const char *path,
                               GError **error);
/** Rows of communication step @s (the last one may be short). */
gint64 agmm_step_rows (const AgmmOp *a, guint s);

/* agmm-plan.c */
gboolean agmm_plan (AgmmOp *a, const NpuOpEnv *env, GError **error);
guint64 agmm_host_bytes (const AgmmOp *a);

G_END_DECLS
