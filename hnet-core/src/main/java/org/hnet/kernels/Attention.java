package org.hnet.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.hnet.kernels.Profile.Kind;
import org.hnet.tensor.Arena;
import org.hnet.tensor.Rows;

/**
 * Causal multi-head self-attention with rotary embedding, the inner part of the official {@code
 * CausalMHA} (goombalab/hnet hnet/modules/mha.py: Wqkv output → rotary → flash-attn varlen causal
 * with {@code window_size=(window, -1)} → out_proj input). Forward (the decode step is {@link
 * AttentionStep}).
 *
 * <p>Dimensions: T tokens (packed sequences delimited by cuSeqlens, positions restart at 0 at each
 * sequence start), H heads, P head dim, R rotary dims, Wn window (−1 = global; w ≥ 0: query i sees
 * keys j with i − w ≤ j ≤ i), HP = H·P. A qkv row is [3 × H × P] = (q | k | v); output rows are [H
 * × P]. scale = (float) P^−0.5, softmax in float32 with max subtraction. Per-token operands are
 * {@link org.hnet.tensor.Rows} views, each with its own offset and stride; argument order: outputs
 * and saved statistics, inputs, then the sequences and the dimensions (H, P, R, Wn as an {@link
 * AttnHeads}).
 *
 * <p>Fast forward: flash-style online softmax per (sequence, head, query block of BQ rows) against
 * key blocks of BK columns; scores never exceed one BQ×BK tile per thread. Each thread keeps the
 * rotated keys of its current (sequence, head) transposed ([P × ld], ld ≥ seqLen) so that scores
 * vectorise across keys with broadcast queries (no horizontal reductions), and extends that cache
 * lazily as its query blocks advance. Work items are (sequence, head, query block), so every output
 * element is written by exactly one item, whose arithmetic does not depend on which thread runs it
 * or in what order: results are bitwise independent of the thread count.
 */
public final class Attention {
  /**
   * The kernels' one species (see {@link VectorWidth}). It was capped at 256 bits, for head dims
   * like 24 that are multiples of 8 but not of 16 (the p·V loop vectorises over P); but then an
   * AVX-512 machine ran two species side by side (here and in the SSD's small products), which C2
   * compiles poorly. With 16 lanes such a head dim leaves a scalar tail of 8.
   */
  static final VectorSpecies<Float> SPECIES = VectorWidth.FLOAT;

  static final int L = SPECIES.length();

  /** Query rows per work item and key columns per tile; BK is a multiple of L. */
  static final int BQ = 32;

  static final int BK = 64;

  /** Below this much multiply-add work a call runs on the calling thread alone. */
  static final long SERIAL_WORK = 1L << 16;

  /** Bytes of keys and values the decode steps have read (for the benchmark's bandwidth bound). */
  static final java.util.concurrent.atomic.LongAdder KV_READ =
      new java.util.concurrent.atomic.LongAdder();

  /**
   * The bytes of cached keys and values that {@link AttentionStep#step} has read so far (float32: 8
   * per head dimension and position).
   */
  public static long kvBytesRead() {
    return KV_READ.sum();
  }

  private Attention() {}

  /**
   * A thread's buffers for one call, taken from its arena ({@link Arena#local}) between the part's
   * mark and release, and the state of its rotated-key cache (valid within one call).
   */
  static final class Scratch {
    float[] q; // [BQ × P] rotated query block
    float[] acc; // [BQ × P] unnormalised output rows
    float[] s; // [BQ × BK] scores, then probabilities
    float[] m; // running row max
    float[] l; // running row sum
    float[] kT; // [P × ld] rotated keys of (kSeq, kHead), columns kLo..kHi valid
    int kSeq = -1, kHead = -1, kLo, kHi, ld;
    float[] vec; // [G × P] decode queries
    float[] sc; // [G × cap] decode scores
    float[] lanes; // [L] fixed-order lane sums

    /** This thread's record with the forward's buffers, taken from {@code arena}. */
    static Scratch forward(Arena arena, int P, int maxLen) {
      Scratch sc = arena.holder(Scratch.class, Scratch::new);
      sc.q = arena.floats(BQ * P);
      sc.acc = arena.floats(BQ * P);
      sc.s = arena.floats(BQ * BK);
      sc.m = arena.floats(BQ);
      sc.l = arena.floats(BQ);
      sc.ld = roundUp(Math.max(1, maxLen), L);
      sc.kT = arena.floats(P * sc.ld);
      sc.lanes = arena.floats(L);
      sc.kSeq = -1; // the key cache is only valid within one call
      return sc;
    }

    /** This thread's record with a decode step's buffers for G heads of up to cap positions. */
    static Scratch step(Arena arena, int G, int P, int cap) {
      Scratch sc = arena.holder(Scratch.class, Scratch::new);
      sc.vec = arena.floats(G * P);
      sc.sc = arena.floats(Math.toIntExact((long) G * cap));
      sc.lanes = arena.floats(L);
      return sc;
    }
  }

  static int roundUp(int x, int m) {
    return (x + m - 1) / m * m;
  }

  static float scale(int P) {
    return (float) Math.pow(P, -0.5); // softmax_scale = head_dim ** -0.5, passed as float32
  }

  static void checkArgs(int qkvStride, int[] cuSeqlens, int nSeq, int H, int P, int R, int window) {
    if (H < 1 || P < 1) throw new IllegalArgumentException("H and P must be >= 1");
    Rotary.checkDims(P, R);
    if (window < -1) throw new IllegalArgumentException("window must be >= -1, got " + window);
    if (qkvStride < 3 * H * P) {
      throw new IllegalArgumentException("qkvStride " + qkvStride + " < 3HP = " + 3 * H * P);
    }
    if (nSeq < 0 || cuSeqlens.length < nSeq + 1 || cuSeqlens[0] != 0) {
      throw new IllegalArgumentException("cuSeqlens must hold nSeq+1 offsets starting at 0");
    }
    for (int i = 0; i < nSeq; i++) {
      if (cuSeqlens[i + 1] < cuSeqlens[i])
        throw new IllegalArgumentException("cuSeqlens not sorted");
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Forward

  /** Query-key pairs that causal (windowed) attention computes over packed sequences. */
  static long causalPairs(int[] cu, int nSeq, int window) {
    long pairs = 0;
    for (int i = 0; i < nSeq; i++) {
      long len = cu[i + 1] - cu[i];
      if (window < 0 || window + 1 >= len) pairs += len * (len + 1) / 2;
      else pairs += (long) (window + 1) * len - (long) window * (window + 1) / 2;
    }
    return pairs;
  }

  /**
   * Causal self-attention over packed sequences: T = cuSeqlens[nSeq] tokens. out: [T × HP],
   * written; qkv: [T × 3HP], not modified (rotated copies live in scratch). Each view has its own
   * offset and stride.
   */
  public static void forward(Rows out, Rows qkv, int[] cuSeqlens, int nSeq, AttnHeads a) {
    long prof = Profile.begin(Kind.ATTENTION);
    try {
      forward(out, null, qkv, cuSeqlens, nSeq, a);
      // QKᵀ and PV over the allowed pairs
      Flops.add(causalPairs(cuSeqlens, nSeq, a.window()) * 4L * a.heads() * a.headDim());
    } finally {
      Profile.end(Kind.ATTENTION, prof);
    }
  }

  /**
   * {@link #forward}, and when lse is not null also lse[t·H + h] = m + log(l), the log-sum-exp of
   * row t's scaled visible scores (m its max, l = Σ exp(s − m) the softmax denominator), for {@link
   * AttentionBackward}. out is bitwise the same either way.
   */
  static void forward(Rows out, float[] lse, Rows qkv, int[] cuSeqlens, int nSeq, AttnHeads a) {
    int H = a.heads(), P = a.headDim(), window = a.window();
    checkViews(out, qkv, cuSeqlens, nSeq, a);
    if (lse != null && lse.length < (long) cuSeqlens[nSeq] * H) {
      throw new IllegalArgumentException(
          "lse needs T·H = " + (long) cuSeqlens[nSeq] * H + " floats");
    }
    int maxLen = 0;
    long items = 0, work = 0;
    for (int i = 0; i < nSeq; i++) {
      int len = cuSeqlens[i + 1] - cuSeqlens[i];
      maxLen = Math.max(maxLen, len);
      items += (long) H * ((len + BQ - 1) / BQ);
      work += (long) H * len * (window < 0 ? len : Math.min(len, window + 1)) * P;
    }
    if (items == 0) return;
    float[][] cs = Rotary.shared(maxLen, a.rotaryDim());
    int n = Math.toIntExact(items);
    int grain = work < SERIAL_WORK ? n : 1;
    int ml = maxLen;
    if (Parallel.serial(n, grain)) { // one part: the body directly, no lambda
      queryBlocks(out, lse, qkv, cuSeqlens, a, cs, ml, 0, n);
    } else {
      Parallel.forRange(
          n, grain, (start, end) -> queryBlocks(out, lse, qkv, cuSeqlens, a, cs, ml, start, end));
    }
  }

  /** {@link #checkArgs}, and out and qkv hold the T = cuSeqlens[nSeq] rows. */
  private static void checkViews(Rows out, Rows qkv, int[] cuSeqlens, int nSeq, AttnHeads a) {
    int HP = a.heads() * a.headDim();
    checkArgs(qkv.stride(), cuSeqlens, nSeq, a.heads(), a.headDim(), a.rotaryDim(), a.window());
    int T = cuSeqlens[nSeq];
    qkv.require("qkv", T, 3 * HP);
    out.require("out", T, HP);
  }

  /**
   * Work items [start, end) of the forward: they run over (seq, head, query block). cs: the rotary
   * tables (cos, sin) for ml positions, ml the longest sequence.
   */
  private static void queryBlocks(
      Rows out,
      float[] lse,
      Rows qkv,
      int[] cuSeqlens,
      AttnHeads a,
      float[][] cs,
      int ml,
      int start,
      int end) {
    Arena arena = Arena.local();
    int mark = arena.mark();
    try {
      Scratch sc = Scratch.forward(arena, a.headDim(), ml);
      int H = a.heads(), window = a.window();
      // Locate the first item.
      int seq = 0, base = 0;
      while (true) {
        int nb = (cuSeqlens[seq + 1] - cuSeqlens[seq] + BQ - 1) / BQ;
        if (start < base + H * nb) break;
        base += H * nb;
        seq++;
      }
      for (int it = start; it < end; ) {
        int len = cuSeqlens[seq + 1] - cuSeqlens[seq];
        int nb = (len + BQ - 1) / BQ;
        int hi = Math.min(end, base + H * nb);
        for (; it < hi; it++) {
          int rel = it - base, k = rel % nb;
          // Global causal blocks grow with their index; visiting them 0, nb−1, 1, nb−2, … gives
          // contiguous item ranges (one per thread) similar amounts of work.
          int b = window >= 0 ? k : (k & 1) == 0 ? k >> 1 : nb - 1 - (k >> 1);
          queryBlock(sc, out, lse, qkv, cuSeqlens, a, cs, seq, rel / nb, b * BQ);
        }
        base += H * nb;
        seq++;
      }
    } finally {
      arena.release(mark);
    }
  }

  /** One work item: rows [i0, i0+BQ) ∩ [0, len) of head h of sequence seq (tokens s0..s0+len). */
  private static void queryBlock(
      Scratch sc,
      Rows out,
      float[] lse,
      Rows qkvV,
      int[] cuSeqlens,
      AttnHeads a,
      float[][] cs,
      int seq,
      int h,
      int i0) {
    int H = a.heads(), P = a.headDim(), R = a.rotaryDim(), window = a.window(), HP = H * P;
    float[] qkv = qkvV.a(), o = out.a(), cos = cs[0], sin = cs[1];
    int qkvOff = qkvV.off(), qkvStride = qkvV.stride(), oStride = out.stride();
    int s0 = cuSeqlens[seq], len = cuSeqlens[seq + 1] - s0;
    int i1 = Math.min(len, i0 + BQ), nq = i1 - i0;
    int r2 = R / 2;
    int kNeed = window < 0 ? 0 : Math.max(0, i0 - window);
    ensureKeys(sc, qkvV, a, cs, s0, seq, h, kNeed, i1);

    float[] q = sc.q, acc = sc.acc, s = sc.s, m = sc.m, l = sc.l;
    int qBase = qkvOff + s0 * qkvStride + h * P;
    for (int r = 0; r < nq; r++) {
      Rotary.rotateInto(
          qkv, qBase + (i0 + r) * qkvStride, q, r * P, 1, P, R, cos, sin, (i0 + r) * r2, true);
    }
    java.util.Arrays.fill(acc, 0, nq * P, 0f);
    java.util.Arrays.fill(m, 0, nq, Float.NEGATIVE_INFINITY);
    java.util.Arrays.fill(l, 0, nq, 0f);
    float scale = scale(P);
    int vBase = qkvOff + s0 * qkvStride + 2 * HP + h * P;

    for (int j0 = kNeed / BK * BK; j0 < i1; j0 += BK) {
      int cs0 = Math.max(j0, kNeed / L * L); // computed columns [cs0, ce), L-aligned, < ld
      int ce = j0 + roundUp(Math.min(j0 + BK, i1) - j0, L);
      scoreTile(q, 0, P, P, nq, sc.kT, sc.ld, cs0, ce, s, j0, scale);
      for (int r = 0; r < nq; r++) {
        int i = i0 + r;
        int lo = Math.max(cs0, window < 0 ? 0 : i - window), hi = Math.min(ce, i + 1);
        softmaxRow(s, r * BK - j0, cs0, ce, lo, hi, m, l, acc, r, P, sc.lanes);
      }
      // p·V over the union of the rows' valid key ranges (rows are sorted, so first lo, last hi).
      int r = 0;
      for (; r + 4 <= nq; r += 4) {
        int lo = Math.max(cs0, window < 0 ? 0 : i0 + r - window), hi = Math.min(ce, i0 + r + 4);
        if (lo < hi) accumulate4(s, r * BK - j0, lo, hi, qkv, vBase, qkvStride, acc, r * P, P);
      }
      for (; r < nq; r++) {
        int lo = Math.max(cs0, window < 0 ? 0 : i0 + r - window), hi = Math.min(ce, i0 + r + 1);
        if (lo < hi) pv(s, r * BK - j0, lo, hi, qkv, vBase, qkvStride, acc, r * P, P);
      }
    }

    int oBase = out.off() + (s0 + i0) * oStride + h * P;
    int pv = SPECIES.loopBound(P);
    for (int r = 0; r < nq; r++) {
      float z = l[r]; // softmax denominator, ≥ 1: the row's max key contributes exp(0)
      int or = oBase + r * oStride, ar = r * P, c = 0;
      for (; c < pv; c += L) {
        FloatVector.fromArray(SPECIES, acc, ar + c).div(z).intoArray(o, or + c);
      }
      for (; c < P; c++) o[or + c] = acc[ar + c] / z;
    }
    if (lse != null) {
      // StrictMath: one fixed libm, whatever the JIT state (the backward recomputes exp(s − lse)).
      for (int r = 0; r < nq; r++) lse[(s0 + i0 + r) * H + h] = m[r] + (float) StrictMath.log(l[r]);
    }
  }

  /**
   * Makes sc.kT columns [need0, need1) hold the rotated keys of head h of sequence seq, which
   * starts at token s0; extends lazily.
   */
  private static void ensureKeys(
      Scratch sc,
      Rows qkvV,
      AttnHeads a,
      float[][] cs,
      int s0,
      int seq,
      int h,
      int need0,
      int need1) {
    int P = a.headDim(), R = a.rotaryDim(), qkvStride = qkvV.stride();
    float[] qkv = qkvV.a(), cos = cs[0], sin = cs[1];
    if (sc.kSeq != seq || sc.kHead != h || need0 < sc.kLo || need0 > sc.kHi) {
      sc.kSeq = seq;
      sc.kHead = h;
      sc.kLo = need0;
      sc.kHi = need0;
    }
    int kBase = qkvV.off() + s0 * qkvStride + a.heads() * P + h * P;
    for (int j = sc.kHi; j < need1; j++) {
      Rotary.rotateInto(
          qkv, kBase + j * qkvStride, sc.kT, j, sc.ld, P, R, cos, sin, j * (R / 2), true);
    }
    sc.kHi = Math.max(sc.kHi, need1);
  }

  /**
   * s[r·BK + c − j0] = scale · Σ_k q[qOff + r·qStride + k]·kT[k][c] for rows r < nq and columns c
   * in [cs, ce) (multiples of L apart): per element one fma chain over k = 0..P−1 from zero, then
   * the scale. Register tile of 4 rows × 2 vectors; broadcast q, stream kT rows.
   */
  static void scoreTile(
      float[] q,
      int qOff,
      int qStride,
      int P,
      int nq,
      float[] kT,
      int ld,
      int cs,
      int ce,
      float[] s,
      int j0,
      float scale) {
    int r = 0;
    for (; r + 4 <= nq; r += 4) {
      int q0 = qOff + r * qStride, q1 = q0 + qStride, q2 = q1 + qStride, q3 = q2 + qStride;
      int s0 = r * BK - j0, s1 = s0 + BK, s2 = s1 + BK, s3 = s2 + BK;
      int c = cs;
      for (; c + 2 * L <= ce; c += 2 * L) {
        FloatVector a00 = FloatVector.zero(SPECIES), a01 = a00, a10 = a00, a11 = a00;
        FloatVector a20 = a00, a21 = a00, a30 = a00, a31 = a00;
        for (int k = 0, ko = c; k < P; k++, ko += ld) {
          FloatVector k0 = FloatVector.fromArray(SPECIES, kT, ko);
          FloatVector k1 = FloatVector.fromArray(SPECIES, kT, ko + L);
          FloatVector b = FloatVector.broadcast(SPECIES, q[q0 + k]);
          a00 = b.fma(k0, a00);
          a01 = b.fma(k1, a01);
          b = FloatVector.broadcast(SPECIES, q[q1 + k]);
          a10 = b.fma(k0, a10);
          a11 = b.fma(k1, a11);
          b = FloatVector.broadcast(SPECIES, q[q2 + k]);
          a20 = b.fma(k0, a20);
          a21 = b.fma(k1, a21);
          b = FloatVector.broadcast(SPECIES, q[q3 + k]);
          a30 = b.fma(k0, a30);
          a31 = b.fma(k1, a31);
        }
        a00.mul(scale).intoArray(s, s0 + c);
        a01.mul(scale).intoArray(s, s0 + c + L);
        a10.mul(scale).intoArray(s, s1 + c);
        a11.mul(scale).intoArray(s, s1 + c + L);
        a20.mul(scale).intoArray(s, s2 + c);
        a21.mul(scale).intoArray(s, s2 + c + L);
        a30.mul(scale).intoArray(s, s3 + c);
        a31.mul(scale).intoArray(s, s3 + c + L);
      }
      for (; c < ce; c += L) {
        FloatVector a0 = FloatVector.zero(SPECIES), a1 = a0, a2 = a0, a3 = a0;
        for (int k = 0, ko = c; k < P; k++, ko += ld) {
          FloatVector k0 = FloatVector.fromArray(SPECIES, kT, ko);
          a0 = FloatVector.broadcast(SPECIES, q[q0 + k]).fma(k0, a0);
          a1 = FloatVector.broadcast(SPECIES, q[q1 + k]).fma(k0, a1);
          a2 = FloatVector.broadcast(SPECIES, q[q2 + k]).fma(k0, a2);
          a3 = FloatVector.broadcast(SPECIES, q[q3 + k]).fma(k0, a3);
        }
        a0.mul(scale).intoArray(s, s0 + c);
        a1.mul(scale).intoArray(s, s1 + c);
        a2.mul(scale).intoArray(s, s2 + c);
        a3.mul(scale).intoArray(s, s3 + c);
      }
    }
    for (; r < nq; r++) {
      int q0 = qOff + r * qStride, s0 = r * BK - j0;
      for (int c = cs; c < ce; c += L) {
        FloatVector a0 = FloatVector.zero(SPECIES);
        for (int k = 0, ko = c; k < P; k++, ko += ld) {
          a0 =
              FloatVector.broadcast(SPECIES, q[q0 + k])
                  .fma(FloatVector.fromArray(SPECIES, kT, ko), a0);
        }
        a0.mul(scale).intoArray(s, s0 + c);
      }
    }
  }

  /**
   * Online-softmax update of row r: scores s[so + c] for c in [cs, ce), of which [a, b) are
   * visible. Masks the rest, turns the row into exp(s − newMax), rescales acc/l by exp(oldMax −
   * newMax) and adds the row sum to l.
   */
  private static void softmaxRow(
      float[] s,
      int so,
      int cs,
      int ce,
      int a,
      int b,
      float[] m,
      float[] l,
      float[] acc,
      int r,
      int P,
      float[] lanes) {
    for (int c = cs; c < Math.min(a, ce); c++) s[so + c] = Float.NEGATIVE_INFINITY;
    for (int c = Math.max(b, cs); c < ce; c++) s[so + c] = Float.NEGATIVE_INFINITY;
    float mOld = m[r];
    if (a >= b) {
      // Nothing visible in this tile: zero weights, state unchanged.
      java.util.Arrays.fill(s, so + cs, so + ce, 0f);
      return;
    }
    // In these loops the fresh vector is the receiver and the running one the argument (max and
    // add commute exactly): a method called on a loop-carried vector can stay a virtual call when
    // C2 compiles without a profile for it (seen in an OSR compile), and then every vector is
    // boxed; that made the attention forward 2× slower for the whole of some runs.
    FloatVector mx = FloatVector.broadcast(SPECIES, Float.NEGATIVE_INFINITY);
    for (int c = cs; c < ce; c += L) mx = FloatVector.fromArray(SPECIES, s, so + c).max(mx);
    float mNew = Math.max(mOld, mx.reduceLanes(VectorOperators.MAX));
    FloatVector sum = FloatVector.zero(SPECIES);
    for (int c = cs; c < ce; c += L) {
      AttentionMath.exp(s, so + c, mNew);
      sum = FloatVector.fromArray(SPECIES, s, so + c).add(sum);
    }
    float alpha = AttentionMath.exp(mOld - mNew); // 0 on the first visible tile (mOld = −∞)
    sum.intoArray(lanes, 0);
    l[r] = l[r] * alpha + AttentionMath.sum(lanes);
    m[r] = mNew;
    if (alpha != 1f) {
      int ar = r * P, pv = SPECIES.loopBound(P), c = 0;
      for (; c < pv; c += L)
        FloatVector.fromArray(SPECIES, acc, ar + c).mul(alpha).intoArray(acc, ar + c);
      for (; c < P; c++) acc[ar + c] *= alpha;
    }
  }

  /**
   * acc rows r..r+3 (at ao, stride P) += Σ_{j in [a,b)} p[row][j] · V_j; p at s[so + row·BK + j].
   */
  private static void accumulate4(
      float[] s,
      int so,
      int a,
      int b,
      float[] qkv,
      int vBase,
      int vStride,
      float[] acc,
      int ao,
      int P) {
    SmallGemm.acc(s, so + a, BK, 1, 4, b - a, qkv, vBase + a * vStride, vStride, acc, ao, P, P);
  }

  /** out[o..o+P) += Σ_{j in [a,b)} w[wo + j] · V_j, V_j at vBase + j·vStride (vector over P). */
  private static void pv(
      float[] w,
      int wo,
      int a,
      int b,
      float[] src,
      int vBase,
      int vStride,
      float[] out,
      int o,
      int P) {
    int pv = SPECIES.loopBound(P), c = 0;
    for (; c < pv; c += L) {
      FloatVector x = FloatVector.fromArray(SPECIES, out, o + c);
      for (int j = a, vo = vBase + a * vStride + c; j < b; j++, vo += vStride) {
        x =
            FloatVector.broadcast(SPECIES, w[wo + j])
                .fma(FloatVector.fromArray(SPECIES, src, vo), x);
      }
      x.intoArray(out, o + c);
    }
    for (; c < P; c++) {
      float y = out[o + c];
      for (int j = a, vo = vBase + a * vStride + c; j < b; j++, vo += vStride)
        y = Math.fma(w[wo + j], src[vo], y);
      out[o + c] = y;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Specification

  /**
   * Same arguments as {@link #forward}: the explicit per-query masked softmax, in float32 with
   * sequential sums. Allocates freely; for tests.
   */
  public static void forwardNaive(Rows outV, Rows qkvV, int[] cuSeqlens, int nSeq, AttnHeads a) {
    checkViews(outV, qkvV, cuSeqlens, nSeq, a);
    int H = a.heads(), P = a.headDim(), rotaryDim = a.rotaryDim(), window = a.window();
    float[] out = outV.a(), qkv = qkvV.a();
    int outOff = outV.off(), outStride = outV.stride(), qkvOff = qkvV.off();
    int qkvStride = qkvV.stride();
    int HP = H * P;
    float scale = scale(P);
    for (int sq = 0; sq < nSeq; sq++) {
      int s0 = cuSeqlens[sq], len = cuSeqlens[sq + 1] - s0;
      float[][] tab = Rotary.tables(len, rotaryDim);
      float[] qr = new float[len * HP], kr = new float[len * HP], p = new float[len];
      for (int t = 0; t < len; t++) {
        int row = qkvOff + (s0 + t) * qkvStride;
        System.arraycopy(qkv, row, qr, t * HP, HP);
        System.arraycopy(qkv, row + HP, kr, t * HP, HP);
        Rotary.apply(qr, t * HP, H, P, rotaryDim, t, tab[0], tab[1]);
        Rotary.apply(kr, t * HP, H, P, rotaryDim, t, tab[0], tab[1]);
      }
      for (int h = 0; h < H; h++) {
        for (int i = 0; i < len; i++) {
          int lo = window < 0 ? 0 : Math.max(0, i - window);
          float mx = Float.NEGATIVE_INFINITY;
          for (int j = lo; j <= i; j++) {
            float d = 0f;
            for (int c = 0; c < P; c++) d += qr[i * HP + h * P + c] * kr[j * HP + h * P + c];
            p[j] = d * scale;
            mx = Math.max(mx, p[j]);
          }
          float sum = 0f;
          for (int j = lo; j <= i; j++) {
            p[j] = (float) Math.exp(p[j] - mx);
            sum += p[j];
          }
          for (int j = lo; j <= i; j++) p[j] /= sum;
          for (int c = 0; c < P; c++) {
            float o = 0f;
            for (int j = lo; j <= i; j++)
              o += p[j] * qkv[qkvOff + (s0 + j) * qkvStride + 2 * HP + h * P + c];
            out[outOff + (s0 + i) * outStride + h * P + c] = o;
          }
        }
      }
    }
  }
}
