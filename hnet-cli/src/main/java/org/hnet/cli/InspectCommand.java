package org.hnet.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.hnet.config.HNetConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code hnet inspect}: the layer tree and parameter counts of a config. */
@Command(
    name = "inspect",
    header = "Prints a config's stages, blocks and parameter counts.",
    mixinStandardHelpOptions = true,
    description =
        "Prints the layer tree of an H-Net config and its parameter count per stage and in total.",
    footer = {"", "Example:", "  ./hnet inspect --config configs/official/hnet_1stage_L.json"})
final class InspectCommand implements Callable<Integer> {
  @Option(
      names = "--config",
      required = true,
      paramLabel = "FILE",
      description = "An H-Net config JSON (the official format).")
  Path config;

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    HNetConfig cfg = HNetConfig.parse(config);
    spec.commandLine().getOut().print(cfg.layerTree());
    spec.commandLine().getOut().flush();
    return 0;
  }
}
