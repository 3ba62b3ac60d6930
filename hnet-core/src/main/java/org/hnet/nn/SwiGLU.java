package org.hnet.nn;

import org.hnet.kernels.Ops;

/** SwiGLU MLP: fc2(y * silu(gate)) with fc1's output split in halves [y | gate]; no biases. */
public final class SwiGLU {
  public final Linear fc1;
  public final Linear fc2;
  public final int d, hidden;
  private final Params.Mode mode;
  private float[] savedH; // fc1 output [T × 2·hidden]

  SwiGLU(Params ps, String prefix, int stage, int d, int hidden) {
    this.d = d;
    this.hidden = hidden;
    this.mode = ps.mode;
    this.fc1 = new Linear(ps, prefix + ".fc1", stage, d, 2 * hidden, false);
    this.fc2 = new Linear(ps, prefix + ".fc2", stage, hidden, d, false);
  }

  public float[] forward(float[] x, int T) {
    float[] h = fc1.forward(x, T); // [T × 2·hidden]
    float[] g = new float[T * hidden];
    Ops.swiglu(g, 0, h, 0, T, hidden);
    if (mode.training) savedH = h;
    return fc2.forward(g, T);
  }

  /** One decode step of R rows (each row as if decoded alone). */
  public float[] step(float[] x, int R) {
    float[] h = fc1.step(x, R);
    float[] g = new float[R * hidden];
    Ops.swiglu(g, 0, h, 0, R, hidden);
    return fc2.step(g, R);
  }

  public float[] backward(float[] dy) {
    float[] dg = fc2.backward(dy); // [T × hidden]
    int T = dg.length / hidden;
    float[] dh = new float[T * 2 * hidden];
    Ops.swigluBackward(dh, 0, dg, 0, savedH, 0, T, hidden);
    savedH = null;
    return fc1.backward(dh);
  }
}
