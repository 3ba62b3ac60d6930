package org.hnet.kernels;

import static org.hnet.kernels.MatmulCompactBf16.IS;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * bf16 decode kernels for 2 to 4 rows of x against the 4 rows of a pass (or 2 of them): the batch-1
 * kernels and the conversion are in {@link MatmulCompactBf16}. Each kernel is written out (16
 * accumulators do not fit in an array without allocating, and Java has no templates).
 */
final class MatmulCompactBf16Rows {
  private MatmulCompactBf16Rows() {}

  private static final VectorSpecies<Float> S = MatmulGemm.S;
  private static final int VL = MatmulGemm.VL;

  /** As {@link MatmulCompactBf16#bf16w4x1}, against 2 rows of x (16 lanes only). */
  static void bf16w4x2(
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
      int rs,
      int N,
      int K,
      int kb) {
    int[] p = w.bf16Pairs;
    int x0 = xOff + m * K, x1 = x0 + K;
    int st = rs * (kb / 2), r0 = n * (kb / 2), r1 = r0 + st, r2 = r1 + st, r3 = r2 + st;
    FloatVector z = FloatVector.zero(S);
    FloatVector a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z;
    for (int k = 0; k < kb; k += 2 * VL) {
      IntVector i0 = IntVector.fromArray(IS, p, r0 + k / 2);
      IntVector i1 = IntVector.fromArray(IS, p, r1 + k / 2);
      IntVector i2 = IntVector.fromArray(IS, p, r2 + k / 2);
      IntVector i3 = IntVector.fromArray(IS, p, r3 + k / 2);
      FloatVector v0 = i0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      FloatVector v1 = i1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      FloatVector v2 = i2.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      FloatVector v3 = i3.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      FloatVector u = FloatVector.fromArray(S, x, x0 + k);
      a00 = u.fma(v0, a00);
      a01 = u.fma(v1, a01);
      a02 = u.fma(v2, a02);
      a03 = u.fma(v3, a03);
      u = FloatVector.fromArray(S, x, x1 + k);
      a10 = u.fma(v0, a10);
      a11 = u.fma(v1, a11);
      a12 = u.fma(v2, a12);
      a13 = u.fma(v3, a13);
      v0 = i0.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats();
      v1 = i1.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats();
      v2 = i2.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats();
      v3 = i3.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats();
      u = FloatVector.fromArray(S, x, x0 + k + VL);
      a00 = u.fma(v0, a00);
      a01 = u.fma(v1, a01);
      a02 = u.fma(v2, a02);
      a03 = u.fma(v3, a03);
      u = FloatVector.fromArray(S, x, x1 + k + VL);
      a10 = u.fma(v0, a10);
      a11 = u.fma(v1, a11);
      a12 = u.fma(v2, a12);
      a13 = u.fma(v3, a13);
    }
    int y0 = yOff + m * N + n;
    FloatVector e80 = a00.blend(a10, Lanes.H8).add(a10.blend(a00, Lanes.H8).rearrange(Lanes.X8));
    FloatVector e81 = a01.blend(a11, Lanes.H8).add(a11.blend(a01, Lanes.H8).rearrange(Lanes.X8));
    FloatVector e82 = a02.blend(a12, Lanes.H8).add(a12.blend(a02, Lanes.H8).rearrange(Lanes.X8));
    FloatVector e83 = a03.blend(a13, Lanes.H8).add(a13.blend(a03, Lanes.H8).rearrange(Lanes.X8));
    FloatVector e40 = e80.blend(e82, Lanes.H4).add(e82.blend(e80, Lanes.H4).rearrange(Lanes.X4));
    FloatVector e41 = e81.blend(e83, Lanes.H4).add(e83.blend(e81, Lanes.H4).rearrange(Lanes.X4));
    FloatVector e2 = e40.blend(e41, Lanes.H2).add(e41.blend(e40, Lanes.H2).rearrange(Lanes.X2));
    FloatVector e1 = e2.add(e2.rearrange(Lanes.X1));
    e1.intoArray(tmp, 0);
    y[y0 + 0 * N + 0 * rs] =
        kb < K
            ? MatmulCompact.finishSum(tmp[1], x, x0, w, n + 0 * rs, kb, K, bias, bo)
            : bias == null ? tmp[1] : bias[bo + n + 0 * rs] + tmp[1];
    y[y0 + 0 * N + 1 * rs] =
        kb < K
            ? MatmulCompact.finishSum(tmp[3], x, x0, w, n + 1 * rs, kb, K, bias, bo)
            : bias == null ? tmp[3] : bias[bo + n + 1 * rs] + tmp[3];
    y[y0 + 0 * N + 2 * rs] =
        kb < K
            ? MatmulCompact.finishSum(tmp[5], x, x0, w, n + 2 * rs, kb, K, bias, bo)
            : bias == null ? tmp[5] : bias[bo + n + 2 * rs] + tmp[5];
    y[y0 + 0 * N + 3 * rs] =
        kb < K
            ? MatmulCompact.finishSum(tmp[7], x, x0, w, n + 3 * rs, kb, K, bias, bo)
            : bias == null ? tmp[7] : bias[bo + n + 3 * rs] + tmp[7];
    y[y0 + 1 * N + 0 * rs] =
        kb < K
            ? MatmulCompact.finishSum(tmp[9], x, x1, w, n + 0 * rs, kb, K, bias, bo)
            : bias == null ? tmp[9] : bias[bo + n + 0 * rs] + tmp[9];
    y[y0 + 1 * N + 1 * rs] =
        kb < K
            ? MatmulCompact.finishSum(tmp[11], x, x1, w, n + 1 * rs, kb, K, bias, bo)
            : bias == null ? tmp[11] : bias[bo + n + 1 * rs] + tmp[11];
    y[y0 + 1 * N + 2 * rs] =
        kb < K
            ? MatmulCompact.finishSum(tmp[13], x, x1, w, n + 2 * rs, kb, K, bias, bo)
            : bias == null ? tmp[13] : bias[bo + n + 2 * rs] + tmp[13];
    y[y0 + 1 * N + 3 * rs] =
        kb < K
            ? MatmulCompact.finishSum(tmp[15], x, x1, w, n + 3 * rs, kb, K, bias, bo)
            : bias == null ? tmp[15] : bias[bo + n + 3 * rs] + tmp[15];
  }

  /** As {@link MatmulCompactBf16#bf16w4x1}, against 3 rows of x (16 lanes only). */
  static void bf16w4x3(
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
      int rs,
      int N,
      int K,
      int kb) {
    int[] p = w.bf16Pairs;
    int x0 = xOff + m * K, x1 = x0 + K, x2 = x1 + K;
    int st = rs * (kb / 2), r0 = n * (kb / 2), r1 = r0 + st, r2 = r1 + st, r3 = r2 + st;
    FloatVector z = FloatVector.zero(S);
    FloatVector a00 = z,
        a01 = z,
        a02 = z,
        a03 = z,
        a10 = z,
        a11 = z,
        a12 = z,
        a13 = z,
        a20 = z,
        a21 = z,
        a22 = z,
        a23 = z;
    for (int k = 0; k < kb; k += 2 * VL) {
      IntVector i0 = IntVector.fromArray(IS, p, r0 + k / 2);
      IntVector i1 = IntVector.fromArray(IS, p, r1 + k / 2);
      IntVector i2 = IntVector.fromArray(IS, p, r2 + k / 2);
      IntVector i3 = IntVector.fromArray(IS, p, r3 + k / 2);
      FloatVector v0 = i0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      FloatVector v1 = i1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      FloatVector v2 = i2.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      FloatVector v3 = i3.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      FloatVector u = FloatVector.fromArray(S, x, x0 + k);
      a00 = u.fma(v0, a00);
      a01 = u.fma(v1, a01);
      a02 = u.fma(v2, a02);
      a03 = u.fma(v3, a03);
      u = FloatVector.fromArray(S, x, x1 + k);
      a10 = u.fma(v0, a10);
      a11 = u.fma(v1, a11);
      a12 = u.fma(v2, a12);
      a13 = u.fma(v3, a13);
      u = FloatVector.fromArray(S, x, x2 + k);
      a20 = u.fma(v0, a20);
      a21 = u.fma(v1, a21);
      a22 = u.fma(v2, a22);
      a23 = u.fma(v3, a23);
      v0 = i0.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats();
      v1 = i1.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats();
      v2 = i2.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats();
      v3 = i3.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats();
      u = FloatVector.fromArray(S, x, x0 + k + VL);
      a00 = u.fma(v0, a00);
      a01 = u.fma(v1, a01);
      a02 = u.fma(v2, a02);
      a03 = u.fma(v3, a03);
      u = FloatVector.fromArray(S, x, x1 + k + VL);
      a10 = u.fma(v0, a10);
      a11 = u.fma(v1, a11);
      a12 = u.fma(v2, a12);
      a13 = u.fma(v3, a13);
      u = FloatVector.fromArray(S, x, x2 + k + VL);
      a20 = u.fma(v0, a20);
      a21 = u.fma(v1, a21);
      a22 = u.fma(v2, a22);
      a23 = u.fma(v3, a23);
    }
    int y0 = yOff + m * N + n;
    FloatVector e80 = a00.blend(a12, Lanes.H8).add(a12.blend(a00, Lanes.H8).rearrange(Lanes.X8));
    FloatVector e81 = a01.blend(a13, Lanes.H8).add(a13.blend(a01, Lanes.H8).rearrange(Lanes.X8));
    FloatVector e82 = a02.blend(a20, Lanes.H8).add(a20.blend(a02, Lanes.H8).rearrange(Lanes.X8));
    FloatVector e83 = a03.blend(a21, Lanes.H8).add(a21.blend(a03, Lanes.H8).rearrange(Lanes.X8));
    FloatVector e84 = a10.blend(a22, Lanes.H8).add(a22.blend(a10, Lanes.H8).rearrange(Lanes.X8));
    FloatVector e85 = a11.blend(a23, Lanes.H8).add(a23.blend(a11, Lanes.H8).rearrange(Lanes.X8));
    FloatVector e40 = e80.blend(e83, Lanes.H4).add(e83.blend(e80, Lanes.H4).rearrange(Lanes.X4));
    FloatVector e41 = e81.blend(e84, Lanes.H4).add(e84.blend(e81, Lanes.H4).rearrange(Lanes.X4));
    FloatVector e42 = e82.blend(e85, Lanes.H4).add(e85.blend(e82, Lanes.H4).rearrange(Lanes.X4));
    FloatVector e20 = e40.blend(e42, Lanes.H2).add(e42.blend(e40, Lanes.H2).rearrange(Lanes.X2));
    FloatVector e21 = e41.add(e41.rearrange(Lanes.X2));
    FloatVector e1 = e20.blend(e21, Lanes.H1).add(e21.blend(e20, Lanes.H1).rearrange(Lanes.X1));
    e1.intoArray(tmp, 0);
    y[y0 + 0 * N + 0 * rs] =
        kb < K
            ? MatmulCompact.finishSum(tmp[0], x, x0, w, n + 0 * rs, kb, K, bias, bo)
            : bias == null ? tmp[0] : bias[bo + n + 0 * rs] + tmp[0];
    y[y0 + 0 * N + 1 * rs] =
        kb < K
            ? MatmulCompact.finishSum(tmp[3], x, x0, w, n + 1 * rs, kb, K, bias, bo)
            : bias == null ? tmp[3] : bias[bo + n + 1 * rs] + tmp[3];
    y[y0 + 0 * N + 2 * rs] =
        kb < K
            ? MatmulCompact.finishSum(tmp[2], x, x0, w, n + 2 * rs, kb, K, bias, bo)
            : bias == null ? tmp[2] : bias[bo + n + 2 * rs] + tmp[2];
    y[y0 + 0 * N + 3 * rs] =
        kb < K
            ? MatmulCompact.finishSum(tmp[4], x, x0, w, n + 3 * rs, kb, K, bias, bo)
            : bias == null ? tmp[4] : bias[bo + n + 3 * rs] + tmp[4];
    y[y0 + 1 * N + 0 * rs] =
        kb < K
            ? MatmulCompact.finishSum(tmp[7], x, x1, w, n + 0 * rs, kb, K, bias, bo)
            : bias == null ? tmp[7] : bias[bo + n + 0 * rs] + tmp[7];
    y[y0 + 1 * N + 1 * rs] =
        kb < K
            ? MatmulCompact.finishSum(tmp[6], x, x1, w, n + 1 * rs, kb, K, bias, bo)
            : bias == null ? tmp[6] : bias[bo + n + 1 * rs] + tmp[6];
    y[y0 + 1 * N + 2 * rs] =
        kb < K
            ? MatmulCompact.finishSum(tmp[8], x, x1, w, n + 2 * rs, kb, K, bias, bo)
            : bias == null ? tmp[8] : bias[bo + n + 2 * rs] + tmp[8];
    y[y0 + 1 * N + 3 * rs] =
        kb < K
            ? MatmulCompact.finishSum(tmp[11], x, x1, w, n + 3 * rs, kb, K, bias, bo)
            : bias == null ? tmp[11] : bias[bo + n + 3 * rs] + tmp[11];
    y[y0 + 2 * N + 0 * rs] =
        kb < K
            ? MatmulCompact.finishSum(tmp[10], x, x2, w, n + 0 * rs, kb, K, bias, bo)
            : bias == null ? tmp[10] : bias[bo + n + 0 * rs] + tmp[10];
    y[y0 + 2 * N + 1 * rs] =
        kb < K
            ? MatmulCompact.finishSum(tmp[12], x, x2, w, n + 1 * rs, kb, K, bias, bo)
            : bias == null ? tmp[12] : bias[bo + n + 1 * rs] + tmp[12];
    y[y0 + 2 * N + 2 * rs] =
        kb < K
            ? MatmulCompact.finishSum(tmp[15], x, x2, w, n + 2 * rs, kb, K, bias, bo)
            : bias == null ? tmp[15] : bias[bo + n + 2 * rs] + tmp[15];
    y[y0 + 2 * N + 3 * rs] =
        kb < K
            ? MatmulCompact.finishSum(tmp[14], x, x2, w, n + 3 * rs, kb, K, bias, bo)
            : bias == null ? tmp[14] : bias[bo + n + 3 * rs] + tmp[14];
  }

  /** As {@link MatmulCompactBf16#bf16w4x1}, against 4 rows of x (16 lanes only). */
  static void bf16w4x4(
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
      int rs,
      int N,
      int K,
      int kb) {
    int[] p = w.bf16Pairs;
    int x0 = xOff + m * K, x1 = x0 + K, x2 = x1 + K, x3 = x2 + K;
    int st = rs * (kb / 2), r0 = n * (kb / 2), r1 = r0 + st, r2 = r1 + st, r3 = r2 + st;
    FloatVector z = FloatVector.zero(S);
    FloatVector a00 = z,
        a01 = z,
        a02 = z,
        a03 = z,
        a10 = z,
        a11 = z,
        a12 = z,
        a13 = z,
        a20 = z,
        a21 = z,
        a22 = z,
        a23 = z,
        a30 = z,
        a31 = z,
        a32 = z,
        a33 = z;
    for (int k = 0; k < kb; k += 2 * VL) {
      IntVector i0 = IntVector.fromArray(IS, p, r0 + k / 2);
      IntVector i1 = IntVector.fromArray(IS, p, r1 + k / 2);
      IntVector i2 = IntVector.fromArray(IS, p, r2 + k / 2);
      IntVector i3 = IntVector.fromArray(IS, p, r3 + k / 2);
      FloatVector v0 = i0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      FloatVector v1 = i1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      FloatVector v2 = i2.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      FloatVector v3 = i3.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      FloatVector u = FloatVector.fromArray(S, x, x0 + k);
      a00 = u.fma(v0, a00);
      a01 = u.fma(v1, a01);
      a02 = u.fma(v2, a02);
      a03 = u.fma(v3, a03);
      u = FloatVector.fromArray(S, x, x1 + k);
      a10 = u.fma(v0, a10);
      a11 = u.fma(v1, a11);
      a12 = u.fma(v2, a12);
      a13 = u.fma(v3, a13);
      u = FloatVector.fromArray(S, x, x2 + k);
      a20 = u.fma(v0, a20);
      a21 = u.fma(v1, a21);
      a22 = u.fma(v2, a22);
      a23 = u.fma(v3, a23);
      u = FloatVector.fromArray(S, x, x3 + k);
      a30 = u.fma(v0, a30);
      a31 = u.fma(v1, a31);
      a32 = u.fma(v2, a32);
      a33 = u.fma(v3, a33);
      v0 = i0.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats();
      v1 = i1.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats();
      v2 = i2.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats();
      v3 = i3.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats();
      u = FloatVector.fromArray(S, x, x0 + k + VL);
      a00 = u.fma(v0, a00);
      a01 = u.fma(v1, a01);
      a02 = u.fma(v2, a02);
      a03 = u.fma(v3, a03);
      u = FloatVector.fromArray(S, x, x1 + k + VL);
      a10 = u.fma(v0, a10);
      a11 = u.fma(v1, a11);
      a12 = u.fma(v2, a12);
      a13 = u.fma(v3, a13);
      u = FloatVector.fromArray(S, x, x2 + k + VL);
      a20 = u.fma(v0, a20);
      a21 = u.fma(v1, a21);
      a22 = u.fma(v2, a22);
      a23 = u.fma(v3, a23);
      u = FloatVector.fromArray(S, x, x3 + k + VL);
      a30 = u.fma(v0, a30);
      a31 = u.fma(v1, a31);
      a32 = u.fma(v2, a32);
      a33 = u.fma(v3, a33);
    }
    int y0 = yOff + m * N + n;
    FloatVector e80 = a00.blend(a20, Lanes.H8).add(a20.blend(a00, Lanes.H8).rearrange(Lanes.X8));
    FloatVector e81 = a01.blend(a21, Lanes.H8).add(a21.blend(a01, Lanes.H8).rearrange(Lanes.X8));
    FloatVector e82 = a02.blend(a22, Lanes.H8).add(a22.blend(a02, Lanes.H8).rearrange(Lanes.X8));
    FloatVector e83 = a03.blend(a23, Lanes.H8).add(a23.blend(a03, Lanes.H8).rearrange(Lanes.X8));
    FloatVector e84 = a10.blend(a30, Lanes.H8).add(a30.blend(a10, Lanes.H8).rearrange(Lanes.X8));
    FloatVector e85 = a11.blend(a31, Lanes.H8).add(a31.blend(a11, Lanes.H8).rearrange(Lanes.X8));
    FloatVector e86 = a12.blend(a32, Lanes.H8).add(a32.blend(a12, Lanes.H8).rearrange(Lanes.X8));
    FloatVector e87 = a13.blend(a33, Lanes.H8).add(a33.blend(a13, Lanes.H8).rearrange(Lanes.X8));
    FloatVector e40 = e80.blend(e84, Lanes.H4).add(e84.blend(e80, Lanes.H4).rearrange(Lanes.X4));
    FloatVector e41 = e81.blend(e85, Lanes.H4).add(e85.blend(e81, Lanes.H4).rearrange(Lanes.X4));
    FloatVector e42 = e82.blend(e86, Lanes.H4).add(e86.blend(e82, Lanes.H4).rearrange(Lanes.X4));
    FloatVector e43 = e83.blend(e87, Lanes.H4).add(e87.blend(e83, Lanes.H4).rearrange(Lanes.X4));
    FloatVector e20 = e40.blend(e42, Lanes.H2).add(e42.blend(e40, Lanes.H2).rearrange(Lanes.X2));
    FloatVector e21 = e41.blend(e43, Lanes.H2).add(e43.blend(e41, Lanes.H2).rearrange(Lanes.X2));
    FloatVector e1 = e20.blend(e21, Lanes.H1).add(e21.blend(e20, Lanes.H1).rearrange(Lanes.X1));
    e1.intoArray(tmp, 0);
    y[y0 + 0 * N + 0 * rs] =
        kb < K
            ? MatmulCompact.finishSum(tmp[0], x, x0, w, n + 0 * rs, kb, K, bias, bo)
            : bias == null ? tmp[0] : bias[bo + n + 0 * rs] + tmp[0];
    y[y0 + 0 * N + 1 * rs] =
        kb < K
            ? MatmulCompact.finishSum(tmp[1], x, x0, w, n + 1 * rs, kb, K, bias, bo)
            : bias == null ? tmp[1] : bias[bo + n + 1 * rs] + tmp[1];
    y[y0 + 0 * N + 2 * rs] =
        kb < K
            ? MatmulCompact.finishSum(tmp[2], x, x0, w, n + 2 * rs, kb, K, bias, bo)
            : bias == null ? tmp[2] : bias[bo + n + 2 * rs] + tmp[2];
    y[y0 + 0 * N + 3 * rs] =
        kb < K
            ? MatmulCompact.finishSum(tmp[3], x, x0, w, n + 3 * rs, kb, K, bias, bo)
            : bias == null ? tmp[3] : bias[bo + n + 3 * rs] + tmp[3];
    y[y0 + 1 * N + 0 * rs] =
        kb < K
            ? MatmulCompact.finishSum(tmp[4], x, x1, w, n + 0 * rs, kb, K, bias, bo)
            : bias == null ? tmp[4] : bias[bo + n + 0 * rs] + tmp[4];
    y[y0 + 1 * N + 1 * rs] =
        kb < K
            ? MatmulCompact.finishSum(tmp[5], x, x1, w, n + 1 * rs, kb, K, bias, bo)
            : bias == null ? tmp[5] : bias[bo + n + 1 * rs] + tmp[5];
    y[y0 + 1 * N + 2 * rs] =
        kb < K
            ? MatmulCompact.finishSum(tmp[6], x, x1, w, n + 2 * rs, kb, K, bias, bo)
            : bias == null ? tmp[6] : bias[bo + n + 2 * rs] + tmp[6];
    y[y0 + 1 * N + 3 * rs] =
        kb < K
            ? MatmulCompact.finishSum(tmp[7], x, x1, w, n + 3 * rs, kb, K, bias, bo)
            : bias == null ? tmp[7] : bias[bo + n + 3 * rs] + tmp[7];
    y[y0 + 2 * N + 0 * rs] =
        kb < K
            ? MatmulCompact.finishSum(tmp[8], x, x2, w, n + 0 * rs, kb, K, bias, bo)
            : bias == null ? tmp[8] : bias[bo + n + 0 * rs] + tmp[8];
    y[y0 + 2 * N + 1 * rs] =
        kb < K
            ? MatmulCompact.finishSum(tmp[9], x, x2, w, n + 1 * rs, kb, K, bias, bo)
            : bias == null ? tmp[9] : bias[bo + n + 1 * rs] + tmp[9];
    y[y0 + 2 * N + 2 * rs] =
        kb < K
            ? MatmulCompact.finishSum(tmp[10], x, x2, w, n + 2 * rs, kb, K, bias, bo)
            : bias == null ? tmp[10] : bias[bo + n + 2 * rs] + tmp[10];
    y[y0 + 2 * N + 3 * rs] =
        kb < K
            ? MatmulCompact.finishSum(tmp[11], x, x2, w, n + 3 * rs, kb, K, bias, bo)
            : bias == null ? tmp[11] : bias[bo + n + 3 * rs] + tmp[11];
    y[y0 + 3 * N + 0 * rs] =
        kb < K
            ? MatmulCompact.finishSum(tmp[12], x, x3, w, n + 0 * rs, kb, K, bias, bo)
            : bias == null ? tmp[12] : bias[bo + n + 0 * rs] + tmp[12];
    y[y0 + 3 * N + 1 * rs] =
        kb < K
            ? MatmulCompact.finishSum(tmp[13], x, x3, w, n + 1 * rs, kb, K, bias, bo)
            : bias == null ? tmp[13] : bias[bo + n + 1 * rs] + tmp[13];
    y[y0 + 3 * N + 2 * rs] =
        kb < K
            ? MatmulCompact.finishSum(tmp[14], x, x3, w, n + 2 * rs, kb, K, bias, bo)
            : bias == null ? tmp[14] : bias[bo + n + 2 * rs] + tmp[14];
    y[y0 + 3 * N + 3 * rs] =
        kb < K
            ? MatmulCompact.finishSum(tmp[15], x, x3, w, n + 3 * rs, kb, K, bias, bo)
            : bias == null ? tmp[15] : bias[bo + n + 3 * rs] + tmp[15];
  }

  /**
   * Rows n and n + rs of w against 4 rows of x, as {@link MatmulCompactBf16#bf16w4x1}: at 8 lanes
   * (16 registers) the pairs of rows of w, not {@link MatmulCompactBf16Rows#bf16w4x4}, whose 16
   * accumulators would not fit. Fewer than 16 lanes only.
   */
  static void bf16w2x4(
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
      int rs,
      int N,
      int K,
      int kb) {
    int[] p = w.bf16Pairs;
    int x0 = xOff + m * K, x1 = x0 + K, x2 = x1 + K, x3 = x2 + K;
    int st = rs * (kb / 2), r0 = n * (kb / 2), r1 = r0 + st;
    FloatVector z = FloatVector.zero(S);
    FloatVector a00 = z, a01 = z, a10 = z, a11 = z, a20 = z, a21 = z, a30 = z, a31 = z;
    for (int k = 0; k < kb; k += 2 * VL) {
      IntVector i0 = IntVector.fromArray(IS, p, r0 + k / 2);
      IntVector i1 = IntVector.fromArray(IS, p, r1 + k / 2);
      FloatVector v0 = i0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      FloatVector v1 = i1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
      FloatVector u = FloatVector.fromArray(S, x, x0 + k);
      a00 = u.fma(v0, a00);
      a01 = u.fma(v1, a01);
      u = FloatVector.fromArray(S, x, x1 + k);
      a10 = u.fma(v0, a10);
      a11 = u.fma(v1, a11);
      u = FloatVector.fromArray(S, x, x2 + k);
      a20 = u.fma(v0, a20);
      a21 = u.fma(v1, a21);
      u = FloatVector.fromArray(S, x, x3 + k);
      a30 = u.fma(v0, a30);
      a31 = u.fma(v1, a31);
      v0 = i0.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats();
      v1 = i1.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats();
      u = FloatVector.fromArray(S, x, x0 + k + VL);
      a00 = u.fma(v0, a00);
      a01 = u.fma(v1, a01);
      u = FloatVector.fromArray(S, x, x1 + k + VL);
      a10 = u.fma(v0, a10);
      a11 = u.fma(v1, a11);
      u = FloatVector.fromArray(S, x, x2 + k + VL);
      a20 = u.fma(v0, a20);
      a21 = u.fma(v1, a21);
      u = FloatVector.fromArray(S, x, x3 + k + VL);
      a30 = u.fma(v0, a30);
      a31 = u.fma(v1, a31);
    }
    int y0 = yOff + m * N + n;
    a00.intoArray(tmp, 0);
    y[y0 + 0 * N + 0 * rs] = MatmulCompact.finish(tmp, x, x0, w, n + 0 * rs, kb, K, bias, bo);
    a01.intoArray(tmp, 0);
    y[y0 + 0 * N + 1 * rs] = MatmulCompact.finish(tmp, x, x0, w, n + 1 * rs, kb, K, bias, bo);
    a10.intoArray(tmp, 0);
    y[y0 + 1 * N + 0 * rs] = MatmulCompact.finish(tmp, x, x1, w, n + 0 * rs, kb, K, bias, bo);
    a11.intoArray(tmp, 0);
    y[y0 + 1 * N + 1 * rs] = MatmulCompact.finish(tmp, x, x1, w, n + 1 * rs, kb, K, bias, bo);
    a20.intoArray(tmp, 0);
    y[y0 + 2 * N + 0 * rs] = MatmulCompact.finish(tmp, x, x2, w, n + 0 * rs, kb, K, bias, bo);
    a21.intoArray(tmp, 0);
    y[y0 + 2 * N + 1 * rs] = MatmulCompact.finish(tmp, x, x2, w, n + 1 * rs, kb, K, bias, bo);
    a30.intoArray(tmp, 0);
    y[y0 + 3 * N + 0 * rs] = MatmulCompact.finish(tmp, x, x3, w, n + 0 * rs, kb, K, bias, bo);
    a31.intoArray(tmp, 0);
    y[y0 + 3 * N + 1 * rs] = MatmulCompact.finish(tmp, x, x3, w, n + 1 * rs, kb, K, bias, bo);
  }
}
