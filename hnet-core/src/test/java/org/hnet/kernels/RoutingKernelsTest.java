package org.hnet.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The dynamic-chunking element loops against their double-precision twins, and their backwards
 * against finite differences of the twins: Routing (normalisation, boundary probabilities), Dechunk
 * (the EMA) and Embedding (lookup and gradient).
 */
class RoutingKernelsTest {
  static float[] randn(Random r, int n) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
    return a;
  }

  /** Sequence starts of cu. */
  static boolean[] starts(int[] cu, int T) {
    boolean[] s = new boolean[T];
    for (int i = 0; i + 1 < cu.length; i++) if (cu[i + 1] > cu[i]) s[cu[i]] = true;
    return s;
  }

  @Test
  void boundaryProbabilitiesMatchTheirDefinition() {
    Random r = new Random(3);
    int d = 19; // not a multiple of any vector width
    int[] cu = {0, 1, 9, 9, 40};
    int T = cu[cu.length - 1];
    float[] q = randn(r, T * d), k = randn(r, T * d);
    q[5 * d + 2] = 0; // rows of zeros: the eps of F.normalize
    java.util.Arrays.fill(k, 7 * d, 8 * d, 0f);
    boolean[] start = starts(cu, T);
    double[] want = Routing.probsNaive(GradCheck.toDouble(q), GradCheck.toDouble(k), start, T, d);
    float[] qn = q.clone(), kn = k.clone(), nq = new float[T], nk = new float[T];
    Routing.normalizeRows(qn, T, d, nq);
    Routing.normalizeRows(kn, T, d, nk);
    float[] p = new float[T], sel = new float[T];
    boolean[] mask = new boolean[T];
    Routing.probs(p, mask, sel, qn, kn, start, T, d);
    for (int t = 0; t < T; t++) {
      assertEquals(want[t], p[t], 2e-6, "p at " + t);
      assertEquals(p[t] > 0.5f, mask[t]);
      assertEquals(mask[t] ? p[t] : 1 - p[t], sel[t], 0f);
      if (start[t]) assertEquals(1f, p[t]);
    }
    // a decode row computes the same p as the packed forward
    assertEquals(p[3], Routing.prob(qn, 2 * d, kn, 3 * d, d), 0f);
  }

  @Test
  void boundaryProbabilityBackwardMatchesFiniteDifferences() {
    Random r = new Random(5);
    int d = 6;
    int[] cu = {0, 5, 11};
    int T = 11;
    boolean[] start = starts(cu, T);
    float[] q = randn(r, T * d), k = randn(r, T * d), w = randn(r, T);
    // analytic: dp = w → ∂/∂q̂, ∂/∂k̂ → through the normalisation
    float[] qn = q.clone(), kn = k.clone(), nq = new float[T], nk = new float[T];
    Routing.normalizeRows(qn, T, d, nq);
    Routing.normalizeRows(kn, T, d, nk);
    float[] dq = new float[T * d], dk = new float[T * d];
    java.util.Arrays.fill(dq, 9f); // overwritten, not accumulated
    Routing.probsBackward(dq, dk, w, qn, kn, start, T, d);
    Routing.normalizeRowsBackward(dq, qn, nq, T, d);
    Routing.normalizeRowsBackward(dk, kn, nk, T, d);
    double[] qd = GradCheck.toDouble(q), kd = GradCheck.toDouble(k);
    java.util.function.ToDoubleFunction<double[]> lossQ =
        x -> dot(w, Routing.probsNaive(x, kd, start, T, d));
    java.util.function.ToDoubleFunction<double[]> lossK =
        x -> dot(w, Routing.probsNaive(qd, x, start, T, d));
    GradCheck.assertClose("dq", GradCheck.numeric(qd, 1e-6, lossQ), dq, 0, 1e-4);
    GradCheck.assertClose("dk", GradCheck.numeric(kd, 1e-6, lossK), dk, 0, 1e-4);
  }

  static double dot(float[] w, double[] p) {
    double s = 0;
    for (int i = 0; i < w.length; i++) s += w[i] * p[i];
    return s;
  }

  @Test
  void dechunkMatchesItsTwinAndFiniteDifferences() {
    Random r = new Random(11);
    int d = 5;
    int[] cu = {0, 7, 8, 8, 15};
    int T = 15, nSeq = 4;
    boolean[] start = starts(cu, T), mask = new boolean[T];
    float[] p = new float[T];
    for (int t = 0; t < T; t++) {
      mask[t] = start[t] || r.nextBoolean();
      // away from 0.5 and from the clamp edges, except a forced 1 at the starts
      p[t] = start[t] ? 1f : mask[t] ? 0.6f + 0.3f * r.nextFloat() : 0.1f + 0.3f * r.nextFloat();
    }
    int Tc = Dechunk.chunks(mask, T);
    float[] z = randn(r, Tc * d), dy = randn(r, T * d);
    float[] out = new float[T * d];
    Dechunk.forward(out, new float[d], z, p, mask, cu, nSeq, d);
    double[] want =
        Dechunk.forwardNaive(GradCheck.toDouble(z), GradCheck.toDouble(p), mask, cu, nSeq, d);
    for (int i = 0; i < out.length; i++) assertEquals(want[i], out[i], 1e-5);

    float[] dz = new float[Tc * d], dp = new float[T];
    java.util.Arrays.fill(dz, 9f); // overwritten
    Dechunk.backward(
        dz,
        dp,
        dy,
        z,
        p,
        mask,
        cu,
        nSeq,
        d,
        new int[nSeq + 1],
        new int[Tc],
        new float[(2 * Tc + 1) * d]);
    double[] zd = GradCheck.toDouble(z), pd = GradCheck.toDouble(p);
    GradCheck.assertClose(
        "dz",
        GradCheck.numeric(zd, 1e-6, x -> dot(dy, Dechunk.forwardNaive(x, pd, mask, cu, nSeq, d))),
        dz,
        0,
        1e-5);
    double[] dpNum =
        GradCheck.numeric(pd, 1e-6, x -> dot(dy, Dechunk.forwardNaive(zd, x, mask, cu, nSeq, d)));
    for (int t = 0; t < T; t++)
      if (start[t]) dpNum[t] = 0; // p = 1 is outside the clamp: no gradient
    GradCheck.assertClose("dp", dpNum, dp, 0, 1e-5);
    for (int t = 0; t < T; t++)
      if (!mask[t]) assertEquals(0f, dp[t], "no gradient off the boundaries");

    // a decode step of every row at once repeats the forward's last value per row
    float[] last = new float[2 * d], o = new float[2 * d];
    float[] zr = randn(r, 2 * d);
    Dechunk.step(
        o,
        zr,
        new float[] {0.7f, 0.2f},
        new boolean[] {true, false},
        new boolean[] {true, true},
        last,
        d);
    for (int c = 0; c < d; c++) {
      assertEquals(0.7f * zr[c], o[c], 1e-7f);
      assertEquals(0f, o[d + c]);
    }
  }

  @Test
  void embeddingGatherAndScatter() {
    Random r = new Random(2);
    int V = 7, d = 3, T = 9;
    float[] table = randn(r, V * d), dx = randn(r, T * d);
    int[] tokens = {3, 0, 6, 3, 3, 1, 0, 6, 2};
    float[] x = new float[T * d];
    Embedding.gather(x, table, tokens, T, d);
    for (int t = 0; t < T; t++)
      assertArrayEquals(
          java.util.Arrays.copyOfRange(table, tokens[t] * d, tokens[t] * d + d),
          java.util.Arrays.copyOfRange(x, t * d, t * d + d));
    float[] dt = new float[V * d];
    Embedding.scatterAdd(dt, dx, tokens, T, d);
    double[] want = Embedding.scatterAddNaive(dx, tokens, T, V, d);
    for (int i = 0; i < dt.length; i++) assertEquals(want[i], dt[i], 1e-6);
    assertEquals(-1, Embedding.firstOutOfRange(tokens, T, V));
    tokens[4] = V;
    assertEquals(4, Embedding.firstOutOfRange(tokens, T, V));
    assertTrue(Embedding.firstOutOfRange(new int[] {-1}, 1, V) == 0);
  }
}
