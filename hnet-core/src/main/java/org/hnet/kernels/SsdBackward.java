package org.hnet.kernels;

import jdk.incubator.vector.VectorSpecies;
import org.hnet.kernels.Profile.Kind;

/**
 * Backward of {@link Ssd#scan} (Mamba-2 SSD, one B/C group). Same legend as {@link Ssd}: T tokens,
 * H heads, P head dim, N state size, Q chunk size, L the length of one chunk (≤ Q).
 *
 * <p>Reverse-time adjoint (per head h, token t; G_t = ∂loss/∂S_t, P×N, zero after a sequence's last
 * token):
 *
 * <pre>
 *   G_t     = dy_t ⊗ C_t + a_{t+1} G_{t+1}
 *   dC_t   += S_tᵀ dy_t                       (summed over heads)
 *   dB_t   += dt_t G_tᵀ x_t                   (summed over heads)
 *   dx_t    = D dy_t + dt_t G_t B_t
 *   ddt_t   = x_tᵀ G_t B_t + A a_t ⟨G_t, S_{t-1}⟩,     dA += dt_t a_t ⟨G_t, S_{t-1}⟩
 *   dDtRaw  = ddt · sigmoid(dtRaw + dtBias)   (1 above the softplus threshold 20, as torch)
 *   dDtBias += Σ_t dDtRaw_t,  dA_log += A · dA,  dD += Σ_t dy_t · x_t
 * </pre>
 *
 * <p>{@link #scanBackwardNaive} is exactly that, in double precision, keeping every state: the
 * oracle. {@link #scanBackward} is the chunked form. With acum_i = Σ_{k≤i} dt_k A inside a chunk,
 * L_ij = exp(acum_i − acum_j) (j ≤ i), CB_ij = C_i·B_j, DYX_ij = dy_i·x_j, S0 the chunk-start state
 * and dS = ∂loss/∂(chunk-end state) from later chunks:
 *
 * <pre>
 *   W1_ij = L_ij dt_j DYX_ij,   W2_ij = L_ij dt_j CB_ij,   K_ij = L_ij CB_ij DYX_ij
 *   dC_i  = e^{acum_i} S0ᵀ dy_i + Σ_{j≤i} W1_ij B_j
 *   dB_j  = Σ_{i≥j} W1_ij C_i + e^{acum_L − acum_j} dt_j dSᵀ x_j
 *   dx_j  = D dy_j + Σ_{i≥j} W2_ij dy_i + e^{acum_L − acum_j} dt_j dS B_j
 *   ddt_j = Σ_{i≥j} K_ij + e^{acum_L − acum_j} x_jᵀ dS B_j + A Σ_{i≥j} dacum_i     (explicit + via acum)
 *   dS0   = e^{acum_L} dS + Σ_i e^{acum_i} dy_i ⊗ C_i                              (to the previous chunk)
 * </pre>
 *
 * where dacum_i collects ∂loss/∂acum_i: +Σ_{j<i} K_ij dt_j − dt_i Σ_{k>i} K_ki from the intra-chunk
 * decays (the diagonal cancels and is left out), +e^{acum_i} dy_iᵀ S0 C_i from the chunk-start
 * state, −e^{acum_L−acum_j} dt_j x_jᵀ dS B_j (and its sum added at the last token) from the state
 * carried out, and e^{acum_L} ⟨dS, S0⟩ at the last token.
 *
 * <p>Three phases, each deterministic for any thread count: (1) per (sequence, head), a forward
 * pass over chunks stores every chunk-start state and a reverse pass stores every chunk's dS
 * ([chunks × H × P × N] each, T·H·P·N/Q floats: the only O(T) memory, as in mamba_ssm's chunked
 * backward); (2) per chunk (all heads, in head order, so dB/dC's sum over heads has a fixed order),
 * the formulas above; (3) the per-(chunk, head) partial sums of dDtBias, dA and dD are added in
 * chunk order.
 */
public final class SsdBackward {
  private static final VectorSpecies<Float> F = VectorWidth.FLOAT;

  private static final int LANES = F.length();

  private SsdBackward() {}

  // ---------------------------------------------------------------------------------------------
  // Naive reverse-time adjoint (the oracle).

  /** The reverse-time adjoint above, token by token in double; same arguments as scanBackward. */
  public static void scanBackwardNaive(
      float[] dx,
      int dxOff,
      int dxStride,
      float[] dDtRaw,
      int ddtOff,
      int ddtStride,
      float[] dDtBias,
      float[] dALog,
      float[] db,
      int dbOff,
      int dbStride,
      float[] dc,
      int dcOff,
      int dcStride,
      float[] dD,
      float[] dy,
      int dyOff,
      int dyStride,
      float[] x,
      int xOff,
      int xStride,
      float[] dt,
      int dtOff,
      int dtStride,
      float[] dtBias,
      float[] aLog,
      float[] b,
      int bOff,
      int bStride,
      float[] c,
      int cOff,
      int cStride,
      float[] d,
      int[] cuSeqlens,
      int nSeq,
      int H,
      int P,
      int N,
      int chunkSize) {
    checkArgs(cuSeqlens, nSeq, H, P, N, chunkSize);
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
          for (int p = 0; p < P; p++) {
            for (int n = 0; n < N; n++) {
              states[cur + p * N + n] =
                  dA * states[prev + p * N + n] + dtv * x[xb + p] * b[bOff + t * bStride + n];
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
          for (int p = 0; p < P; p++) { // g was a_{t+1} G_{t+1}; now G_t
            for (int n = 0; n < N; n++) g[p * N + n] += (double) dy[yb + p] * c[cb + n];
          }
          double ddt = 0, ga = 0;
          for (int p = 0; p < P; p++) {
            double gb = 0;
            for (int n = 0; n < N; n++) {
              double gv = g[p * N + n];
              gb += gv * b[bb + n];
              ga += gv * states[prev + p * N + n];
              dcAcc[t * N + n] += dy[yb + p] * states[cur + p * N + n];
              dbAcc[t * N + n] += dtv * gv * x[xb + p];
            }
            dx[dxOff + t * dxStride + h * P + p] = (float) (d[h] * dy[yb + p] + dtv * gb);
            ddt += x[xb + p] * gb;
            dDsum += (double) dy[yb + p] * x[xb + p];
          }
          ddt += ga * dA * a;
          dAsum += ga * dA * dtv;
          float draw = (float) (ddt * softplusGrad(v));
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

  /** d softplus / dv: sigmoid(v), exactly 1 above the threshold (torch's softplus_backward). */
  /** Phase 1 of {@link #scanBackward} for parts [p0, p1) of {@code parts}. */
  private static void statesParts(
      Big big,
      float[] states,
      float[] dstates,
      int[] chunkBase,
      float[] dy,
      int dyOff,
      int dyStride,
      float[] x,
      int xOff,
      int xStride,
      float[] dt,
      int dtOff,
      int dtStride,
      float[] dtBias,
      float[] aLog,
      float[] b,
      int bOff,
      int bStride,
      float[] c,
      int cOff,
      int cStride,
      int[] cuSeqlens,
      int nSeq,
      int H,
      int P,
      int N,
      int q,
      int qp,
      long totalCost,
      int parts,
      int p0,
      int p1) {
    Scratch sc = Scratch.get(q, qp, P, N);
    for (int part = p0; part < p1; part++) {
      int u0 = Ssd.splitPoint(cuSeqlens, nSeq, H, totalCost * part / parts);
      int u1 = Ssd.splitPoint(cuSeqlens, nSeq, H, totalCost * (part + 1) / parts);
      for (int u = u0; u < u1; u++) {
        int seq = u / H, h = u % H;
        chunkStates(
            big,
            states,
            dstates,
            chunkBase[seq],
            h,
            H,
            dy,
            dyOff,
            dyStride,
            x,
            xOff,
            xStride,
            dt,
            dtOff,
            dtStride,
            dtBias[h],
            Ssd.negExp(aLog[h]),
            b,
            bOff,
            bStride,
            c,
            cOff,
            cStride,
            cuSeqlens[seq],
            cuSeqlens[seq + 1],
            P,
            N,
            q,
            sc);
      }
    }
  }

  /** Phase 2 of {@link #scanBackward} for the global chunks [k0, k1). */
  private static void chunks(
      float[] dx,
      int dxOff,
      int dxStride,
      float[] dDtRaw,
      int ddtOff,
      int ddtStride,
      float[] db,
      int dbOff,
      int dbStride,
      float[] dc,
      int dcOff,
      int dcStride,
      float[] dy,
      int dyOff,
      int dyStride,
      float[] x,
      int xOff,
      int xStride,
      float[] aLog,
      float[] b,
      int bOff,
      int bStride,
      float[] c,
      int cOff,
      int cStride,
      float[] d,
      int[] cuSeqlens,
      int H,
      int P,
      int N,
      int q,
      int qp,
      Big big,
      int k0,
      int k1) {
    Scratch sc = Scratch.get(q, qp, P, N);
    int[] chunkBase = big.chunkBase;
    int pn = P * N, seq = 0;
    for (int k = k0; k < k1; k++) {
      while (k >= chunkBase[seq + 1]) seq++;
      int c0 = cuSeqlens[seq] + (k - chunkBase[seq]) * q;
      int len = Math.min(q, cuSeqlens[seq + 1] - c0);
      boolean first = k == chunkBase[seq], last = k == chunkBase[seq + 1] - 1;
      SsdChunkBackward.chunk(
          dx,
          dxOff + c0 * dxStride,
          dxStride,
          dDtRaw,
          ddtOff + c0 * ddtStride,
          ddtStride,
          db,
          dbOff + c0 * dbStride,
          dbStride,
          dc,
          dcOff + c0 * dcStride,
          dcStride,
          big.partial,
          k * H * 3,
          dy,
          dyOff + c0 * dyStride,
          dyStride,
          x,
          xOff + c0 * xStride,
          xStride,
          aLog,
          b,
          bOff + c0 * bStride,
          bStride,
          c,
          cOff + c0 * cStride,
          cStride,
          d,
          big.states,
          big.dstates,
          k * H * pn,
          big,
          k * H * q,
          first,
          last,
          len,
          H,
          P,
          N,
          q,
          qp,
          sc);
    }
  }

  static double softplusGrad(double v) {
    return v > 20 ? 1 : 1 / (1 + Math.exp(-v));
  }

  // ---------------------------------------------------------------------------------------------
  // Chunked backward.

  /**
   * Backward of {@link Ssd#scan}. Inputs exactly as scan's, plus dy at {@code dy[dyOff + t*dyStride
   * + h*P + p]}. OVERWRITES dx (layout of x, own offset/stride), dDtRaw (layout of dt: the gradient
   * w.r.t. the raw dt before bias and softplus), db, dc (layouts of b, c); ADDS INTO dDtBias[H],
   * dALog[H], dD[H]. The d-outputs may be distinct column ranges of one buffer (never the same
   * elements) and must not overlap the inputs. Bitwise identical for any thread count.
   *
   * <p>Keeps 2·(chunks·H·P·N) floats of chunk states in the calling thread's reusable scratch,
   * where chunks = Σ_seq ⌈len/chunkSize⌉.
   */
  public static void scanBackward(
      float[] dx,
      int dxOff,
      int dxStride,
      float[] dDtRaw,
      int ddtOff,
      int ddtStride,
      float[] dDtBias,
      float[] dALog,
      float[] db,
      int dbOff,
      int dbStride,
      float[] dc,
      int dcOff,
      int dcStride,
      float[] dD,
      float[] dy,
      int dyOff,
      int dyStride,
      float[] x,
      int xOff,
      int xStride,
      float[] dt,
      int dtOff,
      int dtStride,
      float[] dtBias,
      float[] aLog,
      float[] b,
      int bOff,
      int bStride,
      float[] c,
      int cOff,
      int cStride,
      float[] d,
      int[] cuSeqlens,
      int nSeq,
      int H,
      int P,
      int N,
      int chunkSize) {
    long prof = Profile.begin(Kind.SSD_BACKWARD);
    try {
      Flops.add(8L * cuSeqlens[nSeq] * H * P * N); // about twice the forward recurrence
      checkArgs(cuSeqlens, nSeq, H, P, N, chunkSize);
      int T = cuSeqlens[nSeq];
      if (H == 0 || nSeq == 0) { // no heads: dB = dC = 0 (dx, dDtRaw have no elements)
        for (int t = 0; t < T; t++) {
          java.util.Arrays.fill(db, dbOff + t * dbStride, dbOff + t * dbStride + N, 0f);
          java.util.Arrays.fill(dc, dcOff + t * dcStride, dcOff + t * dcStride + N, 0f);
        }
        return;
      }
      int maxLen = 0;
      for (int s = 0; s < nSeq; s++) maxLen = Math.max(maxLen, cuSeqlens[s + 1] - cuSeqlens[s]);
      int q = Ssd.block(chunkSize, maxLen); // the forward's block (see Ssd.maxBlock)
      int qp =
          (q + LANES - 1) / LANES * LANES; // row stride of the chunk matrices, padded to vectors
      if ((long) q * qp > Integer.MAX_VALUE)
        throw new IllegalArgumentException("chunkSize too large");
      Big big = Big.get(nSeq);
      int[] chunkBase = big.chunkBase; // [nSeq+1] first global chunk of each sequence
      for (int s = 0; s < nSeq; s++) {
        chunkBase[s + 1] = chunkBase[s] + (cuSeqlens[s + 1] - cuSeqlens[s] + q - 1) / q;
      }
      int nChunks = chunkBase[nSeq], pn = P * N;
      long stateLen = (long) nChunks * H * pn;
      if (stateLen > Integer.MAX_VALUE) {
        throw new IllegalArgumentException(
            "chunk states exceed 2^31 floats; use a larger -Dhnet.ssd.block");
      }
      big.ensure((int) stateLen, nChunks * H * 3);
      big.ensureDecays(Math.toIntExact((long) nChunks * H * q));
      float[] states = big.states, dstates = big.dstates;
      double[] partial = big.partial;

      // Phase 1: chunk-start states and chunk-end state gradients, per (sequence, head), split by
      // token count like Ssd.scan.
      int units = nSeq * H;
      long totalCost = (long) H * (T + nSeq);
      int parts = (int) Math.min(Math.min(Parallel.threads(), units), Math.max(1, totalCost / 64));
      // (one part: the bodies directly, no lambda; see Parallel.serial)
      if (parts <= 1) {
        statesParts(
            big, states, dstates, chunkBase, dy, dyOff, dyStride, x, xOff, xStride, dt, dtOff,
            dtStride, dtBias, aLog, b, bOff, bStride, c, cOff, cStride, cuSeqlens, nSeq, H, P, N, q,
            qp, totalCost, parts, 0, parts);
      } else {
        Parallel.forRange(
            parts,
            1,
            (p0, p1) ->
                statesParts(
                    big, states, dstates, chunkBase, dy, dyOff, dyStride, x, xOff, xStride, dt,
                    dtOff, dtStride, dtBias, aLog, b, bOff, bStride, c, cOff, cStride, cuSeqlens,
                    nSeq, H, P, N, q, qp, totalCost, parts, p0, p1));
      }

      // Phase 2: every chunk, all heads in order.
      if (Parallel.serial(nChunks, 1)) {
        if (nChunks > 0) {
          chunks(
              dx, dxOff, dxStride, dDtRaw, ddtOff, ddtStride, db, dbOff, dbStride, dc, dcOff,
              dcStride, dy, dyOff, dyStride, x, xOff, xStride, aLog, b, bOff, bStride, c, cOff,
              cStride, d, cuSeqlens, H, P, N, q, qp, big, 0, nChunks);
        }
      } else {
        Parallel.forRange(
            nChunks,
            1,
            (k0, k1) ->
                chunks(
                    dx, dxOff, dxStride, dDtRaw, ddtOff, ddtStride, db, dbOff, dbStride, dc, dcOff,
                    dcStride, dy, dyOff, dyStride, x, xOff, xStride, aLog, b, bOff, bStride, c,
                    cOff, cStride, d, cuSeqlens, H, P, N, q, qp, big, k0, k1));
      }

      // Phase 3: parameter gradients, chunk partials summed in chunk order.
      for (int h = 0; h < H; h++) {
        double sBias = 0, sA = 0, sD = 0;
        for (int k = 0; k < nChunks; k++) {
          int at = (k * H + h) * 3;
          sBias += partial[at];
          sA += partial[at + 1];
          sD += partial[at + 2];
        }
        dDtBias[h] += (float) sBias;
        dALog[h] += (float) (sA * Ssd.negExp(aLog[h]));
        dD[h] += (float) sD;
      }
    } finally {
      Profile.end(Kind.SSD_BACKWARD, prof);
    }
  }

  /**
   * Phase 1 for one (sequence [t0, t1), head h): states[(k·H + h)·P·N] = state at the start of the
   * sequence's k-th chunk (chunk index relative to kBase), dstates[...] = ∂loss/∂(state at its end)
   * through later chunks (zero for the last chunk).
   */
  private static void chunkStates(
      Big big,
      float[] states,
      float[] dstates,
      int kBase,
      int h,
      int H,
      float[] dy,
      int dyOff,
      int dyStride,
      float[] x,
      int xOff,
      int xStride,
      float[] dt,
      int dtOff,
      int dtStride,
      float dtBias,
      float a,
      float[] b,
      int bOff,
      int bStride,
      float[] c,
      int cOff,
      int cStride,
      int t0,
      int t1,
      int P,
      int N,
      int q,
      Scratch sc) {
    int nk = (t1 - t0 + q - 1) / q, pn = P * N;
    if (nk == 0) return;
    java.util.Arrays.fill(states, (kBase * H + h) * pn, (kBase * H + h + 1) * pn, 0f);
    // Forward: S_{k+1} = e^{acum_L} S_k + Σ_j e^{acum_L − acum_j} dt_j x_j ⊗ B_j. Every chunk's
    // decays are formed here, once: the reverse pass and phase 2 load them.
    for (int k = 0; k < nk; k++) {
      int c0 = t0 + k * q, len = Math.min(q, t1 - c0);
      decays(sc, dt, dtOff + c0 * dtStride + h, dtStride, dtBias, a, len);
      big.store(sc, ((kBase + k) * H + h) * q, len);
      if (k + 1 == nk) break; // the last chunk's end state is not needed
      float[] endW = sc.endW;
      for (int j = 0; j < len; j++) endW[j] *= sc.dtv[j];
      int src = ((kBase + k) * H + h) * pn, dst = src + H * pn;
      int xb = xOff + c0 * xStride + h * P, bb = bOff + c0 * bStride;
      SsdBlocks.advance(
          states,
          dst,
          states,
          src,
          sc.sd[len - 1],
          endW,
          x,
          xb,
          xStride,
          b,
          bb,
          bStride,
          len,
          P,
          N,
          sc.u);
    }
    // Reverse: dS_{k-1} = e^{acum_L} dS_k + Σ_i e^{acum_i} dy_i ⊗ C_i (chunk k's terms).
    int lastAt = ((kBase + nk - 1) * H + h) * pn;
    java.util.Arrays.fill(dstates, lastAt, lastAt + pn, 0f);
    for (int k = nk - 1; k >= 1; k--) {
      int c0 = t0 + k * q, len = Math.min(q, t1 - c0);
      big.load(sc, ((kBase + k) * H + h) * q, len);
      float[] sd = sc.sd;
      int src = ((kBase + k) * H + h) * pn, dst = src - H * pn;
      int yb = dyOff + c0 * dyStride + h * P, cb = cOff + c0 * cStride;
      SsdBlocks.advance(
          dstates,
          dst,
          dstates,
          src,
          sd[len - 1],
          sd,
          dy,
          yb,
          dyStride,
          c,
          cb,
          cStride,
          len,
          P,
          N,
          sc.u);
    }
  }

  /**
   * Per-token quantities of one head over one chunk, as Ssd.scan forms them: dtv, dA = e^{dt A},
   * acum (double), sd = e^{acum_i}, endW = e^{acum_L − acum_j}, sig = softplus'(dtRaw + dtBias).
   */
  static void decays(
      Scratch sc, float[] dtRaw, int dtBase, int dtStride, float dtBias, float a, int len) {
    double run = 0;
    for (int i = 0; i < len; i++) {
      float raw = dtRaw[dtBase + i * dtStride] + dtBias;
      float v = Ssd.softplus(raw);
      float da = v * a;
      sc.dtv[i] = v;
      sc.dA[i] = (float) Math.exp(da);
      sc.sig[i] = (float) softplusGrad(raw);
      run += da;
      sc.acum[i] = run;
      sc.sd[i] = (float) Math.exp(run);
    }
    double last = sc.acum[len - 1];
    for (int j = 0; j < len; j++) sc.endW[j] = (float) Math.exp(last - sc.acum[j]);
  }

  /**
   * Lane sum in a fixed order (lane 0 first) of a vector stored in lanes [LANES]; not
   * reduceLanes(ADD), whose order differs between JIT tiers. The caller stores the vector: one
   * passed to a call that C2 does not inline is boxed (an allocation per call).
   */
  static float sumLanes(float[] lanes) {
    float s = 0f;
    for (int i = 0; i < LANES; i++) s += lanes[i];
    return s;
  }

  private static void checkArgs(int[] cu, int nSeq, int H, int P, int N, int chunkSize) {
    if (H < 0 || P < 0 || N < 0 || nSeq < 0)
      throw new IllegalArgumentException("negative dimension");
    if (chunkSize < 1)
      throw new IllegalArgumentException("chunkSize must be >= 1, got " + chunkSize);
    if (cu.length < nSeq + 1 || cu[0] != 0) {
      throw new IllegalArgumentException("cuSeqlens needs nSeq+1 entries starting at 0");
    }
    for (int s = 0; s < nSeq; s++) {
      if (cu[s + 1] < cu[s]) throw new IllegalArgumentException("cuSeqlens decreases at " + s);
    }
  }

  /** The calling thread's chunk-state buffers (phase 1 → phase 2), grown on demand. */
  static final class Big {
    private static final ThreadLocal<Big> LOCAL = ThreadLocal.withInitial(Big::new);
    int[] chunkBase = new int[1];
    float[] states = new float[0], dstates = new float[0];
    double[] partial = new double[0];
    // [chunks × H × Q] per-token decays of every (chunk, head), formed once in phase 1 (decays)
    float[] dtv = new float[0],
        dA = new float[0],
        sig = new float[0],
        sd = new float[0],
        endW = new float[0];
    double[] acum = new double[0]; // (chunk k, head h) at (k·H + h)·Q

    static Big get(int nSeq) {
      Big g = LOCAL.get();
      if (g.chunkBase.length < nSeq + 1) g.chunkBase = new int[nSeq + 1];
      return g;
    }

    void ensure(int stateLen, int partialLen) {
      if (states.length < stateLen) {
        states = new float[stateLen];
        dstates = new float[stateLen];
      }
      if (partial.length < partialLen) partial = new double[partialLen];
    }

    void ensureDecays(int len) {
      if (dtv.length < len) {
        dtv = new float[len];
        dA = new float[len];
        sig = new float[len];
        sd = new float[len];
        endW = new float[len];
        acum = new double[len];
      }
    }

    /** Stores the scratch's decays of len tokens at {@code at}. */
    void store(Scratch sc, int at, int len) {
      System.arraycopy(sc.dtv, 0, dtv, at, len);
      System.arraycopy(sc.dA, 0, dA, at, len);
      System.arraycopy(sc.sig, 0, sig, at, len);
      System.arraycopy(sc.sd, 0, sd, at, len);
      System.arraycopy(sc.endW, 0, endW, at, len);
      System.arraycopy(sc.acum, 0, acum, at, len);
    }

    /**
     * Loads the decays of len tokens stored at {@code at} into the scratch, as {@link #decays}
     * leaves them.
     */
    void load(Scratch sc, int at, int len) {
      System.arraycopy(dtv, at, sc.dtv, 0, len);
      System.arraycopy(dA, at, sc.dA, 0, len);
      System.arraycopy(sig, at, sc.sig, 0, len);
      System.arraycopy(sd, at, sc.sd, 0, len);
      System.arraycopy(endW, at, sc.endW, 0, len);
      System.arraycopy(acum, at, sc.acum, 0, len);
    }
  }

  /** Per-thread working memory of phases 1 and 2, grown on demand and then reused. */
  static final class Scratch {
    private static final ThreadLocal<Scratch> LOCAL = ThreadLocal.withInitial(Scratch::new);

    // [Q] per token (dtv and the vectors read in blocks are [Qp], zero padded)
    float[] dtv = new float[0], dA = new float[0], sd = new float[0], endW = new float[0];
    float[] sig = new float[0];
    double[] acum = new double[0], dacum = new double[0], ddtE = new double[0];
    double[] colK = new double[0];
    float[] dec = new float[0], krow = new float[0]; // [Qp]
    float[] cb = new float[0], w1 = new float[0], w2 = new float[0], dyx = new float[0]; // [Q × Qp]
    float[] bT = new float[0]; // [N × Qp]
    float[] xT = new float[0]; // [P × Qp]
    float[] dsT = new float[0]; // [N × P]
    float[] u = new float[0]; // [Q × P] per-token weights of the state advance (SsdBlocks.advance)
    float[] gS = new float[0],
        tS = new float[0],
        uS = new float[0]; // [Q × N], [Q × N], [Q × P] state terms
    final float[] lanes = new float[LANES]; // a vector's lanes, summed in order (sumLanes)

    static Scratch get(int q, int qp, int P, int N) {
      Scratch s = LOCAL.get();
      if (s.dtv.length < qp) {
        s.dtv = new float[qp];
        s.dA = new float[qp];
        s.sd = new float[qp];
        s.endW = new float[qp];
        s.sig = new float[qp];
        s.acum = new double[qp];
        s.dacum = new double[qp];
        s.ddtE = new double[qp];
        s.dec = new float[qp];
        s.colK = new double[qp];
        s.krow = new float[qp];
      }
      if (s.cb.length < q * qp) {
        s.cb = new float[q * qp];
        s.w1 = new float[q * qp];
        s.w2 = new float[q * qp];
        s.dyx = new float[q * qp];
      }
      if (s.bT.length < N * qp) s.bT = new float[N * qp];
      if (s.xT.length < P * qp) s.xT = new float[P * qp];
      if (s.dsT.length < N * P) s.dsT = new float[N * P];
      if (s.u.length < q * P) s.u = new float[q * P];
      if (s.uS.length < q * P) s.uS = new float[q * P];
      if (s.gS.length < q * N) {
        s.gS = new float[q * N];
        s.tS = new float[q * N];
      }
      return s;
    }
  }
}
