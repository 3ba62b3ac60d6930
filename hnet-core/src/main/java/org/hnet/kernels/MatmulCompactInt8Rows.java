package org.hnet.kernels;

import static org.hnet.kernels.MatmulCompactInt8.GROUP;
import static org.hnet.kernels.MatmulCompactInt8.SBG;
import static org.hnet.kernels.MatmulCompactInt8.cv;

import jdk.incubator.vector.FloatVector;

/**
 * int8 decode kernels for 2 to 4 rows of x against the 4 rows of a pass (or 2 of them): the batch-1
 * kernels, the conversion and the order of operations are in {@link MatmulCompactInt8}. Each kernel
 * is written out (16 accumulators do not fit in an array without allocating, and Java has no
 * templates); they differ only in their rows of w and x.
 */
final class MatmulCompactInt8Rows {
  private MatmulCompactInt8Rows() {}

  private static final int VL = MatmulGemm.VL;
  private static final jdk.incubator.vector.VectorSpecies<Float> S = MatmulGemm.S;

  /** As {@link MatmulCompactInt8#int8w4x1}, against 2 rows of x (16 lanes only). */
  static void int8w4x2(
      float[] tmp,
      float[] y,
      int yOff,
      float[] x,
      int xOff,
      float[] xp,
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
    int sbs = w.sbs, full = w.sbFull, R = w.sbShort, kp = w.kp;
    int p0 = m * kp, p1 = p0 + kp;
    int r0 = n * K, st = rs * K, s = w.scaleIndex(n, 0), ss = w.scaleStep(n);
    FloatVector z = FloatVector.zero(S);
    FloatVector a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z;
    for (int b = 0, o = 0; b < sbs; b++, o += SBG, s += ss) {
      int qs = b < full ? VL : R; // a short superblock's groups lie R apart
      FloatVector v0 = cv(q, r0 + o), v1 = cv(q, r0 + st + o);
      FloatVector v2 = cv(q, r0 + 2 * st + o), v3 = cv(q, r0 + 3 * st + o);
      FloatVector u;
      u = FloatVector.fromArray(S, xp, p0 + o);
      FloatVector t00 = u.mul(v0), t01 = u.mul(v1), t02 = u.mul(v2), t03 = u.mul(v3);
      u = FloatVector.fromArray(S, xp, p1 + o);
      FloatVector t10 = u.mul(v0), t11 = u.mul(v1), t12 = u.mul(v2), t13 = u.mul(v3);
      for (int i = 1; i < GROUP; i++) {
        int oi = o + i * qs, pi = o + i * VL;
        v0 = cv(q, r0 + oi);
        v1 = cv(q, r0 + st + oi);
        v2 = cv(q, r0 + 2 * st + oi);
        v3 = cv(q, r0 + 3 * st + oi);
        u = FloatVector.fromArray(S, xp, p0 + pi);
        t00 = u.fma(v0, t00);
        t01 = u.fma(v1, t01);
        t02 = u.fma(v2, t02);
        t03 = u.fma(v3, t03);
        u = FloatVector.fromArray(S, xp, p1 + pi);
        t10 = u.fma(v0, t10);
        t11 = u.fma(v1, t11);
        t12 = u.fma(v2, t12);
        t13 = u.fma(v3, t13);
      }
      FloatVector c0 = FloatVector.fromArray(S, sc, s + 0 * VL),
          c1 = FloatVector.fromArray(S, sc, s + 1 * VL),
          c2 = FloatVector.fromArray(S, sc, s + 2 * VL),
          c3 = FloatVector.fromArray(S, sc, s + 3 * VL);
      a00 = t00.fma(c0, a00);
      a01 = t01.fma(c1, a01);
      a02 = t02.fma(c2, a02);
      a03 = t03.fma(c3, a03);
      a10 = t10.fma(c0, a10);
      a11 = t11.fma(c1, a11);
      a12 = t12.fma(c2, a12);
      a13 = t13.fma(c3, a13);
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
            ? MatmulCompact.finishSum(tmp[1], x, xOff + (m + 0) * K, w, n + 0 * rs, kb, K, bias, bo)
            : bias == null ? tmp[1] : bias[bo + n + 0 * rs] + tmp[1];
    y[y0 + 0 * N + 1 * rs] =
        kb < K
            ? MatmulCompact.finishSum(tmp[3], x, xOff + (m + 0) * K, w, n + 1 * rs, kb, K, bias, bo)
            : bias == null ? tmp[3] : bias[bo + n + 1 * rs] + tmp[3];
    y[y0 + 0 * N + 2 * rs] =
        kb < K
            ? MatmulCompact.finishSum(tmp[5], x, xOff + (m + 0) * K, w, n + 2 * rs, kb, K, bias, bo)
            : bias == null ? tmp[5] : bias[bo + n + 2 * rs] + tmp[5];
    y[y0 + 0 * N + 3 * rs] =
        kb < K
            ? MatmulCompact.finishSum(tmp[7], x, xOff + (m + 0) * K, w, n + 3 * rs, kb, K, bias, bo)
            : bias == null ? tmp[7] : bias[bo + n + 3 * rs] + tmp[7];
    y[y0 + 1 * N + 0 * rs] =
        kb < K
            ? MatmulCompact.finishSum(tmp[9], x, xOff + (m + 1) * K, w, n + 0 * rs, kb, K, bias, bo)
            : bias == null ? tmp[9] : bias[bo + n + 0 * rs] + tmp[9];
    y[y0 + 1 * N + 1 * rs] =
        kb < K
            ? MatmulCompact.finishSum(
                tmp[11], x, xOff + (m + 1) * K, w, n + 1 * rs, kb, K, bias, bo)
            : bias == null ? tmp[11] : bias[bo + n + 1 * rs] + tmp[11];
    y[y0 + 1 * N + 2 * rs] =
        kb < K
            ? MatmulCompact.finishSum(
                tmp[13], x, xOff + (m + 1) * K, w, n + 2 * rs, kb, K, bias, bo)
            : bias == null ? tmp[13] : bias[bo + n + 2 * rs] + tmp[13];
    y[y0 + 1 * N + 3 * rs] =
        kb < K
            ? MatmulCompact.finishSum(
                tmp[15], x, xOff + (m + 1) * K, w, n + 3 * rs, kb, K, bias, bo)
            : bias == null ? tmp[15] : bias[bo + n + 3 * rs] + tmp[15];
  }

  /**
   * Rows n and n + rs of w against 3 rows of x: as {@link MatmulCompactInt8#int8w4x1}; 4 rows of w
   * against 3 of x ran slower (C2 spilled its accumulators in the loop). Fewer than 16 lanes only:
   * at 16, 3 rows of x go through {@link #int8w4x4}.
   */
  static void int8w2x3(
      float[] tmp,
      float[] y,
      int yOff,
      float[] x,
      int xOff,
      float[] xp,
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
    int sbs = w.sbs, full = w.sbFull, R = w.sbShort, kp = w.kp;
    int p0 = m * kp, p1 = p0 + kp, p2 = p1 + kp;
    int r0 = n * K, st = rs * K;
    int s0 = w.scaleIndex(n, 0), s1 = w.scaleIndex(n + rs, 0);
    int ss0 = w.scaleStep(n), ss1 = w.scaleStep(n + rs);
    FloatVector z = FloatVector.zero(S);
    FloatVector a00 = z, a01 = z, a10 = z, a11 = z, a20 = z, a21 = z;
    for (int b = 0, o = 0; b < sbs; b++, o += SBG, s0 += ss0, s1 += ss1) {
      int qs = b < full ? VL : R; // a short superblock's groups lie R apart
      FloatVector v0 = cv(q, r0 + o), v1 = cv(q, r0 + st + o);
      FloatVector u;
      u = FloatVector.fromArray(S, xp, p0 + o);
      FloatVector t00 = u.mul(v0), t01 = u.mul(v1);
      u = FloatVector.fromArray(S, xp, p1 + o);
      FloatVector t10 = u.mul(v0), t11 = u.mul(v1);
      u = FloatVector.fromArray(S, xp, p2 + o);
      FloatVector t20 = u.mul(v0), t21 = u.mul(v1);
      for (int i = 1; i < GROUP; i++) {
        int oi = o + i * qs, pi = o + i * VL;
        v0 = cv(q, r0 + oi);
        v1 = cv(q, r0 + st + oi);
        u = FloatVector.fromArray(S, xp, p0 + pi);
        t00 = u.fma(v0, t00);
        t01 = u.fma(v1, t01);
        u = FloatVector.fromArray(S, xp, p1 + pi);
        t10 = u.fma(v0, t10);
        t11 = u.fma(v1, t11);
        u = FloatVector.fromArray(S, xp, p2 + pi);
        t20 = u.fma(v0, t20);
        t21 = u.fma(v1, t21);
      }
      FloatVector c0 = FloatVector.fromArray(S, sc, s0), c1 = FloatVector.fromArray(S, sc, s1);
      a00 = t00.fma(c0, a00);
      a01 = t01.fma(c1, a01);
      a10 = t10.fma(c0, a10);
      a11 = t11.fma(c1, a11);
      a20 = t20.fma(c0, a20);
      a21 = t21.fma(c1, a21);
    }
    int y0 = yOff + m * N + n;
    a00.intoArray(tmp, 0);
    y[y0 + 0 * N + 0 * rs] =
        MatmulCompact.finish(tmp, x, xOff + (m + 0) * K, w, n + 0 * rs, kb, K, bias, bo);
    a01.intoArray(tmp, 0);
    y[y0 + 0 * N + 1 * rs] =
        MatmulCompact.finish(tmp, x, xOff + (m + 0) * K, w, n + 1 * rs, kb, K, bias, bo);
    a10.intoArray(tmp, 0);
    y[y0 + 1 * N + 0 * rs] =
        MatmulCompact.finish(tmp, x, xOff + (m + 1) * K, w, n + 0 * rs, kb, K, bias, bo);
    a11.intoArray(tmp, 0);
    y[y0 + 1 * N + 1 * rs] =
        MatmulCompact.finish(tmp, x, xOff + (m + 1) * K, w, n + 1 * rs, kb, K, bias, bo);
    a20.intoArray(tmp, 0);
    y[y0 + 2 * N + 0 * rs] =
        MatmulCompact.finish(tmp, x, xOff + (m + 2) * K, w, n + 0 * rs, kb, K, bias, bo);
    a21.intoArray(tmp, 0);
    y[y0 + 2 * N + 1 * rs] =
        MatmulCompact.finish(tmp, x, xOff + (m + 2) * K, w, n + 1 * rs, kb, K, bias, bo);
  }

  /**
   * Rows n and n + rs of w against 2 rows of x, as {@link MatmulCompactInt8#int8w4x1}: at 8 lanes
   * (16 registers) 4 rows of w against 2 of x ran 1.3x slower. Fewer than 16 lanes only.
   */
  static void int8w2x2(
      float[] tmp,
      float[] y,
      int yOff,
      float[] x,
      int xOff,
      float[] xp,
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
    int sbs = w.sbs, full = w.sbFull, R = w.sbShort, kp = w.kp;
    int p0 = m * kp, p1 = p0 + kp;
    int r0 = n * K, st = rs * K;
    int s0 = w.scaleIndex(n, 0), s1 = w.scaleIndex(n + rs, 0);
    int ss0 = w.scaleStep(n), ss1 = w.scaleStep(n + rs);
    FloatVector z = FloatVector.zero(S);
    FloatVector a00 = z, a01 = z, a10 = z, a11 = z;
    for (int b = 0, o = 0; b < sbs; b++, o += SBG, s0 += ss0, s1 += ss1) {
      int qs = b < full ? VL : R; // a short superblock's groups lie R apart
      FloatVector v0 = cv(q, r0 + o), v1 = cv(q, r0 + st + o);
      FloatVector u;
      u = FloatVector.fromArray(S, xp, p0 + o);
      FloatVector t00 = u.mul(v0), t01 = u.mul(v1);
      u = FloatVector.fromArray(S, xp, p1 + o);
      FloatVector t10 = u.mul(v0), t11 = u.mul(v1);
      for (int i = 1; i < GROUP; i++) {
        int oi = o + i * qs, pi = o + i * VL;
        v0 = cv(q, r0 + oi);
        v1 = cv(q, r0 + st + oi);
        u = FloatVector.fromArray(S, xp, p0 + pi);
        t00 = u.fma(v0, t00);
        t01 = u.fma(v1, t01);
        u = FloatVector.fromArray(S, xp, p1 + pi);
        t10 = u.fma(v0, t10);
        t11 = u.fma(v1, t11);
      }
      FloatVector c0 = FloatVector.fromArray(S, sc, s0), c1 = FloatVector.fromArray(S, sc, s1);
      a00 = t00.fma(c0, a00);
      a01 = t01.fma(c1, a01);
      a10 = t10.fma(c0, a10);
      a11 = t11.fma(c1, a11);
    }
    int y0 = yOff + m * N + n;
    a00.intoArray(tmp, 0);
    y[y0 + 0 * N + 0 * rs] =
        MatmulCompact.finish(tmp, x, xOff + (m + 0) * K, w, n + 0 * rs, kb, K, bias, bo);
    a01.intoArray(tmp, 0);
    y[y0 + 0 * N + 1 * rs] =
        MatmulCompact.finish(tmp, x, xOff + (m + 0) * K, w, n + 1 * rs, kb, K, bias, bo);
    a10.intoArray(tmp, 0);
    y[y0 + 1 * N + 0 * rs] =
        MatmulCompact.finish(tmp, x, xOff + (m + 1) * K, w, n + 0 * rs, kb, K, bias, bo);
    a11.intoArray(tmp, 0);
    y[y0 + 1 * N + 1 * rs] =
        MatmulCompact.finish(tmp, x, xOff + (m + 1) * K, w, n + 1 * rs, kb, K, bias, bo);
  }

  /**
   * As {@link MatmulCompactInt8#int8w4x1}, against 4 rows of x, of which the first rx (3 or 4) are
   * written: 3 rows of x go through here as 4 with a row of zeros (the permuted buffer has one, see
   * {@link MatmulCompactInt8#permuted}): 8,192 x 1,536 from memory, two threads, alternating,
   * 0.651-0.699 ms against 0.734-0.772 for pairs of rows of w against the 3 (in cache those were
   * 1.1x faster).
   */
  static void int8w4x4(
      float[] tmp,
      float[] y,
      int yOff,
      float[] x,
      int xOff,
      float[] xp,
      CompactWeight w,
      float[] bias,
      int bo,
      int m,
      int n,
      int rs,
      int N,
      int K,
      int kb,
      int rx) {
    byte[] q = w.q8;
    float[] sc = w.scales;
    int sbs = w.sbs, full = w.sbFull, R = w.sbShort, kp = w.kp;
    int p0 = m * kp, p1 = p0 + kp, p2 = p1 + kp, p3 = p2 + kp;
    int r0 = n * K, st = rs * K, s = w.scaleIndex(n, 0), ss = w.scaleStep(n);
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
    for (int b = 0, o = 0; b < sbs; b++, o += SBG, s += ss) {
      int qs = b < full ? VL : R; // a short superblock's groups lie R apart
      FloatVector v0 = cv(q, r0 + o), v1 = cv(q, r0 + st + o);
      FloatVector v2 = cv(q, r0 + 2 * st + o), v3 = cv(q, r0 + 3 * st + o);
      FloatVector u;
      u = FloatVector.fromArray(S, xp, p0 + o);
      FloatVector t00 = u.mul(v0), t01 = u.mul(v1), t02 = u.mul(v2), t03 = u.mul(v3);
      u = FloatVector.fromArray(S, xp, p1 + o);
      FloatVector t10 = u.mul(v0), t11 = u.mul(v1), t12 = u.mul(v2), t13 = u.mul(v3);
      u = FloatVector.fromArray(S, xp, p2 + o);
      FloatVector t20 = u.mul(v0), t21 = u.mul(v1), t22 = u.mul(v2), t23 = u.mul(v3);
      u = FloatVector.fromArray(S, xp, p3 + o);
      FloatVector t30 = u.mul(v0), t31 = u.mul(v1), t32 = u.mul(v2), t33 = u.mul(v3);
      for (int i = 1; i < GROUP; i++) {
        int oi = o + i * qs, pi = o + i * VL;
        v0 = cv(q, r0 + oi);
        v1 = cv(q, r0 + st + oi);
        v2 = cv(q, r0 + 2 * st + oi);
        v3 = cv(q, r0 + 3 * st + oi);
        u = FloatVector.fromArray(S, xp, p0 + pi);
        t00 = u.fma(v0, t00);
        t01 = u.fma(v1, t01);
        t02 = u.fma(v2, t02);
        t03 = u.fma(v3, t03);
        u = FloatVector.fromArray(S, xp, p1 + pi);
        t10 = u.fma(v0, t10);
        t11 = u.fma(v1, t11);
        t12 = u.fma(v2, t12);
        t13 = u.fma(v3, t13);
        u = FloatVector.fromArray(S, xp, p2 + pi);
        t20 = u.fma(v0, t20);
        t21 = u.fma(v1, t21);
        t22 = u.fma(v2, t22);
        t23 = u.fma(v3, t23);
        u = FloatVector.fromArray(S, xp, p3 + pi);
        t30 = u.fma(v0, t30);
        t31 = u.fma(v1, t31);
        t32 = u.fma(v2, t32);
        t33 = u.fma(v3, t33);
      }
      FloatVector c0 = FloatVector.fromArray(S, sc, s + 0 * VL),
          c1 = FloatVector.fromArray(S, sc, s + 1 * VL),
          c2 = FloatVector.fromArray(S, sc, s + 2 * VL),
          c3 = FloatVector.fromArray(S, sc, s + 3 * VL);
      a00 = t00.fma(c0, a00);
      a01 = t01.fma(c1, a01);
      a02 = t02.fma(c2, a02);
      a03 = t03.fma(c3, a03);
      a10 = t10.fma(c0, a10);
      a11 = t11.fma(c1, a11);
      a12 = t12.fma(c2, a12);
      a13 = t13.fma(c3, a13);
      a20 = t20.fma(c0, a20);
      a21 = t21.fma(c1, a21);
      a22 = t22.fma(c2, a22);
      a23 = t23.fma(c3, a23);
      a30 = t30.fma(c0, a30);
      a31 = t31.fma(c1, a31);
      a32 = t32.fma(c2, a32);
      a33 = t33.fma(c3, a33);
    }
    int y0 = yOff + m * N + n;
    if (VL == 16) {
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
              ? MatmulCompact.finishSum(
                  tmp[0], x, xOff + (m + 0) * K, w, n + 0 * rs, kb, K, bias, bo)
              : bias == null ? tmp[0] : bias[bo + n + 0 * rs] + tmp[0];
      y[y0 + 0 * N + 1 * rs] =
          kb < K
              ? MatmulCompact.finishSum(
                  tmp[1], x, xOff + (m + 0) * K, w, n + 1 * rs, kb, K, bias, bo)
              : bias == null ? tmp[1] : bias[bo + n + 1 * rs] + tmp[1];
      y[y0 + 0 * N + 2 * rs] =
          kb < K
              ? MatmulCompact.finishSum(
                  tmp[2], x, xOff + (m + 0) * K, w, n + 2 * rs, kb, K, bias, bo)
              : bias == null ? tmp[2] : bias[bo + n + 2 * rs] + tmp[2];
      y[y0 + 0 * N + 3 * rs] =
          kb < K
              ? MatmulCompact.finishSum(
                  tmp[3], x, xOff + (m + 0) * K, w, n + 3 * rs, kb, K, bias, bo)
              : bias == null ? tmp[3] : bias[bo + n + 3 * rs] + tmp[3];
      y[y0 + 1 * N + 0 * rs] =
          kb < K
              ? MatmulCompact.finishSum(
                  tmp[4], x, xOff + (m + 1) * K, w, n + 0 * rs, kb, K, bias, bo)
              : bias == null ? tmp[4] : bias[bo + n + 0 * rs] + tmp[4];
      y[y0 + 1 * N + 1 * rs] =
          kb < K
              ? MatmulCompact.finishSum(
                  tmp[5], x, xOff + (m + 1) * K, w, n + 1 * rs, kb, K, bias, bo)
              : bias == null ? tmp[5] : bias[bo + n + 1 * rs] + tmp[5];
      y[y0 + 1 * N + 2 * rs] =
          kb < K
              ? MatmulCompact.finishSum(
                  tmp[6], x, xOff + (m + 1) * K, w, n + 2 * rs, kb, K, bias, bo)
              : bias == null ? tmp[6] : bias[bo + n + 2 * rs] + tmp[6];
      y[y0 + 1 * N + 3 * rs] =
          kb < K
              ? MatmulCompact.finishSum(
                  tmp[7], x, xOff + (m + 1) * K, w, n + 3 * rs, kb, K, bias, bo)
              : bias == null ? tmp[7] : bias[bo + n + 3 * rs] + tmp[7];
      y[y0 + 2 * N + 0 * rs] =
          kb < K
              ? MatmulCompact.finishSum(
                  tmp[8], x, xOff + (m + 2) * K, w, n + 0 * rs, kb, K, bias, bo)
              : bias == null ? tmp[8] : bias[bo + n + 0 * rs] + tmp[8];
      y[y0 + 2 * N + 1 * rs] =
          kb < K
              ? MatmulCompact.finishSum(
                  tmp[9], x, xOff + (m + 2) * K, w, n + 1 * rs, kb, K, bias, bo)
              : bias == null ? tmp[9] : bias[bo + n + 1 * rs] + tmp[9];
      y[y0 + 2 * N + 2 * rs] =
          kb < K
              ? MatmulCompact.finishSum(
                  tmp[10], x, xOff + (m + 2) * K, w, n + 2 * rs, kb, K, bias, bo)
              : bias == null ? tmp[10] : bias[bo + n + 2 * rs] + tmp[10];
      y[y0 + 2 * N + 3 * rs] =
          kb < K
              ? MatmulCompact.finishSum(
                  tmp[11], x, xOff + (m + 2) * K, w, n + 3 * rs, kb, K, bias, bo)
              : bias == null ? tmp[11] : bias[bo + n + 3 * rs] + tmp[11];
      if (rx == 4) {
        y[y0 + 3 * N + 0 * rs] =
            kb < K
                ? MatmulCompact.finishSum(
                    tmp[12], x, xOff + (m + 3) * K, w, n + 0 * rs, kb, K, bias, bo)
                : bias == null ? tmp[12] : bias[bo + n + 0 * rs] + tmp[12];
        y[y0 + 3 * N + 1 * rs] =
            kb < K
                ? MatmulCompact.finishSum(
                    tmp[13], x, xOff + (m + 3) * K, w, n + 1 * rs, kb, K, bias, bo)
                : bias == null ? tmp[13] : bias[bo + n + 1 * rs] + tmp[13];
        y[y0 + 3 * N + 2 * rs] =
            kb < K
                ? MatmulCompact.finishSum(
                    tmp[14], x, xOff + (m + 3) * K, w, n + 2 * rs, kb, K, bias, bo)
                : bias == null ? tmp[14] : bias[bo + n + 2 * rs] + tmp[14];
        y[y0 + 3 * N + 3 * rs] =
            kb < K
                ? MatmulCompact.finishSum(
                    tmp[15], x, xOff + (m + 3) * K, w, n + 3 * rs, kb, K, bias, bo)
                : bias == null ? tmp[15] : bias[bo + n + 3 * rs] + tmp[15];
      }
    } else {
      a00.intoArray(tmp, 0);
      y[y0 + 0 * N + 0 * rs] =
          MatmulCompact.finish(tmp, x, xOff + (m + 0) * K, w, n + 0 * rs, kb, K, bias, bo);
      a01.intoArray(tmp, 0);
      y[y0 + 0 * N + 1 * rs] =
          MatmulCompact.finish(tmp, x, xOff + (m + 0) * K, w, n + 1 * rs, kb, K, bias, bo);
      a02.intoArray(tmp, 0);
      y[y0 + 0 * N + 2 * rs] =
          MatmulCompact.finish(tmp, x, xOff + (m + 0) * K, w, n + 2 * rs, kb, K, bias, bo);
      a03.intoArray(tmp, 0);
      y[y0 + 0 * N + 3 * rs] =
          MatmulCompact.finish(tmp, x, xOff + (m + 0) * K, w, n + 3 * rs, kb, K, bias, bo);
      a10.intoArray(tmp, 0);
      y[y0 + 1 * N + 0 * rs] =
          MatmulCompact.finish(tmp, x, xOff + (m + 1) * K, w, n + 0 * rs, kb, K, bias, bo);
      a11.intoArray(tmp, 0);
      y[y0 + 1 * N + 1 * rs] =
          MatmulCompact.finish(tmp, x, xOff + (m + 1) * K, w, n + 1 * rs, kb, K, bias, bo);
      a12.intoArray(tmp, 0);
      y[y0 + 1 * N + 2 * rs] =
          MatmulCompact.finish(tmp, x, xOff + (m + 1) * K, w, n + 2 * rs, kb, K, bias, bo);
      a13.intoArray(tmp, 0);
      y[y0 + 1 * N + 3 * rs] =
          MatmulCompact.finish(tmp, x, xOff + (m + 1) * K, w, n + 3 * rs, kb, K, bias, bo);
      a20.intoArray(tmp, 0);
      y[y0 + 2 * N + 0 * rs] =
          MatmulCompact.finish(tmp, x, xOff + (m + 2) * K, w, n + 0 * rs, kb, K, bias, bo);
      a21.intoArray(tmp, 0);
      y[y0 + 2 * N + 1 * rs] =
          MatmulCompact.finish(tmp, x, xOff + (m + 2) * K, w, n + 1 * rs, kb, K, bias, bo);
      a22.intoArray(tmp, 0);
      y[y0 + 2 * N + 2 * rs] =
          MatmulCompact.finish(tmp, x, xOff + (m + 2) * K, w, n + 2 * rs, kb, K, bias, bo);
      a23.intoArray(tmp, 0);
      y[y0 + 2 * N + 3 * rs] =
          MatmulCompact.finish(tmp, x, xOff + (m + 2) * K, w, n + 3 * rs, kb, K, bias, bo);
      if (rx == 4) {
        a30.intoArray(tmp, 0);
        y[y0 + 3 * N + 0 * rs] =
            MatmulCompact.finish(tmp, x, xOff + (m + 3) * K, w, n + 0 * rs, kb, K, bias, bo);
        a31.intoArray(tmp, 0);
        y[y0 + 3 * N + 1 * rs] =
            MatmulCompact.finish(tmp, x, xOff + (m + 3) * K, w, n + 1 * rs, kb, K, bias, bo);
        a32.intoArray(tmp, 0);
        y[y0 + 3 * N + 2 * rs] =
            MatmulCompact.finish(tmp, x, xOff + (m + 3) * K, w, n + 2 * rs, kb, K, bias, bo);
        a33.intoArray(tmp, 0);
        y[y0 + 3 * N + 3 * rs] =
            MatmulCompact.finish(tmp, x, xOff + (m + 3) * K, w, n + 3 * rs, kb, K, bias, bo);
      }
    }
  }
}
