/* npusim — flow-level fabric.
 *
 * Links are one-directional pipes with a bandwidth (bytes/s) and a latency (ps).
 * A flow moves a byte count over a path of links. All active flows share link
 * bandwidth max-min fairly (water-filling), each flow optionally capped by its own
 * rate limit (the sending engine's rate: an SDMA task's 19.3 GB/s, an AIV core's MTE
 * rate). Rates are recomputed once per instant at which flows start or end (an event
 * of class NPU_PRIO_RATE). A flow's last byte leaves the source when its remaining
 * bytes drain; it completes at that time plus the sum of the path's link latencies.
 *
 * Rate arithmetic is IEEE double in a fixed order (no FMA, no ordering by pointer),
 * so it is bit-identical everywhere; completion times are rounded up to whole ps.
 *
 * Only the connected component (flows sharing links, transitively) of the links whose
 * flows changed is re-allocated. A flow occupies its links (bandwidth, busy time) from
 * its start until its last byte leaves; the path latency that follows uses no
 * bandwidth. Flows started at one instant take part in that instant's re-allocation,
 * which runs after every START-class event of the instant (see NpuPrio). */
#pragma once
#include "sim/engine.h"
#include "sim/sink.h"

G_BEGIN_DECLS

typedef struct _NpuFabric NpuFabric;

/** NpuFlowDoneFunc: the flow's last byte has arrived at the destination. */
typedef void (*NpuFlowDoneFunc) (gpointer data, NpuTime now);

/** npu_fabric_new: (transfer full) @engine (transfer none) must outlive the fabric. */
NpuFabric *npu_fabric_new (NpuEngine *engine);
void npu_fabric_free (NpuFabric *fabric);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NpuFabric, npu_fabric_free)

/**
 * npu_fabric_add_link:
 * @name: (transfer none) copied, e.g. "r0.hccs->r3".
 * @bandwidth_Bps: capacity in bytes per second, > 0.
 * @latency_ps: added once per flow crossing the link.
 * Returns: the link id (dense, from 0 in order of creation).
 */
guint npu_fabric_add_link (NpuFabric *fabric, const char *name, double bandwidth_Bps,
                           NpuTime latency_ps);

/** npu_fabric_set_link_bandwidth: change a link's capacity (before or during a run). */
void npu_fabric_set_link_bandwidth (NpuFabric *fabric, guint link, double bandwidth_Bps);

guint npu_fabric_n_links (const NpuFabric *fabric);
const char *npu_fabric_link_name (const NpuFabric *fabric, guint link);
double npu_fabric_link_bandwidth (const NpuFabric *fabric, guint link);
NpuTime npu_fabric_link_latency (const NpuFabric *fabric, guint link);

/**
 * npu_fabric_start_flow:
 * @links: (array length=n_links) path in order, copied; n_links may be 0 (a local
 *   move that only the @rate_cap_Bps bounds; then the cap must be > 0).
 * @bytes: payload; 0 completes after the path latency only (never inside this call).
 * @rate_cap_Bps: the flow's own limit, or 0 for none.
 * @done: (nullable) called at completion (event class NPU_PRIO_END).
 * A path must not repeat a link.
 * Returns: a flow id unique within the fabric (dense, from 0 in order of starts).
 */
guint64 npu_fabric_start_flow (NpuFabric *fabric, const guint *links, guint n_links,
                               guint64 bytes, double rate_cap_Bps,
                               NpuFlowDoneFunc done, gpointer data);

/** npu_fabric_current_rate: the rate (B/s) the flow currently gets; 0 if finished. */
double npu_fabric_current_rate (const NpuFabric *fabric, guint64 flow_id);

/** npu_fabric_link_bytes: bytes that have crossed the link so far (flows), plus the bytes
 * of every npu_fabric_account() call on it. */
double npu_fabric_link_bytes (const NpuFabric *fabric, guint link);

/** npu_fabric_link_busy_ps: time during which at least one flow used the link, or an
 * accounted transfer (npu_fabric_account()) crossed it, ps. */
NpuTime npu_fabric_link_busy_ps (const NpuFabric *fabric, guint link);

/**
 * npu_fabric_account:
 * Record on @link a transfer that the caller times itself instead of running it as a
 * flow (an operator model's own first-come-first-served port queue, e.g. the MoE AIV
 * writes over UB, ops/moe-a3-plan.c): @bytes cross the link during
 * [@start_ps, @end_ps). It takes no capacity from the fabric's flows and they take none
 * from it; it only counts: npu_fabric_link_bytes() includes @bytes from this call on,
 * and npu_fabric_link_busy_ps() the interval, as a union with the flows' busy periods
 * and the other accounted intervals (time covered twice counts once). The interval may
 * lie in the future (it is credited at once) but must not start before the current
 * time, and @end_ps >= @start_ps. Accounted transfers do not appear in the
 * utilisation counters of npu_fabric_set_counter_sink().
 */
void npu_fabric_account (NpuFabric *fabric, guint link, guint64 bytes, NpuTime start_ps,
                         NpuTime end_ps);

/**
 * npu_fabric_set_counter_sink:
 * Report each link's utilisation (used/capacity, 0..1) to @sink as counter samples
 * whenever it changes; @pid_of_link(link) chooses the process, @counter_name the
 * counter (e.g. "HCCS r0->r3 util"); the sample's series is "util". @describe is
 * asked once per link, at its first sample; returning FALSE (or a NULL name) skips
 * the link. A NULL @sink or @describe disables the counters. Samples are taken at the
 * re-allocations, so a link's value changes at most once per instant.
 */
typedef gboolean (*NpuLinkCounterFunc) (gpointer data, guint link, guint32 *pid,
                                        const char **counter_name);
void npu_fabric_set_counter_sink (NpuFabric *fabric, NpuSink *sink,
                                  NpuLinkCounterFunc describe, gpointer data);

G_END_DECLS
