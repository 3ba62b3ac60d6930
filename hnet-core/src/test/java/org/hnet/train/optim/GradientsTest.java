package org.hnet.train.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.hnet.kernels.Parallel;
import org.hnet.nn.Param;
import org.hnet.testing.RestoreThreads;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(RestoreThreads.class)
class GradientsTest {
  private static Param withGrad(String name, float... g) {
    Param p = new Param(name, new int[] {g.length}, new float[g.length], true, 0);
    p.grad = g;
    return p;
  }

  /** Gradients (3, 4) and (0, 12): norm sqrt(9 + 16 + 144) = 13, plus a param with no grad. */
  private static List<Param> thirteen() {
    Param none = new Param("none", new int[] {2}, new float[2], true, 0);
    return List.of(withGrad("a", 3f, 4f), none, withGrad("b", 0f, 12f));
  }

  @Test
  void globalNormIsTheL2NormOverAllGradients() {
    assertEquals(13.0, Gradients.globalNorm(thirteen()), 0.0);
    assertEquals(0.0, Gradients.globalNorm(List.of(withGrad("z", 0f, 0f))), 0.0);
  }

  @Test
  void clipAboveMaxScalesToMaxAndReturnsThePreClipNorm() {
    List<Param> ps = thirteen();
    assertEquals(13.0, Gradients.clipGlobalNorm(ps, 1.0), 0.0);
    float coef = (float) (1.0 / (13.0 + 1e-6));
    assertArrayEquals(new float[] {3f * coef, 4f * coef}, ps.get(0).grad);
    assertArrayEquals(new float[] {0f, 12f * coef}, ps.get(2).grad);
    assertNull(ps.get(1).grad);
    assertEquals(1.0, Gradients.globalNorm(ps), 1e-6);
  }

  @Test
  void clipBelowMaxLeavesGradientsBitIdentical() {
    List<Param> ps = thirteen();
    assertEquals(13.0, Gradients.clipGlobalNorm(ps, 20.0), 0.0);
    assertArrayEquals(new float[] {3f, 4f}, ps.get(0).grad);
    assertArrayEquals(new float[] {0f, 12f}, ps.get(2).grad);
    // Exactly at the max: torch's coef max/(norm+1e-6) is < 1, a scale within 1e-7 relative.
    assertEquals(13.0, Gradients.clipGlobalNorm(ps, 13.0), 0.0);
    assertEquals(13.0, Gradients.globalNorm(ps), 13.0 * 1e-6);
  }

  @Test
  void clipOfZeroGradientsStaysZero() {
    List<Param> ps = List.of(withGrad("z", 0f, 0f, 0f));
    assertEquals(0.0, Gradients.clipGlobalNorm(ps, 1.0), 0.0);
    assertArrayEquals(new float[3], ps.get(0).grad);
  }

  @Test
  void clipWithNonFiniteNormLeavesGradientsForTheCallerToSkip() {
    List<Param> ps = List.of(withGrad("n", 1f, Float.NaN));
    assertTrue(Double.isNaN(Gradients.clipGlobalNorm(ps, 1.0)));
    assertEquals(1f, ps.get(0).grad[0]);
    assertThrows(IllegalArgumentException.class, () -> Gradients.clipGlobalNorm(thirteen(), -1));
  }

  @Test
  void scaleAndZero() {
    List<Param> ps = thirteen();
    Gradients.scale(ps, 0.25f);
    assertArrayEquals(new float[] {0.75f, 1f}, ps.get(0).grad);
    assertArrayEquals(new float[] {0f, 3f}, ps.get(2).grad);
    Gradients.zero(ps);
    assertArrayEquals(new float[2], ps.get(0).grad);
    assertArrayEquals(new float[2], ps.get(2).grad);
    assertNull(ps.get(1).grad);
  }

  @Test
  void normAndClipAreBitIdenticalForAnyThreadCount() {
    double[] norms = new double[3];
    float[][] clipped = new float[3][];
    for (int t = 1; t <= 3; t++) {
      Parallel.setThreads(t);
      List<Param> ps = AdamWTest.bigModel();
      for (Param q : ps) {
        for (int i = 0; i < q.size(); i++) q.grad[i] = (float) Math.sin(0.37 * i + q.stage);
      }
      norms[t - 1] = Gradients.globalNorm(ps);
      Gradients.clipGlobalNorm(ps, 1.0);
      clipped[t - 1] = ps.get(2).grad;
    }
    assertEquals(norms[0], norms[1], 0.0);
    assertEquals(norms[0], norms[2], 0.0);
    assertArrayEquals(clipped[0], clipped[2]);
  }
}
