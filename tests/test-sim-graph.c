/* npusim tests — task graph: ordering, effects, timing-only mode, run-scoped data,
 * failing the run, hazards, deadlock, streams, traces. Expected times are derived by hand in the comments (ns). */
#include "sim/graph.h"
#include "test-sim-sink.h"

#define NS NPU_PS_PER_NS
#define GB 1e9

typedef struct {
  NpuEngine *engine;
  NpuFabric *fabric;
  NpuGraph *graph;
} Env;

static void
env_init (Env *e, gboolean data_mode, gboolean check, NpuSink *sink)
{
  e->engine = npu_engine_new ();
  e->fabric = npu_fabric_new (e->engine);
  e->graph = npu_graph_new (e->engine, e->fabric, sink, data_mode, check);
}

static void
env_clear (Env *e)
{
  npu_graph_free (e->graph);
  npu_fabric_free (e->fabric);
  npu_engine_free (e->engine);
}

static NpuTask *
task (Env *e, const char *name, NpuTime dur_ns)
{
  NpuTask *t = npu_graph_task_new (e->graph, name);
  npu_task_set_duration (t, dur_ns * NS);
  return t;
}

static void
assert_times (NpuTask *t, NpuTime start_ns, NpuTime end_ns)
{
  g_assert_cmpuint (npu_task_start (t), ==, start_ns * NS);
  g_assert_cmpuint (npu_task_end (t), ==, end_ns * NS);
}

static void
run_ok (Env *e)
{
  g_autoptr (GError) error = NULL;
  gboolean ok = npu_graph_run (e->graph, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
}

/* A, B hold server S; C after A (no server); D after C on S.
 * A [0,10]; B waits for S: [10,30]; C [10,15]; D asks S at 15, B holds it: [30,35].
 * S busy 10 + 20 + 5 = 35 ns. */
static void
test_deps_and_servers (void)
{
  Env e;
  env_init (&e, TRUE, TRUE, NULL);
  g_autoptr (NpuServer) s = npu_server_new (e.engine, "r0.aic0");
  NpuTask *a = task (&e, "A", 10), *b = task (&e, "B", 20), *c = task (&e, "C", 5),
          *d = task (&e, "D", 5);
  npu_task_set_server (a, s);
  npu_task_set_server (b, s);
  npu_task_set_server (d, s);
  npu_task_depends_on (c, a);
  npu_task_depends_on (d, c);
  g_assert_cmpuint (npu_task_start (a), ==, NPU_TIME_NEVER);
  g_assert_cmpuint (npu_graph_n_tasks (e.graph), ==, 4);
  g_assert_true (npu_graph_task (e.graph, 2) == c);
  g_assert_cmpuint (npu_task_id (d), ==, 3);
  g_assert_cmpstr (npu_task_name (d), ==, "D");
  run_ok (&e);
  assert_times (a, 0, 10);
  assert_times (b, 10, 30);
  assert_times (c, 10, 15);
  assert_times (d, 30, 35);
  g_assert_cmpuint (npu_server_busy_ps (s), ==, 35 * NS);
  env_clear (&e);
}

/* Tasks that become ready at one instant start in id order, whatever the order of
 * the events that released them: P1 and P2 end at 10 (P1's event first); Late (id 2,
 * after P2) and Early (id 3, after P1) both need S: Late gets it first. */
static void
test_ready_order_by_id (void)
{
  Env e;
  env_init (&e, TRUE, FALSE, NULL);
  g_autoptr (NpuServer) s = npu_server_new (e.engine, "s");
  NpuTask *p1 = task (&e, "P1", 10), *p2 = task (&e, "P2", 10);
  NpuTask *late = task (&e, "Late", 5), *early = task (&e, "Early", 5);
  npu_task_depends_on (late, p2);
  npu_task_depends_on (early, p1);
  npu_task_set_server (late, s);
  npu_task_set_server (early, s);
  run_ok (&e);
  assert_times (late, 10, 15);
  assert_times (early, 15, 20);
  env_clear (&e);
}

/* ---- data effects ---- */

typedef struct {
  NpuEngine *engine;
  int *x, *y, *z;
  NpuTime *when;
} Data;

static gboolean
eff_write_x (gpointer data, GError **error)
{
  Data *d = data;
  *d->x = 3;
  *d->when = npu_engine_now (d->engine);
  return TRUE;
}

static gboolean
eff_y_from_x (gpointer data, GError **error)
{
  Data *d = data;
  *d->y = *d->x * 2;
  return TRUE;
}

static gboolean
eff_z_from_x (gpointer data, GError **error)
{
  Data *d = data;
  *d->z = *d->x + 1;
  return TRUE;
}

static int n_destroyed;

static void
count_destroy (gpointer data)
{
  n_destroyed++;
}

/* P [0,10] writes x=3 at its end; Q after P [10,15] computes y = 2x = 6; R, not
 * ordered after P, [0,4] computes z = x + 1 from the stale x = 0 -> 1.
 * Timing-only: no effect runs, times are the same. */
static void
effects_run (gboolean data_mode, int out[3], NpuTime times[6], NpuTime *p_effect_at)
{
  Env e;
  env_init (&e, data_mode, FALSE, NULL);
  int x = 0, y = 0, z = 0;
  Data d = { e.engine, &x, &y, &z, p_effect_at };
  NpuTask *p = task (&e, "P", 10), *q = task (&e, "Q", 5), *r = task (&e, "R", 4);
  npu_task_depends_on (q, p);
  npu_task_set_effect (p, eff_write_x, &d, count_destroy);
  npu_task_set_effect (q, eff_y_from_x, &d, count_destroy);
  npu_task_set_effect (r, eff_z_from_x, &d, NULL);
  g_assert_true (npu_graph_data_mode (e.graph) == data_mode);
  g_assert_true (npu_graph_engine (e.graph) == e.engine);
  g_assert_true (npu_graph_fabric (e.graph) == e.fabric);
  g_assert_null (npu_graph_sink (e.graph));
  run_ok (&e);
  NpuTask *ts[] = { p, q, r };
  for (guint i = 0; i < 3; i++)
    {
      times[2 * i] = npu_task_start (ts[i]);
      times[2 * i + 1] = npu_task_end (ts[i]);
    }
  out[0] = x;
  out[1] = y;
  out[2] = z;
  env_clear (&e);
}

static void
test_effects (void)
{
  int data[3], timing[3];
  NpuTime t_data[6], t_timing[6], effect_at = 0;
  n_destroyed = 0;
  effects_run (TRUE, data, t_data, &effect_at);
  g_assert_cmpint (n_destroyed, ==, 2);
  g_assert_cmpint (data[0], ==, 3);
  g_assert_cmpint (data[1], ==, 6);
  g_assert_cmpint (data[2], ==, 1);
  g_assert_cmpuint (effect_at, ==, 10 * NS);
  const NpuTime expect[6] = { 0, 10 * NS, 10 * NS, 15 * NS, 0, 4 * NS };
  g_assert_cmpmem (t_data, sizeof t_data, expect, sizeof expect);

  effect_at = 0;
  effects_run (FALSE, timing, t_timing, &effect_at);
  g_assert_cmpint (timing[0], ==, 0);
  g_assert_cmpint (timing[1], ==, 0);
  g_assert_cmpint (timing[2], ==, 0);
  g_assert_cmpuint (effect_at, ==, 0);
  g_assert_cmpmem (t_timing, sizeof t_timing, expect, sizeof expect);
}

static gboolean
eff_fail (gpointer data, GError **error)
{
  g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "boom");
  return FALSE;
}

static gboolean
eff_fail_silent (gpointer data, GError **error)
{
  return FALSE;
}

/* A failing effect stops the run with its own error; later tasks never start. */
static void
test_effect_failure (void)
{
  Env e;
  env_init (&e, TRUE, FALSE, NULL);
  NpuTask *a = task (&e, "E", 3), *b = task (&e, "after", 1);
  npu_task_depends_on (b, a);
  npu_task_set_effect (a, eff_fail, NULL, NULL);
  g_autoptr (GError) error = NULL;
  g_assert_false (npu_graph_run (e.graph, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_cmpstr (error->message, ==, "task 'E': boom");
  g_assert_cmpuint (npu_task_start (b), ==, NPU_TIME_NEVER);
  env_clear (&e);

  env_init (&e, TRUE, FALSE, NULL);
  a = task (&e, "S", 3);
  npu_task_set_effect (a, eff_fail_silent, NULL, NULL);
  g_clear_error (&error);
  g_assert_false (npu_graph_run (e.graph, &error));
  g_assert_error (error, NPU_GRAPH_ERROR, NPU_GRAPH_ERROR_TASK);
  g_assert_cmpstr (error->message, ==, "task 'S': its effect failed");
  env_clear (&e);

  /* Timing-only: effects are not run, so nothing fails. */
  env_init (&e, FALSE, FALSE, NULL);
  a = task (&e, "E", 3);
  npu_task_set_effect (a, eff_fail, NULL, NULL);
  run_ok (&e);
  env_clear (&e);
}

/* ---- run-scoped data and failing the run ---- */

static GString *destroy_log;

static void
log_destroy (gpointer data)
{
  g_string_append_printf (destroy_log, "%s;", (const char *) data);
}

/* Data under a key: found by key, replaced (the old value destroyed at once), and
 * destroyed when the graph is freed: after every task's effect data, latest first. */
static void
test_user_data (void)
{
  destroy_log = g_string_new (NULL);
  Env e;
  env_init (&e, TRUE, FALSE, NULL);
  g_assert_null (npu_graph_get_data (e.graph, "win/tp"));
  npu_graph_set_data (e.graph, "win/tp", "tp1", log_destroy);
  npu_graph_set_data (e.graph, "win/ep", "ep", log_destroy);
  npu_graph_set_data (e.graph, "plain", "no-notify", NULL);
  g_assert_cmpstr (npu_graph_get_data (e.graph, "win/tp"), ==, "tp1");
  g_assert_cmpstr (npu_graph_get_data (e.graph, "win/ep"), ==, "ep");
  g_assert_cmpstr (npu_graph_get_data (e.graph, "plain"), ==, "no-notify");
  g_assert_null (npu_graph_get_data (e.graph, "win"));
  /* the key is copied */
  char key[8] = "k";
  npu_graph_set_data (e.graph, key, "k1", log_destroy);
  key[0] = 'x';
  g_assert_cmpstr (npu_graph_get_data (e.graph, "k"), ==, "k1");
  /* replacing destroys the old value now */
  npu_graph_set_data (e.graph, "win/tp", "tp2", log_destroy);
  g_assert_cmpstr (destroy_log->str, ==, "tp1;");
  g_assert_cmpstr (npu_graph_get_data (e.graph, "win/tp"), ==, "tp2");
  /* a task whose effect data is destroyed with the graph, before the user data */
  NpuTask *t = task (&e, "t", 1);
  npu_task_set_effect (t, NULL, "effect", log_destroy);
  run_ok (&e);
  g_assert_cmpstr (npu_graph_get_data (e.graph, "win/tp"), ==, "tp2"); /* survives the run */
  env_clear (&e);
  /* set order: tp1 (replaced), ep, plain, k, tp2: destroyed latest first */
  g_assert_cmpstr (destroy_log->str, ==, "tp1;effect;tp2;k1;ep;");
  g_string_free (destroy_log, TRUE);
}

typedef struct {
  NpuGraph *graph;
  guint calls;
} FailHook;

/* Fails the run twice: the first error wins, the second is freed. */
static void
hook_fail (gpointer data, NpuTask *task)
{
  FailHook *f = data;
  f->calls++;
  npu_graph_fail (f->graph, g_error_new (NPU_GRAPH_ERROR, NPU_GRAPH_ERROR_TASK,
                                         "watchdog '%s' fired at %" G_GUINT64_FORMAT " ps",
                                         npu_task_name (task), npu_task_end (task)));
  npu_graph_fail (f->graph, g_error_new_literal (G_FILE_ERROR, G_FILE_ERROR_IO, "second"));
}

static gboolean
eff_graph_fail (gpointer data, GError **error)
{
  npu_graph_fail (data, g_error_new_literal (G_FILE_ERROR, G_FILE_ERROR_NOENT, "as given"));
  return TRUE;
}

static void
hook_count (gpointer data, NpuTask *task)
{
  (*(guint *) data)++;
}

/* A hook fails the run at 5 ns, in data and timing-only mode alike: the run stops at
 * once (A [0,10] never ends, B after it never starts), npu_graph_run returns the
 * error exactly as given, and later runs fail with it. */
static void
test_fail_from_hook (void)
{
  for (int data_mode = 0; data_mode < 2; data_mode++)
    {
      Env e;
      env_init (&e, data_mode, TRUE, NULL);
      FailHook f = { e.graph, 0 };
      NpuTask *a = task (&e, "A", 10), *b = task (&e, "B", 1), *w = task (&e, "W", 5);
      npu_task_depends_on (b, a);
      npu_task_set_hooks (w, NULL, hook_fail, &f);
      g_autoptr (GError) error = NULL;
      g_assert_false (npu_graph_run (e.graph, &error));
      g_assert_error (error, NPU_GRAPH_ERROR, NPU_GRAPH_ERROR_TASK);
      g_assert_cmpstr (error->message, ==, "watchdog 'W' fired at 5000 ps");
      g_assert_cmpuint (f.calls, ==, 1);
      assert_times (w, 0, 5);
      g_assert_cmpuint (npu_task_start (a), ==, 0);
      g_assert_cmpuint (npu_task_end (a), ==, NPU_TIME_NEVER);
      g_assert_cmpuint (npu_task_start (b), ==, NPU_TIME_NEVER);
      /* a later run (with a new task) fails with the same error */
      task (&e, "later", 1);
      g_clear_error (&error);
      g_assert_false (npu_graph_run (e.graph, &error));
      g_assert_cmpstr (error->message, ==, "watchdog 'W' fired at 5000 ps");
      env_clear (&e);
    }
}

/* An effect may fail the run too (and still return TRUE): its error as given, without
 * the "task 'NAME': " prefix of a failed effect; the task's end hook and its
 * successor do not run. Failing between runs makes the next run fail at once. */
static void
test_fail_from_effect (void)
{
  Env e;
  env_init (&e, TRUE, FALSE, NULL);
  guint ended = 0;
  NpuTask *a = task (&e, "A", 3), *b = task (&e, "B", 1);
  npu_task_depends_on (b, a);
  npu_task_set_effect (a, eff_graph_fail, e.graph, NULL);
  npu_task_set_hooks (a, NULL, hook_count, &ended);
  g_autoptr (GError) error = NULL;
  g_assert_false (npu_graph_run (e.graph, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_cmpstr (error->message, ==, "as given");
  g_assert_cmpuint (ended, ==, 0);
  g_assert_cmpuint (npu_task_start (b), ==, NPU_TIME_NEVER);
  env_clear (&e);

  env_init (&e, FALSE, FALSE, NULL);
  a = task (&e, "A", 3);
  npu_graph_fail (e.graph, g_error_new_literal (NPU_GRAPH_ERROR, NPU_GRAPH_ERROR_TASK,
                                                "failed before the run"));
  g_clear_error (&error);
  g_assert_false (npu_graph_run (e.graph, &error));
  g_assert_cmpstr (error->message, ==, "failed before the run");
  g_assert_cmpuint (npu_task_start (a), ==, NPU_TIME_NEVER);
  env_clear (&e);
}

/* ---- hazards ---- */

static void
expect_hazard (Env *e, const char *message)
{
  g_autoptr (GError) error = NULL;
  g_assert_false (npu_graph_run (e->graph, &error));
  g_assert_error (error, NPU_GRAPH_ERROR, NPU_GRAPH_ERROR_HAZARD);
  g_assert_cmpstr (error->message, ==, message);
}

/* Missing dependency: Q reads what P (created before it) writes, without waiting. */
static void
test_hazard_missing_dep (void)
{
  Env e;
  env_init (&e, TRUE, TRUE, NULL);
  guint x = npu_graph_add_buffer (e.graph, "r0.x", 256);
  NpuTask *p = task (&e, "P", 10), *q = task (&e, "Q", 5);
  npu_task_writes (p, x, 0, 64);
  npu_task_reads (q, x, 0, 64);
  expect_hazard (&e, "read-before-write: task 'Q' reads r0.x[0,64) while 'P' (which "
                     "writes it) has not finished");
  env_clear (&e);

  /* The same graph with the dependency, plus an unordered reader of other bytes. */
  env_init (&e, TRUE, TRUE, NULL);
  x = npu_graph_add_buffer (e.graph, "r0.x", 256);
  p = task (&e, "P", 10);
  q = task (&e, "Q", 5);
  NpuTask *o = task (&e, "Other", 5);
  npu_task_writes (p, x, 0, 64);
  npu_task_reads (q, x, 0, 64);
  npu_task_reads (o, x, 64, 64);
  npu_task_depends_on (q, p);
  run_ok (&e);
  assert_times (q, 10, 15);
  assert_times (o, 0, 5);
  env_clear (&e);

  /* The writer has not even started (it waits for Z) when the reader runs. */
  env_init (&e, TRUE, TRUE, NULL);
  x = npu_graph_add_buffer (e.graph, "r0.x", 256);
  NpuTask *z = task (&e, "Z", 10);
  p = task (&e, "P", 10);
  q = task (&e, "Q", 5);
  npu_task_depends_on (p, z);
  npu_task_writes (p, x, 0, 64);
  npu_task_reads (q, x, 32, 8);
  expect_hazard (&e, "read-before-write: task 'Q' reads r0.x[32,40) while 'P' (which "
                     "writes it) has not finished");
  env_clear (&e);
}

/* Write-after-read: W (created after R) overwrites bytes R has not finished reading. */
static void
test_hazard_war (void)
{
  Env e;
  env_init (&e, TRUE, TRUE, NULL);
  guint x = npu_graph_add_buffer (e.graph, "r0.x", 256);
  NpuTask *r = task (&e, "R", 10), *w = task (&e, "W", 5);
  npu_task_reads (r, x, 0, 32);
  npu_task_writes (w, x, 16, 32);
  expect_hazard (&e, "write-after-read: task 'W' writes r0.x[16,48) while 'R' (which "
                     "reads it) has not finished");
  env_clear (&e);

  env_init (&e, TRUE, TRUE, NULL);
  x = npu_graph_add_buffer (e.graph, "r0.x", 256);
  r = task (&e, "R", 10);
  w = task (&e, "W", 5);
  npu_task_reads (r, x, 0, 32);
  npu_task_writes (w, x, 16, 32);
  npu_task_depends_on (w, r);
  run_ok (&e);
  assert_times (w, 10, 15);
  env_clear (&e);
}

/* Write-after-write: two overlapping writers overlap in time. Adjacent ranges
 * ([0,16) and [16,32)) do not overlap. */
static void
test_hazard_waw (void)
{
  Env e;
  env_init (&e, TRUE, TRUE, NULL);
  guint x = npu_graph_add_buffer (e.graph, "r0.x", 256);
  guint y = npu_graph_add_buffer (e.graph, "r0.y", 256);
  NpuTask *w0 = task (&e, "W0", 10), *w1 = task (&e, "W1", 10), *w2 = task (&e, "W2", 5);
  npu_task_writes (w0, x, 16, 16);
  npu_task_writes (w1, x, 0, 16);
  npu_task_reads (w2, y, 0, 256);  /* other buffer: no conflict */
  npu_task_writes (w2, x, 8, 16);
  expect_hazard (&e, "write-after-write: task 'W2' writes r0.x[8,24) while 'W0' (which "
                     "also writes it) has not finished");
  env_clear (&e);

  /* Ordered writers, and a reader that waits for both: silent. */
  env_init (&e, TRUE, TRUE, NULL);
  x = npu_graph_add_buffer (e.graph, "r0.x", 256);
  w0 = task (&e, "W0", 10);
  w1 = task (&e, "W1", 10);
  NpuTask *rd = task (&e, "Rd", 1);
  npu_task_writes (w0, x, 0, 16);
  npu_task_writes (w1, x, 0, 16);
  npu_task_reads (rd, x, 0, 256);
  npu_task_depends_on (w1, w0);
  npu_task_depends_on (rd, w1);
  run_ok (&e);
  assert_times (w1, 10, 20);
  assert_times (rd, 20, 21);
  env_clear (&e);
}

/* Timing-only mode still checks hazards; a disabled checker does not. */
static void
test_hazard_modes (void)
{
  Env e;
  env_init (&e, FALSE, TRUE, NULL);
  guint x = npu_graph_add_buffer (e.graph, "b", 8);
  NpuTask *p = task (&e, "P", 1), *q = task (&e, "Q", 1);
  npu_task_writes (p, x, 0, 8);
  npu_task_reads (q, x, 0, 8);
  expect_hazard (&e, "read-before-write: task 'Q' reads b[0,8) while 'P' (which writes "
                     "it) has not finished");
  env_clear (&e);

  env_init (&e, TRUE, FALSE, NULL);
  x = npu_graph_add_buffer (e.graph, "b", 8);
  p = task (&e, "P", 1);
  q = task (&e, "Q", 1);
  npu_task_writes (p, x, 0, 8);
  npu_task_reads (q, x, 0, 8);
  run_ok (&e);
  env_clear (&e);
}

/* ---- deadlock ---- */

static void
test_deadlock (void)
{
  Env e;
  env_init (&e, TRUE, TRUE, NULL);
  NpuTask *a = task (&e, "A", 1), *b = task (&e, "B", 1);
  npu_task_depends_on (a, b);
  npu_task_depends_on (b, a);
  g_autoptr (GError) error = NULL;
  g_assert_false (npu_graph_run (e.graph, &error));
  g_assert_error (error, NPU_GRAPH_ERROR, NPU_GRAPH_ERROR_DEADLOCK);
  g_assert_cmpstr (error->message, ==, "deadlock: task 'A' can never start: it waits for "
                   "'B', which never finished (2 of 2 tasks unfinished)");
  env_clear (&e);

  /* A wait whose record can never run: stream 0 is X then the record; stream 1 waits
   * for that record before Y, and X waits for Y. Free runs before the cycle. */
  env_init (&e, TRUE, TRUE, NULL);
  NpuStream *s0 = npu_graph_stream_new (e.graph, "s0", 1, 0);
  NpuStream *s1 = npu_graph_stream_new (e.graph, "s1", 1, 1);
  NpuTask *free_task = task (&e, "Free", 2);
  NpuTask *x = task (&e, "X", 1);
  npu_stream_append (s0, x);
  NpuTask *rec = npu_stream_record (s0, "record", 0);
  npu_stream_wait (s1, rec, "wait", 0);
  NpuTask *y = task (&e, "Y", 1);
  npu_stream_append (s1, y);
  npu_task_depends_on (x, y);
  g_clear_error (&error);
  g_assert_false (npu_graph_run (e.graph, &error));
  g_assert_error (error, NPU_GRAPH_ERROR, NPU_GRAPH_ERROR_DEADLOCK);
  g_assert_cmpstr (error->message, ==, "deadlock: task 'X' can never start: it waits for "
                   "'Y', which never finished (4 of 5 tasks unfinished)");
  assert_times (free_task, 0, 2);
  env_clear (&e);
}

/* ---- streams ---- */

/* s0: A (10) then record R (1); s1: C (3), wait W for R (2), B (5).
 * A [0,10], R [10,11], C [0,3], W after C and R: [11,13], B [13,18].
 * Slices are reported at their end: C@3, A@10, R@11, W@13, B@18. */
static void
test_streams (void)
{
  TestSink sink;
  test_sink_init (&sink);
  Env e;
  env_init (&e, TRUE, TRUE, &sink.parent);
  NpuStream *s0 = npu_graph_stream_new (e.graph, "r0.stream0", 1, 0);
  NpuStream *s1 = npu_graph_stream_new (e.graph, "r0.stream1", 1, 1);
  g_assert_null (npu_stream_last (s0));
  NpuTask *a = task (&e, "A", 10);
  npu_stream_append (s0, a);
  NpuTask *r = npu_stream_record (s0, "R", 1 * NS);
  NpuTask *c = task (&e, "C", 3);
  npu_stream_append (s1, c);
  NpuTask *w = npu_stream_wait (s1, r, "W", 2 * NS);
  NpuTask *b = task (&e, "B", 5);
  npu_stream_append (s1, b);
  g_assert_true (npu_stream_last (s0) == r);
  g_assert_true (npu_stream_last (s1) == b);
  run_ok (&e);
  assert_times (a, 0, 10);
  assert_times (r, 10, 11);
  assert_times (c, 0, 3);
  assert_times (w, 11, 13);
  assert_times (b, 13, 18);
  const char *expect[] = {
    "slice 1/1 C task 0 +3000 -",
    "slice 1/0 A task 0 +10000 -",
    "slice 1/0 R task 10000 +1000 -",
    "slice 1/1 W task 11000 +2000 -",
    "slice 1/1 B task 13000 +5000 -",
    NULL
  };
  test_sink_assert_lines (&sink, expect);
  env_clear (&e);
  test_sink_clear (&sink);
}

/* ---- traces and hooks ---- */

static void
hook_start (gpointer data, NpuTask *t)
{
  g_string_append_printf (data, "start:%s@%" G_GUINT64_FORMAT " ", npu_task_name (t),
                          npu_task_start (t));
}

static void
hook_end (gpointer data, NpuTask *t)
{
  g_string_append_printf (data, "end:%s@%" G_GUINT64_FORMAT " ", npu_task_name (t),
                          npu_task_end (t));
}

/* P on 2/5 [0,10] with args, Q on its stream 3/6 [10,14], arrow P->Q from 1 ns before
 * P's end (9000 ps) to Q's start (10000 ps), reported once both slices are known
 * (at Q's end, after Q's slice). H is hidden although it is on the stream; N is a
 * zero-time task at 14 on its own track: a slice of duration 0. */
static void
test_traces_and_hooks (void)
{
  TestSink sink;
  test_sink_init (&sink);
  Env e;
  env_init (&e, TRUE, TRUE, &sink.parent);
  g_autoptr (GString) log = g_string_new (NULL);
  NpuStream *st = npu_graph_stream_new (e.graph, "st", 3, 6);
  NpuTask *p = task (&e, "P", 10);
  npu_task_set_track (p, 2, 5, "compute");
  npu_task_set_args (p, "{\"k\":1}");
  npu_task_set_hooks (p, hook_start, hook_end, log);
  NpuTask *q = task (&e, "Q", 4);
  npu_task_depends_on (q, p);
  npu_stream_append (st, q);
  npu_task_set_hooks (q, hook_start, hook_end, log);
  NpuTask *h = task (&e, "H", 1);
  npu_task_set_hidden (h);
  npu_stream_append (st, h);
  NpuTask *n = npu_graph_task_new (e.graph, "N");
  npu_task_depends_on (n, h);
  npu_task_set_track (n, 3, 7, NULL);
  npu_task_add_trace_flow (p, q, "data");
  run_ok (&e);
  assert_times (h, 14, 15);
  assert_times (n, 15, 15);
  g_assert_cmpstr (log->str, ==, "start:P@0 end:P@10000 start:Q@10000 end:Q@14000 ");
  const char *expect[] = {
    "slice 2/5 P compute 0 +10000 {\"k\":1}",
    "slice 3/6 Q task 10000 +4000 -",
    "flow data 2/5@9000 -> 3/6@10000",
    "slice 3/7 N task 15000 +0 -",
    NULL
  };
  test_sink_assert_lines (&sink, expect);
  env_clear (&e);
  test_sink_clear (&sink);
}

/* ---- duration function, flows, dynamic tasks ---- */

static NpuTime
dur_from_start (gpointer data, NpuTime start)
{
  return 1000 + start; /* evaluated at the start: 1000 + 500 ps */
}

/* Pre [0,500 ps]; T on S starts at 500 ps, fixed 1500 ps, then 1000 B over a 1 GB/s
 * link (1e6 ps) with 700 ps latency: ends 500 + 1500 + 1e6 + 700 = 1002700 ps.
 * T2 on S waits: [1002700, +100]. A local copy L (no links, cap 4 GB/s, 1000 B)
 * takes 250 ns. S busy = 1002200 + 100. */
static void
test_duration_func_and_flow (void)
{
  Env e;
  env_init (&e, TRUE, TRUE, NULL);
  g_autoptr (NpuServer) s = npu_server_new (e.engine, "sdma");
  guint link = npu_fabric_add_link (e.fabric, "r0->r1", 1 * GB, 700);
  NpuTask *pre = npu_graph_task_new (e.graph, "pre");
  npu_task_set_duration (pre, 500);
  NpuTask *t = npu_graph_task_new (e.graph, "T");
  npu_task_set_server (t, s);
  npu_task_set_duration_func (t, dur_from_start, NULL);
  npu_task_set_flow (t, &link, 1, 1000, 0);
  npu_task_depends_on (t, pre);
  NpuTask *t2 = npu_graph_task_new (e.graph, "T2");
  npu_task_set_server (t2, s);
  npu_task_set_duration (t2, 100);
  npu_task_depends_on (t2, pre);
  NpuTask *l = npu_graph_task_new (e.graph, "L");
  npu_task_set_flow (l, NULL, 0, 1000, 4 * GB);
  run_ok (&e);
  g_assert_cmpuint (npu_task_start (t), ==, 500);
  g_assert_cmpuint (npu_task_end (t), ==, 1002700);
  g_assert_cmpuint (npu_task_start (t2), ==, 1002700);
  g_assert_cmpuint (npu_task_end (t2), ==, 1002800);
  g_assert_cmpuint (npu_task_start (l), ==, 0);
  g_assert_cmpuint (npu_task_end (l), ==, 250 * NS);
  g_assert_cmpuint (npu_server_busy_ps (s), ==, 1002200 + 100);
  g_assert_cmpfloat (npu_fabric_link_bytes (e.fabric, link), ==, 1000);
  env_clear (&e);
}

/* A task created by a hook during the run, with nothing to wait for, runs when the
 * engine has drained: A [0,10] creates D (5): D [10,15]. */
static void
spawn (gpointer data, NpuTask *t)
{
  Env *e = data;
  task (e, "D", 5);
}

static void
test_dynamic_task (void)
{
  Env e;
  env_init (&e, TRUE, TRUE, NULL);
  NpuTask *a = task (&e, "A", 10);
  npu_task_set_hooks (a, NULL, spawn, &e);
  run_ok (&e);
  g_assert_cmpuint (npu_graph_n_tasks (e.graph), ==, 2);
  assert_times (npu_graph_task (e.graph, 1), 10, 15);
  /* A second run continues where the first stopped. */
  NpuTask *f = task (&e, "F", 1);
  npu_task_depends_on (f, a); /* already ended: no wait */
  run_ok (&e);
  assert_times (f, 15, 16);
  env_clear (&e);
}

/* A bigger random DAG: data and timing-only runs give the same times. */
static void
random_dag (gboolean data_mode, NpuTime *times, guint n)
{
  Env e;
  env_init (&e, data_mode, TRUE, NULL);
  g_autoptr (GRand) rand = g_rand_new_with_seed (5);
  NpuServer *servers[4];
  for (guint i = 0; i < 4; i++)
    servers[i] = npu_server_new (e.engine, "s");
  guint links[3];
  for (guint i = 0; i < 3; i++)
    links[i] = npu_fabric_add_link (e.fabric, "l", (i + 1) * GB, 100);
  for (guint i = 0; i < n; i++)
    {
      NpuTask *t = task (&e, "t", g_rand_int_range (rand, 0, 20));
      if (g_rand_boolean (rand))
        npu_task_set_server (t, servers[g_rand_int_range (rand, 0, 4)]);
      if (g_rand_int_range (rand, 0, 3) == 0)
        npu_task_set_flow (t, &links[g_rand_int_range (rand, 0, 3)], 1,
                           g_rand_int_range (rand, 0, 5000), 0);
      for (guint k = 0; k < 2 && i > 0; k++)
        npu_task_depends_on (t, npu_graph_task (e.graph, g_rand_int_range (rand, 0, i)));
      npu_task_set_effect (t, eff_fail_silent, NULL, NULL); /* would fail in data mode */
    }
  if (data_mode)
    for (guint i = 0; i < n; i++)
      npu_task_set_effect (npu_graph_task (e.graph, i), NULL, NULL, NULL);
  run_ok (&e);
  for (guint i = 0; i < n; i++)
    {
      times[2 * i] = npu_task_start (npu_graph_task (e.graph, i));
      times[2 * i + 1] = npu_task_end (npu_graph_task (e.graph, i));
    }
  env_clear (&e);
  for (guint i = 0; i < 4; i++)
    npu_server_free (servers[i]);
}

static void
test_timing_only_same_times (void)
{
  enum { N = 2000 };
  g_autofree NpuTime *a = g_new (NpuTime, 2 * N);
  g_autofree NpuTime *b = g_new (NpuTime, 2 * N);
  random_dag (TRUE, a, N);
  random_dag (FALSE, b, N);
  g_assert_cmpmem (a, 2 * N * sizeof (NpuTime), b, 2 * N * sizeof (NpuTime));
  for (guint i = 0; i < N; i++)
    g_assert_cmpuint (a[2 * i], <=, a[2 * i + 1]);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sim/graph/deps-and-servers", test_deps_and_servers);
  g_test_add_func ("/sim/graph/ready-order-by-id", test_ready_order_by_id);
  g_test_add_func ("/sim/graph/effects", test_effects);
  g_test_add_func ("/sim/graph/effect-failure", test_effect_failure);
  g_test_add_func ("/sim/graph/user-data", test_user_data);
  g_test_add_func ("/sim/graph/fail-from-hook", test_fail_from_hook);
  g_test_add_func ("/sim/graph/fail-from-effect", test_fail_from_effect);
  g_test_add_func ("/sim/graph/hazard-missing-dep", test_hazard_missing_dep);
  g_test_add_func ("/sim/graph/hazard-war", test_hazard_war);
  g_test_add_func ("/sim/graph/hazard-waw", test_hazard_waw);
  g_test_add_func ("/sim/graph/hazard-modes", test_hazard_modes);
  g_test_add_func ("/sim/graph/deadlock", test_deadlock);
  g_test_add_func ("/sim/graph/streams", test_streams);
  g_test_add_func ("/sim/graph/traces-and-hooks", test_traces_and_hooks);
  g_test_add_func ("/sim/graph/duration-func-and-flow", test_duration_func_and_flow);
  g_test_add_func ("/sim/graph/dynamic-task", test_dynamic_task);
  g_test_add_func ("/sim/graph/timing-only-same-times", test_timing_only_same_times);
  return g_test_run ();
}
