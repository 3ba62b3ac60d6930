package org.hnet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.hnet.HNetException;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** PNG charts of training runs (XChart, headless). */
final class Plots {
  private static final ObjectMapper JSON = new ObjectMapper();

  private Plots() {}

  /**
   * The curves of one run's metrics.jsonl: x = training bytes. The word alignment of stage 0's
   * boundaries on the held-out sample is there for the evaluations that have it.
   */
  record Curves(
      List<Double> bytes,
      List<Double> loss,
      List<Double> bpb,
      List<Double> evalBytes,
      List<Double> evalBpb,
      List<Double> alignBytes,
      List<Double> precision,
      List<Double> baselinePrecision,
      List<Double> recall,
      List<Double> baselineRecall) {}

  static Curves read(Path metrics) {
    Curves c =
        new Curves(
            new ArrayList<>(),
            new ArrayList<>(),
            new ArrayList<>(),
            new ArrayList<>(),
            new ArrayList<>(),
            new ArrayList<>(),
            new ArrayList<>(),
            new ArrayList<>(),
            new ArrayList<>(),
            new ArrayList<>());
    List<String> lines;
    try {
      lines = Files.readAllLines(metrics);
    } catch (IOException e) {
      throw new HNetException(metrics + ": cannot read: " + e.getMessage());
    }
    for (String line : lines) {
      if (line.isBlank()) continue;
      JsonNode n;
      try {
        n = JSON.readTree(line);
      } catch (IOException e) {
        continue; // a line cut short by an interruption
      }
      double bytes = n.path("bytes").asDouble();
      if (n.has("eval")) {
        JsonNode b = n.get("eval").get("bpb");
        if (b != null && b.isNumber()) {
          c.evalBytes().add(bytes);
          c.evalBpb().add(b.asDouble());
        }
        JsonNode a = n.get("eval").path("stages").path(0).path("word_alignment");
        if (a.path("precision").isNumber()
            && a.path("recall").isNumber()
            && a.path("baseline_precision").isNumber()
            && a.path("baseline_recall").isNumber()) {
          c.alignBytes().add(bytes);
          c.precision().add(a.get("precision").asDouble());
          c.baselinePrecision().add(a.get("baseline_precision").asDouble());
          c.recall().add(a.get("recall").asDouble());
          c.baselineRecall().add(a.get("baseline_recall").asDouble());
        }
      } else if (n.has("loss")) {
        c.bytes().add(bytes);
        c.loss().add(n.get("loss").asDouble());
        c.bpb().add(n.get("bpb").asDouble());
      }
    }
    return c;
  }

  /**
   * Training loss, training bpb and held-out bpb against training bytes; below it, when the
   * evaluations measured it, the word alignment of the stage-0 chunks on the held-out sample
   * (precision and recall, each with its random baseline).
   */
  static void trainingCurve(Path metrics, Path png) {
    Curves c = read(metrics);
    if (c.bytes().isEmpty()) return;
    XYChart chart =
        new XYChartBuilder()
            .width(900)
            .height(500)
            .title("training: " + metrics.getParent().getFileName())
            .xAxisTitle("training bytes")
            .yAxisTitle("nats (loss) / bits per byte")
            .build();
    chart.getStyler().setMarkerSize(4);
    XYSeries loss = chart.addSeries("train loss (CE + α·ratio, nats)", c.bytes(), c.loss());
    loss.setMarker(SeriesMarkers.NONE);
    XYSeries bpb = chart.addSeries("train bpb", c.bytes(), c.bpb());
    bpb.setMarker(SeriesMarkers.NONE);
    if (!c.evalBytes().isEmpty()) chart.addSeries("held-out bpb", c.evalBytes(), c.evalBpb());
    if (c.alignBytes().isEmpty()) {
      save(chart, png);
      return;
    }
    XYChart words =
        new XYChartBuilder()
            .width(900)
            .height(300)
            .title("word alignment of the stage-0 chunks, held out")
            .xAxisTitle("training bytes")
            .yAxisTitle("share")
            .build();
    words.getStyler().setMarkerSize(4);
    words.getStyler().setYAxisMin(0.0);
    words.getStyler().setYAxisMax(1.0);
    words.addSeries("precision (boundaries at a word edge)", c.alignBytes(), c.precision());
    words.addSeries("recall (words starting at a boundary)", c.alignBytes(), c.recall());
    words
        .addSeries("precision of random boundaries", c.alignBytes(), c.baselinePrecision())
        .setMarker(SeriesMarkers.NONE);
    words
        .addSeries("recall of random boundaries", c.alignBytes(), c.baselineRecall())
        .setMarker(SeriesMarkers.NONE);
    save(List.of(chart, words), png);
  }

  /**
   * Held-out bpb of several runs against training bytes (above) and against training FLOPs (below:
   * bytes × the training FLOPs per byte each evaluation recorded), one series per run.
   */
  static void compareRunsByCompute(List<Path> runDirs, Path png) {
    XYChart byBytes =
        new XYChartBuilder()
            .width(900)
            .height(450)
            .title("held-out bits per byte against training bytes")
            .xAxisTitle("training bytes")
            .yAxisTitle("bits per byte")
            .build();
    XYChart byFlops =
        new XYChartBuilder()
            .width(900)
            .height(450)
            .title("held-out bits per byte against training compute")
            .xAxisTitle("training FLOPs")
            .yAxisTitle("bits per byte")
            .build();
    for (Path run : runDirs) {
      List<Double> x = new ArrayList<>(), f = new ArrayList<>(), y = new ArrayList<>();
      try {
        for (String l : Files.readAllLines(run.resolve("metrics.jsonl"))) {
          JsonNode n = JSON.readTree(l);
          if (!n.has("eval") || !n.get("eval").get("bpb").isNumber()) continue;
          double bytes = n.get("bytes").asDouble();
          x.add(bytes);
          f.add(bytes * n.path("flops_per_byte").asDouble(Double.NaN));
          y.add(n.get("eval").get("bpb").asDouble());
        }
      } catch (IOException e) {
        throw new HNetException(run + "/metrics.jsonl: cannot read: " + e.getMessage());
      }
      if (x.isEmpty()) continue;
      String name = run.getFileName().toString();
      byBytes.addSeries(name, x, y);
      byFlops.addSeries(name, f, y);
    }
    save(List.of(byBytes, byFlops), png);
  }

  /**
   * Held-out bpb of several runs against training bytes, one series per run; below it, when the
   * runs recorded word alignment, the precision of their stage-0 boundaries with the first such
   * run's random baseline.
   */
  static void compareRuns(List<Path> runDirs, Path png) {
    XYChart chart =
        new XYChartBuilder()
            .width(900)
            .height(500)
            .title("held-out bits per byte")
            .xAxisTitle("training bytes")
            .yAxisTitle("bits per byte")
            .build();
    XYChart words =
        new XYChartBuilder()
            .width(900)
            .height(350)
            .title("word-aligned precision of the stage-0 boundaries, held out")
            .xAxisTitle("training bytes")
            .yAxisTitle("precision")
            .build();
    words.getStyler().setYAxisMin(0.0);
    words.getStyler().setYAxisMax(1.0);
    int series = 0;
    Curves baseline = null;
    String baselineOf = null;
    for (Path run : runDirs) {
      Curves c = read(run.resolve("metrics.jsonl"));
      if (c.evalBytes().isEmpty()) continue;
      String name = run.getFileName().toString();
      chart.addSeries(name, c.evalBytes(), c.evalBpb());
      series++;
      if (!c.alignBytes().isEmpty()) {
        words.addSeries(name, c.alignBytes(), c.precision());
        if (baseline == null) {
          baseline = c;
          baselineOf = name;
        }
      }
    }
    if (series == 0)
      throw new HNetException("none of the runs has a held-out evaluation in its metrics.jsonl");
    if (baseline == null) {
      save(chart, png);
      return;
    }
    words
        .addSeries(
            "random at " + baselineOf + "'s rate",
            baseline.alignBytes(),
            baseline.baselinePrecision())
        .setMarker(SeriesMarkers.NONE);
    save(List.of(chart, words), png);
  }

  /**
   * Starts Java2D and its fonts in the background: once started they work during JVM shutdown,
   * where starting them fails (the chart drawn after Ctrl-C).
   */
  static void warmUp() {
    Thread t =
        new Thread(
            () -> {
              try {
                System.setProperty("java.awt.headless", "true");
                java.awt.image.BufferedImage im =
                    new java.awt.image.BufferedImage(
                        8, 8, java.awt.image.BufferedImage.TYPE_INT_RGB);
                java.awt.Graphics2D g = im.createGraphics();
                g.drawString("0", 0, 8);
                g.dispose();
                javax.imageio.ImageIO.write(im, "png", java.io.OutputStream.nullOutputStream());
              } catch (Throwable e) {
                // no chart then; the run goes on
              }
            },
            "hnet-chart-warmup");
    t.setDaemon(true);
    t.start();
  }

  /**
   * "0 B", "500 kB", "2.4 MB", "1.2 GB": axis ticks in bytes a reader can read. A value of at most
   * three significant digits in its unit is shown exactly ("1.28 kB", "125 B"): the ticks of an
   * axis are small multiples of 1, 2 or 5 times a power of ten, so no two of them print the same.
   * XChart 3.8's tick search loops forever when two ticks share a label: with one decimal it hung
   * the curve of a run 2.5 kB long (ticks 200 B apart, "1.2 kB" twice). Other values are rounded.
   */
  static String bytesTick(double v) {
    double a = Math.abs(v);
    String[] units = {"B", "kB", "MB", "GB", "TB"};
    int u = 0;
    while (a >= 1e3 && u < units.length - 1) {
      a /= 1e3;
      u++;
    }
    java.math.BigDecimal three =
        new java.math.BigDecimal(a).round(new java.math.MathContext(3)).stripTrailingZeros();
    String n =
        Math.abs(three.doubleValue() - a) <= 1e-9 * Math.max(1, a)
            ? three.toPlainString()
            : a >= 100 || a == Math.rint(a)
                ? String.format(java.util.Locale.ROOT, "%.0f", a)
                : String.format(java.util.Locale.ROOT, "%.1f", a);
    return (v < 0 ? "-" : "") + n + " " + units[u];
  }

  /** Every chart's x axis is training bytes: ticks in kB/MB/GB, the y axis plain decimals. */
  private static void byteAxis(XYChart chart) {
    if ("training FLOPs".equals(chart.getXAxisTitle()))
      chart.getStyler().setxAxisTickLabelsFormattingFunction(org.hnet.config.FlopCount::format);
    else chart.getStyler().setxAxisTickLabelsFormattingFunction(Plots::bytesTick);
    chart.getStyler().setYAxisDecimalPattern("0.###");
  }

  private static void save(XYChart chart, Path png) {
    save(List.of(chart), png);
  }

  /** The charts one above the other in one PNG. */
  private static void save(List<XYChart> charts, Path png) {
    System.setProperty("java.awt.headless", "true");
    for (XYChart c : charts) byteAxis(c);
    try {
      List<java.awt.image.BufferedImage> parts = new ArrayList<>();
      int width = 0, height = 0;
      for (XYChart c : charts) {
        java.awt.image.BufferedImage im = BitmapEncoder.getBufferedImage(c);
        parts.add(im);
        width = Math.max(width, im.getWidth());
        height += im.getHeight();
      }
      java.awt.image.BufferedImage all =
          new java.awt.image.BufferedImage(
              width, height, java.awt.image.BufferedImage.TYPE_INT_RGB);
      java.awt.Graphics2D g = all.createGraphics();
      g.setColor(java.awt.Color.WHITE);
      g.fillRect(0, 0, width, height);
      int y = 0;
      for (java.awt.image.BufferedImage im : parts) {
        g.drawImage(im, 0, y, null);
        y += im.getHeight();
      }
      g.dispose();
      org.hnet.io.AtomicFile.write(
          png, (java.io.OutputStream out) -> javax.imageio.ImageIO.write(all, "png", out));
    } catch (IOException e) {
      throw new HNetException(png + ": cannot write the chart: " + e.getMessage());
    }
  }
}
