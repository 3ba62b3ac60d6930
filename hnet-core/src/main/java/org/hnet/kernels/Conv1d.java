package org.hnet.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.hnet.kernels.Profile.Kind;
import org.hnet.tensor.Arena;
import org.hnet.tensor.Rows;

/**
 * Mamba-2's short convolution: causal depthwise conv1d with bias, then SiLU (mamba_ssm {@code
 * Mamba2}: {@code causal_conv1d_fn(xBC, conv1d.weight, conv1d.bias, activation="silu", seq_idx)}),
 * over packed sequences, plus the single-token decode step ({@code causal_conv1d_update}).
 *
 * <p>Dimension legend: T tokens (all packed sequences together), C channels, W conv width (kernel
 * size, d_conv), R decode rows.
 *
 * <pre>
 *   out_t,c = silu(bias_c + Σ_{k=0}^{W-1} w[c,k] · in_{t-(W-1)+k, c})      silu(v) = v / (1 + e^-v)
 * </pre>
 *
 * with inputs before the sequence start taken as 0. Weight {@code conv1d.weight} (C, 1, W) is read
 * as w[c*W + k]. Conv state: [W × C] per sequence, its last W inputs, oldest first, zero-padded in
 * front: mamba_ssm's {@code conv_state} [C × W] transposed, so that a tap's channels are contiguous
 * (the decode step is then a vector loop over channels, as the forward is).
 */
public final class Conv1d {
  /** Vector shape used for every loop here; chosen once. */
  private static final VectorSpecies<Float> F = VectorWidth.FLOAT;

  private static final int LANES = F.length();

  private Conv1d() {}

  /**
   * The definition, token by token and channel by channel; same arguments as {@link #causalSilu}.
   */
  public static void causalSiluNaive(
      Rows out,
      float[] finalState,
      Rows in,
      float[] w,
      float[] bias,
      int[] cuSeqlens,
      int nSeq,
      int W) {
    int C = out.cols();
    checkArgs(cuSeqlens, nSeq, C, W, finalState);
    int T = cuSeqlens[nSeq];
    out.require("out", T, C);
    in.require("in", T, C);
    float[] o = out.a(), x = in.a();
    int outOff = out.off(), outStride = out.stride(), inOff = in.off(), inStride = in.stride();
    for (int s = 0; s < nSeq; s++) {
      int start = cuSeqlens[s], end = cuSeqlens[s + 1];
      for (int t = start; t < end; t++) {
        for (int ch = 0; ch < C; ch++) {
          float acc = bias[ch];
          for (int k = 0; k < W; k++) {
            int src = t - (W - 1) + k;
            if (src >= start) acc += w[ch * W + k] * x[inOff + src * inStride + ch];
          }
          o[outOff + t * outStride + ch] = FastExp.silu(acc);
        }
      }
    }
    if (finalState != null) writeFinalState(finalState, in, cuSeqlens, nSeq, C, W);
  }

  /**
   * Causal depthwise conv + bias + SiLU over packed sequences: out [T × C] (C = out's width; must
   * not overlap in) from in [T × C], T = cuSeqlens[nSeq]; w [C×W], bias [C]. finalState (nullable):
   * [nSeq × W × C], each sequence's last W inputs, oldest first, zero-padded in front when the
   * sequence is shorter.
   *
   * <p>Vector over channels (the contiguous axis of the token-major layout), parallel over tokens:
   * every output element is written by exactly one thread, in the same way for any split.
   */
  public static void causalSilu(
      Rows out,
      float[] finalState,
      Rows in,
      float[] w,
      float[] bias,
      int[] cuSeqlens,
      int nSeq,
      int W) {
    long prof = Profile.begin(Kind.CONV);
    int C = out.cols();
    checkArgs(cuSeqlens, nSeq, C, W, finalState);
    int T = cuSeqlens[nSeq];
    out.require("out", T, C);
    in.require("in", T, C);
    if (T > 0 && C > 0) {
      Arena scratch = Arena.local();
      int mark = scratch.mark();
      try {
        float[] wT = tapMajor(scratch.floats(W * C), w, C, W);
        int grain = Math.max(1, 16384 / (C * W)); // ~16k multiply-adds per part at least
        if (Parallel.serial(T, grain)) convTokens(out, in, wT, bias, cuSeqlens, nSeq, C, W, 0, T);
        else
          Parallel.forRange(
              T, grain, (t0, t1) -> convTokens(out, in, wT, bias, cuSeqlens, nSeq, C, W, t0, t1));
      } finally {
        scratch.release(mark);
      }
    }
    if (finalState != null) writeFinalState(finalState, in, cuSeqlens, nSeq, C, W);
    Profile.end(Kind.CONV, prof);
  }

  /** Tokens [t0, t1) of {@link #causalSilu}, channels [0, C). */
  private static void convTokens(
      Rows outRows,
      Rows inRows,
      float[] wT,
      float[] bias,
      int[] cuSeqlens,
      int nSeq,
      int C,
      int W,
      int t0,
      int t1) {
    float[] out = outRows.a(), in = inRows.a();
    int outOff = outRows.off(), outStride = outRows.stride();
    int inOff = inRows.off(), inStride = inRows.stride();
    int s = seqOf(cuSeqlens, nSeq, t0);
    for (int t = t0; t < t1; t++) {
      while (t >= cuSeqlens[s + 1]) s++;
      convToken(
          out,
          outOff + t * outStride,
          in,
          inOff,
          inStride,
          wT,
          bias,
          t,
          Math.max(cuSeqlens[s], t - (W - 1)),
          C,
          W);
    }
  }

  /** out row of token t, using taps from token first (≥ sequence start) to t. */
  private static void convToken(
      float[] out,
      int outRow,
      float[] in,
      int inOff,
      int inStride,
      float[] wT,
      float[] bias,
      int t,
      int first,
      int C,
      int W) {
    int ch = 0, cb = F.loopBound(C);
    // the usual window written out (the same operations as the loop)
    boolean four = W == 4 && first == t - 3;
    int i0 = inOff + first * inStride, i1 = i0 + inStride, i2 = i1 + inStride, i3 = i2 + inStride;
    for (; ch < cb; ch += LANES) {
      FloatVector acc = FloatVector.fromArray(F, bias, ch);
      if (four) {
        acc = FloatVector.fromArray(F, wT, ch).fma(FloatVector.fromArray(F, in, i0 + ch), acc);
        acc = FloatVector.fromArray(F, wT, C + ch).fma(FloatVector.fromArray(F, in, i1 + ch), acc);
        acc =
            FloatVector.fromArray(F, wT, 2 * C + ch)
                .fma(FloatVector.fromArray(F, in, i2 + ch), acc);
        acc =
            FloatVector.fromArray(F, wT, 3 * C + ch)
                .fma(FloatVector.fromArray(F, in, i3 + ch), acc);
      } else {
        for (int src = first; src <= t; src++) {
          int k = src - t + (W - 1);
          acc =
              FloatVector.fromArray(F, wT, k * C + ch)
                  .fma(FloatVector.fromArray(F, in, inOff + src * inStride + ch), acc);
        }
      }
      acc.intoArray(out, outRow + ch);
      FastExp.silu(out, outRow + ch);
    }
    for (; ch < C; ch++) {
      float acc = bias[ch];
      for (int src = first; src <= t; src++) {
        acc += wT[(src - t + (W - 1)) * C + ch] * in[inOff + src * inStride + ch];
      }
      out[outRow + ch] = FastExp.silu(acc);
    }
  }

  /**
   * The tap-major copy of the weight w [C × W], wT[k*C + ch], so that a channel block of one tap is
   * contiguous, into wT [≥ W × C]. Tap by tap, so that the writes run in order (C = 2,304, W = 4:
   * 6.5 µs against 10 µs channel by channel).
   */
  public static float[] tapMajor(float[] wT, float[] w, int C, int W) {
    for (int k = 0; k < W; k++) {
      for (int ch = 0; ch < C; ch++) wT[k * C + ch] = w[ch * W + k];
    }
    return wT;
  }

  /** finalState[s][k][ch] = in[end_s - W + k][ch] if that token is in sequence s, else 0. */
  private static void writeFinalState(float[] st, Rows in, int[] cu, int nSeq, int C, int W) {
    float[] x = in.a();
    for (int s = 0; s < nSeq; s++) {
      int start = cu[s], end = cu[s + 1];
      for (int k = 0; k < W; k++) {
        int src = end - W + k, base = (s * W + k) * C;
        if (src >= start) System.arraycopy(x, in.at(src), st, base, C);
        else java.util.Arrays.fill(st, base, base + C, 0f);
      }
    }
  }

  /**
   * Decode step for R rows: state [R × W × C] shifted by one tap and the new input in [R × C]
   * appended, then {@code out[r*C+ch] = silu(bias + Σ_k w[ch,k] state[r,k,ch])}, the weight given
   * tap-major ({@code wT = }{@link #tapMajor}{@code (·, w, C, W)}: a decode cache keeps it, since
   * transposing it took 10 of the 11 µs of a step at C = 2,304, W = 4). Rows with {@code active[r]
   * == false} are skipped (state and out untouched); active == null means all.
   *
   * <p>Vector over channels, parallel over rows, with the operations of {@link #causalSilu} (bias
   * first, then fma by taps oldest first; the channels past the last vector without fma), so a step
   * gives what the forward gives at that token. Before, a scalar loop over the [C × W] state took
   * 14–20 µs for C = 576, W = 4.
   */
  public static void step(
      float[] state,
      float[] out,
      float[] in,
      float[] wT,
      float[] bias,
      int R,
      int C,
      int W,
      boolean[] active) {
    long prof = Profile.begin(Kind.CONV_STEP);
    if (R < 0 || C < 0 || W < 1) throw new IllegalArgumentException("bad dimensions");
    if (active != null && active.length < R) throw new IllegalArgumentException("active too short");
    if (wT.length < W * C) throw new IllegalArgumentException("wT shorter than W × C");
    // ~4K taps (and C silu) per part: a part hand-off to a spinning worker costs ~1 µs (Parallel)
    int grain = Math.max(1, 4096 / Math.max(1, C * W));
    if (Parallel.serial(R, grain)) stepRows(state, out, in, wT, bias, C, W, active, 0, R);
    else
      Parallel.forRange(
          R, grain, (r0, r1) -> stepRows(state, out, in, wT, bias, C, W, active, r0, r1));
    Profile.end(Kind.CONV_STEP, prof);
  }

  private static void stepRows(
      float[] state,
      float[] out,
      float[] in,
      float[] wT,
      float[] bias,
      int C,
      int W,
      boolean[] active,
      int r0,
      int r1) {
    for (int r = r0; r < r1; r++) {
      if (active != null && !active[r]) continue;
      int base = r * W * C, o = r * C;
      System.arraycopy(state, base + C, state, base, (W - 1) * C);
      System.arraycopy(in, o, state, base + (W - 1) * C, C);
      int ch = 0;
      for (int cb = F.loopBound(C); ch < cb; ch += LANES) {
        FloatVector acc = FloatVector.fromArray(F, bias, ch);
        for (int k = 0; k < W; k++) {
          acc =
              FloatVector.fromArray(F, wT, k * C + ch)
                  .fma(FloatVector.fromArray(F, state, base + k * C + ch), acc);
        }
        acc.intoArray(out, o + ch);
        FastExp.silu(out, o + ch);
      }
      for (; ch < C; ch++) {
        float acc = bias[ch];
        for (int k = 0; k < W; k++) acc += wT[k * C + ch] * state[base + k * C + ch];
        out[o + ch] = FastExp.silu(acc);
      }
    }
  }

  /** Index s of the sequence holding token t: cu[s] ≤ t < cu[s+1] (the last such s if empties). */
  static int seqOf(int[] cu, int nSeq, int t) {
    int lo = 0, hi = nSeq - 1;
    while (lo < hi) {
      int mid = (lo + hi + 1) >>> 1;
      if (cu[mid] <= t) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private static void checkArgs(int[] cu, int nSeq, int C, int W, float[] finalState) {
    if (nSeq < 0 || C < 0) throw new IllegalArgumentException("negative dimension");
    if (W < 1) throw new IllegalArgumentException("conv width must be >= 1, got " + W);
    if (cu.length < nSeq + 1 || cu[0] != 0) {
      throw new IllegalArgumentException("cuSeqlens needs nSeq+1 entries starting at 0");
    }
    for (int s = 0; s < nSeq; s++) {
      if (cu[s + 1] < cu[s]) throw new IllegalArgumentException("cuSeqlens decreases at " + s);
    }
    if (finalState != null && finalState.length < (long) nSeq * C * W) {
      throw new IllegalArgumentException("finalState too short");
    }
  }
}
