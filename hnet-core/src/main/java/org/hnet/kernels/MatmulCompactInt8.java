package org.hnet.kernels;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Decode kernels for int8 weights (groups of 32 with a float scale), read as byte vectors and
 * widened to float32 in registers ({@link MatmulCompact} has the legend and why a batch row equals
 * the row alone).
 *
 * <p>Every output sums its row group by group in the same order: within a group of 32 weights, t =
 * x·q over the first VL weights (a multiply), then fma over the next ones in order; then a = t·s +
 * a (one fma with the group's scale). Applying the scale once per group, rather than to every
 * converted vector, is a multiply fewer per vector on the path that decides batch-1 speed.
 */
final class MatmulCompactInt8 {
  private MatmulCompactInt8() {}

  private static final VectorSpecies<Float> S = MatmulGemm.S;
  private static final int VL = MatmulGemm.VL;
  private static final int GROUP = CompactWeight.GROUP;

  /**
   * VL bytes, widened to VL floats (part 0 of the conversion); 8 bytes, of which the first 4 are
   * used, at VL = 4, the narrowest byte vector (the weights' PAD covers the load).
   */
  private static final VectorSpecies<Byte> BS =
      VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, 8 * VL)));

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
    byte[] q = w.q8;
    float[] sc = w.scales;
    int x0 = xOff + m * K, r0 = n * K, s0 = w.scaleIndex(n, 0), ss = w.scaleStep(n);
    FloatVector a = FloatVector.zero(S);
    for (int k = 0, g = s0; k < kb; k += GROUP, g += ss) {
      FloatVector t =
          FloatVector.fromArray(S, x, x0 + k)
              .mul(
                  (FloatVector)
                      ByteVector.fromArray(BS, q, r0 + k).convertShape(VectorOperators.B2F, S, 0));
      for (int j = VL; j < GROUP; j += VL)
        t =
            FloatVector.fromArray(S, x, x0 + k + j)
                .fma(
                    (FloatVector)
                        ByteVector.fromArray(BS, q, r0 + k + j)
                            .convertShape(VectorOperators.B2F, S, 0),
                    t);
      a = t.fma(FloatVector.broadcast(S, sc[g]), a);
    }
    a.intoArray(tmp, 0);
    y[yOff + m * N + n] = MatmulCompact.finish(tmp, x, x0, w, n, kb, K, bias, bo);
  }

  /**
   * Rows n, n + rs, n + 2rs, n + 3rs of w against one row of x: one pass of a slab ({@link
   * CompactWeight#scaleIndex}: n = slab start + i, rs = the slab's rows per run), whose four scales
   * of a group lie together. Each row's group is summed and scaled before the next row's, so the
   * short per-row chains keep few registers live. Each output's operations are those of {@link
   * #int8w1x1}.
   */
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
      int rs,
      int N,
      int K,
      int kb) {
    byte[] q = w.q8;
    float[] sc = w.scales;
    int x0 = xOff + m * K, r0 = n * K, s0 = w.scaleIndex(n, 0), st = rs * K;
    FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
    for (int k = 0, g = s0; k < kb; k += GROUP, g += CompactWeight.RUNS) {
      int o = r0 + k;
      FloatVector t;
      t =
          FloatVector.fromArray(S, x, x0 + k)
              .mul(
                  (FloatVector)
                      ByteVector.fromArray(BS, q, o).convertShape(VectorOperators.B2F, S, 0));
      for (int j = VL; j < GROUP; j += VL)
        t =
            FloatVector.fromArray(S, x, x0 + k + j)
                .fma(
                    (FloatVector)
                        ByteVector.fromArray(BS, q, o + j).convertShape(VectorOperators.B2F, S, 0),
                    t);
      a0 = t.fma(FloatVector.broadcast(S, sc[g + 0]), a0);
      t =
          FloatVector.fromArray(S, x, x0 + k)
              .mul(
                  (FloatVector)
                      ByteVector.fromArray(BS, q, o + 1 * st)
                          .convertShape(VectorOperators.B2F, S, 0));
      for (int j = VL; j < GROUP; j += VL)
        t =
            FloatVector.fromArray(S, x, x0 + k + j)
                .fma(
                    (FloatVector)
                        ByteVector.fromArray(BS, q, o + 1 * st + j)
                            .convertShape(VectorOperators.B2F, S, 0),
                    t);
      a1 = t.fma(FloatVector.broadcast(S, sc[g + 1]), a1);
      t =
          FloatVector.fromArray(S, x, x0 + k)
              .mul(
                  (FloatVector)
                      ByteVector.fromArray(BS, q, o + 2 * st)
                          .convertShape(VectorOperators.B2F, S, 0));
      for (int j = VL; j < GROUP; j += VL)
        t =
            FloatVector.fromArray(S, x, x0 + k + j)
                .fma(
                    (FloatVector)
                        ByteVector.fromArray(BS, q, o + 2 * st + j)
                            .convertShape(VectorOperators.B2F, S, 0),
                    t);
      a2 = t.fma(FloatVector.broadcast(S, sc[g + 2]), a2);
      t =
          FloatVector.fromArray(S, x, x0 + k)
              .mul(
                  (FloatVector)
                      ByteVector.fromArray(BS, q, o + 3 * st)
                          .convertShape(VectorOperators.B2F, S, 0));
      for (int j = VL; j < GROUP; j += VL)
        t =
            FloatVector.fromArray(S, x, x0 + k + j)
                .fma(
                    (FloatVector)
                        ByteVector.fromArray(BS, q, o + 3 * st + j)
                            .convertShape(VectorOperators.B2F, S, 0),
                    t);
      a3 = t.fma(FloatVector.broadcast(S, sc[g + 3]), a3);
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

  /** Rows n and n + rs of w against 4 rows of x, each converted vector used 4 times. */
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
      int rs,
      int N,
      int K,
      int kb) {
    byte[] q = w.q8;
    float[] sc = w.scales;
    int x0 = xOff + m * K, x1 = x0 + K, x2 = x1 + K, x3 = x2 + K, r0 = n * K, r1 = r0 + rs * K;
    int g0 = w.scaleIndex(n, 0), g1 = w.scaleIndex(n + rs, 0);
    int ss0 = w.scaleStep(n), ss1 = w.scaleStep(n + rs);
    FloatVector a00 = FloatVector.zero(S), a01 = a00, a10 = a00, a11 = a00;
    FloatVector a20 = a00, a21 = a00, a30 = a00, a31 = a00;
    for (int k = 0; k < kb; k += GROUP, g0 += ss0, g1 += ss1) {
      FloatVector v0 =
          (FloatVector) ByteVector.fromArray(BS, q, r0 + k).convertShape(VectorOperators.B2F, S, 0);
      FloatVector v1 =
          (FloatVector) ByteVector.fromArray(BS, q, r1 + k).convertShape(VectorOperators.B2F, S, 0);
      FloatVector u = FloatVector.fromArray(S, x, x0 + k);
      FloatVector t00 = u.mul(v0), t01 = u.mul(v1);
      u = FloatVector.fromArray(S, x, x1 + k);
      FloatVector t10 = u.mul(v0), t11 = u.mul(v1);
      u = FloatVector.fromArray(S, x, x2 + k);
      FloatVector t20 = u.mul(v0), t21 = u.mul(v1);
      u = FloatVector.fromArray(S, x, x3 + k);
      FloatVector t30 = u.mul(v0), t31 = u.mul(v1);
      for (int j = VL; j < GROUP; j += VL) {
        v0 =
            (FloatVector)
                ByteVector.fromArray(BS, q, r0 + k + j).convertShape(VectorOperators.B2F, S, 0);
        v1 =
            (FloatVector)
                ByteVector.fromArray(BS, q, r1 + k + j).convertShape(VectorOperators.B2F, S, 0);
        u = FloatVector.fromArray(S, x, x0 + k + j);
        t00 = u.fma(v0, t00);
        t01 = u.fma(v1, t01);
        u = FloatVector.fromArray(S, x, x1 + k + j);
        t10 = u.fma(v0, t10);
        t11 = u.fma(v1, t11);
        u = FloatVector.fromArray(S, x, x2 + k + j);
        t20 = u.fma(v0, t20);
        t21 = u.fma(v1, t21);
        u = FloatVector.fromArray(S, x, x3 + k + j);
        t30 = u.fma(v0, t30);
        t31 = u.fma(v1, t31);
      }
      FloatVector s0 = FloatVector.broadcast(S, sc[g0]), s1 = FloatVector.broadcast(S, sc[g1]);
      a00 = t00.fma(s0, a00);
      a01 = t01.fma(s1, a01);
      a10 = t10.fma(s0, a10);
      a11 = t11.fma(s1, a11);
      a20 = t20.fma(s0, a20);
      a21 = t21.fma(s1, a21);
      a30 = t30.fma(s0, a30);
      a31 = t31.fma(s1, a31);
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

  /**
   * Rows n and n + rs of w against 2 rows of x (the rows past the blocks of 4), as {@link
   * #int8w2x4}.
   */
  static void int8w2x2(
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
    byte[] q = w.q8;
    float[] sc = w.scales;
    int x0 = xOff + m * K, x1 = x0 + K, r0 = n * K, r1 = r0 + rs * K;
    int g0 = w.scaleIndex(n, 0), g1 = w.scaleIndex(n + rs, 0);
    int ss0 = w.scaleStep(n), ss1 = w.scaleStep(n + rs);
    FloatVector a00 = FloatVector.zero(S),
        a01 = FloatVector.zero(S),
        a10 = FloatVector.zero(S),
        a11 = FloatVector.zero(S);
    for (int k = 0; k < kb; k += GROUP, g0 += ss0, g1 += ss1) {
      FloatVector v0 =
          (FloatVector) ByteVector.fromArray(BS, q, r0 + k).convertShape(VectorOperators.B2F, S, 0);
      FloatVector v1 =
          (FloatVector) ByteVector.fromArray(BS, q, r1 + k).convertShape(VectorOperators.B2F, S, 0);
      FloatVector u = FloatVector.fromArray(S, x, x0 + k);
      FloatVector t00 = u.mul(v0), t01 = u.mul(v1);
      u = FloatVector.fromArray(S, x, x1 + k);
      FloatVector t10 = u.mul(v0), t11 = u.mul(v1);
      for (int j = VL; j < GROUP; j += VL) {
        v0 =
            (FloatVector)
                ByteVector.fromArray(BS, q, r0 + k + j).convertShape(VectorOperators.B2F, S, 0);
        v1 =
            (FloatVector)
                ByteVector.fromArray(BS, q, r1 + k + j).convertShape(VectorOperators.B2F, S, 0);
        u = FloatVector.fromArray(S, x, x0 + k + j);
        t00 = u.fma(v0, t00);
        t01 = u.fma(v1, t01);
        u = FloatVector.fromArray(S, x, x1 + k + j);
        t10 = u.fma(v0, t10);
        t11 = u.fma(v1, t11);
      }
      FloatVector s0 = FloatVector.broadcast(S, sc[g0]), s1 = FloatVector.broadcast(S, sc[g1]);
      a00 = t00.fma(s0, a00);
      a01 = t01.fma(s1, a01);
      a10 = t10.fma(s0, a10);
      a11 = t11.fma(s1, a11);
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
  }

  /**
   * Rows n and n + rs of w against 3 rows of x (the rows past the blocks of 4), as {@link
   * #int8w2x4}.
   */
  static void int8w2x3(
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
    byte[] q = w.q8;
    float[] sc = w.scales;
    int x0 = xOff + m * K, x1 = x0 + K, x2 = x1 + K, r0 = n * K, r1 = r0 + rs * K;
    int g0 = w.scaleIndex(n, 0), g1 = w.scaleIndex(n + rs, 0);
    int ss0 = w.scaleStep(n), ss1 = w.scaleStep(n + rs);
    FloatVector a00 = FloatVector.zero(S),
        a01 = FloatVector.zero(S),
        a10 = FloatVector.zero(S),
        a11 = FloatVector.zero(S),
        a20 = FloatVector.zero(S),
        a21 = FloatVector.zero(S);
    for (int k = 0; k < kb; k += GROUP, g0 += ss0, g1 += ss1) {
      FloatVector v0 =
          (FloatVector) ByteVector.fromArray(BS, q, r0 + k).convertShape(VectorOperators.B2F, S, 0);
      FloatVector v1 =
          (FloatVector) ByteVector.fromArray(BS, q, r1 + k).convertShape(VectorOperators.B2F, S, 0);
      FloatVector u = FloatVector.fromArray(S, x, x0 + k);
      FloatVector t00 = u.mul(v0), t01 = u.mul(v1);
      u = FloatVector.fromArray(S, x, x1 + k);
      FloatVector t10 = u.mul(v0), t11 = u.mul(v1);
      u = FloatVector.fromArray(S, x, x2 + k);
      FloatVector t20 = u.mul(v0), t21 = u.mul(v1);
      for (int j = VL; j < GROUP; j += VL) {
        v0 =
            (FloatVector)
                ByteVector.fromArray(BS, q, r0 + k + j).convertShape(VectorOperators.B2F, S, 0);
        v1 =
            (FloatVector)
                ByteVector.fromArray(BS, q, r1 + k + j).convertShape(VectorOperators.B2F, S, 0);
        u = FloatVector.fromArray(S, x, x0 + k + j);
        t00 = u.fma(v0, t00);
        t01 = u.fma(v1, t01);
        u = FloatVector.fromArray(S, x, x1 + k + j);
        t10 = u.fma(v0, t10);
        t11 = u.fma(v1, t11);
        u = FloatVector.fromArray(S, x, x2 + k + j);
        t20 = u.fma(v0, t20);
        t21 = u.fma(v1, t21);
      }
      FloatVector s0 = FloatVector.broadcast(S, sc[g0]), s1 = FloatVector.broadcast(S, sc[g1]);
      a00 = t00.fma(s0, a00);
      a01 = t01.fma(s1, a01);
      a10 = t10.fma(s0, a10);
      a11 = t11.fma(s1, a11);
      a20 = t20.fma(s0, a20);
      a21 = t21.fma(s1, a21);
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
  }

  /**
   * Elements (r, c0 .. c1-1) of an int8 weight as float32 into out[off], out[off + stride], ...
   * (the GEMM's packing): the whole groups in the range are converted in registers (q · s) into
   * {@code row} [≥ c1 − c0], then copied out at the stride; the columns outside whole groups go
   * element by element. The same values as {@link CompactWeight#get}.
   */
  static void rowToFloats(
      CompactWeight w, int r, int c0, int c1, float[] out, int off, int stride, float[] row) {
    int v0 = (c0 + GROUP - 1) / GROUP * GROUP, v1 = Math.min(c1, w.kq) / GROUP * GROUP;
    if (v1 <= v0) {
      w.rowToFloats(r, c0, c1, out, off, stride);
      return;
    }
    if (c0 < v0) w.rowToFloats(r, c0, v0, out, off, stride);
    byte[] q = w.q8;
    float[] sc = w.scales;
    int qb = r * w.k, ss = w.scaleStep(r), g = w.scaleIndex(r, v0 / GROUP);
    for (int cg = v0; cg < v1; cg += GROUP, g += ss) {
      float s = sc[g];
      for (int j = 0; j < GROUP; j += VL)
        ((FloatVector)
                ByteVector.fromArray(BS, q, qb + cg + j).convertShape(VectorOperators.B2F, S, 0))
            .mul(s)
            .intoArray(row, cg - v0 + j);
    }
    for (int c = v0, at = off + (v0 - c0) * stride; c < v1; c++, at += stride)
      out[at] = row[c - v0];
    if (v1 < c1) w.rowToFloats(r, v1, c1, out, off + (v1 - c0) * stride, stride);
  }
}
