package org.hnet.cli;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.hnet.HNetModel;
import org.hnet.config.FlopCount;
import org.hnet.config.HNetConfig;
import org.hnet.nn.HNetForCausalLM;
import org.hnet.nn.WeightFormat;
import org.hnet.train.Evaluator;
import org.hnet.train.data.Corpus;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code hnet inspect}: the layer tree, parameter counts and FLOPs per byte of a model. */
@Command(
    name = "inspect",
    header = "Prints a model's levels, blocks, parameter counts and FLOPs per byte.",
    mixinStandardHelpOptions = true,
    description = {
      "Prints the layer tree of an H-Net config and its parameter count per level and in total, then its",
      "FLOPs per byte (forward, and training = 3 × forward) for rows of --seq-len bytes. An H-Net's inner",
      "levels cost in proportion to the compression: --compression gives it, or --model with --data",
      "measures it on a sample; by default the training targets (6 for one stage, 3 per stage with more).",
      "Then the bytes of weights each --weights format holds and a batch-1 decoding step reads per byte",
      "at that compression, and with --model the weights file's size and the format it loads in."
    },
    footer = {
      "",
      "Examples:",
      "  ./hnet inspect --config configs/official/hnet_1stage_L.json",
      "  ./hnet inspect --model runs/demo --data sample.txt"
    })
final class InspectCommand implements Callable<Integer> {
  static final class Source {
    @Option(
        names = "--config",
        paramLabel = "FILE",
        description = "An H-Net config JSON (the official format).")
    Path config;

    @Option(
        names = "--model",
        paramLabel = "DIR",
        description = "A model or training run directory (its config; with --data, its chunking).")
    Path model;
  }

  @ArgGroup(exclusive = true, multiplicity = "1")
  Source source;

  @Option(
      names = "--data",
      paramLabel = "SAMPLE",
      description = "Measure the compression of --model on this text (its first 64 kB).")
  Path data;

  @Option(
      names = "--compression",
      split = ",",
      paramLabel = "N0,N1,..",
      description = "Bytes per chunk of each chunking stage, outer first, for the FLOP count.")
  double[] compression;

  @Option(
      names = "--seq-len",
      defaultValue = "1024",
      description = "Bytes per row for the attention's context (default: ${DEFAULT-VALUE}).")
  int seqLen;

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    if (data != null && source.model == null)
      throw usage("--data measures a model's compression: give --model");
    if (data != null && compression != null)
      throw usage("--data and --compression cannot be combined");
    if (seqLen < 1) throw usage("--seq-len must be at least 1, got " + seqLen);
    HNetConfig cfg;
    HNetForCausalLM lm = null;
    if (source.config != null) {
      cfg = HNetConfig.parse(source.config);
    } else if (data != null) {
      lm = HNetModel.load(source.model).model();
      cfg = lm.config;
    } else {
      cfg = HNetConfig.parse(HNetModel.modelDirectory(source.model).resolve("config.json"));
    }
    int stages = cfg.numStages() - 1;
    if (compression != null && compression.length != stages)
      throw usage(
          "--compression needs "
              + stages
              + " value(s), one per chunking stage, got "
              + compression.length);
    if (compression != null)
      for (double c : compression)
        if (!(c >= 1)) throw usage("--compression values must be at least 1, got " + c);
    var out = spec.commandLine().getOut();
    out.print(cfg.layerTree());
    double[] comp = compression != null ? compression : FlopCount.defaultCompression(cfg);
    String where = compression != null ? "as given" : "the training targets";
    if (lm != null && cfg.tokenizer() == null) {
      try (Corpus c = Corpus.openWhole(data, "text")) {
        Evaluator.Result r =
            Evaluator.evaluate(lm, c.eval(1, Math.min(seqLen, 65536)), Math.max(1, 65536 / seqLen));
        comp = r.compression();
        where = "measured on " + data;
      }
    }
    double fwd = FlopCount.forwardPerByte(cfg, comp, seqLen);
    if (cfg.tokenizer() != null) {
      // a token-level model: its count is per token; per byte it needs the bytes per token
      out.printf(
          Locale.ROOT,
          "FLOPs per token (rows of %d tokens): forward %s, training %s%n",
          seqLen,
          FlopCount.format(fwd),
          FlopCount.format(3 * fwd));
      if (data != null) {
        double bpt = bytesPerToken(cfg, data);
        out.printf(
            Locale.ROOT,
            "FLOPs per byte (%.2f bytes per token, measured on %s): forward %s, training %s%n",
            bpt,
            data,
            FlopCount.format(fwd / bpt),
            FlopCount.format(3 * fwd / bpt));
      } else {
        out.println("FLOPs per byte: these divided by the bytes per token (measured by --data)");
      }
      out.flush();
      return 0;
    }
    out.printf(
        Locale.ROOT,
        "FLOPs per byte (rows of %d bytes%s): forward %s, training %s%n",
        seqLen,
        stages == 0 ? "" : "; " + Numbers.compression(comp) + ", " + where,
        FlopCount.format(fwd),
        FlopCount.format(3 * fwd));
    printWeights(out, cfg, comp, stages == 0 ? "" : "; " + Numbers.compression(comp));
    if (source.model != null) printStored(out, HNetModel.modelDirectory(source.model));
    out.flush();
    return 0;
  }

  /**
   * The bytes each {@code --weights} format holds ({@link WeightFormat#bytesPerStage}), and those a
   * batch-1 decoding step reads per byte at the compression {@code comp} ({@link
   * WeightFormat#bytesPerStep}: the weights {@code hnet bench} counts for its bound).
   */
  static void printWeights(
      java.io.PrintWriter out, HNetConfig cfg, double[] comp, String compression) {
    long products = 0, all = cfg.parameterCount();
    var shapes = cfg.parameterShapes();
    for (String name : cfg.productWeights()) {
      int[] sh = shapes.get(name);
      products += (long) sh[0] * sh[1];
    }
    double[] ran = new double[cfg.numStages()];
    ran[0] = 1;
    for (int s = 1; s < ran.length; s++) ran[s] = ran[s - 1] / comp[s - 1];
    StringBuilder held = new StringBuilder(), read = new StringBuilder();
    for (WeightFormat f : WeightFormat.values()) {
      double total = 0;
      for (long x : f.bytesPerStage(cfg)) total += x;
      String sep = held.isEmpty() ? "" : ", ";
      held.append(sep).append(f.label()).append(' ').append(megabytes(total));
      read.append(sep).append(f.label()).append(' ').append(megabytes(f.bytesPerStep(cfg, ran)));
    }
    out.printf(
        Locale.ROOT,
        "Weights held (--weights): %s (the large products, %.1f%% of the parameters, in that"
            + " format; the rest float32)%n",
        held,
        100.0 * products / all);
    if (cfg.tokenizer() == null)
      out.printf(Locale.ROOT, "Weights read per decoded byte (batch 1%s): %s%n", compression, read);
  }

  /** The model's weights file: its size, and the format it holds (what loading gives). */
  private static void printStored(java.io.PrintWriter out, Path dir) {
    Path file = org.hnet.io.Checkpoints.weightsFile(dir);
    if (file == null || !java.nio.file.Files.isRegularFile(file)) return;
    long size;
    try {
      size = java.nio.file.Files.size(file);
    } catch (java.io.IOException e) {
      return; // the file vanished: nothing to report
    }
    WeightFormat f = org.hnet.io.Checkpoints.storedFormat(dir);
    out.printf(
        Locale.ROOT,
        "Stored: %s, %s; loads as %s unless --weights says otherwise%n",
        file,
        megabytes(size),
        f == WeightFormat.F32 ? "float32" : f.label() + " (written by hnet quantize)");
  }

  /** Bytes as MB with one decimal, thousands grouped. */
  static String megabytes(double bytes) {
    return String.format(Locale.ROOT, "%,.1f MB", bytes / 1e6);
  }

  /** Mean bytes per token of the first 1 MB of a sample's text. */
  private static double bytesPerToken(HNetConfig cfg, Path data) {
    var tok = org.hnet.train.data.BpeTokenizer.of(cfg.tokenizer(), cfg.vocabSize(), "config");
    try (Corpus c = Corpus.openWhole(data, "text")) {
      long bytes = 0, tokens = 0;
      for (org.hnet.train.data.Batch b : c.eval(1, 4096)) {
        byte[] text = new byte[b.tokens().length];
        int n = 0;
        for (int t : b.tokens()) if (t < 254) text[n++] = (byte) t;
        String s = new String(text, 0, n, java.nio.charset.StandardCharsets.UTF_8);
        bytes += s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        tokens += tok.encode(s).length;
        if (bytes >= 1 << 20) break;
      }
      return tokens == 0 ? Double.NaN : (double) bytes / tokens;
    }
  }

  private ParameterException usage(String m) {
    return new ParameterException(spec.commandLine(), m);
  }
}
