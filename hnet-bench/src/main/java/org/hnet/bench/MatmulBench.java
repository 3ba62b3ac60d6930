package org.hnet.bench;

import java.util.Random;
import java.util.concurrent.TimeUnit;
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
 * Matrix products. Shapes are "MxKxN": x[M×K] · w[N×K]ᵀ → y[M×N]; 2·M·N·K flops per call. GFLOP/s =
 * 2·M·N·K / (time per op). {@code threads} sets {@link Parallel#setThreads}.
 *
 * <pre>
 * java --add-modules=jdk.incubator.vector -jar hnet-bench/target/benchmarks.jar MatmulBench \
 *     -f 1 -wi 3 -i 5 -w 1 -r 1
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(
    value = 1,
    jvmArgsAppend = {"--add-modules=jdk.incubator.vector"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class MatmulBench {

  /** Operands for one shape; w also packed once for {@link #linearPacked}. */
  public abstract static class Data {
    int m, k, n;
    float[] x, w, bias, y, dy, dx, dw, dbias;
    Matmul.PackedWeight packed;

    void make(String shape, int threads) {
      String[] p = shape.split("x");
      m = Integer.parseInt(p[0]);
      k = Integer.parseInt(p[1]);
      n = Integer.parseInt(p[2]);
      Parallel.setThreads(threads);
      Random r = new Random(42);
      x = random(r, m * k);
      w = random(r, n * k);
      bias = random(r, n);
      y = new float[m * n];
      dy = random(r, m * n);
      dx = new float[m * k];
      dw = new float[n * k];
      dbias = new float[n];
      packed = Matmul.pack(w, 0, n, k);
    }

    static float[] random(Random r, int len) {
      float[] a = new float[len];
      for (int i = 0; i < len; i++) a[i] = r.nextFloat() * 2 - 1;
      return a;
    }
  }

  /** Forward shapes: 1024³ and the model's (prefill and decode). */
  @State(Scope.Benchmark)
  public static class Operands extends Data {
    @Param({
      "1024x1024x1024",
      "4096x256x1096",
      "4096x384x2048",
      "4096x1024x384",
      "1x256x1096",
      "8x384x2048"
    })
    public String shape;

    @Param({"1", "2"})
    public int threads;

    @Setup(Level.Trial)
    public void setUp() {
      make(shape, threads);
    }
  }

  /** The backward products at the model's largest shape. */
  @State(Scope.Benchmark)
  public static class BackwardOperands extends Data {
    @Param({"4096x384x2048"})
    public String backwardShape;

    @Param({"1", "2"})
    public int threads;

    @Setup(Level.Trial)
    public void setUp() {
      make(backwardShape, threads);
    }
  }

  @Benchmark
  public float[] linear(Operands o) {
    Matmul.linear(o.y, 0, o.x, 0, o.w, 0, o.bias, 0, o.m, o.n, o.k);
    return o.y;
  }

  @Benchmark
  public float[] linearPacked(Operands o) {
    Matmul.linear(o.y, 0, o.x, 0, o.packed, o.bias, 0, o.m);
    return o.y;
  }

  @Benchmark
  public float[] backwardInput(BackwardOperands o) {
    Matmul.linearBackwardInput(o.dx, 0, o.dy, 0, o.w, 0, o.m, o.n, o.k, false);
    return o.dx;
  }

  @Benchmark
  public float[] backwardWeight(BackwardOperands o) {
    Matmul.linearBackwardWeight(o.dw, 0, o.dbias, 0, o.dy, 0, o.x, 0, o.m, o.n, o.k);
    return o.dw;
  }
}
