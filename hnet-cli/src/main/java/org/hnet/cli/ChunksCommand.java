package org.hnet.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.hnet.HNetException;
import org.hnet.analysis.ChunkHtml;
import org.hnet.analysis.ChunkStats;
import org.hnet.generate.Scorer;
import org.hnet.nn.HNetForCausalLM;
import org.hnet.train.RunDir;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code hnet chunks}: the learned chunk boundaries of a text, on the terminal, as a page, as JSON.
 */
@Command(
    name = "chunks",
    mixinStandardHelpOptions = true,
    description = {
      "Shows a text with the chunk boundaries of every stage (colours on a terminal; when piped, '|' marks a",
      "stage-0 boundary and '‖' one that is also a stage-1 boundary), followed by the chunking statistics.",
      "--html writes one self-contained page (nested chunks, probabilities on hover, length histograms);",
      "--json prints the bytes, boundary probabilities and masks per stage, and the statistics."
    },
    footer = {
      "",
      "Examples:",
      "  ./hnet chunks --model runs/demo --text 'Call me Ishmael. Some years ago...'",
      "  ./hnet chunks --model runs/demo --input chapter1.txt --html chunks.html"
    })
final class ChunksCommand implements Callable<Integer> {
  static final int MAX_BYTES = 100_000;

  @Spec CommandSpec spec;

  @Option(
      names = "--model",
      required = true,
      paramLabel = "DIR",
      description = "A model directory (or a training run directory).")
  Path model;

  static final class Source {
    @Option(names = "--text", paramLabel = "TEXT", description = "The text.")
    String text;

    @Option(
        names = "--input",
        paramLabel = "FILE",
        description = "Read the text (raw bytes) from a file.")
    Path input;
  }

  @ArgGroup(exclusive = true, multiplicity = "1")
  Source source;

  @Option(
      names = "--html",
      paramLabel = "OUT.html",
      description = "Write the self-contained HTML view.")
  Path html;

  @Option(names = "--json", description = "Print JSON instead of the marked text.")
  boolean json;

  @Option(
      names = "--top",
      defaultValue = "10",
      description = "Most frequent chunks listed per stage (default: ${DEFAULT-VALUE}).")
  int top;

  @Mixin ThreadsOption threads;

  /** The text's chunking: byte-level boundaries and probabilities per stage, and the statistics. */
  record Chunking(byte[] text, List<boolean[]> boundaries, List<float[]> probs, ChunkStats stats) {}

  /**
   * Runs the model over BOS + text. The first byte of the text always starts a chunk at every stage
   * (a text starts a chunk whatever the router says after BOS), so the statistics and the views see
   * every byte inside a chunk.
   */
  static Chunking analyse(HNetForCausalLM lm, byte[] text, int topN) {
    Scorer.Score s = Scorer.score(lm, text);
    List<boolean[]> b = new ArrayList<>();
    for (boolean[] m : s.boundaries()) {
      boolean[] c = m.clone();
      if (c.length > 0) c[0] = true;
      b.add(c);
    }
    return new Chunking(text, b, s.probs(), ChunkStats.compute(text, b, topN));
  }

  @Override
  public Integer call() throws IOException {
    threads.apply();
    if (html != null)
      Outputs.checkOutput("--html", html, EvalCommand.modelDir(model), source.input);
    byte[] text =
        source.text != null
            ? source.text.getBytes(StandardCharsets.UTF_8)
            : Files.readAllBytes(source.input);
    if (text.length == 0) throw new HNetException("the text is empty");
    if (text.length > MAX_BYTES) {
      spec.commandLine()
          .getErr()
          .println("hnet: using the first " + MAX_BYTES + " of " + text.length + " bytes");
      text = java.util.Arrays.copyOf(text, MAX_BYTES);
    }
    HNetForCausalLM lm = HNetForCausalLM.load(EvalCommand.modelDir(model));
    Chunking c = analyse(lm, text, top);
    PrintWriter out = spec.commandLine().getOut();
    if (html != null) {
      String title = source.input != null ? source.input.getFileName().toString() : "hnet chunks";
      RunDir.writeString(
          html, ChunkHtml.render(title, text, c.boundaries(), c.probs(), c.stats().stages()));
    }
    if (json) {
      out.println(toJson(c));
    } else {
      boolean ansi = System.console() != null && System.getenv("NO_COLOR") == null;
      out.println(ChunkView.render(text, ChunkView.depth(c.boundaries(), text.length), ansi));
      out.println();
      printStats(out, c.stats());
      if (html != null) out.println("wrote " + html);
    }
    out.flush();
    return 0;
  }

  static String toJson(Chunking c) throws IOException {
    ObjectMapper m = new ObjectMapper();
    ObjectNode root = m.createObjectNode();
    ArrayNode bytes = root.putArray("bytes");
    for (byte b : c.text()) bytes.add(b & 0xff);
    ArrayNode stages = root.putArray("stages");
    for (int s = 0; s < c.boundaries().size(); s++) {
      ObjectNode st = stages.addObject();
      ArrayNode p = st.putArray("boundary_prob"), mask = st.putArray("boundary_mask");
      for (int t = 0; t < c.text().length; t++) {
        float v = c.probs().get(s)[t];
        if (Float.isNaN(v)) p.addNull();
        else p.add(v);
        mask.add(c.boundaries().get(s)[t] ? 1 : 0);
      }
    }
    root.set("stats", m.readTree(c.stats().toJson()));
    return m.writeValueAsString(root);
  }

  static void printStats(PrintWriter out, ChunkStats stats) {
    for (ChunkStats.Stage st : stats.stages()) {
      out.printf(
          Locale.ROOT,
          "stage %d: %d chunks, %.2f bytes per chunk, chunk length mean %s median %s p90 %s%n",
          st.stage(),
          st.boundaries(),
          st.compression(),
          st.lengths().mean() == null
              ? "-"
              : String.format(Locale.ROOT, "%.2f", st.lengths().mean()),
          st.lengths().median(),
          st.lengths().p90());
      ChunkStats.Alignment a = st.alignment();
      if (a != null && a.precision() != null) {
        out.printf(
            Locale.ROOT,
            "  word alignment: precision %.3f (random at this rate: %.3f), recall %.3f (random: %.3f)%n",
            a.precision(),
            a.baselinePrecision(),
            a.recall(),
            a.baselineRecall());
      } else {
        out.println("  word alignment: not computed for this script (lengths only)");
      }
      StringBuilder sb = new StringBuilder("  most frequent:");
      for (ChunkStats.TopChunk tc : st.top())
        sb.append(' ').append(tc.display()).append('×').append(tc.count());
      out.println(sb);
    }
  }
}
