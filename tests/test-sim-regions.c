/* npusim tests — the hazard checker's region sets, against a brute-force list. */
#include "sim/region-set.h"

static void
test_small (void)
{
  NpuRegionPool *pool = npu_region_pool_new ();
  guint root = 0;
  /* keys: (task << 32 | access) */
  guint a = npu_region_insert (pool, &root, 0, 64, (5ull << 32) | 0, TRUE);
  guint b = npu_region_insert (pool, &root, 32, 32, (3ull << 32) | 1, FALSE);
  npu_region_insert (pool, &root, 128, 16, (1ull << 32) | 0, TRUE);
  /* [40,41): overlapped by a (write, key 5:0) and b (read, key 3:1) */
  g_assert_cmpuint (npu_region_min_conflict (pool, root, 40, 1, FALSE, G_MAXUINT64), ==,
                    (3ull << 32) | 1);
  g_assert_cmpuint (npu_region_min_conflict (pool, root, 40, 1, TRUE, G_MAXUINT64), ==,
                    5ull << 32);
  /* only keys below the bound count */
  g_assert_cmpuint (npu_region_min_conflict (pool, root, 40, 1, TRUE, 5ull << 32), ==,
                    G_MAXUINT64);
  /* half-open: [64,128) touches nothing */
  g_assert_cmpuint (npu_region_min_conflict (pool, root, 64, 64, FALSE, G_MAXUINT64), ==,
                    G_MAXUINT64);
  g_assert_cmpuint (npu_region_min_conflict (pool, root, 64, 65, FALSE, G_MAXUINT64), ==,
                    1ull << 32);
  g_assert_cmpuint (npu_region_min_conflict (pool, root, 0, 0, FALSE, G_MAXUINT64), ==,
                    G_MAXUINT64);
  npu_region_remove (pool, &root, b);
  g_assert_cmpuint (npu_region_min_conflict (pool, root, 40, 1, FALSE, G_MAXUINT64), ==,
                    5ull << 32);
  npu_region_remove (pool, &root, a);
  g_assert_cmpuint (npu_region_min_conflict (pool, root, 0, 100, FALSE, G_MAXUINT64), ==,
                    G_MAXUINT64);
  npu_region_pool_free (pool);
}

typedef struct {
  guint64 off, len, key;
  gboolean write;
  guint node;
  guint set;
  gboolean live;
} Ref;

/* Random inserts, removals and queries over a few sets sharing one pool; every
 * answer equals the minimum found by scanning all live regions. */
static void
test_random (void)
{
  enum { N = 6000, SETS = 3 };
  g_autoptr (GRand) rand = g_rand_new_with_seed (11);
  NpuRegionPool *pool = npu_region_pool_new ();
  guint roots[SETS] = { 0 };
  g_autofree Ref *refs = g_new0 (Ref, N);
  guint n = 0, queries = 0, hits = 0;
  for (guint step = 0; step < 4 * N; step++)
    {
      guint op = g_rand_int_range (rand, 0, 10);
      if (op < 4 && n < N)
        {
          Ref *r = &refs[n];
          r->set = g_rand_int_range (rand, 0, SETS);
          r->off = g_rand_int_range (rand, 0, 1000);
          /* mostly small, some huge, many duplicates of the same few regions */
          r->len = g_rand_int_range (rand, 0, 10) == 0 ? g_rand_int_range (rand, 1, 5000)
                                                        : g_rand_int_range (rand, 1, 40);
          if (g_rand_int_range (rand, 0, 4) == 0)
            r->off = 100, r->len = 50;
          r->key = ((guint64) g_rand_int_range (rand, 0, 500) << 32) | n;
          r->write = g_rand_boolean (rand);
          r->node = npu_region_insert (pool, &roots[r->set], r->off, r->len, r->key, r->write);
          r->live = TRUE;
          n++;
        }
      else if (op < 6 && n > 0)
        {
          Ref *r = &refs[g_rand_int_range (rand, 0, n)];
          if (r->live)
            {
              npu_region_remove (pool, &roots[r->set], r->node);
              r->live = FALSE;
            }
        }
      else
        {
          guint set = g_rand_int_range (rand, 0, SETS);
          guint64 off = g_rand_int_range (rand, 0, 1200), len = g_rand_int_range (rand, 0, 80);
          gboolean wo = g_rand_boolean (rand);
          guint64 below = g_rand_int_range (rand, 0, 3) == 0
            ? G_MAXUINT64 : (guint64) g_rand_int_range (rand, 0, 500) << 32;
          guint64 expect = G_MAXUINT64;
          for (guint i = 0; i < n; i++)
            {
              const Ref *r = &refs[i];
              if (r->live && r->set == set && len > 0 && r->off < off + len
                  && off < r->off + r->len
                  && (!wo || r->write) && r->key < below && r->key < expect)
                expect = r->key;
            }
          g_assert_cmpuint (npu_region_min_conflict (pool, roots[set], off, len, wo, below),
                            ==, expect);
          queries++;
          hits += expect != G_MAXUINT64;
        }
    }
  g_assert_cmpuint (queries, >, 5000);
  g_assert_cmpuint (hits, >, 1000);
  npu_region_pool_free (pool);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sim/regions/small", test_small);
  g_test_add_func ("/sim/regions/random", test_random);
  return g_test_run ();
}
