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
 * <p>They read the weights in superblocks of VL groups ({@link CompactWeight}: converted vector i
 * holds weight i of VL groups) against x permuted the same way ({@link CompactWeight#permuteX}).
 * Every output sums its row superblock by superblock in the same order: t = xp·q over vector 0 (a
 * multiply), then fma over vectors 1 to 31 in order; then a = t·s + a, s the superblock's vector of
 * VL scales (one fma and one load for VL groups). With a scale broadcast per group and row, the
 * batch-1 pass ran at 20.6 G weights/s from cache on one Zen 4 core; with a scale vector per
 * superblock, at 26.2 (docs/performance-log.md, tenth session).
 */
final class MatmulCompactInt8 {
  private MatmulCompactInt8() {}

  private static final VectorSpecies<Float> S = MatmulGemm.S;
  private static final int VL = MatmulGemm.VL;
  private static final int GROUP = CompactWeight.GROUP;

  /** Weights per superblock: VL groups. */
  private static final int SBG = CompactWeight.SB * GROUP;

  /**
   * VL bytes, widened to VL floats (part 0 of the conversion); 8 bytes, of which the first 4 are
   * used, at VL = 4, the narrowest byte vector (the weights' PAD covers the load).
   */
  private static final VectorSpecies<Byte> BS =
      VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, 8 * VL)));

  /** The VL bytes from q[o], as floats. */
  private static FloatVector cv(byte[] q, int o) {
    return (FloatVector) ByteVector.fromArray(BS, q, o).convertShape(VectorOperators.B2F, S, 0);
  }

  /** A thread's buffer for x in the superblock layout. */
  private static final class XBuffer {
    float[] xp = new float[0];
  }

  /**
   * Rows [0, M) of x from xOff in w's superblock layout ({@link CompactWeight#permuteX}), in the
   * calling thread's buffer (grown when too short, never shrunk).
   */
  static float[] permuted(CompactWeight w, float[] x, int xOff, int M) {
    XBuffer b = org.hnet.tensor.Arena.local().holder(XBuffer.class, XBuffer::new);
    int need = Math.multiplyExact(M, w.kp);
    if (b.xp.length < need) b.xp = new float[need];
    w.permuteX(x, xOff, M, b.xp);
    return b.xp;
  }

  /** Row n of w against row m of x. */
  static void int8w1x1(
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
      int N,
      int K,
      int kb) {
    byte[] q = w.q8;
    float[] sc = w.scales;
    int sbs = w.sbs, full = w.sbFull, R = w.sbShort, kp = w.kp;
    int x0 = xOff + m * K, p0 = m * kp;
    int r0 = n * K, s = w.scaleIndex(n, 0), ss = w.scaleStep(n);
    FloatVector a00 = FloatVector.zero(S);
    for (int b = 0, o = 0; b < sbs; b++, o += SBG, s += ss) {
      int qs = b < full ? VL : R; // a short superblock's groups lie R apart
      FloatVector v0 = cv(q, r0 + o);
      FloatVector u;
      u = FloatVector.fromArray(S, xp, p0 + o);
      FloatVector t00 = u.mul(v0);
      for (int i = 1; i < GROUP; i++) {
        int oi = o + i * qs, pi = o + i * VL;
        v0 = cv(q, r0 + oi);
        u = FloatVector.fromArray(S, xp, p0 + pi);
        t00 = u.fma(v0, t00);
      }
      a00 = t00.fma(FloatVector.fromArray(S, sc, s), a00);
    }
    int y0 = yOff + m * N + n;
    a00.intoArray(tmp, 0);
    y[y0 + 0 * N] = MatmulCompact.finish(tmp, x, x0, w, n, kb, K, bias, bo);
  }

  /**
   * Rows n, n + rs, n + 2rs, n + 3rs of w against one row of x: one pass of a slab ({@link
   * CompactWeight#scaleIndex}: n = slab start + i, rs = the slab's rows per run), whose four scale
   * vectors of a superblock lie together. Each output's operations are those of {@link #int8w1x1}.
   */
  static void int8w4x1(
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
    int x0 = xOff + m * K, p0 = m * kp;
    int r0 = n * K, st = rs * K, s = w.scaleIndex(n, 0), ss = w.scaleStep(n);
    FloatVector a00 = FloatVector.zero(S),
        a01 = FloatVector.zero(S),
        a02 = FloatVector.zero(S),
        a03 = FloatVector.zero(S);
    for (int b = 0, o = 0; b < sbs; b++, o += SBG, s += ss) {
      int qs = b < full ? VL : R; // a short superblock's groups lie R apart
      FloatVector u = FloatVector.fromArray(S, xp, p0 + o);
      FloatVector t00 = u.mul(cv(q, r0 + o));
      FloatVector t01 = u.mul(cv(q, r0 + 1 * st + o));
      FloatVector t02 = u.mul(cv(q, r0 + 2 * st + o));
      FloatVector t03 = u.mul(cv(q, r0 + 3 * st + o));
      for (int i = 1; i < GROUP; i++) {
        int oi = o + i * qs, pi = o + i * VL;
        u = FloatVector.fromArray(S, xp, p0 + pi);
        t00 = u.fma(cv(q, r0 + oi), t00);
        t01 = u.fma(cv(q, r0 + 1 * st + oi), t01);
        t02 = u.fma(cv(q, r0 + 2 * st + oi), t02);
        t03 = u.fma(cv(q, r0 + 3 * st + oi), t03);
      }
      a00 = t00.fma(FloatVector.fromArray(S, sc, s + 0 * VL), a00);
      a01 = t01.fma(FloatVector.fromArray(S, sc, s + 1 * VL), a01);
      a02 = t02.fma(FloatVector.fromArray(S, sc, s + 2 * VL), a02);
      a03 = t03.fma(FloatVector.fromArray(S, sc, s + 3 * VL), a03);
    }
    int y0 = yOff + m * N + n;
    a00.intoArray(tmp, 0);
    y[y0 + 0 * N + 0 * rs] = MatmulCompact.finish(tmp, x, x0, w, n + 0 * rs, kb, K, bias, bo);
    a01.intoArray(tmp, 0);
    y[y0 + 0 * N + 1 * rs] = MatmulCompact.finish(tmp, x, x0, w, n + 1 * rs, kb, K, bias, bo);
    a02.intoArray(tmp, 0);
    y[y0 + 0 * N + 2 * rs] = MatmulCompact.finish(tmp, x, x0, w, n + 2 * rs, kb, K, bias, bo);
    a03.intoArray(tmp, 0);
    y[y0 + 0 * N + 3 * rs] = MatmulCompact.finish(tmp, x, x0, w, n + 3 * rs, kb, K, bias, bo);
  }

  /** Rows n and n + rs of w against 4 rows of x, each converted vector used 4 times. */
  static void int8w2x4(
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
    int x0 = xOff + m * K, p0 = m * kp;
    int x1 = xOff + (m + 1) * K, p1 = (m + 1) * kp;
    int x2 = xOff + (m + 2) * K, p2 = (m + 2) * kp;
    int x3 = xOff + (m + 3) * K, p3 = (m + 3) * kp;
    int r0 = n * K, r1 = r0 + rs * K;
    int s0 = w.scaleIndex(n, 0), s1 = w.scaleIndex(n + rs, 0);
    int ss0 = w.scaleStep(n), ss1 = w.scaleStep(n + rs);
    FloatVector a00 = FloatVector.zero(S),
        a01 = FloatVector.zero(S),
        a10 = FloatVector.zero(S),
        a11 = FloatVector.zero(S),
        a20 = FloatVector.zero(S),
        a21 = FloatVector.zero(S),
        a30 = FloatVector.zero(S),
        a31 = FloatVector.zero(S);
    for (int b = 0, o = 0; b < sbs; b++, o += SBG, s0 += ss0, s1 += ss1) {
      int qs = b < full ? VL : R; // a short superblock's groups lie R apart
      FloatVector v0 = cv(q, r0 + o);
      FloatVector v1 = cv(q, r1 + o);
      FloatVector u;
      u = FloatVector.fromArray(S, xp, p0 + o);
      FloatVector t00 = u.mul(v0), t01 = u.mul(v1);
      u = FloatVector.fromArray(S, xp, p1 + o);
      FloatVector t10 = u.mul(v0), t11 = u.mul(v1);
      u = FloatVector.fromArray(S, xp, p2 + o);
      FloatVector t20 = u.mul(v0), t21 = u.mul(v1);
      u = FloatVector.fromArray(S, xp, p3 + o);
      FloatVector t30 = u.mul(v0), t31 = u.mul(v1);
      for (int i = 1; i < GROUP; i++) {
        int oi = o + i * qs, pi = o + i * VL;
        v0 = cv(q, r0 + oi);
        v1 = cv(q, r1 + oi);
        u = FloatVector.fromArray(S, xp, p0 + pi);
        t00 = u.fma(v0, t00);
        t01 = u.fma(v1, t01);
        u = FloatVector.fromArray(S, xp, p1 + pi);
        t10 = u.fma(v0, t10);
        t11 = u.fma(v1, t11);
        u = FloatVector.fromArray(S, xp, p2 + pi);
        t20 = u.fma(v0, t20);
        t21 = u.fma(v1, t21);
        u = FloatVector.fromArray(S, xp, p3 + pi);
        t30 = u.fma(v0, t30);
        t31 = u.fma(v1, t31);
      }
      FloatVector c0 = FloatVector.fromArray(S, sc, s0), c1 = FloatVector.fromArray(S, sc, s1);
      a00 = t00.fma(c0, a00);
      a01 = t01.fma(c1, a01);
      a10 = t10.fma(c0, a10);
      a11 = t11.fma(c1, a11);
      a20 = t20.fma(c0, a20);
      a21 = t21.fma(c1, a21);
      a30 = t30.fma(c0, a30);
      a31 = t31.fma(c1, a31);
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
    int x0 = xOff + m * K, p0 = m * kp;
    int x1 = xOff + (m + 1) * K, p1 = (m + 1) * kp;
    int r0 = n * K, r1 = r0 + rs * K;
    int s0 = w.scaleIndex(n, 0), s1 = w.scaleIndex(n + rs, 0);
    int ss0 = w.scaleStep(n), ss1 = w.scaleStep(n + rs);
    FloatVector a00 = FloatVector.zero(S),
        a01 = FloatVector.zero(S),
        a10 = FloatVector.zero(S),
        a11 = FloatVector.zero(S);
    for (int b = 0, o = 0; b < sbs; b++, o += SBG, s0 += ss0, s1 += ss1) {
      int qs = b < full ? VL : R; // a short superblock's groups lie R apart
      FloatVector v0 = cv(q, r0 + o);
      FloatVector v1 = cv(q, r1 + o);
      FloatVector u;
      u = FloatVector.fromArray(S, xp, p0 + o);
      FloatVector t00 = u.mul(v0), t01 = u.mul(v1);
      u = FloatVector.fromArray(S, xp, p1 + o);
      FloatVector t10 = u.mul(v0), t11 = u.mul(v1);
      for (int i = 1; i < GROUP; i++) {
        int oi = o + i * qs, pi = o + i * VL;
        v0 = cv(q, r0 + oi);
        v1 = cv(q, r1 + oi);
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
    y[y0 + 0 * N + 0 * rs] = MatmulCompact.finish(tmp, x, x0, w, n + 0 * rs, kb, K, bias, bo);
    a01.intoArray(tmp, 0);
    y[y0 + 0 * N + 1 * rs] = MatmulCompact.finish(tmp, x, x0, w, n + 1 * rs, kb, K, bias, bo);
    a10.intoArray(tmp, 0);
    y[y0 + 1 * N + 0 * rs] = MatmulCompact.finish(tmp, x, x1, w, n + 0 * rs, kb, K, bias, bo);
    a11.intoArray(tmp, 0);
    y[y0 + 1 * N + 1 * rs] = MatmulCompact.finish(tmp, x, x1, w, n + 1 * rs, kb, K, bias, bo);
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
    int x0 = xOff + m * K, p0 = m * kp;
    int x1 = xOff + (m + 1) * K, p1 = (m + 1) * kp;
    int x2 = xOff + (m + 2) * K, p2 = (m + 2) * kp;
    int r0 = n * K, r1 = r0 + rs * K;
    int s0 = w.scaleIndex(n, 0), s1 = w.scaleIndex(n + rs, 0);
    int ss0 = w.scaleStep(n), ss1 = w.scaleStep(n + rs);
    FloatVector a00 = FloatVector.zero(S),
        a01 = FloatVector.zero(S),
        a10 = FloatVector.zero(S),
        a11 = FloatVector.zero(S),
        a20 = FloatVector.zero(S),
        a21 = FloatVector.zero(S);
    for (int b = 0, o = 0; b < sbs; b++, o += SBG, s0 += ss0, s1 += ss1) {
      int qs = b < full ? VL : R; // a short superblock's groups lie R apart
      FloatVector v0 = cv(q, r0 + o);
      FloatVector v1 = cv(q, r1 + o);
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
        v1 = cv(q, r1 + oi);
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
  }

  /** Floats {@link #rowToFloats} needs for its buffer. */
  static final int ROW_BUFFER = SBG;

  /**
   * Elements (r, c0 .. c1-1) as float32 into out[off], out[off + stride], ..., as {@link
   * CompactWeight#rowToFloats} writes them (each a value times its scale, rounded once): the
   * superblocks a range covers are converted a vector at a time (a vector of VL weights times the
   * superblock's vector of scales) into buf [ROW_BUFFER], and copied from there.
   */
  static void rowToFloats(
      CompactWeight w, int r, int c0, int c1, float[] out, int off, int stride, float[] buf) {
    int e = Math.min(c1, w.kq);
    if (c0 < e) {
      byte[] q = w.q8;
      int s = w.scaleIndex(r, 0), ss = w.scaleStep(r);
      for (int b = c0 / SBG; b * SBG < e; b++) {
        int lo = Math.max(c0, b * SBG), hi = Math.min(e, b * SBG + SBG);
        int qs = b < w.sbFull ? VL : w.sbShort, o = r * w.k + b * SBG;
        FloatVector sv = FloatVector.fromArray(S, w.scales, s + b * ss);
        for (int i = 0; i < GROUP; i++) cv(q, o + i * qs).mul(sv).intoArray(buf, i * VL);
        // group by group in the order of c: group j's weights lie VL apart in buf from j
        for (int g = lo / GROUP, at = off + (lo - c0) * stride; g * GROUP < hi; g++) {
          int j = g - b * VL, i1 = Math.min(hi - g * GROUP, GROUP);
          for (int i = Math.max(lo - g * GROUP, 0); i < i1; i++, at += stride)
            out[at] = buf[i * VL + j];
        }
      }
    }
    int t = Math.max(c0, e);
    if (t < c1) w.rowToFloats(r, t, c1, out, off + (t - c0) * stride, stride);
  }
}
