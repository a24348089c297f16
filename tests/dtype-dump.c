/* dtype-dump: converts a raw little-endian array on stdin with npusim's dtype
 * conversions and writes the raw result to stdout, for tests/test-ops-dtype.py.
 *
 *   dtype-dump MODE < input > output
 *
 * MODE        input        output
 * widen-f16   uint16 bits  float32 bits   (npu_f16_to_f32)
 * widen-bf16  uint16 bits  float32 bits
 * widen-e4m3  uint8 bits   float32 bits
 * widen-e5m2  uint8 bits   float32 bits
 * f16         float32      uint16 bits    (npu_f32_to_f16)
 * bf16        float32      uint16 bits
 * e4m3        float32      uint8 bits
 * e5m2        float32      uint8 bits
 * i8          float32      int8
 * i32         float32      int32
 *
 * Every element is converted three ways: by the scalar function, by
 * npu_dtype_load_f32 / npu_dtype_store_f32, and by the bulk array functions; if
 * they disagree the program reports it and exits 1 (so the Python test covers all
 * three entry points). */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "ops/dtype.h"

static gboolean
read_all (GByteArray *buf)
{
  guint8 chunk[65536];
  size_t got;
  while ((got = fread (chunk, 1, sizeof chunk, stdin)) > 0)
    g_byte_array_append (buf, chunk, (guint) got);
  return !ferror (stdin);
}

static guint32
fbits (float x)
{
  guint32 u;
  memcpy (&u, &x, 4);
  return u;
}

static int
widen (NpuDtype dt, const guint8 *in, gsize len)
{
  gsize esz = npu_dtype_size (dt);
  gsize n = len / esz;
  g_autofree float *out = g_new (float, n ? n : 1);
  g_autofree float *bulk = g_new (float, n ? n : 1);
  npu_load_f32_array (dt, in, bulk, n);
  for (gsize i = 0; i < n; i++)
    {
      float x;
      switch (dt)
        {
        case NPU_DT_FP16:
          x = npu_f16_to_f32 (((const guint16 *) in)[i]);
          break;
        case NPU_DT_BF16:
          x = npu_bf16_to_f32 (((const guint16 *) in)[i]);
          break;
        case NPU_DT_FP8_E4M3FN:
          x = npu_e4m3_to_f32 (in[i]);
          break;
        default:
          x = npu_e5m2_to_f32 (in[i]);
          break;
        }
      float y = npu_dtype_load_f32 (dt, in, i);
      if (fbits (x) != fbits (y) || fbits (x) != fbits (bulk[i]))
        {
          g_printerr ("dtype-dump: %s element %zu: scalar %08x, load %08x, bulk %08x\n",
                      npu_dtype_name (dt), i, fbits (x), fbits (y), fbits (bulk[i]));
          return 1;
        }
      out[i] = x;
    }
  fwrite (out, sizeof (float), n, stdout);
  return 0;
}

static int
narrow (NpuDtype dt, const float *in, gsize n)
{
  gsize esz = npu_dtype_size (dt);
  g_autofree guint8 *out = g_malloc0 (n * esz + 1);
  g_autofree guint8 *via_store = g_malloc0 (n * esz + 1);
  g_autofree guint8 *bulk = g_malloc0 (n * esz + 1);
  npu_convert_f32_array (dt, in, bulk, n);
  for (gsize i = 0; i < n; i++)
    {
      npu_dtype_store_f32 (dt, via_store, i, in[i]);
      switch (dt)
        {
        case NPU_DT_FP16:
          ((guint16 *) out)[i] = npu_f32_to_f16 (in[i]);
          break;
        case NPU_DT_BF16:
          ((guint16 *) out)[i] = npu_f32_to_bf16 (in[i]);
          break;
        case NPU_DT_FP8_E4M3FN:
          out[i] = npu_f32_to_e4m3 (in[i]);
          break;
        case NPU_DT_FP8_E5M2:
          out[i] = npu_f32_to_e5m2 (in[i]);
          break;
        case NPU_DT_INT8:
          ((gint8 *) out)[i] = npu_f32_to_i8 (in[i]);
          break;
        case NPU_DT_INT32:
          ((gint32 *) out)[i] = npu_f32_to_i32 (in[i]);
          break;
        default:
          g_assert_not_reached ();
        }
      if (memcmp (out + i * esz, via_store + i * esz, esz) != 0
          || memcmp (out + i * esz, bulk + i * esz, esz) != 0)
        {
          g_printerr ("dtype-dump: %s element %zu (%08x): scalar, store and bulk differ\n",
                      npu_dtype_name (dt), i, fbits (in[i]));
          return 1;
        }
    }
  fwrite (out, esz, n, stdout);
  return 0;
}

int
main (int argc, char **argv)
{
  static const struct {
    const char *mode;
    NpuDtype dt;
    gboolean widen;
  } modes[] = {
    { "widen-f16", NPU_DT_FP16, TRUE }, { "widen-bf16", NPU_DT_BF16, TRUE },
    { "widen-e4m3", NPU_DT_FP8_E4M3FN, TRUE }, { "widen-e5m2", NPU_DT_FP8_E5M2, TRUE },
    { "f16", NPU_DT_FP16, FALSE }, { "bf16", NPU_DT_BF16, FALSE },
    { "e4m3", NPU_DT_FP8_E4M3FN, FALSE }, { "e5m2", NPU_DT_FP8_E5M2, FALSE },
    { "i8", NPU_DT_INT8, FALSE }, { "i32", NPU_DT_INT32, FALSE },
  };
  if (argc != 2)
    {
      g_printerr ("usage: dtype-dump MODE < in > out\n");
      return 2;
    }
  g_autoptr (GByteArray) buf = g_byte_array_new ();
  if (!read_all (buf))
    {
      g_printerr ("dtype-dump: read error\n");
      return 2;
    }
  for (guint i = 0; i < G_N_ELEMENTS (modes); i++)
    if (strcmp (argv[1], modes[i].mode) == 0)
      {
        int rc;
        if (modes[i].widen)
          rc = widen (modes[i].dt, buf->data, buf->len);
        else
          {
            /* copy into float storage: the byte array need not be aligned */
            gsize n = buf->len / 4;
            g_autofree float *in = g_new (float, n ? n : 1);
            memcpy (in, buf->data, n * 4);
            rc = narrow (modes[i].dt, in, n);
          }
        if (fflush (stdout) != 0)
          return 2;
        return rc;
      }
  g_printerr ("dtype-dump: unknown mode %s\n", argv[1]);
  return 2;
}
