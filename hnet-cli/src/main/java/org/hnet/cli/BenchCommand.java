package org.hnet.cli;

import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.zip.GZIPInputStream;
import org.hnet.HNetException;
import org.hnet.config.HNetConfig;
import org.hnet.io.SafeTensors;
import org.hnet.io.TensorData;
import org.hnet.kernels.Matmul;
import org.hnet.kernels.Parallel;
import org.hnet.kernels.Profile;
import org.hnet.kernels.VectorWidth;
import org.hnet.nn.HNetForCausalLM;
import org.hnet.nn.Init;
import org.hnet.nn.Params;
import org.hnet.nn.RoutingModule;
import org.hnet.nn.SeqLens;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code hnet bench}: the five measurements of the performance issue, in one run. */
@Command(
    name = "bench",
    header = "Measures training, prefill and decoding speed against the machine's peak.",
    mixinStandardHelpOptions = true,
    description = {
      "Measures, on one model and one set of bytes: a training step (forward + backward of CE + 0.03·Σ ratio",
      "losses with N = 3 per stage, no optimizer) on 4×1024 bytes; a 1×1024 prefill filling the caches;",
      "teacher-forced decoding of 256 bytes after a 256-byte prompt, batch 1 and batch 8; and the matrix",
      "product peak (1024³) and the machine's FMA peak in the same run. Medians after warm-up."
    },
    footer = {
      "",
      "Examples:",
      "  ./hnet bench --config configs/bench/small-1stage.json",
      "  ./hnet bench --model runs/demo --threads 1 --json"
    })
final class BenchCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  static final class ModelSource {
    @Option(names = "--model", paramLabel = "DIR", description = "A model directory.")
    Path model;

    @Option(
        names = "--config",
        paramLabel = "C.json",
        description = "A config: random weights (init_weights(0.02), seed 0).")
    Path config;

    /**
     * The model: loaded, or made from the config with random weights (seed 0); the large weights
     * held in {@code format} (null: as stored; f32 for random weights).
     */
    HNetForCausalLM load(org.hnet.nn.WeightFormat format) {
      if (model != null) return org.hnet.HNetModel.load(model, format).model();
      HNetConfig cfg = HNetConfig.parse(config);
      Map<String, float[]> w = Init.weights(cfg, 0);
      // each float32 weight dropped once the model holds it (compact: converted)
      return new HNetForCausalLM(
          cfg,
          new Params(
              w::remove, format == null ? org.hnet.nn.WeightFormat.F32 : format, name -> null));
    }
  }

  @ArgGroup(exclusive = true, multiplicity = "1")
  ModelSource source;

  @Option(
      names = "--input",
      paramLabel = "BENCH.safetensors",
      description =
          "train_ids (B×L), prefill_ids (1×L), decode_ids (1×(P+G)), decode_batch8_ids (8×(P+G)), prompt_len (P); default: built from the shipped corpus.")
  Path input;

  @Mixin ThreadsOption threads;

  @Mixin WeightsOption weights;

  @Option(
      names = "--repeats",
      defaultValue = "5",
      description = "Timed runs per measurement after warm-up (default: ${DEFAULT-VALUE}).")
  int repeats;

  @Option(
      names = "--warmups",
      defaultValue = "2",
      description =
          "Untimed runs before the timed ones (default: ${DEFAULT-VALUE}; decoding runs "
              + DECODE_EXTRA_WARMUPS
              + " more, and then up to "
              + DECODE_MAX_EXTRA_WARMUPS
              + " more while the JIT is still compiling).")
  int warmups;

  /**
   * Extra untimed passes for decoding: its many small methods reach C2 late. Small-1stage, batch 1,
   * `--verbose`: passes of 0.99, 0.81, 0.87, 0.64, 0.66 s after one warm-up, C2 still compiling
   * {@code Parallel.forRange} and {@code AttentionStep.step} 9 s into the run
   * (-XX:+PrintCompilation); the compiler thread then also takes a core from the two that decode.
   */
  static final int DECODE_EXTRA_WARMUPS = 3;

  /**
   * Then decoding warms up further, at most this many passes, until a pass in which the JIT
   * compiled for at most {@link #QUIET_JIT_SHARE} of its time. With 3 extra passes C2 was still
   * compiling Mamba2.step, Conv1d.step, Ssd.step and AttentionStep.step 9–11 s into a run, and a
   * quarter of the decode products found the worker thread off its core (23% of them ran both
   * halves on the caller; 11% after 10 more passes).
   */
  static final int DECODE_MAX_EXTRA_WARMUPS = 12;

  /** A pass that spent at most this share of its wall time compiling ends the decoding warm-up. */
  static final double QUIET_JIT_SHARE = 0.01;

  @Option(
      names = "--verbose",
      description =
          "Print every warm-up and timed run's duration to stderr (to see when the JIT has settled).")
  boolean verbose;

  @Option(names = "--json", description = "One JSON object instead of a table.")
  boolean json;

  @Option(
      names = "--profile",
      description =
          "Also time every kernel call of the timed runs: per measurement, each kernel family's"
              + " calls, time, share, GFLOP/s and how many threads it kept busy, and the time spent outside the kernels.")
  boolean profile;

  /**
   * A measurement's kernel profile: the records of its timed runs, their total seconds and units
   * (steps, bytes).
   */
  record Profiled(List<Profile.Entry> entries, double seconds, double units, String unit) {}

  private final Map<Part, Profiled> profiles = new java.util.EnumMap<>(Part.class);

  /** The measurements, in the order they run. */
  enum Part {
    train,
    prefill,
    decode,
    decode8,
    matmul
  }

  @Option(
      names = "--only",
      split = ",",
      paramLabel = "PART",
      description =
          "Run only these measurements (comma-separated: ${COMPLETION-CANDIDATES}); for profiling one of them.")
  List<Part> only;

  private boolean runs(Part p) {
    return only == null || only.contains(p);
  }

  record Inputs(
      int[] train,
      int trainB,
      int trainL,
      int[] prefill,
      int[] decode,
      int[] decode8,
      int promptLen,
      int decodeLen) {}

  @Override
  public Integer call() throws Exception {
    threads.apply();
    if (repeats < 1) throw new HNetException("--repeats must be at least 1");
    if (warmups < 0) throw new HNetException("--warmups must be at least 0");
    long loadStart = System.nanoTime();
    HNetForCausalLM lm = source.load(weights.format);
    double loadSeconds = (System.nanoTime() - loadStart) / 1e9;
    long loadRss = peakRssBytes(); // the process's high-water mark so far: loading dominates it
    Inputs in = input != null ? read(input) : fromCorpus();
    int routers = lm.config.numStages() - 1;
    double[] n = new double[routers];
    Arrays.fill(n, 3.0);

    // training step: forward + backward, gradients zeroed between runs (not timed)
    int[] targets = new int[in.train().length];
    for (int t = 0; t < targets.length; t++)
      targets[t] = (t + 1) % in.trainL() == 0 ? -1 : in.train()[t + 1];
    SeqLens trainSeqs = SeqLens.uniform(in.trainB(), in.trainL());
    long[] stagePositions = new long[routers + 1];
    HNetForCausalLM model = lm;
    org.hnet.train.Objective objective = new org.hnet.train.Objective(model);
    double trainS = Double.NaN,
        trainFlops = Double.NaN,
        prefillS = Double.NaN,
        prefillFlops = Double.NaN;
    double decS = Double.NaN, dec8S = Double.NaN, peak = Double.NaN, fmaPeak = Double.NaN;
    int decodeWarmups = 0, decode8Warmups = 0;
    double[] roundTrip = {Double.NaN, Double.NaN, Double.NaN};
    long trainPeak = 0;
    if (runs(Part.train)) {
      org.hnet.kernels.Flops.reset();
      resetPeakHeap();
      trainS =
          median(
              time(
                  Part.train,
                  warmups,
                  repeats,
                  () -> {
                    for (var p : model.parameters.values())
                      if (p.grad != null) Arrays.fill(p.grad, 0f);
                    org.hnet.train.Objective.Losses l =
                        objective.lossAndGradients(in.train(), targets, trainSeqs, n, 0.03);
                    stagePositions[0] = in.train().length;
                    for (int s = 0; s < routers; s++)
                      stagePositions[s + 1] = l.output().routing().get(s).boundaries();
                  }));
      trainFlops = org.hnet.kernels.Flops.take() / (double) (warmups + repeats);
      trainPeak = peakHeap();
    }
    int L = in.prefill().length;
    if (runs(Part.prefill)) {
      org.hnet.kernels.Flops.reset();
      prefillS =
          median(
              time(
                  Part.prefill,
                  warmups,
                  repeats,
                  () -> model.prefill(in.prefill(), SeqLens.uniform(1, L), model.allocate(1, L))));
      prefillFlops = org.hnet.kernels.Flops.take() / (double) (warmups + repeats);
    }
    long[] stageSteps = new long[routers + 1], stageSteps8 = new long[routers + 1];
    double weightMb = Double.NaN, weightMb8 = Double.NaN, bandwidth = Double.NaN;
    double bandwidth8 = Double.NaN, share = Double.NaN, share8 = Double.NaN;
    double[] shares = {}, shares8 = {}, probes = {}, probes8 = {};
    double[] kvMb = {Double.NaN, Double.NaN}; // KV cache read per step: batch 1, batch 8
    double promptS = Double.NaN, cacheMs = Double.NaN;
    double[] sharesLarger = {};
    if (runs(Part.decode)) {
      DecodeRun d = decodeRun(Part.decode, model, in.decode(), 1, in);
      decS = d.stepsS();
      promptS = d.promptS();
      System.arraycopy(d.ran(), 0, stageSteps, 0, stageSteps.length);
      kvMb[0] = d.kvMb();
      decodeWarmups = d.warmups();
      weightMb = weightBytesPerStep(lm, stageSteps) / 1e6;
      bandwidth = d.gbps();
      probes = d.passGBps();
      shares = d.shares(weightMb, in.decodeLen());
      share = median(shares);
      cacheMs = productsInCacheMs(lm, stageSteps);
      sharesLarger = d.shares(weightMb, in.decodeLen(), cacheMs);
    }
    if (runs(Part.decode8)) {
      DecodeRun d = decodeRun(Part.decode8, model, in.decode8(), 8, in);
      dec8S = d.stepsS();
      System.arraycopy(d.ran(), 0, stageSteps8, 0, stageSteps8.length);
      kvMb[1] = d.kvMb();
      decode8Warmups = d.warmups();
      weightMb8 = weightBytesPerStep(lm, stageSteps8) / 1e6;
      bandwidth8 = d.gbps();
      probes8 = d.passGBps();
      shares8 = d.shares(weightMb8, in.decodeLen());
      share8 = median(shares8);
    }
    if (runs(Part.matmul)) {
      peak = matmulPeak();
      fmaPeak = org.hnet.kernels.MachinePeak.fmaGflops(5, 200);
      roundTrip = org.hnet.kernels.MachinePeak.roundTripNanos(20_000, 25);
    }

    int G = in.decodeLen();
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      List<String> parts = new ArrayList<>();
      parts.add(
          String.format(
              Locale.ROOT,
              "\"threads\": %d, \"vector_bits\": %d, \"vectors_emulated\": %b, \"load_s\": %.3f,"
                  + " \"load_peak_rss_mb\": %s",
              Parallel.threads(),
              VectorWidth.bits(),
              VectorWidth.emulated(),
              loadSeconds,
              loadRss < 0 ? "null" : String.format(Locale.ROOT, "%.1f", loadRss / 1e6)));
      if (runs(Part.train)) {
        parts.add(
            String.format(
                Locale.ROOT,
                "\"train\": {\"median_s\": %.4f, \"bytes_per_s\": %.1f, \"tokens_per_stage\": %s, \"gflops\": %.2f, \"peak_heap_mb\": %.1f}",
                trainS,
                in.train().length / trainS,
                Arrays.toString(stagePositions),
                trainFlops / trainS / 1e9,
                trainPeak / 1e6));
      }
      if (runs(Part.prefill)) {
        parts.add(
            String.format(
                Locale.ROOT,
                "\"prefill\": {\"median_s\": %.4f, \"bytes_per_s\": %.1f, \"gflops\": %.2f}",
                prefillS,
                L / prefillS,
                prefillFlops / prefillS / 1e9));
      }
      if (runs(Part.decode)) {
        parts.add(
            String.format(
                Locale.ROOT,
                "\"decode\": {\"ms_per_byte\": %.4f, \"bytes_per_s\": %.1f, \"steps_per_stage\": %s, \"prompt_prefill_ms\": %.3f,"
                    + " \"weight_mb_per_byte\": %.3f, \"read_gb_per_s\": %.2f, \"bound_ms_per_byte\": %.4f, \"share_of_bound\": %.4f, \"kv_mb_per_byte\": %.3f,"
                    + " \"read_gb_per_s_per_pass\": %s, \"share_of_bound_per_pass\": %s, \"warmups\": %d,"
                    + " \"products_in_cache_ms_per_byte\": %.4f, \"share_of_larger_bound\": %.4f,"
                    + " \"share_of_larger_bound_per_pass\": %s}",
                decS * 1e3 / G,
                G / decS,
                Arrays.toString(stageSteps),
                promptS * 1e3,
                weightMb,
                bandwidth,
                weightMb / bandwidth,
                share,
                kvMb[0],
                jsonArray(probes, "%.2f"),
                jsonArray(shares, "%.6f"),
                decodeWarmups,
                cacheMs,
                median(sharesLarger),
                jsonArray(sharesLarger, "%.6f")));
      }
      if (runs(Part.decode8)) {
        String ceiling =
            runs(Part.decode)
                ? String.format(
                    Locale.ROOT,
                    ", \"ratio_at_bounds\": %.3f",
                    ratioAtBounds(weightMb, kvMb[0], weightMb8, kvMb[1]))
                : "";
        parts.add(
            String.format(
                Locale.ROOT,
                "\"decode_batch8\": {\"bytes_per_s\": %.1f, \"ms_per_step\": %.4f, \"steps_per_stage\": %s, \"weight_mb_per_step\": %.3f,"
                    + " \"kv_mb_per_step\": %.3f, \"read_gb_per_s\": %.2f, \"bound_ms_per_step\": %.4f, \"share_of_bound\": %.4f%s,"
                    + " \"read_gb_per_s_per_pass\": %s, \"share_of_bound_per_pass\": %s, \"warmups\": %d}",
                8.0 * G / dec8S,
                dec8S * 1e3 / G,
                Arrays.toString(stageSteps8),
                weightMb8,
                kvMb[1],
                bandwidth8,
                weightMb8 / bandwidth8,
                share8,
                ceiling,
                jsonArray(probes8, "%.2f"),
                jsonArray(shares8, "%.6f"),
                decode8Warmups));
      }
      if (runs(Part.matmul)) {
        parts.add(
            String.format(
                Locale.ROOT,
                "\"matmul_peak_gflops\": %.2f, \"fma_peak_gflops\": %.2f",
                peak,
                fmaPeak));
        parts.add(
            String.format(
                Locale.ROOT,
                "\"core_round_trip_ns\": {\"min\": %s, \"median\": %s, \"max\": %s}",
                jsonNumber(roundTrip[0]),
                jsonNumber(roundTrip[1]),
                jsonNumber(roundTrip[2])));
      }
      if (runs(Part.train))
        parts.add(String.format(Locale.ROOT, "\"train_peak_heap_mb\": %.1f", trainPeak / 1e6));
      if (profile) parts.add("\"profile\": " + profileJson());
      out.println("{" + String.join(", ", parts) + "}");
    } else {
      out.printf(
          Locale.ROOT,
          "threads %d, %d-bit vectors%s%n",
          Parallel.threads(),
          VectorWidth.bits(),
          VectorWidth.emulated()
              ? " (wider than the CPU's: emulated, slow; see -Dhnet.vector.bits)"
              : "");
      out.printf(
          Locale.ROOT,
          "model %s in %.2f s; peak resident memory after loading %s%n",
          source.model != null ? "loaded" : "initialised",
          loadSeconds,
          loadRss < 0
              ? "unknown (no /proc)"
              : String.format(Locale.ROOT, "%.0f MB", loadRss / 1e6));
      if (runs(Part.train)) {
        out.printf(
            Locale.ROOT,
            "positions per stage in the training batch: %s%n",
            Arrays.toString(stagePositions));
        out.printf(
            Locale.ROOT,
            "training step %d×%d      %8.3f s   %9.1f bytes/s   %6.1f GFLOP/s; peak heap %.0f MB%n",
            in.trainB(),
            in.trainL(),
            trainS,
            in.train().length / trainS,
            trainFlops / trainS / 1e9,
            trainPeak / 1e6);
      }
      if (runs(Part.prefill))
        out.printf(
            Locale.ROOT,
            "prefill 1×%d            %8.3f s   %9.1f bytes/s   %6.1f GFLOP/s%n",
            L,
            prefillS,
            L / prefillS,
            prefillFlops / prefillS / 1e9);
      if (runs(Part.decode)) {
        out.printf(
            Locale.ROOT,
            "decode batch 1          %8.3f ms/byte %7.1f bytes/s; steps per stage %s; the %d-byte prompt's prefill %.1f ms (not counted)%n",
            decS * 1e3 / G,
            G / decS,
            Arrays.toString(stageSteps),
            in.promptLen(),
            promptS * 1e3);
        out.printf(
            Locale.ROOT,
            "  weights read per byte %.1f MB (and %.1f MB of KV cache), memory read %.1f GB/s: bound %.3f ms/byte, reached %.0f%%%s; after %d warm-up passes%n",
            weightMb,
            kvMb[0],
            bandwidth,
            weightMb / bandwidth,
            100 * share,
            passRange(shares),
            decodeWarmups);
        out.printf(
            Locale.ROOT,
            "  its products with their weights in cache take %.3f ms/byte (%.0f%% of the memory bound): the larger bound reached %.0f%%%s%n",
            cacheMs,
            100 * cacheMs / (weightMb / bandwidth),
            100 * median(sharesLarger),
            passRange(sharesLarger));
      }
      if (runs(Part.decode8)) {
        out.printf(
            Locale.ROOT,
            "decode batch 8          %8.3f ms/step %7.1f bytes/s",
            dec8S * 1e3 / G,
            8.0 * G / dec8S);
        if (runs(Part.decode))
          out.printf(Locale.ROOT, " (%.2f× batch 1)", (8.0 * G / dec8S) / (G / decS));
        out.printf(Locale.ROOT, "; steps per stage %s%n", Arrays.toString(stageSteps8));
        out.printf(
            Locale.ROOT,
            "  weights read per step %.1f MB (and %.1f MB of KV cache), memory read %.1f GB/s: bound %.3f ms/step, reached %.0f%%%s; after %d warm-up passes%n",
            weightMb8,
            kvMb[1],
            bandwidth8,
            weightMb8 / bandwidth8,
            100 * share8,
            passRange(shares8),
            decode8Warmups);
        if (runs(Part.decode)) {
          out.printf(
              Locale.ROOT,
              "  both at their bounds (weights and KV cache), batch 8 would give %.2f× the bytes/s of batch 1%n",
              ratioAtBounds(weightMb, kvMb[0], weightMb8, kvMb[1]));
        }
      }
      if (runs(Part.matmul)) {
        out.printf(
            Locale.ROOT,
            "matmul 1024³ peak       %8.1f GFLOP/s; FMA peak of the machine %.1f GFLOP/s%n",
            peak,
            fmaPeak);
        out.printf(
            Locale.ROOT,
            "core-to-core round trip %8.0f ns (median of 25 bursts, %.0f–%.0f): where the host put the vCPUs%n",
            roundTrip[1],
            roundTrip[0],
            roundTrip[2]);
      }
      if (profile) printProfiles(out);
    }
    out.flush();
    return 0;
  }

  /** One kernel family's line of a profile, per unit of the measurement (step, prefill, byte). */
  record ProfileRow(
      Profile.Kind kind,
      double calls,
      double ms,
      double share,
      double gflops,
      double threadsBusy) {}

  /** The kernel lines of a measurement's profile, in Kind order. */
  static List<ProfileRow> rows(Profiled p) {
    List<ProfileRow> rows = new ArrayList<>();
    for (Profile.Entry k : p.entries()) {
      rows.add(
          new ProfileRow(
              k.kind(),
              k.calls() / p.units(),
              k.nanos() / 1e6 / p.units(),
              k.nanos() / 1e9 / p.seconds(),
              k.flops() / (double) k.nanos(),
              k.threadsBusy()));
    }
    return rows;
  }

  /**
   * Milliseconds per unit spent outside every kernel: the model code between them, allocation, GC.
   */
  static double outsideMs(Profiled p) {
    long inside = 0;
    for (Profile.Entry k : p.entries()) inside += k.nanos();
    return (p.seconds() - inside / 1e9) * 1e3 / p.units();
  }

  /**
   * Per measurement: each kernel family's calls and milliseconds per unit (step, prefill, byte),
   * its share of the measurement's time, GFLOP/s while it ran and the threads it kept busy on
   * average; then the time outside every kernel.
   */
  private void printProfiles(PrintWriter out) {
    for (var e : profiles.entrySet()) {
      Profiled p = e.getValue();
      out.printf(
          Locale.ROOT,
          "%nkernel profile of %s (%d thread%s; per %s):%n",
          e.getKey(),
          Parallel.threads(),
          Parallel.threads() == 1 ? "" : "s",
          p.unit());
      out.printf(
          Locale.ROOT,
          "  %-28s %9s %10s %7s %9s %8s%n",
          "kernel",
          "calls",
          "ms",
          "share",
          "GFLOP/s",
          "threads");
      for (ProfileRow r : rows(p)) {
        out.printf(
            Locale.ROOT,
            "  %-28s %9.1f %10.3f %6.1f%% %9s %8.2f%n",
            r.kind().label,
            r.calls(),
            r.ms(),
            100 * r.share(),
            r.gflops() == 0 ? "" : String.format(Locale.ROOT, "%.1f", r.gflops()),
            r.threadsBusy());
      }
      double outside = outsideMs(p);
      out.printf(
          Locale.ROOT,
          "  %-28s %9s %10.3f %6.1f%%%n",
          "outside the kernels",
          "",
          outside,
          100 * outside / (p.seconds() * 1e3 / p.units()));
    }
  }

  /**
   * {@link #printProfiles} as one JSON object: per measurement, {"unit", "ms_per_unit",
   * "outside_ms", "kernels": [...]}.
   */
  private String profileJson() {
    List<String> parts = new ArrayList<>();
    for (var e : profiles.entrySet()) {
      Profiled p = e.getValue();
      List<String> ks = new ArrayList<>();
      for (ProfileRow r : rows(p)) {
        ks.add(
            String.format(
                Locale.ROOT,
                "{\"kernel\": \"%s\", \"calls\": %.2f, \"ms\": %.4f, \"share\": %.4f, \"gflops\": %.2f, \"threads_busy\": %.3f}",
                r.kind().name().toLowerCase(Locale.ROOT),
                r.calls(),
                r.ms(),
                r.share(),
                r.gflops(),
                r.threadsBusy()));
      }
      parts.add(
          String.format(
              Locale.ROOT,
              "\"%s\": {\"unit\": \"%s\", \"ms_per_unit\": %.4f, \"outside_ms\": %.4f, \"kernels\": [%s]}",
              e.getKey(),
              p.unit(),
              p.seconds() * 1e3 / p.units(),
              outsideMs(p),
              String.join(", ", ks)));
    }
    return "{" + String.join(", ", parts) + "}";
  }

  /**
   * One teacher-forced decode: per stage the steps in which it ran, and the seconds of the steps
   * and of the prompt.
   */
  record Decoded(long[] ran, double stepsS, double promptS, long kvBytes) {}

  /**
   * A decoding measurement: the medians of the timed passes' steps and prompt prefills, the steps
   * per stage and MB of KV cache read per step of a pass, and how many warm-up passes ran.
   */
  record DecodeRun(
      double stepsS,
      double promptS,
      long[] ran,
      double kvMb,
      int warmups,
      double[] passS,
      double[] passGBps) {

    /** The median of the read bandwidths probed after each timed pass, GB/s. */
    double gbps() {
      return median(passGBps);
    }

    /**
     * Per timed pass, the share of the weight-streaming bound it reached: {@code mbPerStep} MB at
     * the bandwidth probed right after it, against its own time per step ({@code steps} steps).
     */
    double[] shares(double mbPerStep, int steps) {
      return shares(mbPerStep, steps, 0);
    }

    /**
     * As {@link #shares(double, int)}, against the larger of that bound and {@code floorMs} per
     * step (the products' time with their weights in cache).
     */
    double[] shares(double mbPerStep, int steps, double floorMs) {
      double[] s = new double[passS.length];
      for (int i = 0; i < s.length; i++)
        s[i] = Math.max(mbPerStep / passGBps[i], floorMs) / (passS[i] * 1e3 / steps);
      return s;
    }
  }

  /**
   * MB the bandwidth probe reads: 8× this machine's last-level cache, so it streams from memory.
   */
  static final int PROBE_MB = 256;

  /** Timed reads per probe (after one untimed read): the best of them is the probe's figure. */
  static final int PROBE_RUNS = 2;

  private float[] probeArray;

  private float[] probe() {
    if (probeArray == null) probeArray = org.hnet.kernels.MachinePeak.probeArray(PROBE_MB);
    return probeArray;
  }

  /**
   * Warms up then times teacher-forced decoding of {@code rows} rows of ids (recording the kernels
   * under --profile).
   */
  private DecodeRun decodeRun(Part part, HNetForCausalLM model, int[] ids, int rows, Inputs in) {
    int n = repeats;
    double[] steps = new double[n], prompts = new double[n], gbps = new double[n], kvMb = {0};
    long[] ran = new long[model.config.numStages()];
    int[] timed = {-1}; // the timed pass running, or -1 while warming up
    Runnable pass =
        () -> {
          Decoded d =
              decodeTeacherForced(model, ids, rows, in.promptLen(), profile && timed[0] >= 0);
          System.arraycopy(d.ran(), 0, ran, 0, ran.length);
          kvMb[0] = d.kvBytes() / 1e6 / in.decodeLen();
          if (timed[0] >= 0) {
            steps[timed[0]] = d.stepsS();
            prompts[timed[0]] = d.promptS();
            // the bound of this pass: memory bandwidth probed right after it, so that a share
            // compares a pass with a probe under the same load from the rest of the host
            gbps[timed[0]++] = org.hnet.kernels.MachinePeak.readGBps(probe(), PROBE_RUNS);
          }
        };
    int warmed =
        warmUp(part.name(), warmups + DECODE_EXTRA_WARMUPS, DECODE_MAX_EXTRA_WARMUPS, pass);
    Profile.reset();
    timed[0] = 0;
    time(part.name(), 0, n, pass);
    if (profile)
      profiles.put(
          part,
          new Profiled(
              Profile.entries(),
              sum(steps),
              (double) n * in.decodeLen(),
              rows == 1 ? "byte" : "step"));
    return new DecodeRun(median(steps), median(prompts), ran, kvMb[0], warmed, steps, gbps);
  }

  /**
   * Prefills the prompt of each row, then steps through the remaining bytes. Only the steps are
   * timed as {@code stepsS} (the anchor's figure is 256 step() calls after the prompt); the cache
   * allocation and the prompt's prefill are {@code promptS}. {@code ran}: per stage, the number of
   * steps in which it ran for some row (stage 0: every step; stage s + 1: the steps where router s
   * took a boundary in some row). {@code kvBytes}: the bytes of cached keys and values the steps
   * read.
   */
  static Decoded decodeTeacherForced(
      HNetForCausalLM lm, int[] ids, int rows, int promptLen, boolean profile) {
    long t0 = System.nanoTime();
    int total = ids.length / rows;
    HNetForCausalLM.Cache cache = lm.allocate(rows, total);
    int[] packed = new int[rows * promptLen];
    for (int r = 0; r < rows; r++)
      System.arraycopy(ids, r * total, packed, r * promptLen, promptLen);
    lm.prefill(packed, SeqLens.uniform(rows, promptLen), cache);
    boolean[] all = new boolean[rows];
    Arrays.fill(all, true);
    int[] tok = new int[rows];
    long[] ran = new long[lm.config.numStages()];
    if (profile) Profile.start();
    long kv0 = org.hnet.kernels.Attention.kvBytesRead();
    long t1 = System.nanoTime();
    for (int t = promptLen; t < total; t++) {
      for (int r = 0; r < rows; r++) tok[r] = ids[r * total + t];
      List<RoutingModule.Output> routing = lm.step(tok, cache, all).routing();
      ran[0]++;
      for (int s = 0; s < routing.size(); s++) {
        boolean[] mask = routing.get(s).boundaryMask();
        boolean any = false;
        for (int r = 0; r < rows && !any; r++) any = mask[r];
        if (!any) break;
        ran[s + 1]++;
      }
    }
    long t2 = System.nanoTime();
    if (profile) Profile.stop();
    return new Decoded(
        ran, (t2 - t1) / 1e9, (t1 - t0) / 1e9, org.hnet.kernels.Attention.kvBytesRead() - kv0);
  }

  /**
   * As {@link #weightBytesPerStep(HNetConfig, long[])}, counting each stage's parameters in the
   * bytes the model holds them in (bf16 and int8 weights read fewer).
   */
  static double weightBytesPerStep(HNetForCausalLM lm, long[] stageSteps) {
    HNetConfig cfg = lm.config;
    int d0 = cfg.stage(0).dModel();
    double bytes = 4 * ((double) cfg.vocabSize() * d0 + d0);
    double[] stage = new double[stageSteps.length];
    for (org.hnet.nn.Param p : lm.parameters.values())
      if (p.stage >= 0 && p.stage < stage.length) stage[p.stage] += p.bytes();
    for (int s = 0; s < stageSteps.length; s++)
      bytes += stage[s] * (double) stageSteps[s] / Math.max(1, stageSteps[0]);
    return bytes;
  }

  /**
   * Bytes of weights a decoding step reads on average: the LM head and one embedding row every
   * step, each stage's own parameters (blocks, norms, router, residual projection, pad) in the
   * share of steps where that stage ran. float32: 4 bytes per parameter.
   */
  static double weightBytesPerStep(HNetConfig cfg, long[] stageSteps) {
    int d0 = cfg.stage(0).dModel();
    double params = (double) cfg.vocabSize() * d0 + d0;
    for (int s = 0; s < stageSteps.length; s++)
      params += cfg.parameterCount(s) * (double) stageSteps[s] / Math.max(1, stageSteps[0]);
    return 4 * params;
  }

  /** Bytes of the weight each in-cache product rate is measured on. */
  static final long CACHE_PRODUCT_BYTES = 4L << 20;

  /**
   * Milliseconds a batch-1 decoding step's products take with their weights in the caches, the
   * bound their arithmetic sets where memory is fast enough: the weights {@link
   * #weightBytesPerStep(HNetForCausalLM, long[])} counts, as matrices (the LM head every step, each
   * stage's in the share of steps where it ran; the embedding row, the norms and the conv weights
   * are left out), each at the rate {@link org.hnet.kernels.MachinePeak#decodeWeightsPerSecond}
   * measures for its format and its K, once per pair.
   */
  static double productsInCacheMs(HNetForCausalLM lm, long[] stageSteps) {
    Map<String, Double> rate = new java.util.HashMap<>();
    double ms = 0;
    org.hnet.nn.Param head = lm.parameters.get("lm_head.weight");
    if (head == null) head = lm.parameters.get("embeddings.weight");
    for (org.hnet.nn.Param p : lm.parameters.values()) {
      int[] shape = p.shape();
      boolean everyStep = p == head;
      if (shape.length != 2 || !(everyStep || p.stage >= 0 && p.stage < stageSteps.length))
        continue;
      org.hnet.kernels.CompactWeight.Format f = p.compact == null ? null : p.compact.format;
      int k = shape[1];
      double r =
          rate.computeIfAbsent(
              f + "/" + k,
              key ->
                  org.hnet.kernels.MachinePeak.decodeWeightsPerSecond(
                      f, k, CACHE_PRODUCT_BYTES, 3, 100));
      double share = everyStep ? 1 : (double) stageSteps[p.stage] / Math.max(1, stageSteps[0]);
      ms += 1e3 * share * shape[0] * (double) k / r;
    }
    return ms;
  }

  /**
   * The batch-8 over batch-1 bytes/s ratio when both read their weights and KV cache at the same
   * bandwidth: 8 bytes per batch-8 step against one per batch-1 step.
   */
  static double ratioAtBounds(double weightMb1, double kvMb1, double weightMb8, double kvMb8) {
    return 8 * (weightMb1 + kvMb1) / (weightMb8 + kvMb8);
  }

  /** The process's peak resident set (VmHWM in /proc/self/status), in bytes; -1 where unknown. */
  static long peakRssBytes() {
    try {
      for (String l :
          java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
        if (l.startsWith("VmHWM:")) {
          return Long.parseLong(l.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (java.io.IOException | RuntimeException e) {
      // not Linux: unknown
    }
    return -1;
  }

  /**
   * Peak heap since the last reset: the sum of the heap pools' peaks (an upper bound on the live
   * peak).
   */
  static long peakHeap() {
    long sum = 0;
    for (var pool : java.lang.management.ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == java.lang.management.MemoryType.HEAP)
        sum += pool.getPeakUsage().getUsed();
    }
    return sum;
  }

  static void resetPeakHeap() {
    System.gc();
    for (var pool : java.lang.management.ManagementFactory.getMemoryPoolMXBeans())
      pool.resetPeakUsage();
  }

  static double matmulPeak() {
    int n = 1024;
    float[] a = new float[n * n], b = new float[n * n], c = new float[n * n];
    java.util.Random r = new java.util.Random(0);
    for (int i = 0; i < a.length; i++) {
      a[i] = r.nextFloat();
      b[i] = r.nextFloat();
    }
    // 1024³ is ~10–30 ms here: 10 warm-ups, median of 9
    double[] t = time(10, 9, () -> Matmul.linear(c, 0, a, 0, b, 0, null, 0, n, n, n));
    return 2.0 * n * n * n / median(t) / 1e9;
  }

  /** {@link #time(int, int, Runnable)}, printing every run's seconds to stderr under --verbose. */
  double[] time(String label, int warmup, int runs, Runnable r) {
    return time(
        warmup, runs, r, verbose ? label : null, verbose ? spec.commandLine().getErr() : null);
  }

  /**
   * Untimed runs of r: {@code min}, then up to {@code extra} more until one in which the JIT
   * compiled for at most {@link #QUIET_JIT_SHARE} of the run's time (when the JVM reports its
   * compilation time). Returns how many ran.
   */
  int warmUp(String label, int min, int extra, Runnable r) {
    java.lang.management.CompilationMXBean jit =
        java.lang.management.ManagementFactory.getCompilationMXBean();
    java.util.function.LongSupplier jitMs =
        jit != null && jit.isCompilationTimeMonitoringSupported()
            ? jit::getTotalCompilationTime
            : null;
    return warmUp(
        min, extra, r, jitMs, verbose ? label : null, verbose ? spec.commandLine().getErr() : null);
  }

  /**
   * {@link #warmUp(String, int, int, Runnable)} with the JIT's total compilation time in ms from
   * jitMs (null: unknown).
   */
  static int warmUp(
      int min,
      int extra,
      Runnable r,
      java.util.function.LongSupplier jitMs,
      String label,
      PrintWriter err) {
    int i = 0;
    while (true) {
      long c0 = jitMs != null ? jitMs.getAsLong() : 0, t0 = System.nanoTime();
      r.run();
      double s = (System.nanoTime() - t0) / 1e9,
          compiled = jitMs != null ? (jitMs.getAsLong() - c0) / 1e3 : 0;
      i++;
      if (label != null) {
        err.printf(
            Locale.ROOT,
            "%s warm-up %d: %.4f s%s%n",
            label,
            i,
            s,
            jitMs != null ? String.format(Locale.ROOT, " (JIT %.3f s)", compiled) : "");
        err.flush();
      }
      if (i >= min + extra || i >= min && compiled <= QUIET_JIT_SHARE * s) return i;
    }
  }

  /**
   * {@link #time(String, int, int, Runnable)} for train or prefill, recording the timed runs'
   * kernels under --profile.
   */
  double[] time(Part part, int warmup, int runs, Runnable r) {
    if (!profile) return time(part.name(), warmup, runs, r);
    time(part.name(), warmup, 0, r);
    Profile.reset();
    Profile.start();
    double[] t;
    try {
      t = time(part.name(), 0, runs, r);
    } finally {
      Profile.stop();
    }
    profiles.put(
        part,
        new Profiled(Profile.entries(), sum(t), runs, part == Part.train ? "step" : "prefill"));
    return t;
  }

  /** A JSON number, or null for NaN (JSON has no NaN). */
  static String jsonNumber(double v) {
    return Double.isNaN(v) ? "null" : String.format(Locale.ROOT, "%.1f", v);
  }

  static double sum(double[] t) {
    double s = 0;
    for (double v : t) s += v;
    return s;
  }

  static double[] time(int warmup, int runs, Runnable r) {
    return time(warmup, runs, r, null, null);
  }

  private static double[] time(int warmup, int runs, Runnable r, String label, PrintWriter err) {
    double[] t = new double[runs];
    for (int i = 0; i < warmup + runs; i++) {
      long t0 = System.nanoTime();
      r.run();
      double s = (System.nanoTime() - t0) / 1e9;
      if (i >= warmup) t[i - warmup] = s;
      if (label != null) {
        err.printf(
            Locale.ROOT,
            "%s %s %d: %.4f s%n",
            label,
            i < warmup ? "warm-up" : "run",
            i < warmup ? i + 1 : i - warmup + 1,
            s);
        err.flush();
      }
    }
    return t;
  }

  /** Numbers as a JSON array, each formatted with {@code format}. */
  static String jsonArray(double[] v, String format) {
    StringBuilder b = new StringBuilder("[");
    for (int i = 0; i < v.length; i++)
      b.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, format, v[i]));
    return b.append(']').toString();
  }

  /** " (passes a–b%)" for the shares of several timed passes; "" for one. */
  static String passRange(double[] shares) {
    if (shares.length < 2) return "";
    double lo = Arrays.stream(shares).min().orElseThrow(),
        hi = Arrays.stream(shares).max().orElseThrow();
    return String.format(Locale.ROOT, " (passes %.0f–%.0f%%)", 100 * lo, 100 * hi);
  }

  static double median(double[] t) {
    double[] s = t.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  static Inputs read(Path f) {
    Map<String, TensorData> m = SafeTensors.read(f);
    for (String k :
        List.of("train_ids", "prefill_ids", "decode_ids", "decode_batch8_ids", "prompt_len")) {
      if (!m.containsKey(k)) throw new HNetException(f + ": no tensor '" + k + "'");
    }
    int[] ts = m.get("train_ids").shape(), ps = m.get("prefill_ids").shape();
    int[] ds = m.get("decode_ids").shape(), d8 = m.get("decode_batch8_ids").shape();
    if (ts.length != 2 || ts[0] < 1 || ts[1] < 2)
      throw new HNetException(f + ": train_ids must be B×L with L ≥ 2, got " + Arrays.toString(ts));
    if (ps.length != 2 || ps[0] != 1 || ps[1] < 1)
      throw new HNetException(f + ": prefill_ids must be 1×L, got " + Arrays.toString(ps));
    if (ds.length != 2 || ds[0] != 1)
      throw new HNetException(f + ": decode_ids must be 1×(P+G), got " + Arrays.toString(ds));
    if (d8.length != 2 || d8[0] != 8 || d8[1] != ds[1]) {
      throw new HNetException(
          f
              + ": decode_batch8_ids must be 8×"
              + ds[1]
              + " (as decode_ids), got "
              + Arrays.toString(d8));
    }
    if (m.get("prompt_len").numel() != 1)
      throw new HNetException(f + ": prompt_len must hold one number");
    long p = m.get("prompt_len").toLongs()[0];
    if (p < 1 || p >= ds[1])
      throw new HNetException(f + ": prompt_len " + p + " must be in [1, " + (ds[1] - 1) + "]");
    return new Inputs(
        ints(m.get("train_ids"), f),
        ts[0],
        ts[1],
        ints(m.get("prefill_ids"), f),
        ints(m.get("decode_ids"), f),
        ints(m.get("decode_batch8_ids"), f),
        (int) p,
        ds[1] - (int) p);
  }

  static int[] ints(TensorData t, Path f) {
    long[] v = t.toLongs();
    int[] out = new int[v.length];
    for (int i = 0; i < v.length; i++) {
      if (v[i] < 0 || v[i] > 255)
        throw new HNetException(f + ": byte id " + v[i] + " out of range at index " + i);
      out[i] = (int) v[i];
    }
    return out;
  }

  /** The same shapes from the shipped corpus: disjoint slices of Moby Dick. */
  static Inputs fromCorpus() throws java.io.IOException {
    byte[] text;
    try (InputStream in =
        new GZIPInputStream(BenchCommand.class.getResourceAsStream(TrainCommand.DEMO_CORPUS))) {
      text = in.readNBytes(40_000);
    }
    int off = 10_000;
    List<int[]> parts = new ArrayList<>();
    for (int len : new int[] {4 * 1024, 1024, 512, 8 * 512}) {
      int[] a = new int[len];
      for (int i = 0; i < len; i++) a[i] = text[off + i] & 0xff;
      off += len;
      parts.add(a);
    }
    return new Inputs(parts.get(0), 4, 1024, parts.get(1), parts.get(2), parts.get(3), 256, 256);
  }
}
