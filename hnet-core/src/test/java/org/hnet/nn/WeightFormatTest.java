package org.hnet.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.Set;
import org.hnet.config.HNetConfig;
import org.junit.jupiter.api.Test;

/** What the config says a model holds in each format, against the loaded models themselves. */
class WeightFormatTest {
  @Test
  void theConfigNamesTheCompactWeightsAndTheBytesEachFormatHolds() {
    for (String c : Golden.CASES) {
      for (WeightFormat f : WeightFormat.values()) {
        HNetForCausalLM lm = HNetForCausalLM.load(Golden.dir(c), f);
        Set<String> compact = new LinkedHashSet<>();
        long[] held = new long[lm.config.numStages() + 1];
        Set<Param> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Param p : lm.parameters.values()) {
          if (!seen.add(p)) continue; // a tied lm_head is the embeddings' tensor
          if (p.compact != null) compact.add(p.name);
          held[p.stage + 1] += p.bytes();
        }
        String what = c + " " + f.label();
        assertEquals(f == WeightFormat.F32 ? Set.of() : lm.config.productWeights(), compact, what);
        assertArrayEquals(held, f.bytesPerStage(lm.config), what);
      }
    }
  }

  @Test
  void float32HoldsFourBytesPerParameterTiedOrNot() {
    for (boolean tied : new boolean[] {false, true}) {
      HNetConfig cfg =
          HNetConfig.parse(
              """
              {"arch_layout": ["m1", ["T1"], "m1"], "d_model": [64, 96],
               "d_intermediate": [0, 128], "vocab_size": 256,
               "ssm_cfg": {"chunk_size": 32, "d_conv": 4, "d_state": 16, "expand": 2},
               "attn_cfg": {"num_heads": [2, 4], "rotary_emb_dim": [8, 16],
                            "window_size": [-1, -1]},
               "tie_embeddings": %b}
              """
                  .formatted(tied),
              "test");
      long sum = 0;
      for (long b : WeightFormat.F32.bytesPerStage(cfg)) sum += b;
      assertEquals(4 * cfg.parameterCount(), sum, "tied " + tied);
      long[] int8 = WeightFormat.INT8.bytesPerStage(cfg);
      long[] f32 = WeightFormat.F32.bytesPerStage(cfg);
      assertEquals(f32[0], int8[0], "embeddings and LM head stay float32");
      for (int s = 1; s < f32.length; s++) assertTrue(int8[s] < f32[s] / 2, "stage " + s);
      // a step reads the LM head, one embedding row, and each stage in the share it runs
      double head = 4.0 * (256 * 64 + 64);
      assertEquals(
          head + int8[1] + int8[2] / 4.0,
          WeightFormat.INT8.bytesPerStep(cfg, new double[] {1, 0.25}),
          1e-6);
      assertThrows(
          IllegalArgumentException.class,
          () -> WeightFormat.F32.bytesPerStep(cfg, new double[] {1}));
    }
  }
}
