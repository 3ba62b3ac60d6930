package org.hnet.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.hnet.HNetException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointsTest {
  private static final Path PACKED = SafeTensorsTest.GOLDEN.resolve("1stage-packed");

  @Test
  void prefersSafetensorsThenFallsBackToPt(@TempDir Path dir) throws IOException {
    Map<String, TensorData> sd = Checkpoints.loadStateDict(PACKED);
    assertTrue(sd.get("lm_head.weight").label().contains("model.safetensors"));

    Files.copy(PACKED.resolve("model.pt"), dir.resolve("model.pt"));
    Map<String, TensorData> pt = Checkpoints.loadStateDict(dir);
    assertTrue(pt.get("lm_head.weight").label().contains("model.pt"));
    assertEquals(sd.keySet(), pt.keySet());
    assertEquals(sd.keySet(), Checkpoints.loadStateDict(dir.resolve("model.pt")).keySet());

    Path empty = Files.createDirectory(dir.resolve("empty"));
    HNetException e = assertThrows(HNetException.class, () -> Checkpoints.loadStateDict(empty));
    assertEquals(empty + ": contains neither model.safetensors nor model.pt", e.getMessage());
    Path none = dir.resolve("nope");
    e = assertThrows(HNetException.class, () -> Checkpoints.loadStateDict(none));
    assertTrue(e.getMessage().startsWith(none + ":"), e.getMessage());
  }

  @Test
  void checkStrictPassesTheGoldenModelAgainstItsOwnShapes() {
    Map<String, TensorData> sd = Checkpoints.loadStateDict(PACKED);
    Map<String, int[]> shapes = new LinkedHashMap<>();
    sd.forEach((k, v) -> shapes.put(k, v.shape()));
    Checkpoints.checkStrict(shapes, sd, "model.safetensors");
  }

  @Test
  void checkStrictListsMissingUnexpectedAndMisShapedOnOneLine() {
    Map<String, int[]> expected = new LinkedHashMap<>();
    for (int i = 0; i < 6; i++) {
      expected.put("missing." + i, new int[] {i + 1});
    }
    expected.put("w", new int[] {4, 8});
    expected.put("ok", new int[] {2});
    Map<String, TensorData> actual = new LinkedHashMap<>();
    actual.put("w", TensorData.ofFloats(new int[] {8, 4}, new float[32]));
    actual.put("ok", TensorData.ofFloats(new int[] {2}, new float[2]));
    actual.put("extra", TensorData.ofU8(new int[] {3}, new byte[3]));
    HNetException e =
        assertThrows(
            HNetException.class, () -> Checkpoints.checkStrict(expected, actual, "ckpt/model.pt"));
    assertEquals(
        "ckpt/model.pt: state dict does not match the model: 6 missing (missing.0 [1], "
            + "missing.1 [2], missing.2 [3], missing.3 [4], ...); 1 unexpected (extra [3]); "
            + "1 mis-shaped (w [8, 4] vs model [4, 8])",
        e.getMessage());

    actual.remove("extra");
    expected.keySet().removeIf(k -> k.startsWith("missing"));
    e = assertThrows(HNetException.class, () -> Checkpoints.checkStrict(expected, actual, "x"));
    assertEquals(
        "x: state dict does not match the model: 1 mis-shaped (w [8, 4] vs model [4, 8])",
        e.getMessage());
  }

  /** A weight relabelled from F32 to I32 (same size, other meaning) is refused, not converted. */
  @Test
  void integerWeightsAreRefused() {
    Map<String, int[]> expected = Map.of("w", new int[] {2});
    Map<String, TensorData> actual =
        Map.of("w", TensorData.ofLongs(new int[] {2}, new long[] {1, 2}));
    HNetException e =
        assertThrows(HNetException.class, () -> Checkpoints.checkStrict(expected, actual, "m"));
    assertEquals(
        "m: state dict does not match the model: 1 not floating point (w I64)", e.getMessage());
  }
}
