/* npusim — internals of the MatMul / QuantMatMul scenario ops (ops/matmul-*.c). */
#pragma once
#include "ops/matmul.h"
#include "ops/matmul-common.h"

G_BEGIN_DECLS

#define MM_M0 128
#define MM_N0 256

typedef struct {
  NpuOp base;
  char *path;
  gboolean quant;
  NpuDtype in_dt, out_dt;
  gint64 m, k, n;
  gboolean trans_b, per_token, x2s_int64, fixpipe;
  guint round_mode;
  json_t *inputs;
  guint n_ranks;
  guint n_aic;             /* AIC cores per die */
  /* per group rank */
  NpuTensor **x1, **x2, **x1s, **x2s, **out;
} MmOp;

gboolean mm_plan (MmOp *mm, const NpuOpEnv *env, GError **error);

G_END_DECLS
