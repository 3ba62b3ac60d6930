package org.hnet.nn;

import org.hnet.kernels.Matmul;
import org.hnet.tensor.Arena;

/** nn.Linear: y[M×out] = x[M×in] · Wᵀ (+ b). Weight (out, in), row-major, as in the state dict. */
public final class Linear {
  public final Param weight;
  public final Param bias; // null when the layer has none
  public final int in;
  public final int out;

  /**
   * @param compact whether the weight may be held compact (bf16, int8) for inference: the large
   *     products (the mixers' and MLPs' layers); the routing and residual projections stay float32
   */
  Linear(Params ps, String prefix, int stage, int in, int out, boolean bias, boolean compact) {
    this.in = in;
    this.out = out;
    this.weight =
        compact
            ? ps.takeWeight(prefix + ".weight", stage, out, in)
            : ps.take(prefix + ".weight", stage, true, out, in);
    this.bias = bias ? ps.take(prefix + ".bias", stage, false, out) : null;
  }

  /** What the backward needs: the input x [m × in] (callers never modify it afterwards). */
  static final class Saved {
    float[] x;
    int m;
  }

  /**
   * x [M × in] → y [M × out] over the positions of packed sequences, in a buffer of w (see {@link
   * Arena}). Always the GEMM path, so a position's result does not depend on the batch it is in.
   * With a tape, records what {@link #backward} needs.
   */
  float[] forward(float[] x, int M, Tape tape, Arena w) {
    float[] y = w.floats(M * out);
    float[] b = bias == null ? null : bias.data;
    if (weight.compact != null) {
      if (tape != null) weight.gradBuffer(); // says why a compact model cannot train
      Matmul.linearGemm(y, 0, x, 0, weight.compact, b, 0, M);
    } else {
      Matmul.linearGemm(y, 0, x, 0, weight.data, 0, b, 0, M, out, in);
    }
    if (tape != null) {
      Saved s = tape.push(Saved.class, Saved::new);
      s.x = x;
      s.m = M;
    }
    return y;
  }

  /** One decode step of R rows: x [R × in] → [R × out]; each row as if it were decoded alone. */
  float[] step(float[] x, int R, Arena w) {
    float[] y = w.floats(R * out);
    decode(y, x, R);
    return y;
  }

  /** y[R × out] = x[R × in]·Wᵀ (+ b) by the decode path, in this layer's weight format. */
  private void decode(float[] y, float[] x, int R) {
    float[] b = bias == null ? null : bias.data;
    if (weight.compact != null) Matmul.linearDecode(y, 0, x, 0, weight.compact, b, 0, R);
    else Matmul.linearDecode(y, 0, x, 0, weight.data, 0, b, 0, R, out, in);
  }

  /**
   * One decode step of the rows r with active[r] (all when active is null): each as if decoded
   * alone; the other rows of the output are zero. With some rows inactive (in a stage that only
   * some rows of the batch reach), the active rows are gathered and multiplied together: the
   * weights are read once either way, and the arithmetic is only theirs.
   */
  float[] step(float[] x, int R, boolean[] active, Arena w) {
    int n = 0;
    if (active != null) for (int r = 0; r < R; r++) if (active[r]) n++;
    if (active == null || n == R) return step(x, R, w);
    float[] y = w.floats(R * out);
    if (n > 0) {
      float[] xs = w.floats(n * in), ys = w.floats(n * out);
      for (int r = 0, i = 0; r < R; r++)
        if (active[r]) System.arraycopy(x, r * in, xs, in * i++, in);
      decode(ys, xs, n);
      for (int r = 0, i = 0; r < R; r++)
        if (active[r]) System.arraycopy(ys, out * i++, y, r * out, out);
    }
    for (int r = 0; r < R; r++)
      if (!active[r]) java.util.Arrays.fill(y, r * out, (r + 1) * out, 0f);
    return y;
  }

  /**
   * dy [M × out] → dx [M × in] (in a buffer of w) for the forward recorded last on the tape; adds
   * ∂L/∂W = dyᵀ·x (and ∂L/∂b) into the parameters' gradients.
   */
  float[] backward(float[] dy, Tape tape, Arena w) {
    Saved s = tape.pop(Saved.class);
    int M = s.m;
    Matmul.linearBackwardWeight(
        weight.gradBuffer(),
        0,
        bias == null ? null : bias.gradBuffer(),
        0,
        dy,
        0,
        s.x,
        0,
        M,
        out,
        in);
    float[] dx = w.floats(M * in);
    Matmul.linearBackwardInput(dx, 0, dy, 0, weight.data, 0, M, out, in, false);
    return dx;
  }
}
