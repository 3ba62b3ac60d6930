package org.hnet.kernels;

import static org.hnet.kernels.Attention.L;
import static org.hnet.kernels.Attention.SPECIES;

import jdk.incubator.vector.FloatVector;

/**
 * The small matrix products inside other kernels (the attention backward's tiles, the SSD's
 * per-chunk state terms): register tiles of 4 rows × 2 vectors over operands already in cache, no
 * packing. Every output element is one fma chain in increasing reduction order, so a caller's
 * results do not depend on the tiling.
 */
final class SmallGemm {
  private SmallGemm() {}

  /**
   * out[oOff + a·os + c] += Σ_{b < nb} W[wOff + a·wa + b·wb] · X[xOff + b·xs + c] for a < na, c <
   * P: per element one fma chain over b ascending. Register tile of 4 a × 2 vectors over c.
   */
  static void acc(
      float[] w,
      int wOff,
      int wa,
      int wb,
      int na,
      int nb,
      float[] x,
      int xOff,
      int xs,
      float[] out,
      int oOff,
      int os,
      int P) {
    int pv = SPECIES.loopBound(P), a = 0;
    for (; a + 4 <= na; a += 4) {
      int o0 = oOff + a * os, o1 = o0 + os, o2 = o1 + os, o3 = o2 + os;
      int w0 = wOff + a * wa, w1 = w0 + wa, w2 = w1 + wa, w3 = w2 + wa;
      int c = 0;
      for (; c + 2 * L <= pv; c += 2 * L) {
        FloatVector y00 = FloatVector.fromArray(SPECIES, out, o0 + c),
            y01 = FloatVector.fromArray(SPECIES, out, o0 + c + L);
        FloatVector y10 = FloatVector.fromArray(SPECIES, out, o1 + c),
            y11 = FloatVector.fromArray(SPECIES, out, o1 + c + L);
        FloatVector y20 = FloatVector.fromArray(SPECIES, out, o2 + c),
            y21 = FloatVector.fromArray(SPECIES, out, o2 + c + L);
        FloatVector y30 = FloatVector.fromArray(SPECIES, out, o3 + c),
            y31 = FloatVector.fromArray(SPECIES, out, o3 + c + L);
        for (int b = 0, xo = xOff + c, wo = 0; b < nb; b++, xo += xs, wo += wb) {
          FloatVector x0 = FloatVector.fromArray(SPECIES, x, xo);
          FloatVector x1 = FloatVector.fromArray(SPECIES, x, xo + L);
          FloatVector v = FloatVector.broadcast(SPECIES, w[w0 + wo]);
          y00 = v.fma(x0, y00);
          y01 = v.fma(x1, y01);
          v = FloatVector.broadcast(SPECIES, w[w1 + wo]);
          y10 = v.fma(x0, y10);
          y11 = v.fma(x1, y11);
          v = FloatVector.broadcast(SPECIES, w[w2 + wo]);
          y20 = v.fma(x0, y20);
          y21 = v.fma(x1, y21);
          v = FloatVector.broadcast(SPECIES, w[w3 + wo]);
          y30 = v.fma(x0, y30);
          y31 = v.fma(x1, y31);
        }
        y00.intoArray(out, o0 + c);
        y01.intoArray(out, o0 + c + L);
        y10.intoArray(out, o1 + c);
        y11.intoArray(out, o1 + c + L);
        y20.intoArray(out, o2 + c);
        y21.intoArray(out, o2 + c + L);
        y30.intoArray(out, o3 + c);
        y31.intoArray(out, o3 + c + L);
      }
      for (; c < pv; c += L) {
        FloatVector y0 = FloatVector.fromArray(SPECIES, out, o0 + c),
            y1 = FloatVector.fromArray(SPECIES, out, o1 + c);
        FloatVector y2 = FloatVector.fromArray(SPECIES, out, o2 + c),
            y3 = FloatVector.fromArray(SPECIES, out, o3 + c);
        for (int b = 0, xo = xOff + c, wo = 0; b < nb; b++, xo += xs, wo += wb) {
          FloatVector x0 = FloatVector.fromArray(SPECIES, x, xo);
          y0 = FloatVector.broadcast(SPECIES, w[w0 + wo]).fma(x0, y0);
          y1 = FloatVector.broadcast(SPECIES, w[w1 + wo]).fma(x0, y1);
          y2 = FloatVector.broadcast(SPECIES, w[w2 + wo]).fma(x0, y2);
          y3 = FloatVector.broadcast(SPECIES, w[w3 + wo]).fma(x0, y3);
        }
        y0.intoArray(out, o0 + c);
        y1.intoArray(out, o1 + c);
        y2.intoArray(out, o2 + c);
        y3.intoArray(out, o3 + c);
      }
      for (; c < P; c++) {
        float y0 = out[o0 + c], y1 = out[o1 + c], y2 = out[o2 + c], y3 = out[o3 + c];
        for (int b = 0, xo = xOff + c, wo = 0; b < nb; b++, xo += xs, wo += wb) {
          float xv = x[xo];
          y0 = Math.fma(w[w0 + wo], xv, y0);
          y1 = Math.fma(w[w1 + wo], xv, y1);
          y2 = Math.fma(w[w2 + wo], xv, y2);
          y3 = Math.fma(w[w3 + wo], xv, y3);
        }
        out[o0 + c] = y0;
        out[o1 + c] = y1;
        out[o2 + c] = y2;
        out[o3 + c] = y3;
      }
    }
    for (; a < na; a++) {
      int o0 = oOff + a * os, w0 = wOff + a * wa, c = 0;
      for (; c < pv; c += L) {
        FloatVector y = FloatVector.fromArray(SPECIES, out, o0 + c);
        for (int b = 0, xo = xOff + c, wo = w0; b < nb; b++, xo += xs, wo += wb) {
          y = FloatVector.broadcast(SPECIES, w[wo]).fma(FloatVector.fromArray(SPECIES, x, xo), y);
        }
        y.intoArray(out, o0 + c);
      }
      for (; c < P; c++) {
        float y = out[o0 + c];
        for (int b = 0, xo = xOff + c, wo = w0; b < nb; b++, xo += xs, wo += wb)
          y = Math.fma(w[wo], x[xo], y);
        out[o0 + c] = y;
      }
    }
  }
}
