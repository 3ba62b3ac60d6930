package org.hnet.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Decode kernels for bf16 weights, two to an int, converted by a shift and by a mask ({@link
 * MatmulCompact} has the layout, the legend and the order of operations that makes a batch row
 * equal the row alone).
 */
final class MatmulCompactBf16 {
  private MatmulCompactBf16() {}

  private static final VectorSpecies<Float> S = MatmulGemm.S;
  private static final int VL = MatmulGemm.VL;
  private static final VectorSpecies<Integer> IS =
      IntVector.SPECIES_PREFERRED.withShape(S.vectorShape()).check(int.class);

  static void bf16w1x1(
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
    y[yOff + m * N + n] = MatmulCompact.finish(tmp, x, x0, w, n, kb, K, bias, bo);
  }

  static void bf16w4x1(
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
    y[y0 + 0] = MatmulCompact.finish(tmp, x, x0, w, n + 0, kb, K, bias, bo);
    a1.intoArray(tmp, 0);
    y[y0 + 1] = MatmulCompact.finish(tmp, x, x0, w, n + 1, kb, K, bias, bo);
    a2.intoArray(tmp, 0);
    y[y0 + 2] = MatmulCompact.finish(tmp, x, x0, w, n + 2, kb, K, bias, bo);
    a3.intoArray(tmp, 0);
    y[y0 + 3] = MatmulCompact.finish(tmp, x, x0, w, n + 3, kb, K, bias, bo);
  }

  /**
   * 16 rows of w against one row of x, loaded 8 at a time: sixteen streams from memory keep more
   * lines in flight than four (the conversion's dependent operations otherwise stall the loads;
   * measured at batch 1: 4 rows reached 55-65% of the float32 kernel's bytes/s, 16 rows 80-100%).
   * Each output's operations are those of {@link #bf16w1x1}.
   */
  static void bf16w16x1(
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
    int x0 = xOff + m * K, h = kb / 2, r0 = n * h;
    FloatVector a0 = FloatVector.zero(S),
        a1 = a0,
        a2 = a0,
        a3 = a0,
        a4 = a0,
        a5 = a0,
        a6 = a0,
        a7 = a0;
    FloatVector a8 = a0, a9 = a0, a10 = a0, a11 = a0, a12 = a0, a13 = a0, a14 = a0, a15 = a0;
    for (int k = 0; k < kb; k += 2 * VL) {
      int o = r0 + k / 2;
      FloatVector u = FloatVector.fromArray(S, x, x0 + k),
          v = FloatVector.fromArray(S, x, x0 + k + VL);
      {
        IntVector i0 = IntVector.fromArray(IS, p, o + 0 * h);
        IntVector i1 = IntVector.fromArray(IS, p, o + 1 * h);
        IntVector i2 = IntVector.fromArray(IS, p, o + 2 * h);
        IntVector i3 = IntVector.fromArray(IS, p, o + 3 * h);
        IntVector i4 = IntVector.fromArray(IS, p, o + 4 * h);
        IntVector i5 = IntVector.fromArray(IS, p, o + 5 * h);
        IntVector i6 = IntVector.fromArray(IS, p, o + 6 * h);
        IntVector i7 = IntVector.fromArray(IS, p, o + 7 * h);
        a0 = u.fma(i0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), a0);
        a1 = u.fma(i1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), a1);
        a2 = u.fma(i2.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), a2);
        a3 = u.fma(i3.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), a3);
        a4 = u.fma(i4.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), a4);
        a5 = u.fma(i5.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), a5);
        a6 = u.fma(i6.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), a6);
        a7 = u.fma(i7.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), a7);
        a0 = v.fma(i0.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats(), a0);
        a1 = v.fma(i1.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats(), a1);
        a2 = v.fma(i2.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats(), a2);
        a3 = v.fma(i3.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats(), a3);
        a4 = v.fma(i4.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats(), a4);
        a5 = v.fma(i5.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats(), a5);
        a6 = v.fma(i6.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats(), a6);
        a7 = v.fma(i7.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats(), a7);
      }
      {
        IntVector i8 = IntVector.fromArray(IS, p, o + 8 * h);
        IntVector i9 = IntVector.fromArray(IS, p, o + 9 * h);
        IntVector i10 = IntVector.fromArray(IS, p, o + 10 * h);
        IntVector i11 = IntVector.fromArray(IS, p, o + 11 * h);
        IntVector i12 = IntVector.fromArray(IS, p, o + 12 * h);
        IntVector i13 = IntVector.fromArray(IS, p, o + 13 * h);
        IntVector i14 = IntVector.fromArray(IS, p, o + 14 * h);
        IntVector i15 = IntVector.fromArray(IS, p, o + 15 * h);
        a8 = u.fma(i8.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), a8);
        a9 = u.fma(i9.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), a9);
        a10 = u.fma(i10.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), a10);
        a11 = u.fma(i11.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), a11);
        a12 = u.fma(i12.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), a12);
        a13 = u.fma(i13.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), a13);
        a14 = u.fma(i14.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), a14);
        a15 = u.fma(i15.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), a15);
        a8 = v.fma(i8.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats(), a8);
        a9 = v.fma(i9.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats(), a9);
        a10 = v.fma(i10.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats(), a10);
        a11 = v.fma(i11.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats(), a11);
        a12 = v.fma(i12.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats(), a12);
        a13 = v.fma(i13.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats(), a13);
        a14 = v.fma(i14.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats(), a14);
        a15 = v.fma(i15.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats(), a15);
      }
    }
    int y0 = yOff + m * N + n;
    a0.intoArray(tmp, 0);
    y[y0 + 0] = MatmulCompact.finish(tmp, x, x0, w, n + 0, kb, K, bias, bo);
    a1.intoArray(tmp, 0);
    y[y0 + 1] = MatmulCompact.finish(tmp, x, x0, w, n + 1, kb, K, bias, bo);
    a2.intoArray(tmp, 0);
    y[y0 + 2] = MatmulCompact.finish(tmp, x, x0, w, n + 2, kb, K, bias, bo);
    a3.intoArray(tmp, 0);
    y[y0 + 3] = MatmulCompact.finish(tmp, x, x0, w, n + 3, kb, K, bias, bo);
    a4.intoArray(tmp, 0);
    y[y0 + 4] = MatmulCompact.finish(tmp, x, x0, w, n + 4, kb, K, bias, bo);
    a5.intoArray(tmp, 0);
    y[y0 + 5] = MatmulCompact.finish(tmp, x, x0, w, n + 5, kb, K, bias, bo);
    a6.intoArray(tmp, 0);
    y[y0 + 6] = MatmulCompact.finish(tmp, x, x0, w, n + 6, kb, K, bias, bo);
    a7.intoArray(tmp, 0);
    y[y0 + 7] = MatmulCompact.finish(tmp, x, x0, w, n + 7, kb, K, bias, bo);
    a8.intoArray(tmp, 0);
    y[y0 + 8] = MatmulCompact.finish(tmp, x, x0, w, n + 8, kb, K, bias, bo);
    a9.intoArray(tmp, 0);
    y[y0 + 9] = MatmulCompact.finish(tmp, x, x0, w, n + 9, kb, K, bias, bo);
    a10.intoArray(tmp, 0);
    y[y0 + 10] = MatmulCompact.finish(tmp, x, x0, w, n + 10, kb, K, bias, bo);
    a11.intoArray(tmp, 0);
    y[y0 + 11] = MatmulCompact.finish(tmp, x, x0, w, n + 11, kb, K, bias, bo);
    a12.intoArray(tmp, 0);
    y[y0 + 12] = MatmulCompact.finish(tmp, x, x0, w, n + 12, kb, K, bias, bo);
    a13.intoArray(tmp, 0);
    y[y0 + 13] = MatmulCompact.finish(tmp, x, x0, w, n + 13, kb, K, bias, bo);
    a14.intoArray(tmp, 0);
    y[y0 + 14] = MatmulCompact.finish(tmp, x, x0, w, n + 14, kb, K, bias, bo);
    a15.intoArray(tmp, 0);
    y[y0 + 15] = MatmulCompact.finish(tmp, x, x0, w, n + 15, kb, K, bias, bo);
  }

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
    y[y0 + 0 * N + 0] = MatmulCompact.finish(tmp, x, x0, w, n + 0, kb, K, bias, bo);
    a01.intoArray(tmp, 0);
    y[y0 + 0 * N + 1] = MatmulCompact.finish(tmp, x, x0, w, n + 1, kb, K, bias, bo);
    a10.intoArray(tmp, 0);
    y[y0 + 1 * N + 0] = MatmulCompact.finish(tmp, x, x1, w, n + 0, kb, K, bias, bo);
    a11.intoArray(tmp, 0);
    y[y0 + 1 * N + 1] = MatmulCompact.finish(tmp, x, x1, w, n + 1, kb, K, bias, bo);
    a20.intoArray(tmp, 0);
    y[y0 + 2 * N + 0] = MatmulCompact.finish(tmp, x, x2, w, n + 0, kb, K, bias, bo);
    a21.intoArray(tmp, 0);
    y[y0 + 2 * N + 1] = MatmulCompact.finish(tmp, x, x2, w, n + 1, kb, K, bias, bo);
    a30.intoArray(tmp, 0);
    y[y0 + 3 * N + 0] = MatmulCompact.finish(tmp, x, x3, w, n + 0, kb, K, bias, bo);
    a31.intoArray(tmp, 0);
    y[y0 + 3 * N + 1] = MatmulCompact.finish(tmp, x, x3, w, n + 1, kb, K, bias, bo);
  }
}
