package org.hnet.kernels;

// Dimension legend: see MatmulGemm. Here one register tile of C: MR rows × NR (= NV vectors)
// columns, over kc reduction steps of a packed A micro-panel (MR floats per step, at ap[ao]) and a
// packed B panel (NR floats per step, at bp[bo]).
//
// Every element is updated as c = fma(a[k], b[k], c) for k = 0, 1, ..., kc-1, starting from init
// (a bias row shared by all rows) or, when init is null, from the current C. The one-row kernels
// perform exactly the same operations per element as the full tiles, so results never depend on
// which kernel computed an element.
//
// Fully unrolled on purpose: the accumulators must be distinct locals for C2 to keep them in
// registers.

import static org.hnet.kernels.MatmulGemm.MR;
import static org.hnet.kernels.MatmulGemm.NR;
import static org.hnet.kernels.MatmulGemm.NV;
import static org.hnet.kernels.MatmulGemm.S;
import static org.hnet.kernels.MatmulGemm.VL;

import jdk.incubator.vector.FloatVector;

final class MatmulKernels {
  private MatmulKernels() {}

  /** Full MR × NR tile of C at c[co] (row stride ldc). */
  static void tile(
      float[] ap,
      int ao,
      float[] bp,
      int bo,
      int kc,
      float[] c,
      int co,
      int ldc,
      float[] init,
      int io) {
    if (MR == 6 && NV == 3) {
      tile6x3(ap, ao, bp, bo, kc, c, co, ldc, init, io);
    } else if (MR == 4 && NV == 2) {
      tile4x2(ap, ao, bp, bo, kc, c, co, ldc, init, io);
    } else if (MR == 6 && NV == 2) {
      tile6x2(ap, ao, bp, bo, kc, c, co, ldc, init, io);
    } else {
      for (int r = 0; r < MR; r++) row(ap, ao + r, bp, bo, kc, c, co + r * ldc, init, io);
    }
  }

  /** One row of a tile: A values at ap[ao + k*MR], the row of C at c[co]. */
  static void row(
      float[] ap, int ao, float[] bp, int bo, int kc, float[] c, int co, float[] init, int io) {
    if (NV == 3) {
      row1x3(ap, ao, bp, bo, kc, c, co, init, io);
    } else if (NV == 2) {
      row1x2(ap, ao, bp, bo, kc, c, co, init, io);
    } else {
      rowAny(ap, ao, bp, bo, kc, c, co, init, io);
    }
  }

  /** Any NV (slow: accumulators in memory); only for -Dhnet.matmul.nv experiments. */
  private static void rowAny(
      float[] ap, int ao, float[] bp, int bo, int kc, float[] c, int co, float[] init, int io) {
    for (int v = 0; v < NV; v++) {
      FloatVector acc =
          FloatVector.fromArray(S, init != null ? init : c, (init != null ? io : co) + v * VL);
      for (int k = 0; k < kc; k++) {
        acc =
            FloatVector.fromArray(S, bp, bo + k * NR + v * VL)
                .fma(FloatVector.broadcast(S, ap[ao + k * MR]), acc);
      }
      acc.intoArray(c, co + v * VL);
    }
  }

  private static void tile6x3(
      float[] ap,
      int ao,
      float[] bp,
      int bo,
      int kc,
      float[] c,
      int co,
      int ldc,
      float[] init,
      int io) {
    FloatVector c00, c01, c02;
    FloatVector c10, c11, c12;
    FloatVector c20, c21, c22;
    FloatVector c30, c31, c32;
    FloatVector c40, c41, c42;
    FloatVector c50, c51, c52;
    if (init != null) {
      FloatVector i0 = FloatVector.fromArray(S, init, io + 0 * VL);
      FloatVector i1 = FloatVector.fromArray(S, init, io + 1 * VL);
      FloatVector i2 = FloatVector.fromArray(S, init, io + 2 * VL);
      c00 = i0;
      c01 = i1;
      c02 = i2;
      c10 = i0;
      c11 = i1;
      c12 = i2;
      c20 = i0;
      c21 = i1;
      c22 = i2;
      c30 = i0;
      c31 = i1;
      c32 = i2;
      c40 = i0;
      c41 = i1;
      c42 = i2;
      c50 = i0;
      c51 = i1;
      c52 = i2;
    } else {
      c00 = FloatVector.fromArray(S, c, co + 0 * ldc + 0 * VL);
      c01 = FloatVector.fromArray(S, c, co + 0 * ldc + 1 * VL);
      c02 = FloatVector.fromArray(S, c, co + 0 * ldc + 2 * VL);
      c10 = FloatVector.fromArray(S, c, co + 1 * ldc + 0 * VL);
      c11 = FloatVector.fromArray(S, c, co + 1 * ldc + 1 * VL);
      c12 = FloatVector.fromArray(S, c, co + 1 * ldc + 2 * VL);
      c20 = FloatVector.fromArray(S, c, co + 2 * ldc + 0 * VL);
      c21 = FloatVector.fromArray(S, c, co + 2 * ldc + 1 * VL);
      c22 = FloatVector.fromArray(S, c, co + 2 * ldc + 2 * VL);
      c30 = FloatVector.fromArray(S, c, co + 3 * ldc + 0 * VL);
      c31 = FloatVector.fromArray(S, c, co + 3 * ldc + 1 * VL);
      c32 = FloatVector.fromArray(S, c, co + 3 * ldc + 2 * VL);
      c40 = FloatVector.fromArray(S, c, co + 4 * ldc + 0 * VL);
      c41 = FloatVector.fromArray(S, c, co + 4 * ldc + 1 * VL);
      c42 = FloatVector.fromArray(S, c, co + 4 * ldc + 2 * VL);
      c50 = FloatVector.fromArray(S, c, co + 5 * ldc + 0 * VL);
      c51 = FloatVector.fromArray(S, c, co + 5 * ldc + 1 * VL);
      c52 = FloatVector.fromArray(S, c, co + 5 * ldc + 2 * VL);
    }
    for (int k = 0; k < kc; k++) {
      int b = bo + k * NR;
      int a = ao + k * MR;
      FloatVector b0 = FloatVector.fromArray(S, bp, b + 0 * VL);
      FloatVector b1 = FloatVector.fromArray(S, bp, b + 1 * VL);
      FloatVector b2 = FloatVector.fromArray(S, bp, b + 2 * VL);
      FloatVector x;
      x = FloatVector.broadcast(S, ap[a + 0]);
      c00 = b0.fma(x, c00);
      c01 = b1.fma(x, c01);
      c02 = b2.fma(x, c02);
      x = FloatVector.broadcast(S, ap[a + 1]);
      c10 = b0.fma(x, c10);
      c11 = b1.fma(x, c11);
      c12 = b2.fma(x, c12);
      x = FloatVector.broadcast(S, ap[a + 2]);
      c20 = b0.fma(x, c20);
      c21 = b1.fma(x, c21);
      c22 = b2.fma(x, c22);
      x = FloatVector.broadcast(S, ap[a + 3]);
      c30 = b0.fma(x, c30);
      c31 = b1.fma(x, c31);
      c32 = b2.fma(x, c32);
      x = FloatVector.broadcast(S, ap[a + 4]);
      c40 = b0.fma(x, c40);
      c41 = b1.fma(x, c41);
      c42 = b2.fma(x, c42);
      x = FloatVector.broadcast(S, ap[a + 5]);
      c50 = b0.fma(x, c50);
      c51 = b1.fma(x, c51);
      c52 = b2.fma(x, c52);
    }
    c00.intoArray(c, co + 0 * ldc + 0 * VL);
    c01.intoArray(c, co + 0 * ldc + 1 * VL);
    c02.intoArray(c, co + 0 * ldc + 2 * VL);
    c10.intoArray(c, co + 1 * ldc + 0 * VL);
    c11.intoArray(c, co + 1 * ldc + 1 * VL);
    c12.intoArray(c, co + 1 * ldc + 2 * VL);
    c20.intoArray(c, co + 2 * ldc + 0 * VL);
    c21.intoArray(c, co + 2 * ldc + 1 * VL);
    c22.intoArray(c, co + 2 * ldc + 2 * VL);
    c30.intoArray(c, co + 3 * ldc + 0 * VL);
    c31.intoArray(c, co + 3 * ldc + 1 * VL);
    c32.intoArray(c, co + 3 * ldc + 2 * VL);
    c40.intoArray(c, co + 4 * ldc + 0 * VL);
    c41.intoArray(c, co + 4 * ldc + 1 * VL);
    c42.intoArray(c, co + 4 * ldc + 2 * VL);
    c50.intoArray(c, co + 5 * ldc + 0 * VL);
    c51.intoArray(c, co + 5 * ldc + 1 * VL);
    c52.intoArray(c, co + 5 * ldc + 2 * VL);
  }

  private static void tile4x2(
      float[] ap,
      int ao,
      float[] bp,
      int bo,
      int kc,
      float[] c,
      int co,
      int ldc,
      float[] init,
      int io) {
    FloatVector c00, c01;
    FloatVector c10, c11;
    FloatVector c20, c21;
    FloatVector c30, c31;
    if (init != null) {
      FloatVector i0 = FloatVector.fromArray(S, init, io + 0 * VL);
      FloatVector i1 = FloatVector.fromArray(S, init, io + 1 * VL);
      c00 = i0;
      c01 = i1;
      c10 = i0;
      c11 = i1;
      c20 = i0;
      c21 = i1;
      c30 = i0;
      c31 = i1;
    } else {
      c00 = FloatVector.fromArray(S, c, co + 0 * ldc + 0 * VL);
      c01 = FloatVector.fromArray(S, c, co + 0 * ldc + 1 * VL);
      c10 = FloatVector.fromArray(S, c, co + 1 * ldc + 0 * VL);
      c11 = FloatVector.fromArray(S, c, co + 1 * ldc + 1 * VL);
      c20 = FloatVector.fromArray(S, c, co + 2 * ldc + 0 * VL);
      c21 = FloatVector.fromArray(S, c, co + 2 * ldc + 1 * VL);
      c30 = FloatVector.fromArray(S, c, co + 3 * ldc + 0 * VL);
      c31 = FloatVector.fromArray(S, c, co + 3 * ldc + 1 * VL);
    }
    for (int k = 0; k < kc; k++) {
      int b = bo + k * NR;
      int a = ao + k * MR;
      FloatVector b0 = FloatVector.fromArray(S, bp, b + 0 * VL);
      FloatVector b1 = FloatVector.fromArray(S, bp, b + 1 * VL);
      FloatVector x;
      x = FloatVector.broadcast(S, ap[a + 0]);
      c00 = b0.fma(x, c00);
      c01 = b1.fma(x, c01);
      x = FloatVector.broadcast(S, ap[a + 1]);
      c10 = b0.fma(x, c10);
      c11 = b1.fma(x, c11);
      x = FloatVector.broadcast(S, ap[a + 2]);
      c20 = b0.fma(x, c20);
      c21 = b1.fma(x, c21);
      x = FloatVector.broadcast(S, ap[a + 3]);
      c30 = b0.fma(x, c30);
      c31 = b1.fma(x, c31);
    }
    c00.intoArray(c, co + 0 * ldc + 0 * VL);
    c01.intoArray(c, co + 0 * ldc + 1 * VL);
    c10.intoArray(c, co + 1 * ldc + 0 * VL);
    c11.intoArray(c, co + 1 * ldc + 1 * VL);
    c20.intoArray(c, co + 2 * ldc + 0 * VL);
    c21.intoArray(c, co + 2 * ldc + 1 * VL);
    c30.intoArray(c, co + 3 * ldc + 0 * VL);
    c31.intoArray(c, co + 3 * ldc + 1 * VL);
  }

  private static void tile6x2(
      float[] ap,
      int ao,
      float[] bp,
      int bo,
      int kc,
      float[] c,
      int co,
      int ldc,
      float[] init,
      int io) {
    FloatVector c00, c01;
    FloatVector c10, c11;
    FloatVector c20, c21;
    FloatVector c30, c31;
    FloatVector c40, c41;
    FloatVector c50, c51;
    if (init != null) {
      FloatVector i0 = FloatVector.fromArray(S, init, io + 0 * VL);
      FloatVector i1 = FloatVector.fromArray(S, init, io + 1 * VL);
      c00 = i0;
      c01 = i1;
      c10 = i0;
      c11 = i1;
      c20 = i0;
      c21 = i1;
      c30 = i0;
      c31 = i1;
      c40 = i0;
      c41 = i1;
      c50 = i0;
      c51 = i1;
    } else {
      c00 = FloatVector.fromArray(S, c, co + 0 * ldc + 0 * VL);
      c01 = FloatVector.fromArray(S, c, co + 0 * ldc + 1 * VL);
      c10 = FloatVector.fromArray(S, c, co + 1 * ldc + 0 * VL);
      c11 = FloatVector.fromArray(S, c, co + 1 * ldc + 1 * VL);
      c20 = FloatVector.fromArray(S, c, co + 2 * ldc + 0 * VL);
      c21 = FloatVector.fromArray(S, c, co + 2 * ldc + 1 * VL);
      c30 = FloatVector.fromArray(S, c, co + 3 * ldc + 0 * VL);
      c31 = FloatVector.fromArray(S, c, co + 3 * ldc + 1 * VL);
      c40 = FloatVector.fromArray(S, c, co + 4 * ldc + 0 * VL);
      c41 = FloatVector.fromArray(S, c, co + 4 * ldc + 1 * VL);
      c50 = FloatVector.fromArray(S, c, co + 5 * ldc + 0 * VL);
      c51 = FloatVector.fromArray(S, c, co + 5 * ldc + 1 * VL);
    }
    for (int k = 0; k < kc; k++) {
      int b = bo + k * NR;
      int a = ao + k * MR;
      FloatVector b0 = FloatVector.fromArray(S, bp, b + 0 * VL);
      FloatVector b1 = FloatVector.fromArray(S, bp, b + 1 * VL);
      FloatVector x;
      x = FloatVector.broadcast(S, ap[a + 0]);
      c00 = b0.fma(x, c00);
      c01 = b1.fma(x, c01);
      x = FloatVector.broadcast(S, ap[a + 1]);
      c10 = b0.fma(x, c10);
      c11 = b1.fma(x, c11);
      x = FloatVector.broadcast(S, ap[a + 2]);
      c20 = b0.fma(x, c20);
      c21 = b1.fma(x, c21);
      x = FloatVector.broadcast(S, ap[a + 3]);
      c30 = b0.fma(x, c30);
      c31 = b1.fma(x, c31);
      x = FloatVector.broadcast(S, ap[a + 4]);
      c40 = b0.fma(x, c40);
      c41 = b1.fma(x, c41);
      x = FloatVector.broadcast(S, ap[a + 5]);
      c50 = b0.fma(x, c50);
      c51 = b1.fma(x, c51);
    }
    c00.intoArray(c, co + 0 * ldc + 0 * VL);
    c01.intoArray(c, co + 0 * ldc + 1 * VL);
    c10.intoArray(c, co + 1 * ldc + 0 * VL);
    c11.intoArray(c, co + 1 * ldc + 1 * VL);
    c20.intoArray(c, co + 2 * ldc + 0 * VL);
    c21.intoArray(c, co + 2 * ldc + 1 * VL);
    c30.intoArray(c, co + 3 * ldc + 0 * VL);
    c31.intoArray(c, co + 3 * ldc + 1 * VL);
    c40.intoArray(c, co + 4 * ldc + 0 * VL);
    c41.intoArray(c, co + 4 * ldc + 1 * VL);
    c50.intoArray(c, co + 5 * ldc + 0 * VL);
    c51.intoArray(c, co + 5 * ldc + 1 * VL);
  }

  private static void row1x3(
      float[] ap, int ao, float[] bp, int bo, int kc, float[] c, int co, float[] init, int io) {
    float[] src = init != null ? init : c;
    int so = init != null ? io : co;
    FloatVector c0 = FloatVector.fromArray(S, src, so + 0 * VL);
    FloatVector c1 = FloatVector.fromArray(S, src, so + 1 * VL);
    FloatVector c2 = FloatVector.fromArray(S, src, so + 2 * VL);
    for (int k = 0; k < kc; k++) {
      int b = bo + k * NR;
      FloatVector x = FloatVector.broadcast(S, ap[ao + k * MR]);
      c0 = FloatVector.fromArray(S, bp, b + 0 * VL).fma(x, c0);
      c1 = FloatVector.fromArray(S, bp, b + 1 * VL).fma(x, c1);
      c2 = FloatVector.fromArray(S, bp, b + 2 * VL).fma(x, c2);
    }
    c0.intoArray(c, co + 0 * VL);
    c1.intoArray(c, co + 1 * VL);
    c2.intoArray(c, co + 2 * VL);
  }

  private static void row1x2(
      float[] ap, int ao, float[] bp, int bo, int kc, float[] c, int co, float[] init, int io) {
    float[] src = init != null ? init : c;
    int so = init != null ? io : co;
    FloatVector c0 = FloatVector.fromArray(S, src, so + 0 * VL);
    FloatVector c1 = FloatVector.fromArray(S, src, so + 1 * VL);
    for (int k = 0; k < kc; k++) {
      int b = bo + k * NR;
      FloatVector x = FloatVector.broadcast(S, ap[ao + k * MR]);
      c0 = FloatVector.fromArray(S, bp, b + 0 * VL).fma(x, c0);
      c1 = FloatVector.fromArray(S, bp, b + 1 * VL).fma(x, c1);
    }
    c0.intoArray(c, co + 0 * VL);
    c1.intoArray(c, co + 1 * VL);
  }
}
