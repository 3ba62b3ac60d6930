package org.hnet.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.hnet.kernels.GradCheck;
import org.hnet.tensor.Arena;
import org.junit.jupiter.api.Test;

/**
 * The dynamic-chunking pieces that finite differences can check: the dechunk EMA and the router's
 * cosine (with the boundary decisions held fixed; inputs chosen so no p is near 0.5 or a clamp
 * edge). The hard decisions themselves and the STE carry no finite-difference signal: the golden
 * gradients of the routing projections (GoldenGradientTest) pin them down, and the STE is checked
 * analytically below.
 */
class RoutingDechunkBackwardTest {
  static final double H = 1e-6;

  /** Double twin of DeChunkLayer.forward, with the mask held fixed: the kernel's oracle. */
  static double[] dechunk(double[] z, double[] p, boolean[] mask, SeqLens seqs, int d) {
    return org.hnet.kernels.Dechunk.forwardNaive(z, p, mask, seqs.cu(), seqs.count(), d);
  }

  @Test
  void dechunkBackwardMatchesFiniteDifferences() {
    Random r = new Random(11);
    int d = 3;
    SeqLens seqs = new SeqLens(new int[] {0, 7, 8, 13});
    int T = seqs.total();
    boolean[] mask = new boolean[T];
    float[] p = new float[T];
    for (int t = 0; t < T; t++) {
      boolean start = t == 0 || t == 7 || t == 8;
      mask[t] = start || r.nextBoolean();
      p[t] = start ? 1f : mask[t] ? 0.6f + 0.3f * r.nextFloat() : 0.1f + 0.3f * r.nextFloat();
    }
    int Tc = ChunkLayer.nextSeqLens(mask, seqs).total();
    float[] z = OpsRandom.randn(r, Tc * d), dy = OpsRandom.randn(r, T * d);
    float[] dz = new float[Tc * d], dp = new float[T];
    DeChunkLayer.backward(dy, z, p, mask, seqs, d, dz, dp);

    double[] zd = GradCheck.toDouble(z), pd = GradCheck.toDouble(p), gd = GradCheck.toDouble(dy);
    java.util.function.ToDoubleFunction<double[][]> loss =
        a -> {
          double[] y = dechunk(a[0], a[1], mask, seqs, d);
          double l = 0;
          for (int i = 0; i < y.length; i++) l += gd[i] * y[i];
          return l;
        };
    GradCheck.assertClose(
        "dz",
        GradCheck.numeric(zd, H, v -> loss.applyAsDouble(new double[][] {v, pd})),
        dz,
        0,
        1e-5);
    double[] dpNum = GradCheck.numeric(pd, H, v -> loss.applyAsDouble(new double[][] {zd, v}));
    // the forced p = 1 at sequence starts sits outside the clamp range: no gradient, as in torch
    for (int t : new int[] {0, 7, 8}) assertTrue(dp[t] == 0f && dpNum[t] == 0.0, "start " + t);
    GradCheck.assertClose("dp", dpNum, dp, 0, 1e-5);
  }

  @Test
  void routingBackwardMatchesFiniteDifferences() {
    Random r = new Random(12);
    int d = 4, T = 9;
    SeqLens seqs = new SeqLens(new int[] {0, 5, 9});
    Map<String, float[]> w = new HashMap<>();
    w.put("r.q_proj_layer.weight", OpsRandom.randn(r, d * d));
    w.put("r.k_proj_layer.weight", OpsRandom.randn(r, d * d));
    Params ps = new Params(w::get);
    RoutingModule router = new RoutingModule(ps, "r", 0, d, org.hnet.config.RouterSpec.LEARNED);
    float[] h = OpsRandom.randn(r, T * d), g = OpsRandom.randn(r, T);
    Tape tape = new Tape();
    Arena arena = new Arena();
    RoutingModule.Output out = router.forward(h, null, seqs, tape, arena);
    for (int t = 0; t < T; t++) {
      if (t != 0 && t != 5)
        assertTrue(Math.abs(out.boundaryProb()[t] - 0.5) > 1e-3, "p near 0.5 at " + t);
    }
    float[] dh = router.backward(g, tape, arena);
    assertTrue(tape.isEmpty());

    double[] wq = GradCheck.toDouble(w.get("r.q_proj_layer.weight")),
        wk = GradCheck.toDouble(w.get("r.k_proj_layer.weight"));
    double[] num =
        GradCheck.numeric(
            GradCheck.toDouble(h),
            H,
            x -> {
              double l = 0;
              for (int t = 0; t < T; t++) {
                if (t == 0 || t == 5) continue; // forced p = 1: a constant
                double[] q = new double[d], k = new double[d];
                for (int i = 0; i < d; i++) {
                  for (int j = 0; j < d; j++) {
                    q[i] += wq[i * d + j] * x[(t - 1) * d + j];
                    k[i] += wk[i * d + j] * x[t * d + j];
                  }
                }
                double qq = 0, kk = 0, qk = 0;
                for (int i = 0; i < d; i++) {
                  qq += q[i] * q[i];
                  kk += k[i] * k[i];
                  qk += q[i] * k[i];
                }
                l += g[t] * 0.5 * (1 - qk / Math.sqrt(qq) / Math.sqrt(kk));
              }
              return l;
            });
    GradCheck.assertClose("dh", num, dh, 0, 1e-4);
    // the projections' gradients were accumulated too
    assertTrue(router.qProj.weight.grad != null && router.kProj.weight.grad != null);
  }

  @Test
  void theSteSendsTheDecoderInputGradientDotTheDechunkedValueToTheSelectedProbability() {
    // u = y · STE(c) + r with c = p at a boundary, 1 − p elsewhere: ∂L/∂p_t = ±Σ_c ∂L/∂u_tc · y_tc
    float[] y = {1f, 2f, -1f, 0.5f, 4f, 0f}; // 3 positions × 2 channels
    float[] du = {0.25f, -1f, 3f, 2f, 0.5f, 7f};
    boolean[] mask = {true, false, true};
    float[] dp = {10f, 0f, 0f}; // accumulates onto what is already there
    org.hnet.kernels.StageOps.steBackward(dp, du, y, mask, mask.length, 2);
    assertArrayEquals(new float[] {10f + 0.25f - 2f, 3f - 1f, 2f}, dp, 0f);
  }
}
