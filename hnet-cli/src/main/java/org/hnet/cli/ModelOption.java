package org.hnet.cli;

import java.nio.file.Path;
import org.hnet.HNetModel;
import org.hnet.nn.HNetForCausalLM;
import picocli.CommandLine.Option;

/** --model, shared by the commands that load a model: resolved as the Java API resolves it. */
final class ModelOption {
  @Option(
      names = "--model",
      required = true,
      paramLabel = "DIR",
      description =
          "A model directory (config.json + model.safetensors or model.pt) or a training run"
              + " directory.")
  Path model;

  /** The model directory (a run directory's newest checkpoint). */
  Path dir() {
    return HNetModel.modelDirectory(model);
  }

  /** Loads it; a checkpoint of more than 64 MB shows a spinner on a terminal meanwhile. */
  HNetForCausalLM load() {
    return load(null);
  }

  /** As {@link #load()}, the large weights held in {@code format} (null: as stored). */
  HNetForCausalLM load(org.hnet.nn.WeightFormat format) {
    Path d = dir();
    long size = 0;
    try {
      Path f = org.hnet.io.Checkpoints.weightsFile(d);
      if (f != null) size = java.nio.file.Files.size(f);
    } catch (java.io.IOException | RuntimeException e) {
      // unreadable: loading says what is wrong
    }
    try (Progress p =
        Progress.spinner(
            String.format(java.util.Locale.ROOT, "loading %s (%.0f MB)", d, size / 1e6),
            size > 64 << 20)) {
      return HNetModel.load(model, format).model();
    }
  }
}
