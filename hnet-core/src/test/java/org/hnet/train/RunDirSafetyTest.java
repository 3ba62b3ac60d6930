package org.hnet.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.hnet.HNetException;
import org.hnet.config.HNetConfig;
import org.hnet.io.SafeTensors;
import org.hnet.io.TensorData;
import org.hnet.testing.Allocations;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run directory loses nothing: kills at every step of a checkpoint swap, divergence, damaged
 * files, foreign directories.
 */
class RunDirSafetyTest {
  static final HNetConfig CFG = HNetConfig.parse(TrainerTest.TINY, "tiny");
  static final Trainer.Listener QUIET = new Trainer.Listener() {};
  static final String[] POINTS = {"files written", "committed", "old moved aside", "new moved in"};

  /** Thrown by the crash hook: the process "dies" here, leaving the directory as it is. */
  static final class Kill extends Error {
    Kill(String at) {
      super("killed at " + at);
    }
  }

  @AfterEach
  void noHook() {
    RunDir.crashPoint = s -> {};
  }

  /** Every file of the directory tree with its bytes, to show that nothing changed. */
  static Map<String, String> snapshot(Path dir) throws IOException {
    Map<String, String> m = new TreeMap<>();
    try (Stream<Path> w = Files.walk(dir)) {
      for (Path p : w.filter(Files::isRegularFile).toList()) {
        m.put(
            dir.relativize(p).toString(),
            java.util.HexFormat.of()
                .formatHex(
                    java.security.MessageDigest.getInstance("SHA-256")
                        .digest(Files.readAllBytes(p))));
      }
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
    return m;
  }

  static void assertSameWeights(Path a, Path b) {
    for (String f : new String[] {"model.safetensors", "optimizer.safetensors"}) {
      Map<String, TensorData> x = SafeTensors.read(a.resolve("checkpoint").resolve(f)),
          y = SafeTensors.read(b.resolve("checkpoint").resolve(f));
      assertEquals(x.keySet(), y.keySet());
      for (String k : x.keySet())
        assertArrayEquals(x.get(k).toFloats(), y.get(k).toFloats(), 0f, f + " " + k);
    }
  }

  /**
   * For every pair of kill points (a kill during one checkpoint swap, then another during the first
   * swap after resuming): the run resumes from its newest complete checkpoint each time and ends
   * bit-identical to a run never interrupted, with each step once in metrics.jsonl.
   */
  @Test
  void killedTwiceAtAnyStepOfTheSwapTheRunStillEndsBitIdentical(@TempDir Path tmp)
      throws IOException {
    Path data = TrainerTest.corpus(tmp);
    Path full = tmp.resolve("full");
    try (Trainer t = Trainer.start(full, CFG, data, options(6))) {
      t.run(QUIET, () -> false);
    }
    for (String first : POINTS) {
      for (String second : POINTS) {
        Path run = tmp.resolve("run-" + first.replace(' ', '-') + "-" + second.replace(' ', '-'));
        killAt(
            first,
            3,
            () -> {
              try (Trainer t = Trainer.start(run, CFG, data, options(6))) {
                t.run(QUIET, () -> false);
              }
            });
        long newest =
            new ObjectMapper()
                .readTree(new RunDir(run).latestCheckpoint().resolve("state.json").toFile())
                .get("step")
                .asLong();
        assertTrue(newest >= 2 && newest <= 4, first + ": newest checkpoint " + newest);
        // resumed straight from the killed state, and killed again during its first save
        killAt(
            second,
            1,
            () -> {
              try (Trainer t = Trainer.resume(run, null)) {
                t.run(QUIET, () -> false);
              }
            });
        try (Trainer t = Trainer.resume(run, null)) {
          t.run(QUIET, () -> false);
          assertEquals(6, t.step());
        }
        assertSameWeights(full, run);
        List<String> steps =
            Files.readAllLines(run.resolve("metrics.jsonl")).stream()
                .filter(l -> l.contains("\"loss\""))
                .toList();
        assertEquals(6, steps.size(), first + " / " + second + ": " + steps);
        assertFalse(
            Files.exists(run.resolve("checkpoint.tmp"))
                || Files.exists(run.resolve("checkpoint.old")),
            "leftovers");
      }
    }
  }

  /** Runs {@code body}, killing it at the {@code nth} time the swap reaches {@code point}. */
  static void killAt(String point, int nth, Runnable body) {
    int[] seen = {0};
    RunDir.crashPoint =
        s -> {
          if (s.equals(point) && ++seen[0] == nth) throw new Kill(s);
        };
    try {
      body.run();
      throw new AssertionError("never reached " + point + " #" + nth);
    } catch (Kill expected) {
      // the "process" died here
    } finally {
      RunDir.crashPoint = s -> {};
    }
  }

  static TrainOptions options(long steps) {
    return new TrainOptions(
        steps,
        2,
        64,
        1,
        3e-3,
        "wsd",
        1,
        new double[] {1.0, 0.8},
        new double[] {4},
        0.03,
        0.1,
        0.9,
        0.95,
        1e-8,
        1.0,
        7,
        1,
        0,
        1,
        0.1,
        "text",
        "random",
        null,
        null,
        0,
        null,
        null);
  }

  /**
   * A diverged run stops with an error naming the step, keeps the last good checkpoint and writes
   * valid JSON.
   */
  @Test
  void aDivergedRunStopsAndKeepsTheLastGoodCheckpoint(@TempDir Path tmp) throws IOException {
    Path data = TrainerTest.corpus(tmp);
    Path run = tmp.resolve("run");
    TrainOptions huge =
        new TrainOptions(
            20,
            2,
            64,
            1,
            1e30,
            "constant",
            0,
            new double[] {1.0, 1.0},
            new double[] {4},
            0.03,
            0.0,
            0.9,
            0.95,
            1e-8,
            0,
            7,
            1,
            0,
            1,
            0.1,
            "text",
            "random",
            null,
            null,
            0,
            null,
            null);
    HNetException e;
    try (Trainer t = Trainer.start(run, CFG, data, huge)) {
      e = assertThrows(HNetException.class, () -> t.run(QUIET, () -> false));
    }
    assertTrue(e.getMessage().startsWith("training diverged at step "), e.getMessage());
    ObjectMapper json = new ObjectMapper();
    long lastGood =
        json.readTree(run.resolve("checkpoint/state.json").toFile()).get("step").asLong();
    assertTrue(e.getMessage().contains("checkpoint of step " + lastGood), e.getMessage());
    for (TensorData t : SafeTensors.read(run.resolve("checkpoint/model.safetensors")).values()) {
      for (float v : t.toFloats())
        assertTrue(Float.isFinite(v), "a non-finite weight was checkpointed");
    }
    for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) {
      JsonNode n = json.readTree(line); // every line is JSON
      assertTrue(n.isObject(), line);
    }
    assertTrue(
        Files.readString(run.resolve("metrics.jsonl")).contains("\"loss\": null"),
        "the diverged step is recorded with nulls");
    try (Trainer t = Trainer.resume(run, null)) {
      assertEquals(lastGood, t.step());
    }
  }

  /** A damaged state.json is an error naming it, and nothing in the run changes. */
  @Test
  void aDamagedStateIsRefusedBeforeAnythingChanges(@TempDir Path tmp) throws IOException {
    Path data = TrainerTest.corpus(tmp);
    Path run = tmp.resolve("run");
    try (Trainer t = Trainer.start(run, CFG, data, options(4))) {
      t.run(QUIET, () -> false);
    }
    Path state = run.resolve("checkpoint/state.json");
    String good = Files.readString(state);
    String[][] cases = {
      {"\"step\" : 4", "\"step\" : \"abc\"", "'step' must be a non-negative integer"},
      {"\"step\" : 4", "\"step\" : -5", "'step' must be a non-negative integer"},
      {"\"step\" : 4", "\"step\" : 1000000000000", "disagree"},
      {"\"step\" : 4", "\"step\" : 3", "disagree"},
      {"\"trained_bytes\" : 512", "\"trained_bytes\" : 7", "trained_bytes 7"},
      {"\"row\" : 8", "\"row\" : 9", "drawn 9 rows"},
      {"\"data\" : {", "\"data\" : 5, \"x\": {", "no 'data' object"},
    };
    for (String[] c : cases) {
      assertTrue(good.contains(c[0]), good);
      Files.writeString(state, good.replace(c[0], c[1]));
      Map<String, String> before = snapshot(run);
      HNetException e = assertThrows(HNetException.class, () -> Trainer.resume(run, null), c[1]);
      assertTrue(e.getMessage().contains(c[2]), c[1] + " -> " + e.getMessage());
      assertEquals(before, snapshot(run), c[1] + ": the run directory changed");
      assertThrows(
          HNetException.class,
          () -> Trainer.start(run, CFG, data, options(4)),
          "not restarted from 0 over it");
      assertEquals(before, snapshot(run));
    }
    Files.writeString(state, good);
    Files.writeString(run.resolve("checkpoint/optimizer.safetensors"), "garbage");
    Map<String, String> before = snapshot(run);
    assertThrows(HNetException.class, () -> Trainer.resume(run, null));
    assertEquals(before, snapshot(run));
  }

  /**
   * A directory that is not a run of hnet's is refused, and nothing in it is touched; an empty one
   * is taken.
   */
  @Test
  void aForeignDirectoryIsNeverTouched(@TempDir Path tmp) throws IOException {
    Path data = TrainerTest.corpus(tmp);
    Path dir = tmp.resolve("mine");
    Files.createDirectories(dir.resolve("checkpoint"));
    Files.writeString(dir.resolve("checkpoint/config.json"), "{\"my\": \"model\"}");
    Files.writeString(dir.resolve("options.json"), "{\"mine\": true}");
    Files.writeString(dir.resolve("notes.txt"), "important");
    Map<String, String> before = snapshot(dir);
    HNetException e =
        assertThrows(HNetException.class, () -> Trainer.start(dir, CFG, data, options(2)));
    assertTrue(
        e.getMessage().contains("not a training run") && e.getMessage().contains("notes.txt"),
        e.getMessage());
    assertEquals(before, snapshot(dir));

    Path empty = Files.createDirectories(tmp.resolve("empty"));
    try (Trainer t = Trainer.start(empty, CFG, data, options(1))) {
      t.run(QUIET, () -> false);
    }
    assertTrue(Files.exists(empty.resolve(RunDir.MARKER)));

    // the data itself, or a directory that holds the run, is refused
    Path corpusDir = Files.createDirectories(tmp.resolve("corpus"));
    Files.copy(data, corpusDir.resolve("a.txt"));
    assertThrows(HNetException.class, () -> Trainer.start(corpusDir, CFG, corpusDir, options(1)));
    assertThrows(
        HNetException.class,
        () -> Trainer.start(corpusDir.resolve("run"), CFG, corpusDir, options(1)));
    assertFalse(Files.exists(corpusDir.resolve("run")));
  }

  /** The same run twice writes the same checkpoint bytes (metadata in a fixed order). */
  @Test
  void checkpointsAreByteReproducible(@TempDir Path tmp) throws IOException {
    Path data = TrainerTest.corpus(tmp);
    for (String run : new String[] {"a", "b"}) {
      try (Trainer t = Trainer.start(tmp.resolve(run), CFG, data, options(2))) {
        t.run(QUIET, () -> false);
      }
    }
    for (String f :
        new String[] {"config.json", "model.safetensors", "optimizer.safetensors", "state.json"}) {
      assertArrayEquals(
          Files.readAllBytes(tmp.resolve("a/checkpoint").resolve(f)),
          Files.readAllBytes(tmp.resolve("b/checkpoint").resolve(f)),
          f);
    }
    Map<String, String> meta =
        SafeTensors.readMetadata(tmp.resolve("a/checkpoint/model.safetensors"));
    assertEquals(List.of("format", "step"), List.copyOf(meta.keySet()));
  }

  /**
   * A link planted where the next checkpoint is written is refused, and its target is untouched.
   */
  @Test
  void aLinkAtTheCheckpointDirectoryIsNotFollowed(@TempDir Path tmp) throws IOException {
    Path data = TrainerTest.corpus(tmp);
    Path run = tmp.resolve("run");
    Path elsewhere = Files.createDirectories(tmp.resolve("elsewhere"));
    Files.writeString(elsewhere.resolve("keep.txt"), "mine");
    try (Trainer t = Trainer.start(run, CFG, data, options(3))) {
      t.run(QUIET, () -> t.step() >= 1);
    }
    Files.createSymbolicLink(run.resolve("checkpoint.tmp"), elsewhere);
    try (Trainer t = Trainer.resume(run, null)) {
      fail("resumed over a planted link");
    } catch (HNetException e) {
      assertTrue(e.getMessage().contains("not a directory"), e.getMessage());
    }
    assertEquals(
        List.of("keep.txt"), Files.list(elsewhere).map(p -> p.getFileName().toString()).toList());
  }

  private static void fail(String message) {
    throw new AssertionError(message);
  }

  /** A run whose corpus cannot be opened leaves no directory behind. */
  @Test
  void aRunThatCannotStartLeavesNothing(@TempDir Path tmp) throws IOException {
    Path bad = tmp.resolve("bad.jsonl");
    Files.writeString(bad, "{\"text\": \"ok\"}\nnot json\n");
    Path run = tmp.resolve("run");
    assertThrows(HNetException.class, () -> Trainer.start(run, CFG, bad, options(1)));
    assertFalse(Files.exists(run));
  }

  /**
   * A checkpoint is written from the live arrays of the weights and of the optimizer's moments:
   * saving allocates a small part of what it writes (it copied all of it, tripling a big model's
   * memory at every checkpoint; measured with this model: 12.1 MB allocated for 11.8 MB of state
   * before, 0.3 MB after), and what it writes is those arrays, bit for bit.
   */
  @Test
  void aCheckpointIsWrittenWithoutACopyOfTheState(@TempDir Path tmp) throws IOException {
    HNetConfig wide =
        HNetConfig.parse(
            """
            {"arch_layout": ["m1", ["T1"], "m1"], "d_model": [128, 256], "d_intermediate": [0, 512],
             "ssm_cfg": {"d_state": 16, "expand": 2, "chunk_size": 16, "d_conv": 4},
             "attn_cfg": {"num_heads": [2, 4], "rotary_emb_dim": [16, 32], "window_size": [-1, -1]}}
            """,
            "wide");
    try (Trainer t =
        Trainer.start(tmp.resolve("run"), wide, TrainerTest.corpus(tmp), TrainerTest.options(2))) {
      t.run(QUIET, () -> false); // two steps: the moments are not zero
      long params = 0;
      for (org.hnet.nn.Param p : t.model.parameters.values()) params += p.data.length;
      long state = 3 * 4 * params; // the weights and two moments, float32
      t.checkpoint(); // first: loads the classes of the write path
      long a0 = Allocations.ofThisThread();
      t.checkpoint();
      long used = Allocations.ofThisThread() - a0;
      assertTrue(used < state / 10, used + " bytes allocated to save " + state + " bytes of state");
      Map<String, TensorData> back =
          SafeTensors.read(t.run.checkpoint().resolve("model.safetensors"));
      for (Map.Entry<String, org.hnet.nn.Param> e : t.model.parameters.entrySet())
        assertArrayEquals(e.getValue().data, back.get(e.getKey()).toFloats(), 0f, e.getKey());
    }
  }
}
