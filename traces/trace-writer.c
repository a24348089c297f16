/* npusim — Chrome/Perfetto JSON trace writer. See trace-writer.h for the format.
 *
 * The JSON is written with stdio through a large buffer, one event per line. The
 * only state kept in memory is per track (names, lanes with their top-level
 * intervals) and the flows whose endpoints are not covered by a slice yet. */
#include "traces/trace-writer.h"
#include "traces/trace-lanes.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <glib/gstdio.h>

/* Big enough that a trace costs few write(2) calls; small next to the machine. */
#define WRITE_BUFFER_BYTES (1u << 20)

typedef struct {
  guint32 pid;
  gboolean declared;      /* FALSE: only the placeholder name was written */
} Process;

typedef struct {
  guint64 key;            /* pid << 32 | tid, the hash key */
  guint32 pid, tid;
  char *name;             /* declared name, or NULL */
  gint sort_index;
  gboolean declared;
  gboolean placeholder;   /* the placeholder thread_name was written */
  GPtrArray *lanes;       /* NpuTraceLane*, lane 0 is written as tid itself */
} Track;

typedef struct {
  guint64 id;
  const char *name;       /* in writer->strings */
  guint32 from_pid, from_tid, to_pid, to_tid;
  guint64 from_ns, to_ns;
} PendingFlow;

struct _NpuTraceWriter {
  NpuSink parent;
  FILE *fp;
  char *path;
  char *buffer;
  gboolean any_event;
  GHashTable *processes;  /* GUINT_TO_POINTER (pid) -> Process*; lookups only */
  GHashTable *tracks;     /* &Track.key -> Track*; lookups only */
  guint32 next_overflow_tid;
  GArray *pending_flows;  /* PendingFlow, in call order */
  GStringChunk *strings;  /* flow names, deduplicated */
};

/* ---- numbers -------------------------------------------------------------- */

/* ps -> ns, rounding half up, without overflow at the top of the range. */
static guint64
ps_to_ns (NpuTime ps)
{
  return ps / 1000 + (ps % 1000 >= 500 ? 1 : 0);
}

static void
format_ns_as_us (guint64 ns, char *buf)
{
  g_snprintf (buf, 32, "%" G_GUINT64_FORMAT ".%03u", ns / 1000, (guint) (ns % 1000));
}

void
npu_trace_format_us (NpuTime ps, char *buf)
{
  g_return_if_fail (buf != NULL);
  format_ns_as_us (ps_to_ns (ps), buf);
}

/* Counter values: integers as integers (exact up to 2^53); anything else with the
 * fewest of 15, 16 or 17 significant digits that reads back as the same double
 * (17 always does), so 0.8 prints as 0.8. Locale-independent and deterministic. */
static void
format_value (double v, char *buf, gsize size)
{
  if (v == floor (v) && fabs (v) < 9007199254740992.0)
    {
      g_snprintf (buf, size, "%" G_GINT64_FORMAT, (gint64) v);
      return;
    }
  static const char *const formats[] = { "%.15g", "%.16g" };
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    {
      g_ascii_formatd (buf, size, formats[i], v);
      if (g_ascii_strtod (buf, NULL) == v)
        return;
    }
  g_ascii_formatd (buf, size, "%.17g", v);
}

/* ---- JSON text ------------------------------------------------------------ */

static void
put_json_string (FILE *fp, const char *s)
{
  g_autofree char *valid = NULL;
  if (!g_utf8_validate (s, -1, NULL))
    s = valid = g_utf8_make_valid (s, -1);

  fputc ('"', fp);
  const char *run = s;
  for (const char *p = s; *p != '\0'; p++)
    {
      unsigned char c = (unsigned char) *p;
      const char *esc = NULL;
      char ubuf[8];
      switch (c)
        {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        default:
          /* Control characters must be escaped in JSON; DEL too, because Perfetto's
           * tokenizer rejects every iscntrl() byte inside strings. */
          if (c < 0x20 || c == 0x7f)
            {
              g_snprintf (ubuf, sizeof ubuf, "\\u%04x", c);
              esc = ubuf;
            }
          break;
        }
      if (esc != NULL)
        {
          fwrite (run, 1, (gsize) (p - run), fp);
          fputs (esc, fp);
          run = p + 1;
        }
    }
  fputs (run, fp);
  fputc ('"', fp);
}

/* Start a new event line. */
static FILE *
begin_event (NpuTraceWriter *w)
{
  if (w->any_event)
    fputs (",\n", w->fp);
  w->any_event = TRUE;
  return w->fp;
}

static void
put_meta_name (NpuTraceWriter *w, const char *what, guint32 pid, gboolean has_tid,
               guint32 tid, const char *name)
{
  FILE *fp = begin_event (w);
  fprintf (fp, "{\"name\":\"%s\",\"ph\":\"M\",\"pid\":%u", what, pid);
  if (has_tid)
    fprintf (fp, ",\"tid\":%u", tid);
  fputs (",\"args\":{\"name\":", fp);
  put_json_string (fp, name);
  fputs ("}}", fp);
}

static void
put_meta_sort (NpuTraceWriter *w, const char *what, guint32 pid, gboolean has_tid,
               guint32 tid, gint sort_index)
{
  FILE *fp = begin_event (w);
  fprintf (fp, "{\"name\":\"%s\",\"ph\":\"M\",\"pid\":%u", what, pid);
  if (has_tid)
    fprintf (fp, ",\"tid\":%u", tid);
  fprintf (fp, ",\"args\":{\"sort_index\":%d}}", sort_index);
}

/* ---- processes and tracks ------------------------------------------------- */

static void
track_free (gpointer data)
{
  Track *t = data;
  g_free (t->name);
  g_ptr_array_unref (t->lanes);
  g_free (t);
}

static Track *
track_lookup (NpuTraceWriter *w, guint32 pid, guint32 tid)
{
  guint64 key = ((guint64) pid << 32) | tid;
  return g_hash_table_lookup (w->tracks, &key);
}

static Track *
track_get (NpuTraceWriter *w, guint32 pid, guint32 tid)
{
  Track *t = track_lookup (w, pid, tid);
  if (t != NULL)
    return t;
  t = g_new0 (Track, 1);
  t->key = ((guint64) pid << 32) | tid;
  t->pid = pid;
  t->tid = tid;
  t->lanes = g_ptr_array_new_with_free_func ((GDestroyNotify) npu_trace_lane_free);
  g_ptr_array_add (t->lanes, npu_trace_lane_new (tid));
  g_hash_table_insert (w->tracks, &t->key, t);
  return t;
}

/* Write the thread_name (and sort index) of lane @k of @t. */
static void
put_lane_names (NpuTraceWriter *w, Track *t, guint k)
{
  NpuTraceLane *lane = g_ptr_array_index (t->lanes, k);
  g_autofree char *base = t->declared ? g_strdup (t->name)
                                      : g_strdup_printf ("Thread %u", t->tid);
  g_autofree char *name = k == 0 ? g_strdup (base)
                                 : g_strdup_printf ("%s #%u", base, k + 1);
  put_meta_name (w, "thread_name", t->pid, TRUE, npu_trace_lane_tid (lane), name);
  if (t->declared)
    put_meta_sort (w, "thread_sort_index", t->pid, TRUE, npu_trace_lane_tid (lane),
                   t->sort_index);
}

static void
ensure_process_named (NpuTraceWriter *w, guint32 pid)
{
  if (g_hash_table_contains (w->processes, GUINT_TO_POINTER (pid)))
    return;
  Process *p = g_new0 (Process, 1);
  p->pid = pid;
  p->declared = FALSE;
  g_hash_table_insert (w->processes, GUINT_TO_POINTER (pid), p);
  g_autofree char *name = g_strdup_printf ("Process %u", pid);
  put_meta_name (w, "process_name", pid, FALSE, 0, name);
}

static void
ensure_track_named (NpuTraceWriter *w, Track *t)
{
  if (t->declared || t->placeholder)
    return;
  t->placeholder = TRUE;
  put_lane_names (w, t, 0);
}

/* ---- sink methods ------------------------------------------------------------ */

static void
writer_process (NpuSink *sink, guint32 pid, const char *name, gint sort_index)
{
  NpuTraceWriter *w = (NpuTraceWriter *) sink;
  g_return_if_fail (name != NULL);

  Process *p = g_hash_table_lookup (w->processes, GUINT_TO_POINTER (pid));
  if (p != NULL && p->declared)
    return;  /* the first declaration wins */
  if (p == NULL)
    {
      p = g_new0 (Process, 1);
      p->pid = pid;
      g_hash_table_insert (w->processes, GUINT_TO_POINTER (pid), p);
    }
  p->declared = TRUE;
  put_meta_name (w, "process_name", pid, FALSE, 0, name);
  put_meta_sort (w, "process_sort_index", pid, FALSE, 0, sort_index);
}

static void
writer_thread (NpuSink *sink, guint32 pid, guint32 tid, const char *name, gint sort_index)
{
  NpuTraceWriter *w = (NpuTraceWriter *) sink;
  g_return_if_fail (name != NULL);
  g_return_if_fail (tid < NPU_TRACE_OVERFLOW_TID_BASE);

  Track *t = track_get (w, pid, tid);
  if (t->declared)
    return;  /* the first declaration wins */
  t->declared = TRUE;
  t->name = g_strdup (name);
  t->sort_index = sort_index;
  /* Also renames overflow lanes created while the track had its placeholder name. */
  for (guint k = 0; k < t->lanes->len; k++)
    put_lane_names (w, t, k);
}

static void
writer_slice (NpuSink *sink, guint32 pid, guint32 tid, const char *name,
              const char *category, NpuTime start, NpuTime dur, const char *args_json)
{
  NpuTraceWriter *w = (NpuTraceWriter *) sink;
  g_return_if_fail (name != NULL);
  g_return_if_fail (tid < NPU_TRACE_OVERFLOW_TID_BASE);
  if (args_json != NULL)
    {
      const char *a = args_json;
      while (g_ascii_isspace (*a))
        a++;
      g_return_if_fail (*a == '{');
    }

  NpuTime end = dur > G_MAXUINT64 - start ? G_MAXUINT64 : start + dur;
  guint64 s = ps_to_ns (start), e = ps_to_ns (end);

  ensure_process_named (w, pid);
  Track *t = track_get (w, pid, tid);
  ensure_track_named (w, t);

  NpuTraceLane *lane = NULL;
  for (guint k = 0; k < t->lanes->len && lane == NULL; k++)
    if (npu_trace_lane_place (g_ptr_array_index (t->lanes, k), s, e))
      lane = g_ptr_array_index (t->lanes, k);
  if (lane == NULL)
    {
      g_assert (w->next_overflow_tid != 0);  /* 2^30 lanes would wrap */
      lane = npu_trace_lane_new (w->next_overflow_tid++);
      g_ptr_array_add (t->lanes, lane);
      gboolean ok = npu_trace_lane_place (lane, s, e);
      g_assert (ok);
      put_lane_names (w, t, t->lanes->len - 1);
    }

  char ts[32], du[32];
  format_ns_as_us (s, ts);
  format_ns_as_us (e - s, du);
  FILE *fp = begin_event (w);
  fputs ("{\"name\":", fp);
  put_json_string (fp, name);
  if (category != NULL)
    {
      fputs (",\"cat\":", fp);
      put_json_string (fp, category);
    }
  fprintf (fp, ",\"ph\":\"X\",\"ts\":%s,\"dur\":%s,\"pid\":%u,\"tid\":%u",
           ts, du, pid, npu_trace_lane_tid (lane));
  if (args_json != NULL)
    {
      fputs (",\"args\":", fp);
      fputs (args_json, fp);
    }
  fputc ('}', fp);
}

/* The tid of the lane of (pid, tid) that contains @t_ns; 0 and FALSE when none does.
 * With @allow_end, a slice ending at @t_ns is accepted when none contains it. */
static gboolean
resolve_endpoint (NpuTraceWriter *w, guint32 pid, guint32 tid, guint64 t_ns,
                  gboolean allow_end, guint32 *lane_tid)
{
  Track *t = track_lookup (w, pid, tid);
  if (t == NULL)
    return FALSE;
  for (guint k = 0; k < t->lanes->len; k++)
    {
      NpuTraceLane *lane = g_ptr_array_index (t->lanes, k);
      if (npu_trace_lane_covers (lane, t_ns) == NPU_TRACE_COVER_INSIDE)
        {
          *lane_tid = npu_trace_lane_tid (lane);
          return TRUE;
        }
    }
  if (!allow_end)
    return FALSE;
  for (guint k = 0; k < t->lanes->len; k++)
    {
      NpuTraceLane *lane = g_ptr_array_index (t->lanes, k);
      if (npu_trace_lane_covers (lane, t_ns) == NPU_TRACE_COVER_END)
        {
          *lane_tid = npu_trace_lane_tid (lane);
          return TRUE;
        }
    }
  return FALSE;
}

static void
put_flow_event (NpuTraceWriter *w, gboolean start, guint64 id, const char *name,
                guint32 pid, guint32 tid, guint64 t_ns)
{
  char ts[32];
  format_ns_as_us (t_ns, ts);
  FILE *fp = begin_event (w);
  fputs ("{\"name\":", fp);
  put_json_string (fp, name);
  fprintf (fp, ",\"cat\":\"flow\",\"ph\":\"%s\",\"id\":%" G_GUINT64_FORMAT
           ",\"ts\":%s,\"pid\":%u,\"tid\":%u}",
           start ? "s" : "f\",\"bp\":\"e", id, ts, pid, tid);
}

static void
put_flow (NpuTraceWriter *w, const PendingFlow *f, guint32 from_lane, guint32 to_lane)
{
  put_flow_event (w, TRUE, f->id, f->name, f->from_pid, from_lane, f->from_ns);
  put_flow_event (w, FALSE, f->id, f->name, f->to_pid, to_lane, f->to_ns);
}

static void
writer_flow (NpuSink *sink, guint64 id, const char *name,
             guint32 from_pid, guint32 from_tid, NpuTime from_ts,
             guint32 to_pid, guint32 to_tid, NpuTime to_ts)
{
  NpuTraceWriter *w = (NpuTraceWriter *) sink;
  g_return_if_fail (name != NULL);
  /* A flow ending before it starts is dropped by Perfetto ("end without start"). */
  g_return_if_fail (from_ts <= to_ts);

  PendingFlow f = {
    .id = id,
    .name = g_string_chunk_insert_const (w->strings, name),
    .from_pid = from_pid, .from_tid = from_tid, .from_ns = ps_to_ns (from_ts),
    .to_pid = to_pid, .to_tid = to_tid, .to_ns = ps_to_ns (to_ts),
  };
  guint32 from_lane, to_lane;
  /* Coverage only grows, so a lane that contains an endpoint now still will at the
   * end: write the flow at once and keep nothing. */
  if (resolve_endpoint (w, from_pid, from_tid, f.from_ns, FALSE, &from_lane)
      && resolve_endpoint (w, to_pid, to_tid, f.to_ns, FALSE, &to_lane))
    put_flow (w, &f, from_lane, to_lane);
  else
    g_array_append_val (w->pending_flows, f);
}

static void
writer_counter (NpuSink *sink, guint32 pid, const char *name, const char *series,
                NpuTime ts, double value)
{
  NpuTraceWriter *w = (NpuTraceWriter *) sink;
  g_return_if_fail (name != NULL && series != NULL);
  g_return_if_fail (isfinite (value));  /* JSON has no NaN or infinity */

  ensure_process_named (w, pid);
  char tbuf[32], vbuf[G_ASCII_DTOSTR_BUF_SIZE];
  npu_trace_format_us (ts, tbuf);
  format_value (value, vbuf, sizeof vbuf);
  FILE *fp = begin_event (w);
  fputs ("{\"name\":", fp);
  put_json_string (fp, name);
  fprintf (fp, ",\"ph\":\"C\",\"pid\":%u,\"ts\":%s,\"args\":{", pid, tbuf);
  put_json_string (fp, series);
  fprintf (fp, ":%s}}", vbuf);
}

static const NpuSinkClass writer_class = {
  .process = writer_process,
  .thread = writer_thread,
  .slice = writer_slice,
  .flow = writer_flow,
  .counter = writer_counter,
};

/* ---- life cycle ------------------------------------------------------------- */

NpuTraceWriter *
npu_trace_writer_open (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  FILE *fp = g_fopen (path, "wb");
  if (fp == NULL)
    {
      int errsv = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errsv),
                   "Cannot create trace file %s: %s", path, g_strerror (errsv));
      return NULL;
    }
  NpuTraceWriter *w = g_new0 (NpuTraceWriter, 1);
  w->parent.klass = &writer_class;
  w->fp = fp;
  w->path = g_strdup (path);
  w->buffer = g_malloc (WRITE_BUFFER_BYTES);
  setvbuf (fp, w->buffer, _IOFBF, WRITE_BUFFER_BYTES);
  w->processes = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
  w->tracks = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, track_free);
  w->next_overflow_tid = NPU_TRACE_OVERFLOW_TID_BASE;
  w->pending_flows = g_array_new (FALSE, FALSE, sizeof (PendingFlow));
  w->strings = g_string_chunk_new (4096);
  fputs ("{\"traceEvents\":[\n", fp);
  return w;
}

NpuSink *
npu_trace_writer_sink (NpuTraceWriter *writer)
{
  g_return_val_if_fail (writer != NULL, NULL);
  return &writer->parent;
}

static void
writer_free (NpuTraceWriter *w)
{
  g_hash_table_unref (w->processes);
  g_hash_table_unref (w->tracks);
  g_array_unref (w->pending_flows);
  g_string_chunk_free (w->strings);
  g_free (w->buffer);  /* only after fclose: it is the stream's buffer */
  g_free (w->path);
  g_free (w);
}

gboolean
npu_trace_writer_close (NpuTraceWriter *w, GError **error)
{
  g_return_val_if_fail (w != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* Flows whose endpoints were not covered when reported, in call order. */
  for (guint i = 0; i < w->pending_flows->len; i++)
    {
      const PendingFlow *f = &g_array_index (w->pending_flows, PendingFlow, i);
      guint32 from_lane = f->from_tid, to_lane = f->to_tid;
      resolve_endpoint (w, f->from_pid, f->from_tid, f->from_ns, TRUE, &from_lane);
      resolve_endpoint (w, f->to_pid, f->to_tid, f->to_ns, TRUE, &to_lane);
      put_flow (w, f, from_lane, to_lane);
    }
  fputs (w->any_event ? "\n],\n\"displayTimeUnit\":\"ns\"}\n"
                      : "],\n\"displayTimeUnit\":\"ns\"}\n", w->fp);

  int errsv = 0;
  errno = 0;
  if (fflush (w->fp) != 0 || ferror (w->fp))
    errsv = errno != 0 ? errno : EIO;
  if (fclose (w->fp) != 0 && errsv == 0)
    errsv = errno != 0 ? errno : EIO;
  gboolean ok = errsv == 0;
  if (!ok)
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errsv),
                 "Cannot write trace file %s: %s", w->path, g_strerror (errsv));
  writer_free (w);
  return ok;
}

void
npu_trace_writer_abort (NpuTraceWriter *w)
{
  if (w == NULL)
    return;
  fclose (w->fp);
  g_unlink (w->path);
  writer_free (w);
}
