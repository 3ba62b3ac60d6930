package org.hnet.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.hnet.kernels.Profile.Kind;

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
 * with inputs before the sequence start taken as 0. Weight {@code conv1d.weight} (C, 1, W) is read as
 * w[c*W + k]. Conv state (mamba_ssm {@code conv_state}): [C × W] per sequence, its last W inputs,
 * oldest first, zero-padded in front.
 */
public final class Conv1d {
  /** Vector shape used for every loop here; chosen once. */
  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

  private static final int LANES = F.length();

  private Conv1d() {}

  /**
   * The definition, token by token and channel by channel; same arguments as {@link #causalSilu}.
   */
  public static void causalSiluNaive(float[] out, int outOff, int outStride, float[] in, int inOff,
      int inStride, float[] w, float[] bias, int[] cuSeqlens, int nSeq, int C, int W,
      float[] finalState) {
    checkArgs(cuSeqlens, nSeq, C, W, finalState);
    for (int s = 0; s < nSeq; s++) {
      int start = cuSeqlens[s], end = cuSeqlens[s + 1];
      for (int t = start; t < end; t++) {
        for (int ch = 0; ch < C; ch++) {
          float acc = bias[ch];
          for (int k = 0; k < W; k++) {
            int src = t - (W - 1) + k;
            if (src >= start) acc += w[ch * W + k] * in[inOff + src * inStride + ch];
          }
          out[outOff + t * outStride + ch] = FastExp.silu(acc);
        }
      }
    }
    if (finalState != null) writeFinalState(finalState, in, inOff, inStride, cuSeqlens, nSeq, C, W);
  }

  /**
   * Causal depthwise conv + bias + SiLU over packed sequences. in at {@code in[inOff + t*inStride +
   * ch]}, out at {@code out[outOff + t*outStride + ch]} (must not overlap in); w [C×W], bias [C].
   * finalState (nullable): [nSeq × C × W], each sequence's last W inputs, oldest first, zero-padded
   * in front when the sequence is shorter.
   *
   * <p>Vector over channels (the contiguous axis of the token-major layout), parallel over tokens:
   * every output element is written by exactly one thread, in the same way for any split.
   */
  public static void causalSilu(float[] out, int outOff, int outStride, float[] in, int inOff,
      int inStride, float[] w, float[] bias, int[] cuSeqlens, int nSeq, int C, int W,
      float[] finalState) {
    long prof = Profile.begin(Kind.CONV);
    checkArgs(cuSeqlens, nSeq, C, W, finalState);
    int T = cuSeqlens[nSeq];
    if (T > 0 && C > 0) {
      // Tap-major copy of the weight, wT[k*C + ch], so a channel block of one tap is contiguous.
      // Lives in the caller's scratch; the workers only read it during this call.
      float[] wT = scratch(W * C);
      for (int ch = 0; ch < C; ch++) {
        for (int k = 0; k < W; k++) wT[k * C + ch] = w[ch * W + k];
      }
      int grain = Math.max(1, 16384 / (C * W)); // ~16k multiply-adds per part at least
      if (Parallel.serial(T, grain)) convTokens(out, outOff, outStride, in, inOff, inStride, wT, bias, cuSeqlens, nSeq, C, W, 0, T);
      else Parallel.forRange(T, grain, (t0, t1) ->
          convTokens(out, outOff, outStride, in, inOff, inStride, wT, bias, cuSeqlens, nSeq, C, W, t0, t1));
    }
    if (finalState != null) writeFinalState(finalState, in, inOff, inStride, cuSeqlens, nSeq, C, W);
    Profile.end(Kind.CONV, prof);
  }

  /** Tokens [t0, t1) of {@link #causalSilu}. */
  private static void convTokens(float[] out, int outOff, int outStride, float[] in, int inOff, int inStride,
      float[] wT, float[] bias, int[] cuSeqlens, int nSeq, int C, int W, int t0, int t1) {
    int s = seqOf(cuSeqlens, nSeq, t0);
    for (int t = t0; t < t1; t++) {
      while (t >= cuSeqlens[s + 1]) s++;
      convToken(out, outOff + t * outStride, in, inOff, inStride, wT, bias, t,
          Math.max(cuSeqlens[s], t - (W - 1)), C, W);
    }
  }

  /** out row of token t, using taps from token first (≥ sequence start) to t. */
  private static void convToken(float[] out, int outRow, float[] in, int inOff, int inStride,
      float[] wT, float[] bias, int t, int first, int C, int W) {
    int ch = 0;
    for (int cb = F.loopBound(C); ch < cb; ch += LANES) {
      FloatVector acc = FloatVector.fromArray(F, bias, ch);
      for (int src = first; src <= t; src++) {
        int k = src - t + (W - 1);
        acc = FloatVector.fromArray(F, wT, k * C + ch)
            .fma(FloatVector.fromArray(F, in, inOff + src * inStride + ch), acc);
      }
      FastExp.silu(acc).intoArray(out, outRow + ch);
    }
    for (; ch < C; ch++) {
      float acc = bias[ch];
      for (int src = first; src <= t; src++) {
        acc += wT[(src - t + (W - 1)) * C + ch] * in[inOff + src * inStride + ch];
      }
      out[outRow + ch] = FastExp.silu(acc);
    }
  }

  /** finalState[s][ch][k] = in[end_s - W + k][ch] if that token is in sequence s, else 0. */
  private static void writeFinalState(float[] st, float[] in, int inOff, int inStride,
      int[] cu, int nSeq, int C, int W) {
    for (int s = 0; s < nSeq; s++) {
      int start = cu[s], end = cu[s + 1];
      for (int ch = 0; ch < C; ch++) {
        int base = (s * C + ch) * W;
        for (int k = 0; k < W; k++) {
          int src = end - W + k;
          st[base + k] = src >= start ? in[inOff + src * inStride + ch] : 0f;
        }
      }
    }
  }

  /**
   * Decode step for R rows: state [R × C × W] shifted left by one and the new input in [R × C]
   * appended, then {@code out[r*C+ch] = silu(bias + Σ_k w[ch,k] state[r,ch,k])}. Rows with {@code
   * active[r] == false} are skipped (state and out untouched); active == null means all.
   *
   * <p>Scalar: the state's contiguous axis is W (≤ 4 in practice), too short for vectors, and a step
   * is only R·C·W multiply-adds. Parallel over rows. Same summation order as {@link
   * #causalSiluNaive} (bias first, then taps oldest first).
   */
  public static void step(float[] state, float[] out, float[] in, float[] w, float[] bias, int R,
      int C, int W, boolean[] active) {
    long prof = Profile.begin(Kind.CONV_STEP);
    if (R < 0 || C < 0 || W < 1) throw new IllegalArgumentException("bad dimensions");
    if (active != null && active.length < R) throw new IllegalArgumentException("active too short");
    // ~4K taps (and C silu) per part: a part hand-off to a spinning worker costs ~1 µs (Parallel)
    int grain = Math.max(1, 4096 / Math.max(1, C * W));
    if (Parallel.serial(R, grain)) stepRows(state, out, in, w, bias, C, W, active, 0, R);
    else Parallel.forRange(R, grain, (r0, r1) -> stepRows(state, out, in, w, bias, C, W, active, r0, r1));
    Profile.end(Kind.CONV_STEP, prof);
  }

  private static void stepRows(float[] state, float[] out, float[] in, float[] w, float[] bias, int C, int W,
      boolean[] active, int r0, int r1) {
    for (int r = r0; r < r1; r++) {
      if (active != null && !active[r]) continue;
      for (int ch = 0; ch < C; ch++) {
        int base = (r * C + ch) * W;
        for (int k = 0; k < W - 1; k++) state[base + k] = state[base + k + 1]; // W-1 <= 3: no arraycopy call
        state[base + W - 1] = in[r * C + ch];
        float acc = bias[ch];
        for (int k = 0; k < W; k++) acc += w[ch * W + k] * state[base + k];
        out[r * C + ch] = FastExp.silu(acc);
      }
    }
  }

  /** Index s of the sequence holding token t: cu[s] ≤ t < cu[s+1] (the last such s if empties). */
  private static int seqOf(int[] cu, int nSeq, int t) {
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

  private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[1][0]);

  /** The calling thread's reusable buffer of at least n floats. */
  private static float[] scratch(int n) {
    float[][] holder = SCRATCH.get();
    if (holder[0].length < n) holder[0] = new float[n];
    return holder[0];
  }
}
