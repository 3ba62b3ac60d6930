package org.hnet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.hnet.io.SafeTensors;
import org.hnet.io.TensorData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code hnet bench}: the JSON contract of the issue, --only, and one-line errors for a bad
 * --input.
 */
class BenchCommandTest {
  static final String CONFIG = ForwardCommandTest.GOLDEN.resolve("2stage/config.json").toString();

  /**
   * A small BENCH.safetensors: train 2×48, prefill 1×40, decode 1×(8+6), batch 8 of the same
   * length.
   */
  static Map<String, TensorData> input() {
    Random r = new Random(3);
    Map<String, TensorData> m = new LinkedHashMap<>();
    m.put("train_ids", TensorData.ofLongs(new int[] {2, 48}, bytes(r, 96)));
    m.put("prefill_ids", TensorData.ofLongs(new int[] {1, 40}, bytes(r, 40)));
    m.put("decode_ids", TensorData.ofLongs(new int[] {1, 14}, bytes(r, 14)));
    m.put("decode_batch8_ids", TensorData.ofLongs(new int[] {8, 14}, bytes(r, 8 * 14)));
    m.put("prompt_len", TensorData.ofLongs(new int[] {}, new long[] {8}));
    return m;
  }

  static long[] bytes(Random r, int n) {
    long[] a = new long[n];
    for (int i = 0; i < n; i++) a[i] = 'a' + r.nextInt(26);
    return a;
  }

  @Test
  void jsonHasEveryMeasurementOfTheIssue(@TempDir Path tmp) throws Exception {
    Path in = tmp.resolve("bench.safetensors");
    SafeTensors.write(in, input(), Map.of());
    var r =
        ForwardCommandTest.run(
            "bench",
            "--config",
            CONFIG,
            "--input",
            in.toString(),
            "--repeats",
            "1",
            "--threads",
            "1",
            "--only",
            "train,prefill,decode,decode8",
            "--json");
    assertEquals(0, r.code(), r.err());
    JsonNode j = new ObjectMapper().readTree(r.out());
    assertTrue(j.at("/train/median_s").asDouble() > 0, r.out());
    assertTrue(j.at("/train/bytes_per_s").asDouble() > 0, r.out());
    // the training batch's positions per stage: 2×48 bytes at stage 0, fewer at each inner stage
    JsonNode stages = j.at("/train/tokens_per_stage");
    assertEquals(3, stages.size(), r.out());
    assertEquals(96, stages.get(0).asInt());
    assertTrue(
        stages.get(1).asInt() <= 96 && stages.get(2).asInt() <= stages.get(1).asInt(), r.out());
    assertTrue(j.at("/prefill/median_s").asDouble() > 0, r.out());
    assertTrue(j.at("/decode/ms_per_byte").asDouble() > 0, r.out());
    double bps =
        j.at("/decode/bytes_per_s")
            .asDouble(); // both printed rounded: 4 decimals of ms, 1 of bytes/s
    assertEquals(1000 / j.at("/decode/ms_per_byte").asDouble(), bps, Math.max(0.1, bps * 1e-3));
    // 6 steps after the 8-byte prompt: stage 0 ran in all, each inner stage in at most as many
    JsonNode steps = j.at("/decode/steps_per_stage");
    assertEquals(6, steps.get(0).asInt(), r.out());
    assertTrue(steps.get(1).asInt() <= 6 && steps.get(2).asInt() <= steps.get(1).asInt(), r.out());
    assertTrue(
        j.at("/decode/prompt_prefill_ms").asDouble() > 0,
        "the prompt's prefill is timed apart: " + r.out());
    assertTrue(
        j.at("/decode/weight_mb_per_byte").asDouble() > 0
            && j.at("/decode/read_gb_per_s").asDouble() > 0,
        r.out());
    double w1 = j.at("/decode/weight_mb_per_byte").asDouble(),
        read1 = j.at("/decode/read_gb_per_s").asDouble();
    assertEquals(
        w1 / read1,
        j.at("/decode/bound_ms_per_byte").asDouble(),
        printSlack(w1 / read1, 5e-5, w1, 5e-4, read1, 5e-3),
        r.out());
    assertTrue(j.at("/decode_batch8/bytes_per_s").asDouble() > 0, r.out());
    // one timed pass: its probe is the bandwidth, its share the share
    assertEquals(1, j.at("/decode/read_gb_per_s_per_pass").size(), r.out());
    assertEquals(
        j.at("/decode/read_gb_per_s").asDouble(),
        j.at("/decode/read_gb_per_s_per_pass/0").asDouble(),
        0.006,
        r.out());
    double readPass = j.at("/decode/read_gb_per_s_per_pass/0").asDouble(),
        ms1 = j.at("/decode/ms_per_byte").asDouble();
    assertEquals(
        w1 / readPass / ms1,
        j.at("/decode/share_of_bound_per_pass/0").asDouble(),
        printSlack(w1 / readPass / ms1, 5e-7, w1, 5e-4, readPass, 5e-3, ms1, 5e-5),
        r.out());
    // batch 8: weights by the steps each stage ran for some row, at the bandwidth probed beside
    // its own passes
    var cfg = org.hnet.config.HNetConfig.parse(java.nio.file.Path.of(CONFIG));
    JsonNode steps8 = j.at("/decode_batch8/steps_per_stage");
    long[] ran8 = new long[steps8.size()];
    for (int s = 0; s < ran8.length; s++) ran8[s] = steps8.get(s).asLong();
    assertEquals(6, ran8[0], r.out());
    double w8 = j.at("/decode_batch8/weight_mb_per_step").asDouble(),
        kv8 = j.at("/decode_batch8/kv_mb_per_step").asDouble();
    assertEquals(BenchCommand.weightBytesPerStep(cfg, ran8) / 1e6, w8, 1e-3, r.out());
    double read8 = j.at("/decode_batch8/read_gb_per_s").asDouble();
    assertEquals(
        w8 / read8,
        j.at("/decode_batch8/bound_ms_per_step").asDouble(),
        printSlack(w8 / read8, 5e-5, w8, 5e-4, read8, 5e-3),
        r.out());
    double kv1 = j.at("/decode/kv_mb_per_byte").asDouble();
    assertTrue(
        kv1 >= 0 && kv8 >= kv1 && (steps.get(1).asInt() == 0 || kv1 > 0),
        "KV cache read: " + r.out());
    assertEquals(
        8 * (j.at("/decode/weight_mb_per_byte").asDouble() + kv1) / (w8 + kv8),
        j.at("/decode_batch8/ratio_at_bounds").asDouble(),
        2e-3,
        r.out());
    int most = 2 + BenchCommand.DECODE_EXTRA_WARMUPS + BenchCommand.DECODE_MAX_EXTRA_WARMUPS;
    for (String part : new String[] {"decode", "decode_batch8"}) {
      int w = j.at("/" + part + "/warmups").asInt();
      assertTrue(
          w >= 2 + BenchCommand.DECODE_EXTRA_WARMUPS && w <= most,
          part + " warm-up passes: " + r.out());
    }
    assertFalse(j.has("matmul_peak_gflops"), "--only leaves out what it does not name");
    // the kernels' vector width, so that runs on different machines can be told apart
    assertEquals(org.hnet.kernels.VectorWidth.bits(), j.get("vector_bits").asInt(), r.out());
    assertTrue(List.of(128, 256, 512).contains(j.get("vector_bits").asInt()), r.out());
    assertTrue(j.get("load_s").asDouble() > 0, r.out());
    assertTrue(
        j.get("load_peak_rss_mb").isNull() || j.get("load_peak_rss_mb").asDouble() > 10, r.out());
    assertEquals(
        org.hnet.kernels.VectorWidth.emulated(), j.get("vectors_emulated").asBoolean(), r.out());
  }

  /**
   * The decoding warm-up runs its minimum, then goes on while the JIT compiled for more than 1% of
   * a run, up to its limit.
   */
  @Test
  void warmUpGoesOnWhileTheJitCompiles() {
    int[] runs = {0};
    Runnable pass =
        () -> {
          runs[0]++;
          long t0 = System.nanoTime();
          while (System.nanoTime() - t0 < 2_000_000) Thread.onSpinWait(); // 2 ms
        };
    // compiling 1 s during each of the first 4 runs, then nothing
    java.util.function.LongSupplier busyFor4 = () -> 1000L * Math.min(runs[0], 4);
    assertEquals(5, BenchCommand.warmUp(2, 12, pass, busyFor4, null, null));
    runs[0] = 0;
    assertEquals(
        3, BenchCommand.warmUp(3, 12, pass, () -> 0L, null, null), "a quiet JIT: the minimum");
    runs[0] = 0;
    assertEquals(
        7,
        BenchCommand.warmUp(2, 5, pass, () -> 1000L * runs[0], null, null),
        "always compiling: the limit");
    runs[0] = 0;
    assertEquals(
        2,
        BenchCommand.warmUp(2, 5, pass, null, null, null),
        "compilation time unknown: the minimum");
  }

  /**
   * --profile: per measurement, the kernels that ran with their time per unit, whose sum with the
   * time outside them is the measurement's time; the decode steps use matrix-vector products only.
   */
  @Test
  void profileAccountsForEveryMillisecond(@TempDir Path tmp) throws Exception {
    Path in = tmp.resolve("bench.safetensors");
    SafeTensors.write(in, input(), Map.of());
    var r =
        ForwardCommandTest.run(
            "bench",
            "--config",
            CONFIG,
            "--input",
            in.toString(),
            "--repeats",
            "2",
            "--threads",
            "2",
            "--only",
            "train,prefill,decode",
            "--profile",
            "--json");
    assertEquals(0, r.code(), r.err());
    JsonNode p = new ObjectMapper().readTree(r.out()).get("profile");
    for (String part : new String[] {"train", "prefill", "decode"}) {
      JsonNode m = p.get(part);
      double sum = m.get("outside_ms").asDouble();
      java.util.Set<String> kernels = new java.util.HashSet<>();
      for (JsonNode k : m.get("kernels")) {
        kernels.add(k.get("kernel").asText());
        assertTrue(k.get("calls").asDouble() > 0 && k.get("ms").asDouble() >= 0, part + ": " + k);
        assertTrue(
            k.get("share").asDouble() <= 1 && k.get("threads_busy").asDouble() <= 2.001,
            part + ": " + k);
        sum += k.get("ms").asDouble();
      }
      assertEquals(
          m.get("ms_per_unit").asDouble(), sum, 1e-3 * kernels.size() + 1e-3, part + ": " + m);
      if (part.equals("decode")) {
        assertTrue(
            kernels.contains("matvec") && !kernels.contains("matmul"), part + ": " + kernels);
        assertEquals("byte", m.get("unit").asText());
      } else {
        assertTrue(
            kernels.containsAll(java.util.List.of("matmul", "ssd", "attention", "norm")),
            part + ": " + kernels);
      }
      if (part.equals("train")) {
        assertTrue(
            kernels.containsAll(
                java.util.List.of(
                    "matmul_dx",
                    "matmul_dw",
                    "ssd_backward",
                    "attention_backward",
                    "cross_entropy")),
            kernels.toString());
      }
    }
    JsonNode mm = p.get("train").get("kernels").get(0);
    assertEquals("matmul", mm.get("kernel").asText());
    assertTrue(mm.get("gflops").asDouble() > 0, mm.toString());

    r =
        ForwardCommandTest.run(
            "bench",
            "--config",
            CONFIG,
            "--input",
            in.toString(),
            "--repeats",
            "1",
            "--threads",
            "1",
            "--only",
            "prefill",
            "--profile");
    assertEquals(0, r.code(), r.err());
    assertTrue(
        r.out().contains("kernel profile of prefill (1 thread; per prefill)")
            && r.out().contains("outside the kernels"),
        r.out());
  }

  @Test
  void onlyRunsWhatItNames() throws Exception {
    var r =
        ForwardCommandTest.run(
            "bench", "--config", CONFIG, "--only", "decode", "--repeats", "1", "--json");
    assertEquals(0, r.code(), r.err());
    JsonNode j = new ObjectMapper().readTree(r.out());
    assertTrue(
        j.has("decode") && !j.has("train") && !j.has("prefill") && !j.has("decode_batch8"),
        r.out());

    r = ForwardCommandTest.run("bench", "--config", CONFIG, "--only", "matmul", "--json");
    assertEquals(0, r.code(), r.err());
    j = new ObjectMapper().readTree(r.out());
    double matmul = j.get("matmul_peak_gflops").asDouble(),
        fma = j.get("fma_peak_gflops").asDouble();
    assertTrue(matmul > 0 && fma > 0, r.out());
    JsonNode trip = j.get("core_round_trip_ns");
    if (Runtime.getRuntime().availableProcessors() > 1) {
      assertTrue(
          trip.get("min").asDouble() > 0
              && trip.get("min").asDouble() <= trip.get("median").asDouble()
              && trip.get("median").asDouble() <= trip.get("max").asDouble(),
          r.out());
    }
    assertFalse(j.has("decode"), r.out());
  }

  @Test
  void everyTimedPassHasItsOwnProbeAndTheShareIsTheirMedian() throws Exception {
    var r =
        ForwardCommandTest.run(
            "bench", "--config", CONFIG, "--only", "decode", "--repeats", "3", "--json");
    assertEquals(0, r.code(), r.err());
    JsonNode d = new ObjectMapper().readTree(r.out()).get("decode");
    JsonNode probes = d.get("read_gb_per_s_per_pass"), shares = d.get("share_of_bound_per_pass");
    assertEquals(3, probes.size(), r.out());
    assertEquals(3, shares.size(), r.out());
    double[] p = new double[3], s = new double[3];
    for (int i = 0; i < 3; i++) {
      p[i] = probes.get(i).asDouble();
      s[i] = shares.get(i).asDouble();
      assertTrue(p[i] > 0 && s[i] > 0, r.out());
    }
    assertEquals(BenchCommand.median(p), d.get("read_gb_per_s").asDouble(), 0.006, r.out());
    assertEquals(BenchCommand.median(s), d.get("share_of_bound").asDouble(), 1e-4, r.out());
    // each share is (weights per byte / its probe) / its pass's time per byte, so the pass times
    // come back from the shares and probes, and their median is the reported time per byte
    double weight = d.get("weight_mb_per_byte").asDouble();
    double[] ms = new double[3];
    for (int i = 0; i < 3; i++) ms[i] = weight / p[i] / s[i];
    assertEquals(
        BenchCommand.median(ms),
        d.get("ms_per_byte").asDouble(),
        2e-3 * d.get("ms_per_byte").asDouble() + 1e-4,
        r.out());
    // against the larger of the memory bound and the products' time in cache, pass by pass
    double cache = d.get("products_in_cache_ms_per_byte").asDouble();
    JsonNode larger = d.get("share_of_larger_bound_per_pass");
    assertTrue(cache > 0, r.out());
    assertEquals(3, larger.size(), r.out());
    double[] l = new double[3];
    for (int i = 0; i < 3; i++) {
      l[i] = larger.get(i).asDouble();
      assertEquals(Math.max(weight / p[i], cache) / ms[i], l[i], 2e-3 * l[i] + 1e-5, r.out());
      assertTrue(l[i] >= s[i] - 1e-6, r.out());
    }
    assertEquals(BenchCommand.median(l), d.get("share_of_larger_bound").asDouble(), 1e-4, r.out());
  }

  @Test
  void verbosePrintsEveryRunAndWarmupsCountsThem() throws Exception {
    var r =
        ForwardCommandTest.run(
            "bench",
            "--config",
            CONFIG,
            "--only",
            "prefill",
            "--repeats",
            "2",
            "--warmups",
            "3",
            "--verbose",
            "--json");
    assertEquals(0, r.code(), r.err());
    for (String line :
        new String[] {"prefill warm-up 1:", "prefill warm-up 3:", "prefill run 2:"}) {
      assertTrue(r.err().contains(line), r.err());
    }
    assertFalse(
        r.err().contains("prefill warm-up 4:") || r.err().contains("prefill run 3:"), r.err());
    assertTrue(
        new ObjectMapper().readTree(r.out()).has("prefill"),
        "stdout stays one JSON object: " + r.out());

    r = ForwardCommandTest.run("bench", "--config", CONFIG, "--warmups", "-1");
    assertEquals(1, r.code());
    ForwardCommandTest.assertOneLine(r.err(), "--warmups");
  }

  @Test
  void aBadInputIsOneLineNamingTheTensor(@TempDir Path tmp) {
    Map<String, TensorData> m = input();
    m.put("decode_batch8_ids", TensorData.ofLongs(new int[] {4, 14}, new long[4 * 14]));
    Path in = tmp.resolve("bad.safetensors");
    SafeTensors.write(in, m, Map.of());
    var r =
        ForwardCommandTest.run(
            "bench", "--config", CONFIG, "--input", in.toString(), "--only", "decode");
    assertEquals(1, r.code());
    ForwardCommandTest.assertOneLine(r.err(), "decode_batch8_ids");

    m = input();
    m.remove("prompt_len");
    SafeTensors.write(in, m, Map.of());
    r =
        ForwardCommandTest.run(
            "bench", "--config", CONFIG, "--input", in.toString(), "--only", "decode");
    assertEquals(1, r.code());
    ForwardCommandTest.assertOneLine(r.err(), "prompt_len");

    r = ForwardCommandTest.run("bench", "--config", CONFIG, "--only", "decode,warp");
    assertEquals(2, r.code(), r.out() + r.err());
  }

  @Test
  void weightBytesPerStepCountsEachStageInTheShareOfStepsItRan() {
    var cfg = org.hnet.config.HNetConfig.parse(java.nio.file.Path.of(CONFIG));
    int d0 = cfg.stage(0).dModel();
    double head = 4.0 * ((double) cfg.vocabSize() * d0 + d0);
    double all = BenchCommand.weightBytesPerStep(cfg, new long[] {10, 10, 10});
    double outer = BenchCommand.weightBytesPerStep(cfg, new long[] {10, 0, 0});
    double half = BenchCommand.weightBytesPerStep(cfg, new long[] {10, 5, 0});
    assertEquals(
        head + 4.0 * (cfg.parameterCount(0) + cfg.parameterCount(1) + cfg.parameterCount(2)),
        all,
        1e-6);
    assertEquals(head + 4.0 * cfg.parameterCount(0), outer, 1e-6);
    assertEquals(outer + 2.0 * cfg.parameterCount(1), half, 1e-6);
  }

  @Test
  void compactWeightsReadFewerBytesPerStep() {
    var cfg = org.hnet.config.HNetConfig.parse(java.nio.file.Path.of(CONFIG));
    var w = org.hnet.nn.Init.weights(cfg, 0);
    long[] steps = {10, 5, 2};
    var f32 =
        new org.hnet.nn.HNetForCausalLM(
            cfg, new org.hnet.nn.Params(w::get, org.hnet.nn.WeightFormat.F32, n -> null));
    // float32: the same count as from the config
    assertEquals(
        BenchCommand.weightBytesPerStep(cfg, steps),
        BenchCommand.weightBytesPerStep(f32, steps),
        1e-6);
    var int8 =
        new org.hnet.nn.HNetForCausalLM(
            cfg, new org.hnet.nn.Params(w::get, org.hnet.nn.WeightFormat.INT8, n -> null));
    double f = BenchCommand.weightBytesPerStep(f32, steps);
    double q = BenchCommand.weightBytesPerStep(int8, steps);
    assertTrue(q < 0.6 * f && q > 0.2 * f, q + " of " + f);
  }

  /**
   * How far q, a product or quotient of printed values, can lie from its own printed value: each
   * value v printed to within h (half its last digit) is off by a relative h / v at most, so q by r
   * / (1 - r) with r the sum of those, and its own print adds {@code out}. A probe that reads 1.29
   * GB/s (a host that stalled the test) puts the bound 0.4% off through the two decimals of the
   * bandwidth alone; at 20 GB/s it is 0.03%.
   */
  private static double printSlack(double q, double out, double... valueThenHalf) {
    double rel = 0;
    for (int i = 0; i < valueThenHalf.length; i += 2)
      rel += valueThenHalf[i + 1] / Math.abs(valueThenHalf[i]);
    return Math.abs(q) * rel / (1 - rel) + out;
  }
}
