package org.hnet.nn;

import org.hnet.config.BlockSpec;
import org.hnet.config.StageConfig;
import org.hnet.kernels.Ops;

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

  Block(Params ps, String prefix, int stage, StageConfig sc, BlockSpec spec) {
    int d = sc.dModel();
    this.letter = spec.letter();
    // named_parameters() order of Block: norm1, mixer, norm2, mlp
    this.norm1 = new RMSNorm(ps, prefix + ".norm1", stage, d);
    this.mixer = spec.isMamba()
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
   * residual [T × d] → the residual stream after this block, a new array (the input is left as it
   * is: the norms keep it for their backward).
   */
  public float[] forward(float[] residual, SeqLens seqs) {
    int T = seqs.total();
    float[] r = mixer.forward(norm1.forward(residual, T), seqs);
    Ops.addInPlace(r, 0, residual, 0, r.length);
    if (mlp != null) {
      float[] r2 = mlp.forward(norm2.forward(r, T), T);
      Ops.addInPlace(r2, 0, r, 0, r2.length);
      r = r2;
    }
    return r;
  }

  /** ∂L/∂(residual out) → ∂L/∂(residual in). */
  public float[] backward(float[] dOut) {
    float[] d = dOut;
    if (mlp != null) {
      float[] dn = norm2.backward(mlp.backward(d));
      Ops.addInPlace(dn, 0, d, 0, dn.length);
      d = dn;
    }
    float[] dn = norm1.backward(mixer.backward(d));
    Ops.addInPlace(dn, 0, d, 0, dn.length);
    return dn;
  }
}
