package org.hnet.nn;

import org.hnet.kernels.Matmul;

/** nn.Linear: y[M×out] = x[M×in] · Wᵀ (+ b). Weight (out, in), row-major, as in the state dict. */
public final class Linear {
  public final Param weight;
  public final Param bias; // null when the layer has none
  public final int in;
  public final int out;

  Linear(Params ps, String prefix, int stage, int in, int out, boolean bias) {
    this.in = in;
    this.out = out;
    this.weight = ps.take(prefix + ".weight", stage, true, out, in);
    this.bias = bias ? ps.take(prefix + ".bias", stage, false, out) : null;
  }

  public void forward(float[] y, int yOff, float[] x, int xOff, int M) {
    Matmul.linear(y, yOff, x, xOff, weight.data, 0, bias == null ? null : bias.data, 0, M, out, in);
  }

  public float[] forward(float[] x, int M) {
    float[] y = new float[M * out];
    forward(y, 0, x, 0, M);
    return y;
  }
}
