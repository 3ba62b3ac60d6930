package org.hnet.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.hnet.train.Objective;
import org.junit.jupiter.api.Test;

/**
 * Modules keep no per-call state: forwards on one model from several threads at once, and a
 * training step beside them, give exactly what they give alone.
 */
class ReentrancyTest {
  @Test
  void concurrentForwardsAndATrainingStepEqualTheirRunsAlone() throws Exception {
    HNetForCausalLM lm = HNetForCausalLM.load(Golden.dir("2stage"));
    int L = 96;
    int[] a = ModelAllocationTest.text(L, 0), b = ModelAllocationTest.text(L, 41);
    SeqLens seqs = SeqLens.uniform(1, L);
    float[] wantA = lm.forward(a, seqs).logits().clone(),
        wantB = lm.forward(b, seqs).logits().clone();
    int[] targets = new int[L];
    for (int t = 0; t + 1 < L; t++) targets[t] = a[t + 1];
    targets[L - 1] = -1;
    double wantLoss =
        new Objective(HNetForCausalLM.load(Golden.dir("2stage")))
            .lossAndGradients(a, targets, seqs, new double[] {3, 3}, 0.03)
            .total();

    ExecutorService pool = Executors.newFixedThreadPool(3);
    try {
      List<Future<?>> jobs = new ArrayList<>();
      for (int[] input : new int[][] {a, b}) {
        float[] want = input == a ? wantA : wantB;
        jobs.add(
            pool.submit(
                (Callable<Void>)
                    () -> {
                      for (int i = 0; i < 12; i++)
                        assertArrayEquals(want, lm.forward(input, seqs).logits(), 0f);
                      return null;
                    }));
      }
      jobs.add(
          pool.submit(
              (Callable<Void>)
                  () -> {
                    Objective objective = new Objective(lm);
                    for (int i = 0; i < 4; i++) {
                      for (Param p : lm.parameters.values())
                        if (p.grad != null) java.util.Arrays.fill(p.grad, 0f);
                      assertEquals(
                          wantLoss,
                          objective
                              .lossAndGradients(a, targets, seqs, new double[] {3, 3}, 0.03)
                              .total(),
                          0);
                    }
                    return null;
                  }));
      for (Future<?> f : jobs) f.get();
    } finally {
      pool.shutdownNow();
    }
  }
}
