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

/** {@code hnet forward --step} (the decoder's exactness check on the command line). */
class GenerateCommandTest {
  @Test
  void forwardStepGivesTheSameOutputsAsTheParallelForward(@TempDir Path tmp) {
    for (String name : new String[] {"2stage", "1stage-packed"}) {
      Path c = ForwardCommandTest.GOLDEN.resolve(name);
      Path a = tmp.resolve(name + "-par.safetensors"), b = tmp.resolve(name + "-step.safetensors");
      assertEquals(
          0,
          ForwardCommandTest.run(
                  "forward",
                  "--model",
                  c.toString(),
                  "--input",
                  c.resolve("io.safetensors").toString(),
                  "--output",
                  a.toString())
              .code());
      var r =
          ForwardCommandTest.run(
              "forward",
              "--step",
              "--model",
              c.toString(),
              "--input",
              c.resolve("io.safetensors").toString(),
              "--output",
              b.toString());
      assertEquals(0, r.code(), r.err());
      Map<String, TensorData> par = SafeTensors.read(a), step = SafeTensors.read(b);
      assertEquals(par.keySet(), step.keySet());
      float[] lp = par.get("logits").toFloats(), ls = step.get("logits").toFloats();
      float err = 0;
      for (int i = 0; i < lp.length; i++) err = Math.max(err, Math.abs(lp[i] - ls[i]));
      assertTrue(err <= 1e-4f, name + ": step logits differ by " + err);
      for (String k : par.keySet()) {
        if (k.startsWith("boundary_mask_"))
          assertArrayEquals(par.get(k).toU8(), step.get(k).toU8(), name + " " + k);
        if (k.startsWith("cu_seqlens_"))
          assertArrayEquals(par.get(k).toLongs(), step.get(k).toLongs(), name + " " + k);
      }
    }
  }

  @Test
  void generateRefusesTwoPromptSources(@TempDir Path tmp) throws Exception {
    Path f = tmp.resolve("p.txt");
    Files.writeString(f, "a\nb\n");
    var r =
        ForwardCommandTest.run(
            "generate",
            "--model",
            ForwardCommandTest.GOLDEN.resolve("2stage").toString(),
            "--prompt",
            "x",
            "--batch-file",
            f.toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("mutually exclusive"), r.err());
  }
}
