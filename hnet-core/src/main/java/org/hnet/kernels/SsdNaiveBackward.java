package org.hnet.kernels;

import org.hnet.tensor.Rows;

/**
 * The oracle of {@link SsdBackward#scanBackward}: the reverse-time adjoint of SsdBackward's class
 * comment, token by token in double precision, keeping every state. Same legend: T tokens, H heads,
 * P head dim, N state size.
 */
public final class SsdNaiveBackward {
  private SsdNaiveBackward() {}

  /**
   * The reverse-time adjoint, token by token in double; same arguments and the same contract as
   * {@link SsdBackward#scanBackward} (OVERWRITES dIn, ADDS INTO grads), chunkSize only checked.
   */
  public static void scanBackward(
      SsdRows dIn,
      SsdHeads grads,
      Rows dy,
      SsdRows in,
      SsdHeads p,
      int[] cuSeqlens,
      int nSeq,
      int chunkSize) {
    int H = p.heads(), P = p.headDim(), N = p.state();
    SsdBackward.checkArgs(dIn, grads, dy, in, p, cuSeqlens, nSeq, chunkSize);
    float[] dx = dIn.x.a(), dDtRaw = dIn.dt.a(), db = dIn.b.a(), dc = dIn.c.a();
    int dxOff = dIn.x.off(), dxStride = dIn.x.stride(), ddtOff = dIn.dt.off();
    int ddtStride = dIn.dt.stride(), dbOff = dIn.b.off(), dbStride = dIn.b.stride();
    int dcOff = dIn.c.off(), dcStride = dIn.c.stride();
    float[] dDtBias = grads.dtBias(), dALog = grads.aLog(), dD = grads.d();
    float[] dyA = dy.a();
    int dyOff = dy.off(), dyStride = dy.stride();
    float[] x = in.x.a(), dt = in.dt.a(), b = in.b.a(), c = in.c.a();
    int xOff = in.x.off(), xStride = in.x.stride(), dtOff = in.dt.off(), dtStride = in.dt.stride();
    int bOff = in.b.off(), bStride = in.b.stride(), cOff = in.c.off(), cStride = in.c.stride();
    float[] dtBias = p.dtBias(), aLog = p.aLog(), d = p.d();
    int T = cuSeqlens[nSeq], pn = P * N, maxLen = 0;
    for (int s = 0; s < nSeq; s++) maxLen = Math.max(maxLen, cuSeqlens[s + 1] - cuSeqlens[s]);
    double[] dbAcc = new double[T * N], dcAcc = new double[T * N];
    double[] states = new double[(maxLen + 1) * pn]; // S_{t0-1} = 0, S_{t0}, ..., S_{t1-1}
    double[] g = new double[pn];
    for (int seq = 0; seq < nSeq; seq++) {
      int t0 = cuSeqlens[seq], t1 = cuSeqlens[seq + 1];
      for (int h = 0; h < H; h++) {
        double a = -Math.exp(aLog[h]);
        java.util.Arrays.fill(states, 0, pn, 0);
        for (int t = t0; t < t1; t++) {
          double dtv = softplus((double) dt[dtOff + t * dtStride + h] + dtBias[h]);
          double dA = Math.exp(dtv * a);
          int prev = (t - t0) * pn, cur = prev + pn, xb = xOff + t * xStride + h * P;
          for (int pp = 0; pp < P; pp++) {
            for (int n = 0; n < N; n++) {
              states[cur + pp * N + n] =
                  dA * states[prev + pp * N + n] + dtv * x[xb + pp] * b[bOff + t * bStride + n];
            }
          }
        }
        java.util.Arrays.fill(g, 0);
        double dAsum = 0, dBiasSum = 0, dDsum = 0;
        for (int t = t1 - 1; t >= t0; t--) {
          double v = (double) dt[dtOff + t * dtStride + h] + dtBias[h];
          double dtv = softplus(v), dA = Math.exp(dtv * a);
          int cur = (t - t0 + 1) * pn, prev = cur - pn;
          int xb = xOff + t * xStride + h * P, yb = dyOff + t * dyStride + h * P;
          int bb = bOff + t * bStride, cb = cOff + t * cStride;
          for (int pp = 0; pp < P; pp++) { // g was a_{t+1} G_{t+1}; now G_t
            for (int n = 0; n < N; n++) g[pp * N + n] += (double) dyA[yb + pp] * c[cb + n];
          }
          double ddt = 0, ga = 0;
          for (int pp = 0; pp < P; pp++) {
            double gb = 0;
            for (int n = 0; n < N; n++) {
              double gv = g[pp * N + n];
              gb += gv * b[bb + n];
              ga += gv * states[prev + pp * N + n];
              dcAcc[t * N + n] += dyA[yb + pp] * states[cur + pp * N + n];
              dbAcc[t * N + n] += dtv * gv * x[xb + pp];
            }
            dx[dxOff + t * dxStride + h * P + pp] = (float) (d[h] * dyA[yb + pp] + dtv * gb);
            ddt += x[xb + pp] * gb;
            dDsum += (double) dyA[yb + pp] * x[xb + pp];
          }
          ddt += ga * dA * a;
          dAsum += ga * dA * dtv;
          float draw = (float) (ddt * SsdBackward.softplusGrad(v));
          dDtRaw[ddtOff + t * ddtStride + h] = draw;
          dBiasSum += draw;
          for (int i = 0; i < pn; i++) g[i] *= dA;
        }
        dDtBias[h] += (float) dBiasSum;
        dALog[h] += (float) (dAsum * a);
        dD[h] += (float) dDsum;
      }
    }
    for (int t = 0; t < T; t++) {
      for (int n = 0; n < N; n++) {
        db[dbOff + t * dbStride + n] = (float) dbAcc[t * N + n];
        dc[dcOff + t * dcStride + n] = (float) dcAcc[t * N + n];
      }
    }
  }

  /** softplus in double with torch's threshold (linear above 20). */
  private static double softplus(double v) {
    return v > 20 ? v : Math.log1p(Math.exp(v));
  }
}
