package org.hnet.train.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.hnet.HNetException;
import org.hnet.kernels.Parallel;
import org.hnet.nn.Param;
import org.hnet.testing.RestoreThreads;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(RestoreThreads.class)
class AdamWTest {
  private static final double B1 = 0.9;
  private static final double B2 = 0.95;
  private static final double EPS = 1e-8;
  private static final double WD = 0.1;
  private static final double[] MULT = {2.0, 1.0};
  private static final double[] LRS = {1e-2, 2e-2, 5e-3};

  /**
   * Names and placement modelled on the official state dict: stages -1, 0, 1 and one past the
   * array.
   */
  private static List<Param> model() {
    List<Param> ps = new ArrayList<>();
    ps.add(param("embeddings.weight", 6, true, -1, 0));
    ps.add(param("backbone.encoder.layers.0.mixer.in_proj.weight", 8, true, 0, 1));
    ps.add(param("backbone.encoder.layers.0.norm.weight", 4, false, 0, 2));
    ps.add(param("backbone.main_network.layers.0.mixer.out_proj.weight", 8, true, 1, 3));
    ps.add(param("backbone.main_network.layers.0.mixer.A_log", 3, false, 1, 4));
    ps.add(param("backbone.main_network.main_network.layers.0.mlp.fc1.weight", 5, true, 2, 5));
    return ps;
  }

  private static Param param(String name, int n, boolean wd, int stage, int seed) {
    float[] data = new float[n];
    for (int i = 0; i < n; i++) data[i] = (float) (0.9 * Math.cos(0.7 * i + seed));
    Param p = new Param(name, new int[] {n}, data, wd, stage);
    p.grad = new float[n];
    return p;
  }

  /**
   * Fixed gradients that change every step, over four orders of magnitude per parameter, with an
   * exact zero in the first element of parameter 2 at every step (m = v = 0: the update must be 0).
   */
  private static void setGrads(List<Param> ps, int step) {
    double[] scale = {1.0, 0.05, 3.0, 1e-3, 0.4, 10.0};
    for (int k = 0; k < ps.size(); k++) {
      float[] g = ps.get(k).grad;
      for (int i = 0; i < g.length; i++) {
        g[i] = (float) (scale[k] * Math.sin(1.3 * i + 0.9 * step + k));
      }
      if (k == 2) g[0] = 0f;
    }
  }

  private static double mult(Param p) {
    return MULT[Math.min(Math.max(p.stage, 0), MULT.length - 1)];
  }

  @Test
  void threeStepsMatchTheUpdateRuleInDouble() {
    List<Param> ps = model();
    // Independent reference: the update rule of the brief, in double, from the same float inputs.
    int n = ps.size();
    double[][] p = new double[n][];
    double[][] m = new double[n][];
    double[][] v = new double[n][];
    for (int k = 0; k < n; k++) {
      p[k] = toDouble(ps.get(k).data);
      m[k] = new double[p[k].length];
      v[k] = new double[p[k].length];
    }
    double maxUpdate = 0;
    for (int t = 1; t <= 3; t++) {
      setGrads(ps, t);
      for (int k = 0; k < n; k++) {
        Param q = ps.get(k);
        double a = LRS[t - 1] * mult(q);
        for (int i = 0; i < p[k].length; i++) {
          double g = q.grad[i];
          if (q.weightDecay) p[k][i] -= a * WD * p[k][i];
          m[k][i] = B1 * m[k][i] + (1 - B1) * g;
          v[k][i] = B2 * v[k][i] + (1 - B2) * g * g;
          double mHat = m[k][i] / (1 - Math.pow(B1, t));
          double vHat = v[k][i] / (1 - Math.pow(B2, t));
          double u = a * mHat / (Math.sqrt(vHat) + EPS);
          p[k][i] -= u;
          maxUpdate = Math.max(maxUpdate, Math.abs(u));
        }
      }
    }

    List<Param> ps2 = model();
    AdamW opt = new AdamW(ps2, B1, B2, EPS, WD, MULT);
    for (int t = 1; t <= 3; t++) {
      setGrads(ps2, t);
      opt.step(LRS[t - 1]);
    }
    assertEquals(3, opt.stepCount());

    // Tolerance: float32 rounds p twice per step (decay multiply, addcdiv), at most 1 ulp of |p|
    // (|p| < 2 here, ulp 2^-22) per step; the update a·m̂/(√v̂+eps) carries the relative rounding
    // of
    // the float state and of ~8 float ops, well under 16·2^-24 of its size. Three steps of both:
    double tol = 3 * (Math.scalb(1.0, -22) + 16 * Math.scalb(1.0, -24) * maxUpdate);
    assertTrue(tol < 1e-6, "tolerance " + tol);
    for (int k = 0; k < n; k++) {
      float[] got = ps2.get(k).data;
      float[] start = model().get(k).data;
      for (int i = 0; i < got.length; i++) {
        String where = ps2.get(k).name + "[" + i + "]";
        assertEquals(p[k][i], got[i], tol, where);
        // The check discriminates: every element that has a gradient or decays moved far more than
        // tol.
        boolean frozen = k == 2 && i == 0;
        if (!frozen) assertTrue(Math.abs(got[i] - start[i]) > 100 * tol, where + " barely moved");
      }
    }
    assertEquals(start(2, 0), ps2.get(2).data[0], "zero gradient, no decay: unchanged");
  }

  private static float start(int k, int i) {
    return model().get(k).data[i];
  }

  /**
   * Pins the documented float32 operation order (torch's _single_tensor_adamw with its fused lerp)
   * bit for bit, for one decayed parameter with a non-unit stage multiplier.
   */
  @Test
  void followsTorchsFloat32OperationOrderBitForBit() {
    List<Param> ps = model();
    Param q = ps.get(1);
    float[] w = q.data.clone();
    float[] m = new float[w.length];
    float[] v = new float[w.length];
    AdamW opt = new AdamW(ps, B1, B2, EPS, WD, MULT);
    for (int t = 1; t <= 3; t++) {
      setGrads(ps, t);
      double a = LRS[t - 1] * 2.0;
      float decay = (float) (1 - a * WD);
      float stepSize = (float) -(a / (1 - StrictMath.pow(B1, t)));
      float bc2Sqrt = (float) Math.sqrt(1 - StrictMath.pow(B2, t));
      for (int i = 0; i < w.length; i++) {
        float g = q.grad[i];
        w[i] = w[i] * decay; // param.mul_(1 - lr * weight_decay)
        m[i] = Math.fma((float) (1 - B1), g - m[i], m[i]); // exp_avg.lerp_(grad, 1 - beta1)
        v[i] = v[i] * (float) B2; // exp_avg_sq.mul_(beta2)
        v[i] = v[i] + (float) (1 - B2) * g * g; // .addcmul_(grad, grad, value=1 - beta2)
        float denom =
            (float) Math.sqrt(v[i]) / bc2Sqrt + (float) EPS; // (sqrt / bc2_sqrt).add_(eps)
        w[i] = w[i] + stepSize * m[i] / denom; // param.addcdiv_(exp_avg, denom, value=-step_size)
      }
      opt.step(LRS[t - 1]);
    }
    assertArrayEquals(w, q.data);
    assertArrayEquals(m, opt.stateTensors().get("exp_avg." + q.name));
    assertArrayEquals(v, opt.stateTensors().get("exp_avg_sq." + q.name));
  }

  @Test
  void weightDecayOnlyWhereFlagged() {
    List<Param> ps = model();
    List<Param> before = model();
    AdamW opt = new AdamW(ps, B1, B2, EPS, WD, MULT);
    // Zero gradients: m = v = 0 so the Adam term is exactly 0 and only decay can move a weight.
    opt.step(0.5);
    for (int k = 0; k < ps.size(); k++) {
      Param q = ps.get(k);
      float factor = (float) (1 - 0.5 * mult(q) * WD);
      for (int i = 0; i < q.size(); i++) {
        float b = before.get(k).data[i];
        assertEquals(q.weightDecay ? b * factor : b, q.data[i], 0f, q.name + "[" + i + "]");
      }
    }
    assertNotEquals(before.get(0).data[0], ps.get(0).data[0]);
  }

  @Test
  void zeroWeightDecaySkipsTheMultiplyEvenForFlaggedParams() {
    List<Param> ps = model();
    List<Param> before = model();
    new AdamW(ps, B1, B2, EPS, 0.0, MULT).step(0.5);
    for (int k = 0; k < ps.size(); k++) assertArrayEquals(before.get(k).data, ps.get(k).data);
  }

  /**
   * At t = 1 the bias corrections make m̂ = g and v̂ = g², so each element moves by
   * lr·mult·g/(|g|+eps), i.e. by lr·mult whatever the gradient's size: this checks bias correction
   * and the multipliers.
   */
  @Test
  void firstStepMovesEveryElementByItsStagesLearningRate() {
    List<Param> ps = model();
    List<Param> before = model();
    double[] mags = {1e-3, 1.0, 50.0};
    for (Param q : ps) {
      for (int i = 0; i < q.size(); i++) q.grad[i] = (float) (mags[i % 3] * (i % 2 == 0 ? 1 : -1));
    }
    double lr = 1e-3;
    new AdamW(ps, B1, B2, EPS, 0.0, MULT).step(lr);
    double[] expectedMult = {
      2.0, 2.0, 2.0, 1.0, 1.0, 1.0
    }; // stages -1, 0, 0, 1, 1, 2 (past the end)
    for (int k = 0; k < ps.size(); k++) {
      Param q = ps.get(k);
      for (int i = 0; i < q.size(); i++) {
        double moved = before.get(k).data[i] - q.data[i];
        double expected = lr * expectedMult[k] * Math.signum(q.grad[i]);
        assertEquals(expected, moved, 1e-5 * lr + 2 * Math.ulp(1f), q.name + "[" + i + "]");
      }
    }
  }

  @Test
  void parameterWithoutGradientIsLeftAlone() {
    List<Param> ps = model();
    List<Param> before = model();
    setGrads(ps, 1);
    ps.get(3).grad = null;
    AdamW opt = new AdamW(ps, B1, B2, EPS, WD, MULT);
    opt.step(1e-2);
    assertArrayEquals(before.get(3).data, ps.get(3).data);
    assertArrayEquals(new float[8], opt.stateTensors().get("exp_avg." + ps.get(3).name));
    assertNotEquals(before.get(1).data[0], ps.get(1).data[0]);
  }

  @Test
  void misSizedGradientFailsBeforeAnythingChanges() {
    List<Param> ps = model();
    List<Param> before = model();
    setGrads(ps, 1);
    ps.get(4).grad = new float[2];
    AdamW opt = new AdamW(ps, B1, B2, EPS, WD, MULT);
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> opt.step(1e-2));
    assertTrue(e.getMessage().contains(ps.get(4).name), e.getMessage());
    assertEquals(0, opt.stepCount());
    for (int k = 0; k < ps.size(); k++) assertArrayEquals(before.get(k).data, ps.get(k).data);
  }

  @Test
  void stateRoundTripContinuesBitForBit() {
    List<Param> a = model();
    AdamW optA = new AdamW(a, B1, B2, EPS, WD, MULT);
    for (int t = 1; t <= 3; t++) {
      setGrads(a, t);
      optA.step(LRS[t - 1]);
    }

    List<Param> b = model();
    AdamW optB = new AdamW(b, B1, B2, EPS, WD, MULT);
    for (int t = 1; t <= 2; t++) {
      setGrads(b, t);
      optB.step(LRS[t - 1]);
    }
    Map<String, float[]> saved = new HashMap<>();
    optB.stateTensors().forEach((k, v) -> saved.put(k, v.clone())); // as a checkpoint would
    assertEquals(2 * b.size(), saved.size());
    List<Param> c = new ArrayList<>();
    for (Param q : b) c.add(new Param(q.name, q.shape(), q.data.clone(), q.weightDecay, q.stage));
    for (Param q : c) q.grad = new float[q.size()];
    AdamW optC = new AdamW(c, B1, B2, EPS, WD, MULT);
    optC.loadState(saved, optB.stepCount());
    assertEquals(2, optC.stepCount());
    setGrads(c, 3);
    optC.step(LRS[2]);

    for (int k = 0; k < a.size(); k++)
      assertArrayEquals(a.get(k).data, c.get(k).data, a.get(k).name);
    optA.stateTensors().forEach((k, v) -> assertArrayEquals(v, optC.stateTensors().get(k), k));
  }

  @Test
  void loadStateIsStrictAndNamesTheTensor() {
    List<Param> ps = model();
    AdamW opt = new AdamW(ps, B1, B2, EPS, WD, MULT);
    setGrads(ps, 1);
    opt.step(1e-2);
    Map<String, float[]> good = new HashMap<>();
    opt.stateTensors().forEach((k, v) -> good.put(k, v.clone()));
    String key = "exp_avg_sq." + ps.get(3).name;

    Map<String, float[]> missing = new HashMap<>(good);
    missing.remove(key);
    assertMessageNames(key, assertThrows(HNetException.class, () -> opt.loadState(missing, 5)));

    Map<String, float[]> wrongSize = new HashMap<>(good);
    wrongSize.put(key, new float[3]);
    assertMessageNames(key, assertThrows(HNetException.class, () -> opt.loadState(wrongSize, 5)));

    Map<String, float[]> extra = new HashMap<>(good);
    extra.put("exp_avg.no.such.param", new float[1]);
    assertMessageNames(
        "exp_avg.no.such.param", assertThrows(HNetException.class, () -> opt.loadState(extra, 5)));

    assertThrows(HNetException.class, () -> opt.loadState(good, -1));
    // Failed loads changed nothing.
    assertEquals(1, opt.stepCount());
    opt.stateTensors().forEach((k, v) -> assertArrayEquals(good.get(k), v, k));
  }

  private static void assertMessageNames(String name, HNetException e) {
    assertTrue(e.getMessage().contains(name), e.getMessage());
  }

  @Test
  void sameBitsForAnyThreadCount() {
    float[][] results = new float[2][];
    int[] threads = {1, 4};
    for (int r = 0; r < 2; r++) {
      Parallel.setThreads(threads[r]);
      List<Param> ps = bigModel();
      AdamW opt = new AdamW(ps, B1, B2, EPS, WD, MULT);
      for (int t = 1; t <= 3; t++) {
        for (Param q : ps) {
          for (int i = 0; i < q.size(); i++) q.grad[i] = (float) Math.sin(0.01 * i * t + q.stage);
        }
        opt.step(1e-3);
      }
      results[r] = concat(ps);
    }
    assertArrayEquals(results[0], results[1]);
  }

  /** Large enough (several chunks, above the parallel threshold) for the work to be split. */
  static List<Param> bigModel() {
    List<Param> ps = new ArrayList<>();
    int[] sizes = {100_000, 7, 70_001};
    for (int k = 0; k < sizes.length; k++) {
      float[] d = new float[sizes[k]];
      for (int i = 0; i < d.length; i++) d[i] = (float) Math.cos(0.001 * i + k);
      Param p = new Param("p" + k, new int[] {sizes[k]}, d, k != 1, k - 1);
      p.grad = new float[sizes[k]];
      ps.add(p);
    }
    return ps;
  }

  private static float[] concat(List<Param> ps) {
    int n = 0;
    for (Param p : ps) n += p.size();
    float[] out = new float[n];
    int o = 0;
    for (Param p : ps) {
      System.arraycopy(p.data, 0, out, o, p.size());
      o += p.size();
    }
    return out;
  }

  @Test
  void rejectsBadArguments() {
    List<Param> ps = model();
    assertThrows(IllegalArgumentException.class, () -> new AdamW(ps, 1.0, B2, EPS, WD, MULT));
    assertThrows(
        IllegalArgumentException.class, () -> new AdamW(ps, B1, B2, EPS, WD, new double[0]));
    List<Param> dup = new ArrayList<>(ps);
    dup.add(ps.get(0));
    assertThrows(IllegalArgumentException.class, () -> new AdamW(dup, B1, B2, EPS, WD, MULT));
    AdamW opt = new AdamW(ps, B1, B2, EPS, WD, MULT);
    assertThrows(IllegalArgumentException.class, () -> opt.step(Double.NaN));
  }

  private static double[] toDouble(float[] f) {
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) d[i] = f[i];
    return d;
  }
}
