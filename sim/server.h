/* npusim — serial server: one holder at a time, FIFO waiting line.
 *
 * Models anything that does one thing at a time: an AIC or AIV core, an AICPU, the
 * host's task-issue thread, an SDMA queue. A holder acquires the server, keeps it for
 * as long as its work takes (possibly waiting on a fabric flow), then releases it.
 * Grants are strictly in request order. */
#pragma once
#include "sim/engine.h"

G_BEGIN_DECLS

typedef struct _NpuServer NpuServer;

/** NpuServerGrantFunc: called (as an event at NPU_PRIO_START) when the server is granted. */
typedef void (*NpuServerGrantFunc) (gpointer data, NpuTime now);

/**
 * npu_server_new: (transfer full)
 * @name: (transfer none) copied; used in error messages and traces.
 */
NpuServer *npu_server_new (NpuEngine *engine, const char *name);
void npu_server_free (NpuServer *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NpuServer, npu_server_free)

/** npu_server_acquire: queue a request; @grant fires once the server is ours. */
void npu_server_acquire (NpuServer *server, NpuServerGrantFunc grant, gpointer data);

/** npu_server_release: the holder gives the server up at the current time. */
void npu_server_release (NpuServer *server);

const char *npu_server_name (const NpuServer *server);

/** npu_server_busy_ps: total time the server has been held, ps. */
NpuTime npu_server_busy_ps (const NpuServer *server);

/** npu_server_is_busy: TRUE while held. */
gboolean npu_server_is_busy (const NpuServer *server);

G_END_DECLS
