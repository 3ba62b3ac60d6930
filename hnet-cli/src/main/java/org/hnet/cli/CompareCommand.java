package org.hnet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.hnet.HNetException;
import org.hnet.analysis.ChunkStats;
import org.hnet.analysis.Perturb;
import org.hnet.config.FlopCount;
import org.hnet.config.HNetConfig;
import org.hnet.nn.HNetForCausalLM;
import org.hnet.train.Evaluator;
import org.hnet.train.RunDir;
import org.hnet.train.TrainOptions;
import org.hnet.train.Trainer;
import org.hnet.train.data.Batch;
import org.hnet.train.data.Corpus;
import org.hnet.train.data.TokenCorpus;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code hnet compare}: H-Net against its baselines on the same bytes, the same recipe and matched
 * FLOPs per byte; one run directory per model (an interrupted comparison resumes), one report.
 */
@Command(
    name = "compare",
    header = "Trains H-Net and its baselines on your data at matched compute and reports.",
    mixinStandardHelpOptions = true,
    description = {
      "Trains every model of a preset (or of --models) on the same training bytes in the same order",
      "with the same recipe, sized so that their training FLOPs per byte match within ±10%; scores",
      "each on the held-out part (and --eval files), under each perturbation too; writes DIR/report.md,",
      "DIR/report.json and DIR/bpb.png. Each model is a run directory in DIR: run the same command",
      "again to resume an interrupted comparison.",
      "",
      "Presets: tiny (a few minutes in all; for a first look and the tests) and small. Models of a",
      "preset: hnet (a 1-stage H-Net, learned chunks), space (the same with a chunk at every spacelike",
      "byte), fixed4 (a chunk every 4 bytes), transformer and mamba (byte-level isotropic)."
    },
    footer = {
      "",
      "Examples:",
      "  ./hnet compare --data corpus.txt --preset tiny --out runs/compare",
      "  ./hnet compare --data code/ --preset small --minutes 30 --out runs/compare-code",
      "  ./hnet compare --data d.txt --models hnet,transformer,my.json --bytes 20000000 --out runs/c"
    })
final class CompareCommand implements Callable<Integer> {
  /** The models of each preset, in report order. */
  static final List<String> MODELS =
      List.of("hnet", "space", "fixed4", "transformer", "mamba", "bpe");

  static final List<String> PRESETS = List.of("tiny", "small");

  @Spec CommandSpec spec;

  @Option(
      names = "--data",
      required = true,
      paramLabel = "PATH",
      description = "A text file (.gz ok), a directory tree or a .jsonl file.")
  Path data;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory.")
  Path out;

  @Option(
      names = "--preset",
      defaultValue = "tiny",
      description = "tiny or small (default: ${DEFAULT-VALUE}).")
  String preset;

  @Option(
      names = "--models",
      split = ",",
      paramLabel = "M,..",
      description = "Preset model names or config files (default: all of the preset's).")
  List<String> models;

  @Option(
      names = "--bytes",
      paramLabel = "N",
      description = "Training bytes per model (default: 2 MB for tiny, 40 MB for small).")
  Long bytes;

  @Option(
      names = "--minutes",
      paramLabel = "M",
      description = "Training time per model instead of --bytes (measured on the first model).")
  Double minutes;

  @Option(
      names = "--eval",
      paramLabel = "FILE",
      description = "Also score each model on this text (repeatable).")
  List<Path> evalFiles = new ArrayList<>();

  @Option(names = "--seed", defaultValue = "0", description = "Seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--eval-batches",
      defaultValue = "32",
      description = "Held-out batches scored per model, 0 for all (default: ${DEFAULT-VALUE}).")
  int evalBatches;

  @Option(names = "--no-progress", description = "Log lines instead of progress bars.")
  boolean noProgress;

  @Option(
      names = "--alpha",
      paramLabel = "A",
      description =
          "Weight of a learned router's ratio loss, which holds its compression at the target"
              + " (default: the trainer's, ${DEFAULT-VALUE}).")
  double alpha = TrainOptions.DEFAULT_ALPHA;

  @Mixin ThreadsOption threads;

  static final int BATCH = 8, SEQ_LEN = 512;
  static final double RATIO = 4; // the learned H-Net's target bytes per chunk at these sizes

  /**
   * Training FLOPs per byte by which the presets are matched: at {@link #RATIO} bytes per chunk,
   * and for a token-level model at {@link #RATIO} bytes per token (rows of SEQ_LEN / RATIO tokens,
   * about the same bytes as the others' rows).
   */
  static double nominalFlopsPerByte(HNetConfig c) {
    if (c.tokenizer() != null) {
      int len = (int) Math.round(SEQ_LEN / RATIO);
      return FlopCount.trainingPerByte(c, new double[0], len) / RATIO;
    }
    double[] comp = new double[c.numStages() - 1];
    java.util.Arrays.fill(comp, RATIO);
    return FlopCount.trainingPerByte(c, comp, SEQ_LEN);
  }

  static final double PERTURB_RATE = 0.05;
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One model of the comparison: its name and config. */
  record Model(String name, HNetConfig config, String source) {}

  @Override
  public Integer call() throws IOException {
    threads.apply();
    if (!PRESETS.contains(preset))
      throw usage("--preset must be one of " + PRESETS + ", got '" + preset + "'");
    if (bytes != null && minutes != null) throw usage("--bytes and --minutes cannot be combined");
    if (bytes != null && bytes < BATCH * SEQ_LEN)
      throw usage("--bytes must be at least one batch (" + BATCH * SEQ_LEN + "), got " + bytes);
    if (minutes != null && !(minutes > 0)) throw usage("--minutes must be positive");
    if (evalBatches < 0) throw usage("--eval-batches must not be negative");
    if (!(alpha >= 0) || Double.isInfinite(alpha))
      throw usage("--alpha must be 0 or more, got " + alpha);
    List<Model> list = new ArrayList<>();
    for (String m : models != null ? models : MODELS) list.add(model(m));
    for (Path e : evalFiles)
      if (!Files.isRegularFile(e)) throw new HNetException(e + ": no such file (--eval)");
    if (!Files.exists(data)) throw new HNetException(data + ": no such file or directory (--data)");
    Corpus.requireText(data);
    Files.createDirectories(out);
    PrintWriter w = spec.commandLine().getOut();

    long steps = steps(list.getFirst(), w);
    List<ObjectNode> results = new ArrayList<>();
    for (Model m : list) results.add(runOne(m, steps, w));
    ObjectNode report = JSON.createObjectNode();
    ArrayNode arr = report.putArray("models");
    results.forEach(arr::add);
    ObjectNode d = report.putObject("data");
    d.put("path", data.toString());
    d.put("train_bytes_per_model", steps * BATCH * SEQ_LEN);
    d.put("preset", preset);
    d.put("batch", BATCH);
    d.put("seq_len", SEQ_LEN);
    d.put("seed", seed);
    d.put("alpha", alpha);
    RunDir.writeString(
        out.resolve("report.json"),
        JSON.writerWithDefaultPrettyPrinter().writeValueAsString(report));
    RunDir.writeString(out.resolve("report.md"), markdown(report));
    List<Path> runs = list.stream().map(m -> out.resolve(m.name())).toList();
    Plots.compareRunsByCompute(runs, out.resolve("bpb.png"));
    w.println();
    w.print(markdown(report));
    w.println("wrote " + out.resolve("report.md") + ", report.json and bpb.png");
    w.flush();
    return 0;
  }

  private ParameterException usage(String m) {
    return new ParameterException(spec.commandLine(), m);
  }

  /** A preset name or a config file. */
  Model model(String m) {
    if (MODELS.contains(m)) {
      String res = "compare/" + preset + "/" + m + ".json";
      try {
        return new Model(m, HNetConfig.parse(TrainCommand.resourceText(res), res), res);
      } catch (IOException e) {
        throw new HNetException("resource " + res + " is missing from the build");
      }
    }
    Path f = Path.of(m);
    if (!Files.isRegularFile(f))
      throw usage(
          "--models: '" + m + "' is neither a preset model " + MODELS + " nor a config file");
    String name = f.getFileName().toString().replaceFirst("\\.json$", "");
    return new Model(name, HNetConfig.parse(f), f.toString());
  }

  /** Steps per model: from --bytes, or from --minutes and the first model's measured speed. */
  long steps(Model first, PrintWriter w) {
    long perStep = (long) BATCH * SEQ_LEN;
    if (minutes == null) {
      long b = bytes != null ? bytes : preset.equals("tiny") ? 2_000_000L : 40_000_000L;
      return Math.max(1, b / perStep);
    }
    // time a few steps of the first model on random bytes, after a warm-up
    HNetForCausalLM lm =
        new HNetForCausalLM(
            first.config(),
            new org.hnet.nn.Params(org.hnet.nn.Init.weights(first.config(), seed)::get));
    org.hnet.train.Objective obj = new org.hnet.train.Objective(lm);
    java.util.Random r = new java.util.Random(seed);
    int[] tok = new int[BATCH * SEQ_LEN], tgt = new int[BATCH * SEQ_LEN];
    for (int i = 0; i < tok.length; i++) tok[i] = tgt[i] = 32 + r.nextInt(90);
    var seqs = org.hnet.nn.SeqLens.uniform(BATCH, SEQ_LEN);
    double[] ratio = FlopCount.defaultCompression(first.config());
    java.util.Arrays.fill(ratio, RATIO);
    for (int i = 0; i < 2; i++) obj.lossAndGradients(tok, tgt, seqs, ratio, 0.03);
    long t0 = System.nanoTime();
    int n = 3;
    for (int i = 0; i < n; i++) obj.lossAndGradients(tok, tgt, seqs, ratio, 0.03);
    double perStepS = (System.nanoTime() - t0) / 1e9 / n * 1.1; // + the optimizer and the data
    long s = Math.max(1, (long) (minutes * 60 / perStepS));
    w.printf(
        Locale.ROOT,
        "%.2f s per step measured on %s: %d steps (%s) per model%n",
        perStepS,
        first.name(),
        s,
        humanBytes(s * perStep));
    w.flush();
    return s;
  }

  /** Trains (or resumes, or reuses) one model and scores it. */
  ObjectNode runOne(Model m, long steps, PrintWriter w) throws IOException {
    Path run = out.resolve(m.name());
    Path result = run.resolve("compare.json");
    RunDir rd = new RunDir(run);
    w.printf("== %s (%s)%n", m.name(), m.source());
    w.flush();
    long at = rd.latestStep();
    if (at >= steps && Files.isRegularFile(result)) {
      w.println("already trained and scored: " + result);
      return (ObjectNode) JSON.readTree(result.toFile());
    }
    Trainer trainer;
    if (at >= 0) {
      trainer = Trainer.resume(run, data, steps);
    } else {
      TrainOptions.Builder b =
          TrainOptions.builder(m.config())
              .steps(steps)
              .batch(BATCH)
              .seqLen(SEQ_LEN)
              .seed(seed)
              .evalEvery(Math.max(1, steps / 10))
              .evalBatches(8)
              .checkpointEvery(Math.max(1, steps / 5));
      double[] n = FlopCount.defaultCompression(m.config());
      java.util.Arrays.fill(n, RATIO);
      b.ratio(n);
      b.alpha(alpha);
      if (m.config().tokenizer() != null) {
        // a token-level model: rows of about as many bytes as the others', the same steps
        TrainOptions o = b.build();
        double bpt;
        try (Corpus c = Corpus.open(data, o.evalFraction(), o.jsonField())) {
          var tok =
              org.hnet.train.data.BpeTokenizer.of(
                  m.config().tokenizer(), m.config().vocabSize(), m.source());
          bpt = new TokenCorpus(c, tok).bytesPerToken();
        }
        int len = (int) Math.max(8, Math.round(SEQ_LEN / bpt));
        w.printf(
            Locale.ROOT,
            "%.2f bytes per token in the train part: rows of %d tokens (about %d bytes)%n",
            bpt,
            len,
            Math.round(len * bpt));
        w.flush();
        b.seqLen(len);
      }
      trainer = Trainer.start(run, m.config(), data, b.build());
    }
    double trainSeconds;
    ObjectNode o = JSON.createObjectNode();
    try (trainer) {
      TrainCommand.trainLoop(trainer, w, noProgress || System.console() == null);
      if (trainer.step() < steps) {
        throw new HNetException("interrupted: run the same command again to resume");
      }
      int len = trainer.options.seqLen();
      double bpp = trainer.bytesPerPosition(); // 1 for bytes; bytes per token for tokens
      trainSeconds = trainingSeconds(trainer.run.metrics(), BATCH * len * bpp);
      HNetForCausalLM lm = trainer.model;
      Evaluator.Result r = Evaluator.evaluate(lm, trainer.evalBatches(), evalBatches);
      double[] comp = r.compression();
      double flops = FlopCount.trainingPerByte(m.config(), finite(comp), len) / bpp;
      o.put("name", m.name());
      o.put("config", m.source());
      o.put("bpb", r.bpb());
      o.put("eval_bytes", r.bytes());
      o.put("flops_per_byte", flops);
      o.put("params", m.config().parameterCount());
      o.put("train_bytes", Math.round(trainer.step() * BATCH * len * bpp));
      if (m.config().tokenizer() != null) {
        o.put("tokenizer", m.config().tokenizer());
        o.put("bytes_per_token", bpp);
        o.put("seq_len_tokens", len);
      }
      o.put("train_seconds", trainSeconds);
      ArrayNode c = o.putArray("compression");
      for (double v : comp) c.add(v);
      ChunkStats.Alignment a = r.alignment().length > 0 ? r.alignment()[0] : null;
      if (a != null && a.precision() != null) {
        o.put("word_precision", a.precision());
        o.put("word_precision_random", a.baselinePrecision());
        o.put("word_recall", a.recall());
        o.put("word_recall_random", a.baselineRecall());
      }
      Path sample = heldOutSample(trainer);
      ObjectNode pert = o.putObject("perturbed");
      for (Perturb.Kind k : Perturb.Kind.values()) {
        try (Corpus pc =
            Corpus.openWhole(sample, "text", doc -> Perturb.apply(doc, k, PERTURB_RATE, seed))) {
          pert.put(
              k.name().toLowerCase(Locale.ROOT),
              Evaluator.evaluate(lm, TokenCorpus.evalBatches(lm.config, pc, BATCH, len), 0).bpb());
        }
      }
      ObjectNode ev = o.putObject("eval");
      for (Path e : evalFiles) {
        try (Corpus ec = Corpus.openWhole(e, "text")) {
          ev.put(
              e.toString(),
              Evaluator.evaluate(lm, TokenCorpus.evalBatches(lm.config, ec, BATCH, len), 0).bpb());
        }
      }
    }
    RunDir.writeString(result, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(o));
    return o;
  }

  /**
   * The time the run's steps took (from their bytes per second in metrics.jsonl): the training time
   * of a resumed run too, evaluations left out.
   */
  static double trainingSeconds(Path metrics, double bytesPerStep) throws IOException {
    double s = 0;
    for (String l : Files.readAllLines(metrics)) {
      JsonNode n = JSON.readTree(l);
      if (n.has("bytes_per_s")
          && n.get("bytes_per_s").isNumber()
          && n.get("bytes_per_s").asDouble() > 0)
        s += bytesPerStep / n.get("bytes_per_s").asDouble();
    }
    return s;
  }

  private static double[] finite(double[] c) {
    double[] o = c.clone();
    for (int i = 0; i < o.length; i++) if (!Double.isFinite(o[i])) o[i] = SEQ_LEN;
    return o;
  }

  /**
   * The first 64 kB of the held-out text, in the run directory, for the perturbed scores; cut after
   * its last whole character, so that text stays valid UTF-8 (a token-level model needs it).
   */
  private static Path heldOutSample(Trainer t) {
    java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
    for (Batch batch : t.corpus().eval(BATCH, SEQ_LEN)) {
      int[] tok = batch.tokens(), tg = batch.targets();
      for (int i = 0; i < tok.length; i++) {
        boolean padding = tg[i] < 0 && tok[i] == 0;
        if (!padding && tok[i] < 254) b.write(tok[i]);
      }
      if (b.size() >= 65536) break;
    }
    Path f = t.run.root.resolve("heldout-sample.txt");
    byte[] text = b.toByteArray();
    int end = text.length;
    for (int i = 0; i < text.length; ) {
      int len = org.hnet.analysis.Utf8.length(text, i);
      if (len == 1 && text[i] < 0 && i >= text.length - 3) { // a character cut at the end
        end = i;
        break;
      }
      i += len;
    }
    try {
      org.hnet.io.AtomicFile.write(f, java.util.Arrays.copyOf(text, end));
    } catch (IOException e) {
      throw new HNetException(f + ": cannot write: " + e.getMessage());
    }
    return f;
  }

  static String humanBytes(long b) {
    return b >= 1_000_000
        ? String.format(Locale.ROOT, "%.1f MB", b / 1e6)
        : String.format(Locale.ROOT, "%.0f kB", b / 1e3);
  }

  /** The report as a Markdown table, best held-out bpb first in the table's order of models. */
  static String markdown(JsonNode report) {
    StringBuilder sb = new StringBuilder();
    JsonNode d = report.get("data");
    sb.append("# hnet compare\n\n")
        .append(
            String.format(
                Locale.ROOT,
                "Data `%s`, preset %s, %s of training per model (rows of %d bytes, batch %d, seed %d).%n%n",
                d.get("path").asText(),
                d.get("preset").asText(),
                humanBytes(d.get("train_bytes_per_model").asLong()),
                d.get("seq_len").asInt(),
                d.get("batch").asInt(),
                d.get("seed").asLong()));
    List<String> kinds = new ArrayList<>();
    for (Perturb.Kind k : Perturb.Kind.values()) kinds.add(k.name().toLowerCase(Locale.ROOT));
    sb.append(
        "| model | held-out bpb | training FLOPs/byte (vs the first) | parameters | training time | bytes/chunk |"
            + " word precision (random) |");
    for (String k : kinds) sb.append(' ').append(k).append(" |");
    sb.append("\n|---|---|---|---|---|---|---|");
    sb.append("---|".repeat(kinds.size())).append('\n');
    double firstFlops = report.get("models").get(0).get("flops_per_byte").asDouble();
    for (JsonNode m : report.get("models")) {
      StringBuilder comp = new StringBuilder();
      for (JsonNode c : m.get("compression")) {
        if (comp.length() > 0) comp.append(" / ");
        comp.append(String.format(Locale.ROOT, "%.2f", c.asDouble()));
      }
      if (m.has("bytes_per_token")) {
        comp.append(
            String.format(Locale.ROOT, "%.2f per token", m.get("bytes_per_token").asDouble()));
      }
      sb.append(
          String.format(
              Locale.ROOT,
              "| %s | %.4f | %s | %,d | %.0f s | %s | %s |",
              m.get("name").asText(),
              m.get("bpb").asDouble(),
              FlopCount.format(m.get("flops_per_byte").asDouble())
                  + String.format(
                      Locale.ROOT,
                      " (%+.0f%%)",
                      100 * (m.get("flops_per_byte").asDouble() / firstFlops - 1)),
              m.get("params").asLong(),
              m.get("train_seconds").asDouble(),
              comp.length() == 0 ? "–" : comp,
              m.has("word_precision") && m.get("word_precision_random").asDouble() > 0
                  ? String.format(
                      Locale.ROOT,
                      "%.3f (%.3f)",
                      m.get("word_precision").asDouble(),
                      m.get("word_precision_random").asDouble())
                  : "–"));
      for (String k : kinds)
        sb.append(String.format(Locale.ROOT, " %.4f |", m.get("perturbed").get(k).asDouble()));
      sb.append('\n');
    }
    sb.append(
        "\nFLOPs per byte at each model's measured compression: the presets are matched within ±10%"
            + " at 4 bytes per chunk, so a model that chunks more finely or coarsely than that costs"
            + " more or less. A token-level model (bpe) is matched at 4 bytes per token and reads rows"
            + " of about 512 bytes in whole tokens; its bits per byte are its tokens' total"
            + " negative log-likelihood over the bytes they stand for.\n");
    sb.append(
        "\nWord precision: the share of boundaries that fall at a word's edge, and in brackets the"
            + " share that boundaries placed at random at the same rate would get; a dash where the"
            + " model does not chunk or the text has no spaces or punctuation to align with.\n");
    sb.append(
        "\nPerturbed columns: held-out bits per byte of the first 64 kB of the held-out text with"
            + " each character perturbed at rate "
            + PERTURB_RATE
            + " (see `hnet eval --perturb`).\n");
    return sb.toString();
  }
}
