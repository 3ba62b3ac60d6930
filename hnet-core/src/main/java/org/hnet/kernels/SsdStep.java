package org.hnet.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.hnet.kernels.Profile.Kind;

/**
 * One decode step of the Mamba-2 SSD recurrence ({@link Ssd}'s class comment has the math) for R
 * rows at once, each with its own state. Dimension legend: R rows, H heads, P head dim, N state
 * size.
 */
public final class SsdStep {
  private static final VectorSpecies<Float> F = VectorWidth.FLOAT;

  private static final int LANES = F.length();

  private SsdStep() {}

  /**
   * One decode step for R rows: state [R × H × P × N] updated in place; x [R × H*P], dtRaw [R × H],
   * b, c [R × N]; y [R × H*P]; p the weights and dimensions. Rows with {@code active[r] == false}
   * are skipped (state and y untouched); {@code active == null} means all rows. Parallel over (row,
   * head).
   */
  public static void step(
      float[] state,
      float[] y,
      float[] x,
      float[] dtRaw,
      float[] b,
      float[] c,
      SsdHeads p,
      int R,
      boolean[] active) {
    long prof = Profile.begin(Kind.SSD_STEP);
    int H = p.heads(), P = p.headDim(), N = p.state();
    if (R < 0 || H < 0 || P < 0 || N < 0) throw new IllegalArgumentException("negative dimension");
    if (active != null && active.length < R) throw new IllegalArgumentException("active too short");
    int pn = P * N;
    int grain = Math.max(1, 32768 / Math.max(1, pn)); // at least ~32k state elements per part
    if (Parallel.serial(R * H, grain)) stepHeads(state, y, x, dtRaw, b, c, p, active, 0, R * H);
    else
      Parallel.forRange(
          R * H, grain, (u0, u1) -> stepHeads(state, y, x, dtRaw, b, c, p, active, u0, u1));
    Profile.end(Kind.SSD_STEP, prof);
  }

  /** Work items [u0, u1) of {@link #step}: item u is head u % H of row u / H. */
  private static void stepHeads(
      float[] state,
      float[] y,
      float[] x,
      float[] dtRaw,
      float[] b,
      float[] c,
      SsdHeads hp,
      boolean[] active,
      int u0,
      int u1) {
    int H = hp.heads(), P = hp.headDim(), N = hp.state(), pn = P * N;
    float[] dtBias = hp.dtBias(), aLog = hp.aLog(), d = hp.d();
    float[] lanes = Lanes.local(); // for sumLanes
    for (int u = u0; u < u1; u++) {
      int r = u / H, h = u % H;
      if (active != null && !active[r]) continue;
      float dtv = Ssd.softplus(dtRaw[r * H + h] + dtBias[h]);
      float dA = Ssd.decay(dtv, Ssd.negExp(aLog[h]));
      stepHead(state, u * pn, y, x, r * H * P + h * P, dtv, dA, d[h], b, c, r * N, P, N, lanes);
    }
  }

  /** S[p,:] = dA S[p,:] + (dt x_p) B; y_p = S[p,:]·C + D x_p. Vector over N. */
  private static void stepHead(
      float[] s,
      int sOff,
      float[] y,
      float[] x,
      int xo,
      float dtv,
      float dA,
      float dH,
      float[] b,
      float[] c,
      int bc,
      int P,
      int N,
      float[] lanes) {
    FloatVector vdA = FloatVector.broadcast(F, dA);
    for (int p = 0; p < P; p++) {
      float xp = x[xo + p];
      float dx = dtv * xp;
      FloatVector vdx = FloatVector.broadcast(F, dx);
      FloatVector acc = FloatVector.zero(F);
      int sp = sOff + p * N, n = 0;
      for (int nb = F.loopBound(N); n < nb; n += LANES) {
        FloatVector v =
            FloatVector.fromArray(F, b, bc + n)
                .fma(vdx, FloatVector.fromArray(F, s, sp + n).mul(vdA));
        v.intoArray(s, sp + n);
        acc = v.fma(FloatVector.fromArray(F, c, bc + n), acc);
      }
      float tail = 0f;
      for (; n < N; n++) {
        float v = s[sp + n] * dA + dx * b[bc + n];
        s[sp + n] = v;
        tail += v * c[bc + n];
      }
      acc.intoArray(lanes, 0); // (not sumLanes(acc): a vector passed to a call may be boxed)
      y[xo + p] = Ssd.sumLanes(lanes) + tail + dH * xp;
    }
  }
}
