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

  /** Updates the residual stream [T × d] in place. */
  public void forward(float[] residual, SeqLens seqs) {
    int T = seqs.total();
    float[] h = mixer.forward(norm1.forward(residual, T), seqs);
    Ops.addInPlace(residual, 0, h, 0, residual.length);
    if (mlp != null) {
      h = mlp.forward(norm2.forward(residual, T), T);
      Ops.addInPlace(residual, 0, h, 0, residual.length);
    }
  }
}
