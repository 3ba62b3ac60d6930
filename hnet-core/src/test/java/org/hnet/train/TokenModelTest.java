package org.hnet.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.hnet.HNetException;
import org.hnet.config.HNetConfig;
import org.hnet.io.TensorData;
import org.hnet.nn.HNetForCausalLM;
import org.hnet.train.data.Batch;
import org.hnet.train.data.BatchStream;
import org.hnet.train.data.BpeTokenizer;
import org.hnet.train.data.Corpus;
import org.hnet.train.data.TokenCorpus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The token-level baseline: GPT-2's BPE cut to K ranks, its corpus of tokens, bits per byte over
 * the bytes its targets stand for, and training and resuming as the byte-level models do.
 */
class TokenModelTest {
  static final String BPE =
      """
      {"arch_layout": ["T1"], "d_model": [32], "d_intermediate": [64], "vocab_size": 513,
       "tokenizer": "r50k_base:512",
       "attn_cfg": {"num_heads": [2], "rotary_emb_dim": [8], "window_size": [-1]}}
      """;

  @Test
  void theVocabularyIsGpt2sCutToItsFirstRanks() {
    BpeTokenizer full = BpeTokenizer.of("r50k_base", 50257, "t");
    // GPT-2's own ids for "Hello world" (tiktoken r50k_base)
    assertArrayEquals(new int[] {15496, 995}, full.encode("Hello world"));
    BpeTokenizer cut = BpeTokenizer.of("r50k_base:512", 513, "t");
    String text = "Call me Ishmael. café 漢字 😀 naïve e\u0301 résumé\n\tcode();";
    int[] ids = cut.encode(text);
    for (int id : ids) assertTrue(id >= 0 && id < 512, "id " + id);
    assertTrue(ids.length < text.getBytes(StandardCharsets.UTF_8).length, "merges happen");
    assertTrue(ids.length > full.encode(text).length, "fewer merges than the full vocabulary");
    assertArrayEquals(text.getBytes(StandardCharsets.UTF_8), cut.decode(ids), "round trip");
    assertEquals(512, cut.separator());
    assertEquals(0, cut.decode(new int[] {512}).length, "the separator is no text");
  }

  @Test
  void configsSayWhatIsWrongWithATokenizer() {
    String[][] cases = {
      {"\"vocab_size\": 513, \"tokenizer\": \"r50k_base:600\"", "vocab_size must be 601"},
      {"\"vocab_size\": 100, \"tokenizer\": \"r50k_base:99\"", "[256, 50256]"},
      {"\"vocab_size\": 513, \"tokenizer\": \"cl100k_base\"", "tokenizer must be"},
      {"\"vocab_size\": 513, \"tokenizer\": 5", "tokenizer must be a string"},
      {"\"vocab_size\": 513, \"tokenizer\": \"r50k_base:\\u001b[31m\"", "\\u001b[31m"},
    };
    for (String[] c : cases) {
      String json =
          "{\"arch_layout\": [\"T1\"], \"d_model\": [32], \"d_intermediate\": [64], "
              + c[0]
              + ", \"attn_cfg\": {\"num_heads\": [2], \"rotary_emb_dim\": [8]}}";
      HNetException e = assertThrows(HNetException.class, () -> HNetConfig.parse(json, "c.json"));
      assertTrue(e.getMessage().startsWith("c.json: "), e.getMessage());
      assertTrue(e.getMessage().contains(c[1]), e.getMessage());
    }
    String hnet =
        "{\"arch_layout\": [\"m1\", [\"T1\"], \"m1\"], \"d_model\": [32, 64], \"d_intermediate\":"
            + " [0, 128], \"vocab_size\": 513, \"tokenizer\": \"r50k_base:512\", \"attn_cfg\":"
            + " {\"num_heads\": [2, 2], \"rotary_emb_dim\": [8, 8]}}";
    HNetException e = assertThrows(HNetException.class, () -> HNetConfig.parse(hnet, "h.json"));
    assertTrue(e.getMessage().contains("isotropic"), e.getMessage());
    // written back as read
    HNetConfig c = HNetConfig.parse(BPE, "bpe");
    assertEquals(c, HNetConfig.parse(c.toJson(), "again"));
    assertEquals("r50k_base:512", c.tokenizer());
  }

  private static Path corpus(Path dir) throws IOException {
    Path d = Files.createDirectories(dir.resolve("docs"));
    for (int i = 0; i < 12; i++) {
      StringBuilder sb = new StringBuilder();
      for (int j = 0; j < 30; j++)
        sb.append("Document ").append(i).append(", line ").append(j).append(": café 漢字.\n");
      Files.writeString(d.resolve(String.format("%02d.txt", i)), sb);
    }
    return d;
  }

  @Test
  void batchesCountTheBytesTheirTargetsStandFor(@TempDir Path tmp) throws IOException {
    HNetConfig cfg = HNetConfig.parse(BPE, "bpe");
    BpeTokenizer tok = BpeTokenizer.of(cfg.tokenizer(), cfg.vocabSize(), "bpe");
    try (Corpus c = Corpus.open(corpus(tmp), 0.25, "text")) {
      TokenCorpus tc = new TokenCorpus(c, tok);
      long targets = 0, bytes = 0;
      for (Batch b : tc.eval(3, 40)) {
        long expect = 0;
        for (int t : b.targets()) {
          if (t < 0) continue;
          assertTrue(t < 513);
          expect += tok.decode(new int[] {t}).length;
        }
        assertEquals(expect, b.bytes());
        targets += b.predicted();
        bytes += b.bytes();
        // a separator starts a segment and is never a target's context across documents
        for (int p = 0; p + 1 < b.tokens().length; p++)
          if (b.tokens()[p + 1] == tok.separator() && (p + 1) % b.L() != 0)
            assertEquals(-1, b.targets()[p]);
      }
      assertTrue(targets > 0 && bytes > 1.2 * targets, bytes + " bytes over " + targets);
      assertEquals(
          bytes,
          c.evalBytes() - rowFirstBytes(tc, tok) - separators(c),
          "every eval byte but those of each row's first token is scored once");
      // i.i.d. windows, resumable exactly
      BatchStream s = tc.train(2, 16, 7);
      s.next();
      var state = s.state();
      Batch a = s.next();
      Batch b = tc.train(2, 16, state).next();
      assertArrayEquals(a.tokens(), b.tokens());
      assertArrayEquals(a.targets(), b.targets());
    }
  }

  /** Bytes of the first token of every eval row (not a target) that is not a separator. */
  private static long rowFirstBytes(TokenCorpus tc, BpeTokenizer tok) {
    long n = 0;
    for (Batch b : tc.eval(3, 40))
      for (int r = 0; r < b.B(); r++) {
        int t = b.tokens()[r * b.L()];
        boolean padding = b.targets()[r * b.L()] < 0 && t == 0;
        if (!padding) n += tok.decode(new int[] {t}).length;
      }
    return n;
  }

  /** BOS bytes in the packed eval part (documents' separators, no text). */
  private static long separators(Corpus c) {
    long n = 0;
    for (Batch b : c.eval(1, 1 << 16)) for (int t : b.tokens()) if (t == Batch.BOS) n++;
    return n;
  }

  @Test
  void aTokenModelTrainsResumesBitIdenticalAndIsScoredPerByte(@TempDir Path tmp)
      throws IOException {
    HNetConfig cfg = HNetConfig.parse(BPE, "bpe");
    Path data = corpus(tmp);
    TrainOptions o =
        TrainOptions.builder(cfg).steps(6).batch(2).seqLen(24).seed(3).evalBatches(2).build();
    Trainer.Listener quiet = new Trainer.Listener() {};
    Path full = tmp.resolve("full"), cut = tmp.resolve("cut");
    try (Trainer t = Trainer.start(full, cfg, data, o)) {
      t.run(quiet, () -> false);
      assertTrue(t.bytesPerPosition() > 1.2, "bytes per token " + t.bytesPerPosition());
      Evaluator.Result r = t.evaluate(quiet);
      assertTrue(r.bpb() > 0 && r.bpb() < 12, "bpb " + r.bpb());
    }
    try (Trainer t = Trainer.start(cut, cfg, data, o)) {
      t.run(quiet, () -> t.step() >= 3);
    }
    try (Trainer t = Trainer.resume(cut, null)) {
      t.run(quiet, () -> false);
    }
    Map<String, TensorData> a = TrainerTest.weights(full), b = TrainerTest.weights(cut);
    for (String k : a.keySet()) assertArrayEquals(a.get(k).toFloats(), b.get(k).toFloats(), 0f, k);
    // the model refuses what reads bytes
    HNetForCausalLM lm = HNetForCausalLM.load(full.resolve("checkpoint"));
    HNetException e = assertThrows(HNetException.class, () -> new org.hnet.generate.Generator(lm));
    assertTrue(e.getMessage().contains("token-level"), e.getMessage());
  }
}
