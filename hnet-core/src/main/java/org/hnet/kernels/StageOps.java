package org.hnet.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The element work of an H-Net stage around its main network (hnet/models/hnet.py): chunking and
 * its gradient, the residual sum and the straight-through estimator's gradient, and the padding of
 * a narrower outer width into the stage's width.
 *
 * <p>Legend: T positions of the stage (all packed sequences), d the stage's width, dIn the width of
 * the stage around it (dIn ≤ d), Tc the boundary positions. mask [T]: b_t, whether position t
 * starts a chunk. Rows are dense (row t of an [T × d] array at t·d).
 */
public final class StageOps {
  private static final VectorSpecies<Float> S = VectorWidth.FLOAT;
  private static final int L = S.length();

  private StageOps() {}

  /** Chunking: out [Tc × d] = the rows of h [T × d] at boundary positions, in order. */
  public static void gatherRows(float[] out, float[] h, boolean[] mask, int T, int d) {
    int j = 0;
    for (int t = 0; t < T; t++) {
      if (mask[t]) System.arraycopy(h, t * d, out, (j++) * d, d);
    }
  }

  /** Backward of {@link #gatherRows}: dh [T × d] += dChunks [Tc × d] at the boundary rows. */
  public static void scatterAddRows(float[] dh, float[] dChunks, boolean[] mask, int T, int d) {
    for (int t = 0, j = 0; t < T; t++) {
      if (mask[t]) {
        addInto(dh, t * d, dChunks, j * d, d);
        j++;
      }
    }
  }

  /**
   * out[i] = a[i] + b[i] for i < n (the residual sum y + W_res·h: the STE's forward value is 1).
   */
  public static void add(float[] out, float[] a, float[] b, int n) {
    int i = 0;
    for (int e = S.loopBound(n); i < e; i += L) {
      FloatVector.fromArray(S, a, i).add(FloatVector.fromArray(S, b, i)).intoArray(out, i);
    }
    for (; i < n; i++) out[i] = a[i] + b[i];
  }

  /**
   * The straight-through estimator of u = y · STE(c) + residual: STE is 1 in the forward and the
   * identity in the backward, so ∂L/∂c_t = Σ_c ∂L/∂u_tc · y_tc (a sum in double); with c = p at a
   * boundary and 1 − p elsewhere, dProb[t] += ±that.
   */
  public static void steBackward(
      float[] dProb, float[] dU, float[] y, boolean[] mask, int T, int d) {
    for (int t = 0; t < T; t++) {
      double s = 0;
      for (int c = 0; c < d; c++) s += (double) dU[t * d + c] * y[t * d + c];
      dProb[t] += mask[t] ? (float) s : (float) -s;
    }
  }

  /** out [T × d] = every row of x [T × dIn] followed by pad [d − dIn]. */
  public static void padRows(float[] out, float[] x, float[] pad, int T, int dIn, int d) {
    for (int t = 0; t < T; t++) {
      System.arraycopy(x, t * dIn, out, t * d, dIn);
      System.arraycopy(pad, 0, out, t * d + dIn, d - dIn);
    }
  }

  /**
   * Backward of {@link #padRows}: dx [T × dIn] = the first dIn channels of g [T × d], and dPad [d −
   * dIn] += the sum over rows of the others (in double, rows in order).
   */
  public static void padRowsBackward(float[] dx, float[] dPad, float[] g, int T, int dIn, int d) {
    for (int c = dIn; c < d; c++) {
      double s = 0;
      for (int t = 0; t < T; t++) s += g[t * d + c];
      dPad[c - dIn] += (float) s;
    }
    cutRows(dx, g, T, d, dIn);
  }

  /** out [T × dIn] = the first dIn channels of every row of x [T × d]. */
  public static void cutRows(float[] out, float[] x, int T, int d, int dIn) {
    for (int t = 0; t < T; t++) System.arraycopy(x, t * d, out, t * dIn, dIn);
  }

  /** Backward of {@link #cutRows}: out [T × d] = g [T × dIn] with zeros in the other channels. */
  public static void cutRowsBackward(float[] out, float[] g, int T, int dIn, int d) {
    for (int t = 0; t < T; t++) {
      System.arraycopy(g, t * dIn, out, t * d, dIn);
      java.util.Arrays.fill(out, t * d + dIn, t * d + d, 0f);
    }
  }

  /** a[ao + i] += b[bo + i] for i < n. */
  private static void addInto(float[] a, int ao, float[] b, int bo, int n) {
    int i = 0;
    for (int e = S.loopBound(n); i < e; i += L) {
      FloatVector.fromArray(S, a, ao + i)
          .add(FloatVector.fromArray(S, b, bo + i))
          .intoArray(a, ao + i);
    }
    for (; i < n; i++) a[ao + i] += b[bo + i];
  }
}
