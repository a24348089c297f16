/* npusim — the MoE ops of a run, found by name: a combine names its dispatch and its
 * experts op, an experts op its dispatch. The runner sets an op's name right after
 * its create(), so ops created earlier in the scenario are found by the later ones.
 * Lookups compare names and the run's graph only (no ordering by pointer). */
#include "ops/moe-private.h"

static GPtrArray *registry; /* (element-type MoeOpBase) in creation order */
G_LOCK_DEFINE_STATIC (registry);

void
moe_registry_add (MoeOpBase *op)
{
  G_LOCK (registry);
  if (registry == NULL)
    registry = g_ptr_array_new ();
  g_ptr_array_add (registry, op);
  G_UNLOCK (registry);
}

void
moe_registry_remove (MoeOpBase *op)
{
  G_LOCK (registry);
  if (registry != NULL)
    g_ptr_array_remove (registry, op);
  G_UNLOCK (registry);
  if (op->holds_ports)
    {
      op->holds_ports = FALSE;
      moe_ports_release (op->graph);
    }
}

MoeOpBase *
moe_registry_find (NpuGraph *graph, const char *name, MoeKind kind)
{
  MoeOpBase *found = NULL;
  G_LOCK (registry);
  for (guint i = 0; registry != NULL && i < registry->len && found == NULL; i++)
    {
      MoeOpBase *op = g_ptr_array_index (registry, i);
      if (op->graph == graph && op->kind == kind && op->base.name != NULL
          && g_str_equal (op->base.name, name))
        found = op;
    }
  G_UNLOCK (registry);
  return found;
}

void
moe_op_base_init (MoeOpBase *b, const NpuOpClass *klass, MoeKind kind, guint version,
                  const char *path, const NpuOpEnv *env)
{
  npu_op_init (&b->base, klass);
  b->kind = kind;
  b->version = version;
  b->path = g_strdup (path);
  b->graph = env->graph;
  moe_registry_add (b);
}

void
moe_op_base_clear (MoeOpBase *b)
{
  moe_registry_remove (b);
  g_clear_pointer (&b->path, g_free);
}

MoeDispatch *
moe_find_dispatch (const NpuOpEnv *env, const char *name, const char *path, GError **error)
{
  MoeDispatch *d = (MoeDispatch *) moe_registry_find (env->graph, name, MOE_KIND_DISPATCH);
  if (d == NULL)
    npu_spec_error (error, "%s.dispatch: no MoeDistributeDispatch op named '%s' earlier in the "
                    "scenario", path, name);
  return d;
}

gboolean
moe_check_dispatch_group (const MoeDispatch *d, const NpuOpEnv *env, const char *path,
                          GError **error)
{
  if (env->group_size != d->a.n)
    return npu_spec_error (error, "%s.group: must be the dispatch's group (%u ranks)", path,
                           d->a.n);
  for (guint g = 0; g < d->a.n; g++)
    if (env->group_ranks[g] != d->b.base.ranks[g])
      return npu_spec_error (error, "%s.group: must be the dispatch's group, in the same order",
                             path);
  return TRUE;
}

/* ---- the dies' UB / SIO ports, shared by every MoE op of a run ---- */

typedef struct {
  NpuGraph *graph;
  guint refs;
  MoePorts ports;
} PortsEntry;

static GPtrArray *ports_list; /* (element-type PortsEntry) */

static void
ports_free (PortsEntry *e)
{
  for (guint k = 0; k < 4; k++)
    g_free (e->ports.free[k]);
  g_free (e);
}

MoePorts *
moe_ports_get (NpuGraph *graph, NpuCluster *cluster)
{
  MoePorts *found = NULL;
  G_LOCK (registry);
  if (ports_list == NULL)
    ports_list = g_ptr_array_new ();
  for (guint i = 0; i < ports_list->len && found == NULL; i++)
    {
      PortsEntry *e = g_ptr_array_index (ports_list, i);
      if (e->graph == graph)
        {
          e->refs++;
          found = &e->ports;
        }
    }
  if (found == NULL)
    {
      PortsEntry *e = g_new0 (PortsEntry, 1);
      e->graph = graph;
      e->refs = 1;
      e->ports.n = npu_cluster_n_ranks (cluster);
      for (guint k = 0; k < 4; k++)
        e->ports.free[k] = g_new0 (NpuTime, e->ports.n);
      g_ptr_array_add (ports_list, e);
      found = &e->ports;
    }
  G_UNLOCK (registry);
  return found;
}

void
moe_ports_release (NpuGraph *graph)
{
  G_LOCK (registry);
  for (guint i = 0; ports_list != NULL && i < ports_list->len; i++)
    {
      PortsEntry *e = g_ptr_array_index (ports_list, i);
      if (e->graph == graph && --e->refs == 0)
        {
          g_ptr_array_remove_index (ports_list, i);
          ports_free (e);
          break;
        }
    }
  G_UNLOCK (registry);
}
