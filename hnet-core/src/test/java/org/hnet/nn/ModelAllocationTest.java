package org.hnet.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.util.Arrays;
import java.util.Map;
import org.hnet.config.HNetConfig;
import org.hnet.kernels.Parallel;
import org.hnet.kernels.VectorWidth;
import org.hnet.testing.Allocations;
import org.hnet.testing.RestoreThreads;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The steady-state loops allocate nothing: a decode step and a training step reuse their buffers
 * (the cache's arena, the model's training arena). Measured as the bytes the calling thread
 * allocated, with one worker thread so that every kernel runs on it.
 */
@ExtendWith(RestoreThreads.class)
class ModelAllocationTest {
  static final String TINY =
      """
      {"arch_layout": ["m1", ["T1"], "m1"], "d_model": [32, 64], "d_intermediate": [0, 128],
       "ssm_cfg": {"d_state": 8, "expand": 2, "chunk_size": 16, "d_conv": 4},
       "attn_cfg": {"num_heads": [2, 2], "rotary_emb_dim": [8, 16], "window_size": [-1, -1]}}
      """;

  @BeforeEach
  void oneThread() {
    Parallel.setThreads(1);
  }

  /**
   * Skips a measurement under -Dhnet.vector.bits wider than the CPU's: emulated vectors allocate.
   */
  static void assumeNative() {
    assumeFalse(
        VectorWidth.emulated(), "vector width " + VectorWidth.bits() + " is emulated on this CPU");
  }

  static HNetForCausalLM tiny() {
    HNetConfig cfg = HNetConfig.parse(TINY, "tiny");
    Map<String, float[]> w = Init.weights(cfg, 3);
    return new HNetForCausalLM(cfg, new Params(w::get));
  }

  static int[] text(int n, int seed) {
    byte[] b =
        ("Call me Ishmael. Some years ago, never mind how long precisely, having little or no money "
                + "in my purse, and nothing particular to interest me on shore. ")
            .repeat(1 + n / 100)
            .getBytes();
    int[] ids = new int[n];
    for (int i = 0; i < n; i++) ids[i] = b[(i + seed) % b.length] & 0xff;
    return ids;
  }

  /**
   * Bytes allocated per decode step of R rows (one of them idle), over windows of {@code steps}
   * steps: the JIT needs a while before every vector operation is compiled (in the interpreter and
   * C1 each one allocates), so windows are measured until one comes in under {@code bound} or
   * {@code windows} have been tried; returns the lowest. A per-step array (at least 16 bytes) fails
   * every window.
   */
  static double bytesPerStep(HNetForCausalLM lm, int rows, int steps, int windows, double bound) {
    assumeNative();
    int prompt = 8;
    HNetForCausalLM.Cache cache = lm.allocate(rows, prompt + steps + 1);
    int[] p = text(rows * prompt, 0), stream = text(steps, 5), tok = new int[rows];
    boolean[] active = new boolean[rows];
    Arrays.fill(active, true);
    active[rows - 1] = false; // one idle row: the inactive paths too
    double best = Double.MAX_VALUE;
    sites = "";
    int round = 0;
    for (; round < windows && best >= bound; round++) {
      lm.prefill(p, SeqLens.uniform(rows, prompt), cache);
      long before = Allocations.ofThisThread();
      for (int t = 0; t < steps; t++) {
        feed(tok, stream, t);
        lm.step(tok, cache, active);
      }
      best = Math.min(best, (Allocations.ofThisThread() - before) / (double) steps);
    }
    System.out.printf("decode: %d windows of %d steps%n", round, steps);
    if (best >= bound) {
      SeqLens promptLens = SeqLens.uniform(rows, prompt);
      // Each window refills the cache first (it holds prompt + steps positions); the prefill's own
      // allocations (its outputs) are left out of the sites.
      sites =
          AllocationSites.of(
              () -> {
                lm.prefill(p, promptLens, cache);
                for (int t = 0; t < steps; t++) {
                  feed(tok, stream, t);
                  lm.step(tok, cache, active);
                }
              },
              "prefill");
    }
    return best;
  }

  /**
   * Step t's bytes: each row at its own offset in the text, so that rows reach boundaries at
   * different steps and every number of rows at a boundary (0 to all) occurs often. With the same
   * byte in every row they mostly agreed, and the products of a single row at the inner stage ran a
   * few times per thousand steps: still in C1 (allocating) after the test's windows.
   */
  static void feed(int[] tok, int[] stream, int t) {
    for (int r = 0; r < tok.length; r++) tok[r] = stream[(t + 37 * r) % stream.length];
  }

  /**
   * Decode windows tried before a measurement counts as failed: enough for C2 to compile every
   * vector kernel of the step on a loaded 2-core machine (the int8 kernels for few rows took up to
   * 44 windows there, 2-6 on an idle one). A window that comes in under the bound ends the loop, so
   * the budget costs time only while the code is still warming up.
   */
  static final int WARMUP_WINDOWS = 200;

  /** The allocation sites of the last measurement that failed its bound ("" if none). */
  static String sites = "";

  @Test
  void aDecodeStepAllocatesNothing() {
    double perStep = bytesPerStep(tiny(), 3, 300, WARMUP_WINDOWS, 8);
    System.out.printf("decode step: %.1f bytes allocated per step%n", perStep);
    assertTrue(perStep < 8, perStep + " bytes allocated per decode step; " + sites);
  }

  @Test
  void aDecodeStepWithCompactWeightsAllocatesNothing() {
    HNetConfig cfg = HNetConfig.parse(TINY, "tiny");
    for (WeightFormat f : new WeightFormat[] {WeightFormat.INT8, WeightFormat.BF16}) {
      Map<String, float[]> w = Init.weights(cfg, 3);
      HNetForCausalLM lm = new HNetForCausalLM(cfg, new Params(w::get, f, name -> null));
      // 3 rows (2 active: the kernels for few rows) and 6 (5 active: those for 4 rows or more)
      for (int rows : new int[] {3, 6}) {
        double perStep = bytesPerStep(lm, rows, 300, WARMUP_WINDOWS, 8);
        System.out.printf(
            "%s decode step, %d rows: %.1f bytes allocated per step%n", f.label(), rows, perStep);
        assertTrue(
            perStep < 8,
            f.label() + ", " + rows + " rows: " + perStep + " bytes per step; " + sites);
      }
    }
  }

  @Test
  void aTwoStageDecodeStepAllocatesNothing() {
    double perStep =
        bytesPerStep(HNetForCausalLM.load(Golden.dir("2stage")), 3, 300, WARMUP_WINDOWS, 8);
    System.out.printf("2-stage decode step: %.1f bytes allocated per step%n", perStep);
    assertTrue(perStep < 8, perStep + " bytes allocated per decode step; " + sites);
  }

  /**
   * Bytes allocated per training step (forward + backward) on B × L bytes, cycling through {@code
   * batches} batches (their inner lengths differ), the lowest over windows as above.
   */
  static double bytesPerTrainingStep(
      HNetForCausalLM lm, int batches, int B, int L, int steps, int windows, double bound) {
    assumeNative();
    int[][] tokens = new int[batches][], targets = new int[batches][];
    for (int i = 0; i < batches; i++) {
      tokens[i] = text(B * L, 17 * i);
      targets[i] = new int[B * L];
      for (int t = 0; t < B * L; t++) targets[i][t] = (t + 1) % L == 0 ? -1 : tokens[i][t + 1];
    }
    SeqLens seqs = SeqLens.uniform(B, L);
    double[] n = new double[lm.config.numStages() - 1];
    Arrays.fill(n, 3.0);
    org.hnet.train.Objective objective = new org.hnet.train.Objective(lm);
    double best = Double.MAX_VALUE;
    sites = "";
    int round = 0;
    for (; round < windows && best >= bound; round++) {
      long before = Allocations.ofThisThread();
      for (int s = 0; s < steps; s++)
        objective.lossAndGradients(tokens[s % batches], targets[s % batches], seqs, n, 0.03);
      best = Math.min(best, (Allocations.ofThisThread() - before) / (double) steps);
    }
    System.out.printf("training: %d windows of %d steps%n", round, steps);
    if (best >= bound) {
      sites =
          AllocationSites.of(
              () -> {
                for (int s = 0; s < steps; s++)
                  objective.lossAndGradients(
                      tokens[s % batches], targets[s % batches], seqs, n, 0.03);
              });
    }
    return best;
  }

  /**
   * Only the returned Losses (a record and its ratio array) is new; one [T] float array (528 bytes)
   * fails. The batches' inner lengths differ: the inner stage's buffers grow to fit.
   */
  @Test
  void aTrainingStepAllocatesNoArrays() {
    double perStep = bytesPerTrainingStep(tiny(), 3, 2, 64, 20, 40, 256);
    System.out.printf("training step: %.1f bytes allocated per step%n", perStep);
    assertTrue(perStep < 256, perStep + " bytes allocated per training step; " + sites);
  }

  /**
   * The same for two stages, on one batch: stage 1's routing decisions (exactly as long as its
   * sequence, handed to the caller) are new arrays whenever that length changes.
   */
  @Test
  void aTwoStageTrainingStepAllocatesNoArrays() {
    double perStep =
        bytesPerTrainingStep(HNetForCausalLM.load(Golden.dir("2stage")), 1, 2, 64, 20, 40, 256);
    System.out.printf("2-stage training step: %.1f bytes allocated per step%n", perStep);
    assertTrue(perStep < 256, perStep + " bytes allocated per training step; " + sites);
  }

  /**
   * Reused buffers change nothing: after other batches, a step's gradients equal a fresh model's,
   * bit for bit.
   */
  @Test
  void aTrainingStepOnReusedBuffersEqualsOneOnFreshBuffers() {
    HNetForCausalLM used = HNetForCausalLM.load(Golden.dir("2stage")),
        fresh = HNetForCausalLM.load(Golden.dir("2stage"));
    int B = 2, L = 64;
    SeqLens seqs = SeqLens.uniform(B, L);
    double[] n = new double[used.config.numStages() - 1];
    Arrays.fill(n, 3.0);
    org.hnet.train.Objective usedObjective = new org.hnet.train.Objective(used);
    org.hnet.train.Objective.Losses last = null;
    for (int i = 0; i < 3; i++) { // batches of different inner lengths, the last one measured
      int[] tokens = text(B * L, 31 * i), targets = new int[B * L];
      for (int t = 0; t < B * L; t++) targets[t] = (t + 1) % L == 0 ? -1 : tokens[t + 1];
      for (Param p : used.parameters.values()) if (p.grad != null) Arrays.fill(p.grad, 0f);
      last = usedObjective.lossAndGradients(tokens, targets, seqs, n, 0.03);
      if (i == 2) {
        org.hnet.train.Objective.Losses want =
            new org.hnet.train.Objective(fresh).lossAndGradients(tokens, targets, seqs, n, 0.03);
        assertTrue(want.total() == last.total(), want.total() + " vs " + last.total());
        assertArrayEquals(want.output().logits(), last.output().logits(), 0f);
        for (String name : fresh.parameters.keySet()) {
          assertArrayEquals(
              fresh.parameters.get(name).grad, used.parameters.get(name).grad, 0f, name);
        }
      }
    }
  }
}
