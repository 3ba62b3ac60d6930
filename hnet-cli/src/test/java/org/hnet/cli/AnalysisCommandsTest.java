package org.hnet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** hnet chunks, hnet eval (statistics, perturbation), hnet train + plot through the CLI. */
class AnalysisCommandsTest {
  static final Path MODEL = ForwardCommandTest.GOLDEN.resolve("2stage");

  @Test
  void chunksGivesBytesProbabilitiesAndMasksOfEveryStage(@TempDir Path tmp) throws Exception {
    String text = "It was the best of times, it was the worst of times.";
    Path html = tmp.resolve("c.html");
    var r =
        ForwardCommandTest.run(
            "chunks",
            "--model",
            MODEL.toString(),
            "--text",
            text,
            "--json",
            "--html",
            html.toString());
    assertEquals(0, r.code(), r.err());
    JsonNode j = new ObjectMapper().readTree(r.out());
    assertEquals(text.length(), j.get("bytes").size());
    assertEquals(2, j.get("stages").size());
    for (JsonNode st : j.get("stages")) {
      assertEquals(text.length(), st.get("boundary_mask").size());
      assertEquals(
          1, st.get("boundary_mask").get(0).asInt(), "the text's first byte starts a chunk");
    }
    assertTrue(j.get("stats").get("stages").get(0).has("alignment"));
    String page = Files.readString(html);
    assertTrue(
        page.startsWith("<!DOCTYPE html>") || page.startsWith("<!doctype html>"),
        page.substring(0, 40));
    var plain = ForwardCommandTest.run("chunks", "--model", MODEL.toString(), "--text", text);
    assertTrue(plain.out().contains("|") && plain.out().contains("bytes/chunk"), plain.out());
  }

  @Test
  void evalReportsBpbStagesStatisticsAndRobustness(@TempDir Path tmp) throws Exception {
    Path data = tmp.resolve("t.txt");
    Files.writeString(
        data,
        "Call me Ishmael. Some years ago, never mind how long precisely, having little money.\n"
            .repeat(20));
    var r =
        ForwardCommandTest.run(
            "eval",
            "--model",
            MODEL.toString(),
            "--data",
            data.toString(),
            "--json",
            "--perturb",
            "delete",
            "--rate",
            "0.1",
            "--seq-len",
            "256");
    assertEquals(0, r.code(), r.err());
    JsonNode j = new ObjectMapper().readTree(r.out());
    assertTrue(j.get("bpb").asDouble() > 0);
    assertEquals(2, j.get("stages").size());
    for (JsonNode st : j.get("stages")) {
      assertTrue(st.get("compression").asDouble() >= 1 && st.get("boundary_rate").asDouble() <= 1);
      assertTrue(st.has("chunks"));
    }
    assertTrue(
        j.get("perturbed").get("bytes").asLong() < j.get("bytes").asLong(),
        "deleting characters scores fewer bytes");
    var bad =
        ForwardCommandTest.run(
            "eval", "--model", MODEL.toString(), "--data", data.toString(), "--perturb", "shout");
    assertEquals(1, bad.code());
    ForwardCommandTest.assertOneLine(bad.err(), "nospace");
  }

  @Test
  void trainWritesCurveAndPlotComparesRuns(@TempDir Path tmp) throws Exception {
    Path cfg = tmp.resolve("tiny.json");
    Files.writeString(cfg, org.hnet.cli.TrainProcessTest.TINY);
    Path data = tmp.resolve("d.txt");
    Files.writeString(data, "The whale, the whale! Thar she blows.\n".repeat(200));
    for (String run : new String[] {"a", "b"}) {
      var r =
          ForwardCommandTest.run(
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
              "--eval-batches",
              "1",
              "--ratio",
              "4",
              "--no-progress",
              "--seed",
              run.equals("a") ? "1" : "2");
      assertEquals(0, r.code(), r.err());
      assertTrue(Files.size(tmp.resolve(run).resolve("curve.png")) > 1000);
      assertTrue(r.out().contains("held-out"), r.out());
    }
    Path png = tmp.resolve("cmp.png");
    var p =
        ForwardCommandTest.run(
            "plot",
            tmp.resolve("a").toString(),
            tmp.resolve("b").toString(),
            "--out",
            png.toString());
    assertEquals(0, p.code(), p.err());
    assertTrue(Files.size(png) > 1000);
    var again =
        ForwardCommandTest.run(
            "train",
            "--config",
            cfg.toString(),
            "--data",
            data.toString(),
            "--out",
            tmp.resolve("a").toString());
    assertEquals(1, again.code());
    ForwardCommandTest.assertOneLine(again.err(), "--resume");
  }
}
