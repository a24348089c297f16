/* npusim tests — the event queue: order, ties, the past, progress, time helpers. */
#include "sim/engine.h"

typedef struct {
  NpuEngine *engine;
  GString *log;
} Ctx;

typedef struct {
  Ctx *ctx;
  const char *tag;
} Tagged;

static void
log_event (gpointer data, NpuTime now)
{
  Tagged *t = data;
  g_string_append_printf (t->ctx->log, "%s@%" G_GUINT64_FORMAT " ", t->tag, now);
}

/* Same time: class order END < START < RATE; same time and class: scheduling order. */
static void
test_ties (void)
{
  g_autoptr (NpuEngine) engine = npu_engine_new ();
  Ctx ctx = { engine, g_string_new (NULL) };
  Tagged a = { &ctx, "a" }, b = { &ctx, "b" }, c = { &ctx, "c" }, d = { &ctx, "d" },
         e = { &ctx, "e" }, f = { &ctx, "f" }, g = { &ctx, "g" };
  npu_engine_schedule (engine, 100, NPU_PRIO_START, log_event, &a);
  npu_engine_schedule (engine, 100, NPU_PRIO_END, log_event, &b);
  npu_engine_schedule (engine, 100, NPU_PRIO_RATE, log_event, &c);
  npu_engine_schedule (engine, 100, NPU_PRIO_END, log_event, &d);
  npu_engine_schedule (engine, 100, NPU_PRIO_START, log_event, &e);
  npu_engine_schedule (engine, 50, NPU_PRIO_RATE, log_event, &f);
  npu_engine_schedule (engine, 101, NPU_PRIO_END, log_event, &g);
  g_assert_cmpuint (npu_engine_pending (engine), ==, 7);
  npu_engine_run (engine);
  g_assert_cmpstr (ctx.log->str, ==, "f@50 b@100 d@100 a@100 e@100 c@100 g@101 ");
  g_assert_cmpuint (npu_engine_pending (engine), ==, 0);
  g_assert_cmpuint (npu_engine_fired (engine), ==, 7);
  g_assert_cmpuint (npu_engine_now (engine), ==, 101);
  g_assert_false (npu_engine_step (engine));
  g_string_free (ctx.log, TRUE);
}

/* An event scheduled at the current time with a lower class fires next, before the
 * already-queued events of the current class. */
static Tagged *late_end;

static void
schedule_end_now (gpointer data, NpuTime now)
{
  Tagged *t = data;
  log_event (t, now);
  npu_engine_schedule (t->ctx->engine, now, NPU_PRIO_END, log_event, late_end);
}

static void
test_lower_class_now (void)
{
  g_autoptr (NpuEngine) engine = npu_engine_new ();
  Ctx ctx = { engine, g_string_new (NULL) };
  Tagged s1 = { &ctx, "s1" }, s2 = { &ctx, "s2" }, r = { &ctx, "r" }, end = { &ctx, "end" };
  late_end = &end;
  npu_engine_schedule (engine, 7, NPU_PRIO_START, schedule_end_now, &s1);
  npu_engine_schedule (engine, 7, NPU_PRIO_START, log_event, &s2);
  npu_engine_schedule (engine, 7, NPU_PRIO_RATE, log_event, &r);
  npu_engine_run (engine);
  g_assert_cmpstr (ctx.log->str, ==, "s1@7 end@7 s2@7 r@7 ");
  g_string_free (ctx.log, TRUE);
}

/* Many events with random times and classes come out sorted by (time, class, seq). */
typedef struct {
  NpuEngine *engine;
  NpuTime last_time;
  guint last_prio;
  guint64 last_seq;
  guint n;
  NpuTime *times;     /* fired times in order */
} Order;

typedef struct {
  Order *order;
  guint prio;
  guint64 seq;
} RandEv;

static void
rand_fire (gpointer data, NpuTime now)
{
  RandEv *ev = data;
  Order *o = ev->order;
  g_assert_cmpuint (npu_engine_current_seq (o->engine), ==, ev->seq);
  if (o->n > 0)
    {
      g_assert_cmpuint (now, >=, o->last_time);
      if (now == o->last_time)
        {
          g_assert_cmpuint (ev->prio, >=, o->last_prio);
          if (ev->prio == o->last_prio)
            g_assert_cmpuint (ev->seq, >, o->last_seq);
        }
    }
  o->last_time = now;
  o->last_prio = ev->prio;
  o->last_seq = ev->seq;
  o->times[o->n++] = now;
}

static int
cmp_time (const void *a, const void *b)
{
  NpuTime x = *(const NpuTime *) a, y = *(const NpuTime *) b;
  return x < y ? -1 : x > y;
}

static void
test_random_sorted (void)
{
  enum { N = 20000 };
  g_autoptr (NpuEngine) engine = npu_engine_new ();
  g_autoptr (GRand) rand = g_rand_new_with_seed (42);
  g_autofree RandEv *evs = g_new0 (RandEv, N);
  g_autofree NpuTime *expect = g_new (NpuTime, N);
  Order order = { engine, 0, 0, 0, 0, g_new (NpuTime, N) };
  for (guint i = 0; i < N; i++)
    {
      /* Few distinct times, so that ties in time and class are common. */
      NpuTime t = g_rand_int_range (rand, 0, 500);
      evs[i].order = &order;
      evs[i].prio = g_rand_int_range (rand, 0, NPU_PRIO_N_CLASSES);
      evs[i].seq = npu_engine_schedule (engine, t, evs[i].prio, rand_fire, &evs[i]);
      expect[i] = t;
    }
  npu_engine_run (engine);
  g_assert_cmpuint (order.n, ==, N);
  qsort (expect, N, sizeof (NpuTime), cmp_time);
  for (guint i = 0; i < N; i++)
    g_assert_cmpuint (order.times[i], ==, expect[i]);
  g_free (order.times);
}

/* Events that schedule events: the heap stays ordered while it grows and shrinks. */
typedef struct {
  NpuEngine *engine;
  GRand *rand;
  guint64 left;
  NpuTime last;
  guint64 fired;
} Storm;

static void
storm_fire (gpointer data, NpuTime now)
{
  Storm *s = data;
  g_assert_cmpuint (now, >=, s->last);
  s->last = now;
  s->fired++;
  guint k = g_rand_int_range (s->rand, 0, 3); /* 0, 1 or 2 children */
  for (guint i = 0; i < k && s->left > 0; i++, s->left--)
    npu_engine_schedule (s->engine, now + g_rand_int_range (s->rand, 0, 1000),
                         g_rand_int_range (s->rand, 0, NPU_PRIO_N_CLASSES), storm_fire, s);
}

static void
test_storm (void)
{
  g_autoptr (NpuEngine) engine = npu_engine_new ();
  g_autoptr (GRand) rand = g_rand_new_with_seed (7);
  Storm s = { engine, rand, 50000, 0, 0 };
  for (guint i = 0; i < 3000; i++)
    npu_engine_schedule (engine, g_rand_int_range (rand, 0, 1000), NPU_PRIO_START,
                         storm_fire, &s);
  npu_engine_run (engine);
  g_assert_cmpuint (s.fired, ==, npu_engine_fired (engine));
  g_assert_cmpuint (s.fired, ==, 3000 + (50000 - s.left));
}

/* Scheduling before the current time is a broken invariant: it aborts. */
static void
schedule_past (gpointer data, NpuTime now)
{
  npu_engine_schedule (data, now - 1, NPU_PRIO_END, schedule_past, data);
}

static void
test_past_aborts (void)
{
  if (g_test_subprocess ())
    {
      NpuEngine *engine = npu_engine_new ();
      npu_engine_schedule (engine, 100, NPU_PRIO_START, schedule_past, engine);
      npu_engine_run (engine);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*99 ps is before now (100 ps)*");
}

/* Progress: called after every 3rd fired event with the time of that event. */
static void
noop (gpointer data, NpuTime now)
{
}

static void
progress (gpointer data, NpuTime now)
{
  GString *log = data;
  g_string_append_printf (log, "%" G_GUINT64_FORMAT " ", now);
}

static void
test_progress (void)
{
  g_autoptr (NpuEngine) engine = npu_engine_new ();
  g_autoptr (GString) log = g_string_new (NULL);
  for (guint i = 1; i <= 10; i++)
    npu_engine_schedule (engine, 10 * i, NPU_PRIO_START, noop, NULL);
  npu_engine_set_progress (engine, 3, progress, log);
  npu_engine_run (engine);
  g_assert_cmpstr (log->str, ==, "30 60 90 ");
  /* 0 disables it. */
  npu_engine_set_progress (engine, 0, NULL, NULL);
  for (guint i = 1; i <= 5; i++)
    npu_engine_schedule (engine, 100 + i, NPU_PRIO_START, noop, NULL);
  npu_engine_run (engine);
  g_assert_cmpstr (log->str, ==, "30 60 90 ");
}

static void
test_ids_and_seq (void)
{
  g_autoptr (NpuEngine) engine = npu_engine_new ();
  g_assert_cmpuint (npu_engine_current_seq (engine), ==, G_MAXUINT64);
  g_assert_cmpuint (npu_engine_schedule (engine, 5, NPU_PRIO_START, noop, NULL), ==, 0);
  g_assert_cmpuint (npu_engine_schedule (engine, 3, NPU_PRIO_START, noop, NULL), ==, 1);
  g_assert_true (npu_engine_step (engine));
  g_assert_cmpuint (npu_engine_current_seq (engine), ==, 1);
  g_assert_cmpuint (npu_engine_now (engine), ==, 3);
  g_assert_cmpuint (npu_engine_new_id (engine), ==, 0);
  g_assert_cmpuint (npu_engine_new_id (engine), ==, 1);
  g_assert_true (npu_engine_step (engine));
  g_assert_cmpuint (npu_engine_current_seq (engine), ==, 0);
}

static void
test_time_helpers (void)
{
  /* 1000 B at 1 GB/s = 1 us. */
  g_assert_cmpuint (npu_time_for_bytes (1000, 1e9), ==, 1000000);
  /* 1 B at 3 GB/s = 333.33.. ps, rounded up. */
  g_assert_cmpuint (npu_time_for_bytes (1, 3e9), ==, 334);
  /* 64 KiB at 28 GB/s = 65536/28e9 s = 2340571.428.. ps -> 2340572. */
  g_assert_cmpuint (npu_time_for_bytes (65536, 28e9), ==, 2340572);
  g_assert_cmpuint (npu_time_for_bytes (0, 1e9), ==, 0);
  g_assert_cmpuint (npu_time_from_us (1.5), ==, 1500000);
  g_assert_cmpuint (npu_time_from_us (0.1), ==, 100000);
  g_assert_cmpuint (npu_time_from_us (5.5), ==, 5500000);
  g_assert_cmpuint (npu_time_from_us (0), ==, 0);
  g_assert_cmpuint (NPU_PS_PER_S, ==, G_GUINT64_CONSTANT (1000000000000));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sim/engine/ties", test_ties);
  g_test_add_func ("/sim/engine/lower-class-now", test_lower_class_now);
  g_test_add_func ("/sim/engine/random-sorted", test_random_sorted);
  g_test_add_func ("/sim/engine/storm", test_storm);
  g_test_add_func ("/sim/engine/past-aborts", test_past_aborts);
  g_test_add_func ("/sim/engine/progress", test_progress);
  g_test_add_func ("/sim/engine/ids-and-seq", test_ids_and_seq);
  g_test_add_func ("/sim/engine/time-helpers", test_time_helpers);
  return g_test_run ();
}
