/* npusim — a simulated cluster: the topology's fabric links, the per-rank serial
 * servers (created lazily) and the msprof-like trace tracks (declared lazily).
 * The wiring is described in models/cluster.h. */
#include <string.h>
#include "models/cluster.h"
#include "models/hw-private.h"

typedef enum {
  LINK_HBM, LINK_HCCS, LINK_ROCE_TX, LINK_ROCE_RX, LINK_SIO, LINK_UB_TX, LINK_UB_RX,
  LINK_UB_L2,
} LinkKind;

static const char *const link_kind_names[] = {
  [LINK_HBM] = "hbm", [LINK_HCCS] = "hccs", [LINK_ROCE_TX] = "roce_tx",
  [LINK_ROCE_RX] = "roce_rx", [LINK_SIO] = "sio", [LINK_UB_TX] = "ub_tx",
  [LINK_UB_RX] = "ub_rx", [LINK_UB_L2] = "ub_l2",
};

#define NO_LINK G_MAXUINT

typedef struct {
  guint8 kind;
  guint rank;
} LinkInfo;

struct _NpuCluster {
  NpuHw hw;
  guint n_ranks, n_servers;
  NpuEngine *engine;
  NpuFabric *fabric;
  NpuSink *sink;

  guint link_base;   /* fabric id of the first link the cluster created */
  GArray *links;     /* LinkInfo, indexed by fabric id - link_base */
  guint *hbm;        /* [rank] */
  guint *mesh;       /* [rank * width + peer % width]: A2 hccs (width = dies_per_server)
                        or A3 sio (width = dies_per_package); NO_LINK where none */
  guint mesh_width;
  guint *nic_tx;     /* [rank]: A2 roce_tx / A3 ub_tx */
  guint *nic_rx;     /* [rank]: A2 roce_rx / A3 ub_rx */
  guint *ub_l2;      /* [rank], A3 with more than one node, else NULL */

  NpuServer **aic, **aiv, **aicpu, **host; /* [rank * count + index], lazily */
  GHashTable *declared; /* (pid << 32 | tid) of declared tracks; lookups only */
};

/* Can @n_ranks dies be built from @hw? Names the offending field. */
static gboolean
validate (const NpuHw *hw, guint n_ranks, GError **error)
{
  guint dps = hw->dies_per_server;
  if (dps == 0 || hw->dies_per_package == 0 || hw->max_servers == 0)
    return npu_preset_fail (error, "topology.dies_per_server, topology.dies_per_package and "
                                   "topology.max_servers must be > 0");
  if (n_ranks < 1 || n_ranks > hw->max_dies)
    return npu_preset_fail (error, "%u ranks: the cluster takes 1..%u dies (topology.max_dies)",
                            n_ranks, hw->max_dies);
  if (hw->hbm_bw_Bps <= 0)
    return npu_preset_fail (error, "mem.hbm_bw_Bps must be > 0");

  if (hw->topology == NPU_TOPO_A2)
    {
      if (n_ranks > dps && n_ranks % dps != 0)
        return npu_preset_fail (error, "%u ranks: on A2 more than %u ranks must fill whole servers "
                                       "(a multiple of topology.dies_per_server = %u)",
                                n_ranks, dps, dps);
      if ((n_ranks + dps - 1) / dps > hw->max_servers)
        return npu_preset_fail (error,
                                "%u ranks need %u servers, more than topology.max_servers = %u",
                                n_ranks, (n_ranks + dps - 1) / dps, hw->max_servers);
      if (n_ranks > 1 && hw->hccs_link_bw_Bps <= 0)
        return npu_preset_fail (error, "link.hccs_bw_Bps must be > 0 on A2");
      if (hw->roce_bw_Bps <= 0)
        return npu_preset_fail (error, "link.roce_bw_Bps must be > 0 on A2");
      return TRUE;
    }

  g_assert (hw->topology == NPU_TOPO_A3);
  if (dps % hw->dies_per_package != 0)
    return npu_preset_fail (error, "topology.dies_per_server (%u) must be a multiple of "
                                   "topology.dies_per_package (%u)", dps, hw->dies_per_package);
  if ((n_ranks + dps - 1) / dps > hw->max_servers)
    return npu_preset_fail (error, "%u ranks need %u nodes, more than topology.max_servers = %u",
                            n_ranks, (n_ranks + dps - 1) / dps, hw->max_servers);
  if (hw->dies_per_package > 1 && n_ranks > 1 && hw->sio_bw_Bps <= 0)
    return npu_preset_fail (error, "link.sio_bw_Bps must be > 0 on A3");
  if (hw->ub_ports == 0 || hw->ub_port_bw_Bps <= 0)
    return npu_preset_fail (error, "link.ub_ports and link.ub_port_bw_Bps must be > 0 on A3");
  if (n_ranks > dps && hw->ub_l2_latency_ps < hw->ub_l1_latency_ps)
    return npu_preset_fail (error, "link.ub_l2_latency_us must not be below link.ub_l1_latency_us "
                                   "(it is the total latency across nodes)");
  return TRUE;
}

static guint
add_link (NpuCluster *c, LinkKind kind, guint rank, const char *name, double bw,
          NpuTime latency)
{
  guint id = npu_fabric_add_link (c->fabric, name, bw, latency);
  /* Fabric ids are dense in creation order, so the table is a plain array. */
  g_assert (id == c->link_base + c->links->len);
  LinkInfo info = { .kind = (guint8) kind, .rank = rank };
  g_array_append_val (c->links, info);
  return id;
}

static void
build_links (NpuCluster *c)
{
  const NpuHw *hw = &c->hw;
  guint n = c->n_ranks;
  gboolean a2 = hw->topology == NPU_TOPO_A2;
  c->mesh_width = a2 ? hw->dies_per_server : hw->dies_per_package;
  c->hbm = g_new (guint, n);
  c->mesh = g_new (guint, (gsize) n * c->mesh_width);
  c->nic_tx = g_new (guint, n);
  c->nic_rx = g_new (guint, n);
  gboolean multi_node = !a2 && n > hw->dies_per_server;
  c->ub_l2 = multi_node ? g_new (guint, n) : NULL;
  double ub_bw = (double) hw->ub_ports * hw->ub_port_bw_Bps;

  for (guint r = 0; r < n; r++)
    {
      char name[64];
      g_snprintf (name, sizeof name, "r%u.hbm", r);
      c->hbm[r] = add_link (c, LINK_HBM, r, name, hw->hbm_bw_Bps, 0);

      /* Mesh: A2 one HCCS link to every other die of the server; A3 one SIO link to
       * every other die of the package. Peers in ascending rank order. */
      guint first = r - r % c->mesh_width;
      for (guint j = 0; j < c->mesh_width; j++)
        {
          guint peer = first + j;
          c->mesh[(gsize) r * c->mesh_width + j] = NO_LINK;
          if (peer == r || peer >= n)
            continue;
          if (a2)
            {
              g_snprintf (name, sizeof name, "r%u.hccs->r%u", r, peer);
              c->mesh[(gsize) r * c->mesh_width + j] =
                add_link (c, LINK_HCCS, r, name, hw->hccs_link_bw_Bps, hw->hccs_latency_ps);
            }
          else
            {
              g_snprintf (name, sizeof name, "r%u.sio->r%u", r, peer);
              c->mesh[(gsize) r * c->mesh_width + j] =
                add_link (c, LINK_SIO, r, name, hw->sio_bw_Bps, hw->sio_latency_ps);
            }
        }

      if (a2)
        {
          /* RoCE: latency once per path, on the sending NIC. */
          g_snprintf (name, sizeof name, "r%u.roce_tx", r);
          c->nic_tx[r] = add_link (c, LINK_ROCE_TX, r, name, hw->roce_bw_Bps,
                                   hw->roce_latency_ps);
          g_snprintf (name, sizeof name, "r%u.roce_rx", r);
          c->nic_rx[r] = add_link (c, LINK_ROCE_RX, r, name, hw->roce_bw_Bps, 0);
        }
      else
        {
          g_snprintf (name, sizeof name, "r%u.ub_tx", r);
          c->nic_tx[r] = add_link (c, LINK_UB_TX, r, name, ub_bw, hw->ub_l1_latency_ps);
          g_snprintf (name, sizeof name, "r%u.ub_rx", r);
          c->nic_rx[r] = add_link (c, LINK_UB_RX, r, name, ub_bw, 0);
          if (multi_node)
            {
              g_snprintf (name, sizeof name, "r%u.ub_l2", r);
              c->ub_l2[r] = add_link (c, LINK_UB_L2, r, name, ub_bw,
                                      hw->ub_l2_latency_ps - hw->ub_l1_latency_ps);
            }
        }
    }
}

NpuCluster *
npu_cluster_new (const NpuHw *hw, guint n_ranks, NpuEngine *engine, NpuFabric *fabric,
                 NpuSink *sink, GError **error)
{
  g_return_val_if_fail (hw != NULL && engine != NULL && fabric != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!validate (hw, n_ranks, error))
    return NULL;

  NpuCluster *c = g_new0 (NpuCluster, 1);
  c->hw = *hw;
  c->n_ranks = n_ranks;
  c->n_servers = (n_ranks + hw->dies_per_server - 1) / hw->dies_per_server;
  c->engine = engine;
  c->fabric = fabric;
  c->sink = sink;
  c->link_base = npu_fabric_n_links (fabric);
  c->links = g_array_new (FALSE, FALSE, sizeof (LinkInfo));
  build_links (c);
  c->aic = g_new0 (NpuServer *, (gsize) n_ranks * hw->aic_count);
  c->aiv = g_new0 (NpuServer *, (gsize) n_ranks * hw->aiv_count);
  c->aicpu = g_new0 (NpuServer *, (gsize) n_ranks * hw->aicpu_count);
  c->host = g_new0 (NpuServer *, n_ranks);
  c->declared = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  return c;
}

static void
free_servers (NpuServer **servers, gsize n)
{
  if (servers == NULL)
    return;
  for (gsize i = 0; i < n; i++)
    if (servers[i] != NULL)
      npu_server_free (servers[i]);
  g_free (servers);
}

void
npu_cluster_free (NpuCluster *c)
{
  if (c == NULL)
    return;
  free_servers (c->aic, (gsize) c->n_ranks * c->hw.aic_count);
  free_servers (c->aiv, (gsize) c->n_ranks * c->hw.aiv_count);
  free_servers (c->aicpu, (gsize) c->n_ranks * c->hw.aicpu_count);
  free_servers (c->host, c->n_ranks);
  g_hash_table_unref (c->declared);
  g_array_unref (c->links);
  g_free (c->hbm);
  g_free (c->mesh);
  g_free (c->nic_tx);
  g_free (c->nic_rx);
  g_free (c->ub_l2);
  g_free (c);
}

/* ---- accessors ----------------------------------------------------------- */

const NpuHw *
npu_cluster_hw (const NpuCluster *c)
{
  g_return_val_if_fail (c != NULL, NULL);
  return &c->hw;
}

guint
npu_cluster_n_ranks (const NpuCluster *c)
{
  g_return_val_if_fail (c != NULL, 0);
  return c->n_ranks;
}

guint
npu_cluster_server_of (const NpuCluster *c, guint rank)
{
  g_return_val_if_fail (c != NULL && rank < c->n_ranks, 0);
  return rank / c->hw.dies_per_server;
}

guint
npu_cluster_n_servers (const NpuCluster *c)
{
  g_return_val_if_fail (c != NULL, 0);
  return c->n_servers;
}

NpuEngine *
npu_cluster_engine (const NpuCluster *c)
{
  g_return_val_if_fail (c != NULL, NULL);
  return c->engine;
}

NpuFabric *
npu_cluster_fabric (const NpuCluster *c)
{
  g_return_val_if_fail (c != NULL, NULL);
  return c->fabric;
}

NpuSink *
npu_cluster_sink (const NpuCluster *c)
{
  g_return_val_if_fail (c != NULL, NULL);
  return c->sink;
}

gboolean
npu_cluster_same_server (const NpuCluster *c, guint a, guint b)
{
  g_return_val_if_fail (c != NULL && a < c->n_ranks && b < c->n_ranks, FALSE);
  return a / c->hw.dies_per_server == b / c->hw.dies_per_server;
}

/* ---- servers ------------------------------------------------------------- */

static NpuServer *
lazy_server (NpuCluster *c, NpuServer **slot, const char *fmt, guint rank, guint index)
{
  if (*slot == NULL)
    {
      g_autofree char *name = g_strdup_printf (fmt, rank, index);
      *slot = npu_server_new (c->engine, name);
    }
  return *slot;
}

NpuServer *
npu_cluster_aic (NpuCluster *c, guint rank, guint index)
{
  g_return_val_if_fail (c != NULL && rank < c->n_ranks && index < c->hw.aic_count, NULL);
  return lazy_server (c, &c->aic[(gsize) rank * c->hw.aic_count + index], "r%u.aic%u",
                      rank, index);
}

NpuServer *
npu_cluster_aiv (NpuCluster *c, guint rank, guint index)
{
  g_return_val_if_fail (c != NULL && rank < c->n_ranks && index < c->hw.aiv_count, NULL);
  return lazy_server (c, &c->aiv[(gsize) rank * c->hw.aiv_count + index], "r%u.aiv%u",
                      rank, index);
}

NpuServer *
npu_cluster_aicpu (NpuCluster *c, guint rank, guint index)
{
  g_return_val_if_fail (c != NULL && rank < c->n_ranks && index < c->hw.aicpu_count, NULL);
  return lazy_server (c, &c->aicpu[(gsize) rank * c->hw.aicpu_count + index],
                      "r%u.aicpu%u", rank, index);
}

NpuServer *
npu_cluster_host (NpuCluster *c, guint rank)
{
  g_return_val_if_fail (c != NULL && rank < c->n_ranks, NULL);
  if (c->host[rank] == NULL)
    {
      g_autofree char *name = g_strdup_printf ("r%u.host", rank);
      c->host[rank] = npu_server_new (c->engine, name);
    }
  return c->host[rank];
}

/* ---- paths and links ----------------------------------------------------- */

guint
npu_cluster_path (const NpuCluster *c, guint src, guint dst, guint *links)
{
  g_return_val_if_fail (c != NULL && links != NULL, 0);
  g_return_val_if_fail (src < c->n_ranks && dst < c->n_ranks, 0);

  if (src == dst)
    {
      links[0] = c->hbm[src];
      return 1;
    }
  /* A2: same server -> the HCCS link; A3: same package -> the SIO link. */
  if (src / c->mesh_width == dst / c->mesh_width)
    {
      links[0] = c->mesh[(gsize) src * c->mesh_width + dst % c->mesh_width];
      g_assert (links[0] != NO_LINK);
      return 1;
    }
  guint n = 0;
  links[n++] = c->nic_tx[src];
  if (c->hw.topology == NPU_TOPO_A3 && !npu_cluster_same_server (c, src, dst))
    links[n++] = c->ub_l2[src];
  links[n++] = c->nic_rx[dst];
  g_assert (n <= NPU_MAX_PATH);
  return n;
}

const char *
npu_cluster_link_kind (const NpuCluster *c, guint link)
{
  g_return_val_if_fail (c != NULL, NULL);
  if (link < c->link_base || link - c->link_base >= c->links->len)
    return NULL;
  return link_kind_names[g_array_index (c->links, LinkInfo, link - c->link_base).kind];
}

guint
npu_cluster_link_rank (const NpuCluster *c, guint link)
{
  g_return_val_if_fail (c != NULL, G_MAXUINT);
  if (link < c->link_base || link - c->link_base >= c->links->len)
    return G_MAXUINT;
  return g_array_index (c->links, LinkInfo, link - c->link_base).rank;
}

/* ---- trace tracks -------------------------------------------------------- */

enum { PROC_HARDWARE, PROC_AI_CORE, PROC_COMM, PROC_OVERLAP, PROCS_PER_RANK = 8 };

static const char *const process_names[] = {
  [PROC_HARDWARE] = "Ascend Hardware", [PROC_AI_CORE] = "AI Core",
  [PROC_COMM] = "Communication", [PROC_OVERLAP] = "Overlap Analysis",
};

static const char *const overlap_names[] = {
  "Computing", "Communication", "Communication(Not Overlapped)", "Free",
};

/* TRUE the first time (@pid, @tid) is seen; @tid = G_MAXUINT32 stands for the
 * process itself (no real tid reaches that value). */
static gboolean
first_use (NpuCluster *c, guint32 pid, guint32 tid)
{
  gint64 key = (gint64) (((guint64) pid << 32) | tid);
  if (g_hash_table_contains (c->declared, &key))
    return FALSE;
  g_hash_table_add (c->declared, g_memdup2 (&key, sizeof key));
  return TRUE;
}

static char *
thread_name (NpuTrackKind kind, guint index)
{
  switch (kind)
    {
    case NPU_TRACK_STREAM: return g_strdup_printf ("Stream %u", index);
    case NPU_TRACK_AIC: return g_strdup_printf ("AIC %u", index);
    case NPU_TRACK_AIV: return g_strdup_printf ("AIV %u", index);
    case NPU_TRACK_AICPU: return g_strdup_printf ("AICPU %u", index);
    case NPU_TRACK_HOST: return g_strdup_printf ("Host issue thread %u", index);
    case NPU_TRACK_COMM_GROUP: return g_strdup_printf ("Group %u", index);
    case NPU_TRACK_COMM_PLANE: return g_strdup_printf ("Plane %u", index);
    case NPU_TRACK_OVERLAP: return g_strdup (overlap_names[index]);
    }
  g_assert_not_reached ();
}

void
npu_cluster_track (NpuCluster *c, guint rank, NpuTrackKind kind, guint index, guint32 *pid,
                   guint32 *tid)
{
  g_return_if_fail (c != NULL && rank < c->n_ranks);

  guint proc;
  guint32 t;
  /* Thread ids of one process stay apart: AIC 0..999, AIV 1000.., AICPU 2000.., host 3000..;
   * groups 0..999, planes 1000.. */
  switch (kind)
    {
    case NPU_TRACK_STREAM:
      proc = PROC_HARDWARE, t = index;
      break;
    case NPU_TRACK_AIC:
      g_return_if_fail (index < 1000);
      proc = PROC_AI_CORE, t = index;
      break;
    case NPU_TRACK_AIV:
      g_return_if_fail (index < 1000);
      proc = PROC_AI_CORE, t = 1000 + index;
      break;
    case NPU_TRACK_AICPU:
      g_return_if_fail (index < 1000);
      proc = PROC_AI_CORE, t = 2000 + index;
      break;
    case NPU_TRACK_HOST:
      g_return_if_fail (index < 1000);
      proc = PROC_AI_CORE, t = 3000 + index;
      break;
    case NPU_TRACK_COMM_GROUP:
      g_return_if_fail (index < 1000);
      proc = PROC_COMM, t = index;
      break;
    case NPU_TRACK_COMM_PLANE:
      g_return_if_fail (index < G_MAXUINT32 - 1000);
      proc = PROC_COMM, t = 1000 + index;
      break;
    case NPU_TRACK_OVERLAP:
      g_return_if_fail (index < G_N_ELEMENTS (overlap_names));
      proc = PROC_OVERLAP, t = index;
      break;
    default:
      g_return_if_reached ();
    }

  guint32 p = (guint32) rank * PROCS_PER_RANK + proc;
  if (c->sink != NULL)
    {
      if (first_use (c, p, G_MAXUINT32))
        {
          /* U+00B7 MIDDLE DOT, as in "Rank 3 · AI Core". */
          g_autofree char *pname = g_strdup_printf ("Rank %u \302\267 %s", rank,
                                                    process_names[proc]);
          npu_sink_process (c->sink, p, pname, (gint) p);
        }
      if (first_use (c, p, t))
        {
          g_autofree char *tname = thread_name (kind, index);
          npu_sink_thread (c->sink, p, t, tname, (gint) t);
        }
    }
  if (pid != NULL)
    *pid = p;
  if (tid != NULL)
    *tid = t;
}
