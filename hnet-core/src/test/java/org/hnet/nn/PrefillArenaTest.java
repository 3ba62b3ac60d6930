package org.hnet.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.hnet.config.HNetConfig;
import org.junit.jupiter.api.Test;

/**
 * Prefills run on the model's kept arena (its buffers hold whatever the last prefill left): results
 * equal a fresh model's bit for bit whatever came before, what a prefill returns is not touched by
 * the next one, and concurrent prefills (one of them on an arena of its own) agree.
 */
class PrefillArenaTest {
  static final String TWO_STAGE =
      """
      {"arch_layout": ["m1", ["T1m1", ["T1"], "m1"], "m1"], "d_model": [32, 64, 96],
       "d_intermediate": [0, 128, 192],
       "ssm_cfg": {"d_state": 8, "expand": 2, "chunk_size": 16, "d_conv": 4},
       "attn_cfg": {"num_heads": [2, 2, 2], "rotary_emb_dim": [8, 8, 16], "window_size": [-1, 7, -1]}}
      """;

  static HNetForCausalLM model(String json, int seed) {
    HNetConfig cfg = HNetConfig.parse(json, "test");
    Map<String, float[]> w = Init.weights(cfg, seed);
    return new HNetForCausalLM(cfg, new Params(w::get));
  }

  /** The prompts' logits, routing decisions, and the logits of 4 steps after them, as one list. */
  static List<Object> prefillAndStep(HNetForCausalLM lm, int[] lengths, int seed) {
    int rows = lengths.length, total = Arrays.stream(lengths).sum();
    int[] cu = new int[rows + 1];
    for (int i = 0; i < rows; i++) cu[i + 1] = cu[i] + lengths[i];
    int[] ids = ModelAllocationTest.text(total, seed);
    HNetForCausalLM.Cache cache = lm.allocate(rows, 64 + 8);
    HNetForCausalLM.Output out = lm.prefill(ids, new SeqLens(cu), cache);
    List<Object> got = new ArrayList<>();
    got.add(out.logits().clone());
    for (RoutingModule.Output r : out.routing()) {
      got.add(r.boundaryProb().clone());
      got.add(r.boundaryMask().clone());
      got.add(r.seqs().cu().clone());
    }
    boolean[] active = new boolean[rows];
    Arrays.fill(active, true);
    int[] tok = new int[rows];
    for (int t = 0; t < 4; t++) {
      for (int r = 0; r < rows; r++) tok[r] = 'a' + (t * 7 + r * 3 + seed) % 26;
      got.add(lm.step(tok, cache, active).logits().clone());
    }
    return got;
  }

  static void assertSame(List<Object> want, List<Object> got, String what) {
    assertEquals(want.size(), got.size(), what);
    for (int i = 0; i < want.size(); i++) {
      Object a = want.get(i), b = got.get(i);
      if (a instanceof float[] fa) assertArrayEquals(fa, (float[]) b, what + ", item " + i);
      else if (a instanceof boolean[] ba)
        assertArrayEquals(ba, (boolean[]) b, what + ", item " + i);
      else assertArrayEquals((int[]) a, (int[]) b, what + ", item " + i);
    }
  }

  @Test
  void aPrefillAfterOthersEqualsAFreshModelsFirst() {
    for (String json : new String[] {ModelAllocationTest.TINY, TWO_STAGE}) {
      HNetForCausalLM kept = model(json, 5);
      // longer, shorter, more rows, fewer: every buffer holds a different earlier prefill's values
      int[][] shapes = {{40, 17}, {64}, {5, 33, 12}, {1}, {40, 17}, {9, 9, 9, 9}};
      for (int s = 0; s < shapes.length; s++) {
        List<Object> want = prefillAndStep(model(json, 5), shapes[s], s);
        assertSame(
            want,
            prefillAndStep(kept, shapes[s], s),
            "prefill " + s + " " + Arrays.toString(shapes[s]));
      }
    }
  }

  @Test
  void whatAPrefillReturnedOutlivesTheNextPrefill() {
    HNetForCausalLM lm = model(TWO_STAGE, 2);
    int[] ids = ModelAllocationTest.text(50, 1);
    HNetForCausalLM.Output first = lm.prefill(ids, SeqLens.uniform(1, 50), lm.allocate(1, 50));
    float[] logits = first.logits().clone();
    float[] p0 = first.routing().get(0).boundaryProb().clone();
    boolean[] m1 = first.routing().get(1).boundaryMask().clone();
    int[] cu1 = first.routing().get(1).seqs().cu().clone();
    lm.prefill(ModelAllocationTest.text(50, 9), SeqLens.uniform(1, 50), lm.allocate(1, 50));
    assertArrayEquals(logits, first.logits());
    assertArrayEquals(p0, first.routing().get(0).boundaryProb());
    assertArrayEquals(m1, first.routing().get(1).boundaryMask());
    assertArrayEquals(cu1, first.routing().get(1).seqs().cu());
  }

  @Test
  void concurrentPrefillsAgreeWithAFreshModel() throws Exception {
    HNetForCausalLM shared = model(TWO_STAGE, 4);
    int[][] shapes = {{30, 11}, {64}, {7, 20, 3}};
    List<List<Object>> want = new ArrayList<>();
    for (int s = 0; s < shapes.length; s++)
      want.add(prefillAndStep(model(TWO_STAGE, 4), shapes[s], s));
    ExecutorService pool = Executors.newFixedThreadPool(3);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int th = 0; th < 3; th++) {
        int first = th;
        done.add(
            pool.submit(
                (Callable<Void>)
                    () -> {
                      for (int i = 0; i < 12; i++) {
                        int s = (first + i) % shapes.length;
                        assertSame(
                            want.get(s),
                            prefillAndStep(shared, shapes[s], s),
                            "thread " + first + " call " + i);
                      }
                      return null;
                    }));
      }
      for (Future<?> f : done) f.get();
    } finally {
      pool.shutdown();
    }
  }
}
