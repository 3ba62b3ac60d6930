package org.hnet.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.hnet.tensor.Rows;
import org.hnet.testing.RestoreThreads;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Dimensions: T tokens, H heads, P head dim, R rotary dims, Wn window. Values of v lie in [−1, 1],
 * so outputs are bounded by 1 and the tolerances below are relative to that scale.
 */
@ExtendWith(RestoreThreads.class)
class AttentionTest {
  private static final double TOL = 2e-6;

  /**
   * Allowed |fast − naive| with v in [−1, 1]: 1e-6, plus the float32 rounding of scores of size
   * maxScore (a score error δ moves the output by up to about δ·max|v|; both sides make one).
   */
  static double tolerance(double maxScore) {
    return 1e-6 + 2 * Math.ulp((float) maxScore);
  }

  /** Random packing of T tokens into sequences of mixed lengths, including 1 and sometimes 0. */
  static int[] packing(Random rnd, int T) {
    List<Integer> cu = new ArrayList<>();
    cu.add(0);
    int at = 0;
    while (at < T) {
      int len =
          switch (rnd.nextInt(4)) {
            case 0 -> 1;
            case 1 -> 1 + rnd.nextInt(5);
            default -> 1 + rnd.nextInt(Math.max(1, T));
          };
      at = Math.min(T, at + len);
      cu.add(at);
      if (rnd.nextInt(8) == 0) cu.add(at); // an empty sequence
    }
    return cu.stream().mapToInt(Integer::intValue).toArray();
  }

  /** The output view of a forward: [T × HP] at off, rows HP apart; T = the last of cu. */
  static Rows outRows(float[] out, int off, int[] cu, AttnHeads a) {
    int HP = a.heads() * a.headDim();
    return new Rows(out, off, cu[cu.length - 1], HP, HP);
  }

  /** The qkv view of a forward: [T × 3HP] at off, rows stride apart; T = the last of cu. */
  static Rows qkvRows(float[] qkv, int off, int stride, int[] cu, AttnHeads a) {
    return new Rows(qkv, off, cu[cu.length - 1], 3 * a.heads() * a.headDim(), stride);
  }

  static float[] randomQkv(Random rnd, int n, float qkScale) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) a[i] = (rnd.nextFloat() * 2 - 1) * qkScale;
    return a;
  }

  /** Max |a − b| over [off, off + n). */
  static double maxDiff(float[] a, float[] b, int off, int n) {
    double d = 0;
    for (int i = off; i < off + n; i++) {
      double e = Math.abs((double) a[i] - b[i]);
      if (Double.isNaN(e)) return Double.POSITIVE_INFINITY;
      d = Math.max(d, e);
    }
    return d;
  }

  /**
   * The specification evaluated in double after the float32 rotary (whose rounding is part of the
   * spec): tells how much of a fast–naive difference is the naive's own float32 rounding. The extra
   * last element is max |score|.
   */
  static double[] forwardDouble(
      float[] qkv, int qOff, int stride, int[] cu, int H, int P, int R, int w) {
    int HP = H * P, T = cu[cu.length - 1];
    double[] out = new double[T * HP + 1];
    double scale = Attention.scale(P);
    for (int sq = 0; sq + 1 < cu.length; sq++) {
      int s0 = cu[sq], len = cu[sq + 1] - s0;
      float[][] tab = Rotary.tables(len, R);
      float[] qr = new float[len * HP], kr = new float[len * HP];
      for (int t = 0; t < len; t++) {
        System.arraycopy(qkv, qOff + (s0 + t) * stride, qr, t * HP, HP);
        System.arraycopy(qkv, qOff + (s0 + t) * stride + HP, kr, t * HP, HP);
        Rotary.apply(qr, t * HP, H, P, R, t, tab[0], tab[1]);
        Rotary.apply(kr, t * HP, H, P, R, t, tab[0], tab[1]);
      }
      double[] p = new double[len];
      for (int h = 0; h < H; h++) {
        for (int i = 0; i < len; i++) {
          int lo = w < 0 ? 0 : Math.max(0, i - w);
          double mx = Double.NEGATIVE_INFINITY, z = 0;
          for (int j = lo; j <= i; j++) {
            double d = 0;
            for (int c = 0; c < P; c++)
              d += (double) qr[i * HP + h * P + c] * kr[j * HP + h * P + c];
            p[j] = d * scale;
            mx = Math.max(mx, p[j]);
            out[T * HP] = Math.max(out[T * HP], Math.abs(p[j]));
          }
          for (int j = lo; j <= i; j++) z += p[j] = Math.exp(p[j] - mx);
          for (int c = 0; c < P; c++) {
            double o = 0;
            for (int j = lo; j <= i; j++)
              o += p[j] / z * qkv[qOff + (s0 + j) * stride + 2 * HP + h * P + c];
            out[(s0 + i) * HP + h * P + c] = o;
          }
        }
      }
    }
    return out;
  }

  @Test
  void softmaxExpIsAccurateAndVectorEqualsScalar() {
    Random rnd = new Random(10);
    int L = Attention.L;
    float[] x = new float[1 << 16], y = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      x[i] =
          switch (i % 4) {
            case 0 -> -rnd.nextFloat() * 90f;
            case 1 -> -rnd.nextFloat();
            case 2 -> -rnd.nextFloat() * 1e-6f;
            default -> -(float) (i % 200) * 0.5f;
          };
    }
    x[0] = 0f;
    x[1] = Float.NEGATIVE_INFINITY;
    x[2] = -1e30f;
    x[3] = AttentionMath.MIN_ARG;
    for (int i = 0; i < x.length; i += L) {
      AttentionMath.exp(jdk.incubator.vector.FloatVector.fromArray(Attention.SPECIES, x, i))
          .intoArray(y, i);
    }
    double worstUlp = 0;
    for (int i = 0; i < x.length; i++) {
      assertEquals(
          Float.floatToRawIntBits(AttentionMath.exp(x[i])),
          Float.floatToRawIntBits(y[i]),
          "x=" + x[i]);
      double e = Math.exp(x[i]);
      if (x[i] < AttentionMath.MIN_ARG) {
        assertEquals(0f, y[i]);
        continue;
      }
      worstUlp = Math.max(worstUlp, Math.abs(y[i] - e) / Math.ulp((float) e));
    }
    assertEquals(1f, AttentionMath.exp(0f));
    assertTrue(worstUlp <= 2, "exp error " + worstUlp + " ulp");
    System.out.printf("AttentionMath.exp: max error %.3f ulp vs Math.exp%n", worstUlp);
  }

  @Test
  void naiveMatchesHandComputedTinyCase() {
    // T=2, H=1, P=2, R=2. Row: q | k | v.
    float[] qkv = {1, 0, 1, 0, 1, 2, /* t=1 */ 0, 1, 1, 1, 3, -1};
    float[] out = new float[4];
    Rows ov = Rows.of(out, 2, 2), qv = Rows.of(qkv, 2, 6);
    Attention.forwardNaive(ov, qv, new int[] {0, 2}, 1, new AttnHeads(1, 2, 2, -1));
    // t=0: angle 0, only itself visible.
    assertEquals(1f, out[0]);
    assertEquals(2f, out[1]);
    // t=1: inv_freq = 1, angle 1. q=(0,1) → (−sin1, cos1); k1=(1,1) → (cos1 − sin1, cos1 + sin1).
    double c = Math.cos(1), s = Math.sin(1), sc = 1 / Math.sqrt(2);
    double s0 = (-s * 1 + c * 0) * sc; // · k0 = (1, 0)
    double s1 = (-s * (c - s) + c * (c + s)) * sc; // = 1/√2
    double e0 = Math.exp(s0 - s1), e1 = 1, z = e0 + e1;
    assertEquals((e0 * 1 + e1 * 3) / z, out[2], 1e-6);
    assertEquals((e0 * 2 + e1 * -1) / z, out[3], 1e-6);
    // Without rotary: scores q1·k0 = 0, q1·k1 = 1/√2.
    Attention.forwardNaive(ov, qv, new int[] {0, 2}, 1, new AttnHeads(1, 2, 0, -1));
    double f0 = Math.exp(-sc);
    assertEquals((f0 * 1 + 3) / (f0 + 1), out[2], 1e-6);
    assertEquals((f0 * 2 - 1) / (f0 + 1), out[3], 1e-6);
    // Window 0: each token sees only itself.
    Attention.forwardNaive(ov, qv, new int[] {0, 2}, 1, new AttnHeads(1, 2, 2, 0));
    assertArrayEquals(new float[] {1, 2, 3, -1}, out);
  }

  @Test
  void forwardMatchesNaiveOverSweep() {
    double worst = 0;
    String worstCase = "";
    double worstFast = 0, worstNaive = 0;
    int cases = 0;
    Random rnd = new Random(11);
    for (int T : new int[] {0, 1, 2, 3, 17, 64, 130}) {
      for (int H : new int[] {1, 2, 4}) {
        for (int P : new int[] {1, 8, 16, 24, 64}) {
          for (int R : new int[] {0, 2, 8, P}) {
            if (R > P || (R & 1) != 0 || (R == P && R != 0 && P <= 8 && R != 8 && R != 2)) continue;
            for (int w : new int[] {-1, 0, 1, 5, 64}) {
              int[] cu = packing(rnd, T);
              int nSeq = cu.length - 1;
              int HP = H * P,
                  stride = 3 * HP + rnd.nextInt(3) * 5,
                  qOff = rnd.nextInt(9),
                  oOff = rnd.nextInt(9);
              float[] qkv = randomQkv(rnd, qOff + T * stride + 3, 1f);
              // Scale q and k up so some softmaxes are peaked (v stays in [−1, 1]).
              float qk = 1 + 3 * rnd.nextFloat();
              for (int t = 0; t < T; t++)
                for (int k = 0; k < 2 * HP; k++) qkv[qOff + t * stride + k] *= qk;
              float[] before = qkv.clone();
              AttnHeads a = new AttnHeads(H, P, R, w);
              Rows qv = qkvRows(qkv, qOff, stride, cu, a);
              float[] ref = new float[oOff + T * HP + 2];
              Attention.forwardNaive(outRows(ref, oOff, cu, a), qv, cu, nSeq, a);
              float[] got1 = new float[ref.length];
              Parallel.setThreads(1);
              Attention.forward(outRows(got1, oOff, cu, a), qv, cu, nSeq, a);
              float[] got2 = new float[ref.length];
              Parallel.setThreads(2);
              Attention.forward(outRows(got2, oOff, cu, a), qv, cu, nSeq, a);
              String what =
                  "T="
                      + T
                      + " H="
                      + H
                      + " P="
                      + P
                      + " R="
                      + R
                      + " w="
                      + w
                      + " cu="
                      + Arrays.toString(cu);
              assertArrayEquals(before, qkv, "qkv modified: " + what);
              assertArrayEquals(got1, got2, "thread count changed the result: " + what);
              double[] exact = forwardDouble(qkv, qOff, stride, cu, H, P, R, w);
              double tol = tolerance(exact[T * HP]);
              double d = maxDiff(ref, got1, 0, ref.length);
              assertTrue(d <= tol, "diff " + d + " for " + what);
              double eFast = 0, eNaive = 0;
              for (int k = 0; k < T * HP; k++) {
                eFast = Math.max(eFast, Math.abs(got1[oOff + k] - exact[k]));
                eNaive = Math.max(eNaive, Math.abs(ref[oOff + k] - exact[k]));
              }
              // Both deviate from exact math by the float32 rounding of scores (|s| reaches ~10
              // here, ulp(10) ≈ 1e-6); the fast kernel must stay within the same bound.
              assertTrue(eFast <= tol, "fast err " + eFast + " naive err " + eNaive + " " + what);
              worstFast = Math.max(worstFast, eFast);
              worstNaive = Math.max(worstNaive, eNaive);
              if (d > worst) worstCase = what + " qk=" + qk;
              worst = Math.max(worst, d);
              cases++;
            }
          }
        }
      }
    }
    System.out.printf(
        "Attention.forward vs naive: %d cases, max |diff| = %.3g (%s)%n", cases, worst, worstCase);
    System.out.printf("  vs double: fast %.3g, naive %.3g%n", worstFast, worstNaive);
  }

  @Test
  void forwardLongSequencesAndManyThreads() {
    // Several key and query blocks, windows crossing block edges, 3 threads splitting mid-head.
    Random rnd = new Random(12);
    double worst = 0;
    for (int[] c :
        new int[][] {{2, 32, 16, -1}, {4, 16, 16, 37}, {1, 128, 32, 200}, {3, 24, 8, 63}}) {
      int H = c[0], P = c[1], R = c[2], w = c[3], HP = H * P, T = 700;
      int[] cu = {0, 300, 301, 520, 700};
      float[] qkv = randomQkv(rnd, T * 3 * HP, 2f);
      for (int t = 0; t < T; t++) for (int k = 2 * HP; k < 3 * HP; k++) qkv[t * 3 * HP + k] *= 0.5f;
      float[] ref = new float[T * HP], got = new float[T * HP], got1 = new float[T * HP];
      AttnHeads a = new AttnHeads(H, P, R, w);
      Rows qv = Rows.of(qkv, T, 3 * HP);
      Attention.forwardNaive(Rows.of(ref, T, HP), qv, cu, 4, a);
      Parallel.setThreads(3);
      Attention.forward(Rows.of(got, T, HP), qv, cu, 4, a);
      Parallel.setThreads(1);
      Attention.forward(Rows.of(got1, T, HP), qv, cu, 4, a);
      assertArrayEquals(got1, got);
      double d = maxDiff(ref, got, 0, ref.length);
      assertTrue(d <= TOL, "diff " + d + " for " + Arrays.toString(c));
      worst = Math.max(worst, d);
    }
    System.out.printf("Attention.forward long sequences: max |diff| = %.3g%n", worst);
  }

  @Test
  void packedEqualsEachSequenceAlone() {
    Random rnd = new Random(13);
    int H = 2, P = 24, R = 8, HP = H * P, stride = 3 * HP;
    int[] cu = {0, 1, 45, 45, 46, 150};
    int T = cu[cu.length - 1];
    float[] qkv = randomQkv(rnd, T * stride, 1.5f);
    for (int w : new int[] {-1, 3}) {
      AttnHeads a = new AttnHeads(H, P, R, w);
      float[] packed = new float[T * HP];
      Attention.forward(Rows.of(packed, T, HP), Rows.of(qkv, T, stride), cu, cu.length - 1, a);
      for (int sq = 0; sq + 1 < cu.length; sq++) {
        int len = cu[sq + 1] - cu[sq];
        float[] alone = new float[len * HP];
        float[] sub = Arrays.copyOfRange(qkv, cu[sq] * stride, cu[sq + 1] * stride);
        Attention.forward(
            Rows.of(alone, len, HP), Rows.of(sub, len, stride), new int[] {0, len}, 1, a);
        assertArrayEquals(
            alone, Arrays.copyOfRange(packed, cu[sq] * HP, cu[sq + 1] * HP), "seq " + sq);
      }
    }
  }

  /**
   * out rows need not be HP apart: the forward (and the training forward) write them at the view's
   * stride, bitwise as dense rows, and leave the columns between them alone.
   */
  @Test
  void forwardWritesOutAtItsStride() {
    Random rnd = new Random(16);
    int H = 2, P = 16, R = 8, HP = H * P, T = 90, pad = 5, off = 3;
    int[] cu = {0, 40, T};
    AttnHeads a = new AttnHeads(H, P, R, 17);
    Rows qv = Rows.of(randomQkv(rnd, T * 3 * HP, 2f), T, 3 * HP);
    float[] dense = new float[T * HP], lse = new float[T * H], lseWide = new float[T * H];
    Attention.forward(Rows.of(dense, T, HP), qv, cu, 2, a);
    for (int train = 0; train < 2; train++) {
      float[] wide = new float[off + T * (HP + pad)];
      Arrays.fill(wide, Float.NaN);
      Rows wv = new Rows(wide, off, T, HP, HP + pad);
      if (train == 0) Attention.forward(wv, qv, cu, 2, a);
      else {
        AttentionBackward.forwardTrain(Rows.of(new float[T * HP], T, HP), lse, qv, cu, 2, a);
        AttentionBackward.forwardTrain(wv, lseWide, qv, cu, 2, a);
        assertArrayEquals(lse, lseWide);
      }
      for (int t = 0; t < T; t++) {
        int at = off + t * (HP + pad);
        assertArrayEquals(
            Arrays.copyOfRange(dense, t * HP, t * HP + HP), Arrays.copyOfRange(wide, at, at + HP));
        for (int c = 0; c < pad && at + HP + c < wide.length; c++) {
          assertTrue(Float.isNaN(wide[at + HP + c]), "padding written");
        }
      }
    }
  }

  @Test
  void stepAfterEveryPrefillReproducesNaive() {
    Random rnd = new Random(14);
    double worst = 0;
    int[][] configs = {{1, 8, 8}, {2, 16, 8}, {2, 24, 24}, {1, 1, 0}, {3, 64, 16}};
    for (int[] cfg : configs) {
      int H = cfg[0], P = cfg[1], R = cfg[2], HP = H * P, stride = 3 * HP;
      for (int w : new int[] {-1, 0, 1, 5, 11}) { // 11: blocks of 8 scores that wrap the ring
        AttnHeads a = new AttnHeads(H, P, R, w);
        int rows = 4;
        int[] lens = {23, 9, 30, 12}; // row 3 stays inactive throughout
        int nMax = 30, cap = w < 0 ? nMax : w + 1;
        float[][] seq = new float[rows][];
        float[][] ref = new float[rows][];
        for (int r = 0; r < rows; r++) {
          seq[r] = randomQkv(rnd, lens[r] * stride, 2f);
          ref[r] = new float[lens[r] * HP];
          Attention.forwardNaive(
              Rows.of(ref[r], lens[r], HP),
              Rows.of(seq[r], lens[r], stride),
              new int[] {0, lens[r]},
              1,
              a);
        }
        for (int k = 0; k <= nMax; k++) {
          float[] cache = new float[rows * cap * 2 * HP];
          Arrays.fill(cache, Float.NaN); // never-written slots must never be read
          int[] pos = new int[rows];
          for (int r = 0; r < rows; r++) {
            pos[r] = (k + 7 * r) % (lens[r] + 1); // rows at different positions
            Rows sv = Rows.of(seq[r], lens[r], stride);
            AttentionStep.fillCache(cache, r, cap, sv, 0, pos[r], a);
          }
          float[] row3Cache = Arrays.copyOfRange(cache, 3 * cap * 2 * HP, 4 * cap * 2 * HP);
          while (true) {
            boolean[] active = new boolean[rows];
            boolean any = false;
            float[] qkv = new float[rows * stride];
            for (int r = 0; r < 3; r++) {
              active[r] = pos[r] < lens[r];
              if (active[r]) System.arraycopy(seq[r], pos[r] * stride, qkv, r * stride, stride);
              any |= active[r];
            }
            if (!any) break;
            float[] out = new float[rows * HP];
            Arrays.fill(out, -7f);
            AttentionStep.step(out, qkv, cache, cap, pos, active, rows, a);
            for (int r = 0; r < rows; r++) {
              if (!active[r]) {
                for (int c = 0; c < HP; c++)
                  assertEquals(-7f, out[r * HP + c], "inactive row written");
                continue;
              }
              double d = 0;
              for (int c = 0; c < HP; c++) {
                d = Math.max(d, Math.abs(out[r * HP + c] - ref[r][pos[r] * HP + c]));
              }
              assertTrue(
                  d <= TOL,
                  "step diff "
                      + d
                      + " H="
                      + H
                      + " P="
                      + P
                      + " R="
                      + R
                      + " w="
                      + w
                      + " k="
                      + k
                      + " row="
                      + r
                      + " pos="
                      + pos[r]);
              worst = Math.max(worst, d);
              pos[r]++;
            }
          }
          assertArrayEquals(
              row3Cache, Arrays.copyOfRange(cache, 3 * cap * 2 * HP, 4 * cap * 2 * HP));
        }
      }
    }
    System.out.printf("AttentionStep.step vs naive: max |diff| = %.3g%n", worst);
  }

  @Test
  void stepSplitsHeadsAcrossThreadsWithoutChangingBits() {
    // One active row and 4 threads: heads are split in groups; results must not depend on it.
    Random rnd = new Random(15);
    int H = 5, P = 24, R = 8, HP = H * P, stride = 3 * HP, len = 40;
    for (int w : new int[] {-1, 6}) {
      int cap = w < 0 ? len : w + 1;
      AttnHeads a = new AttnHeads(H, P, R, w);
      float[] seq = randomQkv(rnd, len * stride, 2f);
      float[] ref = new float[len * HP];
      Rows sv = Rows.of(seq, len, stride);
      Attention.forwardNaive(Rows.of(ref, len, HP), sv, new int[] {0, len}, 1, a);
      float[][] outs = new float[2][];
      float[][] caches = new float[2][];
      for (int variant = 0; variant < 2; variant++) {
        Parallel.setThreads(variant == 0 ? 1 : 4);
        float[] cache = new float[2 * cap * 2 * HP];
        AttentionStep.fillCache(cache, 1, cap, sv, 0, 10, a);
        float[] all = new float[len * HP];
        for (int p = 10; p < len; p++) {
          float[] qkv = new float[2 * stride];
          System.arraycopy(seq, p * stride, qkv, stride, stride);
          float[] out = new float[2 * HP];
          AttentionStep.step(
              out, qkv, cache, cap, new int[] {0, p}, new boolean[] {false, true}, 2, a);
          System.arraycopy(out, HP, all, p * HP, HP);
        }
        outs[variant] = all;
        caches[variant] = cache;
        double d =
            maxDiff(
                Arrays.copyOfRange(ref, 10 * HP, len * HP),
                Arrays.copyOfRange(all, 10 * HP, len * HP),
                0,
                (len - 10) * HP);
        assertTrue(d <= TOL, "step diff " + d + " w=" + w);
      }
      assertArrayEquals(outs[0], outs[1]);
      assertArrayEquals(caches[0], caches[1]);
    }
  }

  /**
   * The step counts the cached keys and values it reads: 8 bytes per head dimension and attended
   * position of each active row.
   */
  @Test
  void stepCountsTheKeysAndValuesItReads() {
    int H = 2, P = 8, R = 0, HP = H * P, cap = 6, window = 3;
    float[] cache = new float[3 * 2 * cap * HP],
        qkv = randomQkv(new Random(3), 3 * 3 * HP, 1f),
        out = new float[3 * HP];
    long before = Attention.kvBytesRead();
    // rows at positions 4 (window 3: attends to 4 positions), 1 (2 positions) and 5 (inactive)
    AttentionStep.step(
        out,
        qkv,
        cache,
        cap,
        new int[] {4, 1, 5},
        new boolean[] {true, true, false},
        3,
        new AttnHeads(H, P, R, window));
    assertEquals(8L * HP * (4 + 2), Attention.kvBytesRead() - before);
    before = Attention.kvBytesRead();
    AttentionStep.step(
        out,
        qkv,
        cache,
        cap,
        new int[] {4, 1, 5},
        new boolean[] {false, true, true},
        3,
        new AttnHeads(H, P, R, -1));
    assertEquals(
        8L * HP * (2 + 6),
        Attention.kvBytesRead() - before,
        "global attention: every position so far");
  }

  @Test
  void fillCacheKeepsTheLastCapPositionsInRingOrder() {
    int H = 2, P = 2, R = 0, stride = 12, len = 7, cap = 3, rowSize = 2 * H * cap * P;
    float[] qkv = new float[2 * stride + len * stride];
    for (int t = 0; t < len; t++) {
      for (int c = 0; c < stride; c++)
        qkv[(2 + t) * stride + c] = 100 * t + c; // q | k heads 0, 1 | v heads 0, 1
    }
    float[] cache = new float[2 * rowSize];
    Rows qv = Rows.of(qkv, 2 + len, stride);
    AttentionStep.fillCache(cache, 1, cap, qv, 2, len, new AttnHeads(H, P, R, -1));
    // row 1 = keys of head 0, of head 1, values of head 0, of head 1, each a ring of cap slots of
    // P: positions 4, 5, 6 in slots 1, 2, 0; row 0 untouched.
    for (int c = 0; c < rowSize; c++) assertEquals(0f, cache[c]);
    int[] slotPos = {6, 4, 5};
    for (int kv = 0; kv < 2; kv++) {
      for (int h = 0; h < H; h++) {
        for (int s = 0; s < cap; s++) {
          int b = rowSize + ((kv * H + h) * cap + s) * P, c = 4 + 4 * kv + 2 * h, t = slotPos[s];
          assertArrayEquals(
              new float[] {100 * t + c, 100 * t + c + 1},
              Arrays.copyOfRange(cache, b, b + P),
              (kv == 0 ? "key" : "value") + " of head " + h + " in slot " + s);
        }
      }
    }
  }

  @Test
  void rejectsBadArguments() {
    float[] qkv = new float[12], out = new float[4], cache = new float[16];
    int[] cu = {0, 2};
    Rows ov = Rows.of(out, 2, 2), qv = Rows.of(qkv, 2, 6);
    AttnHeads a = new AttnHeads(1, 2, 0, -1);
    assertThrows(IllegalArgumentException.class, () -> new AttnHeads(1, 2, 1, -1)); // odd rotary
    assertThrows(IllegalArgumentException.class, () -> new AttnHeads(1, 2, 0, -2)); // window
    assertThrows( // qkv rows narrower than 3HP
        IllegalArgumentException.class,
        () -> Attention.forward(ov, new Rows(qkv, 0, 2, 5, 5), cu, 1, a));
    assertThrows( // fewer rows than tokens
        IllegalArgumentException.class, () -> Attention.forward(Rows.of(out, 1, 2), qv, cu, 1, a));
    assertThrows( // cuSeqlens not starting at 0
        IllegalArgumentException.class, () -> Attention.forward(ov, qv, new int[] {1, 2}, 1, a));
    assertThrows(
        IllegalArgumentException.class,
        () -> Attention.forwardNaive(ov, Rows.of(qkv, 1, 6), cu, 1, a));
    assertThrows( // cap < window + 1
        IllegalArgumentException.class,
        () ->
            AttentionStep.step(
                out,
                qkv,
                cache,
                2,
                new int[] {0},
                new boolean[] {true},
                1,
                new AttnHeads(1, 2, 0, 2)));
    assertThrows( // global cache full
        IllegalArgumentException.class,
        () -> AttentionStep.step(out, qkv, cache, 2, new int[] {2}, new boolean[] {true}, 1, a));
    assertThrows( // the sequence ends past qkv's rows
        IllegalArgumentException.class, () -> AttentionStep.fillCache(cache, 0, 2, qv, 1, 2, a));
  }
}
