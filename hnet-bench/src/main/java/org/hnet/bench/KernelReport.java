package org.hnet.bench;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.hnet.kernels.Flops;
import org.hnet.kernels.Parallel;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs every kernel benchmark (KernelBench, and MatmulBench's forward products at the model's
 * shapes and its backward products) on 1 and 2 threads in one JMH session, and prints one Markdown
 * table: time per call on each thread count, the scaling, and the rate on 2 threads, in GFLOP/s of
 * model work (the kernels' own {@link Flops} count, the count {@code hnet bench} uses) or, for the
 * memory-bound kernels, in GB/s of the fewest bytes they must read and write.
 *
 * <pre>
 * java --add-modules=jdk.incubator.vector -cp hnet-bench/target/benchmarks.jar org.hnet.bench.KernelReport [--quick]
 * </pre>
 *
 * About 6 minutes (--quick: 2 warm-up and 3 measured iterations instead of 3 and 5, about 4).
 */
public final class KernelReport {
  private KernelReport() {}

  /**
   * What one call of a benchmark does: FLOPs of model work, or bytes it must move when it has none.
   */
  record Work(String label, long flops, long bytes) {}

  public static void main(String[] args) throws RunnerException {
    boolean quick = args.length == 1 && args[0].equals("--quick");
    if (args.length > 1 || (args.length == 1 && !quick)) {
      System.err.println("usage: KernelReport [--quick]");
      System.exit(2);
    }
    Options opts =
        new OptionsBuilder()
            .include("KernelBench\\.")
            .include("MatmulBench\\.(linear|backwardInput|backwardWeight)$")
            .param("threads", "1", "2") // the products' shapes are MatmulBench's own @Param lists
            .forks(1)
            .warmupIterations(quick ? 2 : 3)
            .measurementIterations(quick ? 3 : 5)
            .build();
    Collection<RunResult> results = new Runner(opts).run();
    System.out.print(table(results));
  }

  /** One row per benchmark (and shape), in the order JMH ran them. */
  static String table(Collection<RunResult> results) {
    Map<String, double[]> msByRow = new LinkedHashMap<>(); // row -> ms per call at 1 and 2 threads
    for (RunResult r : results) {
      var p = r.getParams();
      String bench = p.getBenchmark(); // org.hnet.bench.Class.method
      String name = bench.substring(bench.lastIndexOf('.', bench.lastIndexOf('.') - 1) + 1);
      String shape =
          p.getParam("shape") != null ? p.getParam("shape") : p.getParam("backwardShape");
      String row = shape == null ? name : name + " " + shape;
      int threads = Integer.parseInt(p.getParam("threads"));
      double ms = toMillis(r.getPrimaryResult().getScore(), r.getPrimaryResult().getScoreUnit());
      msByRow.computeIfAbsent(row, k -> new double[] {Double.NaN, Double.NaN})[threads - 1] = ms;
    }
    List<String> lines = new ArrayList<>();
    lines.add(
        "| kernel (JMH) | what one call does | 1 thread: ms | 2 threads: ms | scaling | 2 threads: rate |");
    lines.add("|---|---|---|---|---|---|");
    for (var e : msByRow.entrySet()) {
      Work w = work(e.getKey());
      double ms1 = e.getValue()[0], ms2 = e.getValue()[1];
      String rate =
          w.flops > 0
              ? String.format(Locale.ROOT, "%.1f GFLOP/s", w.flops / (ms2 * 1e6))
              : String.format(Locale.ROOT, "%.1f GB/s", w.bytes / (ms2 * 1e6));
      lines.add(
          String.format(
              Locale.ROOT,
              "| %s | %s | %s | %s | %.2f× | %s |",
              e.getKey(),
              w.label,
              fmt(ms1),
              fmt(ms2),
              ms1 / ms2,
              rate));
    }
    return String.join("\n", lines) + "\n";
  }

  private static String fmt(double ms) {
    return ms >= 10
        ? String.format(Locale.ROOT, "%.1f", ms)
        : String.format(Locale.ROOT, "%.3f", ms);
  }

  private static double toMillis(double score, String unit) {
    return switch (unit) {
      case "ms/op" -> score;
      case "us/op" -> score / 1e3;
      case "ns/op" -> score / 1e6;
      case "s/op" -> score * 1e3;
      default -> throw new IllegalStateException("unexpected JMH unit " + unit);
    };
  }

  /**
   * The work of one call of the benchmark behind a row of the table ("KernelBench.name" or
   * "MatmulBench.name MxKxN"). A benchmark added to KernelBench needs its line here
   * (KernelReportTest checks that every one has).
   */
  static Work work(String row) {
    String[] parts = row.split(" ");
    String name = parts[0];
    if (name.startsWith("MatmulBench.")) {
      String[] s = parts[1].split("x");
      long m = Long.parseLong(s[0]), k = Long.parseLong(s[1]), n = Long.parseLong(s[2]);
      String what =
          switch (name) {
            case "MatmulBench.backwardInput" -> "dx = dy·W";
            case "MatmulBench.backwardWeight" -> "dW += dyᵀ·x";
            default -> m <= 8 ? "x·Wᵀ, decode path" : "x·Wᵀ";
          };
      return new Work(what, 2 * m * n * k, 0);
    }
    final int t = KernelBench.T, c = KernelBench.C, f = Float.BYTES;
    return switch (name) {
      case "KernelBench.ssdScan" ->
          counted("SSD scan, 4×1024 tokens, 8 heads × 64, state 32", kb -> kb.ssdScan());
      case "KernelBench.ssdScanBackward" -> counted("its backward", kb -> kb.ssdScanBackward());
      case "KernelBench.attention" ->
          counted("causal attention, 4×450 positions, 6 heads × 64", kb -> kb.attention());
      case "KernelBench.attentionBackward" -> counted("its backward", kb -> kb.attentionBackward());
      // x in, y out
      case "KernelBench.conv1d" ->
          new Work("conv1d (4 taps) + SiLU, 4096 × 576 channels", 0, 2L * t * c * f);
      // dy and x in, dx out (the pre-activation is recomputed)
      case "KernelBench.conv1dBackward" -> new Work("its backward", 0, 3L * t * c * f);
      case "KernelBench.rmsnorm" -> new Work("RMSNorm, 4096 × 256", 0, 2L * t * 256 * f);
      // dy and x in, dx out
      case "KernelBench.rmsnormBackward" -> new Work("its backward (dx, dw)", 0, 3L * t * 256 * f);
      // gate and value in, product out
      case "KernelBench.swiglu" ->
          new Work("SwiGLU, 1800 × 1024", 0, 3L * KernelBench.TA * 1024 * f);
      default ->
          throw new IllegalArgumentException("KernelReport: no work count for benchmark " + name);
    };
  }

  /** Counts the FLOPs of one call, on a fresh single-threaded KernelBench state. */
  private static Work counted(String label, java.util.function.Consumer<KernelBench> call) {
    int threads = Parallel.threads();
    KernelBench kb = new KernelBench();
    kb.threads = 1;
    kb.setup();
    Flops.reset();
    call.accept(kb);
    long flops = Flops.take();
    Parallel.setThreads(threads);
    return new Work(label, flops, 0);
  }
}
