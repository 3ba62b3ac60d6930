package org.hnet.kernels;

import org.hnet.kernels.Profile.Kind;

/**
 * Fused softmax cross-entropy, forward and backward in one pass over the logits.
 *
 * <p>Legend: M positions, V vocabulary. {@code targets[m] < 0} marks a position without a target
 * (the last byte of every sequence); the loss is the mean over the positions that have one.
 */
public final class CrossEntropy {
  private CrossEntropy() {}

  /**
   * @param logits [M×V]
   * @param dlogits [M×V] receives ∂(mean loss)/∂logits (zero rows where there is no target); may be
   *     null for the loss alone
   * @return the mean negative log-likelihood in nats (NaN when no position has a target)
   */
  public static double forwardBackward(
      float[] logits, int[] targets, int M, int V, float[] dlogits) {
    return forwardBackward(logits, targets, M, V, dlogits, new double[M]);
  }

  /** {@link #forwardBackward} with a caller-owned scratch {@code nll} of at least M doubles. */
  public static double forwardBackward(
      float[] logits, int[] targets, int M, int V, float[] dlogits, double[] nll) {
    long prof = Profile.begin(Kind.CROSS_ENTROPY);
    try {
      int count = 0;
      for (int m = 0; m < M; m++) if (targets[m] >= 0) count++;
      float scale = count == 0 ? 0f : 1f / count;
      if (Parallel.serial(M, 16)) rows(logits, targets, V, dlogits, nll, scale, 0, M);
      else
        Parallel.forRange(M, 16, (m0, m1) -> rows(logits, targets, V, dlogits, nll, scale, m0, m1));
      if (count == 0) return Double.NaN;
      double total = 0; // fixed order: deterministic whatever the thread count
      for (int m = 0; m < M; m++) total += nll[m];
      return total / count;
    } finally {
      Profile.end(Kind.CROSS_ENTROPY, prof);
    }
  }

  /** Positions [m0, m1): nll[m] and the row of dlogits. */
  private static void rows(
      float[] logits,
      int[] targets,
      int V,
      float[] dlogits,
      double[] nll,
      float scale,
      int m0,
      int m1) {
    for (int m = m0; m < m1; m++) {
      int o = m * V, y = targets[m];
      if (y < 0) {
        nll[m] = 0; // the scratch may hold an earlier call's values
        if (dlogits != null) java.util.Arrays.fill(dlogits, o, o + V, 0f);
        continue;
      }
      float max = Float.NEGATIVE_INFINITY;
      for (int v = 0; v < V; v++) max = Math.max(max, logits[o + v]);
      double sum = 0; // the partition sum over V terms, accumulated in double
      for (int v = 0; v < V; v++) sum += Math.exp(logits[o + v] - max);
      double logZ = max + Math.log(sum);
      nll[m] = logZ - logits[o + y];
      if (dlogits != null) {
        for (int v = 0; v < V; v++)
          dlogits[o + v] = (float) (Math.exp(logits[o + v] - logZ)) * scale;
        dlogits[o + y] -= scale;
      }
    }
  }
}
