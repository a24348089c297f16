/* npusim — QuantMatmulAllReduceV3 internals shared by ops/qmmar-*.c (not installed). */
#pragma once
#include "ops/qmmar.h"
#include "ops/hccl.h"
#include <string.h>

G_BEGIN_DECLS

/* The op's tensors, in the order of the aclnn signature (output last). */
typedef enum {
  QT_X1, QT_X2, QT_BIAS, QT_X3, QT_DEQ, QT_PTS, QT_CQ1, QT_CQ2, QT_OUT, QT_N
} QmmarTensorId;

extern const char *const qmmar_tensor_names[QT_N];

/* One tensor argument as the aclnn API sees it. */
typedef struct {
  gboolean present;     /* FALSE: a nullptr (JSON null, or an optional key left out) */
  NpuDtype dtype;
  guint ndim;
  gint64 shape[NPU_MAX_DIMS]; /* the view shape ((k, n) for x2, whatever its layout) */
  gboolean nz;          /* x2: FRACTAL_NZ storage (4-D) */
  gboolean transpose;   /* x2: stored as (n, k) */
  json_t *init;         /* (nullable) inputs.<name>: init spec or {"from": ...} */
} QmmarDesc;

/* How the int32 accumulator becomes the output dtype (REFERENCE 2.1):
 *  FIXPIPE:  fp16 output, INT64/UINT64 scale, no pertoken: AIC fixpipe dequant;
 *  PERTOKEN: pertokenScale given: AIV AscendDequant, x pertoken, cast;
 *  BF16:     bf16 output without pertoken: AIV AscendDequant, cast. */
typedef enum { QE_FIXPIPE, QE_PERTOKEN, QE_BF16 } QmmarEpilogue;

/* Inputs of the host tiling's M cut. */
typedef struct {
  guint64 m, n, k;
  guint rank_dim, aic_count;
  gboolean l2_b4;       /* 96 MiB L2: the 910B4 branch of the tiling */
  guint out_size;       /* output bytes per element */
} QmmarShape;

/* The cut: tile_cnt tiles of tile_m rows, then tail_cnt tiles of tail_m rows. */
typedef struct {
  guint64 tile_m, tile_cnt, tail_m, tail_cnt;
  gboolean short_at_back;
} QmmarCut;

/** qmmar_formulaic_cut: the M cut of the real host tiling (ops/qmmar-tiling.c). */
void qmmar_formulaic_cut (const QmmarShape *s, gboolean comm_quant, QmmarCut *cut);

typedef struct {
  gint64 row0, rows;    /* output rows of the tile */
  gint64 pad_rows;      /* rows rounded up to a multiple of the rank count (int8 comm) */
  guint64 pad_off;      /* byte offset of the tile in the int8 comm buffers */
} QmmarTile;

/* The accumulator is kept in column panels of QMMAR_PANEL columns (m x QMMAR_PANEL
 * int32 each), so every cube block writes one contiguous region. */
#define QMMAR_PANEL 256
#define QMMAR_BLOCK_M 128

/* Host data of one rank, for the numerics (NULL pointers for absent tensors). */
typedef struct {
  QmmarEpilogue epi;
  NpuDtype out_dt, deq_dt;
  gint64 m, n, k;
  gboolean deq_per_tensor;
  const gint32 *acc;       /* panel layout */
  const gint32 *bias;
  gconstpointer deq;
  const float *pertoken;
  const guint16 *x3;
  const guint16 *cq1, *cq2;
  guint16 *out;
} QmmarData;

/* ---- ops/qmmar-numerics.c: REFERENCE 2.1 step by step ---- */
/** Output rows [r0, r1): accumulator (+ bias) -> dequant (-> x pertoken) -> dtype. */
void qmmar_num_epilogue (const QmmarData *d, gint64 r0, gint64 r1);
/** Output rows [r0, r1) += x3 (bf16: fp32 add + RINT; fp16: half add). */
void qmmar_num_add_x3 (const QmmarData *d, gint64 r0, gint64 r1);
/** Quantise output rows [row0 + r0, row0 + r1) by commQuantScale1 into @q (rows of
 *  the tile, n int8 each; row r of the tile at q + r * n). */
void qmmar_num_quantize (const QmmarData *d, gint64 row0, gint64 r0, gint64 r1, gint8 *q);
/** ReduceSum on a received tile @t (W chunks of @chunk rows): for chunk rows
 *  [r0, r1) sum the W chunks in rank order, x s1/s2, to int8 into chunk @g. */
void qmmar_num_reduce_sum (const QmmarData *d, gint8 *t, gint64 chunk, guint w, guint g,
                           gint64 r0, gint64 r1);
/** Dequantise tile rows [r0, r1) of the gathered tile @t into output rows row0 + r. */
void qmmar_num_dequant (const QmmarData *d, const gint8 *t, gint64 row0, gint64 r0, gint64 r1);
/** Round a double to fp16 bits once (nearest even), saturating at ±65504. */
guint16 qmmar_f64_to_f16 (double x);

/* ---- ops/qmmar-params.c ---- */
typedef struct _QmmarOp QmmarOp;
/** Parse the scenario keys into @q and check them as aclnn + the host tiling do. */
gboolean qmmar_parse (QmmarOp *q, const json_t *spec, const char *path, const NpuOpEnv *env,
                      GError **error);

/* ---- per rank ---- */
typedef struct {
  NpuTensor *t[QT_N];       /* (nullable) references held by base.tensors */
  guint buf[QT_N];          /* graph buffer ids */
  gint32 *acc;              /* int32 accumulator panels (data mode) */
  guint buf_acc;
  gint8 *x2nd;              /* x2 as a k x n ND matrix when it is FRACTAL_NZ */
  guint buf_x2nd;
  gint8 *win, *tmp;         /* int8 comm: quantised tiles (HCCL window), received tiles */
  guint buf_win, buf_tmp;
  NpuTask **aic_last, **aiv_last; /* program order per core */
  NpuTask *begin;
  QmmarData data;           /* pointers into the above, for the numerics */
} QmmarRank;

struct _QmmarOp {
  NpuOp base;
  char *path;
  QmmarDesc d[QT_N];
  char *reduce_op;
  gint64 comm_turn, stream_mode;
  guint64 tile_rows;        /* what-if override of the cut (0: formulaic) */
  /* derived at create */
  gint64 m, k, n;
  NpuDtype out_dt;
  QmmarEpilogue epi;
  gboolean comm_quant;
  gboolean deq_per_tensor;
  gboolean comm_in_window;  /* int8 comm: quantised tiles in the HCCL window (else the
                               workspace, AlltoAll in place) */
  QmmarCut cut;
  guint n_tiles;
  QmmarTile *tiles;
  guint64 pad_total;        /* bytes of the int8 comm buffers */
  guint64 ccl_bytes;
  QmmarRank *r;             /* [n_ranks] */
  NpuHcclEmbed *embed;
};

/* ---- ops/qmmar-plan.c ---- */
gboolean qmmar_plan (NpuOp *op, const NpuOpEnv *env, GError **error);

G_END_DECLS
