package org.hnet.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.hnet.kernels.Profile.Kind;

/**
 * Row-wise and element-wise kernels: RMSNorm, gated RMSNorm, SiLU, SwiGLU, residual adds (their
 * backwards are in {@link OpsBackward}).
 *
 * <p>Legend: M rows (tokens), D row width (model or inner width), Hd SwiGLU hidden width. Every
 * buffer is row-major; {@code *Off} is the offset of row 0 and {@code *Stride} the distance between
 * rows where a kernel reads a column slice of a wider row (e.g. z out of Mamba-2's in_proj output).
 */
public final class Ops {
  private static final VectorSpecies<Float> S = VectorWidth.FLOAT;
  private static final int L = S.length();

  private Ops() {}

  /**
   * y[M×D] = x * rsqrt(mean(x²) + eps) * w, per row (RMSNorm, as the reference's Triton kernel:
   * mean of squares and the scale in float32).
   */
  public static void rmsnorm(
      float[] y,
      int yOff,
      int yStride,
      float[] x,
      int xOff,
      int xStride,
      float[] w,
      int M,
      int D,
      float eps) {
    long prof = Profile.begin(Kind.NORM);
    if (Parallel.serial(M, 64)) rmsnormRows(y, yOff, yStride, x, xOff, xStride, w, D, eps, 0, M);
    else
      Parallel.forRange(
          M, 64, (m0, m1) -> rmsnormRows(y, yOff, yStride, x, xOff, xStride, w, D, eps, m0, m1));
    Profile.end(Kind.NORM, prof);
  }

  private static void rmsnormRows(
      float[] y,
      int yOff,
      int yStride,
      float[] x,
      int xOff,
      int xStride,
      float[] w,
      int D,
      float eps,
      int m0,
      int m1) {
    for (int m = m0; m < m1; m++) {
      int xo = xOff + m * xStride, yo = yOff + m * yStride;
      float rstd = rstd(x, xo, D, eps);
      scaleByWeight(y, yo, x, xo, w, rstd, D);
    }
  }

  /** Scalar twin of {@link #rmsnorm}. */
  public static void rmsnormNaive(
      float[] y,
      int yOff,
      int yStride,
      float[] x,
      int xOff,
      int xStride,
      float[] w,
      int M,
      int D,
      float eps) {
    for (int m = 0; m < M; m++) {
      double ss = 0;
      for (int d = 0; d < D; d++)
        ss += (double) x[xOff + m * xStride + d] * x[xOff + m * xStride + d];
      float rstd = (float) (1.0 / Math.sqrt(ss / D + eps));
      for (int d = 0; d < D; d++)
        y[yOff + m * yStride + d] = x[xOff + m * xStride + d] * rstd * w[d];
    }
  }

  /**
   * Mamba-2's gated RMSNorm with norm_before_gate=False: y[M×D] = rmsnorm(v * silu(z)) * w, where v
   * is read at v[vOff + m*vStride] and z at z[zOff + m*zStride]. Writes y with row stride D.
   */
  public static void gatedRmsnorm(
      float[] y,
      int yOff,
      float[] v,
      int vOff,
      int vStride,
      float[] z,
      int zOff,
      int zStride,
      float[] w,
      int M,
      int D,
      float eps) {
    long prof = Profile.begin(Kind.NORM);
    // ~2K elements per part (a decode step's 8 rows split in 2): rows are independent
    int grain = Math.max(1, 2048 / Math.max(1, D));
    if (Parallel.serial(M, grain))
      gatedRmsnormRows(y, yOff, v, vOff, vStride, z, zOff, zStride, w, D, eps, 0, M);
    else
      Parallel.forRange(
          M,
          grain,
          (m0, m1) ->
              gatedRmsnormRows(y, yOff, v, vOff, vStride, z, zOff, zStride, w, D, eps, m0, m1));
    Profile.end(Kind.NORM, prof);
  }

  private static void gatedRmsnormRows(
      float[] y,
      int yOff,
      float[] v,
      int vOff,
      int vStride,
      float[] z,
      int zOff,
      int zStride,
      float[] w,
      int D,
      float eps,
      int m0,
      int m1) {
    for (int m = m0; m < m1; m++) {
      int yo = yOff + m * D, vo = vOff + m * vStride, zo = zOff + m * zStride;
      gateSilu(y, yo, v, vo, z, zo, D);
      float rstd = rstd(y, yo, D, eps);
      scaleByWeight(y, yo, y, yo, w, rstd, D);
    }
  }

  /**
   * SwiGLU gate: out[M×Hd] = h[:, :Hd] * silu(h[:, Hd:]) for h of shape [M × 2Hd] (fc1's [y |
   * gate]).
   */
  public static void swiglu(float[] out, int outOff, float[] h, int hOff, int M, int Hd) {
    long prof = Profile.begin(Kind.SWIGLU);
    // ~2K silu per part (a decode step's 8 rows split in 2): rows are independent
    int grain = Math.max(1, 2048 / Math.max(1, Hd));
    if (Parallel.serial(M, grain)) swigluRows(out, outOff, h, hOff, Hd, 0, M);
    else Parallel.forRange(M, grain, (m0, m1) -> swigluRows(out, outOff, h, hOff, Hd, m0, m1));
    Profile.end(Kind.SWIGLU, prof);
  }

  private static void swigluRows(
      float[] out, int outOff, float[] h, int hOff, int Hd, int m0, int m1) {
    for (int m = m0; m < m1; m++) {
      int ho = hOff + m * 2 * Hd, oo = outOff + m * Hd;
      gateSilu(out, oo, h, ho, h, ho + Hd, Hd);
    }
  }

  /** a[n] += b[n]. */
  public static void addInPlace(float[] a, int aOff, float[] b, int bOff, int n) {
    long prof = Profile.begin(Kind.ADD);
    // parts of whole vectors, at least 16K elements each (a decode step's rows stay on one thread)
    int vectors = (n + L - 1) / L, grain = 16384 / L;
    if (Parallel.serial(vectors, grain)) {
      addRange(a, aOff, b, bOff, 0, n);
    } else {
      Parallel.forRange(
          vectors, grain, (v0, v1) -> addRange(a, aOff, b, bOff, v0 * L, Math.min(n, v1 * L)));
    }
    Profile.end(Kind.ADD, prof);
  }

  /** a[i] += b[i] for i in [i0, i1). */
  private static void addRange(float[] a, int aOff, float[] b, int bOff, int i0, int i1) {
    int i = i0;
    for (int e = i0 + S.loopBound(i1 - i0); i < e; i += L) {
      FloatVector.fromArray(S, a, aOff + i)
          .add(FloatVector.fromArray(S, b, bOff + i))
          .intoArray(a, aOff + i);
    }
    for (; i < i1; i++) a[aOff + i] += b[bOff + i];
  }

  /**
   * out[n] = v[n] · silu(z[n]): vector lanes and the scalar tail compute the same bits. silu goes
   * through out (arrays in and out: see {@link FastExp#exp(float[], int)}); v is read first, so out
   * may be v or z.
   */
  static void gateSilu(float[] out, int oo, float[] v, int vo, float[] z, int zo, int n) {
    int i = 0;
    for (int b = S.loopBound(n); i < b; i += L) {
      FloatVector vi = FloatVector.fromArray(S, v, vo + i);
      FloatVector.fromArray(S, z, zo + i).intoArray(out, oo + i);
      FastExp.silu(out, oo + i);
      vi.mul(FloatVector.fromArray(S, out, oo + i)).intoArray(out, oo + i);
    }
    for (; i < n; i++) out[oo + i] = v[vo + i] * FastExp.silu(z[zo + i]);
  }

  /** softplus with torch's threshold: the identity above 20. */
  public static float softplus(float x) {
    return x > 20f ? x : (float) Math.log1p(Math.exp(x));
  }

  static float rstd(float[] x, int off, int D, float eps) {
    FloatVector acc = FloatVector.zero(S);
    int i = 0;
    for (; i < S.loopBound(D); i += L) {
      FloatVector v = FloatVector.fromArray(S, x, off + i);
      acc = v.fma(v, acc);
    }
    // lanes summed in a fixed order: reduceLanes(ADD) may associate differently once the JIT
    // compiles it, which would make results depend on warm-up
    float ss = 0f;
    for (int l = 0; l < L; l++) ss += acc.lane(l);
    for (; i < D; i++) ss += x[off + i] * x[off + i];
    return (float) (1.0 / Math.sqrt(ss / D + eps));
  }

  private static void scaleByWeight(
      float[] y, int yo, float[] x, int xo, float[] w, float s, int D) {
    int i = 0;
    for (; i < S.loopBound(D); i += L) {
      FloatVector.fromArray(S, x, xo + i)
          .mul(s)
          .mul(FloatVector.fromArray(S, w, i))
          .intoArray(y, yo + i);
    }
    for (; i < D; i++) y[yo + i] = x[xo + i] * s * w[i];
  }
}
