package org.hnet.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Outputs never replace what the user has: foreign directories, the model's own files, inputs, link
 * targets.
 */
class OutputSafetyTest {
  static final Path MODEL = ForwardCommandTest.GOLDEN.resolve("2stage");

  @Test
  void trainRefusesADirectoryThatIsNotARunAndTouchesNothing(@TempDir Path tmp) throws Exception {
    Path cfg = tmp.resolve("tiny.json");
    Files.writeString(cfg, TrainProcessTest.TINY);
    Path data = tmp.resolve("d.txt");
    Files.writeString(data, "The whale, the whale! Thar she blows.\n".repeat(200));
    Path mine = tmp.resolve("mine");
    Files.createDirectories(mine.resolve("checkpoint"));
    Files.copy(MODEL.resolve("config.json"), mine.resolve("checkpoint/config.json"));
    Files.copy(MODEL.resolve("model.safetensors"), mine.resolve("checkpoint/model.safetensors"));
    Files.writeString(mine.resolve("metrics.jsonl"), "{\"mine\": 1}\n");
    byte[] weights = Files.readAllBytes(mine.resolve("checkpoint/model.safetensors"));
    var r =
        ForwardCommandTest.run(
            "train",
            "--config",
            cfg.toString(),
            "--data",
            data.toString(),
            "--out",
            mine.toString(),
            "--steps",
            "2",
            "--batch",
            "2",
            "--seq-len",
            "64",
            "--ratio",
            "4",
            "--no-progress");
    assertEquals(1, r.code());
    ForwardCommandTest.assertOneLine(r.err(), "not a training run");
    assertArrayEquals(weights, Files.readAllBytes(mine.resolve("checkpoint/model.safetensors")));
    assertEquals("{\"mine\": 1}\n", Files.readString(mine.resolve("metrics.jsonl")));
    try (Stream<Path> s = Files.list(mine)) {
      assertEquals(2, s.count(), "nothing added");
    }
    // the demo too
    var demo = ForwardCommandTest.run("demo", "--out", mine.toString(), "--steps", "1");
    assertEquals(1, demo.code());
    ForwardCommandTest.assertOneLine(demo.err(), "not a training run");
    assertFalse(Files.exists(mine.resolve("moby-dick.txt")));
    // and the data as the run directory
    var same =
        ForwardCommandTest.run(
            "train",
            "--config",
            cfg.toString(),
            "--data",
            tmp.toString(),
            "--out",
            tmp.resolve("sub").toString(),
            "--steps",
            "2",
            "--ratio",
            "4",
            "--no-progress");
    assertEquals(1, same.code());
    ForwardCommandTest.assertOneLine(same.err(), "training data");
    assertFalse(Files.exists(tmp.resolve("sub")));
  }

  @Test
  void outputsNeverReplaceTheModelOrTheInput(@TempDir Path tmp) throws Exception {
    Path model = tmp.resolve("model");
    Files.createDirectories(model);
    Files.copy(MODEL.resolve("config.json"), model.resolve("config.json"));
    Files.copy(MODEL.resolve("model.safetensors"), model.resolve("model.safetensors"));
    Path in = tmp.resolve("io.safetensors");
    Files.copy(MODEL.resolve("io.safetensors"), in);
    byte[] weights = Files.readAllBytes(model.resolve("model.safetensors")),
        input = Files.readAllBytes(in);
    for (String[] c :
        new String[][] {
          {
            "forward",
            "--model",
            model.toString(),
            "--input",
            in.toString(),
            "--output",
            model.resolve("model.safetensors").toString()
          },
          {
            "forward",
            "--model",
            model.toString(),
            "--input",
            in.toString(),
            "--output",
            in.toString()
          },
          {
            "chunks",
            "--model",
            model.toString(),
            "--text",
            "hello",
            "--html",
            model.resolve("config.json").toString()
          }
        }) {
      var r = ForwardCommandTest.run(c);
      assertEquals(1, r.code(), String.join(" ", c));
      ForwardCommandTest.assertOneLine(r.err(), c[c.length - 2]);
    }
    assertArrayEquals(weights, Files.readAllBytes(model.resolve("model.safetensors")));
    assertArrayEquals(input, Files.readAllBytes(in));

    // init over an existing model directory
    var init =
        ForwardCommandTest.run(
            "init", "--config", model.resolve("config.json").toString(), "--out", model.toString());
    assertEquals(1, init.code());
    ForwardCommandTest.assertOneLine(init.err(), "not empty");
    assertArrayEquals(weights, Files.readAllBytes(model.resolve("model.safetensors")));
  }

  /**
   * A link planted where a temporary file used to go (OUT.tmp) is not followed: its target keeps
   * its bytes.
   */
  @Test
  void aPlantedLinkIsNeverFollowed(@TempDir Path tmp) throws Exception {
    Path victim = tmp.resolve("victim.txt");
    Files.writeString(victim, "precious");
    Path out = tmp.resolve("out.safetensors");
    Files.createSymbolicLink(tmp.resolve("out.safetensors.tmp"), victim);
    var r =
        ForwardCommandTest.run(
            "forward",
            "--model",
            MODEL.toString(),
            "--input",
            MODEL.resolve("io.safetensors").toString(),
            "--output",
            out.toString());
    assertEquals(0, r.code(), r.err());
    assertEquals("precious", Files.readString(victim));
    try (Stream<Path> s = Files.list(tmp)) {
      assertTrue(
          s.noneMatch(p -> p.getFileName().toString().endsWith(".tmp") && !Files.isSymbolicLink(p)),
          "a temporary file left behind");
    }
  }
}
