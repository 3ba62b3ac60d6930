package org.hnet.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.hnet.HNetException;
import org.hnet.config.HNetConfig;
import org.hnet.io.AtomicFile;
import org.hnet.io.SafeTensors;
import org.hnet.io.TensorData;
import org.hnet.nn.HNetForCausalLM;
import org.hnet.nn.Param;

/**
 * A training run's directory:
 *
 * <pre>
 * .hnet-run           marks the directory as a run made by hnet (nothing else is ever deleted)
 * options.json        the training options (fixed for the run)
 * data.txt            the corpus path
 * metrics.jsonl       one JSON object per step and per evaluation, appended
 * data-index.bin      the JSONL corpus's document index (random sampling), rebuilt if the file changes
 * checkpoint/         config.json + model.safetensors (official names: a model directory for
 *                     `hnet forward`), optimizer.safetensors (AdamW moments), state.json (step,
 *                     data position)
 * </pre>
 *
 * <h2>Checkpoints survive a kill at any instant</h2>
 *
 * A checkpoint is committed by its {@code state.json}, written last: a checkpoint directory without
 * one is unfinished and is discarded. Saving writes {@code checkpoint.tmp/} whole (every file
 * forced to disk), then {@code checkpoint → checkpoint.old}, {@code checkpoint.tmp → checkpoint},
 * and removes {@code checkpoint.old} (its {@code state.json} first, so a half-removed directory is
 * never taken for a checkpoint). After a kill anywhere in between, the newest committed directory
 * of the three is the one to resume from; {@link #load} finds it and validates it completely
 * without changing anything, and {@link #settle} makes it {@code checkpoint/} again once the caller
 * has accepted it. Directory entries are forced to disk after every rename.
 */
public final class RunDir {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The marker of a run directory made by hnet. */
  public static final String MARKER = ".hnet-run";

  /** The files of a checkpoint; nothing else in a checkpoint directory is ever removed. */
  private static final List<String> CHECKPOINT_FILES =
      List.of("state.json", "config.json", "model.safetensors", "optimizer.safetensors");

  /**
   * For tests: called at each step of a checkpoint swap with its name; may throw to simulate a
   * kill.
   */
  static Consumer<String> crashPoint = step -> {};

  public final Path root;

  public RunDir(Path root) {
    this.root = root;
  }

  /**
   * Claims {@code root} for a new run: creates it (with its marker) if it is missing or empty, and
   * accepts a run directory of hnet's that holds no checkpoint yet (a run stopped before its first
   * one), clearing what that run wrote. Refuses a directory that holds other files, or a run with a
   * checkpoint, before anything is written.
   */
  public static RunDir create(Path root) {
    RunDir run = new RunDir(root);
    if (Files.exists(root, LinkOption.NOFOLLOW_LINKS)
        && !Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
      throw new HNetException(root + ": exists and is not a directory: give a new or empty --out");
    }
    if (run.committed().size() > 0) {
      throw new HNetException(
          root + " already holds a training run: use --resume to continue it, or another --out");
    }
    if (!Files.exists(root.resolve(MARKER))) {
      // without the marker every entry is someone else's, whatever its name
      List<String> entries = run.entries();
      if (!entries.isEmpty()) {
        throw new HNetException(
            root
                + ": not empty and not a training run of hnet (it holds "
                + String.join(", ", entries)
                + "): give a new or empty --out");
      }
    }
    try {
      Files.createDirectories(root);
      if (!Files.exists(root.resolve(MARKER))) {
        AtomicFile.write(
            root.resolve(MARKER), "a training run of hnet-java\n".getBytes(StandardCharsets.UTF_8));
      }
      Files.deleteIfExists(run.metrics()); // an earlier attempt's, without a checkpoint
      for (String d : new String[] {"checkpoint.tmp", "checkpoint.old", "checkpoint"})
        run.removeCheckpoint(root.resolve(d));
    } catch (IOException e) {
      throw new HNetException(root + ": cannot create the run directory: " + e.getMessage(), e);
    }
    return run;
  }

  /**
   * Undoes {@link #create} of a directory that did not exist: removes hnet's files and the
   * directory if then empty. {@code alsoOurs} names further files that the caller made in it.
   */
  public void removeNew(String... alsoOurs) {
    try {
      for (String f :
          new String[] {"data-index.bin", "options.json", "data.txt", "metrics.jsonl", MARKER}) {
        Files.deleteIfExists(root.resolve(f));
      }
      for (String f : alsoOurs) Files.deleteIfExists(root.resolve(f));
      try (Stream<Path> left = Files.list(root)) {
        if (left.findAny().isEmpty()) Files.delete(root);
      }
    } catch (IOException e) {
      // Leftovers of a run that never started; the error that stopped it is the one to report.
    }
  }

  /** The directory's entries by name (the first few), none if it does not exist. */
  private List<String> entries() {
    List<String> out = new ArrayList<>();
    if (!Files.isDirectory(root)) return out;
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(root)) {
      for (Path p : ds) out.add(p.getFileName().toString());
    } catch (IOException e) {
      throw new HNetException(root + ": cannot list: " + e.getMessage(), e);
    }
    out.sort(null);
    return out.size() > 5 ? List.of(String.join(", ", out.subList(0, 5)), "...") : out;
  }

  public Path checkpoint() {
    return root.resolve("checkpoint");
  }

  public Path metrics() {
    return root.resolve("metrics.jsonl");
  }

  public Path options() {
    return root.resolve("options.json");
  }

  /** Where the corpus keeps an index that is costly to build (JSONL). */
  public Path dataIndex() {
    return root.resolve("data-index.bin");
  }

  /** The directory of the newest committed checkpoint, or null when there is none. */
  public Path latestCheckpoint() {
    Map<Long, Path> c = committed();
    return c.isEmpty() ? null : c.get(((TreeMap<Long, Path>) c).lastKey());
  }

  /** The step of the newest committed checkpoint, or -1 when there is none. */
  public long latestStep() {
    Map<Long, Path> c = committed();
    return c.isEmpty() ? -1 : ((TreeMap<Long, Path>) c).lastKey();
  }

  /**
   * Committed checkpoint directories by step (checkpoint/ wins a tie). A state.json that cannot be
   * read is an error naming it: a checkpoint that was committed and then damaged is not silently
   * passed over.
   */
  private Map<Long, Path> committed() {
    TreeMap<Long, Path> out = new TreeMap<>();
    for (String name : new String[] {"checkpoint.old", "checkpoint.tmp", "checkpoint"}) {
      Path dir = root.resolve(name);
      if (Files.isRegularFile(dir.resolve("state.json"), LinkOption.NOFOLLOW_LINKS)) {
        out.put(readState(dir.resolve("state.json")).step(), dir);
      }
    }
    return out;
  }

  /** The state saved with a checkpoint besides the tensors. */
  public record State(long step, String dataState, long trainedBytes) {}

  /**
   * Writes a checkpoint of the model, the optimizer's state and {@code state}, committed only when
   * whole (see the class comment). The model's arrays and those of {@code optimizerState} are
   * written as they are, not copied: they must not change until this returns.
   */
  public void save(
      HNetConfig cfg,
      HNetForCausalLM lm,
      Map<String, float[]> optimizerState,
      long optimizerSteps,
      State state) {
    Path tmp = root.resolve("checkpoint.tmp");
    try {
      removeCheckpoint(tmp);
      Files.createDirectories(tmp);
      writeString(tmp.resolve("config.json"), cfg.toJson());
      // the tensors are views of the live arrays, not copies (a copy of the weights and of the
      // optimizer's two moments tripled a big model's memory at every checkpoint): nothing changes
      // them while this method runs, the trainer saving between steps on its own thread
      Map<String, TensorData> model = new LinkedHashMap<>();
      for (Map.Entry<String, int[]> e : cfg.parameterShapes().entrySet()) {
        // a tied lm_head is the embeddings Param, saved under both official names
        Param p = e.getKey().equals("lm_head.weight") ? lm.lmHead : lm.parameters.get(e.getKey());
        model.put(e.getKey(), TensorData.viewOfFloats(e.getValue(), p.data));
      }
      SafeTensors.write(
          tmp.resolve("model.safetensors"),
          model,
          ordered("format", "pt", "step", Long.toString(state.step())));
      Map<String, TensorData> opt = new LinkedHashMap<>();
      for (Map.Entry<String, float[]> e : optimizerState.entrySet()) {
        opt.put(e.getKey(), TensorData.viewOfFloats(new int[] {e.getValue().length}, e.getValue()));
      }
      SafeTensors.write(
          tmp.resolve("optimizer.safetensors"),
          opt,
          ordered("steps", Long.toString(optimizerSteps)));
      ObjectNode s = JSON.createObjectNode();
      s.put("step", state.step());
      s.put("trained_bytes", state.trainedBytes());
      s.put("optimizer_steps", optimizerSteps);
      s.set("data", JSON.readTree(state.dataState()));
      crashPoint.accept("files written");
      // the commit record, last
      writeString(
          tmp.resolve("state.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(s));
      AtomicFile.forceDirectory(tmp);
      crashPoint.accept("committed");
      swapIn(tmp);
    } catch (IOException e) {
      throw new HNetException(root + ": cannot write the checkpoint: " + e.getMessage(), e);
    }
  }

  /** checkpoint → checkpoint.old, {@code dir} → checkpoint, remove checkpoint.old. */
  private void swapIn(Path dir) throws IOException {
    Path cur = checkpoint(), old = root.resolve("checkpoint.old");
    if (Files.exists(cur)) {
      removeCheckpoint(old);
      Files.move(cur, old, StandardCopyOption.ATOMIC_MOVE);
      AtomicFile.forceDirectory(root);
      crashPoint.accept("old moved aside");
    }
    Files.move(dir, cur, StandardCopyOption.ATOMIC_MOVE);
    AtomicFile.forceDirectory(root);
    crashPoint.accept("new moved in");
    removeCheckpoint(old);
    AtomicFile.forceDirectory(root);
  }

  /**
   * Removes a checkpoint directory of this run: its state.json first (uncommitting it), then the
   * other checkpoint files, then the directory if nothing else is in it. A file hnet did not write
   * is left alone, and then so is the directory, which is an error (it would block the next swap).
   */
  private void removeCheckpoint(Path dir) throws IOException {
    if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)
        && !Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      // a link or a file where hnet keeps a checkpoint directory: never followed, never removed
      throw new HNetException(
          dir + ": is not a directory (a link?); hnet keeps checkpoints there: move it away");
    }
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) return;
    for (String f : CHECKPOINT_FILES) Files.deleteIfExists(dir.resolve(f));
    try (Stream<Path> left = Files.list(dir)) {
      for (Path p : left.toList()) {
        String n = p.getFileName().toString();
        if (n.startsWith(".") && n.endsWith(".tmp"))
          Files.deleteIfExists(p); // a temporary file of ours
      }
    }
    try (Stream<Path> left = Files.list(dir)) {
      List<String> other = left.map(p -> p.getFileName().toString()).sorted().toList();
      if (!other.isEmpty()) {
        throw new HNetException(
            dir
                + ": holds files hnet did not write ("
                + String.join(", ", other)
                + "); move them out and run again");
      }
    }
    Files.delete(dir);
  }

  /** A loaded checkpoint. */
  public record Loaded(
      Path dir,
      HNetConfig config,
      HNetForCausalLM model,
      Map<String, float[]> optimizerState,
      long optimizerSteps,
      State state) {}

  /**
   * Loads the newest committed checkpoint and checks every file of it (model, optimizer state,
   * state.json), changing nothing in the run directory.
   */
  public Loaded load() {
    Path dir = latestCheckpoint();
    if (dir == null) throw new HNetException(root + ": no checkpoint to resume from");
    for (String f : CHECKPOINT_FILES) {
      if (!Files.isRegularFile(dir.resolve(f)))
        throw new HNetException(dir.resolve(f) + ": missing from the checkpoint");
    }
    HNetForCausalLM lm = HNetForCausalLM.load(dir);
    Map<String, float[]> opt = new LinkedHashMap<>();
    Path optFile = dir.resolve("optimizer.safetensors");
    for (Map.Entry<String, TensorData> e : SafeTensors.read(optFile).entrySet())
      opt.put(e.getKey(), e.getValue().toFloats());
    long optSteps =
        nonNegative(SafeTensors.readMetadata(optFile).get("steps"), optFile + ": metadata 'steps'");
    JsonNode s = readJson(dir.resolve("state.json"));
    State st = readState(dir.resolve("state.json"));
    long stateOptSteps = integer(s, "optimizer_steps", dir.resolve("state.json"));
    if (stateOptSteps != optSteps || optSteps != st.step()) {
      throw new HNetException(
          dir
              + ": state.json (step "
              + st.step()
              + ", optimizer_steps "
              + stateOptSteps
              + ") and optimizer.safetensors (steps "
              + optSteps
              + ") disagree");
    }
    return new Loaded(dir, lm.config, lm, opt, optSteps, st);
  }

  /**
   * After {@link #load}'s checkpoint was accepted: makes it checkpoint/ (if a kill left it as
   * checkpoint.tmp or checkpoint.old) and removes the other, older or unfinished, directories.
   */
  public void settle(Loaded ck) {
    try {
      Path cur = checkpoint();
      if (!ck.dir().equals(cur)) {
        if (ck.dir().getFileName().toString().equals("checkpoint.old")) {
          removeCheckpoint(cur); // uncommitted (a committed one would be newer and chosen)
          Files.move(ck.dir(), cur, StandardCopyOption.ATOMIC_MOVE);
          AtomicFile.forceDirectory(root);
        } else {
          swapIn(ck.dir());
        }
      }
      removeCheckpoint(root.resolve("checkpoint.tmp"));
      removeCheckpoint(root.resolve("checkpoint.old"));
      // a run made before the marker existed: its checkpoint makes it hnet's
      if (!Files.exists(root.resolve(MARKER))) {
        AtomicFile.write(
            root.resolve(MARKER), "a training run of hnet-java\n".getBytes(StandardCharsets.UTF_8));
      }
      AtomicFile.forceDirectory(root);
    } catch (IOException e) {
      throw new HNetException(root + ": cannot restore the checkpoint: " + e.getMessage(), e);
    }
  }

  private static State readState(Path file) {
    JsonNode s = readJson(file);
    long step = integer(s, "step", file), bytes = integer(s, "trained_bytes", file);
    JsonNode data = s.get("data");
    if (data == null || !data.isObject()) throw new HNetException(file + ": no 'data' object");
    org.hnet.train.data.DataState.fromJson(
        data.toString()); // checked now, not after something was changed
    return new State(step, data.toString(), bytes);
  }

  private static JsonNode readJson(Path file) {
    try {
      JsonNode n = JSON.readTree(Files.readString(file, StandardCharsets.UTF_8));
      if (n == null || !n.isObject()) throw new HNetException(file + ": not a JSON object");
      return n;
    } catch (IOException e) {
      throw new HNetException(
          file + ": unreadable: " + e.getMessage().lines().findFirst().orElse(""), e);
    }
  }

  private static long integer(JsonNode o, String field, Path file) {
    JsonNode v = o.get(field);
    if (v == null || !v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < 0) {
      throw new HNetException(file + ": '" + field + "' must be a non-negative integer, got " + v);
    }
    return v.asLong();
  }

  private static long nonNegative(String text, String what) {
    try {
      long v = Long.parseLong(text);
      if (v >= 0) return v;
    } catch (NumberFormatException | NullPointerException e) {
      // reported below
    }
    throw new HNetException(
        what
            + " must be a non-negative integer, got "
            + (text == null ? "nothing" : "'" + text + "'"));
  }

  /**
   * A string map in the order given, so that files written from it are the same bytes every time.
   */
  private static Map<String, String> ordered(String... kv) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) m.put(kv[i], kv[i + 1]);
    return m;
  }

  /**
   * Appends one line to metrics.jsonl (flushed, so a crash loses at most the line being written).
   */
  public void appendMetrics(String jsonLine) {
    try {
      Files.writeString(
          metrics(),
          jsonLine + "\n",
          StandardCharsets.UTF_8,
          StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new HNetException(metrics() + ": cannot append: " + e.getMessage());
    }
  }

  /** On resume: drops the metrics lines of steps after the checkpoint (they will be redone). */
  public void truncateMetricsAfter(long step) {
    Path m = metrics();
    if (!Files.exists(m)) return;
    try (Stream<String> lines = Files.lines(m)) {
      StringBuilder kept = new StringBuilder();
      lines.forEach(
          line -> {
            try {
              JsonNode n = JSON.readTree(line);
              if (n.has("step") && n.get("step").asLong() <= step) kept.append(line).append('\n');
            } catch (IOException e) {
              // a line cut short by an interruption: dropped
            }
          });
      writeString(m, kept.toString());
    } catch (IOException e) {
      throw new HNetException(m + ": cannot rewrite: " + e.getMessage());
    }
  }

  /** Writes a text file whole or not at all ({@link AtomicFile}). */
  public static void writeString(Path file, String text) {
    try {
      AtomicFile.write(file, text.getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new HNetException(file + ": cannot write: " + e.getMessage(), e);
    }
  }
}
