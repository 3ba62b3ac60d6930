package org.hnet.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.hnet.kernels.Profile.Kind;

/**
 * Mamba-2 selective state-space scan (SSD), forward and single-step decode, as in {@code
 * mamba_ssm}'s {@code Mamba2} with one B/C group ({@code ngroups = 1}), no z-gating (done by the
 * caller) and the default {@code dt_limit = (0, inf)}.
 *
 * <p>Dimension legend: T tokens (all packed sequences together), H heads, P head dim, N state size,
 * Q chunk size, R decode rows.
 *
 * <p>Math (per head h, token t of a sequence; state S is P×N and starts at zero for each sequence):
 *
 * <pre>
 *   dt_t  = softplus(dtRaw_t + dtBias_h)         softplus(v) = v &gt; 20 ? v : log1p(exp(v))  (torch)
 *   A_h   = -exp(A_log_h),   dA_t = exp(dt_t A_h)
 *   S_t   = dA_t S_{t-1} + dt_t x_t ⊗ B_t
 *   y_t   = S_t C_t + D_h x_t
 * </pre>
 *
 * <p>{@link #scanNaive} is that recurrence token by token: the specification and test twin. {@link
 * #scan} is the chunked SSD form (mamba_ssm {@code ssd_minimal.py} / {@code ssd_combined.py}): per
 * chunk, intra-chunk outputs from the masked (C Bᵀ ∘ decay) matrix times dt x, plus the
 * contribution of the chunk-start state, then the state is advanced to the chunk end. Chunks
 * restart at each sequence start.
 */
public final class Ssd {
  /** Vector shape used for every loop here; chosen once. */
  private static final VectorSpecies<Float> F = VectorWidth.FLOAT;

  private static final int LANES = F.length();

  /**
   * Largest internal block of the chunked scan and its backward, whatever the configured
   * chunk_size: the intra-block work is quadratic in the block and the inter-block work does not
   * depend on it, so small blocks are cheaper (T=4096, H=8, P=64, N=32: forward 120 ms at 256 vs 37
   * ms at 32, backward 410 vs 85 ms). The result is the same recurrence (within float rounding; the
   * tests compare with the naive one), so chunk_size only bounds the block from above.
   */
  static int maxBlock = Integer.getInteger("hnet.ssd.block", 32); // not final: tests lift the cap

  private Ssd() {}

  /** The block actually used: chunkSize capped by maxBlock and by the longest sequence (≥ 1). */
  static int block(int chunkSize, int maxLen) {
    return Math.max(1, Math.min(Math.min(chunkSize, maxBlock), maxLen));
  }

  // ---------------------------------------------------------------------------------------------
  // Shared scalar definitions (used by scan, scanNaive and step so all three agree bit for bit on
  // dt, A and dA).

  /** torch.nn.functional.softplus with its default threshold 20 (linear above it). */
  static float softplus(float v) {
    return v > 20f ? v : (float) Math.log1p(Math.exp(v));
  }

  /** A_h = -exp(A_log_h). */
  static float negExp(float aLog) {
    return -(float) Math.exp(aLog);
  }

  /** Per-token decay exp(dt·A); underflows to 0 for large dt, never NaN. */
  static float decay(float dt, float a) {
    return (float) Math.exp(dt * a);
  }

  // ---------------------------------------------------------------------------------------------
  // Naive recurrence (specification).

  /** The per-token recurrence; same arguments as {@link #scan} ({@code chunkSize} is ignored). */
  public static void scanNaive(
      float[] y,
      int yOff,
      int yStride,
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
      int chunkSize,
      float[] finalStates) {
    checkArgs(cuSeqlens, nSeq, H, P, N, chunkSize, finalStates);
    float[] s = new float[P * N]; // one head's state, reused (spec code, not the hot path)
    for (int seq = 0; seq < nSeq; seq++) {
      for (int h = 0; h < H; h++) {
        java.util.Arrays.fill(s, 0f);
        float a = negExp(aLog[h]);
        for (int t = cuSeqlens[seq]; t < cuSeqlens[seq + 1]; t++) {
          float dtv = softplus(dt[dtOff + t * dtStride + h] + dtBias[h]);
          float dA = decay(dtv, a);
          int xb = xOff + t * xStride + h * P, bb = bOff + t * bStride, cb = cOff + t * cStride;
          int yb = yOff + t * yStride + h * P;
          for (int p = 0; p < P; p++) {
            float dx = dtv * x[xb + p];
            float acc = 0f;
            for (int n = 0; n < N; n++) {
              float v = s[p * N + n] * dA + dx * b[bb + n];
              s[p * N + n] = v;
              acc += v * c[cb + n];
            }
            y[yb + p] = acc + d[h] * x[xb + p];
          }
        }
        if (finalStates != null) {
          System.arraycopy(s, 0, finalStates, (seq * H + h) * P * N, P * N);
        }
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Chunked scan.

  /**
   * Chunked SSD scan (forward). x at {@code x[xOff + t*xStride + h*P + p]}; dtRaw at {@code
   * dt[dtOff + t*dtStride + h]}; B at {@code b[bOff + t*bStride + n]}; C likewise; y written at
   * {@code y[yOff + t*yStride + h*P + p]}. dtBias, aLog, d: [H]. cuSeqlens: [nSeq+1], starting at
   * 0, non-decreasing (empty sequences allowed). finalStates (nullable): [nSeq × H × P × N], the
   * state after each sequence's last token (zeros for an empty sequence).
   *
   * <p>Parallel over (sequence, head) units, split by token count; each unit is computed the same
   * way whatever the split, so results are bitwise identical for any thread count.
   */
  public static void scan(
      float[] y,
      int yOff,
      int yStride,
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
      int chunkSize,
      float[] finalStates) {
    long prof = Profile.begin(Kind.SSD);
    try {
      Flops.add(4L * cuSeqlens[nSeq] * H * P * N); // state update + readout of the recurrence
      checkArgs(cuSeqlens, nSeq, H, P, N, chunkSize, finalStates);
      int units = nSeq * H;
      if (units == 0) return;
      int maxLen = 0;
      for (int s = 0; s < nSeq; s++) maxLen = Math.max(maxLen, cuSeqlens[s + 1] - cuSeqlens[s]);
      // Chunk buffers never need to exceed the longest sequence (chunkSize may be huge).
      int q = block(chunkSize, maxLen);
      if ((long) q * q > Integer.MAX_VALUE)
        throw new IllegalArgumentException("chunkSize too large");
      long totalCost = (long) H * (cuSeqlens[nSeq] + nSeq);
      int parts = (int) Math.min(Math.min(Parallel.threads(), units), Math.max(1, totalCost / 64));
      if (parts <= 1) { // one part: the body directly, no lambda
        scanParts(
            y,
            yOff,
            yStride,
            x,
            xOff,
            xStride,
            dt,
            dtOff,
            dtStride,
            dtBias,
            aLog,
            b,
            bOff,
            bStride,
            c,
            cOff,
            cStride,
            d,
            cuSeqlens,
            nSeq,
            H,
            P,
            N,
            finalStates,
            q,
            totalCost,
            parts,
            0,
            parts);
      } else {
        Parallel.forRange(
            parts,
            1,
            (p0, p1) ->
                scanParts(
                    y,
                    yOff,
                    yStride,
                    x,
                    xOff,
                    xStride,
                    dt,
                    dtOff,
                    dtStride,
                    dtBias,
                    aLog,
                    b,
                    bOff,
                    bStride,
                    c,
                    cOff,
                    cStride,
                    d,
                    cuSeqlens,
                    nSeq,
                    H,
                    P,
                    N,
                    finalStates,
                    q,
                    totalCost,
                    parts,
                    p0,
                    p1));
      }
    } finally {
      Profile.end(Kind.SSD, prof);
    }
  }

  /** Parts [p0, p1) of the {@code parts} of {@link #scan}. */
  private static void scanParts(
      float[] y,
      int yOff,
      int yStride,
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
      float[] finalStates,
      int q,
      long totalCost,
      int parts,
      int p0,
      int p1) {
    Scratch sc = Scratch.get(H, P, N, q);
    for (int part = p0; part < p1; part++) {
      int u0 = splitPoint(cuSeqlens, nSeq, H, totalCost * part / parts);
      int u1 = splitPoint(cuSeqlens, nSeq, H, totalCost * (part + 1) / parts);
      // A part's units are consecutive (seq, head) pairs: process them as runs of heads of one
      // sequence so each chunk's C·Bᵀ (shared by all heads: one group) is computed once per run.
      for (int u = u0; u < u1; ) {
        int seq = u / H, h0 = u % H, h1 = Math.min(H, h0 + (u1 - u));
        scanRun(
            y,
            yOff,
            yStride,
            x,
            xOff,
            xStride,
            dt,
            dtOff,
            dtStride,
            dtBias,
            aLog,
            b,
            bOff,
            bStride,
            c,
            cOff,
            cStride,
            d,
            cuSeqlens[seq],
            cuSeqlens[seq + 1],
            h0,
            h1,
            P,
            N,
            q,
            sc);
        if (finalStates != null) {
          System.arraycopy(sc.state, 0, finalStates, (seq * H + h0) * P * N, (h1 - h0) * P * N);
        }
        u += h1 - h0;
      }
    }
  }

  /**
   * First unit u (unit = seq*H + head) whose cost prefix is ≥ target; a unit costs its sequence
   * length + 1, so empty sequences still count and splits follow the work.
   */
  static int splitPoint(int[] cu, int nSeq, int H, long target) {
    int lo = 0, hi = nSeq * H; // answer in [lo, hi]
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      int seq = mid / H, h = mid % H;
      long prefix = (long) H * (cu[seq] + seq) + (long) h * (cu[seq + 1] - cu[seq] + 1);
      if (prefix >= target) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /**
   * Heads [h0, h1) of one sequence [t0, t1): chunk by chunk, head by head. Leaves the final states
   * in sc.state[(h-h0) × P × N].
   */
  private static void scanRun(
      float[] y,
      int yOff,
      int yStride,
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
      int t0,
      int t1,
      int h0,
      int h1,
      int P,
      int N,
      int q,
      Scratch sc) {
    int pn = P * N;
    java.util.Arrays.fill(sc.state, 0, (h1 - h0) * pn, 0f);
    for (int c0 = t0; c0 < t1; c0 += q) {
      int len = Math.min(q, t1 - c0);
      chunkCb(
          sc.cb,
          q,
          c,
          cOff + c0 * cStride,
          cStride,
          b,
          bOff + c0 * bStride,
          bStride,
          len,
          N,
          sc.lanes);
      for (int h = h0; h < h1; h++) {
        chunkHead(
            y,
            yOff + c0 * yStride + h * P,
            yStride,
            x,
            xOff + c0 * xStride + h * P,
            xStride,
            dt,
            dtOff + c0 * dtStride + h,
            dtStride,
            dtBias[h],
            negExp(aLog[h]),
            b,
            bOff + c0 * bStride,
            bStride,
            c,
            cOff + c0 * cStride,
            cStride,
            d[h],
            len,
            P,
            N,
            q,
            sc,
            (h - h0) * pn);
      }
    }
  }

  /**
   * cb[i*q + j] = C_i · B_j for 0 ≤ j ≤ i < len (lower triangle; the causal mask). Vector over N.
   */
  private static void chunkCb(
      float[] cb,
      int q,
      float[] c,
      int cBase,
      int cStride,
      float[] b,
      int bBase,
      int bStride,
      int len,
      int N,
      float[] lanes) {
    for (int i = 0; i < len; i++) {
      int ci = cBase + i * cStride;
      for (int j = 0; j <= i; j++) cb[i * q + j] = dot(c, ci, b, bBase + j * bStride, N, lanes);
    }
  }

  /**
   * One head over one chunk of len tokens; all bases already point at the chunk's first token and
   * this head. The state sc.state[sOff .. sOff+P*N) holds S at the chunk start on entry and S at
   * the chunk end on exit.
   */
  private static void chunkHead(
      float[] y,
      int yBase,
      int yStride,
      float[] x,
      int xBase,
      int xStride,
      float[] dtRaw,
      int dtBase,
      int dtStride,
      float dtBias,
      float a,
      float[] b,
      int bBase,
      int bStride,
      float[] c,
      int cBase,
      int cStride,
      float dH,
      int len,
      int P,
      int N,
      int q,
      Scratch sc,
      int sOff) {
    float[] s = sc.state, dtv = sc.dt, dA = sc.dA, startDecay = sc.startDecay, endW = sc.endW;
    float[] dec = sc.dec, m = sc.m, yacc = sc.yacc, sT = sc.sT, cb = sc.cb;
    double[] acum = sc.acum;

    // Per-token dt, dA and the cumulative log-decay acum_i = Σ_{k≤i} dt_k A (ssd_minimal's
    // A_cumsum).
    // acum is kept in double: its terms are all ≤ 0, so over a long chunk it reaches magnitudes of
    // hundreds where float rounding (~1e-5 absolute) would shift exp(acum_L - acum_j) by ~1e-5
    // relative: beyond our tolerance. The Q exps below are cheap; the Q² intra-chunk decays are not
    // formed by exp at all (see dec below).
    double run = 0;
    for (int i = 0; i < len; i++) {
      float v = softplus(dtRaw[dtBase + i * dtStride] + dtBias);
      float da = v * a;
      dtv[i] = v;
      dA[i] = (float) Math.exp(da);
      run += da;
      acum[i] = run;
      startDecay[i] = (float) Math.exp(run); // S_chunkstart → token i; ≤ 1, underflows to 0
    }
    double last = acum[len - 1];
    for (int j = 0; j < len; j++) {
      endW[j] = (float) Math.exp(last - acum[j]) * dtv[j]; // token j → chunk end, times dt_j
    }

    // S0ᵀ [N × P], so that the inter-chunk readout below runs vector over P.
    for (int p = 0; p < P; p++) {
      for (int n = 0; n < N; n++) sT[n * P + p] = s[sOff + p * N + n];
    }

    // The chunk-start state read out by every token, S0 C_i (whole vectors of p; the rest per
    // token).
    float[] readout = sc.readout;
    SsdBlocks.rowsTimes(readout, P, c, cBase, cStride, sT, 0, P, len, N, F.loopBound(P));

    // Outputs, token by token. dec[j] = Π_{k=j+1..i} dA_k = exp(acum_i - acum_j) is carried from
    // row
    // i-1 to row i by one multiply: no Q² exps, no exp(+large) that could overflow to inf and meet
    // a
    // 0 (NaN), and the same factors the recurrence multiplies.
    for (int i = 0; i < len; i++) {
      float dai = dA[i];
      int row = i * q;
      int j = 0;
      if (i > 0) {
        FloatVector vda = FloatVector.broadcast(F, dai);
        for (int jb = F.loopBound(i); j < jb; j += LANES) {
          FloatVector dv = FloatVector.fromArray(F, dec, j).mul(vda);
          dv.intoArray(dec, j);
          dv.mul(FloatVector.fromArray(F, cb, row + j))
              .mul(FloatVector.fromArray(F, dtv, j))
              .intoArray(m, j);
        }
        for (; j < i; j++) {
          float dv = dec[j] * dai;
          dec[j] = dv;
          m[j] = dv * cb[row + j] * dtv[j];
        }
      }
      dec[i] = 1f;
      m[i] = cb[row + i] * dtv[i];

      // Inter-chunk part and skip: yacc[p] = exp(acum_i) (S0[p,:] · C_i) + D x_i[p].
      int ci = cBase + i * cStride, xi = xBase + i * xStride, di = i * P;
      float sd = startDecay[i];
      if (sd != 0f)
        SsdBlocks.stateDotsTail(readout, di, sT, c, ci, P, N); // whole vectors: read-out above
      int p = 0;
      FloatVector vsd = FloatVector.broadcast(F, sd), vdH = FloatVector.broadcast(F, dH);
      for (int pb = F.loopBound(P);
          p < pb;
          p += LANES) { // the same operations as the scalar loop below
        FloatVector inter =
            sd == 0f ? FloatVector.zero(F) : FloatVector.fromArray(F, readout, di + p).mul(vsd);
        inter.add(FloatVector.fromArray(F, x, xi + p).mul(vdH)).intoArray(yacc, p);
      }
      for (; p < P; p++) {
        float inter = sd == 0f ? 0f : sd * readout[di + p];
        yacc[p] = inter + dH * x[xi + p];
      }
      // Intra-chunk part: y_i[p] = yacc[p] + Σ_{j≤i} m_j x_j[p]. Vector over P.
      SsdBlocks.mixRow(y, yBase + i * yStride, yacc, m, x, xBase, xStride, i, P);
    }

    // Advance the state to the chunk end:
    //   S[p,:] ← exp(acum_L) S[p,:] + Σ_j exp(acum_L - acum_j) dt_j x_j[p] B_j.   Vector over N.
    SsdBlocks.advance(
        s,
        sOff,
        s,
        sOff,
        startDecay[len - 1],
        endW,
        x,
        xBase,
        xStride,
        b,
        bBase,
        bStride,
        len,
        P,
        N,
        sc.u);
  }

  // ---------------------------------------------------------------------------------------------
  // Decode step.

  /**
   * One decode step for R rows: state [R × H × P × N] updated in place; x [R × H*P], dtRaw [R × H],
   * b, c [R × N]; y [R × H*P]. Rows with {@code active[r] == false} are skipped (state and y
   * untouched); {@code active == null} means all rows. Parallel over (row, head).
   */
  public static void step(
      float[] state,
      float[] y,
      float[] x,
      float[] dtRaw,
      float[] dtBias,
      float[] aLog,
      float[] b,
      float[] c,
      float[] d,
      int R,
      int H,
      int P,
      int N,
      boolean[] active) {
    long prof = Profile.begin(Kind.SSD_STEP);
    if (R < 0 || H < 0 || P < 0 || N < 0) throw new IllegalArgumentException("negative dimension");
    if (active != null && active.length < R) throw new IllegalArgumentException("active too short");
    int pn = P * N;
    int grain = Math.max(1, 32768 / Math.max(1, pn)); // at least ~32k state elements per part
    if (Parallel.serial(R * H, grain))
      stepHeads(state, y, x, dtRaw, dtBias, aLog, b, c, d, H, P, N, active, 0, R * H);
    else
      Parallel.forRange(
          R * H,
          grain,
          (u0, u1) ->
              stepHeads(state, y, x, dtRaw, dtBias, aLog, b, c, d, H, P, N, active, u0, u1));
    Profile.end(Kind.SSD_STEP, prof);
  }

  /** Work items [u0, u1) of {@link #step}: item u is head u % H of row u / H. */
  private static void stepHeads(
      float[] state,
      float[] y,
      float[] x,
      float[] dtRaw,
      float[] dtBias,
      float[] aLog,
      float[] b,
      float[] c,
      float[] d,
      int H,
      int P,
      int N,
      boolean[] active,
      int u0,
      int u1) {
    int pn = P * N;
    float[] lanes = LANES_TMP.get();
    for (int u = u0; u < u1; u++) {
      int r = u / H, h = u % H;
      if (active != null && !active[r]) continue;
      float dtv = softplus(dtRaw[r * H + h] + dtBias[h]);
      float dA = decay(dtv, negExp(aLog[h]));
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
      y[xo + p] = sumLanes(lanes) + tail + dH * xp;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers.

  /**
   * Lane sum in a fixed order (lane 0 first). Not reduceLanes(ADD): its float order is unspecified
   * and does differ between the interpreter's fallback and C2's intrinsic, which made results
   * depend on JIT timing (seen as thread-count "nondeterminism" in the tests).
   */
  private static float sumLanes(float[] lanes) {
    float s = 0f;
    for (int i = 0; i < LANES; i++) s += lanes[i];
    return s;
  }

  /** The calling thread's [LANES] buffer for {@link #sumLanes}. */
  private static final ThreadLocal<float[]> LANES_TMP =
      ThreadLocal.withInitial(() -> new float[LANES]);

  /** Σ_n a[ao+n] b[bo+n], vector over n with a scalar tail. */
  private static float dot(float[] a, int ao, float[] b, int bo, int n, float[] lanes) {
    FloatVector acc = FloatVector.zero(F);
    int i = 0;
    for (int ib = F.loopBound(n); i < ib; i += LANES) {
      acc = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), acc);
    }
    acc.intoArray(lanes, 0);
    float sum = i > 0 ? sumLanes(lanes) : 0f;
    for (; i < n; i++) sum += a[ao + i] * b[bo + i];
    return sum;
  }

  private static void checkArgs(
      int[] cu, int nSeq, int H, int P, int N, int chunkSize, float[] finalStates) {
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
    if (finalStates != null && finalStates.length < (long) nSeq * H * P * N) {
      throw new IllegalArgumentException("finalStates too short");
    }
  }

  /** Per-thread working memory, grown on demand and then reused (no allocation in steady state). */
  private static final class Scratch {
    private static final ThreadLocal<Scratch> LOCAL = ThreadLocal.withInitial(Scratch::new);

    float[] state = new float[0]; // [≤H × P × N] states of the current run of heads
    float[] cb = new float[0]; // [Q × Q] C·Bᵀ of the current chunk (lower triangle)
    float[] dt = new float[0], dA = new float[0], startDecay = new float[0], endW = new float[0];
    float[] dec = new float[0], m = new float[0]; // [Q] current row's decays and weights
    double[] acum = new double[0]; // [Q]
    float[] yacc = new float[0]; // [P]
    float[] readout = new float[0]; // [Q × P] S0 C_i of every token of the chunk
    float[] sT = new float[0]; // [N × P] chunk-start state of the current head, transposed
    float[] u = new float[0]; // [Q × P] the state update's per-token weights (SsdBlocks.advance)
    final float[] lanes = new float[LANES]; // a vector's lanes, for sumLanes

    static Scratch get(int H, int P, int N, int q) {
      Scratch s = LOCAL.get();
      if (s.state.length < H * P * N) s.state = new float[H * P * N];
      if (s.sT.length < P * N) s.sT = new float[P * N];
      if (s.u.length < q * P) s.u = new float[q * P];
      if (s.readout.length < q * P) s.readout = new float[q * P];
      if (s.cb.length < q * q) s.cb = new float[q * q];
      if (s.dt.length < q) {
        s.dt = new float[q];
        s.dA = new float[q];
        s.startDecay = new float[q];
        s.endW = new float[q];
        s.dec = new float[q];
        s.m = new float[q];
        s.acum = new double[q];
      }
      if (s.yacc.length < P) s.yacc = new float[P];
      return s;
    }
  }
}
