/* npusim tests — flow-level fabric. Expected times are derived by hand in the comments:
 * with rates in GB/s (1e9 B/s), 1 byte takes 1 ns = 1000 ps at 1 GB/s. */
#include "sim/fabric.h"
#include "test-sim-sink.h"

#include <math.h>

#define GB 1e9
#define NS NPU_PS_PER_NS

typedef struct {
  NpuTime done;
  guint calls;
} Done;

static void
on_done (gpointer data, NpuTime now)
{
  Done *d = data;
  d->done = now;
  d->calls++;
}

typedef struct {
  NpuFabric *fabric;
  const guint64 *ids;
  guint n;
  double *rates;   /* n rates sampled at the probe time */
} Probe;

static void
probe_rates (gpointer data, NpuTime now)
{
  Probe *p = data;
  for (guint i = 0; i < p->n; i++)
    p->rates[i] = npu_fabric_current_rate (p->fabric, p->ids[i]);
}

static void
test_single_flow (void)
{
  g_autoptr (NpuEngine) engine = npu_engine_new ();
  g_autoptr (NpuFabric) fabric = npu_fabric_new (engine);
  guint l = npu_fabric_add_link (fabric, "r0.hccs->r1", 1 * GB, 500);
  g_assert_cmpuint (l, ==, 0);
  g_assert_cmpuint (npu_fabric_n_links (fabric), ==, 1);
  g_assert_cmpstr (npu_fabric_link_name (fabric, l), ==, "r0.hccs->r1");
  g_assert_cmpfloat (npu_fabric_link_bandwidth (fabric, l), ==, 1e9);
  g_assert_cmpuint (npu_fabric_link_latency (fabric, l), ==, 500);
  Done d = { 0 };
  guint64 id = npu_fabric_start_flow (fabric, &l, 1, 1000, 0, on_done, &d);
  g_assert_cmpuint (id, ==, 0);
  double rate = -1;
  Probe p = { fabric, &id, 1, &rate };
  npu_engine_schedule (engine, 1, NPU_PRIO_START, probe_rates, &p);
  npu_engine_run (engine);
  /* 1000 B at 1 GB/s = 1000 ns; + 500 ps latency */
  g_assert_cmpuint (d.calls, ==, 1);
  g_assert_cmpuint (d.done, ==, 1000 * NS + 500);
  g_assert_cmpfloat (rate, ==, 1e9);
  g_assert_cmpfloat (npu_fabric_current_rate (fabric, id), ==, 0);
  g_assert_cmpfloat (npu_fabric_link_bytes (fabric, l), ==, 1000);
  /* busy while bytes drain, not during the latency */
  g_assert_cmpuint (npu_fabric_link_busy_ps (fabric, l), ==, 1000 * NS);
}

/* Two flows on one link get half each; when the short one ends, the other speeds up:
 * f1 1000 B, f2 3000 B on 1 GB/s: both 0.5 GB/s; f1 ends at 2000 ns with f2 having
 * sent 1000 B; f2's last 2000 B at 1 GB/s take 2000 ns more -> 4000 ns. */
static void
test_two_flows_share (void)
{
  g_autoptr (NpuEngine) engine = npu_engine_new ();
  g_autoptr (NpuFabric) fabric = npu_fabric_new (engine);
  guint l = npu_fabric_add_link (fabric, "L", 1 * GB, 0);
  Done d1 = { 0 }, d2 = { 0 };
  guint64 ids[2];
  ids[0] = npu_fabric_start_flow (fabric, &l, 1, 1000, 0, on_done, &d1);
  ids[1] = npu_fabric_start_flow (fabric, &l, 1, 3000, 0, on_done, &d2);
  g_assert_cmpuint (ids[1], ==, 1);
  double r_early[2], r_late[2];
  Probe p1 = { fabric, ids, 2, r_early }, p2 = { fabric, ids, 2, r_late };
  npu_engine_schedule (engine, 10, NPU_PRIO_START, probe_rates, &p1);
  npu_engine_schedule (engine, 3000 * NS, NPU_PRIO_START, probe_rates, &p2);
  npu_engine_run (engine);
  g_assert_cmpuint (d1.done, ==, 2000 * NS);
  g_assert_cmpuint (d2.done, ==, 4000 * NS);
  g_assert_cmpfloat (r_early[0], ==, 0.5e9);
  g_assert_cmpfloat (r_early[1], ==, 0.5e9);
  g_assert_cmpfloat (r_late[0], ==, 0);
  g_assert_cmpfloat (r_late[1], ==, 1e9);
  g_assert_cmpfloat (npu_fabric_link_bytes (fabric, l), ==, 4000);
  g_assert_cmpuint (npu_fabric_link_busy_ps (fabric, l), ==, 4000 * NS);
}

static gboolean
describe_link (gpointer data, guint link, guint32 *pid, const char **name)
{
  static const char *names[] = { "A util", "B util", "C util" };
  *pid = 7;
  *name = names[link];
  return TRUE;
}

/* Max-min water-filling over three links:
 *   links A 10 GB/s (lat 1000 ps), B 10 GB/s (2000 ps), C 2 GB/s (3000 ps);
 *   flows f1 {A,B} 8000 B, f2 {B} 4000 B, f3 {B,C} 4000 B, f4 {A} 12000 B.
 * t=0: fair shares A 10/2=5, B 10/3, C 2/1=2 -> level 2 freezes f3 (C).
 *      B has 10-2=8 for f1,f2 -> 4; A has 10 for f1,f4 -> 5; level 4 freezes f1,f2.
 *      A has 10-4=6 left for f4 -> 6.  Rates: f1 4, f2 4, f3 2, f4 6.
 *      f2 drains first: 4000/4 = 1000 ns.
 * t=1000 ns: sent f1 4000, f3 2000, f4 6000; left f1 4000, f3 2000, f4 6000.
 *      shares A 10/2=5, B 10/2=5, C 2 -> f3 2; then B 8/1=8, A 5 -> f1, f4 at 5.
 *      f1 drains after 4000/5 = 800 ns (1800 ns), f3 after 1000 ns, f4 after 1200 ns.
 * t=1800 ns: left f3 2000-1600 = 400, f4 6000-4000 = 2000; f3 keeps 2 (C),
 *      f4 alone on A gets 10: both drain at 2000 ns.
 * Done = drain + path latency: f1 1800 ns + 3000 ps, f2 1000 ns + 2000 ps,
 *      f3 2000 ns + 5000 ps, f4 2000 ns + 1000 ps.
 * Utilisation: A (4+6)/10=1, (5+5)/10=1, 10/10=1, then 0;
 *      B (4+4+2)/10=1, (5+2)/10=0.7, 2/10=0.2, then 0; C 1 until 2000 ns, then 0. */
static void
test_three_links (void)
{
  g_autoptr (NpuEngine) engine = npu_engine_new ();
  g_autoptr (NpuFabric) fabric = npu_fabric_new (engine);
  TestSink sink;
  test_sink_init (&sink);
  guint A = npu_fabric_add_link (fabric, "A", 10 * GB, 1000);
  guint B = npu_fabric_add_link (fabric, "B", 10 * GB, 2000);
  guint C = npu_fabric_add_link (fabric, "C", 2 * GB, 3000);
  npu_fabric_set_counter_sink (fabric, &sink.parent, describe_link, NULL);
  guint p1[] = { A, B }, p2[] = { B }, p3[] = { B, C }, p4[] = { A };
  Done d[4] = { 0 };
  guint64 ids[4];
  ids[0] = npu_fabric_start_flow (fabric, p1, 2, 8000, 0, on_done, &d[0]);
  ids[1] = npu_fabric_start_flow (fabric, p2, 1, 4000, 0, on_done, &d[1]);
  ids[2] = npu_fabric_start_flow (fabric, p3, 2, 4000, 0, on_done, &d[2]);
  ids[3] = npu_fabric_start_flow (fabric, p4, 1, 12000, 0, on_done, &d[3]);
  double r0[4], r1[4], r2[4];
  Probe q0 = { fabric, ids, 4, r0 }, q1 = { fabric, ids, 4, r1 }, q2 = { fabric, ids, 4, r2 };
  npu_engine_schedule (engine, 1, NPU_PRIO_START, probe_rates, &q0);
  npu_engine_schedule (engine, 1000 * NS + 1, NPU_PRIO_START, probe_rates, &q1);
  npu_engine_schedule (engine, 1800 * NS + 1, NPU_PRIO_START, probe_rates, &q2);
  npu_engine_run (engine);

  g_assert_cmpfloat (r0[0], ==, 4e9);
  g_assert_cmpfloat (r0[1], ==, 4e9);
  g_assert_cmpfloat (r0[2], ==, 2e9);
  g_assert_cmpfloat (r0[3], ==, 6e9);
  g_assert_cmpfloat (r1[0], ==, 5e9);
  g_assert_cmpfloat (r1[1], ==, 0);
  g_assert_cmpfloat (r1[2], ==, 2e9);
  g_assert_cmpfloat (r1[3], ==, 5e9);
  g_assert_cmpfloat (r2[0], ==, 0);
  g_assert_cmpfloat (r2[2], ==, 2e9);
  g_assert_cmpfloat (r2[3], ==, 10e9);

  g_assert_cmpuint (d[0].done, ==, 1800 * NS + 3000);
  g_assert_cmpuint (d[1].done, ==, 1000 * NS + 2000);
  g_assert_cmpuint (d[2].done, ==, 2000 * NS + 5000);
  g_assert_cmpuint (d[3].done, ==, 2000 * NS + 1000);

  g_assert_cmpfloat (npu_fabric_link_bytes (fabric, A), ==, 8000 + 12000);
  g_assert_cmpfloat (npu_fabric_link_bytes (fabric, B), ==, 8000 + 4000 + 4000);
  g_assert_cmpfloat (npu_fabric_link_bytes (fabric, C), ==, 4000);
  g_assert_cmpuint (npu_fabric_link_busy_ps (fabric, A), ==, 2000 * NS);
  g_assert_cmpuint (npu_fabric_link_busy_ps (fabric, B), ==, 2000 * NS);
  g_assert_cmpuint (npu_fabric_link_busy_ps (fabric, C), ==, 2000 * NS);

  const char *expect[] = {
    "counter 7 A util util 0 1",
    "counter 7 B util util 0 1",
    "counter 7 C util util 0 1",
    "counter 7 B util util 1000000 0.69999999999999996",  /* nearest double to 0.7 */
    "counter 7 B util util 1800000 0.20000000000000001",  /* nearest double to 0.2 */
    "counter 7 A util util 2000000 0",
    "counter 7 B util util 2000000 0",
    "counter 7 C util util 2000000 0",
    NULL
  };
  test_sink_assert_lines (&sink, expect);
  test_sink_clear (&sink);
}

/* Own rate cap: f1 capped at 2.5 GB/s on a 10 GB/s link next to an uncapped f2:
 * f1 2.5, f2 the remaining 7.5. f2 15000 B -> 2000 ns; f1 10000 B at 2.5 -> 4000 ns
 * (its rate does not change when f2 leaves). */
static void
test_rate_cap (void)
{
  g_autoptr (NpuEngine) engine = npu_engine_new ();
  g_autoptr (NpuFabric) fabric = npu_fabric_new (engine);
  guint l = npu_fabric_add_link (fabric, "L", 10 * GB, 0);
  Done d1 = { 0 }, d2 = { 0 };
  guint64 ids[2];
  ids[0] = npu_fabric_start_flow (fabric, &l, 1, 10000, 2.5e9, on_done, &d1);
  ids[1] = npu_fabric_start_flow (fabric, &l, 1, 15000, 0, on_done, &d2);
  double r[2];
  Probe p = { fabric, ids, 2, r };
  npu_engine_schedule (engine, 5, NPU_PRIO_START, probe_rates, &p);
  npu_engine_run (engine);
  g_assert_cmpfloat (r[0], ==, 2.5e9);
  g_assert_cmpfloat (r[1], ==, 7.5e9);
  g_assert_cmpuint (d2.done, ==, 2000 * NS);
  g_assert_cmpuint (d1.done, ==, 4000 * NS);
  g_assert_cmpfloat (npu_fabric_link_bytes (fabric, l), ==, 25000);
}

/* Two capped flows below the link's fair share both get their caps. */
static void
test_caps_below_share (void)
{
  g_autoptr (NpuEngine) engine = npu_engine_new ();
  g_autoptr (NpuFabric) fabric = npu_fabric_new (engine);
  guint l = npu_fabric_add_link (fabric, "L", 10 * GB, 0);
  Done d1 = { 0 }, d2 = { 0 };
  /* 1000 B at 1 GB/s = 1000 ns; 1000 B at 2 GB/s = 500 ns */
  npu_fabric_start_flow (fabric, &l, 1, 1000, 1e9, on_done, &d1);
  npu_fabric_start_flow (fabric, &l, 1, 1000, 2e9, on_done, &d2);
  npu_engine_run (engine);
  g_assert_cmpuint (d1.done, ==, 1000 * NS);
  g_assert_cmpuint (d2.done, ==, 500 * NS);
}

/* Zero bytes: done after the path latency only; the link is never busy.
 * Zero-length path: bounded by the cap only: 1000 B at 4 GB/s = 250 ns. */
static void
test_zero_cases (void)
{
  g_autoptr (NpuEngine) engine = npu_engine_new ();
  g_autoptr (NpuFabric) fabric = npu_fabric_new (engine);
  guint path[] = { npu_fabric_add_link (fabric, "a", 1 * GB, 300),
                   npu_fabric_add_link (fabric, "b", 1 * GB, 400) };
  Done d0 = { 0 }, dl = { 0 }, dz = { 0 };
  npu_fabric_start_flow (fabric, path, 2, 0, 0, on_done, &d0);
  guint64 local = npu_fabric_start_flow (fabric, NULL, 0, 1000, 4e9, on_done, &dl);
  npu_fabric_start_flow (fabric, NULL, 0, 0, 0, on_done, &dz);
  g_assert_cmpuint (d0.calls, ==, 0); /* never from inside start_flow */
  double r = 0;
  Probe p = { fabric, &local, 1, &r };
  npu_engine_schedule (engine, 1, NPU_PRIO_START, probe_rates, &p);
  npu_engine_run (engine);
  g_assert_cmpuint (d0.calls, ==, 1);
  g_assert_cmpuint (d0.done, ==, 700);
  g_assert_cmpuint (dz.calls, ==, 1);
  g_assert_cmpuint (dz.done, ==, 0);
  g_assert_cmpuint (dl.done, ==, 250 * NS);
  g_assert_cmpfloat (r, ==, 4e9);
  g_assert_cmpuint (npu_fabric_link_busy_ps (fabric, path[0]), ==, 0);
  g_assert_cmpfloat (npu_fabric_link_bytes (fabric, path[1]), ==, 0);
}

/* Changing a link's bandwidth during a flow: 2000 B on 1 GB/s; at 1000 ns (1000 B
 * sent) the link becomes 2 GB/s: the last 1000 B take 500 ns -> 1500 ns. */
typedef struct {
  NpuFabric *fabric;
  guint link;
  double bw;
} SetBw;

static void
set_bw (gpointer data, NpuTime now)
{
  SetBw *s = data;
  npu_fabric_set_link_bandwidth (s->fabric, s->link, s->bw);
}

static void
test_set_bandwidth (void)
{
  g_autoptr (NpuEngine) engine = npu_engine_new ();
  g_autoptr (NpuFabric) fabric = npu_fabric_new (engine);
  guint l = npu_fabric_add_link (fabric, "L", 1 * GB, 0);
  Done d = { 0 };
  npu_fabric_start_flow (fabric, &l, 1, 2000, 0, on_done, &d);
  SetBw s = { fabric, l, 2 * GB };
  npu_engine_schedule (engine, 1000 * NS, NPU_PRIO_START, set_bw, &s);
  npu_engine_run (engine);
  g_assert_cmpuint (d.done, ==, 1500 * NS);
  g_assert_cmpfloat (npu_fabric_link_bandwidth (fabric, l), ==, 2e9);
  g_assert_cmpfloat (npu_fabric_link_bytes (fabric, l), ==, 2000);
}

/* Flows started at one instant from several START events share one re-allocation,
 * and so do a drain and a start at the same instant. 3 GB/s link:
 * f1 3000 B at 0, alone: drains at 1000 ns. f2 3000 B started at 1000 ns, alone at
 * 3 GB/s. f3 and f4 (4500 B each) start at 1500 ns from two events: f2 has 1500 B
 * left; all three get 1 GB/s; f2 drains after 1500 ns (3000 ns) while f3, f4 sent
 * 1500 B each; their last 3000 B at 1.5 GB/s take 2000 ns -> 5000 ns. */
typedef struct {
  NpuFabric *fabric;
  guint link;
  guint64 bytes;
  Done *done;
} Starter;

static void
start_ev (gpointer data, NpuTime now)
{
  Starter *s = data;
  npu_fabric_start_flow (s->fabric, &s->link, 1, s->bytes, 0, on_done, s->done);
}

static void
test_same_instant_starts (void)
{
  g_autoptr (NpuEngine) engine = npu_engine_new ();
  g_autoptr (NpuFabric) fabric = npu_fabric_new (engine);
  guint l = npu_fabric_add_link (fabric, "L", 3 * GB, 0);
  Done d[4] = { 0 };
  Starter s[4] = { { fabric, l, 3000, &d[0] }, { fabric, l, 3000, &d[1] },
                   { fabric, l, 4500, &d[2] }, { fabric, l, 4500, &d[3] } };
  npu_engine_schedule (engine, 0, NPU_PRIO_START, start_ev, &s[0]);
  npu_engine_schedule (engine, 1000 * NS, NPU_PRIO_START, start_ev, &s[1]);
  npu_engine_schedule (engine, 1500 * NS, NPU_PRIO_START, start_ev, &s[2]);
  npu_engine_schedule (engine, 1500 * NS, NPU_PRIO_START, start_ev, &s[3]);
  npu_engine_run (engine);
  g_assert_cmpuint (d[0].done, ==, 1000 * NS);
  g_assert_cmpuint (d[1].done, ==, 3000 * NS);
  g_assert_cmpuint (d[2].done, ==, 5000 * NS);
  g_assert_cmpuint (d[3].done, ==, 5000 * NS);
  /* Events: 4 starts; one RATE per instant at 0, 1000, 1500, 3000 and 5000 ns (5);
   * the fabric keeps one engine event at its earliest drain time: 1000 (f1), 2000
   * (f2 before 1500 ns, then stale), 3000 (f2), 5000 (f3 and f4 together) -> 4.
   * Total 13; one RATE per started flow or per drain would give more. */
  g_assert_cmpuint (npu_engine_fired (engine), ==, 13);
  g_assert_cmpfloat (npu_fabric_link_bytes (fabric, l), ==, 15000);
}

/* Random flows: every flow completes; per link the bytes add up; at sample times the
 * allocation is feasible and max-min fair (every flow is at its cap or crosses a
 * saturated link on which no other flow gets more). Checked from the public API. */
typedef struct {
  guint links[3];
  guint n_links;
  guint64 bytes;
  double cap;
  guint64 id;
  gboolean started;
  Done done;
} RFlow;

typedef struct {
  NpuFabric *fabric;
  RFlow *flows;
  guint n_flows;
  guint n_links;
  guint checks;
} RCtx;

typedef struct {
  RCtx *ctx;
  RFlow *flow;
} RStart;

static void
rstart (gpointer data, NpuTime now)
{
  RStart *s = data;
  s->flow->id = npu_fabric_start_flow (s->ctx->fabric, s->flow->links, s->flow->n_links,
                                       s->flow->bytes, s->flow->cap, on_done, &s->flow->done);
  s->flow->started = TRUE;
}

static void
rcheck (gpointer data, NpuTime now)
{
  RCtx *c = data;
  g_autofree double *used = g_new0 (double, c->n_links);
  g_autofree double *maxr = g_new0 (double, c->n_links);
  for (guint i = 0; i < c->n_flows; i++)
    {
      RFlow *f = &c->flows[i];
      if (!f->started)
        continue;
      double r = npu_fabric_current_rate (c->fabric, f->id);
      for (guint k = 0; k < f->n_links; k++)
        {
          used[f->links[k]] += r;
          maxr[f->links[k]] = MAX (maxr[f->links[k]], r);
        }
    }
  for (guint l = 0; l < c->n_links; l++)
    g_assert_cmpfloat (used[l], <=, npu_fabric_link_bandwidth (c->fabric, l) * (1 + 1e-9));
  for (guint i = 0; i < c->n_flows; i++)
    {
      RFlow *f = &c->flows[i];
      double r = f->started ? npu_fabric_current_rate (c->fabric, f->id) : 0;
      if (r == 0)
        continue;
      gboolean ok = f->cap > 0 && r >= f->cap * (1 - 1e-9);
      for (guint k = 0; !ok && k < f->n_links; k++)
        {
          guint l = f->links[k];
          double bw = npu_fabric_link_bandwidth (c->fabric, l);
          ok = used[l] >= bw * (1 - 1e-9) && r >= maxr[l] * (1 - 1e-9);
        }
      g_assert_true (ok);
      c->checks++;
    }
}

static void
test_random_max_min (void)
{
  enum { NL = 24, NF = 600 };
  g_autoptr (NpuEngine) engine = npu_engine_new ();
  g_autoptr (NpuFabric) fabric = npu_fabric_new (engine);
  g_autoptr (GRand) rand = g_rand_new_with_seed (2024);
  for (guint l = 0; l < NL; l++)
    {
      char name[16];
      g_snprintf (name, sizeof name, "l%u", l);
      npu_fabric_add_link (fabric, name, (1 + g_rand_int_range (rand, 0, 8)) * GB,
                           g_rand_int_range (rand, 0, 1000));
    }
  g_autofree RFlow *flows = g_new0 (RFlow, NF);
  g_autofree RStart *starts = g_new0 (RStart, NF);
  g_autofree double *expect = g_new0 (double, NL);
  RCtx ctx = { fabric, flows, NF, NL, 0 };
  for (guint i = 0; i < NF; i++)
    {
      RFlow *f = &flows[i];
      f->n_links = g_rand_int_range (rand, 1, 4);
      for (guint k = 0; k < f->n_links; k++)
        {
          gboolean dup;
          do
            {
              f->links[k] = g_rand_int_range (rand, 0, NL);
              dup = FALSE;
              for (guint j = 0; j < k; j++)
                dup |= f->links[j] == f->links[k];
            }
          while (dup);
        }
      f->bytes = g_rand_int_range (rand, 1, 200000);
      f->cap = g_rand_int_range (rand, 0, 3) == 0 ? g_rand_int_range (rand, 1, 5) * GB : 0;
      for (guint k = 0; k < f->n_links; k++)
        expect[f->links[k]] += (double) f->bytes;
      starts[i] = (RStart) { &ctx, f };
      /* many flows start at the same few instants */
      npu_engine_schedule (engine, g_rand_int_range (rand, 0, 40) * 1000 * NS,
                           NPU_PRIO_START, rstart, &starts[i]);
    }
  for (guint t = 0; t < 200; t++)
    npu_engine_schedule (engine, t * 377 * NS + 1, NPU_PRIO_START, rcheck, &ctx);
  npu_engine_run (engine);
  g_assert_cmpuint (ctx.checks, >, 1000);
  for (guint i = 0; i < NF; i++)
    {
      g_assert_cmpuint (flows[i].done.calls, ==, 1);
      /* never faster than the slowest link or the cap of the path allows */
      double best = flows[i].cap > 0 ? flows[i].cap : G_MAXDOUBLE;
      for (guint k = 0; k < flows[i].n_links; k++)
        best = MIN (best, npu_fabric_link_bandwidth (fabric, flows[i].links[k]));
      g_assert_cmpuint (flows[i].done.done, >=, npu_time_for_bytes (flows[i].bytes, best));
    }
  for (guint l = 0; l < NL; l++)
    {
      double got = npu_fabric_link_bytes (fabric, l);
      g_assert_cmpfloat (fabs (got - expect[l]), <=, 1e-9 * expect[l]);
    }
}

/* The same random run twice gives bit-identical completion times. */
static void
random_run (guint seed, NpuTime *out, guint n)
{
  g_autoptr (NpuEngine) engine = npu_engine_new ();
  g_autoptr (NpuFabric) fabric = npu_fabric_new (engine);
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  for (guint l = 0; l < 8; l++)
    npu_fabric_add_link (fabric, "l", (1 + g_rand_int_range (rand, 0, 8)) * 3.3e9, 17);
  g_autofree Starter *st = g_new0 (Starter, n);
  g_autofree Done *d = g_new0 (Done, n);
  for (guint i = 0; i < n; i++)
    {
      st[i] = (Starter) { fabric, g_rand_int_range (rand, 0, 8),
                          g_rand_int_range (rand, 1, 100000), &d[i] };
      npu_engine_schedule (engine, g_rand_int_range (rand, 0, 100000), NPU_PRIO_START,
                           start_ev, &st[i]);
    }
  npu_engine_run (engine);
  for (guint i = 0; i < n; i++)
    out[i] = d[i].done;
}

static void
test_deterministic (void)
{
  NpuTime a[300], b[300];
  random_run (99, a, 300);
  random_run (99, b, 300);
  g_assert_cmpmem (a, sizeof a, b, sizeof b);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sim/fabric/single-flow", test_single_flow);
  g_test_add_func ("/sim/fabric/two-flows-share", test_two_flows_share);
  g_test_add_func ("/sim/fabric/three-links", test_three_links);
  g_test_add_func ("/sim/fabric/rate-cap", test_rate_cap);
  g_test_add_func ("/sim/fabric/caps-below-share", test_caps_below_share);
  g_test_add_func ("/sim/fabric/zero-cases", test_zero_cases);
  g_test_add_func ("/sim/fabric/set-bandwidth", test_set_bandwidth);
  g_test_add_func ("/sim/fabric/same-instant-starts", test_same_instant_starts);
  g_test_add_func ("/sim/fabric/random-max-min", test_random_max_min);
  g_test_add_func ("/sim/fabric/deterministic", test_deterministic);
  return g_test_run ();
}
