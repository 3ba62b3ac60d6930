package org.hnet.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.hnet.analysis.ChunkStats;
import org.hnet.config.HNetConfig;
import org.hnet.nn.HNetForCausalLM;
import org.hnet.nn.Init;
import org.hnet.nn.Params;
import org.hnet.nn.RoutingModule;
import org.hnet.train.data.Batch;
import org.hnet.train.data.Corpus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The evaluation's word alignment: every document of a row is a text, its BOS and the padding are
 * not.
 */
class EvaluatorTest {
  static final String TWO_STAGE =
      """
      {"arch_layout": ["m1", ["m1", ["T1"], "m1"], "m1"], "d_model": [32, 64, 96], "d_intermediate": [0, 0, 128],
       "ssm_cfg": {"d_state": 8, "expand": 2, "chunk_size": 16, "d_conv": 4},
       "attn_cfg": {"num_heads": [2, 2, 2], "rotary_emb_dim": [8, 8, 16], "window_size": [-1, -1, -1]}}
      """;

  @Test
  void alignmentCountsEachDocumentAsATextWithoutBosOrPadding(@TempDir Path dir) throws Exception {
    String a = "It was the best of times, it was the worst of times.",
        b = "Call me Ishmael, some years ago.";
    Files.createDirectories(dir.resolve("d"));
    Files.writeString(dir.resolve("d/1.txt"), a);
    Files.writeString(dir.resolve("d/2.txt"), b);
    HNetConfig cfg = HNetConfig.parse(TWO_STAGE, "two-stage");
    HNetForCausalLM lm = new HNetForCausalLM(cfg, new Params(Init.weights(cfg, 5)::get));
    List<Batch> batches = new ArrayList<>();
    List<HNetForCausalLM.Output> outs = new ArrayList<>();
    Evaluator.Result r;
    try (Corpus c = Corpus.openWhole(dir.resolve("d"), "text")) {
      // one row of 128 bytes: ^a ^b and padding
      r =
          Evaluator.evaluate(
              lm,
              c.eval(4, 128),
              0,
              (batch, out) -> {
                batches.add(batch);
                outs.add(out);
              });
    }
    assertEquals(1, batches.size());
    List<boolean[]> byteLevel = RoutingModule.byteLevel(outs.get(0).routing(), 128).boundaries();
    byte[] ta = a.getBytes(StandardCharsets.UTF_8), tb = b.getBytes(StandardCharsets.UTF_8);
    int startA = 1, startB = 1 + ta.length + 1;
    for (int s = 0; s < 2; s++) {
      boolean[] ba = Arrays.copyOfRange(byteLevel.get(s), startA, startA + ta.length);
      boolean[] bb = Arrays.copyOfRange(byteLevel.get(s), startB, startB + tb.length);
      ba[0] = bb[0] = true; // each text's first byte is its forced boundary
      ChunkStats.Alignment x =
          ChunkStats.compute(
                  ta, s == 0 ? List.of(ba) : List.of(or(ba, byteLevel.get(0), startA), ba))
              .stages()
              .get(s)
              .alignment();
      ChunkStats.Alignment y =
          ChunkStats.compute(
                  tb, s == 0 ? List.of(bb) : List.of(or(bb, byteLevel.get(0), startB), bb))
              .stages()
              .get(s)
              .alignment();
      ChunkStats.Alignment got = r.alignment()[s];
      assertNotNull(got, "stage " + s);
      assertEquals(x.boundaries() + y.boundaries(), got.boundaries(), "stage " + s);
      assertEquals(x.aligned() + y.aligned(), got.aligned(), "stage " + s);
      assertEquals(x.words() + y.words(), got.words(), "stage " + s);
      assertEquals(x.caught() + y.caught(), got.caught(), "stage " + s);
    }
    assertTrue(r.toJson().contains("\"word_alignment\": {\"precision\": "), r.toJson());
  }

  /**
   * Stage 0's flags over a text (stage 1 must nest in it for ChunkStats), with the forced start.
   */
  private static boolean[] or(boolean[] inner, boolean[] stage0, int start) {
    boolean[] o = Arrays.copyOfRange(stage0, start, start + inner.length);
    o[0] = true;
    return o;
  }

  @Test
  void noAlignmentForTextWithoutSpacedWords(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("han.txt");
    Files.writeString(f, "東京は日本の首都です。人口は約千四百万人です。".repeat(4));
    HNetConfig cfg = HNetConfig.parse(TWO_STAGE, "two-stage");
    HNetForCausalLM lm = new HNetForCausalLM(cfg, new Params(Init.weights(cfg, 5)::get));
    try (Corpus c = Corpus.openWhole(f, "text")) {
      Evaluator.Result r = Evaluator.evaluate(lm, c.eval(2, 64), 0);
      assertNull(r.alignment()[0]);
      assertTrue(!r.toJson().contains("word_alignment"), r.toJson());
    }
  }
}
