package org.hnet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `hnet train --sampling`, its warning for gzip, word alignment in the metrics and `hnet eval
 * --held-out`.
 */
class SamplingCommandsTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String TEXT = "The whale, the whale! Thar she blows, and there she breaches.\n";

  private static ForwardCommandTest.Result train(Path tmp, Path data, String run, String... extra)
      throws Exception {
    Path cfg = tmp.resolve("tiny.json");
    Files.writeString(cfg, TrainProcessTest.TINY);
    List<String> args =
        new java.util.ArrayList<>(
            List.of(
                "train",
                "--config",
                cfg.toString(),
                "--data",
                data.toString(),
                "--out",
                tmp.resolve(run).toString(),
                "--steps",
                "4",
                "--batch",
                "2",
                "--seq-len",
                "64",
                "--eval-every",
                "2",
                "--ratio",
                "4",
                "--no-progress"));
    args.addAll(List.of(extra));
    if (!args.contains("--eval-batches")) args.addAll(List.of("--eval-batches", "2"));
    return ForwardCommandTest.run(args.toArray(String[]::new));
  }

  private static JsonNode dataState(Path run) throws Exception {
    return JSON.readTree(run.resolve("checkpoint/state.json").toFile()).get("data");
  }

  @Test
  void randomByDefaultWithWordAlignmentInTheMetrics(@TempDir Path tmp) throws Exception {
    Path data = tmp.resolve("d.txt");
    Files.writeString(data, TEXT.repeat(200));
    var r = train(tmp, data, "run");
    assertEquals(0, r.code(), r.err());
    assertFalse(r.err().contains("warning"), r.err());
    assertEquals(
        "random", JSON.readTree(tmp.resolve("run/options.json").toFile()).get("sampling").asText());
    assertEquals("random", dataState(tmp.resolve("run")).get("sampling").asText());
    assertTrue(r.out().contains("word precision"), r.out());
    JsonNode eval = null;
    for (String line : Files.readAllLines(tmp.resolve("run/metrics.jsonl"))) {
      JsonNode n = JSON.readTree(line);
      if (n.has("eval")) eval = n.get("eval");
    }
    JsonNode w = eval.get("stages").get(0).get("word_alignment");
    for (String k : new String[] {"precision", "recall", "baseline_precision", "baseline_recall"}) {
      assertTrue(w.get(k).isNumber() || w.get(k).isNull(), k + " in " + w);
    }
    assertTrue(w.get("baseline_precision").asDouble() > 0.2, w.toString());
    // the curve has the alignment panel below the loss chart
    java.awt.image.BufferedImage png =
        javax.imageio.ImageIO.read(tmp.resolve("run/curve.png").toFile());
    assertEquals(800, png.getHeight());
  }

  @Test
  void sequentialOnRequestAndAWarningForGzip(@TempDir Path tmp) throws Exception {
    Path data = tmp.resolve("d.txt");
    Files.writeString(data, TEXT.repeat(200));
    var seq = train(tmp, data, "seq", "--sampling", "sequential");
    assertEquals(0, seq.code(), seq.err());
    assertEquals("sequential", dataState(tmp.resolve("seq")).get("sampling").asText());
    assertEquals(1024, dataState(tmp.resolve("seq")).get("blockRows").asInt());

    Path gz = tmp.resolve("d.txt.gz");
    try (OutputStream os = new GZIPOutputStream(Files.newOutputStream(gz))) {
      os.write(TEXT.repeat(200).getBytes());
    }
    var g = train(tmp, gz, "gz");
    assertEquals(0, g.code(), g.err());
    assertTrue(
        g.err().contains("warning")
            && g.err().contains("d.txt.gz")
            && g.err().contains("decompress"),
        g.err());
    assertEquals(
        "sequential",
        dataState(tmp.resolve("gz")).get("sampling").asText(),
        "the shuffle-buffer fallback");

    var bad = train(tmp, data, "bad", "--sampling", "shuffled");
    assertEquals(2, bad.code());
    ForwardCommandTest.assertOneLine(bad.err(), "--sampling");
    assertFalse(Files.exists(tmp.resolve("bad")), "nothing written for a usage error");
  }

  /** `eval --held-out F` scores exactly the part `train --eval-fraction F` held out. */
  @Test
  void evalHeldOutScoresTheTrainingRunsHeldOutPart(@TempDir Path tmp) throws Exception {
    Path data = tmp.resolve("d.txt");
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 300; i++) sb.append(i).append(' ').append(TEXT);
    Files.writeString(data, sb);
    var r = train(tmp, data, "run", "--eval-batches", "0", "--eval-fraction", "0.2");
    assertEquals(0, r.code(), r.err());
    JsonNode last = null;
    for (String line : Files.readAllLines(tmp.resolve("run/metrics.jsonl"))) {
      JsonNode n = JSON.readTree(line);
      if (n.has("eval")) last = n.get("eval");
    }
    var e =
        ForwardCommandTest.run(
            "eval",
            "--model",
            tmp.resolve("run").toString(),
            "--data",
            data.toString(),
            "--held-out",
            "0.2",
            "--seq-len",
            "64",
            "--batch",
            "2",
            "--json");
    assertEquals(0, e.code(), e.err());
    JsonNode j = JSON.readTree(e.out());
    assertEquals(last.get("bytes").asLong(), j.get("bytes").asLong());
    assertEquals(last.get("bpb").asDouble(), j.get("bpb").asDouble(), 1e-9);

    var whole =
        ForwardCommandTest.run(
            "eval",
            "--model",
            tmp.resolve("run").toString(),
            "--data",
            data.toString(),
            "--seq-len",
            "64",
            "--json");
    assertTrue(JSON.readTree(whole.out()).get("bytes").asLong() > 4 * j.get("bytes").asLong());

    var bad =
        ForwardCommandTest.run(
            "eval",
            "--model",
            tmp.resolve("run").toString(),
            "--data",
            data.toString(),
            "--held-out",
            "1.5");
    assertEquals(2, bad.code());
    ForwardCommandTest.assertOneLine(bad.err(), "--held-out");
  }
}
