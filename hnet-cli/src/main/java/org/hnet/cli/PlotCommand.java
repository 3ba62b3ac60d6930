package org.hnet.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.hnet.HNetException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code hnet plot}: several runs' held-out bits per byte on one chart. */
@Command(
    name = "plot",
    header = "Plots the held-out bits per byte of training runs on one chart.",
    mixinStandardHelpOptions = true,
    description =
        "Draws the held-out bits per byte of one or more training runs against training bytes on one PNG.",
    footer = {"", "Example:", "  ./hnet plot runs/demo runs/two-stage --out compare.png"})
final class PlotCommand implements Callable<Integer> {
  @Parameters(
      arity = "1..*",
      paramLabel = "RUN_DIR",
      description = "Training run directories (with metrics.jsonl).")
  List<Path> runs;

  @Option(
      names = "--out",
      defaultValue = "runs.png",
      paramLabel = "PNG",
      description = "Output file (default: ${DEFAULT-VALUE}).")
  Path out;

  @Override
  public Integer call() {
    for (Path r : runs) {
      if (!java.nio.file.Files.isRegularFile(r.resolve("metrics.jsonl")))
        throw new HNetException(r + ": no metrics.jsonl (not a training run directory)");
    }
    Plots.compareRuns(runs, out);
    System.out.println("wrote " + out);
    return 0;
  }
}
