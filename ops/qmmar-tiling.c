/* npusim — QuantMatmulAllReduceV3: the M cut of the host tiling.
 *
 * A port of the "formulaic" cut the real host tiling computes in
 * DoSplitMTiling (ops-transformer mc2/matmul_all_reduce/op_host/op_tiling/
 * matmul_all_reduce_tiling_base.cpp, all_reduce_formulaic_tiling.cpp, and
 * mc2/common/src/{hccl_formulaic_tiling,hccl_performance,matmul_performance}.cpp):
 * Huawei's own estimates of matmul time (cube utilisation by L2 footprint) and of
 * 8-die AllReduce time (a fitted curve) balance a short tile against long ones, at
 * most 16 tiles (the FFTS queue), aligned to the 128-row base block. The constants
 * below belong to that host algorithm (they are what the real tiling computes with,
 * whatever the simulated hardware), except the AIC count and the L2 size, which the
 * real tiling reads from the platform and which come from the preset here.
 * Doubles and integer truncations follow the C++ source step by step, so the cut is
 * the one the real tiling returns for the same shape. */
#include "ops/qmmar-private.h"
#include <math.h>

#define BASE_M 128u
#define BASE_N 256u
#define ONE_KB 1024u
#define ONE_MB (1024u * 1024u)
#define MAX_TILE_CNT 16u

/* ---- HCCLPerformanceModel (910B FULL_MESH AllReduce, fit key "0_0") ---- */

typedef struct {
  double factor;     /* commTimeFactor_ */
  guint64 len;       /* commMatrixLen = n */
  guint64 dsize;     /* commDtypeSize = output bytes */
} Comm;

static const double FIT_B1 = 64.0 / ONE_KB, FIT_B2 = 8, FIT_LIN_G = 13.58491263,
  FIT_LIN_O = 61.508333, FIT_PA = -0.9698202, FIT_PB = 27.0622573, FIT_PC = 14.769,
  FIT_T1 = 18, FIT_T2 = 170, FIT_IA = -1.03111896, FIT_IB = -203.558059, FIT_IC = 13.9522034;

static void
comm_div (Comm *c, double f)
{
  if (f > 0)
    c->factor /= f;
}

static double
comm_time (const Comm *c, guint64 m)
{
  guint64 bytes = m * c->len * 1u * c->dsize; /* lookUpTileNum = 1 for AllReduce */
  double s = (double) bytes / ONE_MB;
  double t = FIT_T1;
  if (s > FIT_B2)
    t = FIT_LIN_G * s + FIT_LIN_O;
  else if (s > FIT_B1)
    t = FIT_PA * s * s + FIT_PB * s + FIT_PC;
  return t / c->factor;
}

static guint64
comm_inverse (const Comm *c, double t)
{
  t *= c->factor;
  double s = FIT_B1;
  if (t > FIT_T2)
    s = (t - FIT_LIN_O) / FIT_LIN_G;
  else if (t > FIT_T1)
    s = -sqrt (FIT_IA * (t + FIT_IB)) + FIT_IC;
  return (guint64) (s * ONE_MB) / (c->len * 1u * c->dsize);
}

/* ---- MatmulPerformanceModel ---- */

typedef struct {
  guint64 m, n, k, cores, in_size;
  double computes;   /* MACs per cycle per core the model assumes */
  double util;       /* cubeUtil_ */
  double grad;       /* matmulGradient_ */
  gboolean quant;    /* calcType QUANT (only off SOC910_B for int8) */
  gboolean b4;       /* SOC910_B4 (96 MiB L2) */
} Mm;

static double
mm_time (const Mm *mm, guint64 rows)
{
  rows = MAX ((guint64) BASE_M, rows);
  return (double) rows * 1.0 * mm->grad; /* rankTileNum = 1 */
}

static guint64
mm_inverse (const Mm *mm, double t)
{
  guint64 rows = (guint64) (t / (1.0 * mm->grad));
  return MAX ((guint64) BASE_M, rows);
}

static guint64
mm_threshold (const Mm *mm)
{
  guint64 tn = MAX ((guint64) BASE_M, mm->n), tk = MAX ((guint64) BASE_M, mm->k);
  /* MinMatmulShapeParameters adapted to the core count (mark 20 cores) */
  guint64 d1 = G_GUINT64_CONSTANT (4) * ONE_KB * ONE_MB / 20 * mm->cores;
  guint64 d2 = G_GUINT64_CONSTANT (6) * ONE_MB / 20 * mm->cores;
  guint64 min_m = 3 * BASE_M;
  guint64 th = MAX (d1 / (tn * tk), d2 / (tn * tk / ONE_KB + tn));
  return MAX (min_m, th);
}

/* FindCubeUtilByL2Usage + the AllReduce K-alignment penalty; sets *max_tile. */
static void
mm_find_util (Mm *mm, guint64 msize, guint64 *max_tile)
{
  double part = mm->b4 && mm->quant ? 96 : 128, full = mm->b4 && mm->quant ? 96 : 192;
  double u_part = mm->b4 && mm->quant ? 0.4 : 0.85, u_full = mm->b4 && mm->quant ? 0.4 : 0.75,
         u_out = mm->b4 && mm->quant ? 0.35 : 0.65;
  guint64 bm = MIN ((guint64) BASE_M, msize), bn = BASE_N;
  guint64 mblk = (msize + bm - 1) / bm * 1u, nblk = (mm->n + bn - 1) / bn;
  guint64 mem = MIN (mblk, mm->cores) * bm + MIN (nblk, mm->cores) * bn;
  mem = mem * mm->k * mm->in_size / ONE_MB;
  double util, diff = 0;
  if ((double) mem <= part)
    {
      util = u_part;
      diff = part - (double) mem;
    }
  else if ((double) mem <= full)
    {
      util = u_full;
      diff = full - (double) mem;
    }
  else
    util = u_out;
  util *= (double) MIN (mblk * nblk, mm->cores) / (double) mm->cores;
  *max_tile = mm->m;
  guint64 ts = MIN (mblk + 1, mm->cores) - MIN (mblk, mm->cores);
  ts = ts * mm->in_size * bm * mm->k / ONE_MB;
  if ((double) ts > diff && (double) mem <= full && nblk > mm->cores)
    *max_tile = (msize + BASE_M - 1) / BASE_M * BASE_M;
  mm->util = util;
  /* flagAllReduce (inferFlag_): quant K alignment, else K % 128 */
  if (mm->quant)
    {
      guint64 kl = mm->k * mm->in_size;
      if (mm->b4)
        {
          if (kl % 256 != 0)
            mm->util *= 0.8;
        }
      else if (kl % 256 != 0)
        mm->util *= 0.5;
      else if (kl % 512 != 0)
        mm->util *= 0.7;
    }
  else if (mm->k % 128 != 0)
    mm->util *= 0.7;
}

static void
mm_gradient (Mm *mm)
{
  guint64 tn = MAX ((guint64) BASE_M, mm->n), tk = MAX ((guint64) BASE_M, mm->k);
  mm->grad = (double) (tn * tk) / (mm->computes * (1.8 * ONE_KB) * (double) mm->cores * mm->util);
}

/* ---- FormPartition ---- */

typedef struct {
  gboolean short_at_back;
  guint64 total_cnt, n_long, n_short, long_len, short_len;
  guint64 align, max_len, min_len, max_cnt, total;
  double back_ratio;
} Part;

static void
p_nocut (Part *p)
{
  p->total_cnt = 1;
  p->n_short = 0;
  p->n_long = 1;
  p->short_len = 0;
  p->long_len = p->total;
}

static void
p_calc_short (Part *p)
{
  p->n_short = 0;
  p->short_len = 0;
  if (p->total != p->long_len * p->n_long)
    {
      p->n_short = 1;
      p->short_len = p->total - p->long_len * p->n_long;
    }
}

static void
p_calc_back (Part *p)
{
  p_calc_short (p);
  gboolean tiny = p->short_len > 0 && (double) p->short_len < (double) p->align * 0.5;
  if (tiny && p->n_long > 1)
    {
      p->n_long -= 1;
      p->short_len += p->long_len;
    }
  p->total_cnt = p->n_short + p->n_long;
}

static void
p_initial (Part *p, gboolean small_dim_align_up)
{
  p->long_len = MAX (p->long_len, p->short_len);
  p->long_len = MIN (p->long_len, p->total - p->short_len);
  guint64 nl = p->long_len / p->align * p->align;
  double ratio = p->short_at_back ? 0.5 : 0.75;
  gboolean up = (double) (p->long_len - nl) > (double) p->align * ratio || small_dim_align_up;
  p->long_len = up ? nl + p->align : nl;
  p->long_len = MIN (p->long_len, p->max_len);
  p->n_long = (p->total - (guint64) ((double) p->short_len * p->back_ratio)) / p->long_len;
  p->n_long = MAX (p->n_long, (guint64) 1);
  p->total_cnt = p->n_short + p->n_long;
}

static void
p_redistribute (Part *p)
{
  guint64 back = p->total - p->n_long * p->long_len;
  if (back > 2 * p->short_len)
    {
      guint64 add = (back - p->short_len) / p->total_cnt;
      add = add / p->align * p->align;
      p->long_len += add;
    }
  p_calc_back (p);
}

static void
p_small_front (Part *p, gboolean k_gt_n)
{
  guint64 opt = p->min_len * 2;
  gboolean small = p->long_len < opt && p->total > p->long_len * 8;
  if (small && p->short_at_back && k_gt_n)
    {
      opt = MAX (opt, p->total / 8);
      opt = opt / p->align * p->align;
      p->long_len = MIN (opt, p->total);
      p->n_long = p->total / p->long_len;
      p_calc_back (p);
    }
}

static void
p_max_cnt_uniform (Part *p)
{
  if (p->total_cnt <= p->max_cnt)
    return;
  if (p->max_cnt <= 1 || p->total < p->max_cnt)
    {
      p_nocut (p);
      return;
    }
  p->long_len = p->total / (p->max_cnt - 1);
  p->long_len = (p->long_len + p->align - 1) / p->align * p->align;
  p->long_len = MIN (p->long_len, p->total);
  p->n_long = p->total / p->long_len;
  p_calc_back (p);
}

static void
p_large_back (Part *p, gboolean large_ratio)
{
  if (p->short_len >= p->long_len + p->align)
    {
      p->long_len = (p->total / p->total_cnt + p->align - 1) / p->align * p->align;
      p->long_len = MIN (p->total, p->long_len);
      p->n_long = p->total / p->long_len;
      p_calc_back (p);
    }
  if (large_ratio)
    {
      guint64 move = p->n_long * p->align;
      gboolean large = p->short_len >= p->long_len + p->align
                       && p->short_len >= move + p->align * 2 && p->short_len <= move * 2;
      if (large)
        {
          p->long_len += p->align;
          p->long_len = (p->long_len + p->align - 1) / p->align * p->align;
          p->long_len = MIN (p->total, p->long_len);
          p->n_long = p->total / p->long_len;
          p_calc_back (p);
        }
    }
}

static void
p_comm_bound_short_align (Part *p)
{
  if (p->short_at_back || p->n_long > 1)
    return;
  guint64 down = p->short_len / p->align * p->align;
  guint64 ddiff = p->short_len - down;
  guint64 up = (p->short_len + p->align - 1) / p->align * p->align;
  if ((up <= 512 && p->long_len > 512) || ddiff <= 16)
    p->short_len = up;
  p->long_len = (p->total - p->short_len + p->n_long - 1) / p->n_long;
  p->short_len = p->total - p->n_long * p->long_len;
}

static void
p_fit_continuous (Part *p, gboolean k_gt_n, gboolean large_ratio)
{
  p->n_long = (p->total - (guint64) ((double) p->short_len * p->back_ratio)) / p->long_len;
  p->n_long = MAX (p->n_long, (guint64) 1);
  p_redistribute (p);
  p_small_front (p, k_gt_n);
  p_max_cnt_uniform (p);
  p_large_back (p, large_ratio);
  p_comm_bound_short_align (p);
}

/* ---- OneCalcOneCommBase + MMPlusAllReduce / MMPlusQuantAllReduce ---- */

typedef struct {
  Mm mm;
  Comm comm;
  Part part;
  double ratio;
  guint64 rank_dim;
} Base;

static void
base_init (Base *b, const QmmarShape *s)
{
  memset (b, 0, sizeof *b);
  b->rank_dim = MAX (s->rank_dim, 2u);
  b->mm.m = s->m;
  b->mm.n = s->n;
  b->mm.k = s->k;
  b->mm.cores = s->aic_count;
  b->mm.in_size = 1;
  b->mm.b4 = s->l2_b4;
  /* SetCalcType: int8 is QUANT except on SOC910_B (key "0_0_1_1_2" is not in the
   * map: 4096 MACs/cycle); on 910B4 key "3_1_1_1_2": 8192. */
  b->mm.quant = s->l2_b4;
  b->mm.computes = b->mm.quant ? 8192 : 4096;
  b->mm.util = 0.8;
  b->comm.factor = 1.0;
  b->comm.len = s->n;
  b->comm.dsize = s->out_size;
  b->part.total = s->m;
  b->part.align = BASE_M;
  b->part.min_len = BASE_M;
  b->part.max_cnt = MAX_TILE_CNT;
  b->part.max_len = s->m;
  b->part.back_ratio = 0.75;
  b->part.short_at_back = FALSE;
  p_nocut (&b->part);
  /* constructor: minimum tile from the comm and matmul linearity thresholds */
  guint64 comm_min = 64u * ONE_KB / (s->n * 1u * s->out_size);
  b->part.min_len = MAX (b->part.min_len, comm_min);
  b->part.min_len = MAX (b->part.min_len, mm_threshold (&b->mm));
}

static void
base_prepare (Base *b)
{
  mm_find_util (&b->mm, b->part.min_len, &b->part.max_len);
  mm_gradient (&b->mm);
}

static void
short_at_end_calc_bound (Base *b)
{
  double t = mm_time (&b->mm, b->part.short_len);
  b->part.long_len = comm_inverse (&b->comm, t);
}

static void
short_at_front_comm_bound (Base *b)
{
  double t = comm_time (&b->comm, b->part.short_len);
  b->part.long_len = mm_inverse (&b->mm, t);
}

static void
plain_allreduce (Base *b, const QmmarShape *s)
{
  Part *p = &b->part;
  comm_div (&b->comm, 1.15); /* commGrowRatio */
  double mmt = mm_time (&b->mm, s->m);
  double ct = comm_time (&b->comm, s->m);
  if (mmt >= ct)
    p->short_at_back = TRUE;
  b->ratio = MAX (ct, mmt) / MIN (ct, mmt);
  gboolean balance = b->ratio < 2.0;
  gboolean small_m = s->m < p->min_len * 2;
  gboolean large_nk = s->n * s->k >= 32u * ONE_MB;
  if (balance && small_m && large_nk)
    p->min_len = MIN (p->min_len, (guint64) ((double) p->min_len * 0.5));

  p->short_len = p->min_len;
  p->n_short = 1;
  if (s->m < p->short_len * 2)
    {
      p_nocut (p);
      return;
    }
  if (p->short_at_back)
    short_at_end_calc_bound (b);
  else
    short_at_front_comm_bound (b);
  gboolean small_dim = b->rank_dim <= 2 && p->short_at_back && (s->n < 2048 || s->k < 2048);
  p_initial (p, small_dim);
  p_fit_continuous (p, s->k > s->n, b->ratio > 1.75);
}

static void
small_short_check (Part *p)
{
  p->long_len = MAX (p->long_len, p->short_len);
  p->long_len = MIN (p->long_len, p->total - p->short_len);
  guint64 nl = (p->total - p->short_len) / p->long_len;
  guint64 remain = p->total - (p->short_len + p->long_len * nl);
  if ((double) remain > (double) p->short_len * 1.25)
    {
      if (remain * 2 > p->long_len)
        {
          nl++;
          p->long_len = (p->total - p->short_len) / nl;
        }
      else
        {
          nl = MAX (nl, (guint64) 1);
          p->long_len += remain / nl;
        }
    }
}

static void
quant_allreduce (Base *b, const QmmarShape *s)
{
  Part *p = &b->part;
  comm_div (&b->comm, 0.6); /* QUANT_COMM_GROWTH_FACTOR_SOC910B */
  comm_div (&b->comm, 0.5); /* all-to-all */
  double mmt = mm_time (&b->mm, s->m);
  double a2a = comm_time (&b->comm, s->m);
  if (mmt >= a2a * 0.7)
    p->short_at_back = TRUE;
  b->ratio = MAX (a2a, mmt) / MIN (a2a, mmt);
  if (b->ratio < 2.0 && !p->short_at_back)
    p->min_len = MIN (p->min_len, (guint64) ((double) p->min_len * 0.5));

  p->short_len = p->min_len;
  p->n_short = 1;
  p->back_ratio = 0.25; /* SMALL_BACKTILE_RATIO */
  if (s->m < p->short_len * 2)
    {
      p_nocut (p);
      return;
    }
  gboolean align_up = b->rank_dim <= 2 && p->short_at_back && (s->n < 2048 || s->k < 2048);
  gboolean move_up = s->m < 2048;
  if (!p->short_at_back || move_up)
    {
      if (s->k <= ONE_KB)
        comm_div (&b->comm, 1.4);
      short_at_front_comm_bound (b);
      align_up = TRUE;
      small_short_check (p);
    }
  else if (b->ratio <= 2.0 || move_up)
    {
      /* UniformCutSetShort */
      if (s->m > p->min_len * 4)
        p->short_len = (guint64) ((double) p->min_len * 4.0 / 2.0);
      else if (s->m > p->min_len * 3)
        p->short_len = (guint64) ((double) p->min_len * 3.0 / 2.0);
      p->long_len = p->short_len;
    }
  else
    {
      if (s->k >= 4096)
        comm_div (&b->comm, 2.0);
      short_at_end_calc_bound (b);
      align_up = TRUE;
      small_short_check (p);
    }
  p_initial (p, align_up);
  p_fit_continuous (p, s->k > s->n, b->ratio > 1.75);
}

static void
get_tiling (const QmmarShape *s, gboolean quant, Part *out)
{
  Base b;
  base_init (&b, s);
  base_prepare (&b);
  if (quant)
    quant_allreduce (&b, s);
  else
    plain_allreduce (&b, s);
  Part *p = &b.part;
  if (p->short_len == p->long_len)
    {
      p->short_len = 0;
      p->n_short = 0;
      p->n_long++;
    }
  *out = *p;
}

void
qmmar_formulaic_cut (const QmmarShape *s, gboolean comm_quant, QmmarCut *cut)
{
  Part p;
  /* DoSplitMTiling: the plain AllReduce cut, replaced by the quant one with
   * commQuantScale1/2. */
  get_tiling (s, FALSE, &p);
  if (comm_quant)
    get_tiling (s, TRUE, &p);
  if (p.short_at_back || p.n_short == 0)
    {
      cut->tile_cnt = p.n_long;
      cut->tile_m = p.long_len;
      cut->tail_m = p.n_short > 0 ? p.short_len : 0;
      cut->tail_cnt = p.n_short > 0 ? p.n_short : 0;
    }
  else
    {
      cut->tile_cnt = p.n_short;
      cut->tile_m = p.short_len;
      cut->tail_m = p.n_long > 0 ? p.long_len : 0;
      cut->tail_cnt = p.n_long > 0 ? p.n_long : 0;
    }
  cut->short_at_back = p.short_at_back;
}
