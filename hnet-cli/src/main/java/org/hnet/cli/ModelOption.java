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

  HNetForCausalLM load() {
    return HNetModel.load(model).model();
  }
}
