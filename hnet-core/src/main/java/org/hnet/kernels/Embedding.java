package org.hnet.kernels;

// Dimension legend: T positions, d width, V vocabulary; table [V × d], x and dx [T × d],
// tokens [T] in 0..V−1 (the caller checks them: see firstOutOfRange).

/** The embedding lookup and its gradient. */
public final class Embedding {
  private Embedding() {}

  /** The first position whose token is outside 0..V−1, or −1. */
  public static int firstOutOfRange(int[] tokens, int T, int V) {
    for (int t = 0; t < T; t++) if (tokens[t] < 0 || tokens[t] >= V) return t;
    return -1;
  }

  /** x[t] = table[tokens[t]] for t < T. */
  public static void gather(float[] x, float[] table, int[] tokens, int T, int d) {
    for (int t = 0; t < T; t++) System.arraycopy(table, tokens[t] * d, x, t * d, d);
  }

  /**
   * dTable[tokens[t]] += dx[t], t in order (a token seen twice sums its rows in position order:
   * deterministic).
   */
  public static void scatterAdd(float[] dTable, float[] dx, int[] tokens, int T, int d) {
    for (int t = 0; t < T; t++) {
      int o = tokens[t] * d;
      for (int c = 0; c < d; c++) dTable[o + c] += dx[t * d + c];
    }
  }

  /** {@link #scatterAdd} in double into a fresh [V × d]: the oracle. */
  public static double[] scatterAddNaive(float[] dx, int[] tokens, int T, int V, int d) {
    double[] out = new double[V * d];
    for (int t = 0; t < T; t++) for (int c = 0; c < d; c++) out[tokens[t] * d + c] += dx[t * d + c];
    return out;
  }
}
