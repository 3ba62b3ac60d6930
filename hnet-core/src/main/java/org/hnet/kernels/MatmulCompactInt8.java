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
  static final int GROUP = CompactWeight.GROUP;

  /** Weights per superblock: VL groups. */
  static final int SBG = CompactWeight.SB * GROUP;

  /**
   * VL bytes, widened to VL floats (part 0 of the conversion); 8 bytes, of which the first 4 are
   * used, at VL = 4, the narrowest byte vector (the weights' PAD covers the load).
   */
  private static final VectorSpecies<Byte> BS =
      VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, 8 * VL)));

  /** The VL bytes from q[o], as floats. */
  static FloatVector cv(byte[] q, int o) {
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
    int rows = padded(M), need = Math.multiplyExact(rows, w.kp);
    if (b.xp.length < need) b.xp = new float[need];
    w.permuteX(x, xOff, M, b.xp);
    java.util.Arrays.fill(b.xp, M * w.kp, need, 0f);
    return b.xp;
  }

  /**
   * Rows of x the permuted buffer holds: M, and one row of zeros when 3 rows end a 16-lane pass.
   */
  static int padded(int M) {
    return VL == 16 && M % 4 == 3 ? M + 1 : M;
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
   * Rows n, n + rs, n + 2rs, n + 3rs of w against R rows of x from row m (int8w4xR, R = 1 to 4):
   * one pass of a slab ({@link CompactWeight#scaleIndex}: n = slab start + i, rs = the slab's rows
   * per run), whose four scale vectors of a superblock lie together. Each converted vector of w is
   * used against the R rows of x, each loaded vector of x against the 4 rows of w. Each output's
   * operations are those of {@link #int8w1x1}; at 16 lanes the 4R lane sums are taken at once, by
   * pairing accumulators (lanes with bit h set from one, clear from the other, then lane i + lane i
   * ^ h for h = 8, 4, 2, 1): the same additions as {@link MatmulDecode#laneSum}, in one vector.
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
    int p0 = m * kp;
    int r0 = n * K, st = rs * K, s = w.scaleIndex(n, 0), ss = w.scaleStep(n);
    FloatVector z = FloatVector.zero(S);
    FloatVector a00 = z, a01 = z, a02 = z, a03 = z;
    for (int b = 0, o = 0; b < sbs; b++, o += SBG, s += ss) {
      int qs = b < full ? VL : R; // a short superblock's groups lie R apart
      FloatVector v0 = cv(q, r0 + o), v1 = cv(q, r0 + st + o);
      FloatVector v2 = cv(q, r0 + 2 * st + o), v3 = cv(q, r0 + 3 * st + o);
      FloatVector u;
      u = FloatVector.fromArray(S, xp, p0 + o);
      FloatVector t00 = u.mul(v0), t01 = u.mul(v1), t02 = u.mul(v2), t03 = u.mul(v3);
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
      }
      FloatVector c0 = FloatVector.fromArray(S, sc, s + 0 * VL),
          c1 = FloatVector.fromArray(S, sc, s + 1 * VL),
          c2 = FloatVector.fromArray(S, sc, s + 2 * VL),
          c3 = FloatVector.fromArray(S, sc, s + 3 * VL);
      a00 = t00.fma(c0, a00);
      a01 = t01.fma(c1, a01);
      a02 = t02.fma(c2, a02);
      a03 = t03.fma(c3, a03);
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
              ? MatmulCompact.finishSum(
                  tmp[3], x, xOff + (m + 0) * K, w, n + 0 * rs, kb, K, bias, bo)
              : bias == null ? tmp[3] : bias[bo + n + 0 * rs] + tmp[3];
      y[y0 + 0 * N + 1 * rs] =
          kb < K
              ? MatmulCompact.finishSum(
                  tmp[7], x, xOff + (m + 0) * K, w, n + 1 * rs, kb, K, bias, bo)
              : bias == null ? tmp[7] : bias[bo + n + 1 * rs] + tmp[7];
      y[y0 + 0 * N + 2 * rs] =
          kb < K
              ? MatmulCompact.finishSum(
                  tmp[11], x, xOff + (m + 0) * K, w, n + 2 * rs, kb, K, bias, bo)
              : bias == null ? tmp[11] : bias[bo + n + 2 * rs] + tmp[11];
      y[y0 + 0 * N + 3 * rs] =
          kb < K
              ? MatmulCompact.finishSum(
                  tmp[15], x, xOff + (m + 0) * K, w, n + 3 * rs, kb, K, bias, bo)
              : bias == null ? tmp[15] : bias[bo + n + 3 * rs] + tmp[15];
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
    }
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
