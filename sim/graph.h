/* npusim — the task-graph executor and hazard checker.
 *
 * A task is one piece of work on the simulated machine: it may hold a serial server
 * (a core, an AICPU, an SDMA queue) for its whole duration, takes a fixed time (from
 * the hardware model, evaluated when it starts), then optionally moves bytes over a
 * fabric path; it ends when both are done. A task starts once all its dependencies
 * have ended and its server is granted.
 *
 * Data moves with the events: a task's data effect runs at its end time (not in
 * timing-only mode). A consumer that is scheduled before its producer has finished
 * therefore computes on stale bytes and gives a wrong answer.
 *
 * Hazard checker (optional): a task declares the byte regions of the graph's buffers
 * it reads and writes. Creation order is program order: a task that reads a region
 * written by a task created before it needs that writer to have ended when it starts
 * (read-before-write); two writers of overlapping bytes must not overlap in time, and
 * a writer created after a reader must not start before the reader ended. Any
 * violation stops the run with an error that names both tasks.
 *
 * Tasks are owned by the graph and stay valid until the graph is freed.
 *
 * Timing rules: tasks that become ready at one instant start (or queue for their
 * server, FIFO) in creation order; a task's end is an NPU_PRIO_END event, so a task
 * that starts at that instant sees the effects. A task with no server, no duration
 * and no flow takes zero time (notify records/waits). */
#pragma once
#include "sim/engine.h"
#include "sim/server.h"
#include "sim/fabric.h"
#include "sim/sink.h"

G_BEGIN_DECLS

typedef struct _NpuGraph NpuGraph;
typedef struct _NpuTask NpuTask;

#define NPU_GRAPH_ERROR (npu_graph_error_quark ())
GQuark npu_graph_error_quark (void);
typedef enum {
  NPU_GRAPH_ERROR_HAZARD,   /* a data race between two tasks; message names both */
  NPU_GRAPH_ERROR_DEADLOCK, /* tasks left that can never start; message names one */
  NPU_GRAPH_ERROR_TASK,     /* a task failed: its effect reported an error, or a hook or
                             * effect failed the run (npu_graph_fail) */
} NpuGraphError;

/** NpuTaskEffect: the data effect, run at the task's end. May set @error to abort. */
typedef gboolean (*NpuTaskEffect) (gpointer data, GError **error);
/** NpuTaskDuration: the fixed-time part, evaluated when the task starts, ps. */
typedef NpuTime (*NpuTaskDuration) (gpointer data, NpuTime start);
/** NpuTaskHook: observer called at task start or end (e.g. op-level accounting). */
typedef void (*NpuTaskHook) (gpointer data, NpuTask *task);

/**
 * npu_graph_new: (transfer full)
 * @engine, @fabric: (transfer none) must outlive the graph.
 * @sink: (nullable) (transfer none) where slices and flows are reported.
 * @data_mode: FALSE = timing-only: same events, effects are not run.
 * @check_hazards: enable the hazard checker.
 */
NpuGraph *npu_graph_new (NpuEngine *engine, NpuFabric *fabric, NpuSink *sink,
                         gboolean data_mode, gboolean check_hazards);
void npu_graph_free (NpuGraph *graph);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NpuGraph, npu_graph_free)

gboolean npu_graph_data_mode (const NpuGraph *graph);
NpuEngine *npu_graph_engine (const NpuGraph *graph);
NpuFabric *npu_graph_fabric (const NpuGraph *graph);
NpuSink *npu_graph_sink (const NpuGraph *graph);

/**
 * npu_graph_set_data: attach @data to the graph under @key, for state that lives as
 * long as the run and is shared by the ops that find it (e.g. the windows of a
 * communication group). @key is copied. Data already under @key is destroyed first
 * (with its own notify). @destroy (nullable) is called on @data when it is replaced or
 * when the graph is freed; at npu_graph_free the data is destroyed after every task,
 * the latest set first. Lookup only: nothing iterates over the keys, so the run cannot
 * depend on their order.
 */
void npu_graph_set_data (NpuGraph *graph, const char *key, gpointer data,
                         GDestroyNotify destroy);
/** npu_graph_get_data: (transfer none) (nullable) the data under @key, NULL if none. */
gpointer npu_graph_get_data (const NpuGraph *graph, const char *key);

/**
 * npu_graph_fail: fail the run with @error (transfer full), e.g. from a task's hook (which
 * runs in data and timing-only mode alike) or effect when the simulated machine would
 * fail (a kernel timeout). The run stops at once: no further task starts or ends, and
 * npu_graph_run returns FALSE with a copy of @error, as given (no task-name prefix);
 * later runs fail with it too. Called between runs, the next run fails at once. The
 * first error wins: when the run has already failed, @error is freed. The caller picks
 * the domain (NPU_GRAPH_ERROR_TASK is the usual one for a failure of the simulated
 * machine).
 */
void npu_graph_fail (NpuGraph *graph, GError *error);

/**
 * npu_graph_add_buffer: declare a memory buffer for hazard checking.
 * @name: (transfer none) copied, e.g. "r3.window" or "r0.x1".
 * @size: bytes. Returns: buffer id.
 */
guint npu_graph_add_buffer (NpuGraph *graph, const char *name, guint64 size);

/**
 * npu_graph_task_new: (transfer none) a new task, created in program order.
 * @name: (transfer none) copied; shown in traces and hazard messages.
 */
NpuTask *npu_graph_task_new (NpuGraph *graph, const char *name);

void npu_task_set_server (NpuTask *task, NpuServer *server);
void npu_task_set_duration (NpuTask *task, NpuTime fixed_ps);
void npu_task_set_duration_func (NpuTask *task, NpuTaskDuration fn, gpointer data);
/** npu_task_set_flow: after the fixed time, move @bytes over @links (copied). */
void npu_task_set_flow (NpuTask *task, const guint *links, guint n_links, guint64 bytes,
                        double rate_cap_Bps);
void npu_task_depends_on (NpuTask *task, NpuTask *before);
void npu_task_reads (NpuTask *task, guint buffer, guint64 offset, guint64 length);
void npu_task_writes (NpuTask *task, guint buffer, guint64 offset, guint64 length);
/** npu_task_set_effect: @destroy (nullable) frees @data when the graph is freed. */
void npu_task_set_effect (NpuTask *task, NpuTaskEffect fn, gpointer data,
                          GDestroyNotify destroy);
/** npu_task_set_track: report the task as a slice on (@pid, @tid) with @category
 *  (copied; NULL means "task") when it ends. Overrides the track of its stream. */
void npu_task_set_track (NpuTask *task, guint32 pid, guint32 tid, const char *category);
/** npu_task_set_hidden: never draw the task, even when appended to a stream. */
void npu_task_set_hidden (NpuTask *task);
/** npu_task_set_args: (transfer none) JSON object text for the slice's args; copied. */
void npu_task_set_args (NpuTask *task, const char *args_json);
/** npu_task_add_trace_flow: draw an arrow from @from's end to @to's start. It is
 *  reported once both tasks have ended and only if both are drawn: from 1 ns before
 *  @from's end (inside its slice) to @to's start; if @to started earlier than that,
 *  both points move to max(@from's start, @to's start), and if @to was over before
 *  @from began, no arrow is drawn. Ids come from npu_engine_new_id(). */
void npu_task_add_trace_flow (NpuTask *from, NpuTask *to, const char *name);
void npu_task_set_hooks (NpuTask *task, NpuTaskHook on_start, NpuTaskHook on_end,
                         gpointer data);

const char *npu_task_name (const NpuTask *task);
guint npu_task_id (const NpuTask *task);           /* creation index */
NpuTime npu_task_start (const NpuTask *task);      /* NPU_TIME_NEVER until started */
NpuTime npu_task_end (const NpuTask *task);        /* NPU_TIME_NEVER until ended */
guint npu_graph_n_tasks (const NpuGraph *graph);
NpuTask *npu_graph_task (const NpuGraph *graph, guint id);

/**
 * npu_graph_run: start every task whose dependencies are met and run the engine
 * until all tasks have ended.
 * Tasks created during the run (by hooks or effects) with no unfinished dependency
 * start when the engine next drains; the graph may be extended and run again after
 * a successful run (dependencies on ended tasks are already met).
 * Returns: FALSE with @error set on a hazard, a deadlock, a failed effect (the
 * effect's own error, prefixed with "task 'NAME': ") or npu_graph_fail (its error as
 * given); the run stops at once and further runs fail with the same error.
 */
gboolean npu_graph_run (NpuGraph *graph, GError **error);

/* ---- Streams: in-order task queues of a rank, as CANN streams behave. ---- */

typedef struct _NpuStream NpuStream;

/** npu_graph_stream_new: (transfer none) owned by the graph; tasks appended to it
 *  run in order and are drawn on (@pid, @tid) unless they have a track of their own. */
NpuStream *npu_graph_stream_new (NpuGraph *graph, const char *name, guint32 pid, guint32 tid);
/** npu_stream_append: @task depends on the stream's previous task. A task belongs
 *  to one stream at most; without a track of its own it is drawn on the stream's
 *  (pid, tid) with category "task". */
void npu_stream_append (NpuStream *stream, NpuTask *task);
/** npu_stream_last: (nullable) the last task appended. */
NpuTask *npu_stream_last (const NpuStream *stream);
/** npu_stream_record: append a notify-record task of @cost_ps and return it. */
NpuTask *npu_stream_record (NpuStream *stream, const char *name, NpuTime cost_ps);
/** npu_stream_wait: append a notify-wait task of @cost_ps that waits for @record. */
NpuTask *npu_stream_wait (NpuStream *stream, NpuTask *record, const char *name, NpuTime cost_ps);

G_END_DECLS
