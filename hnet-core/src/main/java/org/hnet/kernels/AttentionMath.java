package org.hnet.kernels;

import static org.hnet.kernels.Attention.L;
import static org.hnet.kernels.Attention.SPECIES;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * exp, lane sums and the small vector helpers (dot, softmax, axpy) of the attention kernels, built
 * only from IEEE-exact lane operations (add, mul, fma, compare, blend, integer shifts) so that the
 * interpreter, C1 and C2 all give the same bits. {@code lanewise(EXP)} (an SVML call when compiled,
 * a per-lane Math.exp otherwise) and {@code reduceLanes(ADD)} (unspecified order) would make
 * results depend on JIT state, and through it on the thread count.
 *
 * <p>exp(x) for x ≤ 0 (softmax arguments are s − max): n = round(x / ln 2), r = x − n·ln 2 with a
 * two-part ln 2 and fma (Cody–Waite), |r| ≤ ln2/2; e^r by its degree-7 Taylor polynomial (the
 * truncation error r^8/8! < 6e-9 is below half an ulp); times 2^n from the exponent bits. Arguments
 * below −87.3 (2^n subnormal) give 0, which also covers the −∞ of masked scores. Measured against
 * Math.exp: within 2 ulp (see AttentionTest).
 */
final class AttentionMath {
  private static final float LOG2E = 1.44269504088896341f;
  private static final float LN2_HI = (float) Math.log(2.0);
  private static final float LN2_LO = (float) (Math.log(2.0) - LN2_HI);

  /** 1.5·2^23: adding and subtracting it rounds a float of magnitude < 2^22 to an integer. */
  private static final float ROUND = 12582912f;

  /** Below this, 2^n would be subnormal: the result is flushed to 0. */
  static final float MIN_ARG = -87.3f;

  private static final float C2 = 1f / 2, C3 = 1f / 6, C4 = 1f / 24, C5 = 1f / 120;
  private static final float C6 = 1f / 720, C7 = 1f / 5040;

  private static final FloatVector V_LN2_HI = FloatVector.broadcast(SPECIES, LN2_HI);
  private static final FloatVector V_LN2_LO = FloatVector.broadcast(SPECIES, LN2_LO);
  private static final FloatVector V_ONE = FloatVector.broadcast(SPECIES, 1f);
  private static final FloatVector V_C2 = FloatVector.broadcast(SPECIES, C2);
  private static final FloatVector V_C3 = FloatVector.broadcast(SPECIES, C3);
  private static final FloatVector V_C4 = FloatVector.broadcast(SPECIES, C4);
  private static final FloatVector V_C5 = FloatVector.broadcast(SPECIES, C5);

  private AttentionMath() {}

  /**
   * exp(x) lane-wise for x ≤ 0 (or NaN, passed through), through {@link #exp(float[], int, float)}.
   * For tests: it allocates its scratch; the kernels use the array form.
   */
  static FloatVector exp(FloatVector x) {
    float[] t = new float[L];
    x.intoArray(t, 0);
    exp(t, 0, 0f); // x − 0 is x for every x but NaN
    return FloatVector.fromArray(SPECIES, t, 0);
  }

  /**
   * In place: a[o, o+L) ← exp(a[o, o+L) − sub) lane-wise, for arguments ≤ 0. Array in, array out: a
   * vector handed to (or returned from) a call that C2 does not inline is boxed, an allocation per
   * call, and whether it inlines depends on the profile; the kernels' hot loops must not.
   */
  static void exp(float[] a, int o, float sub) {
    FloatVector x = FloatVector.fromArray(SPECIES, a, o).sub(sub);
    VectorMask<Float> tiny = x.compare(VectorOperators.LT, MIN_ARG);
    FloatVector xc = x.max(MIN_ARG);
    FloatVector n = xc.mul(LOG2E).add(ROUND).sub(ROUND);
    FloatVector r = n.neg().fma(V_LN2_HI, xc);
    r = n.neg().fma(V_LN2_LO, r);
    FloatVector p = r.fma(C7, C6);
    p = p.fma(r, V_C5);
    p = p.fma(r, V_C4);
    p = p.fma(r, V_C3);
    p = p.fma(r, V_C2);
    p = p.fma(r, V_ONE);
    p = p.fma(r, V_ONE);
    FloatVector scale =
        n.convert(VectorOperators.F2I, 0)
            .reinterpretAsInts()
            .add(127)
            .lanewise(VectorOperators.LSHL, 23)
            .reinterpretAsFloats();
    p.mul(scale).blend(0f, tiny).intoArray(a, o);
  }

  /** Scalar twin of {@link #exp(FloatVector)}, bit for bit. */
  static float exp(float x) {
    if (x < MIN_ARG) return 0f;
    if (Float.isNaN(x)) return x;
    float n = x * LOG2E + ROUND - ROUND;
    float r = Math.fma(-n, LN2_HI, x);
    r = Math.fma(-n, LN2_LO, r);
    float p = Math.fma(r, C7, C6);
    p = Math.fma(p, r, C5);
    p = Math.fma(p, r, C4);
    p = Math.fma(p, r, C3);
    p = Math.fma(p, r, C2);
    p = Math.fma(p, r, 1f);
    p = Math.fma(p, r, 1f);
    return p * Float.intBitsToFloat(((int) n + 127) << 23);
  }

  /**
   * Sum of the lanes of a vector stored in tmp[0, L), in lane order: a fixed order, unlike
   * reduceLanes. (Callers store the vector themselves: see {@link #exp(float[], int, float)}.)
   */
  static float sum(float[] tmp) {
    float s = tmp[0];
    for (int i = 1; i < L; i++) s += tmp[i];
    return s;
  }

  /** Σ_c a[ao + c]·b[bo + c], c < P: lane-wise fma, fixed-order lane sum, scalar fma tail. */
  static float dot(float[] a, int ao, float[] b, int bo, int P, float[] tmp) {
    int pv = SPECIES.loopBound(P), c = 0;
    FloatVector x = FloatVector.zero(SPECIES);
    for (; c < pv; c += L) {
      x =
          FloatVector.fromArray(SPECIES, a, ao + c)
              .fma(FloatVector.fromArray(SPECIES, b, bo + c), x);
    }
    x.intoArray(tmp, 0);
    float y = sum(tmp);
    for (; c < P; c++) y = Math.fma(a[ao + c], b[bo + c], y);
    return y;
  }

  /** In place: w[off, off+n) ← softmax (max-subtracted, normalised). */
  static void softmax(float[] w, int off, int n, float[] lanes) {
    float mx = Float.NEGATIVE_INFINITY;
    for (int j = 0; j < n; j++) mx = Math.max(mx, w[off + j]);
    int nv = SPECIES.loopBound(n), j = 0;
    FloatVector sum = FloatVector.zero(SPECIES);
    for (; j < nv; j += L) {
      exp(w, off + j, mx);
      sum =
          FloatVector.fromArray(SPECIES, w, off + j)
              .add(sum); // fresh receiver: see Attention.softmaxRow
    }
    sum.intoArray(lanes, 0);
    float total = sum(lanes);
    for (; j < n; j++) {
      w[off + j] = AttentionMath.exp(w[off + j] - mx);
      total += w[off + j];
    }
    for (j = 0; j < nv; j += L)
      FloatVector.fromArray(SPECIES, w, off + j).div(total).intoArray(w, off + j);
    for (; j < n; j++) w[off + j] /= total;
  }
}
