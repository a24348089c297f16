/* npusim — discrete-event core: time and the event queue.
 *
 * Time is an unsigned 64-bit count of picoseconds (NpuTime); never double, never
 * wall-clock. Events are kept in a binary min-heap keyed by the unique triple
 * (time, priority class, sequence number). The sequence number is a global counter
 * taken when the event is scheduled, so two events can never compare equal and the
 * order of simultaneous events never depends on pointers or hashing.
 *
 * This module knows nothing about NPUs. */
#pragma once
#include <glib.h>

G_BEGIN_DECLS

/** NpuTime: simulated time or duration in picoseconds. */
typedef guint64 NpuTime;

#define NPU_PS_PER_NS G_GUINT64_CONSTANT (1000)
#define NPU_PS_PER_US G_GUINT64_CONSTANT (1000000)
#define NPU_PS_PER_MS G_GUINT64_CONSTANT (1000000000)
#define NPU_PS_PER_S  G_GUINT64_CONSTANT (1000000000000)
#define NPU_TIME_NEVER G_MAXUINT64

/**
 * NpuPrio: priority class of events at the same instant, lowest first.
 * @NPU_PRIO_END: completions (resources freed, data committed) come first, so a
 *   task that starts at the instant another ends sees its results;
 * @NPU_PRIO_START: task starts, server grants and everything else;
 * @NPU_PRIO_RATE: fabric bandwidth re-allocation, once per instant after every flow
 *   that ended or started at that instant. It comes after NPU_PRIO_START (not between
 *   END and START) because flows are started by task starts: with RATE before START,
 *   each flow started at an instant would need a re-allocation of its own.
 *
 * An event may be scheduled at the current time with a class lower than that of the
 * event being processed (e.g. a zero-length task's end during a start); it fires next.
 */
typedef enum {
  NPU_PRIO_END = 0,
  NPU_PRIO_START = 1,
  NPU_PRIO_RATE = 2,
  NPU_PRIO_N_CLASSES
} NpuPrio;

typedef struct _NpuEngine NpuEngine;

/** NpuEventFunc: called when an event fires; @now is the event's time. */
typedef void (*NpuEventFunc) (gpointer data, NpuTime now);

/** npu_engine_new: (transfer full) an empty engine at time 0. */
NpuEngine *npu_engine_new (void);
void npu_engine_free (NpuEngine *engine);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NpuEngine, npu_engine_free)

/**
 * npu_engine_schedule:
 * @at: absolute time in ps; must be >= npu_engine_now() (asserted).
 * @prio: priority class among events at the same @at.
 * @fn: (not nullable) callback; @data is passed through (transfer none).
 * Returns: the event's unique sequence number.
 */
guint64 npu_engine_schedule (NpuEngine *engine, NpuTime at, NpuPrio prio,
                             NpuEventFunc fn, gpointer data);

/** npu_engine_now: time of the event being processed (or of the last one), ps. */
NpuTime npu_engine_now (const NpuEngine *engine);

/**
 * npu_engine_current_seq: the sequence number (as returned by npu_engine_schedule) of
 * the event being processed, or of the last one fired; G_MAXUINT64 before the first.
 * Lets a component tell its live event from stale ones without cancelling events.
 */
guint64 npu_engine_current_seq (const NpuEngine *engine);

/**
 * npu_engine_new_id: a fresh integer, unique within the engine (0, 1, 2, ...), for
 * identifiers that must not collide between components sharing the engine (e.g. the
 * trace flow ids of several task graphs). Independent of event sequence numbers.
 */
guint64 npu_engine_new_id (NpuEngine *engine);

/** npu_engine_step: fire the earliest event. Returns FALSE if the queue was empty. */
gboolean npu_engine_step (NpuEngine *engine);

/** npu_engine_run: fire events until the queue is empty. */
void npu_engine_run (NpuEngine *engine);

/** npu_engine_pending: number of events in the queue. */
guint npu_engine_pending (const NpuEngine *engine);

/** npu_engine_fired: number of events fired so far. */
guint64 npu_engine_fired (const NpuEngine *engine);

/**
 * npu_engine_set_progress:
 * Call @fn(@data, now) every @every_events fired events (0 disables). Used by the
 * CLI for its progress line; the callback must not schedule events.
 */
void npu_engine_set_progress (NpuEngine *engine, guint64 every_events,
                              NpuEventFunc fn, gpointer data);

/**
 * npu_time_for_bytes: time to move @bytes at @rate_Bps (bytes per second), rounded
 * up to whole ps. @rate_Bps must be > 0.
 */
NpuTime npu_time_for_bytes (guint64 bytes, double rate_Bps);

/** npu_time_from_us: microseconds (may be fractional) to ps, rounded to nearest. */
NpuTime npu_time_from_us (double us);

G_END_DECLS
