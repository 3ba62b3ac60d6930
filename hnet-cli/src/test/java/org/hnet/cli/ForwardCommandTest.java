package org.hnet.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.hnet.io.SafeTensors;
import org.hnet.io.TensorData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code hnet forward} contract: output tensors, and one-line errors for bad input. */
class ForwardCommandTest {
  static final Path GOLDEN = Path.of("../hnet-core/src/test/resources/golden");

  record Result(int code, String out, String err) {}

  static Result run(String... args) {
    StringWriter out = new StringWriter(), err = new StringWriter();
    int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
    return new Result(code, out.toString(), err.toString());
  }

  @Test
  void writesLogitsAndEveryStagesRoutingTensors(@TempDir Path tmp) {
    Path model = GOLDEN.resolve("2stage");
    Path outFile = tmp.resolve("out.safetensors");
    Result r =
        run(
            "forward",
            "--model",
            model.toString(),
            "--input",
            model.resolve("io.safetensors").toString(),
            "--output",
            outFile.toString());
    assertEquals(0, r.code(), r.err());
    Map<String, TensorData> out = SafeTensors.read(outFile);
    Map<String, TensorData> golden = SafeTensors.read(model.resolve("io.safetensors"));
    assertArrayEquals(new int[] {1, 192, 256}, out.get("logits").shape());
    for (int s = 0; s < 2; s++) {
      assertArrayEquals(
          golden.get("boundary_mask_" + s).toU8(), out.get("boundary_mask_" + s).toU8());
      int n = out.get("boundary_prob_" + s).shape()[0];
      assertEquals(n, out.get("selected_probs_" + s).shape()[0]);
      long[] cu = out.get("cu_seqlens_" + s).toLongs();
      assertEquals(2, cu.length);
      assertEquals(n, cu[1]);
    }
    assertFalse(out.containsKey("boundary_prob_2"));
    assertFalse(Files.exists(tmp.resolve("out.safetensors.tmp")), "no temporary file left behind");
  }

  @Test
  void packedRowsGiveEachRowItsOwnOffsets(@TempDir Path tmp) {
    Path model = GOLDEN.resolve("1stage-packed");
    Path outFile = tmp.resolve("out.safetensors");
    Result r =
        run(
            "forward",
            "--model",
            model.toString(),
            "--input",
            model.resolve("io.safetensors").toString(),
            "--output",
            outFile.toString(),
            "--threads",
            "1");
    assertEquals(0, r.code(), r.err());
    Map<String, TensorData> out = SafeTensors.read(outFile);
    Map<String, TensorData> golden = SafeTensors.read(model.resolve("io.safetensors"));
    assertArrayEquals(golden.get("cu_seqlens_0").toLongs(), out.get("cu_seqlens_0").toLongs());
    assertArrayEquals(golden.get("boundary_mask_0").toU8(), out.get("boundary_mask_0").toU8());
  }

  @Test
  void tokenIdsOutsideAByteAreNamedByPosition(@TempDir Path tmp) {
    Path in = tmp.resolve("in.safetensors");
    SafeTensors.write(
        in,
        Map.of("input_ids", TensorData.ofLongs(new int[] {1, 3}, new long[] {1, 2, 300})),
        Map.of());
    Result r =
        run(
            "forward",
            "--model",
            GOLDEN.resolve("isotropic-m").toString(),
            "--input",
            in.toString(),
            "--output",
            tmp.resolve("o.safetensors").toString());
    assertEquals(1, r.code());
    assertOneLine(r.err(), "input_ids[0, 2] = 300");
  }

  @Test
  void emptyInputIsRefused(@TempDir Path tmp) {
    Path in = tmp.resolve("in.safetensors");
    SafeTensors.write(
        in, Map.of("input_ids", TensorData.ofLongs(new int[] {1, 0}, new long[0])), Map.of());
    Result r =
        run(
            "forward",
            "--model",
            GOLDEN.resolve("isotropic-m").toString(),
            "--input",
            in.toString(),
            "--output",
            tmp.resolve("o.safetensors").toString());
    assertEquals(1, r.code());
    assertOneLine(r.err(), "empty");
  }

  @Test
  void floatTokenIdsAreRefused(@TempDir Path tmp) {
    Path in = tmp.resolve("in.safetensors");
    SafeTensors.write(
        in,
        Map.of("input_ids", TensorData.ofFloats(new int[] {1, 2}, new float[] {1, 2})),
        Map.of());
    Result r =
        run(
            "forward",
            "--model",
            GOLDEN.resolve("isotropic-m").toString(),
            "--input",
            in.toString(),
            "--output",
            tmp.resolve("o.safetensors").toString());
    assertEquals(1, r.code());
    assertOneLine(r.err(), "int64 or int32");
  }

  @Test
  void aTruncatedInputFileIsNamed(@TempDir Path tmp) throws IOException {
    byte[] all = Files.readAllBytes(GOLDEN.resolve("isotropic-m/io.safetensors"));
    Path in = tmp.resolve("cut.safetensors");
    Files.write(in, java.util.Arrays.copyOf(all, all.length / 2));
    Result r =
        run(
            "forward",
            "--model",
            GOLDEN.resolve("isotropic-m").toString(),
            "--input",
            in.toString(),
            "--output",
            tmp.resolve("o.safetensors").toString());
    assertEquals(1, r.code());
    assertOneLine(r.err(), "cut.safetensors");
  }

  @Test
  void aConfigThatDoesNotMatchTheWeightsIsRefused(@TempDir Path tmp) throws IOException {
    Files.copy(GOLDEN.resolve("isotropic-T/config.json"), tmp.resolve("config.json"));
    Files.copy(GOLDEN.resolve("isotropic-m/model.safetensors"), tmp.resolve("model.safetensors"));
    Result r =
        run(
            "forward",
            "--model",
            tmp.toString(),
            "--input",
            GOLDEN.resolve("isotropic-m/io.safetensors").toString(),
            "--output",
            tmp.resolve("o.safetensors").toString());
    assertEquals(1, r.code());
    assertOneLine(r.err(), "missing");
  }

  @Test
  void debugShowsTheStackTrace(@TempDir Path tmp) {
    Result r =
        run(
            "forward",
            "--debug",
            "--model",
            tmp.toString(),
            "--input",
            "nope.safetensors",
            "--output",
            tmp.resolve("o.safetensors").toString());
    assertEquals(1, r.code());
    assertTrue(r.err().contains("\tat "), r.err());
  }

  static void assertOneLine(String err, String mustContain) {
    String trimmed = err.strip();
    assertFalse(trimmed.contains("\n"), "error is not one line: " + err);
    assertTrue(trimmed.startsWith("hnet: "), err);
    assertTrue(trimmed.contains(mustContain), "error should mention '" + mustContain + "': " + err);
  }
}
