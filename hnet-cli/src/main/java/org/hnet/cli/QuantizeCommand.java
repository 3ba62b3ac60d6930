package org.hnet.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.hnet.HNetException;
import org.hnet.io.AtomicFile;
import org.hnet.io.Checkpoints;
import org.hnet.io.SafeTensors;
import org.hnet.io.TensorData;
import org.hnet.kernels.CompactWeight;
import org.hnet.nn.HNetForCausalLM;
import org.hnet.nn.WeightFormat;
import org.hnet.train.RunDir;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code hnet quantize}: a smaller model directory with bf16 or int8 weights. */
@Command(
    name = "quantize",
    header = "Writes a copy of a model with its large weights in bf16 or int8.",
    mixinStandardHelpOptions = true,
    description = {
      "Writes OUT/config.json and OUT/model.safetensors with the weights of the large products"
          + " (the mixers' and MLPs' Linear layers) in bf16, or in int8 as symmetric groups of 32"
          + " weights with a float32 scale each (NAME as I8, NAME_scale as F32); every other"
          + " tensor stays float32. The directory loads as it is with every inference command,"
          + " which then holds the weights in that format (--weights overrides). Training needs"
          + " float32 weights."
    },
    footer = {
      "",
      "Examples:",
      "  ./hnet quantize --model runs/demo --out runs/demo-int8 --weights int8",
      "  ./hnet eval --model runs/demo-int8 --data data/moby.txt"
    })
final class QuantizeCommand implements Callable<Integer> {
  @Mixin ModelOption model;

  @Option(
      names = "--out",
      required = true,
      paramLabel = "DIR",
      description = "The model directory to write: new, or an empty directory.")
  Path out;

  @Option(
      names = "--weights",
      required = true,
      paramLabel = "f32|bf16|int8",
      converter = WeightsOption.Converter.class,
      description = "The format of the large weights (f32 converts a quantized model back).")
  WeightFormat format;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    Path src = model.dir();
    WeightFormat stored = Checkpoints.storedFormat(src);
    if (Files.exists(out) && (!Files.isDirectory(out) || hasEntries(out)))
      throw new HNetException(
          "--out " + out + ": exists and is not empty; quantize writes a new model directory");
    HNetForCausalLM lm = model.load(format);
    lm.requireBytes("quantize");
    Map<String, TensorData> sd = Checkpoints.stateDict(lm);
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("format", "pt");
    meta.put(Checkpoints.WEIGHTS_KEY, format.label());
    if (format == WeightFormat.INT8)
      meta.put("hnet.int8_group", Integer.toString(CompactWeight.GROUP));
    boolean fresh = !Files.exists(out);
    // a new directory is written beside it under a temporary name and renamed whole; into an empty
    // one the model goes first and config.json last, so a cut-off write is no loadable model
    Path dir = fresh ? AtomicFile.newDirectory(out) : out;
    try {
      SafeTensors.write(dir.resolve("model.safetensors"), sd, meta);
      RunDir.writeString(dir.resolve("config.json"), lm.config.toJson());
      if (fresh) Files.move(dir, out, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException | RuntimeException e) {
      if (fresh) deleteOwn(dir);
      throw e;
    }
    Path read = Checkpoints.weightsFile(src);
    long before = read == null ? 0 : size(read);
    long after = size(out.resolve("model.safetensors"));
    spec.commandLine()
        .getOut()
        .println(
            String.format(
                Locale.ROOT,
                "wrote %s: %s weights, %.1f MB (from %.1f MB%s)",
                out,
                format.label(),
                after / 1e6,
                before / 1e6,
                coarser(stored, format)
                    ? ", "
                        + stored.label()
                        + " weights: the values are the "
                        + stored.label()
                        + " model's, and what "
                        + stored.label()
                        + " rounded off stays lost"
                    : ""));
    return 0;
  }

  /** Whether weights stored in {@code from} are coarser than {@code to} holds them. */
  static boolean coarser(WeightFormat from, WeightFormat to) {
    return from.compareTo(to) > 0; // F32, BF16, INT8: each coarser than the one before
  }

  /** Removes the temporary directory this command made (only the files it writes). */
  private static void deleteOwn(Path dir) {
    try {
      for (String f : new String[] {"model.safetensors", "config.json"})
        Files.deleteIfExists(dir.resolve(f));
      Files.deleteIfExists(dir);
    } catch (IOException e) {
      // left behind under its temporary name; the error that caused this is reported
    }
  }

  private static long size(Path f) {
    try {
      return Files.isRegularFile(f) ? Files.size(f) : 0;
    } catch (IOException e) {
      return 0;
    }
  }

  private static boolean hasEntries(Path dir) throws IOException {
    try (java.util.stream.Stream<Path> s = Files.list(dir)) {
      return s.findAny().isPresent();
    }
  }
}
