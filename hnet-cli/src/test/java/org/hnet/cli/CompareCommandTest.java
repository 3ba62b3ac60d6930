package org.hnet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.hnet.config.HNetConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `hnet compare` end to end on the tiny preset, its resume, its matched compute, its errors. */
class CompareCommandTest {
  @Test
  void thePresetsMatchTheirFlopsPerByteWithinTenPercent() throws Exception {
    for (String preset : CompareCommand.PRESETS) {
      double hnet = 0;
      for (String m : CompareCommand.MODELS) {
        String res = "compare/" + preset + "/" + m + ".json";
        HNetConfig c = HNetConfig.parse(TrainCommand.resourceText(res), res);
        double f = CompareCommand.nominalFlopsPerByte(c);
        if (m.equals("hnet")) hnet = f;
        assertTrue(
            Math.abs(f / hnet - 1) <= 0.10, preset + "/" + m + ": " + f + " vs hnet " + hnet);
      }
    }
  }

  @Test
  void tinyComparisonWritesItsReportAndResumes(@TempDir Path tmp) throws Exception {
    Path data =
        Files.writeString(
            tmp.resolve("d.txt"),
            "Call me Ishmael. Some years ago, never mind how long precisely, having little money.\n"
                .repeat(400));
    Path extra =
        Files.writeString(tmp.resolve("extra.txt"), "It was the best of times.\n".repeat(50));
    Path out = tmp.resolve("cmp");
    String[] args = {
      "compare",
      "--data",
      data.toString(),
      "--out",
      out.toString(),
      "--bytes",
      "8192",
      "--eval-batches",
      "1",
      "--eval",
      extra.toString(),
      "--no-progress",
      "--threads",
      "1"
    };
    var r = ForwardCommandTest.run(args);
    assertEquals(0, r.code(), r.err());
    JsonNode rep = new ObjectMapper().readTree(out.resolve("report.json").toFile());
    assertEquals(CompareCommand.MODELS.size(), rep.get("models").size());
    for (JsonNode m : rep.get("models")) {
      for (String k :
          new String[] {
            "name",
            "config",
            "bpb",
            "flops_per_byte",
            "params",
            "train_bytes",
            "train_seconds",
            "compression",
            "perturbed",
            "eval"
          }) assertTrue(m.has(k), k + " in " + m);
      if (m.get("name").asText().equals("bpe")) {
        // rows of whole tokens: about the same bytes (within half a token per row)
        assertEquals(8192, m.get("train_bytes").asDouble(), 8192 * 0.02, "bpe's bytes");
        assertEquals("r50k_base:4096", m.get("tokenizer").asText());
        assertTrue(m.get("bytes_per_token").asDouble() > 2, m.toString());
      } else {
        assertEquals(8192, m.get("train_bytes").asLong(), "the same bytes for every model");
      }
      assertEquals(5, m.get("perturbed").size());
      assertTrue(m.get("eval").has(extra.toString()));
      boolean chunks = !m.get("name").asText().matches("transformer|mamba|bpe");
      assertEquals(chunks ? 1 : 0, m.get("compression").size());
      assertEquals(chunks, m.has("word_precision"), m.get("name").asText());
    }
    assertEquals(4.0, rep.get("models").get(2).get("compression").get(0).asDouble(), 0.3, "fixed4");
    assertTrue(Files.size(out.resolve("bpb.png")) > 1000);
    String md = Files.readString(out.resolve("report.md"));
    assertTrue(md.contains("| hnet |") && md.contains("| mamba |"), md);

    // again: every model is reused, not retrained
    var again = ForwardCommandTest.run(args);
    assertEquals(0, again.code(), again.err());
    assertEquals(
        CompareCommand.MODELS.size(),
        again.out().lines().filter(l -> l.startsWith("already trained and scored")).count(),
        again.out());
  }

  @Test
  void mistakesAreUsageErrors(@TempDir Path tmp) throws Exception {
    Path data = Files.writeString(tmp.resolve("d.txt"), "text\n");
    String o = tmp.resolve("c").toString();
    for (String[] bad :
        new String[][] {
          {"--preset", "huge"},
          {"--bytes", "10"},
          {"--models", "nope"},
          {"--minutes", "-1"},
          {"--alpha", "-0.1"},
          {"--bytes", "9000", "--minutes", "1"}
        }) {
      String[] args = new String[5 + bad.length];
      System.arraycopy(
          new String[] {"compare", "--data", data.toString(), "--out", o}, 0, args, 0, 5);
      System.arraycopy(bad, 0, args, 5, bad.length);
      var r = ForwardCommandTest.run(args);
      assertEquals(2, r.code(), String.join(" ", bad) + ": " + r.err());
      ForwardCommandTest.assertOneLine(r.err(), "--help");
    }
    assertTrue(!Files.exists(tmp.resolve("c")), "nothing written for a usage error");
  }
}
