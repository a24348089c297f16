/* Tests of the Chrome/Perfetto trace writer (traces/trace-writer.c).
 * Expected texts and lanes are derived by hand from the format rules in
 * traces/trace-writer.h; traces are parsed back with jansson. */
#include "traces/trace-writer.h"

#include <jansson.h>
#include <math.h>
#include <string.h>
#include <glib/gstdio.h>

#define US G_GUINT64_CONSTANT (1000000) /* ps per microsecond */
#define LANE1 NPU_TRACE_OVERFLOW_TID_BASE
#define LANE2 (NPU_TRACE_OVERFLOW_TID_BASE + 1)

static char *tmpdir;

static char *
tmp_path (const char *name)
{
  return g_build_filename (tmpdir, name, NULL);
}

static char *
read_text (const char *path)
{
  char *text = NULL;
  g_autoptr (GError) error = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, &error));
  g_assert_no_error (error);
  return text;
}

/* The traceEvents array of @path (valid JSON or the test fails). */
static json_t *
load_events (const char *path)
{
  json_error_t jerr;
  json_t *root = json_load_file (path, 0, &jerr);
  if (root == NULL)
    g_error ("%s:%d: %s", path, jerr.line, jerr.text);
  g_assert_true (json_is_object (root));
  g_assert_cmpstr (json_string_value (json_object_get (root, "displayTimeUnit")), ==, "ns");
  json_t *events = json_object_get (root, "traceEvents");
  g_assert_true (json_is_array (events));
  json_incref (events);
  json_decref (root);
  return events;
}

static const char *
ev_str (json_t *ev, const char *key)
{
  return json_string_value (json_object_get (ev, key));
}

static gint64
ev_int (json_t *ev, const char *key)
{
  json_t *v = json_object_get (ev, key);
  g_assert_true (json_is_integer (v));
  return json_integer_value (v);
}

/* ts/dur in integer ns (the file has exactly 3 decimals of microseconds). */
static gint64
ev_ns (json_t *ev, const char *key)
{
  json_t *v = json_object_get (ev, key);
  g_assert_true (json_is_number (v));
  return llround (json_number_value (v) * 1000.0);
}

static json_t *
find_event (json_t *events, const char *ph, const char *name, gsize *index)
{
  gsize i;
  json_t *ev;
  json_array_foreach (events, i, ev)
    if (g_strcmp0 (ev_str (ev, "ph"), ph) == 0 && g_strcmp0 (ev_str (ev, "name"), name) == 0)
      {
        if (index != NULL)
          *index = i;
        return ev;
      }
  g_error ("no %s event named %s", ph, name);
  return NULL;
}

/* The name of thread (pid, tid) from its last thread_name event, or NULL. */
static const char *
thread_name (json_t *events, gint64 pid, gint64 tid)
{
  const char *name = NULL;
  gsize i;
  json_t *ev;
  json_array_foreach (events, i, ev)
    if (g_strcmp0 (ev_str (ev, "ph"), "M") == 0
        && g_strcmp0 (ev_str (ev, "name"), "thread_name") == 0
        && ev_int (ev, "pid") == pid && ev_int (ev, "tid") == tid)
      name = json_string_value (json_object_get (json_object_get (ev, "args"), "name"));
  return name;
}

static guint
count_meta (json_t *events, const char *what, gint64 pid)
{
  guint n = 0;
  gsize i;
  json_t *ev;
  json_array_foreach (events, i, ev)
    if (g_strcmp0 (ev_str (ev, "ph"), "M") == 0 && g_strcmp0 (ev_str (ev, "name"), what) == 0
        && ev_int (ev, "pid") == pid)
      n++;
  return n;
}

/* Every pair of X events on one (pid, tid) is nested or disjoint. */
static void
assert_nesting (json_t *events)
{
  gsize i, j;
  json_t *a, *b;
  json_array_foreach (events, i, a)
    {
      if (g_strcmp0 (ev_str (a, "ph"), "X") != 0)
        continue;
      json_array_foreach (events, j, b)
        {
          if (j <= i || g_strcmp0 (ev_str (b, "ph"), "X") != 0
              || ev_int (a, "pid") != ev_int (b, "pid") || ev_int (a, "tid") != ev_int (b, "tid"))
            continue;
          gint64 as = ev_ns (a, "ts"), ae = as + ev_ns (a, "dur");
          gint64 bs = ev_ns (b, "ts"), be = bs + ev_ns (b, "dur");
          gboolean disjoint = ae <= bs || be <= as;
          gboolean nested = (as <= bs && be <= ae) || (bs <= as && ae <= be);
          if (!disjoint && !nested)
            g_error ("%s [%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT ") and %s [%" G_GINT64_FORMAT
                     ",%" G_GINT64_FORMAT ") overlap on one track",
                     ev_str (a, "name"), as, ae, ev_str (b, "name"), bs, be);
        }
    }
}

static void
check_format (NpuTime ps, const char *expected)
{
  char buf[32];
  npu_trace_format_us (ps, buf);
  g_assert_cmpstr (buf, ==, expected);
}

static void
test_format_us (void)
{
  check_format (0, "0.000");
  check_format (499, "0.000");
  check_format (500, "0.001");       /* half up */
  check_format (1499, "0.001");
  check_format (1500, "0.002");
  check_format (999500, "1.000");    /* 999.5 ns -> 1000 ns */
  check_format (123456789012, "123456.789");
  /* 18446744073709551615 ps = 18446744073709551.615 ns -> ...552 ns */
  check_format (G_MAXUINT64, "18446744073709.552");
}

static void
test_empty (void)
{
  g_autofree char *path = tmp_path ("empty.json");
  g_autoptr (GError) error = NULL;
  NpuTraceWriter *w = npu_trace_writer_open (path, &error);
  g_assert_no_error (error);
  g_assert_true (npu_trace_writer_close (w, &error));
  g_assert_no_error (error);
  g_autofree char *text = read_text (path);
  g_assert_cmpstr (text, ==, "{\"traceEvents\":[\n],\n\"displayTimeUnit\":\"ns\"}\n");
  json_t *events = load_events (path);
  g_assert_cmpuint (json_array_size (events), ==, 0);
  json_decref (events);
  g_unlink (path);
}

static void
test_slice_text (void)
{
  g_autofree char *path = tmp_path ("text.json");
  g_autoptr (GError) error = NULL;
  NpuTraceWriter *w = npu_trace_writer_open (path, &error);
  NpuSink *sink = npu_trace_writer_sink (w);
  npu_sink_process (sink, 1, "Rank 0", 0);
  npu_sink_thread (sink, 1, 1, "Stream 0", 2);
  /* start 1499 ps -> 1 ns; end 2501 ps -> 3 ns; dur is 3 - 1 = 2 ns, not the
   * rounded 1002 ps (= 1 ns). */
  npu_sink_slice (sink, 1, 1, "MatMul", "op", 1499, 1002, "{\"bytes\":4096,\"src\":[1,2]}");
  npu_sink_slice (sink, 1, 1, "q\"b\\s\nn\tt\001c\177d \302\265", "c\"at", 0, 1000, NULL);
  npu_sink_slice (sink, 1, 1, "bad\377", NULL, 5000, 0, NULL);
  g_assert_true (npu_trace_writer_close (w, &error));
  g_assert_no_error (error);

  g_autofree char *text = read_text (path);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 11);
  g_assert_cmpstr (lines[0], ==, "{\"traceEvents\":[");
  g_assert_cmpstr (lines[1], ==,
                   "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"args\":{\"name\":\"Rank 0\"}},");
  g_assert_cmpstr (lines[2], ==,
                   "{\"name\":\"process_sort_index\",\"ph\":\"M\",\"pid\":1,\"args\":{\"sort_index\":0}},");
  g_assert_cmpstr (lines[3], ==,
                   "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":1,\"args\":{\"name\":\"Stream 0\"}},");
  g_assert_cmpstr (lines[4], ==,
                   "{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":1,\"tid\":1,\"args\":{\"sort_index\":2}},");
  g_assert_cmpstr (lines[5], ==,
                   "{\"name\":\"MatMul\",\"cat\":\"op\",\"ph\":\"X\",\"ts\":0.001,\"dur\":0.002,"
                   "\"pid\":1,\"tid\":1,\"args\":{\"bytes\":4096,\"src\":[1,2]}},");
  g_assert_cmpstr (lines[6], ==,
                   "{\"name\":\"q\\\"b\\\\s\\nn\\tt\\u0001c\\u007fd \302\265\",\"cat\":\"c\\\"at\","
                   "\"ph\":\"X\",\"ts\":0.000,\"dur\":0.001,\"pid\":1,\"tid\":1},");
  /* Invalid UTF-8 becomes U+FFFD; no category -> no "cat". */
  g_assert_cmpstr (lines[7], ==,
                   "{\"name\":\"bad\357\277\275\",\"ph\":\"X\",\"ts\":0.005,\"dur\":0.000,"
                   "\"pid\":1,\"tid\":1}");
  g_assert_cmpstr (lines[8], ==, "],");
  g_assert_cmpstr (lines[9], ==, "\"displayTimeUnit\":\"ns\"}");
  g_assert_cmpstr (lines[10], ==, "");

  /* The escaped strings decode back to the originals. */
  json_t *events = load_events (path);
  json_t *ev = json_array_get (events, 5);
  g_assert_cmpstr (ev_str (ev, "name"), ==, "q\"b\\s\nn\tt\001c\177d \302\265");
  g_assert_cmpstr (ev_str (ev, "cat"), ==, "c\"at");
  json_decref (events);
  g_unlink (path);
}

static void
test_counters (void)
{
  g_autofree char *path = tmp_path ("counters.json");
  g_autoptr (GError) error = NULL;
  NpuTraceWriter *w = npu_trace_writer_open (path, &error);
  NpuSink *sink = npu_trace_writer_sink (w);
  npu_sink_counter (sink, 4, "HBM", "read", 1500, 3.0);
  npu_sink_counter (sink, 4, "HBM", "read", 2000, 0.1);
  npu_sink_counter (sink, 4, "HBM", "write \"w\"", 3000, -2.5);
  npu_sink_counter (sink, 4, "HBM", "read", 4000, 1e300);
  npu_sink_counter (sink, 4, "HBM", "read", 5000, -0.0);
  npu_sink_counter (sink, 4, "HBM", "read", 6000, 9007199254740991.0);
  npu_sink_counter (sink, 4, "HBM", "read", 7000, 1.0 / 3.0);
  npu_sink_counter (sink, 4, "HBM", "read", 8000, 9007199254740993.0 * 4);
  volatile double tenth = 0.1;
  npu_sink_counter (sink, 4, "HBM", "read", 9000, tenth + 0.2);
  g_assert_true (npu_trace_writer_close (w, &error));

  g_autofree char *text = read_text (path);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  /* The undeclared process gets a placeholder name first. */
  g_assert_cmpstr (lines[1], ==,
                   "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":4,\"args\":{\"name\":\"Process 4\"}},");
  g_assert_cmpstr (lines[2], ==,
                   "{\"name\":\"HBM\",\"ph\":\"C\",\"pid\":4,\"ts\":0.002,\"args\":{\"read\":3}},");
  /* Shortest text that reads back as the same double (Python's repr gives the
   * same): 0.1, 1e+300, 1/3 with 16 digits, 0.1 + 0.2 with 17. */
  g_assert_cmpstr (lines[3], ==,
                   "{\"name\":\"HBM\",\"ph\":\"C\",\"pid\":4,\"ts\":0.002,\"args\":{\"read\":0.1}},");
  g_assert_cmpstr (lines[4], ==,
                   "{\"name\":\"HBM\",\"ph\":\"C\",\"pid\":4,\"ts\":0.003,\"args\":{\"write \\\"w\\\"\":-2.5}},");
  g_assert_cmpstr (lines[5], ==,
                   "{\"name\":\"HBM\",\"ph\":\"C\",\"pid\":4,\"ts\":0.004,\"args\":{\"read\":1e+300}},");
  g_assert_cmpstr (lines[6], ==,
                   "{\"name\":\"HBM\",\"ph\":\"C\",\"pid\":4,\"ts\":0.005,\"args\":{\"read\":0}},");
  g_assert_cmpstr (lines[7], ==,
                   "{\"name\":\"HBM\",\"ph\":\"C\",\"pid\":4,\"ts\":0.006,\"args\":{\"read\":9007199254740991}},");
  g_assert_cmpstr (lines[8], ==,
                   "{\"name\":\"HBM\",\"ph\":\"C\",\"pid\":4,\"ts\":0.007,\"args\":{\"read\":0.3333333333333333}},");
  g_assert_cmpstr (lines[10], ==,
                   "{\"name\":\"HBM\",\"ph\":\"C\",\"pid\":4,\"ts\":0.009,\"args\":{\"read\":0.30000000000000004}}");
  /* 2^55: integral but above 2^53, so printed as a double (as repr does). */
  g_assert_cmpstr (lines[9], ==,
                   "{\"name\":\"HBM\",\"ph\":\"C\",\"pid\":4,\"ts\":0.008,\"args\":{\"read\":3.602879701896397e+16}},");
  json_t *events = load_events (path);
  g_assert_cmpuint (json_array_size (events), ==, 10);
  json_decref (events);
  g_unlink (path);
}

static void
test_metadata_once (void)
{
  g_autofree char *path = tmp_path ("meta.json");
  g_autoptr (GError) error = NULL;
  NpuTraceWriter *w = npu_trace_writer_open (path, &error);
  NpuSink *sink = npu_trace_writer_sink (w);
  npu_sink_process (sink, 1, "A", 0);
  npu_sink_process (sink, 1, "B", 5);
  npu_sink_thread (sink, 1, 2, "T", 1);
  npu_sink_thread (sink, 1, 2, "U", 2);
  /* Undeclared track: placeholders, replaced by the later declarations. */
  npu_sink_slice (sink, 5, 5, "s", NULL, 0, 10 * US, NULL);
  npu_sink_slice (sink, 5, 5, "t", NULL, 5 * US, 10 * US, NULL);   /* overflow lane */
  npu_sink_process (sink, 5, "Real", 1);
  npu_sink_thread (sink, 5, 5, "RealT", 2);
  g_assert_true (npu_trace_writer_close (w, &error));

  json_t *events = load_events (path);
  g_assert_cmpuint (count_meta (events, "process_name", 1), ==, 1);
  g_assert_cmpuint (count_meta (events, "process_sort_index", 1), ==, 1);
  g_assert_cmpuint (count_meta (events, "thread_name", 1), ==, 1);
  g_assert_cmpuint (count_meta (events, "thread_sort_index", 1), ==, 1);
  g_assert_cmpstr (thread_name (events, 1, 2), ==, "T");
  /* pid 5: placeholder, then the real names for the track and its overflow lane. */
  g_assert_cmpuint (count_meta (events, "process_name", 5), ==, 2);
  g_assert_cmpstr (thread_name (events, 5, 5), ==, "RealT");
  g_assert_cmpstr (thread_name (events, 5, LANE1), ==, "RealT #2");
  g_assert_cmpuint (count_meta (events, "thread_sort_index", 5), ==, 2);
  json_decref (events);
  g_unlink (path);
}

static void
test_lanes (void)
{
  g_autofree char *path = tmp_path ("lanes.json");
  g_autoptr (GError) error = NULL;
  NpuTraceWriter *w = npu_trace_writer_open (path, &error);
  NpuSink *sink = npu_trace_writer_sink (w);
  npu_sink_process (sink, 1, "Rank 0 AI Core", 0);
  npu_sink_thread (sink, 1, 7, "AIC 0", 3);
  /* Lanes of (1, 7) after each slice, in microseconds:
   * A [0,10)            lane 0
   * B [5,15)   overlaps A partially            -> lane 1
   * C [15,20)  after A                         -> lane 0
   * D [12,14)  in the gap between A and C      -> lane 0
   * E [14,21)  contains C (and touches D)      -> lane 0, C is now a child of E
   * F [17,21)  inside E with E's end, but C [15,20) straddles 17 -> lane 1 (after B)
   * G [20,21)  inside E with E's end, C ends at 20 -> lane 0 */
  npu_sink_slice (sink, 1, 7, "A", NULL, 0, 10 * US, NULL);
  npu_sink_slice (sink, 1, 7, "B", NULL, 5 * US, 10 * US, NULL);
  npu_sink_slice (sink, 1, 7, "C", NULL, 15 * US, 5 * US, NULL);
  npu_sink_slice (sink, 1, 7, "D", NULL, 12 * US, 2 * US, NULL);
  npu_sink_slice (sink, 1, 7, "E", NULL, 14 * US, 7 * US, NULL);
  npu_sink_slice (sink, 1, 7, "F", NULL, 17 * US, 4 * US, NULL);
  npu_sink_slice (sink, 1, 7, "G", NULL, 20 * US, 1 * US, NULL);
  /* A second track: its overflow lane takes the next overflow tid. */
  npu_sink_slice (sink, 2, 7, "P", NULL, 0, 10 * US, NULL);
  npu_sink_slice (sink, 2, 7, "Q", NULL, 5 * US, 10 * US, NULL);
  /* A third lane on (1, 7): overlaps A (lane 0) and B (lane 1). */
  npu_sink_slice (sink, 1, 7, "H", NULL, 8 * US, 4 * US, NULL);
  g_assert_true (npu_trace_writer_close (w, &error));

  json_t *events = load_events (path);
  struct { const char *name; gint64 pid, tid; } expect[] = {
    { "A", 1, 7 }, { "B", 1, LANE1 }, { "C", 1, 7 }, { "D", 1, 7 }, { "E", 1, 7 },
    { "F", 1, LANE1 }, { "G", 1, 7 }, { "P", 2, 7 }, { "Q", 2, LANE2 },
    { "H", 1, LANE2 + 1 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (expect); i++)
    {
      json_t *ev = find_event (events, "X", expect[i].name, NULL);
      g_assert_cmpint (ev_int (ev, "pid"), ==, expect[i].pid);
      g_assert_cmpint (ev_int (ev, "tid"), ==, expect[i].tid);
    }
  g_assert_cmpstr (thread_name (events, 1, 7), ==, "AIC 0");
  g_assert_cmpstr (thread_name (events, 1, LANE1), ==, "AIC 0 #2");
  g_assert_cmpstr (thread_name (events, 1, LANE2 + 1), ==, "AIC 0 #3");
  g_assert_cmpstr (thread_name (events, 2, 7), ==, "Thread 7");
  g_assert_cmpstr (thread_name (events, 2, LANE2), ==, "Thread 7 #2");
  /* Overflow lanes sort with their track's sort index. */
  gsize i;
  json_t *ev;
  guint lane_sorts = 0;
  json_array_foreach (events, i, ev)
    if (g_strcmp0 (ev_str (ev, "name"), "thread_sort_index") == 0 && ev_int (ev, "pid") == 1)
      {
        g_assert_cmpint (json_integer_value (json_object_get (json_object_get (ev, "args"),
                                                              "sort_index")), ==, 3);
        lane_sorts++;
      }
  g_assert_cmpuint (lane_sorts, ==, 3);
  assert_nesting (events);
  json_decref (events);
  g_unlink (path);
}

static void
test_flows (void)
{
  g_autofree char *path = tmp_path ("flows.json");
  g_autoptr (GError) error = NULL;
  NpuTraceWriter *w = npu_trace_writer_open (path, &error);
  NpuSink *sink = npu_trace_writer_sink (w);
  npu_sink_thread (sink, 1, 1, "S", 0);
  npu_sink_slice (sink, 1, 1, "A", NULL, 0, 10 * US, NULL);      /* lane 0 */
  npu_sink_slice (sink, 1, 1, "B", NULL, 5 * US, 10 * US, NULL); /* lane 1 */
  /* 1: both ends only inside B -> lane 1, written at once. */
  npu_sink_flow (sink, 1, "f1", 1, 1, 12 * US, 1, 1, 14 * US);
  /* 2: both ends inside A (and B for 7 us): lowest lane -> lane 0, at once. */
  npu_sink_flow (sink, 2, "f2", 1, 1, 2 * US, 1, 1, 7 * US);
  /* 3: reported before its slices -> kept, written at close. */
  npu_sink_flow (sink, 3, "f3", 3, 1, 1 * US, 3, 2, 2 * US);
  npu_sink_slice (sink, 3, 1, "S3", NULL, 0, 5 * US, NULL);
  npu_sink_slice (sink, 3, 2, "R3", NULL, 0, 5 * US, NULL);
  /* 4: ends exactly where B ends (no slice contains 15 us) -> lane 1 at close. */
  npu_sink_flow (sink, 4, "f4", 1, 1, 3 * US, 1, 1, 15 * US);
  /* 5: never covered -> stays on the declared tid. */
  npu_sink_flow (sink, 5, "f5", 1, 1, 100 * US, 1, 1, 101 * US);
  /* A flow ending before it starts is a caller bug: dropped with a critical. */
  g_test_expect_message (NULL, G_LOG_LEVEL_CRITICAL, "*from_ts <= to_ts*");
  npu_sink_flow (sink, 6, "f6", 1, 1, 5 * US, 1, 1, 4 * US);
  g_test_assert_expected_messages ();
  g_assert_true (npu_trace_writer_close (w, &error));

  json_t *events = load_events (path);
  struct { const char *name; gint64 s_pid, s_tid, s_ns, f_pid, f_tid, f_ns; } expect[] = {
    { "f1", 1, LANE1, 12000, 1, LANE1, 14000 },
    { "f2", 1, 1, 2000, 1, 1, 7000 },
    { "f3", 3, 1, 1000, 3, 2, 2000 },
    { "f4", 1, 1, 3000, 1, LANE1, 15000 },
    { "f5", 1, 1, 100000, 1, 1, 101000 },
  };
  gsize idx[G_N_ELEMENTS (expect)];
  for (guint k = 0; k < G_N_ELEMENTS (expect); k++)
    {
      gsize si, fi;
      json_t *s = find_event (events, "s", expect[k].name, &si);
      json_t *f = find_event (events, "f", expect[k].name, &fi);
      g_assert_cmpuint (fi, ==, si + 1);
      idx[k] = si;
      g_assert_cmpint (ev_int (s, "id"), ==, k + 1);
      g_assert_cmpint (ev_int (f, "id"), ==, k + 1);
      g_assert_cmpstr (ev_str (s, "cat"), ==, "flow");
      g_assert_cmpstr (ev_str (f, "cat"), ==, "flow");
      g_assert_cmpstr (ev_str (f, "bp"), ==, "e");
      g_assert_null (json_object_get (s, "bp"));
      g_assert_cmpint (ev_int (s, "pid"), ==, expect[k].s_pid);
      g_assert_cmpint (ev_int (s, "tid"), ==, expect[k].s_tid);
      g_assert_cmpint (ev_ns (s, "ts"), ==, expect[k].s_ns);
      g_assert_cmpint (ev_int (f, "pid"), ==, expect[k].f_pid);
      g_assert_cmpint (ev_int (f, "tid"), ==, expect[k].f_tid);
      g_assert_cmpint (ev_ns (f, "ts"), ==, expect[k].f_ns);
    }
  /* Written at once: 1 and 2 before the slices of pid 3; the rest at the end, in
   * call order. */
  gsize s3, r3;
  find_event (events, "X", "S3", &s3);
  find_event (events, "X", "R3", &r3);
  g_assert_cmpuint (idx[0], <, s3);
  g_assert_cmpuint (idx[1], <, s3);
  g_assert_cmpuint (idx[2], >, r3);
  g_assert_cmpuint (idx[3], >, idx[2]);
  g_assert_cmpuint (idx[4], >, idx[3]);
  g_assert_cmpuint (idx[4] + 2, ==, json_array_size (events));
  json_decref (events);
  g_unlink (path);
}

static void
write_sample (const char *path)
{
  g_autoptr (GError) error = NULL;
  NpuTraceWriter *w = npu_trace_writer_open (path, &error);
  g_assert_no_error (error);
  NpuSink *sink = npu_trace_writer_sink (w);
  for (guint32 r = 0; r < 4; r++)
    {
      g_autofree char *pname = g_strdup_printf ("Rank %u", r);
      npu_sink_process (sink, r, pname, (gint) r);
      for (guint32 t = 0; t < 3; t++)
        {
          g_autofree char *tname = g_strdup_printf ("Engine %u", t);
          npu_sink_thread (sink, r, t, tname, (gint) t);
        }
    }
  for (guint i = 0; i < 200; i++)
    {
      guint32 r = i % 4, t = (i / 4) % 3;
      NpuTime start = (NpuTime) ((i * 7919u) % 1000) * 1234, dur = (NpuTime) (i % 17) * 2500 + 1;
      npu_sink_slice (sink, r, t, "task", "cat", start, dur, NULL);
      if (i % 5 == 0)
        npu_sink_flow (sink, i, "xfer", r, t, start, (r + 1) % 4, t, start + dur);
      npu_sink_counter (sink, r, "bw", "GB/s", start, i * 0.37);
    }
  g_assert_true (npu_trace_writer_close (w, &error));
}

static void
test_determinism (void)
{
  g_autofree char *p1 = tmp_path ("det1.json");
  g_autofree char *p2 = tmp_path ("det2.json");
  write_sample (p1);
  write_sample (p2);
  g_autofree char *t1 = read_text (p1);
  g_autofree char *t2 = read_text (p2);
  g_assert_cmpstr (t1, ==, t2);
  json_t *events = load_events (p1);
  assert_nesting (events);
  json_decref (events);
  g_unlink (p1);
  g_unlink (p2);
}

static void
test_abort (void)
{
  g_autofree char *path = tmp_path ("abort.json");
  g_autoptr (GError) error = NULL;
  NpuTraceWriter *w = npu_trace_writer_open (path, &error);
  g_assert_no_error (error);
  npu_sink_slice (npu_trace_writer_sink (w), 1, 1, "s", NULL, 0, 10, NULL);
  g_assert_true (g_file_test (path, G_FILE_TEST_EXISTS));
  npu_trace_writer_abort (w);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));

  /* g_autoptr aborts a writer that was never closed. */
  {
    g_autoptr (NpuTraceWriter) w2 = npu_trace_writer_open (path, &error);
    g_assert_no_error (error);
    g_assert_true (g_file_test (path, G_FILE_TEST_EXISTS));
  }
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
}

static void
test_open_error (void)
{
  g_autofree char *path = g_build_filename (tmpdir, "no-such-dir", "t.json", NULL);
  g_autoptr (GError) error = NULL;
  NpuTraceWriter *w = npu_trace_writer_open (path, &error);
  g_assert_null (w);
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_autoptr (GError) error = NULL;
  tmpdir = g_dir_make_tmp ("npu-trace-test-XXXXXX", &error);
  g_assert_no_error (error);

  g_test_add_func ("/traces/writer/format-us", test_format_us);
  g_test_add_func ("/traces/writer/empty", test_empty);
  g_test_add_func ("/traces/writer/slice-text-and-escaping", test_slice_text);
  g_test_add_func ("/traces/writer/counters", test_counters);
  g_test_add_func ("/traces/writer/metadata-once", test_metadata_once);
  g_test_add_func ("/traces/writer/lanes", test_lanes);
  g_test_add_func ("/traces/writer/flows-to-lanes", test_flows);
  g_test_add_func ("/traces/writer/determinism", test_determinism);
  g_test_add_func ("/traces/writer/abort-deletes", test_abort);
  g_test_add_func ("/traces/writer/open-error", test_open_error);
  int rc = g_test_run ();
  g_rmdir (tmpdir);
  g_free (tmpdir);
  return rc;
}
