package org.hnet.kernels;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.hnet.kernels.Profile.Kind;

/**
 * Row-wise and element-wise kernels: RMSNorm, gated RMSNorm, SiLU, SwiGLU, residual adds.
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

  /**
   * Backward of {@link #rmsnorm}: dx[M×D] (+)= ∂L/∂x and dw[D] += ∂L/∂w, given dy. With r =
   * (mean(x²) + eps)^−½: dx_i = r·w_i·dy_i − x_i·r³/D·Σ_j dy_j w_j x_j. The dw sum over rows runs
   * in row order for every column (columns split over threads), so it is deterministic.
   */
  public static void rmsnormBackward(
      float[] dx,
      int dxOff,
      int dxStride,
      boolean accumulate,
      float[] dw,
      float[] dy,
      int dyOff,
      int dyStride,
      float[] x,
      int xOff,
      int xStride,
      float[] w,
      int M,
      int D,
      float eps) {
    rmsnormBackward(
        dx,
        dxOff,
        dxStride,
        accumulate,
        dw,
        dy,
        dyOff,
        dyStride,
        x,
        xOff,
        xStride,
        w,
        M,
        D,
        eps,
        new float[M]);
  }

  /** {@link #rmsnormBackward} with a caller-owned scratch {@code rstd} of at least M floats. */
  public static void rmsnormBackward(
      float[] dx,
      int dxOff,
      int dxStride,
      boolean accumulate,
      float[] dw,
      float[] dy,
      int dyOff,
      int dyStride,
      float[] x,
      int xOff,
      int xStride,
      float[] w,
      int M,
      int D,
      float eps,
      float[] rstd) {
    rmsnormBackward(
        dx,
        dxOff,
        dxStride,
        accumulate,
        null,
        dw,
        dy,
        dyOff,
        dyStride,
        x,
        xOff,
        xStride,
        w,
        M,
        D,
        eps,
        rstd);
  }

  /**
   * {@link #rmsnormBackward} that also adds {@code plus} (nullable; dx's layout) to every element
   * of dx as it is written: a pre-norm block's residual gradient, dx = ∂L/∂x + g, without a
   * separate pass over the rows. The sum rounds exactly as a later {@link #addInPlace} would.
   */
  public static void rmsnormBackward(
      float[] dx,
      int dxOff,
      int dxStride,
      boolean accumulate,
      float[] plus,
      float[] dw,
      float[] dy,
      int dyOff,
      int dyStride,
      float[] x,
      int xOff,
      int xStride,
      float[] w,
      int M,
      int D,
      float eps,
      float[] rstd) {
    long prof = Profile.begin(Kind.NORM_BACKWARD);
    // (serial: the body directly, no lambda; see Parallel.serial)
    if (Parallel.serial(M, 32)) {
      rmsnormBackwardRows(
          dx,
          dxOff,
          dxStride,
          accumulate,
          plus,
          dy,
          dyOff,
          dyStride,
          x,
          xOff,
          xStride,
          w,
          D,
          eps,
          rstd,
          0,
          M);
    } else {
      Parallel.forRange(
          M,
          32,
          (m0, m1) ->
              rmsnormBackwardRows(
                  dx,
                  dxOff,
                  dxStride,
                  accumulate,
                  plus,
                  dy,
                  dyOff,
                  dyStride,
                  x,
                  xOff,
                  xStride,
                  w,
                  D,
                  eps,
                  rstd,
                  m0,
                  m1));
    }
    if (dw != null) {
      if (Parallel.serial(D, 16))
        rmsnormWeightGrad(dw, dy, dyOff, dyStride, x, xOff, xStride, M, rstd, 0, D);
      else
        Parallel.forRange(
            D,
            16,
            (i0, i1) ->
                rmsnormWeightGrad(dw, dy, dyOff, dyStride, x, xOff, xStride, M, rstd, i0, i1));
    }
    Profile.end(Kind.NORM_BACKWARD, prof);
  }

  /** Rows [m0, m1). */
  private static void rmsnormBackwardRows(
      float[] dx,
      int dxOff,
      int dxStride,
      boolean accumulate,
      float[] plus,
      float[] dy,
      int dyOff,
      int dyStride,
      float[] x,
      int xOff,
      int xStride,
      float[] w,
      int D,
      float eps,
      float[] rstd,
      int m0,
      int m1) {
    for (int m = m0; m < m1; m++) {
      int xo = xOff + m * xStride, go = dyOff + m * dyStride;
      rmsnormBackwardRow(
          dx,
          dxOff + m * dxStride,
          accumulate,
          plus,
          dy,
          go,
          x,
          xo,
          w,
          D,
          eps,
          rstd,
          m,
          dotDyWX(dy, go, w, x, xo, D));
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
    float r = rstd(x, xo, D, eps);
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
    double[][] holder = COLUMN_SUMS.get();
    if (holder[0].length < n) holder[0] = new double[n];
    double[] acc = holder[0];
    java.util.Arrays.fill(acc, 0, n, 0.0);
    for (int m = 0; m < M; m++) {
      int go = dyOff + m * dyStride + i0, xo = xOff + m * xStride + i0;
      float r = rstd[m];
      for (int i = 0; i < n; i++) acc[i] += (double) dy[go + i] * x[xo + i] * r;
    }
    for (int i = 0; i < n; i++) dw[i0 + i] += (float) acc[i];
  }

  /** Per-thread column accumulators of {@link #rmsnormWeightGrad} (grow-only). */
  private static final ThreadLocal<double[][]> COLUMN_SUMS =
      ThreadLocal.withInitial(() -> new double[1][0]);

  /**
   * Backward of {@link #gatedRmsnorm}: given dy [M×D], writes dv (at dv[dvOff + m*dvStride]) and dz
   * (at dz[dzOff + m*dzStride]) and adds to dw. {@code scratch} holds at least M×D floats.
   */
  public static void gatedRmsnormBackward(
      float[] dv,
      int dvOff,
      int dvStride,
      float[] dz,
      int dzOff,
      int dzStride,
      float[] dw,
      float[] dy,
      float[] v,
      int vOff,
      int vStride,
      float[] z,
      int zOff,
      int zStride,
      float[] w,
      int M,
      int D,
      float eps,
      float[] scratch) {
    gatedRmsnormBackward(
        dv,
        dvOff,
        dvStride,
        dz,
        dzOff,
        dzStride,
        dw,
        dy,
        v,
        vOff,
        vStride,
        z,
        zOff,
        zStride,
        w,
        M,
        D,
        eps,
        scratch,
        new float[M]);
  }

  /**
   * {@link #gatedRmsnormBackward} with every temporary caller-owned: {@code scratch} of at least
   * M×D floats (receives g = v·silu(z), which the weight gradient sums over rows), {@code rstd} of
   * at least M.
   *
   * <p>Row by row, each row in one pass while it is in L1: g, the norm's backward into a row
   * buffer, the gate's backward into dv and dz (three passes over [M × D] arrays before, with dg
   * written out and read back: the kernel is memory-bound). The same operations per element as
   * those passes, so the same results.
   */
  public static void gatedRmsnormBackward(
      float[] dv,
      int dvOff,
      int dvStride,
      float[] dz,
      int dzOff,
      int dzStride,
      float[] dw,
      float[] dy,
      float[] v,
      int vOff,
      int vStride,
      float[] z,
      int zOff,
      int zStride,
      float[] w,
      int M,
      int D,
      float eps,
      float[] scratch,
      float[] rstd) {
    long prof = Profile.begin(Kind.NORM_BACKWARD);
    if (Parallel.serial(M, 32)) {
      gatedBackwardRows(
          dv, dvOff, dvStride, dz, dzOff, dzStride, dy, v, vOff, vStride, z, zOff, zStride, w, D,
          eps, scratch, rstd, 0, M);
    } else {
      Parallel.forRange(
          M,
          32,
          (m0, m1) ->
              gatedBackwardRows(
                  dv, dvOff, dvStride, dz, dzOff, dzStride, dy, v, vOff, vStride, z, zOff, zStride,
                  w, D, eps, scratch, rstd, m0, m1));
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
      float[] dv,
      int dvOff,
      int dvStride,
      float[] dz,
      int dzOff,
      int dzStride,
      float[] dy,
      float[] v,
      int vOff,
      int vStride,
      float[] z,
      int zOff,
      int zStride,
      float[] w,
      int D,
      float eps,
      float[] g,
      float[] rstd,
      int m0,
      int m1) {
    float[][] holder = ROW.get();
    if (holder[0].length < D) holder[0] = new float[D];
    float[] dg = holder[0];
    for (int m = m0; m < m1; m++) {
      int go = m * D, vo = vOff + m * vStride, zo = zOff + m * zStride;
      gateSilu(g, go, v, vo, z, zo, D);
      rmsnormBackwardRow(
          dg, 0, false, null, dy, go, g, go, w, D, eps, rstd, m, dotDyWX(dy, go, w, g, go, D));
      gateSiluBackward(dv, dvOff + m * dvStride, dz, dzOff + m * dzStride, dg, 0, v, vo, z, zo, D);
    }
  }

  /** Per-thread row buffer of {@link #gatedBackwardRows} (grow-only). */
  private static final ThreadLocal<float[][]> ROW = ThreadLocal.withInitial(() -> new float[1][0]);

  /** Backward of {@link #swiglu}: dh [M × 2Hd] = (∂L/∂y | ∂L/∂gate) given dout [M×Hd]. */
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
  private static void gateSilu(float[] out, int oo, float[] v, int vo, float[] z, int zo, int n) {
    int i = 0;
    for (int b = S.loopBound(n); i < b; i += L) {
      FloatVector vi = FloatVector.fromArray(S, v, vo + i);
      FloatVector.fromArray(S, z, zo + i).intoArray(out, oo + i);
      FastExp.silu(out, oo + i);
      vi.mul(FloatVector.fromArray(S, out, oo + i)).intoArray(out, oo + i);
    }
    for (; i < n; i++) out[oo + i] = v[vo + i] * FastExp.silu(z[zo + i]);
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

  /** softplus with torch's threshold: the identity above 20. */
  public static float softplus(float x) {
    return x > 20f ? x : (float) Math.log1p(Math.exp(x));
  }

  private static float rstd(float[] x, int off, int D, float eps) {
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
