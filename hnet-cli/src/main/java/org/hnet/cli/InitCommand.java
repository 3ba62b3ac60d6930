package org.hnet.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.hnet.config.HNetConfig;
import org.hnet.io.SafeTensors;
import org.hnet.io.TensorData;
import org.hnet.nn.Init;
import org.hnet.train.RunDir;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code hnet init}: a model directory with freshly initialised weights (for benchmarks and tests).
 */
@Command(
    name = "init",
    header = "Writes a freshly initialised model directory for a config.",
    mixinStandardHelpOptions = true,
    description =
        "Writes DIR/config.json and DIR/model.safetensors with the reference's initialisation (init_weights(0.02)).",
    footer = {
      "",
      "Example:",
      "  ./hnet init --config configs/bench/small-1stage.json --out /tmp/small1"
    })
final class InitCommand implements Callable<Integer> {
  @Option(
      names = "--config",
      required = true,
      paramLabel = "C.json",
      description = "Model config (official format).")
  Path config;

  @Option(
      names = "--out",
      required = true,
      paramLabel = "DIR",
      description = "Model directory to write.")
  Path out;

  @Option(names = "--seed", defaultValue = "0", description = "Seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Override
  public Integer call() throws IOException {
    HNetConfig cfg = HNetConfig.parse(config);
    if (Files.exists(out) && (!Files.isDirectory(out) || hasEntries(out))) {
      // a model directory holds more than init writes (a checkpoint's optimizer state and step)
      throw new org.hnet.HNetException(
          "--out " + out + ": exists and is not empty; init writes a new model directory");
    }
    Files.createDirectories(out);
    Map<String, float[]> w = Init.weights(cfg, seed);
    Map<String, TensorData> t = new LinkedHashMap<>();
    for (Map.Entry<String, int[]> e : cfg.parameterShapes().entrySet())
      t.put(e.getKey(), TensorData.viewOfFloats(e.getValue(), w.get(e.getKey()))); // no copy
    SafeTensors.write(out.resolve("model.safetensors"), t, Map.of("format", "pt"));
    RunDir.writeString(out.resolve("config.json"), cfg.toJson());
    return 0;
  }

  private static boolean hasEntries(Path dir) throws IOException {
    try (java.util.stream.Stream<Path> s = Files.list(dir)) {
      return s.findAny().isPresent();
    }
  }
}
