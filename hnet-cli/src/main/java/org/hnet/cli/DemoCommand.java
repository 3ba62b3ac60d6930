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
      "boundaries it learned, beside the chunks of the shipped model that the word-finding recipe of",
      "docs/learning.md trained (they follow words). Run again, it shows the run it made; --resume trains it",
      "further (another 400 steps, or to --steps in all)."
    },
    footer = {
      "",
      "Example:",
      "  ./hnet demo                 # 1-4 minutes on 2 cores, by the CPU's vector width",
      "  ./hnet demo --resume        # 400 steps more",
      "  ./hnet demo --steps 1000    # train the demo run to 1000 steps in all"
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

  static final long STEPS = 400;

  @Option(
      names = "--steps",
      description =
          "Training steps in all (default: "
              + STEPS
              + "); more than an existing demo run has trains it further.")
  Long steps;

  @Option(
      names = "--resume",
      description =
          "Train the demo run in --out further: to --steps, or "
              + STEPS
              + " steps more when it had finished.")
  boolean resume;

  @Mixin ThreadsOption threads;

  @Override
  public Integer call() throws Exception {
    PrintWriter w = spec.commandLine().getOut();
    CommandLine trainer = new CommandLine(new TrainCommand());
    trainer.setOut(w);
    trainer.setErr(spec.commandLine().getErr());
    java.util.List<String> args = new java.util.ArrayList<>();
    if (steps != null && steps < 1) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--steps must be at least 1, got " + steps);
    }
    org.hnet.train.RunDir existing = new org.hnet.train.RunDir(out);
    long at = existing.latestStep();
    boolean train = true;
    if (at < 0) {
      if (resume) {
        throw new org.hnet.HNetException(
            out + ": no demo run to resume (run ./hnet demo first, or give its --out)");
      }
      args.addAll(
          java.util.List.of(
              "--out", out.toString(), "--steps", Long.toString(steps != null ? steps : STEPS)));
    } else if (steps != null) {
      args.addAll(java.util.List.of("--resume", out.toString(), "--steps", steps.toString()));
      train = steps != at; // the run is at --steps already: show it
    } else if (resume) {
      long total =
          org.hnet.train.TrainOptions.fromJson(
                  java.nio.file.Files.readString(existing.options()), existing.options().toString())
              .steps();
      // an interrupted run finishes; a finished one trains another STEPS
      long to = at < total ? total : at + STEPS;
      args.addAll(java.util.List.of("--resume", out.toString(), "--steps", Long.toString(to)));
    } else {
      w.println(
          "hnet demo: "
              + out
              + " holds a demo run of "
              + at
              + " steps; showing it (--resume trains it further, --steps N to N steps in all;"
              + " delete "
              + out
              + " to start afresh)");
      train = false;
    }
    threads.apply(); // validated here; the training reads the same setting
    if (threads.threads != null)
      args.addAll(java.util.List.of("--threads", threads.threads.toString()));
    if (train) {
      Main.handleErrors(trainer, false);
      int code = trainer.execute(args.toArray(String[]::new));
      if (code != 0) return code;
    }

    org.hnet.nn.HNetForCausalLM lm =
        org.hnet.nn.HNetForCausalLM.load(org.hnet.HNetModel.modelDirectory(out));
    byte[] text = PASSAGE.getBytes(StandardCharsets.UTF_8);
    org.hnet.generate.Chunking c = org.hnet.generate.Chunking.of(lm, text, 8);
    w.println();
    w.printf(
        Locale.ROOT,
        "The opening of Moby Dick with the chunks the model learned (%d bytes):%n",
        text.length);
    w.println(
        ChunkView.render(text, ChunkView.depth(c.boundaries(), text.length), ChunkView.colours()));
    ChunkView.printStats(w, c.stats());
    w.println();
    showWordModel(w, text);
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
    ChunkView.Printer printer = new ChunkView.Printer(ps, true, ChunkView.colours());
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

  /**
   * The model of the word-finding recipe (docs/learning.md, "Attention in the encoder"), shipped as
   * resources: configs/words-1stage.json trained 1000 steps on the State of the Union corpus (seed
   * 7), its weights in bfloat16. How it was made is in docs/learning.md.
   */
  static final String WORD_MODEL = "org/hnet/cli/words-demo/";

  /** The passage chunked by the shipped word-finding model, with its word alignment. */
  static void showWordModel(PrintWriter w, byte[] text) throws java.io.IOException {
    ClassLoader loader = DemoCommand.class.getClassLoader();
    Path dir = java.nio.file.Files.createTempDirectory("hnet-words-demo");
    Path config = dir.resolve("config.json"), weights = dir.resolve("model.safetensors");
    try {
      try (java.io.InputStream in =
          org.hnet.train.data.Corpora.openResource(loader, WORD_MODEL + "config.json")) {
        java.nio.file.Files.copy(in, config);
      }
      try (java.io.InputStream in =
          org.hnet.train.data.Corpora.openResource(loader, WORD_MODEL + "model.safetensors.gz")) {
        java.nio.file.Files.copy(in, weights);
      }
      org.hnet.nn.HNetForCausalLM words = org.hnet.nn.HNetForCausalLM.load(dir);
      org.hnet.generate.Chunking c = org.hnet.generate.Chunking.of(words, text, 8);
      w.println(
          "The same passage chunked by the shipped model of the word-finding recipe (attention in the");
      w.println(
          "encoder, compression target ramped from 1.5 to 6; 1000 steps on State of the Union addresses,");
      w.println("about 10 minutes on one core; see docs/learning.md):");
      w.println(
          ChunkView.render(
              text, ChunkView.depth(c.boundaries(), text.length), ChunkView.colours()));
      ChunkView.printStats(w, c.stats());
    } finally {
      // the directory and the two files are this method's own
      java.nio.file.Files.deleteIfExists(weights);
      java.nio.file.Files.deleteIfExists(config);
      java.nio.file.Files.deleteIfExists(dir);
    }
  }
}
