/* npusim — the operator interface between the scenario runner (cli/) and the
 * operators (ops/): HCCL collectives now, MC2 operators later.
 *
 * Life of an op invocation in a run:
 *   1. create:  parse and validate the op's scenario JSON object (the runner has
 *               already taken the common keys "op", "name", "group", "stream",
 *               "after"); unknown keys, wrong types and impossible values are errors
 *               that name the key path; aclnn parameter rejections carry their code
 *               (NPU_OP_ERROR_PARAM_NULL 161001, _PARAM_INVALID 161002,
 *               _TILING 561002).
 *   2. data_bytes: host memory the op's tensors need in data mode (checked against
 *               the machine before anything is allocated).
 *   3. prepare: allocate tensors (no storage in timing-only mode) and fill inputs from
 *               their init specs (seeded distributions or .npy files).
 *   4. plan:    create the tasks on the graph: per rank, npu_op_begin() ... tasks ...
 *               npu_op_finish(). Tasks made with npu_op_task_new() are classified
 *               (compute / communication / memory) so the runner can compute busy
 *               time, exposed communication and the bound verdict.
 *   5. after the run, the runner writes every registered tensor and the attributes.
 */
#pragma once
#include <jansson.h>
#include "sim/graph.h"
#include "models/cluster.h"
#include "ops/tensor.h"

G_BEGIN_DECLS

#define NPU_OP_ERROR (npu_op_error_quark ())
GQuark npu_op_error_quark (void);
/** NpuOpError: the aclnn return codes of ../shared/REFERENCE.md §0, plus scenario errors. */
typedef enum {
  NPU_OP_ERROR_SCENARIO = 1,        /* malformed op spec (key path in the message) */
  NPU_OP_ERROR_PARAM_NULL = 161001, /* ACLNN_ERR_PARAM_NULLPTR */
  NPU_OP_ERROR_PARAM_INVALID = 161002, /* ACLNN_ERR_PARAM_INVALID */
  NPU_OP_ERROR_TILING = 561002,     /* ACLNN_ERR_INNER_TILING_ERROR */
} NpuOpError;

/** NpuTaskClass: what a task counts as in the report and the Overlap Analysis. */
typedef enum {
  NPU_TASK_COMPUTE,  /* cube / vector work */
  NPU_TASK_COMM,     /* data movement between ranks, notifies, waits on peers */
  NPU_TASK_MEMORY,   /* die-local copies */
  NPU_TASK_CONTROL,  /* launches, task issue, bookkeeping */
} NpuTaskClass;

/** NpuTraceLevel: how much the trace shows. */
typedef enum {
  NPU_TRACE_OP,   /* op slices on the streams and the Overlap Analysis */
  NPU_TRACE_TASK, /* + every task on its core / engine / link-plane track */
  NPU_TRACE_ALL,  /* + flows from sends to their uses and link-utilisation counters */
} NpuTraceLevel;

/** NpuOpEnv: what ops see of the run (transfer none, valid for the whole run). */
typedef struct _NpuOp NpuOp;

typedef struct {
  NpuCluster *cluster;
  NpuGraph *graph;
  const NpuHw *hw;
  gboolean data_mode;
  guint64 seed;             /* scenario seed */
  NpuTraceLevel trace_level;
  const char *scenario_dir; /* for relative .npy paths */
  /* The runner's stream lookup: stream @index of @rank (created on demand). */
  NpuStream *(*stream) (gpointer runner, guint rank, guint index);
  /* The runner's op lookup: (nullable) the earlier op named @name. */
  NpuOp *(*find_op) (gpointer runner, const char *name);
  gpointer runner;
  /* The group of the op being created: valid during create() only (the runner copies
   * it into op->ranks / op->n_ranks right after). */
  const guint *group_ranks;
  guint group_size;
} NpuOpEnv;

typedef struct _NpuOpClass NpuOpClass;

struct _NpuOpClass {
  const char *name;     /* scenario "op" value, e.g. "AllReduce" */
  const char *summary;  /* one line for `npusim ops` and --help */
  NpuOp *(*create) (const json_t *spec, const char *path, const NpuOpEnv *env,
                    GError **error);
  guint64 (*data_bytes) (NpuOp *op);
  gboolean (*prepare) (NpuOp *op, const NpuOpEnv *env, GError **error);
  gboolean (*plan) (NpuOp *op, const NpuOpEnv *env, GError **error);
  void (*finalize) (NpuOp *op);  /* free the subclass's own fields */
  /* TRUE if the op's communication group may hold no other kind of op (the runner
   * rejects a scenario that mixes them), as spec 003 requires of DistributeBarrierV2. */
  gboolean exclusive_group;
};

/** NpuOpTensor: one registered tensor of one rank. */
typedef struct {
  guint rank;          /* global rank */
  char *name;          /* aclnn parameter name: "x", "y", "x1", "gatherOut", ... */
  NpuTensor *tensor;   /* owned (a reference) */
  gboolean is_input;
} NpuOpTensor;

/** NpuInterval: [start, end) in ps. */
typedef struct { NpuTime start, end; } NpuInterval;

/** NpuCoreKind: the AI Core kinds whose busy core-time the report counts per op. */
typedef enum { NPU_CORE_AIC, NPU_CORE_AIV, NPU_N_CORE_KINDS } NpuCoreKind;

/** NpuCoreInterval: [start, end) in ps of one task on core @core (index on the die). */
typedef struct { NpuTime start, end; guint core; } NpuCoreInterval;

/** NpuOpRank: per-rank timing of an op, filled during the run. */
typedef struct {
  NpuTask *begin, *finish;   /* set by npu_op_begin / npu_op_finish */
  GArray *intervals[4];      /* NpuInterval per NpuTaskClass, unsorted, filled at task end */
  /* NpuCoreInterval per NpuCoreKind: every npu_op_task_new task of any class on an
   * NPU_TRACK_AIC / NPU_TRACK_AIV track (index = core), in end order; NULL if none.
   * Tasks of one core never overlap, so the sum of their lengths is core-time. */
  GArray *core_intervals[NPU_N_CORE_KINDS];
} NpuOpRank;

/** NpuOp: embed as the first member of each operator's struct. */
struct _NpuOp {
  const NpuOpClass *klass;
  char *name;                /* instance name from the scenario (unique) */
  guint index;               /* position in the scenario's op list */
  guint n_ranks;             /* group size */
  guint *ranks;              /* group members, global rank ids, group order */
  guint stream;              /* stream index on every member */
  GPtrArray *after;          /* (element-type NpuOp) ops that must finish first */
  GPtrArray *tensors;        /* (element-type NpuOpTensor) */
  json_t *attrs;             /* scalar attributes for manifest and report */
  NpuOpRank *per_rank;       /* [n_ranks] */
  GPtrArray *owned;          /* private: hook data freed with the op */
};

/* ---- Registry ---- */

/** npu_op_class_lookup: (nullable) the class named @name. */
const NpuOpClass *npu_op_class_lookup (const char *name);
/** npu_op_class_all: NULL-terminated list in a fixed order. */
const NpuOpClass *const *npu_op_class_all (void);

/* ---- Helpers for operator implementations ---- */

/** npu_op_init: fill the base fields; called by a class's create(). */
void npu_op_init (NpuOp *op, const NpuOpClass *klass);
/** npu_op_free: finalize + free base fields. */
void npu_op_free (NpuOp *op);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NpuOp, npu_op_free)

/** npu_op_add_tensor: register (transfer none: takes its own ref) a tensor. */
void npu_op_add_tensor (NpuOp *op, guint rank, const char *name, NpuTensor *tensor,
                        gboolean is_input);
/** npu_op_find_tensor: (nullable) (transfer none) registered tensor by rank and name. */
NpuTensor *npu_op_find_tensor (NpuOp *op, guint rank, const char *name);

/**
 * npu_op_rng_seed: the seed of a GSL generator of op @op for stream @tag, so that drawn
 * values are reproducible from the scenario alone: with splitmix64 mix(),
 * s = mix(@seed ^ mix((op->index << 40) ^ @tag)), returned as (s mod 2^32) ^ (s >> 32)
 * for gsl_rng_set. @seed: the scenario seed (env->seed).
 */
gulong npu_op_rng_seed (guint64 seed, const NpuOp *op, guint64 tag);

/**
 * npu_op_fill_input: fill @t from an init spec (NULL = the default uniform [-1, 1)):
 *   {"dist": "uniform", "low": -1, "high": 1}   (floats; ints rounded, saturated)
 *   {"dist": "normal", "mean": 0, "std": 1}
 *   {"dist": "randint", "low": -5, "high": 5}    (inclusive)
 *   {"dist": "arange"}  (0, 1, 2, ... converted to the dtype)
 *   {"dist": "const", "value": 1.5}
 *   {"npy": "path.npy"} (relative to the scenario's folder; dtype/shape must match)
 * Values are drawn as doubles from a GSL mt19937 seeded from (seed, op index, rank,
 * @stream_id), then rounded to the dtype by the dtype rules. @path names the spec's
 * key path in errors.
 */
gboolean npu_op_fill_input (NpuTensor *t, const json_t *spec, const char *path,
                            const NpuOpEnv *env, const NpuOp *op, guint rank,
                            guint stream_id, GError **error);

/**
 * npu_op_check_input_spec: check input spec @spec (nullable) in create(), before any
 * tensor exists: an init spec as npu_op_fill_input checks it (keys, types, values; an
 * .npy file is not opened yet); a {"from": ...} reference is left to prepare()
 * (npu_op_input_tensor). Errors name @path.
 */
gboolean npu_op_check_input_spec (const json_t *spec, const char *path, const NpuOpEnv *env,
                                  const NpuOp *op, GError **error);

/** npu_op_spec_is_from: whether an input spec is a chaining reference {"from": ...}
 *  (checked in full by npu_op_from_tensor / npu_op_input_tensor). */
gboolean npu_op_spec_is_from (const json_t *spec);

/**
 * npu_op_from_tensor: (transfer none) the earlier op's tensor that the input spec
 * {"from": "<op>.<tensor>"} names, on the global rank of group rank @g; @producer
 * (optional out, transfer none) is that op. Nothing is checked against the consumer's
 * dtype or shape and op->after is not changed (npu_op_input_tensor does both); for
 * ops whose input takes the producer's dtype and shape. Errors
 * (NPU_OP_ERROR_SCENARIO, naming "@path.from"): not exactly {"from": "<op>.<tensor>"},
 * no earlier op of that name, no such tensor on that rank.
 */
NpuTensor *npu_op_from_tensor (NpuOp *op, const NpuOpEnv *env, guint g, const json_t *spec,
                               const char *path, NpuOp **producer, GError **error);

/**
 * npu_op_input_tensor: (transfer full) the tensor of input @name on group rank @g.
 * If @spec is {"from": "<op>.<tensor>"} (npu_op_from_tensor), the input is that earlier
 * op's tensor of the same global rank, shared, not copied, and the producer is added to
 * op->after so this op starts after it on that rank: op chaining by tensors. Its dtype
 * must be @dt. With the shape @shape it is returned itself (another reference); with
 * another shape of the same element count it is returned as a reshape view
 * (npu_tensor_new_view: e.g. an AllGather's 1-D recvBuf as a 2-D x1), which a
 * FRACTAL_NZ or strided producer tensor cannot give. Anything else is an
 * NPU_OP_ERROR_SCENARIO naming "@path.from" and both shapes.
 * Otherwise a new tensor filled from @spec (npu_op_fill_input; @stream_id tells inputs
 * apart for the RNG). Call from prepare().
 */
NpuTensor *npu_op_input_tensor (NpuOp *op, const NpuOpEnv *env, guint g, const char *name,
                                NpuDtype dt, guint ndim, const gint64 *shape,
                                const json_t *spec, const char *path, guint stream_id,
                                GError **error);

/**
 * npu_op_begin: (transfer none) the op's start on group rank @g: a launch task on the
 * op's stream (after the stream's previous task and the "after" ops), of @launch_ps.
 * Every task of the op on that rank must depend on it (directly or transitively).
 */
NpuTask *npu_op_begin (NpuOp *op, const NpuOpEnv *env, guint g, NpuTime launch_ps);

/**
 * npu_op_finish: (transfer none) the op's end on group rank @g: a zero-time task that
 * depends on @deps (element-type NpuTask) and is appended to the stream. Draws the op
 * slice on the stream track.
 */
NpuTask *npu_op_finish (NpuOp *op, const NpuOpEnv *env, guint g, GPtrArray *deps);

/**
 * npu_op_task_new: (transfer none) a task of the op on group rank @g, classified as
 * @cls for the report; drawn on the cluster track (@kind, @index) when the trace level
 * is task or all. A task on an NPU_TRACK_AIC / NPU_TRACK_AIV track counts as busy
 * time of core @index of that kind (NpuOpRank.core_intervals).
 */
NpuTask *npu_op_task_new (NpuOp *op, const NpuOpEnv *env, guint g, const char *name,
                          NpuTaskClass cls, NpuTrackKind kind, guint index);

/** npu_op_rank_of: the global rank of group rank @g. */
guint npu_op_rank_of (const NpuOp *op, guint g);

/* ---- Reading op specs: every error is NPU_OP_ERROR_SCENARIO naming "<path>.<key>". ---- */

/** npu_spec_check_keys: every key of @obj must be in @allowed (NULL-terminated). */
gboolean npu_spec_check_keys (const json_t *obj, const char *const *allowed, const char *path,
                              GError **error);
/** npu_spec_get_uint: integer in [@min, @max]; absent -> @dflt unless @required. */
gboolean npu_spec_get_uint (const json_t *obj, const char *key, const char *path,
                            gboolean required, guint64 dflt, guint64 min, guint64 max,
                            guint64 *out, GError **error);
/** npu_spec_get_string: (transfer none) string; absent -> @dflt unless @required. */
gboolean npu_spec_get_string (const json_t *obj, const char *key, const char *path,
                              gboolean required, const char *dflt, const char **out,
                              GError **error);
/** npu_spec_get_bool: boolean; absent -> @dflt. */
gboolean npu_spec_get_bool (const json_t *obj, const char *key, const char *path,
                            gboolean dflt, gboolean *out, GError **error);
/**
 * npu_spec_get_object: (transfer none) the optional object @key of @obj in *@out (NULL
 * when absent), whose keys must all be in @allowed (NULL-terminated). Errors name
 * "@path.@key": not an object ("expected an object" and @what, nullable, e.g.
 * "{\"x\": init spec}"), an unknown key.
 */
/* @what of a "tensors" object of npu_spec_get_tensor_desc values. */
#define NPU_SPEC_TENSORS_WHAT "{tensor name: null | {\"dtype\": ..., \"shape\": [...]}}"
gboolean npu_spec_get_object (const json_t *obj, const char *key, const char *path,
                              const char *const *allowed, const char *what, json_t **out,
                              GError **error);
/** npu_spec_get_dtype: a dtype name (ops/dtype.h names); absent -> error if @required. */
gboolean npu_spec_get_dtype (const json_t *obj, const char *key, const char *path,
                             gboolean required, NpuDtype dflt, NpuDtype *out, GError **error);
/**
 * npu_spec_get_tensor_desc: what an aclnn API is handed for one tensor, from @v: null
 * (a null pointer: *@present = FALSE) or {"dtype": <name>, "shape": [dims]}
 * (*@present = TRUE). An absent "dtype" leaves *@dt, an absent "shape" *@ndim and
 * @shape, as they are (callers preset the defaults). At most @max_dims dims (@shape has
 * room for them; more than NPU_MAX_DIMS lets an op report the API's own dim-count
 * error), each in [0, 2^40]. Errors name @path.
 */
gboolean npu_spec_get_tensor_desc (const json_t *v, const char *path, guint max_dims,
                                   gboolean *present, NpuDtype *dt, guint *ndim, gint64 *shape,
                                   GError **error);
/** npu_spec_error: set an NPU_OP_ERROR_SCENARIO error (the message names the key path)
 *  and return FALSE, for `return npu_spec_error (error, "%s: ...", path);`. */
gboolean npu_spec_error (GError **error, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

/** npu_op_error: set an aclnn-style error "<op name>: aclnn error <code>: <message>"
 *  (NPU_OP_ERROR_SCENARIO: the message alone) and return FALSE, for
 *  `return npu_op_error (error, op, NPU_OP_ERROR_PARAM_INVALID, "...");`. */
gboolean npu_op_error (GError **error, const NpuOp *op, NpuOpError code, const char *fmt, ...)
  G_GNUC_PRINTF (4, 5);

G_END_DECLS
