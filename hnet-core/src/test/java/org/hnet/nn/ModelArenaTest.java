package org.hnet.nn;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.hnet.config.HNetConfig;
import org.hnet.tensor.Arena;
import org.hnet.testing.RestoreThreads;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The model's use of arenas: an inference pass holds one block's buffers at a time, and the kernels
 * leave their thread's arena idle.
 */
@ExtendWith(RestoreThreads.class)
class ModelArenaTest {
  /**
   * Every kernel returns what it takes from its thread's arena, also when it fails: a training step
   * and a decode step on one thread leave it idle.
   */
  @Test
  void theKernelsLeaveTheirThreadsArenaIdle() {
    org.hnet.kernels.Parallel.setThreads(1);
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
