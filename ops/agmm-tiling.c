/* npusim — the CoC tiling of the A2/A3 aiv-mode AllGatherMatmulV2 kernel.
 *
 * The host tiling (op_host/op_tiling/arch22/all_gather_matmul_aiv_mode_tiling.cpp,
 * ../shared/REFERENCE.md §1.2) picks a packed int32 code per (product, rank count,
 * int8 or not) from (m, k, n)-range tables, falling back to a default code per table,
 * and decodes it (AllGatherV2DecodeTilingData) into m0 (128 or 256; n0 = 256 or 128,
 * k0 = 256), pValue, ubMoveNum, commDataSplit, commNpuSplit, commDirect, swizzlCount
 * and swizzlDirect. npusim uses the decoded DEFAULT of each table (the values below);
 * the range tables are tuning data it does not reproduce: a scenario that wants the
 * entry the kernel picks for its shape sets it with "tiling" (docs/ops/
 * AllGatherMatmulV2.md lists the entries used by the scenarios).
 * Table choice (SetTilingData): on A3 (Ascend910_93) the 910_93 tables for 4 and 8
 * ranks, else the 910B tables: 2 ranks int8, 4 ranks int8 / fp16, 8 ranks int8 / fp16;
 * anything else (2 ranks fp16) falls back to the 910B 8-rank fp16 table.
 * Then DealTilingParamByBuffSize clamps pValue so that two slots of the window hold
 * every rank's chunk: maxPeerMemPerRank = (204 MiB - 2.5 MiB) / 2 / rankSize / 2,
 * pValue <= maxPeerMemPerRank / m0 / k0 / kLoop, and m0 = 256 falls back to 128 when
 * even that does not fit. */
#include "ops/agmm-private.h"
#include <string.h>

typedef struct {
  gboolean a3;
  guint ranks;
  gboolean quant;
  gint m0, p_value, ub_move_num, comm_data_split, comm_direct;
  const char *source;
} Default;

/* Decoded default codes of tiling_func.h (ALLGATHERV2_MATMUL_NPU*_CODE_DEFAULT); every
 * one has commNpuSplit 1, swizzlCount 3, swizzlDirect 1. */
static const Default defaults[] = {
  { FALSE, 2, TRUE, 256, 2, 5120, 8, 1, "910B 2-rank int8 default" },
  { FALSE, 4, TRUE, 256, 2, 8192, 8, 1, "910B 4-rank int8 default" },
  { FALSE, 8, TRUE, 256, 1, 3072, 8, 1, "910B 8-rank int8 default" },
  { FALSE, 4, FALSE, 128, 10, 1024, 16, 1, "910B 4-rank fp16 default" },
  { FALSE, 8, FALSE, 128, 8, 1024, 16, 1, "910B 8-rank fp16 default" },
  { TRUE, 4, TRUE, 256, 12, 8192, 16, 1, "910_93 4-rank int8 default" },
  { TRUE, 8, TRUE, 256, 2, 15360, 8, 1, "910_93 8-rank int8 default" },
  { TRUE, 4, FALSE, 256, 2, 15360, 8, 1, "910_93 4-rank fp16 default" },
  { TRUE, 8, FALSE, 256, 1, 8192, 8, 1, "910_93 8-rank fp16 default" },
};

static void
set_m0 (AgmmTiling *t, gint m0)
{
  t->m0 = m0;
  t->k0 = 256;
  t->n0 = m0 == 128 ? 256 : 128;
}

void
agmm_tiling_default (gboolean a3, guint ranks, gboolean quant, AgmmTiling *t)
{
  const Default *d = NULL;
  for (guint i = 0; i < G_N_ELEMENTS (defaults) && d == NULL; i++)
    if (defaults[i].a3 && a3 && defaults[i].ranks == ranks && defaults[i].quant == quant)
      d = &defaults[i];
  for (guint i = 0; i < G_N_ELEMENTS (defaults) && d == NULL; i++)
    if (!defaults[i].a3 && defaults[i].ranks == ranks && defaults[i].quant == quant)
      d = &defaults[i];
  if (d == NULL)
    d = &defaults[4]; /* "Default Tiling Func": 910B 8-rank fp16 */
  memset (t, 0, sizeof *t);
  set_m0 (t, d->m0);
  t->p_value = d->p_value;
  t->ub_move_num = d->ub_move_num;
  t->comm_data_split = d->comm_data_split;
  t->comm_npu_split = 1;
  t->comm_direct = d->comm_direct;
  t->swizzl_count = 3;
  t->swizzl_direct = 1;
  t->source = d->source;
}

static gint64
ceil_div (gint64 a, gint64 b)
{
  return (a + b - 1) / b;
}

void
agmm_tiling_finish (AgmmTiling *t, gint64 m, gint64 k, gint64 n, guint ranks)
{
  t->len_per_loop = t->ub_move_num * t->comm_data_split;
  t->m_loop = (gint) ceil_div (m, t->m0);
  t->n_loop = (gint) ceil_div (n, t->n0);
  t->k_loop = (gint) ceil_div (k, t->k0);
  /* DealTilingParamByBuffSize: LCAL_BUFF_BYTES 204 MiB, FLAG_BUFF_BYTES 2.5 MiB,
   * INPUT_DTYPE 2 bytes, 2 slots. */
  gint64 max_peer = ((gint64) 204 * 1024 * 1024 - 5 * 512 * 1024) / 2 / ranks / 2;
  gint64 max_p = max_peer / t->m0 / t->k0 / t->k_loop;
  t->p_value = (gint) CLAMP ((gint64) t->p_value, 1, MAX (max_p, 1));
  if (t->m0 == 256 && (gint64) t->p_value * t->m0 * t->k0 * t->k_loop >= max_peer)
    {
      set_m0 (t, 128);
      t->m_loop = (gint) ceil_div (m, t->m0);
      t->n_loop = (gint) ceil_div (n, t->n0);
    }
}

gboolean
agmm_tiling_override (AgmmTiling *t, const json_t *obj, const char *path, GError **error)
{
  static const char *const keys[] = { "m0", "pValue", "commDataSplit", "commNpuSplit",
                                      "commDirect", "ubMoveNum", "swizzlCount",
                                      "swizzlDirect", NULL };
  if (!json_is_object (obj))
    {
      g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                   "%s: expected an object {\"m0\": 128, \"pValue\": 1, ...}", path);
      return FALSE;
    }
  guint64 m0 = t->m0, p = t->p_value, cds = t->comm_data_split, cns = t->comm_npu_split,
          cdir = t->comm_direct, ub = t->ub_move_num, swc = t->swizzl_count,
          swd = t->swizzl_direct;
  /* Ranges of the packed code's bit fields (COMMDATASPLIT_BNUM ... M0_BNUM). */
  if (!npu_spec_check_keys (obj, keys, path, error)
      || !npu_spec_get_uint (obj, "m0", path, FALSE, m0, 128, 256, &m0, error)
      || !npu_spec_get_uint (obj, "pValue", path, FALSE, p, 1, 15, &p, error)
      || !npu_spec_get_uint (obj, "commDataSplit", path, FALSE, cds, 1, 31, &cds, error)
      || !npu_spec_get_uint (obj, "commNpuSplit", path, FALSE, cns, 1, 1, &cns, error)
      || !npu_spec_get_uint (obj, "commDirect", path, FALSE, cdir, 0, 1, &cdir, error)
      || !npu_spec_get_uint (obj, "ubMoveNum", path, FALSE, ub, 512, 255 * 512, &ub, error)
      || !npu_spec_get_uint (obj, "swizzlCount", path, FALSE, swc, 1, 15, &swc, error)
      || !npu_spec_get_uint (obj, "swizzlDirect", path, FALSE, swd, 0, 1, &swd, error))
    return FALSE;
  if (m0 != 128 && m0 != 256)
    {
      g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO, "%s.m0: must be 128 or 256", path);
      return FALSE;
    }
  if (ub % 512 != 0)
    {
      g_set_error (error, NPU_OP_ERROR, NPU_OP_ERROR_SCENARIO,
                   "%s.ubMoveNum: must be a multiple of 512 elements", path);
      return FALSE;
    }
  set_m0 (t, (gint) m0);
  t->p_value = (gint) p;
  t->comm_data_split = (gint) cds;
  t->comm_npu_split = (gint) cns;
  t->comm_direct = (gint) cdir;
  t->ub_move_num = (gint) ub;
  t->swizzl_count = (gint) swc;
  t->swizzl_direct = (gint) swd;
  t->source = "scenario";
  return TRUE;
}

gint64
agmm_step_rows (const AgmmOp *a, guint s)
{
  gint64 step = (gint64) a->t.m0 * a->t.p_value;
  g_assert (s < a->cal_count);
  return s + 1 < a->cal_count ? step : a->m - (gint64) s * step;
}
