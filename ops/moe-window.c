/* npusim — the HCCL windows of the MoE ops of one communication group: two halves, and
 * the word that picks the half each op uses.
 *
 * The kernels (ops-transformer b122ed222, the first open-source version) keep their data
 * and flags in the group's HCCL windows, double-buffered: each kernel's Init reads a
 * 32 B state word, uses half `dataState` (windowsIn + dataState * HCCL_BUFFSIZE / 2, its
 * flags at windowsExp + dataState * WIN_STATE_OFFSET) and writes the word back flipped
 * (InitWinState), so there is no barrier between ops: an op can only reuse a half after
 * one op of the other half, by which time every rank has passed the previous user
 * of its half (the chain of the status flags; docs/ops/MoeDistributeDispatch.md
 * "Windows"). Which ops share a word:
 *   A3 V2/V3 (moe_distribute_dispatch_v2.h / moe_distribute_combine_v2.h): the dispatch
 *     at windowsExp + 950 KB, the combine at windowsExp + 975 KB (STATE_WIN_OFFSET, one
 *     per core): dispatches alternate among themselves, combines among themselves, so a
 *     dispatch and its combine use the same half (combine region at its front, dispatch
 *     region behind it) and layer l uses half l mod 2;
 *   A3 V1 (moe_distribute_dispatch.h / moe_distribute_combine.h): both at windowsExp +
 *     900 KB, so every EP op flips it (dispatch, combine, dispatch, ...);
 *   A2 (moe_distribute_dispatch_a2.h / moe_distribute_combine_a2.h: `bufferChosen` /
 *     `bufferId` at windowsIn + the data size of half 0; the layered kernels at windowsIn
 *     + 49 MB + W * 512 B): one word for dispatch and combine, flipped by every EP op
 *     (CALIBRATION.md 2.3), so in a dispatch -> combine chain the dispatches use half 0
 *     and the combines half 1.
 * The model assigns halves in scenario order (each op of a group runs on every rank of
 * the group, in that order on a stream; ops of one group on different streams that
 * overlap would race for the word on the real machine).
 *
 * The buffers are graph buffers for the hazard checker, one per (rank, half), so a
 * half's regions never reach into the other half whatever the op's shape (the window
 * size checks are the aclnn ones, ops/moe-params.c). */
#include "ops/moe-private.h"
#include <string.h>

/* Bound of a half's graph buffer: regions are placed as the kernel places them inside
 * its half; the buffer size is not a model number. */
#define HALF_BOUND (G_GUINT64_CONSTANT (1) << 50)

static const char *const selector_names[MOE_N_SEL] = {
  "A3 dispatch (windowsExp + 950 KB)", "A3 combine (windowsExp + 975 KB)",
  "A3 V1 dispatch/combine (windowsExp + 900 KB)", "A2 bufferChosen (windowsIn)",
  "A2 layered bufferChosen (windowsIn + 49 MB)",
};

static void
group_free (gpointer data)
{
  MoeWindowGroup *w = data;
  g_free (w->group);
  g_free (w->half[0]);
  g_free (w->half[1]);
  g_free (w);
}

static void
add_tp (MoeWindowGroup *w, NpuOp *op, const NpuOpEnv *env)
{
  for (guint h = 0; h < 2; h++)
    for (guint g = 0; g < w->n; g++)
      {
        guint rank = npu_op_rank_of (op, g);
        g_autofree char *tw = g_strdup_printf ("r%u.tpWindowsIn(%s)[half %u]", rank, w->group, h);
        g_autofree char *ts = g_strdup_printf ("r%u.tpWindowsExp(%s)[half %u]", rank, w->group, h);
        w->half[h][g].tp_win = npu_graph_add_buffer (env->graph, tw, HALF_BOUND);
        w->half[h][g].tp_state = npu_graph_add_buffer (env->graph, ts, HALF_BOUND);
      }
  w->has_tp = TRUE;
}

MoeWindowGroup *
moe_window_group_get (NpuOp *op, const MoeAttrs *a, const NpuOpEnv *env, const char *path,
                      GError **error)
{
  const char *group = json_string_value (json_object_get (op->attrs, "group"));
  if (group == NULL)
    group = "world";
  g_autofree char *key = g_strdup_printf ("moe-window/%s", group);
  MoeWindowGroup *w = npu_graph_get_data (env->graph, key);
  if (w == NULL)
    {
      w = g_new0 (MoeWindowGroup, 1);
      w->group = g_strdup (group);
      w->n = op->n_ranks;
      w->win_bytes = a->win_bytes;
      for (guint h = 0; h < 2; h++)
        {
          w->half[h] = g_new0 (MoeWindows, w->n);
          for (guint g = 0; g < w->n; g++)
            {
              guint rank = npu_op_rank_of (op, g);
              g_autofree char *bw = g_strdup_printf ("r%u.windowsIn(%s)[half %u]", rank, group, h);
              g_autofree char *bs = g_strdup_printf ("r%u.windowsExp(%s)[half %u]", rank, group, h);
              w->half[h][g].win = npu_graph_add_buffer (env->graph, bw, HALF_BOUND);
              w->half[h][g].state = npu_graph_add_buffer (env->graph, bs, HALF_BOUND);
            }
        }
      npu_graph_set_data (env->graph, key, w, group_free);
    }
  g_assert (w->n == op->n_ranks);
  if (w->win_bytes != a->win_bytes)
    {
      npu_spec_error (error, "%s.hcclBufferMB: %.1f MB, but the MoE ops of group '%s' share "
                      "one HCCL window of %.1f MB (HCCL_BUFFSIZE is per communicator)", path,
                      a->win_bytes / 1048576.0, group, w->win_bytes / 1048576.0);
      return NULL;
    }
  if (a->tpn > 1 && !w->has_tp)
    add_tp (w, op, env);
  return w;
}

MoeWindowSelector
moe_window_selector (const MoeAttrs *a, MoeKind kind, guint version)
{
  g_assert (kind == MOE_KIND_DISPATCH || kind == MOE_KIND_COMBINE);
  if (!a->a3)
    return a->hierarchical ? MOE_SEL_A2_LAYERED : MOE_SEL_A2;
  if (version == 1)
    return MOE_SEL_A3_V1;
  return kind == MOE_KIND_DISPATCH ? MOE_SEL_A3_DISPATCH : MOE_SEL_A3_COMBINE;
}

guint
moe_window_take_half (MoeWindowGroup *w, NpuOp *op, const MoeAttrs *a, MoeKind kind,
                      guint version)
{
  MoeWindowSelector sel = moe_window_selector (a, kind, version);
  /* the word starts at 0 (a fresh communicator) and is flipped by every op that reads it */
  guint use = w->uses[sel]++;
  guint half = use & 1u;
  json_object_set_new (op->attrs, "windowHalf", json_integer (half));
  json_object_set_new (op->attrs, "windowSelector", json_string (selector_names[sel]));
  json_object_set_new (op->attrs, "windowUse", json_integer (use));
  return half;
}
