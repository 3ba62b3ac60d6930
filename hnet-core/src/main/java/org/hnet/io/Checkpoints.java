package org.hnet.io;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.hnet.HNetException;

/** Finding a model's weights on disk and checking them against the model's parameter list. */
public final class Checkpoints {
  /** How many offending names of each kind an error message spells out. */
  private static final int SHOWN = 4;

  private Checkpoints() {}

  /**
   * The state dict of a model directory: {@code model.safetensors} if present, else {@code
   * model.pt}. A path to one of those files is accepted as well.
   */
  public static Map<String, TensorData> loadStateDict(Path modelDir) {
    if (Files.isRegularFile(modelDir)) {
      String name = modelDir.getFileName().toString();
      if (name.endsWith(".safetensors")) {
        return SafeTensors.read(modelDir);
      }
      if (name.endsWith(".pt") || name.endsWith(".pth") || name.endsWith(".bin")) {
        return TorchCheckpoint.read(modelDir);
      }
      throw new HNetException(
          modelDir + ": expected a .safetensors or .pt file or a model directory");
    }
    if (!Files.isDirectory(modelDir)) {
      throw new HNetException(modelDir + ": no such model directory");
    }
    Path st = modelDir.resolve("model.safetensors");
    if (Files.exists(st)) {
      return SafeTensors.read(st); // which refuses a pipe or a device by name
    }
    Path pt = modelDir.resolve("model.pt");
    if (Files.exists(pt)) {
      return TorchCheckpoint.read(pt);
    }
    throw new HNetException(modelDir + ": contains neither model.safetensors nor model.pt");
  }

  /**
   * Requires {@code actual} to hold exactly the tensors of {@code expectedShapes}, with those
   * shapes and a floating-point type; otherwise throws one line listing missing, unexpected,
   * mis-shaped and integer tensors.
   *
   * @param source names the checkpoint in the message, e.g. its path
   */
  public static void checkStrict(
      Map<String, int[]> expectedShapes, Map<String, TensorData> actual, String source) {
    List<String> missing = new ArrayList<>();
    List<String> misShaped = new ArrayList<>();
    List<String> unexpected = new ArrayList<>();
    List<String> wrongType = new ArrayList<>();
    for (Map.Entry<String, int[]> e : expectedShapes.entrySet()) {
      TensorData t = actual.get(e.getKey());
      if (t == null) {
        missing.add(e.getKey() + " " + Arrays.toString(e.getValue()));
      } else if (!t.dtype().isFloatingPoint()) {
        // a weight stored as integers is a relabelled or foreign file, never a model to convert
        wrongType.add(e.getKey() + " " + t.dtype());
      } else if (!Arrays.equals(t.shape(), e.getValue())) {
        misShaped.add(
            e.getKey()
                + " "
                + Arrays.toString(t.shape())
                + " vs model "
                + Arrays.toString(e.getValue()));
      }
    }
    for (Map.Entry<String, TensorData> e : actual.entrySet()) {
      if (!expectedShapes.containsKey(e.getKey())) {
        unexpected.add(e.getKey() + " " + Arrays.toString(e.getValue().shape()));
      }
    }
    if (missing.isEmpty() && misShaped.isEmpty() && unexpected.isEmpty() && wrongType.isEmpty()) {
      return;
    }
    List<String> parts = new ArrayList<>();
    summarize(parts, "missing", missing);
    summarize(parts, "unexpected", unexpected);
    summarize(parts, "mis-shaped", misShaped);
    summarize(parts, "not floating point", wrongType);
    throw new HNetException(
        source + ": state dict does not match the model: " + String.join("; ", parts));
  }

  private static void summarize(List<String> parts, String kind, List<String> names) {
    if (names.isEmpty()) {
      return;
    }
    String shown = String.join(", ", names.subList(0, Math.min(SHOWN, names.size())));
    parts.add(
        names.size() + " " + kind + " (" + shown + (names.size() > SHOWN ? ", ..." : "") + ")");
  }
}
