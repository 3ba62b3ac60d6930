package org.hnet.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.hnet.HNetModel;
import org.junit.jupiter.api.Test;

/** The README's Java API example, as written there (on a golden model instead of runs/demo). */
class ApiExampleTest {
  @Test
  void theReadmeExampleRuns() {
    StringBuilder printed = new StringBuilder();
    HNetModel model = HNetModel.load(Path.of("src/test/resources/golden/2stage"));
    GenerateOptions opts = GenerateOptions.of(200, new SamplingOptions(0.8, 0, 0.95, 42));
    model.generate("Call me Ishmael.", opts, printed::append);
    for (var it = model.stream("The whale", opts); it.hasNext(); ) printed.append(it.next());
    String text = model.generate("Ahab", opts);
    var batch = model.generateBatch(java.util.List.of("a", "b"), opts);
    Scorer.Score s = model.score("It was the best of times.");
    double[] logProbs = s.logProbs();
    boolean[] stage0 = s.boundaries().get(0);
    assertTrue(printed.length() > 0 && !text.isEmpty());
    assertEquals(2, batch.size());
    assertEquals(25, logProbs.length);
    assertEquals(25, stage0.length);
  }
}
