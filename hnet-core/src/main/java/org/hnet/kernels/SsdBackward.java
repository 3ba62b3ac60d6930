package org.hnet.kernels;

import jdk.incubator.vector.VectorSpecies;
import org.hnet.kernels.Profile.Kind;
import org.hnet.tensor.Arena;
import org.hnet.tensor.Rows;

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
 * <p>{@link SsdNaiveBackward#scanBackward} is exactly that, in double precision, keeping every
 * state: the oracle. {@link #scanBackward} is the chunked form. With acum_i = Σ_{k≤i} dt_k A inside
 * a chunk, L_ij = exp(acum_i − acum_j) (j ≤ i), CB_ij = C_i·B_j, DYX_ij = dy_i·x_j, S0 the
 * chunk-start state and dS = ∂loss/∂(chunk-end state) from later chunks:
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

  /** d softplus / dv: sigmoid(v), exactly 1 above the threshold (torch's softplus_backward). */
  static double softplusGrad(double v) {
    return v > 20 ? 1 : 1 / (1 + Math.exp(-v));
  }

  // ---------------------------------------------------------------------------------------------
  // Chunked backward.

  /**
   * Backward of {@link Ssd#scan}. {@code in} and {@code p} exactly as scan's inputs and weights (x
   * [T × H·P], dtRaw [T × H], B and C [T × N]; dtBias, A_log, D [H]; H, P, N), plus dy [T × H·P],
   * the gradient of scan's output. OVERWRITES dIn: dx, dDtRaw (the gradient w.r.t. the raw dt
   * before bias and softplus), dB, dC, each of its input's shape in its own view; ADDS INTO the
   * gradient buffers of grads: dDtBias, dA_log, dD [H] (its dimensions are p's). The d-outputs may
   * be distinct column ranges of one buffer (never the same elements) and must not overlap the
   * inputs. Bitwise identical for any thread count.
   *
   * <p>Keeps 2·(chunks·H·P·N) floats of chunk states in the calling thread's reusable scratch,
   * where chunks = Σ_seq ⌈len/chunkSize⌉.
   *
   * @param dIn dx, dDtRaw, dB, dC, overwritten: views of at least T rows
   * @param grads dDtBias, dA_log, dD, added into
   * @param dy the gradient of the scan's output, [T × H·P]
   * @param in the scan's inputs x, dtRaw, B, C
   * @param p the weights dtBias, A_log, D and the dimensions H, P, N
   * @param cuSeqlens sequence boundaries [nSeq + 1], from 0 to T
   * @param chunkSize the forward's chunk size
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
    long prof = Profile.begin(Kind.SSD_BACKWARD);
    Arena arena = Arena.local();
    int mark = arena.mark();
    try {
      int H = p.heads(), P = p.headDim(), N = p.state();
      Flops.add(8L * cuSeqlens[nSeq] * H * P * N); // about twice the forward recurrence
      checkArgs(dIn, grads, dy, in, p, cuSeqlens, nSeq, chunkSize);
      int T = cuSeqlens[nSeq];
      if (H == 0 || nSeq == 0) { // no heads: dB = dC = 0 (dx, dDtRaw have no elements)
        Rows db = dIn.b, dc = dIn.c;
        for (int t = 0; t < T; t++) {
          java.util.Arrays.fill(db.a(), db.at(t), db.at(t) + N, 0f);
          java.util.Arrays.fill(dc.a(), dc.at(t), dc.at(t) + N, 0f);
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
      Big big = Big.take(arena, nSeq);
      int[] chunkBase = big.chunkBase; // [nSeq+1] first global chunk of each sequence
      chunkBase[0] = 0;
      for (int s = 0; s < nSeq; s++) {
        chunkBase[s + 1] = chunkBase[s] + (cuSeqlens[s + 1] - cuSeqlens[s] + q - 1) / q;
      }
      int nChunks = chunkBase[nSeq], pn = P * N;
      long stateLen = (long) nChunks * H * pn;
      if (stateLen > Integer.MAX_VALUE) {
        throw new IllegalArgumentException(
            "chunk states exceed 2^31 floats; use a larger -Dhnet.ssd.block");
      }
      big.take(arena, (int) stateLen, nChunks * H * 3, Math.toIntExact((long) nChunks * H * q));
      double[] partial = big.partial;

      // Phase 1: chunk-start states and chunk-end state gradients, per (sequence, head), split by
      // token count like Ssd.scan.
      int units = nSeq * H;
      long totalCost = (long) H * (T + nSeq);
      int parts = (int) Math.min(Math.min(Parallel.threads(), units), Math.max(1, totalCost / 64));
      // (one part: the bodies directly, no lambda; see Parallel.serial)
      if (parts <= 1) {
        statesParts(big, dy, in, p, cuSeqlens, nSeq, q, qp, totalCost, parts, 0, parts);
      } else {
        Parallel.forRange(
            parts,
            1,
            (p0, p1) ->
                statesParts(big, dy, in, p, cuSeqlens, nSeq, q, qp, totalCost, parts, p0, p1));
      }

      // Phase 2: every chunk, all heads in order.
      if (Parallel.serial(nChunks, 1)) {
        if (nChunks > 0) chunks(dIn, big, dy, in, p, cuSeqlens, q, qp, 0, nChunks);
      } else {
        Parallel.forRange(
            nChunks, 1, (k0, k1) -> chunks(dIn, big, dy, in, p, cuSeqlens, q, qp, k0, k1));
      }

      // Phase 3: parameter gradients, chunk partials summed in chunk order.
      float[] aLog = p.aLog(), dDtBias = grads.dtBias(), dALog = grads.aLog(), dD = grads.d();
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
      arena.release(mark);
      Profile.end(Kind.SSD_BACKWARD, prof);
    }
  }

  /**
   * Phase 1 of {@link #scanBackward} for parts [p0, p1) of {@code parts}: {@link #chunkStates} of
   * every (sequence, head) unit of those parts, into big.
   */
  private static void statesParts(
      Big big,
      Rows dy,
      SsdRows in,
      SsdHeads p,
      int[] cuSeqlens,
      int nSeq,
      int q,
      int qp,
      long totalCost,
      int parts,
      int p0,
      int p1) {
    int H = p.heads();
    int[] chunkBase = big.chunkBase;
    Arena arena = Arena.local();
    int mark = arena.mark();
    try {
      Scratch sc = Scratch.take(arena, q, qp, p.headDim(), p.state());
      for (int part = p0; part < p1; part++) {
        int u0 = Ssd.splitPoint(cuSeqlens, nSeq, H, totalCost * part / parts);
        int u1 = Ssd.splitPoint(cuSeqlens, nSeq, H, totalCost * (part + 1) / parts);
        for (int u = u0; u < u1; u++) {
          int seq = u / H, h = u % H;
          chunkStates(big, dy, in, p, chunkBase[seq], cuSeqlens[seq], cuSeqlens[seq + 1], h, q, sc);
        }
      }
    } finally {
      arena.release(mark);
    }
  }

  /** Phase 2 of {@link #scanBackward} for the global chunks [k0, k1). */
  private static void chunks(
      SsdRows dIn,
      Big big,
      Rows dy,
      SsdRows in,
      SsdHeads p,
      int[] cuSeqlens,
      int q,
      int qp,
      int k0,
      int k1) {
    Arena arena = Arena.local();
    int mark = arena.mark();
    try {
      Scratch sc = Scratch.take(arena, q, qp, p.headDim(), p.state());
      int[] chunkBase = big.chunkBase;
      int seq = 0;
      for (int k = k0; k < k1; k++) {
        while (k >= chunkBase[seq + 1]) seq++;
        int c0 = cuSeqlens[seq] + (k - chunkBase[seq]) * q;
        int len = Math.min(q, cuSeqlens[seq + 1] - c0);
        boolean first = k == chunkBase[seq], last = k == chunkBase[seq + 1] - 1;
        SsdChunkBackward.chunk(dIn, big, dy, in, p, k, c0, len, first, last, q, qp, sc);
      }
    } finally {
      arena.release(mark);
    }
  }

  /**
   * Phase 1 for one (sequence [t0, t1), head h): big.states[(k·H + h)·P·N] = state at the start of
   * the sequence's k-th chunk (global chunk index k, the sequence's first being kBase),
   * big.dstates[...] = ∂loss/∂(state at its end) through later chunks (zero for the last chunk);
   * every chunk's decays into big (see {@link Big#store}).
   */
  private static void chunkStates(
      Big big,
      Rows dyRows,
      SsdRows in,
      SsdHeads p,
      int kBase,
      int t0,
      int t1,
      int h,
      int q,
      Scratch sc) {
    float[] states = big.states, dstates = big.dstates;
    float[] dt = in.dt.a();
    int dtOff = in.dt.off(), dtStride = in.dt.stride();
    int H = p.heads(), P = p.headDim(), N = p.state();
    float dtBias = p.dtBias()[h], a = Ssd.negExp(p.aLog()[h]);
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
      SsdBlocks.advance(states, dst, src, sc.sd[len - 1], endW, in.x, in.b, c0, h, len, p, sc.u);
    }
    // Reverse: dS_{k-1} = e^{acum_L} dS_k + Σ_i e^{acum_i} dy_i ⊗ C_i (chunk k's terms).
    int lastAt = ((kBase + nk - 1) * H + h) * pn;
    java.util.Arrays.fill(dstates, lastAt, lastAt + pn, 0f);
    for (int k = nk - 1; k >= 1; k--) {
      int c0 = t0 + k * q, len = Math.min(q, t1 - c0);
      big.load(sc, ((kBase + k) * H + h) * q, len);
      float[] sd = sc.sd;
      int src = ((kBase + k) * H + h) * pn, dst = src - H * pn;
      SsdBlocks.advance(dstates, dst, src, sd[len - 1], sd, dyRows, in.c, c0, h, len, p, sc.u);
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

  /**
   * The arguments of {@link #scanBackward} (and of {@link SsdNaiveBackward#scanBackward}): the
   * dimensions, the sequence boundaries, and every view at least T rows of its tensor's width.
   */
  static void checkArgs(
      SsdRows dIn,
      SsdHeads grads,
      Rows dy,
      SsdRows in,
      SsdHeads p,
      int[] cu,
      int nSeq,
      int chunkSize) {
    int H = p.heads(), P = p.headDim(), N = p.state();
    if (nSeq < 0) throw new IllegalArgumentException("negative dimension");
    if (chunkSize < 1)
      throw new IllegalArgumentException("chunkSize must be >= 1, got " + chunkSize);
    if (cu.length < nSeq + 1 || cu[0] != 0) {
      throw new IllegalArgumentException("cuSeqlens needs nSeq+1 entries starting at 0");
    }
    for (int s = 0; s < nSeq; s++) {
      if (cu[s + 1] < cu[s]) throw new IllegalArgumentException("cuSeqlens decreases at " + s);
    }
    if (grads.heads() != H || grads.headDim() != P || grads.state() != N) {
      throw new IllegalArgumentException("grads and weights differ in H, P or N");
    }
    // (SsdRows.check would concatenate its names on every call: a training step allocates nothing)
    int T = cu[nSeq];
    dIn.x.require("dIn.x", T, H * P);
    dIn.dt.require("dIn.dt", T, H);
    dIn.b.require("dIn.b", T, N);
    dIn.c.require("dIn.c", T, N);
    dy.require("dy", T, H * P);
    in.x.require("in.x", T, H * P);
    in.dt.require("in.dt", T, H);
    in.b.require("in.b", T, N);
    in.c.require("in.c", T, N);
  }

  /** The calling thread's chunk-state buffers (phase 1 → phase 2), from its arena. */
  static final class Big {
    int[] chunkBase;
    float[] states, dstates;
    double[] partial;
    // [chunks × H × Q] per-token decays of every (chunk, head), formed once in phase 1 (decays)
    float[] dtv, dA, sig, sd, endW;
    double[] acum; // (chunk k, head h) at (k·H + h)·Q

    static Big take(Arena arena, int nSeq) {
      Big g = arena.holder(Big.class, Big::new);
      g.chunkBase = arena.ints(nSeq + 1);
      return g;
    }

    void take(Arena arena, int stateLen, int partialLen, int decayLen) {
      states = arena.floats(stateLen);
      dstates = arena.floats(stateLen);
      partial = arena.doubles(partialLen);
      dtv = arena.floats(decayLen);
      dA = arena.floats(decayLen);
      sig = arena.floats(decayLen);
      sd = arena.floats(decayLen);
      endW = arena.floats(decayLen);
      acum = arena.doubles(decayLen);
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

  /**
   * A thread's working memory of phases 1 and 2, from its arena. The [Qp] vectors and the [· × Qp]
   * matrices are zeroed when taken (their padding is read in blocks of vectors).
   */
  static final class Scratch {
    // [Q] per token (dtv and the vectors read in blocks are [Qp], zero padded)
    float[] dtv, dA, sd, endW, sig;
    double[] acum, dacum, ddtE, colK;
    float[] dec, krow; // [Qp]
    float[] cb, w1, w2, dyx; // [Q × Qp]
    float[] bT; // [N × Qp]
    float[] xT; // [P × Qp]
    float[] dsT; // [N × P]
    float[] u; // [Q × P] per-token weights of the state advance (SsdBlocks.advance)
    float[] gS, tS, uS; // [Q × N], [Q × N], [Q × P] state terms
    float[] lanes; // [LANES] a vector's lanes, summed in order (sumLanes)

    static Scratch take(Arena arena, int q, int qp, int P, int N) {
      Scratch s = arena.holder(Scratch.class, Scratch::new);
      s.dtv = arena.zeros(qp);
      s.dA = arena.zeros(qp);
      s.sd = arena.zeros(qp);
      s.endW = arena.zeros(qp);
      s.sig = arena.zeros(qp);
      s.acum = zeros(arena.doubles(qp), qp);
      s.dacum = zeros(arena.doubles(qp), qp);
      s.ddtE = zeros(arena.doubles(qp), qp);
      s.colK = zeros(arena.doubles(qp), qp);
      s.dec = arena.zeros(qp);
      s.krow = arena.zeros(qp);
      s.cb = arena.zeros(q * qp);
      s.w1 = arena.zeros(q * qp);
      s.w2 = arena.zeros(q * qp);
      s.dyx = arena.zeros(q * qp);
      s.bT = arena.zeros(N * qp);
      s.xT = arena.zeros(P * qp);
      s.dsT = arena.floats(N * P);
      s.u = arena.floats(q * P);
      s.uS = arena.floats(q * P);
      s.gS = arena.floats(q * N);
      s.tS = arena.floats(q * N);
      s.lanes = arena.floats(LANES);
      return s;
    }

    private static double[] zeros(double[] a, int n) {
      java.util.Arrays.fill(a, 0, n, 0.0);
      return a;
    }
  }
}
