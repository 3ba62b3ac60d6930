package org.hnet.kernels;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Rotary position embedding, GPT-NeoX style (not interleaved), base 10000, as in the official
 * {@code RotaryEmbedding} (goombalab/hnet hnet/modules/rotary.py, {@code interleaved=False}, {@code
 * pos_idx_in_fp32=True}).
 *
 * <p>Dimensions: H heads, P head dim, R rotary dims (even, 0 ≤ R ≤ P; the first R channels of each
 * head rotate, the rest pass through), R2 = R/2 frequencies, maxPos table rows.
 *
 * <p>Float32 semantics follow torch: {@code inv_freq[i] = 1f / powf(10000, (2i as float) / R)},
 * {@code angle = (float) pos * inv_freq[i]} (a float32 product), {@code cos/sin} of that float32
 * angle rounded to float32. For x1 = x[i], x2 = x[i + R2]: {@code out[i] = x1·cos − x2·sin}, {@code
 * out[i + R2] = x2·cos + x1·sin} (torch's {@code x·cos + rotate_half(x)·sin}).
 */
public final class Rotary {
  private static final double BASE = 10000.0;

  /** Shared tables by R, grown by doubling; each value is immutable once published. */
  private static final ConcurrentHashMap<Integer, float[][]> SHARED = new ConcurrentHashMap<>();

  private Rotary() {}

  /** Checks that R is usable with head dim P. */
  static void checkDims(int P, int rotaryDim) {
    if (rotaryDim < 0 || (rotaryDim & 1) != 0 || rotaryDim > P) {
      throw new IllegalArgumentException(
          "rotaryDim must be even and in [0, P=" + P + "], got " + rotaryDim);
    }
  }

  /** inv_freq [R2], float32 as torch computes {@code 1.0 / (base ** (arange(0, R, 2) / R))}. */
  public static float[] invFreq(int rotaryDim) {
    int r2 = rotaryDim / 2;
    float[] f = new float[r2];
    for (int i = 0; i < r2; i++) {
      float expo = (float) (2 * i) / (float) rotaryDim; // float32 division
      float pw = (float) Math.pow(BASE, expo); // powf: correctly rounded via double
      f[i] = 1.0f / pw; // float32 reciprocal
    }
    return f;
  }

  /** cos/sin tables for positions [0, maxPos): {cos, sin}, each [maxPos × R2] row-major. */
  public static float[][] tables(int maxPos, int rotaryDim) {
    if (maxPos < 0) throw new IllegalArgumentException("maxPos must be >= 0, got " + maxPos);
    if (rotaryDim < 0 || (rotaryDim & 1) != 0) {
      throw new IllegalArgumentException("rotaryDim must be even and >= 0, got " + rotaryDim);
    }
    int r2 = rotaryDim / 2;
    float[] inv = invFreq(rotaryDim);
    float[] cos = new float[Math.multiplyExact(maxPos, r2)];
    float[] sin = new float[cos.length];
    for (int p = 0; p < maxPos; p++) {
      float fp = (float) p; // torch.arange(seqlen, dtype=float32)
      for (int i = 0; i < r2; i++) {
        float angle = fp * inv[i]; // torch.outer in float32
        cos[p * r2 + i] = (float) Math.cos(angle);
        sin[p * r2 + i] = (float) Math.sin(angle);
      }
    }
    return new float[][] {cos, sin};
  }

  /**
   * Tables covering at least positions [0, maxPos), shared process-wide and never mutated, so the
   * kernels allocate only when a longer sequence than ever before shows up. Rows are identical to
   * {@link #tables} (a row depends only on its position).
   */
  static float[][] shared(int maxPos, int rotaryDim) {
    int r2 = rotaryDim / 2;
    float[][] t = SHARED.get(rotaryDim);
    if (t != null && (r2 == 0 || t[0].length / r2 >= maxPos)) return t;
    int have = t == null || r2 == 0 ? 0 : t[0].length / r2;
    int want = Math.max(maxPos, Math.max(256, have * 2));
    float[][] fresh = tables(want, rotaryDim);
    // Two threads may grow at once; both compute identical rows, keep the longer.
    return SHARED.merge(rotaryDim, fresh, (a, b) -> a[0].length >= b[0].length ? a : b);
  }

  /**
   * In place on H heads of P dims starting at v[off] (head h at off + h·P), position pos; cos/sin
   * are [≥ pos+1 × R2] tables from {@link #tables}.
   */
  public static void apply(
      float[] v, int off, int H, int P, int rotaryDim, int pos, float[] cos, float[] sin) {
    checkDims(P, rotaryDim);
    if (rotaryDim == 0) return;
    int tab = pos * (rotaryDim / 2);
    for (int h = 0; h < H; h++) {
      rotateInto(v, off + h * P, v, off + h * P, 1, P, rotaryDim, cos, sin, tab, false);
    }
  }

  /**
   * One head: dst[dstOff + c·dstStride] = rotated src[srcOff + c] for c in [0, P) (channels ≥ R
   * copied when copyTail). dst may equal src at the same offset with stride 1 (in place); a stride
   * other than 1 writes the head as a column of a transposed [P × ld] matrix. tab = pos·R2.
   */
  static void rotateInto(
      float[] src,
      int srcOff,
      float[] dst,
      int dstOff,
      int dstStride,
      int P,
      int R,
      float[] cos,
      float[] sin,
      int tab,
      boolean copyTail) {
    int r2 = R / 2;
    for (int i = 0; i < r2; i++) {
      float x1 = src[srcOff + i];
      float x2 = src[srcOff + i + r2];
      float c = cos[tab + i];
      float s = sin[tab + i];
      // Two rounded products then a rounded sum, as torch's x*cos + rotate_half(x)*sin.
      dst[dstOff + i * dstStride] = x1 * c - x2 * s;
      dst[dstOff + (i + r2) * dstStride] = x2 * c + x1 * s;
    }
    if (copyTail) {
      for (int c = R; c < P; c++) dst[dstOff + c * dstStride] = src[srcOff + c];
    }
  }
}
