/* npusim — GEMM micro-kernels: one generic C version and x86-64 SSE2 / AVX2 /
 * AVX-512 versions of the same arithmetic (see ops/gemm-kernels.h).
 *
 * The fp32 kernels are written once, with GCC vector extensions, and instantiated
 * per instruction set: for every k and every row, acc[i][:] = acc[i][:] + a[i]*b[:].
 * The build uses -ffp-contract=off, so the compiler emits a separate multiply and
 * add (no FMA) in every variant, and each output element sees exactly the scalar
 * sequence acc = fl(acc + fl(a*b)) in increasing k. The variants differ only in
 * how many output elements they compute side by side, never in the order of a
 * single element's sum; their results are bit-identical (tests/test-ops-gemm.c
 * checks this on every variant the CPU supports). */
#include "ops/gemm-kernels.h"

#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#define NPU_GEMM_X86 1
#include <immintrin.h>
#endif

/* Instantiates an fp32 micro-kernel of MR rows x NV vectors of W floats. */
#define DEFINE_F32_KERNEL(fname, attrs, W, MR, NV)                                      \
  attrs static void fname (gint64 kc, const float *restrict ap, const float *restrict bp, \
                           float *restrict c, gint64 ldc, gboolean accumulate)          \
  {                                                                                     \
    typedef float vf __attribute__ ((vector_size ((W) * 4)));                           \
    typedef float vfu __attribute__ ((vector_size ((W) * 4), aligned (4), may_alias));  \
    vf acc[MR][NV];                                                                     \
    if (accumulate)                                                                     \
      {                                                                                 \
        _Pragma ("GCC unroll 16") for (int i = 0; i < (MR); i++)                        \
          _Pragma ("GCC unroll 8") for (int v = 0; v < (NV); v++)                       \
            acc[i][v] = *(const vfu *) (c + i * ldc + v * (W));                         \
      }                                                                                 \
    else                                                                                \
      {                                                                                 \
        _Pragma ("GCC unroll 16") for (int i = 0; i < (MR); i++)                        \
          _Pragma ("GCC unroll 8") for (int v = 0; v < (NV); v++)                       \
            acc[i][v] = (vf) { 0 };                                                     \
      }                                                                                 \
    for (gint64 k = 0; k < kc; k++)                                                     \
      {                                                                                 \
        vf b[NV];                                                                       \
        _Pragma ("GCC unroll 8") for (int v = 0; v < (NV); v++)                         \
          b[v] = *(const vfu *) (bp + v * (W));                                         \
        _Pragma ("GCC unroll 16") for (int i = 0; i < (MR); i++)                        \
          {                                                                             \
            const float a = ap[i];                                                      \
            _Pragma ("GCC unroll 8") for (int v = 0; v < (NV); v++)                     \
              acc[i][v] = acc[i][v] + a * b[v];                                         \
          }                                                                             \
        ap += (MR);                                                                     \
        bp += (NV) * (W);                                                               \
      }                                                                                 \
    _Pragma ("GCC unroll 16") for (int i = 0; i < (MR); i++)                            \
      _Pragma ("GCC unroll 8") for (int v = 0; v < (NV); v++)                           \
        *(vfu *) (c + i * ldc + v * (W)) = acc[i][v];                                   \
  }

/* ---- generic (any GCC target; 4-float vectors map to SSE/NEON or are emulated) */

DEFINE_F32_KERNEL (f32_generic, , 4, 4, 2)

#define GENERIC_I_MR 4
#define GENERIC_I_NR 8
static void
i32_generic (gint64 kpairs, const gint32 *restrict ap, const gint32 *restrict bp,
             gint32 *restrict c, gint64 ldc, gboolean accumulate)
{
  /* Unsigned arithmetic: int32 overflow is undefined in C, wrap-around is what
   * the hardware accumulator does (and never happens for k < 2^17). */
  guint32 acc[GENERIC_I_MR][GENERIC_I_NR];
  for (int i = 0; i < GENERIC_I_MR; i++)
    for (int j = 0; j < GENERIC_I_NR; j++)
      acc[i][j] = accumulate ? (guint32) c[i * ldc + j] : 0u;
  for (gint64 p = 0; p < kpairs; p++)
    {
      for (int i = 0; i < GENERIC_I_MR; i++)
        {
          gint32 a0 = (gint16) (guint16) ((guint32) ap[i] & 0xffffu);
          gint32 a1 = (gint16) (guint16) ((guint32) ap[i] >> 16);
          for (int j = 0; j < GENERIC_I_NR; j++)
            {
              gint32 b0 = (gint16) (guint16) ((guint32) bp[j] & 0xffffu);
              gint32 b1 = (gint16) (guint16) ((guint32) bp[j] >> 16);
              acc[i][j] += (guint32) (a0 * b0) + (guint32) (a1 * b1);
            }
        }
      ap += GENERIC_I_MR;
      bp += GENERIC_I_NR;
    }
  for (int i = 0; i < GENERIC_I_MR; i++)
    for (int j = 0; j < GENERIC_I_NR; j++)
      c[i * ldc + j] = (gint32) acc[i][j];
}

static const NpuGemmKernels kernels_generic = {
  "generic", 4, 8, f32_generic, GENERIC_I_MR, GENERIC_I_NR, i32_generic,
};

#ifdef NPU_GEMM_X86

/* Instantiates an int16-pair micro-kernel: MR rows x NV vectors; the ops are
 * macros over the ISA's intrinsics. */
#define DEFINE_I32_KERNEL(fname, attrs, VT, W, MR, NV, LOADU, STOREU, ZERO, SET1, MADDACC) \
  attrs static void fname (gint64 kpairs, const gint32 *restrict ap,                     \
                           const gint32 *restrict bp, gint32 *restrict c, gint64 ldc,    \
                           gboolean accumulate)                                          \
  {                                                                                      \
    VT acc[MR][NV];                                                                      \
    _Pragma ("GCC unroll 16") for (int i = 0; i < (MR); i++)                             \
      _Pragma ("GCC unroll 8") for (int v = 0; v < (NV); v++)                            \
        acc[i][v] = accumulate ? LOADU (c + i * ldc + v * (W)) : ZERO ();                \
    for (gint64 p = 0; p < kpairs; p++)                                                  \
      {                                                                                  \
        VT b[NV];                                                                        \
        _Pragma ("GCC unroll 8") for (int v = 0; v < (NV); v++)                          \
          b[v] = LOADU (bp + v * (W));                                                   \
        _Pragma ("GCC unroll 16") for (int i = 0; i < (MR); i++)                         \
          {                                                                              \
            VT a = SET1 (ap[i]);                                                         \
            _Pragma ("GCC unroll 8") for (int v = 0; v < (NV); v++)                      \
              acc[i][v] = MADDACC (acc[i][v], a, b[v]);                                  \
          }                                                                              \
        ap += (MR);                                                                      \
        bp += (NV) * (W);                                                                \
      }                                                                                  \
    _Pragma ("GCC unroll 16") for (int i = 0; i < (MR); i++)                             \
      _Pragma ("GCC unroll 8") for (int v = 0; v < (NV); v++)                            \
        STOREU (c + i * ldc + v * (W), acc[i][v]);                                       \
  }

/* SSE2 (the x86-64 baseline) */
#define SSE2_ATTR
#define SSE_LOADU(p) _mm_loadu_si128 ((const __m128i *) (p))
#define SSE_STOREU(p, x) _mm_storeu_si128 ((__m128i *) (p), (x))
#define SSE_MADDACC(acc, a, b) _mm_add_epi32 ((acc), _mm_madd_epi16 ((a), (b)))
DEFINE_F32_KERNEL (f32_sse2, SSE2_ATTR, 4, 6, 2)
DEFINE_I32_KERNEL (i32_sse2, SSE2_ATTR, __m128i, 4, 6, 2, SSE_LOADU, SSE_STOREU,
                   _mm_setzero_si128, _mm_set1_epi32, SSE_MADDACC)

/* AVX2: 16 ymm registers -> 6 x 2 accumulators + 2 B vectors + 1 broadcast */
#define AVX2_ATTR __attribute__ ((target ("avx2")))
#define AVX2_LOADU(p) _mm256_loadu_si256 ((const __m256i *) (p))
#define AVX2_STOREU(p, x) _mm256_storeu_si256 ((__m256i *) (p), (x))
#define AVX2_MADDACC(acc, a, b) _mm256_add_epi32 ((acc), _mm256_madd_epi16 ((a), (b)))
DEFINE_F32_KERNEL (f32_avx2, AVX2_ATTR, 8, 6, 2)
DEFINE_I32_KERNEL (i32_avx2, AVX2_ATTR, __m256i, 8, 6, 2, AVX2_LOADU, AVX2_STOREU,
                   _mm256_setzero_si256, _mm256_set1_epi32, AVX2_MADDACC)

/* AVX-512 (F + BW + VNNI), int8 only: 32 zmm registers -> 12 x 2 accumulators.
 * vpdpwssd is the same pair-of-int16 multiply-add as vpmaddwd + vpaddd, in one
 * instruction (non-saturating, exact). The fp32 side of this variant reuses the
 * AVX2 6x16 kernel: measured on Zen 4 (bench/bench-gemm, 1024^3, one thread) it
 * ran ~96 GFLOP/s against 55-83 for zmm kernels of 12x32, 14x32, 8x32, 6x64 and
 * 4x64 (a zmm multiply plus a separate add, since FMA is not allowed, gains
 * nothing over two ymm ones there). */
#define AVX512_ATTR __attribute__ ((target ("avx512f,avx512bw,avx512vnni")))
#define AVX512_LOADU(p) _mm512_loadu_si512 ((const void *) (p))
#define AVX512_STOREU(p, x) _mm512_storeu_si512 ((void *) (p), (x))
#define AVX512_MADDACC(acc, a, b) _mm512_dpwssd_epi32 ((acc), (a), (b))
DEFINE_I32_KERNEL (i32_avx512, AVX512_ATTR, __m512i, 16, 12, 2, AVX512_LOADU, AVX512_STOREU,
                   _mm512_setzero_si512, _mm512_set1_epi32, AVX512_MADDACC)

static const NpuGemmKernels kernels_sse2 = {
  "sse2", 6, 8, f32_sse2, 6, 8, i32_sse2,
};
static const NpuGemmKernels kernels_avx2 = {
  "avx2", 6, 16, f32_avx2, 6, 16, i32_avx2,
};
static const NpuGemmKernels kernels_avx512 = {
  "avx512", 6, 16, f32_avx2, 12, 32, i32_avx512,
};

static gboolean
cpu_has_avx2 (void)
{
  __builtin_cpu_init ();
  return __builtin_cpu_supports ("avx2");
}

static gboolean
cpu_has_avx512 (void)
{
  __builtin_cpu_init ();
  return __builtin_cpu_supports ("avx512f") && __builtin_cpu_supports ("avx512bw")
         && __builtin_cpu_supports ("avx512vnni");
}
#endif /* NPU_GEMM_X86 */

const NpuGemmKernels *
npu_gemm_kernels_get (const char *name)
{
#ifdef NPU_GEMM_X86
  if (name == NULL)
    {
      if (cpu_has_avx512 ())
        return &kernels_avx512;
      if (cpu_has_avx2 ())
        return &kernels_avx2;
      return &kernels_sse2;
    }
  if (strcmp (name, "avx512") == 0)
    return cpu_has_avx512 () ? &kernels_avx512 : NULL;
  if (strcmp (name, "avx2") == 0)
    return cpu_has_avx2 () ? &kernels_avx2 : NULL;
  if (strcmp (name, "sse2") == 0)
    return &kernels_sse2;
#else
  if (name == NULL)
    return &kernels_generic;
#endif
  if (strcmp (name, "generic") == 0)
    return &kernels_generic;
  return NULL;
}
