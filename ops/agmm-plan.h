/* npusim — AllGatherMatmulV2 planning internals shared by agmm-plan.c (the AIV step
 * loop, barriers and cross-rank flags), agmm-move.c (padding, pushes into the peers'
 * windows, unpacking into gatherOut, the per-token scale all-gather) and
 * agmm-compute.c (AIC tiles and the AIV dequant epilogue). */
#pragma once
#include "ops/agmm-private.h"
#include "models/cost.h"

G_BEGIN_DECLS

/* Host memory and graph buffers of one rank. The window is laid out like the kernel's
 * windowsIn ([slot 0..1][source rank 0..W-1][rows][k_align], then the per-token scale
 * area at the start of slot 1), with regions of min(m0·pValue, m) rows instead of
 * m0·pValue (the rows a step can hold), so small runs hold small windows. */
typedef struct {
  guint rank;                 /* global rank */
  guint8 *window, *apad, *bpad, *scratch;
  gint32 *acc;
  float *scale_ws;            /* gathered x1Scale, W·m floats */
  guint b_window, b_x1, b_apad, b_bpad, b_acc, b_scale_ws, b_gout, b_out_tiles, b_x1s;
  /* AIV program order: the last task of each core since the last barrier. */
  NpuTask **aiv_last;
  gboolean *dirty;
  NpuTask *barrier;
  NpuTask *begin;
  NpuTask **aic_done;         /* [cal_count] all tiles (and write-outs) of a step */
  NpuTask **push;             /* [cal_count * W] push to peer p at step s */
  NpuTask *flag_set;          /* this phase's "set my own flag" (CrossRankSyncV1) */
  NpuTask **flag_add;         /* [W] this phase's "add 1 to peer p's flag" (V2) */
  NpuTask *reset;             /* end: flags reset */
} AgmmRank;

struct _AgmmPlan {
  AgmmOp *a;
  NpuOp *op;
  const NpuOpEnv *env;
  const NpuHw *hw;
  NpuCluster *cl;
  guint W;
  gsize es;                   /* input element size */
  guint n_aic, n_aiv;
  gint64 region_rows;         /* rows of one window region */
  gint64 a_stride;            /* row stride of the local A source (x1 or padded A) */
  gboolean data;
  gboolean flows;             /* trace level all: arrows from pushes to their uses */
  AgmmRank *r;
};

/* agmm-plan.c */
NpuTask *agmm_aiv_task (AgmmPlan *pl, guint g, guint core, const char *name, NpuTaskClass cls);
void agmm_barrier (AgmmPlan *pl, guint g, NpuTask *extra);
/** Mark @t as the latest work of AIV @core of rank @g (a task not held on the core). */
void agmm_aiv_after (AgmmPlan *pl, guint g, guint core, NpuTask *t);
guint64 agmm_window_slot_offset (const AgmmPlan *pl, guint slot, guint src);
/** A tiny remote / local GM write (flags): 4 bytes over the path, link latency only. */
void agmm_set_small_flow (AgmmPlan *pl, NpuTask *t, guint from_g, guint to_g, guint64 bytes);
/** A copy's pipeline fill: the first UB piece (ubMoveNum / 2 elements, at most @bytes)
 *  read at the core's MTE2 rate. */
NpuTime agmm_fill_ps (const AgmmPlan *pl, guint64 bytes);

/* agmm-move.c */
void agmm_plan_padding (AgmmPlan *pl, guint g);
void agmm_plan_push (AgmmPlan *pl, guint g, guint s);
void agmm_plan_unpack (AgmmPlan *pl, guint g, guint s);
/** The per-token scale all-gather: @phase 0 own copy (then the V1 flag set by the
 *  caller), 1 reads from every peer's window. */
void agmm_plan_scale_copy (AgmmPlan *pl, guint g, guint phase);

/* agmm-compute.c */
void agmm_plan_tiles (AgmmPlan *pl, guint g, guint s);
void agmm_plan_dequant (AgmmPlan *pl, guint g, guint s);

G_END_DECLS
