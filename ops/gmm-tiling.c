/* npusim — GroupedMatMulAlltoAllv tiling (see ops/gmm-tiling.h). */
#include "ops/gmm-tiling.h"

/* Kernel constants (grouped_mat_mul_allto_allv_tiling.cpp, allto_allv_gmm.h). */
#define BEST_BASEN 256u
#define MAX_BASE_K 128u
#define DOUBLE_BUFFER 2u
#define FP16_SIZE 2u
#define THRESHOLD_BLOCK_NUM 8u
#define THRESHOLD_DIM_M 5u

static guint
align16 (guint a, gboolean up)
{
  if (up)
    a += 15u;
  return a & ~15u;
}

gboolean
npu_gmm_base_mnk (const NpuHw *hw, guint max_m, guint max_n, guint max_k, NpuGmmBase *out)
{
  guint base_n = BEST_BASEN;
  while (base_n > max_n)
    base_n >>= 1;
  if (base_n < max_n)
    base_n <<= 1;
  base_n = MIN (BEST_BASEN, base_n);

  /* baseK from half of L0B (double buffer) */
  guint base_k = (guint) (hw->l0b_bytes / DOUBLE_BUFFER / ((guint64) base_n * FP16_SIZE));
  base_k = align16 (base_k, FALSE);
  if (base_k > MAX_BASE_K)
    {
      base_k = MAX_BASE_K;
      guint max_base_n = align16 ((guint) (hw->l0b_bytes / DOUBLE_BUFFER
                                           / (MAX_BASE_K * FP16_SIZE)), FALSE);
      base_n = MIN (base_n, max_base_n);
      base_n = MAX (16u, align16 (base_n, TRUE));
    }
  if (base_k > max_k)
    base_k = MIN (base_k, align16 (max_k, TRUE));
  if (base_k == 0)
    return FALSE;

  /* baseM from half of L0A, bounded by the fp32 accumulator in L0C */
  guint max_base_m = (guint) (hw->l0c_bytes / ((guint64) base_n * sizeof (float)));
  guint base_m = MIN ((guint) (hw->l0a_bytes / DOUBLE_BUFFER / ((guint64) base_k * FP16_SIZE)),
                      max_base_m);
  base_m = align16 (base_m, FALSE);
  if (base_m > max_m)
    base_m = align16 (max_m, TRUE);
  if (base_m == 0)
    return FALSE;
  /* DoMatmulApiTiling: SetFixSplit(min(baseM, maxM), baseN) */
  out->base_m = MIN (base_m, max_m);
  out->base_n = base_n;
  out->base_k = base_k;
  return out->base_m > 0;
}

static guint
gcd (guint a, guint b)
{
  while (b != 0)
    {
      guint t = a % b;
      a = b;
      b = t;
    }
  return a;
}

static guint
lcm (guint a, guint b)
{
  return a / gcd (a, b) * b;
}

static guint
align_down (guint a, guint b)
{
  return a / b * b;
}

void
npu_gmm_block_idx (guint block, guint dim_m, guint dim_n, guint *m_idx, guint *n_idx)
{
  if (dim_m <= THRESHOLD_DIM_M)
    {
      *m_idx = block / dim_n;
      *n_idx = block % dim_n;
      return;
    }
  /* Bands of 8 block rows; inside a band, 8 x 8 groups walked diagonally. */
  guint threshold_m_dim_n = THRESHOLD_BLOCK_NUM * dim_n;
  guint cur_m = block >= align_down (dim_m * dim_n, threshold_m_dim_n)
                ? dim_m % THRESHOLD_BLOCK_NUM : THRESHOLD_BLOCK_NUM;
  guint cur_mn = cur_m * THRESHOLD_BLOCK_NUM;
  guint cur_n = block % threshold_m_dim_n >= align_down (cur_m * dim_n, cur_mn)
                ? dim_n % THRESHOLD_BLOCK_NUM : THRESHOLD_BLOCK_NUM;
  guint local = block % threshold_m_dim_n % cur_mn;
  *m_idx = local % cur_m + block / threshold_m_dim_n * THRESHOLD_BLOCK_NUM;
  *n_idx = (local + local / lcm (cur_m, cur_n)) % cur_n
           + block % threshold_m_dim_n / cur_mn * THRESHOLD_BLOCK_NUM;
}
