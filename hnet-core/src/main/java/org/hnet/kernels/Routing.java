package org.hnet.kernels;

// Dimension legend:
//   T  positions of the packed sequence (R rows in a decode step), d  model width
//   q, k [T × d]: the router's projections W_q h and W_k h (normalised in place)
//   norms [T]: max(||row||, 1e-12); start [T]: true at every sequence's first position
//   p, sel [T]: boundary probability and the probability of the decision taken; mask [T]: b_t
//
// The dynamic-chunking router of the paper (eq. 4): p_t = ½(1 − cos(q_{t−1}, k_t)) clamped to
// [0, 1], p = 1 at a sequence start, b_t = [p_t > 0.5] (strict: the reference's argmax over
// (1 − p, p) picks the first on a tie), sel_t = p_t if b_t else 1 − p_t.
//
// The rows are normalised first, as the reference's F.normalize(v) = v / max(||v||, 1e-12), the
// sum of squares accumulated in double; the cosine is then a float dot product in order. Every
// output depends on its own rows only: no thread split, nothing to vary.
//
// The *Naive twins compute in double from the raw projections: the oracle of the tests.

/** The router's element loops: row normalisation, boundary probabilities and their backward. */
public final class Routing {
  private Routing() {}

  /** Normalises the rows of v [rows × d] in place; norms [≥ rows] receives max(||row||, 1e-12). */
  public static void normalizeRows(float[] v, int rows, int d, float[] norms) {
    for (int t = 0; t < rows; t++) {
      double ss = 0;
      for (int j = 0; j < d; j++) ss += (double) v[t * d + j] * v[t * d + j];
      float norm = (float) Math.max(Math.sqrt(ss), 1e-12);
      norms[t] = norm;
      for (int j = 0; j < d; j++) v[t * d + j] /= norm;
    }
  }

  /**
   * In place, for v̂ = v / max(||v||, 1e-12): g = ∂L/∂v̂ → ∂L/∂v = (g − v̂ (v̂·g)) / ||v|| (below
   * the eps the map is the linear v / 1e-12).
   */
  public static void normalizeRowsBackward(
      float[] g, float[] vhat, float[] norms, int rows, int d) {
    for (int t = 0; t < rows; t++) {
      int o = t * d;
      double dot = 0;
      for (int j = 0; j < d; j++) dot += (double) vhat[o + j] * g[o + j];
      float n = norms[t];
      if (n <= 1e-12f) {
        for (int j = 0; j < d; j++) g[o + j] /= n;
        continue;
      }
      for (int j = 0; j < d; j++) g[o + j] = (g[o + j] - vhat[o + j] * (float) dot) / n;
    }
  }

  /** p = ½(1 − cos) clamped to [0, 1], from the dot product of two normalised rows. */
  public static float prob(float[] q, int qOff, float[] k, int kOff, int d) {
    float cos = 0f;
    for (int j = 0; j < d; j++) cos += q[qOff + j] * k[kOff + j];
    return Math.min(1f, Math.max(0f, (1f - cos) / 2f));
  }

  /**
   * The decisions of T positions from the normalised q, k [T × d]: p, mask and sel [≥ T] (see the
   * legend).
   */
  public static void probs(
      float[] p, boolean[] mask, float[] sel, float[] q, float[] k, boolean[] start, int T, int d) {
    for (int t = 0; t < T; t++) {
      float pt = start[t] ? 1f : prob(q, (t - 1) * d, k, t * d, d);
      p[t] = pt;
      mask[t] = pt > 0.5f;
      sel[t] = mask[t] ? pt : 1f - pt;
    }
  }

  /**
   * Backward of {@link #probs} to the normalised rows: dq, dk [T × d] are overwritten with ∂L/∂q̂,
   * ∂L/∂k̂ from dp = ∂L/∂p [T]. The forced p = 1 at a start is a constant (no gradient); the clamp
   * passes the gradient where 0 ≤ (1 − cos)/2 ≤ 1, which always holds.
   */
  public static void probsBackward(
      float[] dq, float[] dk, float[] dp, float[] q, float[] k, boolean[] start, int T, int d) {
    java.util.Arrays.fill(dq, 0, T * d, 0f);
    java.util.Arrays.fill(dk, 0, T * d, 0f);
    for (int t = 0; t < T; t++) {
      if (start[t] || dp[t] == 0f) continue;
      float dcos = -0.5f * dp[t];
      int qo = (t - 1) * d, ko = t * d;
      for (int j = 0; j < d; j++) {
        dq[qo + j] += dcos * k[ko + j];
        dk[ko + j] += dcos * q[qo + j];
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Specification

  /**
   * The boundary probabilities [T] in double, from the raw (not normalised) projections q, k [T ×
   * d]: the definition {@link #normalizeRows} + {@link #probs} compute in float.
   */
  public static double[] probsNaive(double[] q, double[] k, boolean[] start, int T, int d) {
    double[] p = new double[T];
    for (int t = 0; t < T; t++) {
      if (start[t]) {
        p[t] = 1;
        continue;
      }
      double qq = 0, kk = 0, qk = 0;
      for (int j = 0; j < d; j++) {
        double a = q[(t - 1) * d + j], b = k[t * d + j];
        qq += a * a;
        kk += b * b;
        qk += a * b;
      }
      double cos = qk / (Math.max(Math.sqrt(qq), 1e-12) * Math.max(Math.sqrt(kk), 1e-12));
      p[t] = Math.min(1, Math.max(0, (1 - cos) / 2));
    }
    return p;
  }
}
