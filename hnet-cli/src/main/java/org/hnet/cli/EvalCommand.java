package org.hnet.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.hnet.nn.HNetForCausalLM;
import org.hnet.train.Evaluator;
import org.hnet.train.data.Corpus;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code hnet eval}: bits per byte and chunking statistics of a model on a corpus. */
@Command(
    name = "eval",
    mixinStandardHelpOptions = true,
    description = {
      "Bits per byte (mean next-byte cross-entropy in nats / ln 2), and per stage the compression ratio",
      "(bytes per chunk at stage 0) and the boundary rate, over all of PATH. --json prints one JSON object."
    },
    footer = {"", "Example:", "  ./hnet eval --model runs/demo/checkpoint --data corpus.txt --json"})
final class EvalCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--model", required = true, paramLabel = "DIR", description = "A model directory (or a training run directory).")
  Path model;

  @Option(names = "--data", required = true, paramLabel = "PATH", description = "A text file (.gz ok), a directory tree or a .jsonl file.")
  Path data;

  @Option(names = "--seq-len", defaultValue = "1024", description = "Bytes per evaluated row (default: ${DEFAULT-VALUE}).")
  int seqLen;

  @Option(names = "--batch", defaultValue = "8", description = "Rows per batch (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--json-field", defaultValue = "text", description = "Text field of JSONL data (default: ${DEFAULT-VALUE}).")
  String jsonField;

  @Option(names = "--json", description = "Print one JSON object instead of a table.")
  boolean json;

  @Mixin ThreadsOption threads;

  /** A training run directory holds its model in checkpoint/. */
  static Path modelDir(Path dir) {
    if (!Files.exists(dir.resolve("config.json")) && Files.exists(dir.resolve("checkpoint/config.json"))) return dir.resolve("checkpoint");
    return dir;
  }

  @Override
  public Integer call() throws Exception {
    threads.apply();
    HNetForCausalLM lm = HNetForCausalLM.load(modelDir(model));
    Evaluator.Result r;
    try (Corpus corpus = Corpus.openWhole(data, jsonField)) {
      r = Evaluator.evaluate(lm, corpus.eval(batch, seqLen), 0);
    }
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      out.println(r.toJson());
    } else {
      out.printf(Locale.ROOT, "bits per byte   %.4f%n", r.bpb());
      out.printf(Locale.ROOT, "bytes scored    %,d%n", r.bytes());
      out.println("stage  compression (positions per chunk)  boundary rate");
      for (int s = 0; s < r.compression().length; s++) {
        out.printf(Locale.ROOT, "%5d  %33.3f  %13.4f%n", s, r.compression()[s], r.boundaryRate()[s]);
      }
    }
    out.flush();
    return 0;
  }
}
