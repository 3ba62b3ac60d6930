package org.hnet.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import org.hnet.config.HNetConfig;
import org.hnet.train.Evaluator;
import org.hnet.train.TrainOptions;
import org.hnet.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tiny H-Net really learns from a slice of the shipped corpus: held-out bits per byte clearly
 * below the unigram entropy of the data (what a model that ignores context can reach), and a
 * compression ratio within ±30% of its target.
 */
class LearningTest {
  static final String TINY =
      """
      {"arch_layout": ["m1", ["T1"], "m1"], "d_model": [64, 96], "d_intermediate": [0, 256],
       "ssm_cfg": {"d_state": 16, "expand": 2, "chunk_size": 64, "d_conv": 4},
       "attn_cfg": {"num_heads": [2, 2], "rotary_emb_dim": [16, 16], "window_size": [-1, -1]}}
      """;
  static final double TARGET = 4;

  static double unigramEntropyBits(byte[] data) {
    long[] counts = new long[256];
    for (byte b : data) counts[b & 0xff]++;
    double h = 0;
    for (long c : counts) {
      if (c == 0) continue;
      double p = (double) c / data.length;
      h -= p * Math.log(p) / Math.log(2);
    }
    return h;
  }

  @Test
  void aTinyHNetLearnsMobyDick(@TempDir Path tmp) throws Exception {
    byte[] text;
    try (InputStream in =
        new GZIPInputStream(LearningTest.class.getResourceAsStream(TrainCommand.DEMO_CORPUS))) {
      text = in.readNBytes(300_000);
    }
    Path data = tmp.resolve("slice.txt");
    Files.write(data, text);
    double entropy = unigramEntropyBits(text);

    TrainOptions opts =
        new TrainOptions(
            250,
            8,
            256,
            1,
            3e-3,
            "wsd",
            20,
            new double[] {1, 1},
            new double[] {TARGET},
            0.03,
            0.1,
            0.9,
            0.95,
            1e-8,
            1.0,
            1,
            1000,
            0,
            0,
            0.1,
            "text",
            "random",
            null,
            null,
            0,
            null,
            null);
    Evaluator.Result r;
    try (Trainer t =
        Trainer.start(tmp.resolve("run"), HNetConfig.parse(TINY, "tiny"), data, opts)) {
      Evaluator.Result[] last = new Evaluator.Result[1];
      t.run(
          new Trainer.Listener() {
            @Override
            public void onEval(long step, long bytes, Evaluator.Result res) {
              last[0] = res;
            }
          },
          () -> false);
      r = last[0];
    }
    System.out.printf(
        "learning test: held-out %.3f bpb (unigram entropy %.3f), compression %.2f (target %.0f)%n",
        r.bpb(), entropy, r.compression()[0], TARGET);
    assertTrue(
        r.bpb() < entropy - 0.75,
        "held-out bpb " + r.bpb() + " is not clearly below the unigram entropy " + entropy);
    double c = r.compression()[0];
    assertTrue(
        c > 0.7 * TARGET && c < 1.3 * TARGET,
        "compression " + c + " is not within 30% of " + TARGET);
  }
}
