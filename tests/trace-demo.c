/* trace-demo: a driver for tests/test-traces-output.py.
 *
 *   trace-demo trace OUT.json   write a small two-rank trace (overlapping slices,
 *                               flows, counters) through the NpuSink interface
 *   trace-demo random OUT.json  write a larger pseudo-random trace (overlapping
 *                               slices in end order and out of order, flows between
 *                               points inside slices, counters)
 *   trace-demo npy-write DIR    write .npy files of known content into DIR
 *   trace-demo npy-read FILE    read FILE with npu_npy_read and print
 *                               "descr=... shape=(...) nbytes=N sha256=HEX"
 *
 * The inputs (times in ps, array contents) are spelled out here and in the Python
 * test; the Python side derives the expected output from them independently. */
#include "traces/npy.h"
#include "traces/trace-writer.h"

#include <stdio.h>
#include <string.h>

#define US G_GUINT64_CONSTANT (1000000)

static int
write_trace (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NpuTraceWriter) w = npu_trace_writer_open (path, &error);
  if (w == NULL)
    {
      g_printerr ("trace-demo: %s\n", error->message);
      return 1;
    }
  NpuSink *sink = npu_trace_writer_sink (w);

  /* Reported before any slice exists: written at close. */
  npu_sink_flow (sink, 3, "notify", 2, 2, 30 * US, 2, 1, 32 * US);

  npu_sink_process (sink, 1, "Rank 0", 0);
  npu_sink_process (sink, 2, "Rank 1", 1);
  npu_sink_thread (sink, 1, 1, "Stream 0", 0);
  npu_sink_thread (sink, 1, 2, "SDMA 0", 1);
  npu_sink_thread (sink, 2, 1, "Stream 0", 0);
  npu_sink_thread (sink, 2, 2, "SDMA 0", 1);

  /* Rank 0 stream: two tiles, then the op that contains them (same start as tile 0,
   * reported last, as the simulator reports at the end). */
  npu_sink_slice (sink, 1, 1, "Matmul tile 0", "task", 0, 20 * US, NULL);
  npu_sink_slice (sink, 1, 1, "Matmul tile 1", "task", 20 * US, 20 * US, NULL);
  npu_sink_slice (sink, 1, 1, "MatmulAllReduce", "op", 0, 50 * US,
                  "{\"m\":1024,\"n\":\"8192\",\"group\":[0,1]}");
  npu_sink_slice (sink, 1, 1, "sync", "marker", 40 * US, 0, NULL);

  /* Rank 0 SDMA: two copies that overlap partially -> the second one moves to an
   * overflow lane. */
  npu_sink_slice (sink, 1, 2, "copy 0", "dma", 10 * US, 20 * US, NULL);
  npu_sink_slice (sink, 1, 2, "copy 1", "dma", 25 * US, 20 * US, NULL);
  npu_sink_flow (sink, 1, "copy 0", 1, 2, 15 * US, 2, 2, 20 * US);

  /* Rank 1: the receive and the reduction (end 40.0005 us rounds up to 40.001). */
  npu_sink_slice (sink, 2, 2, "recv 0", "dma", 12 * US, 19 * US, NULL);
  npu_sink_slice (sink, 2, 1, "Reduce", "task", 31 * US, 9 * US + 500, NULL);
  npu_sink_flow (sink, 2, "copy 1", 1, 2, 35 * US, 2, 1, 38 * US);

  npu_sink_counter (sink, 1, "HBM bandwidth", "read", 0, 1.5e12);
  npu_sink_counter (sink, 1, "HBM bandwidth", "read", 20 * US, 0.25);
  npu_sink_counter (sink, 2, "link util", "HCCS", 12 * US, 0.8);

  if (!npu_trace_writer_close (g_steal_pointer (&w), &error))
    {
      g_printerr ("trace-demo: %s\n", error->message);
      return 1;
    }
  return 0;
}

typedef struct {
  guint32 pid, tid;
  NpuTime start, dur;
  guint64 key;  /* report order */
} DemoSlice;

static gint
cmp_report (gconstpointer pa, gconstpointer pb)
{
  const DemoSlice *a = pa, *b = pb;
  return a->key < b->key ? -1 : a->key > b->key;
}

static int
write_random_trace (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NpuTraceWriter) w = npu_trace_writer_open (path, &error);
  if (w == NULL)
    {
      g_printerr ("trace-demo: %s\n", error->message);
      return 1;
    }
  NpuSink *sink = npu_trace_writer_sink (w);
  GRand *rand = g_rand_new_with_seed (4242);
  for (guint32 p = 0; p < 4; p++)
    {
      g_autofree char *pname = g_strdup_printf ("Rank %u", p);
      npu_sink_process (sink, p, pname, (gint) p);
      for (guint32 t = 0; t < 3; t++)
        {
          g_autofree char *tname = g_strdup_printf ("Engine %u", t);
          npu_sink_thread (sink, p, t, tname, (gint) t);
        }
    }
  /* Slices with sub-ns parts (rounding), many overlaps, many equal starts/ends;
   * reported at their end (ties in random order), one in ten late. */
  g_autoptr (GArray) slices = g_array_new (FALSE, FALSE, sizeof (DemoSlice));
  for (guint i = 0; i < 3000; i++)
    {
      DemoSlice d;
      d.pid = (guint32) g_rand_int_range (rand, 0, 4);
      d.tid = (guint32) g_rand_int_range (rand, 0, 3);
      d.start = (NpuTime) g_rand_int_range (rand, 0, 400) * 5 * US / 2
                + (g_rand_boolean (rand) ? 0 : (NpuTime) g_rand_int_range (rand, 0, 2000));
      d.dur = g_rand_int_range (rand, 0, 8) == 0 ? 0
              : (NpuTime) g_rand_int_range (rand, 1, 40) * US / 2
                + (NpuTime) g_rand_int_range (rand, 0, 1500);
      NpuTime late = g_rand_int_range (rand, 0, 10) == 0
                     ? (NpuTime) g_rand_int_range (rand, 0, 100) * US : 0;
      d.key = ((d.start + d.dur + late) << 12) | (guint64) g_rand_int_range (rand, 0, 4096);
      g_array_append_val (slices, d);
    }
  g_array_sort (slices, cmp_report);
  for (guint i = 0; i < slices->len; i++)
    {
      const DemoSlice *d = &g_array_index (slices, DemoSlice, i);
      g_autofree char *name = g_strdup_printf ("task %u", i);
      npu_sink_slice (sink, d->pid, d->tid, name, "task", d->start, d->dur,
                      i % 7 == 0 ? "{\"i\":1}" : NULL);
      if (i % 3 == 0)
        npu_sink_counter (sink, d->pid, "load", "busy", d->start, (double) (i % 11) / 4.0);
    }
  /* Flows from a point inside one non-empty slice to a later point inside another,
   * a third of them reported before the close (after all slices), as the writer
   * must handle both. */
  guint64 id = 1;
  for (guint i = 0; i + 1 < slices->len; i += 5)
    {
      const DemoSlice *a = &g_array_index (slices, DemoSlice, i);
      const DemoSlice *b = &g_array_index (slices, DemoSlice, i + 1);
      if (a->dur < 2000 || b->dur < 2000)
        continue;
      NpuTime ta = a->start + a->dur / 2, tb = b->start + b->dur / 2;
      if (ta > tb)
        {
          const DemoSlice *x = a;
          a = b;
          b = x;
          NpuTime t = ta;
          ta = tb;
          tb = t;
        }
      npu_sink_flow (sink, id++, "dep", a->pid, a->tid, ta, b->pid, b->tid, tb);
    }
  g_rand_free (rand);
  if (!npu_trace_writer_close (g_steal_pointer (&w), &error))
    {
      g_printerr ("trace-demo: %s\n", error->message);
      return 1;
    }
  return 0;
}

static gboolean
write_one (const char *dir, const char *name, const char *descr, guint ndim,
           const gint64 *shape, gconstpointer data, guint64 nbytes)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) error = NULL;
  if (!npu_npy_write (path, descr, ndim, shape, data, nbytes, &error))
    {
      g_printerr ("trace-demo: %s\n", error->message);
      return FALSE;
    }
  return TRUE;
}

static int
write_npy (const char *dir)
{
  float f32[6];
  for (int i = 0; i < 6; i++)
    f32[i] = (float) i * 0.5f - 1.0f;
  const gint64 s_f32[2] = { 2, 3 };
  /* IEEE half bits of 0, 1, -2, 0.5 */
  const guint16 f16[4] = { 0x0000, 0x3c00, 0xc000, 0x3800 };
  const gint64 s_f16[1] = { 4 };
  /* bfloat16 bits of 1, 2, -1, 0 */
  const guint16 bf16[4] = { 0x3f80, 0x4000, 0xbf80, 0x0000 };
  const gint64 s_bf16[2] = { 2, 2 };
  guint8 u8[5];
  for (int i = 0; i < 5; i++)
    u8[i] = (guint8) (i * 50);
  const gint64 s_u8[1] = { 5 };
  gint8 i8[8];
  for (int i = 0; i < 8; i++)
    i8[i] = (gint8) (i - 4);
  const gint64 s_i8[3] = { 2, 2, 2 };
  const gint32 i32[3] = { G_MININT32, 0, G_MAXINT32 };
  const gint64 s_i32[1] = { 3 };
  const gint64 i64 = G_GINT64_CONSTANT (-1234567890123);
  const guint64 u64[2] = { 0, G_MAXUINT64 };
  const gint64 s_u64[1] = { 2 };
  const gint64 s_empty[2] = { 0, 3 };

  gboolean ok = write_one (dir, "f32.npy", "<f4", 2, s_f32, f32, sizeof f32)
    && write_one (dir, "f16.npy", "<f2", 1, s_f16, f16, sizeof f16)
    && write_one (dir, "bf16.npy", "<u2", 2, s_bf16, bf16, sizeof bf16)
    && write_one (dir, "u8.npy", "|u1", 1, s_u8, u8, sizeof u8)
    && write_one (dir, "i8.npy", "|i1", 3, s_i8, i8, sizeof i8)
    && write_one (dir, "i32.npy", "<i4", 1, s_i32, i32, sizeof i32)
    && write_one (dir, "i64.npy", "<i8", 0, NULL, &i64, sizeof i64)
    && write_one (dir, "u64.npy", "<u8", 1, s_u64, u64, sizeof u64)
    && write_one (dir, "empty.npy", "<f4", 2, s_empty, NULL, 0);
  return ok ? 0 : 1;
}

static int
read_npy (const char *path)
{
  g_autofree char *descr = NULL;
  g_autofree gint64 *shape = NULL;
  g_autofree gpointer data = NULL;
  guint ndim = 0;
  guint64 nbytes = 0;
  g_autoptr (GError) error = NULL;
  if (!npu_npy_read (path, &descr, &ndim, &shape, &data, &nbytes, &error))
    {
      g_printerr ("trace-demo: %s\n", error->message);
      return 2;
    }
  g_autoptr (GString) sh = g_string_new ("(");
  for (guint i = 0; i < ndim; i++)
    g_string_append_printf (sh, i == 0 ? "%" G_GINT64_FORMAT : ",%" G_GINT64_FORMAT, shape[i]);
  g_string_append_c (sh, ')');
  g_autofree char *sum = g_compute_checksum_for_data (G_CHECKSUM_SHA256, data, nbytes);
  printf ("descr=%s shape=%s nbytes=%" G_GUINT64_FORMAT " sha256=%s\n", descr, sh->str,
          nbytes, sum);
  return 0;
}

int
main (int argc, char **argv)
{
  if (argc == 3 && strcmp (argv[1], "trace") == 0)
    return write_trace (argv[2]);
  if (argc == 3 && strcmp (argv[1], "random") == 0)
    return write_random_trace (argv[2]);
  if (argc == 3 && strcmp (argv[1], "npy-write") == 0)
    return write_npy (argv[2]);
  if (argc == 3 && strcmp (argv[1], "npy-read") == 0)
    return read_npy (argv[2]);
  g_printerr ("usage: trace-demo trace|random OUT.json | npy-write DIR | npy-read FILE\n");
  return 64;
}
