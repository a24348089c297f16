/* npusim — a simulated cluster: ranks (dies), their cores and engines as serial
 * servers, and the links of the topology as fabric links.
 *
 * A2: dies_per_server dies per server, one HCCS link per ordered pair of dies of a
 *     server (full mesh), one RoCE NIC per die (a tx and an rx link) into a
 *     non-blocking switch; a path between servers is src.nic_tx -> dst.nic_rx.
 * A3: dies paired in packages by SIO (one link per direction); every die has a UB
 *     uplink and downlink of ub_ports x ub_port_bw into the non-blocking L1/L2 UB
 *     switching; a path to a die of another package is src.ub_tx -> dst.ub_rx, with
 *     L1 latency inside a node and L2 latency across nodes. The fabric puts latency
 *     on links, so ub_tx carries the L1 latency, ub_rx none, and a cross-node path
 *     also crosses the sender's "ub_l2" link, which carries the extra L2 - L1
 *     latency. ub_l2 has the same capacity as ub_tx: it only ever carries a subset
 *     of ub_tx's flows, so it never binds before ub_tx (the UB plane is
 *     non-blocking, CALIBRATION.md 2.1). ub_l2 links exist only when the cluster
 *     spans more than one node.
 * Every die also has a local "hbm" link (hbm_bw_Bps) used for copies inside a die.
 *
 * Link names: "r3.hbm", "r3.hccs->r5", "r3.roce_tx", "r3.roce_rx", "r0.sio->r1",
 * "r3.ub_tx", "r3.ub_rx", "r3.ub_l2"; created rank by rank in that order.
 * Server names: "r3.aic7", "r3.aiv12", "r3.aicpu0", "r3.host".
 *
 * Rank r is die r; servers (A2) or nodes (A3) hold consecutive ranks. */
#pragma once
#include "sim/engine.h"
#include "sim/server.h"
#include "sim/fabric.h"
#include "sim/sink.h"
#include "models/hw.h"

G_BEGIN_DECLS

typedef struct _NpuCluster NpuCluster;

#define NPU_MAX_PATH 8

/** NpuTrackKind: the msprof-like trace processes of a rank. */
typedef enum {
  NPU_TRACK_STREAM,    /* "Ascend Hardware": one thread per stream, index = stream */
  NPU_TRACK_AIC,       /* "AI Core": AIC index */
  NPU_TRACK_AIV,       /* "AI Core": AIV index */
  NPU_TRACK_AICPU,     /* "AI Core": AICPU, index = AICPU core */
  NPU_TRACK_HOST,      /* "AI Core": the host thread that issues tasks (HCCL HOST mode) */
  NPU_TRACK_COMM_GROUP,/* "Communication": the group thread, index = group */
  NPU_TRACK_COMM_PLANE,/* "Communication": one thread per link plane, index = peer rank
                          or a plane number */
  NPU_TRACK_OVERLAP,   /* "Overlap Analysis": 0 Computing, 1 Communication,
                          2 Communication(Not Overlapped), 3 Free */
} NpuTrackKind;

/**
 * npu_cluster_new: (transfer full)
 * @hw: (transfer none) copied.
 * @n_ranks: 1..hw->max_dies; on A2 more than dies_per_server ranks must be whole
 *   servers (a multiple of dies_per_server, at most max_servers of them).
 * @engine, @fabric: (transfer none) must outlive the cluster; links are added to
 *   @fabric here.
 * @sink: (nullable) (transfer none) tracks are declared on it lazily, at first use.
 * Errors: NPU_PRESET_ERROR_VALUE when @n_ranks does not fit the topology, or when a
 * link the topology needs has zero bandwidth (e.g. link.sio_bw_Bps = 0 on A3), or
 * the A3 L2 latency is below the L1 latency, naming the field.
 */
NpuCluster *npu_cluster_new (const NpuHw *hw, guint n_ranks, NpuEngine *engine,
                             NpuFabric *fabric, NpuSink *sink, GError **error);
void npu_cluster_free (NpuCluster *cluster);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NpuCluster, npu_cluster_free)

const NpuHw *npu_cluster_hw (const NpuCluster *cluster);
guint npu_cluster_n_ranks (const NpuCluster *cluster);
/** npu_cluster_server_of: the A2 server or A3 node holding @rank. */
guint npu_cluster_server_of (const NpuCluster *cluster, guint rank);
guint npu_cluster_n_servers (const NpuCluster *cluster);
NpuEngine *npu_cluster_engine (const NpuCluster *cluster);
NpuFabric *npu_cluster_fabric (const NpuCluster *cluster);
NpuSink *npu_cluster_sink (const NpuCluster *cluster);

/* Serial servers of a rank, created lazily, owned by the cluster. */
NpuServer *npu_cluster_aic (NpuCluster *cluster, guint rank, guint index);
NpuServer *npu_cluster_aiv (NpuCluster *cluster, guint rank, guint index);
NpuServer *npu_cluster_aicpu (NpuCluster *cluster, guint rank, guint index);
/** npu_cluster_host: the host thread that issues tasks in HCCL's HOST mode. */
NpuServer *npu_cluster_host (NpuCluster *cluster, guint rank);

/**
 * npu_cluster_path: the links from @src to @dst (fabric link ids) into @links
 * (room for NPU_MAX_PATH). @src == @dst gives the die's local HBM link.
 * Returns: the number of links.
 */
guint npu_cluster_path (const NpuCluster *cluster, guint src, guint dst, guint *links);

/** npu_cluster_same_server: TRUE if both ranks are in one A2 server / A3 node. */
gboolean npu_cluster_same_server (const NpuCluster *cluster, guint a, guint b);

/**
 * npu_cluster_track: the trace track of (@rank, @kind, @index), declared on the
 * sink at first use with msprof-like names. Returns pid and tid.
 * pid = rank·8 + k, k: 0 "Rank r · Ascend Hardware" (streams), 1 "Rank r · AI Core"
 * (AIC, AIV, AICPU), 2 "Rank r · Communication" (groups, planes), 3 "Rank r ·
 * Overlap Analysis"; process sort index = pid. tid: stream = index ("Stream i"),
 * AIC = index ("AIC i"), AIV = 1000 + index ("AIV j"), AICPU = 2000 + index
 * ("AICPU q"), group = index ("Group i"), plane = 1000 + index ("Plane i"),
 * overlap = index 0..3 (Computing, Communication, Communication(Not Overlapped),
 * Free); thread sort index = tid.
 */
void npu_cluster_track (NpuCluster *cluster, guint rank, NpuTrackKind kind, guint index,
                        guint32 *pid, guint32 *tid);

/** npu_cluster_link_kind: "hccs", "roce_tx", "roce_rx", "sio", "ub_tx", "ub_rx",
 * "ub_l2", "hbm"; NULL for a fabric link the cluster did not create. */
const char *npu_cluster_link_kind (const NpuCluster *cluster, guint link);
/** npu_cluster_link_rank: the rank that owns @link: the sender for hccs, sio, *_tx,
 * ub_l2 and hbm links, the receiving die for roce_rx / ub_rx (its NIC / port);
 * G_MAXUINT for a fabric link the cluster did not create. */
guint npu_cluster_link_rank (const NpuCluster *cluster, guint link);

G_END_DECLS
