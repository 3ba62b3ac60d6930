package org.hnet.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.hnet.kernels.Profile.Kind;

/**
 * Backward of {@link Conv1d#causalSilu} (causal depthwise conv + bias + SiLU over packed sequences).
 * Legend as in Conv1d: T tokens, C channels, W conv width. With z_t = bias + Σ_k w[c,k] in_{t−(W−1)+k}
 * (recomputed; taps before the sequence start are 0):
 *
 * <pre>
 *   dz_t      = dout_t · silu'(z_t),          silu'(z) = σ(z) (1 + z (1 − σ(z)))
 *   din_s     = Σ_k w[c,k] dz_{s+(W−1)−k}     (only targets inside s's sequence)
 *   dw[c,k]  += Σ_t dz_t in_{t−(W−1)+k}
 *   dbias[c] += Σ_t dz_t
 * </pre>
 */
public final class Conv1dBackward {
  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

  private static final int LANES = F.length();

  private Conv1dBackward() {}

  /** silu'(z) in double (σ via Math.exp; e^{−z} overflow gives σ = 0 and a ∓0 gradient): the oracle's. */
  static double siluGrad(double z) {
    double s = 1 / (1 + Math.exp(-z));
    return s * (1 + z * (1 - s));
  }

  /** silu'(z) in float with {@link FastExp}'s σ: the fast kernel's, lanes and tail alike. */
  static float siluGrad(float z) {
    float s = FastExp.sigmoid(z);
    return s * (1f + z * (1f - s));
  }

  /** {@link #siluGrad(float)} lane by lane. */
  static FloatVector siluGrad(FloatVector z) {
    FloatVector s = FastExp.sigmoid(z);
    return s.mul(z.mul(s.neg().add(1f)).add(1f));
  }

  /** The formulas above token by token in double (the oracle); same arguments as the fast one. */
  public static void causalSiluBackwardNaive(float[] din, int dinOff, int dinStride, float[] dw,
      float[] dbias, float[] dout, int doutOff, int doutStride, float[] in, int inOff, int inStride,
      float[] w, float[] bias, int[] cuSeqlens, int nSeq, int C, int W) {
    checkArgs(cuSeqlens, nSeq, C, W);
    int T = cuSeqlens[nSeq];
    double[] dinAcc = new double[T * C], dwAcc = new double[C * W], dbAcc = new double[C];
    for (int s = 0; s < nSeq; s++) {
      int start = cuSeqlens[s], end = cuSeqlens[s + 1];
      for (int t = start; t < end; t++) {
        for (int ch = 0; ch < C; ch++) {
          double z = bias[ch];
          for (int k = 0; k < W; k++) {
            int src = t - (W - 1) + k;
            if (src >= start) z += (double) w[ch * W + k] * in[inOff + src * inStride + ch];
          }
          double dz = dout[doutOff + t * doutStride + ch] * siluGrad(z);
          dbAcc[ch] += dz;
          for (int k = 0; k < W; k++) {
            int src = t - (W - 1) + k;
            if (src < start) continue;
            dinAcc[src * C + ch] += w[ch * W + k] * dz;
            dwAcc[ch * W + k] += dz * in[inOff + src * inStride + ch];
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
   * Backward of Conv1d.causalSilu (recomputes the pre-activation). dout at {@code dout[doutOff +
   * t*doutStride + ch]}, in and w, bias as the forward's. OVERWRITES din (layout of in, own
   * offset/stride; must not overlap dout or in); ADDS INTO dw [C×W] and dbias [C].
   *
   * <p>Parallel over blocks of channels, one vector of channels per block (scalar for the last C mod
   * lanes): a block walks its sequences backwards in time, keeping the last W dz values in a ring,
   * so each channel's dw/dbias are summed in one fixed order by one thread, whatever the split.
   */
  public static void causalSiluBackward(float[] din, int dinOff, int dinStride, float[] dw,
      float[] dbias, float[] dout, int doutOff, int doutStride, float[] in, int inOff, int inStride,
      float[] w, float[] bias, int[] cuSeqlens, int nSeq, int C, int W) {
    long prof = Profile.begin(Kind.CONV_BACKWARD);
    try {
      checkArgs(cuSeqlens, nSeq, C, W);
      int T = cuSeqlens[nSeq];
      if (T == 0 || C == 0) return;
      float[] wT = callerScratch(W * C); // tap-major wT[k*C + ch]; read-only for the workers
      for (int ch = 0; ch < C; ch++) {
        for (int k = 0; k < W; k++) wT[k * C + ch] = w[ch * W + k];
      }
      // Blocks of up to BLOCK_VECTORS vectors of channels: a block walks every token of its rows,
      // so wide blocks read whole cache lines of in/dout/din (one vector per block read a 32-byte
      // piece of a 4 KB-strided row per token).
      int vecs = C / LANES, vecBlocks = (vecs + BLOCK_VECTORS - 1) / BLOCK_VECTORS;
      int blocks = vecBlocks + (C % LANES != 0 ? 1 : 0);
      int grain = (int) Math.max(1, 16384 / ((long) T * W * LANES * BLOCK_VECTORS + 1));
      if (Parallel.serial(blocks, grain)) {
        if (blocks > 0) {
          channelBlocks(din, dinOff, dinStride, dw, dbias, dout, doutOff, doutStride, in, inOff, inStride, wT, bias,
              cuSeqlens, nSeq, C, W, vecs, vecBlocks, 0, blocks);
        }
      } else {
        Parallel.forRange(blocks, grain, (b0, b1) -> channelBlocks(din, dinOff, dinStride, dw, dbias, dout, doutOff,
            doutStride, in, inOff, inStride, wT, bias, cuSeqlens, nSeq, C, W, vecs, vecBlocks, b0, b1));
      }
    } finally {
      Profile.end(Kind.CONV_BACKWARD, prof);
    }
  }

  /** Channel blocks [b0, b1) of {@link #causalSiluBackward}: vector blocks, then the scalar rest. */
  private static void channelBlocks(float[] din, int dinOff, int dinStride, float[] dw, float[] dbias, float[] dout,
      int doutOff, int doutStride, float[] in, int inOff, int inStride, float[] wT, float[] bias, int[] cuSeqlens,
      int nSeq, int C, int W, int vecs, int vecBlocks, int b0, int b1) {
    float[] sc = workerScratch(Math.max(BLOCK_VECTORS * (2 * W + 1) * LANES, 2 * W));
    for (int blk = b0; blk < b1; blk++) {
      if (blk < vecBlocks) {
        int v0 = blk * BLOCK_VECTORS, nv = Math.min(BLOCK_VECTORS, vecs - v0);
        vectorBlock(v0 * LANES, nv, din, dinOff, dinStride, dw, dbias, dout, doutOff, doutStride,
            in, inOff, inStride, wT, bias, cuSeqlens, nSeq, C, W, sc);
      } else {
        for (int ch = vecs * LANES; ch < C; ch++) {
          scalarChannel(ch, din, dinOff, dinStride, dw, dbias, dout, doutOff, doutStride,
              in, inOff, inStride, wT, bias, cuSeqlens, nSeq, C, W, sc);
        }
      }
    }
  }

  /** Vectors of channels per parallel block (64 channels with 256-bit vectors). */
  private static final int BLOCK_VECTORS = 8;

  /**
   * Channels [ch0, ch0 + nv·LANES), nv vectors. sc: ring [W × NB] of dz (slot t mod W), dw
   * accumulators [W × NB], dbias accumulators [NB], with NB = nv·LANES. Every channel sees exactly the operations
   * of the one-channel formulas in the same order, so the blocking does not change any result.
   */
  private static void vectorBlock(int ch0, int nv, float[] din, int dinOff, int dinStride, float[] dw,
      float[] dbias, float[] dout, int doutOff, int doutStride, float[] in, int inOff, int inStride,
      float[] wT, float[] bias, int[] cu, int nSeq, int C, int W, float[] sc) {
    int nb = nv * LANES;
    int ringAt = 0, dwAt = W * nb, dbAt = 2 * W * nb;
    java.util.Arrays.fill(sc, dwAt, dwAt + W * nb, 0f);
    java.util.Arrays.fill(sc, dbAt, dbAt + nb, 0f);
    for (int s = 0; s < nSeq; s++) {
      int start = cu[s], end = cu[s + 1];
      int slot = end - 1 >= start ? (end - 1) % W : 0; // ring slot of token t, stepped down with t
      for (int t = end - 1; t >= start; t--) {
        int first = Math.max(start, t - (W - 1));
        int dRow = doutOff + t * doutStride + ch0, ring = ringAt + slot * nb;
        for (int v = 0; v < nv; v++) {
          int c = ch0 + v * LANES, o = v * LANES;
          // z_t exactly as the forward forms it: bias, then taps oldest first.
          FloatVector z = FloatVector.fromArray(F, bias, c);
          for (int src = first; src <= t; src++) {
            z = FloatVector.fromArray(F, wT, (src - t + W - 1) * C + c)
                .fma(FloatVector.fromArray(F, in, inOff + src * inStride + c), z);
          }
          FloatVector dz = FloatVector.fromArray(F, dout, dRow + o).mul(siluGrad(z));
          dz.intoArray(sc, ring + o);
          FloatVector.fromArray(F, sc, dbAt + o).add(dz).intoArray(sc, dbAt + o);
          for (int src = first; src <= t; src++) {
            int at = dwAt + (src - t + W - 1) * nb + o;
            dz.fma(FloatVector.fromArray(F, in, inOff + src * inStride + c),
                FloatVector.fromArray(F, sc, at)).intoArray(sc, at);
          }
          // din_t = Σ_m w[W−1−m] dz_{t+m} over the targets t+m still in the sequence.
          FloatVector acc = FloatVector.zero(F);
          for (int m = 0, mEnd = Math.min(W, end - t), sl = slot; m < mEnd; m++) {
            acc = FloatVector.fromArray(F, wT, (W - 1 - m) * C + c)
                .fma(FloatVector.fromArray(F, sc, ringAt + sl * nb + o), acc);
            if (++sl == W) sl = 0;
          }
          acc.intoArray(din, dinOff + t * dinStride + c);
        }
        if (--slot < 0) slot = W - 1;
      }
    }
    for (int v = 0; v < nv; v++) {
      int c = ch0 + v * LANES;
      FloatVector.fromArray(F, dbias, c).add(FloatVector.fromArray(F, sc, dbAt + v * LANES)).intoArray(dbias, c);
    }
    for (int k = 0; k < W; k++) {
      for (int l = 0; l < nb; l++) dw[(ch0 + l) * W + k] += sc[dwAt + k * nb + l];
    }
  }

  /** One channel, scalar, the same order as a vector lane (ring in sc[0..W)). */
  private static void scalarChannel(int ch, float[] din, int dinOff, int dinStride, float[] dw,
      float[] dbias, float[] dout, int doutOff, int doutStride, float[] in, int inOff, int inStride,
      float[] wT, float[] bias, int[] cu, int nSeq, int C, int W, float[] sc) {
    int dwAt = W;
    java.util.Arrays.fill(sc, dwAt, dwAt + W, 0f);
    float dbAcc = 0f;
    for (int s = 0; s < nSeq; s++) {
      int start = cu[s], end = cu[s + 1];
      for (int t = end - 1; t >= start; t--) {
        int first = Math.max(start, t - (W - 1));
        float z = bias[ch];
        for (int src = first; src <= t; src++) {
          z = Math.fma(wT[(src - t + W - 1) * C + ch], in[inOff + src * inStride + ch], z);
        }
        float dz = dout[doutOff + t * doutStride + ch] * siluGrad(z);
        sc[t % W] = dz;
        dbAcc += dz;
        for (int src = first; src <= t; src++) {
          int at = dwAt + src - t + W - 1;
          sc[at] = Math.fma(dz, in[inOff + src * inStride + ch], sc[at]);
        }
        float acc = 0f;
        for (int m = 0, mEnd = Math.min(W, end - t); m < mEnd; m++) {
          acc = Math.fma(wT[(W - 1 - m) * C + ch], sc[(t + m) % W], acc);
        }
        din[dinOff + t * dinStride + ch] = acc;
      }
    }
    dbias[ch] += dbAcc;
    for (int k = 0; k < W; k++) dw[ch * W + k] += sc[dwAt + k];
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

  private static final ThreadLocal<float[][]> CALLER = ThreadLocal.withInitial(() -> new float[1][0]);
  private static final ThreadLocal<float[][]> WORKER = ThreadLocal.withInitial(() -> new float[1][0]);

  /** The calling thread's buffer for the transposed weight (separate from the worker scratch, as
   * the caller also runs the first part). */
  private static float[] callerScratch(int n) {
    float[][] h = CALLER.get();
    if (h[0].length < n) h[0] = new float[n];
    return h[0];
  }

  private static float[] workerScratch(int n) {
    float[][] h = WORKER.get();
    if (h[0].length < n) h[0] = new float[n];
    return h[0];
  }
}
