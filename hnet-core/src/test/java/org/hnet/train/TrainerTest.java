package org.hnet.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.hnet.config.HNetConfig;
import org.hnet.io.SafeTensors;
import org.hnet.io.TensorData;
import org.hnet.nn.HNetForCausalLM;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The trainer never loses work: interrupt + resume ends bit-identical to an uninterrupted run. */
class TrainerTest {
  static final String TINY =
      """
      {"arch_layout": ["m1", ["T1"], "m1"], "d_model": [32, 64], "d_intermediate": [0, 128],
       "ssm_cfg": {"d_state": 8, "expand": 2, "chunk_size": 16, "d_conv": 4},
       "attn_cfg": {"num_heads": [2, 2], "rotary_emb_dim": [8, 16], "window_size": [-1, -1]}}
      """;

  static Path corpus(Path dir) throws IOException {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 400; i++)
      sb.append("Call me Ishmael. Some years ago, never mind how long precisely, line ")
          .append(i)
          .append(".\n");
    Path f = dir.resolve("corpus.txt");
    Files.writeString(f, sb);
    return f;
  }

  static TrainOptions options(long steps) {
    return new TrainOptions(
        steps,
        2,
        64,
        2,
        3e-3,
        "wsd",
        2,
        new double[] {1.0, 0.8},
        new double[] {4},
        0.03,
        0.1,
        0.9,
        0.95,
        1e-8,
        1.0,
        7,
        100,
        3,
        2,
        0.1,
        "text",
        "random",
        null,
        null,
        0,
        null,
        null);
  }

  static Map<String, TensorData> weights(Path run) {
    return SafeTensors.read(run.resolve("checkpoint/model.safetensors"));
  }

  @Test
  void anInterruptedAndResumedRunEndsBitIdentical(@TempDir Path tmp) throws IOException {
    Path data = corpus(tmp);
    HNetConfig cfg = HNetConfig.parse(TINY, "tiny");
    Trainer.Listener quiet = new Trainer.Listener() {};

    Path full = tmp.resolve("full");
    try (Trainer t = Trainer.start(full, cfg, data, options(6))) {
      t.run(quiet, () -> false);
    }

    Path cut = tmp.resolve("cut");
    try (Trainer t = Trainer.start(cut, cfg, data, options(6))) {
      t.run(quiet, () -> t.step() >= 4); // "Ctrl-C" after step 4
      assertEquals(4, t.step());
    }
    try (Trainer t = Trainer.resume(cut, null)) {
      assertEquals(4, t.step());
      t.run(quiet, () -> false);
      assertEquals(6, t.step());
    }

    Map<String, TensorData> a = weights(full), b = weights(cut);
    assertEquals(a.keySet(), b.keySet());
    for (String k : a.keySet()) assertArrayEquals(a.get(k).toFloats(), b.get(k).toFloats(), 0f, k);
    Map<String, TensorData> oa = SafeTensors.read(full.resolve("checkpoint/optimizer.safetensors"));
    Map<String, TensorData> ob = SafeTensors.read(cut.resolve("checkpoint/optimizer.safetensors"));
    for (String k : oa.keySet())
      assertArrayEquals(oa.get(k).toFloats(), ob.get(k).toFloats(), 0f, k);
    // the metrics of the resumed run hold each step once
    long lines =
        Files.readAllLines(cut.resolve("metrics.jsonl")).stream()
            .filter(l -> l.contains("\"loss\""))
            .count();
    assertEquals(6, lines);
  }

  @Test
  void aCheckpointIsAModelDirectoryWithOfficialNames(@TempDir Path tmp) throws IOException {
    Path data = corpus(tmp);
    HNetConfig cfg = HNetConfig.parse(TINY, "tiny");
    Path run = tmp.resolve("run");
    try (Trainer t = Trainer.start(run, cfg, data, options(2))) {
      t.run(new Trainer.Listener() {}, () -> false);
    }
    HNetForCausalLM lm = HNetForCausalLM.load(run.resolve("checkpoint"));
    assertEquals(
        cfg.parameterShapes().keySet(),
        SafeTensors.read(run.resolve("checkpoint/model.safetensors")).keySet());
    assertTrue(lm.parameters.containsKey("backbone.routing_module.q_proj_layer.weight"));
    assertTrue(Files.exists(run.resolve("metrics.jsonl")));
  }
}
