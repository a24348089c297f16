/* npusim — the event queue: a binary min-heap of small structs in one flat array.
 *
 * Each event is keyed by (time, class, seq). Class and seq are packed into one
 * 64-bit word (class in the top 2 bits, seq below) so that a key comparison is two
 * integer compares. seq is a global counter, so keys are unique by construction;
 * the pop path still asserts it. No memory is allocated per event: the array only
 * grows (doubling) when the queue is larger than ever before. */
#include "sim/engine.h"

#include <math.h>

#define SEQ_BITS 62
#define SEQ_MASK ((G_GUINT64_CONSTANT (1) << SEQ_BITS) - 1)

typedef struct {
  NpuTime time;
  guint64 key;         /* prio << SEQ_BITS | seq */
  NpuEventFunc fn;
  gpointer data;
} NpuEvent;

struct _NpuEngine {
  NpuEvent *heap;      /* heap[0] is the earliest event */
  guint n;
  guint cap;
  NpuTime now;
  guint64 next_seq;
  guint64 current_seq;
  guint64 fired;
  guint64 next_id;
  guint64 progress_every;
  guint64 progress_next;
  NpuEventFunc progress_fn;
  gpointer progress_data;
};

G_STATIC_ASSERT (NPU_PRIO_N_CLASSES <= 4);

static inline gboolean
event_before (const NpuEvent *a, const NpuEvent *b)
{
  return a->time < b->time || (a->time == b->time && a->key < b->key);
}

NpuEngine *
npu_engine_new (void)
{
  NpuEngine *engine = g_new0 (NpuEngine, 1);
  engine->cap = 1024;
  engine->heap = g_new (NpuEvent, engine->cap);
  engine->current_seq = G_MAXUINT64;
  return engine;
}

void
npu_engine_free (NpuEngine *engine)
{
  if (engine == NULL)
    return;
  g_free (engine->heap);
  g_free (engine);
}

guint64
npu_engine_schedule (NpuEngine *engine, NpuTime at, NpuPrio prio, NpuEventFunc fn,
                     gpointer data)
{
  g_assert (engine != NULL && fn != NULL);
  if (G_UNLIKELY (at < engine->now))
    g_error ("npu_engine_schedule: time %" G_GUINT64_FORMAT " ps is before now (%"
             G_GUINT64_FORMAT " ps)", at, engine->now);
  if (G_UNLIKELY ((guint) prio >= NPU_PRIO_N_CLASSES))
    g_error ("npu_engine_schedule: invalid priority class %d", (int) prio);
  g_assert (engine->next_seq < SEQ_MASK);

  if (G_UNLIKELY (engine->n == engine->cap))
    {
      g_assert (engine->cap < G_MAXUINT / 2);
      engine->cap *= 2;
      engine->heap = g_renew (NpuEvent, engine->heap, engine->cap);
    }

  guint64 seq = engine->next_seq++;
  NpuEvent ev = { at, ((guint64) prio << SEQ_BITS) | seq, fn, data };

  /* Sift up with a hole: parents move down until ev's place is found. */
  NpuEvent *h = engine->heap;
  guint i = engine->n++;
  while (i > 0)
    {
      guint parent = (i - 1) / 2;
      if (!event_before (&ev, &h[parent]))
        break;
      h[i] = h[parent];
      i = parent;
    }
  h[i] = ev;
  return seq;
}

/* Remove the root into *out. */
static inline void
heap_pop (NpuEngine *engine, NpuEvent *out)
{
  NpuEvent *h = engine->heap;
  *out = h[0];
  guint n = --engine->n;
  if (n == 0)
    return;
  NpuEvent last = h[n];
  guint i = 0;
  for (;;)
    {
      guint c = 2 * i + 1;
      if (c >= n)
        break;
      if (c + 1 < n && event_before (&h[c + 1], &h[c]))
        c++;
      if (!event_before (&h[c], &last))
        break;
      h[i] = h[c];
      i = c;
    }
  h[i] = last;
  /* Keys are unique: the new root must be strictly later than what we popped. */
  g_assert (event_before (out, &h[0]));
}

gboolean
npu_engine_step (NpuEngine *engine)
{
  if (engine->n == 0)
    return FALSE;
  NpuEvent ev;
  heap_pop (engine, &ev);
  engine->now = ev.time;
  engine->current_seq = ev.key & SEQ_MASK;
  ev.fn (ev.data, ev.time);
  engine->fired++;
  if (engine->progress_every != 0 && engine->fired >= engine->progress_next)
    {
      engine->progress_next += engine->progress_every;
      engine->progress_fn (engine->progress_data, engine->now);
    }
  return TRUE;
}

void
npu_engine_run (NpuEngine *engine)
{
  while (npu_engine_step (engine))
    ;
}

NpuTime
npu_engine_now (const NpuEngine *engine)
{
  return engine->now;
}

guint64
npu_engine_current_seq (const NpuEngine *engine)
{
  return engine->current_seq;
}

guint64
npu_engine_new_id (NpuEngine *engine)
{
  return engine->next_id++;
}

guint
npu_engine_pending (const NpuEngine *engine)
{
  return engine->n;
}

guint64
npu_engine_fired (const NpuEngine *engine)
{
  return engine->fired;
}

void
npu_engine_set_progress (NpuEngine *engine, guint64 every_events, NpuEventFunc fn,
                         gpointer data)
{
  g_return_if_fail (every_events == 0 || fn != NULL);
  engine->progress_every = every_events;
  engine->progress_next = engine->fired + every_events;
  engine->progress_fn = fn;
  engine->progress_data = data;
}

NpuTime
npu_time_for_bytes (guint64 bytes, double rate_Bps)
{
  g_assert (rate_Bps > 0);
  /* bytes * 1e12 first, then one division: exact whenever the answer is a whole
   * number of ps representable in a double, which the usual GB/s rates give. */
  double ps = ceil ((double) bytes * 1e12 / rate_Bps);
  g_assert (ps < 18446744073709551616.0);
  return (NpuTime) ps;
}

NpuTime
npu_time_from_us (double us)
{
  g_assert (us >= 0);
  double ps = floor (us * 1e6 + 0.5);
  g_assert (ps < 18446744073709551616.0);
  return (NpuTime) ps;
}
