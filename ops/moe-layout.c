/* npusim — who sends which row where, and in which order rows land in expandX
 * (REFERENCE.md 4.1 and 9.1-9.2, the A3 MTE kernel moe_distribute_dispatch_v2.h; the
 * A2 kernel moe_distribute_dispatch_a2.h gives the same orders without shared experts).
 *
 * On each source rank the (token, k) entries are compacted (xActiveMask, zero experts
 * removed) into one list in flattened order t * K + k; an entry's position in its
 * (source, expert) window block is the number of earlier list entries with the same
 * expert (CalTokenSendExpertCnt) — also the V1 expandIdx. A MoE expert rank emits its
 * blocks in status-index order i = localExpert * W + srcRank (expert major), a
 * shared-expert rank in source order; each block keeps the source's order. With TP 2
 * the TP peer's rows follow the rank's own rows (REFERENCE 9.2). */
#include "ops/moe-private.h"
#include <string.h>

static void
rank_clear (MoeRankLayout *r)
{
  g_free (r->blk_count);
  g_free (r->blk_first);
  g_free (r->triple);
  g_free (r->row_slot);
  g_free (r->dst_ep);
  g_free (r->dst_row);
  g_free (r->expand_idx);
  g_free (r->send_slot);
  g_free (r->send_shared);
}

void
moe_layout_free (MoeLayout *l)
{
  if (l == NULL)
    return;
  for (guint g = 0; g < l->n; g++)
    rank_clear (&l->r[g]);
  g_free (l->r);
  g_free (l);
}

/* Is entry (t, k) of source g sent to a routed expert? */
static gboolean
entry_valid (const MoeAttrs *a, const MoeRouting *rt, guint g, guint t, guint k,
             guint n_active)
{
  if (t >= n_active)
    return FALSE;
  if (a->mask_dims == 2 && !rt->mask[g][t * a->k + k])
    return FALSE;
  return (guint) rt->ids[g][t * a->k + k] < a->moe_experts;
}

MoeLayout *
moe_layout_new (const MoeAttrs *a, const MoeRouting *rt)
{
  MoeLayout *l = g_new0 (MoeLayout, 1);
  guint n = a->n, W = a->ep, K = a->k, S = a->shared_ranks, SE = a->shared_experts;
  guint L = moe_local_experts (a);
  guint64 max_bs = moe_axis_max_bs (a);
  l->n = n;
  l->r = g_new0 (MoeRankLayout, n);
  l->L = L;
  l->slots_per_token = K + SE;
  guint R = SE > 0 ? S / SE : 1; /* ranks per shared expert */

  /* Receive blocks first (counts), per destination. */
  for (guint g = 0; g < n; g++)
    {
      MoeRankLayout *r = &l->r[g];
      guint e = g / a->tpn;
      r->n_blocks = moe_is_shared_rank (a, e) ? W : W * L;
      r->blk_count = g_new0 (guint, r->n_blocks);
      r->blk_first = g_new0 (guint, r->n_blocks);
    }

  /* Send side: compacted list, destinations, positions; counts into the blocks. */
  for (guint g = 0; g < n; g++)
    {
      MoeRankLayout *r = &l->r[g];
      guint s = g / a->tpn, bs = a->bs[g];
      r->n_slots = bs * (K + SE);
      r->dst_ep = g_new (gint32, MAX (r->n_slots, 1));
      r->dst_row = g_new (gint32, MAX (r->n_slots, 1));
      for (guint i = 0; i < r->n_slots; i++)
        r->dst_ep[i] = r->dst_row[i] = -1;
      r->expand_idx = g_new0 (gint32, (gsize) bs * K + 1);
      guint n_active = bs;
      if (a->mask_dims == 1)
        {
          n_active = 0;
          while (n_active < bs && rt->mask[g][n_active])
            n_active++;
        }
      r->n_active = n_active;
      r->send_slot = g_new0 (guint, (gsize) bs * K + 1);
      g_autofree guint *per_expert = g_new0 (guint, a->moe_experts);
      for (guint t = 0; t < bs; t++)
        for (guint k = 0; k < K; k++)
          {
            if (!entry_valid (a, rt, g, t, k, n_active))
              continue;
            guint ex = (guint) rt->ids[g][t * K + k];
            guint cnt = per_expert[ex]++;
            guint d_ep = ex / L + S, le = ex % L;
            guint d = moe_peer (a, g, d_ep);
            r->expand_idx[t * K + k] = (gint32) cnt;
            r->send_slot[r->n_send++] = t * (K + SE) + k;
            r->dst_ep[t * (K + SE) + k] = (gint32) d_ep;
            /* provisional: position in the block; the block base is added below */
            r->dst_row[t * (K + SE) + k] = (gint32) cnt;
            l->r[d].blk_count[le * W + s]++;
          }
      /* Tokens that take part in shared-expert sends: every active token (1-D mask) or
       * every token with a valid routed entry (2-D mask / zero experts). */
      if (SE > 0)
        {
          g_autofree guint *valid_tok = g_new0 (guint, bs + 1);
          guint nv = 0;
          for (guint t = 0; t < n_active; t++)
            {
              gboolean any = a->mask_dims != 2 && a->zero_experts == 0;
              for (guint k = 0; !any && k < K; k++)
                any = entry_valid (a, rt, g, t, k, n_active);
              if (any)
                valid_tok[nv++] = t;
            }
          r->send_shared = g_new0 (guint, (gsize) nv * SE + 1);
          for (guint si = 0; si < SE; si++)
            for (guint p = 0; p < nv; p++)
              {
                guint t = valid_tok[p];
                guint d_ep = (s % R) + si * R;
                guint d = moe_peer (a, g, d_ep);
                guint slot = t * (K + SE) + K + si;
                r->send_shared[r->n_send_shared++] = slot;
                r->dst_ep[slot] = (gint32) d_ep;
                r->dst_row[slot] = (gint32) p;
                l->r[d].blk_count[s]++;
              }
        }
    }

  /* Block bases (status-index order) and the triples. */
  for (guint g = 0; g < n; g++)
    {
      MoeRankLayout *r = &l->r[g];
      guint row = 0;
      for (guint i = 0; i < r->n_blocks; i++)
        {
          r->blk_first[i] = row;
          row += r->blk_count[i];
        }
      r->rows_own = row;
      r->triple = g_new0 (gint32, (gsize) row * 3 + 1);
      r->row_slot = g_new0 (guint, (gsize) row + 1);
    }
  for (guint g = 0; g < n; g++)
    {
      MoeRankLayout *r = &l->r[g];
      guint s = g / a->tpn;
      for (guint slot = 0; slot < r->n_slots; slot++)
        {
          if (r->dst_ep[slot] < 0)
            continue;
          guint t = slot / (K + SE), j = slot % (K + SE);
          guint d = moe_peer (a, g, (guint) r->dst_ep[slot]);
          MoeRankLayout *rd = &l->r[d];
          guint pos = (guint) r->dst_row[slot], blk, win_block;
          if (j < K)
            {
              guint le = (guint) rt->ids[g][t * K + j] % L;
              blk = le * W + s;
              win_block = s * L + le;
            }
          else
            {
              blk = s;
              win_block = s;
            }
          guint row = rd->blk_first[blk] + pos;
          r->dst_row[slot] = (gint32) row;
          rd->triple[row * 3] = (gint32) s;
          rd->triple[row * 3 + 1] = (gint32) t;
          rd->triple[row * 3 + 2] = (gint32) j;
          rd->row_slot[row] = (guint) (win_block * max_bs + pos);
        }
    }
  for (guint g = 0; g < n; g++)
    {
      MoeRankLayout *r = &l->r[g];
      guint peer = a->tpn > 1 ? (g ^ 1u) : g;
      r->rows = r->rows_own + (a->tpn > 1 ? l->r[peer].rows_own : 0);
      l->max_rows = MAX (l->max_rows, r->rows);
      l->total_rows += r->rows_own;
    }
  return l;
}

void
moe_layout_ep_recv (const MoeAttrs *a, const MoeLayout *l, guint g, gint32 *out, guint *n_out)
{
  /* Inclusive prefix sums over the status index, then (TP 2) the peer's own. */
  guint n = 0;
  for (guint part = 0; part < a->tpn; part++)
    {
      const MoeRankLayout *r = &l->r[part == 0 ? g : (g ^ 1u)];
      gint32 acc = 0;
      for (guint i = 0; i < r->n_blocks; i++)
        {
          acc += (gint32) r->blk_count[i];
          out[n++] = acc;
        }
    }
  *n_out = n;
}

guint
moe_layout_active_tokens (const MoeAttrs *a, const MoeLayout *l, guint g, guint *tok)
{
  const MoeRankLayout *r = &l->r[g];
  guint slots = a->k + a->shared_experts, nt = 0;
  for (guint t = 0; t < a->bs[g]; t++)
    for (guint j = 0; j < slots; j++)
      if (r->dst_ep[t * slots + j] >= 0)
        {
          tok[nt++] = t;
          break;
        }
  return nt;
}

void
moe_layout_token_nums (const MoeAttrs *a, const MoeLayout *l, guint g, gint64 *out,
                       guint *n_out)
{
  const MoeRankLayout *r = &l->r[g];
  guint e = g / a->tpn;
  guint peer_rows = a->tpn > 1 ? l->r[g ^ 1u].rows_own : 0;
  if (moe_is_shared_rank (a, e))
    {
      out[0] = (gint64) r->rows_own + peer_rows;
      *n_out = 1;
      return;
    }
  guint L = l->L, W = a->ep;
  gint64 acc = 0;
  for (guint le = 0; le < L; le++)
    {
      gint64 c = 0;
      for (guint s = 0; s < W; s++)
        c += r->blk_count[le * W + s];
      /* TP 2 requires L = 1: the peer's rows count for the one expert. */
      c += le == 0 ? peer_rows : 0;
      acc += c;
      out[le] = a->token_nums_type == 0 ? acc : c;
    }
  *n_out = L;
}

/* ---- A2 hierarchical: the combine's reduce tables in epRecvCounts ----
 *
 * What the default layered A2 dispatch kernel (moe_distribute_dispatch_a2_layered_aicpu.h,
 * the AICPU data plane: CreateInnerReduceInfo, CreateOuterReduceInfo) writes behind the
 * W * L counts, for its combine. R = 8 dies per server (SERVER_RANK_SIZE), S = W / R
 * servers, gBs = globalBs, byte offsets from the end of the counts:
 *   innerCnt    int16 [S][gBs]     at 0
 *   innerOffset int32 [S][gBs * K] at 2 gBs S
 *   outerCnt    int32 [BS]         at 2 gBs S + 4 gBs K S
 *   outerOffset int32 [BS * K]     at 2 gBs S + 4 gBs K S + 4 BS
 * Block sv of the inner tables describes the tokens of source p = sv R + g % R (the die
 * that relays to g's server; p = g for g's own server) that have experts on g's server,
 * taken in token order ("compacted" index); for each expert e of that server
 * (e' = e mod R L) they hold the token's position in its (p, e) block. The tokens are
 * visited per expert of the server in ascending order, each expert's tokens in block
 * order, each token once (at its first expert): innerCnt holds the running count of the
 * visited tokens' rows, innerOffset for every row of a visited token (its experts in
 * top-k order) (rows of p for earlier experts of the same die) + die-in-server * gBs * K
 * + position. The outer tables are g's own tokens: outerCnt the running count of the
 * servers each token goes to, outerOffset per (token, server) sv * BS + the token's
 * place among g's tokens for server sv ordered by (smallest expert on sv, token). What
 * the kernel leaves unwritten is 0 here. Valid entries are the layout's (a token masked
 * out sends nothing; the layered kernels themselves take no xActiveMask). */

static void
put16 (guint8 *base, guint64 index, gint v)
{
  guint16 le = GUINT16_TO_LE ((guint16) (gint16) v);
  memcpy (base + 2 * index, &le, 2);
}

static void
put32 (guint8 *base, guint64 index, gint64 v)
{
  guint32 le = GUINT32_TO_LE ((guint32) (gint32) v);
  memcpy (base + 4 * index, &le, 4);
}

void
moe_layout_a2_combine_info (const MoeAttrs *a, const MoeLayout *l, const MoeRouting *rt,
                            guint g, guint8 *out)
{
  const guint R = 8;
  guint W = a->ep, K = a->k, L = l->L, S = W / R, RL = R * L;
  guint64 gbs = moe_axis_max_bs (a) * W;
  guint my = g / R;
  guint8 *inner_cnt = out;
  guint8 *inner_off = out + 2 * gbs * S;
  guint8 *outer_cnt = inner_off + 4 * gbs * K * S;
  guint8 *outer_off = outer_cnt + 4 * (guint64) a->bs[g];
  guint M = a->moe_experts;

  /* inner tables, one block per source server */
  for (guint sv = 0; sv < S; sv++)
    {
      guint p = sv * R + g % R;
      const MoeRankLayout *rp = &l->r[p];
      const gint32 *ids = rt->ids[p];
      guint bs = a->bs[p];
      /* p's tokens with a valid expert on g's server, in token order */
      g_autofree guint *tok = g_new0 (guint, bs + 1);
      guint real = 0;
      for (guint t = 0; t < bs; t++)
        for (guint k = 0; k < K; k++)
          if (rp->dst_ep[t * K + k] >= 0 && (guint) ids[t * K + k] / RL == my)
            {
              tok[real++] = t;
              break;
            }
      g_autofree guint *cnt = g_new0 (guint, RL);
      g_autofree guint *info = g_new (guint, (gsize) RL * MAX (real, 1));
      g_autofree guint *pos = g_new0 (guint, (gsize) MAX (real, 1) * K);
      g_autofree gboolean *seen = g_new0 (gboolean, MAX (real, 1));
      for (guint i = 0; i < real; i++)
        for (guint k = 0; k < K; k++)
          {
            guint t = tok[i];
            if (rp->dst_ep[t * K + k] < 0 || (guint) ids[t * K + k] / RL != my)
              continue;
            guint e = (guint) ids[t * K + k] % RL;
            info[(gsize) e * MAX (real, 1) + cnt[e]] = i;
            pos[(gsize) i * K + k] = cnt[e]++;
          }
      /* running count inside each die's L experts */
      g_autofree guint *cum = g_memdup2 (cnt, sizeof (guint) * RL);
      for (guint e = 0; e < RL; e++)
        if (e % L != 0)
          cum[e] += cum[e - 1];
      guint64 ib = (guint64) sv * gbs, ob = (guint64) sv * gbs * K;
      guint n_tok = 0, n_row = 0, running = 0;
      for (guint e = 0; e < RL; e++)
        for (guint j = 0; j < cnt[e]; j++)
          {
            guint i = info[(gsize) e * MAX (real, 1) + j];
            if (seen[i])
              continue;
            seen[i] = TRUE;
            guint t = tok[i];
            for (guint k = 0; k < K; k++)
              {
                if (rp->dst_ep[t * K + k] < 0 || (guint) ids[t * K + k] / RL != my)
                  continue;
                guint ek = (guint) ids[t * K + k] % RL;
                guint64 v = (ek % L == 0 ? 0 : cum[ek - 1]) + (guint64) (ek / L) * gbs * K
                            + pos[(gsize) i * K + k];
                put32 (inner_off, ob + n_row++, (gint64) v);
                running++;
              }
            put16 (inner_cnt, ib + n_tok++, (gint) running);
          }
      g_assert (n_tok == real);
    }

  /* outer tables: g's own tokens */
  const MoeRankLayout *r = &l->r[g];
  const gint32 *ids = rt->ids[g];
  guint bs = a->bs[g];
  g_autofree guint *minexp = g_new (guint, (gsize) MAX (bs, 1) * S);
  g_autofree guint *idx = g_new0 (guint, (gsize) MAX (bs, 1) * S);
  g_autofree guint64 *off = g_new0 (guint64, M + 1);
  for (guint t = 0; t < bs; t++)
    {
      for (guint sv = 0; sv < S; sv++)
        minexp[(gsize) t * S + sv] = M;
      for (guint k = 0; k < K; k++)
        if (r->dst_ep[t * K + k] >= 0)
          {
            guint e = (guint) ids[t * K + k], sv = e / RL;
            minexp[(gsize) t * S + sv] = MIN (minexp[(gsize) t * S + sv], e);
          }
      for (guint sv = 0; sv < S; sv++)
        if (minexp[(gsize) t * S + sv] < M)
          idx[(gsize) t * S + sv] = (guint) off[minexp[(gsize) t * S + sv]]++;
    }
  for (guint e = 1; e < M; e++)
    off[e] += off[e - 1];
  guint n_out = 0, running = 0;
  for (guint t = 0; t < bs; t++)
    {
      for (guint sv = 0; sv < S; sv++)
        {
          guint me = minexp[(gsize) t * S + sv];
          if (me == M)
            continue;
          guint64 pre_server = sv == 0 ? 0 : off[sv * RL - 1];
          guint64 pre_token = me == 0 ? 0 : off[me - 1];
          put32 (outer_off, n_out++,
                 (gint64) (pre_token - pre_server + idx[(gsize) t * S + sv] + (guint64) sv * bs));
          running++;
        }
      put32 (outer_cnt, t, running);
    }
}
