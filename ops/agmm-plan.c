/* npusim — AllGatherMatmulV2 plan: the AIV step loop of the aiv-mode kernel
 * (all_gather_matmul_aiv_mode.h Process(), ../shared/REFERENCE.md §1.2):
 *
 *   padding (if A or B is not 512-byte aligned); flags cleared; then for
 *   cal_idx = 0 .. calCount + 1 (pipeline depth 2):
 *     [cal_idx == 1: all-gather of the per-token x1Scale through the windows]
 *     [cal_idx >= 2: wait for the AIC "step cal_idx - 2 done" event]   barrier
 *     CrossRankSyncV1 (flag 0): my block sets my flag, block b polls peer b's flag
 *       == cal_idx + 1, i.e. b has reached this step and its slot is free; barrier
 *     AIV0 of the pushing blocks: chunk cal_idx of x1 into every peer's window slot
 *       (cal_idx % 2); AIV1 of the unpacking blocks: chunk cal_idx - 1 of every rank
 *       from my window into gatherOut; all AIVs: dequant of step cal_idx - 2; barrier
 *     CrossRankSyncV2 (flag 1): block b adds 1 to peer b's flag, my block polls my
 *       flag == W·(cal_idx + 1) (every peer has written into my slot); barrier;
 *       SetAicSync: the AIC cores compute step cal_idx
 *   flags reset; AIV1 of block b polls peer b's reset; SyncAll.
 *
 * A barrier (SetAndWaitAivSync, FFTS cross-core flags) is a zero-time join of the
 * rank's AIV cores (no public cost; it is hardware signalling). A flag set / add is a
 * 4-byte write over the path to the flag's owner (its link latency); a poll that
 * succeeds costs cost.flag_poll_us on the polling AIV after the write it waits for.
 * Tasks are created phase by phase over all ranks, in the kernel's program order, so
 * the hazard checker sees program order across ranks. */
#include "ops/agmm-plan.h"
#include <string.h>

/* ---- helpers shared by the plan files ---- */

NpuTask *
agmm_aiv_task (AgmmPlan *pl, guint g, guint core, const char *name, NpuTaskClass cls)
{
  AgmmRank *r = &pl->r[g];
  g_assert (core < pl->n_aiv);
  NpuTask *t = npu_op_task_new (pl->op, pl->env, g, name, cls, NPU_TRACK_AIV, core);
  npu_task_set_server (t, npu_cluster_aiv (pl->cl, r->rank, core));
  npu_task_depends_on (t, r->aiv_last[core]);
  r->aiv_last[core] = t;
  r->dirty[core] = TRUE;
  return t;
}

void
agmm_aiv_after (AgmmPlan *pl, guint g, guint core, NpuTask *t)
{
  AgmmRank *r = &pl->r[g];
  r->aiv_last[core] = t;
  r->dirty[core] = TRUE;
}

void
agmm_barrier (AgmmPlan *pl, guint g, NpuTask *extra)
{
  AgmmRank *r = &pl->r[g];
  NpuTask *j = npu_graph_task_new (pl->env->graph, "AIV sync");
  npu_task_set_hidden (j);
  npu_task_depends_on (j, r->barrier);
  for (guint c = 0; c < pl->n_aiv; c++)
    if (r->dirty[c])
      {
        npu_task_depends_on (j, r->aiv_last[c]);
        r->dirty[c] = FALSE;
      }
  if (extra != NULL)
    npu_task_depends_on (j, extra);
  for (guint c = 0; c < pl->n_aiv; c++)
    r->aiv_last[c] = j;
  r->barrier = j;
}

guint64
agmm_window_slot_offset (const AgmmPlan *pl, guint slot, guint src)
{
  return ((guint64) slot * pl->W + src) * (guint64) pl->region_rows
         * (guint64) pl->a->k_align * pl->es;
}

void
agmm_set_small_flow (AgmmPlan *pl, NpuTask *t, guint from_g, guint to_g, guint64 bytes)
{
  guint links[NPU_MAX_PATH];
  guint n = npu_cluster_path (pl->cl, pl->r[from_g].rank, pl->r[to_g].rank, links);
  npu_task_set_flow (t, links, n, bytes, npu_cost_core_mte_Bps (pl->hw));
}

NpuTime
agmm_fill_ps (const AgmmPlan *pl, guint64 bytes)
{
  guint64 piece = MIN ((guint64) pl->a->t.ub_move_num / 2 * pl->es, bytes);
  guint64 per = pl->hw->mte2_bytes_per_cycle;
  return npu_cost_cycles_to_ps (pl->hw, (piece + per - 1) / per);
}

/* ---- flags ---- */

/* CrossRankSyncV1: my block sets my own flag; AIV0 of block b waits for peer b's. */
static void
sync_v1_set (AgmmPlan *pl, guint g, const char *what)
{
  g_autofree char *name = g_strdup_printf ("set %s", what);
  NpuTask *t = agmm_aiv_task (pl, g, 2 * g, name, NPU_TASK_COMM);
  agmm_set_small_flow (pl, t, g, g, sizeof (gint32));
  pl->r[g].flag_set = t;
}

static void
sync_v1_wait (AgmmPlan *pl, guint g, const char *what)
{
  for (guint b = 0; b < pl->W; b++)
    if (b != g)
      {
        g_autofree char *name = g_strdup_printf ("poll %s of r%u", what, pl->r[b].rank);
        NpuTask *t = agmm_aiv_task (pl, g, 2 * b, name, NPU_TASK_COMM);
        npu_task_set_duration (t, pl->hw->flag_poll_ps);
        npu_task_depends_on (t, pl->r[b].flag_set);
      }
  agmm_barrier (pl, g, NULL);
}

/* CrossRankSyncV2: AIV0 of block b adds 1 to peer b's flag; my block waits for all. */
static void
sync_v2_add (AgmmPlan *pl, guint g, const char *what)
{
  for (guint b = 0; b < pl->W; b++)
    {
      g_autofree char *name = g_strdup_printf ("add %s of r%u", what, pl->r[b].rank);
      NpuTask *t = agmm_aiv_task (pl, g, 2 * b, name, NPU_TASK_COMM);
      agmm_set_small_flow (pl, t, g, b, sizeof (gint32));
      pl->r[g].flag_add[b] = t;
    }
}

static void
sync_v2_wait (AgmmPlan *pl, guint g, const char *what)
{
  g_autofree char *name = g_strdup_printf ("poll %s", what);
  NpuTask *t = agmm_aiv_task (pl, g, 2 * g, name, NPU_TASK_COMM);
  npu_task_set_duration (t, pl->hw->flag_poll_ps);
  for (guint q = 0; q < pl->W; q++)
    npu_task_depends_on (t, pl->r[q].flag_add[g]);
  agmm_barrier (pl, g, NULL);
}

/* ---- memory ---- */

static guint64
window_bytes (const AgmmOp *a, gint64 region_rows)
{
  gsize es = npu_dtype_size (a->in_dt);
  guint64 slot = (guint64) a->W * region_rows * a->k_align * es;
  guint64 need = 2 * slot;
  if (a->per_token)
    need = MAX (need, slot + (guint64) a->W * a->m * sizeof (float));
  return need;
}

static gint64
region_rows_of (const AgmmOp *a)
{
  return MIN ((gint64) a->t.m0 * a->t.p_value, a->m);
}

static guint64
acc_elems (const AgmmOp *a)
{
  if (!a->quant || a->fixpipe)
    return 0;
  return a->acc_pingpong ? (guint64) 2 * a->W * a->t.m0 * a->t.p_value * a->n
                         : (guint64) a->W * a->m * a->n;
}

static guint64
workspace_bytes (const AgmmOp *a, guint n_aic)
{
  gsize es = npu_dtype_size (a->in_dt);
  guint64 b = window_bytes (a, region_rows_of (a));
  if (a->pad_a)
    b += (guint64) a->m * a->k_align * es;
  if (a->pad_b)
    b += (guint64) (a->trans_b ? a->n * a->k_align : a->k * a->n_align) * es;
  b += acc_elems (a) * sizeof (gint32);
  if (a->per_token)
    b += (guint64) a->W * a->m * sizeof (float);
  if (!a->quant || a->fixpipe)
    b += (guint64) n_aic * a->t.m0 * a->t.n0 * 4;
  return b;
}

guint64
agmm_host_bytes (const AgmmOp *a)
{
  gsize es = npu_dtype_size (a->in_dt), os = npu_dtype_size (a->out_dt);
  guint64 per = (guint64) a->m * a->k * es + (guint64) a->k * a->n * es
                + (guint64) a->W * a->m * a->n * os + (guint64) a->m * 4 + (guint64) a->n * 8;
  if (a->gather_out)
    per += (guint64) a->W * a->m * a->k * es;
  return a->W * (per + workspace_bytes (a, a->n_aic));
}

static gpointer
owned_alloc (AgmmPlan *pl, guint64 bytes, GError **error)
{
  gpointer p = g_try_malloc0 (MAX (bytes, 1));
  if (p == NULL)
    {
      g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                   "%s: cannot allocate %" G_GUINT64_FORMAT " bytes of workspace", pl->a->path,
                   bytes);
      return NULL;
    }
  g_ptr_array_add (pl->op->owned, p);
  return p;
}

static guint
add_buffer (AgmmPlan *pl, guint g, const char *what, guint64 size)
{
  g_autofree char *name = g_strdup_printf ("r%u.%s.%s", pl->r[g].rank, pl->op->name, what);
  return npu_graph_add_buffer (pl->env->graph, name, MAX (size, 1));
}

static gboolean
rank_init (AgmmPlan *pl, guint g, GError **error)
{
  AgmmOp *a = pl->a;
  AgmmRank *r = &pl->r[g];
  r->rank = npu_op_rank_of (pl->op, g);
  gsize es = pl->es, os = npu_dtype_size (a->out_dt);
  guint64 win = window_bytes (a, pl->region_rows);
  guint64 apad = a->pad_a ? (guint64) a->m * a->k_align * es : 0;
  guint64 bpad = a->pad_b ? (guint64) (a->trans_b ? a->n * a->k_align : a->k * a->n_align) * es
                          : 0;
  guint64 acc = acc_elems (a) * sizeof (gint32);
  guint64 boxes = (guint64) a->cal_count * a->W * a->t.p_value * a->t.n_loop;
  guint64 box_bytes = (guint64) a->t.m0 * a->t.n0;
  r->b_window = add_buffer (pl, g, "window", win);
  r->b_x1 = add_buffer (pl, g, "x1", (guint64) a->m * a->k * es);
  r->b_apad = add_buffer (pl, g, "x1.padded", apad);
  r->b_bpad = add_buffer (pl, g, "x2.padded", bpad);
  r->b_acc = add_buffer (pl, g, "accumulator(tiles)",
                         (a->acc_pingpong ? 2 * a->W * a->t.p_value * a->t.n_loop : boxes)
                         * box_bytes * sizeof (gint32));
  r->b_scale_ws = add_buffer (pl, g, "x1Scale.gathered", (guint64) a->W * a->m * 4);
  r->b_x1s = add_buffer (pl, g, "x1Scale", (guint64) a->m * 4);
  r->b_gout = add_buffer (pl, g, "gatherOut", (guint64) a->W * a->m * a->k * es);
  r->b_out_tiles = add_buffer (pl, g, "output(tiles)", boxes * box_bytes * os);
  if (pl->data)
    {
      if ((r->window = owned_alloc (pl, win, error)) == NULL
          || (a->pad_a && (r->apad = owned_alloc (pl, apad, error)) == NULL)
          || (a->pad_b && (r->bpad = owned_alloc (pl, bpad, error)) == NULL)
          || (acc > 0 && (r->acc = owned_alloc (pl, acc, error)) == NULL)
          || (a->per_token
              && (r->scale_ws = owned_alloc (pl, (guint64) a->W * a->m * 4, error)) == NULL)
          || ((!a->quant || a->fixpipe)
              && (r->scratch = owned_alloc (pl, (guint64) pl->n_aic * box_bytes * 4, error))
                 == NULL))
        return FALSE;
    }
  r->aiv_last = g_new0 (NpuTask *, pl->n_aiv);
  r->dirty = g_new0 (gboolean, pl->n_aiv);
  r->aic_done = g_new0 (NpuTask *, a->cal_count);
  r->push = g_new0 (NpuTask *, (gsize) a->cal_count * pl->W);
  r->flag_add = g_new0 (NpuTask *, pl->W);
  return TRUE;
}

/* ---- the plan ---- */

static void
plan_free (AgmmPlan *pl)
{
  for (guint g = 0; g < pl->W; g++)
    {
      AgmmRank *r = &pl->r[g];
      g_free (r->aiv_last);
      g_free (r->dirty);
      g_free (r->aic_done);
      g_free (r->push);
      g_free (r->flag_add);
    }
  g_free (pl->r);
  g_free (pl);
}

gboolean
agmm_plan (AgmmOp *a, const NpuOpEnv *env, GError **error)
{
  AgmmPlan *pl = g_new0 (AgmmPlan, 1);
  pl->a = a;
  pl->op = &a->base;
  pl->env = env;
  pl->hw = env->hw;
  pl->cl = env->cluster;
  pl->W = a->W;
  pl->es = npu_dtype_size (a->in_dt);
  pl->n_aic = env->hw->aic_count;
  pl->n_aiv = 2 * env->hw->aic_count;
  pl->region_rows = region_rows_of (a);
  pl->a_stride = a->pad_a ? a->k_align : a->k;
  pl->data = env->data_mode;
  pl->flows = env->trace_level >= NPU_TRACE_ALL;
  pl->r = g_new0 (AgmmRank, pl->W);
  guint W = pl->W, C = a->cal_count;
  for (guint g = 0; g < W; g++)
    if (!rank_init (pl, g, error))
      {
        plan_free (pl);
        return FALSE;
      }

  /* Launch, padding, flags cleared (AIV0 of block 0). */
  for (guint g = 0; g < W; g++)
    {
      AgmmRank *r = &pl->r[g];
      r->begin = npu_op_begin (pl->op, env, g, pl->hw->kernel_launch_ps);
      r->barrier = r->begin;
      for (guint c = 0; c < pl->n_aiv; c++)
        r->aiv_last[c] = r->begin;
      agmm_plan_padding (pl, g);
      NpuTask *t = agmm_aiv_task (pl, g, 0, "clear flags", NPU_TASK_CONTROL);
      agmm_set_small_flow (pl, t, g, g, 4 * sizeof (gint32));
      agmm_barrier (pl, g, NULL);
    }

  for (guint s = 0; s < C + 2; s++)
    {
      if (s == 1 && a->per_token)
        {
          /* AllGatherPerTokenScale: own scale into my window, V1 (flag 2), read every
           * peer's, V2 (flag 3). */
          for (guint g = 0; g < W; g++)
            {
              agmm_barrier (pl, g, NULL);
              agmm_plan_scale_copy (pl, g, 0);
              sync_v1_set (pl, g, "flag2");
            }
          for (guint g = 0; g < W; g++)
            {
              sync_v1_wait (pl, g, "flag2");
              agmm_plan_scale_copy (pl, g, 1);
              agmm_barrier (pl, g, NULL);
              sync_v2_add (pl, g, "flag3");
            }
          for (guint g = 0; g < W; g++)
            sync_v2_wait (pl, g, "flag3");
        }
      for (guint g = 0; g < W; g++)
        {
          agmm_barrier (pl, g, s >= 2 ? pl->r[g].aic_done[s - 2] : NULL);
          if (s < C)
            sync_v1_set (pl, g, "flag0");
        }
      for (guint g = 0; g < W; g++)
        if (s < C)
          sync_v1_wait (pl, g, "flag0");
      for (guint g = 0; g < W; g++)
        {
          if (s < C)
            agmm_plan_push (pl, g, s);
          if (s >= 1 && s <= C && a->gather_out)
            agmm_plan_unpack (pl, g, s - 1);
          if (s >= 2)
            agmm_plan_dequant (pl, g, s - 2);
        }
      if (s >= C)
        continue;
      for (guint g = 0; g < W; g++)
        {
          agmm_barrier (pl, g, NULL);
          sync_v2_add (pl, g, "flag1");
        }
      for (guint g = 0; g < W; g++)
        sync_v2_wait (pl, g, "flag1");
      for (guint g = 0; g < W; g++)
        agmm_plan_tiles (pl, g, s);
    }

  /* Flags reset by AIV0 of block 0; AIV1 of block b waits for peer b's reset. */
  for (guint g = 0; g < W; g++)
    {
      agmm_barrier (pl, g, NULL);
      NpuTask *t = agmm_aiv_task (pl, g, 0, "reset flags", NPU_TASK_CONTROL);
      agmm_set_small_flow (pl, t, g, g, 4 * sizeof (gint32));
      pl->r[g].reset = t;
      agmm_barrier (pl, g, NULL);
    }
  for (guint g = 0; g < W; g++)
    {
      for (guint b = 0; b < W; b++)
        if (b != g)
          {
            g_autofree char *name = g_strdup_printf ("poll reset of r%u", pl->r[b].rank);
            NpuTask *t = agmm_aiv_task (pl, g, 2 * b + 1, name, NPU_TASK_COMM);
            npu_task_set_duration (t, pl->hw->flag_poll_ps);
            npu_task_depends_on (t, pl->r[b].reset);
          }
      agmm_barrier (pl, g, NULL);
      /* SyncAll: every AIC and AIV core of the rank. */
      g_autoptr (GPtrArray) deps = g_ptr_array_new ();
      g_ptr_array_add (deps, pl->r[g].barrier);
      for (guint s = 0; s < C; s++)
        g_ptr_array_add (deps, pl->r[g].aic_done[s]);
      npu_op_finish (pl->op, env, g, deps);
    }
  plan_free (pl);
  return TRUE;
}
