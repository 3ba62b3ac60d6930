package org.hnet.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.hnet.kernels.Profile.Kind;
import org.hnet.tensor.Arena;
import org.hnet.tensor.Rows;

/**
 * Backward of {@link Conv1d#causalSilu} (causal depthwise conv + bias + SiLU over packed
 * sequences). Legend as in Conv1d: T tokens, C channels, W conv width. With z_t = bias + Σ_k w[c,k]
 * in_{t−(W−1)+k} (recomputed; taps before the sequence start are 0):
 *
 * <pre>
 *   dz_t      = dout_t · silu'(z_t),          silu'(z) = σ(z) (1 + z (1 − σ(z)))
 *   din_s     = Σ_k w[c,k] dz_{s+(W−1)−k}     (only targets inside s's sequence)
 *   dw[c,k]  += Σ_t dz_t in_{t−(W−1)+k}
 *   dbias[c] += Σ_t dz_t
 * </pre>
 */
public final class Conv1dBackward {
  private static final VectorSpecies<Float> F = VectorWidth.FLOAT;

  private static final int LANES = F.length();

  private Conv1dBackward() {}

  /**
   * silu'(z) in double (σ via Math.exp; e^{−z} overflow gives σ = 0 and a ∓0 gradient): the
   * oracle's.
   */
  static double siluGrad(double z) {
    double s = 1 / (1 + Math.exp(-z));
    return s * (1 + z * (1 - s));
  }

  /** silu'(z) in float with {@link FastExp}'s σ: the fast kernel's, lanes and tail alike. */
  static float siluGrad(float z) {
    float s = FastExp.sigmoid(z);
    return s * (1f + z * (1f - s));
  }

  /**
   * In place: a[o, o+L) ← {@link #siluGrad(float)} lane by lane (arrays in and out: see {@link
   * FastExp#exp(float[], int)}).
   */
  static void siluGrad(float[] a, int o) {
    FloatVector z = FloatVector.fromArray(F, a, o);
    FastExp.sigmoid(a, o);
    FloatVector s = FloatVector.fromArray(F, a, o);
    s.mul(z.mul(s.neg().add(1f)).add(1f)).intoArray(a, o);
  }

  /** The formulas above token by token in double (the oracle); same arguments as the fast one. */
  public static void causalSiluBackwardNaive(
      Rows dIn,
      float[] dw,
      float[] dbias,
      Rows dOut,
      Rows in,
      float[] w,
      float[] bias,
      int[] cuSeqlens,
      int nSeq,
      int W) {
    int C = dIn.cols();
    checkArgs(cuSeqlens, nSeq, C, W);
    int T = cuSeqlens[nSeq];
    checkRows(dIn, dOut, in, T, C);
    float[] din = dIn.a(), dout = dOut.a(), x = in.a();
    int dinOff = dIn.off(), dinStride = dIn.stride(), doutOff = dOut.off();
    int doutStride = dOut.stride(), inOff = in.off(), inStride = in.stride();
    double[] dinAcc = new double[T * C], dwAcc = new double[C * W], dbAcc = new double[C];
    for (int s = 0; s < nSeq; s++) {
      int start = cuSeqlens[s], end = cuSeqlens[s + 1];
      for (int t = start; t < end; t++) {
        for (int ch = 0; ch < C; ch++) {
          double z = bias[ch];
          for (int k = 0; k < W; k++) {
            int src = t - (W - 1) + k;
            if (src >= start) z += (double) w[ch * W + k] * x[inOff + src * inStride + ch];
          }
          double dz = dout[doutOff + t * doutStride + ch] * siluGrad(z);
          dbAcc[ch] += dz;
          for (int k = 0; k < W; k++) {
            int src = t - (W - 1) + k;
            if (src < start) continue;
            dinAcc[src * C + ch] += w[ch * W + k] * dz;
            dwAcc[ch * W + k] += dz * x[inOff + src * inStride + ch];
          }
        }
      }
    }
    for (int t = 0; t < T; t++) {
      for (int ch = 0; ch < C; ch++) din[dinOff + t * dinStride + ch] = (float) dinAcc[t * C + ch];
    }
    for (int i = 0; i < C * W; i++) dw[i] += (float) dwAcc[i];
    for (int ch = 0; ch < C; ch++) dbias[ch] += (float) dbAcc[ch];
  }

  /**
   * Backward of Conv1d.causalSilu (recomputes the pre-activation): C = dIn's width, T =
   * cuSeqlens[nSeq]. dOut [T × C]; in, w [C×W] and bias [C] as the forward's. OVERWRITES dIn [T ×
   * C] (must not overlap dOut or in); ADDS INTO dw [C×W] and dbias [C].
   *
   * <p>Three passes, each a plain vector loop over channels: (1) dz [T × C] into the caller's
   * scratch, parallel over tokens; (2) din from dz, parallel over tokens; (3) dw and dbias,
   * parallel over channels, each channel's sums taken over its sequences' tokens from the last to
   * the first. Every element is written by one thread and each sum has one fixed order whatever the
   * split, so results are the same for any thread count.
   *
   * <p>Why passes: the one-pass form (channel blocks walking their tokens backwards with the dz
   * ring and the dw sums in a small scratch) ran at ~200 cycles per vector of channels even with
   * every operand in L2, against ~20 for the operations themselves.
   */
  public static void causalSiluBackward(
      Rows dIn,
      float[] dw,
      float[] dbias,
      Rows dOut,
      Rows in,
      float[] w,
      float[] bias,
      int[] cuSeqlens,
      int nSeq,
      int W) {
    long prof = Profile.begin(Kind.CONV_BACKWARD);
    try {
      int C = dIn.cols();
      checkArgs(cuSeqlens, nSeq, C, W);
      int T = cuSeqlens[nSeq];
      checkRows(dIn, dOut, in, T, C);
      if (T == 0 || C == 0) return;
      Arena scratch = Arena.local();
      int mark = scratch.mark();
      try {
        float[] wT = scratch.floats(W * C),
            dz =
                scratch.floats(
                    Math.toIntExact(
                        (long) T * C)); // tap-major wT[k*C + ch]; dz[t*C + ch]; read-only for the
        // workers
        for (int ch = 0; ch < C; ch++) {
          for (int k = 0; k < W; k++) wT[k * C + ch] = w[ch * W + k];
        }
        int grain = Math.max(1, 16384 / (C * W)); // ~16k multiply-adds per part at least
        if (Parallel.serial(T, grain)) {
          dzTokens(dz, dOut, in, wT, bias, cuSeqlens, nSeq, C, W, 0, T);
          dinTokens(dIn, dz, wT, cuSeqlens, nSeq, C, W, 0, T);
        } else {
          Parallel.forRange(
              T,
              grain,
              (t0, t1) -> dzTokens(dz, dOut, in, wT, bias, cuSeqlens, nSeq, C, W, t0, t1));
          Parallel.forRange(
              T, grain, (t0, t1) -> dinTokens(dIn, dz, wT, cuSeqlens, nSeq, C, W, t0, t1));
        }
        int vecs =
            (C + LANES - 1) / LANES; // the last part may be a partial vector (scalar channels)
        int vGrain = (int) Math.max(1, 16384 / ((long) T * W * LANES + 1));
        if (Parallel.serial(vecs, vGrain)) {
          weightGrads(dw, dbias, dz, in, cuSeqlens, nSeq, C, W, 0, C);
        } else {
          Parallel.forRange(
              vecs,
              vGrain,
              (v0, v1) ->
                  weightGrads(
                      dw,
                      dbias,
                      dz,
                      in,
                      cuSeqlens,
                      nSeq,
                      C,
                      W,
                      v0 * LANES,
                      Math.min(C, v1 * LANES)));
        }
      } finally {
        scratch.release(mark);
      }
    } finally {
      Profile.end(Kind.CONV_BACKWARD, prof);
    }
  }

  /** dz[t*C + ch] = dout_t · silu'(z_t) for tokens [t0, t1), z_t as the forward forms it. */
  private static void dzTokens(
      float[] dz,
      Rows dOut,
      Rows inRows,
      float[] wT,
      float[] bias,
      int[] cu,
      int nSeq,
      int C,
      int W,
      int t0,
      int t1) {
    float[] dout = dOut.a(), in = inRows.a();
    int doutOff = dOut.off(), doutStride = dOut.stride();
    int inOff = inRows.off(), inStride = inRows.stride();
    int s = Conv1d.seqOf(cu, nSeq, t0);
    int cb = F.loopBound(C);
    for (int t = t0; t < t1; t++) {
      while (t >= cu[s + 1]) s++;
      int first = Math.max(cu[s], t - (W - 1)), dRow = doutOff + t * doutStride, zRow = t * C;
      int ch = 0;
      // the usual window written out (the same operations as the loop).
      // The same tap sum as Conv1d.convToken's, written twice on purpose: as a shared method
      // returning the vector, C2 left it out of line and boxed it (84 KB per call at T = 128).
      boolean four = W == 4 && first == t - 3;
      int i0 = inOff + first * inStride, i1 = i0 + inStride, i2 = i1 + inStride, i3 = i2 + inStride;
      for (; ch < cb; ch += LANES) {
        FloatVector z =
            FloatVector.fromArray(F, bias, ch); // bias, then taps oldest first: the forward's order
        if (four) {
          z = FloatVector.fromArray(F, wT, ch).fma(FloatVector.fromArray(F, in, i0 + ch), z);
          z = FloatVector.fromArray(F, wT, C + ch).fma(FloatVector.fromArray(F, in, i1 + ch), z);
          z =
              FloatVector.fromArray(F, wT, 2 * C + ch)
                  .fma(FloatVector.fromArray(F, in, i2 + ch), z);
          z =
              FloatVector.fromArray(F, wT, 3 * C + ch)
                  .fma(FloatVector.fromArray(F, in, i3 + ch), z);
        } else {
          for (int src = first; src <= t; src++) {
            z =
                FloatVector.fromArray(F, wT, (src - t + W - 1) * C + ch)
                    .fma(FloatVector.fromArray(F, in, inOff + src * inStride + ch), z);
          }
        }
        FloatVector d = FloatVector.fromArray(F, dout, dRow + ch);
        z.intoArray(dz, zRow + ch);
        siluGrad(dz, zRow + ch);
        d.mul(FloatVector.fromArray(F, dz, zRow + ch)).intoArray(dz, zRow + ch);
      }
      for (; ch < C; ch++) {
        float z = bias[ch];
        for (int src = first; src <= t; src++) {
          z = Math.fma(wT[(src - t + W - 1) * C + ch], in[inOff + src * inStride + ch], z);
        }
        dz[zRow + ch] = dout[dRow + ch] * siluGrad(z);
      }
    }
  }

  /**
   * din_t = Σ_{m} w[W−1−m] dz_{t+m} over the targets t+m still in t's sequence, m ascending; [t0,
   * t1).
   */
  private static void dinTokens(
      Rows dIn, float[] dz, float[] wT, int[] cu, int nSeq, int C, int W, int t0, int t1) {
    float[] din = dIn.a();
    int dinOff = dIn.off(), dinStride = dIn.stride();
    int s = Conv1d.seqOf(cu, nSeq, t0);
    int cb = F.loopBound(C);
    for (int t = t0; t < t1; t++) {
      while (t >= cu[s + 1]) s++;
      int mEnd = Math.min(W, cu[s + 1] - t), dRow = dinOff + t * dinStride;
      int ch = 0;
      if (W == 4 && mEnd == 4) { // the usual window, straight-line: the same operations
        int z0 = t * C, z1 = z0 + C, z2 = z1 + C, z3 = z2 + C;
        for (; ch < cb; ch += LANES) {
          FloatVector acc =
              FloatVector.fromArray(F, wT, 3 * C + ch)
                  .fma(FloatVector.fromArray(F, dz, z0 + ch), FloatVector.zero(F));
          acc =
              FloatVector.fromArray(F, wT, 2 * C + ch)
                  .fma(FloatVector.fromArray(F, dz, z1 + ch), acc);
          acc =
              FloatVector.fromArray(F, wT, C + ch).fma(FloatVector.fromArray(F, dz, z2 + ch), acc);
          acc = FloatVector.fromArray(F, wT, ch).fma(FloatVector.fromArray(F, dz, z3 + ch), acc);
          acc.intoArray(din, dRow + ch);
        }
      }
      for (; ch < cb; ch += LANES) {
        FloatVector acc = FloatVector.zero(F);
        for (int m = 0; m < mEnd; m++) {
          acc =
              FloatVector.fromArray(F, wT, (W - 1 - m) * C + ch)
                  .fma(FloatVector.fromArray(F, dz, (t + m) * C + ch), acc);
        }
        acc.intoArray(din, dRow + ch);
      }
      for (; ch < C; ch++) {
        float acc = 0f;
        for (int m = 0; m < mEnd; m++)
          acc = Math.fma(wT[(W - 1 - m) * C + ch], dz[(t + m) * C + ch], acc);
        din[dRow + ch] = acc;
      }
    }
  }

  /**
   * dw[ch*W + k] += Σ_t dz_t in_{t−(W−1)+k} and dbias[ch] += Σ_t dz_t for channels [c0, c1), each
   * sum from zero over the sequences in order and, within one, over its tokens from the last to the
   * first; the sums live in this thread's scratch [(W+1) × (c1−c0)] while the tokens stream by.
   */
  private static void weightGrads(
      float[] dw,
      float[] dbias,
      float[] dz,
      Rows inRows,
      int[] cu,
      int nSeq,
      int C,
      int W,
      int c0,
      int c1) {
    Arena arena = Arena.local();
    int mark = arena.mark();
    try {
      float[] acc = arena.floats((W + 1) * (c1 - c0));
      float[] in = inRows.a();
      int inOff = inRows.off(), inStride = inRows.stride();
      int n = c1 - c0, nb = F.loopBound(n);
      // acc[k*n + i] for tap k, acc[W*n + i] for the bias
      java.util.Arrays.fill(acc, 0, (W + 1) * n, 0f);
      int dbAt = W * n;
      for (int s = 0; s < nSeq; s++) {
        int start = cu[s], end = cu[s + 1];
        for (int t = end - 1; t >= start; t--) {
          int first = Math.max(start, t - (W - 1)), zRow = t * C + c0;
          int i = 0;
          if (W == 4 && first == t - 3) { // the usual window, straight-line: the same operations
            int i0 = inOff + first * inStride + c0,
                i1 = i0 + inStride,
                i2 = i1 + inStride,
                i3 = i2 + inStride;
            int a1 = n, a2 = 2 * n, a3 = 3 * n;
            for (; i < nb; i += LANES) {
              FloatVector d = FloatVector.fromArray(F, dz, zRow + i);
              FloatVector.fromArray(F, acc, dbAt + i).add(d).intoArray(acc, dbAt + i);
              d.fma(FloatVector.fromArray(F, in, i0 + i), FloatVector.fromArray(F, acc, i))
                  .intoArray(acc, i);
              d.fma(FloatVector.fromArray(F, in, i1 + i), FloatVector.fromArray(F, acc, a1 + i))
                  .intoArray(acc, a1 + i);
              d.fma(FloatVector.fromArray(F, in, i2 + i), FloatVector.fromArray(F, acc, a2 + i))
                  .intoArray(acc, a2 + i);
              d.fma(FloatVector.fromArray(F, in, i3 + i), FloatVector.fromArray(F, acc, a3 + i))
                  .intoArray(acc, a3 + i);
            }
          }
          for (; i < nb; i += LANES) {
            FloatVector d = FloatVector.fromArray(F, dz, zRow + i);
            FloatVector.fromArray(F, acc, dbAt + i).add(d).intoArray(acc, dbAt + i);
            for (int src = first; src <= t; src++) {
              int at = (src - t + W - 1) * n + i;
              d.fma(
                      FloatVector.fromArray(F, in, inOff + src * inStride + c0 + i),
                      FloatVector.fromArray(F, acc, at))
                  .intoArray(acc, at);
            }
          }
          for (; i < n; i++) {
            float d = dz[zRow + i];
            acc[dbAt + i] += d;
            for (int src = first; src <= t; src++) {
              int at = (src - t + W - 1) * n + i;
              acc[at] = Math.fma(d, in[inOff + src * inStride + c0 + i], acc[at]);
            }
          }
        }
      }
      for (int i = 0; i < n; i++) {
        dbias[c0 + i] += acc[dbAt + i];
        for (int k = 0; k < W; k++) dw[(c0 + i) * W + k] += acc[k * n + i];
      }
    } finally {
      arena.release(mark);
    }
  }

  private static void checkArgs(int[] cu, int nSeq, int C, int W) {
    if (nSeq < 0 || C < 0) throw new IllegalArgumentException("negative dimension");
    if (W < 1) throw new IllegalArgumentException("conv width must be >= 1, got " + W);
    if (cu.length < nSeq + 1 || cu[0] != 0) {
      throw new IllegalArgumentException("cuSeqlens needs nSeq+1 entries starting at 0");
    }
    for (int s = 0; s < nSeq; s++) {
      if (cu[s + 1] < cu[s]) throw new IllegalArgumentException("cuSeqlens decreases at " + s);
    }
  }

  /** Every token view covers T × C (a check that passes allocates nothing). */
  private static void checkRows(Rows dIn, Rows dOut, Rows in, int T, int C) {
    dIn.require("dIn", T, C);
    dOut.require("dOut", T, C);
    in.require("in", T, C);
  }
}
