package org.hnet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** hnet quantize, and --weights on the inference commands, as a user meets them. */
class QuantizeCommandTest {
  static final Path MODEL = AnalysisCommandsTest.MODEL;

  @Test
  void quantizeWritesASmallerModelThatEveryCommandLoads(@TempDir Path tmp) throws Exception {
    Path data = tmp.resolve("t.txt");
    Files.writeString(data, "It was the best of times, it was the worst of times.\n".repeat(30));
    ObjectMapper m = new ObjectMapper();
    double f32 = Double.NaN;
    for (String f : new String[] {"f32", "bf16", "int8"}) {
      var r =
          ForwardCommandTest.run(
              "eval",
              "--model",
              MODEL.toString(),
              "--data",
              data.toString(),
              "--weights",
              f,
              "--json",
              "--no-progress",
              "--seq-len",
              "128");
      assertEquals(0, r.code(), r.err());
      JsonNode j = m.readTree(r.out());
      assertEquals(f, j.get("weights").asText());
      if (f.equals("f32")) f32 = j.get("bpb").asDouble();
      else assertEquals(f32, j.get("bpb").asDouble(), 0.05, f); // random weights: near, not equal
    }
    Path q = tmp.resolve("m-int8");
    var r =
        ForwardCommandTest.run(
            "quantize", "--model", MODEL.toString(), "--out", q.toString(), "--weights", "int8");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("int8 weights"), r.out());
    assertFalse(r.out().contains("stays lost"), "from float32 nothing is lost before: " + r.out());
    assertTrue(
        Files.size(q.resolve("model.safetensors"))
            < 0.6 * Files.size(MODEL.resolve("model.safetensors")));
    try (var s = Files.list(tmp)) {
      assertEquals(2, s.count(), "no temporary left beside it"); // t.txt and m-int8
    }
    // inspect says what the directory holds, and the int8 bytes it predicts are the file's
    // tensors (the file adds its JSON header)
    r = ForwardCommandTest.run("inspect", "--model", q.toString());
    assertEquals(0, r.code(), r.err());
    long file = Files.size(q.resolve("model.safetensors"));
    assertTrue(
        r.out()
            .contains("model.safetensors, " + InspectCommand.megabytes(file) + "; loads as int8"),
        r.out());
    java.util.regex.Matcher held =
        java.util.regex.Pattern.compile("int8 ([0-9,.]+) MB \\(the large").matcher(r.out());
    assertTrue(held.find(), r.out());
    double heldMb = Double.parseDouble(held.group(1).replace(",", ""));
    assertTrue(file / 1e6 - heldMb >= -0.05 && file / 1e6 - heldMb < 0.1, heldMb + " of " + file);
    // the new directory is the user's, like one made by mkdir: not owner-only
    if (Files.getFileStore(tmp).supportsFileAttributeView("posix")) {
      Path plain = Files.createDirectory(tmp.resolve("plain"));
      assertEquals(
          Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(q), "permissions");
      Files.delete(plain);
    }
    // loads as int8 with no flag; eval --against f32 reports the difference
    r =
        ForwardCommandTest.run(
            "eval",
            "--model",
            q.toString(),
            "--data",
            data.toString(),
            "--json",
            "--no-progress",
            "--seq-len",
            "128",
            "--against",
            "bf16");
    assertEquals(0, r.code(), r.err());
    JsonNode j = m.readTree(r.out());
    assertEquals("int8", j.get("weights").asText());
    assertEquals("bf16", j.get("against").get("weights").asText());
    double agree = j.get("against").get("boundary_agreement").get(0).asDouble();
    assertTrue(agree > 0.9 && agree <= 1, r.out());
    r =
        ForwardCommandTest.run(
            "eval",
            "--model",
            MODEL.toString(),
            "--data",
            data.toString(),
            "--no-progress",
            "--weights",
            "int8",
            "--against",
            "f32",
            "--seq-len",
            "128");
    assertEquals(0, r.code(), r.err());
    assertTrue(
        r.out().contains("with f32 weights:") && r.out().contains("identical boundary decisions"),
        r.out());
    // generate, chunks and forward take the quantized directory and --weights
    r =
        ForwardCommandTest.run(
            "generate",
            "--model",
            q.toString(),
            "--prompt",
            "It was",
            "--max-bytes",
            "20",
            "--seed",
            "1");
    assertEquals(0, r.code(), r.err());
    r =
        ForwardCommandTest.run(
            "chunks", "--model", q.toString(), "--text", "It was the best", "--weights", "bf16");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("bytes/chunk"), r.out());
    // back to float32: the dequantized values, written as float32
    Path back = tmp.resolve("m-back");
    r =
        ForwardCommandTest.run(
            "quantize", "--model", q.toString(), "--out", back.toString(), "--weights", "f32");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("int8 weights: the values are the int8 model's"), r.out());
    assertEquals(
        Files.size(MODEL.resolve("model.safetensors")),
        Files.size(back.resolve("model.safetensors")),
        64.0);
  }

  @Test
  void mistakesAreOneLineAndTouchNothing(@TempDir Path tmp) throws Exception {
    var r =
        ForwardCommandTest.run(
            "generate", "--model", MODEL.toString(), "--prompt", "x", "--weights", "int4");
    assertEquals(2, r.code());
    ForwardCommandTest.assertOneLine(r.err(), "int4");
    Path out = tmp.resolve("taken");
    Files.createDirectories(out);
    Files.writeString(out.resolve("notes.txt"), "mine");
    r =
        ForwardCommandTest.run(
            "quantize", "--model", MODEL.toString(), "--out", out.toString(), "--weights", "bf16");
    assertEquals(1, r.code());
    ForwardCommandTest.assertOneLine(r.err(), "not empty");
    try (var s = Files.list(out)) {
      assertEquals(1, s.count());
    }
    assertEquals("mine", Files.readString(out.resolve("notes.txt")));
    r =
        ForwardCommandTest.run(
            "quantize", "--model", MODEL.toString(), "--out", tmp.resolve("x").toString());
    assertEquals(2, r.code(), "--weights is required");
    assertFalse(Files.exists(tmp.resolve("x")));
    // a compact model does not train or take gradients
    Path q = tmp.resolve("q");
    assertEquals(
        0,
        ForwardCommandTest.run(
                "quantize", "--model", MODEL.toString(), "--out", q.toString(), "--weights", "bf16")
            .code());
    r =
        ForwardCommandTest.run(
            "grad",
            "--model",
            q.toString(),
            "--input",
            MODEL.resolve("io.safetensors").toString(),
            "--case",
            MODEL.resolve("case.json").toString(),
            "--output",
            tmp.resolve("g.safetensors").toString());
    assertEquals(1, r.code(), r.out() + r.err());
    ForwardCommandTest.assertOneLine(r.err(), "--weights f32");
  }
}
