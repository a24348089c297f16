/* npusim — augmented treap of byte regions (see region-set.h). */
#include "sim/region-set.h"

typedef struct {
  guint64 offset;
  guint64 end;
  guint64 key;
  guint64 prio;
  guint64 max_end;      /* over the subtree */
  guint64 min_any;      /* smallest key in the subtree */
  guint64 min_write;    /* smallest key of a write in the subtree */
  guint left, right;    /* node indices, 0 = none */
  gboolean write;
} Node;

struct _NpuRegionPool {
  GArray *nodes;        /* Node; index 0 is the "none" sentinel */
  guint free_head;      /* free list threaded through .left */
};

NpuRegionPool *
npu_region_pool_new (void)
{
  NpuRegionPool *pool = g_new0 (NpuRegionPool, 1);
  pool->nodes = g_array_new (FALSE, TRUE, sizeof (Node));
  g_array_set_size (pool->nodes, 1);
  return pool;
}

void
npu_region_pool_free (NpuRegionPool *pool)
{
  if (pool == NULL)
    return;
  g_array_unref (pool->nodes);
  g_free (pool);
}

#define N(i) (&g_array_index (pool->nodes, Node, (i)))

/* splitmix64: a fixed hash, so that tree shapes never depend on anything else. */
static guint64
mix (guint64 x)
{
  x += G_GUINT64_CONSTANT (0x9E3779B97F4A7C15);
  x = (x ^ (x >> 30)) * G_GUINT64_CONSTANT (0xBF58476D1CE4E5B9);
  x = (x ^ (x >> 27)) * G_GUINT64_CONSTANT (0x94D049BB133111EB);
  return x ^ (x >> 31);
}

static void
update (NpuRegionPool *pool, guint i)
{
  Node *n = N (i);
  n->max_end = n->end;
  n->min_any = n->key;
  n->min_write = n->write ? n->key : G_MAXUINT64;
  guint kids[2] = { n->left, n->right };
  for (int k = 0; k < 2; k++)
    if (kids[k] != 0)
      {
        const Node *c = N (kids[k]);
        n->max_end = MAX (n->max_end, c->max_end);
        n->min_any = MIN (n->min_any, c->min_any);
        n->min_write = MIN (n->min_write, c->min_write);
      }
}

static inline gboolean
before (const Node *a, const Node *b)
{
  return a->offset < b->offset || (a->offset == b->offset && a->key < b->key);
}

static guint
rotate_right (NpuRegionPool *pool, guint i)
{
  guint l = N (i)->left;
  N (i)->left = N (l)->right;
  N (l)->right = i;
  update (pool, i);
  update (pool, l);
  return l;
}

static guint
rotate_left (NpuRegionPool *pool, guint i)
{
  guint r = N (i)->right;
  N (i)->right = N (r)->left;
  N (r)->left = i;
  update (pool, i);
  update (pool, r);
  return r;
}

static guint
insert_at (NpuRegionPool *pool, guint t, guint i)
{
  if (t == 0)
    return i;
  if (before (N (i), N (t)))
    {
      guint l = insert_at (pool, N (t)->left, i);
      N (t)->left = l;
      if (N (l)->prio > N (t)->prio)
        return rotate_right (pool, t);
    }
  else
    {
      guint r = insert_at (pool, N (t)->right, i);
      N (t)->right = r;
      if (N (r)->prio > N (t)->prio)
        return rotate_left (pool, t);
    }
  update (pool, t);
  return t;
}

guint
npu_region_insert (NpuRegionPool *pool, guint *root, guint64 offset, guint64 length,
                   guint64 key, gboolean write)
{
  g_assert (length > 0 && offset + length > offset);
  guint i = pool->free_head;
  if (i != 0)
    pool->free_head = N (i)->left;
  else
    {
      i = pool->nodes->len;
      g_array_set_size (pool->nodes, i + 1);
    }
  Node *n = N (i);
  *n = (Node) { .offset = offset, .end = offset + length, .key = key, .prio = mix (key),
                .write = write };
  update (pool, i);
  *root = insert_at (pool, *root, i);
  return i;
}

/* Merge two treaps where every key of @a is before every key of @b. */
static guint
merge (NpuRegionPool *pool, guint a, guint b)
{
  if (a == 0)
    return b;
  if (b == 0)
    return a;
  if (N (a)->prio > N (b)->prio)
    {
      N (a)->right = merge (pool, N (a)->right, b);
      update (pool, a);
      return a;
    }
  N (b)->left = merge (pool, a, N (b)->left);
  update (pool, b);
  return b;
}

static guint
remove_at (NpuRegionPool *pool, guint t, guint i)
{
  g_assert (t != 0); /* the node must be in this set */
  if (t == i)
    return merge (pool, N (t)->left, N (t)->right);
  if (before (N (i), N (t)))
    N (t)->left = remove_at (pool, N (t)->left, i);
  else
    N (t)->right = remove_at (pool, N (t)->right, i);
  update (pool, t);
  return t;
}

void
npu_region_remove (NpuRegionPool *pool, guint *root, guint node)
{
  g_assert (node != 0 && node < pool->nodes->len);
  *root = remove_at (pool, *root, node);
  Node *n = N (node);
  *n = (Node) { .left = pool->free_head };
  pool->free_head = node;
}

static void
query (const NpuRegionPool *pool, guint t, guint64 a, guint64 b, gboolean writes_only,
       guint64 *best)
{
  while (t != 0)
    {
      const Node *n = N (t);
      if (n->max_end <= a || (writes_only ? n->min_write : n->min_any) >= *best)
        return;
      query (pool, n->left, a, b, writes_only, best);
      if (n->offset >= b)
        return; /* everything to the right starts at or after b */
      if (n->end > a && (!writes_only || n->write) && n->key < *best)
        *best = n->key;
      t = n->right;
    }
}

guint64
npu_region_min_conflict (const NpuRegionPool *pool, guint root, guint64 offset,
                         guint64 length, gboolean writes_only, guint64 below)
{
  guint64 best = below;
  if (length > 0)
    query (pool, root, offset, offset + length, writes_only, &best);
  return best < below ? best : G_MAXUINT64;
}
