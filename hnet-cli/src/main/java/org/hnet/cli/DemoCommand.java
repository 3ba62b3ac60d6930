package org.hnet.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code hnet demo}: the whole story on the shipped corpus in a few minutes. */
@Command(
    name = "demo",
    header = "Trains a small H-Net on Moby Dick in a few minutes and shows what it learned.",
    mixinStandardHelpOptions = true,
    description = {
      "Trains the small 1-stage demo H-Net on the shipped Moby Dick for a few minutes on the CPU (progress",
      "bar), reports its held-out bits per byte and compression, and shows a passage with the chunk",
      "boundaries it learned. Run it again with --resume to train further."
    },
    footer = {
      "",
      "Example:",
      "  ./hnet demo                 # about 3-5 minutes on 2 cores",
      "  ./hnet demo --steps 1000"
    })
final class DemoCommand implements Callable<Integer> {
  static final String PASSAGE =
      "Call me Ishmael. Some years ago\u2014never mind how long precisely\u2014having little or no money "
          + "in my purse, and nothing particular to interest me on shore, I thought I would sail about a little and see "
          + "the watery part of the world.";

  @Spec CommandSpec spec;

  @Option(
      names = "--out",
      defaultValue = "runs/demo",
      description = "Run directory (default: ${DEFAULT-VALUE}).")
  Path out;

  @Option(
      names = "--steps",
      defaultValue = "400",
      description = "Training steps (default: ${DEFAULT-VALUE}).")
  long steps;

  @Option(
      names = "--resume",
      description = "Continue the demo run in --out instead of starting afresh.")
  boolean resume;

  @Mixin ThreadsOption threads;

  @Override
  public Integer call() throws Exception {
    PrintWriter w = spec.commandLine().getOut();
    CommandLine train = new CommandLine(new TrainCommand());
    train.setOut(w);
    train.setErr(spec.commandLine().getErr());
    java.util.List<String> args = new java.util.ArrayList<>();
    if (resume) {
      args.addAll(java.util.List.of("--resume", out.toString()));
    } else {
      args.addAll(java.util.List.of("--out", out.toString(), "--steps", Long.toString(steps)));
      if (new org.hnet.train.RunDir(out).latestCheckpoint() != null) {
        w.println(
            "hnet demo: "
                + out
                + " already holds a demo run; continuing it (delete it to start afresh)");
        args = new java.util.ArrayList<>(java.util.List.of("--resume", out.toString()));
      }
    }
    threads.apply(); // validated here; the training reads the same setting
    if (threads.threads != null)
      args.addAll(java.util.List.of("--threads", threads.threads.toString()));
    Main.handleErrors(train, false);
    int code = train.execute(args.toArray(String[]::new));
    if (code != 0) return code;

    org.hnet.nn.HNetForCausalLM lm = org.hnet.nn.HNetForCausalLM.load(out.resolve("checkpoint"));
    byte[] text = PASSAGE.getBytes(StandardCharsets.UTF_8);
    org.hnet.generate.Chunking c = org.hnet.generate.Chunking.of(lm, text, 8);
    w.println();
    w.printf(
        Locale.ROOT,
        "The opening of Moby Dick with the chunks the model learned (%d bytes):%n",
        text.length);
    w.println(
        ChunkView.render(
            text, ChunkView.depth(c.boundaries(), text.length), System.console() != null));
    ChunkView.printStats(w, c.stats());
    w.println();
    w.println(
        "A sample from the model (temperature 0.8, top-p 0.95, seed 1), chunk boundaries marked:");
    w.flush();
    java.io.PrintStream ps =
        new java.io.PrintStream(
            new java.io.FileOutputStream(java.io.FileDescriptor.out),
            false,
            StandardCharsets.UTF_8);
    String prompt = "It was the whale";
    ps.print(prompt);
    ChunkView.Printer printer = new ChunkView.Printer(ps, true, System.console() != null);
    new org.hnet.generate.Generator(lm)
        .generate(
            java.util.List.of(prompt.getBytes(StandardCharsets.UTF_8)),
            org.hnet.generate.GenerateOptions.of(
                300, new org.hnet.generate.SamplingOptions(0.8, 0, 0.95, 1)),
            (row, b, d) -> printer.push(b, d));
    printer.finish();
    ps.println();
    ps.flush();
    w.println(
        "Try: ./hnet generate --model "
            + out
            + " --prompt 'Call me' --show-chunks;  ./hnet chunks --model "
            + out
            + " --text '...' --html chunks.html");
    w.flush();
    return 0;
  }
}
