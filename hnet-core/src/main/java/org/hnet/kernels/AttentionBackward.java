package org.hnet.kernels;

import static org.hnet.kernels.Attention.BK;
import static org.hnet.kernels.Attention.BQ;
import static org.hnet.kernels.Attention.L;
import static org.hnet.kernels.Attention.SPECIES;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import org.hnet.kernels.Profile.Kind;
import org.hnet.tensor.Arena;
import org.hnet.tensor.Rows;

/**
 * Training pass of {@link Attention}: the forward that also saves the log-sum-exp of each row's
 * scores, and the backward with respect to the un-rotated qkv.
 *
 * <p>Dimensions as in {@link Attention}: T tokens in packed sequences (cuSeqlens), H heads, P head
 * dim, R rotary dims, Wn window (the four given as an {@link AttnHeads}), HP = H·P, s = (float)
 * P^−0.5. Per-token operands are {@link Rows} views; argument order: outputs and saved statistics,
 * inputs, then the sequences and dimensions. lse is [T × H] (lse[t·H + h], no offset). With rotated
 * q̃, k̃: S = s·q̃k̃ᵀ over the visible keys, P = softmax(S), O = PV, and for a loss with gradient
 * dO: dV = PᵀdO, dP = dO Vᵀ, D_i = dO_i·O_i, dS = P ∘ (dP − D), dq̃ = s·dS k̃, dk̃ = s·dSᵀ q̃. The
 * rotary is orthogonal, so dq = Rᵀdq̃ (rotation by −angle) on the first R channels; the other
 * channels pass through.
 *
 * <p>Fast backward (flash-attention-2 style): one work item per (sequence, head). The item rotates
 * its q and k once (rows, plus k and v transposed [P × ld] so score-like tiles vectorise across
 * keys), then walks key blocks of BK outer and query blocks of BQ inner, recomputing P = exp(S −
 * lse) per BQ×BK tile; dK, dV of the key block accumulate in [BK × P] scratch and dQ of the whole
 * (sequence, head) in [len × P] scratch, so no element is written by two items. Every sum runs in a
 * fixed order (fma chains over keys or queries ascending, fixed-order lane sums), so results are
 * bitwise independent of the thread count.
 */
public final class AttentionBackward {
  /** Below this much multiply-add work a call runs on the calling thread alone. */
  private static final long SERIAL_WORK = 1L << 16;

  /**
   * Whether the backward splits its (sequence, head) items over threads: chosen from measured times
   * ({@link SplitChoice}), since the split lost in some runs on the 2-core development machine.
   * Inside a training step of small-1stage (4 sequences × 6 heads of ~500 chunks), the two halves
   * run concurrently took 0.35–0.52 s each in most runs of one evening, against 0.05 s each when
   * the same halves ran one after the other (on either thread) and 0.10 s for the whole call on one
   * thread; on another day the split call took 0.19 s per step against 0.35 s on one thread
   * (alternated in one run). The same call outside the model (KernelBench, a harness with the
   * model's shapes and scales) always scales 1.9×. Not diagnosed: not false sharing between the
   * threads' scratch (checked by address and by padding), not denormals, not a data race (identical
   * outputs), not SMT sharing, not reading lines the other core wrote (a harness that does: 10%).
   * {@code -Dhnet.attention.parallelBackward=true|false} fixes the choice.
   */
  static final SplitChoice SPLIT =
      new SplitChoice("hnet.attention.parallelBackward"); // tests force it

  private AttentionBackward() {}

  /**
   * A thread's buffers for one part of the backward, taken from its arena ({@link Arena#local}).
   */
  private static final class Scratch {
    float[] qr, kr, dq; // [len × P]
    float[] kT, vT; // [P × ld], columns ≥ len zeroed by each head
    float[] d, lse; // [len] D_i and lse of the head
    float[] s; // [BQ × BK] scores, then probabilities
    float[] ds; // [BQ × BK] dP, then dS
    float[] dk, dv; // [BK × P]
    float[] lanes; // [L]
    int ld;

    /** This thread's record with buffers for heads of up to maxLen tokens of head dim P. */
    static Scratch take(Arena arena, int P, int maxLen) {
      Scratch sc = arena.holder(Scratch.class, Scratch::new);
      sc.ld = Attention.roundUp(Math.max(1, maxLen), L);
      sc.qr = arena.floats(maxLen * P);
      sc.kr = arena.floats(maxLen * P);
      sc.dq = arena.floats(maxLen * P);
      sc.kT = arena.floats(P * sc.ld);
      sc.vT = arena.floats(P * sc.ld);
      sc.d = arena.floats(maxLen);
      sc.lse = arena.floats(maxLen);
      sc.s = arena.floats(BQ * BK);
      sc.ds = arena.floats(BQ * BK);
      sc.dk = arena.floats(BK * P);
      sc.dv = arena.floats(BK * P);
      sc.lanes = arena.floats(L);
      return sc;
    }
  }

  /**
   * {@link Attention#forward} (out bitwise the same) that also saves lse[t·H + h] = log Σ_j
   * exp(S_tj) over the visible keys of token t, head h, as float32 m + log(l) (m the row max, l the
   * softmax denominator). out: [T × HP]; lse: [T × H] at offset 0; qkv: [T × 3HP], un-rotated, not
   * modified.
   */
  public static void forwardTrain(
      Rows out, float[] lse, Rows qkv, int[] cuSeqlens, int nSeq, AttnHeads a) {
    long prof = Profile.begin(Kind.ATTENTION);
    try {
      if (lse == null) throw new IllegalArgumentException("lse must not be null");
      Attention.forward(out, lse, qkv, cuSeqlens, nSeq, a); // checks the arguments
      Flops.add(Attention.causalPairs(cuSeqlens, nSeq, a.window()) * 4L * a.heads() * a.headDim());
    } finally {
      Profile.end(Kind.ATTENTION, prof);
    }
  }

  /**
   * Backward of {@link #forwardTrain}. dout: [T × HP]; qkv ([T × 3HP], un-rotated), out ([T × HP])
   * and lse ([T × H] at offset 0) as the forward saw and produced them. Overwrites columns [0, 3HP)
   * of the T rows of dqkv with the gradient w.r.t. the un-rotated q | k | v; other columns are
   * untouched. Every view may have its own stride (dout's and out's need not be HP).
   */
  public static void backward(
      Rows dqkv,
      Rows dout,
      Rows qkv,
      Rows out,
      float[] lse,
      int[] cuSeqlens,
      int nSeq,
      AttnHeads a) {
    long prof = Profile.begin(Kind.ATTENTION_BACKWARD);
    try {
      int H = a.heads(), P = a.headDim(), HP = H * P, window = a.window();
      Flops.add(
          Attention.causalPairs(cuSeqlens, nSeq, window) * 10L * H * P); // 5 products per pair
      Attention.checkArgs(qkv.stride(), cuSeqlens, nSeq, H, P, a.rotaryDim(), window);
      if (dqkv.stride() < 3 * HP) {
        throw new IllegalArgumentException(
            "dqkv rows are " + dqkv.stride() + " apart, < 3HP = " + 3 * HP);
      }
      int T = cuSeqlens[nSeq];
      if (lse.length < (long) T * H) {
        throw new IllegalArgumentException("lse needs T·H = " + (long) T * H + " floats");
      }
      dqkv.require("dqkv", T, 3 * HP);
      dout.require("dout", T, HP);
      qkv.require("qkv", T, 3 * HP);
      out.require("out", T, HP);
      int maxLen = 0;
      long work = 0;
      for (int i = 0; i < nSeq; i++) {
        int len = cuSeqlens[i + 1] - cuSeqlens[i];
        maxLen = Math.max(maxLen, len);
        work += (long) H * len * (window < 0 ? len : Math.min(len, window + 1)) * P;
      }
      if (maxLen == 0) return;
      float[][] cs = Rotary.shared(maxLen, a.rotaryDim());
      int n = nSeq * H, ml = maxLen;
      boolean choose = work >= SERIAL_WORK && !Parallel.serial(n, 1); // either way is possible
      boolean split = choose && SPLIT.split();
      long t0 = System.nanoTime();
      if (!split) { // one part: the body directly, no lambda
        heads(dqkv, dout, qkv, out, lse, cuSeqlens, a, cs, ml, 0, n);
      } else {
        Parallel.forRange(
            n,
            1,
            (start, end) -> heads(dqkv, dout, qkv, out, lse, cuSeqlens, a, cs, ml, start, end));
      }
      if (choose) SPLIT.record(split, System.nanoTime() - t0, work);
    } finally {
      Profile.end(Kind.ATTENTION_BACKWARD, prof);
    }
  }

  /** Work items [start, end) of the backward: item it is head it % H of sequence it / H. */
  private static void heads(
      Rows dqkv,
      Rows dout,
      Rows qkv,
      Rows out,
      float[] lse,
      int[] cuSeqlens,
      AttnHeads a,
      float[][] cs,
      int ml,
      int start,
      int end) {
    int H = a.heads();
    Arena arena = Arena.local();
    int mark = arena.mark();
    try {
      Scratch sc = Scratch.take(arena, a.headDim(), ml);
      for (int it = start; it < end; it++) {
        int seq = it / H, s0 = cuSeqlens[seq], len = cuSeqlens[seq + 1] - s0;
        if (len == 0) continue;
        head(sc, dqkv, dout, qkv, out, lse, a, s0, len, it % H, cs[0], cs[1]);
      }
    } finally {
      arena.release(mark);
    }
  }

  /** One work item: head h of the sequence of len ≥ 1 tokens starting at token s0. */
  private static void head(
      Scratch sc,
      Rows dqkvV,
      Rows doutV,
      Rows qkvV,
      Rows outV,
      float[] lseAll,
      AttnHeads dims,
      int s0,
      int len,
      int h,
      float[] cos,
      float[] sin) {
    int H = dims.heads(), P = dims.headDim(), R = dims.rotaryDim(), window = dims.window();
    // The operands (the loops below index the arrays from these offsets and strides).
    float[] dqkv = dqkvV.a(), dout = doutV.a(), qkv = qkvV.a(), out = outV.a();
    int dqkvOff = dqkvV.off(), dqkvStride = dqkvV.stride();
    int qkvOff = qkvV.off(), qkvStride = qkvV.stride();
    int gs = doutV.stride(), os = outV.stride();
    int HP = H * P, r2 = R / 2, ld = sc.ld;
    float[] qr = sc.qr, kr = sc.kr, kT = sc.kT, vT = sc.vT, dq = sc.dq, d = sc.d, lse = sc.lse;
    float[] s = sc.s, ds = sc.ds, dk = sc.dk, dv = sc.dv;
    int dBase = doutV.at(s0) + h * P; // dO row t at dBase + t·gs
    int oBase = outV.at(s0) + h * P; // O row t at oBase + t·os
    for (int t = 0; t < len; t++) {
      int row = qkvOff + (s0 + t) * qkvStride + h * P;
      Rotary.rotateInto(qkv, row, qr, t * P, 1, P, R, cos, sin, t * r2, true);
      Rotary.rotateInto(qkv, row + HP, kr, t * P, 1, P, R, cos, sin, t * r2, true);
      for (int c = 0; c < P; c++) {
        kT[c * ld + t] = kr[t * P + c];
        vT[c * ld + t] = qkv[row + 2 * HP + c];
      }
      d[t] = AttentionMath.dot(dout, dBase + t * gs, out, oBase + t * os, P, sc.lanes);
      lse[t] = lseAll[(s0 + t) * H + h];
    }
    // Padding columns feed only masked (zero) probabilities, but must be finite: 0·NaN is NaN.
    int padEnd = Attention.roundUp(len, L);
    for (int c = 0; c < P; c++) {
      Arrays.fill(kT, c * ld + len, c * ld + padEnd, 0f);
      Arrays.fill(vT, c * ld + len, c * ld + padEnd, 0f);
    }
    Arrays.fill(dq, 0, len * P, 0f);
    float scale = Attention.scale(P);

    for (int j0 = 0; j0 < len; j0 += BK) {
      int j1 = Math.min(len, j0 + BK), nk = j1 - j0, ce = Attention.roundUp(j1, L);
      Arrays.fill(dk, 0, nk * P, 0f);
      Arrays.fill(dv, 0, nk * P, 0f);
      // Queries that see a key of this block: i ≥ j0, and i − Wn ≤ j1 − 1 when windowed.
      int iEnd = window < 0 ? len : (int) Math.min(len, (long) j1 + window);
      for (int i0 = j0; i0 < iEnd; i0 += BQ) {
        int nq = Math.min(iEnd, i0 + BQ) - i0;
        Attention.scoreTile(qr, i0 * P, P, P, nq, kT, ld, j0, ce, s, j0, scale);
        Attention.scoreTile(dout, dBase + i0 * gs, gs, P, nq, vT, ld, j0, ce, ds, j0, 1f);
        for (int r = 0; r < nq; r++) {
          int i = i0 + r, so = r * BK - j0;
          FloatVector di = FloatVector.broadcast(SPECIES, d[i]);
          for (int c = j0; c < ce; c += L) AttentionMath.exp(s, so + c, lse[i]);
          // Invisible keys get probability 0 (their exp may be garbage: S − lse > 0 there).
          int a = Math.max(j0, window < 0 ? 0 : i - window), b = Math.min(j1, i + 1);
          if (a >= b) a = b = ce;
          Arrays.fill(s, so + j0, so + a, 0f);
          Arrays.fill(s, so + b, so + ce, 0f);
          for (int c = j0; c < ce; c += L) {
            FloatVector p = FloatVector.fromArray(SPECIES, s, so + c);
            p.mul(FloatVector.fromArray(SPECIES, ds, so + c).sub(di)).intoArray(ds, so + c);
          }
        }
        // dV[j] += Σ_r P[r][j]·dO_r;  dK[j] += Σ_r dS[r][j]·q̃_r;  dQ_r += Σ_j dS[r][j]·k̃_j.
        SmallGemm.acc(s, 0, 1, BK, nk, nq, dout, dBase + i0 * gs, gs, dv, 0, P, P);
        SmallGemm.acc(ds, 0, 1, BK, nk, nq, qr, i0 * P, P, dk, 0, P, P);
        SmallGemm.acc(ds, 0, BK, 1, nq, nk, kr, j0 * P, P, dq, i0 * P, P, P);
      }
      for (int jj = 0; jj < nk; jj++) {
        int t = j0 + jj, row = dqkvOff + (s0 + t) * dqkvStride + h * P;
        System.arraycopy(dv, jj * P, dqkv, row + 2 * HP, P);
        unrotate(dk, jj * P, dqkv, row + HP, P, R, cos, sin, t * r2, scale);
      }
    }
    for (int t = 0; t < len; t++) {
      unrotate(
          dq, t * P, dqkv, dqkvOff + (s0 + t) * dqkvStride + h * P, P, R, cos, sin, t * r2, scale);
    }
  }

  /** dst[c] = (Rᵀ · scale·src)[c]: rotation by −angle of the first R channels; the rest scaled. */
  private static void unrotate(
      float[] src,
      int so,
      float[] dst,
      int dOff,
      int P,
      int R,
      float[] cos,
      float[] sin,
      int tab,
      float scale) {
    int r2 = R / 2, i = 0;
    // vector lanes perform the scalar loops' multiplies and adds (no fma), so the same values
    for (int b = SPECIES.loopBound(r2); i < b; i += L) {
      FloatVector g1 = FloatVector.fromArray(SPECIES, src, so + i).mul(scale);
      FloatVector g2 = FloatVector.fromArray(SPECIES, src, so + i + r2).mul(scale);
      FloatVector c = FloatVector.fromArray(SPECIES, cos, tab + i),
          s = FloatVector.fromArray(SPECIES, sin, tab + i);
      g1.mul(c).add(g2.mul(s)).intoArray(dst, dOff + i);
      g2.mul(c).sub(g1.mul(s)).intoArray(dst, dOff + i + r2);
    }
    for (; i < r2; i++) {
      float g1 = src[so + i] * scale, g2 = src[so + i + r2] * scale;
      float c = cos[tab + i], s = sin[tab + i];
      dst[dOff + i] = g1 * c + g2 * s;
      dst[dOff + i + r2] = g2 * c - g1 * s;
    }
    int c = R;
    for (int b = R + SPECIES.loopBound(P - R); c < b; c += L) {
      FloatVector.fromArray(SPECIES, src, so + c).mul(scale).intoArray(dst, dOff + c);
    }
    for (; c < P; c++) dst[dOff + c] = src[so + c] * scale;
  }

  // ---------------------------------------------------------------------------------------------
  // Specification

  /**
   * Same arguments as {@link #backward} minus out and lse: recomputes the rotary, each query's
   * masked softmax (float32, Math.exp, sequential sums as {@link Attention#forwardNaive}) and its
   * output, then applies the formulas of the class comment query by query. Allocates freely; for
   * tests.
   */
  public static void backwardNaive(
      Rows dqkvV, Rows doutV, Rows qkvV, int[] cuSeqlens, int nSeq, AttnHeads a) {
    int H = a.heads(), P = a.headDim(), HP = H * P, R = a.rotaryDim(), window = a.window();
    Attention.checkArgs(qkvV.stride(), cuSeqlens, nSeq, H, P, R, window);
    if (dqkvV.stride() < 3 * HP) throw new IllegalArgumentException("dqkv stride < 3HP");
    int T = cuSeqlens[nSeq];
    dqkvV.require("dqkv", T, 3 * HP);
    doutV.require("dout", T, HP);
    qkvV.require("qkv", T, 3 * HP);
    float[] dqkv = dqkvV.a(), dout = doutV.a(), qkv = qkvV.a();
    int dqkvOff = dqkvV.off(), dqkvStride = dqkvV.stride();
    int qkvOff = qkvV.off(), qkvStride = qkvV.stride();
    float scale = Attention.scale(P);
    for (int sq = 0; sq < nSeq; sq++) {
      int s0 = cuSeqlens[sq], len = cuSeqlens[sq + 1] - s0;
      float[][] tab = Rotary.tables(len, R);
      float[] qr = new float[len * HP], kr = new float[len * HP], v = new float[len * HP];
      float[] dqr = new float[len * HP], dkr = new float[len * HP], dv = new float[len * HP];
      float[] p = new float[len], o = new float[P];
      for (int t = 0; t < len; t++) {
        int row = qkvOff + (s0 + t) * qkvStride;
        System.arraycopy(qkv, row, qr, t * HP, HP);
        System.arraycopy(qkv, row + HP, kr, t * HP, HP);
        System.arraycopy(qkv, row + 2 * HP, v, t * HP, HP);
        Rotary.apply(qr, t * HP, H, P, R, t, tab[0], tab[1]);
        Rotary.apply(kr, t * HP, H, P, R, t, tab[0], tab[1]);
      }
      for (int h = 0; h < H; h++) {
        for (int i = 0; i < len; i++) {
          int lo = window < 0 ? 0 : Math.max(0, i - window), qi = i * HP + h * P;
          int go = doutV.at(s0 + i) + h * P;
          float mx = Float.NEGATIVE_INFINITY, sum = 0f;
          for (int j = lo; j <= i; j++) {
            float dot = 0f;
            for (int c = 0; c < P; c++) dot += qr[qi + c] * kr[j * HP + h * P + c];
            p[j] = dot * scale;
            mx = Math.max(mx, p[j]);
          }
          for (int j = lo; j <= i; j++) sum += p[j] = (float) Math.exp(p[j] - mx);
          for (int j = lo; j <= i; j++) p[j] /= sum;
          float dd = 0f; // D_i = dO_i · O_i
          for (int c = 0; c < P; c++) {
            o[c] = 0f;
            for (int j = lo; j <= i; j++) o[c] += p[j] * v[j * HP + h * P + c];
            dd += dout[go + c] * o[c];
          }
          for (int j = lo; j <= i; j++) {
            int kj = j * HP + h * P;
            float dp = 0f;
            for (int c = 0; c < P; c++) dp += dout[go + c] * v[kj + c];
            float dsc = p[j] * (dp - dd) * scale;
            for (int c = 0; c < P; c++) {
              dqr[qi + c] += dsc * kr[kj + c];
              dkr[kj + c] += dsc * qr[qi + c];
              dv[kj + c] += p[j] * dout[go + c];
            }
          }
        }
      }
      for (int t = 0; t < len; t++) {
        int row = dqkvOff + (s0 + t) * dqkvStride;
        for (int h = 0; h < H; h++) {
          unrotate(dqr, t * HP + h * P, dqkv, row + h * P, P, R, tab[0], tab[1], t * (R / 2), 1f);
          unrotate(
              dkr, t * HP + h * P, dqkv, row + HP + h * P, P, R, tab[0], tab[1], t * (R / 2), 1f);
        }
        System.arraycopy(dv, t * HP, dqkv, row + 2 * HP, HP);
      }
    }
  }
}
