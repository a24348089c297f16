/* npusim — serial server: one holder, FIFO waiting line kept in a ring buffer. */
#include "sim/server.h"

typedef struct {
  NpuServerGrantFunc grant;
  gpointer data;
} Waiter;

struct _NpuServer {
  NpuEngine *engine;
  char *name;
  gboolean held;
  NpuTime held_since;
  NpuTime busy;
  Waiter *ring;        /* waiting line: ring[(head + i) % cap], i < n_waiting */
  guint head;
  guint n_waiting;
  guint cap;
};

NpuServer *
npu_server_new (NpuEngine *engine, const char *name)
{
  g_return_val_if_fail (engine != NULL && name != NULL, NULL);
  NpuServer *server = g_new0 (NpuServer, 1);
  server->engine = engine;
  server->name = g_strdup (name);
  return server;
}

void
npu_server_free (NpuServer *server)
{
  if (server == NULL)
    return;
  g_free (server->ring);
  g_free (server->name);
  g_free (server);
}

/* Give the server to a requester at the current time: the grant is an event at
 * NPU_PRIO_START, so the holder starts after every completion of this instant. */
static void
grant_now (NpuServer *server, NpuServerGrantFunc grant, gpointer data)
{
  server->held = TRUE;
  server->held_since = npu_engine_now (server->engine);
  npu_engine_schedule (server->engine, server->held_since, NPU_PRIO_START, grant, data);
}

void
npu_server_acquire (NpuServer *server, NpuServerGrantFunc grant, gpointer data)
{
  g_return_if_fail (server != NULL && grant != NULL);
  if (!server->held)
    {
      g_assert (server->n_waiting == 0);
      grant_now (server, grant, data);
      return;
    }
  if (server->n_waiting == server->cap)
    {
      /* Grow and unwrap the ring so that the line starts at index 0 again. */
      guint new_cap = server->cap ? server->cap * 2 : 8;
      Waiter *ring = g_new (Waiter, new_cap);
      for (guint i = 0; i < server->n_waiting; i++)
        ring[i] = server->ring[(server->head + i) % server->cap];
      g_free (server->ring);
      server->ring = ring;
      server->head = 0;
      server->cap = new_cap;
    }
  server->ring[(server->head + server->n_waiting) % server->cap] = (Waiter) { grant, data };
  server->n_waiting++;
}

void
npu_server_release (NpuServer *server)
{
  g_return_if_fail (server != NULL);
  if (G_UNLIKELY (!server->held))
    g_error ("npu_server_release: server '%s' is not held", server->name);
  NpuTime now = npu_engine_now (server->engine);
  server->busy += now - server->held_since;
  server->held = FALSE;
  if (server->n_waiting > 0)
    {
      Waiter w = server->ring[server->head];
      server->head = (server->head + 1) % server->cap;
      server->n_waiting--;
      grant_now (server, w.grant, w.data);
    }
}

const char *
npu_server_name (const NpuServer *server)
{
  return server->name;
}

NpuTime
npu_server_busy_ps (const NpuServer *server)
{
  NpuTime busy = server->busy;
  if (server->held)
    busy += npu_engine_now (server->engine) - server->held_since;
  return busy;
}

gboolean
npu_server_is_busy (const NpuServer *server)
{
  return server->held;
}
