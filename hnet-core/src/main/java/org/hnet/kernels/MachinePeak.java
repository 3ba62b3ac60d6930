package org.hnet.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The machine's limits as the JVM can reach them. FMA peak: every thread runs 12 independent chains
 * of vector FMAs on registers only (no memory traffic), enough to cover the FMA latency on current
 * x86 cores; no model work can run faster. Read bandwidth: streaming sums over an array far larger
 * than the caches. Decode products with their weights in cache: what their arithmetic allows when
 * memory is not the limit. Benchmarks report them beside their achieved figures so that the
 * distance to the limit is visible.
 */
public final class MachinePeak {
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

  private MachinePeak() {}

  /** FLOPs of one {@link #chains} iteration: 12 FMAs of S.length() lanes, 2 flops each. */
  static long flopsPerIteration() {
    return 12L * 2 * S.length();
  }

  /**
   * 12 independent FMA chains for {@code iterations} steps; the result only defeats dead-code
   * elimination.
   */
  static float chains(long iterations, float seed) {
    FloatVector a = FloatVector.broadcast(S, 1.0000001f), b = FloatVector.broadcast(S, 0.9999999f);
    FloatVector c0 = FloatVector.broadcast(S, seed), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
    FloatVector c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
    for (long i = 0; i < iterations; i++) {
      c0 = a.fma(b, c0);
      c1 = a.fma(b, c1);
      c2 = a.fma(b, c2);
      c3 = a.fma(b, c3);
      c4 = a.fma(b, c4);
      c5 = a.fma(b, c5);
      c6 = a.fma(b, c6);
      c7 = a.fma(b, c7);
      c8 = a.fma(b, c8);
      c9 = a.fma(b, c9);
      c10 = a.fma(b, c10);
      c11 = a.fma(b, c11);
    }
    return c0.add(c1)
        .add(c2)
        .add(c3)
        .add(c4)
        .add(c5)
        .add(c6)
        .add(c7)
        .add(c8)
        .add(c9)
        .add(c10)
        .add(c11)
        .lane(0);
  }

  /**
   * GFLOP/s of FMAs on {@link Parallel#threads()} threads: the best of {@code runs} runs of about
   * {@code millis} ms each, after a warm-up (best, not median: it is a ceiling, and a shared
   * machine only ever lowers it).
   */
  public static double fmaGflops(int runs, int millis) {
    int threads = Parallel.threads();
    long iterations =
        Math.max(
            1, (long) (millis * 1e6 * 0.5)); // ~0.5 iterations per ns at ~3 GHz, re-scaled below
    float[] sink = new float[threads];
    Parallel.forRange(
        threads,
        1,
        (t0, t1) -> {
          for (int t = t0; t < t1; t++) sink[t] = chains(20_000, t);
        });
    double best = 0;
    for (int r = 0; r < runs; r++) {
      long n = iterations;
      long start = System.nanoTime();
      Parallel.forRange(
          threads,
          1,
          (t0, t1) -> {
            for (int t = t0; t < t1; t++) sink[t] += chains(n, t);
          });
      double s = (System.nanoTime() - start) / 1e9;
      best = Math.max(best, threads * (double) n * flopsPerIteration() / s / 1e9);
      iterations = Math.max(1, (long) (iterations * (millis / 1e3) / s));
    }
    if (Float.isNaN(sink[0])) throw new AssertionError(); // keeps the chains alive
    return best;
  }

  /**
   * Memory read bandwidth in GB/s on {@link Parallel#threads()} threads: vector sums over {@code
   * megabytes} MB (far larger than the last-level cache, so it streams from memory), best of {@code
   * runs} after one warm-up pass. The bound for work that must stream its operands, as decoding
   * streams the weights.
   */
  public static double readGBps(int megabytes, int runs) {
    return readGBps(probeArray(megabytes), runs);
  }

  /**
   * The array {@link #readGBps(float[], int)} reads: {@code megabytes} MB (at least one vector) of
   * ones.
   */
  public static float[] probeArray(int megabytes) {
    float[] a = new float[Math.max(S.length(), megabytes << 18)];
    java.util.Arrays.fill(a, 1f);
    return a;
  }

  /**
   * {@link #readGBps(int, int)} over an array the caller keeps (from {@link #probeArray}), so that
   * a probe repeated between measurements allocates nothing.
   */
  public static double readGBps(float[] a, int runs) {
    int threads = Parallel.threads();
    float[] sink = new float[threads];
    double best = 0;
    for (int r = 0; r <= runs; r++) {
      long start = System.nanoTime();
      Parallel.forRange(
          threads,
          1,
          (t0, t1) -> {
            for (int t = t0; t < t1; t++)
              sink[t] +=
                  sum(
                      a,
                      (int) ((long) a.length * t / threads),
                      (int) ((long) a.length * (t + 1) / threads));
          });
      double s = (System.nanoTime() - start) / 1e9;
      if (r > 0) best = Math.max(best, 4.0 * a.length / s / 1e9);
    }
    if (Float.isNaN(sink[0])) throw new AssertionError(); // keeps the sums alive
    return best;
  }

  /**
   * Weights per second that batch-1 decode products reach with their weights in the caches: one row
   * of x against a random n × {@code k} weight of about {@code bytes} bytes in {@code format}
   * (null: float32), on {@link Parallel#threads()} threads, the best of {@code runs} runs of about
   * {@code millis} ms each after a warm-up (best: a shared machine only ever slows a run). The same
   * kernels, split over the threads the same way, as a decode step's products, with memory taken
   * out of the way: what their arithmetic and the caches allow. A few MB is the size of a published
   * model's products (a smaller weight measures the threads' hand-off more than the arithmetic) and
   * still fits a last-level cache.
   */
  public static double decodeWeightsPerSecond(
      CompactWeight.Format format, int k, long bytes, int runs, int millis) {
    if (k < 1 || bytes < 1 || runs < 1 || millis < 1)
      throw new IllegalArgumentException("k, bytes, runs and millis must be positive");
    double perWeight = format == null ? 4 : format == CompactWeight.Format.BF16 ? 2 : 1.125;
    int n = (int) Math.max(64, Math.min(1 << 20, bytes / (perWeight * k)) / 64 * 64);
    float[] f = new float[Math.multiplyExact(n, k)];
    java.util.SplittableRandom r = new java.util.SplittableRandom(0);
    for (int i = 0; i < f.length; i++) f[i] = (float) (0.02 * r.nextGaussian());
    CompactWeight w =
        format == null
            ? null
            : format == CompactWeight.Format.BF16
                ? CompactWeight.bf16(f, 0, n, k)
                : CompactWeight.int8(f, 0, n, k);
    float[] x = new float[k], y = new float[n];
    for (int i = 0; i < k; i++) x[i] = (float) r.nextGaussian();
    Runnable product =
        w == null
            ? () -> MatmulDecode.decode(y, 0, x, 0, f, 0, null, 0, 1, n, k)
            : () -> MatmulCompact.decode(y, 0, x, 0, w, null, 0, 1);
    long calls = 1;
    double best = 0;
    for (int round = -2; round < runs; round++) { // rounds -2 and -1: warm-up, calibration
      long start = System.nanoTime();
      for (long c = 0; c < calls; c++) product.run();
      double s = (System.nanoTime() - start) / 1e9;
      if (round >= 0) best = Math.max(best, (double) calls * n * k / s);
      calls = Math.max(1, (long) (calls * (millis / 1e3) / Math.max(s, 1e-6)));
    }
    if (Float.isNaN(y[0])) throw new AssertionError(); // keeps the products alive
    return best;
  }

  /** The flag two threads hand to each other in {@link #roundTripNanos}. */
  private static volatile int ball;

  /**
   * The time for a cache line to go from one core to another and back, in ns: two threads hand a
   * volatile counter to each other {@code trips} times per burst; per burst the mean round trip;
   * returns {min, median, max} over {@code bursts} bursts (NaN on one CPU). On a virtual machine it
   * says where the host has placed the vCPUs (tens of ns on one core complex, hundreds apart) and
   * how often that changes: on the development VM it moved between 30 and 650 ns within seconds,
   * which moves every split kernel's figures with it.
   */
  public static double[] roundTripNanos(int trips, int bursts) {
    if (Runtime.getRuntime().availableProcessors() < 2 || trips < 1 || bursts < 1) {
      return new double[] {Double.NaN, Double.NaN, Double.NaN};
    }
    double[] t = new double[bursts];
    Thread other =
        new Thread(
            () -> {
              for (int i = 0, n = trips * bursts; i < n; i++) {
                while (ball != 2 * i + 1) Thread.onSpinWait();
                ball = 2 * i + 2;
              }
            },
            "hnet-round-trip");
    ball = 0;
    other.setDaemon(true);
    other.start();
    for (int b = 0, i = 0; b < bursts; b++) {
      long start = System.nanoTime();
      for (int k = 0; k < trips; k++, i++) {
        ball = 2 * i + 1;
        while (ball != 2 * i + 2) Thread.onSpinWait();
      }
      t[b] = (System.nanoTime() - start) / (double) trips;
    }
    try {
      other.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    double[] sorted = t.clone();
    java.util.Arrays.sort(sorted);
    return new double[] {sorted[0], sorted[bursts / 2], sorted[bursts - 1]};
  }

  /** Σ a[from, to) with four vector accumulators (order irrelevant: the value is discarded). */
  private static float sum(float[] a, int from, int to) {
    FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
    int L = S.length(), i = from;
    for (; i + 4 * L <= to; i += 4 * L) {
      s0 = FloatVector.fromArray(S, a, i).add(s0); // fresh receivers: see Attention.softmaxRow
      s1 = FloatVector.fromArray(S, a, i + L).add(s1);
      s2 = FloatVector.fromArray(S, a, i + 2 * L).add(s2);
      s3 = FloatVector.fromArray(S, a, i + 3 * L).add(s3);
    }
    float s = s0.add(s1).add(s2).add(s3).lane(0);
    for (; i < to; i++) s += a[i];
    return s;
  }
}
