package org.hnet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a new user meets in the first hour, through the real command line (a separate JVM where
 * standard input, the exit code or the raw bytes of the output matter): characters kept whole,
 * training further and fine-tuning, usage errors, data that is not text, Ctrl-C.
 */
class EverydayUseTest {
  static final Path MODEL = ForwardCommandTest.GOLDEN.resolve("1stage-mixed");
  static final ObjectMapper JSON = new ObjectMapper();

  record Exec(int code, byte[] out, String err) {
    String text() {
      return TextViewsTest.strict(out); // every view prints valid UTF-8
    }
  }

  /** `hnet ARGS` in a new JVM, in {@code dir}, with {@code stdin} and extra environment. */
  static Exec hnet(Path dir, byte[] stdin, Map<String, String> env, String... args)
      throws Exception {
    List<String> cmd = javaMain();
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
    pb.environment().putAll(env);
    Path out = Files.createTempFile(dir, "out", ".bin"),
        err = Files.createTempFile(dir, "err", ".txt");
    pb.redirectOutput(out.toFile()).redirectError(err.toFile());
    Process p = pb.start();
    try (var in = p.getOutputStream()) {
      if (stdin != null) in.write(stdin);
    }
    assertTrue(p.waitFor(180, TimeUnit.SECONDS), "hnet " + String.join(" ", args) + " hung");
    // the JVM's own line about the incubator module is not the program's (the launcher drops it)
    String errText =
        Files.readString(err)
            .replaceAll("(?m)^WARNING: Using incubator modules: jdk.incubator.vector\\R", "");
    Exec e = new Exec(p.exitValue(), Files.readAllBytes(out), errText);
    Files.delete(out);
    Files.delete(err);
    return e;
  }

  /** The command line of `hnet` in a new JVM with this test's classpath, without arguments. */
  static List<String> javaMain() {
    return new ArrayList<>(
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "--add-modules=jdk.incubator.vector",
            "-cp",
            System.getProperty("java.class.path"),
            "org.hnet.cli.Main"));
  }

  static Exec hnet(Path dir, String... args) throws Exception {
    return hnet(dir, null, Map.of(), args);
  }

  /** One line on stderr, no Java in it. */
  static void oneLine(String err, String mustContain) {
    ForwardCommandTest.assertOneLine(err, mustContain);
    assertFalse(err.contains("Exception") || err.contains("internal error"), err);
    assertFalse(err.contains("\tat "), err);
  }

  static String abs(Path p) {
    return p.toAbsolutePath().toString();
  }

  // ---- 1: characters whole --------------------------------------------------------------------

  @Test
  void chunksKeepsCharactersWholeWhenPipedAndInJson(@TempDir Path tmp) throws Exception {
    String text = "Call me Ishmael. café 漢字 😀 naïve résumé e\u0301";
    Exec r = hnet(tmp, "chunks", "--model", abs(MODEL), "--text", text);
    assertEquals(0, r.code(), r.err());
    String shown = r.text().lines().findFirst().orElseThrow();
    // the marks removed, the text is the input exactly: no character was cut
    assertEquals(text, shown.replaceAll("[|‖¦]", ""), shown);
    assertTrue(r.text().contains("bytes/chunk"), r.text());

    // --json: byte offsets and the decoded text apart, chunks that cover the bytes
    Exec j = hnet(tmp, "chunks", "--model", abs(MODEL), "--text", text, "--json");
    assertEquals(0, j.code(), j.err());
    JsonNode root = JSON.readTree(j.out());
    assertEquals(text, root.get("text").asText());
    JsonNode chunks = root.get("stages").get(0).get("chunks");
    int at = 0;
    for (JsonNode c : chunks) {
      assertEquals(at, c.get("start").asInt());
      at = c.get("end").asInt();
    }
    assertEquals(text.getBytes(StandardCharsets.UTF_8).length, at);

    // a Chinese line and malformed input bytes from a file: still valid UTF-8 out
    Path f = tmp.resolve("zh.txt");
    Files.write(
        f,
        TextViewsTest.concat(
            "我们的模型直接从字节学习分块。".getBytes(StandardCharsets.UTF_8),
            new byte[] {(byte) 0xff, (byte) 0xe6, (byte) 0xbc, 'x'}));
    Exec z = hnet(tmp, "chunks", "--model", abs(MODEL), "--input", abs(f));
    assertEquals(0, z.code(), z.err());
    assertTrue(z.text().contains("\uFFFD"), "malformed bytes show as U+FFFD: " + z.text());
    String top = z.text().lines().filter(l -> l.contains("most frequent")).findFirst().orElse("");
    assertFalse(top.contains("\uFFFD×"), "the frequent chunks show broken bytes as hex: " + top);
  }

  @Test
  void generateStreamsWholeCharactersAndWritesJsonLines(@TempDir Path tmp) throws Exception {
    Exec r =
        hnet(
            tmp,
            "generate",
            "--model",
            abs(MODEL),
            "--prompt",
            "漢字 😀",
            "--max-bytes",
            "60",
            "--seed",
            "3",
            "--show-chunks");
    assertEquals(0, r.code(), r.err());
    r.text(); // valid UTF-8, whatever the random model produced

    // a batch from stdin, a blank line kept as an empty prompt, one JSON line per row
    byte[] batch = "café\n\nnaïve\n".getBytes(StandardCharsets.UTF_8);
    Exec j =
        hnet(
            tmp,
            batch,
            Map.of(),
            "generate",
            "--model",
            abs(MODEL),
            "--batch-file",
            "-",
            "--max-bytes",
            "20",
            "--json");
    assertEquals(0, j.code(), j.err());
    List<String> lines = j.text().lines().toList();
    assertEquals(3, lines.size(), j.text());
    String[] prompts = {"café", "", "naïve"};
    for (int i = 0; i < 3; i++) {
      JsonNode o = JSON.readTree(lines.get(i));
      assertEquals(i, o.get("row").asInt());
      assertEquals(prompts[i], o.get("prompt").asText());
      assertTrue(o.get("bytes").asInt() <= 20);
      assertTrue(o.has("text") && o.has("stop"), lines.get(i));
      assertEquals(1, o.get("chunk_starts").size(), "one list per chunking stage");
    }

    // --prompt-file - reads the prompt from stdin
    Exec s =
        hnet(
            tmp,
            "Call me".getBytes(StandardCharsets.UTF_8),
            Map.of(),
            "generate",
            "--model",
            abs(MODEL),
            "--prompt-file",
            "-",
            "--max-bytes",
            "5");
    assertEquals(0, s.code(), s.err());
    assertTrue(s.text().startsWith("Call me"), s.text());
  }

  @Test
  void interactiveModeAnswersEveryLineWithOneModel(@TempDir Path tmp) throws Exception {
    Exec r =
        hnet(
            tmp,
            "first prompt\nsecond prompt\n".getBytes(StandardCharsets.UTF_8),
            Map.of(),
            "generate",
            "--model",
            abs(MODEL),
            "--interactive",
            "--max-bytes",
            "10");
    assertEquals(0, r.code(), r.err());
    String out = r.text();
    int a = out.indexOf("first prompt"), b = out.indexOf("second prompt");
    assertTrue(a >= 0 && b > a, out);
  }

  /**
   * On a real terminal (a pseudo-terminal from util-linux `script`, where it is installed): colours
   * with black text on every background, whole characters; NO_COLOR gives the plain marks.
   */
  @Test
  void onATerminalColoursAreReadableAndNoColorIsRespected(@TempDir Path tmp) throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        Files.isExecutable(Path.of("/usr/bin/script")), "util-linux script is not installed");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String cmd =
        String.join(
            " ",
            java,
            "--add-modules=jdk.incubator.vector",
            "-cp",
            "'" + System.getProperty("java.class.path") + "'",
            "org.hnet.cli.Main",
            "chunks",
            "--model",
            "'" + abs(MODEL) + "'",
            "--text",
            "'café 漢字 😀'");
    for (boolean noColor : new boolean[] {false, true}) {
      ProcessBuilder pb =
          new ProcessBuilder("/usr/bin/script", "-qec", cmd, "/dev/null").directory(tmp.toFile());
      pb.environment().remove("NO_COLOR");
      pb.environment().put("TERM", "xterm-256color");
      if (noColor) pb.environment().put("NO_COLOR", "1");
      pb.redirectErrorStream(true).redirectOutput(tmp.resolve("tty.txt").toFile());
      Process p = pb.start();
      p.getOutputStream().close();
      assertTrue(p.waitFor(120, TimeUnit.SECONDS));
      assertEquals(0, p.exitValue(), Files.readString(tmp.resolve("tty.txt")));
      String out = TextViewsTest.strict(Files.readAllBytes(tmp.resolve("tty.txt")));
      String first =
          out.lines()
              .filter(l -> plain(l).contains("café 漢字 😀"))
              .findFirst()
              .orElseThrow(() -> new AssertionError("the text is not whole: " + out));
      if (noColor) {
        assertFalse(first.contains("\u001b["), first);
      } else {
        assertTrue(
            first.contains("\u001b[0;30;48;5;"), "black text on a light background: " + first);
      }
    }
  }

  /** The characters of a terminal line: colours and chunk marks removed. */
  static String plain(String line) {
    return line.replaceAll("\u001b\\[[0-9;]*m", "").replaceAll("[|‖¦]", "");
  }

  // ---- 3: mistakes are user errors ------------------------------------------------------------

  @Test
  void usageErrorsAreOneLineAndExitTwo(@TempDir Path tmp) throws Exception {
    String m = abs(MODEL);
    String[][] usage = {
      {"generate", "--model", m, "--prompt", "a", "--temperature", "-1"},
      {"generate", "--model", m, "--prompt", "a", "--top-p", "2"},
      {"generate", "--model", m, "--prompt", "a", "--max-bytes", "0"},
      {"bench", "--threads", "0"},
      {"train", "--steps", "-3", "--out", abs(tmp.resolve("never"))},
      {"train", "--lr-mult", "1", "--out", abs(tmp.resolve("never"))},
      {"train", "--no-such-flag"},
      {"eval", "--model", m},
      {"chunks", "--model", m, "--text", "a", "--top", "x"},
    };
    for (String[] args : usage) {
      Exec r = hnet(tmp, args);
      assertEquals(2, r.code(), String.join(" ", args) + ": " + r.err());
      oneLine(r.err(), "--help");
    }
    assertFalse(Files.exists(tmp.resolve("never")), "a refused run leaves no directory");
  }

  @Test
  void badPathsSayWhatTheyAre(@TempDir Path tmp) throws Exception {
    Path text = Files.writeString(tmp.resolve("notes.txt"), "hello");
    Path st = Files.copy(MODEL.resolve("model.safetensors"), tmp.resolve("m.safetensors"));
    Object[][] cases = {
      {tmp.resolve("missing"), "no such directory"},
      {text, "is a file, not a model directory"},
      {st, "is a file, not a model directory"},
    };
    for (Object[] c : cases) {
      Exec r = hnet(tmp, "generate", "--model", c[0].toString(), "--prompt", "a");
      assertEquals(1, r.code(), r.err());
      oneLine(r.err(), (String) c[1]);
      assertTrue(r.err().contains("config.json"), "says what a model directory holds: " + r.err());
    }
    Exec r = hnet(tmp, "chunks", "--model", abs(MODEL), "--input", abs(tmp.resolve("nope.txt")));
    assertEquals(1, r.code(), r.err());
    oneLine(r.err(), "nope.txt: no such file");
  }

  // ---- 2 and 7: training further, fine-tuning, moving a run ----------------------------------

  static final String[] TINY_RUN = {
    "--batch",
    "2",
    "--seq-len",
    "64",
    "--ratio",
    "4",
    "--eval-every",
    "0",
    "--eval-batches",
    "2",
    "--no-progress",
    "--threads",
    "1"
  };

  static String[] train(String... args) {
    List<String> l = new ArrayList<>(List.of("train"));
    l.addAll(List.of(args));
    return l.toArray(String[]::new);
  }

  static String[] with(String[] a, String... b) {
    List<String> l = new ArrayList<>(List.of(a));
    l.addAll(List.of(b));
    return l.toArray(String[]::new);
  }

  static List<JsonNode> steps(Path run) throws Exception {
    List<JsonNode> out = new ArrayList<>();
    for (String l : Files.readAllLines(run.resolve("metrics.jsonl"))) {
      JsonNode n = JSON.readTree(l);
      if (n.has("loss")) out.add(n);
    }
    return out;
  }

  @Test
  void aFinishedRunTrainsFurtherWithItsScheduleReWarmed(@TempDir Path tmp) throws Exception {
    Path cfg = Files.writeString(tmp.resolve("tiny.json"), TrainProcessTest.TINY);
    Path proj = Files.createDirectories(tmp.resolve("project"));
    Path data =
        Files.writeString(
            proj.resolve("d.txt"),
            "Call me Ishmael. Some years ago, never mind how long.\n".repeat(200));
    Path run = proj.resolve("runs").resolve("r");
    Exec a =
        hnet(
            tmp,
            with(
                train("--config", abs(cfg), "--data", abs(data), "--out", abs(run), "--steps", "6"),
                with(TINY_RUN, "--warmup", "2", "--schedule", "wsd:0.5")));
    assertEquals(0, a.code(), a.err());

    // resuming a finished run says so, and how to go further
    Exec same = hnet(tmp, "train", "--resume", abs(run), "--no-progress");
    assertEquals(0, same.code(), same.err());
    assertTrue(same.text().contains("has trained all its 6 steps"), same.text());
    assertTrue(same.text().contains("--steps 12"), same.text());

    // options of the run cannot change on resume
    Exec bad = hnet(tmp, "train", "--resume", abs(run), "--batch", "4");
    assertEquals(2, bad.code(), bad.err());
    oneLine(bad.err(), "--batch cannot be combined with --resume");

    // the run moves with its data: the relative path still finds it
    Path moved = tmp.resolve("moved");
    Files.move(proj, moved);
    Path movedRun = moved.resolve("runs").resolve("r");
    Exec more = hnet(tmp, "train", "--resume", abs(movedRun), "--steps", "20", "--no-progress");
    assertEquals(0, more.code(), more.err());
    assertTrue(more.text().contains("extending the run"), more.text());
    List<JsonNode> st = steps(movedRun);
    assertEquals(20, st.size());
    double last = st.get(5).get("lr").asDouble(), peak = 3e-3;
    double first = st.get(6).get("lr").asDouble();
    // WSD had decayed over the last 3 of 6 steps; the extension re-warms over the 2 warmup steps
    // to the peak, where a 20-step WSD is at step 6 (its decay starts at step 10)
    assertTrue(last < peak / 2, "decayed: " + last);
    assertEquals(last + (peak - last) / 2, first, 1e-9, "half-way after one of two warmup steps");
    assertEquals(peak, st.get(7).get("lr").asDouble(), 1e-9);
    JsonNode opts = JSON.readTree(movedRun.resolve("options.json").toFile());
    assertEquals(20, opts.get("steps").asInt());
    assertTrue(st.get(19).get("lr").asDouble() < peak / 5, "decays again at the new end");
    assertEquals(6, opts.get("extension").get("at").asInt());

    // fewer steps than trained: refused, saying why
    Exec back = hnet(tmp, "train", "--resume", abs(movedRun), "--steps", "3");
    assertEquals(1, back.code(), back.err());
    oneLine(back.err(), "has trained 20 steps already");

    // the data gone: the error names --data, and --data fixes it
    Files.move(moved.resolve("d.txt"), tmp.resolve("elsewhere.txt"));
    Exec gone = hnet(tmp, "train", "--resume", abs(movedRun), "--steps", "21");
    assertEquals(1, gone.code(), gone.err());
    oneLine(gone.err(), "--data");
    Exec found =
        hnet(
            tmp,
            "train",
            "--resume",
            abs(movedRun),
            "--steps",
            "21",
            "--data",
            abs(tmp.resolve("elsewhere.txt")),
            "--no-progress");
    assertEquals(0, found.code(), found.err());
    assertEquals(21, steps(movedRun).size());

    // fine-tuning: a new run from these weights, a fresh optimizer, the model's config
    Path tuned = tmp.resolve("tuned");
    Exec ft =
        hnet(
            tmp,
            with(
                train(
                    "--init-from",
                    abs(movedRun),
                    "--data",
                    abs(tmp.resolve("elsewhere.txt")),
                    "--out",
                    abs(tuned),
                    "--steps",
                    "1"),
                TINY_RUN));
    assertEquals(0, ft.code(), ft.err());
    double tunedLoss = steps(tuned).get(0).get("loss").asDouble();
    double freshLoss = steps(movedRun).get(0).get("loss").asDouble();
    assertTrue(
        tunedLoss < freshLoss - 0.5,
        "starts from the trained weights: " + tunedLoss + " vs fresh " + freshLoss);
    assertEquals(
        abs(movedRun),
        JSON.readTree(tuned.resolve("options.json").toFile()).get("initFrom").asText());
    Exec both =
        hnet(
            tmp,
            "train",
            "--init-from",
            abs(movedRun),
            "--config",
            abs(cfg),
            "--out",
            abs(tmp.resolve("x")));
    assertEquals(2, both.code(), both.err());
  }

  @Test
  void fineTuningStartsFromAnOfficialCheckpoint(@TempDir Path tmp) throws Exception {
    Path data =
        Files.writeString(
            tmp.resolve("d.txt"), "Some years ago, never mind how long.\n".repeat(200));
    Path run = tmp.resolve("ft");
    Exec r =
        hnet(
            tmp,
            "train",
            "--init-from",
            abs(MODEL),
            "--data",
            abs(data),
            "--out",
            abs(run),
            "--steps",
            "1",
            "--batch",
            "1",
            "--seq-len",
            "64",
            "--eval-every",
            "0",
            "--eval-batches",
            "1",
            "--no-progress");
    assertEquals(0, r.code(), r.err());
    assertEquals(
        org.hnet.config.HNetConfig.parse(MODEL.resolve("config.json")).toJson(),
        org.hnet.config.HNetConfig.parse(run.resolve("checkpoint").resolve("config.json")).toJson(),
        "the model's own config");
  }

  // ---- 3: data that is not text ---------------------------------------------------------------

  @Test
  void aModelDirectoryIsNotACorpus(@TempDir Path tmp) throws Exception {
    Exec r = hnet(tmp, "eval", "--model", abs(MODEL), "--data", abs(MODEL));
    assertEquals(1, r.code(), r.err());
    oneLine(r.err(), "not text");
    assertTrue(r.err().contains("--any-bytes"), r.err());
    Exec t =
        hnet(tmp, with(train("--data", abs(MODEL), "--out", abs(tmp.resolve("run"))), TINY_RUN));
    assertEquals(1, t.code(), t.err());
    oneLine(t.err(), "not text");
    assertFalse(Files.exists(tmp.resolve("run")));
  }

  // ---- 5: eval numbers ------------------------------------------------------------------------

  @Test
  void evalPutsBitsPerByteBesideItsComparisons(@TempDir Path tmp) throws Exception {
    Path data =
        Files.writeString(
            tmp.resolve("d.txt"), "Call me Ishmael. Some years ago, never mind.\n".repeat(100));
    Exec r = hnet(tmp, "eval", "--model", abs(MODEL), "--data", abs(data), "--seq-len", "256");
    assertEquals(0, r.code(), r.err());
    String out = r.text();
    assertTrue(
        out.contains("unigram entropy") && out.contains("gzip -9") && out.contains("xz -9"), out);
    assertTrue(out.matches("(?s).*compression: \\d+\\.\\d\\d bytes/chunk.*"), out);
    // the bytes scored and the statistics' bytes are the same count
    java.util.regex.Matcher scored =
        java.util.regex.Pattern.compile("over ([\\d,]+) scored bytes").matcher(out);
    assertTrue(scored.find(), out);
    assertTrue(out.contains("chunk statistics over all " + scored.group(1) + " scored bytes"), out);
    JsonNode j =
        JSON.readTree(
            hnet(tmp, "eval", "--model", abs(MODEL), "--data", abs(data), "--json").out());
    double xz = j.get("baselines").get("xz9_bpb").asDouble();
    assertTrue(xz > 0 && xz < j.get("baselines").get("unigram_bpb").asDouble(), j.toString());
  }

  // ---- 7: plot writes next to the runs --------------------------------------------------------

  @Test
  void plotWritesBesideTheFirstRun(@TempDir Path tmp) throws Exception {
    Path runs = Files.createDirectories(tmp.resolve("runs").resolve("a"));
    Files.writeString(
        runs.resolve("metrics.jsonl"),
        "{\"step\": 1, \"bytes\": 1000, \"eval\": {\"bpb\": 3.0, \"bytes\": 10, \"stages\": []}}\n");
    Path cwd = Files.createDirectories(tmp.resolve("elsewhere"));
    Exec r = hnet(cwd, "plot", abs(runs));
    assertEquals(0, r.code(), r.err());
    assertTrue(Files.exists(tmp.resolve("runs").resolve("runs.png")), r.text());
    assertFalse(Files.exists(cwd.resolve("runs.png")));
  }

  // ---- 3 and 4: Ctrl-C ------------------------------------------------------------------------

  @Test
  void ctrlCSavesDrawsTheCurveAndExits130(@TempDir Path tmp) throws Exception {
    // A process started with SIGINT ignored (a background job of a non-interactive shell) passes
    // that on to its children, and a JVM whose SIGINT is ignored installs no handler: Ctrl-C
    // cannot be delivered there, so the test would only wait out its time limit.
    org.junit.jupiter.api.Assumptions.assumeFalse(
        sigintIgnored(), "SIGINT is ignored in this environment (a background job)");
    Path cfg = Files.writeString(tmp.resolve("tiny.json"), TrainProcessTest.TINY);
    Path data =
        Files.writeString(tmp.resolve("d.txt"), "Call me Ishmael. Some years ago.\n".repeat(300));
    Path run = tmp.resolve("run");
    List<String> cmd = javaMain();
    cmd.addAll(
        List.of(
            with(
                train(
                    "--config",
                    abs(cfg),
                    "--data",
                    abs(data),
                    "--out",
                    abs(run),
                    "--steps",
                    "100000"),
                "--batch",
                "2",
                "--seq-len",
                "64",
                "--ratio",
                "4",
                "--eval-every",
                "3",
                "--eval-batches",
                "1",
                "--checkpoint-every",
                "100000",
                "--no-progress")));
    Process p =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(tmp.resolve("log").toFile())
            .start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    Path metrics = run.resolve("metrics.jsonl");
    while (System.nanoTime() < deadline
        && (!Files.exists(metrics) || Files.readAllLines(metrics).size() < 5)) Thread.sleep(100);
    new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor();
    if (!p.waitFor(60, TimeUnit.SECONDS)) { // say where it hangs: its threads, then its output
      Path dump = tmp.resolve("threads");
      Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
      new ProcessBuilder(jcmd.toString(), Long.toString(p.pid()), "Thread.print")
          .redirectErrorStream(true)
          .redirectOutput(dump.toFile())
          .start()
          .waitFor(30, TimeUnit.SECONDS);
      p.destroyForcibly();
      fail(
          "no exit 60 s after Ctrl-C; its threads:\n"
              + Files.readString(dump)
              + "\nits output:\n"
              + Files.readString(tmp.resolve("log")));
    }
    String log = Files.readString(tmp.resolve("log"));
    assertEquals(130, p.exitValue(), log);
    assertTrue(log.contains("checkpoint saved"), log);
    assertTrue(Files.size(run.resolve("curve.png")) > 1000, "an interrupted run has its curve");
  }

  /** Whether this process ignores SIGINT (bit 2 of SigIgn in /proc/self/status, on Linux). */
  static boolean sigintIgnored() throws java.io.IOException {
    Path status = Path.of("/proc/self/status");
    if (!Files.exists(status)) return false;
    for (String line : Files.readAllLines(status)) {
      if (line.startsWith("SigIgn:")) {
        return (new java.math.BigInteger(line.substring(7).trim(), 16).longValue() & 2L) != 0;
      }
    }
    return false;
  }
}
