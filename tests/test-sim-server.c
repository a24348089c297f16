/* npusim tests — serial server: FIFO grants as START-class events, busy time. */
#include "sim/server.h"

typedef struct {
  NpuEngine *engine;
  NpuServer *server;
  GString *log;
} Ctx;

typedef struct {
  Ctx *ctx;
  const char *name;
  NpuTime hold;   /* ps */
} Holder;

static void
release_ev (gpointer data, NpuTime now)
{
  Holder *h = data;
  g_string_append_printf (h->ctx->log, "%s-@%" G_GUINT64_FORMAT " ", h->name, now);
  npu_server_release (h->ctx->server);
}

static void
granted (gpointer data, NpuTime now)
{
  Holder *h = data;
  g_assert_true (npu_server_is_busy (h->ctx->server));
  g_string_append_printf (h->ctx->log, "%s+@%" G_GUINT64_FORMAT " ", h->name, now);
  npu_engine_schedule (h->ctx->engine, now + h->hold, NPU_PRIO_END, release_ev, h);
}

static void
acquire_ev (gpointer data, NpuTime now)
{
  Holder *h = data;
  npu_server_acquire (h->ctx->server, granted, h);
}

static void
test_fifo (void)
{
  g_autoptr (NpuEngine) engine = npu_engine_new ();
  g_autoptr (NpuServer) server = npu_server_new (engine, "r0.aic0");
  g_autoptr (GString) log = g_string_new (NULL);
  Ctx ctx = { engine, server, log };
  Holder a = { &ctx, "a", 10 }, b = { &ctx, "b", 20 }, c = { &ctx, "c", 5 },
         d = { &ctx, "d", 7 };
  g_assert_cmpstr (npu_server_name (server), ==, "r0.aic0");
  g_assert_false (npu_server_is_busy (server));
  /* a, b, c ask at 0 in that order; d asks at 100 when the server is idle again. */
  npu_engine_schedule (engine, 0, NPU_PRIO_START, acquire_ev, &a);
  npu_engine_schedule (engine, 0, NPU_PRIO_START, acquire_ev, &b);
  npu_engine_schedule (engine, 0, NPU_PRIO_START, acquire_ev, &c);
  npu_engine_schedule (engine, 100, NPU_PRIO_START, acquire_ev, &d);
  npu_engine_run (engine);
  g_assert_cmpstr (log->str, ==,
                   "a+@0 a-@10 b+@10 b-@30 c+@30 c-@35 d+@100 d-@107 ");
  /* busy = 10 + 20 + 5 + 7 */
  g_assert_cmpuint (npu_server_busy_ps (server), ==, 42);
  g_assert_false (npu_server_is_busy (server));
}

/* A release at an END event and a new request at the same instant: the waiter that
 * asked first gets it, and the grant fires at START class after all ENDs. */
static void
test_same_instant (void)
{
  g_autoptr (NpuEngine) engine = npu_engine_new ();
  g_autoptr (NpuServer) server = npu_server_new (engine, "s");
  g_autoptr (GString) log = g_string_new (NULL);
  Ctx ctx = { engine, server, log };
  Holder a = { &ctx, "a", 10 }, w = { &ctx, "w", 1 }, late = { &ctx, "late", 1 };
  npu_engine_schedule (engine, 0, NPU_PRIO_START, acquire_ev, &a);
  npu_engine_schedule (engine, 5, NPU_PRIO_START, acquire_ev, &w);
  /* Asks at 10 in a START event scheduled before a's release exists. */
  npu_engine_schedule (engine, 10, NPU_PRIO_START, acquire_ev, &late);
  npu_engine_run (engine);
  g_assert_cmpstr (log->str, ==, "a+@0 a-@10 w+@10 w-@11 late+@11 late-@12 ");
  g_assert_cmpuint (npu_server_busy_ps (server), ==, 12);
}

/* Busy time counts the open holding period while held. */
static void
test_busy_while_held (void)
{
  g_autoptr (NpuEngine) engine = npu_engine_new ();
  g_autoptr (NpuServer) server = npu_server_new (engine, "s");
  g_autoptr (GString) log = g_string_new (NULL);
  Ctx ctx = { engine, server, log };
  Holder a = { &ctx, "a", 1000 };
  npu_engine_schedule (engine, 200, NPU_PRIO_START, acquire_ev, &a);
  while (npu_engine_now (engine) < 200 || npu_engine_fired (engine) < 2)
    g_assert_true (npu_engine_step (engine));
  /* acquire at 200, grant fired at 200: held, 0 ps so far */
  g_assert_true (npu_server_is_busy (server));
  g_assert_cmpuint (npu_server_busy_ps (server), ==, 0);
  npu_engine_run (engine);
  g_assert_cmpuint (npu_server_busy_ps (server), ==, 1000);
}

/* Many waiters: the ring buffer grows and keeps FIFO order. */
static void
test_many_waiters (void)
{
  enum { N = 100 };
  g_autoptr (NpuEngine) engine = npu_engine_new ();
  g_autoptr (NpuServer) server = npu_server_new (engine, "s");
  g_autoptr (GString) log = g_string_new (NULL);
  g_autoptr (GString) expect = g_string_new (NULL);
  Ctx ctx = { engine, server, log };
  Holder h[N];
  char names[N][8];
  for (guint i = 0; i < N; i++)
    {
      g_snprintf (names[i], sizeof names[i], "h%u", i);
      h[i] = (Holder) { &ctx, names[i], 3 };
      npu_engine_schedule (engine, i / 10, NPU_PRIO_START, acquire_ev, &h[i]);
      g_string_append_printf (expect, "h%u+@%u h%u-@%u ", i, 3 * i, i, 3 * i + 3);
    }
  npu_engine_run (engine);
  g_assert_cmpstr (log->str, ==, expect->str);
  g_assert_cmpuint (npu_server_busy_ps (server), ==, 3 * N);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sim/server/fifo", test_fifo);
  g_test_add_func ("/sim/server/same-instant", test_same_instant);
  g_test_add_func ("/sim/server/busy-while-held", test_busy_while_held);
  g_test_add_func ("/sim/server/many-waiters", test_many_waiters);
  return g_test_run ();
}
