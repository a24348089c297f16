/* npusim tests — a sink that records every call as one line of text, so tests can
 * compare what the event core reported with hand-derived expectations. */
#pragma once
#include "sim/sink.h"

typedef struct {
  NpuSink parent;
  GPtrArray *lines;   /* char*, in call order */
} TestSink;

static void
test_sink_slice (NpuSink *sink, guint32 pid, guint32 tid, const char *name,
                 const char *category, NpuTime start, NpuTime dur, const char *args_json)
{
  TestSink *s = (TestSink *) sink;
  g_ptr_array_add (s->lines, g_strdup_printf ("slice %u/%u %s %s %" G_GUINT64_FORMAT
                                              " +%" G_GUINT64_FORMAT " %s",
                                              pid, tid, name, category, start, dur,
                                              args_json ? args_json : "-"));
}

static void
test_sink_flow (NpuSink *sink, guint64 id, const char *name, guint32 from_pid,
                guint32 from_tid, NpuTime from_ts, guint32 to_pid, guint32 to_tid,
                NpuTime to_ts)
{
  TestSink *s = (TestSink *) sink;
  g_ptr_array_add (s->lines, g_strdup_printf ("flow %s %u/%u@%" G_GUINT64_FORMAT
                                              " -> %u/%u@%" G_GUINT64_FORMAT,
                                              name, from_pid, from_tid, from_ts,
                                              to_pid, to_tid, to_ts));
}

static void
test_sink_counter (NpuSink *sink, guint32 pid, const char *name, const char *series,
                   NpuTime ts, double value)
{
  TestSink *s = (TestSink *) sink;
  g_ptr_array_add (s->lines, g_strdup_printf ("counter %u %s %s %" G_GUINT64_FORMAT " %.17g",
                                              pid, name, series, ts, value));
}

static const NpuSinkClass test_sink_class = {
  .slice = test_sink_slice,
  .flow = test_sink_flow,
  .counter = test_sink_counter,
};

static inline void
test_sink_init (TestSink *s)
{
  s->parent.klass = &test_sink_class;
  s->lines = g_ptr_array_new_with_free_func (g_free);
}

static inline void
test_sink_clear (TestSink *s)
{
  g_ptr_array_unref (s->lines);
}

/* Assert that the recorded lines are exactly @expected (NULL-terminated). */
static inline void
test_sink_assert_lines (TestSink *s, const char *const *expected)
{
  guint n = g_strv_length ((char **) expected);
  for (guint i = 0; i < n && i < s->lines->len; i++)
    g_assert_cmpstr (g_ptr_array_index (s->lines, i), ==, expected[i]);
  g_assert_cmpuint (s->lines->len, ==, n);
}
