package org.hnet.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.hnet.io.SafeTensors;
import org.hnet.io.TensorData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code hnet grad} reproduces the golden losses and gradients in the golden dtypes and shapes. */
class GradCommandTest {
  @Test
  void writesTheGoldenLossesAndGradients(@TempDir Path tmp) {
    Path c = ForwardCommandTest.GOLDEN.resolve("2stage");
    Path outFile = tmp.resolve("g.safetensors");
    var r =
        ForwardCommandTest.run(
            "grad",
            "--model",
            c.toString(),
            "--input",
            c.resolve("io.safetensors").toString(),
            "--case",
            c.resolve("case.json").toString(),
            "--output",
            outFile.toString());
    assertEquals(0, r.code(), r.err());
    Map<String, TensorData> out = SafeTensors.read(outFile),
        golden = SafeTensors.read(c.resolve("io.safetensors"));
    for (String k : new String[] {"ce_loss", "ratio_loss_0", "ratio_loss_1", "total_loss"}) {
      assertArrayEquals(new int[0], out.get(k).shape(), k);
      float want = golden.get(k).toFloats()[0], got = out.get(k).toFloats()[0];
      assertTrue(Math.abs(got - want) <= 1e-5 * Math.abs(want), k + ": " + got + " vs " + want);
    }
    long grads = golden.keySet().stream().filter(k -> k.startsWith("grad.")).count();
    assertEquals(grads, out.keySet().stream().filter(k -> k.startsWith("grad.")).count());
    for (String k : golden.keySet()) {
      if (!k.startsWith("grad.")) continue;
      assertArrayEquals(golden.get(k).shape(), out.get(k).shape(), k);
      float[] want = golden.get(k).toFloats(), got = out.get(k).toFloats();
      double scale = 0, err = 0;
      for (int i = 0; i < want.length; i++) {
        scale = Math.max(scale, Math.abs(want[i]));
        err = Math.max(err, Math.abs(want[i] - got[i]));
      }
      assertTrue(err <= 1e-3 * scale, k + ": rel error " + err / scale);
    }
  }

  @Test
  void aCaseWithTheWrongNumberOfRatioTargetsIsRefused(@TempDir Path tmp) throws Exception {
    Path c = ForwardCommandTest.GOLDEN.resolve("2stage");
    Path bad = tmp.resolve("case.json");
    Files.writeString(bad, "{\"N\": [3], \"alpha\": 0.03}");
    var r =
        ForwardCommandTest.run(
            "grad",
            "--model",
            c.toString(),
            "--input",
            c.resolve("io.safetensors").toString(),
            "--case",
            bad.toString(),
            "--output",
            tmp.resolve("g.safetensors").toString());
    assertEquals(1, r.code());
    ForwardCommandTest.assertOneLine(r.err(), "ratio target");
  }
}
