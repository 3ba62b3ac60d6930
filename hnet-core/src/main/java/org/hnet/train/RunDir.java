package org.hnet.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.hnet.HNetException;
import org.hnet.config.HNetConfig;
import org.hnet.io.SafeTensors;
import org.hnet.io.TensorData;
import org.hnet.nn.HNetForCausalLM;
import org.hnet.nn.Param;

/**
 * A training run's directory:
 *
 * <pre>
 * options.json        the training options (fixed for the run)
 * metrics.jsonl       one JSON object per step and per evaluation, appended
 * data-index.bin      the JSONL corpus's document index (random sampling), rebuilt if the file changes
 * checkpoint/         config.json + model.safetensors (official names: a model directory for
 *                     `hnet forward`), optimizer.safetensors (AdamW moments), state.json (step,
 *                     data position)
 * </pre>
 *
 * A checkpoint is written whole into {@code checkpoint.tmp/}, then swapped in by renames
 * ({@code checkpoint → checkpoint.old}, {@code checkpoint.tmp → checkpoint}, delete the old), so
 * an interruption at any moment leaves a complete checkpoint: {@code checkpoint/}, or
 * {@code checkpoint.old/} when it struck between the two renames.
 */
public final class RunDir {
  private static final ObjectMapper JSON = new ObjectMapper();
  public final Path root;

  public RunDir(Path root) {
    this.root = root;
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

  /** The directory of the latest complete checkpoint, or null when there is none. */
  public Path latestCheckpoint() {
    if (Files.isRegularFile(checkpoint().resolve("state.json"))) return checkpoint();
    Path old = root.resolve("checkpoint.old");
    if (Files.isRegularFile(old.resolve("state.json"))) return old;
    return null;
  }

  /** The state saved with a checkpoint besides the tensors. */
  public record State(long step, String dataState, long trainedBytes) {}

  public void save(HNetConfig cfg, HNetForCausalLM lm, Map<String, float[]> optimizerState, long optimizerSteps, State state) {
    Path tmp = root.resolve("checkpoint.tmp");
    try {
      deleteTree(tmp);
      Files.createDirectories(tmp);
      writeString(tmp.resolve("config.json"), cfg.toJson());
      Map<String, TensorData> model = new LinkedHashMap<>();
      for (Map.Entry<String, int[]> e : cfg.parameterShapes().entrySet()) {
        // a tied lm_head is the embeddings Param, saved under both official names
        Param p = e.getKey().equals("lm_head.weight") ? lm.lmHead : lm.parameters.get(e.getKey());
        model.put(e.getKey(), TensorData.ofFloats(e.getValue(), p.data));
      }
      SafeTensors.write(tmp.resolve("model.safetensors"), model, Map.of("format", "pt", "step", Long.toString(state.step())));
      Map<String, TensorData> opt = new LinkedHashMap<>();
      for (Map.Entry<String, float[]> e : optimizerState.entrySet()) {
        opt.put(e.getKey(), TensorData.ofFloats(new int[] {e.getValue().length}, e.getValue()));
      }
      SafeTensors.write(tmp.resolve("optimizer.safetensors"), opt, Map.of("steps", Long.toString(optimizerSteps)));
      ObjectNode s = JSON.createObjectNode();
      s.put("step", state.step());
      s.put("trained_bytes", state.trainedBytes());
      s.put("optimizer_steps", optimizerSteps);
      s.set("data", JSON.readTree(state.dataState()));
      writeString(tmp.resolve("state.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(s));
      Path cur = checkpoint(), old = root.resolve("checkpoint.old");
      deleteTree(old);
      if (Files.exists(cur)) Files.move(cur, old, StandardCopyOption.ATOMIC_MOVE);
      Files.move(tmp, cur, StandardCopyOption.ATOMIC_MOVE);
      deleteTree(old);
    } catch (IOException e) {
      throw new HNetException(root + ": cannot write the checkpoint: " + e.getMessage(), e);
    }
  }

  /** A loaded checkpoint. */
  public record Loaded(HNetConfig config, HNetForCausalLM model, Map<String, float[]> optimizerState, long optimizerSteps, State state) {}

  public Loaded load() {
    Path dir = latestCheckpoint();
    if (dir == null) throw new HNetException(root + ": no checkpoint to resume from");
    HNetForCausalLM lm = HNetForCausalLM.load(dir);
    Map<String, float[]> opt = new LinkedHashMap<>();
    Path optFile = dir.resolve("optimizer.safetensors");
    for (Map.Entry<String, TensorData> e : SafeTensors.read(optFile).entrySet()) opt.put(e.getKey(), e.getValue().toFloats());
    long optSteps = Long.parseLong(SafeTensors.readMetadata(optFile).getOrDefault("steps", "0"));
    try {
      JsonNode s = JSON.readTree(dir.resolve("state.json").toFile());
      State st = new State(s.get("step").asLong(), JSON.writeValueAsString(s.get("data")), s.get("trained_bytes").asLong());
      return new Loaded(lm.config, lm, opt, optSteps, st);
    } catch (IOException | NullPointerException e) {
      throw new HNetException(dir.resolve("state.json") + ": unreadable checkpoint state");
    }
  }

  /** Appends one line to metrics.jsonl (flushed, so a crash loses at most the line being written). */
  public void appendMetrics(String jsonLine) {
    try {
      Files.writeString(metrics(), jsonLine + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
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
      lines.forEach(line -> {
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

  /** Writes a text file atomically (temporary file, fsync, rename). */
  public static void writeString(Path file, String text) {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try {
      Files.writeString(tmp, text, StandardCharsets.UTF_8);
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        ch.force(true);
      }
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException(file + ": cannot write", e);
    }
  }

  private static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) return;
    try (Stream<Path> walk = Files.walk(p)) {
      for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) Files.delete(q);
    }
  }
}
