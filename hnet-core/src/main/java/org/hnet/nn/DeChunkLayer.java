package org.hnet.nn;

/**
 * Dechunking (paper eq. 5–6): an EMA over the chunk sequence, z̄_j = P_j z_j + (1 − P_j) z̄_{j−1}
 * with P_j the boundary probability of chunk j clamped to [1e-4, 1 − 1e-4], restarted (z̄ = 0) at
 * every sequence; every position then takes the value of the chunk it lies in.
 *
 * <p>Float32 throughout: the reference evaluates this EMA with its Mamba-2 kernel in bfloat16 by
 * default; the golden data (and we) use float32, the direct recurrence.
 */
public final class DeChunkLayer {
  static final float P_MIN = 1e-4f;
  static final float P_MAX = 1f - 1e-4f;

  private DeChunkLayer() {}

  /**
   * @param z inner output [Tc × d] over the chunks
   * @param prob boundary probability [T] of the outer positions
   * @param mask boundary mask [T]
   * @return [T × d]
   */
  public static float[] forward(float[] z, float[] prob, boolean[] mask, SeqLens seqs, int d) {
    int T = seqs.total();
    float[] out = new float[T * d];
    float[] ema = new float[d];
    int j = -1; // global chunk index of the current position
    for (int i = 0; i < seqs.count(); i++) {
      java.util.Arrays.fill(ema, 0f);
      for (int t = seqs.start(i); t < seqs.start(i) + seqs.length(i); t++) {
        if (mask[t]) {
          j++;
          float pj = Math.min(P_MAX, Math.max(P_MIN, prob[t]));
          float keep = 1f - pj;
          int zo = j * d;
          for (int c = 0; c < d; c++) ema[c] = pj * z[zo + c] + keep * ema[c];
        }
        System.arraycopy(ema, 0, out, t * d, d);
      }
    }
    return out;
  }
}
