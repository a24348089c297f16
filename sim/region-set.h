/* npusim — private to sim/: sets of byte regions for the hazard checker.
 *
 * Each buffer's set holds the regions declared by unfinished tasks, each with a
 * 64-bit key (task id << 32 | access index) and a write flag. The one query the
 * checker needs is "the smallest key below K among the regions overlapping [a,b)
 * (only writers, or any)". A treap ordered by (offset, key) and augmented with the
 * subtree's largest end and smallest keys answers it in about O(log n) when few
 * regions qualify, however many unfinished tasks are queued on the same bytes.
 * Node priorities are a hash of the key: the shape is deterministic.
 * Nodes of all sets live in one pool and are named by index (0 = none). */
#pragma once
#include <glib.h>

G_BEGIN_DECLS

typedef struct _NpuRegionPool NpuRegionPool;

NpuRegionPool *npu_region_pool_new (void);
void npu_region_pool_free (NpuRegionPool *pool);

/** npu_region_insert: add [offset, offset+length) (length > 0) with a unique @key to
 *  the set rooted at *@root. Returns: the node, for npu_region_remove. */
guint npu_region_insert (NpuRegionPool *pool, guint *root, guint64 offset, guint64 length,
                         guint64 key, gboolean write);

/** npu_region_remove: take @node out of the set rooted at *@root and free it. */
void npu_region_remove (NpuRegionPool *pool, guint *root, guint node);

/** npu_region_min_conflict: the smallest key < @below of a region of the set that
 *  overlaps [offset, offset+length) and, if @writes_only, is a write; G_MAXUINT64
 *  if none. */
guint64 npu_region_min_conflict (const NpuRegionPool *pool, guint root, guint64 offset,
                                 guint64 length, gboolean writes_only, guint64 below);

G_END_DECLS
