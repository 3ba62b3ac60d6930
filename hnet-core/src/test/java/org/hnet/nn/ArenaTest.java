package org.hnet.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.hnet.config.HNetConfig;
import org.hnet.tensor.Arena;
import org.junit.jupiter.api.Test;

/**
 * The arena hands out buffers by order of request: a repeated computation gets the same arrays, a
 * release hands the released ones out again and nothing before the mark, and an inference pass
 * holds one block's activations at a time.
 */
class ArenaTest {
  @Test
  void theSameRequestsAfterAResetGetTheSameArrays() {
    Arena w = new Arena();
    float[] a = w.floats(10), b = w.floats(20);
    int[] i = w.ints(3);
    float[] e = w.exactFloats(7);
    w.reset();
    assertSame(a, w.floats(10));
    assertSame(b, w.floats(5)); // smaller fits
    assertSame(i, w.ints(3));
    assertSame(e, w.exactFloats(7));
    w.reset();
    w.floats(10);
    float[] grown = w.floats(40); // too small: replaced, with headroom
    assertNotSame(b, grown);
    assertTrue(grown.length >= 40);
    w.reset();
    w.floats(10);
    assertSame(grown, w.floats(40));
  }

  @Test
  void aReleaseHandsOutAgainOnlyWhatCameAfterTheMark() {
    Arena w = new Arena();
    float[] kept = w.floats(8);
    int m = w.mark();
    float[] x = w.floats(8), y = w.floats(8);
    int inner = w.mark();
    float[] z = w.floats(8);
    w.release(m); // also releases the inner mark
    assertThrows(IllegalStateException.class, () -> w.release(inner));
    float[] again = w.floats(8);
    assertSame(x, again);
    assertNotSame(kept, again);
    assertSame(y, w.floats(8));
    assertSame(z, w.floats(8));
  }

  @Test
  void outputsHaveTheirExactLengthAndSurviveReleases() {
    Arena w = new Arena();
    int m = w.mark();
    float[] p = w.exactFloats(5);
    boolean[] b = w.exactBools(5);
    w.release(m);
    assertNotSame(p, w.exactFloats(5));
    assertNotSame(b, w.exactBools(5));
    w.reset();
    assertSame(p, w.exactFloats(5));
    float[] six = w.exactFloats(6); // the next place in the order, new
    assertEquals(6, six.length);
    w.reset();
    w.exactFloats(5);
    assertSame(six, w.exactFloats(6));
    w.reset();
    assertEquals(3, w.exactFloats(3).length); // a length change reallocates
  }

  static final class A {}

  static final class B {}

  @Test
  void objectsKeepAnOrderPerClass() {
    Arena w = new Arena();
    A a1 = w.object(A.class, A::new);
    B b1 = w.object(B.class, B::new);
    A a2 = w.object(A.class, A::new);
    assertNotSame(a1, a2);
    w.reset();
    assertSame(a1, w.object(A.class, A::new));
    assertSame(a2, w.object(A.class, A::new)); // no B asked for this time: A's order unchanged
    assertSame(b1, w.object(B.class, B::new));
    var v = w.views(2);
    w.reset();
    assertSame(v, w.views(2));
    assertTrue(w.views(3).length >= 3);
  }

  @Test
  void anArenaOfFreshOutputsKeepsItsWorkArraysOnly() {
    Arena w = Arena.freshOutputs();
    float[] a = w.floats(4), p = w.exactFloats(4);
    A o = w.object(A.class, A::new);
    w.reset();
    assertSame(a, w.floats(4));
    assertNotSame(p, w.exactFloats(4));
    assertNotSame(o, w.object(A.class, A::new));
  }

  @Test
  void doublesAndHoldersFollowTheSameRules() {
    Arena w = new Arena();
    int m = w.mark();
    double[] d = w.doubles(6);
    w.release(m);
    assertSame(d, w.doubles(3));
    assertSame(w.holder(A.class, A::new), w.holder(A.class, A::new));
    w.reset();
    assertTrue(w.idle());
  }

  /**
   * Every kernel returns what it takes from its thread's arena, also when it fails: a training step
   * and a decode step on one thread leave it idle.
   */
  @Test
  void theKernelsLeaveTheirThreadsArenaIdle() {
    int threads = org.hnet.kernels.Parallel.threads();
    org.hnet.kernels.Parallel.setThreads(1);
    try {
      HNetForCausalLM lm = model(2);
      int T = 64;
      int[] ids = ModelAllocationTest.text(T, 2), targets = new int[T];
      for (int t = 0; t < T; t++) targets[t] = t + 1 < T ? ids[t + 1] : -1;
      new org.hnet.train.Objective(lm)
          .lossAndGradients(ids, targets, SeqLens.uniform(2, T / 2), new double[] {4}, 0.03);
      assertTrue(Arena.local().idle(), "after a training step");
      HNetForCausalLM.Cache c = lm.allocate(2, 16);
      lm.prefill(new int[] {'a', 'b', 'c', 'd'}, SeqLens.uniform(2, 2), c);
      lm.step(new int[] {'e', 'f'}, c, new boolean[] {true, true});
      assertTrue(Arena.local().idle(), "after a prefill and a decode step");
      float[] small = new float[4];
      assertThrows(
          RuntimeException.class,
          () ->
              org.hnet.kernels.Matmul.linearGemm(
                  small, 0, small, 0, small, 0, null, 0, 3, 3, 3)); // arrays too short
      assertTrue(Arena.local().idle(), "after a kernel that failed");
    } finally {
      org.hnet.kernels.Parallel.setThreads(threads);
    }
  }

  /** A model whose encoder and decoder have {@code layers} Mamba-2 layers each. */
  static HNetForCausalLM model(int layers) {
    String json =
        """
        {"arch_layout": ["m%d", ["T1"], "m%d"], "d_model": [32, 48], "d_intermediate": [0, 96],
         "ssm_cfg": {"d_state": 8, "expand": 2, "chunk_size": 16, "d_conv": 4},
         "attn_cfg": {"num_heads": [2, 2], "rotary_emb_dim": [8, 8], "window_size": [-1, -1]}}
        """
            .formatted(layers, layers);
    HNetConfig cfg = HNetConfig.parse(json, "test");
    Map<String, float[]> w = Init.weights(cfg, 3);
    return new HNetForCausalLM(cfg, new Params(w::get));
  }

  /** The bytes a prefill of 1 × T leaves in the model's prefill arena. */
  static long prefillBytes(HNetForCausalLM lm, int T) {
    lm.prefill(ModelAllocationTest.text(T, 1), SeqLens.uniform(1, T), lm.allocate(1, T));
    var field = lm.getClass();
    try {
      var f = field.getDeclaredField("prefillArena");
      f.setAccessible(true);
      return ((Arena) f.get(lm)).bytes();
    } catch (ReflectiveOperationException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void anInferencePassHoldsOneBlockAtATime() {
    long two = prefillBytes(model(2), 256), eight = prefillBytes(model(8), 256);
    // with every block's activations kept, 8 layers a side would hold ~3.5× what 2 hold
    assertTrue(eight < 1.1 * two, "2 layers: " + two + " bytes, 8 layers: " + eight);
  }
}
