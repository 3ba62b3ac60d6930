package org.hnet.bench;

import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.hnet.kernels.CompactWeight;
import org.hnet.kernels.Matmul;
import org.hnet.kernels.Parallel;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Decode products (the streaming path) with a weight of 40,960 × 1,536 in float32, bf16 or int8:
 * 251.7 MB, 125.8 MB or 70.8 MB, far beyond the caches, so each call streams its weight from
 * memory. Bytes/s of weight = {@code bytes} (printed by the set-up) / the time per call; compare
 * the formats with each other and with the memory bandwidth {@code hnet bench} measures on the same
 * machine, in the same session.
 *
 * <pre>
 * java --add-modules=jdk.incubator.vector -jar hnet-bench/target/benchmarks.jar CompactDecodeBench \
 *     -f 1 -wi 3 -i 5 -w 1 -r 1
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(
    value = 1,
    jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx3g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class CompactDecodeBench {
  static final int N = 40_960, K = 1_536;

  /** One weight in one format, and x for {@code rows} rows. */
  @State(Scope.Benchmark)
  public static class Operands {
    @Param({"f32", "bf16", "int8"})
    public String weights;

    @Param({"1", "8"})
    public int rows;

    @Param({"2"})
    public int threads;

    float[] x, y, w;
    CompactWeight c;

    @Setup(Level.Trial)
    public void setUp() {
      Parallel.setThreads(threads);
      Random r = new Random(7);
      x = new float[rows * K];
      for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
      y = new float[rows * N];
      float[] f = new float[N * K];
      for (int i = 0; i < f.length; i++) f[i] = (float) r.nextGaussian() * 0.02f;
      long bytes = 4L * N * K;
      switch (weights) {
        case "f32" -> w = f;
        case "bf16" -> c = CompactWeight.bf16(f, 0, N, K);
        case "int8" -> c = CompactWeight.int8(f, 0, N, K);
        default -> throw new IllegalArgumentException("weights " + weights);
      }
      if (c != null) bytes = c.bytes();
      System.out.printf("%n%s: %d bytes of weight per call%n", weights, bytes);
    }
  }

  @Benchmark
  public float[] decode(Operands o) {
    if (o.c == null) Matmul.linearDecode(o.y, 0, o.x, 0, o.w, 0, null, 0, o.rows, N, K);
    else Matmul.linearDecode(o.y, 0, o.x, 0, o.c, null, 0, o.rows);
    return o.y;
  }
}
