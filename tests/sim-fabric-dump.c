/* npusim tests — driver for tests/test-sim-fabric-ref.py.
 *
 * Builds a random fabric and flow set from a seed, runs it, and prints
 *   L <link> <bandwidth B/s> <latency ps>
 *   F <flow> <start ps> <rate cap B/s or 0> <bytes> <link>...
 *   D <flow> <done ps>
 * so that an independent fluid model (exact rationals) can recompute every
 * completion time. Usage: sim-fabric-dump SEED N_LINKS N_FLOWS */
#include "sim/fabric.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct {
  NpuFabric *fabric;
  guint links[3];
  guint n_links;
  guint64 bytes;
  double cap;
  NpuTime start;
  NpuTime done;
} Flow;

static void
on_done (gpointer data, NpuTime now)
{
  ((Flow *) data)->done = now;
}

static void
on_start (gpointer data, NpuTime now)
{
  Flow *f = data;
  npu_fabric_start_flow (f->fabric, f->links, f->n_links, f->bytes, f->cap, on_done, f);
}

int
main (int argc, char **argv)
{
  if (argc != 4)
    {
      fprintf (stderr, "usage: sim-fabric-dump SEED N_LINKS N_FLOWS\n");
      return 2;
    }
  guint seed = atoi (argv[1]), n_links = atoi (argv[2]), n_flows = atoi (argv[3]);
  g_autoptr (NpuEngine) engine = npu_engine_new ();
  g_autoptr (NpuFabric) fabric = npu_fabric_new (engine);
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  /* Bandwidths of the kind the presets use (GB/s, some not round), latencies 0..5 us. */
  static const double bws[] = { 28e9, 19.3e9, 25e9, 56e9, 196e9, 12.5e9 };
  for (guint l = 0; l < n_links; l++)
    {
      double bw = bws[g_rand_int_range (rand, 0, G_N_ELEMENTS (bws))];
      NpuTime lat = g_rand_int_range (rand, 0, 6) * 1000000 / 2;
      npu_fabric_add_link (fabric, "l", bw, lat);
      printf ("L %u %.17g %" G_GUINT64_FORMAT "\n", l, bw, lat);
    }
  g_autofree Flow *flows = g_new0 (Flow, n_flows);
  for (guint i = 0; i < n_flows; i++)
    {
      Flow *f = &flows[i];
      f->fabric = fabric;
      f->n_links = g_rand_int_range (rand, 1, 4);
      for (guint k = 0; k < f->n_links; k++)
        {
          gboolean dup;
          do
            {
              f->links[k] = g_rand_int_range (rand, 0, n_links);
              dup = FALSE;
              for (guint j = 0; j < k; j++)
                dup |= f->links[j] == f->links[k];
            }
          while (dup);
        }
      f->bytes = g_rand_int_range (rand, 1, 4000000);
      f->cap = g_rand_int_range (rand, 0, 3) == 0 ? 19.3e9 : 0;
      /* a few start instants, so that many flows start together */
      f->start = (NpuTime) g_rand_int_range (rand, 0, 8) * 25000000;
      npu_engine_schedule (engine, f->start, NPU_PRIO_START, on_start, f);
      printf ("F %u %" G_GUINT64_FORMAT " %.17g %" G_GUINT64_FORMAT, i, f->start, f->cap,
              f->bytes);
      for (guint k = 0; k < f->n_links; k++)
        printf (" %u", f->links[k]);
      printf ("\n");
    }
  npu_engine_run (engine);
  for (guint i = 0; i < n_flows; i++)
    printf ("D %u %" G_GUINT64_FORMAT "\n", i, flows[i].done);
  return 0;
}
