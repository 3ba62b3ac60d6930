package org.hnet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Comparing runs: the bpb chart, and the word-alignment chart below it when runs recorded it. */
class PlotsTest {
  static Path run(Path dir, String name, boolean alignment) throws Exception {
    Path r = Files.createDirectories(dir.resolve(name));
    StringBuilder m = new StringBuilder();
    for (int step = 1; step <= 3; step++) {
      String stages =
          alignment
              ? "[{\"word_alignment\": {\"precision\": "
                  + (0.4 + 0.1 * step)
                  + ", \"recall\": 0.5, \"baseline_precision\": 0.38, \"baseline_recall\": 0.4}}]"
              : "[]";
      m.append(
          "{\"step\": %d, \"bytes\": %d, \"eval\": {\"bpb\": %.2f, \"bytes\": 10, \"stages\": %s}}\n"
              .formatted(step, step * 1000, 3.0 - 0.2 * step, stages));
    }
    Files.writeString(r.resolve("metrics.jsonl"), m);
    return r;
  }

  static int height(Path png) throws Exception {
    return javax.imageio.ImageIO.read(png.toFile()).getHeight();
  }

  @Test
  void runsWithWordAlignmentGetASecondChart(@TempDir Path tmp) throws Exception {
    Path plain = tmp.resolve("plain.png"), words = tmp.resolve("words.png");
    Plots.compareRuns(List.of(run(tmp, "a", false), run(tmp, "b", false)), plain);
    Plots.compareRuns(List.of(run(tmp, "c", false), run(tmp, "d", true)), words);
    assertEquals(500, height(plain));
    assertEquals(500 + 350, height(words));
  }
}
