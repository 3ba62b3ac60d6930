package org.hnet.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.hnet.kernels.Profile.Kind;
import org.hnet.tensor.Arena;
import org.hnet.tensor.Rows;

/**
 * Mamba-2 selective state-space scan (SSD), the chunked forward (the decode step is {@link
 * SsdStep}), as in {@code mamba_ssm}'s {@code Mamba2} with one B/C group ({@code ngroups = 1}), no
 * z-gating (done by the caller) and the default {@code dt_limit = (0, inf)}.
 *
 * <p>Dimension legend: T tokens (all packed sequences together), H heads, P head dim, N state size,
 * Q chunk size, R decode rows. The per-token operands come as {@link SsdRows} views, the per-head
 * weights and the dimensions as {@link SsdHeads}.
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
 * <p>{@link SsdNaive#scan} is that recurrence token by token: the specification and test twin.
 * {@link #scan} is the chunked SSD form (mamba_ssm {@code ssd_minimal.py} / {@code
 * ssd_combined.py}): per chunk, intra-chunk outputs from the masked (C Bᵀ ∘ decay) matrix times dt
 * x, plus the contribution of the chunk-start state, then the state is advanced to the chunk end.
 * Chunks restart at each sequence start.
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
  // Chunked scan.

  /**
   * Chunked SSD scan (forward): y [T × H·P] from the operands {@code in} (x, dtRaw, B, C) and the
   * weights {@code p}. cuSeqlens: [nSeq+1], starting at 0, non-decreasing (empty sequences
   * allowed). finalStates (nullable): [nSeq × H × P × N], the state after each sequence's last
   * token (zeros for an empty sequence).
   *
   * <p>Parallel over (sequence, head) units, split by token count; each unit is computed the same
   * way whatever the split, so results are bitwise identical for any thread count.
   */
  public static void scan(
      Rows y,
      float[] finalStates,
      SsdRows in,
      SsdHeads p,
      int[] cuSeqlens,
      int nSeq,
      int chunkSize) {
    long prof = Profile.begin(Kind.SSD);
    try {
      int H = p.heads(), P = p.headDim(), N = p.state();
      checkArgs(cuSeqlens, nSeq, H, P, N, chunkSize, finalStates);
      int T = cuSeqlens[nSeq];
      Flops.add(4L * T * H * P * N); // state update + readout of the recurrence
      in.check("in", T, p);
      y.require("y", T, H * P);
      int units = nSeq * H;
      if (units == 0) return;
      int maxLen = 0;
      for (int s = 0; s < nSeq; s++) maxLen = Math.max(maxLen, cuSeqlens[s + 1] - cuSeqlens[s]);
      // Chunk buffers never need to exceed the longest sequence (chunkSize may be huge).
      int q = block(chunkSize, maxLen);
      if ((long) q * q > Integer.MAX_VALUE)
        throw new IllegalArgumentException("chunkSize too large");
      long totalCost = (long) H * (T + nSeq);
      int parts = (int) Math.min(Math.min(Parallel.threads(), units), Math.max(1, totalCost / 64));
      if (parts <= 1) { // one part: the body directly, no lambda
        scanParts(y, in, p, cuSeqlens, nSeq, finalStates, q, totalCost, parts, 0, parts);
      } else {
        Parallel.forRange(
            parts,
            1,
            (p0, p1) ->
                scanParts(y, in, p, cuSeqlens, nSeq, finalStates, q, totalCost, parts, p0, p1));
      }
    } finally {
      Profile.end(Kind.SSD, prof);
    }
  }

  /** Parts [p0, p1) of the {@code parts} of {@link #scan}. */
  private static void scanParts(
      Rows y,
      SsdRows in,
      SsdHeads p,
      int[] cuSeqlens,
      int nSeq,
      float[] finalStates,
      int q,
      long totalCost,
      int parts,
      int p0,
      int p1) {
    int H = p.heads(), pn = p.headDim() * p.state();
    Arena arena = Arena.local();
    int mark = arena.mark();
    try {
      Scratch sc = Scratch.take(arena, H, p.headDim(), p.state(), q);
      for (int part = p0; part < p1; part++) {
        int u0 = splitPoint(cuSeqlens, nSeq, H, totalCost * part / parts);
        int u1 = splitPoint(cuSeqlens, nSeq, H, totalCost * (part + 1) / parts);
        // A part's units are consecutive (seq, head) pairs: process them as runs of heads of one
        // sequence so each chunk's C·Bᵀ (shared by all heads: one group) is computed once per run.
        for (int u = u0; u < u1; ) {
          int seq = u / H, h0 = u % H, h1 = Math.min(H, h0 + (u1 - u));
          scanRun(y, in, p, cuSeqlens[seq], cuSeqlens[seq + 1], h0, h1, q, sc);
          if (finalStates != null) {
            System.arraycopy(sc.state, 0, finalStates, (seq * H + h0) * pn, (h1 - h0) * pn);
          }
          u += h1 - h0;
        }
      }
    } finally {
      arena.release(mark);
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
   * Heads [h0, h1) of one sequence, tokens [t0, t1): chunk by chunk, head by head. Leaves the final
   * states in sc.state[(h-h0) × P × N].
   */
  private static void scanRun(
      Rows y, SsdRows in, SsdHeads p, int t0, int t1, int h0, int h1, int q, Scratch sc) {
    int pn = p.headDim() * p.state();
    Rows b = in.b, c = in.c;
    java.util.Arrays.fill(sc.state, 0, (h1 - h0) * pn, 0f);
    for (int c0 = t0; c0 < t1; c0 += q) {
      int len = Math.min(q, t1 - c0);
      chunkCb(
          sc.cb,
          q,
          c.a(),
          c.at(c0),
          c.stride(),
          b.a(),
          b.at(c0),
          b.stride(),
          len,
          p.state(),
          sc.lanes);
      for (int h = h0; h < h1; h++) chunkHead(y, in, p, c0, h, len, q, sc, (h - h0) * pn);
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
   * Head h over one chunk of len tokens from row c0. The state sc.state[sOff .. sOff+P*N) holds S
   * at the chunk start on entry and S at the chunk end on exit.
   */
  private static void chunkHead(
      Rows yv, SsdRows in, SsdHeads hp, int c0, int h, int len, int q, Scratch sc, int sOff) {
    int P = hp.headDim(), N = hp.state();
    // The operands at this chunk's first token and this head (the loops below index from here).
    float[] y = yv.a(), x = in.x.a(), dtRaw = in.dt.a(), c = in.c.a();
    int yBase = yv.at(c0) + h * P, yStride = yv.stride();
    int xBase = in.x.at(c0) + h * P, xStride = in.x.stride();
    int dtBase = in.dt.at(c0) + h, dtStride = in.dt.stride();
    int cBase = in.c.at(c0), cStride = in.c.stride();
    float dtBias = hp.dtBias()[h], a = negExp(hp.aLog()[h]), dH = hp.d()[h];
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
    SsdBlocks.advance(s, sOff, sOff, startDecay[len - 1], endW, in.x, in.b, c0, h, len, hp, sc.u);
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers.

  /**
   * Lane sum in a fixed order (lane 0 first). Not reduceLanes(ADD): its float order is unspecified
   * and does differ between the interpreter's fallback and C2's intrinsic, which made results
   * depend on JIT timing (seen as thread-count "nondeterminism" in the tests).
   */
  static float sumLanes(float[] lanes) {
    float s = 0f;
    for (int i = 0; i < LANES; i++) s += lanes[i];
    return s;
  }

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

  static void checkArgs(
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

  /** A thread's working memory for one part of the scan, taken from its arena (Arena.local). */
  private static final class Scratch {
    float[] state; // [≤H × P × N] states of the current run of heads
    float[] cb; // [Q × Q] C·Bᵀ of the current chunk (lower triangle)
    float[] dt, dA, startDecay, endW;
    float[] dec, m; // [Q] current row's decays and weights
    double[] acum; // [Q]
    float[] yacc; // [P]
    float[] readout; // [Q × P] S0 C_i of every token of the chunk
    float[] sT; // [N × P] chunk-start state of the current head, transposed
    float[] u; // [Q × P] the state update's per-token weights (SsdBlocks.advance)
    float[] lanes; // a vector's lanes, for sumLanes

    static Scratch take(Arena arena, int H, int P, int N, int q) {
      Scratch s = arena.holder(Scratch.class, Scratch::new);
      s.state = arena.floats(H * P * N);
      s.sT = arena.floats(P * N);
      s.u = arena.floats(q * P);
      s.readout = arena.floats(q * P);
      s.cb = arena.floats(q * q);
      s.dt = arena.floats(q);
      s.dA = arena.floats(q);
      s.startDecay = arena.floats(q);
      s.endW = arena.floats(q);
      s.dec = arena.floats(q);
      s.m = arena.floats(q);
      s.acum = arena.doubles(q);
      s.yacc = arena.floats(P);
      s.lanes = arena.floats(LANES);
      return s;
    }
  }
}
