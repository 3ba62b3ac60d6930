package org.hnet.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * e^x in float for the elementwise activations (SiLU and σ in SwiGLU, the gated RMSNorm and the
 * conv), as a vector kernel and a scalar twin that perform the same operations, so an element's
 * value never depends on whether it fell in a vector or in the tail.
 *
 * <p>Why not the Vector API's EXP: under C2 it calls SVML, in the interpreter and C1 it calls
 * Math.exp per lane, and the two differ in the last bit, so results would depend on JIT warm-up.
 * Why not the scalar (float) Math.exp(double): it cost ~10 ns per element and these activations
 * take ~60 million exponentials per training step of the small benchmark model (~10% of it).
 *
 * <p>Method (Cephes expf): n = round(x·log2 e) with the 1.5·2²³ trick (exact, no conversion), r = x
 * − n·ln 2 in two fma steps (Cody–Waite split of ln 2), e^r by a degree-6 polynomial on |r| ≤
 * ln2/2, times 2ⁿ built from exponent bits. Relative error ≤ 2 ulp over the clamped range (tested
 * against Math.exp). Inputs above 88 give +∞ and below −87 give 0, so 1 + e^{−v} never turns into
 * NaN; NaN stays NaN.
 */
public final class FastExp {
  private static final VectorSpecies<Float> S = VectorWidth.FLOAT;

  static final float HI = 88f;
  static final float LO = -87f;
  private static final float LOG2E = 1.44269504088896341f;
  private static final float ROUND =
      12582912f; // 1.5·2²³: adding it rounds to an integer in the low mantissa bits
  private static final float LN2_HI = 0.693359375f;
  private static final float LN2_LO = -2.12194440e-4f;
  private static final float P0 = 1.9875691500e-4f;
  private static final float P1 = 1.3981999507e-3f;
  private static final float P2 = 8.3334519073e-3f;
  private static final float P3 = 4.1665795894e-2f;
  private static final float P4 = 1.6666665459e-1f;
  private static final float P5 = 5.0000001201e-1f;

  private FastExp() {}

  /** e^x, the scalar twin of {@link #exp(float[], int)}. */
  public static float exp(float x) {
    float xc = Math.min(Math.max(x, LO), HI);
    float t = Math.fma(xc, LOG2E, ROUND);
    int n = Float.floatToRawIntBits(t) - Float.floatToRawIntBits(ROUND);
    float nf = t - ROUND;
    float r = Math.fma(-nf, LN2_HI, xc);
    r = Math.fma(-nf, LN2_LO, r);
    float p = Math.fma(P0, r, P1);
    p = Math.fma(p, r, P2);
    p = Math.fma(p, r, P3);
    p = Math.fma(p, r, P4);
    p = Math.fma(p, r, P5);
    float y = Math.fma(p * r, r, r) + 1f;
    y = y * Float.intBitsToFloat((n + 127) << 23);
    if (x > HI) return Float.POSITIVE_INFINITY;
    if (x < LO) return 0f;
    return x != x ? x : y;
  }

  /**
   * In place: a[o, o+L) ← e^a lane by lane, exactly {@link #exp(float)} per lane (L the vector
   * length). Arrays in and out, never a vector: a vector handed to or returned from a call that C2
   * does not inline is boxed (an allocation per call), and whether C2 inlines a call depends on the
   * profile it finds; on 512-bit vectors, where this body compiles to more code, it often did not.
   * A call that stays out of line here costs a call and an L1 round trip, no allocation.
   */
  public static void exp(float[] a, int o) {
    FloatVector x = FloatVector.fromArray(S, a, o);
    // the clamp by compare and blend: the same values as max/min (NaN passes through either way),
    // which C2 compiles with extra blends to honour Java's NaN and signed-zero rules
    VectorMask<Float> above = x.compare(VectorOperators.GT, HI),
        below = x.compare(VectorOperators.LT, LO);
    FloatVector xc = x.blend(LO, below).blend(HI, above);
    FloatVector t = xc.fma(LOG2E, ROUND);
    IntVector n = t.reinterpretAsInts().sub(Float.floatToRawIntBits(ROUND));
    FloatVector nf = t.sub(ROUND);
    FloatVector r = nf.neg().fma(FloatVector.broadcast(S, LN2_HI), xc);
    r = nf.neg().fma(FloatVector.broadcast(S, LN2_LO), r);
    FloatVector p = FloatVector.broadcast(S, P0).fma(r, FloatVector.broadcast(S, P1));
    p = p.fma(r, FloatVector.broadcast(S, P2));
    p = p.fma(r, FloatVector.broadcast(S, P3));
    p = p.fma(r, FloatVector.broadcast(S, P4));
    p = p.fma(r, FloatVector.broadcast(S, P5));
    FloatVector y = p.mul(r).fma(r, r).add(1f);
    y = y.mul(n.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
    y = y.blend(Float.POSITIVE_INFINITY, above);
    y = y.blend(0f, below);
    y.blend(x, x.compare(VectorOperators.NE, x)).intoArray(a, o);
  }

  /** silu(v) = v / (1 + e^−v); −∞ side: v / ∞ = ∓0, never NaN. */
  public static float silu(float v) {
    return v / (1f + exp(-v));
  }

  /** In place: a[o, o+L) ← silu(a), exactly {@link #silu(float)} per lane. */
  public static void silu(float[] a, int o) {
    FloatVector v = FloatVector.fromArray(S, a, o);
    v.neg().intoArray(a, o);
    exp(a, o);
    v.div(FloatVector.fromArray(S, a, o).add(1f)).intoArray(a, o);
  }

  /** σ(v) = 1 / (1 + e^−v). */
  public static float sigmoid(float v) {
    return 1f / (1f + exp(-v));
  }

  /** In place: a[o, o+L) ← σ(a), exactly {@link #sigmoid(float)} per lane. */
  public static void sigmoid(float[] a, int o) {
    FloatVector.fromArray(S, a, o).neg().intoArray(a, o);
    exp(a, o);
    FloatVector.broadcast(S, 1f).div(FloatVector.fromArray(S, a, o).add(1f)).intoArray(a, o);
  }
}
