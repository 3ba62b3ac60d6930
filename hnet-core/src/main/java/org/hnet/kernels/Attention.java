package org.hnet.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.hnet.kernels.Profile.Kind;

/**
 * Causal multi-head self-attention with rotary embedding, the inner part of the official {@code
 * CausalMHA} (goombalab/hnet hnet/modules/mha.py: Wqkv output → rotary → flash-attn varlen causal
 * with {@code window_size=(window, -1)} → out_proj input). Forward and decode step.
 *
 * <p>Dimensions: T tokens (packed sequences delimited by cuSeqlens, positions restart at 0 at each
 * sequence start), H heads, P head dim, R rotary dims, Wn window (−1 = global; w ≥ 0: query i sees
 * keys j with i − w ≤ j ≤ i), HP = H·P. A qkv row is [3 × H × P] = (q | k | v); output rows are [H
 * × P]. scale = (float) P^−0.5, softmax in float32 with max subtraction.
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
  private static final long SERIAL_WORK = 1L << 16;

  /** Bytes of keys and values the decode steps have read (for the benchmark's bandwidth bound). */
  private static final java.util.concurrent.atomic.LongAdder KV_READ =
      new java.util.concurrent.atomic.LongAdder();

  /**
   * The bytes of cached keys and values that {@link #step} has read so far (float32: 8 per head
   * dimension and position).
   */
  public static long kvBytesRead() {
    return KV_READ.sum();
  }

  private Attention() {}

  /** Per-thread reusable buffers; grown, never shrunk. */
  static final class Scratch {
    float[] q = new float[0]; // [BQ × P] rotated query block
    float[] acc = new float[0]; // [BQ × P] unnormalised output rows
    float[] s = new float[BQ * BK]; // [BQ × BK] scores, then probabilities
    float[] m = new float[BQ]; // running row max
    float[] l = new float[BQ]; // running row sum
    float[] kT = new float[0]; // [P × ld] rotated keys of (kSeq, kHead), columns kLo..kHi valid
    int kSeq = -1, kHead = -1, kLo, kHi, ld;
    float[] vec = new float[0]; // [P] decode query
    float[] sc = new float[0]; // [≤ cap] decode scores
    final float[] lanes = new float[L]; // fixed-order lane sums

    void reserveForward(int P, int maxLen) {
      if (q.length < BQ * P) {
        q = new float[BQ * P];
        acc = new float[BQ * P];
      }
      ld = roundUp(Math.max(1, maxLen), L);
      if (kT.length < P * ld) kT = new float[P * ld];
      kSeq = -1; // the key cache is only valid within one call
    }
  }

  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

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

  /**
   * Causal self-attention over packed sequences. qkv: [T × 3HP] rows of stride qkvStride ≥ 3HP at
   * qkvOff, not modified (rotated copies live in scratch); out: [T × HP] at outOff.
   */
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

  public static void forward(
      float[] out,
      int outOff,
      float[] qkv,
      int qkvOff,
      int qkvStride,
      int[] cuSeqlens,
      int nSeq,
      int H,
      int P,
      int rotaryDim,
      int window) {
    long prof = Profile.begin(Kind.ATTENTION);
    Flops.add(
        causalPairs(cuSeqlens, nSeq, window) * 4L * H * P); // QKᵀ and PV over the allowed pairs
    forward(out, outOff, qkv, qkvOff, qkvStride, cuSeqlens, nSeq, H, P, rotaryDim, window, null);
    Profile.end(Kind.ATTENTION, prof);
  }

  /**
   * {@link #forward}, and when lse is not null also lse[t·H + h] = m + log(l), the log-sum-exp of
   * row t's scaled visible scores (m its max, l = Σ exp(s − m) the softmax denominator), for {@link
   * AttentionBackward}. out is bitwise the same either way.
   */
  static void forward(
      float[] out,
      int outOff,
      float[] qkv,
      int qkvOff,
      int qkvStride,
      int[] cuSeqlens,
      int nSeq,
      int H,
      int P,
      int rotaryDim,
      int window,
      float[] lse) {
    checkArgs(qkvStride, cuSeqlens, nSeq, H, P, rotaryDim, window);
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
    float[][] cs = Rotary.shared(maxLen, rotaryDim);
    int n = Math.toIntExact(items);
    int grain = work < SERIAL_WORK ? n : 1;
    int ml = maxLen;
    if (Parallel.serial(n, grain)) { // one part: the body directly, no lambda
      queryBlocks(
          out, outOff, qkv, qkvOff, qkvStride, cuSeqlens, H, P, rotaryDim, window, lse, cs, ml, 0,
          n);
    } else {
      Parallel.forRange(
          n,
          grain,
          (start, end) ->
              queryBlocks(
                  out, outOff, qkv, qkvOff, qkvStride, cuSeqlens, H, P, rotaryDim, window, lse, cs,
                  ml, start, end));
    }
  }

  /** Work items [start, end) of the forward: they run over (seq, head, query block). */
  private static void queryBlocks(
      float[] out,
      int outOff,
      float[] qkv,
      int qkvOff,
      int qkvStride,
      int[] cuSeqlens,
      int H,
      int P,
      int rotaryDim,
      int window,
      float[] lse,
      float[][] cs,
      int ml,
      int start,
      int end) {
    Scratch sc = SCRATCH.get();
    sc.reserveForward(P, ml);
    // Locate the first item.
    int seq = 0, base = 0;
    while (true) {
      int nb = (cuSeqlens[seq + 1] - cuSeqlens[seq] + BQ - 1) / BQ;
      if (start < base + H * nb) break;
      base += H * nb;
      seq++;
    }
    for (int it = start; it < end; ) {
      int s0 = cuSeqlens[seq], len = cuSeqlens[seq + 1] - s0;
      int nb = (len + BQ - 1) / BQ;
      int hi = Math.min(end, base + H * nb);
      for (; it < hi; it++) {
        int rel = it - base, k = rel % nb;
        // Global causal blocks grow with their index; visiting them 0, nb−1, 1, nb−2, … gives
        // contiguous item ranges (one per thread) similar amounts of work.
        int b = window >= 0 ? k : (k & 1) == 0 ? k >> 1 : nb - 1 - (k >> 1);
        queryBlock(
            sc, out, outOff, qkv, qkvOff, qkvStride, s0, len, seq, rel / nb, b * BQ, H, P,
            rotaryDim, window, cs[0], cs[1], lse);
      }
      base += H * nb;
      seq++;
    }
  }

  /** One work item: rows [i0, i0+BQ) ∩ [0, len) of head h of the sequence starting at token s0. */
  private static void queryBlock(
      Scratch sc,
      float[] out,
      int outOff,
      float[] qkv,
      int qkvOff,
      int qkvStride,
      int s0,
      int len,
      int seq,
      int h,
      int i0,
      int H,
      int P,
      int R,
      int window,
      float[] cos,
      float[] sin,
      float[] lse) {
    int HP = H * P;
    int i1 = Math.min(len, i0 + BQ), nq = i1 - i0;
    int r2 = R / 2;
    int kNeed = window < 0 ? 0 : Math.max(0, i0 - window);
    ensureKeys(sc, qkv, qkvOff, qkvStride, s0, seq, h, kNeed, i1, H, P, R, cos, sin);

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
      int cs = Math.max(j0, kNeed / L * L); // computed columns [cs, ce), L-aligned, < ld
      int ce = j0 + roundUp(Math.min(j0 + BK, i1) - j0, L);
      scoreTile(q, 0, P, P, nq, sc.kT, sc.ld, cs, ce, s, j0, scale);
      for (int r = 0; r < nq; r++) {
        int i = i0 + r;
        int a = Math.max(cs, window < 0 ? 0 : i - window), b = Math.min(ce, i + 1);
        softmaxRow(s, r * BK - j0, cs, ce, a, b, m, l, acc, r, P, sc.lanes);
      }
      // p·V over the union of the rows' valid key ranges (rows are sorted, so first lo, last hi).
      int r = 0;
      for (; r + 4 <= nq; r += 4) {
        int a = Math.max(cs, window < 0 ? 0 : i0 + r - window), b = Math.min(ce, i0 + r + 4);
        if (a < b) accumulate4(s, r * BK - j0, a, b, qkv, vBase, qkvStride, acc, r * P, P);
      }
      for (; r < nq; r++) {
        int a = Math.max(cs, window < 0 ? 0 : i0 + r - window), b = Math.min(ce, i0 + r + 1);
        if (a < b) pv(s, r * BK - j0, a, b, qkv, vBase, qkvStride, acc, r * P, P);
      }
    }

    int oBase = outOff + (s0 + i0) * HP + h * P;
    int pv = SPECIES.loopBound(P);
    for (int r = 0; r < nq; r++) {
      float z = l[r]; // softmax denominator, ≥ 1: the row's max key contributes exp(0)
      int o = oBase + r * HP, ar = r * P, c = 0;
      for (; c < pv; c += L) {
        FloatVector.fromArray(SPECIES, acc, ar + c).div(z).intoArray(out, o + c);
      }
      for (; c < P; c++) out[o + c] = acc[ar + c] / z;
    }
    if (lse != null) {
      // StrictMath: one fixed libm, whatever the JIT state (the backward recomputes exp(s − lse)).
      for (int r = 0; r < nq; r++) lse[(s0 + i0 + r) * H + h] = m[r] + (float) StrictMath.log(l[r]);
    }
  }

  /** Makes sc.kT columns [need0, need1) hold the rotated keys of (seq, h); extends lazily. */
  private static void ensureKeys(
      Scratch sc,
      float[] qkv,
      int qkvOff,
      int qkvStride,
      int s0,
      int seq,
      int h,
      int need0,
      int need1,
      int H,
      int P,
      int R,
      float[] cos,
      float[] sin) {
    if (sc.kSeq != seq || sc.kHead != h || need0 < sc.kLo || need0 > sc.kHi) {
      sc.kSeq = seq;
      sc.kHead = h;
      sc.kLo = need0;
      sc.kHi = need0;
    }
    int kBase = qkvOff + s0 * qkvStride + H * P + h * P;
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
  // Decode

  /**
   * Decode step for R rows with a KV cache. kvCache row r, at r·2·H·cap·P: the rotated keys [H ×
   * cap × P], then the values [H × cap × P], each head a ring of cap positions, so that a head's
   * keys (and values) are one contiguous stream. Row r's new token has position pos[r] (tokens seen
   * before) and goes to slot pos[r] % cap; it attends to positions [pos − w, pos] (w ≥ 0, needs cap
   * ≥ w+1) or [0, pos] (w = −1, needs cap > pos). qkv: [R × 3HP] raw projections (not modified);
   * out: [R × HP]. Rows with active[r] false are untouched. Each (row, head) is computed by one
   * work item, which writes only that head's slice of the slot and of out.
   */
  public static void step(
      float[] out,
      float[] qkv,
      float[] kvCache,
      int cap,
      int[] pos,
      int R,
      int H,
      int P,
      int rotaryDim,
      int window,
      boolean[] active) {
    long prof = Profile.begin(Kind.ATTENTION_STEP);
    try {
      if (H < 1 || P < 1 || cap < 1)
        throw new IllegalArgumentException("H, P and cap must be >= 1");
      Rotary.checkDims(P, rotaryDim);
      if (window < -1) throw new IllegalArgumentException("window must be >= -1, got " + window);
      if (window >= 0 && cap < window + 1) {
        throw new IllegalArgumentException("cap " + cap + " < window + 1 = " + (window + 1));
      }
      int maxPos = -1, rows = 0;
      long work = 0;
      for (int r = 0; r < R; r++) {
        if (!active[r]) continue;
        rows++;
        if (pos[r] < 0) throw new IllegalArgumentException("pos[" + r + "] < 0");
        if (window < 0 && pos[r] >= cap) {
          throw new IllegalArgumentException(
              "global cache of cap " + cap + " full at pos " + pos[r]);
        }
        maxPos = Math.max(maxPos, pos[r]);
        work += (long) H * P * (window < 0 ? pos[r] + 1 : Math.min(pos[r] + 1, window + 1));
      }
      if (maxPos < 0) return;
      KV_READ.add(8 * work);
      float[][] cs = Rotary.shared(maxPos + 1, rotaryDim);
      // Items are (active row, head group). Rows alone would leave threads idle for few rows, so
      // heads are split into just enough groups; per-head results do not depend on the grouping.
      // Only active rows make items: with (row, group) items over all R rows, the contiguous
      // parts of the thread split held unequal numbers of active rows.
      int groups = Math.min(H, Math.max(1, (Parallel.threads() + rows - 1) / rows));
      int n = rows * groups, need = window < 0 ? maxPos + 1 : Math.min(maxPos + 1, window + 1);
      int gMax = (H + groups - 1) / groups;
      int grain = work < SERIAL_WORK ? n : 1;
      if (Parallel.serial(n, grain)) {
        stepItems(
            out, qkv, kvCache, cap, pos, H, P, rotaryDim, window, active, cs, groups, gMax, need, 0,
            n);
      } else {
        Parallel.forRange(
            n,
            grain,
            (start, end) ->
                stepItems(
                    out, qkv, kvCache, cap, pos, H, P, rotaryDim, window, active, cs, groups, gMax,
                    need, start, end));
      }
    } finally {
      Profile.end(Kind.ATTENTION_STEP, prof);
    }
  }

  /**
   * Work items [start, end) of {@link #step}: item it is head group it % groups of active row
   * number it / groups.
   */
  private static void stepItems(
      float[] out,
      float[] qkv,
      float[] kvCache,
      int cap,
      int[] pos,
      int H,
      int P,
      int rotaryDim,
      int window,
      boolean[] active,
      float[][] cs,
      int groups,
      int gMax,
      int need,
      int start,
      int end) {
    Scratch sc = SCRATCH.get();
    if (sc.vec.length < gMax * P) sc.vec = new float[gMax * P];
    // scores grow with the position, one more each step: grow by doubling, not to the exact need
    if (sc.sc.length < gMax * need)
      sc.sc =
          new float
              [(int) Math.min(Integer.MAX_VALUE - 8, Math.max(gMax * need, 2L * sc.sc.length))];
    int r = -1, k = -1; // row r is active row number k
    for (int it = start; it < end; it++) {
      for (int want = it / groups; k < want; ) if (active[++r]) k++;
      int g = it % groups;
      stepHeads(
          sc,
          out,
          qkv,
          kvCache,
          cap,
          pos[r],
          r,
          g * H / groups,
          (g + 1) * H / groups,
          H,
          P,
          rotaryDim,
          window,
          cs[0],
          cs[1]);
    }
  }

  /** Decode of heads [h0, h1) of row r at position p; see {@link #step}. */
  private static void stepHeads(
      Scratch sc,
      float[] out,
      float[] qkv,
      float[] kv,
      int cap,
      int p,
      int r,
      int h0,
      int h1,
      int H,
      int P,
      int R,
      int window,
      float[] cos,
      float[] sin) {
    int HP = H * P, ring = cap * P, tab = p * (R / 2), G = h1 - h0;
    int row = r * 3 * HP; // q | k | v of the new token
    int kBase = r * 2 * H * ring, vBase = kBase + H * ring; // head h's ring: + h·ring
    int slot0 = (p % cap) * P;
    float[] q = sc.vec, w = sc.sc;
    for (int h = h0; h < h1; h++) {
      Rotary.rotateInto(
          qkv, row + HP + h * P, kv, kBase + h * ring + slot0, 1, P, R, cos, sin, tab, true);
      System.arraycopy(qkv, row + 2 * HP + h * P, kv, vBase + h * ring + slot0, P);
      Rotary.rotateInto(qkv, row + h * P, q, (h - h0) * P, 1, P, R, cos, sin, tab, true);
    }
    int lo = window < 0 ? 0 : Math.max(0, p - window), n = p - lo + 1;
    float scale = scale(P);
    // Scores w[g·n + t] for positions lo + t: eight positions at a time (eight independent fma
    // chains, summed by one transposition), the rest one by one.
    for (int g = 0; g < G; g++) {
      int kh = kBase + (h0 + g) * ring;
      int t = scores8(q, g * P, kv, kh, P, cap, lo, n, P, scale, w, g * n, sc.lanes);
      for (int slot = (lo + t) % cap; t < n; t++, slot = slot + 1 == cap ? 0 : slot + 1) {
        w[g * n + t] = AttentionMath.dot(q, g * P, kv, kh + slot * P, P, sc.lanes) * scale;
      }
    }
    for (int g = 0; g < G; g++) AttentionMath.softmax(w, g * n, n, sc.lanes);
    int o = r * HP + h0 * P;
    for (int g = 0; g < G; g++) {
      weightedSum(w, g * n, n, kv, vBase + (h0 + g) * ring, P, cap, lo % cap, out, o + g * P, P);
    }
  }

  /**
   * Scores of one head for positions lo + t, t in [0, n) in blocks of 8: w[wo + t] = (q ·
   * k_t)·scale, k_t at kv[kBase + slot·stride] with slot = (lo + t) mod cap. Returns how many
   * positions it did (a multiple of 8; 0 unless both this class and the decode products work on 8
   * lanes, as {@link Matmul#dots8} and {@code lanes} need); the caller does the rest one by one.
   * Per score: {@link Matmul#dots8} over the vector part of P, then the scalar tail in order.
   * Replaces one dot per score, whose single fma chain and lane sum cost ~8× more.
   */
  private static int scores8(
      float[] q,
      int qo,
      float[] kv,
      int kBase,
      int stride,
      int cap,
      int lo,
      int n,
      int P,
      float scale,
      float[] w,
      int wo,
      float[] lanes) {
    if (L != 8 || MatmulGemm.VL != 8) return 0;
    int pv = SPECIES.loopBound(P), t = 0;
    for (; t + 8 <= n; t += 8) {
      int s = (lo + t) % cap;
      int k0 = kBase + s * stride;
      int k1 = kBase + (s = s + 1 == cap ? 0 : s + 1) * stride;
      int k2 = kBase + (s = s + 1 == cap ? 0 : s + 1) * stride;
      int k3 = kBase + (s = s + 1 == cap ? 0 : s + 1) * stride;
      int k4 = kBase + (s = s + 1 == cap ? 0 : s + 1) * stride;
      int k5 = kBase + (s = s + 1 == cap ? 0 : s + 1) * stride;
      int k6 = kBase + (s = s + 1 == cap ? 0 : s + 1) * stride;
      int k7 = kBase + (s = s + 1 == cap ? 0 : s + 1) * stride;
      Matmul.dots8(q, qo, kv, k0, k1, k2, k3, k4, k5, k6, k7, pv, lanes, 0);
      for (int j = 0; j < 8; j++) {
        float y = lanes[j];
        if (pv < P) {
          int kj = kBase + ((lo + t + j) % cap) * stride;
          for (int c = pv; c < P; c++) y = Math.fma(q[qo + c], kv[kj + c], y);
        }
        w[wo + t + j] = y * scale;
      }
    }
    return t;
  }

  /**
   * out[o, o+P) = Σ_t w[wo + t]·v_t over t in [0, n) ascending, v_t at kv[vBase + slot·stride] with
   * slot = (slot0 + t) mod cap: per element one fma chain from 0, four vectors of P at a time kept
   * in registers (before: an axpy per position, the accumulators going through memory).
   */
  private static void weightedSum(
      float[] w,
      int wo,
      int n,
      float[] kv,
      int vBase,
      int stride,
      int cap,
      int slot0,
      float[] out,
      int o,
      int P) {
    int pv = SPECIES.loopBound(P), c = 0;
    for (; c + 4 * L <= pv; c += 4 * L) {
      FloatVector y0 = FloatVector.zero(SPECIES), y1 = y0, y2 = y0, y3 = y0;
      for (int t = 0, slot = slot0; t < n; t++, slot = slot + 1 == cap ? 0 : slot + 1) {
        int vo = vBase + slot * stride + c;
        FloatVector a = FloatVector.broadcast(SPECIES, w[wo + t]);
        y0 = a.fma(FloatVector.fromArray(SPECIES, kv, vo), y0);
        y1 = a.fma(FloatVector.fromArray(SPECIES, kv, vo + L), y1);
        y2 = a.fma(FloatVector.fromArray(SPECIES, kv, vo + 2 * L), y2);
        y3 = a.fma(FloatVector.fromArray(SPECIES, kv, vo + 3 * L), y3);
      }
      y0.intoArray(out, o + c);
      y1.intoArray(out, o + c + L);
      y2.intoArray(out, o + c + 2 * L);
      y3.intoArray(out, o + c + 3 * L);
    }
    for (; c < pv; c += L) {
      FloatVector y = FloatVector.zero(SPECIES);
      for (int t = 0, slot = slot0; t < n; t++, slot = slot + 1 == cap ? 0 : slot + 1) {
        y =
            FloatVector.broadcast(SPECIES, w[wo + t])
                .fma(FloatVector.fromArray(SPECIES, kv, vBase + slot * stride + c), y);
      }
      y.intoArray(out, o + c);
    }
    for (; c < P; c++) {
      float y = 0f;
      for (int t = 0, slot = slot0; t < n; t++, slot = slot + 1 == cap ? 0 : slot + 1) {
        y = Math.fma(w[wo + t], kv[vBase + slot * stride + c], y);
      }
      out[o + c] = y;
    }
  }

  /**
   * Writes the rotated k and v of the sequence at token rows [seqStart, seqStart + seqLen) of a
   * packed qkv (positions 0..seqLen−1) into cache row {@code row}; only the last cap positions are
   * kept, position t in slot t % cap, as {@link #step} expects.
   */
  public static void fillCache(
      float[] kvCache,
      int row,
      int cap,
      float[] qkv,
      int qkvOff,
      int qkvStride,
      int seqStart,
      int seqLen,
      int H,
      int P,
      int rotaryDim) {
    long prof = Profile.begin(Kind.ATTENTION_STEP);
    try {
      if (H < 1 || P < 1 || cap < 1)
        throw new IllegalArgumentException("H, P and cap must be >= 1");
      Rotary.checkDims(P, rotaryDim);
      if (qkvStride < 3 * H * P) throw new IllegalArgumentException("qkvStride < 3HP");
      if (seqLen <= 0) return;
      float[][] cs = Rotary.shared(seqLen, rotaryDim);
      int HP = H * P, ring = cap * P, first = Math.max(0, seqLen - cap), n = seqLen - first;
      int kBase = row * 2 * H * ring, vBase = kBase + H * ring;
      Parallel.forRange(
          n,
          Math.max(1, (int) (SERIAL_WORK / (2L * HP))),
          (start, end) -> {
            for (int t = first + start; t < first + end; t++) {
              int src = qkvOff + (seqStart + t) * qkvStride + HP, slot = (t % cap) * P;
              for (int h = 0; h < H; h++) {
                Rotary.rotateInto(
                    qkv,
                    src + h * P,
                    kvCache,
                    kBase + h * ring + slot,
                    1,
                    P,
                    rotaryDim,
                    cs[0],
                    cs[1],
                    t * (rotaryDim / 2),
                    true);
                System.arraycopy(qkv, src + HP + h * P, kvCache, vBase + h * ring + slot, P);
              }
            }
          });
    } finally {
      Profile.end(Kind.ATTENTION_STEP, prof);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Specification

  /**
   * Same arguments as {@link #forward}: the explicit per-query masked softmax, in float32 with
   * sequential sums. Allocates freely; for tests.
   */
  public static void forwardNaive(
      float[] out,
      int outOff,
      float[] qkv,
      int qkvOff,
      int qkvStride,
      int[] cuSeqlens,
      int nSeq,
      int H,
      int P,
      int rotaryDim,
      int window) {
    checkArgs(qkvStride, cuSeqlens, nSeq, H, P, rotaryDim, window);
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
            out[outOff + (s0 + i) * HP + h * P + c] = o;
          }
        }
      }
    }
  }
}
