package org.hnet.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** Fused softmax cross-entropy: value and gradient against double precision. */
class CrossEntropyTest {
  static double meanNll(double[] logits, int[] targets, int M, int V) {
    double total = 0;
    int count = 0;
    for (int m = 0; m < M; m++) {
      if (targets[m] < 0) continue;
      double max = Double.NEGATIVE_INFINITY, sum = 0;
      for (int v = 0; v < V; v++) max = Math.max(max, logits[m * V + v]);
      for (int v = 0; v < V; v++) sum += Math.exp(logits[m * V + v] - max);
      total += max + Math.log(sum) - logits[m * V + targets[m]];
      count++;
    }
    return total / count;
  }

  @Test
  void valueAndGradientMatchDoublePrecision() {
    Random r = new Random(3);
    int M = 7, V = 13;
    float[] logits = OpsTest.randn(r, M * V);
    for (int i = 0; i < logits.length; i++) logits[i] *= 3;
    int[] targets = {4, -1, 0, 12, 7, -1, 1}; // −1: no target (a segment's last position)
    float[] g = new float[M * V];
    java.util.Arrays.fill(g, 99f); // overwritten, rows without a target included
    double loss = CrossEntropy.forwardBackward(logits, targets, M, V, g);
    double[] ld = GradCheck.toDouble(logits);
    assertEquals(meanNll(ld, targets, M, V), loss, 1e-9);
    GradCheck.assertClose(
        "dlogits", GradCheck.numeric(ld, 1e-6, x -> meanNll(x, targets, M, V)), g, 0, 1e-6);
    for (int v = 0; v < V; v++) assertEquals(0f, g[V + v], "no gradient where there is no target");
  }

  @Test
  void noTargetGivesNaN() {
    assertTrue(
        Double.isNaN(CrossEntropy.forwardBackward(new float[4], new int[] {-1, -1}, 2, 2, null)));
  }
}
