package org.hnet.kernels;

import jdk.incubator.vector.FloatVector;
import org.hnet.kernels.Profile.Kind;
import org.hnet.tensor.Arena;
import org.hnet.tensor.Rows;

/**
 * The decode step of {@link Attention} (dimensions and conventions as there): one new position per
 * row against a KV cache of rotated keys and values, and the cache fill after a prefill.
 */
public final class AttentionStep {
  private AttentionStep() {}

  private static final jdk.incubator.vector.VectorSpecies<Float> SPECIES = Attention.SPECIES;
  private static final int L = Attention.L;

  /**
   * Decode step for R rows with a KV cache. kvCache row r, at r·2·H·cap·P: the rotated keys [H ×
   * cap × P], then the values [H × cap × P], each head a ring of cap positions, so that a head's
   * keys (and values) are one contiguous stream. Row r's new token has position pos[r] (tokens seen
   * before) and goes to slot pos[r] % cap; it attends to positions [pos − w, pos] (w ≥ 0, needs cap
   * ≥ w+1) or [0, pos] (w = −1, needs cap > pos). qkv: [R × 3HP] raw projections (not modified);
   * out: [R × HP]. Rows r < R with active[r] false are untouched. Each (row, head) is computed by
   * one work item, which writes only that head's slice of the slot and of out. Plain arrays with
   * dense rows (no views), so that a decode step allocates nothing.
   */
  public static void step(
      float[] out,
      float[] qkv,
      float[] kvCache,
      int cap,
      int[] pos,
      boolean[] active,
      int R,
      AttnHeads a) {
    long prof = Profile.begin(Kind.ATTENTION_STEP);
    try {
      int H = a.heads(), P = a.headDim(), window = a.window();
      if (cap < 1) throw new IllegalArgumentException("cap must be >= 1");
      if (window >= 0 && cap < window + 1) {
        throw new IllegalArgumentException("cap " + cap + " < window + 1 = " + (window + 1));
      }
      int maxPos = -1, rows = 0;
      long work = 0;
      for (int r = 0; r < R; r++) {
        if (!active[r]) continue;
        rows++;
        if (pos[r] < 0) throw new IllegalArgumentException("pos[" + r + "] < 0");
        if (window < 0 && pos[r] >= cap) {
          throw new IllegalArgumentException(
              "global cache of cap " + cap + " full at pos " + pos[r]);
        }
        maxPos = Math.max(maxPos, pos[r]);
        work += (long) H * P * (window < 0 ? pos[r] + 1 : Math.min(pos[r] + 1, window + 1));
      }
      if (maxPos < 0) return;
      Attention.KV_READ.add(8 * work);
      float[][] cs = Rotary.shared(maxPos + 1, a.rotaryDim());
      // Items are (active row, head group). Rows alone would leave threads idle for few rows, so
      // heads are split into just enough groups; per-head results do not depend on the grouping.
      // Only active rows make items: with (row, group) items over all R rows, the contiguous
      // parts of the thread split held unequal numbers of active rows.
      int groups = Math.min(H, Math.max(1, (Parallel.threads() + rows - 1) / rows));
      int n = rows * groups, need = window < 0 ? maxPos + 1 : Math.min(maxPos + 1, window + 1);
      int grain = work < Attention.SERIAL_WORK ? n : 1;
      if (Parallel.serial(n, grain)) {
        stepItems(out, qkv, kvCache, cap, pos, active, a, cs, groups, need, 0, n);
      } else {
        Parallel.forRange(
            n,
            grain,
            (start, end) ->
                stepItems(out, qkv, kvCache, cap, pos, active, a, cs, groups, need, start, end));
      }
    } finally {
      Profile.end(Kind.ATTENTION_STEP, prof);
    }
  }

  /**
   * Work items [start, end) of {@link #step}: item it is head group it % groups of active row
   * number it / groups. cs: the rotary tables (cos, sin); need: the most positions a row attends
   * to.
   */
  private static void stepItems(
      float[] out,
      float[] qkv,
      float[] kvCache,
      int cap,
      int[] pos,
      boolean[] active,
      AttnHeads a,
      float[][] cs,
      int groups,
      int need,
      int start,
      int end) {
    int H = a.heads(),
        P = a.headDim(),
        gMax = (H + groups - 1) / groups; // heads per group, at most
    Arena arena = Arena.local();
    int mark = arena.mark();
    try {
      // scores grow with the position, one more each step: asked for in powers of two, so that the
      // buffer is replaced only when the positions double, not at every step
      int room = Math.max(64, Integer.highestOneBit(Math.max(1, need - 1)) << 1);
      Attention.Scratch sc = Attention.Scratch.step(arena, gMax, P, room);
      int r = -1, k = -1; // row r is active row number k
      for (int it = start; it < end; it++) {
        for (int want = it / groups; k < want; ) if (active[++r]) k++;
        int g = it % groups;
        stepHeads(
            sc, out, qkv, kvCache, cap, pos[r], r, g * H / groups, (g + 1) * H / groups, a, cs);
      }
    } finally {
      arena.release(mark);
    }
  }

  /** Decode of heads [h0, h1) of row r at position p; see {@link #step}. */
  private static void stepHeads(
      Attention.Scratch sc,
      float[] out,
      float[] qkv,
      float[] kv,
      int cap,
      int p,
      int r,
      int h0,
      int h1,
      AttnHeads a,
      float[][] cs) {
    int H = a.heads(), P = a.headDim(), R = a.rotaryDim(), window = a.window();
    float[] cos = cs[0], sin = cs[1];
    int HP = H * P, ring = cap * P, tab = p * (R / 2), G = h1 - h0;
    int row = r * 3 * HP; // q | k | v of the new token
    int kBase = r * 2 * H * ring, vBase = kBase + H * ring; // head h's ring: + h·ring
    int slot0 = (p % cap) * P;
    float[] q = sc.vec, w = sc.sc;
    for (int h = h0; h < h1; h++) {
      Rotary.rotateInto(
          qkv, row + HP + h * P, kv, kBase + h * ring + slot0, 1, P, R, cos, sin, tab, true);
      System.arraycopy(qkv, row + 2 * HP + h * P, kv, vBase + h * ring + slot0, P);
      Rotary.rotateInto(qkv, row + h * P, q, (h - h0) * P, 1, P, R, cos, sin, tab, true);
    }
    int lo = window < 0 ? 0 : Math.max(0, p - window), n = p - lo + 1;
    float scale = Attention.scale(P);
    // Scores w[g·n + t] for positions lo + t: eight positions at a time (eight independent fma
    // chains, summed by one transposition), the rest one by one.
    for (int g = 0; g < G; g++) {
      int kh = kBase + (h0 + g) * ring;
      int t = scores8(q, g * P, kv, kh, cap, lo, n, P, scale, w, g * n, sc.lanes);
      for (int slot = (lo + t) % cap; t < n; t++, slot = slot + 1 == cap ? 0 : slot + 1) {
        w[g * n + t] = AttentionMath.dot(q, g * P, kv, kh + slot * P, P, sc.lanes) * scale;
      }
    }
    for (int g = 0; g < G; g++) AttentionMath.softmax(w, g * n, n, sc.lanes);
    int o = r * HP + h0 * P;
    for (int g = 0; g < G; g++) {
      weightedSum(w, g * n, n, kv, vBase + (h0 + g) * ring, P, cap, lo % cap, out, o + g * P, P);
    }
  }

  /**
   * Scores of one head for positions lo + t, t in [0, n) in blocks of 8: w[wo + t] = (q ·
   * k_t)·scale, k_t at kv[kBase + slot·P] with slot = (lo + t) mod cap. Returns how many positions
   * it did (a multiple of 8; 0 unless both this class and the decode products work on 8 lanes, as
   * {@link MatmulDecode#dots8} and {@code lanes} need); the caller does the rest one by one. Per
   * score: {@link MatmulDecode#dots8} over the vector part of P, then the scalar tail in order.
   * Replaces one dot per score, whose single fma chain and lane sum cost ~8× more.
   */
  private static int scores8(
      float[] q,
      int qo,
      float[] kv,
      int kBase,
      int cap,
      int lo,
      int n,
      int P,
      float scale,
      float[] w,
      int wo,
      float[] lanes) {
    if (L != 8 || MatmulGemm.VL != 8) return 0;
    int stride = P; // a head's ring holds its positions P apart
    int pv = SPECIES.loopBound(P), t = 0;
    for (; t + 8 <= n; t += 8) {
      int s = (lo + t) % cap;
      int k0 = kBase + s * stride;
      int k1 = kBase + (s = s + 1 == cap ? 0 : s + 1) * stride;
      int k2 = kBase + (s = s + 1 == cap ? 0 : s + 1) * stride;
      int k3 = kBase + (s = s + 1 == cap ? 0 : s + 1) * stride;
      int k4 = kBase + (s = s + 1 == cap ? 0 : s + 1) * stride;
      int k5 = kBase + (s = s + 1 == cap ? 0 : s + 1) * stride;
      int k6 = kBase + (s = s + 1 == cap ? 0 : s + 1) * stride;
      int k7 = kBase + (s = s + 1 == cap ? 0 : s + 1) * stride;
      MatmulDecode.dots8(q, qo, kv, k0, k1, k2, k3, k4, k5, k6, k7, pv, lanes, 0);
      for (int j = 0; j < 8; j++) {
        float y = lanes[j];
        if (pv < P) {
          int kj = kBase + ((lo + t + j) % cap) * stride;
          for (int c = pv; c < P; c++) y = Math.fma(q[qo + c], kv[kj + c], y);
        }
        w[wo + t + j] = y * scale;
      }
    }
    return t;
  }

  /**
   * out[o, o+P) = Σ_t w[wo + t]·v_t over t in [0, n) ascending, v_t at kv[vBase + slot·stride] with
   * slot = (slot0 + t) mod cap: per element one fma chain from 0, four vectors of P at a time kept
   * in registers (before: an axpy per position, the accumulators going through memory).
   */
  private static void weightedSum(
      float[] w,
      int wo,
      int n,
      float[] kv,
      int vBase,
      int stride,
      int cap,
      int slot0,
      float[] out,
      int o,
      int P) {
    int pv = SPECIES.loopBound(P), c = 0;
    for (; c + 4 * L <= pv; c += 4 * L) {
      FloatVector y0 = FloatVector.zero(SPECIES), y1 = y0, y2 = y0, y3 = y0;
      for (int t = 0, slot = slot0; t < n; t++, slot = slot + 1 == cap ? 0 : slot + 1) {
        int vo = vBase + slot * stride + c;
        FloatVector a = FloatVector.broadcast(SPECIES, w[wo + t]);
        y0 = a.fma(FloatVector.fromArray(SPECIES, kv, vo), y0);
        y1 = a.fma(FloatVector.fromArray(SPECIES, kv, vo + L), y1);
        y2 = a.fma(FloatVector.fromArray(SPECIES, kv, vo + 2 * L), y2);
        y3 = a.fma(FloatVector.fromArray(SPECIES, kv, vo + 3 * L), y3);
      }
      y0.intoArray(out, o + c);
      y1.intoArray(out, o + c + L);
      y2.intoArray(out, o + c + 2 * L);
      y3.intoArray(out, o + c + 3 * L);
    }
    for (; c < pv; c += L) {
      FloatVector y = FloatVector.zero(SPECIES);
      for (int t = 0, slot = slot0; t < n; t++, slot = slot + 1 == cap ? 0 : slot + 1) {
        y =
            FloatVector.broadcast(SPECIES, w[wo + t])
                .fma(FloatVector.fromArray(SPECIES, kv, vBase + slot * stride + c), y);
      }
      y.intoArray(out, o + c);
    }
    for (; c < P; c++) {
      float y = 0f;
      for (int t = 0, slot = slot0; t < n; t++, slot = slot + 1 == cap ? 0 : slot + 1) {
        y = Math.fma(w[wo + t], kv[vBase + slot * stride + c], y);
      }
      out[o + c] = y;
    }
  }

  /**
   * Writes the rotated k and v of the sequence at token rows [seqStart, seqStart + seqLen) of a
   * packed qkv ([T × 3HP], positions 0..seqLen−1) into cache row {@code row}; only the last cap
   * positions are kept, position t in slot t % cap, as {@link #step} expects. The window of {@code
   * a} plays no part (the caller sizes cap).
   */
  public static void fillCache(
      float[] kvCache, int row, int cap, Rows qkvV, int seqStart, int seqLen, AttnHeads a) {
    long prof = Profile.begin(Kind.ATTENTION_STEP);
    try {
      int H = a.heads(), P = a.headDim(), rotaryDim = a.rotaryDim();
      if (cap < 1) throw new IllegalArgumentException("cap must be >= 1");
      if (seqLen <= 0) return;
      qkvV.require("qkv", seqStart + seqLen, 3 * H * P);
      float[] qkv = qkvV.a();
      int qkvOff = qkvV.off(), qkvStride = qkvV.stride();
      float[][] cs = Rotary.shared(seqLen, rotaryDim);
      int HP = H * P, ring = cap * P, first = Math.max(0, seqLen - cap), n = seqLen - first;
      int kBase = row * 2 * H * ring, vBase = kBase + H * ring;
      Parallel.forRange(
          n,
          Math.max(1, (int) (Attention.SERIAL_WORK / (2L * HP))),
          (start, end) -> {
            for (int t = first + start; t < first + end; t++) {
              int src = qkvOff + (seqStart + t) * qkvStride + HP, slot = (t % cap) * P;
              for (int h = 0; h < H; h++) {
                Rotary.rotateInto(
                    qkv,
                    src + h * P,
                    kvCache,
                    kBase + h * ring + slot,
                    1,
                    P,
                    rotaryDim,
                    cs[0],
                    cs[1],
                    t * (rotaryDim / 2),
                    true);
                System.arraycopy(qkv, src + HP + h * P, kvCache, vBase + h * ring + slot, P);
              }
            }
          });
    } finally {
      Profile.end(Kind.ATTENTION_STEP, prof);
    }
  }
}
