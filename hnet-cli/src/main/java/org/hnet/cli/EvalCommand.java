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
      "Bits per byte (mean next-byte cross-entropy in nats / ln 2), and per stage the compression ratio",
      "(bytes per chunk at stage 0) and the boundary rate, over all of PATH. --json prints one JSON object."
    },
    footer = {
      "",
      "Example:",
      "  ./hnet eval --model runs/demo/checkpoint --data corpus.txt --json"
    })
final class EvalCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin ModelOption model;

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
      defaultValue = "65536",
      description = "Bytes of scored text the chunk statistics cover (default: ${DEFAULT-VALUE}).")
  int statsBytes;

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
    HNetForCausalLM lm = model.load();
    StatsCollector stats = new StatsCollector(statsBytes);
    Evaluator.Result r;
    try (Corpus corpus =
        heldOut != null
            ? Corpus.open(data, heldOut, jsonField)
            : Corpus.openWhole(data, jsonField)) {
      r = Evaluator.evaluate(lm, corpus.eval(batch, seqLen), 0, stats::add);
    }
    Evaluator.Result p = null;
    if (kind != null) {
      try (Corpus corpus =
          Corpus.openWhole(data, jsonField, doc -> Perturb.apply(doc, kind, rate, seed))) {
        p = Evaluator.evaluate(lm, corpus.eval(batch, seqLen), 0);
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
      if (p != null) {
        ObjectNode rob = root.putObject("perturbed");
        rob.put("kind", kind.name().toLowerCase(Locale.ROOT));
        rob.put("rate", rate);
        rob.put("seed", seed);
        rob.put("bpb", p.bpb());
        rob.put("bytes", p.bytes());
        rob.put("degradation", p.bpb() - r.bpb());
      }
      out.println(m.writeValueAsString(root));
    } else {
      out.printf(Locale.ROOT, "bits per byte   %.4f%n", r.bpb());
      out.printf(Locale.ROOT, "bytes scored    %,d%n", r.bytes());
      out.println("stage  compression (positions per chunk)  boundary rate");
      for (int s = 0; s < r.compression().length; s++) {
        out.printf(
            Locale.ROOT, "%5d  %33.3f  %13.4f%n", s, r.compression()[s], r.boundaryRate()[s]);
      }
      if (cs != null) {
        out.printf(Locale.ROOT, "chunk statistics over the first %,d scored bytes:%n", cs.bytes());
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

    void add(Batch b, HNetForCausalLM.Output out) {
      int T = b.tokens().length;
      if (text.size() >= limit) return;
      var bl = RoutingModule.byteLevel(out.routing(), T);
      while (bounds.size() < bl.boundaries().size()) bounds.add(new java.util.ArrayList<>());
      for (int t = 0; t < T && text.size() < limit; t++) {
        if (b.targets()[t] < 0 && b.tokens()[t] == 0) continue; // eval padding (token 0, no target)
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
