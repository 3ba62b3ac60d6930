package org.hnet.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.hnet.tensor.Rows;
import org.hnet.testing.RestoreThreads;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Ssd.scan (chunked) against SsdNaive.scan (the recurrence), and SsdStep.step against both. */
@ExtendWith(RestoreThreads.class)
class SsdTest {
  static final double TOL = 1e-5; // max |scan - naive| / max |naive|
  static double worstSweep, worstSweepState, worstExtreme, worstLarge, worstStep;

  @AfterAll
  static void report() {
    System.out.printf(
        "SsdTest max rel diff: sweep y %.3g, sweep final states %.3g, extreme %.3g,"
            + " large %.3g, step %.3g%n",
        worstSweep, worstSweepState, worstExtreme, worstLarge, worstStep);
  }

  /**
   * One problem in Mamba2's zxbcdt row layout when {@code interleaved}: per token a row [z (H·P,
   * NaN: must never be read) | x (H·P) | B (N) | C (N) | dt (H)] after a 3-float prefix; otherwise
   * separate contiguous arrays. y goes to a strided buffer whose gaps hold NaN.
   */
  static final class Case {
    final int T, H, P, N, nSeq;
    final int[] cu;
    final float[] row, xs, dts, bs, cs; // the buffers (row shared when interleaved)
    final int xOff, xStride, dtOff, dtStride, bOff, bStride, cOff, cStride;
    final float[] dtBias, aLog, d;
    final int yOff = 2, yStride;

    Case(
        int[] cu, int H, int P, int N, boolean interleaved, Random r, double dtMean, double dtStd) {
      this.cu = cu;
      this.nSeq = cu.length - 1;
      this.T = cu[nSeq];
      this.H = H;
      this.P = P;
      this.N = N;
      int hp = H * P;
      if (interleaved) {
        int stride = 2 * hp + 2 * N + H;
        row = new float[3 + T * stride];
        Arrays.fill(row, Float.NaN);
        xOff = 3 + hp;
        bOff = xOff + hp;
        cOff = bOff + N;
        dtOff = cOff + N;
        xStride = bStride = cStride = dtStride = stride;
        xs = dts = bs = cs = row;
      } else {
        row = null;
        xs = new float[T * hp];
        bs = new float[T * N];
        cs = new float[T * N];
        dts = new float[T * H];
        xOff = bOff = cOff = dtOff = 0;
        xStride = hp;
        bStride = N;
        cStride = N;
        dtStride = H;
      }
      for (int t = 0; t < T; t++) {
        for (int i = 0; i < hp; i++) xs[xOff + t * xStride + i] = (float) r.nextGaussian();
        for (int n = 0; n < N; n++) bs[bOff + t * bStride + n] = (float) r.nextGaussian();
        for (int n = 0; n < N; n++) cs[cOff + t * cStride + n] = (float) r.nextGaussian();
        for (int h = 0; h < H; h++) {
          dts[dtOff + t * dtStride + h] = (float) (dtMean + dtStd * r.nextGaussian());
        }
      }
      dtBias = new float[H];
      aLog = new float[H];
      d = new float[H];
      for (int h = 0; h < H; h++) {
        dtBias[h] = (float) (0.1 * r.nextGaussian());
        aLog[h] = (float) (2.8 * r.nextDouble());
        d[h] = (float) r.nextGaussian();
      }
      yStride = hp + 3;
    }

    float[] newY() {
      float[] y = new float[yOff + T * yStride + 1];
      Arrays.fill(y, Float.NaN);
      return y;
    }

    float[] newStates() {
      return new float[nSeq * H * P * N];
    }

    /** The operand views of tokens [t0, t0 + n). */
    SsdRows in(int t0, int n) {
      SsdRows in = new SsdRows();
      in.x.set(xs, xOff + t0 * xStride, n, H * P, xStride);
      in.dt.set(dts, dtOff + t0 * dtStride, n, H, dtStride);
      in.b.set(bs, bOff + t0 * bStride, n, N, bStride);
      in.c.set(cs, cOff + t0 * cStride, n, N, cStride);
      return in;
    }

    SsdHeads heads() {
      return new SsdHeads(dtBias, aLog, d, H, P, N);
    }

    Rows yView(float[] y) {
      return new Rows(y, yOff, T, H * P, yStride);
    }

    void scan(float[] y, float[] fs, int chunk) {
      Ssd.scan(yView(y), fs, in(0, T), heads(), cu, nSeq, chunk);
    }

    void naive(float[] y, float[] fs) {
      SsdNaive.scan(yView(y), fs, in(0, T), heads(), cu, nSeq, 1);
    }

    /** max |a - b| / max |b| over the y elements; also checks the gaps kept their NaN. */
    double relDiff(float[] a, float[] b) {
      double maxDiff = 0, maxRef = 1e-30;
      for (int t = 0; t < T; t++) {
        for (int i = 0; i < yStride; i++) {
          int at = yOff + t * yStride + i;
          if (i >= H * P) {
            assertTrue(Float.isNaN(a[at]), "gap written at t=" + t + " i=" + i);
            continue;
          }
          assertTrue(Float.isFinite(a[at]), "non-finite y at t=" + t + " i=" + i);
          maxDiff = Math.max(maxDiff, Math.abs(a[at] - b[at]));
          maxRef = Math.max(maxRef, Math.abs(b[at]));
        }
      }
      return maxDiff / maxRef;
    }
  }

  /**
   * Sequence boundaries for T tokens: 0 one sequence, 1 random lengths with many 1s, 2 also
   * empties.
   */
  static int[] segments(int T, int variant, Random r) {
    List<Integer> cu = new ArrayList<>(List.of(0));
    int at = 0;
    if (variant == 0) {
      if (T > 0) cu.add(T);
    } else {
      while (at < T) {
        if (variant == 2 && r.nextInt(4) == 0) cu.add(at); // an empty sequence
        int len = r.nextInt(3) == 0 ? 1 : 1 + r.nextInt(Math.max(1, Math.min(T - at, 70)));
        at = Math.min(T, at + len);
        cu.add(at);
      }
      if (variant == 2) cu.add(T);
    }
    if (cu.size() == 1) cu.add(0); // T == 0: one empty sequence
    return cu.stream().mapToInt(Integer::intValue).toArray();
  }

  /** Views of dense [T × H·P], [T × H], [T × N], [T × N] arrays. */
  static SsdRows dense(float[] x, float[] dt, float[] b, float[] c, int T, int H, int P, int N) {
    SsdRows in = new SsdRows();
    in.x.set(x, 0, T, H * P, H * P);
    in.dt.set(dt, 0, T, H, H);
    in.b.set(b, 0, T, N, N);
    in.c.set(c, 0, T, N, N);
    return in;
  }

  static double relDiff(float[] a, float[] b) {
    double maxDiff = 0, maxRef = 1e-30;
    for (int i = 0; i < a.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
      maxRef = Math.max(maxRef, Math.abs(b[i]));
    }
    return maxDiff / maxRef;
  }

  @Test
  void naiveMatchesHandComputedTwoTokens() {
    // H=1, P=2, N=2. dtRaw + dtBias = 0 → dt = ln 2; A_log = 0 → A = -1 → dA = 1/2; D = 1/2.
    float[] x = {1, 2, 3, -1}, dt = {0.5f, 0.5f}, b = {1, 0, 0, 2}, c = {1, 1, 2, -1};
    float[] y = new float[4], fs = new float[4];
    SsdNaive.scan(
        Rows.of(y, 2, 2),
        fs,
        dense(x, dt, b, c, 2, 1, 2, 2),
        new SsdHeads(new float[] {-0.5f}, new float[] {0}, new float[] {0.5f}, 1, 2, 2),
        new int[] {0, 2},
        1,
        1);
    double l = Math.log(2);
    // S1 = l[[1,0],[2,0]], y1 = S1 C1 + D x1 = l[1,2] + [0.5,1]
    // S2 = S1/2 + l x2 ⊗ B2 = l[[0.5,6],[1,-2]], y2 = l[0.5*2-6, 2+2] + [1.5,-0.5]
    double[] want = {l + 0.5, 2 * l + 1, -5 * l + 1.5, 4 * l - 0.5};
    double[] wantS = {0.5 * l, 6 * l, l, -2 * l};
    for (int i = 0; i < 4; i++) {
      assertEquals(want[i], y[i], 1e-6, "y" + i);
      assertEquals(wantS[i], fs[i], 1e-6, "S" + i);
    }
    // Above the softplus threshold dt = dtRaw + dtBias exactly: dt = 25, A = -e, dA = e^-25e ≈ 0.
    float[] y1 = new float[2];
    SsdNaive.scan(
        Rows.of(y1, 2, 1),
        null,
        dense(
            new float[] {2, 1},
            new float[] {24, 24},
            new float[] {3, 1},
            new float[] {1, 4},
            2,
            1,
            1,
            1),
        new SsdHeads(new float[] {1}, new float[] {1}, new float[] {0}, 1, 1, 1),
        new int[] {0, 2},
        1,
        1);
    assertEquals(25 * 2 * 3, y1[0], 1e-4);
    assertEquals(25 * 1 * 1 * 4 + Math.exp(-25 * Math.E) * 150 * 4, y1[1], 1e-4);
  }

  @Test
  void scanMatchesNaiveOverSweep() {
    Random r = new Random(1);
    for (int T : new int[] {0, 1, 2, 3, 31, 32, 33, 65, 200}) {
      for (int variant = 0; variant < 3; variant++) {
        int[] cu = segments(T, variant, r);
        for (int H : new int[] {1, 2, 3}) {
          for (int P : new int[] {1, 16, 64}) {
            for (int N : new int[] {1, 16, 17, 32}) {
              Case k = new Case(cu, H, P, N, (T + H + P + N + variant) % 2 == 0, r, -2, 1);
              float[] yRef = k.newY(), fsRef = k.newStates();
              k.naive(yRef, fsRef);
              for (int chunk : new int[] {1, 8, 32, 64, 256, 13}) {
                float[] y1 = null, fs1 = null;
                for (int threads = 1; threads <= 2; threads++) {
                  Parallel.setThreads(threads);
                  float[] y = k.newY(), fs = k.newStates();
                  k.scan(y, fs, chunk);
                  String what =
                      "T="
                          + T
                          + " cu="
                          + Arrays.toString(cu)
                          + " H="
                          + H
                          + " P="
                          + P
                          + " N="
                          + N
                          + " chunk="
                          + chunk
                          + " threads="
                          + threads;
                  double e = k.relDiff(y, yRef);
                  double es = relDiff(fs, fsRef);
                  worstSweep = Math.max(worstSweep, e);
                  // (a 1-element state, e.g. P=N=1, is a sum with cancellation: its relative
                  // error can reach a few 1e-6 while y stays ~1e-7)
                  worstSweepState = Math.max(worstSweepState, es);
                  assertTrue(e <= TOL, what + ": y rel diff " + e);
                  assertTrue(es <= TOL, what + ": final state rel diff " + es);
                  if (threads == 1) {
                    y1 = y;
                    fs1 = fs;
                  } else { // deterministic: any thread split gives the same bits
                    assertArrayEquals(y1, y, what);
                    assertArrayEquals(fs1, fs, what);
                  }
                }
              }
            }
          }
        }
      }
    }
  }

  @Test
  void extremeDecaysStayFiniteAndMatch() {
    Random r = new Random(2);
    int[] cu = {0, 40, 41, 300};
    // dtRaw ~ N(10, 20): dt from ~0 (dA = 1, no decay) to ~70 (dA = e^-1000 = 0, acum ≈ -1e4).
    for (int chunk : new int[] {1, 16, 64, 256}) {
      Case k = new Case(cu, 3, 16, 17, true, r, 10, 20);
      float[] yRef = k.newY(), y = k.newY(), fsRef = k.newStates(), fs = k.newStates();
      k.naive(yRef, fsRef);
      k.scan(y, fs, chunk);
      double e = Math.max(k.relDiff(y, yRef), relDiff(fs, fsRef));
      for (float v : fs) assertTrue(Float.isFinite(v));
      worstExtreme = Math.max(worstExtreme, e);
      assertTrue(e <= TOL, "chunk " + chunk + ": " + e);
    }
    // All decays zero: dtRaw = 1e4 → y_t = dt (C_t·B_t) x_t + D x_t, nothing from the past.
    Case k = new Case(new int[] {0, 50}, 1, 4, 8, false, r, 1e4, 0);
    float[] y = k.newY(), yRef = k.newY();
    k.scan(y, null, 32);
    k.naive(yRef, null);
    assertTrue(k.relDiff(y, yRef) <= TOL);
  }

  @Test
  void realisticSizeLongChunksMatch() {
    // Mamba2 defaults: headdim 64, d_state 128, chunk 256; long sequences stress cumulative decay.
    Random r = new Random(3);
    Case k = new Case(new int[] {0, 700, 1500}, 4, 64, 128, true, r, -2, 1);
    float[] yRef = k.newY(), fsRef = k.newStates();
    k.naive(yRef, fsRef);
    for (int chunk : new int[] {64, 256}) {
      float[] y = k.newY(), fs = k.newStates();
      k.scan(y, fs, chunk);
      double e = Math.max(k.relDiff(y, yRef), relDiff(fs, fsRef));
      worstLarge = Math.max(worstLarge, e);
      assertTrue(e <= TOL, "chunk " + chunk + ": " + e);
    }
  }

  /** The same checks with the internal block cap lifted, so chunk sizes 64 and 256 really run. */
  @Test
  void uncappedBlocksMatch() {
    int saved = Ssd.maxBlock;
    Ssd.maxBlock = Integer.MAX_VALUE;
    try {
      extremeDecaysStayFiniteAndMatch();
      realisticSizeLongChunksMatch();
    } finally {
      Ssd.maxBlock = saved;
    }
  }

  @Test
  void packedSequencesEqualEachAlone() {
    Random r = new Random(4);
    int[] cu = {0, 1, 38, 38, 100, 101};
    Case k = new Case(cu, 2, 16, 16, false, r, -2, 1);
    float[] y = k.newY(), fs = k.newStates();
    k.scan(y, fs, 32);
    for (int s = 0; s < cu.length - 1; s++) {
      int len = cu[s + 1] - cu[s];
      // The same tokens as their own packed batch of one, via offsets into the same buffers.
      float[] ys = new float[Math.max(1, len * k.yStride)], fss = new float[2 * 16 * 16];
      Ssd.scan(
          new Rows(ys, 0, len, 32, k.yStride),
          fss,
          k.in(cu[s], len),
          k.heads(),
          new int[] {0, len},
          1,
          32);
      for (int t = 0; t < len; t++) {
        for (int i = 0; i < 32; i++) {
          assertEquals(y[k.yOff + (cu[s] + t) * k.yStride + i], ys[t * k.yStride + i], "seq " + s);
        }
      }
      assertArrayEquals(fss, Arrays.copyOfRange(fs, s * 512, s * 512 + 512), "state " + s);
    }
  }

  @Test
  void stepAfterPrefillContinuesTheRecurrence() {
    Random r = new Random(5);
    for (int threads = 1; threads <= 2; threads++) {
      Parallel.setThreads(threads);
      for (int[] dims : new int[][] {{1, 1, 1}, {2, 16, 17}, {3, 64, 32}}) {
        int H = dims[0], P = dims[1], N = dims[2];
        int[] lens = {33, 1, 20, 7}; // R = 4 rows, one sequence each
        int R = lens.length, maxLen = 33;
        int[] cu = new int[R + 1];
        for (int i = 0; i < R; i++) cu[i + 1] = cu[i] + lens[i];
        Case k = new Case(cu, H, P, N, false, r, -2, 1);
        float[] yRef = k.newY(), fsRef = k.newStates();
        k.naive(yRef, fsRef);
        for (int pre = 0; pre <= maxLen; pre++) {
          checkStepFrom(k, lens, pre, yRef, fsRef);
        }
      }
    }
  }

  /** Prefill min(pre, len_r) tokens of each row with scan, then step the rest row-batched. */
  private static void checkStepFrom(Case k, int[] lens, int pre, float[] yRef, float[] fsRef) {
    int R = lens.length, H = k.H, P = k.P, N = k.N, hp = H * P;
    int[] preCu = new int[R + 1], pos = new int[R];
    for (int i = 0; i < R; i++) pos[i] = Math.min(pre, lens[i]);
    // Gather the prefix tokens into a packed batch (contiguous arrays, strides as in k).
    int Tp = Arrays.stream(pos).sum();
    float[] x = new float[Tp * hp],
        dt = new float[Tp * H],
        b = new float[Tp * N],
        c = new float[Tp * N];
    int at = 0;
    for (int i = 0; i < R; i++) {
      for (int j = 0; j < pos[i]; j++, at++) copyToken(k, k.cu[i] + j, at, x, dt, b, c);
      preCu[i + 1] = at;
    }
    float[] state = new float[R * H * P * N], yPre = new float[Math.max(1, Tp * hp)];
    Ssd.scan(Rows.of(yPre, Tp, hp), state, dense(x, dt, b, c, Tp, H, P, N), k.heads(), preCu, R, 8);
    float[] sx = new float[R * hp],
        sdt = new float[R * H],
        sb = new float[R * N],
        sc = new float[R * N];
    float[] sy = new float[R * hp];
    boolean[] active = new boolean[R];
    while (true) {
      boolean any = false;
      for (int i = 0; i < R; i++) {
        active[i] = pos[i] < lens[i];
        any |= active[i];
        if (active[i]) {
          copyToken(k, k.cu[i] + pos[i], 0, x1, dt1, b1, c1);
          System.arraycopy(x1, 0, sx, i * hp, hp);
          System.arraycopy(dt1, 0, sdt, i * H, H);
          System.arraycopy(b1, 0, sb, i * N, N);
          System.arraycopy(c1, 0, sc, i * N, N);
        }
      }
      if (!any) break;
      float[] stateBefore = state.clone();
      Arrays.fill(sy, Float.NaN);
      SsdStep.step(state, sy, sx, sdt, sb, sc, k.heads(), R, active);
      for (int i = 0; i < R; i++) {
        int blk = H * P * N;
        if (!active[i]) {
          assertArrayEquals(
              Arrays.copyOfRange(stateBefore, i * blk, i * blk + blk),
              Arrays.copyOfRange(state, i * blk, i * blk + blk),
              "inactive row state touched");
          for (int j = 0; j < hp; j++) assertTrue(Float.isNaN(sy[i * hp + j]), "inactive y");
          continue;
        }
        double maxRef = 1e-30, maxDiff = 0;
        int t = k.cu[i] + pos[i];
        for (int j = 0; j < hp; j++)
          maxRef = Math.max(maxRef, Math.abs(yRef[k.yOff + t * k.yStride + j]));
        for (int j = 0; j < hp; j++) {
          maxDiff = Math.max(maxDiff, Math.abs(sy[i * hp + j] - yRef[k.yOff + t * k.yStride + j]));
        }
        double e = maxDiff / maxRef;
        worstStep = Math.max(worstStep, e);
        assertTrue(e <= TOL, "pre=" + pre + " row " + i + " token " + pos[i] + ": " + e);
        pos[i]++;
      }
    }
    double es = relDiff(state, fsRef);
    worstStep = Math.max(worstStep, es);
    assertTrue(es <= TOL, "final state after steps, pre=" + pre + ": " + es);
  }

  private static final float[] x1 = new float[64 * 3],
      dt1 = new float[3],
      b1 = new float[32],
      c1 = new float[32];

  private static void copyToken(
      Case k, int t, int to, float[] x, float[] dt, float[] b, float[] c) {
    int hp = k.H * k.P;
    System.arraycopy(k.xs, k.xOff + t * k.xStride, x, to * hp, hp);
    System.arraycopy(k.dts, k.dtOff + t * k.dtStride, dt, to * k.H, k.H);
    System.arraycopy(k.bs, k.bOff + t * k.bStride, b, to * k.N, k.N);
    System.arraycopy(k.cs, k.cOff + t * k.cStride, c, to * k.N, k.N);
  }
}
