package org.hnet.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.hnet.io.TensorData;
import org.hnet.kernels.Flops;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Incremental decoding: prefill + step reproduces the parallel forward (logits and every stage's
 * boundaries), and rows decoded together equal rows decoded alone.
 */
class StepTest {
  /**
   * Teacher-forced decoding of one or more rows: logits per row [L × V] and boundaries per stage
   * per row.
   */
  record Decoded(float[][] logits, List<List<Boolean>>[] boundaries) {}

  /**
   * Prefills prompt i = rows[i][0 .. prefill[i]) of every row together, then steps every row
   * through the rest of its bytes (rows of different lengths finish at different times).
   */
  @SuppressWarnings("unchecked")
  static Decoded decode(HNetForCausalLM lm, int[][] rows, int[] prefill) {
    int R = rows.length, V = lm.vocab, stages = lm.config.numStages() - 1;
    int maxLen = Arrays.stream(rows).mapToInt(r -> r.length).max().orElse(0);
    HNetForCausalLM.Cache cache = lm.allocate(R, maxLen);
    float[][] logits = new float[R][];
    List<List<Boolean>>[] bounds = new List[R];
    int[] cu = new int[R + 1];
    for (int r = 0; r < R; r++) {
      logits[r] = new float[rows[r].length * V];
      bounds[r] = new ArrayList<>();
      for (int s = 0; s < stages; s++) bounds[r].add(new ArrayList<>());
      cu[r + 1] = cu[r] + prefill[r];
    }
    int[] packed = new int[cu[R]];
    for (int r = 0; r < R; r++) System.arraycopy(rows[r], 0, packed, cu[r], prefill[r]);
    HNetForCausalLM.Output pre = lm.prefill(packed, new SeqLens(cu), cache);
    for (int r = 0; r < R; r++)
      System.arraycopy(pre.logits(), cu[r] * V, logits[r], 0, prefill[r] * V);
    for (int s = 0; s < stages; s++) {
      RoutingModule.Output ro = pre.routing().get(s);
      int[] scu = ro.seqs().cu();
      for (int r = 0; r < R; r++)
        for (int i = scu[r]; i < scu[r + 1]; i++) bounds[r].get(s).add(ro.boundaryMask()[i]);
    }
    for (int t = 0; ; t++) {
      boolean[] active = new boolean[R];
      int[] tok = new int[R];
      boolean any = false;
      for (int r = 0; r < R; r++) {
        int pos = prefill[r] + t;
        if (pos < rows[r].length) {
          active[r] = true;
          tok[r] = rows[r][pos];
          any = true;
        }
      }
      if (!any) break;
      HNetForCausalLM.Output out = lm.step(tok, cache, active);
      for (int r = 0; r < R; r++) {
        if (!active[r]) continue;
        System.arraycopy(out.logits(), r * V, logits[r], (prefill[r] + t) * V, V);
        boolean deeper = true; // a stage-(s+1) decision exists only where stage s took a boundary
        for (int s = 0; s < stages && deeper; s++) {
          boolean b = out.routing().get(s).boundaryMask()[r];
          bounds[r].get(s).add(b);
          deeper = b;
        }
      }
    }
    return new Decoded(logits, bounds);
  }

  static List<Boolean> flags(boolean[] m, int from, int to) {
    List<Boolean> l = new ArrayList<>();
    for (int i = from; i < to; i++) l.add(m[i]);
    return l;
  }

  @ParameterizedTest
  @ValueSource(strings = {"1stage-mixed", "1stage-packed", "2stage", "isotropic-T", "isotropic-m"})
  void steppingReproducesTheReferenceStepLogitsAndBoundaries(String name) {
    HNetForCausalLM lm = HNetForCausalLM.load(Golden.dir(name));
    Map<String, TensorData> io = Golden.io(name);
    int[] tokens = Golden.tokens(io);
    int B = io.get("input_ids").shape()[0], L = io.get("input_ids").shape()[1], V = lm.vocab;
    float[] want = io.get("step_logits").toFloats();
    float worst = 0;
    for (int b = 0; b < B; b++) {
      int[] row = Arrays.copyOfRange(tokens, b * L, (b + 1) * L);
      Decoded d = decode(lm, new int[][] {row}, new int[] {1});
      float err =
          Golden.maxAbsDiff(Arrays.copyOfRange(want, b * L * V, (b + 1) * L * V), d.logits()[0]);
      worst = Math.max(worst, err);
      assertTrue(err <= 1e-4f, name + " row " + b + ": step logits differ by " + err);
      if (io.containsKey("boundary_mask_0")) {
        byte[] m = io.get("boundary_mask_0").toU8();
        List<Boolean> golden = new ArrayList<>();
        for (int t = b * L; t < (b + 1) * L; t++) golden.add(m[t] != 0);
        assertEquals(
            golden,
            d.boundaries()[0].get(0),
            name + " row " + b + ": stage-0 boundaries while stepping");
      }
    }
    System.out.printf(
        "golden %-14s step vs reference step_logits: max abs diff %.3g%n", name, worst);
  }

  @ParameterizedTest
  @ValueSource(strings = {"2stage", "1stage-mixed", "isotropic-m"})
  void everyPrefillLengthFollowedBySteppingEqualsTheParallelForward(String name) {
    HNetForCausalLM lm = HNetForCausalLM.load(Golden.dir(name));
    int[] row = Arrays.copyOf(Golden.tokens(Golden.io(name)), 72);
    HNetForCausalLM.Output full = lm.forward(row, SeqLens.uniform(1, row.length));
    int stages = lm.config.numStages() - 1;
    float worst = 0;
    for (int k = 1; k <= 40; k++) {
      Decoded d = decode(lm, new int[][] {row}, new int[] {k});
      float err = Golden.maxAbsDiff(full.logits(), d.logits()[0]);
      worst = Math.max(worst, err);
      assertTrue(err <= 1e-4f, name + " prefill " + k + ": logits differ by " + err);
      for (int s = 0; s < stages; s++) {
        boolean[] m = full.routing().get(s).boundaryMask();
        assertEquals(
            flags(m, 0, m.length),
            d.boundaries()[0].get(s),
            name + " prefill " + k + ": stage " + s + " boundaries");
      }
    }
    System.out.printf(
        "golden %-14s prefill 1..40 + step vs parallel: max abs diff %.3g%n", name, worst);
  }

  /**
   * A decode cache keeps the conv weights tap-major for the steps, taken again at each prefill: a
   * cache made before the weights changed (a training step between two generations) steps with the
   * weights of its prefill, as the parallel forward does. With the copy taken only when the cache
   * is made, the logits after the prompt differed.
   */
  @Test
  void stepsUseTheConvWeightsOfTheirPrefillEvenInAnOlderCache() {
    HNetForCausalLM lm = HNetForCausalLM.load(Golden.dir("isotropic-m"));
    int[] row = Arrays.copyOf(Golden.tokens(Golden.io("isotropic-m")), 24);
    HNetForCausalLM.Cache early = lm.allocate(1, row.length);
    int changed = 0;
    for (Param p : lm.parameters.values()) {
      if (!p.name.endsWith("conv1d.weight")) continue;
      for (int i = 0; i < p.data.length; i++) p.data[i] *= (i % 3 == 0 ? -1.5f : 1.25f);
      changed++;
    }
    assertTrue(changed > 0, "the model has conv weights");
    float[] want = lm.forward(row, SeqLens.uniform(1, row.length)).logits();
    int k = 8, V = lm.vocab;
    HNetForCausalLM.Output pre = lm.prefill(Arrays.copyOf(row, k), SeqLens.uniform(1, k), early);
    float[] got = Arrays.copyOf(pre.logits(), row.length * V);
    for (int t = k; t < row.length; t++) {
      float[] l = lm.step(new int[] {row[t]}, early, new boolean[] {true}).logits();
      System.arraycopy(l, 0, got, t * V, V);
    }
    float err = Golden.maxAbsDiff(want, got);
    assertTrue(err <= 1e-4f, "steps after a prefill with changed conv weights differ by " + err);
  }

  /**
   * The main network of a stage runs only in the steps where some row reaches it: a step without a
   * stage-0 boundary does none of its products (in batch-1 decoding, half the steps), and its
   * routing still has an entry, without boundaries, for every stage.
   */
  @Test
  void aStepWithoutABoundaryDoesNoneOfTheMainNetworksProducts() {
    HNetForCausalLM lm = HNetForCausalLM.load(Golden.dir("2stage"));
    int[] row = Golden.tokens(Golden.io("2stage"));
    int stages = lm.config.numStages() - 1;
    long mainProducts =
        0; // 2 flops per weight of every matrix product of the stage-0 main network, one row
    for (Map.Entry<String, Param> e : lm.parameters.entrySet()) {
      if (e.getKey().startsWith("backbone.main_network.") && e.getKey().endsWith("proj.weight")) {
        mainProducts += 2L * e.getValue().data.length;
      }
    }
    assertTrue(mainProducts > 0, "no main-network projection found");
    HNetForCausalLM.Cache cache = lm.allocate(1, row.length);
    lm.prefill(new int[] {row[0]}, SeqLens.uniform(1, 1), cache);
    long idle = -1, busiest = -1;
    int idleSteps = 0, boundarySteps = 0;
    for (int t = 1; t < row.length; t++) {
      Flops.reset();
      HNetForCausalLM.Output out = lm.step(new int[] {row[t]}, cache, new boolean[] {true});
      long flops = Flops.take();
      assertEquals(stages, out.routing().size(), "step " + t + ": one routing entry per stage");
      if (out.routing().get(0).boundaryMask()[0]) {
        boundarySteps++;
        busiest = Math.max(busiest, flops);
      } else {
        for (int s = 0; s < stages; s++)
          assertFalse(out.routing().get(s).boundaryMask()[0], "step " + t + " stage " + s);
        if (idle >= 0)
          assertEquals(idle, flops, "step " + t + ": steps without a boundary do the same work");
        idle = flops;
        idleSteps++;
      }
    }
    assertTrue(
        idleSteps > 0 && boundarySteps > 0,
        idleSteps + " steps without a boundary, " + boundarySteps + " with");
    assertTrue(
        busiest - idle >= mainProducts,
        "a step without a boundary did "
            + idle
            + " flops, one with "
            + busiest
            + "; the main network's products alone are "
            + mainProducts);
  }

  @Test
  void rowsDecodedTogetherEqualRowsDecodedAlone() {
    for (String name : new String[] {"2stage", "1stage-mixed"}) {
      HNetForCausalLM lm = HNetForCausalLM.load(Golden.dir(name));
      int[] src = Golden.tokens(Golden.io(name));
      int[][] rows = {
        Arrays.copyOfRange(src, 0, 50),
        Arrays.copyOfRange(src, 60, 90),
        Arrays.copyOfRange(src, 100, 192)
      };
      int[] prefill = {5, 17, 30};
      Decoded together = decode(lm, rows, prefill);
      for (int r = 0; r < rows.length; r++) {
        Decoded alone = decode(lm, new int[][] {rows[r]}, new int[] {prefill[r]});
        assertArrayEquals(
            alone.logits()[0], together.logits()[r], 0f, name + " row " + r + ": logits");
        assertEquals(
            alone.boundaries()[0], together.boundaries()[r], name + " row " + r + ": boundaries");
      }
    }
  }
}
