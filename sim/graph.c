/* npusim — task-graph executor, streams and hazard checker.
 *
 * Life of a task:
 *   NEW      created; waits for its dependencies (n_unmet counts unfinished ones);
 *   READY    dependencies met: queued for the next dispatch event of the instant
 *            (class NPU_PRIO_START), which starts the queued tasks in id order, so that
 *            tasks that became ready at one instant start (or queue for their server)
 *            in creation order whatever the order of the events that released them;
 *   RUNNING  started (server granted, if any): hazard check, on-start hook, then the
 *            fixed time (evaluated now), then the optional fabric flow;
 *   DONE     end (an NPU_PRIO_END event): effect (data mode only), server release,
 *            trace slice, trace arrows, on-end hook, successors released.
 * A task with nothing to do (no server, no time, no flow) still ends through an
 * NPU_PRIO_END event at its start instant, so every end is an END-class event.
 *
 * Hazard checker: every buffer keeps the set of accesses declared by tasks that have
 * not finished (added when declared, removed at the task's end), so that a task that
 * has not even started yet is seen as an unfinished writer/reader. At a task's start,
 * an access conflicts with an overlapping access of an unfinished task created
 * earlier: read vs write (read-before-write), write vs write, write vs read
 * (write-after-read). The reported partner is the conflicting task with the lowest
 * id (then its first declared access), so the message depends on nothing else.
 * The sets are augmented treaps (region-set.c): a check costs about O(log n) even
 * when thousands of tasks are queued on the same bytes. */
#include "sim/graph.h"
#include "sim/region-set.h"

#include <string.h>

#define CHUNK_BITS 8
#define CHUNK_SIZE (1u << CHUNK_BITS)

G_DEFINE_QUARK (npu-graph-error-quark, npu_graph_error)

typedef enum { TASK_NEW, TASK_READY, TASK_RUNNING, TASK_DONE } TaskState;

typedef struct {
  guint buffer;
  guint64 offset;
  guint64 length;
  gboolean write;
  guint node;          /* in the buffer's region set while the task is unfinished */
} Access;

typedef struct {
  char *name;
  guint64 size;
  guint root;          /* region set of the accesses of unfinished tasks */
} Buffer;

/* Run-scoped user data (npu_graph_set_data). */
typedef struct {
  char *key;
  gpointer data;
  GDestroyNotify destroy;
} UserData;

typedef struct {
  NpuTask *from;
  NpuTask *to;
  const char *name;
  gboolean done;
} TraceFlow;

/* Rarely used parts of a task, allocated on demand to keep NpuTask small. */
typedef struct {
  guint *flow_links;
  guint flow_n_links;
  guint64 flow_bytes;
  double flow_cap;
  NpuTaskHook on_start;
  NpuTaskHook on_end;
  gpointer hook_data;
  guint *tflows;       /* indices into graph->tflows */
  guint n_tflows;
} TaskExtra;

struct _NpuTask {
  NpuGraph *graph;
  const char *name;
  NpuServer *server;
  NpuTime fixed;
  NpuTaskDuration dur_fn;
  gpointer dur_data;
  NpuTaskEffect effect;
  gpointer effect_data;
  GDestroyNotify effect_destroy;
  const char *category;
  const char *args;
  NpuStream *stream;
  TaskExtra *x;
  guint *succ;
  Access *acc;
  NpuTime start;
  NpuTime end;
  guint id;
  guint n_succ;
  guint n_unmet;
  guint n_acc;
  guint32 pid;
  guint32 tid;
  guint8 state;
  gboolean has_flow : 1;
  gboolean has_track : 1;
  gboolean hidden : 1;
};

struct _NpuStream {
  NpuGraph *graph;
  const char *name;
  guint32 pid;
  guint32 tid;
  NpuTask *last;
};

struct _NpuGraph {
  NpuEngine *engine;
  NpuFabric *fabric;
  NpuSink *sink;
  gboolean data_mode;
  gboolean check;
  NpuTask **chunks;
  guint n_chunks;
  guint n_tasks;
  guint n_ended;
  guint scan_cursor;   /* tasks below it were considered by a run */
  GStringChunk *strings;
  GArray *buffers;     /* Buffer */
  NpuRegionPool *regions;
  GArray *tflows;      /* TraceFlow */
  GPtrArray *streams;
  GPtrArray *ready;    /* tasks waiting for the dispatch event */
  GPtrArray *dispatching;
  gboolean dispatch_pending;
  gboolean running;
  GError *error;
  GPtrArray *user_data;  /* UserData, in the order set (destroyed in reverse) */
  GHashTable *user_keys; /* key -> UserData, lookup only */
};

static inline NpuTask *
task_at (const NpuGraph *graph, guint id)
{
  return &graph->chunks[id >> CHUNK_BITS][id & (CHUNK_SIZE - 1)];
}

NpuGraph *
npu_graph_new (NpuEngine *engine, NpuFabric *fabric, NpuSink *sink, gboolean data_mode,
               gboolean check_hazards)
{
  g_return_val_if_fail (engine != NULL, NULL);
  NpuGraph *graph = g_new0 (NpuGraph, 1);
  graph->engine = engine;
  graph->fabric = fabric;
  graph->sink = sink;
  graph->data_mode = data_mode;
  graph->check = check_hazards;
  graph->strings = g_string_chunk_new (4096);
  graph->buffers = g_array_new (FALSE, TRUE, sizeof (Buffer));
  graph->regions = npu_region_pool_new ();
  graph->tflows = g_array_new (FALSE, TRUE, sizeof (TraceFlow));
  graph->streams = g_ptr_array_new_with_free_func (g_free);
  graph->ready = g_ptr_array_new ();
  graph->dispatching = g_ptr_array_new ();
  graph->user_data = g_ptr_array_new ();
  graph->user_keys = g_hash_table_new (g_str_hash, g_str_equal);
  return graph;
}

static void
user_data_free (UserData *u)
{
  if (u->destroy != NULL)
    u->destroy (u->data);
  g_free (u->key);
  g_free (u);
}

void
npu_graph_free (NpuGraph *graph)
{
  if (graph == NULL)
    return;
  for (guint i = 0; i < graph->n_tasks; i++)
    {
      NpuTask *t = task_at (graph, i);
      if (t->effect_destroy != NULL)
        t->effect_destroy (t->effect_data);
      if (t->x != NULL)
        {
          g_free (t->x->flow_links);
          g_free (t->x->tflows);
          g_free (t->x);
        }
      g_free (t->succ);
      g_free (t->acc);
    }
  for (guint i = 0; i < graph->n_chunks; i++)
    g_free (graph->chunks[i]);
  g_free (graph->chunks);
  for (guint i = 0; i < graph->buffers->len; i++)
    {
      Buffer *b = &g_array_index (graph->buffers, Buffer, i);
      g_free (b->name);
    }
  g_array_unref (graph->buffers);
  npu_region_pool_free (graph->regions);
  g_array_unref (graph->tflows);
  g_ptr_array_unref (graph->streams);
  g_ptr_array_unref (graph->ready);
  g_ptr_array_unref (graph->dispatching);
  g_string_chunk_free (graph->strings);
  /* after the tasks, whose effect data may point into it; latest first */
  for (guint i = graph->user_data->len; i-- > 0;)
    user_data_free (g_ptr_array_index (graph->user_data, i));
  g_ptr_array_unref (graph->user_data);
  g_hash_table_unref (graph->user_keys);
  g_clear_error (&graph->error);
  g_free (graph);
}

void
npu_graph_set_data (NpuGraph *graph, const char *key, gpointer data, GDestroyNotify destroy)
{
  g_return_if_fail (graph != NULL && key != NULL);
  UserData *old = g_hash_table_lookup (graph->user_keys, key);
  if (old != NULL)
    {
      g_hash_table_remove (graph->user_keys, key);
      g_ptr_array_remove (graph->user_data, old);
      user_data_free (old);
    }
  UserData *u = g_new0 (UserData, 1);
  u->key = g_strdup (key);
  u->data = data;
  u->destroy = destroy;
  g_ptr_array_add (graph->user_data, u);
  g_hash_table_insert (graph->user_keys, u->key, u);
}

gpointer
npu_graph_get_data (const NpuGraph *graph, const char *key)
{
  g_return_val_if_fail (graph != NULL && key != NULL, NULL);
  UserData *u = g_hash_table_lookup (graph->user_keys, key);
  return u != NULL ? u->data : NULL;
}

gboolean
npu_graph_data_mode (const NpuGraph *graph)
{
  return graph->data_mode;
}

NpuEngine *
npu_graph_engine (const NpuGraph *graph)
{
  return graph->engine;
}

NpuFabric *
npu_graph_fabric (const NpuGraph *graph)
{
  return graph->fabric;
}

NpuSink *
npu_graph_sink (const NpuGraph *graph)
{
  return graph->sink;
}

guint
npu_graph_add_buffer (NpuGraph *graph, const char *name, guint64 size)
{
  g_return_val_if_fail (graph != NULL && name != NULL, G_MAXUINT);
  Buffer b = { 0 };
  b.name = g_strdup (name);
  b.size = size;
  g_array_append_val (graph->buffers, b);
  return graph->buffers->len - 1;
}

/* ---- building tasks ---- */

NpuTask *
npu_graph_task_new (NpuGraph *graph, const char *name)
{
  g_return_val_if_fail (graph != NULL && name != NULL, NULL);
  g_return_val_if_fail (graph->n_tasks < G_MAXUINT - 1, NULL);
  guint id = graph->n_tasks;
  if ((id >> CHUNK_BITS) == graph->n_chunks)
    {
      graph->chunks = g_renew (NpuTask *, graph->chunks, graph->n_chunks + 1);
      graph->chunks[graph->n_chunks++] = g_new0 (NpuTask, CHUNK_SIZE);
    }
  graph->n_tasks++;
  NpuTask *t = task_at (graph, id);
  t->graph = graph;
  t->id = id;
  t->name = g_string_chunk_insert_const (graph->strings, name);
  t->start = NPU_TIME_NEVER;
  t->end = NPU_TIME_NEVER;
  t->state = TASK_NEW;
  return t;
}

static TaskExtra *
task_extra (NpuTask *task)
{
  if (task->x == NULL)
    task->x = g_new0 (TaskExtra, 1);
  return task->x;
}

void
npu_task_set_server (NpuTask *task, NpuServer *server)
{
  g_return_if_fail (task != NULL && task->state == TASK_NEW);
  task->server = server;
}

void
npu_task_set_duration (NpuTask *task, NpuTime fixed_ps)
{
  g_return_if_fail (task != NULL && task->state == TASK_NEW);
  task->fixed = fixed_ps;
  task->dur_fn = NULL;
}

void
npu_task_set_duration_func (NpuTask *task, NpuTaskDuration fn, gpointer data)
{
  g_return_if_fail (task != NULL && task->state == TASK_NEW);
  task->dur_fn = fn;
  task->dur_data = data;
}

void
npu_task_set_flow (NpuTask *task, const guint *links, guint n_links, guint64 bytes,
                   double rate_cap_Bps)
{
  g_return_if_fail (task != NULL && task->state == TASK_NEW);
  g_return_if_fail (n_links == 0 || links != NULL);
  g_return_if_fail (task->graph->fabric != NULL);
  TaskExtra *x = task_extra (task);
  x->flow_links = g_renew (guint, x->flow_links, n_links);
  if (n_links > 0)
    memcpy (x->flow_links, links, n_links * sizeof (guint));
  x->flow_n_links = n_links;
  x->flow_bytes = bytes;
  x->flow_cap = rate_cap_Bps;
  task->has_flow = TRUE;
}

void
npu_task_depends_on (NpuTask *task, NpuTask *before)
{
  g_return_if_fail (task != NULL && before != NULL && task->graph == before->graph);
  g_return_if_fail (task->state == TASK_NEW);
  if (before->state == TASK_DONE)
    return;
  /* succ grows by doubling: capacity is the next power of two >= n_succ. */
  guint n = before->n_succ;
  if (n == 0 || (n & (n - 1)) == 0)
    before->succ = g_renew (guint, before->succ, n == 0 ? 2 : 2 * n);
  before->succ[before->n_succ++] = task->id;
  task->n_unmet++;
}

static void
task_access (NpuTask *task, guint buffer, guint64 offset, guint64 length, gboolean write)
{
  NpuGraph *graph = task->graph;
  g_return_if_fail (task->state == TASK_NEW);
  g_return_if_fail (buffer < graph->buffers->len);
  Buffer *b = &g_array_index (graph->buffers, Buffer, buffer);
  g_return_if_fail (offset <= b->size && length <= b->size - offset);
  if (!graph->check || length == 0)
    return;
  guint n = task->n_acc;
  if (n == 0 || (n & (n - 1)) == 0)
    task->acc = g_renew (Access, task->acc, n == 0 ? 2 : 2 * n);
  guint node = npu_region_insert (graph->regions, &b->root, offset, length,
                                  ((guint64) task->id << 32) | n, write);
  task->acc[n] = (Access) { buffer, offset, length, write, node };
  task->n_acc++;
}

void
npu_task_reads (NpuTask *task, guint buffer, guint64 offset, guint64 length)
{
  g_return_if_fail (task != NULL);
  task_access (task, buffer, offset, length, FALSE);
}

void
npu_task_writes (NpuTask *task, guint buffer, guint64 offset, guint64 length)
{
  g_return_if_fail (task != NULL);
  task_access (task, buffer, offset, length, TRUE);
}

void
npu_task_set_effect (NpuTask *task, NpuTaskEffect fn, gpointer data, GDestroyNotify destroy)
{
  g_return_if_fail (task != NULL);
  if (task->effect_destroy != NULL)
    task->effect_destroy (task->effect_data);
  task->effect = fn;
  task->effect_data = data;
  task->effect_destroy = destroy;
}

void
npu_task_set_track (NpuTask *task, guint32 pid, guint32 tid, const char *category)
{
  g_return_if_fail (task != NULL);
  task->has_track = TRUE;
  task->pid = pid;
  task->tid = tid;
  task->category = category != NULL
    ? g_string_chunk_insert_const (task->graph->strings, category) : NULL;
}

void
npu_task_set_hidden (NpuTask *task)
{
  g_return_if_fail (task != NULL);
  task->hidden = TRUE;
}

void
npu_task_set_args (NpuTask *task, const char *args_json)
{
  g_return_if_fail (task != NULL);
  task->args = args_json != NULL
    ? g_string_chunk_insert (task->graph->strings, args_json) : NULL;
}

static void
task_add_tflow (NpuTask *task, guint index)
{
  TaskExtra *x = task_extra (task);
  guint n = x->n_tflows;
  if (n == 0 || (n & (n - 1)) == 0)
    x->tflows = g_renew (guint, x->tflows, n == 0 ? 2 : 2 * n);
  x->tflows[x->n_tflows++] = index;
}

void
npu_task_add_trace_flow (NpuTask *from, NpuTask *to, const char *name)
{
  g_return_if_fail (from != NULL && to != NULL && from->graph == to->graph && from != to);
  NpuGraph *graph = from->graph;
  TraceFlow tf = { from, to, g_string_chunk_insert_const (graph->strings, name ? name : "flow"),
                   FALSE };
  g_array_append_val (graph->tflows, tf);
  guint index = graph->tflows->len - 1;
  task_add_tflow (from, index);
  task_add_tflow (to, index);
}

void
npu_task_set_hooks (NpuTask *task, NpuTaskHook on_start, NpuTaskHook on_end, gpointer data)
{
  g_return_if_fail (task != NULL);
  TaskExtra *x = task_extra (task);
  x->on_start = on_start;
  x->on_end = on_end;
  x->hook_data = data;
}

const char *
npu_task_name (const NpuTask *task)
{
  return task->name;
}

guint
npu_task_id (const NpuTask *task)
{
  return task->id;
}

NpuTime
npu_task_start (const NpuTask *task)
{
  return task->start;
}

NpuTime
npu_task_end (const NpuTask *task)
{
  return task->end;
}

guint
npu_graph_n_tasks (const NpuGraph *graph)
{
  return graph->n_tasks;
}

NpuTask *
npu_graph_task (const NpuGraph *graph, guint id)
{
  g_return_val_if_fail (id < graph->n_tasks, NULL);
  return task_at (graph, id);
}

/* ---- running ---- */

static void
fail (NpuGraph *graph, GError *error)
{
  if (graph->error == NULL)
    graph->error = error;
  else
    g_error_free (error);
}

void
npu_graph_fail (NpuGraph *graph, GError *error)
{
  g_return_if_fail (graph != NULL && error != NULL);
  /* The engine loop of npu_graph_run and every start/end check graph->error. */
  fail (graph, error);
}

/* The track a task is drawn on: none if hidden, else its own, else its stream's. */
static gboolean
task_track (const NpuTask *t, guint32 *pid, guint32 *tid, const char **category)
{
  if (t->hidden)
    return FALSE;
  if (t->has_track)
    {
      *pid = t->pid;
      *tid = t->tid;
      *category = t->category != NULL ? t->category : "task";
      return TRUE;
    }
  if (t->stream != NULL)
    {
      *pid = t->stream->pid;
      *tid = t->stream->tid;
      *category = t->category != NULL ? t->category : "task";
      return TRUE;
    }
  return FALSE;
}

/* Report a trace arrow once both of its tasks have ended (both slices are known).
 * from_ts lies inside the producer's slice, 1 ns before its end (so a slice starting
 * right at that end does not capture it); to_ts is the consumer's start. When the
 * consumer started before that point (no dependency between them), both points move
 * to the consumer's start if the producer was already running; if the consumer was
 * over before the producer began, no arrow is drawn. */
static void
emit_tflow (NpuGraph *graph, TraceFlow *tf)
{
  const NpuTask *p = tf->from, *c = tf->to;
  if (tf->done || p->state != TASK_DONE || c->state != TASK_DONE)
    return;
  tf->done = TRUE;
  guint32 fpid, ftid, tpid, ttid;
  const char *cat;
  if (graph->sink == NULL || !task_track (p, &fpid, &ftid, &cat)
      || !task_track (c, &tpid, &ttid, &cat))
    return;
  NpuTime dur = p->end - p->start;
  NpuTime from_ts = p->end - (dur < NPU_PS_PER_NS ? dur : NPU_PS_PER_NS);
  NpuTime to_ts = c->start;
  if (to_ts < from_ts)
    {
      from_ts = MAX (p->start, c->start);
      to_ts = from_ts;
      if (to_ts > c->end)
        return;
    }
  npu_sink_flow (graph->sink, npu_engine_new_id (graph->engine), tf->name, fpid, ftid,
                 from_ts, tpid, ttid, to_ts);
}

static void
hazard_check (NpuGraph *graph, NpuTask *t)
{
  /* Reads first, then writes, each in declaration order. */
  for (int pass = 0; pass < 2; pass++)
    for (guint i = 0; i < t->n_acc; i++)
      {
        const Access *a = &t->acc[i];
        if (a->write != (pass == 1))
          continue;
        const Buffer *b = &g_array_index (graph->buffers, Buffer, a->buffer);
        /* The earliest-created unfinished task (then its first access) in conflict:
         * for a read, a writer of overlapping bytes; for a write, any accessor. */
        guint64 key = npu_region_min_conflict (graph->regions, b->root, a->offset,
                                               a->length, !a->write,
                                               (guint64) t->id << 32);
        const NpuTask *other = NULL;
        const Access *oa = NULL;
        if (key != G_MAXUINT64)
          {
            other = task_at (graph, (guint) (key >> 32));
            oa = &other->acc[(guint) (key & G_MAXUINT32)];
          }
        if (other == NULL)
          continue;
        const char *kind, *what;
        if (!a->write)
          kind = "read-before-write", what = "which writes it";
        else if (oa->write)
          kind = "write-after-write", what = "which also writes it";
        else
          kind = "write-after-read", what = "which reads it";
        fail (graph, g_error_new (NPU_GRAPH_ERROR, NPU_GRAPH_ERROR_HAZARD,
                                  "%s: task '%s' %s %s[%" G_GUINT64_FORMAT ",%"
                                  G_GUINT64_FORMAT ") while '%s' (%s) has not finished",
                                  kind, t->name, a->write ? "writes" : "reads", b->name,
                                  a->offset, a->offset + a->length, other->name, what));
        return;
      }
}

static void
drop_accesses (NpuGraph *graph, NpuTask *t)
{
  for (guint i = 0; i < t->n_acc; i++)
    {
      Buffer *b = &g_array_index (graph->buffers, Buffer, t->acc[i].buffer);
      npu_region_remove (graph->regions, &b->root, t->acc[i].node);
    }
}

static void dispatch_event (gpointer data, NpuTime now);

static void
make_ready (NpuGraph *graph, NpuTask *t)
{
  g_assert (t->state == TASK_NEW && t->n_unmet == 0);
  t->state = TASK_READY;
  g_ptr_array_add (graph->ready, t);
  if (!graph->dispatch_pending)
    {
      graph->dispatch_pending = TRUE;
      npu_engine_schedule (graph->engine, npu_engine_now (graph->engine), NPU_PRIO_START,
                           dispatch_event, graph);
    }
}

static void
task_end (NpuTask *t, NpuTime now)
{
  NpuGraph *graph = t->graph;
  if (graph->error != NULL)
    return;
  t->end = now;
  t->state = TASK_DONE;
  graph->n_ended++;

  if (graph->data_mode && t->effect != NULL)
    {
      GError *local = NULL;
      if (!t->effect (t->effect_data, &local))
        {
          if (local == NULL)
            local = g_error_new (NPU_GRAPH_ERROR, NPU_GRAPH_ERROR_TASK,
                                 "task '%s': its effect failed", t->name);
          else
            g_prefix_error (&local, "task '%s': ", t->name);
          fail (graph, local);
          return;
        }
      if (graph->error != NULL)
        return; /* the effect failed the run (npu_graph_fail) */
    }
  if (t->server != NULL)
    npu_server_release (t->server);
  drop_accesses (graph, t);

  guint32 pid, tid;
  const char *cat;
  if (graph->sink != NULL && task_track (t, &pid, &tid, &cat))
    npu_sink_slice (graph->sink, pid, tid, t->name, cat, t->start, t->end - t->start, t->args);
  if (t->x != NULL)
    {
      for (guint i = 0; i < t->x->n_tflows; i++)
        emit_tflow (graph, &g_array_index (graph->tflows, TraceFlow, t->x->tflows[i]));
      if (t->x->on_end != NULL)
        t->x->on_end (t->x->hook_data, t);
    }

  for (guint i = 0; i < t->n_succ; i++)
    {
      NpuTask *s = task_at (graph, t->succ[i]);
      g_assert (s->n_unmet > 0);
      if (--s->n_unmet == 0 && s->state == TASK_NEW)
        make_ready (graph, s);
    }
}

static void
end_event (gpointer data, NpuTime now)
{
  task_end (data, now);
}

static void
flow_done (gpointer data, NpuTime now)
{
  task_end (data, now);
}

/* The fixed part is over: move the bytes, or end. @from_start: called from inside
 * the start, i.e. at class NPU_PRIO_START; the end is then deferred to an END event. */
static void
fixed_done (NpuTask *t, NpuTime now, gboolean from_start)
{
  NpuGraph *graph = t->graph;
  if (graph->error != NULL)
    return;
  if (t->has_flow)
    npu_fabric_start_flow (graph->fabric, t->x->flow_links, t->x->flow_n_links,
                           t->x->flow_bytes, t->x->flow_cap, flow_done, t);
  else if (from_start)
    npu_engine_schedule (graph->engine, now, NPU_PRIO_END, end_event, t);
  else
    task_end (t, now);
}

static void
fixed_done_event (gpointer data, NpuTime now)
{
  fixed_done (data, now, FALSE);
}

static void
task_start (NpuTask *t, NpuTime now)
{
  NpuGraph *graph = t->graph;
  if (graph->error != NULL)
    return;
  g_assert (t->state == TASK_READY);
  t->state = TASK_RUNNING;
  t->start = now;
  if (graph->check)
    {
      hazard_check (graph, t);
      if (graph->error != NULL)
        return;
    }
  if (t->x != NULL && t->x->on_start != NULL)
    t->x->on_start (t->x->hook_data, t);
  NpuTime d = t->dur_fn != NULL ? t->dur_fn (t->dur_data, now) : t->fixed;
  if (d > 0)
    {
      g_assert (now + d > now);
      npu_engine_schedule (graph->engine, now + d, NPU_PRIO_END, fixed_done_event, t);
    }
  else
    fixed_done (t, now, TRUE);
}

static void
grant_event (gpointer data, NpuTime now)
{
  task_start (data, now);
}

static gint
cmp_task_id (gconstpointer a, gconstpointer b)
{
  const NpuTask *x = *(NpuTask *const *) a, *y = *(NpuTask *const *) b;
  return x->id < y->id ? -1 : x->id > y->id;
}

static void
dispatch_event (gpointer data, NpuTime now)
{
  NpuGraph *graph = data;
  graph->dispatch_pending = FALSE;
  /* Swap the queues so that tasks readied from inside a start go to the next round. */
  GPtrArray *batch = graph->ready;
  graph->ready = graph->dispatching;
  graph->dispatching = batch;
  g_ptr_array_sort (batch, cmp_task_id);
  for (guint i = 0; i < batch->len && graph->error == NULL; i++)
    {
      NpuTask *t = g_ptr_array_index (batch, i);
      if (t->server != NULL)
        npu_server_acquire (t->server, grant_event, t);
      else
        task_start (t, now);
    }
  g_ptr_array_set_size (batch, 0);
}

/* For the deadlock message: the lowest-id unfinished task, and if it never became
 * ready, the lowest-id unfinished task it waits for. */
static GError *
deadlock_error (NpuGraph *graph)
{
  NpuTask *stuck = NULL;
  for (guint i = 0; i < graph->n_tasks && stuck == NULL; i++)
    if (task_at (graph, i)->state != TASK_DONE)
      stuck = task_at (graph, i);
  g_assert (stuck != NULL);
  guint n_left = graph->n_tasks - graph->n_ended;
  if (stuck->state == TASK_NEW)
    {
      for (guint i = 0; i < graph->n_tasks; i++)
        {
          NpuTask *p = task_at (graph, i);
          if (p->state == TASK_DONE)
            continue;
          for (guint k = 0; k < p->n_succ; k++)
            if (p->succ[k] == stuck->id)
              return g_error_new (NPU_GRAPH_ERROR, NPU_GRAPH_ERROR_DEADLOCK,
                                  "deadlock: task '%s' can never start: it waits for '%s', "
                                  "which never finished (%u of %u tasks unfinished)",
                                  stuck->name, p->name, n_left, graph->n_tasks);
        }
    }
  return g_error_new (NPU_GRAPH_ERROR, NPU_GRAPH_ERROR_DEADLOCK,
                      "deadlock: task '%s' never finished (%u of %u tasks unfinished)",
                      stuck->name, n_left, graph->n_tasks);
}

gboolean
npu_graph_run (NpuGraph *graph, GError **error)
{
  g_return_val_if_fail (graph != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  g_return_val_if_fail (!graph->running, FALSE);
  graph->running = TRUE;
  /* Tasks created while running (by hooks or effects) and having no unfinished
   * dependency are picked up when the engine drains, and the run goes on. */
  while (graph->error == NULL)
    {
      guint released = 0;
      for (; graph->scan_cursor < graph->n_tasks; graph->scan_cursor++)
        {
          NpuTask *t = task_at (graph, graph->scan_cursor);
          if (t->state == TASK_NEW && t->n_unmet == 0)
            {
              make_ready (graph, t);
              released++;
            }
        }
      if (released == 0 && npu_engine_pending (graph->engine) == 0)
        break;
      while (graph->error == NULL && npu_engine_step (graph->engine))
        ;
      if (graph->scan_cursor == graph->n_tasks)
        break;
    }
  graph->running = FALSE;
  if (graph->error != NULL)
    {
      g_propagate_error (error, g_error_copy (graph->error));
      return FALSE;
    }
  if (graph->n_ended < graph->n_tasks)
    {
      graph->error = deadlock_error (graph);
      g_propagate_error (error, g_error_copy (graph->error));
      return FALSE;
    }
  return TRUE;
}

/* ---- streams ---- */

NpuStream *
npu_graph_stream_new (NpuGraph *graph, const char *name, guint32 pid, guint32 tid)
{
  g_return_val_if_fail (graph != NULL && name != NULL, NULL);
  NpuStream *s = g_new0 (NpuStream, 1);
  s->graph = graph;
  s->name = g_string_chunk_insert_const (graph->strings, name);
  s->pid = pid;
  s->tid = tid;
  g_ptr_array_add (graph->streams, s);
  return s;
}

void
npu_stream_append (NpuStream *stream, NpuTask *task)
{
  g_return_if_fail (stream != NULL && task != NULL && task->graph == stream->graph);
  g_return_if_fail (task->state == TASK_NEW && task->stream == NULL);
  if (stream->last != NULL)
    npu_task_depends_on (task, stream->last);
  task->stream = stream;
  stream->last = task;
}

NpuTask *
npu_stream_last (const NpuStream *stream)
{
  return stream->last;
}

NpuTask *
npu_stream_record (NpuStream *stream, const char *name, NpuTime cost_ps)
{
  g_return_val_if_fail (stream != NULL && name != NULL, NULL);
  NpuTask *t = npu_graph_task_new (stream->graph, name);
  npu_task_set_duration (t, cost_ps);
  npu_stream_append (stream, t);
  return t;
}

NpuTask *
npu_stream_wait (NpuStream *stream, NpuTask *record, const char *name, NpuTime cost_ps)
{
  g_return_val_if_fail (stream != NULL && record != NULL && name != NULL, NULL);
  NpuTask *t = npu_graph_task_new (stream->graph, name);
  npu_task_set_duration (t, cost_ps);
  npu_stream_append (stream, t);
  npu_task_depends_on (t, record);
  return t;
}
