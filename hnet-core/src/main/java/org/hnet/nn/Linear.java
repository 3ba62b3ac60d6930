package org.hnet.nn;

import org.hnet.kernels.Matmul;

/** nn.Linear: y[M×out] = x[M×in] · Wᵀ (+ b). Weight (out, in), row-major, as in the state dict. */
public final class Linear {
  public final Param weight;
  public final Param bias; // null when the layer has none
  public final int in;
  public final int out;
  private final int ws, dxSlot; // workspace slots: output [M × out], input gradient [M × in]
  private final int rows; // two shared slots: a step's active rows of x, and their outputs

  Linear(Params ps, String prefix, int stage, int in, int out, boolean bias) {
    this(ps, prefix, stage, in, out, bias, null);
  }

  /**
   * @param sharedDx null, or the key of an input-gradient slot shared by every Linear built with
   *     it: for a layer whose dx its caller consumes before any other of them runs backward (inside
   *     a mixer or an MLP)
   */
  Linear(Params ps, String prefix, int stage, int in, int out, boolean bias, String sharedDx) {
    this.in = in;
    this.out = out;
    // the large products (the mixers' and MLPs' layers, the ones with a shared dx) may be held
    // compact for inference; the routing and residual projections stay float32
    this.weight =
        sharedDx != null
            ? ps.takeWeight(prefix + ".weight", stage, out, in)
            : ps.take(prefix + ".weight", stage, true, out, in);
    this.bias = bias ? ps.take(prefix + ".bias", stage, false, out) : null;
    this.ws = ps.slots(1);
    this.dxSlot = sharedDx == null ? ps.slots(1) : ps.sharedSlots(sharedDx, 1);
    this.rows = ps.sharedSlots("linear.step.rows", 2);
  }

  /** What the backward needs: the input x [m × in] (callers never modify it afterwards). */
  static final class Saved {
    float[] x;
    int m;
    Workspace w;
  }

  /**
   * x [M × in] → y [M × out] over the positions of packed sequences. Always the GEMM path, so a
   * position's result does not depend on the batch it is in.
   */
  public float[] forward(float[] x, int M) {
    return forward(x, M, null, Workspace.TRANSIENT);
  }

  /**
   * As {@link #forward(float[], int)}, into this layer's buffer of w (valid until its next use);
   * with a tape, records what {@link #backward} needs.
   */
  float[] forward(float[] x, int M, Tape tape, Workspace w) {
    float[] y = w.floats(ws, M * out);
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
      s.w = w;
    }
    return y;
  }

  /** One decode step of R rows: x [R × in] → [R × out]; each row as if it were decoded alone. */
  public float[] step(float[] x, int R) {
    return step(x, R, Workspace.TRANSIENT);
  }

  float[] step(float[] x, int R, Workspace w) {
    float[] y = w.floats(ws, R * out);
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
  float[] step(float[] x, int R, boolean[] active, Workspace w) {
    int n = 0;
    if (active != null) for (int r = 0; r < R; r++) if (active[r]) n++;
    if (active == null || n == R) return step(x, R, w);
    float[] y = w.floats(ws, R * out);
    if (n > 0) {
      float[] xs = w.floats(rows, n * in), ys = w.floats(rows + 1, n * out);
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
   * dy [M × out] → dx [M × in] (in the forward's workspace) for the forward recorded last on the
   * tape; adds ∂L/∂W = dyᵀ·x (and ∂L/∂b) into the parameters' gradients.
   */
  float[] backward(float[] dy, Tape tape) {
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
    float[] dx = s.w.floats(dxSlot, M * in);
    Matmul.linearBackwardInput(dx, 0, dy, 0, weight.data, 0, M, out, in, false);
    return dx;
  }
}
