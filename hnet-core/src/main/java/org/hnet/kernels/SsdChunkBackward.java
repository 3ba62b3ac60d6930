package org.hnet.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.hnet.tensor.Rows;

/**
 * Phase 2 of {@link SsdBackward#scanBackward}: the gradients of one chunk, all heads, given the
 * chunk-start states and chunk-end state gradients of phase 1. The formulas are in SsdBackward's
 * class comment; names follow it (W1, W2, K, dacum, dS, S0).
 *
 * <p>Matrix-style inner loops without lane reductions in the L² parts: the L×L matrices are formed
 * row by row, vector over j, from transposed copies of x and B (rows padded to a whole number of
 * vectors, Qp, with zeros past the chunk end and a decay row that is 0 above the diagonal, so the
 * padded lanes contribute exact zeros); consumers run vector over N or P.
 */
final class SsdChunkBackward {
  private static final VectorSpecies<Float> F = VectorWidth.FLOAT;

  private static final int LANES = F.length();

  private SsdChunkBackward() {}

  /**
   * One chunk: global chunk k, len tokens from token row c0. Its heads' decays are in big at (k·H +
   * h)·q (phase 1); big.states/dstates at (k·H + h)·P·N hold its S0 and dS. first/last: the chunk
   * starts/ends its sequence (S0 = 0 / dS = 0). big.partial[(k·H + h)·3 + {0,1,2}] receives this
   * chunk's sums of dDtRaw, the A gradient (before the ·A of A_log) and dy·x for head h; rows c0 ..
   * c0 + len − 1 of dIn receive its dx, dDtRaw, dB, dC.
   */
  static void chunk(
      SsdRows dIn,
      SsdBackward.Big big,
      Rows dy,
      SsdRows in,
      SsdHeads p,
      int k,
      int c0,
      int len,
      boolean first,
      boolean last,
      int q,
      int qp,
      SsdBackward.Scratch sc) {
    float[] db = dIn.b.a(), dc = dIn.c.a(), b = in.b.a(), c = in.c.a();
    int dbBase = dIn.b.at(c0), dbStride = dIn.b.stride();
    int dcBase = dIn.c.at(c0), dcStride = dIn.c.stride();
    int bBase = in.b.at(c0), bStride = in.b.stride(), cBase = in.c.at(c0), cStride = in.c.stride();
    int H = p.heads(), N = p.state();
    int rl = SsdBlocks.roundUp(len);
    for (int i = 0; i < len; i++) { // dB, dC accumulate over heads from zero
      java.util.Arrays.fill(db, dbBase + i * dbStride, dbBase + i * dbStride + N, 0f);
      java.util.Arrays.fill(dc, dcBase + i * dcStride, dcBase + i * dcStride + N, 0f);
    }
    cbRows(sc.cb, sc.bT, b, bBase, bStride, c, cBase, cStride, len, rl, N, qp);
    for (int h = 0; h < H; h++) head(dIn, big, dy, in, p, k, c0, h, len, first, last, q, qp, sc);
  }

  /**
   * Bᵀ [N × Qp] and CB rows [L × Qp] (lower triangle up to the row's last vector; shared by heads).
   * A method of its own, small enough for C2 to compile early: vector code run by C1 allocates
   * every vector it computes.
   */
  private static void cbRows(
      float[] cb,
      float[] bT,
      float[] b,
      int bBase,
      int bStride,
      float[] c,
      int cBase,
      int cStride,
      int len,
      int rl,
      int N,
      int qp) {
    for (int n = 0; n < N; n++) {
      for (int j = 0; j < len; j++) bT[n * qp + j] = b[bBase + j * bStride + n];
      for (int j = len; j < rl; j++) bT[n * qp + j] = 0f;
    }
    SsdBlocks.lowerRows(cb, qp, bT, c, cBase, cStride, len, N);
  }

  /** Head h of the chunk; arguments as {@link #chunk}'s (kc its global chunk index k). */
  private static void head(
      SsdRows dIn,
      SsdBackward.Big big,
      Rows dyRows,
      SsdRows in,
      SsdHeads heads,
      int kc,
      int c0,
      int h,
      int len,
      boolean first,
      boolean last,
      int q,
      int qp,
      SsdBackward.Scratch sc) {
    int H = heads.heads(), P = heads.headDim(), N = heads.state();
    float[] dDtRaw = dIn.dt.a(), dy = dyRows.a(), x = in.x.a(), b = in.b.a();
    int ddtBase = dIn.dt.at(c0) + h, ddtStride = dIn.dt.stride();
    int yh = dyRows.at(c0) + h * P, dyStride = dyRows.stride();
    int xh = in.x.at(c0) + h * P, xStride = in.x.stride();
    int bBase = in.b.at(c0), bStride = in.b.stride();
    float a = Ssd.negExp(heads.aLog()[h]);
    float[] states = big.states, dstates = big.dstates;
    double[] partial = big.partial;
    int s0 = (kc * H + h) * P * N, pOff = (kc * H + h) * 3, decayAt = (kc * H + h) * q;
    big.load(sc, decayAt, len); // SsdBackward.decays of this chunk and head, formed in phase 1
    float[] dtv = sc.dtv, dA = sc.dA, sd = sc.sd, endW = sc.endW, sig = sc.sig;
    float[] dec = sc.dec, dyx = sc.dyx, krow = sc.krow, cb = sc.cb, w1 = sc.w1, w2 = sc.w2;
    float[] xT = sc.xT, dsT = sc.dsT;
    double[] dacum = sc.dacum, ddtE = sc.ddtE, colK = sc.colK;
    int rl = SsdBlocks.roundUp(len);
    for (int j = len; j < rl; j++) dtv[j] = 0f;
    java.util.Arrays.fill(dec, 0, rl, 0f);
    java.util.Arrays.fill(colK, 0, len, 0);
    java.util.Arrays.fill(dacum, 0, len, 0);
    java.util.Arrays.fill(ddtE, 0, len, 0);
    for (int p = 0; p < P; p++) { // xᵀ [P × Qp]
      for (int j = 0; j < len; j++) xT[p * qp + j] = x[xh + j * xStride + p];
      for (int j = len; j < rl; j++) xT[p * qp + j] = 0f;
    }
    if (!last) { // dSᵀ [N × P]
      for (int p = 0; p < P; p++) {
        for (int n = 0; n < N; n++) dsT[n * P + p] = dstates[s0 + p * N + n];
      }
    }
    SsdBlocks.lowerRows(dyx, qp, xT, dy, yh, dyStride, len, P); // DYX rows [L × Qp]
    // The state terms of every row at once, whole vectors ({@link SsdBlocks#rowsTimes}):
    // G_i = S0ᵀ dy_i [L × N], U_j = dS B_j [L × P], T_j = dSᵀ x_j [L × N].
    float[] gS = sc.gS, uS = sc.uS, tS = sc.tS;
    if (!first) SsdBlocks.rowsTimes(gS, N, dy, yh, dyStride, states, s0, N, len, P, F.loopBound(N));
    if (!last) {
      SsdBlocks.rowsTimes(uS, P, b, bBase, bStride, dsT, 0, P, len, N, F.loopBound(P));
      SsdBlocks.rowsTimes(tS, N, x, xh, xStride, dstates, s0, N, len, P, F.loopBound(N));
    }
    double dDpart = 0;

    // Rows i: decay row L_i· (carried: L_ij = L_{i-1,j} dA_i), DYX_i·, then W1, W2, K; dC_i.
    for (int i = 0; i < len; i++) {
      int row = i * qp;
      if (i > 0) {
        dec[i - 1] = 1f;
        FloatVector vda = FloatVector.broadcast(F, dA[i]);
        for (int j = 0; j < i; j += LANES)
          FloatVector.fromArray(F, dec, j).mul(vda).intoArray(dec, j);
      }
      // dec[i] is 0 here (the diagonal is set apart below) and so is everything right of it.
      for (int jb = 0, rb = SsdBlocks.roundUp(i + 1); jb < rb; jb += LANES) {
        FloatVector acc = FloatVector.fromArray(F, dyx, row + jb);
        FloatVector dv = FloatVector.fromArray(F, dec, jb),
            cbv = FloatVector.fromArray(F, cb, row + jb);
        FloatVector tv = FloatVector.fromArray(F, dtv, jb);
        dv.mul(cbv).mul(acc).intoArray(krow, jb);
        FloatVector dvt = dv.mul(tv);
        dvt.mul(acc).intoArray(w1, row + jb);
        dvt.mul(cbv).intoArray(w2, row + jb);
      }
      float dyxii = dyx[row + i], cbii = cb[row + i];
      w1[row + i] = dtv[i] * dyxii;
      w2[row + i] = dtv[i] * cbii;
      ddtE[i] += (double) cbii * dyxii;
      dDpart += dyxii;
      // Row and column sums of M_ij = K_ij dt_j (j < i) in double: each M_ij enters dacum twice
      // with opposite signs (+ at i, − at j) and cancels in the reverse cumsum below only if both
      // copies are summed exactly enough; float sums left errors ~1e-4 of dA_log. (A float×float
      // product is exact in double.)
      double rowSum = 0;
      for (int j = 0; j < i; j++) {
        double kd = krow[j];
        rowSum += kd * dtv[j];
        colK[j] += kd;
      }
      dacum[i] += rowSum;

      // dC_i += e^{acum_i} S0ᵀ dy_i + Σ_{j≤i} W1_ij B_j;  dacum_i += e^{acum_i} dy_iᵀ S0 C_i.
      float sdi = sd[i];
      boolean useS0 = !first && sdi != 0f;
      float y0 = SsdBlocks.dcRow(dIn, states, s0, dyRows, in, heads, c0, h, i, qp, sdi, useS0, sc);
      if (useS0) dacum[i] += (double) sdi * y0;
    }

    // Columns j: dx_j, dB_j, and the explicit / carried-state parts of ddt_j and dacum_j.
    double eSum = 0;
    for (int j = 0; j < len; j++) {
      boolean carry = !last && endW[j] != 0f; // token j reaches the chunk end
      float ew = carry ? endW[j] * dtv[j] : 0f;
      double xuj = SsdBlocks.dxCol(dIn, dyRows, in, heads, c0, h, j, len, qp, carry, ew, sc);
      SsdBlocks.dbCol(dIn, dstates, s0, in, heads, c0, h, j, len, qp, carry && ew != 0f, ew, sc);
      double e = ew * xuj;
      ddtE[j] += colK[j] + endW[j] * xuj;
      dacum[j] -= (double) dtv[j] * colK[j] + e;
      eSum += e;
    }
    dacum[len - 1] += eSum;
    if (!first && !last) { // the chunk-start state carried to the end: e^{acum_L} ⟨dS, S0⟩
      double sds = 0;
      for (int i = 0, pn = P * N; i < pn; i++) sds += (double) dstates[s0 + i] * states[s0 + i];
      dacum[len - 1] += sd[len - 1] * sds;
    }

    // ddt_k = explicit + A Σ_{i≥k} dacum_i;  dA += dt_k Σ_{i≥k} dacum_i.
    double rc = 0, sA = 0, sBias = 0;
    for (int k = len - 1; k >= 0; k--) {
      rc += dacum[k];
      sA += dtv[k] * rc;
      float draw = (float) ((ddtE[k] + a * rc) * sig[k]);
      dDtRaw[ddtBase + k * ddtStride] = draw;
      sBias += draw;
    }
    partial[pOff] = sBias;
    partial[pOff + 1] = sA;
    partial[pOff + 2] = dDpart;
  }
}
