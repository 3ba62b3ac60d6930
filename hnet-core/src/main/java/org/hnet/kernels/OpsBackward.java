package org.hnet.kernels;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.hnet.kernels.Profile.Kind;
import org.hnet.tensor.Arena;
import org.hnet.tensor.Rows;

/**
 * Backwards of {@link Ops}' row-wise kernels: RMSNorm, gated RMSNorm, SwiGLU.
 *
 * <p>Legend: M rows (tokens), D row width, Hd SwiGLU hidden width. Row operands are {@link Rows}
 * views (a column slice of a wider row, e.g. z out of Mamba-2's in_proj output, is a view with the
 * wide row's stride); M and D are the output view's rows and columns.
 */
public final class OpsBackward {
  private static final VectorSpecies<Float> S = VectorWidth.FLOAT;
  private static final int L = S.length();

  private OpsBackward() {}

  /**
   * Backward of {@link Ops#rmsnorm}: dx [M×D] (+)= ∂L/∂x and dw [D] += ∂L/∂w (dw nullable: not
   * wanted), given dy. With r = (mean(x²) + eps)^−½: dx_i = r·w_i·dy_i − x_i·r³/D·Σ_j dy_j w_j x_j.
   * {@code plus} (nullable; dx's layout) is added to every element of dx as it is written: a
   * pre-norm block's residual gradient, dx = ∂L/∂x + g, without a separate pass over the rows (the
   * sum rounds exactly as a later {@link Ops#addInPlace} would). rstd: caller-owned scratch of at
   * least M floats. The dw sum over rows runs in row order for every column (columns split over
   * threads), so it is deterministic.
   */
  public static void rmsnormBackward(
      Rows dx,
      boolean accumulate,
      float[] plus,
      float[] dw,
      Rows dy,
      Rows x,
      float[] w,
      float eps,
      float[] rstd) {
    long prof = Profile.begin(Kind.NORM_BACKWARD);
    int M = dx.rows(), D = dx.cols();
    dy.require("dy", M, D);
    x.require("x", M, D);
    // (serial: the body directly, no lambda; see Parallel.serial)
    if (Parallel.serial(M, 32)) {
      rmsnormBackwardRows(dx, accumulate, plus, dy, x, w, eps, rstd, 0, M);
    } else {
      Parallel.forRange(
          M,
          32,
          (m0, m1) -> rmsnormBackwardRows(dx, accumulate, plus, dy, x, w, eps, rstd, m0, m1));
    }
    if (dw != null) {
      float[] g = dy.a(), xa = x.a();
      int go = dy.off(), gs = dy.stride(), xo = x.off(), xs = x.stride();
      if (Parallel.serial(D, 16)) rmsnormWeightGrad(dw, g, go, gs, xa, xo, xs, M, rstd, 0, D);
      else
        Parallel.forRange(
            D, 16, (i0, i1) -> rmsnormWeightGrad(dw, g, go, gs, xa, xo, xs, M, rstd, i0, i1));
    }
    Profile.end(Kind.NORM_BACKWARD, prof);
  }

  /** Rows [m0, m1). */
  private static void rmsnormBackwardRows(
      Rows dx,
      boolean accumulate,
      float[] plus,
      Rows dy,
      Rows x,
      float[] w,
      float eps,
      float[] rstd,
      int m0,
      int m1) {
    float[] dxa = dx.a(), dya = dy.a(), xa = x.a();
    int D = dx.cols();
    for (int m = m0; m < m1; m++) {
      int xo = x.at(m), go = dy.at(m);
      rmsnormBackwardRow(
          dxa,
          dx.at(m),
          accumulate,
          plus,
          dya,
          go,
          xa,
          xo,
          w,
          D,
          eps,
          rstd,
          m,
          dotDyWX(dya, go, w, xa, xo, D));
    }
  }

  /**
   * Σ_i dy_i·w_i·x_i in double: each vector of floats widened into two double vectors (the products
   * exact as in scalar code) feeding two lane accumulators, whose lanes are then added in a fixed
   * order, so the result depends on the row alone. A method of its own that returns a scalar: no
   * vector crosses a call C2 might leave out of line (it then boxes them). The floats stay in the
   * preferred species: a second float shape (128-bit, to widen directly) made other kernels
   * allocate vectors in ModelAllocationTest (~2 MB per step).
   */
  private static double dotDyWX(float[] dy, int go, float[] w, float[] x, int xo, int D) {
    int i = 0, b = S.loopBound(D);
    DoubleVector a0 = DoubleVector.zero(DS), a1 = a0;
    for (; i < b; i += L) {
      FloatVector g = FloatVector.fromArray(S, dy, go + i), wv = FloatVector.fromArray(S, w, i);
      FloatVector xv = FloatVector.fromArray(S, x, xo + i);
      a0 =
          ((DoubleVector) g.convert(VectorOperators.F2D, 0))
              .mul((DoubleVector) wv.convert(VectorOperators.F2D, 0))
              .mul((DoubleVector) xv.convert(VectorOperators.F2D, 0))
              .add(a0);
      a1 =
          ((DoubleVector) g.convert(VectorOperators.F2D, 1))
              .mul((DoubleVector) wv.convert(VectorOperators.F2D, 1))
              .mul((DoubleVector) xv.convert(VectorOperators.F2D, 1))
              .add(a1);
    }
    double sum = 0; // lanes in a fixed order (reduceLanes may associate differently once compiled)
    for (int l = 0; l < DS.length(); l++) sum += a0.lane(l);
    for (int l = 0; l < DS.length(); l++) sum += a1.lane(l);
    for (; i < D; i++) sum += (double) dy[go + i] * w[i] * x[xo + i];
    return sum;
  }

  /** Double vectors of the preferred float vector's shape (a float vector widens into two). */
  private static final VectorSpecies<Double> DS =
      DoubleVector.SPECIES_PREFERRED.withShape(S.vectorShape()).check(double.class);

  /** Row m given its Σ dy·w·x: rstd[m], then dx_i = r·w_i·dy_i − x_i·c (+ dx_i, + plus_i). */
  private static void rmsnormBackwardRow(
      float[] dx,
      int dxo,
      boolean accumulate,
      float[] plus,
      float[] dy,
      int go,
      float[] x,
      int xo,
      float[] w,
      int D,
      float eps,
      float[] rstd,
      int m,
      double dot) {
    float r = Ops.rstd(x, xo, D, eps);
    rstd[m] = r;
    float c = (float) (dot * r * r * r / D);
    int i = 0;
    for (int b = S.loopBound(D); i < b; i += L) {
      FloatVector g =
          FloatVector.fromArray(S, w, i)
              .mul(r)
              .mul(FloatVector.fromArray(S, dy, go + i))
              .sub(FloatVector.fromArray(S, x, xo + i).mul(c));
      if (accumulate) g = FloatVector.fromArray(S, dx, dxo + i).add(g);
      if (plus != null) g = g.add(FloatVector.fromArray(S, plus, dxo + i));
      g.intoArray(dx, dxo + i);
    }
    for (; i < D; i++) {
      float g = r * w[i] * dy[go + i] - x[xo + i] * c;
      if (accumulate) g = dx[dxo + i] + g;
      if (plus != null) g += plus[dxo + i];
      dx[dxo + i] = g;
    }
  }

  /**
   * dw[i] += Σ_m dy[m,i]·x[m,i]·rstd[m] for columns [i0, i1), each a double sum in row order.
   * Row-outer with one double accumulator per column: the rows' column ranges are read contiguously
   * (column-outer walked M cache lines per column). Same sums in the same order. (Double vectors
   * for the columns measured no faster: the loop streams dy and x from memory.)
   */
  private static void rmsnormWeightGrad(
      float[] dw,
      float[] dy,
      int dyOff,
      int dyStride,
      float[] x,
      int xOff,
      int xStride,
      int M,
      float[] rstd,
      int i0,
      int i1) {
    int n = i1 - i0;
    Arena scratch = Arena.local();
    int mark = scratch.mark();
    try {
      double[] acc = scratch.doubles(n);
      java.util.Arrays.fill(acc, 0, n, 0.0);
      for (int m = 0; m < M; m++) {
        int go = dyOff + m * dyStride + i0, xo = xOff + m * xStride + i0;
        float r = rstd[m];
        for (int i = 0; i < n; i++) acc[i] += (double) dy[go + i] * x[xo + i] * r;
      }
      for (int i = 0; i < n; i++) dw[i0 + i] += (float) acc[i];
    } finally {
      scratch.release(mark);
    }
  }

  /**
   * Backward of {@link Ops#gatedRmsnorm} (y = rmsnorm(v · silu(z)) · w): given dy [M×D] (dense),
   * writes dv and dz [M×D] and adds to dw [D]. Every temporary is caller-owned: {@code scratch} of
   * at least M×D floats (receives g = v·silu(z), which the weight gradient sums over rows), {@code
   * rstd} of at least M.
   *
   * <p>Row by row, each row in one pass while it is in L1: g, the norm's backward into a row
   * buffer, the gate's backward into dv and dz (three passes over [M × D] arrays before, with dg
   * written out and read back: the kernel is memory-bound). The same operations per element as
   * those passes, so the same results.
   */
  public static void gatedRmsnormBackward(
      Rows dv,
      Rows dz,
      float[] dw,
      float[] dy,
      Rows v,
      Rows z,
      float[] w,
      float eps,
      float[] scratch,
      float[] rstd) {
    long prof = Profile.begin(Kind.NORM_BACKWARD);
    int M = dv.rows(), D = dv.cols();
    dz.require("dz", M, D);
    v.require("v", M, D);
    z.require("z", M, D);
    if (Parallel.serial(M, 32)) {
      gatedBackwardRows(dv, dz, dy, v, z, w, eps, scratch, rstd, 0, M);
    } else {
      Parallel.forRange(
          M, 32, (m0, m1) -> gatedBackwardRows(dv, dz, dy, v, z, w, eps, scratch, rstd, m0, m1));
    }
    if (dw != null) {
      if (Parallel.serial(D, 16)) rmsnormWeightGrad(dw, dy, 0, D, scratch, 0, D, M, rstd, 0, D);
      else
        Parallel.forRange(
            D, 16, (i0, i1) -> rmsnormWeightGrad(dw, dy, 0, D, scratch, 0, D, M, rstd, i0, i1));
    }
    Profile.end(Kind.NORM_BACKWARD, prof);
  }

  /**
   * Rows [m0, m1) of {@link #gatedRmsnormBackward}; a row's dg lives in this thread's row buffer.
   */
  private static void gatedBackwardRows(
      Rows dvv,
      Rows dzv,
      float[] dy,
      Rows vv,
      Rows zv,
      float[] w,
      float eps,
      float[] g,
      float[] rstd,
      int m0,
      int m1) {
    float[] dv = dvv.a(), dz = dzv.a(), v = vv.a(), z = zv.a();
    int D = dvv.cols();
    Arena scratch = Arena.local();
    int mark = scratch.mark();
    try {
      float[] dg = scratch.floats(D); // one row's gradient
      for (int m = m0; m < m1; m++) {
        int go = m * D, vo = vv.at(m), zo = zv.at(m);
        Ops.gateSilu(g, go, v, vo, z, zo, D);
        rmsnormBackwardRow(
            dg, 0, false, null, dy, go, g, go, w, D, eps, rstd, m, dotDyWX(dy, go, w, g, go, D));
        gateSiluBackward(dv, dvv.at(m), dz, dzv.at(m), dg, 0, v, vo, z, zo, D);
      }
    } finally {
      scratch.release(mark);
    }
  }

  /** Backward of {@link Ops#swiglu}: dh [M × 2Hd] = (∂L/∂y | ∂L/∂gate) given dout [M×Hd]. */
  public static void swigluBackward(
      float[] dh, int dhOff, float[] dout, int doutOff, float[] h, int hOff, int M, int Hd) {
    long prof = Profile.begin(Kind.SWIGLU_BACKWARD);
    if (Parallel.serial(M, 32)) swigluBackwardRows(dh, dhOff, dout, doutOff, h, hOff, Hd, 0, M);
    else
      Parallel.forRange(
          M, 32, (m0, m1) -> swigluBackwardRows(dh, dhOff, dout, doutOff, h, hOff, Hd, m0, m1));
    Profile.end(Kind.SWIGLU_BACKWARD, prof);
  }

  private static void swigluBackwardRows(
      float[] dh,
      int dhOff,
      float[] dout,
      int doutOff,
      float[] h,
      int hOff,
      int Hd,
      int m0,
      int m1) {
    for (int m = m0; m < m1; m++) {
      int ho = hOff + m * 2 * Hd, dho = dhOff + m * 2 * Hd, oo = doutOff + m * Hd;
      gateSiluBackward(dh, dho, dh, dho + Hd, dout, oo, h, ho, h, ho + Hd, Hd);
    }
  }

  /**
   * Backward of out = v · silu(z) given g = ∂L/∂out: dv = g·z·σ(z), dz = g·v·σ(z)·(1 + z(1 −
   * σ(z))). dv and dz may be the same array at disjoint ranges. σ goes through dv (arrays in and
   * out: see {@link FastExp#exp(float[], int)}) after every input of the position is read.
   */
  private static void gateSiluBackward(
      float[] dv,
      int dvo,
      float[] dz,
      int dzo,
      float[] g,
      int go,
      float[] v,
      int vo,
      float[] z,
      int zo,
      int n) {
    int i = 0;
    for (int b = S.loopBound(n); i < b; i += L) {
      FloatVector zi = FloatVector.fromArray(S, z, zo + i),
          vi = FloatVector.fromArray(S, v, vo + i);
      FloatVector gi = FloatVector.fromArray(S, g, go + i);
      zi.intoArray(dv, dvo + i);
      FastExp.sigmoid(dv, dvo + i);
      FloatVector sig = FloatVector.fromArray(S, dv, dvo + i);
      gi.mul(zi).mul(sig).intoArray(dv, dvo + i);
      gi.mul(vi).mul(sig).mul(zi.mul(sig.neg().add(1f)).add(1f)).intoArray(dz, dzo + i);
    }
    for (; i < n; i++) {
      float zi = z[zo + i], vi = v[vo + i], gi = g[go + i], sig = FastExp.sigmoid(zi);
      dv[dvo + i] = gi * zi * sig;
      dz[dzo + i] = gi * vi * sig * (1f + zi * (1f - sig));
    }
  }
}
