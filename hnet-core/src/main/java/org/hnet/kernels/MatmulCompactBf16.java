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

  /**
   * Rows n, n + rs, n + 2rs, n + 3rs of w against one row of x (one row from each of four runs).
   * Each output's operations are those of {@link #bf16w1x1}.
   */
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
      int rs,
      int N,
      int K,
      int kb) {
    int[] p = w.bf16Pairs;
    int x0 = xOff + m * K,
        st = rs * (kb / 2),
        r0 = n * (kb / 2),
        r1 = r0 + st,
        r2 = r1 + st,
        r3 = r2 + st;
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
    y[y0 + 0 * rs] = MatmulCompact.finish(tmp, x, x0, w, n + 0 * rs, kb, K, bias, bo);
    a1.intoArray(tmp, 0);
    y[y0 + 1 * rs] = MatmulCompact.finish(tmp, x, x0, w, n + 1 * rs, kb, K, bias, bo);
    a2.intoArray(tmp, 0);
    y[y0 + 2 * rs] = MatmulCompact.finish(tmp, x, x0, w, n + 2 * rs, kb, K, bias, bo);
    a3.intoArray(tmp, 0);
    y[y0 + 3 * rs] = MatmulCompact.finish(tmp, x, x0, w, n + 3 * rs, kb, K, bias, bo);
  }

  /**
   * Rows n and n + rs of w against 4 rows of x, each converted vector used 4 times (rs: the rows
   * per run of the pass, so that the two rows come from two long runs). Each output's operations
   * are those of {@link #bf16w1x1}.
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
    int x0 = xOff + m * K,
        x1 = x0 + K,
        x2 = x1 + K,
        x3 = x2 + K,
        r0 = n * (kb / 2),
        r1 = r0 + rs * (kb / 2);
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
    y[y0 + 0 * N + rs] = MatmulCompact.finish(tmp, x, x0, w, n + rs, kb, K, bias, bo);
    a10.intoArray(tmp, 0);
    y[y0 + 1 * N + 0] = MatmulCompact.finish(tmp, x, x1, w, n + 0, kb, K, bias, bo);
    a11.intoArray(tmp, 0);
    y[y0 + 1 * N + rs] = MatmulCompact.finish(tmp, x, x1, w, n + rs, kb, K, bias, bo);
    a20.intoArray(tmp, 0);
    y[y0 + 2 * N + 0] = MatmulCompact.finish(tmp, x, x2, w, n + 0, kb, K, bias, bo);
    a21.intoArray(tmp, 0);
    y[y0 + 2 * N + rs] = MatmulCompact.finish(tmp, x, x2, w, n + rs, kb, K, bias, bo);
    a30.intoArray(tmp, 0);
    y[y0 + 3 * N + 0] = MatmulCompact.finish(tmp, x, x3, w, n + 0, kb, K, bias, bo);
    a31.intoArray(tmp, 0);
    y[y0 + 3 * N + rs] = MatmulCompact.finish(tmp, x, x3, w, n + rs, kb, K, bias, bo);
  }
}
