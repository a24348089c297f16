/* Test helper (not a test): prints the M cut ops/qmmar-tiling.c computes, for
 * tests/test-qmmar-tiling.py. Usage: qmmar-cut M N K RANKS AIC L2_B4 OUT_SIZE QUANT
 * Output: "tile_m tile_cnt tail_m tail_cnt short_at_back". */
#include "ops/qmmar-private.h"
#include <stdio.h>
#include <stdlib.h>

int
main (int argc, char **argv)
{
  if (argc != 9)
    {
      fprintf (stderr, "usage: %s M N K RANKS AIC L2_B4 OUT_SIZE QUANT\n", argv[0]);
      return 2;
    }
  QmmarShape s = { g_ascii_strtoull (argv[1], NULL, 10), g_ascii_strtoull (argv[2], NULL, 10),
                   g_ascii_strtoull (argv[3], NULL, 10), (guint) atoi (argv[4]),
                   (guint) atoi (argv[5]), atoi (argv[6]) != 0, (guint) atoi (argv[7]) };
  QmmarCut c;
  qmmar_formulaic_cut (&s, atoi (argv[8]) != 0, &c);
  printf ("%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
          " %d\n", c.tile_m, c.tile_cnt, c.tail_m, c.tail_cnt, c.short_at_back ? 1 : 0);
  return 0;
}
