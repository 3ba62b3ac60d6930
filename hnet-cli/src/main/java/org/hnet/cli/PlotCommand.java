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
    header = "Plots the held-out bits per byte (and word alignment) of training runs together.",
    mixinStandardHelpOptions = true,
    description =
        "Draws the held-out bits per byte of one or more training runs against training bytes on one PNG, and\n"
            + "below it the word-aligned precision of their chunk boundaries when the runs recorded it.",
    footer = {"", "Example:", "  ./hnet plot runs/demo runs/two-stage --out compare.png"})
final class PlotCommand implements Callable<Integer> {
  @Parameters(
      arity = "1..*",
      paramLabel = "RUN_DIR",
      description = "Training run directories (with metrics.jsonl).")
  List<Path> runs;

  @Option(
      names = "--out",
      paramLabel = "PNG",
      description = "Output file (default: runs.png beside the first run directory).")
  Path out;

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    for (Path r : runs) {
      if (!java.nio.file.Files.isRegularFile(r.resolve("metrics.jsonl")))
        throw new HNetException(r + ": no metrics.jsonl (not a training run directory)");
    }
    Path png = out != null ? out : defaultOut(runs.getFirst());
    Outputs.checkOutput("--out", png, null);
    Plots.compareRuns(runs, png);
    spec.commandLine().getOut().println("wrote " + png);
    spec.commandLine().getOut().flush();
    return 0;
  }

  /** runs.png in the directory that holds {@code run} (runs/demo → runs/runs.png). */
  static Path defaultOut(Path run) {
    Path parent = run.toAbsolutePath().normalize().getParent();
    Path png = parent == null ? Path.of("runs.png") : parent.resolve("runs.png");
    // relative to where the user is, when it can be
    Path here = Path.of("").toAbsolutePath();
    return png.startsWith(here) ? here.relativize(png) : png;
  }
}
