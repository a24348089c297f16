/* npusim — event-queue throughput benchmark.
 *
 * A raw event storm: PENDING events are in the queue at any time; each fired event
 * schedules one successor at a random later time (1 ps .. 1 us, random class) until
 * N events have been scheduled in all, then the queue drains. Prints one JSON object:
 *   {"bench":"engine","events":N,"pending":P,"seconds":S,"events_per_second":R}
 * Usage: bench-engine [N [PENDING]]   (defaults 20000000 and 10000) */
#include "sim/engine.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct {
  NpuEngine *engine;
  guint64 state;      /* xorshift64* state: cheap and deterministic */
  guint64 left;       /* events still to schedule */
} Storm;

static inline guint64
next_rand (Storm *s)
{
  s->state ^= s->state >> 12;
  s->state ^= s->state << 25;
  s->state ^= s->state >> 27;
  return s->state * G_GUINT64_CONSTANT (2685821657736338717);
}

static void
fire (gpointer data, NpuTime now)
{
  Storm *s = data;
  if (s->left == 0)
    return;
  s->left--;
  guint64 r = next_rand (s);
  npu_engine_schedule (s->engine, now + 1 + (r >> 44) % NPU_PS_PER_US,
                       (NpuPrio) ((r >> 8) % NPU_PRIO_N_CLASSES), fire, s);
}

int
main (int argc, char **argv)
{
  guint64 n = argc > 1 ? g_ascii_strtoull (argv[1], NULL, 10) : 20000000;
  guint64 pending = argc > 2 ? g_ascii_strtoull (argv[2], NULL, 10) : 10000;
  if (n == 0 || pending == 0 || pending > n)
    {
      fprintf (stderr, "usage: bench-engine [N [PENDING]] with 0 < PENDING <= N\n");
      return 2;
    }
  g_autoptr (NpuEngine) engine = npu_engine_new ();
  Storm s = { engine, G_GUINT64_CONSTANT (0x9E3779B97F4A7C15), n - pending };

  gint64 t0 = g_get_monotonic_time ();
  for (guint64 i = 0; i < pending; i++)
    npu_engine_schedule (engine, next_rand (&s) % NPU_PS_PER_US, NPU_PRIO_START, fire, &s);
  npu_engine_run (engine);
  gint64 t1 = g_get_monotonic_time ();

  g_assert (npu_engine_fired (engine) == n);
  double seconds = (double) (t1 - t0) / G_USEC_PER_SEC;
  char sec[G_ASCII_DTOSTR_BUF_SIZE], rate[G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_formatd (sec, sizeof sec, "%.6f", seconds);
  g_ascii_formatd (rate, sizeof rate, "%.0f", seconds > 0 ? (double) n / seconds : 0);
  printf ("{\"bench\":\"engine\",\"events\":%" G_GUINT64_FORMAT ",\"pending\":%"
          G_GUINT64_FORMAT ",\"seconds\":%s,\"events_per_second\":%s}\n",
          n, pending, sec, rate);
  return 0;
}
