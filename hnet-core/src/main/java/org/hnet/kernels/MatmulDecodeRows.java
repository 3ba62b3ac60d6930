package org.hnet.kernels;

import jdk.incubator.vector.FloatVector;

/**
 * Float32 decode kernels at 16 (or 4) lanes for 2 to 4 rows of x against the 4 rows of a pass
 * ({@link MatmulDecode} has the passes, the order of operations and the batch-1 kernel). Each is
 * written out (up to 16 accumulators, which an array could not hold without allocating).
 */
final class MatmulDecodeRows {
  private MatmulDecodeRows() {}

  private static final jdk.incubator.vector.VectorSpecies<Float> S = MatmulGemm.S;
  private static final int VL = MatmulGemm.VL;

  /**
   * Rows m to m + 3 of x against rows n, n + rs, n + 2rs, n + 3rs of w (16 lanes: 16 accumulators);
   * the lane sums at once, as in {@link MatmulDecode#dot1x4}.
   */
  static void dot4x4(
      float[] tmp,
      float[] y,
      int yOff,
      float[] x,
      int xOff,
      float[] w,
      int wOff,
      float[] bias,
      int bo,
      int m,
      int n,
      int rs,
      int N,
      int K) {
    int x0 = xOff + m * K, x1 = x0 + K, x2 = x1 + K, x3 = x2 + K;
    int w0 = wOff + n * K, w1 = w0 + rs * K, w2 = w1 + rs * K, w3 = w2 + rs * K;
    FloatVector z = FloatVector.zero(S);
    FloatVector a00 = z,
        a01 = z,
        a02 = z,
        a03 = z,
        a10 = z,
        a11 = z,
        a12 = z,
        a13 = z,
        a20 = z,
        a21 = z,
        a22 = z,
        a23 = z,
        a30 = z,
        a31 = z,
        a32 = z,
        a33 = z;
    int kb = S.loopBound(K);
    for (int k = 0; k < kb; k += VL) {
      FloatVector u0 = FloatVector.fromArray(S, x, x0 + k);
      FloatVector u1 = FloatVector.fromArray(S, x, x1 + k);
      FloatVector u2 = FloatVector.fromArray(S, x, x2 + k);
      FloatVector u3 = FloatVector.fromArray(S, x, x3 + k);
      FloatVector v = FloatVector.fromArray(S, w, w0 + k);
      a00 = u0.fma(v, a00);
      a10 = u1.fma(v, a10);
      a20 = u2.fma(v, a20);
      a30 = u3.fma(v, a30);
      v = FloatVector.fromArray(S, w, w1 + k);
      a01 = u0.fma(v, a01);
      a11 = u1.fma(v, a11);
      a21 = u2.fma(v, a21);
      a31 = u3.fma(v, a31);
      v = FloatVector.fromArray(S, w, w2 + k);
      a02 = u0.fma(v, a02);
      a12 = u1.fma(v, a12);
      a22 = u2.fma(v, a22);
      a32 = u3.fma(v, a32);
      v = FloatVector.fromArray(S, w, w3 + k);
      a03 = u0.fma(v, a03);
      a13 = u1.fma(v, a13);
      a23 = u2.fma(v, a23);
      a33 = u3.fma(v, a33);
    }
    int y0 = yOff + m * N + n, y1 = y0 + N, y2 = y1 + N, y3 = y2 + N;
    FloatVector e80 = a00.blend(a20, Lanes.H8).add(a20.blend(a00, Lanes.H8).rearrange(Lanes.X8));
    FloatVector e81 = a01.blend(a21, Lanes.H8).add(a21.blend(a01, Lanes.H8).rearrange(Lanes.X8));
    FloatVector e82 = a02.blend(a22, Lanes.H8).add(a22.blend(a02, Lanes.H8).rearrange(Lanes.X8));
    FloatVector e83 = a03.blend(a23, Lanes.H8).add(a23.blend(a03, Lanes.H8).rearrange(Lanes.X8));
    FloatVector e84 = a10.blend(a30, Lanes.H8).add(a30.blend(a10, Lanes.H8).rearrange(Lanes.X8));
    FloatVector e85 = a11.blend(a31, Lanes.H8).add(a31.blend(a11, Lanes.H8).rearrange(Lanes.X8));
    FloatVector e86 = a12.blend(a32, Lanes.H8).add(a32.blend(a12, Lanes.H8).rearrange(Lanes.X8));
    FloatVector e87 = a13.blend(a33, Lanes.H8).add(a33.blend(a13, Lanes.H8).rearrange(Lanes.X8));
    FloatVector e40 = e80.blend(e84, Lanes.H4).add(e84.blend(e80, Lanes.H4).rearrange(Lanes.X4));
    FloatVector e41 = e81.blend(e85, Lanes.H4).add(e85.blend(e81, Lanes.H4).rearrange(Lanes.X4));
    FloatVector e42 = e82.blend(e86, Lanes.H4).add(e86.blend(e82, Lanes.H4).rearrange(Lanes.X4));
    FloatVector e43 = e83.blend(e87, Lanes.H4).add(e87.blend(e83, Lanes.H4).rearrange(Lanes.X4));
    FloatVector e20 = e40.blend(e42, Lanes.H2).add(e42.blend(e40, Lanes.H2).rearrange(Lanes.X2));
    FloatVector e21 = e41.blend(e43, Lanes.H2).add(e43.blend(e41, Lanes.H2).rearrange(Lanes.X2));
    FloatVector e1 = e20.blend(e21, Lanes.H1).add(e21.blend(e20, Lanes.H1).rearrange(Lanes.X1));
    e1.intoArray(tmp, 0);
    y[y0] =
        kb < K
            ? MatmulDecode.tail(tmp[0], x, x0, w, w0, kb, K, bias, bo, n)
            : bias == null ? tmp[0] : bias[bo + n] + tmp[0];
    y[y0 + rs] =
        kb < K
            ? MatmulDecode.tail(tmp[1], x, x0, w, w1, kb, K, bias, bo, n + rs)
            : bias == null ? tmp[1] : bias[bo + n + rs] + tmp[1];
    y[y0 + 2 * rs] =
        kb < K
            ? MatmulDecode.tail(tmp[2], x, x0, w, w2, kb, K, bias, bo, n + 2 * rs)
            : bias == null ? tmp[2] : bias[bo + n + 2 * rs] + tmp[2];
    y[y0 + 3 * rs] =
        kb < K
            ? MatmulDecode.tail(tmp[3], x, x0, w, w3, kb, K, bias, bo, n + 3 * rs)
            : bias == null ? tmp[3] : bias[bo + n + 3 * rs] + tmp[3];
    y[y1] =
        kb < K
            ? MatmulDecode.tail(tmp[4], x, x1, w, w0, kb, K, bias, bo, n)
            : bias == null ? tmp[4] : bias[bo + n] + tmp[4];
    y[y1 + rs] =
        kb < K
            ? MatmulDecode.tail(tmp[5], x, x1, w, w1, kb, K, bias, bo, n + rs)
            : bias == null ? tmp[5] : bias[bo + n + rs] + tmp[5];
    y[y1 + 2 * rs] =
        kb < K
            ? MatmulDecode.tail(tmp[6], x, x1, w, w2, kb, K, bias, bo, n + 2 * rs)
            : bias == null ? tmp[6] : bias[bo + n + 2 * rs] + tmp[6];
    y[y1 + 3 * rs] =
        kb < K
            ? MatmulDecode.tail(tmp[7], x, x1, w, w3, kb, K, bias, bo, n + 3 * rs)
            : bias == null ? tmp[7] : bias[bo + n + 3 * rs] + tmp[7];
    y[y2] =
        kb < K
            ? MatmulDecode.tail(tmp[8], x, x2, w, w0, kb, K, bias, bo, n)
            : bias == null ? tmp[8] : bias[bo + n] + tmp[8];
    y[y2 + rs] =
        kb < K
            ? MatmulDecode.tail(tmp[9], x, x2, w, w1, kb, K, bias, bo, n + rs)
            : bias == null ? tmp[9] : bias[bo + n + rs] + tmp[9];
    y[y2 + 2 * rs] =
        kb < K
            ? MatmulDecode.tail(tmp[10], x, x2, w, w2, kb, K, bias, bo, n + 2 * rs)
            : bias == null ? tmp[10] : bias[bo + n + 2 * rs] + tmp[10];
    y[y2 + 3 * rs] =
        kb < K
            ? MatmulDecode.tail(tmp[11], x, x2, w, w3, kb, K, bias, bo, n + 3 * rs)
            : bias == null ? tmp[11] : bias[bo + n + 3 * rs] + tmp[11];
    y[y3] =
        kb < K
            ? MatmulDecode.tail(tmp[12], x, x3, w, w0, kb, K, bias, bo, n)
            : bias == null ? tmp[12] : bias[bo + n] + tmp[12];
    y[y3 + rs] =
        kb < K
            ? MatmulDecode.tail(tmp[13], x, x3, w, w1, kb, K, bias, bo, n + rs)
            : bias == null ? tmp[13] : bias[bo + n + rs] + tmp[13];
    y[y3 + 2 * rs] =
        kb < K
            ? MatmulDecode.tail(tmp[14], x, x3, w, w2, kb, K, bias, bo, n + 2 * rs)
            : bias == null ? tmp[14] : bias[bo + n + 2 * rs] + tmp[14];
    y[y3 + 3 * rs] =
        kb < K
            ? MatmulDecode.tail(tmp[15], x, x3, w, w3, kb, K, bias, bo, n + 3 * rs)
            : bias == null ? tmp[15] : bias[bo + n + 3 * rs] + tmp[15];
  }

  /**
   * Rows m, m + 1 of x against rows n, n + rs, n + 2rs, n + 3rs of w; at 16 lanes the 8 lane sums
   * at once (Lanes#H8), as in {@link MatmulDecode#dot1x4}.
   */
  static void dot2x4(
      float[] tmp,
      float[] y,
      int yOff,
      float[] x,
      int xOff,
      float[] w,
      int wOff,
      float[] bias,
      int bo,
      int m,
      int n,
      int rs,
      int N,
      int K) {
    int x0 = xOff + m * K, x1 = x0 + K;
    int w0 = wOff + n * K, w1 = w0 + rs * K, w2 = w1 + rs * K, w3 = w2 + rs * K;
    FloatVector a00 = FloatVector.zero(S), a01 = a00, a02 = a00, a03 = a00;
    FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
    int kb = S.loopBound(K);
    for (int k = 0; k < kb; k += VL) {
      FloatVector u0 = FloatVector.fromArray(S, x, x0 + k);
      FloatVector u1 = FloatVector.fromArray(S, x, x1 + k);
      FloatVector v = FloatVector.fromArray(S, w, w0 + k);
      a00 = u0.fma(v, a00);
      a10 = u1.fma(v, a10);
      v = FloatVector.fromArray(S, w, w1 + k);
      a01 = u0.fma(v, a01);
      a11 = u1.fma(v, a11);
      v = FloatVector.fromArray(S, w, w2 + k);
      a02 = u0.fma(v, a02);
      a12 = u1.fma(v, a12);
      v = FloatVector.fromArray(S, w, w3 + k);
      a03 = u0.fma(v, a03);
      a13 = u1.fma(v, a13);
    }
    int y0 = yOff + m * N + n, y1 = y0 + N;
    if (VL == 16) {
      FloatVector e80 = a00.blend(a10, Lanes.H8).add(a10.blend(a00, Lanes.H8).rearrange(Lanes.X8));
      FloatVector e81 = a01.blend(a11, Lanes.H8).add(a11.blend(a01, Lanes.H8).rearrange(Lanes.X8));
      FloatVector e82 = a02.blend(a12, Lanes.H8).add(a12.blend(a02, Lanes.H8).rearrange(Lanes.X8));
      FloatVector e83 = a03.blend(a13, Lanes.H8).add(a13.blend(a03, Lanes.H8).rearrange(Lanes.X8));
      FloatVector e40 = e80.blend(e82, Lanes.H4).add(e82.blend(e80, Lanes.H4).rearrange(Lanes.X4));
      FloatVector e41 = e81.blend(e83, Lanes.H4).add(e83.blend(e81, Lanes.H4).rearrange(Lanes.X4));
      FloatVector e2 = e40.blend(e41, Lanes.H2).add(e41.blend(e40, Lanes.H2).rearrange(Lanes.X2));
      FloatVector e1 = e2.add(e2.rearrange(Lanes.X1));
      e1.intoArray(tmp, 0);
      y[y0] =
          kb < K
              ? MatmulDecode.tail(tmp[1], x, x0, w, w0, kb, K, bias, bo, n)
              : bias == null ? tmp[1] : bias[bo + n] + tmp[1];
      y[y0 + rs] =
          kb < K
              ? MatmulDecode.tail(tmp[3], x, x0, w, w1, kb, K, bias, bo, n + rs)
              : bias == null ? tmp[3] : bias[bo + n + rs] + tmp[3];
      y[y0 + 2 * rs] =
          kb < K
              ? MatmulDecode.tail(tmp[5], x, x0, w, w2, kb, K, bias, bo, n + 2 * rs)
              : bias == null ? tmp[5] : bias[bo + n + 2 * rs] + tmp[5];
      y[y0 + 3 * rs] =
          kb < K
              ? MatmulDecode.tail(tmp[7], x, x0, w, w3, kb, K, bias, bo, n + 3 * rs)
              : bias == null ? tmp[7] : bias[bo + n + 3 * rs] + tmp[7];
      y[y1] =
          kb < K
              ? MatmulDecode.tail(tmp[9], x, x1, w, w0, kb, K, bias, bo, n)
              : bias == null ? tmp[9] : bias[bo + n] + tmp[9];
      y[y1 + rs] =
          kb < K
              ? MatmulDecode.tail(tmp[11], x, x1, w, w1, kb, K, bias, bo, n + rs)
              : bias == null ? tmp[11] : bias[bo + n + rs] + tmp[11];
      y[y1 + 2 * rs] =
          kb < K
              ? MatmulDecode.tail(tmp[13], x, x1, w, w2, kb, K, bias, bo, n + 2 * rs)
              : bias == null ? tmp[13] : bias[bo + n + 2 * rs] + tmp[13];
      y[y1 + 3 * rs] =
          kb < K
              ? MatmulDecode.tail(tmp[15], x, x1, w, w3, kb, K, bias, bo, n + 3 * rs)
              : bias == null ? tmp[15] : bias[bo + n + 3 * rs] + tmp[15];
      return;
    }
    a00.intoArray(tmp, 0);
    y[y0] = MatmulDecode.finish(tmp, x, x0, w, w0, kb, K, bias, bo, n);
    a01.intoArray(tmp, 0);
    y[y0 + rs] = MatmulDecode.finish(tmp, x, x0, w, w1, kb, K, bias, bo, n + rs);
    a02.intoArray(tmp, 0);
    y[y0 + 2 * rs] = MatmulDecode.finish(tmp, x, x0, w, w2, kb, K, bias, bo, n + 2 * rs);
    a03.intoArray(tmp, 0);
    y[y0 + 3 * rs] = MatmulDecode.finish(tmp, x, x0, w, w3, kb, K, bias, bo, n + 3 * rs);
    a10.intoArray(tmp, 0);
    y[y1] = MatmulDecode.finish(tmp, x, x1, w, w0, kb, K, bias, bo, n);
    a11.intoArray(tmp, 0);
    y[y1 + rs] = MatmulDecode.finish(tmp, x, x1, w, w1, kb, K, bias, bo, n + rs);
    a12.intoArray(tmp, 0);
    y[y1 + 2 * rs] = MatmulDecode.finish(tmp, x, x1, w, w2, kb, K, bias, bo, n + 2 * rs);
    a13.intoArray(tmp, 0);
    y[y1 + 3 * rs] = MatmulDecode.finish(tmp, x, x1, w, w3, kb, K, bias, bo, n + 3 * rs);
  }

  /**
   * Rows m, m + 1, m + 2 of x against rows n, n + rs, n + 2rs, n + 3rs of w; at 16 lanes the 12
   * lane sums at once (Lanes#H8), as in {@link MatmulDecode#dot1x4}.
   */
  static void dot3x4(
      float[] tmp,
      float[] y,
      int yOff,
      float[] x,
      int xOff,
      float[] w,
      int wOff,
      float[] bias,
      int bo,
      int m,
      int n,
      int rs,
      int N,
      int K) {
    int x0 = xOff + m * K, x1 = x0 + K, x2 = x1 + K;
    int w0 = wOff + n * K, w1 = w0 + rs * K, w2 = w1 + rs * K, w3 = w2 + rs * K;
    FloatVector a00 = FloatVector.zero(S), a01 = a00, a02 = a00, a03 = a00;
    FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
    FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
    int kb = S.loopBound(K);
    for (int k = 0; k < kb; k += VL) {
      FloatVector u0 = FloatVector.fromArray(S, x, x0 + k);
      FloatVector u1 = FloatVector.fromArray(S, x, x1 + k);
      FloatVector u2 = FloatVector.fromArray(S, x, x2 + k);
      FloatVector v = FloatVector.fromArray(S, w, w0 + k);
      a00 = u0.fma(v, a00);
      a10 = u1.fma(v, a10);
      a20 = u2.fma(v, a20);
      v = FloatVector.fromArray(S, w, w1 + k);
      a01 = u0.fma(v, a01);
      a11 = u1.fma(v, a11);
      a21 = u2.fma(v, a21);
      v = FloatVector.fromArray(S, w, w2 + k);
      a02 = u0.fma(v, a02);
      a12 = u1.fma(v, a12);
      a22 = u2.fma(v, a22);
      v = FloatVector.fromArray(S, w, w3 + k);
      a03 = u0.fma(v, a03);
      a13 = u1.fma(v, a13);
      a23 = u2.fma(v, a23);
    }
    int y0 = yOff + m * N + n, y1 = y0 + N, y2 = y1 + N;
    if (VL == 16) {
      FloatVector e80 = a00.blend(a12, Lanes.H8).add(a12.blend(a00, Lanes.H8).rearrange(Lanes.X8));
      FloatVector e81 = a01.blend(a13, Lanes.H8).add(a13.blend(a01, Lanes.H8).rearrange(Lanes.X8));
      FloatVector e82 = a02.blend(a20, Lanes.H8).add(a20.blend(a02, Lanes.H8).rearrange(Lanes.X8));
      FloatVector e83 = a03.blend(a21, Lanes.H8).add(a21.blend(a03, Lanes.H8).rearrange(Lanes.X8));
      FloatVector e84 = a10.blend(a22, Lanes.H8).add(a22.blend(a10, Lanes.H8).rearrange(Lanes.X8));
      FloatVector e85 = a11.blend(a23, Lanes.H8).add(a23.blend(a11, Lanes.H8).rearrange(Lanes.X8));
      FloatVector e40 = e80.blend(e83, Lanes.H4).add(e83.blend(e80, Lanes.H4).rearrange(Lanes.X4));
      FloatVector e41 = e81.blend(e84, Lanes.H4).add(e84.blend(e81, Lanes.H4).rearrange(Lanes.X4));
      FloatVector e42 = e82.blend(e85, Lanes.H4).add(e85.blend(e82, Lanes.H4).rearrange(Lanes.X4));
      FloatVector e20 = e40.blend(e42, Lanes.H2).add(e42.blend(e40, Lanes.H2).rearrange(Lanes.X2));
      FloatVector e21 = e41.add(e41.rearrange(Lanes.X2));
      FloatVector e1 = e20.blend(e21, Lanes.H1).add(e21.blend(e20, Lanes.H1).rearrange(Lanes.X1));
      e1.intoArray(tmp, 0);
      y[y0] =
          kb < K
              ? MatmulDecode.tail(tmp[0], x, x0, w, w0, kb, K, bias, bo, n)
              : bias == null ? tmp[0] : bias[bo + n] + tmp[0];
      y[y0 + rs] =
          kb < K
              ? MatmulDecode.tail(tmp[3], x, x0, w, w1, kb, K, bias, bo, n + rs)
              : bias == null ? tmp[3] : bias[bo + n + rs] + tmp[3];
      y[y0 + 2 * rs] =
          kb < K
              ? MatmulDecode.tail(tmp[2], x, x0, w, w2, kb, K, bias, bo, n + 2 * rs)
              : bias == null ? tmp[2] : bias[bo + n + 2 * rs] + tmp[2];
      y[y0 + 3 * rs] =
          kb < K
              ? MatmulDecode.tail(tmp[4], x, x0, w, w3, kb, K, bias, bo, n + 3 * rs)
              : bias == null ? tmp[4] : bias[bo + n + 3 * rs] + tmp[4];
      y[y1] =
          kb < K
              ? MatmulDecode.tail(tmp[7], x, x1, w, w0, kb, K, bias, bo, n)
              : bias == null ? tmp[7] : bias[bo + n] + tmp[7];
      y[y1 + rs] =
          kb < K
              ? MatmulDecode.tail(tmp[6], x, x1, w, w1, kb, K, bias, bo, n + rs)
              : bias == null ? tmp[6] : bias[bo + n + rs] + tmp[6];
      y[y1 + 2 * rs] =
          kb < K
              ? MatmulDecode.tail(tmp[8], x, x1, w, w2, kb, K, bias, bo, n + 2 * rs)
              : bias == null ? tmp[8] : bias[bo + n + 2 * rs] + tmp[8];
      y[y1 + 3 * rs] =
          kb < K
              ? MatmulDecode.tail(tmp[11], x, x1, w, w3, kb, K, bias, bo, n + 3 * rs)
              : bias == null ? tmp[11] : bias[bo + n + 3 * rs] + tmp[11];
      y[y2] =
          kb < K
              ? MatmulDecode.tail(tmp[10], x, x2, w, w0, kb, K, bias, bo, n)
              : bias == null ? tmp[10] : bias[bo + n] + tmp[10];
      y[y2 + rs] =
          kb < K
              ? MatmulDecode.tail(tmp[12], x, x2, w, w1, kb, K, bias, bo, n + rs)
              : bias == null ? tmp[12] : bias[bo + n + rs] + tmp[12];
      y[y2 + 2 * rs] =
          kb < K
              ? MatmulDecode.tail(tmp[15], x, x2, w, w2, kb, K, bias, bo, n + 2 * rs)
              : bias == null ? tmp[15] : bias[bo + n + 2 * rs] + tmp[15];
      y[y2 + 3 * rs] =
          kb < K
              ? MatmulDecode.tail(tmp[14], x, x2, w, w3, kb, K, bias, bo, n + 3 * rs)
              : bias == null ? tmp[14] : bias[bo + n + 3 * rs] + tmp[14];
      return;
    }
    a00.intoArray(tmp, 0);
    y[y0] = MatmulDecode.finish(tmp, x, x0, w, w0, kb, K, bias, bo, n);
    a01.intoArray(tmp, 0);
    y[y0 + rs] = MatmulDecode.finish(tmp, x, x0, w, w1, kb, K, bias, bo, n + rs);
    a02.intoArray(tmp, 0);
    y[y0 + 2 * rs] = MatmulDecode.finish(tmp, x, x0, w, w2, kb, K, bias, bo, n + 2 * rs);
    a03.intoArray(tmp, 0);
    y[y0 + 3 * rs] = MatmulDecode.finish(tmp, x, x0, w, w3, kb, K, bias, bo, n + 3 * rs);
    a10.intoArray(tmp, 0);
    y[y1] = MatmulDecode.finish(tmp, x, x1, w, w0, kb, K, bias, bo, n);
    a11.intoArray(tmp, 0);
    y[y1 + rs] = MatmulDecode.finish(tmp, x, x1, w, w1, kb, K, bias, bo, n + rs);
    a12.intoArray(tmp, 0);
    y[y1 + 2 * rs] = MatmulDecode.finish(tmp, x, x1, w, w2, kb, K, bias, bo, n + 2 * rs);
    a13.intoArray(tmp, 0);
    y[y1 + 3 * rs] = MatmulDecode.finish(tmp, x, x1, w, w3, kb, K, bias, bo, n + 3 * rs);
    a20.intoArray(tmp, 0);
    y[y2] = MatmulDecode.finish(tmp, x, x2, w, w0, kb, K, bias, bo, n);
    a21.intoArray(tmp, 0);
    y[y2 + rs] = MatmulDecode.finish(tmp, x, x2, w, w1, kb, K, bias, bo, n + rs);
    a22.intoArray(tmp, 0);
    y[y2 + 2 * rs] = MatmulDecode.finish(tmp, x, x2, w, w2, kb, K, bias, bo, n + 2 * rs);
    a23.intoArray(tmp, 0);
    y[y2 + 3 * rs] = MatmulDecode.finish(tmp, x, x2, w, w3, kb, K, bias, bo, n + 3 * rs);
  }
}
