/* npusim — reference-order GEMM (see ops/gemm.h for the numerical contract).
 *
 * Structure (GotoBLAS-style blocking; none of it changes the order of a sum):
 *  - C is split into disjoint rectangles, one per thread (threads never share an
 *    output element and never split k);
 *  - each thread walks its rectangle in NC-column panels and KC-deep k-blocks in
 *    increasing k; it widens the B block (KC x NC) and A block (MC x KC) once into
 *    packed fp32 (or int16-pair) panels, and a register-blocked micro-kernel
 *    (ops/gemm-kernels.c) updates MR x NR tiles of C;
 *  - the first k-block starts every accumulator at +0.0f, later k-blocks continue
 *    from the fp32 value stored in C (storing and reloading an fp32 is exact), so
 *    each element is the plain sequential sum over k = 0..K-1.
 * FMA contraction is off (-ffp-contract=off in the build and plain mul + add in the
 * kernels): each product is rounded to fp32, then added. For fp16/bf16/fp8 inputs
 * the product is exact anyway (at most 11 + 11 significant bits). */
#include "ops/gemm.h"
#include "ops/gemm-kernels.h"

#include <stdlib.h>
#include <string.h>

/* Blocking. KC x NR fp32 (a B micro-panel) should stay in L1, MC x KC in L2. KC
 * is even (int8 packs k in pairs). The public entry points give each thread at
 * least NPU_GEMM_MIN_PAR_MACS multiply-adds (fewer threads otherwise): below that
 * a thread hand-off costs more than it saves. */
#define GEMM_KC 256
#define GEMM_MC_TARGET 144
#define GEMM_NC_TARGET 1024
#define NPU_GEMM_MIN_PAR_MACS (1 << 20)

/* ---- widening into fp32 ------------------------------------------------------- */

static float f16_table[65536];
static float e4m3_table[256];
static float e5m2_table[256];

static void
tables_init (void)
{
  static gsize done = 0;
  if (g_once_init_enter (&done))
    {
      for (guint i = 0; i < 65536; i++)
        f16_table[i] = npu_f16_to_f32 ((guint16) i);
      for (guint i = 0; i < 256; i++)
        {
          e4m3_table[i] = npu_e4m3_to_f32 ((guint8) i);
          e5m2_table[i] = npu_e5m2_to_f32 ((guint8) i);
        }
      g_once_init_leave (&done, 1);
    }
}

typedef guint32 u32_alias __attribute__ ((may_alias));
typedef guint16 v8u16 __attribute__ ((vector_size (16)));
typedef guint32 v8u32 __attribute__ ((vector_size (32)));
typedef gint8 v8i8 __attribute__ ((vector_size (8)));
typedef gint32 v8i32 __attribute__ ((vector_size (32)));

/* widen_f32: out[i] = element at p + i*stride (elements) of @dt, as float. The
 * stride-1 loops are separate so the compiler vectorises them. */
static void
widen_f32 (NpuDtype dt, const guint8 *p, gint64 stride, gint64 n, float *restrict out)
{
  switch (dt)
    {
    case NPU_DT_FP32:
      {
        const float *s = (const float *) p;
        if (stride == 1)
          memcpy (out, s, (gsize) n * sizeof (float));
        else
          for (gint64 i = 0; i < n; i++)
            out[i] = s[i * stride];
      }
      break;
    case NPU_DT_FP16:
      {
        const guint16 *s = (const guint16 *) p;
        for (gint64 i = 0; i < n; i++)
          out[i] = f16_table[s[i * stride]];
      }
      break;
    case NPU_DT_BF16:
      {
        const guint16 *s = (const guint16 *) p;
        u32_alias *o = (u32_alias *) out; /* bf16 -> fp32 is the bit pattern << 16 */
        gint64 i = 0;
        if (stride == 1)
          for (; i + 8 <= n; i += 8)
            {
              /* 8 at a time, written out: -O2 does not vectorise loops whose
               * trip count is unknown */
              v8u16 x;
              memcpy (&x, s + i, sizeof x);
              v8u32 y = __builtin_convertvector (x, v8u32) << 16;
              memcpy (o + i, &y, sizeof y);
            }
        for (; i < n; i++)
          o[i] = (guint32) s[i * stride] << 16;
      }
      break;
    case NPU_DT_FP8_E4M3FN:
      for (gint64 i = 0; i < n; i++)
        out[i] = e4m3_table[p[i * stride]];
      break;
    case NPU_DT_FP8_E5M2:
      for (gint64 i = 0; i < n; i++)
        out[i] = e5m2_table[p[i * stride]];
      break;
    default:
      g_assert_not_reached ();
    }
}

static inline const guint8 *
elem_ptr (const NpuGemmOperand *op, gint64 r, gint64 c)
{
  return (const guint8 *) op->data
         + (r * op->row_stride + c * op->col_stride) * (gint64) npu_dtype_size (op->dtype);
}

/* pack_a_f32: rows [i0, i0+mc) x k [k0, k0+kc) of A into strips of @mr rows:
 * strip s at ap + s*mr*kc, element (r, k) at [k*mr + r]; rows past mc are 0. */
static void
pack_a_f32 (const NpuGemmOperand *a, gint64 i0, gint64 mc, gint64 k0, gint64 kc, int mr,
            float *restrict ap, float *restrict tmp)
{
  for (gint64 ir = 0; ir < mc; ir += mr)
    {
      float *strip = ap + ir * kc;
      int rows = (int) MIN ((gint64) mr, mc - ir);
      if (a->col_stride == 1 || llabs (a->col_stride) <= llabs (a->row_stride))
        {
          /* k is the fast direction in memory: widen a row, scatter it */
          for (int r = 0; r < rows; r++)
            {
              widen_f32 (a->dtype, elem_ptr (a, i0 + ir + r, k0), a->col_stride, kc, tmp);
              for (gint64 k = 0; k < kc; k++)
                strip[k * mr + r] = tmp[k];
            }
          for (int r = rows; r < mr; r++)
            for (gint64 k = 0; k < kc; k++)
              strip[k * mr + r] = 0.0f;
        }
      else
        {
          /* rows are the fast direction (transposed A): widen straight in */
          for (gint64 k = 0; k < kc; k++)
            {
              widen_f32 (a->dtype, elem_ptr (a, i0 + ir, k0 + k), a->row_stride, rows,
                         strip + k * mr);
              for (int r = rows; r < mr; r++)
                strip[k * mr + r] = 0.0f;
            }
        }
    }
}

/* pack_b_f32: k [k0, k0+kc) x columns [j0, j0+nc) of B into strips of @nr
 * columns: strip s at bp + s*nr*kc, element (k, j) at [k*nr + j]; columns past
 * nc are 0. @tmp holds MAX(kc, nc) floats. */
static void
pack_b_f32 (const NpuGemmOperand *b, gint64 k0, gint64 kc, gint64 j0, gint64 nc, int nr,
            float *restrict bp, float *restrict tmp)
{
  const gint64 nfull = nc / nr * nr, rest = nc - nfull;
  if (b->col_stride == 1 || llabs (b->col_stride) <= llabs (b->row_stride))
    {
      /* columns are the fast direction: widen a whole row of the panel once,
       * then cut it into the strips */
      for (gint64 k = 0; k < kc; k++)
        {
          widen_f32 (b->dtype, elem_ptr (b, k0 + k, j0), b->col_stride, nc, tmp);
          float *dst = bp + k * nr;
          for (gint64 jr = 0; jr < nfull; jr += nr)
            memcpy (dst + jr * kc, tmp + jr, (gsize) nr * sizeof (float));
          if (rest)
            {
              float *d = dst + nfull * kc;
              memcpy (d, tmp + nfull, (gsize) rest * sizeof (float));
              memset (d + rest, 0, (gsize) (nr - rest) * sizeof (float));
            }
        }
    }
  else
    {
      /* transposed B (k contiguous): widen a column, scatter it */
      for (gint64 j = 0; j < nc; j++)
        {
          widen_f32 (b->dtype, elem_ptr (b, k0, j0 + j), b->row_stride, kc, tmp);
          float *dst = bp + (j / nr) * nr * kc + (j % nr);
          for (gint64 k = 0; k < kc; k++)
            dst[k * nr] = tmp[k];
        }
      if (rest)
        for (gint64 k = 0; k < kc; k++)
          memset (bp + nfull * kc + k * nr + rest, 0, (gsize) (nr - rest) * sizeof (float));
    }
}

/* ---- int8: packing into int16 pairs --------------------------------------------- */

static inline guint32
pair16 (gint8 lo, gint8 hi)
{
  return (guint32) (guint16) (gint16) lo | ((guint32) (guint16) (gint16) hi << 16);
}

/* pack_a_i8: like pack_a_f32 with k taken in pairs: strip s at ap + s*mr*kp
 * (kp = ceil(kc/2)), pair p of row r at [p*mr + r]; a missing odd k is 0. */
static void
pack_a_i8 (const NpuGemmOperand *a, gint64 i0, gint64 mc, gint64 k0, gint64 kc, int mr,
           gint32 *restrict ap)
{
  gint64 kp = (kc + 1) / 2;
  for (gint64 ir = 0; ir < mc; ir += mr)
    {
      guint32 *strip = (guint32 *) ap + ir * kp;
      int rows = (int) MIN ((gint64) mr, mc - ir);
      for (int r = 0; r < mr; r++)
        {
          if (r >= rows)
            {
              for (gint64 p = 0; p < kp; p++)
                strip[p * mr + r] = 0;
              continue;
            }
          const gint8 *row = (const gint8 *) elem_ptr (a, i0 + ir + r, k0);
          gint64 cs = a->col_stride;
          for (gint64 p = 0; p < kc / 2; p++)
            strip[p * mr + r] = pair16 (row[2 * p * cs], row[(2 * p + 1) * cs]);
          if (kc & 1)
            strip[(kp - 1) * mr + r] = pair16 (row[(kc - 1) * cs], 0);
        }
    }
}

static void
pack_b_i8 (const NpuGemmOperand *b, gint64 k0, gint64 kc, gint64 j0, gint64 nc, int nr,
           gint32 *restrict bp)
{
  gint64 kp = (kc + 1) / 2;
  for (gint64 jr = 0; jr < nc; jr += nr)
    {
      guint32 *strip = (guint32 *) bp + jr * kp;
      int cols = (int) MIN ((gint64) nr, nc - jr);
      gint64 rs = b->row_stride, cs = b->col_stride;
      for (gint64 p = 0; p < kp; p++)
        {
          const gint8 *r0 = (const gint8 *) elem_ptr (b, k0 + 2 * p, j0 + jr);
          gboolean has_hi = 2 * p + 1 < kc;
          int j = 0;
          if (cs == 1 && has_hi)
            for (; j + 8 <= cols; j += 8)
              {
                /* 8 columns at a time (written out: -O2 does not vectorise
                 * loops of unknown trip count): sign-extend both rows to
                 * int16 and interleave them as (low, high) pairs */
                v8i8 lo, hi;
                memcpy (&lo, r0 + j, sizeof lo);
                memcpy (&hi, r0 + rs + j, sizeof hi);
                v8u32 w = (__builtin_convertvector (__builtin_convertvector (lo, v8i32), v8u32)
                           & 0xffffu)
                          | (__builtin_convertvector (__builtin_convertvector (hi, v8i32), v8u32)
                             << 16);
                memcpy (strip + p * nr + j, &w, sizeof w);
              }
          for (; j < cols; j++)
            strip[p * nr + j] = pair16 (r0[j * cs], has_hi ? r0[rs + j * cs] : 0);
          for (; j < nr; j++)
            strip[p * nr + j] = 0;
        }
    }
}

/* ---- one thread's rectangle of C -------------------------------------------------- */

typedef struct {
  const NpuGemmOperand *a, *b;
  gpointer c; /* float * or gint32 *, row-major, ldc = n */
  gboolean is_int;
  const NpuGemmKernels *kern;
  gint64 m0, m1, n0, n1;
} GemmPart;

static gint64
round_up (gint64 x, gint64 to)
{
  return (x + to - 1) / to * to;
}

static void
gemm_part_run (const GemmPart *part)
{
  const NpuGemmKernels *kern = part->kern;
  const gint64 K = part->a->cols, ldc = part->b->cols;
  const int mr = part->is_int ? kern->i32_mr : kern->f32_mr;
  const int nr = part->is_int ? kern->i32_nr : kern->f32_nr;
  const gint64 mc_max = round_up (GEMM_MC_TARGET, mr);
  const gint64 nc_max = round_up (GEMM_NC_TARGET, nr);
  const gint64 kc_max = MIN ((gint64) GEMM_KC, round_up (K, 2));
  const gsize esz = 4; /* packed element: fp32 or an int16 pair */

  if (part->m1 <= part->m0 || part->n1 <= part->n0)
    return;
  if (K == 0)
    {
      for (gint64 i = part->m0; i < part->m1; i++)
        memset ((guint8 *) part->c + (i * ldc + part->n0) * esz, 0,
                (gsize) (part->n1 - part->n0) * esz);
      return;
    }

  /* packed buffers, sized to this part (small products stay small) and 64-byte
   * aligned so vector loads never split a cache line */
  gpointer ap = g_aligned_alloc (MIN (mc_max, round_up (part->m1 - part->m0, mr)) * kc_max, esz, 64);
  gpointer bp = g_aligned_alloc (MIN (nc_max, round_up (part->n1 - part->n0, nr)) * kc_max, esz, 64);
  float *tmp = g_new (float, MAX (kc_max, MIN (nc_max, part->n1 - part->n0)));
  float tile_f[NPU_GEMM_MAX_MR * NPU_GEMM_MAX_NR] __attribute__ ((aligned (64)));
  gint32 tile_i[NPU_GEMM_MAX_MR * NPU_GEMM_MAX_NR] __attribute__ ((aligned (64)));

  for (gint64 jc = part->n0; jc < part->n1; jc += nc_max)
    {
      gint64 nc = MIN (nc_max, part->n1 - jc);
      for (gint64 pc = 0; pc < K; pc += kc_max)
        {
          gint64 kc = MIN (kc_max, K - pc);
          gint64 kdepth = part->is_int ? (kc + 1) / 2 : kc; /* packed rows per strip */
          gboolean accumulate = pc > 0;
          if (part->is_int)
            pack_b_i8 (part->b, pc, kc, jc, nc, nr, bp);
          else
            pack_b_f32 (part->b, pc, kc, jc, nc, nr, bp, tmp);
          for (gint64 ic = part->m0; ic < part->m1; ic += mc_max)
            {
              gint64 mc = MIN (mc_max, part->m1 - ic);
              if (part->is_int)
                pack_a_i8 (part->a, ic, mc, pc, kc, mr, ap);
              else
                pack_a_f32 (part->a, ic, mc, pc, kc, mr, ap, tmp);
              for (gint64 jr = 0; jr < nc; jr += nr)
                {
                  const guint8 *bstrip = (const guint8 *) bp + jr * kdepth * esz;
                  int cols = (int) MIN ((gint64) nr, nc - jr);
                  for (gint64 ir = 0; ir < mc; ir += mr)
                    {
                      const guint8 *astrip = (const guint8 *) ap + ir * kdepth * esz;
                      int rows = (int) MIN ((gint64) mr, mc - ir);
                      guint8 *cp = (guint8 *) part->c + ((ic + ir) * ldc + jc + jr) * esz;
                      if (rows == mr && cols == nr)
                        {
                          if (part->is_int)
                            kern->i32 (kdepth, (const gint32 *) astrip,
                                       (const gint32 *) bstrip, (gint32 *) cp, ldc,
                                       accumulate);
                          else
                            kern->f32 (kdepth, (const float *) astrip,
                                       (const float *) bstrip, (float *) cp, ldc,
                                       accumulate);
                          continue;
                        }
                      /* edge tile: run the full kernel on a scratch tile and copy
                       * back only the valid elements (the same per-element sums) */
                      guint8 *tile = part->is_int ? (guint8 *) tile_i : (guint8 *) tile_f;
                      if (accumulate)
                        for (int r = 0; r < rows; r++)
                          memcpy (tile + (gsize) r * nr * esz, cp + r * ldc * esz,
                                  cols * esz);
                      if (part->is_int)
                        kern->i32 (kdepth, (const gint32 *) astrip, (const gint32 *) bstrip,
                                   (gint32 *) tile, nr, accumulate);
                      else
                        kern->f32 (kdepth, (const float *) astrip, (const float *) bstrip,
                                   (float *) tile, nr, accumulate);
                      for (int r = 0; r < rows; r++)
                        memcpy (cp + r * ldc * esz, tile + (gsize) r * nr * esz,
                                cols * esz);
                    }
                }
            }
        }
    }

  g_aligned_free (ap);
  g_aligned_free (bp);
  g_free (tmp);
}

/* ---- threads ---------------------------------------------------------------------- */

typedef struct {
  GMutex lock;
  GCond cond;
  guint pending;
} GemmBarrier;

typedef struct {
  GemmPart part;
  GemmBarrier *barrier;
} GemmJob;

static void
gemm_worker (gpointer data, gpointer user_data)
{
  GemmJob *job = data;
  gemm_part_run (&job->part);
  g_mutex_lock (&job->barrier->lock);
  if (--job->barrier->pending == 0)
    g_cond_signal (&job->barrier->cond);
  g_mutex_unlock (&job->barrier->lock);
}

/* One process-wide pool, created on first use. Unlimited and non-exclusive: a
 * pushed job always gets a thread (idle ones are reused), so concurrent callers
 * cannot starve each other. */
static GThreadPool *
gemm_pool (void)
{
  static GThreadPool *pool = NULL;
  if (g_once_init_enter (&pool))
    {
      GError *error = NULL;
      GThreadPool *p = g_thread_pool_new (gemm_worker, NULL, -1, FALSE, &error);
      if (p == NULL)
        g_error ("gemm: cannot create the thread pool: %s", error->message);
      g_once_init_leave (&pool, p);
    }
  return pool;
}

guint
npu_gemm_default_threads (void)
{
  const char *env = g_getenv ("NPUSIM_THREADS");
  if (env && *env)
    {
      char *end = NULL;
      guint64 v = g_ascii_strtoull (env, &end, 10);
      if (end && *end == '\0' && v >= 1 && v <= 1024)
        return (guint) v;
      g_warning ("NPUSIM_THREADS=%s is not a thread count in 1..1024; ignored", env);
    }
  return MAX (1u, g_get_num_processors ());
}

/* The micro-kernel variant: $NPUSIM_GEMM_KERNEL ("generic", "sse2", "avx2",
 * "avx512") if set and supported, else the fastest for this CPU. Read once. */
static const NpuGemmKernels *
default_kernels (void)
{
  static const NpuGemmKernels *kern = NULL;
  if (g_once_init_enter (&kern))
    {
      const char *env = g_getenv ("NPUSIM_GEMM_KERNEL");
      const NpuGemmKernels *k = NULL;
      if (env && *env)
        {
          k = npu_gemm_kernels_get (env);
          if (k == NULL)
            g_warning ("NPUSIM_GEMM_KERNEL=%s is not available; using the default", env);
        }
      if (k == NULL)
        k = npu_gemm_kernels_get (NULL);
      g_once_init_leave (&kern, k);
    }
  return kern;
}

static gboolean
operand_ok (const NpuGemmOperand *op)
{
  return op != NULL && op->rows >= 0 && op->cols >= 0
         && (op->data != NULL || op->rows == 0 || op->cols == 0);
}

static void
gemm_run (const NpuGemmKernels *kern, const NpuGemmOperand *a, const NpuGemmOperand *b,
          gpointer c, gboolean is_int, guint n_threads, gboolean small_on_fewer)
{
  g_return_if_fail (operand_ok (a) && operand_ok (b));
  g_return_if_fail (a->cols == b->rows);
  const gint64 m = a->rows, n = b->cols, k = a->cols;
  g_return_if_fail (c != NULL || m == 0 || n == 0);
  if (kern == NULL)
    kern = default_kernels ();
  if (n_threads == 0)
    n_threads = npu_gemm_default_threads ();
  if (m == 0 || n == 0)
    return;
  tables_init ();

  const int mr = is_int ? kern->i32_mr : kern->f32_mr;
  const int nr = is_int ? kern->i32_nr : kern->f32_nr;
  /* Split the larger dimension of C, in whole micro-tiles, into one contiguous
   * range per thread. Which thread computes an element never changes its value. */
  gint64 units_m = (m + mr - 1) / mr, units_n = (n + nr - 1) / nr;
  gboolean split_n = units_n >= units_m;
  gint64 units = split_n ? units_n : units_m;
  gint64 macs = m * n * MAX (k, 1);
  guint t = n_threads;
  if ((gint64) t > units)
    t = (guint) units;
  while (small_on_fewer && t > 1 && macs / t < NPU_GEMM_MIN_PAR_MACS)
    t--;

  GemmJob *jobs = g_new0 (GemmJob, t);
  GemmBarrier barrier;
  g_mutex_init (&barrier.lock);
  g_cond_init (&barrier.cond);
  barrier.pending = t - 1;
  for (guint i = 0; i < t; i++)
    {
      gint64 u0 = units * i / t, u1 = units * (i + 1) / t;
      GemmPart *p = &jobs[i].part;
      p->a = a;
      p->b = b;
      p->c = c;
      p->is_int = is_int;
      p->kern = kern;
      p->m0 = split_n ? 0 : u0 * mr;
      p->m1 = split_n ? m : MIN (u1 * mr, m);
      p->n0 = split_n ? u0 * nr : 0;
      p->n1 = split_n ? MIN (u1 * nr, n) : n;
      jobs[i].barrier = &barrier;
    }
  for (guint i = 1; i < t; i++)
    g_thread_pool_push (gemm_pool (), &jobs[i], NULL);
  gemm_part_run (&jobs[0].part); /* the caller works too */
  g_mutex_lock (&barrier.lock);
  while (barrier.pending > 0)
    g_cond_wait (&barrier.cond, &barrier.lock);
  g_mutex_unlock (&barrier.lock);
  g_mutex_clear (&barrier.lock);
  g_cond_clear (&barrier.cond);
  g_free (jobs);
}

void
npu_gemm_run_with_kernels (const NpuGemmKernels *kern, const NpuGemmOperand *a,
                           const NpuGemmOperand *b, gpointer c, gboolean is_int,
                           guint n_threads)
{
  gemm_run (kern, a, b, c, is_int, n_threads, FALSE);
}

static gboolean
is_float_gemm_type (NpuDtype dt)
{
  return dt == NPU_DT_FP32 || dt == NPU_DT_FP16 || dt == NPU_DT_BF16
         || dt == NPU_DT_FP8_E4M3FN || dt == NPU_DT_FP8_E5M2;
}

void
npu_gemm_f32acc (const NpuGemmOperand *a, const NpuGemmOperand *b, float *c,
                 guint n_threads)
{
  g_return_if_fail (a != NULL && b != NULL);
  g_return_if_fail (is_float_gemm_type (a->dtype) && is_float_gemm_type (b->dtype));
  gemm_run (NULL, a, b, c, FALSE, n_threads, TRUE);
}

void
npu_gemm_i32acc (const NpuGemmOperand *a, const NpuGemmOperand *b, gint32 *c,
                 guint n_threads)
{
  g_return_if_fail (a != NULL && b != NULL);
  g_return_if_fail (a->dtype == NPU_DT_INT8 && b->dtype == NPU_DT_INT8);
  gemm_run (NULL, a, b, c, TRUE, n_threads, TRUE);
}
