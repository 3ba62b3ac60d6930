package org.hnet.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.hnet.tensor.Rows;

/**
 * The inner loops of the chunked SSD scan ({@link Ssd}) and its backward ({@link SsdBackward},
 * {@link SsdChunkBackward}), four independent accumulator chains at a time.
 *
 * <p>Dimension legend as in {@link Ssd}: P head dim, N state size, L tokens of one chunk, Qp the
 * row stride of the chunk matrices (L rounded up to whole vectors).
 *
 * <p>Why: each output vector of these loops is one chain of dependent fused multiply-adds (over N,
 * P or the chunk's tokens). One chain at a time waits out the FMA latency (4 cycles on this
 * machine, 2 FMAs issued per cycle), so a single chain uses an eighth of the FMA units; in the SSD
 * kernels at the benchmark shapes (P = 64, N = 32, L ≤ 32) the chains are also too short for the
 * out-of-order core to overlap them across loop iterations. Four chains that share their broadcast
 * (or their loaded vector) run side by side here. Every output element still gets exactly the same
 * operations in the same order as in the one-chain loop it replaces (the one-chain form handles the
 * vectors left over after the groups of four, and the scalar tail is unchanged), so results are
 * bit-for-bit those of the one-chain code.
 */
final class SsdBlocks {
  private static final VectorSpecies<Float> F = VectorWidth.FLOAT;

  private static final int LANES = F.length();

  private SsdBlocks() {}

  /**
   * State advance of head h over the len tokens from t0: {@code dst[p,n] = scale·src[p,n] +
   * Σ_{j<len} (wt[j]·v[t0+j, h·P + p]) · m[t0+j, n]} for p < P, n < N, with dst and src the [P × N]
   * blocks of {@code state} at dstOff and srcOff (in place when they are equal; they must not
   * partly overlap); u is scratch of len·P floats. The chunk-end state of the forward (wt =
   * endW·dt, v = x, m = B) and the chunk-start state gradient (wt = e^{acum}, v = dy, m = C). The
   * products wt·v are formed once into u; tiles of 4 rows p × 2 vectors of n (8 chains) then run
   * like a matrix-product micro-kernel.
   */
  static void advance(
      float[] state,
      int dstOff,
      int srcOff,
      float scale,
      float[] wt,
      Rows vRows,
      Rows mRows,
      int t0,
      int h,
      int len,
      SsdHeads heads,
      float[] u) {
    int P = heads.headDim(), N = heads.state();
    float[] dst = state, src = state, v = vRows.a(), m = mRows.a();
    int vBase = vRows.at(t0) + h * P, vStride = vRows.stride();
    int mBase = mRows.at(t0), mStride = mRows.stride();
    int pb = F.loopBound(P);
    for (int j = 0; j < len; j++) {
      int vj = vBase + j * vStride, uj = j * P;
      FloatVector w = FloatVector.broadcast(F, wt[j]);
      int p = 0;
      for (; p < pb; p += LANES) w.mul(FloatVector.fromArray(F, v, vj + p)).intoArray(u, uj + p);
      for (; p < P; p++) u[uj + p] = wt[j] * v[vj + p];
    }
    int nb = F.loopBound(N);
    int p = 0;
    for (; p + 4 <= P; p += 4) {
      int n = 0;
      for (; n + 2 * LANES <= nb; n += 2 * LANES) {
        int s0 = srcOff + p * N + n;
        FloatVector a00 = FloatVector.fromArray(F, src, s0).mul(scale);
        FloatVector a01 = FloatVector.fromArray(F, src, s0 + LANES).mul(scale);
        FloatVector a10 = FloatVector.fromArray(F, src, s0 + N).mul(scale);
        FloatVector a11 = FloatVector.fromArray(F, src, s0 + N + LANES).mul(scale);
        FloatVector a20 = FloatVector.fromArray(F, src, s0 + 2 * N).mul(scale);
        FloatVector a21 = FloatVector.fromArray(F, src, s0 + 2 * N + LANES).mul(scale);
        FloatVector a30 = FloatVector.fromArray(F, src, s0 + 3 * N).mul(scale);
        FloatVector a31 = FloatVector.fromArray(F, src, s0 + 3 * N + LANES).mul(scale);
        for (int j = 0; j < len; j++) {
          int mj = mBase + j * mStride + n, uj = j * P + p;
          FloatVector m0 = FloatVector.fromArray(F, m, mj),
              m1 = FloatVector.fromArray(F, m, mj + LANES);
          FloatVector x;
          x = FloatVector.broadcast(F, u[uj]);
          a00 = m0.fma(x, a00);
          a01 = m1.fma(x, a01);
          x = FloatVector.broadcast(F, u[uj + 1]);
          a10 = m0.fma(x, a10);
          a11 = m1.fma(x, a11);
          x = FloatVector.broadcast(F, u[uj + 2]);
          a20 = m0.fma(x, a20);
          a21 = m1.fma(x, a21);
          x = FloatVector.broadcast(F, u[uj + 3]);
          a30 = m0.fma(x, a30);
          a31 = m1.fma(x, a31);
        }
        int d0 = dstOff + p * N + n;
        a00.intoArray(dst, d0);
        a01.intoArray(dst, d0 + LANES);
        a10.intoArray(dst, d0 + N);
        a11.intoArray(dst, d0 + N + LANES);
        a20.intoArray(dst, d0 + 2 * N);
        a21.intoArray(dst, d0 + 2 * N + LANES);
        a30.intoArray(dst, d0 + 3 * N);
        a31.intoArray(dst, d0 + 3 * N + LANES);
      }
      for (; n < nb; n += LANES) {
        int s0 = srcOff + p * N + n;
        FloatVector a0 = FloatVector.fromArray(F, src, s0).mul(scale);
        FloatVector a1 = FloatVector.fromArray(F, src, s0 + N).mul(scale);
        FloatVector a2 = FloatVector.fromArray(F, src, s0 + 2 * N).mul(scale);
        FloatVector a3 = FloatVector.fromArray(F, src, s0 + 3 * N).mul(scale);
        for (int j = 0; j < len; j++) {
          FloatVector mv = FloatVector.fromArray(F, m, mBase + j * mStride + n);
          int uj = j * P + p;
          a0 = mv.fma(FloatVector.broadcast(F, u[uj]), a0);
          a1 = mv.fma(FloatVector.broadcast(F, u[uj + 1]), a1);
          a2 = mv.fma(FloatVector.broadcast(F, u[uj + 2]), a2);
          a3 = mv.fma(FloatVector.broadcast(F, u[uj + 3]), a3);
        }
        int d0 = dstOff + p * N + n;
        a0.intoArray(dst, d0);
        a1.intoArray(dst, d0 + N);
        a2.intoArray(dst, d0 + 2 * N);
        a3.intoArray(dst, d0 + 3 * N);
      }
    }
    for (; p < P; p++) {
      for (int n = 0; n < nb; n += LANES) {
        FloatVector acc = FloatVector.fromArray(F, src, srcOff + p * N + n).mul(scale);
        for (int j = 0; j < len; j++) {
          acc =
              FloatVector.fromArray(F, m, mBase + j * mStride + n)
                  .fma(FloatVector.broadcast(F, u[j * P + p]), acc);
        }
        acc.intoArray(dst, dstOff + p * N + n);
      }
    }
    if (nb == N) return;
    for (p = 0; p < P; p++) {
      for (int n = nb; n < N; n++) {
        float acc = src[srcOff + p * N + n] * scale;
        for (int j = 0; j < len; j++) acc += u[j * P + p] * m[mBase + j * mStride + n];
        dst[dstOff + p * N + n] = acc;
      }
    }
  }

  /**
   * A chunk's rows times a small matrix, the whole vectors of columns only: {@code out[i·ow + w] =
   * Σ_{k<K} a[aBase + i·aStride + k] · m[mBase + k·mStride + w]} for i < rows and w < wb (a
   * multiple of the vector length), each element one fma chain from zero in increasing k: exactly
   * the chains of the one-row loops it replaced (the forward's state read-out, the state terms of
   * {@link #dcRow}, {@link #dxCol}, {@link #dbCol}). {@link SmallGemm}'s tiles of 4 rows × 2
   * vectors share each loaded vector of m among 4 rows, where one row at a time loaded a vector of
   * m for every fma. (The chains start from the zeros written here: fma(a, m, +0) as from a zero
   * vector.)
   */
  static void rowsTimes(
      float[] out,
      int ow,
      float[] a,
      int aBase,
      int aStride,
      float[] m,
      int mBase,
      int mStride,
      int rows,
      int K,
      int wb) {
    for (int i = 0; i < rows; i++) java.util.Arrays.fill(out, i * ow, i * ow + wb, 0f);
    SmallGemm.acc(a, aBase, aStride, 1, rows, K, m, mBase, mStride, out, 0, ow, wb);
  }

  /**
   * Chunk-start state read out by one token, the columns after the whole vectors (those come from
   * {@link #rowsTimes}): out[o + p] = Σ_n sT[n·P + p]·c[ci + n], one chain from zero in increasing
   * n (sT is Sᵀ, [N × P]).
   */
  static void stateDotsTail(float[] out, int o, float[] sT, float[] c, int ci, int P, int N) {
    for (int p = F.loopBound(P); p < P; p++) {
      float acc = 0f;
      for (int n = 0; n < N; n++) acc = Math.fma(sT[n * P + p], c[ci + n], acc);
      out[o + p] = acc;
    }
  }

  /**
   * Intra-chunk output of one token: y[yi + p] = yacc[p] + Σ_{j≤i} m[j]·x[xBase + j·xStride + p],
   * each sum a chain from zero in increasing j, yacc added last.
   */
  static void mixRow(
      float[] y, int yi, float[] yacc, float[] m, float[] x, int xBase, int xStride, int i, int P) {
    int pb = F.loopBound(P);
    int p = 0;
    for (; p + 4 * LANES <= pb; p += 4 * LANES) {
      FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
      for (int j = 0; j <= i; j++) {
        int xj = xBase + j * xStride + p;
        FloatVector w = FloatVector.broadcast(F, m[j]);
        a0 = FloatVector.fromArray(F, x, xj).fma(w, a0);
        a1 = FloatVector.fromArray(F, x, xj + LANES).fma(w, a1);
        a2 = FloatVector.fromArray(F, x, xj + 2 * LANES).fma(w, a2);
        a3 = FloatVector.fromArray(F, x, xj + 3 * LANES).fma(w, a3);
      }
      a0.add(FloatVector.fromArray(F, yacc, p)).intoArray(y, yi + p);
      a1.add(FloatVector.fromArray(F, yacc, p + LANES)).intoArray(y, yi + p + LANES);
      a2.add(FloatVector.fromArray(F, yacc, p + 2 * LANES)).intoArray(y, yi + p + 2 * LANES);
      a3.add(FloatVector.fromArray(F, yacc, p + 3 * LANES)).intoArray(y, yi + p + 3 * LANES);
    }
    for (; p < pb; p += LANES) {
      FloatVector acc = FloatVector.zero(F);
      for (int j = 0; j <= i; j++) {
        acc =
            FloatVector.fromArray(F, x, xBase + j * xStride + p)
                .fma(FloatVector.broadcast(F, m[j]), acc);
      }
      acc.add(FloatVector.fromArray(F, yacc, p)).intoArray(y, yi + p);
    }
    for (; p < P; p++) {
      float acc = 0f;
      for (int j = 0; j <= i; j++) acc += m[j] * x[xBase + j * xStride + p];
      y[yi + p] = acc + yacc[p];
    }
  }

  /**
   * Lower block rows of a chunk product: out[i·qp + jb ..] = Σ_{k<K} mT[k·qp + jb ..]·src[sBase +
   * i·sStride + k] (one chain from zero, increasing k) for every i < len and every vector block jb
   * of columns below roundUp(i+1), at least; rows are done four at a time, which may also fill
   * blocks to the right of a row's diagonal (never read). mT is [K × qp]. C·Bᵀ (mT = Bᵀ, src = C, K
   * = N) and dy·xᵀ (mT = xᵀ, src = dy, K = P).
   */
  static void lowerRows(
      float[] out, int qp, float[] mT, float[] src, int sBase, int sStride, int len, int K) {
    int i = 0;
    for (; i + 4 <= len; i += 4) {
      int s0 = sBase + i * sStride, s1 = s0 + sStride, s2 = s1 + sStride, s3 = s2 + sStride;
      for (int jb = 0, rb = roundUp(i + 4); jb < rb; jb += LANES) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int k = 0; k < K; k++) {
          FloatVector mv = FloatVector.fromArray(F, mT, k * qp + jb);
          a0 = mv.fma(FloatVector.broadcast(F, src[s0 + k]), a0);
          a1 = mv.fma(FloatVector.broadcast(F, src[s1 + k]), a1);
          a2 = mv.fma(FloatVector.broadcast(F, src[s2 + k]), a2);
          a3 = mv.fma(FloatVector.broadcast(F, src[s3 + k]), a3);
        }
        a0.intoArray(out, i * qp + jb);
        a1.intoArray(out, (i + 1) * qp + jb);
        a2.intoArray(out, (i + 2) * qp + jb);
        a3.intoArray(out, (i + 3) * qp + jb);
      }
    }
    for (; i < len; i++) {
      int si = sBase + i * sStride;
      for (int jb = 0, rb = roundUp(i + 1); jb < rb; jb += LANES) {
        FloatVector acc = FloatVector.zero(F);
        for (int k = 0; k < K; k++) {
          acc =
              FloatVector.fromArray(F, mT, k * qp + jb)
                  .fma(FloatVector.broadcast(F, src[si + k]), acc);
        }
        acc.intoArray(out, i * qp + jb);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Backward (SsdChunkBackward.head): names as in SsdBackward's class comment.

  // Operands located as in SsdChunkBackward.chunk: the chunk's tokens are rows c0 .. c0 + len − 1
  // of dIn, dy and in, head h's columns of dx, dy and x; W1, W2 ([L × Qp], rows qp apart), the
  // state terms and the lane buffer are in the scratch sc.

  /**
   * dC_i += e^{acum_i} S0ᵀ dy_i + Σ_{j≤i} W1_ij B_j (the S0 term only when useS0; S0 at states[s0],
   * [P × N]), into row c0 + i of dIn.c; returns Σ_n (S0ᵀ dy_i)_n C_i[n] (lanes in order, then the
   * scalar tail) when useS0, else 0. The whole vectors of S0ᵀ dy_i come precomputed in sc.gS (row
   * i, {@link #rowsTimes}).
   */
  static float dcRow(
      SsdRows dIn,
      float[] states,
      int s0,
      Rows dyRows,
      SsdRows in,
      SsdHeads heads,
      int c0,
      int h,
      int i,
      int qp,
      float sdi,
      boolean useS0,
      SsdBackward.Scratch sc) {
    int P = heads.headDim(), N = heads.state();
    float[] dc = dIn.c.a(), dy = dyRows.a(), g = sc.gS, c = in.c.a(), b = in.b.a(), w1 = sc.w1;
    int dci = dIn.c.at(c0 + i), yi = dyRows.at(c0 + i) + h * P, gi = i * N;
    int ci = in.c.at(c0 + i), bBase = in.b.at(c0), bStride = in.b.stride(), row = i * qp;
    float[] lanes = sc.lanes;
    FloatVector y0 = FloatVector.zero(F);
    float y0t = 0f;
    int nb = F.loopBound(N);
    int n = 0;
    for (; n + 4 * LANES <= nb; n += 4 * LANES) {
      FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
      if (useS0) {
        FloatVector g0 = FloatVector.fromArray(F, g, gi + n),
            g1 = FloatVector.fromArray(F, g, gi + n + LANES);
        FloatVector g2 = FloatVector.fromArray(F, g, gi + n + 2 * LANES);
        FloatVector g3 = FloatVector.fromArray(F, g, gi + n + 3 * LANES);
        y0 = g0.fma(FloatVector.fromArray(F, c, ci + n), y0);
        y0 = g1.fma(FloatVector.fromArray(F, c, ci + n + LANES), y0);
        y0 = g2.fma(FloatVector.fromArray(F, c, ci + n + 2 * LANES), y0);
        y0 = g3.fma(FloatVector.fromArray(F, c, ci + n + 3 * LANES), y0);
        a0 = g0.mul(sdi);
        a1 = g1.mul(sdi);
        a2 = g2.mul(sdi);
        a3 = g3.mul(sdi);
      }
      for (int j = 0; j <= i; j++) {
        FloatVector w = FloatVector.broadcast(F, w1[row + j]);
        int bj = bBase + j * bStride + n;
        a0 = FloatVector.fromArray(F, b, bj).fma(w, a0);
        a1 = FloatVector.fromArray(F, b, bj + LANES).fma(w, a1);
        a2 = FloatVector.fromArray(F, b, bj + 2 * LANES).fma(w, a2);
        a3 = FloatVector.fromArray(F, b, bj + 3 * LANES).fma(w, a3);
      }
      int o = dci + n;
      FloatVector.fromArray(F, dc, o).add(a0).intoArray(dc, o);
      FloatVector.fromArray(F, dc, o + LANES).add(a1).intoArray(dc, o + LANES);
      FloatVector.fromArray(F, dc, o + 2 * LANES).add(a2).intoArray(dc, o + 2 * LANES);
      FloatVector.fromArray(F, dc, o + 3 * LANES).add(a3).intoArray(dc, o + 3 * LANES);
    }
    for (; n < nb; n += LANES) {
      FloatVector acc = FloatVector.zero(F);
      if (useS0) {
        FloatVector gv = FloatVector.fromArray(F, g, gi + n);
        y0 = gv.fma(FloatVector.fromArray(F, c, ci + n), y0);
        acc = gv.mul(sdi);
      }
      for (int j = 0; j <= i; j++) {
        acc =
            FloatVector.fromArray(F, b, bBase + j * bStride + n)
                .fma(FloatVector.broadcast(F, w1[row + j]), acc);
      }
      FloatVector.fromArray(F, dc, dci + n).add(acc).intoArray(dc, dci + n);
    }
    for (; n < N; n++) {
      float acc = 0f;
      if (useS0) {
        float gt = 0f;
        for (int p = 0; p < P; p++) gt += dy[yi + p] * states[s0 + p * N + n];
        y0t += gt * c[ci + n];
        acc = gt * sdi;
      }
      for (int j = 0; j <= i; j++) acc += w1[row + j] * b[bBase + j * bStride + n];
      dc[dci + n] += acc;
    }
    if (!useS0) return 0f;
    y0.intoArray(lanes, 0);
    return SsdBackward.sumLanes(lanes) + y0t;
  }

  /**
   * dx_j = D dy_j + Σ_{i≥j} W2_ij dy_i (+ ew·u with u = dS B_j when carry), into row c0 + j of
   * dIn.x, head h (sc.dsT is dSᵀ [N × P]); returns Σ_p x_j[p] u[p] (lanes in order, then in double
   * the scalar tail) when carry, else 0. The whole vectors of u come precomputed in sc.uS (row j,
   * {@link #rowsTimes}).
   */
  static double dxCol(
      SsdRows dIn,
      Rows dyRows,
      SsdRows in,
      SsdHeads heads,
      int c0,
      int h,
      int j,
      int len,
      int qp,
      boolean carry,
      float ew,
      SsdBackward.Scratch sc) {
    int P = heads.headDim(), N = heads.state();
    float[] dx = dIn.x.a(), dy = dyRows.a(), w2 = sc.w2, dsT = sc.dsT, b = in.b.a(), uu = sc.uS;
    float[] x = in.x.a(), lanes = sc.lanes;
    int dxj = dIn.x.at(c0 + j) + h * P, yh = dyRows.at(c0) + h * P, dyStride = dyRows.stride();
    int bj = in.b.at(c0 + j), ui = j * P, xj = in.x.at(c0 + j) + h * P;
    float dH = heads.d()[h];
    FloatVector vew = FloatVector.broadcast(F, ew);
    FloatVector xu = FloatVector.zero(F);
    float xut = 0f;
    int yj = yh + j * dyStride;
    int pb = F.loopBound(P);
    int p = 0;
    for (; p + 4 * LANES <= pb; p += 4 * LANES) {
      FloatVector a0 = FloatVector.fromArray(F, dy, yj + p).mul(dH);
      FloatVector a1 = FloatVector.fromArray(F, dy, yj + p + LANES).mul(dH);
      FloatVector a2 = FloatVector.fromArray(F, dy, yj + p + 2 * LANES).mul(dH);
      FloatVector a3 = FloatVector.fromArray(F, dy, yj + p + 3 * LANES).mul(dH);
      for (int i = j; i < len; i++) {
        FloatVector w = FloatVector.broadcast(F, w2[i * qp + j]);
        int yo = yh + i * dyStride + p;
        a0 = FloatVector.fromArray(F, dy, yo).fma(w, a0);
        a1 = FloatVector.fromArray(F, dy, yo + LANES).fma(w, a1);
        a2 = FloatVector.fromArray(F, dy, yo + 2 * LANES).fma(w, a2);
        a3 = FloatVector.fromArray(F, dy, yo + 3 * LANES).fma(w, a3);
      }
      if (carry) {
        FloatVector u0 = FloatVector.fromArray(F, uu, ui + p),
            u1 = FloatVector.fromArray(F, uu, ui + p + LANES);
        FloatVector u2 = FloatVector.fromArray(F, uu, ui + p + 2 * LANES);
        FloatVector u3 = FloatVector.fromArray(F, uu, ui + p + 3 * LANES);
        a0 = u0.fma(vew, a0);
        a1 = u1.fma(vew, a1);
        a2 = u2.fma(vew, a2);
        a3 = u3.fma(vew, a3);
        xu = FloatVector.fromArray(F, x, xj + p).fma(u0, xu);
        xu = FloatVector.fromArray(F, x, xj + p + LANES).fma(u1, xu);
        xu = FloatVector.fromArray(F, x, xj + p + 2 * LANES).fma(u2, xu);
        xu = FloatVector.fromArray(F, x, xj + p + 3 * LANES).fma(u3, xu);
      }
      a0.intoArray(dx, dxj + p);
      a1.intoArray(dx, dxj + p + LANES);
      a2.intoArray(dx, dxj + p + 2 * LANES);
      a3.intoArray(dx, dxj + p + 3 * LANES);
    }
    for (; p < pb; p += LANES) {
      FloatVector acc = FloatVector.fromArray(F, dy, yj + p).mul(dH);
      for (int i = j; i < len; i++) {
        acc =
            FloatVector.fromArray(F, dy, yh + i * dyStride + p)
                .fma(FloatVector.broadcast(F, w2[i * qp + j]), acc);
      }
      if (carry) {
        FloatVector u = FloatVector.fromArray(F, uu, ui + p);
        acc = u.fma(vew, acc);
        xu = FloatVector.fromArray(F, x, xj + p).fma(u, xu);
      }
      acc.intoArray(dx, dxj + p);
    }
    for (; p < P; p++) {
      float acc = dH * dy[yj + p];
      for (int i = j; i < len; i++) acc += w2[i * qp + j] * dy[yh + i * dyStride + p];
      if (carry) {
        float u = 0f;
        for (int n = 0; n < N; n++) u += dsT[n * P + p] * b[bj + n];
        acc += ew * u;
        xut += x[xj + p] * u;
      }
      dx[dxj + p] = acc;
    }
    if (!carry) return 0;
    xu.intoArray(lanes, 0);
    return (double) SsdBackward.sumLanes(lanes) + xut;
  }

  /**
   * dB_j += Σ_{i≥j} W1_ij C_i (+ ew·dSᵀ x_j when stateTerm; dS at dstates[s0], [P × N]), into row
   * c0 + j of dIn.b. The whole vectors of dSᵀ x_j come precomputed in sc.tS (row j, {@link
   * #rowsTimes}).
   */
  static void dbCol(
      SsdRows dIn,
      float[] dstates,
      int s0,
      SsdRows in,
      SsdHeads heads,
      int c0,
      int h,
      int j,
      int len,
      int qp,
      boolean stateTerm,
      float ew,
      SsdBackward.Scratch sc) {
    int P = heads.headDim(), N = heads.state();
    float[] db = dIn.b.a(), c = in.c.a(), w1 = sc.w1, tt = sc.tS, x = in.x.a();
    int dbj = dIn.b.at(c0 + j), cBase = in.c.at(c0), cStride = in.c.stride(), ti = j * N;
    int xj = in.x.at(c0 + j) + h * P;
    FloatVector vew = FloatVector.broadcast(F, ew);
    int nb = F.loopBound(N);
    int n = 0;
    for (; n + 4 * LANES <= nb; n += 4 * LANES) {
      FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
      for (int i = j; i < len; i++) {
        FloatVector w = FloatVector.broadcast(F, w1[i * qp + j]);
        int co = cBase + i * cStride + n;
        a0 = FloatVector.fromArray(F, c, co).fma(w, a0);
        a1 = FloatVector.fromArray(F, c, co + LANES).fma(w, a1);
        a2 = FloatVector.fromArray(F, c, co + 2 * LANES).fma(w, a2);
        a3 = FloatVector.fromArray(F, c, co + 3 * LANES).fma(w, a3);
      }
      if (stateTerm) {
        FloatVector t0 = FloatVector.fromArray(F, tt, ti + n),
            t1 = FloatVector.fromArray(F, tt, ti + n + LANES);
        FloatVector t2 = FloatVector.fromArray(F, tt, ti + n + 2 * LANES);
        FloatVector t3 = FloatVector.fromArray(F, tt, ti + n + 3 * LANES);
        a0 = t0.fma(vew, a0);
        a1 = t1.fma(vew, a1);
        a2 = t2.fma(vew, a2);
        a3 = t3.fma(vew, a3);
      }
      int o = dbj + n;
      FloatVector.fromArray(F, db, o).add(a0).intoArray(db, o);
      FloatVector.fromArray(F, db, o + LANES).add(a1).intoArray(db, o + LANES);
      FloatVector.fromArray(F, db, o + 2 * LANES).add(a2).intoArray(db, o + 2 * LANES);
      FloatVector.fromArray(F, db, o + 3 * LANES).add(a3).intoArray(db, o + 3 * LANES);
    }
    for (; n < nb; n += LANES) {
      FloatVector acc = FloatVector.zero(F);
      for (int i = j; i < len; i++) {
        acc =
            FloatVector.fromArray(F, c, cBase + i * cStride + n)
                .fma(FloatVector.broadcast(F, w1[i * qp + j]), acc);
      }
      if (stateTerm) {
        acc = FloatVector.fromArray(F, tt, ti + n).fma(vew, acc);
      }
      FloatVector.fromArray(F, db, dbj + n).add(acc).intoArray(db, dbj + n);
    }
    for (; n < N; n++) {
      float acc = 0f;
      for (int i = j; i < len; i++) acc += w1[i * qp + j] * c[cBase + i * cStride + n];
      if (stateTerm) {
        float st = 0f;
        for (int pp = 0; pp < P; pp++) st += x[xj + pp] * dstates[s0 + pp * N + n];
        acc += ew * st;
      }
      db[dbj + n] += acc;
    }
  }

  /** n rounded up to whole vectors (the row stride Qp of the chunk matrices). */
  static int roundUp(int n) {
    return (n + LANES - 1) / LANES * LANES;
  }
}
