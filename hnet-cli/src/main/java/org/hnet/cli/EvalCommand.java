package org.hnet.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.hnet.analysis.ChunkStats;
import org.hnet.analysis.Perturb;
import org.hnet.nn.HNetForCausalLM;
import org.hnet.nn.RoutingModule;
import org.hnet.train.Evaluator;
import org.hnet.train.data.Batch;
import org.hnet.train.data.Corpus;
import org.hnet.train.data.TokenCorpus;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code hnet eval}: bits per byte and chunking statistics of a model on a corpus. */
@Command(
    name = "eval",
    header = "Scores a corpus: bits per byte, compression and word alignment per stage.",
    mixinStandardHelpOptions = true,
    description = {
      "Bits per byte (mean next-byte cross-entropy in nats / ln 2) over all of PATH, beside what the unigram",
      "entropy, gzip -9 and xz -9 get on the same bytes; per chunking stage the compression (bytes per",
      "chunk), the boundary rate and the word alignment. --json prints one JSON object."
    },
    footer = {
      "",
      "Example:",
      "  ./hnet eval --model runs/demo/checkpoint --data corpus.txt --json"
    })
final class EvalCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin ModelOption model;
  @Mixin WeightsOption weights;

  @Option(
      names = "--data",
      required = true,
      paramLabel = "PATH",
      description = "A text file (.gz ok), a directory tree or a .jsonl file.")
  Path data;

  @Option(
      names = "--seq-len",
      defaultValue = "1024",
      description = "Bytes per evaluated row (default: ${DEFAULT-VALUE}).")
  int seqLen;

  @Option(
      names = "--batch",
      defaultValue = "8",
      description = "Rows per batch (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(
      names = "--json-field",
      defaultValue = "text",
      description = "Text field of JSONL data (default: ${DEFAULT-VALUE}).")
  String jsonField;

  @Option(names = "--json", description = "Print one JSON object instead of a table.")
  boolean json;

  @Option(
      names = "--perturb",
      paramLabel = "KIND",
      description =
          "Also score a perturbed copy: case, delete, repeat, swap or nospace (see the README).")
  String perturb;

  @Option(
      names = "--rate",
      defaultValue = "0.05",
      description = "Perturbation rate (default: ${DEFAULT-VALUE}).")
  double rate;

  @Option(
      names = "--seed",
      defaultValue = "0",
      description = "Seed of the perturbation (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--held-out",
      paramLabel = "F",
      description = {
        "Score only the last F of PATH (0 < F < 1): exactly the part that `hnet train --eval-fraction F`",
        "holds out of the same data (cut at a document boundary, or at a line break in a single document)."
      })
  Double heldOut;

  @Option(
      names = "--stats-bytes",
      defaultValue = "4194304",
      description =
          "Scored bytes the chunk statistics cover at most (default: ${DEFAULT-VALUE}, 4 MiB).")
  int statsBytes;

  @Option(
      names = "--no-baselines",
      description = "Leave out the unigram, gzip -9 and xz -9 comparisons (xz takes a while).")
  boolean noBaselines;

  @Option(
      names = "--any-bytes",
      description = "Score files that do not look like text (by default they are refused).")
  boolean anyBytes;

  @Option(
      names = "--against",
      paramLabel = "f32|bf16|int8",
      converter = WeightsOption.Converter.class,
      description =
          "Also score the model with its weights in this format on the same bytes, and report the"
              + " bits-per-byte difference and the share of identical boundary decisions (e.g."
              + " --weights int8 --against f32 on a float32 model: what int8 costs).")
  org.hnet.nn.WeightFormat against;

  @Option(names = "--no-progress", description = "No progress bar.")
  boolean noProgress;

  @Mixin ThreadsOption threads;

  @Override
  public Integer call() throws Exception {
    threads.apply();
    Perturb.Kind kind = perturb == null ? null : Perturb.Kind.parse(perturb);
    if (kind != null && !(rate >= 0 && rate <= 1))
      throw new org.hnet.HNetException("--rate must be in [0, 1], got " + rate);
    if (heldOut != null && !(heldOut > 0 && heldOut < 1)) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(), "--held-out must be in (0, 1), got " + heldOut);
    }
    if (heldOut != null && kind != null) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(), "--held-out and --perturb cannot be combined");
    }
    if (statsBytes < 0)
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(), "--stats-bytes must not be negative, got " + statsBytes);
    if (!anyBytes) org.hnet.train.data.Corpus.requireText(data);
    HNetForCausalLM lm = model.load(weights.format);
    Evaluator.Agreement agree =
        against == null ? null : new Evaluator.Agreement(model.load(against));
    StatsCollector stats = new StatsCollector(statsBytes);
    Evaluator.Result r;
    Baselines base = null;
    try (Corpus corpus =
        heldOut != null
            ? Corpus.open(data, heldOut, jsonField)
            : Corpus.openWhole(data, jsonField)) {
      Baselines b = noBaselines ? null : new Baselines(corpus.evalBytes());
      base = b;
      // the bar counts bytes predicted: every byte but the first of each row (for a token-level
      // model, the bytes of every token but the first of each row: at most the eval bytes)
      boolean tokens = lm.config.tokenizer() != null;
      long rows = tokens ? 0 : (corpus.evalBytes() + seqLen - 1) / seqLen;
      long total = Math.max(1, corpus.evalBytes() - rows);
      try (Progress bar = Progress.start("eval", total, 0, "B", !noProgress)) {
        r =
            Evaluator.evaluate(
                lm,
                TokenCorpus.evalBatches(lm.config, corpus, batch, seqLen),
                0,
                (batch, output) -> {
                  if (!tokens) stats.add(batch, output);
                  if (b != null && !tokens) b.addScored(batch);
                  if (agree != null) agree.accept(batch, output);
                  bar.stepBy(batch.bytes());
                });
        bar.stepTo(total);
      }
      if (b != null && tokens) {
        for (org.hnet.train.data.Batch x : corpus.eval(batch, seqLen)) b.addScored(x);
      }
    }
    Baselines.Result cmp = base == null ? null : base.finish();
    Evaluator.Result p = null;
    if (kind != null) {
      try (Corpus corpus =
          Corpus.openWhole(data, jsonField, doc -> Perturb.apply(doc, kind, rate, seed))) {
        p = Evaluator.evaluate(lm, TokenCorpus.evalBatches(lm.config, corpus, batch, seqLen), 0);
      }
    }
    ChunkStats cs = stats.stats();
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      ObjectMapper m = new ObjectMapper();
      ObjectNode root = (ObjectNode) m.readTree(r.toJson());
      ArrayNode stages = (ArrayNode) root.get("stages");
      for (int s = 0; s < stages.size() && cs != null && s < cs.stages().size(); s++) {
        ((ObjectNode) stages.get(s))
            .set("chunks", m.readTree(m.writeValueAsString(cs.stages().get(s))));
      }
      if (cmp != null) {
        ObjectNode bn = root.putObject("baselines");
        bn.put("unigram_bpb", cmp.unigram());
        bn.put("gzip9_bpb", cmp.gzip());
        bn.put("xz9_bpb", cmp.xz());
      }
      if (p != null) {
        ObjectNode rob = root.putObject("perturbed");
        rob.put("kind", kind.name().toLowerCase(Locale.ROOT));
        rob.put("rate", rate);
        rob.put("seed", seed);
        rob.put("bpb", p.bpb());
        rob.put("bytes", p.bytes());
        rob.put("degradation", p.bpb() - r.bpb());
      }
      root.put("weights", lm.weightFormat.label());
      if (agree != null) {
        Evaluator.Result a = agree.result();
        ObjectNode an = root.putObject("against");
        an.put("weights", against.label());
        an.put("bpb", a.bpb());
        an.put("bpb_difference", r.bpb() - a.bpb());
        ArrayNode ag = an.putArray("boundary_agreement");
        for (double v : agree.agreement()) ag.add(v);
      }
      out.println(m.writeValueAsString(root));
    } else {
      out.printf(Locale.ROOT, "%s over %,d scored bytes%n", Numbers.bpb(r.bpb()), r.bytes());
      if (cmp != null) out.println("  for comparison: " + cmp.toText(r.bpb()));
      out.println("compression: " + Numbers.compression(r.compression()));
      for (int s = 0; s < r.compression().length; s++) {
        out.printf(
            Locale.ROOT,
            "  stage %d: %.3f boundaries per %s%n",
            s + 1,
            r.boundaryRate()[s],
            s == 0 ? "byte" : "stage-" + s + " chunk");
      }
      if (cs != null) {
        out.printf(
            Locale.ROOT,
            cs.bytes() >= r.bytes()
                ? "chunk statistics over all %,d scored bytes:%n"
                : "chunk statistics over the first %,d scored bytes:%n",
            cs.bytes());
        ChunkView.printStats(out, cs);
      }
      if (p != null) {
        out.printf(
            Locale.ROOT,
            "perturbed (%s, rate %.3f, seed %d): %.4f bits per byte over %,d bytes; degradation %+.4f%n",
            kind.name().toLowerCase(Locale.ROOT),
            rate,
            seed,
            p.bpb(),
            p.bytes(),
            p.bpb() - r.bpb());
      }
      if (agree != null) {
        Evaluator.Result a = agree.result();
        StringBuilder same = new StringBuilder();
        double[] ag = agree.agreement();
        for (int s = 0; s < ag.length; s++)
          same.append(
              String.format(
                  Locale.ROOT, "%s stage %d %.2f%%", s == 0 ? "" : ",", s + 1, 100 * ag[s]));
        out.printf(
            Locale.ROOT,
            "with %s weights: %.4f bits per byte (%s weights %+.4f); identical boundary decisions:%s%n",
            against.label(),
            a.bpb(),
            lm.weightFormat.label(),
            r.bpb() - a.bpb(),
            ag.length == 0 ? " (no routing stage)" : same.toString());
      }
    }
    out.flush();
    return 0;
  }

  /**
   * Gathers the first bytes of the scored rows with their byte-level boundaries, for ChunkStats.
   */
  static final class StatsCollector {
    private final int limit;
    private final java.io.ByteArrayOutputStream text = new java.io.ByteArrayOutputStream();
    private final java.util.List<java.util.List<Boolean>> bounds = new java.util.ArrayList<>();

    StatsCollector(int limit) {
      this.limit = limit;
    }

    /**
     * The bytes the model predicted (every token whose previous position has a target: exactly the
     * bytes scored) with the boundaries at them.
     */
    void add(Batch b, HNetForCausalLM.Output out) {
      int T = b.tokens().length;
      if (text.size() >= limit) return;
      var bl = RoutingModule.byteLevel(out.routing(), T);
      while (bounds.size() < bl.boundaries().size()) bounds.add(new java.util.ArrayList<>());
      for (int t = 1; t < T && text.size() < limit; t++) {
        if (b.targets()[t - 1] < 0) continue; // a row's first byte: read, not predicted
        text.write(b.tokens()[t]);
        for (int s = 0; s < bl.boundaries().size(); s++)
          bounds.get(s).add(bl.boundaries().get(s)[t] || text.size() == 1);
      }
    }

    ChunkStats stats() {
      if (text.size() == 0 || bounds.isEmpty()) return null;
      java.util.List<boolean[]> b = new java.util.ArrayList<>();
      for (java.util.List<Boolean> l : bounds) {
        boolean[] a = new boolean[l.size()];
        for (int i = 0; i < a.length; i++) a[i] = l.get(i);
        b.add(a);
      }
      return ChunkStats.compute(text.toByteArray(), b, 10);
    }
  }
}
