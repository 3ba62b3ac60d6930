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
    Path f = weightsFile(modelDir);
    if (f == null)
      throw new HNetException(modelDir + ": contains neither model.safetensors nor model.pt");
    // each reader refuses a pipe or a device by name
    return f.getFileName().toString().equals("model.pt")
        ? TorchCheckpoint.read(f)
        : SafeTensors.read(f);
  }

  /**
   * The weights file a model directory's load reads: model.safetensors if it exists, else model.pt
   * if it exists, else null.
   */
  public static Path weightsFile(Path modelDir) {
    for (String name : new String[] {"model.safetensors", "model.pt"}) {
      Path f = modelDir.resolve(name);
      if (Files.exists(f)) return f;
    }
    return null;
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

  /** The metadata key under which {@code hnet quantize} records the weights' format. */
  public static final String WEIGHTS_KEY = "hnet.weights";

  /** The suffix of an int8 weight's scales: {@code NAME_scale} [n, groups] beside NAME [n, k]. */
  public static final String SCALE_SUFFIX = "_scale";

  /**
   * The weight format a model directory's file records ({@code hnet quantize} writes it in the
   * safetensors metadata); float32 for any other file.
   */
  public static org.hnet.nn.WeightFormat storedFormat(Path modelDir) {
    Path st = Files.isRegularFile(modelDir) ? modelDir : modelDir.resolve("model.safetensors");
    if (!st.getFileName().toString().endsWith(".safetensors") || !Files.exists(st))
      return org.hnet.nn.WeightFormat.F32;
    String v = SafeTensors.readMetadata(st).get(WEIGHTS_KEY);
    if (v == null) return org.hnet.nn.WeightFormat.F32;
    org.hnet.nn.WeightFormat f = org.hnet.nn.WeightFormat.parse(v);
    if (f == null)
      throw new HNetException(
          st + ": metadata " + WEIGHTS_KEY + " is \"" + v + "\" (expected f32, bf16 or int8)");
    return f;
  }

  /**
   * Takes the int8 weights out of {@code sd} (modifiable): every I8 tensor NAME [n, k] with an F32
   * NAME{@value #SCALE_SUFFIX} [n, ceil(k/32)] beside it, as {@code hnet quantize} writes them. An
   * I8 tensor without its scales stays (and is refused as not floating point); malformed pairs are
   * named.
   */
  public static Map<String, org.hnet.kernels.CompactWeight> takeInt8(
      Map<String, TensorData> sd, String source) {
    Map<String, org.hnet.kernels.CompactWeight> out = new java.util.LinkedHashMap<>();
    for (String name : List.copyOf(sd.keySet())) {
      TensorData q = sd.get(name), sc = sd.get(name + SCALE_SUFFIX);
      if (q == null || q.dtype() != DType.I8 || sc == null) continue; // q: a taken scale
      int[] qs = q.shape(), ss = sc.shape();
      if (qs.length != 2
          || sc.dtype() != DType.F32
          || ss.length != 2
          || ss[0] != qs[0]
          || ss[1] != org.hnet.kernels.CompactWeight.groups(qs[1]))
        throw new HNetException(
            source
                + ": int8 weight "
                + name
                + " "
                + Arrays.toString(qs)
                + " has scales "
                + sc.dtype()
                + " "
                + Arrays.toString(ss)
                + " (expected F32 ["
                + (qs.length == 2
                    ? qs[0] + ", " + org.hnet.kernels.CompactWeight.groups(qs[1])
                    : "n, groups")
                + "])");
      if (q.numel() > TensorData.MAX_ARRAY - 64)
        throw new HNetException(
            source
                + ": int8 weight "
                + name
                + " has "
                + q.numel()
                + " values, more than a Java byte[] can hold");
      float[] scales = sc.toFloats();
      int count = (int) q.numel();
      try {
        // the values copied from the file straight into the kernels' array, with no copy between
        out.put(
            name,
            org.hnet.kernels.CompactWeight.ofInt8(
                v -> q.i8Values(0, v, 0, count), scales, qs[0], qs[1]));
      } catch (IllegalArgumentException e) {
        throw new HNetException(source + ": int8 weight " + name + ": " + e.getMessage());
      }
      q.release();
      sc.release();
      sd.remove(name);
      sd.remove(name + SCALE_SUFFIX);
    }
    return out;
  }

  /**
   * Checks compact weights against the model's shapes (naming them as {@link #checkStrict} would)
   * and removes their names from {@code shapes} (modifiable), which then lists the rest.
   */
  public static void checkCompactShapes(
      Map<String, int[]> shapes,
      Map<String, org.hnet.kernels.CompactWeight> compact,
      String source) {
    for (Map.Entry<String, org.hnet.kernels.CompactWeight> e : compact.entrySet()) {
      int[] want = shapes.remove(e.getKey());
      int[] have = {e.getValue().n, e.getValue().k};
      if (want == null)
        throw new HNetException(
            source
                + ": state dict does not match the model: 1 unexpected ("
                + e.getKey()
                + " "
                + Arrays.toString(have)
                + ")");
      if (!Arrays.equals(want, have))
        throw new HNetException(
            source
                + ": state dict does not match the model: 1 mis-shaped ("
                + e.getKey()
                + " "
                + Arrays.toString(have)
                + " vs model "
                + Arrays.toString(want)
                + ")");
    }
  }

  /**
   * The state dict of a model as it holds its weights: float32 tensors, bf16 tensors (BF16) for
   * weights held in bf16, and for int8 weights an I8 tensor with its F32 scales under NAME{@value
   * #SCALE_SUFFIX}. A tied LM head is written under both official names.
   */
  public static Map<String, TensorData> stateDict(org.hnet.nn.HNetForCausalLM lm) {
    Map<String, TensorData> out = new java.util.LinkedHashMap<>();
    for (Map.Entry<String, int[]> e : lm.config.parameterShapes().entrySet()) {
      String name = e.getKey();
      org.hnet.nn.Param p = name.equals("lm_head.weight") ? lm.lmHead : lm.parameters.get(name);
      org.hnet.kernels.CompactWeight c = p.compact;
      if (c == null) {
        out.put(name, TensorData.ofFloats(e.getValue(), p.data));
      } else if (c.format == org.hnet.kernels.CompactWeight.Format.BF16) {
        // the bits in the file's order, made a chunk at a time as the file is written: no copy
        // of them (a whole copy, made row by row, had quantizing 2stage_XL to bf16 peak at 6.6
        // GB; with copies of the bits and of the bytes besides, at 12.7)
        out.put(name, TensorData.ofSource(DType.BF16, e.getValue(), c::bf16RowMajor));
      } else {
        // the values in the file's order (the kernels hold them in superblocks), likewise
        out.put(name, TensorData.ofSource(DType.I8, e.getValue(), c::int8RowMajor));
        out.put(
            name + SCALE_SUFFIX,
            TensorData.ofFloats(
                new int[] {c.n, org.hnet.kernels.CompactWeight.groups(c.k)}, c.int8Scales()));
      }
    }
    return out;
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
