/* Library-level tests of the HCCL collectives (ops/hccl-*.c).
 *
 * Each case builds engine + fabric + cluster + graph directly, creates the op from its
 * scenario JSON the way the runner does, runs the graph with the hazard checker on,
 * and compares every recvBuf with the answer computed here from the definition of the
 * collective:
 *  - integer-valued inputs (randint) make every sum exact in fp16/bf16/fp32, and the
 *    int8 range is kept inside [-128, 127], so any summation order gives the same
 *    bits and the check is about data movement: A2 1 server (8 ranks), A2 2 servers
 *    (16), A2 4 servers (32, ring and NHR), A3 (16 dies), sub-groups, several CCL
 *    loops (small hccl.buffer_bytes), uneven AlltoAllV counts;
 *  - real-valued fp16/bf16 AllReduce with "deterministic": true is checked against the
 *    documented order (pairwise tree in the server, then the servers) computed here
 *    with its own loops; the default A2 one-server AllReduce (concurrent inline
 *    reduces) must equal the slice owner's value plus every peer's, each added once
 *    with one rounding, in one order per slice;
 *  - timing-only runs the same events: identical op end times and task count;
 *  - A2 FFTS+ graphs: a small AllReduce takes exactly the critical path derived here
 *    from the preset (syncs between streams of a chip cost nothing), and a cold graph
 *    (built on the call) is slower than a cached one by the build of its contexts;
 *  - malformed specs give NPU_OP_ERROR_SCENARIO naming the key path. */
#include <glib.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "ops/hccl.h"
#include "sim/graph.h"
#include "models/cluster.h"

typedef struct {
  NpuEngine *engine;
  NpuFabric *fabric;
  NpuCluster *cluster;
  NpuGraph *graph;
  GHashTable *streams;
  NpuOpEnv env;
  NpuHw hw;
  NpuOp *op;
} World;

static NpuStream *
world_stream (gpointer data, guint rank, guint index)
{
  World *w = data;
  gpointer key = GUINT_TO_POINTER (rank * 1024u + index + 1u);
  NpuStream *s = g_hash_table_lookup (w->streams, key);
  if (s == NULL)
    {
      guint32 pid, tid;
      npu_cluster_track (w->cluster, rank, NPU_TRACK_STREAM, index, &pid, &tid);
      g_autofree char *name = g_strdup_printf ("r%u.s%u", rank, index);
      s = npu_graph_stream_new (w->graph, name, pid, tid);
      g_hash_table_insert (w->streams, key, s);
    }
  return s;
}

static World *
world_new (const char *preset, guint n_ranks, gboolean data_mode, guint64 buffer_bytes)
{
  World *w = g_new0 (World, 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (NpuPreset) p = npu_preset_load (preset, &error);
  g_assert_no_error (error);
  w->hw = *npu_preset_hw (p);
  if (buffer_bytes != 0)
    w->hw.hccl_buffer_bytes = buffer_bytes;
  w->engine = npu_engine_new ();
  w->fabric = npu_fabric_new (w->engine);
  w->cluster = npu_cluster_new (&w->hw, n_ranks, w->engine, w->fabric, NULL, &error);
  g_assert_no_error (error);
  w->graph = npu_graph_new (w->engine, w->fabric, NULL, data_mode, TRUE);
  w->streams = g_hash_table_new (g_direct_hash, g_direct_equal);
  w->env = (NpuOpEnv) { .cluster = w->cluster, .graph = w->graph, .hw = &w->hw,
                        .data_mode = data_mode, .seed = 7, .trace_level = NPU_TRACE_ALL,
                        .scenario_dir = NULL, .stream = world_stream, .runner = w };
  return w;
}

static void
world_free (World *w)
{
  if (w->op != NULL)
    npu_op_free (w->op);
  g_hash_table_unref (w->streams);
  npu_graph_free (w->graph);
  npu_cluster_free (w->cluster);
  npu_fabric_free (w->fabric);
  npu_engine_free (w->engine);
  g_free (w);
}

static const NpuOpClass *
klass_of (const char *name)
{
  const NpuOpClass *k[] = { &npu_hccl_allgather_class, &npu_hccl_reducescatter_class,
                            &npu_hccl_allreduce_class, &npu_hccl_alltoall_class,
                            &npu_hccl_alltoallv_class };
  for (guint i = 0; i < G_N_ELEMENTS (k); i++)
    if (g_str_equal (k[i]->name, name))
      return k[i];
  g_assert_not_reached ();
}

/* Create the op as the runner does; NULL + error on a spec error. */
static NpuOp *
world_create (World *w, const char *op, const char *spec_json, const guint *ranks, guint n,
              GError **error)
{
  json_error_t jerr;
  json_t *spec = json_loads (spec_json, 0, &jerr);
  g_assert_nonnull (spec);
  w->env.group_ranks = ranks;
  w->env.group_size = n;
  NpuOp *o = klass_of (op)->create (spec, "ops[3]", &w->env, error);
  w->env.group_ranks = NULL;
  w->env.group_size = 0;
  json_decref (spec);
  if (o == NULL)
    return NULL;
  o->name = g_strdup ("coll");
  o->index = 3;
  o->n_ranks = n;
  o->ranks = g_memdup2 (ranks, sizeof (guint) * n);
  o->stream = 0;
  return o;
}

/* Create, prepare, plan and run; asserts success. */
static NpuOp *
world_run (World *w, const char *op, const char *spec_json, const guint *ranks, guint n)
{
  g_autoptr (GError) error = NULL;
  w->op = world_create (w, op, spec_json, ranks, n, &error);
  g_assert_no_error (error);
  g_assert_true (w->op->klass->prepare (w->op, &w->env, &error));
  g_assert_no_error (error);
  g_assert_true (w->op->klass->plan (w->op, &w->env, &error));
  g_assert_no_error (error);
  gboolean ok = npu_graph_run (w->graph, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  return w->op;
}

static guint *
all_ranks (guint n)
{
  guint *r = g_new (guint, n);
  for (guint i = 0; i < n; i++)
    r[i] = i;
  return r;
}

static double
elem (NpuTensor *t, gsize i)
{
  return npu_dtype_load_f32 (npu_tensor_dtype (t), npu_tensor_data (t), i);
}

static NpuTensor *
tensor (NpuOp *op, guint rank, const char *name)
{
  NpuTensor *t = npu_op_find_tensor (op, rank, name);
  g_assert_nonnull (t);
  return t;
}

/* ---- exact (integer-valued) checks of every collective ---- */

static void
check_exact (NpuOp *op, const char *kind, const guint *ranks, guint n, guint64 count,
             const guint64 *counts)
{
  for (guint g = 0; g < n; g++)
    {
      NpuTensor *recv = tensor (op, ranks[g], "recvBuf");
      gint64 nr = npu_tensor_numel (recv);
      for (gint64 i = 0; i < nr; i++)
        {
          double want = 0;
          if (g_str_equal (kind, "AllReduce"))
            for (guint r = 0; r < n; r++)
              want += elem (tensor (op, ranks[r], "sendBuf"), i);
          else if (g_str_equal (kind, "ReduceScatter"))
            for (guint r = 0; r < n; r++)
              want += elem (tensor (op, ranks[r], "sendBuf"), g * count + i);
          else if (g_str_equal (kind, "AllGather"))
            want = elem (tensor (op, ranks[i / count], "sendBuf"), i % count);
          else
            {
              /* recvBuf of g = blocks from sources 0..n-1; block from src is the
               * block for g in src's sendBuf. */
              guint64 off = i, src = 0;
              while (off >= counts[src * n + g])
                off -= counts[src++ * n + g];
              guint64 sd = 0;
              for (guint j = 0; j < g; j++)
                sd += counts[src * n + j];
              want = elem (tensor (op, ranks[src], "sendBuf"), sd + off);
            }
          double got = elem (recv, i);
          if (got != want)
            g_error ("%s rank %u recvBuf[%" G_GINT64_FORMAT "] = %g, expected %g", kind,
                     ranks[g], i, got, want);
        }
    }
}

typedef struct {
  const char *preset;
  guint cluster_ranks;
  guint n;              /* group = first n ranks unless @group is set */
  const guint *group;
  guint64 buffer_bytes; /* 0 = preset */
  const char *algorithm;
} Topo;

static void
exact_case (const Topo *tp, const char *kind, const char *dtype, guint64 count)
{
  World *w = world_new (tp->preset, tp->cluster_ranks, TRUE, tp->buffer_bytes);
  g_autofree guint *all = all_ranks (tp->n);
  const guint *ranks = tp->group != NULL ? tp->group : all;
  guint n = tp->n;
  /* |x| <= 7 keeps a 16-rank int8 sum inside [-128, 127]; 32 ranks use |x| <= 3. */
  int lim = n > 16 ? 3 : 7;
  g_autofree guint64 *counts = g_new0 (guint64, (gsize) n * n);
  g_autofree char *spec = NULL;
  g_autofree char *algo = tp->algorithm != NULL
    ? g_strdup_printf (", \"algorithm\": \"%s\"", tp->algorithm) : g_strdup ("");
  if (g_str_equal (kind, "AlltoAllV"))
    {
      GString *m = g_string_new ("[");
      for (guint i = 0; i < n; i++)
        {
          g_string_append (m, i ? ",[" : "[");
          for (guint j = 0; j < n; j++)
            {
              /* uneven, with zeros on the diagonal and elsewhere */
              counts[i * n + j] = (i * 7 + j * 3) % 5 == 0 ? 0 : (i + 2 * j) % 9 + 1;
              g_string_append_printf (m, "%s%" G_GUINT64_FORMAT, j ? "," : "", counts[i * n + j]);
            }
          g_string_append (m, "]");
        }
      g_string_append (m, "]");
      spec = g_strdup_printf ("{\"dtype\": \"%s\", \"sendCounts\": %s, \"inputs\": "
                              "{\"sendBuf\": {\"dist\": \"randint\", \"low\": %d, \"high\": %d}}}",
                              dtype, m->str, -lim, lim);
      g_string_free (m, TRUE);
    }
  else
    {
      for (gsize i = 0; i < (gsize) n * n; i++)
        counts[i] = count;
      spec = g_strdup_printf ("{\"dtype\": \"%s\", \"count\": %" G_GUINT64_FORMAT "%s, "
                              "\"inputs\": {\"sendBuf\": {\"dist\": \"randint\", \"low\": %d, "
                              "\"high\": %d}}}", dtype, count,
                              (g_str_equal (kind, "AlltoAll")) ? "" : algo, -lim, lim);
    }
  NpuOp *op = world_run (w, kind, spec, ranks, n);
  check_exact (op, kind, ranks, n, count, counts);
  world_free (w);
}

static const char *const kinds[] = { "AllReduce", "ReduceScatter", "AllGather", "AlltoAll",
                                     "AlltoAllV" };
static const char *const dtypes[] = { "float16", "bfloat16", "float32", "int8" };

static void
exact_all (const Topo *tp, guint64 count)
{
  for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
    for (guint d = 0; d < G_N_ELEMENTS (dtypes); d++)
      exact_case (tp, kinds[k], dtypes[d], count);
}

static void
test_a2_one_server (void)
{
  Topo tp = { "a2", 8, 8, NULL, 0, NULL };
  exact_all (&tp, 1000); /* 1000 elements: slices not a multiple of 128 B */
}

static void
test_a2_two_servers (void)
{
  Topo tp = { "a2", 16, 16, NULL, 0, NULL };
  exact_all (&tp, 777);
}

static void
test_a3_sixteen_dies (void)
{
  Topo tp = { "a3", 16, 16, NULL, 0, NULL };
  exact_all (&tp, 513);
}

static void
test_a2_four_servers (void)
{
  /* 4 servers: HCCL's selector picks NHR; ring forced too. */
  for (guint a = 0; a < 3; a++)
    {
      Topo tp = { "a2", 32, 32, NULL, 0, a == 0 ? NULL : a == 1 ? "ring" : "nhr" };
      exact_case (&tp, "AllReduce", "float32", 300);
      exact_case (&tp, "ReduceScatter", "int8", 37);
      exact_case (&tp, "AllGather", "bfloat16", 41);
    }
  Topo tp = { "a2", 32, 32, NULL, 0, NULL };
  exact_case (&tp, "AlltoAllV", "float16", 0);
}

static void
test_three_and_five_servers (void)
{
  /* non-power-of-two server counts: ring (3) and NHR (5) schedules */
  Topo t3 = { "a2", 24, 24, NULL, 0, NULL };
  exact_case (&t3, "AllReduce", "float32", 500);
  exact_case (&t3, "ReduceScatter", "float32", 20);
  exact_case (&t3, "AllGather", "float32", 20);
  t3.algorithm = "nhr";
  exact_case (&t3, "AllReduce", "float32", 500);
  Topo t5 = { "a2", 40, 40, NULL, 0, "nhr" };
  exact_case (&t5, "AllReduce", "int8", 999);
  exact_case (&t5, "ReduceScatter", "int8", 9);
  exact_case (&t5, "AllGather", "int8", 9);
  exact_case (&t5, "AlltoAll", "int8", 9);
}

static void
test_subgroups (void)
{
  /* 4 ranks of one server (flat mesh), and 2 + 2 ranks of two servers (L = 2). */
  static const guint in_server[] = { 1, 3, 4, 6 };
  static const guint across[] = { 9, 2, 10, 5 };
  Topo a = { "a2", 16, 4, in_server, 0, NULL };
  Topo b = { "a2", 16, 4, across, 0, NULL };
  for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
    {
      exact_case (&a, kinds[k], "float16", 100);
      exact_case (&b, kinds[k], "float16", 100);
    }
  static const guint one[] = { 5 };
  Topo c = { "a2", 8, 1, one, 0, NULL };
  for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
    exact_case (&c, kinds[k], "int8", 10);
}

static void
test_ccl_loops (void)
{
  /* A 4 KiB CCL buffer forces many loops over HCCL_BUFFSIZE. */
  Topo a2 = { "a2", 8, 8, NULL, 4096, NULL };
  Topo h2 = { "a2", 16, 16, NULL, 4096, NULL };
  Topo a3 = { "a3", 16, 16, NULL, 4096, NULL };
  const Topo *tps[] = { &a2, &h2, &a3 };
  for (guint t = 0; t < G_N_ELEMENTS (tps); t++)
    for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
      exact_case (tps[t], kinds[k], "float32", 700);
}

/* ---- the documented reduction order with real-valued inputs ---- */

/* fp16/bf16 add with one rounding, written independently of ops/: the exact sum of
 * two halves is formed in double (exact for fp16; for bf16 the double sum followed by
 * rounding to bf16 equals the correctly rounded sum since 53 >= 2*8+2). */
static float
add_rounded (NpuDtype dt, float a, float b)
{
  double s = (double) a + (double) b;
  if (dt == NPU_DT_FP16)
    return npu_f16_to_f32 (npu_f32_to_f16 ((float) s));
  return npu_bf16_to_f32 (npu_f32_to_bf16 ((float) s));
}

/* Pairwise tree over v[0..n): round r adds v[head + o] into v[o]. */
static float
tree_sum (NpuDtype dt, float *v, guint n)
{
  guint steps = 0;
  while ((1u << steps) < n)
    steps++;
  for (guint r = 0; r < steps; r++)
    {
      guint head = 1u << (steps - r - 1);
      guint tail = MIN (n, 1u << (steps - r)) - 1;
      for (guint o = 0; o + head <= tail; o++)
        v[o] = add_rounded (dt, v[o], v[head + o]);
    }
  return v[0];
}

static void
order_case (const char *preset, guint n, guint per_server, const char *dtype, NpuDtype dt)
{
  World *w = world_new (preset, n, TRUE, 0);
  g_autofree guint *ranks = all_ranks (n);
  g_autofree char *spec = g_strdup_printf ("{\"dtype\": \"%s\", \"count\": 2000, "
                                           "\"deterministic\": true, \"inputs\": "
                                           "{\"sendBuf\": {\"dist\": \"uniform\", \"low\": -3, "
                                           "\"high\": 3}}}", dtype);
  NpuOp *op = world_run (w, "AllReduce", spec, ranks, n);
  g_autofree float *v = g_new0 (float, n);
  guint m = n / per_server;
  guint mismatches = 0, differs_from_sequential = 0;
  for (gsize i = 0; i < 2000; i++)
    {
      float server_sum[8];
      for (guint s = 0; s < m; s++)
        {
          for (guint l = 0; l < per_server; l++)
            v[l] = elem (tensor (op, s * per_server + l, "sendBuf"), i);
          server_sum[s] = tree_sum (dt, v, per_server);
        }
      /* 2 servers: one addition, the same in either order */
      float want = m == 1 ? server_sum[0] : add_rounded (dt, server_sum[0], server_sum[1]);
      float seq = elem (tensor (op, 0, "sendBuf"), i);
      for (guint r = 1; r < n; r++)
        seq = add_rounded (dt, seq, elem (tensor (op, r, "sendBuf"), i));
      differs_from_sequential += seq != want;
      for (guint g = 0; g < n; g++)
        mismatches += elem (tensor (op, g, "recvBuf"), i) != want;
    }
  g_assert_cmpuint (mismatches, ==, 0);
  /* the inputs are rich enough to tell the tree from a rank-order chain */
  g_assert_cmpuint (differs_from_sequential, >, 0);
  world_free (w);
}

static void
test_reduction_order (void)
{
  order_case ("a2", 8, 8, "float16", NPU_DT_FP16);
  order_case ("a2", 8, 8, "bfloat16", NPU_DT_BF16);
  order_case ("a2", 16, 8, "float16", NPU_DT_FP16);
  order_case ("a3", 16, 16, "bfloat16", NPU_DT_BF16);
}

/* fp32 add in IEEE single (the value of one fp32 inline-reduce step). */
static float
add_dt (NpuDtype dt, float a, float b)
{
  if (dt == NPU_DT_FP32)
    return (float) ((double) a + (double) b); /* exact in double, one rounding */
  return add_rounded (dt, a, b);
}

/* Next permutation of p[0..n) in lexicographic order; FALSE after the last. */
static gboolean
next_perm (guint *p, guint n)
{
  gint i = (gint) n - 2;
  while (i >= 0 && p[i] >= p[i + 1])
    i--;
  if (i < 0)
    return FALSE;
  gint j = (gint) n - 1;
  while (p[j] <= p[i])
    j--;
  guint t = p[i];
  p[i] = p[j];
  p[j] = t;
  for (guint a = i + 1, b = n - 1; a < b; a++, b--)
    t = p[a], p[a] = p[b], p[b] = t;
  return TRUE;
}

/* HCCL's default one-server AllReduce (AllReduceMeshDirect): slice q lands first as
 * rank q's own data, then the n - 1 peers' inline reduces add into it in the order
 * they end. So every element of slice q must be (((x_q + x_a) + x_b) + ...) for one
 * order (a, b, ...) of the peers shared by the whole slice, each addition rounded. */
static void
inline_case (const char *dtype, NpuDtype dt)
{
  const guint n = 8, count = 2000;
  World *w = world_new ("a2", n, TRUE, 0);
  g_autofree guint *ranks = all_ranks (n);
  g_autofree char *spec = g_strdup_printf ("{\"dtype\": \"%s\", \"count\": %u, \"inputs\": "
                                           "{\"sendBuf\": {\"dist\": \"uniform\", \"low\": -3, "
                                           "\"high\": 3}}}", dtype, count);
  NpuOp *op = world_run (w, "AllReduce", spec, ranks, n);
  g_assert_cmpstr (json_string_value (json_object_get (op->attrs, "algorithm")), ==,
                   "mesh, inline reduce");
  /* slices of roundup(ceil(count / n) * size, 128) bytes (PrepareSlice) */
  gsize esize = npu_dtype_size (dt);
  gsize slice = ((count + n - 1) / n * esize + 127) / 128 * 128 / esize;
  guint slices_checked = 0;
  for (guint q = 0; q * slice < count; q++)
    {
      gsize lo = q * slice, hi = MIN (count, lo + slice);
      guint perm[8], k = 0;
      for (guint r = 0; r < n; r++)
        if (r != q)
          perm[k++] = r;
      gboolean found = FALSE;
      do
        {
          gboolean ok = TRUE;
          for (gsize i = lo; ok && i < hi; i++)
            {
              float v = elem (tensor (op, q, "sendBuf"), i);
              for (guint j = 0; j < n - 1; j++)
                v = add_dt (dt, v, elem (tensor (op, perm[j], "sendBuf"), i));
              for (guint g = 0; ok && g < n; g++)
                ok = elem (tensor (op, g, "recvBuf"), i) == v;
            }
          found = ok;
        }
      while (!found && next_perm (perm, n - 1));
      if (!found)
        g_error ("%s: slice %u of the inline-reduce AllReduce is not the owner's value plus "
                 "the peers' in any one order", dtype, q);
      slices_checked++;
    }
  g_assert_cmpuint (slices_checked, ==, n);
  world_free (w);
}

static void
test_inline_reduce (void)
{
  inline_case ("float16", NPU_DT_FP16);
  inline_case ("bfloat16", NPU_DT_BF16);
  inline_case ("float32", NPU_DT_FP32);
}

/* ---- FFTS+ graphs on A2 ---- */

/* Latency of each op of a run: from the start of its launch to its end on rank 0. */
static NpuTime
op_latency (NpuOp *op)
{
  return npu_task_end (op->per_rank[0].finish) - npu_task_start (op->per_rank[0].begin);
}

/* A small 8-rank AllReduce: the op time is exactly the critical path of HCCL's
 * AllReduceMeshDirect graph, written out here from the preset. Syncs between streams
 * of one chip are FFTS+ successor edges and cost nothing; with notify tasks of
 * cost.notify_record_local_us the op would be several us longer. */
static void
test_ffts_critical_path (void)
{
  const guint n = 8;
  World *w = world_new ("a2", n, FALSE, 0);
  g_autofree guint *ranks = all_ranks (n);
  /* 8 * 1024 fp16 per rank: slices of 2 KiB */
  NpuOp *op = world_run (w, "AllReduce", "{\"dtype\": \"float16\", \"count\": 8192}", ranks, n);
  const NpuHw *hw = &w->hw;
  double slice = 2048;
  double us = 1e-6 * NPU_PS_PER_S; /* ps per us */
  double sdma_small = hw->sdma_fixed_small_ps;  /* every task here is <= 512 KiB */
  double copy = sdma_small + slice / hw->local_copy_bw_Bps * NPU_PS_PER_S;
  double remote = sdma_small + hw->hccs_latency_ps + slice / hw->sdma_task_bw_Bps * NPU_PS_PER_S;
  double signal = hw->notify_record_ps + hw->notify_wait_ps; /* TxAck + RxAck, or data */
  /* per phase: own-slice copy on main, acks, empty task, the SDMA, data signals */
  double phase = copy + signal + sdma_small + remote + signal;
  double counter = sdma_small + 4.0 / hw->local_copy_bw_Bps * NPU_PS_PER_S;
  double want = hw->hccl_op_fixed_ps + hw->host_task_issue_ps /* graph launch */
                + counter + 2 * phase + counter;
  double got = op_latency (op);
  if (fabs (got - want) > 0.005 * us)
    g_error ("8-rank 16 KiB AllReduce: %.4f us, critical path %.4f us", got / us, want / us);
  world_free (w);
}

/* Run @spec_a then @spec_b (same group, same stream) in one run; their latencies. */
static void
two_ops (const char *preset, guint n, const char *spec_a, const char *spec_b, NpuTime *lat_a,
         NpuTime *lat_b)
{
  World *w = world_new (preset, n, FALSE, 0);
  g_autofree guint *ranks = all_ranks (n);
  g_autoptr (GError) error = NULL;
  NpuOp *a = world_create (w, "AllReduce", spec_a, ranks, n, &error);
  g_assert_no_error (error);
  NpuOp *b = world_create (w, "AllReduce", spec_b, ranks, n, &error);
  g_assert_no_error (error);
  g_free (b->name);
  b->name = g_strdup ("coll2");
  b->index = 4;
  g_assert_true (a->klass->prepare (a, &w->env, &error) && a->klass->plan (a, &w->env, &error));
  g_assert_true (b->klass->prepare (b, &w->env, &error) && b->klass->plan (b, &w->env, &error));
  g_assert_no_error (error);
  g_assert_true (npu_graph_run (w->graph, &error));
  g_assert_no_error (error);
  *lat_a = op_latency (a);
  *lat_b = op_latency (b);
  g_assert_cmpuint (npu_task_start (b->per_rank[0].begin), >=, npu_task_end (a->per_rank[0].finish));
  npu_op_free (a);
  npu_op_free (b);
  world_free (w);
}

/* The first call of a shape builds its FFTS+ graph (host work per context before the
 * launch); a repeated call launches the cached graph. The difference is the build of
 * every context of the graph: for AllReduceMeshDirect on n ranks, per phase the own
 * copy, n-1 TxAck, n-1 RxAck, the empty task, n-1 SDMA, n-1 TxData, n-1 RxData, i.e.
 * 5(n-1) + 2, two phases, plus the head and tail op counters: 10(n-1) + 6 contexts. */
static void
test_graph_cache (void)
{
  const guint n = 8;
  const char *cold = "{\"dtype\": \"float16\", \"count\": 524288, \"graphCache\": \"cold\"}";
  const char *warm = "{\"dtype\": \"float16\", \"count\": 524288}";
  NpuTime first, second;
  two_ops ("a2", n, cold, warm, &first, &second);
  g_autoptr (NpuPreset) p = npu_preset_load ("a2", NULL);
  const NpuHw *hw = npu_preset_hw (p);
  guint64 contexts = 10 * (n - 1) + 6;
  g_assert_cmpuint (first - second, ==, contexts * hw->host_task_issue_ps);
  /* two cached calls take the same time */
  NpuTime w1, w2;
  two_ops ("a2", n, warm, warm, &w1, &w2);
  g_assert_cmpuint (w1, ==, w2);
  g_assert_cmpuint (w1, ==, second);
  /* A3 issues every task from the AICPU (AI_CPU mode): graphCache changes nothing */
  NpuTime a, b;
  two_ops ("a3", 16, "{\"dtype\": \"float16\", \"count\": 65536, \"graphCache\": \"cold\"}",
           "{\"dtype\": \"float16\", \"count\": 65536}", &a, &b);
  g_assert_cmpuint (a, ==, b);
}

static void
test_tree_steps (void)
{
  guint heads[32], counts[32];
  g_assert_cmpuint (npu_hccl_reduce_tree_steps (1, heads, counts), ==, 0);
  g_assert_cmpuint (npu_hccl_reduce_tree_steps (8, heads, counts), ==, 3);
  g_assert_cmpuint (heads[0], ==, 4);
  g_assert_cmpuint (counts[0], ==, 4);
  g_assert_cmpuint (heads[2], ==, 1);
  g_assert_cmpuint (counts[2], ==, 1);
  g_assert_cmpuint (npu_hccl_reduce_tree_steps (6, heads, counts), ==, 3);
  g_assert_cmpuint (heads[0], ==, 4);
  g_assert_cmpuint (counts[0], ==, 2); /* slots 4, 5 into 0, 1 */
  /* int8 wraps, fp16 saturates */
  gint8 a[2] = { 100, -100 }, b[2] = { 100, -100 };
  npu_hccl_reduce_add (NPU_DT_INT8, a, b, 2);
  g_assert_cmpint (a[0], ==, -56);
  g_assert_cmpint (a[1], ==, 56);
  guint16 h = npu_f32_to_f16 (65504.0f), h2 = npu_f32_to_f16 (32.0f);
  npu_hccl_reduce_add (NPU_DT_FP16, &h, &h2, 1);
  g_assert_cmpfloat (npu_f16_to_f32 (h), ==, 65504.0f);
}

/* ---- timing-only runs the same events ---- */

typedef struct {
  guint n_tasks;
  NpuTime end[64];
} Timing;

static void
timing_of (const char *preset, guint n, const char *kind, const char *spec, gboolean data,
           Timing *out)
{
  World *w = world_new (preset, n, data, 0);
  g_autofree guint *ranks = all_ranks (n);
  NpuOp *op = world_run (w, kind, spec, ranks, n);
  out->n_tasks = npu_graph_n_tasks (w->graph);
  for (guint g = 0; g < n; g++)
    out->end[g] = npu_task_end (op->per_rank[g].finish);
  world_free (w);
}

static void
test_timing_only_same (void)
{
  struct { const char *preset; guint n; const char *kind, *spec; } cases[] = {
    { "a2", 8, "AllReduce", "{\"dtype\": \"float16\", \"count\": 100000}" },
    { "a2", 16, "AllReduce", "{\"dtype\": \"bfloat16\", \"count\": 100000}" },
    { "a2", 16, "AlltoAllV", "{\"dtype\": \"int8\", \"sendCounts\": {\"dist\": \"randint\", "
                             "\"low\": 0, \"high\": 5000}}" },
    { "a3", 16, "ReduceScatter", "{\"dtype\": \"float32\", \"count\": 4096}" },
    { "a3", 16, "AllGather", "{\"dtype\": \"float32\", \"count\": 4096}" },
  };
  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      Timing a, b;
      timing_of (cases[c].preset, cases[c].n, cases[c].kind, cases[c].spec, TRUE, &a);
      timing_of (cases[c].preset, cases[c].n, cases[c].kind, cases[c].spec, FALSE, &b);
      g_assert_cmpuint (a.n_tasks, ==, b.n_tasks);
      for (guint g = 0; g < cases[c].n; g++)
        {
          g_assert_cmpuint (a.end[g], ==, b.end[g]);
          g_assert_cmpuint (a.end[g], >, 0);
        }
    }
}

/* A bigger AllReduce takes longer, and an 8-rank 64 MiB AllReduce is bounded below by
 * moving 2 * 7/8 of the data through 7 SDMA tasks at their own rate limit. */
static void
test_timing_sanity (void)
{
  Timing small, big;
  timing_of ("a2", 8, "AllReduce", "{\"dtype\": \"float16\", \"count\": 1048576}", FALSE, &small);
  timing_of ("a2", 8, "AllReduce", "{\"dtype\": \"float16\", \"count\": 33554432}", FALSE, &big);
  g_assert_cmpuint (big.end[0], >, small.end[0]);
  g_autoptr (NpuPreset) p = npu_preset_load ("a2", NULL);
  const NpuHw *hw = npu_preset_hw (p);
  double bytes = 64.0 * 1048576;
  double floor_s = 2 * (bytes / 8) / hw->sdma_task_bw_Bps;
  g_assert_cmpfloat ((double) big.end[0] / NPU_PS_PER_S, >, floor_s);
}

/* ---- spec errors ---- */

static void
expect_error (const char *preset, guint n, const char *kind, const char *spec,
              const char *needle)
{
  World *w = world_new (preset, n, TRUE, 0);
  g_autofree guint *ranks = all_ranks (n);
  g_autoptr (GError) error = NULL;
  NpuOp *op = world_create (w, kind, spec, ranks, n, &error);
  g_assert_null (op);
  g_assert_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO);
  if (strstr (error->message, needle) == NULL)
    g_error ("error '%s' does not mention '%s'", error->message, needle);
  world_free (w);
}

static void
test_errors (void)
{
  expect_error ("a2", 8, "AllReduce", "{\"dtype\": \"float16\", \"count\": 8, \"bogus\": 1}",
                "ops[3].bogus");
  expect_error ("a2", 8, "AllReduce", "{\"dtype\": \"float16\", \"count\": 0}", "ops[3].count");
  expect_error ("a2", 8, "AllReduce", "{\"dtype\": \"float16\", \"count\": -3}", "ops[3].count");
  expect_error ("a2", 8, "AllReduce", "{\"dtype\": \"float16\", \"count\": \"8\"}",
                "ops[3].count");
  expect_error ("a2", 8, "AllReduce", "{\"dtype\": \"float16\"}", "ops[3].count");
  expect_error ("a2", 8, "AllReduce", "{\"count\": 8}", "ops[3].dtype");
  expect_error ("a2", 8, "AllReduce", "{\"dtype\": \"int32\", \"count\": 8}", "ops[3].dtype");
  expect_error ("a2", 8, "AllReduce", "{\"dtype\": \"float16\", \"count\": 8, \"reduceOp\": "
                "\"max\"}", "ops[3].reduceOp");
  expect_error ("a2", 8, "AllReduce", "{\"dtype\": \"float16\", \"count\": 8, \"algorithm\": "
                "\"hd\"}", "ops[3].algorithm");
  expect_error ("a2", 8, "AllGather", "{\"dtype\": \"float16\", \"count\": 8, \"reduceOp\": "
                "\"sum\"}", "ops[3].reduceOp");
  expect_error ("a2", 8, "AlltoAll", "{\"dtype\": \"float16\", \"count\": 8, \"algorithm\": "
                "\"ring\"}", "ops[3].algorithm");
  expect_error ("a2", 8, "AllReduce", "{\"dtype\": \"float16\", \"count\": 8, \"graphCache\": "
                "\"hot\"}", "ops[3].graphCache");
  expect_error ("a2", 8, "AllReduce", "{\"dtype\": \"float16\", \"count\": 8, \"deterministic\": "
                "1}", "ops[3].deterministic");
  expect_error ("a2", 8, "AllGather", "{\"dtype\": \"float16\", \"count\": 8, \"deterministic\": "
                "true}", "ops[3].deterministic");
  expect_error ("a2", 8, "AlltoAllV", "{\"dtype\": \"float16\", \"count\": 8}", "ops[3].count");
  expect_error ("a2", 8, "AlltoAllV", "{\"dtype\": \"float16\"}", "ops[3].sendCounts");
  expect_error ("a2", 2, "AlltoAllV", "{\"dtype\": \"float16\", \"sendCounts\": [[1, 2]]}",
                "ops[3].sendCounts");
  expect_error ("a2", 2, "AlltoAllV", "{\"dtype\": \"float16\", \"sendCounts\": [[1, 2], [3, -1]]}",
                "ops[3].sendCounts[1][1]");
  expect_error ("a2", 2, "AlltoAllV", "{\"dtype\": \"float16\", \"sendCounts\": {\"dist\": "
                "\"randint\", \"low\": 5, \"high\": 1}}", "ops[3].sendCounts.high");
  expect_error ("a2", 8, "AllReduce", "{\"dtype\": \"float16\", \"count\": 8, \"inputs\": "
                "{\"x\": {}}}", "ops[3].inputs.x");
  expect_error ("a2", 8, "AllReduce", "{\"dtype\": \"float16\", \"count\": 8, \"inputs\": "
                "{\"sendBuf\": {\"dist\": \"zipf\"}}}", "ops[3].inputs.sendBuf.dist");

  /* a group that is uneven across A2 servers */
  World *w = world_new ("a2", 16, TRUE, 0);
  static const guint uneven[] = { 0, 1, 2, 8 };
  g_autoptr (GError) error = NULL;
  g_assert_null (world_create (w, "AllReduce", "{\"dtype\": \"float16\", \"count\": 8}", uneven,
                               4, &error));
  g_assert_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO);
  g_assert_nonnull (strstr (error->message, "ops[3].group"));
  world_free (w);
}

/* The manifest attributes the runner writes. */
static void
test_attrs (void)
{
  World *w = world_new ("a2", 16, FALSE, 0);
  g_autofree guint *ranks = all_ranks (16);
  NpuOp *op = world_run (w, "AllReduce", "{\"dtype\": \"bfloat16\", \"count\": 64}", ranks, 16);
  g_assert_cmpstr (json_string_value (json_object_get (op->attrs, "dtype")), ==, "bfloat16");
  g_assert_cmpint (json_integer_value (json_object_get (op->attrs, "count")), ==, 64);
  g_assert_cmpstr (json_string_value (json_object_get (op->attrs, "reduceOp")), ==, "sum");
  g_assert_cmpstr (json_string_value (json_object_get (op->attrs, "algorithm")), ==,
                   "hierarchical: mesh + ring + mesh");
  g_assert_cmpstr (json_string_value (json_object_get (op->attrs, "expansion")), ==, "HOST");
  g_assert_cmpstr (json_string_value (json_object_get (op->attrs, "graphCache")), ==, "warm");
  /* only the one-server A2 AllReduce has HCCL's non-deterministic executor */
  g_assert_true (json_is_true (json_object_get (op->attrs, "deterministic")));
  world_free (w);
  w = world_new ("a2", 8, FALSE, 0);
  op = world_run (w, "AllReduce", "{\"dtype\": \"float16\", \"count\": 64}", ranks, 8);
  g_assert_cmpstr (json_string_value (json_object_get (op->attrs, "algorithm")), ==,
                   "mesh, inline reduce");
  g_assert_true (json_is_false (json_object_get (op->attrs, "deterministic")));
  world_free (w);
  w = world_new ("a3", 16, FALSE, 0);
  op = world_run (w, "AllReduce", "{\"dtype\": \"float16\", \"count\": 64}", ranks, 16);
  g_assert_cmpstr (json_string_value (json_object_get (op->attrs, "expansion")), ==, "AI_CPU");
  g_assert_null (json_object_get (op->attrs, "graphCache"));
  world_free (w);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/hccl/tree-steps", test_tree_steps);
  g_test_add_func ("/hccl/a2-one-server", test_a2_one_server);
  g_test_add_func ("/hccl/a2-two-servers", test_a2_two_servers);
  g_test_add_func ("/hccl/a3-sixteen-dies", test_a3_sixteen_dies);
  g_test_add_func ("/hccl/a2-four-servers", test_a2_four_servers);
  g_test_add_func ("/hccl/a2-three-five-servers", test_three_and_five_servers);
  g_test_add_func ("/hccl/subgroups", test_subgroups);
  g_test_add_func ("/hccl/ccl-loops", test_ccl_loops);
  g_test_add_func ("/hccl/reduction-order", test_reduction_order);
  g_test_add_func ("/hccl/inline-reduce", test_inline_reduce);
  g_test_add_func ("/hccl/ffts-critical-path", test_ffts_critical_path);
  g_test_add_func ("/hccl/graph-cache", test_graph_cache);
  g_test_add_func ("/hccl/timing-only-same", test_timing_only_same);
  g_test_add_func ("/hccl/timing-sanity", test_timing_sanity);
  g_test_add_func ("/hccl/errors", test_errors);
  g_test_add_func ("/hccl/attrs", test_attrs);
  return g_test_run ();
}
