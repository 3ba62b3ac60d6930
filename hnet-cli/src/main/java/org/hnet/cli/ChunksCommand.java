package org.hnet.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.hnet.HNetException;
import org.hnet.analysis.ChunkHtml;
import org.hnet.generate.Chunking;
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
    header = "Shows how a model chunks a text (terminal, HTML page or JSON).",
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

  @Mixin ModelOption model;
  @Mixin WeightsOption weights;

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

  @Override
  public Integer call() throws IOException {
    threads.apply();
    if (html != null) Outputs.checkOutput("--html", html, model.dir(), source.input);
    byte[] text =
        source.text != null
            ? source.text.getBytes(StandardCharsets.UTF_8)
            : readInput(source.input);
    if (text.length == 0) throw new HNetException("the text is empty");
    if (text.length > MAX_BYTES) {
      spec.commandLine()
          .getErr()
          .println(
              "hnet: using the first "
                  + MAX_BYTES
                  + " bytes"
                  + (source.input != null ? " of " + source.input : ""));
      text = java.util.Arrays.copyOf(text, MAX_BYTES);
    }
    HNetForCausalLM lm = model.load(weights.format);
    Chunking c;
    try (Progress p =
        Progress.spinner("chunking " + text.length + " bytes", text.length > 20_000)) {
      c = Chunking.of(lm, text, top);
    }
    PrintWriter out = spec.commandLine().getOut();
    if (html != null) {
      String title = source.input != null ? source.input.getFileName().toString() : "hnet chunks";
      RunDir.writeString(
          html, ChunkHtml.render(title, text, c.boundaries(), c.probs(), c.stats().stages()));
    }
    if (json) {
      out.println(toJson(c));
    } else {
      boolean ansi = ChunkView.colours();
      out.println(ChunkView.render(text, ChunkView.depth(c.boundaries(), text.length), ansi));
      out.println();
      ChunkView.printStats(out, c.stats());
      if (html != null) out.println("wrote " + html);
    }
    out.flush();
    return 0;
  }

  /** The --input file's bytes (at most what is shown, plus one to tell it was cut). */
  private static byte[] readInput(Path f) throws IOException {
    if (!Files.exists(f)) throw new HNetException(f + ": no such file (--input)");
    if (!Files.isRegularFile(f)) throw new HNetException(f + ": not a regular file (--input)");
    try (java.io.InputStream in = Files.newInputStream(f)) {
      return in.readNBytes(MAX_BYTES + 1); // one more tells it is cut (said below)
    }
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
      // the chunks as byte ranges with their text apart: a range may start or end inside a
      // character, whose bytes the display form shows as ‹hex›
      ArrayNode chunks = st.putArray("chunks");
      boolean[] b = c.boundaries().get(s);
      for (int t = 0; t < b.length; ) {
        int end = t + 1;
        while (end < b.length && !b[end]) end++;
        ObjectNode ch = chunks.addObject();
        ch.put("start", t);
        ch.put("end", end);
        ch.put(
            "text",
            org.hnet.analysis.ChunkStats.text(
                java.util.Arrays.copyOfRange(c.text(), t, end), false));
        t = end;
      }
    }
    root.put("text", new String(c.text(), java.nio.charset.StandardCharsets.UTF_8));
    root.set("stats", m.readTree(c.stats().toJson()));
    return m.writeValueAsString(root);
  }
}
