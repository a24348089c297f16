/* npusim tests — npu_fabric_account(): transfers timed by their caller, counted on a
 * link's bytes and busy time as a union with the flows' busy periods. Expected values by
 * hand: 1 byte takes 1 ns = 1000 ps at 1 GB/s. */
#include "sim/fabric.h"

#define GB 1e9
#define NS NPU_PS_PER_NS

/* Accounted intervals alone: bytes add up; busy time is their union (overlapping and
 * touching intervals merge, intervals arriving out of order are placed). */
static void
test_account_union (void)
{
  g_autoptr (NpuEngine) engine = npu_engine_new ();
  g_autoptr (NpuFabric) fabric = npu_fabric_new (engine);
  guint l = npu_fabric_add_link (fabric, "r0.ub_tx", 1 * GB, 0);
  guint other = npu_fabric_add_link (fabric, "r1.ub_tx", 1 * GB, 0);
  npu_fabric_account (fabric, l, 100, 1000, 2000);     /* [1000, 2000) */
  npu_fabric_account (fabric, l, 100, 2000, 3000);     /* touches: [1000, 3000) */
  npu_fabric_account (fabric, l, 50, 5000, 6000);      /* apart: + [5000, 6000) */
  npu_fabric_account (fabric, l, 50, 500, 1500);       /* before, overlapping the first */
  npu_fabric_account (fabric, l, 10, 3500, 4000);      /* in a gap */
  npu_fabric_account (fabric, l, 10, 2500, 5500);      /* bridges three spans */
  npu_fabric_account (fabric, l, 7, 7000, 7000);       /* empty interval: bytes only */
  /* union [500, 6000) = 5500 ps; bytes 100+100+50+50+10+10+7 */
  g_assert_cmpfloat (npu_fabric_link_bytes (fabric, l), ==, 327);
  g_assert_cmpuint (npu_fabric_link_busy_ps (fabric, l), ==, 5500);
  g_assert_cmpfloat (npu_fabric_link_bytes (fabric, other), ==, 0);
  g_assert_cmpuint (npu_fabric_link_busy_ps (fabric, other), ==, 0);
}

typedef struct {
  NpuFabric *fabric;
  guint link;
  guint64 bytes;
  NpuTime start, end;
} Acct;

static void
do_account (gpointer data, NpuTime now)
{
  Acct *a = data;
  (void) now;
  npu_fabric_account (a->fabric, a->link, a->bytes, a->start, a->end);
}

typedef struct {
  NpuFabric *fabric;
  guint link;
  guint64 bytes;
} StartFlow;

static void
start_flow (gpointer data, NpuTime now)
{
  StartFlow *sf = data;
  (void) now;
  npu_fabric_start_flow (sf->fabric, &sf->link, 1, sf->bytes, 0, NULL, NULL);
}

/* Flows and accounted intervals on one link: time covered by both counts once, and an
 * accounted transfer takes no bandwidth from the flows.
 * Flow A: 1000 B at 1 GB/s from 0 -> busy [0, 1000 ns). At 500 ns an accounted
 * [600, 1500) ns (overlaps A by 400 ns) and [3000, 3200) ns are recorded. Flow B: 500 B
 * started at 2000 ns -> busy [2000, 2500) ns. Union: [0, 1500) + [2000, 2500) +
 * [3000, 3200) = 1500 + 500 + 200 = 2200 ns. */
static void
test_account_with_flows (void)
{
  g_autoptr (NpuEngine) engine = npu_engine_new ();
  g_autoptr (NpuFabric) fabric = npu_fabric_new (engine);
  guint l = npu_fabric_add_link (fabric, "L", 1 * GB, 0);
  npu_fabric_start_flow (fabric, &l, 1, 1000, 0, NULL, NULL);
  Acct a1 = { fabric, l, 900, 600 * NS, 1500 * NS };
  Acct a2 = { fabric, l, 200, 3000 * NS, 3200 * NS };
  npu_engine_schedule (engine, 500 * NS, NPU_PRIO_START, do_account, &a1);
  npu_engine_schedule (engine, 500 * NS, NPU_PRIO_START, do_account, &a2);
  npu_engine_run (engine);
  /* flow A finished at 1000 ns: it kept the whole link (the accounting took nothing) */
  g_assert_cmpuint (npu_engine_now (engine), ==, 1000 * NS);
  g_assert_cmpfloat (npu_fabric_link_bytes (fabric, l), ==, 2100);
  /* so far [0, 1500) + [3000, 3200): 1700 ns */
  g_assert_cmpuint (npu_fabric_link_busy_ps (fabric, l), ==, 1700 * NS);
  /* flow B later (the engine goes on from 1000 ns) */
  StartFlow b = { fabric, l, 500 };
  npu_engine_schedule (engine, 2000 * NS, NPU_PRIO_START, start_flow, &b);
  npu_engine_run (engine);
  g_assert_cmpuint (npu_engine_now (engine), ==, 2500 * NS);
  g_assert_cmpfloat (npu_fabric_link_bytes (fabric, l), ==, 2600);
  g_assert_cmpuint (npu_fabric_link_busy_ps (fabric, l), ==, 2200 * NS);
}

/* An open flow period is counted up to now, less its overlap with accounted time:
 * flow of 2000 B from 0 on 1 GB/s; at 1000 ns the account of [1000, 3000) ns; queried
 * at 1000 ns (inside the event): flows 1000 ns + accounted 2000 ns - overlap 0 = 3000. */
typedef struct {
  NpuFabric *fabric;
  guint link;
  NpuTime busy;
} Query;

static void
account_and_query (gpointer data, NpuTime now)
{
  Query *q = data;
  npu_fabric_account (q->fabric, q->link, 10, now, now + 2000 * NS);
  q->busy = npu_fabric_link_busy_ps (q->fabric, q->link);
}

static void
test_account_open_period (void)
{
  g_autoptr (NpuEngine) engine = npu_engine_new ();
  g_autoptr (NpuFabric) fabric = npu_fabric_new (engine);
  guint l = npu_fabric_add_link (fabric, "L", 1 * GB, 0);
  npu_fabric_start_flow (fabric, &l, 1, 2000, 0, NULL, NULL);
  Query q = { fabric, l, 0 };
  npu_engine_schedule (engine, 1000 * NS, NPU_PRIO_START, account_and_query, &q);
  npu_engine_run (engine);
  g_assert_cmpuint (q.busy, ==, 3000 * NS);
  /* after the run: flow [0, 2000) and accounted [1000, 3000): union 3000 ns */
  g_assert_cmpuint (npu_fabric_link_busy_ps (fabric, l), ==, 3000 * NS);
  g_assert_cmpfloat (npu_fabric_link_bytes (fabric, l), ==, 2010);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sim/fabric/account/union", test_account_union);
  g_test_add_func ("/sim/fabric/account/with-flows", test_account_with_flows);
  g_test_add_func ("/sim/fabric/account/open-period", test_account_open_period);
  return g_test_run ();
}
