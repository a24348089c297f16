/* npusim — AllGatherMatmulV2 data movement on the AIV cores: padding A / B into the
 * workspace, pushing each step's chunk of x1 into every peer's window, unpacking the
 * received chunks into gatherOut, and the per-token scale all-gather. Every task's
 * bytes are copied by its data effect when it ends (data moves with the events).
 *
 * Push model (MoveWithSplit / MoveToOtherRankWithSkip): the commDataSplit pushing
 * cores split each chunk; a core reads a UB piece once (MTE2) and writes it to every
 * peer (MTE3), one peer after the other, so each peer stream gets 1/(W-1) of the
 * core's write rate and at most its read rate. A step's push to one peer is one flow
 * of the whole chunk over the path to that peer, capped at commDataSplit ·
 * min(MTE2 rate, MTE3 rate / (W - 1)) (mem.mte2/mte3_bytes_per_cycle · clock); the
 * link (HCCS 28 GB/s, or the UB port / SIO on A3) shares its bandwidth max-min with
 * the other flows on it. commDirect only changes the order in which a core visits
 * peers, which this aggregated flow does not resolve. The fixed part is the pipeline
 * fill: the first UB piece (ubMoveNum / 2 elements) read before the first write. */
#include "ops/agmm-plan.h"
#include <string.h>

typedef struct {
  guint8 *dst;
  const guint8 *src;
  guint64 dst_stride, src_stride, row_bytes, rows;
} Rows;

static gboolean
rows_effect (gpointer data, GError **error)
{
  Rows *c = data;
  if (c->dst == NULL || c->src == NULL)
    return TRUE;
  for (guint64 i = 0; i < c->rows; i++)
    memcpy (c->dst + i * c->dst_stride, c->src + i * c->src_stride, c->row_bytes);
  return TRUE;
}

static void
set_rows_effect (NpuTask *t, guint8 *dst, guint64 dst_stride, const guint8 *src,
                 guint64 src_stride, guint64 row_bytes, guint64 rows)
{
  Rows *c = g_new0 (Rows, 1);
  *c = (Rows) { dst, src, dst_stride, src_stride, row_bytes, rows };
  npu_task_set_effect (t, rows_effect, c, g_free);
}

static void
local_flow (AgmmPlan *pl, NpuTask *t, guint g, guint64 bytes)
{
  guint links[NPU_MAX_PATH];
  guint n = npu_cluster_path (pl->cl, pl->r[g].rank, pl->r[g].rank, links);
  npu_task_set_duration (t, agmm_fill_ps (pl, bytes));
  npu_task_set_flow (t, links, n, bytes, npu_cost_core_mte_Bps (pl->hw));
}

/* Host pointer of the local A source (x1, or its padded copy) at row @row. */
static const guint8 *
a_source (AgmmPlan *pl, guint g, gint64 row)
{
  AgmmRank *r = &pl->r[g];
  const guint8 *base = pl->a->pad_a ? r->apad : npu_tensor_const_data (pl->a->x1t[g]);
  return base == NULL ? NULL : base + (guint64) row * pl->a_stride * pl->es;
}

static guint
a_buffer (AgmmPlan *pl, guint g)
{
  return pl->a->pad_a ? pl->r[g].b_apad : pl->r[g].b_x1;
}

/* Padding(): copy rows of @src_rows x @cols (stride @cols) into rows of stride
 * @stride, split over every AIV core of the rank. */
static void
pad_matrix (AgmmPlan *pl, guint g, const char *what, const guint8 *src, guint8 *dst,
            gint64 rows, gint64 cols, gint64 stride, guint src_buf, guint dst_buf)
{
  gint64 per = (rows + pl->n_aiv - 1) / pl->n_aiv;
  for (guint c = 0; c < pl->n_aiv; c++)
    {
      gint64 r0 = (gint64) c * per, nr = MIN (per, rows - r0);
      if (nr <= 0)
        break;
      g_autofree char *name = g_strdup_printf ("pad %s rows %" G_GINT64_FORMAT "-%"
                                               G_GINT64_FORMAT, what, r0, r0 + nr - 1);
      NpuTask *t = agmm_aiv_task (pl, g, c, name, NPU_TASK_MEMORY);
      guint64 row_bytes = (guint64) cols * pl->es;
      local_flow (pl, t, g, (guint64) nr * row_bytes);
      if (src_buf != G_MAXUINT)
        npu_task_reads (t, src_buf, (guint64) r0 * row_bytes, (guint64) nr * row_bytes);
      npu_task_writes (t, dst_buf, (guint64) r0 * stride * pl->es,
                       (guint64) nr * stride * pl->es);
      set_rows_effect (t, dst == NULL ? NULL : dst + (guint64) r0 * stride * pl->es,
                       (guint64) stride * pl->es,
                       src == NULL ? NULL : src + (guint64) r0 * row_bytes, row_bytes,
                       row_bytes, (guint64) nr);
    }
}

void
agmm_plan_padding (AgmmPlan *pl, guint g)
{
  AgmmOp *a = pl->a;
  AgmmRank *r = &pl->r[g];
  if (a->pad_a)
    pad_matrix (pl, g, "x1", npu_tensor_const_data (a->x1t[g]), r->apad, a->m, a->k,
                a->k_align, r->b_x1, r->b_apad);
  if (a->pad_b)
    {
      gboolean tb = a->trans_b;
      pad_matrix (pl, g, "x2", npu_tensor_const_data (a->x2t[g]), r->bpad,
                  tb ? a->n : a->k, tb ? a->k : a->n, tb ? a->k_align : a->n_align,
                  G_MAXUINT, r->b_bpad);
    }
  if (a->pad_a || a->pad_b)
    agmm_barrier (pl, g, NULL);
}

void
agmm_plan_push (AgmmPlan *pl, guint g, guint s)
{
  AgmmOp *a = pl->a;
  AgmmRank *r = &pl->r[g];
  guint W = pl->W;
  gint64 rows = agmm_step_rows (a, s), row0 = (gint64) s * a->t.m0 * a->t.p_value;
  guint64 row_bytes = (guint64) a->k_align * pl->es;
  guint64 bytes = (guint64) rows * row_bytes;
  const NpuHw *hw = pl->hw;
  double mte2 = npu_cost_core_mte_Bps (hw);
  double mte3 = (double) hw->mte3_bytes_per_cycle * hw->core_freq_hz;
  double cap = a->t.comm_data_split * MIN (mte2, mte3 / (W - 1));
  guint64 slot = agmm_window_slot_offset (pl, s % 2, g);
  NpuTask *join = npu_graph_task_new (pl->env->graph, "push join");
  npu_task_set_hidden (join);
  for (guint p = 0; p < W; p++)
    {
      if (p == g)
        continue;
      AgmmRank *rp = &pl->r[p];
      g_autofree char *name = g_strdup_printf ("push step %u r%u->r%u", s, r->rank, rp->rank);
      NpuTask *t = npu_op_task_new (pl->op, pl->env, g, name, NPU_TASK_COMM,
                                    NPU_TRACK_COMM_PLANE, rp->rank);
      npu_task_depends_on (t, r->barrier);
      guint links[NPU_MAX_PATH];
      guint n = npu_cluster_path (pl->cl, r->rank, rp->rank, links);
      npu_task_set_duration (t, agmm_fill_ps (pl, bytes / a->t.comm_data_split));
      npu_task_set_flow (t, links, n, bytes, cap);
      if (pl->env->trace_level >= NPU_TRACE_TASK)
        {
          g_autofree char *args = g_strdup_printf (
            "{\"step\":%u,\"rows\":%" G_GINT64_FORMAT ",\"bytes\":%" G_GUINT64_FORMAT
            ",\"slot\":%u,\"cores\":%d}", s, rows, bytes, s % 2, a->t.comm_data_split);
          npu_task_set_args (t, args);
        }
      npu_task_reads (t, a_buffer (pl, g), (guint64) row0 * pl->a_stride * pl->es,
                      ((guint64) (rows - 1) * pl->a_stride + a->k) * pl->es);
      npu_task_writes (t, rp->b_window, slot, bytes);
      set_rows_effect (t, rp->window == NULL ? NULL : rp->window + slot, row_bytes,
                       a_source (pl, g, row0), (guint64) pl->a_stride * pl->es,
                       (guint64) a->k * pl->es, (guint64) rows);
      r->push[s * W + p] = t;
      npu_task_depends_on (join, t);
    }
  for (gint b = 0; b < a->t.comm_npu_split * a->t.comm_data_split; b++)
    agmm_aiv_after (pl, g, 2 * (guint) b, join);
}

void
agmm_plan_unpack (AgmmPlan *pl, guint g, guint s)
{
  AgmmOp *a = pl->a;
  AgmmRank *r = &pl->r[g];
  guint W = pl->W;
  guint cc = (guint) (a->t.comm_npu_split * a->t.comm_data_split);
  guint other = pl->n_aic - cc;
  gint64 rows = agmm_step_rows (a, s), row0 = (gint64) s * a->t.m0 * a->t.p_value;
  guint64 out_row = (guint64) a->k * pl->es;
  guint8 *gout = npu_tensor_data (a->goutt[g]);
  for (guint j = 0; j < W; j++)
    {
      /* AIV1 of block cc + (j mod other): the blocks after the pushing ones, cycling
       * when fewer than W are left. */
      guint core = 2 * (cc + j % other) + 1;
      g_autofree char *name = g_strdup_printf ("unpack step %u from r%u", s, pl->r[j].rank);
      NpuTask *t = agmm_aiv_task (pl, g, core, name, NPU_TASK_MEMORY);
      local_flow (pl, t, g, (guint64) rows * out_row);
      guint64 dst_off = ((guint64) j * a->m + row0) * out_row;
      npu_task_writes (t, r->b_gout, dst_off, (guint64) rows * out_row);
      guint8 *dst = gout == NULL ? NULL : gout + dst_off;
      if (j == g)
        {
          npu_task_reads (t, a_buffer (pl, g), (guint64) row0 * pl->a_stride * pl->es,
                          ((guint64) (rows - 1) * pl->a_stride + a->k) * pl->es);
          set_rows_effect (t, dst, out_row, a_source (pl, g, row0),
                           (guint64) pl->a_stride * pl->es, out_row, (guint64) rows);
        }
      else
        {
          guint64 off = agmm_window_slot_offset (pl, s % 2, j);
          guint64 stride = (guint64) a->k_align * pl->es;
          npu_task_reads (t, r->b_window, off, (guint64) rows * stride);
          set_rows_effect (t, dst, out_row, r->window == NULL ? NULL : r->window + off, stride,
                           out_row, (guint64) rows);
          if (pl->flows)
            npu_task_add_trace_flow (pl->r[j].push[s * W + g], t, "x1 chunk");
        }
    }
}

void
agmm_plan_scale_copy (AgmmPlan *pl, guint g, guint phase)
{
  AgmmOp *a = pl->a;
  AgmmRank *r = &pl->r[g];
  guint64 bytes = (guint64) a->m * sizeof (float);
  guint64 area = agmm_window_slot_offset (pl, 1, 0);
  if (phase == 0)
    {
      /* AIV0 of my block: my x1Scale into my window's scale area. */
      NpuTask *t = agmm_aiv_task (pl, g, 2 * g, "x1Scale to window", NPU_TASK_MEMORY);
      local_flow (pl, t, g, bytes);
      npu_task_reads (t, r->b_x1s, 0, bytes);
      npu_task_writes (t, r->b_window, area + g * bytes, bytes);
      set_rows_effect (t, r->window == NULL ? NULL : r->window + area + g * bytes, bytes,
                       npu_tensor_const_data (a->x1st[g]), bytes, bytes, 1);
      return;
    }
  /* AIV0 of block b: rank b's scales from its window into my gathered scales. */
  for (guint b = 0; b < pl->W; b++)
    {
      AgmmRank *rb = &pl->r[b];
      g_autofree char *name = g_strdup_printf ("x1Scale from r%u", rb->rank);
      NpuTask *t = agmm_aiv_task (pl, g, 2 * b, name, b == g ? NPU_TASK_MEMORY : NPU_TASK_COMM);
      guint links[NPU_MAX_PATH];
      guint n = npu_cluster_path (pl->cl, rb->rank, r->rank, links);
      npu_task_set_duration (t, agmm_fill_ps (pl, bytes));
      npu_task_set_flow (t, links, n, bytes, npu_cost_core_mte_Bps (pl->hw));
      npu_task_reads (t, rb->b_window, area + b * bytes, bytes);
      npu_task_writes (t, r->b_scale_ws, b * bytes, bytes);
      set_rows_effect (t, r->scale_ws == NULL ? NULL : (guint8 *) (r->scale_ws + b * a->m),
                       bytes, rb->window == NULL ? NULL : rb->window + area + b * bytes, bytes,
                       bytes, 1);
    }
}
