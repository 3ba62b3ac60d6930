package org.hnet.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** FLOPs per byte by hand for small layouts, and how they scale with compression and context. */
class FlopCountTest {
  static final String SSM =
      "\"ssm_cfg\": {\"d_state\": 8, \"expand\": 2, \"chunk_size\": 16, \"d_conv\": 4}";

  @Test
  void anIsotropicTransformerByHand() {
    HNetConfig t =
        HNetConfig.parse(
            "{\"arch_layout\": [\"T1\"], \"d_model\": [64], \"d_intermediate\": [128], "
                + SSM
                + ", \"attn_cfg\": {\"num_heads\": [2], \"rotary_emb_dim\": [16], \"window_size\": [-1]}}",
            "t.json");
    int d = 64, h = 128, V = 256, L = 100;
    double perPos =
        2.0 * d * 3 * d + 2.0 * d * d + 4.0 * d * (L + 1) / 2.0 + 2.0 * d * 2 * h + 2.0 * h * d;
    double want = perPos + 2.0 * d * V;
    assertEquals(want, FlopCount.forwardPerByte(t, new double[0], L), 1e-6);
    assertEquals(3 * want, FlopCount.trainingPerByte(t, new double[0], L), 1e-6);
    // a window caps the keys: each position sees at most w + 1
    assertEquals(50.5, FlopCount.meanKeys(100, -1), 1e-12);
    assertEquals((1 + 2 + 3 + 4 * 97) / 100.0, FlopCount.meanKeys(100, 3), 1e-12);
  }

  @Test
  void anHNetsInnerLevelCostsInProportionToItsPositions() {
    String body =
        "\"arch_layout\": [\"m1\", [\"T2\"], \"m1\"], \"d_model\": [32, 64], \"d_intermediate\": [0, 128], "
            + SSM
            + ", \"attn_cfg\": {\"num_heads\": [2, 2], \"rotary_emb_dim\": [8, 8], \"window_size\": [-1, -1]}";
    HNetConfig learned = HNetConfig.parse("{" + body + "}", "h.json");
    HNetConfig fixed =
        HNetConfig.parse("{" + body + ", \"routing_mode\": [\"fixed:4\"]}", "f.json");
    int L = 512;
    double f4 = FlopCount.forwardPerByte(learned, new double[] {4}, L);
    double f8 = FlopCount.forwardPerByte(learned, new double[] {8}, L);
    StageConfig inner = learned.stage(1);
    double innerPerPos =
        FlopCount.block(inner, BlockSpec.ATTENTION_MLP, L / 4.0)
            * 2; // two T blocks at 128 positions
    double innerPerPos8 = FlopCount.block(inner, BlockSpec.ATTENTION_MLP, L / 8.0) * 2;
    assertEquals(innerPerPos / 4 - innerPerPos8 / 8, f4 - f8, 1e-6, "only the inner level changes");
    assertEquals(
        4.0 * 32 * 32,
        f4 - FlopCount.forwardPerByte(fixed, new double[] {4}, L),
        1e-6,
        "a rule-based twin saves the router's projections only");
    assertTrue(FlopCount.format(1.234e6).equals("1.23 MFLOP"), FlopCount.format(1.234e6));
  }
}
