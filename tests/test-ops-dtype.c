/* Unit tests of ops/dtype.c: metadata, hand-derived conversion values, element
 * access for every dtype. (The exhaustive / random comparison with NumPy is
 * tests/test-ops-dtype.py.) */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "ops/dtype.h"

static float
f_bits (guint32 u)
{
  float x;
  memcpy (&x, &u, 4);
  return x;
}

static guint32
bits_f (float x)
{
  guint32 u;
  memcpy (&u, &x, 4);
  return u;
}

static void
test_metadata (void)
{
  static const struct {
    NpuDtype dt;
    gsize size;
    const char *name, *alias, *npy;
    gboolean is_float;
  } want[] = {
    { NPU_DT_FP32, 4, "float32", "fp32", "<f4", TRUE },
    { NPU_DT_FP16, 2, "float16", "fp16", "<f2", TRUE },
    { NPU_DT_BF16, 2, "bfloat16", "bf16", "<u2", TRUE },
    { NPU_DT_FP8_E4M3FN, 1, "float8_e4m3fn", "fp8_e4m3fn", "|u1", TRUE },
    { NPU_DT_FP8_E5M2, 1, "float8_e5m2", "fp8_e5m2", "|u1", TRUE },
    { NPU_DT_INT8, 1, "int8", NULL, "|i1", FALSE },
    { NPU_DT_INT32, 4, "int32", NULL, "<i4", FALSE },
    { NPU_DT_INT64, 8, "int64", NULL, "<i8", FALSE },
    { NPU_DT_UINT64, 8, "uint64", NULL, "<u8", FALSE },
  };
  g_assert_cmpuint (G_N_ELEMENTS (want), ==, NPU_DT_N_TYPES);
  for (guint i = 0; i < G_N_ELEMENTS (want); i++)
    {
      NpuDtype got = NPU_DT_N_TYPES;
      g_assert_cmpuint (npu_dtype_size (want[i].dt), ==, want[i].size);
      g_assert_cmpstr (npu_dtype_name (want[i].dt), ==, want[i].name);
      g_assert_cmpstr (npu_dtype_npy_descr (want[i].dt), ==, want[i].npy);
      g_assert_cmpint (npu_dtype_is_float (want[i].dt), ==, want[i].is_float);
      g_assert_true (npu_dtype_from_name (want[i].name, &got));
      g_assert_cmpint (got, ==, want[i].dt);
      if (want[i].alias)
        {
          got = NPU_DT_N_TYPES;
          g_assert_true (npu_dtype_from_name (want[i].alias, &got));
          g_assert_cmpint (got, ==, want[i].dt);
        }
    }
  NpuDtype untouched = NPU_DT_INT8;
  g_assert_false (npu_dtype_from_name ("float", &untouched));
  g_assert_false (npu_dtype_from_name ("", &untouched));
  g_assert_false (npu_dtype_from_name ("FLOAT32", &untouched));
  g_assert_cmpint (untouched, ==, NPU_DT_INT8);
}

/* Values derived by hand from the formats: fp16 = 1+5+10 bits, bias 15. */
static void
test_fp16 (void)
{
  g_assert_cmphex (npu_f32_to_f16 (1.0f), ==, 0x3c00);
  g_assert_cmphex (npu_f32_to_f16 (-2.0f), ==, 0xc000);
  g_assert_cmphex (npu_f32_to_f16 (0.0f), ==, 0x0000);
  g_assert_cmphex (npu_f32_to_f16 (-0.0f), ==, 0x8000);
  g_assert_cmphex (npu_f32_to_f16 (65504.0f), ==, 0x7bff);
  /* 65520 would round to inf in IEEE; Ascend saturates */
  g_assert_cmphex (npu_f32_to_f16 (65520.0f), ==, 0x7bff);
  g_assert_cmphex (npu_f32_to_f16 (-1e10f), ==, 0xfbff);
  g_assert_cmphex (npu_f32_to_f16 (INFINITY), ==, 0x7c00);
  g_assert_cmphex (npu_f32_to_f16 (-INFINITY), ==, 0xfc00);
  /* 1 + 2^-11 is the tie between 1 and 1 + 2^-10: even -> 1 */
  g_assert_cmphex (npu_f32_to_f16 (1.0f + 0x1p-11f), ==, 0x3c00);
  /* 1 + 3*2^-11: tie between 0x3c01 and 0x3c02 -> even 0x3c02 */
  g_assert_cmphex (npu_f32_to_f16 (1.0f + 0x3p-11f), ==, 0x3c02);
  g_assert_cmphex (npu_f32_to_f16 (f_bits (0x3f801001u)), ==, 0x3c01); /* just above */
  /* subnormals: 2^-24 = 0x0001, 2^-25 ties to 0, 3*2^-25 ties to 2 */
  g_assert_cmphex (npu_f32_to_f16 (0x1p-24f), ==, 0x0001);
  g_assert_cmphex (npu_f32_to_f16 (0x1p-25f), ==, 0x0000);
  g_assert_cmphex (npu_f32_to_f16 (0x1.000002p-25f), ==, 0x0001);
  g_assert_cmphex (npu_f32_to_f16 (0x3p-25f), ==, 0x0002);
  /* largest subnormal 1023*2^-24 and the rounding up into the smallest normal */
  g_assert_cmphex (npu_f32_to_f16 (0x3ffp-24f), ==, 0x03ff);
  g_assert_cmphex (npu_f32_to_f16 (0x7ffp-25f), ==, 0x0400);
  g_assert_cmphex (npu_f32_to_f16 (0x1p-14f), ==, 0x0400);
  g_assert_cmphex (npu_f32_to_f16 (f_bits (0x00000001)), ==, 0x0000);

  g_assert_cmpfloat (npu_f16_to_f32 (0x3c00), ==, 1.0f);
  g_assert_cmpfloat (npu_f16_to_f32 (0x7bff), ==, 65504.0f);
  g_assert_cmpfloat (npu_f16_to_f32 (0x0001), ==, 0x1p-24f);
  g_assert_cmpfloat (npu_f16_to_f32 (0x03ff), ==, 0x3ffp-24f);
  g_assert_cmphex (bits_f (npu_f16_to_f32 (0x8000)), ==, 0x80000000u);
  g_assert_true (isinf (npu_f16_to_f32 (0xfc00)) && npu_f16_to_f32 (0xfc00) < 0);
  g_assert_cmphex (bits_f (npu_f16_to_f32 (0x7c01)), ==, 0x7fc02000u); /* sNaN quieted */
  g_assert_cmphex (npu_f32_to_f16 (f_bits (0xffc00000u)), ==, 0xfe00);
}

static void
test_bf16 (void)
{
  g_assert_cmphex (npu_f32_to_bf16 (1.0f), ==, 0x3f80);
  g_assert_cmphex (npu_f32_to_bf16 (f_bits (0x3f808000u)), ==, 0x3f80); /* tie, even */
  g_assert_cmphex (npu_f32_to_bf16 (f_bits (0x3f818000u)), ==, 0x3f82); /* tie, even */
  g_assert_cmphex (npu_f32_to_bf16 (f_bits (0x3f808001u)), ==, 0x3f81);
  g_assert_cmphex (npu_f32_to_bf16 (f_bits (0x7f7f7fffu)), ==, 0x7f7f);
  g_assert_cmphex (npu_f32_to_bf16 (f_bits (0x7f7f8000u)), ==, 0x7f80); /* overflow -> inf */
  g_assert_cmphex (npu_f32_to_bf16 (-3.4e38f), ==, 0xff80);
  g_assert_cmphex (npu_f32_to_bf16 (f_bits (0x00018000u)), ==, 0x0002); /* subnormal tie */
  g_assert_cmphex (npu_f32_to_bf16 (f_bits (0x7f800001u)), ==, 0x7fc0); /* sNaN -> qNaN */
  g_assert_cmpfloat (npu_bf16_to_f32 (0x4049), ==, 3.140625f);
  g_assert_cmphex (bits_f (npu_bf16_to_f32 (0x0001)), ==, 0x00010000u);
}

static void
test_fp8 (void)
{
  /* e4m3fn: bias 7, max S.1111.110 = 1.75 * 2^8 = 448, min subnormal 2^-9 */
  g_assert_cmphex (npu_f32_to_e4m3 (1.0f), ==, 0x38);
  g_assert_cmphex (npu_f32_to_e4m3 (448.0f), ==, 0x7e);
  g_assert_cmphex (npu_f32_to_e4m3 (464.0f), ==, 0x7e);
  g_assert_cmphex (npu_f32_to_e4m3 (1e30f), ==, 0x7e);
  g_assert_cmphex (npu_f32_to_e4m3 (-INFINITY), ==, 0xfe);
  g_assert_cmphex (npu_f32_to_e4m3 (NAN), ==, 0x7f);
  g_assert_cmphex (npu_f32_to_e4m3 (0x1p-9f), ==, 0x01);
  g_assert_cmphex (npu_f32_to_e4m3 (0x1p-10f), ==, 0x00);
  g_assert_cmphex (npu_f32_to_e4m3 (0x3p-10f), ==, 0x02);
  g_assert_cmphex (npu_f32_to_e4m3 (-0x7p-9f), ==, 0x87);
  g_assert_cmphex (npu_f32_to_e4m3 (0x1.1p0f), ==, 0x38); /* 1 + 1/16: tie -> even 1.0 */
  g_assert_cmphex (npu_f32_to_e4m3 (0x1.3p0f), ==, 0x3a); /* 1 + 3/16: tie -> 1.25 */
  g_assert_cmpfloat (npu_e4m3_to_f32 (0x7e), ==, 448.0f);
  g_assert_cmpfloat (npu_e4m3_to_f32 (0x07), ==, 0x7p-9f);
  g_assert_cmpfloat (npu_e4m3_to_f32 (0x08), ==, 0x1p-6f);
  g_assert_true (isnan (npu_e4m3_to_f32 (0xff)));
  g_assert_cmpfloat (npu_e4m3_to_f32 (0x78), ==, 256.0f); /* S.1111.000 is a number */

  /* e5m2: bias 15, max 1.75 * 2^15 = 57344, inf 0x7c, min subnormal 2^-16 */
  g_assert_cmphex (npu_f32_to_e5m2 (1.0f), ==, 0x3c);
  g_assert_cmphex (npu_f32_to_e5m2 (57344.0f), ==, 0x7b);
  g_assert_cmphex (npu_f32_to_e5m2 (65536.0f), ==, 0x7b);
  g_assert_cmphex (npu_f32_to_e5m2 (INFINITY), ==, 0x7c);
  g_assert_cmphex (npu_f32_to_e5m2 (-NAN) & 0x7c, ==, 0x7c);
  g_assert_cmphex (npu_f32_to_e5m2 (0x1p-16f), ==, 0x01);
  g_assert_cmphex (npu_f32_to_e5m2 (0x1p-17f), ==, 0x00);
  g_assert_cmphex (npu_f32_to_e5m2 (0x1.2p0f), ==, 0x3c); /* 1 + 1/8: tie -> 1.0 */
  g_assert_cmphex (npu_f32_to_e5m2 (0x1.6p0f), ==, 0x3e); /* 1 + 3/8: tie -> 1.5 */
  g_assert_cmpfloat (npu_e5m2_to_f32 (0x7b), ==, 57344.0f);
  g_assert_cmpfloat (npu_e5m2_to_f32 (0x03), ==, 0x3p-16f);
  g_assert_true (isinf (npu_e5m2_to_f32 (0xfc)));
  g_assert_true (isnan (npu_e5m2_to_f32 (0x7d)));
}

static void
test_int (void)
{
  g_assert_cmpint (npu_f32_to_i8 (2.5f), ==, 2);
  g_assert_cmpint (npu_f32_to_i8 (3.5f), ==, 4);
  g_assert_cmpint (npu_f32_to_i8 (-2.5f), ==, -2);
  g_assert_cmpint (npu_f32_to_i8 (-0.5f), ==, 0);
  g_assert_cmpint (npu_f32_to_i8 (127.4f), ==, 127);
  g_assert_cmpint (npu_f32_to_i8 (127.5f), ==, 127);
  g_assert_cmpint (npu_f32_to_i8 (200.0f), ==, 127);
  g_assert_cmpint (npu_f32_to_i8 (-128.5f), ==, -128);
  g_assert_cmpint (npu_f32_to_i8 (-1e9f), ==, -128);
  g_assert_cmpint (npu_f32_to_i8 (INFINITY), ==, 127);
  g_assert_cmpint (npu_f32_to_i8 (-INFINITY), ==, -128);
  g_assert_cmpint (npu_f32_to_i8 (NAN), ==, 0);

  g_assert_cmpint (npu_f32_to_i32 (0x1p31f), ==, G_MAXINT32);
  g_assert_cmpint (npu_f32_to_i32 (-0x1p31f), ==, G_MININT32);
  g_assert_cmpint (npu_f32_to_i32 (2147483520.0f), ==, 2147483520);
  g_assert_cmpint (npu_f32_to_i32 (-1e20f), ==, G_MININT32);
  g_assert_cmpint (npu_f32_to_i32 (1000000.5f), ==, 1000000);
  g_assert_cmpint (npu_f32_to_i32 (1000001.5f), ==, 1000002);
  g_assert_cmpint (npu_f32_to_i32 (NAN), ==, 0);
  g_assert_cmpint (npu_f32_to_i32 (INFINITY), ==, G_MAXINT32);
}

/* load/store through the generic element accessors for every dtype */
static void
test_load_store (void)
{
  static const float xs[] = { 0.0f, 1.0f, -2.5f, 3.5f, 100.25f, -7.0f };
  for (guint dt = 0; dt < NPU_DT_N_TYPES; dt++)
    {
      guint8 buf[8 * G_N_ELEMENTS (xs)];
      for (guint i = 0; i < G_N_ELEMENTS (xs); i++)
        npu_dtype_store_f32 (dt, buf, i, xs[i]);
      for (guint i = 0; i < G_N_ELEMENTS (xs); i++)
        {
          float y = npu_dtype_load_f32 (dt, buf, i);
          float want;
          switch (dt)
            {
            case NPU_DT_FP32:
            case NPU_DT_FP16:
            case NPU_DT_BF16:
              want = xs[i]; /* all exactly representable (100.25 = 401/4: 9 bits) */
              if (dt == NPU_DT_BF16 && xs[i] == 100.25f)
                want = 100.0f; /* 8-bit significand: 100.25 ties between 100 and 100.5 -> even */
              break;
            case NPU_DT_FP8_E4M3FN:
            case NPU_DT_FP8_E5M2:
              /* e4m3: 100.25 -> 96 or 104 (spacing 8), nearer 104; e5m2 spacing 16:
               * 96 or 112 -> 96; 3.5 = 1.75*2 fits both; -2.5 = 1.25*2 fits both */
              want = xs[i] == 100.25f ? (dt == NPU_DT_FP8_E4M3FN ? 104.0f : 96.0f) : xs[i];
              break;
            case NPU_DT_UINT64:
              /* RINT, negatives saturate to 0: 3.5 -> 4, 100.25 -> 100 */
              want = xs[i] < 0 ? 0.0f : xs[i] == 3.5f ? 4.0f : xs[i] == 100.25f ? 100.0f : xs[i];
              break;
            default:
              /* RINT: -2.5 -> -2, 3.5 -> 4, 100.25 -> 100 */
              want = xs[i] == -2.5f ? -2.0f : xs[i] == 3.5f ? 4.0f : xs[i] == 100.25f ? 100.0f : xs[i];
              break;
            }
          if (y != want)
            g_error ("%s: stored %g, loaded %g, want %g", npu_dtype_name (dt), xs[i], y, want);
        }
    }
  /* integer edge cases of the 64-bit types */
  gint64 i64[2];
  guint64 u64[2];
  npu_dtype_store_f32 (NPU_DT_INT64, i64, 0, 1e30f);
  npu_dtype_store_f32 (NPU_DT_INT64, i64, 1, NAN);
  g_assert_cmpint (i64[0], ==, G_MAXINT64);
  g_assert_cmpint (i64[1], ==, 0);
  npu_dtype_store_f32 (NPU_DT_UINT64, u64, 0, 0x1p63f);
  npu_dtype_store_f32 (NPU_DT_UINT64, u64, 1, -1.0f);
  g_assert_cmpuint (u64[0], ==, G_GUINT64_CONSTANT (1) << 63);
  g_assert_cmpuint (u64[1], ==, 0);
  gint32 i32 = 16777217; /* 2^24 + 1: the int32 -> float conversion rounds (to even) */
  g_assert_cmpfloat (npu_dtype_load_f32 (NPU_DT_INT32, &i32, 0), ==, 16777216.0f);
}

static void
test_arrays (void)
{
  float src[5] = { 1.0f, 0.1f, -65536.0f, 0x1p-30f, 300.0f };
  guint16 h[5];
  gint8 q[5];
  float back[5];
  npu_convert_f32_array (NPU_DT_FP16, src, h, 5);
  g_assert_cmphex (h[0], ==, 0x3c00);
  g_assert_cmphex (h[1], ==, 0x2e66); /* 0.1 = 0x3dcccccd -> 1.6 * 2^-4 -> 0x2e66 */
  g_assert_cmphex (h[2], ==, 0xfbff);
  g_assert_cmphex (h[3], ==, 0x0000);
  npu_load_f32_array (NPU_DT_FP16, h, back, 5);
  g_assert_cmpfloat (back[1], ==, 0x1.998p-4f);
  npu_convert_f32_array (NPU_DT_INT8, src, q, 5);
  g_assert_cmpint (q[0], ==, 1);
  g_assert_cmpint (q[1], ==, 0);
  g_assert_cmpint (q[2], ==, -128);
  g_assert_cmpint (q[4], ==, 127);
  npu_convert_f32_array (NPU_DT_FP32, src, back, 5);
  g_assert_cmpmem (back, sizeof back, src, sizeof src);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ops/dtype/metadata", test_metadata);
  g_test_add_func ("/ops/dtype/fp16", test_fp16);
  g_test_add_func ("/ops/dtype/bf16", test_bf16);
  g_test_add_func ("/ops/dtype/fp8", test_fp8);
  g_test_add_func ("/ops/dtype/int", test_int);
  g_test_add_func ("/ops/dtype/load-store", test_load_store);
  g_test_add_func ("/ops/dtype/arrays", test_arrays);
  return g_test_run ();
}
