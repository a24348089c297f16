/* npusim — NULL-tolerant wrappers around the trace sink interface. */
#include "sim/sink.h"

void
npu_sink_process (NpuSink *sink, guint32 pid, const char *name, gint sort_index)
{
  if (sink != NULL && sink->klass->process != NULL)
    sink->klass->process (sink, pid, name, sort_index);
}

void
npu_sink_thread (NpuSink *sink, guint32 pid, guint32 tid, const char *name, gint sort_index)
{
  if (sink != NULL && sink->klass->thread != NULL)
    sink->klass->thread (sink, pid, tid, name, sort_index);
}

void
npu_sink_slice (NpuSink *sink, guint32 pid, guint32 tid, const char *name,
                const char *category, NpuTime start, NpuTime dur, const char *args_json)
{
  if (sink != NULL && sink->klass->slice != NULL)
    sink->klass->slice (sink, pid, tid, name, category, start, dur, args_json);
}

void
npu_sink_flow (NpuSink *sink, guint64 id, const char *name,
               guint32 from_pid, guint32 from_tid, NpuTime from_ts,
               guint32 to_pid, guint32 to_tid, NpuTime to_ts)
{
  if (sink != NULL && sink->klass->flow != NULL)
    sink->klass->flow (sink, id, name, from_pid, from_tid, from_ts, to_pid, to_tid, to_ts);
}

void
npu_sink_counter (NpuSink *sink, guint32 pid, const char *name, const char *series,
                  NpuTime ts, double value)
{
  if (sink != NULL && sink->klass->counter != NULL)
    sink->klass->counter (sink, pid, name, series, ts, value);
}
