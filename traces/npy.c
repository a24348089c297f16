/* npusim — .npy files. See npy.h for the format (numpy.lib.format, version 1.0). */
#include "traces/npy.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <glib/gstdio.h>

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6
#define NPY_ALIGN 64

/* Item size of a numpy type string we support: byte order '<' (or '|' for one-byte
 * types), kind b/i/u/f/c, decimal size. 0 when unsupported. */
static guint
descr_itemsize (const char *descr)
{
  if (descr == NULL || (descr[0] != '<' && descr[0] != '|'))
    return 0;
  if (strchr ("biufc", descr[1]) == NULL || descr[1] == '\0')
    return 0;
  const char *digits = descr + 2;
  if (*digits == '\0' || strlen (digits) > 2)
    return 0;
  guint size = 0;
  for (const char *p = digits; *p != '\0'; p++)
    {
      if (!g_ascii_isdigit (*p))
        return 0;
      size = size * 10 + (guint) (*p - '0');
    }
  if (size != 1 && size != 2 && size != 4 && size != 8 && size != 16)
    return 0;
  if (descr[0] == '|' && size != 1)
    return 0;
  return size;
}

/* prod(shape) * itemsize, FALSE on overflow or a negative extent. */
static gboolean
array_nbytes (guint ndim, const gint64 *shape, guint itemsize, guint64 *out)
{
  guint64 n = itemsize;
  for (guint i = 0; i < ndim; i++)
    {
      if (shape[i] < 0)
        return FALSE;
      if (shape[i] != 0 && n > G_MAXUINT64 / (guint64) shape[i])
        return FALSE;
      n *= (guint64) shape[i];
    }
  *out = n;
  return TRUE;
}

static void
set_io_error (GError **error, int errsv, const char *what, const char *path)
{
  g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errsv),
               "%s %s: %s", what, path, g_strerror (errsv));
}

gboolean
npu_npy_write (const char *path, const char *descr, guint ndim, const gint64 *shape,
               gconstpointer data, guint64 nbytes, GError **error)
{
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (ndim == 0 || shape != NULL, FALSE);
  g_return_val_if_fail (data != NULL || nbytes == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  guint itemsize = descr_itemsize (descr);
  g_return_val_if_fail (itemsize != 0, FALSE);
  guint64 expected;
  g_return_val_if_fail (array_nbytes (ndim, shape, itemsize, &expected), FALSE);
  g_return_val_if_fail (expected == nbytes, FALSE);

  /* The dict exactly as numpy writes it; "(3,)" for 1-D, "()" for 0-D. */
  g_autoptr (GString) header = g_string_new (NULL);
  g_string_append_printf (header, "{'descr': '%s', 'fortran_order': False, 'shape': (",
                          descr);
  for (guint i = 0; i < ndim; i++)
    g_string_append_printf (header, i == 0 ? "%" G_GINT64_FORMAT : ", %" G_GINT64_FORMAT,
                            shape[i]);
  if (ndim == 1)
    g_string_append_c (header, ',');
  g_string_append (header, "), }");
  /* Pad with spaces so that magic + version + length + dict + '\n' is a multiple of
   * 64 bytes. */
  gsize prefix = NPY_MAGIC_LEN + 2 + 2;
  gsize total = prefix + header->len + 1;
  gsize pad = (NPY_ALIGN - total % NPY_ALIGN) % NPY_ALIGN;
  for (gsize i = 0; i < pad; i++)
    g_string_append_c (header, ' ');
  g_string_append_c (header, '\n');
  g_return_val_if_fail (header->len <= G_MAXUINT16, FALSE);

  guint8 preamble[10];
  memcpy (preamble, NPY_MAGIC, NPY_MAGIC_LEN);
  preamble[6] = 1;  /* format version 1.0 */
  preamble[7] = 0;
  preamble[8] = (guint8) (header->len & 0xff);
  preamble[9] = (guint8) (header->len >> 8);

  FILE *fp = g_fopen (path, "wb");
  if (fp == NULL)
    {
      set_io_error (error, errno, "Cannot create", path);
      return FALSE;
    }
  int errsv = 0;
  errno = 0;
  if (fwrite (preamble, 1, sizeof preamble, fp) != sizeof preamble
      || fwrite (header->str, 1, header->len, fp) != header->len
      || (nbytes > 0 && fwrite (data, 1, nbytes, fp) != nbytes)
      || fflush (fp) != 0)
    errsv = errno != 0 ? errno : EIO;
  if (fclose (fp) != 0 && errsv == 0)
    errsv = errno != 0 ? errno : EIO;
  if (errsv != 0)
    {
      set_io_error (error, errsv, "Cannot write", path);
      g_unlink (path);
      return FALSE;
    }
  return TRUE;
}

/* ---- reading: a parser for the header's Python dict literal ------------------ */

typedef struct {
  const char *p, *end;
} Cursor;

static void
skip_ws (Cursor *c)
{
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
    c->p++;
}

static gboolean
eat (Cursor *c, char ch)
{
  skip_ws (c);
  if (c->p < c->end && *c->p == ch)
    {
      c->p++;
      return TRUE;
    }
  return FALSE;
}

/* A quoted Python string without escapes (keys and dtype strings never have any). */
static char *
parse_string (Cursor *c)
{
  skip_ws (c);
  if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
    return NULL;
  char q = *c->p++;
  const char *start = c->p;
  while (c->p < c->end && *c->p != q)
    {
      if (*c->p == '\\')
        return NULL;
      c->p++;
    }
  if (c->p >= c->end)
    return NULL;
  char *s = g_strndup (start, (gsize) (c->p - start));
  c->p++;
  return s;
}

static gboolean
parse_word (Cursor *c, const char *word)
{
  skip_ws (c);
  gsize n = strlen (word);
  if ((gsize) (c->end - c->p) >= n && strncmp (c->p, word, n) == 0)
    {
      c->p += n;
      return TRUE;
    }
  return FALSE;
}

/* "(a, b, ...)" with an optional trailing comma; Python 2 files may add 'L'. */
static gboolean
parse_shape (Cursor *c, GArray *shape)
{
  if (!eat (c, '('))
    return FALSE;
  for (;;)
    {
      if (eat (c, ')'))
        return TRUE;
      skip_ws (c);
      if (c->p >= c->end || !g_ascii_isdigit (*c->p))
        return FALSE;
      gint64 v = 0;
      while (c->p < c->end && g_ascii_isdigit (*c->p))
        {
          if (v > (G_MAXINT64 - 9) / 10)
            return FALSE;
          v = v * 10 + (*c->p++ - '0');
        }
      if (c->p < c->end && *c->p == 'L')
        c->p++;
      g_array_append_val (shape, v);
      if (eat (c, ')'))
        return TRUE;
      if (!eat (c, ','))
        return FALSE;
    }
}

static gboolean
parse_header (const char *text, gsize len, char **descr, GArray *shape,
              gboolean *fortran, const char **why)
{
  Cursor c = { text, text + len };
  gboolean have_descr = FALSE, have_fortran = FALSE, have_shape = FALSE;
  if (!eat (&c, '{'))
    return (*why = "header is not a dict", FALSE);
  for (;;)
    {
      if (eat (&c, '}'))
        break;
      g_autofree char *key = parse_string (&c);
      if (key == NULL || !eat (&c, ':'))
        return (*why = "malformed header key", FALSE);
      if (g_str_equal (key, "descr"))
        {
          g_free (*descr);
          *descr = parse_string (&c);
          if (*descr == NULL)
            return (*why = "descr is not a plain dtype string (structured dtype?)", FALSE);
          have_descr = TRUE;
        }
      else if (g_str_equal (key, "fortran_order"))
        {
          if (parse_word (&c, "False"))
            *fortran = FALSE;
          else if (parse_word (&c, "True"))
            *fortran = TRUE;
          else
            return (*why = "fortran_order is not True or False", FALSE);
          have_fortran = TRUE;
        }
      else if (g_str_equal (key, "shape"))
        {
          g_array_set_size (shape, 0);
          if (!parse_shape (&c, shape))
            return (*why = "malformed shape", FALSE);
          have_shape = TRUE;
        }
      else
        return (*why = "unknown header key", FALSE);
      if (eat (&c, '}'))
        break;
      if (!eat (&c, ','))
        return (*why = "malformed header dict", FALSE);
    }
  if (!have_descr || !have_fortran || !have_shape)
    return (*why = "header lacks descr, fortran_order or shape", FALSE);
  return TRUE;
}

static gboolean
read_exact (FILE *fp, void *buf, gsize n, const char *path, GError **error)
{
  errno = 0;
  if (n > 0 && fread (buf, 1, n, fp) != n)
    {
      if (ferror (fp))
        set_io_error (error, errno != 0 ? errno : EIO, "Cannot read", path);
      else
        g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                     "%s: truncated .npy file", path);
      return FALSE;
    }
  return TRUE;
}

gboolean
npu_npy_read (const char *path, char **descr_out, guint *ndim_out, gint64 **shape_out,
              gpointer *data_out, guint64 *nbytes_out, GError **error)
{
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (descr_out != NULL && ndim_out != NULL && shape_out != NULL, FALSE);
  g_return_val_if_fail (data_out != NULL && nbytes_out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  FILE *fp = g_fopen (path, "rb");
  if (fp == NULL)
    {
      set_io_error (error, errno, "Cannot open", path);
      return FALSE;
    }

  gboolean ok = FALSE;
  g_autofree char *header = NULL;
  g_autofree char *descr = NULL;
  g_autoptr (GArray) shape = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autofree guint8 *data = NULL;
  guint8 pre[12];
  guint32 hlen;
  gboolean fortran = FALSE;
  const char *why = NULL;
  guint itemsize;
  guint64 nbytes;

  if (!read_exact (fp, pre, 8, path, error))
    goto out;
  if (memcmp (pre, NPY_MAGIC, NPY_MAGIC_LEN) != 0)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: not a .npy file", path);
      goto out;
    }
  /* 1.0: 16-bit header length; 2.0 and 3.0 (UTF-8 header): 32-bit. */
  if (pre[6] == 1 && pre[7] == 0)
    {
      if (!read_exact (fp, pre + 8, 2, path, error))
        goto out;
      hlen = (guint32) pre[8] | (guint32) pre[9] << 8;
    }
  else if ((pre[6] == 2 || pre[6] == 3) && pre[7] == 0)
    {
      if (!read_exact (fp, pre + 8, 4, path, error))
        goto out;
      hlen = (guint32) pre[8] | (guint32) pre[9] << 8 | (guint32) pre[10] << 16
             | (guint32) pre[11] << 24;
      if (hlen > (1u << 24))
        {
          g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                       "%s: implausible .npy header length %u", path, hlen);
          goto out;
        }
    }
  else
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                   "%s: unsupported .npy format version %u.%u", path, pre[6], pre[7]);
      goto out;
    }

  header = g_malloc (hlen + 1);
  if (!read_exact (fp, header, hlen, path, error))
    goto out;
  header[hlen] = '\0';
  if (!parse_header (header, hlen, &descr, shape, &fortran, &why))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: bad .npy header: %s",
                   path, why);
      goto out;
    }
  if (fortran)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                   "%s: Fortran-order arrays are not supported", path);
      goto out;
    }
  itemsize = descr_itemsize (descr);
  if (itemsize == 0)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                   "%s: unsupported dtype '%s' (need little-endian b/i/u/f/c)", path, descr);
      goto out;
    }
  if (!array_nbytes (shape->len, (const gint64 *) shape->data, itemsize, &nbytes)
      || nbytes > G_MAXSIZE)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: array too large", path);
      goto out;
    }
  data = g_malloc (nbytes);
  if (!read_exact (fp, data, nbytes, path, error))
    goto out;

  *descr_out = g_steal_pointer (&descr);
  *ndim_out = shape->len;
  *shape_out = g_new0 (gint64, MAX (shape->len, 1));
  if (shape->len > 0)
    memcpy (*shape_out, shape->data, shape->len * sizeof (gint64));
  *data_out = g_steal_pointer (&data);
  *nbytes_out = nbytes;
  ok = TRUE;

out:
  fclose (fp);
  return ok;
}
