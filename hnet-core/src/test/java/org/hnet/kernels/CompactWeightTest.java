package org.hnet.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Random;
import org.hnet.testing.RestoreThreads;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Compact weights: the conversions, and the products with them against the naive float32 product of
 * the converted weights. Each element's tolerance is the one of {@link MatmulTest}: the converted
 * weight is exact in float32 (bf16 widens exactly; an int8 weight is q·s rounded once, the same
 * rounding in the kernel and in {@link CompactWeight#toFloats}), so the only difference is the
 * order of the float32 sum.
 */
@ExtendWith(RestoreThreads.class)
class CompactWeightTest {
  private static final double U = Math.ulp(1.0f) / 2;
  private long savedSerialFlops, savedSplit;

  @BeforeEach
  void save() {
    savedSerialFlops = MatmulGemm.serialFlops;
    savedSplit = MatmulDecode.splitBytes;
    MatmulGemm.serialFlops = 0; // small shapes too take the multi-threaded paths
    MatmulDecode.splitBytes = 64;
  }

  @AfterEach
  void restore() {
    MatmulGemm.serialFlops = savedSerialFlops;
    MatmulDecode.splitBytes = savedSplit;
  }

  @Test
  void bf16RoundsToNearestEven() {
    assertEquals((short) 0x3F80, CompactWeight.toBf16(1f));
    // 1 + 2^-8 is halfway between 1 and the next bf16 (1 + 2^-7): ties to even, down to 1
    assertEquals((short) 0x3F80, CompactWeight.toBf16(1f + 0x1p-8f));
    // 1 + 3·2^-8 is halfway between 1 + 2^-7 (odd) and 1 + 2^-6: up to the even one
    assertEquals((short) 0x3F82, CompactWeight.toBf16(1f + 3 * 0x1p-8f));
    assertEquals((short) 0x3F81, CompactWeight.toBf16(1f + 0x1p-8f + 0x1p-20f));
    assertEquals((short) 0xBF80, CompactWeight.toBf16(-1f));
    assertEquals((short) 0x7F80, CompactWeight.toBf16(Float.POSITIVE_INFINITY));
    assertTrue(Float.isNaN(Float.intBitsToFloat(CompactWeight.toBf16(Float.NaN) << 16)));
    // the largest float rounds to infinity, as in torch's bfloat16 conversion
    assertEquals((short) 0x7F80, CompactWeight.toBf16(Float.MAX_VALUE));
    Random r = new Random(3);
    for (int i = 0; i < 10000; i++) {
      float f = (float) r.nextGaussian();
      float b = Float.intBitsToFloat(CompactWeight.toBf16(f) << 16);
      assertTrue(Math.abs(b - f) <= Math.abs(f) * 0x1p-8f, f + " -> " + b);
    }
  }

  @Test
  void int8GroupsKeepEachWeightWithinHalfAStep() {
    Random r = new Random(4);
    for (int k : new int[] {1, 5, 31, 32, 33, 64, 100}) {
      int n = 3;
      float[] w = new float[n * k];
      for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian() * (i % 7 == 0 ? 5 : 1);
      w[0] = 0; // a zero
      CompactWeight c = CompactWeight.int8(w, 0, n, k);
      assertEquals((long) n * k + 4L * n * CompactWeight.groups(k), c.bytes());
      float[] back = c.toFloats();
      for (int row = 0; row < n; row++) {
        for (int col = 0; col < k; col++) {
          int g0 = col / 32 * 32, g1 = Math.min(k, g0 + 32);
          float max = 0;
          for (int j = g0; j < g1; j++) max = Math.max(max, Math.abs(w[row * k + j]));
          float step = max / 127;
          float err = Math.abs(back[row * k + col] - w[row * k + col]);
          assertTrue(err <= step / 2 * (1 + 1e-5), "k=" + k + " err " + err + " step " + step);
          assertEquals(back[row * k + col], c.get(row, col));
        }
      }
    }
    // an all-zero group has scale 0 and decodes to zeros
    CompactWeight z = CompactWeight.int8(new float[64], 0, 1, 64);
    assertArrayEquals(new float[64], z.toFloats());
  }

  @Test
  void malformedInt8IsRefused() {
    assertThrows(
        IllegalArgumentException.class,
        () -> CompactWeight.ofInt8(new byte[] {-128, 0, 0}, new float[1], 1, 3));
    assertThrows(
        IllegalArgumentException.class,
        () -> CompactWeight.ofInt8(new byte[3], new float[] {Float.NaN}, 1, 3));
    assertThrows(
        IllegalArgumentException.class,
        () -> CompactWeight.ofInt8(new byte[3], new float[] {-1}, 1, 3));
    assertThrows(
        IllegalArgumentException.class,
        () -> CompactWeight.ofInt8(new byte[4], new float[1], 1, 3));
    CompactWeight.ofInt8(new byte[6], new float[2], 2, 3); // the valid one
  }

  /**
   * The scales are held in decode order and come back row-major, as files store them; the values
   * come back as they went in.
   */
  @Test
  void int8ValuesAndScalesComeBackRowMajor() {
    Random r = new Random(6);
    for (int n : new int[] {1, 7, 128, 135, 300}) {
      // a short superblock; full ones, a short one and a partial group
      int k = n == 7 ? 613 : 70, g = CompactWeight.groups(k);
      byte[] q = new byte[n * k];
      float[] s = new float[n * g];
      for (int i = 0; i < q.length; i++) q[i] = (byte) (r.nextInt(255) - 127);
      for (int i = 0; i < s.length; i++) s[i] = i + 1;
      CompactWeight c = CompactWeight.ofInt8(q, s, n, k);
      assertArrayEquals(s, c.int8Scales(), "n=" + n);
      assertArrayEquals(q, c.int8Values(), "n=" + n);
      // a file writer's chunks: any start and length, across rows
      assertChunks(q, k, c::int8RowMajor, "n=" + n);
      for (int row = 0; row < n; row++)
        for (int col = 0; col < k; col++)
          assertEquals(q[row * k + col] * s[row * g + col / 32], c.get(row, col), "n=" + n);
    }
  }

  /** bf16 bit patterns come back as they went in, whole and row by row (k with a tail). */
  @Test
  void bf16BitsComeBackRowMajor() {
    Random r = new Random(7);
    for (int k : new int[] {1, 70, 96}) {
      int n = 5;
      short[] b = new short[n * k];
      for (int i = 0; i < b.length; i++) b[i] = (short) r.nextInt(1 << 16);
      CompactWeight c = CompactWeight.ofBf16(b, n, k);
      assertArrayEquals(b, c.bf16Bits(), "k=" + k);
      short[] row = new short[k];
      c.bf16Row(3, row);
      assertArrayEquals(java.util.Arrays.copyOfRange(b, 3 * k, 4 * k), row, "k=" + k);
      // a file writer's chunks, little-endian: any start and length, across rows and mid-value
      byte[] le = new byte[2 * b.length];
      for (int i = 0; i < b.length; i++) {
        le[2 * i] = (byte) b[i];
        le[2 * i + 1] = (byte) (b[i] >> 8);
      }
      assertChunks(le, 2 * k, c::bf16RowMajor, "k=" + k);
    }
  }

  /** What a file writer asks of a weight: bytes [from, from + len) into a segment. */
  private interface Chunks {
    void copy(long from, java.lang.foreign.MemorySegment dst, long len);
  }

  /** Every start, and lengths up to three rows, equal the same range of want. */
  private static void assertChunks(byte[] want, int rowBytes, Chunks chunks, String what) {
    for (int from = 0; from < want.length; from += 1 + from / 4) {
      int len = Math.min(want.length - from, 1 + 3 * from % (3 * rowBytes));
      java.lang.foreign.MemorySegment dst = java.lang.foreign.MemorySegment.ofArray(new byte[len]);
      chunks.copy(from, dst, len);
      assertArrayEquals(
          java.util.Arrays.copyOfRange(want, from, from + len),
          dst.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
          what + " from " + from);
    }
  }

  /**
   * Each element of a compact decode product, at every row count of x, is the documented operation
   * sequence done here in scalar floats: bf16, VL per-lane fma chains over the vector part of K;
   * int8, per superblock of VL groups (one group per lane) t = x·q, then fma over the group's other
   * weights, then a = t·s + a; then the pairwise lane sum of {@link MatmulDecode#laneSum}, the
   * scalar tail in order, the bias. A kernel that sums several outputs' lanes at once and pairs
   * them wrongly (a lane of another output, another order) fails bit for bit.
   */
  @Test
  void decodeElementsAreTheDocumentedSum() {
    Random r = new Random(11);
    int vl = MatmulGemm.VL, group = CompactWeight.GROUP;
    int[][] shapes = {{40, 64}, {70, 613}, {67, 608}, {130, 100}, {9, 31}, {300, 48}};
    for (CompactWeight.Format f : CompactWeight.Format.values()) {
      for (int[] nk : shapes) {
        int N = nk[0], K = nk[1];
        float[] w = new float[N * K];
        for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian() * 0.1f;
        boolean int8 = f == CompactWeight.Format.INT8;
        CompactWeight c = int8 ? CompactWeight.int8(w, 0, N, K) : CompactWeight.bf16(w, 0, N, K);
        byte[] q = int8 ? c.int8Values() : null;
        float[] sc = int8 ? c.int8Scales() : null;
        int groups = CompactWeight.groups(K);
        for (int M = 1; M <= Matmul.DECODE_ROWS; M++) {
          float[] x = MatmulTest.data(r, 0, M * K), bias = MatmulTest.data(r, 0, N);
          for (int t = 1; t <= 2; t++) {
            Parallel.setThreads(t);
            float[] got = new float[M * N];
            Matmul.linearDecode(got, 0, x, 0, c, bias, 0, M);
            for (int m = 0; m < M; m++) {
              for (int n = 0; n < N; n++) {
                float[] lanes = new float[vl];
                int kb;
                if (int8) {
                  int whole = K / group; // whole groups; the partial one is the tail
                  kb = whole * group;
                  for (int g0 = 0; g0 < whole; g0 += vl) {
                    for (int j = 0; j < vl && g0 + j < whole; j++) {
                      int g = g0 + j, at = n * K + g * group;
                      float tj = x[m * K + g * group] * q[at];
                      for (int i = 1; i < group; i++)
                        tj = Math.fma(x[m * K + g * group + i], q[at + i], tj);
                      lanes[j] = Math.fma(tj, sc[n * groups + g], lanes[j]);
                    }
                  }
                } else {
                  kb = K / (2 * vl) * (2 * vl);
                  for (int k = 0; k < kb; k++)
                    lanes[k % vl] = Math.fma(x[m * K + k], c.get(n, k), lanes[k % vl]);
                }
                for (int h = vl / 2; h > 0; h >>= 1)
                  for (int i = 0; i < h; i++) lanes[i] += lanes[i + h];
                float want = kb == 0 ? 0f : lanes[0];
                for (int k = kb; k < K; k++) {
                  float wk = int8 ? q[n * K + k] * sc[n * groups + groups - 1] : c.get(n, k);
                  want = Math.fma(x[m * K + k], wk, want);
                }
                want = bias[n] + want;
                assertEquals(
                    Float.floatToRawIntBits(want),
                    Float.floatToRawIntBits(got[m * N + n]),
                    f
                        + " M="
                        + M
                        + " N="
                        + N
                        + " K="
                        + K
                        + " threads="
                        + t
                        + " ["
                        + m
                        + ","
                        + n
                        + "]: "
                        + want
                        + " vs "
                        + got[m * N + n]);
              }
            }
          }
        }
      }
    }
  }

  /** Decode and GEMM products with compact weights, every row count of the decode path. */
  @Test
  void productsMatchTheNaiveProductOfTheConvertedWeights() {
    Random r = new Random(5);
    int[][] shapes = {
      {1, 1, 1},
      {3, 7, 5},
      {8, 33, 64},
      {5, 17, 100},
      {2, 40, 257},
      {8, 9, 512},
      {7, 64, 31},
      {1, 130, 1024},
      {40, 33, 100},
      {13, 100, 65},
      // int8 slabs of 64 rows: full slabs, a short last slab with passes and rows past them
      {1, 300, 64},
      {3, 300, 40},
      {5, 263, 32},
      {8, 300, 64},
      {6, 150, 33},
      // int8 superblocks of VL groups: full ones, then a short one, then a partial group
      {1, 70, 613},
      {7, 66, 613},
      {4, 67, 608}
    };
    for (CompactWeight.Format f : CompactWeight.Format.values()) {
      for (int[] s : shapes) {
        for (boolean withBias : new boolean[] {false, true}) {
          int M = s[0], N = s[1], K = s[2];
          float[] x = MatmulTest.data(r, 2, M * K), w = new float[N * K];
          for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian() * 0.1f;
          float[] bias = withBias ? MatmulTest.data(r, 1, N) : null;
          CompactWeight c =
              f == CompactWeight.Format.BF16
                  ? CompactWeight.bf16(w, 0, N, K)
                  : CompactWeight.int8(w, 0, N, K);
          float[] wf = c.toFloats();
          float[] want = new float[M * N];
          Matmul.linearNaive(want, 0, x, 2, wf, 0, bias, 1, M, N, K);
          String what = f + " " + M + "×" + N + "×" + K + " bias=" + withBias;
          float[] one = null;
          for (int t = 1; t <= 2; t++) {
            Parallel.setThreads(t);
            float[] dec = MatmulTest.guards(3, M * N);
            if (M <= Matmul.DECODE_ROWS) {
              Matmul.linearDecode(dec, 3, x, 2, c, bias, 1, M);
              check(what + " decode threads=" + t, dec, 3, want, x, 2, wf, bias, 1, M, N, K);
              if (one == null) one = dec;
              else assertArrayEquals(one, dec, what + ": the same for any thread count");
              // each row alone gives what it gets in the batch
              for (int m = 0; m < M; m++) {
                float[] row = new float[N];
                Matmul.linearDecode(row, 0, x, 2 + m * K, c, bias, 1, 1);
                for (int n = 0; n < N; n++)
                  assertEquals(
                      Float.floatToIntBits(dec[3 + m * N + n]),
                      Float.floatToIntBits(row[n]),
                      what + ": row " + m + " alone");
              }
            }
            // the GEMM path equals the float32 GEMM on the converted weights, bit for bit
            float[] gem = new float[M * N], ref = new float[M * N];
            Matmul.linearGemm(gem, 0, x, 2, c, bias, 1, M);
            Matmul.linearGemm(ref, 0, x, 2, wf, 0, bias, 1, M, N, K);
            assertArrayEquals(ref, gem, what + " gemm threads=" + t);
          }
        }
      }
    }
  }

  private static void check(
      String what,
      float[] got,
      int yo,
      float[] want,
      float[] x,
      int xo,
      float[] w,
      float[] bias,
      int bo,
      int M,
      int N,
      int K) {
    for (int m = 0; m < M; m++) {
      for (int n = 0; n < N; n++) {
        double mag = bias == null ? 0 : Math.abs(bias[bo + n]);
        for (int k = 0; k < K; k++) mag += Math.abs((double) x[xo + m * K + k] * w[n * K + k]);
        double g = (K + 1) * U / (1 - (K + 1) * U) + U;
        double tol = g * mag + Float.MIN_NORMAL;
        float a = got[yo + m * N + n], b = want[m * N + n];
        if (!(Math.abs(a - b) <= tol)) fail(what + " [" + m + "," + n + "]: " + a + " vs " + b);
      }
    }
    for (int i = 0; i < yo; i++) assertEquals(12345.678f, got[i], what + ": guard before");
    for (int i = yo + M * N; i < got.length; i++)
      assertEquals(12345.678f, got[i], what + ": guard after");
  }

  @Test
  void rowRangesConvertAsTheElementsDo() {
    // the packing's walk over the held layout against element access, for every start and end of
    // a range (strided output) over widths below, at and past the vector blocks and the groups
    Random r = new Random(9);
    for (int k : new int[] {1, 7, 32, 63, 64, 65, 130, 200}) {
      int n = 2;
      float[] w = new float[n * k];
      for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian();
      for (CompactWeight c :
          new CompactWeight[] {CompactWeight.int8(w, 0, n, k), CompactWeight.bf16(w, 0, n, k)}) {
        for (int row = 0; row < n; row++) {
          for (int c0 = 0; c0 <= k; c0 += 1 + c0 / 5) {
            for (int c1 = c0; c1 <= k; c1 += 1 + (c1 - c0) / 3) {
              float[] out = new float[3 * (c1 - c0) + 1];
              java.util.Arrays.fill(out, Float.NaN);
              c.rowToFloats(row, c0, c1, out, 1, 3);
              check(c, row, c0, c1, out, k);
              if (c.format == CompactWeight.Format.INT8) { // the packing's vector path
                java.util.Arrays.fill(out, Float.NaN);
                MatmulCompactInt8.rowToFloats(
                    c, row, c0, c1, out, 1, 3, new float[MatmulCompactInt8.ROW_BUFFER]);
                check(c, row, c0, c1, out, k);
              }
            }
          }
        }
      }
    }
  }

  private static void check(CompactWeight c, int row, int c0, int c1, float[] out, int k) {
    for (int col = c0; col < c1; col++) {
      assertEquals(c.get(row, col), out[1 + 3 * (col - c0)], "k=" + k + " col " + col);
    }
    for (int i = 0; i < out.length; i++) {
      if (i == 0 || (i - 1) % 3 != 0) assertTrue(Float.isNaN(out[i]), "written at " + i);
    }
  }
}
