/* npusim — the trace sink interface.
 *
 * The event core and the models report what happened through this interface; the
 * trace writer in traces/ implements it. ops/ reach traces/ only through it.
 * Every call may come in any order of start time, but slices arrive no earlier than
 * their end time (they are reported when they end).
 *
 * Track identity: (pid, tid), both uint32. The sink owns the naming of tracks:
 * declare a process / thread once before using it. */
#pragma once
#include "sim/engine.h"

G_BEGIN_DECLS

typedef struct _NpuSink NpuSink;

typedef struct {
  /* Name a process (e.g. "Rank 3 Ascend Hardware") and its sort position. */
  void (*process) (NpuSink *sink, guint32 pid, const char *name, gint sort_index);
  /* Name a thread (track) inside a process, e.g. "Stream 2", "AIC 0", "HCCS 3->5". */
  void (*thread) (NpuSink *sink, guint32 pid, guint32 tid, const char *name, gint sort_index);
  /* A complete slice [start, start+dur) on a track. @args_json: NULL or a JSON object
   * text to copy into "args". Slices on one track must nest or be disjoint; the sink
   * may move a slice to an overflow lane of the same track when it would not. */
  void (*slice) (NpuSink *sink, guint32 pid, guint32 tid, const char *name,
                 const char *category, NpuTime start, NpuTime dur, const char *args_json);
  /* A flow arrow from a point on one track to a point on another; @id unique per
   * flow. The points must lie inside slices that are (or will be) reported. */
  void (*flow) (NpuSink *sink, guint64 id, const char *name,
                guint32 from_pid, guint32 from_tid, NpuTime from_ts,
                guint32 to_pid, guint32 to_tid, NpuTime to_ts);
  /* A counter sample: @series of counter @name on process @pid is @value from @ts on. */
  void (*counter) (NpuSink *sink, guint32 pid, const char *name, const char *series,
                   NpuTime ts, double value);
} NpuSinkClass;

/** NpuSink: embed as the first member of an implementation's struct. */
struct _NpuSink {
  const NpuSinkClass *klass;
};

/* Convenience wrappers; all accept sink == NULL and then do nothing. */
void npu_sink_process (NpuSink *sink, guint32 pid, const char *name, gint sort_index);
void npu_sink_thread (NpuSink *sink, guint32 pid, guint32 tid, const char *name, gint sort_index);
void npu_sink_slice (NpuSink *sink, guint32 pid, guint32 tid, const char *name,
                     const char *category, NpuTime start, NpuTime dur, const char *args_json);
void npu_sink_flow (NpuSink *sink, guint64 id, const char *name,
                    guint32 from_pid, guint32 from_tid, NpuTime from_ts,
                    guint32 to_pid, guint32 to_tid, NpuTime to_ts);
void npu_sink_counter (NpuSink *sink, guint32 pid, const char *name, const char *series,
                       NpuTime ts, double value);

G_END_DECLS
