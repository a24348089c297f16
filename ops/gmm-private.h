/* npusim — GroupedMatMulAlltoAllv internals shared by ops/gmm-*.c (not for other
 * modules): the operator struct, the tensor table, the per-expert AlltoAllV. */
#pragma once
#include "ops/gmm-op.h"
#include "ops/gmm-tiling.h"
#include "models/cost.h"

G_BEGIN_DECLS

/* The aclnn tensors, in the API's parameter order. */
typedef enum {
  GT_GMM_X, GT_GMM_W, GT_SEND_T, GT_RECV_T, GT_MM_X, GT_MM_W, GT_Y, GT_MM_Y, GT_N
} GmmTensorId;

extern const char *const gmm_tensor_names[GT_N];

/* What the API is handed for one tensor: a null pointer, or dtype and shape. */
typedef struct {
  gboolean present;
  NpuDtype dt;
  guint ndim;
  gint64 shape[NPU_MAX_DIMS];
} GmmDesc;

typedef struct {
  NpuOp base;
  char *path;               /* "ops[i]" */
  const char *group_name;   /* (nullable) for messages */
  NpuDtype dtype;
  guint n;                  /* group size */
  gint64 ep_world;          /* epWorldSize */
  gint64 e, h1, n1;
  gboolean shared;
  gint64 bs, h2, n2;
  gboolean trans_w, trans_mm;
  /* sendCounts / recvCounts per group rank (NULL array = null pointer) */
  gint64 **send, **recv;
  guint *send_len, *recv_len;
  GmmDesc (*desc)[GT_N];    /* [n][GT_N] */
  json_t *init[GT_N];       /* (nullable) inputs.<name> */
  /* tiling */
  NpuGmmBase *gbase_r;      /* [n] routed experts (baseM depends on the rank's A) */
  NpuGmmBase sbase;         /* shared expert */
  /* per group rank, from prepare() */
  NpuTensor **t[GT_N];      /* [GT_N][n] (references held by base.tensors) */
  guint8 **gmm_out;         /* [n] workspace gmmY (data mode) */
  guint8 **ccl;             /* [n] CCL-in of the AlltoAllV (data mode; ops/gmm-a2av.c) */
  guint64 *rows;            /* [n] A of each rank */
  guint64 **expert_row0;    /* [n][e + 1] first gmmX row of each expert group */
} GmmOp;

/* ---- gmm-op.c ---- */
/** Rows rank @g sends from expert @j to group rank @r. */
static inline gint64
gmm_send (const GmmOp *op, guint g, guint r, guint j)
{
  return op->send[g][(gsize) r * op->e + j];
}
static inline gint64
gmm_recv (const GmmOp *op, guint g, guint r, guint j)
{
  return op->recv[g][(gsize) r * op->e + j];
}

/* ---- gmm-plan.c ---- */
gboolean gmm_plan (NpuOp *op, const NpuOpEnv *env, GError **error);

/* ---- gmm-a2av.c: the AlltoAllV of one expert, issued by HCCL's AICPU server ---- */
typedef struct _GmmComm GmmComm;

/** Per-rank graph buffers / host memory the AlltoAllV reads and writes. */
typedef struct {
  guint tiles_buf;          /* graph buffer of the tile space: one byte per cube block
                               of the gmmY workspace (what the blocks write) */
  guint y_buf;              /* graph buffer of y */
} GmmCommBuffers;

GmmComm *gmm_comm_new (GmmOp *op, const NpuOpEnv *env, const GmmCommBuffers *bufs,
                       GError **error);
void gmm_comm_free (GmmComm *c);
guint64 gmm_comm_ccl_bytes (const GmmOp *op, guint64 buffer_limit);
/**
 * gmm_comm_expert: the AlltoAllV of expert @j on every rank: its AICPU takes it up
 * after @commit[g]; [@tiles_lo[g], @tiles_hi[g]) is the expert's range of rank g's
 * tile space (the copies of its rows read it: the cube blocks that wrote them must
 * have ended); @done[g] (out) ends when every task of it on g has ended.
 */
void gmm_comm_expert (GmmComm *c, guint j, NpuTask *const *commit, const guint64 *tiles_lo,
                      const guint64 *tiles_hi, NpuTask **done);

G_END_DECLS
