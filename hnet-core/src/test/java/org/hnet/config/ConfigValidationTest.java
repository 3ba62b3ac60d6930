package org.hnet.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.hnet.HNetException;
import org.junit.jupiter.api.Test;

/** One test per rejected input: each message is one line naming the source and the field. */
class ConfigValidationTest {
  /** A valid 2-stage config; the tests each break one thing in it. */
  private static final String BASE =
      """
      {
        "arch_layout": ["m1", ["T1m1", ["T2"], "m1T1"], "m1"],
        "d_model": [64, 64, 96],
        "d_intermediate": [0, 128, 192],
        "vocab_size": 256,
        "ssm_cfg": {"chunk_size": 32, "d_conv": 4, "d_state": 16, "expand": 2},
        "attn_cfg": {"num_heads": [2, 2, 4], "rotary_emb_dim": [8, 16, 16],
                     "window_size": [-1, 7, -1]},
        "tie_embeddings": false
      }
      """;

  private static String with(String from, String to) {
    assertTrue(BASE.contains(from), "test setup: " + from);
    return BASE.replace(from, to);
  }

  /** Parses, expects failure, and checks the message is one line with source and fragments. */
  private static String fails(String json, String... fragments) {
    HNetException e = assertThrows(HNetException.class, () -> HNetConfig.parse(json, "cfg.json"));
    String m = e.getMessage();
    assertTrue(m.startsWith("cfg.json: "), m);
    assertFalse(m.contains("\n"), m);
    for (String f : fragments) {
      assertTrue(m.contains(f), "message lacks '" + f + "': " + m);
    }
    return m;
  }

  @Test
  void baseParses() {
    HNetConfig c = HNetConfig.parse(BASE, "cfg.json");
    assertEquals(3, c.numStages());
    assertEquals(7, c.stage(1).attn().windowSize());
  }

  @Test
  void unknownLayerLetter() {
    fails(with("\"m1T1\"", "\"m1x3\""), "arch_layout[1][2]", "unknown layer letter 'x'");
  }

  @Test
  void letterWithoutCount() {
    fails(with("[\"T2\"]", "[\"T\"]"), "arch_layout[1][1][0]", "no layer count");
  }

  @Test
  void zeroLayerCount() {
    fails(with("\"T1m1\"", "\"T1m0\""), "arch_layout[1][0]", "must be >= 1");
  }

  @Test
  void emptyLayoutString() {
    fails(with("\"m1\"]", "\"\"]"), "arch_layout[2]", "empty");
  }

  @Test
  void hugeLayerCount() {
    fails(with("[\"T2\"]", "[\"T99999999999999\"]"), "arch_layout[1][1][0]", "more than");
  }

  @Test
  void layoutEntryNotAString() {
    fails(with("\"m1T1\"", "4"), "arch_layout[1][2]", "layout string");
  }

  @Test
  void badNesting() {
    fails(with("[\"T2\"]", "[\"T2\", \"m1\"]"), "arch_layout[1][1]", "list of 2 entries");
    fails(with("[\"T2\"]", "\"T2\""), "arch_layout[1][1] must be a list");
  }

  @Test
  void dModelLengthMismatch() {
    fails(with("[64, 64, 96]", "[64, 96]"), "d_model has 2 entries but arch_layout has 3 stages");
  }

  @Test
  void dIntermediateLengthMismatch() {
    fails(with("[0, 128, 192]", "[0, 128, 192, 5]"), "d_intermediate has 4 entries");
  }

  @Test
  void perStageAttnListLengthMismatch() {
    fails(
        with("[2, 2, 4]", "[2, 4]"),
        "attn_cfg.num_heads has 2 entries but arch_layout has 3 stages");
  }

  @Test
  void perStageSsmListLengthMismatch() {
    fails(with("\"d_state\": 16", "\"d_state\": [16]"), "ssm_cfg.d_state has 1 entry");
  }

  @Test
  void dModelNotDivisibleByHeads() {
    fails(with("[2, 2, 4]", "[2, 2, 5]"), "d_model[2] = 96", "attn_cfg.num_heads = 5");
  }

  @Test
  void headsOnlyMatterWhereAttentionIsUsed() {
    // Stage 0 has only Mamba blocks, so 5 heads (64 % 5 != 0) are never used and not an error.
    HNetConfig.parse(with("[2, 2, 4]", "[5, 2, 4]"), "cfg.json");
  }

  @Test
  void mambaInnerNotMultipleOf64() {
    fails(
        with("\"expand\": 2", "\"expand\": [2, 2, 1]").replace("\"T2\"", "\"m1T1\""),
        "ssm_cfg.expand * d_model[2]",
        "multiple of 64");
  }

  @Test
  void rotaryOdd() {
    fails(with("[8, 16, 16]", "[8, 15, 16]"), "attn_cfg.rotary_emb_dim = 15 (stage 1)", "even");
  }

  @Test
  void rotaryLargerThanHeadDim() {
    fails(with("[8, 16, 16]", "[8, 34, 16]"), "attn_cfg.rotary_emb_dim = 34", "head dim 32");
  }

  @Test
  void decreasingDModel() {
    fails(with("[64, 64, 96]", "[64, 64, 32]"), "d_model[2] = 32", "must not decrease");
  }

  @Test
  void dModelNotMultipleOf32AtOuterStage() {
    fails(
        with("[64, 64, 96]", "[64, 80, 96]").replace("[2, 2, 4]", "[2, 4, 4]"),
        "d_model[1] = 80",
        "multiple of 32");
  }

  @Test
  void mlpBlockWithoutIntermediate() {
    fails(with("[0, 128, 192]", "[0, 0, 192]"), "d_intermediate[1] is 0", "'T'");
  }

  @Test
  void nonPositiveValues() {
    fails(with("[64, 64, 96]", "[0, 64, 96]"), "d_model[0] must be in [1, 1048576], got 0");
    fails(with("[0, 128, 192]", "[-1, 128, 192]"), "d_intermediate[0] must be in [0, 4194304]");
    fails(with("\"d_conv\": 4", "\"d_conv\": 0"), "ssm_cfg.d_conv must be in [1, 1024]");
    fails(with("[2, 2, 4]", "[2, 0, 4]"), "attn_cfg.num_heads[1] must be in [1, 1048576]");
    fails(with("[-1, 7, -1]", "[-1, -2, -1]"), "attn_cfg.window_size[1]");
  }

  @Test
  void vocabSizeNotPositive() {
    fails(with("\"vocab_size\": 256", "\"vocab_size\": 0"), "vocab_size must be in [1, 16777216]");
  }

  @Test
  void wrongJsonTypes() {
    fails(with("[64, 64, 96]", "[64, \"64\", 96]"), "d_model[1] must be an integer, got a string");
    fails(with("[64, 64, 96]", "[64, 64.5, 96]"), "d_model[1] must be an integer");
    fails(with("\"vocab_size\": 256", "\"vocab_size\": 1e12"), "vocab_size must be an integer");
    fails(with("\"tie_embeddings\": false", "\"tie_embeddings\": 0"), "tie_embeddings");
    fails(with("[64, 64, 96]", "64"), "d_model must be a list");
    fails(
        with("{\"chunk_size\": 32", "[{\"chunk_size\": 32")
            .replace("\"expand\": 2}", "\"expand\": 2}]"),
        "ssm_cfg must be an object");
    fails("[1, 2]", "top level must be a JSON object");
  }

  @Test
  void unknownFields() {
    fails(with("\"vocab_size\"", "\"n_layers\": 3, \"vocab_size\""), "unknown field n_layers");
    fails(with("\"d_conv\"", "\"headdim\": 64, \"d_conv\""), "unknown field ssm_cfg.headdim");
    fails(with("\"window_size\"", "\"causal\": true, \"window_size\""), "attn_cfg.causal");
  }

  @Test
  void missingRequiredFields() {
    fails(BASE.replaceFirst("\"arch_layout\": [^\\n]*\\n", ""), "arch_layout is missing");
    fails(with("\"d_model\": [64, 64, 96],", ""), "d_model is missing");
    fails(with("\"d_intermediate\": [0, 128, 192],", ""), "d_intermediate is missing");
    fails(with("\"num_heads\": [2, 2, 4], ", ""), "attn_cfg.num_heads is missing");
  }

  @Test
  void optionalFieldsTakeReferenceDefaults() {
    String json =
        """
        {"arch_layout": ["T2"], "d_model": [64], "d_intermediate": [128],
         "attn_cfg": {"num_heads": 4}}
        """;
    HNetConfig c = HNetConfig.parse(json, "cfg.json");
    assertEquals(256, c.vocabSize());
    assertFalse(c.tieEmbeddings());
    assertEquals(SsmConfig.DEFAULT, c.stage(0).ssm());
    assertEquals(new AttnConfig(4, 0, -1), c.stage(0).attn());
  }

  @Test
  void malformedJson() {
    fails("{\"arch_layout\": [\"m1\",", "invalid JSON", "line 1");
    fails(
        with("\"vocab_size\": 256", "\"vocab_size\": 256, \"vocab_size\": 256"),
        "invalid JSON",
        "vocab_size");
  }

  @Test
  void unreadableFileNamesThePath() {
    Path missing = Path.of("no-such-dir", "config.json");
    HNetException e = assertThrows(HNetException.class, () -> HNetConfig.parse(missing));
    assertEquals(missing + ": no such file", e.getMessage());
  }

  @Test
  void errorsFromAFileNameTheFile() {
    Path p = TestFiles.resource("configs/official/hnet_1stage_L.json");
    HNetConfig ok = HNetConfig.parse(p);
    assertEquals(2, ok.numStages());
  }

  @Test
  void programmaticConstructionIsValidatedToo() {
    HNetConfig c = HNetConfig.parse(BASE, "cfg.json");
    List<StageConfig> st = c.stages();
    HNetException e =
        assertThrows(
            HNetException.class, () -> new HNetConfig(List.of(st.get(1), st.get(0)), 256, false));
    assertTrue(e.getMessage().startsWith("HNetConfig: "), e.getMessage());
    assertThrows(HNetException.class, () -> new HNetConfig(st, 0, false));
  }
}
