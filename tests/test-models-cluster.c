/* Tests of models/cluster.c: links of both topologies, paths and their latencies,
 * lazily created servers, trace tracks, and rank-count validation. Expected counts
 * and latencies are derived by hand from the wiring described in cluster.h and the
 * preset numbers (A2: HCCS 28 GB/s 0.5 µs, RoCE 25 GB/s 1.5 µs; A3: SIO 224 GB/s
 * 0.2 µs, UB 7 x 28 GB/s, L1 0.5 µs, L2 1.5 µs). */
#include <string.h>
#include "models/cluster.h"

typedef struct {
  NpuEngine *engine;
  NpuFabric *fabric;
  NpuPreset *preset;
  NpuCluster *cluster;
} Fixture;

static void
fixture_open (Fixture *f, const char *preset, guint n_ranks, NpuSink *sink)
{
  g_autoptr (GError) error = NULL;
  f->preset = npu_preset_load (preset, &error);
  g_assert_no_error (error);
  f->engine = npu_engine_new ();
  f->fabric = npu_fabric_new (f->engine);
  f->cluster = npu_cluster_new (npu_preset_hw (f->preset), n_ranks, f->engine, f->fabric, sink,
                                &error);
  g_assert_no_error (error);
  g_assert_nonnull (f->cluster);
}

static void
fixture_close (Fixture *f)
{
  npu_cluster_free (f->cluster);
  npu_fabric_free (f->fabric);
  npu_engine_free (f->engine);
  npu_preset_free (f->preset);
}

static guint
count_kind (const NpuCluster *c, NpuFabric *fabric, const char *kind)
{
  guint n = 0;
  for (guint l = 0; l < npu_fabric_n_links (fabric); l++)
    if (g_strcmp0 (npu_cluster_link_kind (c, l), kind) == 0)
      n++;
  return n;
}

/* The path's link names joined by " ", and its total latency. */
static char *
path_text (Fixture *f, guint src, guint dst, NpuTime *latency)
{
  guint links[NPU_MAX_PATH];
  guint n = npu_cluster_path (f->cluster, src, dst, links);
  g_assert_cmpuint (n, >=, 1);
  g_assert_cmpuint (n, <=, NPU_MAX_PATH);
  GString *s = g_string_new (NULL);
  *latency = 0;
  for (guint i = 0; i < n; i++)
    {
      g_string_append_printf (s, "%s%s", i ? " " : "", npu_fabric_link_name (f->fabric, links[i]));
      *latency += npu_fabric_link_latency (f->fabric, links[i]);
    }
  return g_string_free (s, FALSE);
}

static void
assert_path (Fixture *f, guint src, guint dst, const char *expect, NpuTime latency)
{
  NpuTime lat;
  g_autofree char *text = path_text (f, src, dst, &lat);
  g_assert_cmpstr (text, ==, expect);
  g_assert_cmpuint (lat, ==, latency);
}

static void
test_a2_one_server (void)
{
  Fixture f;
  fixture_open (&f, "a2", 8, NULL);
  NpuCluster *c = f.cluster;
  /* 8 * 7 ordered HCCS pairs, one HBM and one RoCE tx + rx per die. */
  g_assert_cmpuint (npu_fabric_n_links (f.fabric), ==, 56 + 8 + 16);
  g_assert_cmpuint (count_kind (c, f.fabric, "hccs"), ==, 56);
  g_assert_cmpuint (count_kind (c, f.fabric, "hbm"), ==, 8);
  g_assert_cmpuint (count_kind (c, f.fabric, "roce_tx"), ==, 8);
  g_assert_cmpuint (count_kind (c, f.fabric, "roce_rx"), ==, 8);
  g_assert_cmpuint (npu_cluster_n_servers (c), ==, 1);
  g_assert_cmpuint (npu_cluster_n_ranks (c), ==, 8);

  assert_path (&f, 3, 5, "r3.hccs->r5", 500000);
  assert_path (&f, 5, 3, "r5.hccs->r3", 500000);
  assert_path (&f, 0, 7, "r0.hccs->r7", 500000);
  assert_path (&f, 4, 4, "r4.hbm", 0);

  guint links[NPU_MAX_PATH];
  g_assert_cmpuint (npu_cluster_path (c, 3, 5, links), ==, 1);
  g_assert_cmpfloat (npu_fabric_link_bandwidth (f.fabric, links[0]), ==, 28e9);
  g_assert_cmpstr (npu_cluster_link_kind (c, links[0]), ==, "hccs");
  g_assert_cmpuint (npu_cluster_link_rank (c, links[0]), ==, 3);
  g_assert_cmpuint (npu_cluster_path (c, 2, 2, links), ==, 1);
  g_assert_cmpfloat (npu_fabric_link_bandwidth (f.fabric, links[0]),
                     ==, 1.6 * 1024.0 * 1024.0 * 1024.0 * 1024.0);
  g_assert_true (npu_cluster_same_server (c, 0, 7));
  fixture_close (&f);
}

static void
test_a2_two_servers (void)
{
  Fixture f;
  fixture_open (&f, "a2", 16, NULL);
  NpuCluster *c = f.cluster;
  g_assert_cmpuint (npu_fabric_n_links (f.fabric), ==, 2 * 80);
  g_assert_cmpuint (npu_cluster_n_servers (c), ==, 2);
  g_assert_cmpuint (npu_cluster_server_of (c, 7), ==, 0);
  g_assert_cmpuint (npu_cluster_server_of (c, 8), ==, 1);
  g_assert_false (npu_cluster_same_server (c, 7, 8));
  g_assert_true (npu_cluster_same_server (c, 8, 15));

  /* Across servers: the sender's NIC then the receiver's, RoCE latency once. */
  assert_path (&f, 3, 12, "r3.roce_tx r12.roce_rx", 1500000);
  assert_path (&f, 12, 3, "r12.roce_tx r3.roce_rx", 1500000);
  assert_path (&f, 9, 14, "r9.hccs->r14", 500000);

  guint links[NPU_MAX_PATH];
  g_assert_cmpuint (npu_cluster_path (c, 3, 12, links), ==, 2);
  g_assert_cmpfloat (npu_fabric_link_bandwidth (f.fabric, links[0]), ==, 25e9);
  g_assert_cmpfloat (npu_fabric_link_bandwidth (f.fabric, links[1]), ==, 25e9);
  g_assert_cmpstr (npu_cluster_link_kind (c, links[1]), ==, "roce_rx");
  g_assert_cmpuint (npu_cluster_link_rank (c, links[0]), ==, 3);
  g_assert_cmpuint (npu_cluster_link_rank (c, links[1]), ==, 12); /* its NIC */
  fixture_close (&f);
}

static void
test_a3_node (void)
{
  Fixture f;
  fixture_open (&f, "a3", 16, NULL);
  NpuCluster *c = f.cluster;
  /* One node: hbm, sio to the partner, ub_tx, ub_rx per die; no ub_l2. */
  g_assert_cmpuint (npu_fabric_n_links (f.fabric), ==, 16 * 4);
  g_assert_cmpuint (count_kind (c, f.fabric, "sio"), ==, 16);
  g_assert_cmpuint (count_kind (c, f.fabric, "ub_l2"), ==, 0);
  g_assert_cmpuint (npu_cluster_n_servers (c), ==, 1);

  assert_path (&f, 0, 1, "r0.sio->r1", 200000);
  assert_path (&f, 1, 0, "r1.sio->r0", 200000);
  assert_path (&f, 14, 15, "r14.sio->r15", 200000);
  assert_path (&f, 1, 2, "r1.ub_tx r2.ub_rx", 500000);   /* other package */
  assert_path (&f, 0, 15, "r0.ub_tx r15.ub_rx", 500000);

  guint links[NPU_MAX_PATH];
  g_assert_cmpuint (npu_cluster_path (c, 0, 1, links), ==, 1);
  g_assert_cmpfloat (npu_fabric_link_bandwidth (f.fabric, links[0]), ==, 224e9);
  g_assert_cmpuint (npu_cluster_path (c, 1, 2, links), ==, 2);
  g_assert_cmpfloat (npu_fabric_link_bandwidth (f.fabric, links[0]), ==, 7 * 28e9);
  g_assert_cmpfloat (npu_fabric_link_bandwidth (f.fabric, links[1]), ==, 7 * 28e9);
  fixture_close (&f);
}

static void
test_a3_cross_node (void)
{
  Fixture f;
  fixture_open (&f, "a3", 32, NULL);
  NpuCluster *c = f.cluster;
  g_assert_cmpuint (npu_fabric_n_links (f.fabric), ==, 32 * 5);
  g_assert_cmpuint (count_kind (c, f.fabric, "ub_l2"), ==, 32);
  g_assert_cmpuint (npu_cluster_n_servers (c), ==, 2);
  g_assert_cmpuint (npu_cluster_server_of (c, 16), ==, 1);

  /* Across nodes the total is the L2 latency 1.5 µs: 0.5 on ub_tx + 1.0 on ub_l2. */
  assert_path (&f, 0, 16, "r0.ub_tx r0.ub_l2 r16.ub_rx", 1500000);
  assert_path (&f, 31, 2, "r31.ub_tx r31.ub_l2 r2.ub_rx", 1500000);
  assert_path (&f, 2, 5, "r2.ub_tx r5.ub_rx", 500000);
  assert_path (&f, 16, 17, "r16.sio->r17", 200000);
  fixture_close (&f);
}

static void
record_done (gpointer data, NpuTime now)
{
  *(NpuTime *) data = now;
}

/* The paths carry flows: two flows out of die 0 share its UB uplink (196 GB/s,
 * 98 GB/s each); 196000 B at 98 GB/s take 2 µs, plus 0.5 µs inside the node or
 * 1.5 µs across nodes. ub_l2 (same capacity, a subset of the flows) never binds. */
static void
test_a3_flows (void)
{
  Fixture f;
  fixture_open (&f, "a3", 32, NULL);
  guint links[NPU_MAX_PATH];
  NpuTime near = 0, far = 0;
  guint n = npu_cluster_path (f.cluster, 0, 2, links);
  npu_fabric_start_flow (f.fabric, links, n, 196000, 0, record_done, &near);
  n = npu_cluster_path (f.cluster, 0, 16, links);
  npu_fabric_start_flow (f.fabric, links, n, 196000, 0, record_done, &far);
  npu_engine_run (f.engine);
  g_assert_cmpuint (near, ==, 2500000);
  g_assert_cmpuint (far, ==, 3500000);
  fixture_close (&f);
}

static void
test_a3_odd (void)
{
  /* 3 dies: die 2's partner is absent, it reaches the others over UB. */
  Fixture f;
  fixture_open (&f, "a3", 3, NULL);
  g_assert_cmpuint (count_kind (f.cluster, f.fabric, "sio"), ==, 2);
  assert_path (&f, 2, 0, "r2.ub_tx r0.ub_rx", 500000);
  fixture_close (&f);
}

static void
test_foreign_links (void)
{
  /* Links added to the fabric before the cluster are not the cluster's. */
  g_autoptr (GError) error = NULL;
  g_autoptr (NpuPreset) p = npu_preset_load ("a2", &error);
  g_assert_no_error (error);
  g_autoptr (NpuEngine) engine = npu_engine_new ();
  g_autoptr (NpuFabric) fabric = npu_fabric_new (engine);
  guint other = npu_fabric_add_link (fabric, "other", 1e9, 0);
  g_autoptr (NpuCluster) c = npu_cluster_new (npu_preset_hw (p), 2, engine, fabric, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (npu_cluster_link_kind (c, other));
  g_assert_cmpuint (npu_cluster_link_rank (c, other), ==, G_MAXUINT);
  guint links[NPU_MAX_PATH];
  g_assert_cmpuint (npu_cluster_path (c, 1, 0, links), ==, 1);
  g_assert_cmpstr (npu_fabric_link_name (fabric, links[0]), ==, "r1.hccs->r0");
  g_assert_cmpstr (npu_cluster_link_kind (c, links[0]), ==, "hccs");
  /* 2 dies: 2 hccs + 2 hbm + 4 roce, after the foreign one. */
  g_assert_cmpuint (npu_fabric_n_links (fabric), ==, 1 + 8);
}

static void
expect_bad (const char *preset, guint n_ranks, const char *setting, const char *value,
            const char *mention)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NpuPreset) p = npu_preset_load (preset, &error);
  g_assert_no_error (error);
  if (setting != NULL)
    g_assert_true (npu_preset_set (p, setting, value, "test", NULL));
  g_autoptr (NpuEngine) engine = npu_engine_new ();
  g_autoptr (NpuFabric) fabric = npu_fabric_new (engine);
  g_autoptr (NpuCluster) c = npu_cluster_new (npu_preset_hw (p), n_ranks, engine, fabric, NULL,
                                              &error);
  g_assert_null (c);
  g_assert_error (error, NPU_PRESET_ERROR, NPU_PRESET_ERROR_VALUE);
  if (strstr (error->message, mention) == NULL)
    g_error ("%s x %u: expected '%s' in: %s", preset, n_ranks, mention, error->message);
  g_assert_cmpuint (npu_fabric_n_links (fabric), ==, 0);
}

static void
test_bad_rank_counts (void)
{
  expect_bad ("a2", 0, NULL, NULL, "max_dies");
  expect_bad ("a2", 12, NULL, NULL, "dies_per_server");  /* 1.5 servers */
  expect_bad ("a2", 72, NULL, NULL, "max_dies");         /* 9 servers */
  expect_bad ("a2", 72, "topology.max_dies", "128", "max_servers");
  expect_bad ("a3", 0, NULL, NULL, "max_dies");
  expect_bad ("a3", 769, NULL, NULL, "max_dies");
  /* Links the topology needs must have bandwidth. */
  expect_bad ("a3", 4, "link.sio_bw_Bps", "0", "link.sio_bw_Bps");
  expect_bad ("a3", 4, "link.ub_ports", "0", "link.ub_ports");
  expect_bad ("a2", 8, "link.hccs_bw_Bps", "0", "link.hccs_bw_Bps");
  expect_bad ("a3", 32, "link.ub_l2_latency_us", "0.1", "link.ub_l2_latency_us");

  /* Good edges: 1 die, part of a server, whole 8 servers, the full supernode. */
  const struct { const char *preset; guint n; } ok[] = {
    { "a2", 1 }, { "a2", 4 }, { "a2", 64 }, { "a3", 1 }, { "a3", 768 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (ok); i++)
    {
      Fixture f;
      fixture_open (&f, ok[i].preset, ok[i].n, NULL);
      fixture_close (&f);
    }
}

static void
test_servers (void)
{
  Fixture f;
  fixture_open (&f, "a2", 8, NULL);
  NpuCluster *c = f.cluster;
  NpuServer *aic = npu_cluster_aic (c, 3, 7);
  g_assert_cmpstr (npu_server_name (aic), ==, "r3.aic7");
  g_assert_true (npu_cluster_aic (c, 3, 7) == aic);
  g_assert_false (npu_cluster_aic (c, 3, 6) == aic);
  g_assert_cmpstr (npu_server_name (npu_cluster_aiv (c, 3, 12)), ==, "r3.aiv12");
  g_assert_cmpstr (npu_server_name (npu_cluster_aiv (c, 0, 47)), ==, "r0.aiv47");
  g_assert_cmpstr (npu_server_name (npu_cluster_aicpu (c, 3, 0)), ==, "r3.aicpu0");
  g_assert_cmpstr (npu_server_name (npu_cluster_host (c, 3)), ==, "r3.host");
  g_assert_true (npu_cluster_host (c, 3) == npu_cluster_host (c, 3));
  g_assert_true (npu_cluster_engine (c) == f.engine);
  g_assert_true (npu_cluster_fabric (c) == f.fabric);
  g_assert_null (npu_cluster_sink (c));
  g_assert_cmpfloat (npu_cluster_hw (c)->hccs_link_bw_Bps, ==, 28e9);
  fixture_close (&f);
}

/* ---- tracks, through a recording sink ------------------------------------- */

typedef struct {
  NpuSink parent;
  GString *log;
} RecSink;

static void
rec_process (NpuSink *sink, guint32 pid, const char *name, gint sort_index)
{
  g_string_append_printf (((RecSink *) sink)->log, "P %u %s %d\n", pid, name, sort_index);
}

static void
rec_thread (NpuSink *sink, guint32 pid, guint32 tid, const char *name, gint sort_index)
{
  g_string_append_printf (((RecSink *) sink)->log, "T %u %u %s %d\n", pid, tid, name, sort_index);
}

static const NpuSinkClass rec_class = { .process = rec_process, .thread = rec_thread };

static void
track (NpuCluster *c, guint rank, NpuTrackKind kind, guint index, guint32 pid, guint32 tid)
{
  guint32 p = 0, t = 0;
  npu_cluster_track (c, rank, kind, index, &p, &t);
  g_assert_cmpuint (p, ==, pid);
  g_assert_cmpuint (t, ==, tid);
}

static void
test_tracks (void)
{
  RecSink sink = { { &rec_class }, g_string_new (NULL) };
  Fixture f;
  fixture_open (&f, "a2", 8, &sink.parent);
  NpuCluster *c = f.cluster;

  track (c, 3, NPU_TRACK_AIV, 12, 3 * 8 + 1, 1012);
  track (c, 3, NPU_TRACK_AIV, 12, 25, 1012); /* again: no new declarations */
  track (c, 3, NPU_TRACK_AIC, 7, 25, 7);
  track (c, 3, NPU_TRACK_AICPU, 2, 25, 2002);
  track (c, 0, NPU_TRACK_STREAM, 5, 0, 5);
  track (c, 7, NPU_TRACK_COMM_GROUP, 1, 58, 1);
  track (c, 7, NPU_TRACK_COMM_PLANE, 4, 58, 1004);
  track (c, 2, NPU_TRACK_OVERLAP, 2, 19, 2);
  track (c, 2, NPU_TRACK_OVERLAP, 3, 19, 3);

  g_assert_cmpstr (sink.log->str, ==,
                   "P 25 Rank 3 \302\267 AI Core 25\n"
                   "T 25 1012 AIV 12 1012\n"
                   "T 25 7 AIC 7 7\n"
                   "T 25 2002 AICPU 2 2002\n"
                   "P 0 Rank 0 \302\267 Ascend Hardware 0\n"
                   "T 0 5 Stream 5 5\n"
                   "P 58 Rank 7 \302\267 Communication 58\n"
                   "T 58 1 Group 1 1\n"
                   "T 58 1004 Plane 4 1004\n"
                   "P 19 Rank 2 \302\267 Overlap Analysis 19\n"
                   "T 19 2 Communication(Not Overlapped) 2\n"
                   "T 19 3 Free 3\n");
  track (c, 2, NPU_TRACK_OVERLAP, 0, 19, 0);
  track (c, 2, NPU_TRACK_OVERLAP, 1, 19, 1);
  g_assert_true (g_str_has_suffix (sink.log->str, "T 19 0 Computing 0\nT 19 1 Communication 1\n"));
  fixture_close (&f);
  g_string_free (sink.log, TRUE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/models/cluster/a2-one-server", test_a2_one_server);
  g_test_add_func ("/models/cluster/a2-two-servers", test_a2_two_servers);
  g_test_add_func ("/models/cluster/a3-node", test_a3_node);
  g_test_add_func ("/models/cluster/a3-cross-node", test_a3_cross_node);
  g_test_add_func ("/models/cluster/a3-flows", test_a3_flows);
  g_test_add_func ("/models/cluster/a3-odd", test_a3_odd);
  g_test_add_func ("/models/cluster/foreign-links", test_foreign_links);
  g_test_add_func ("/models/cluster/bad-rank-counts", test_bad_rank_counts);
  g_test_add_func ("/models/cluster/servers", test_servers);
  g_test_add_func ("/models/cluster/tracks", test_tracks);
  return g_test_run ();
}
