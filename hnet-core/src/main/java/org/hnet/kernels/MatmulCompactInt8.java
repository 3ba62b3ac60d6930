package org.hnet.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Decode kernels for int8 weights (groups of 32 with a float scale, four to an int), converted by
 * shifts, an int-to-float conversion and the scale ({@link MatmulCompact} has the layout, the
 * legend and the order of operations that makes a batch row equal the row alone).
 */
final class MatmulCompactInt8 {
  private MatmulCompactInt8() {}

  private static final VectorSpecies<Float> S = MatmulGemm.S;
  private static final int VL = MatmulGemm.VL;
  private static final int GROUP = CompactWeight.GROUP;
  private static final VectorSpecies<Integer> IS =
      IntVector.SPECIES_PREFERRED.withShape(S.vectorShape()).check(int.class);

  static void int8w1x1(
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
    y[yOff + m * N + n] = MatmulCompact.finish(tmp, x, x0, w, n, kb, K, bias, bo);
  }

  static void int8w4x1(
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
    y[y0 + 0] = MatmulCompact.finish(tmp, x, x0, w, n + 0, kb, K, bias, bo);
    a1.intoArray(tmp, 0);
    y[y0 + 1] = MatmulCompact.finish(tmp, x, x0, w, n + 1, kb, K, bias, bo);
    a2.intoArray(tmp, 0);
    y[y0 + 2] = MatmulCompact.finish(tmp, x, x0, w, n + 2, kb, K, bias, bo);
    a3.intoArray(tmp, 0);
    y[y0 + 3] = MatmulCompact.finish(tmp, x, x0, w, n + 3, kb, K, bias, bo);
  }

  static void int8w2x4(
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

  /**
   * Elements (r, c0 .. c1-1) of an int8 weight as float32 into out[off], out[off + stride], ...
   * (the GEMM's packing): whole blocks of 4·VL columns are converted in registers as the decode
   * kernels convert them (shift, int-to-float, the sub-vector's group scale) into {@code row} [≥ c1
   * − c0], then copied out at the stride; the columns outside whole blocks go element by element.
   * The same values as {@link CompactWeight#get}.
   */
  static void rowToFloats(
      CompactWeight w, int r, int c0, int c1, float[] out, int off, int stride, float[] row) {
    int bw = 4 * VL, v0 = (c0 + bw - 1) / bw * bw, v1 = Math.min(c1, w.kq) / bw * bw;
    if (v1 <= v0) {
      w.rowToFloats(r, c0, c1, out, off, stride);
      return;
    }
    if (c0 < v0) w.rowToFloats(r, c0, v0, out, off, stride);
    int[] q = w.q8;
    float[] sc = w.scales;
    int sb = r * CompactWeight.groups(w.k), qb = r * (w.kq / 4);
    for (int cb = v0; cb < v1; cb += bw) {
      IntVector iv = IntVector.fromArray(IS, q, qb + cb / 4);
      int o = cb - v0;
      ((FloatVector)
              iv.lanewise(VectorOperators.LSHL, 24)
                  .lanewise(VectorOperators.ASHR, 24)
                  .convert(VectorOperators.I2F, 0))
          .mul(sc[sb + cb / GROUP])
          .intoArray(row, o);
      ((FloatVector)
              iv.lanewise(VectorOperators.LSHL, 16)
                  .lanewise(VectorOperators.ASHR, 24)
                  .convert(VectorOperators.I2F, 0))
          .mul(sc[sb + (cb + VL) / GROUP])
          .intoArray(row, o + VL);
      ((FloatVector)
              iv.lanewise(VectorOperators.LSHL, 8)
                  .lanewise(VectorOperators.ASHR, 24)
                  .convert(VectorOperators.I2F, 0))
          .mul(sc[sb + (cb + 2 * VL) / GROUP])
          .intoArray(row, o + 2 * VL);
      ((FloatVector) iv.lanewise(VectorOperators.ASHR, 24).convert(VectorOperators.I2F, 0))
          .mul(sc[sb + (cb + 3 * VL) / GROUP])
          .intoArray(row, o + 3 * VL);
    }
    for (int c = v0, at = off + (v0 - c0) * stride; c < v1; c++, at += stride)
      out[at] = row[c - v0];
    if (v1 < c1) w.rowToFloats(r, v1, c1, out, off + (v1 - c0) * stride, stride);
  }
}
