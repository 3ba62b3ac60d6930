package org.hnet.kernels;

// Dimension legend:
//   T  positions of the outer packed sequence (R rows in a decode step), Tc  chunks (boundaries)
//   d  model width; cu [nSeq+1]: sequence offsets of the outer positions
//   z [Tc × d]: the inner output, one row per chunk; out, dy [T × d]
//   prob [T], mask [T]: the outer positions' boundary probabilities and decisions
//
// The paper's dechunking (eq. 5–6): an EMA over the chunks, z̄_j = P_j z_j + (1 − P_j) z̄_{j−1}
// with
// P_j the probability of chunk j's boundary clamped to [P_MIN, P_MAX], restarted (z̄ = 0) at every
// sequence; every position takes the value of the chunk it lies in. Float32 throughout (the
// reference evaluates it with its Mamba-2 kernel in bf16 by default; the golden data and we use
// float32, the direct recurrence). Sequential over chunks by nature: no thread split.
//
// The *Naive twins compute in double: the oracle of the tests.

/** The dechunking EMA: forward, decode step and backward. */
public final class Dechunk {
  private Dechunk() {}

  public static final float P_MIN = 1e-4f;
  public static final float P_MAX = 1f - 1e-4f;

  static float clamp(float p) {
    return Math.min(P_MAX, Math.max(P_MIN, p));
  }

  /** The number of chunks: positions with mask set among the first T. */
  public static int chunks(boolean[] mask, int T) {
    int n = 0;
    for (int t = 0; t < T; t++) if (mask[t]) n++;
    return n;
  }

  /** out [≥ T × d] from z [Tc × d], with the scratch ema [≥ d]. */
  public static void forward(
      float[] out,
      float[] ema,
      float[] z,
      float[] prob,
      boolean[] mask,
      int[] cu,
      int nSeq,
      int d) {
    int j = -1; // global chunk index of the current position
    for (int i = 0; i < nSeq; i++) {
      java.util.Arrays.fill(ema, 0, d, 0f);
      for (int t = cu[i]; t < cu[i + 1]; t++) {
        if (mask[t]) {
          j++;
          float pj = clamp(prob[t]);
          float keep = 1f - pj;
          int zo = j * d;
          for (int c = 0; c < d; c++) ema[c] = pj * z[zo + c] + keep * ema[c];
        }
        System.arraycopy(ema, 0, out, t * d, d);
      }
    }
  }

  /**
   * One position of R rows: a row at a boundary updates its EMA {@code last} [R × d] with z [R ×
   * d]; any other active row repeats its last value; out [≥ R × d] (zero for inactive rows).
   */
  public static void step(
      float[] out, float[] z, float[] prob, boolean[] mask, boolean[] active, float[] last, int d) {
    int R = active.length;
    for (int r = 0; r < R; r++) {
      if (!active[r]) {
        java.util.Arrays.fill(out, r * d, (r + 1) * d, 0f);
        continue;
      }
      if (mask[r]) {
        float pj = clamp(prob[r]);
        float keep = 1f - pj;
        for (int c = 0; c < d; c++) last[r * d + c] = pj * z[r * d + c] + keep * last[r * d + c];
      }
      System.arraycopy(last, r * d, out, r * d, d);
    }
  }

  /**
   * Backward of {@link #forward}. With G_j = Σ_{t in chunk j} dy_t plus what flows back from chunk
   * j+1: dz_j = P_j G_j (overwritten), dprob_t += G_j·(z_j − z̄_{j−1}) at chunk j's boundary t
   * (only where P is inside the clamp, so never at a forced p = 1), carried back (1 − P_j) G_j.
   *
   * <p>Scratch: chunkCu [≥ nSeq+1], pos [≥ Tc], and {@code scratch} [≥ (2·Tc + 1) × d] for G [Tc ×
   * d], then z̄ [Tc × d], then the carry [d].
   */
  public static void backward(
      float[] dz,
      float[] dprob,
      float[] dy,
      float[] z,
      float[] prob,
      boolean[] mask,
      int[] cu,
      int nSeq,
      int d,
      int[] chunkCu,
      int[] pos,
      float[] scratch) {
    int T = cu[nSeq];
    chunkCu[0] = 0; // sequence i owns chunks [chunkCu[i], chunkCu[i+1])
    for (int i = 0; i < nSeq; i++) {
      int count = chunkCu[i];
      for (int t = cu[i]; t < cu[i + 1]; t++) if (mask[t]) count++;
      chunkCu[i + 1] = count;
    }
    int Tc = chunkCu[nSeq];
    float[] g = scratch, emas = scratch, carry = scratch; // at 0, e0 and k0
    int e0 = Tc * d, k0 = 2 * Tc * d;
    java.util.Arrays.fill(g, 0, Tc * d, 0f);
    int j = -1;
    for (int t = 0; t < T; t++) {
      if (mask[t]) pos[++j] = t;
      for (int c = 0; c < d; c++) g[j * d + c] += dy[t * d + c];
    }
    for (int i = 0; i < nSeq; i++) { // z̄_j, recomputed
      for (int jj = chunkCu[i]; jj < chunkCu[i + 1]; jj++) {
        float pj = clamp(prob[pos[jj]]);
        float keep = 1f - pj;
        for (int c = 0; c < d; c++) {
          float prev = jj == chunkCu[i] ? 0f : emas[e0 + (jj - 1) * d + c];
          emas[e0 + jj * d + c] = pj * z[jj * d + c] + keep * prev;
        }
      }
    }
    for (int i = 0; i < nSeq; i++) {
      java.util.Arrays.fill(carry, k0, k0 + d, 0f);
      for (int jj = chunkCu[i + 1] - 1; jj >= chunkCu[i]; jj--) {
        int t = pos[jj];
        boolean first = jj == chunkCu[i];
        float pj = clamp(prob[t]);
        double dP = 0; // a sum over d channels, kept in double
        for (int c = 0; c < d; c++) {
          float gc = g[jj * d + c] + carry[k0 + c];
          float prev = first ? 0f : emas[e0 + (jj - 1) * d + c];
          dz[jj * d + c] = pj * gc;
          dP += (double) gc * (z[jj * d + c] - prev);
          carry[k0 + c] = (1f - pj) * gc;
        }
        if (prob[t] >= P_MIN && prob[t] <= P_MAX) dprob[t] += (float) dP;
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Specification

  /** {@link #forward} in double, allocating: the oracle. */
  public static double[] forwardNaive(
      double[] z, double[] prob, boolean[] mask, int[] cu, int nSeq, int d) {
    double[] out = new double[cu[nSeq] * d];
    double[] ema = new double[d];
    int j = -1;
    for (int i = 0; i < nSeq; i++) {
      java.util.Arrays.fill(ema, 0);
      for (int t = cu[i]; t < cu[i + 1]; t++) {
        if (mask[t]) {
          j++;
          double pj = Math.min(1 - 1e-4, Math.max(1e-4, prob[t]));
          for (int c = 0; c < d; c++) ema[c] = pj * z[j * d + c] + (1 - pj) * ema[c];
        }
        System.arraycopy(ema, 0, out, t * d, d);
      }
    }
    return out;
  }
}
