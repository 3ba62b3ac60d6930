package org.hnet.nn;

import org.hnet.config.BlockSpec;
import org.hnet.config.StageConfig;
import org.hnet.kernels.Ops;
import org.hnet.tensor.Arena;

/**
 * A pre-norm block: residual += mixer(norm1(residual)); for 'M'/'T' also residual +=
 * mlp(norm2(residual)). The residual stream is float32 (the reference's residual_in_fp32=True).
 */
public final class Block {
  public final RMSNorm norm1;
  public final Mixer mixer;
  public final RMSNorm norm2; // null without MLP
  public final SwiGLU mlp; // null without MLP
  public final char letter;
  public final int d;

  Block(Params ps, String prefix, int stage, StageConfig sc, BlockSpec spec) {
    this.d = sc.dModel();
    this.letter = spec.letter();
    // named_parameters() order of Block: norm1, mixer, norm2, mlp
    this.norm1 = new RMSNorm(ps, prefix + ".norm1", stage, d);
    this.mixer =
        spec.isMamba()
            ? new Mamba2(ps, prefix + ".mixer", stage, d, sc.ssm())
            : new CausalMHA(ps, prefix + ".mixer", stage, d, sc.attn());
    if (spec.hasMlp()) {
      this.norm2 = new RMSNorm(ps, prefix + ".norm2", stage, d);
      this.mlp = new SwiGLU(ps, prefix + ".mlp", stage, d, sc.mlpHidden());
    } else {
      this.norm2 = null;
      this.mlp = null;
    }
  }

  /**
   * residual [T × d] → the residual stream after this block, in a buffer of w (the input is left as
   * it is: the norms keep it for their backward).
   */
  float[] forward(float[] residual, SeqLens seqs, Tape tape, Arena w) {
    int T = seqs.total();
    float[] r = mixer.forward(norm1.forward(residual, T, tape, w), seqs, tape, w);
    return addMlp(r, residual, T, null, tape, w);
  }

  /** Prefill: as forward, filling the mixer's cache. */
  float[] prefill(float[] residual, SeqLens seqs, Object cache, Arena w) {
    int T = seqs.total();
    float[] r = mixer.prefill(norm1.forward(residual, T, null, w), seqs, cache, w);
    return addMlp(r, residual, T, null, null, w);
  }

  /** One position of R rows: the residual stream [R × d] → after this block. */
  float[] step(float[] residual, Object cache, boolean[] active, Arena w) {
    int R = active.length;
    float[] r = mixer.step(norm1.forward(residual, R, null, w), cache, active, w);
    return addMlp(r, residual, R, active, null, w);
  }

  /**
   * r = mixer output: adds the residual, then the MLP branch if any (its decode-step form for the
   * rows with active[r] when active is not null).
   */
  private float[] addMlp(float[] r, float[] residual, int T, boolean[] active, Tape tape, Arena w) {
    int n = T * d;
    Ops.addInPlace(r, 0, residual, 0, n);
    if (mlp == null) return r;
    float[] h = norm2.forward(r, T, tape, w);
    float[] r2 = active != null ? mlp.step(h, T, active, w) : mlp.forward(h, T, tape, w);
    Ops.addInPlace(r2, 0, r, 0, n);
    return r2;
  }

  /** ∂L/∂(residual out) → ∂L/∂(residual in), in a buffer of w. */
  float[] backward(float[] dOut, Tape tape, Arena w) {
    float[] g = dOut;
    if (mlp != null) // the residual's gradient added as dx is written
    g = norm2.backward(mlp.backward(g, tape, w), g, tape, w);
    return norm1.backward(mixer.backward(g, tape, w), g, tape, w);
  }
}
