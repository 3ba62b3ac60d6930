package org.hnet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.hnet.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real `hnet train` process stopped by a signal saves its checkpoint and exits cleanly. */
class TrainProcessTest {
  static final String TINY =
      """
      {"arch_layout": ["m1", ["T1"], "m1"], "d_model": [32, 64], "d_intermediate": [0, 128],
       "ssm_cfg": {"d_state": 8, "expand": 2, "chunk_size": 16, "d_conv": 4},
       "attn_cfg": {"num_heads": [2, 2], "rotary_emb_dim": [8, 16], "window_size": [-1, -1]}}
      """;

  @Test
  void aSignalSavesACheckpointThatResumes(@TempDir Path tmp) throws Exception {
    Path cfg = tmp.resolve("tiny.json");
    Files.writeString(cfg, TINY);
    Path data = tmp.resolve("d.txt");
    Files.writeString(data, "Call me Ishmael. Some years ago, never mind how long.\n".repeat(300));
    Path run = tmp.resolve("run");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p =
        new ProcessBuilder(
                java,
                "--add-modules=jdk.incubator.vector",
                "-cp",
                System.getProperty("java.class.path"),
                "org.hnet.cli.Main",
                "train",
                "--config",
                cfg.toString(),
                "--data",
                data.toString(),
                "--out",
                run.toString(),
                "--steps",
                "100000",
                "--batch",
                "2",
                "--seq-len",
                "64",
                "--ratio",
                "4",
                "--checkpoint-every",
                "100000",
                "--eval-every",
                "0",
                "--no-progress")
            .redirectErrorStream(true)
            .redirectOutput(tmp.resolve("log.txt").toFile())
            .start();
    Path metrics = run.resolve("metrics.jsonl");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline
        && (!Files.exists(metrics) || Files.readAllLines(metrics).size() < 3)) Thread.sleep(100);
    assertTrue(
        Files.exists(metrics),
        "the run never started: " + Files.readString(tmp.resolve("log.txt")));
    p.destroy(); // SIGTERM: the same shutdown path as Ctrl-C
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the process did not exit");
    String log = Files.readString(tmp.resolve("log.txt"));
    assertTrue(log.contains("checkpoint saved"), log);
    List<String> lines = Files.readAllLines(metrics);
    try (Trainer t = Trainer.resume(run, null)) {
      assertTrue(t.step() >= 3, "resumed at step " + t.step());
      assertEquals(
          t.step(),
          lines.stream().filter(l -> l.contains("\"loss\"")).count(),
          "one metrics line per saved step");
    }
  }
}
