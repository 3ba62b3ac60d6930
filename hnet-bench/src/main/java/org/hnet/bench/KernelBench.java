package org.hnet.bench;

import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.hnet.kernels.Attention;
import org.hnet.kernels.AttentionBackward;
import org.hnet.kernels.AttnHeads;
import org.hnet.kernels.Conv1d;
import org.hnet.kernels.Conv1dBackward;
import org.hnet.kernels.Ops;
import org.hnet.kernels.OpsBackward;
import org.hnet.kernels.Parallel;
import org.hnet.kernels.Ssd;
import org.hnet.kernels.SsdBackward;
import org.hnet.kernels.SsdHeads;
import org.hnet.kernels.SsdRows;
import org.hnet.tensor.Rows;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The model's other kernels at the shapes of the small-1stage benchmark model (d_model 256/384,
 * Mamba-2 d_inner 512 = 8 heads × 64, d_state 32; attention 6 heads × 64 over ~450 chunks; 4 rows
 * of 1024 bytes): SSD scan and its backward, causal conv1d + SiLU and its backward, attention
 * forward/backward, RMSNorm, SwiGLU.
 *
 * <pre>
 * java --add-modules=jdk.incubator.vector -jar hnet-bench/target/benchmarks.jar KernelBench -f 1 -wi 3 -i 5 -w 1 -r 1
 * java ... KernelBench -prof gc      # allocation rate per operation
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(
    value = 1,
    jvmArgsAppend = {"--add-modules=jdk.incubator.vector"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Benchmark)
public class KernelBench {
  @Param({"2"})
  int threads;

  // Mamba-2 at d_model 256: T = 4·1024 positions in 4 sequences
  static final int T = 4096, H = 8, P = 64, N = 32, C = 512 + 2 * 32, W = 4, Q = 256;
  // attention at the inner stage: 4 sequences of ~450 chunks, 6 heads of 64
  static final int TA = 1800, HA = 6, PA = 64;

  int[] cu = {0, 1024, 2048, 3072, 4096};
  int[] cuA = {0, 450, 900, 1350, 1800};
  float[] x, dt, b, c, y, dy, dx, ddt, db, dc, dtBias, aLog, d, gH, gA, gD;
  float[] convIn, convOut, convW, convB, dConvIn, dConvW, dConvB;
  float[] qkv, attnOut, lse, dOut, dqkv;
  float[] rmsX, rmsY, rmsW, rmsDy, rmsDx, rmsDw, rmsRstd, hid, swi;
  Rows ssdY, rmsDxV, rmsDyV, rmsXV;
  SsdRows ssdIn;
  SsdHeads ssdHeads;
  Rows attnQkv, attnO, attnDout, attnDqkv;
  Rows convInRows, convOutRows, dConvInRows;
  AttnHeads attnHeads;

  @Setup
  public void setup() {
    Parallel.setThreads(threads);
    Random r = new Random(1);
    x = randn(r, T * H * P, 1);
    dt = randn(r, T * H, 1);
    for (int i = 0; i < dt.length; i++) dt[i] -= 2;
    b = randn(r, T * N, 1);
    c = randn(r, T * N, 1);
    y = new float[T * H * P];
    dy = randn(r, T * H * P, 1);
    dx = new float[T * H * P];
    ddt = new float[T * H];
    db = new float[T * N];
    dc = new float[T * N];
    dtBias = randn(r, H, 0.1f);
    aLog = randn(r, H, 0.5f);
    d = randn(r, H, 1);
    ssdY = Rows.of(y, T, H * P);
    ssdIn = new SsdRows();
    ssdIn.x.set(x, 0, T, H * P, H * P);
    ssdIn.dt.set(dt, 0, T, H, H);
    ssdIn.b.set(b, 0, T, N, N);
    ssdIn.c.set(c, 0, T, N, N);
    ssdHeads = new SsdHeads(dtBias, aLog, d, H, P, N);
    gH = new float[H];
    gA = new float[H];
    gD = new float[H];
    scanBackwardViews();
    convIn = randn(r, T * C, 1);
    convOut = new float[T * C];
    convW = randn(r, C * W, 0.5f);
    convB = randn(r, C, 0.1f);
    dConvIn = new float[T * C];
    dConvW = new float[C * W];
    dConvB = new float[C];
    convInRows = Rows.of(convIn, T, C);
    convOutRows = Rows.of(convOut, T, C);
    dConvInRows = Rows.of(dConvIn, T, C);
    qkv = randn(r, TA * 3 * HA * PA, 1);
    attnOut = new float[TA * HA * PA];
    lse = new float[TA * HA];
    dOut = randn(r, TA * HA * PA, 1);
    dqkv = new float[TA * 3 * HA * PA];
    attnQkv = Rows.of(qkv, TA, 3 * HA * PA);
    attnO = Rows.of(attnOut, TA, HA * PA);
    attnDout = Rows.of(dOut, TA, HA * PA);
    attnDqkv = Rows.of(dqkv, TA, 3 * HA * PA);
    attnHeads = new AttnHeads(HA, PA, 32, -1);
    AttentionBackward.forwardTrain(attnO, lse, attnQkv, cuA, 4, attnHeads);
    rmsX = randn(r, T * 256, 1);
    rmsY = new float[T * 256];
    rmsW = randn(r, 256, 1);
    rmsDy = randn(r, T * 256, 1);
    rmsDx = new float[T * 256];
    rmsDw = new float[256];
    rmsRstd = new float[T];
    rmsDxV = Rows.of(rmsDx, T, 256);
    rmsDyV = Rows.of(rmsDy, T, 256);
    rmsXV = Rows.of(rmsX, T, 256);
    hid = randn(r, TA * 2 * 1024, 1);
    swi = new float[TA * 1024];
  }

  static float[] randn(Random r, int n, float s) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian() * s;
    return a;
  }

  @Benchmark
  public float[] ssdScan() {
    Ssd.scan(ssdY, null, ssdIn, ssdHeads, cu, 4, Q);
    return y;
  }

  // the backward's operands as views of the arrays above
  final SsdRows bwdDIn = new SsdRows(), bwdIn = new SsdRows();
  Rows bwdDy;
  SsdHeads bwdGrads, bwdP;

  private void scanBackwardViews() {
    bwdDIn.x.set(dx, 0, T, H * P, H * P);
    bwdDIn.dt.set(ddt, 0, T, H, H);
    bwdDIn.b.set(db, 0, T, N, N);
    bwdDIn.c.set(dc, 0, T, N, N);
    bwdIn.x.set(x, 0, T, H * P, H * P);
    bwdIn.dt.set(dt, 0, T, H, H);
    bwdIn.b.set(b, 0, T, N, N);
    bwdIn.c.set(c, 0, T, N, N);
    bwdDy = Rows.of(dy, T, H * P);
    bwdGrads = new SsdHeads(gH, gA, gD, H, P, N);
    bwdP = new SsdHeads(dtBias, aLog, d, H, P, N);
  }

  @Benchmark
  public float[] ssdScanBackward() {
    SsdBackward.scanBackward(bwdDIn, bwdGrads, bwdDy, bwdIn, bwdP, cu, 4, Q);
    return dx;
  }

  @Benchmark
  public float[] conv1d() {
    Conv1d.causalSilu(convOutRows, null, convInRows, convW, convB, cu, 4, W);
    return convOut;
  }

  @Benchmark
  public float[] conv1dBackward() {
    Conv1dBackward.causalSiluBackward(
        dConvInRows, dConvW, dConvB, convOutRows, convInRows, convW, convB, cu, 4, W);
    return dConvIn;
  }

  @Benchmark
  public float[] attention() {
    Attention.forward(attnO, attnQkv, cuA, 4, attnHeads);
    return attnOut;
  }

  @Benchmark
  public float[] attentionBackward() {
    AttentionBackward.backward(attnDqkv, attnDout, attnQkv, attnO, lse, cuA, 4, attnHeads);
    return dqkv;
  }

  @Benchmark
  public float[] rmsnorm() {
    Ops.rmsnorm(rmsY, 0, 256, rmsX, 0, 256, rmsW, T, 256, 1e-5f);
    return rmsY;
  }

  /**
   * RMSNorm backward at d_model 256 over T positions: dx and the weight gradient (a sum over T).
   */
  @Benchmark
  public float[] rmsnormBackward() {
    OpsBackward.rmsnormBackward(rmsDxV, false, null, rmsDw, rmsDyV, rmsXV, rmsW, 1e-5f, rmsRstd);
    return rmsDx;
  }

  @Benchmark
  public float[] swiglu() {
    Ops.swiglu(swi, 0, hid, 0, TA, 1024);
    return swi;
  }
}
