/* Tests of the nesting lanes (traces/trace-lanes.c): hand-derived cases, and random
 * slice sets checked against a brute-force definition of nesting and coverage. */
#include "traces/trace-lanes.h"

typedef struct {
  guint64 s, e;
} Iv;

static void
test_basic (void)
{
  g_autoptr (NpuTraceLane) lane = npu_trace_lane_new (9);
  g_assert_cmpuint (npu_trace_lane_tid (lane), ==, 9);
  g_assert_true (npu_trace_lane_place (lane, 0, 10));
  g_assert_true (npu_trace_lane_place (lane, 10, 20));   /* touching: disjoint */
  g_assert_cmpuint (npu_trace_lane_n_tops (lane), ==, 2);
  g_assert_false (npu_trace_lane_place (lane, 5, 15));   /* partial overlap */
  g_assert_false (npu_trace_lane_place (lane, 15, 25));
  g_assert_true (npu_trace_lane_place (lane, 0, 20));    /* parent of both */
  g_assert_cmpuint (npu_trace_lane_n_tops (lane), ==, 1);
  /* Inside [0,20) and ending at 20: [10,20) is a chain member, [0,10) is not. */
  g_assert_false (npu_trace_lane_place (lane, 5, 20));   /* [0,10) straddles 5 */
  g_assert_true (npu_trace_lane_place (lane, 10, 20));   /* equal to the child */
  g_assert_true (npu_trace_lane_place (lane, 15, 20));   /* inside [10,20) */
  g_assert_true (npu_trace_lane_place (lane, 0, 20));    /* equal to the root */
  /* Inside but ending earlier: the lane cannot tell, so it refuses. */
  g_assert_false (npu_trace_lane_place (lane, 12, 14));
  g_assert_true (npu_trace_lane_place (lane, 0, 30));    /* new root */
  /* Now [0,20) is a forest top of [0,30): [20,30) and [25,30) fit, [19,30) not. */
  g_assert_false (npu_trace_lane_place (lane, 19, 30));
  g_assert_true (npu_trace_lane_place (lane, 20, 30));
  g_assert_true (npu_trace_lane_place (lane, 25, 30));
  g_assert_cmpuint (npu_trace_lane_n_tops (lane), ==, 1);
}

static void
test_out_of_order (void)
{
  g_autoptr (NpuTraceLane) lane = npu_trace_lane_new (1);
  g_assert_true (npu_trace_lane_place (lane, 20, 30));
  g_assert_true (npu_trace_lane_place (lane, 0, 10));    /* before: inserted */
  g_assert_true (npu_trace_lane_place (lane, 12, 18));   /* in the gap */
  g_assert_cmpuint (npu_trace_lane_n_tops (lane), ==, 3);
  g_assert_false (npu_trace_lane_place (lane, 5, 8));    /* inside an old top */
  g_assert_true (npu_trace_lane_place (lane, 0, 19));    /* absorbs two old tops */
  g_assert_cmpuint (npu_trace_lane_n_tops (lane), ==, 2);
  g_assert_false (npu_trace_lane_place (lane, 15, 25));
}

static void
test_instants_and_cover (void)
{
  g_autoptr (NpuTraceLane) lane = npu_trace_lane_new (1);
  g_assert_cmpint (npu_trace_lane_covers (lane, 0), ==, NPU_TRACE_COVER_NONE);
  g_assert_true (npu_trace_lane_place (lane, 5, 5));     /* always accepted */
  g_assert_cmpuint (npu_trace_lane_n_tops (lane), ==, 0);
  g_assert_true (npu_trace_lane_place (lane, 0, 10));
  g_assert_true (npu_trace_lane_place (lane, 3, 3));
  g_assert_true (npu_trace_lane_place (lane, 10, 10));
  g_assert_true (npu_trace_lane_place (lane, 20, 30));
  g_assert_cmpint (npu_trace_lane_covers (lane, 0), ==, NPU_TRACE_COVER_INSIDE);
  g_assert_cmpint (npu_trace_lane_covers (lane, 9), ==, NPU_TRACE_COVER_INSIDE);
  g_assert_cmpint (npu_trace_lane_covers (lane, 10), ==, NPU_TRACE_COVER_END);
  g_assert_cmpint (npu_trace_lane_covers (lane, 15), ==, NPU_TRACE_COVER_NONE);
  g_assert_cmpint (npu_trace_lane_covers (lane, 20), ==, NPU_TRACE_COVER_INSIDE);
  g_assert_cmpint (npu_trace_lane_covers (lane, 30), ==, NPU_TRACE_COVER_END);
  g_assert_cmpint (npu_trace_lane_covers (lane, 31), ==, NPU_TRACE_COVER_NONE);
  /* An instant at the end of the last tree does not disturb the equal-end case. */
  g_assert_true (npu_trace_lane_place (lane, 30, 30));
  g_assert_true (npu_trace_lane_place (lane, 25, 30));
}

/* Random slices placed first-fit over lanes; then every lane must be nested
 * (brute force over all pairs) and its coverage must match the slices. */
static void
test_random_first_fit (void)
{
  GRand *rand = g_rand_new_with_seed (20240611);
  for (guint round = 0; round < 40; round++)
    {
      GPtrArray *lanes = g_ptr_array_new_with_free_func ((GDestroyNotify) npu_trace_lane_free);
      GPtrArray *members = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
      guint n = 60 + g_rand_int_range (rand, 0, 60);
      for (guint i = 0; i < n; i++)
        {
          guint64 s = (guint64) g_rand_int_range (rand, 0, 200);
          guint64 e = s + (guint64) g_rand_int_range (rand, 0, 40);
          guint k;
          for (k = 0; k < lanes->len; k++)
            if (npu_trace_lane_place (g_ptr_array_index (lanes, k), s, e))
              break;
          if (k == lanes->len)
            {
              g_ptr_array_add (lanes, npu_trace_lane_new (k));
              g_ptr_array_add (members, g_array_new (FALSE, FALSE, sizeof (Iv)));
              g_assert_true (npu_trace_lane_place (g_ptr_array_index (lanes, k), s, e));
            }
          Iv iv = { s, e };
          g_array_append_val ((GArray *) g_ptr_array_index (members, k), iv);
        }
      for (guint k = 0; k < lanes->len; k++)
        {
          GArray *m = g_ptr_array_index (members, k);
          for (guint a = 0; a < m->len; a++)
            for (guint b = a + 1; b < m->len; b++)
              {
                Iv x = g_array_index (m, Iv, a), y = g_array_index (m, Iv, b);
                gboolean disjoint = x.e <= y.s || y.e <= x.s;
                gboolean nested = (x.s <= y.s && y.e <= x.e) || (y.s <= x.s && x.e <= y.e);
                g_assert_true (disjoint || nested);
              }
          for (guint64 t = 0; t <= 245; t++)
            {
              gboolean inside = FALSE, at_end = FALSE;
              for (guint a = 0; a < m->len; a++)
                {
                  Iv x = g_array_index (m, Iv, a);
                  inside |= x.s <= t && t < x.e;
                  at_end |= x.s < x.e && x.e == t;
                }
              NpuTraceCover want = inside ? NPU_TRACE_COVER_INSIDE
                                   : at_end ? NPU_TRACE_COVER_END : NPU_TRACE_COVER_NONE;
              g_assert_cmpint (npu_trace_lane_covers (g_ptr_array_index (lanes, k), t), ==, want);
            }
        }
      g_ptr_array_unref (lanes);
      g_ptr_array_unref (members);
    }
  g_rand_free (rand);
}

/* A random properly nested forest with random zero-length slices, reported in order
 * of end time (ties in random order, as callbacks at one simulated time may come):
 * everything must fit one lane. */
static void
build_forest (GRand *rand, guint64 s, guint64 e, guint depth, GArray *out)
{
  guint64 t = s;
  while (t < e)
    {
      guint64 cs = t + (guint64) g_rand_int_range (rand, 0, 3);
      if (cs > e)
        break;
      guint64 len = (guint64) g_rand_int_range (rand, 0, 12);
      guint64 ce = MIN (e, cs + len);
      if (g_rand_int_range (rand, 0, 4) == 0)
        ce = e;  /* share the parent's end: the equal-end case */
      Iv iv = { cs, ce };
      g_array_append_val (out, iv);
      if (depth < 4 && ce > cs)
        build_forest (rand, cs, ce, depth + 1, out);
      t = ce > t ? ce : t + 1;
    }
}

static gint
cmp_by_end_then_key (gconstpointer pa, gconstpointer pb)
{
  const guint64 *a = pa, *b = pb;  /* { end, random key, start } */
  if (a[0] != b[0])
    return a[0] < b[0] ? -1 : 1;
  return a[1] < b[1] ? -1 : a[1] > b[1];
}

static void
test_end_ordered_nests_in_one_lane (void)
{
  GRand *rand = g_rand_new_with_seed (77);
  for (guint round = 0; round < 200; round++)
    {
      g_autoptr (GArray) ivs = g_array_new (FALSE, FALSE, sizeof (Iv));
      build_forest (rand, 0, 100, 0, ivs);
      g_autoptr (GArray) order = g_array_new (FALSE, FALSE, 3 * sizeof (guint64));
      for (guint i = 0; i < ivs->len; i++)
        {
          Iv iv = g_array_index (ivs, Iv, i);
          guint64 rec[3] = { iv.e, g_rand_int (rand), iv.s };
          g_array_append_vals (order, rec, 1);
        }
      g_array_sort (order, cmp_by_end_then_key);
      g_autoptr (NpuTraceLane) lane = npu_trace_lane_new (0);
      for (guint i = 0; i < order->len; i++)
        {
          const guint64 *rec = (const guint64 *) order->data + 3 * i;
          if (!npu_trace_lane_place (lane, rec[2], rec[0]))
            {
              for (guint j = 0; j <= i; j++)
                g_printerr ("[%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT ") ",
                            ((const guint64 *) order->data)[3 * j + 2],
                            ((const guint64 *) order->data)[3 * j]);
              g_printerr ("\n");
              g_error ("round %u: [%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT ") refused",
                     round, rec[2], rec[0]);
            }
        }
    }
  g_rand_free (rand);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/traces/lanes/basic", test_basic);
  g_test_add_func ("/traces/lanes/out-of-order", test_out_of_order);
  g_test_add_func ("/traces/lanes/instants-and-cover", test_instants_and_cover);
  g_test_add_func ("/traces/lanes/random-first-fit", test_random_first_fit);
  g_test_add_func ("/traces/lanes/end-ordered-one-lane", test_end_ordered_nests_in_one_lane);
  return g_test_run ();
}
