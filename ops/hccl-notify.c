/* npusim — HCCL's cross-rank notify handshakes within one step of an executor (see
 * ops/hccl.h): records are kept per (kind, from, to) for the step, waits until the step
 * ends, when every record of the step exists. */
#include "ops/hccl.h"
#include <string.h>

typedef struct {
  NpuTask *wait;
  guint from, to, kind;
} Pending;

struct _NpuHcclNotify {
  guint n, n_kinds;
  NpuTask **rec;    /* [n_kinds * n * n]: records of the step, (kind * n + from) * n + to */
  GArray *pending;  /* Pending: the step's waits, in the order they were planned */
};

NpuHcclNotify *
npu_hccl_notify_new (guint n, guint n_kinds)
{
  NpuHcclNotify *nt = g_new0 (NpuHcclNotify, 1);
  nt->n = n;
  nt->n_kinds = n_kinds;
  nt->rec = g_new0 (NpuTask *, (gsize) n_kinds * n * n);
  nt->pending = g_array_new (FALSE, FALSE, sizeof (Pending));
  return nt;
}

void
npu_hccl_notify_free (NpuHcclNotify *nt)
{
  if (nt == NULL)
    return;
  g_free (nt->rec);
  g_array_unref (nt->pending);
  g_free (nt);
}

static NpuTask **
slot (NpuHcclNotify *nt, guint from, guint to, guint kind)
{
  g_assert (from < nt->n && to < nt->n && kind < nt->n_kinds);
  return &nt->rec[((gsize) kind * nt->n + from) * nt->n + to];
}

void
npu_hccl_notify_record (NpuHcclNotify *nt, guint from, guint to, guint kind, NpuTask *record)
{
  NpuTask **s = slot (nt, from, to, kind);
  g_assert (*s == NULL);
  *s = record;
}

void
npu_hccl_notify_wait (NpuHcclNotify *nt, guint from, guint to, guint kind, NpuTask *wait)
{
  Pending p = { wait, from, to, kind };
  g_array_append_val (nt->pending, p);
}

void
npu_hccl_notify_step_end (NpuHcclNotify *nt)
{
  for (guint i = 0; i < nt->pending->len; i++)
    {
      Pending *p = &g_array_index (nt->pending, Pending, i);
      NpuTask *rec = *slot (nt, p->from, p->to, p->kind);
      g_assert (rec != NULL);
      npu_task_depends_on (p->wait, rec);
    }
  g_array_set_size (nt->pending, 0);
  memset (nt->rec, 0, sizeof (NpuTask *) * nt->n_kinds * nt->n * nt->n);
}

gboolean
npu_hccl_notify_idle (const NpuHcclNotify *nt)
{
  return nt->pending->len == 0;
}
