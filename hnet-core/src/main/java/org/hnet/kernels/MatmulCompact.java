package org.hnet.kernels;

// Products with a CompactWeight (bf16 or int8 groups): y[M×N] = x[M×K]·w[N×K]ᵀ + bias[N], legend
// as in Matmul.
//
// Decode path (M <= Matmul.DECODE_ROWS): each row of w is streamed once. The weights are held in
// int vectors (CompactWeight's layout) and converted to float32 in registers with same-shape
// operations only: bf16, two weights per int, by a shift and by a mask; int8, four per int, by
// shifts, an int→float conversion and the group's scale. Each converted vector is used against up
// to 4 rows of x held in L1. Per output element: one VL-lane fma accumulator over the vector part
// of K in order, the fixed pairwise lane sum, the scalar tail in order (the same conversion, the
// same fma), then the bias: the same operations whatever the rows of x are grouped with and
// however rows of w are split over threads, so a row decoded in a batch equals the row decoded
// alone, bit for bit.
//
// GEMM path (prefill, scoring): the weight is converted to float32 while it is packed into the
// GEMM's panels (the packing is read once per product and amortised over its M rows), then the
// float32 GEMM runs unchanged.
//

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

final class MatmulCompact {
  private MatmulCompact() {}

  private static final VectorSpecies<Float> S = MatmulGemm.S;
  private static final int VL = MatmulGemm.VL;
  private static final int GROUP = CompactWeight.GROUP;
  private static final VectorSpecies<Integer> IS =
      IntVector.SPECIES_PREFERRED.withShape(S.vectorShape()).check(int.class);

  static void decode(
      float[] y, int yOff, float[] x, int xOff, CompactWeight w, float[] bias, int biasOff, int M) {
    int N = w.n, K = w.k;
    if (M == 0 || N == 0) return;
    // split the rows of w over threads once each part streams MatmulDecode.splitBytes
    long rowBytes = Math.max(1, w.bytes() / N);
    int grain = (int) Math.max(1, Math.min(N, (MatmulDecode.splitBytes + rowBytes - 1) / rowBytes));
    if (2L * M * N * K < MatmulGemm.serialFlops / 4) grain = N;
    if (Parallel.serial(N, grain)) rows(y, yOff, x, xOff, w, bias, biasOff, M, 0, N);
    else
      Parallel.forRange(N, grain, (n0, n1) -> rows(y, yOff, x, xOff, w, bias, biasOff, M, n0, n1));
  }

  /**
   * Rows [n0, n1) of w against all M rows of x: with 4 or more rows of x, pairs of rows of w
   * against 4 rows of x (8 accumulators; each weight vector converted once per 4 rows of x);
   * otherwise 4 rows of w against one row of x (four rows of w stream from memory at once, which a
   * single row did not: 40-55% of the bandwidth bound at batch 1). Leftover rows one by one.
   */
  private static void rows(
      float[] y,
      int yOff,
      float[] x,
      int xOff,
      CompactWeight w,
      float[] bias,
      int biasOff,
      int M,
      int n0,
      int n1) {
    float[] tmp = MatmulGemm.SCRATCH.get().lanes;
    int N = w.n, K = w.k;
    boolean bf = w.format == CompactWeight.Format.BF16;
    int kb = bf ? w.kv : w.kq;
    int n = n0;
    if (M >= 4) {
      for (; n + 2 <= n1; n += 2) {
        int m = 0;
        for (; m + 4 <= M; m += 4) {
          if (bf) bf16w2x4(tmp, y, yOff, x, xOff, w, bias, biasOff, m, n, N, K, kb);
          else int8w2x4(tmp, y, yOff, x, xOff, w, bias, biasOff, m, n, N, K, kb);
        }
        for (; m < M; m++) {
          for (int j = n; j < n + 2; j++) {
            if (bf) bf16w1x1(tmp, y, yOff, x, xOff, w, bias, biasOff, m, j, N, K, kb);
            else int8w1x1(tmp, y, yOff, x, xOff, w, bias, biasOff, m, j, N, K, kb);
          }
        }
      }
    } else {
      for (; n + 4 <= n1; n += 4) {
        for (int m = 0; m < M; m++) {
          if (bf) bf16w4x1(tmp, y, yOff, x, xOff, w, bias, biasOff, m, n, N, K, kb);
          else int8w4x1(tmp, y, yOff, x, xOff, w, bias, biasOff, m, n, N, K, kb);
        }
      }
    }
    for (; n < n1; n++) {
      for (int m = 0; m < M; m++) {
        if (bf) bf16w1x1(tmp, y, yOff, x, xOff, w, bias, biasOff, m, n, N, K, kb);
        else int8w1x1(tmp, y, yOff, x, xOff, w, bias, biasOff, m, n, N, K, kb);
      }
    }
  }

  private static void bf16w1x1(
      float[] tmp,
      float[] y,
      int yOff,
      float[] x,
      int xOff,
      CompactWeight w,
      float[] bias,
      int bo,
      int m,
      int n,
      int N,
      int K,
      int kb) {
    int[] p = w.bf16Pairs;
    int x0 = xOff + m * K, r0 = n * (kb / 2);
    FloatVector a = FloatVector.zero(S);
    for (int k = 0; k < kb; k += 2 * VL) {
      IntVector i0 = IntVector.fromArray(IS, p, r0 + k / 2);
      a =
          FloatVector.fromArray(S, x, x0 + k)
              .fma(i0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), a);
      a =
          FloatVector.fromArray(S, x, x0 + k + VL)
              .fma(i0.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats(), a);
    }
    a.intoArray(tmp, 0);
    y[yOff + m * N + n] = finish(tmp, x, x0, w, n, kb, K, bias, bo);
  }

  private static void bf16w4x1(
      float[] tmp,
      float[] y,
      int yOff,
      float[] x,
      int xOff,
      CompactWeight w,
      float[] bias,
      int bo,
      int m,
      int n,
      int N,
      int K,
      int kb) {
    int[] p = w.bf16Pairs;
    int x0 = xOff + m * K, r0 = n * (kb / 2), r1 = r0 + kb / 2, r2 = r1 + kb / 2, r3 = r2 + kb / 2;
    FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
    for (int k = 0; k < kb; k += 2 * VL) {
      IntVector i0 = IntVector.fromArray(IS, p, r0 + k / 2);
      IntVector i1 = IntVector.fromArray(IS, p, r1 + k / 2);
      IntVector i2 = IntVector.fromArray(IS, p, r2 + k / 2);
      IntVector i3 = IntVector.fromArray(IS, p, r3 + k / 2);
      FloatVector u = FloatVector.fromArray(S, x, x0 + k);
      a0 = u.fma(i0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), a0);
      a1 = u.fma(i1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), a1);
      a2 = u.fma(i2.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), a2);
      a3 = u.fma(i3.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), a3);
      u = FloatVector.fromArray(S, x, x0 + k + VL);
      a0 = u.fma(i0.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats(), a0);
      a1 = u.fma(i1.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats(), a1);
      a2 = u.fma(i2.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats(), a2);
      a3 = u.fma(i3.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats(), a3);
    }
    int y0 = yOff + m * N + n;
    a0.intoArray(tmp, 0);
    y[y0 + 0] = finish(tmp, x, x0, w, n + 0, kb, K, bias, bo);
    a1.intoArray(tmp, 0);
    y[y0 + 1] = finish(tmp, x, x0, w, n + 1, kb, K, bias, bo);
    a2.intoArray(tmp, 0);
    y[y0 + 2] = finish(tmp, x, x0, w, n + 2, kb, K, bias, bo);
    a3.intoArray(tmp, 0);
    y[y0 + 3] = finish(tmp, x, x0, w, n + 3, kb, K, bias, bo);
  }

  private static void bf16w2x4(
      float[] tmp,
      float[] y,
      int yOff,
      float[] x,
      int xOff,
      CompactWeight w,
      float[] bias,
      int bo,
      int m,
      int n,
      int N,
      int K,
      int kb) {
    int[] p = w.bf16Pairs;
    int x0 = xOff + m * K,
        x1 = x0 + K,
        x2 = x1 + K,
        x3 = x2 + K,
        r0 = n * (kb / 2),
        r1 = r0 + kb / 2;
    FloatVector a00 = FloatVector.zero(S), a01 = a00, a10 = a00, a11 = a00;
    FloatVector a20 = a00, a21 = a00, a30 = a00, a31 = a00;
    for (int k = 0; k < kb; k += 2 * VL) {
      IntVector i0 = IntVector.fromArray(IS, p, r0 + k / 2);
      IntVector i1 = IntVector.fromArray(IS, p, r1 + k / 2);
      FloatVector v0 = i0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      FloatVector v1 = i1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      FloatVector u00 = FloatVector.fromArray(S, x, x0 + k);
      a00 = u00.fma(v0, a00);
      a01 = u00.fma(v1, a01);
      FloatVector u10 = FloatVector.fromArray(S, x, x1 + k);
      a10 = u10.fma(v0, a10);
      a11 = u10.fma(v1, a11);
      FloatVector u20 = FloatVector.fromArray(S, x, x2 + k);
      a20 = u20.fma(v0, a20);
      a21 = u20.fma(v1, a21);
      FloatVector u30 = FloatVector.fromArray(S, x, x3 + k);
      a30 = u30.fma(v0, a30);
      a31 = u30.fma(v1, a31);
      v0 = i0.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats();
      v1 = i1.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats();
      FloatVector u01 = FloatVector.fromArray(S, x, x0 + k + VL);
      a00 = u01.fma(v0, a00);
      a01 = u01.fma(v1, a01);
      FloatVector u11 = FloatVector.fromArray(S, x, x1 + k + VL);
      a10 = u11.fma(v0, a10);
      a11 = u11.fma(v1, a11);
      FloatVector u21 = FloatVector.fromArray(S, x, x2 + k + VL);
      a20 = u21.fma(v0, a20);
      a21 = u21.fma(v1, a21);
      FloatVector u31 = FloatVector.fromArray(S, x, x3 + k + VL);
      a30 = u31.fma(v0, a30);
      a31 = u31.fma(v1, a31);
    }
    int y0 = yOff + m * N + n;
    a00.intoArray(tmp, 0);
    y[y0 + 0 * N + 0] = finish(tmp, x, x0, w, n + 0, kb, K, bias, bo);
    a01.intoArray(tmp, 0);
    y[y0 + 0 * N + 1] = finish(tmp, x, x0, w, n + 1, kb, K, bias, bo);
    a10.intoArray(tmp, 0);
    y[y0 + 1 * N + 0] = finish(tmp, x, x1, w, n + 0, kb, K, bias, bo);
    a11.intoArray(tmp, 0);
    y[y0 + 1 * N + 1] = finish(tmp, x, x1, w, n + 1, kb, K, bias, bo);
    a20.intoArray(tmp, 0);
    y[y0 + 2 * N + 0] = finish(tmp, x, x2, w, n + 0, kb, K, bias, bo);
    a21.intoArray(tmp, 0);
    y[y0 + 2 * N + 1] = finish(tmp, x, x2, w, n + 1, kb, K, bias, bo);
    a30.intoArray(tmp, 0);
    y[y0 + 3 * N + 0] = finish(tmp, x, x3, w, n + 0, kb, K, bias, bo);
    a31.intoArray(tmp, 0);
    y[y0 + 3 * N + 1] = finish(tmp, x, x3, w, n + 1, kb, K, bias, bo);
  }

  private static void int8w1x1(
      float[] tmp,
      float[] y,
      int yOff,
      float[] x,
      int xOff,
      CompactWeight w,
      float[] bias,
      int bo,
      int m,
      int n,
      int N,
      int K,
      int kb) {
    int[] q = w.q8;
    float[] sc = w.scales;
    int G = CompactWeight.groups(K);
    int x0 = xOff + m * K, r0 = n * (kb / 4), s0 = n * G;
    FloatVector a = FloatVector.zero(S);
    for (int k = 0; k < kb; k += 4 * VL) {
      IntVector i0 = IntVector.fromArray(IS, q, r0 + k / 4);
      a =
          FloatVector.fromArray(S, x, x0 + k + 0 * VL)
              .fma(
                  ((FloatVector)
                          i0.lanewise(VectorOperators.LSHL, 24)
                              .lanewise(VectorOperators.ASHR, 24)
                              .convert(VectorOperators.I2F, 0))
                      .mul(sc[s0 + (k + 0 * VL) / GROUP]),
                  a);
      a =
          FloatVector.fromArray(S, x, x0 + k + 1 * VL)
              .fma(
                  ((FloatVector)
                          i0.lanewise(VectorOperators.LSHL, 16)
                              .lanewise(VectorOperators.ASHR, 24)
                              .convert(VectorOperators.I2F, 0))
                      .mul(sc[s0 + (k + 1 * VL) / GROUP]),
                  a);
      a =
          FloatVector.fromArray(S, x, x0 + k + 2 * VL)
              .fma(
                  ((FloatVector)
                          i0.lanewise(VectorOperators.LSHL, 8)
                              .lanewise(VectorOperators.ASHR, 24)
                              .convert(VectorOperators.I2F, 0))
                      .mul(sc[s0 + (k + 2 * VL) / GROUP]),
                  a);
      a =
          FloatVector.fromArray(S, x, x0 + k + 3 * VL)
              .fma(
                  ((FloatVector)
                          i0.lanewise(VectorOperators.ASHR, 24).convert(VectorOperators.I2F, 0))
                      .mul(sc[s0 + (k + 3 * VL) / GROUP]),
                  a);
    }
    a.intoArray(tmp, 0);
    y[yOff + m * N + n] = finish(tmp, x, x0, w, n, kb, K, bias, bo);
  }

  private static void int8w4x1(
      float[] tmp,
      float[] y,
      int yOff,
      float[] x,
      int xOff,
      CompactWeight w,
      float[] bias,
      int bo,
      int m,
      int n,
      int N,
      int K,
      int kb) {
    int[] q = w.q8;
    float[] sc = w.scales;
    int G = CompactWeight.groups(K);
    int x0 = xOff + m * K, r0 = n * (kb / 4), r1 = r0 + kb / 4, r2 = r1 + kb / 4, r3 = r2 + kb / 4;
    int s0 = n * G, s1 = s0 + G, s2 = s1 + G, s3 = s2 + G;
    FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
    for (int k = 0; k < kb; k += 4 * VL) {
      IntVector i0 = IntVector.fromArray(IS, q, r0 + k / 4);
      IntVector i1 = IntVector.fromArray(IS, q, r1 + k / 4);
      IntVector i2 = IntVector.fromArray(IS, q, r2 + k / 4);
      IntVector i3 = IntVector.fromArray(IS, q, r3 + k / 4);
      FloatVector u0 = FloatVector.fromArray(S, x, x0 + k + 0 * VL);
      a0 =
          u0.fma(
              ((FloatVector)
                      i0.lanewise(VectorOperators.LSHL, 24)
                          .lanewise(VectorOperators.ASHR, 24)
                          .convert(VectorOperators.I2F, 0))
                  .mul(sc[s0 + (k + 0 * VL) / GROUP]),
              a0);
      a1 =
          u0.fma(
              ((FloatVector)
                      i1.lanewise(VectorOperators.LSHL, 24)
                          .lanewise(VectorOperators.ASHR, 24)
                          .convert(VectorOperators.I2F, 0))
                  .mul(sc[s1 + (k + 0 * VL) / GROUP]),
              a1);
      a2 =
          u0.fma(
              ((FloatVector)
                      i2.lanewise(VectorOperators.LSHL, 24)
                          .lanewise(VectorOperators.ASHR, 24)
                          .convert(VectorOperators.I2F, 0))
                  .mul(sc[s2 + (k + 0 * VL) / GROUP]),
              a2);
      a3 =
          u0.fma(
              ((FloatVector)
                      i3.lanewise(VectorOperators.LSHL, 24)
                          .lanewise(VectorOperators.ASHR, 24)
                          .convert(VectorOperators.I2F, 0))
                  .mul(sc[s3 + (k + 0 * VL) / GROUP]),
              a3);
      FloatVector u1 = FloatVector.fromArray(S, x, x0 + k + 1 * VL);
      a0 =
          u1.fma(
              ((FloatVector)
                      i0.lanewise(VectorOperators.LSHL, 16)
                          .lanewise(VectorOperators.ASHR, 24)
                          .convert(VectorOperators.I2F, 0))
                  .mul(sc[s0 + (k + 1 * VL) / GROUP]),
              a0);
      a1 =
          u1.fma(
              ((FloatVector)
                      i1.lanewise(VectorOperators.LSHL, 16)
                          .lanewise(VectorOperators.ASHR, 24)
                          .convert(VectorOperators.I2F, 0))
                  .mul(sc[s1 + (k + 1 * VL) / GROUP]),
              a1);
      a2 =
          u1.fma(
              ((FloatVector)
                      i2.lanewise(VectorOperators.LSHL, 16)
                          .lanewise(VectorOperators.ASHR, 24)
                          .convert(VectorOperators.I2F, 0))
                  .mul(sc[s2 + (k + 1 * VL) / GROUP]),
              a2);
      a3 =
          u1.fma(
              ((FloatVector)
                      i3.lanewise(VectorOperators.LSHL, 16)
                          .lanewise(VectorOperators.ASHR, 24)
                          .convert(VectorOperators.I2F, 0))
                  .mul(sc[s3 + (k + 1 * VL) / GROUP]),
              a3);
      FloatVector u2 = FloatVector.fromArray(S, x, x0 + k + 2 * VL);
      a0 =
          u2.fma(
              ((FloatVector)
                      i0.lanewise(VectorOperators.LSHL, 8)
                          .lanewise(VectorOperators.ASHR, 24)
                          .convert(VectorOperators.I2F, 0))
                  .mul(sc[s0 + (k + 2 * VL) / GROUP]),
              a0);
      a1 =
          u2.fma(
              ((FloatVector)
                      i1.lanewise(VectorOperators.LSHL, 8)
                          .lanewise(VectorOperators.ASHR, 24)
                          .convert(VectorOperators.I2F, 0))
                  .mul(sc[s1 + (k + 2 * VL) / GROUP]),
              a1);
      a2 =
          u2.fma(
              ((FloatVector)
                      i2.lanewise(VectorOperators.LSHL, 8)
                          .lanewise(VectorOperators.ASHR, 24)
                          .convert(VectorOperators.I2F, 0))
                  .mul(sc[s2 + (k + 2 * VL) / GROUP]),
              a2);
      a3 =
          u2.fma(
              ((FloatVector)
                      i3.lanewise(VectorOperators.LSHL, 8)
                          .lanewise(VectorOperators.ASHR, 24)
                          .convert(VectorOperators.I2F, 0))
                  .mul(sc[s3 + (k + 2 * VL) / GROUP]),
              a3);
      FloatVector u3 = FloatVector.fromArray(S, x, x0 + k + 3 * VL);
      a0 =
          u3.fma(
              ((FloatVector) i0.lanewise(VectorOperators.ASHR, 24).convert(VectorOperators.I2F, 0))
                  .mul(sc[s0 + (k + 3 * VL) / GROUP]),
              a0);
      a1 =
          u3.fma(
              ((FloatVector) i1.lanewise(VectorOperators.ASHR, 24).convert(VectorOperators.I2F, 0))
                  .mul(sc[s1 + (k + 3 * VL) / GROUP]),
              a1);
      a2 =
          u3.fma(
              ((FloatVector) i2.lanewise(VectorOperators.ASHR, 24).convert(VectorOperators.I2F, 0))
                  .mul(sc[s2 + (k + 3 * VL) / GROUP]),
              a2);
      a3 =
          u3.fma(
              ((FloatVector) i3.lanewise(VectorOperators.ASHR, 24).convert(VectorOperators.I2F, 0))
                  .mul(sc[s3 + (k + 3 * VL) / GROUP]),
              a3);
    }
    int y0 = yOff + m * N + n;
    a0.intoArray(tmp, 0);
    y[y0 + 0] = finish(tmp, x, x0, w, n + 0, kb, K, bias, bo);
    a1.intoArray(tmp, 0);
    y[y0 + 1] = finish(tmp, x, x0, w, n + 1, kb, K, bias, bo);
    a2.intoArray(tmp, 0);
    y[y0 + 2] = finish(tmp, x, x0, w, n + 2, kb, K, bias, bo);
    a3.intoArray(tmp, 0);
    y[y0 + 3] = finish(tmp, x, x0, w, n + 3, kb, K, bias, bo);
  }

  private static void int8w2x4(
      float[] tmp,
      float[] y,
      int yOff,
      float[] x,
      int xOff,
      CompactWeight w,
      float[] bias,
      int bo,
      int m,
      int n,
      int N,
      int K,
      int kb) {
    int[] q = w.q8;
    float[] sc = w.scales;
    int G = CompactWeight.groups(K);
    int x0 = xOff + m * K,
        x1 = x0 + K,
        x2 = x1 + K,
        x3 = x2 + K,
        r0 = n * (kb / 4),
        r1 = r0 + kb / 4;
    int s0 = n * G, s1 = s0 + G;
    FloatVector a00 = FloatVector.zero(S), a01 = a00, a10 = a00, a11 = a00;
    FloatVector a20 = a00, a21 = a00, a30 = a00, a31 = a00;
    for (int k = 0; k < kb; k += 4 * VL) {
      FloatVector u;
      IntVector i0 = IntVector.fromArray(IS, q, r0 + k / 4);
      IntVector i1 = IntVector.fromArray(IS, q, r1 + k / 4);
      FloatVector v0 =
          ((FloatVector)
                  i0.lanewise(VectorOperators.LSHL, 24)
                      .lanewise(VectorOperators.ASHR, 24)
                      .convert(VectorOperators.I2F, 0))
              .mul(sc[s0 + (k + 0 * VL) / GROUP]);
      FloatVector v1 =
          ((FloatVector)
                  i1.lanewise(VectorOperators.LSHL, 24)
                      .lanewise(VectorOperators.ASHR, 24)
                      .convert(VectorOperators.I2F, 0))
              .mul(sc[s1 + (k + 0 * VL) / GROUP]);
      u = FloatVector.fromArray(S, x, x0 + k + 0 * VL);
      a00 = u.fma(v0, a00);
      a01 = u.fma(v1, a01);
      u = FloatVector.fromArray(S, x, x1 + k + 0 * VL);
      a10 = u.fma(v0, a10);
      a11 = u.fma(v1, a11);
      u = FloatVector.fromArray(S, x, x2 + k + 0 * VL);
      a20 = u.fma(v0, a20);
      a21 = u.fma(v1, a21);
      u = FloatVector.fromArray(S, x, x3 + k + 0 * VL);
      a30 = u.fma(v0, a30);
      a31 = u.fma(v1, a31);
      v0 =
          ((FloatVector)
                  i0.lanewise(VectorOperators.LSHL, 16)
                      .lanewise(VectorOperators.ASHR, 24)
                      .convert(VectorOperators.I2F, 0))
              .mul(sc[s0 + (k + 1 * VL) / GROUP]);
      v1 =
          ((FloatVector)
                  i1.lanewise(VectorOperators.LSHL, 16)
                      .lanewise(VectorOperators.ASHR, 24)
                      .convert(VectorOperators.I2F, 0))
              .mul(sc[s1 + (k + 1 * VL) / GROUP]);
      u = FloatVector.fromArray(S, x, x0 + k + 1 * VL);
      a00 = u.fma(v0, a00);
      a01 = u.fma(v1, a01);
      u = FloatVector.fromArray(S, x, x1 + k + 1 * VL);
      a10 = u.fma(v0, a10);
      a11 = u.fma(v1, a11);
      u = FloatVector.fromArray(S, x, x2 + k + 1 * VL);
      a20 = u.fma(v0, a20);
      a21 = u.fma(v1, a21);
      u = FloatVector.fromArray(S, x, x3 + k + 1 * VL);
      a30 = u.fma(v0, a30);
      a31 = u.fma(v1, a31);
      v0 =
          ((FloatVector)
                  i0.lanewise(VectorOperators.LSHL, 8)
                      .lanewise(VectorOperators.ASHR, 24)
                      .convert(VectorOperators.I2F, 0))
              .mul(sc[s0 + (k + 2 * VL) / GROUP]);
      v1 =
          ((FloatVector)
                  i1.lanewise(VectorOperators.LSHL, 8)
                      .lanewise(VectorOperators.ASHR, 24)
                      .convert(VectorOperators.I2F, 0))
              .mul(sc[s1 + (k + 2 * VL) / GROUP]);
      u = FloatVector.fromArray(S, x, x0 + k + 2 * VL);
      a00 = u.fma(v0, a00);
      a01 = u.fma(v1, a01);
      u = FloatVector.fromArray(S, x, x1 + k + 2 * VL);
      a10 = u.fma(v0, a10);
      a11 = u.fma(v1, a11);
      u = FloatVector.fromArray(S, x, x2 + k + 2 * VL);
      a20 = u.fma(v0, a20);
      a21 = u.fma(v1, a21);
      u = FloatVector.fromArray(S, x, x3 + k + 2 * VL);
      a30 = u.fma(v0, a30);
      a31 = u.fma(v1, a31);
      v0 =
          ((FloatVector) i0.lanewise(VectorOperators.ASHR, 24).convert(VectorOperators.I2F, 0))
              .mul(sc[s0 + (k + 3 * VL) / GROUP]);
      v1 =
          ((FloatVector) i1.lanewise(VectorOperators.ASHR, 24).convert(VectorOperators.I2F, 0))
              .mul(sc[s1 + (k + 3 * VL) / GROUP]);
      u = FloatVector.fromArray(S, x, x0 + k + 3 * VL);
      a00 = u.fma(v0, a00);
      a01 = u.fma(v1, a01);
      u = FloatVector.fromArray(S, x, x1 + k + 3 * VL);
      a10 = u.fma(v0, a10);
      a11 = u.fma(v1, a11);
      u = FloatVector.fromArray(S, x, x2 + k + 3 * VL);
      a20 = u.fma(v0, a20);
      a21 = u.fma(v1, a21);
      u = FloatVector.fromArray(S, x, x3 + k + 3 * VL);
      a30 = u.fma(v0, a30);
      a31 = u.fma(v1, a31);
    }
    int y0 = yOff + m * N + n;
    a00.intoArray(tmp, 0);
    y[y0 + 0 * N + 0] = finish(tmp, x, x0, w, n + 0, kb, K, bias, bo);
    a01.intoArray(tmp, 0);
    y[y0 + 0 * N + 1] = finish(tmp, x, x0, w, n + 1, kb, K, bias, bo);
    a10.intoArray(tmp, 0);
    y[y0 + 1 * N + 0] = finish(tmp, x, x1, w, n + 0, kb, K, bias, bo);
    a11.intoArray(tmp, 0);
    y[y0 + 1 * N + 1] = finish(tmp, x, x1, w, n + 1, kb, K, bias, bo);
    a20.intoArray(tmp, 0);
    y[y0 + 2 * N + 0] = finish(tmp, x, x2, w, n + 0, kb, K, bias, bo);
    a21.intoArray(tmp, 0);
    y[y0 + 2 * N + 1] = finish(tmp, x, x2, w, n + 1, kb, K, bias, bo);
    a30.intoArray(tmp, 0);
    y[y0 + 3 * N + 0] = finish(tmp, x, x3, w, n + 0, kb, K, bias, bo);
    a31.intoArray(tmp, 0);
    y[y0 + 3 * N + 1] = finish(tmp, x, x3, w, n + 1, kb, K, bias, bo);
  }

  /**
   * The lane sum of tmp in MatmulDecode's fixed pairwise order, then the scalar tail k in [kb, K)
   * in order (each weight converted as the vectors convert it), then the bias.
   */
  private static float finish(
      float[] tmp, float[] x, int xr, CompactWeight w, int n, int kb, int K, float[] bias, int bo) {
    float s = kb == 0 ? 0f : MatmulDecode.laneSum(tmp);
    if (kb < K) {
      if (w.format == CompactWeight.Format.BF16) {
        short[] b = w.bf16Tail;
        int tr = n * (K - kb) - kb;
        for (int k = kb; k < K; k++)
          s = Math.fma(x[xr + k], Float.intBitsToFloat(b[tr + k] << 16), s);
      } else {
        byte[] q = w.q8Tail;
        float[] sc = w.scales;
        int sr = n * CompactWeight.groups(K), tr = n * (K - kb) - kb;
        for (int k = kb; k < K; k++)
          s = Math.fma(x[xr + k], q[tr + k] * sc[sr + k / CompactWeight.GROUP], s);
      }
    }
    return bias == null ? s : bias[bo + n] + s;
  }

  /**
   * Packs w (as B = wᵀ, K × N) for MatmulGemm.gemm's {@code packedB}, converting to float32: the
   * layout of MatmulGemm.packB with bTrans.
   */
  static void pack(float[] bp, CompactWeight w) {
    int red = w.k, cols = w.n;
    int P = MatmulGemm.panels(cols),
        NR = MatmulGemm.NR,
        grain = (int) Math.max(1, (1L << 16) / ((long) Math.max(1, red) * NR));
    if (Parallel.serial(P, grain)) packPanels(bp, w, P, 0, P);
    else Parallel.forRange(P, grain, (p0, p1) -> packPanels(bp, w, P, p0, p1));
  }

  private static void packPanels(float[] bp, CompactWeight w, int P, int p0, int p1) {
    int red = w.k, cols = w.n, NR = MatmulGemm.NR, KC = MatmulGemm.KC;
    for (int p = p0; p < p1; p++) {
      for (int k0 = 0; k0 < red; k0 += KC) {
        int kc = Math.min(KC, red - k0), dst = P * NR * k0 + p * kc * NR, n0 = p * NR;
        int nc = Math.min(NR, cols - n0);
        for (int j = 0; j < NR; j++) {
          if (j < nc) w.rowToFloats(n0 + j, k0, k0 + kc, bp, dst + j, NR);
          else for (int k = 0; k < kc; k++) bp[dst + k * NR + j] = 0f;
        }
      }
    }
  }
}
