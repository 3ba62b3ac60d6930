package org.hnet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad files give one line naming the file and the problem, never "internal error", a hang or a
 * trace.
 */
class HostileFilesTest {
  static final Path MODEL = ForwardCommandTest.GOLDEN.resolve("2stage");

  private static void oneLineError(String fragment, String... args) {
    var r = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> ForwardCommandTest.run(args));
    assertEquals(1, r.code(), String.join(" ", args) + ": " + r.err());
    ForwardCommandTest.assertOneLine(r.err(), fragment);
  }

  @Test
  void configSizesAreCheckedInLongArithmetic(@TempDir Path tmp) throws Exception {
    String base = Files.readString(MODEL.resolve("config.json"));
    Path huge = tmp.resolve("huge.json");
    Files.writeString(
        huge,
        base.replaceFirst(
            "\"d_intermediate\":\\s*\\[[^\\]]*\\]", "\"d_intermediate\": [0, 128, 2147483647]"));
    oneLineError(
        "d_intermediate[2] must be in [0, 4194304]", "inspect", "--config", huge.toString());
    oneLineError(
        "d_intermediate[2] must be in [0, 4194304]",
        "init",
        "--config",
        huge.toString(),
        "--out",
        tmp.resolve("m").toString());
    Path wide = tmp.resolve("wide.json");
    Files.writeString(
        wide,
        base.replaceFirst(
                "\"d_intermediate\":\\s*\\[[^\\]]*\\]", "\"d_intermediate\": [0, 128, 4194304]")
            .replaceFirst("\"d_model\":\\s*\\[[^\\]]*\\]", "\"d_model\": [1024, 1024, 1024]"));
    oneLineError("more than one array holds", "inspect", "--config", wide.toString());
    // found by LoaderFuzzTest: a 10-digit layer count overflowed the block limit and filled the
    // heap
    Path layers = tmp.resolve("layers.json");
    Files.writeString(layers, base.replaceFirst("\"T1m1\"", "\"T1m2147483647\""));
    oneLineError("more than 10000 blocks in one stack", "inspect", "--config", layers.toString());
  }

  @Test
  void unreadableFilesAreNamed(@TempDir Path tmp) throws Exception {
    Path latin1 = tmp.resolve("latin1");
    Files.createDirectories(latin1);
    Files.write(
        latin1.resolve("config.json"),
        "{\"arch_layout\": [\"m1\"], \"d_model\": [64], \"x\": \"caf\u00e9\"}"
            .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
    oneLineError("not UTF-8", "inspect", "--config", latin1.resolve("config.json").toString());

    oneLineError(
        "is a file, not a model directory",
        "chunks",
        "--model",
        MODEL.resolve("config.json").toString(),
        "--text",
        "hi");
    oneLineError(
        "no such directory", "chunks", "--model", tmp.resolve("nope").toString(), "--text", "hi");

    // a FIFO as the weights: opening it would block forever
    Path fifoModel = tmp.resolve("fifo-model");
    Files.createDirectories(fifoModel);
    Files.copy(MODEL.resolve("config.json"), fifoModel.resolve("config.json"));
    Process mk =
        new ProcessBuilder("mkfifo", fifoModel.resolve("model.safetensors").toString()).start();
    assertEquals(0, mk.waitFor());
    oneLineError("not a regular file", "chunks", "--model", fifoModel.toString(), "--text", "hi");
    oneLineError(
        "not a regular file",
        "forward",
        "--model",
        MODEL.toString(),
        "--input",
        "/dev/zero",
        "--output",
        tmp.resolve("o.safetensors").toString());
  }

  @Test
  void damagedRunFilesAreNamed(@TempDir Path tmp) throws Exception {
    Path cfg = tmp.resolve("tiny.json");
    Files.writeString(cfg, TrainProcessTest.TINY);
    Path data = tmp.resolve("d.txt");
    Files.writeString(data, "The whale, the whale! Thar she blows.\n".repeat(200));
    Path run = tmp.resolve("run");
    var r =
        ForwardCommandTest.run(
            "train",
            "--config",
            cfg.toString(),
            "--data",
            data.toString(),
            "--out",
            run.toString(),
            "--steps",
            "2",
            "--batch",
            "2",
            "--seq-len",
            "64",
            "--ratio",
            "4",
            "--no-progress");
    assertEquals(0, r.code(), r.err());
    String options = Files.readString(run.resolve("options.json"));
    Files.writeString(run.resolve("options.json"), "");
    oneLineError("options.json: empty", "train", "--resume", run.toString());
    Files.writeString(run.resolve("options.json"), options);

    // optimizer.safetensors whose "steps" is not a number
    Path opt = run.resolve("checkpoint/optimizer.safetensors");
    var tensors = org.hnet.io.SafeTensors.read(opt);
    var copy = new java.util.LinkedHashMap<String, org.hnet.io.TensorData>();
    tensors.forEach(
        (k, v) -> copy.put(k, org.hnet.io.TensorData.ofFloats(v.shape(), v.toFloats())));
    org.hnet.io.SafeTensors.write(opt, copy, java.util.Map.of("steps", "two"));
    oneLineError(
        "metadata 'steps' must be a non-negative integer, got 'two'",
        "train",
        "--resume",
        run.toString());
  }
}
