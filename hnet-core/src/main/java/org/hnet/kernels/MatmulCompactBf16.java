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
  static final VectorSpecies<Integer> IS =
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
   * Rows n, n + rs, n + 2rs, n + 3rs of w (one row from each of four runs) against R rows of x from
   * row m (bf16w4xR, R = 1 to 4): each converted vector of w is used against the R rows of x, each
   * loaded vector of x against the 4 rows of w. Each output's operations are those of {@link
   * #bf16w1x1}; at 16 lanes the 4R lane sums are taken at once ({@link Lanes#H8}).
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
    int x0 = xOff + m * K;
    int st = rs * (kb / 2), r0 = n * (kb / 2), r1 = r0 + st, r2 = r1 + st, r3 = r2 + st;
    FloatVector z = FloatVector.zero(S);
    FloatVector a00 = z, a01 = z, a02 = z, a03 = z;
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
      v0 = i0.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats();
      v1 = i1.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats();
      v2 = i2.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats();
      v3 = i3.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats();
      u = FloatVector.fromArray(S, x, x0 + k + VL);
      a00 = u.fma(v0, a00);
      a01 = u.fma(v1, a01);
      a02 = u.fma(v2, a02);
      a03 = u.fma(v3, a03);
    }
    int y0 = yOff + m * N + n;
    if (VL == 16) {
      FloatVector e80 = a00.blend(a02, Lanes.H8).add(a02.blend(a00, Lanes.H8).rearrange(Lanes.X8));
      FloatVector e81 = a01.blend(a03, Lanes.H8).add(a03.blend(a01, Lanes.H8).rearrange(Lanes.X8));
      FloatVector e4 = e80.blend(e81, Lanes.H4).add(e81.blend(e80, Lanes.H4).rearrange(Lanes.X4));
      FloatVector e2 = e4.add(e4.rearrange(Lanes.X2));
      FloatVector e1 = e2.add(e2.rearrange(Lanes.X1));
      e1.intoArray(tmp, 0);
      y[y0 + 0 * N + 0 * rs] =
          kb < K
              ? MatmulCompact.finishSum(tmp[3], x, x0, w, n + 0 * rs, kb, K, bias, bo)
              : bias == null ? tmp[3] : bias[bo + n + 0 * rs] + tmp[3];
      y[y0 + 0 * N + 1 * rs] =
          kb < K
              ? MatmulCompact.finishSum(tmp[7], x, x0, w, n + 1 * rs, kb, K, bias, bo)
              : bias == null ? tmp[7] : bias[bo + n + 1 * rs] + tmp[7];
      y[y0 + 0 * N + 2 * rs] =
          kb < K
              ? MatmulCompact.finishSum(tmp[11], x, x0, w, n + 2 * rs, kb, K, bias, bo)
              : bias == null ? tmp[11] : bias[bo + n + 2 * rs] + tmp[11];
      y[y0 + 0 * N + 3 * rs] =
          kb < K
              ? MatmulCompact.finishSum(tmp[15], x, x0, w, n + 3 * rs, kb, K, bias, bo)
              : bias == null ? tmp[15] : bias[bo + n + 3 * rs] + tmp[15];
    } else {
      a00.intoArray(tmp, 0);
      y[y0 + 0 * N + 0 * rs] = MatmulCompact.finish(tmp, x, x0, w, n + 0 * rs, kb, K, bias, bo);
      a01.intoArray(tmp, 0);
      y[y0 + 0 * N + 1 * rs] = MatmulCompact.finish(tmp, x, x0, w, n + 1 * rs, kb, K, bias, bo);
      a02.intoArray(tmp, 0);
      y[y0 + 0 * N + 2 * rs] = MatmulCompact.finish(tmp, x, x0, w, n + 2 * rs, kb, K, bias, bo);
      a03.intoArray(tmp, 0);
      y[y0 + 0 * N + 3 * rs] = MatmulCompact.finish(tmp, x, x0, w, n + 3 * rs, kb, K, bias, bo);
    }
  }
}
