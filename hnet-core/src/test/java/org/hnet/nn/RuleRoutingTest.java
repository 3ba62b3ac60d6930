package org.hnet.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.hnet.HNetException;
import org.hnet.config.HNetConfig;
import org.hnet.config.RouterSpec;
import org.hnet.train.Objective;
import org.junit.jupiter.api.Test;

/**
 * The baselines' rule-based chunking (fixed stride, SpaceByte's spacelike bytes): the config field,
 * the boundaries, training through them, and decoding equal to the parallel forward.
 */
class RuleRoutingTest {
  static HNetConfig config(String routingMode) {
    return HNetConfig.parse(
        """
        {"arch_layout": ["m1", ["T1"], "m1"], "d_model": [32, 48], "d_intermediate": [0, 96],
         "ssm_cfg": {"d_state": 8, "expand": 2, "chunk_size": 16, "d_conv": 4},
         "attn_cfg": {"num_heads": [2, 2], "rotary_emb_dim": [8, 8], "window_size": [-1, -1]},
         "routing_mode": [%s]}
        """
            .formatted(routingMode),
        "rule.json");
  }

  static HNetForCausalLM model(HNetConfig cfg) {
    java.util.Map<String, float[]> w = Init.weights(cfg, 1);
    return new HNetForCausalLM(cfg, new Params(w::get));
  }

  static int[] bytes(String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    int[] t = new int[b.length];
    for (int i = 0; i < b.length; i++) t[i] = b[i] & 0xff;
    return t;
  }

  @Test
  void theConfigFieldRoundTripsAndRuleStagesHaveNoRoutingWeights() {
    HNetConfig fixed = config("\"fixed:4\"");
    assertEquals(RouterSpec.fixed(4), fixed.stage(0).router());
    assertEquals(fixed.toJson(), HNetConfig.parse(fixed.toJson(), "again").toJson());
    assertTrue(
        fixed.toJson().replaceAll("\\s", "").contains("\"routing_mode\":[\"fixed:4\"]"),
        fixed.toJson());
    assertFalse(
        fixed.parameterShapes().keySet().stream().anyMatch(n -> n.contains("routing_module")));
    HNetConfig learned = config("\"learned\"");
    assertFalse(learned.toJson().contains("routing_mode"), "official files stay as they are");
    assertEquals(
        2L * 32 * 32, learned.parameterCount() - fixed.parameterCount(), "q_proj and k_proj");
    for (String bad : new String[] {"\"fixed:0\"", "\"fixed:x\"", "\"spaces\"", "4", ""}) {
      HNetException e = assertThrows(HNetException.class, () -> config(bad), bad);
      assertTrue(e.getMessage().contains("routing_mode"), e.getMessage());
    }
    assertTrue(fixed.layerTree().contains("a boundary every 4 positions"), fixed.layerTree());
  }

  @Test
  void fixedAndSpaceBoundariesFollowTheirRule() {
    int[] text = bytes("ab cd, é漢x"); // é and 漢 are multi-byte: their first byte is spacelike
    int[] two = new int[text.length * 2];
    System.arraycopy(text, 0, two, 0, text.length);
    System.arraycopy(text, 0, two, text.length, text.length);
    SeqLens seqs = new SeqLens(new int[] {0, text.length, 2 * text.length});
    HNetForCausalLM.Output f = model(config("\"fixed:3\"")).forward(two, seqs);
    HNetForCausalLM.Output s = model(config("\"space\"")).forward(two, seqs);
    boolean[] fm = f.routing().get(0).boundaryMask(), sm = s.routing().get(0).boundaryMask();
    for (int t = 0; t < two.length; t++) {
      int pos = t % text.length;
      assertEquals(pos % 3 == 0, fm[t], "fixed at " + t);
      assertEquals(pos == 0 || RouterSpec.spacelike(two[t]), sm[t], "space at " + t);
      float p = f.routing().get(0).boundaryProb()[t];
      assertEquals(fm[t] ? 1f : 0f, p);
      assertEquals(1f, f.routing().get(0).selectedProbs()[t]);
    }
    // " ", ",", " ", the first bytes of é and 漢 start chunks; letters and continuation bytes do not
    assertArrayEquals(
        new boolean[] {
          true, false, true, false, false, true, true, true, false, true, false, false, false
        },
        Arrays.copyOf(sm, text.length));
  }

  @Test
  void aRuleStageTrainsWithoutARatioLossAndDecodesAsItsForward() {
    for (String mode : new String[] {"\"fixed:3\"", "\"space\""}) {
      HNetConfig cfg = config(mode);
      HNetForCausalLM lm = model(cfg);
      int[] row = bytes("Call me Ishmael. Some years ago, never mind how long precisely.");
      int[] tokens = Arrays.copyOf(row, row.length - 1);
      int[] targets = Arrays.copyOfRange(row, 1, row.length);
      Objective.Losses l =
          new Objective(lm)
              .lossAndGradients(
                  tokens, targets, SeqLens.uniform(1, tokens.length), new double[] {4}, 0.5);
      assertEquals(0.0, l.ratio()[0], mode);
      assertEquals(l.ce(), l.total(), 0, mode);
      double norm = 0;
      for (Param p : lm.parameters.values())
        if (p.grad != null) for (float g : p.grad) norm += g * g;
      assertTrue(norm > 0 && Double.isFinite(norm), mode + ": gradients flow");
      HNetForCausalLM.Output full = lm.forward(row, SeqLens.uniform(1, row.length));
      for (int k : new int[] {1, 5, 17}) {
        StepTest.Decoded d = StepTest.decode(lm, new int[][] {row}, new int[] {k});
        assertTrue(
            Golden.maxAbsDiff(full.logits(), d.logits()[0]) <= 1e-4f, mode + " prefill " + k);
        boolean[] m = full.routing().get(0).boundaryMask();
        assertEquals(StepTest.flags(m, 0, m.length), d.boundaries()[0].get(0), mode);
      }
    }
  }
}
