/* npusim — DistributeBarrierV2 internals shared by ops/barrier-*.c. */
#pragma once
#include "ops/barrier-op.h"
#include "models/cost.h"

G_BEGIN_DECLS

typedef enum { BT_X, BT_TIMEOUT, BT_ELASTIC, BT_N } BarrierTensorId;
extern const char *const barrier_tensor_names[BT_N];

typedef struct {
  gboolean present;
  gboolean from;          /* xRef comes from another op: dtype/shape known at prepare */
  NpuDtype dt;
  guint ndim;
  gint64 shape[NPU_MAX_DIMS + 1];
} BarrierDesc;

typedef struct _BarrierDomain BarrierDomain;

typedef struct {
  NpuOp base;
  char *path;
  guint n;                 /* group size */
  gint64 world;            /* worldSize */
  gboolean has_timeout;
  gint64 timeout_us;
  BarrierDesc desc[BT_N];
  json_t *init[BT_N];
  NpuTensor **t[BT_N];     /* [BT_N][n] */
  BarrierDomain *domain;   /* (transfer none) the group's windows, graph data (barrier-plan.c) */
  /* timeout bookkeeping, per group rank */
  NpuTask **t0_task;       /* AIV 0's InitStatus: TimeOutTest starts when it ends */
  NpuTask **poll_task;     /* AIV 0's poll of the finish flags */
  guint *half;             /* window half of this call */
} BarrierOp;

/* ---- barrier-plan.c ---- */
gboolean barrier_plan (NpuOp *op, const NpuOpEnv *env, GError **error);
/** Cores the kernel uses: AIV 1..aiv-1 split the ranks (SplitToCore). */
void barrier_split (guint world, guint aiv_num, guint core, guint *start, guint *count);

G_END_DECLS
