/* npusim — sets of time intervals (GArray of NpuInterval), used for busy time,
 * exposed communication and the Overlap Analysis. */
#pragma once
#include "ops/op.h"

G_BEGIN_DECLS

/** npu_intervals_normalize: (transfer full) sorted, merged copy of @in (nullable). */
GArray *npu_intervals_normalize (const GArray *in);
/** npu_intervals_total: summed length of a normalized set, ps. */
NpuTime npu_intervals_total (const GArray *set);
/** npu_intervals_subtract: (transfer full) @a minus @b, both normalized. */
GArray *npu_intervals_subtract (const GArray *a, const GArray *b);
/** npu_intervals_union: (transfer full) normalized union of two normalized sets. */
GArray *npu_intervals_union (const GArray *a, const GArray *b);

G_END_DECLS
