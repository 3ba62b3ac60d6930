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
    return addMlp(r, residual, T, false);
  }

  /** Prefill: as forward, filling the mixer's cache. */
  public float[] prefill(float[] residual, SeqLens seqs, Object cache) {
    int T = seqs.total();
    float[] r = mixer.prefill(norm1.forward(residual, T), seqs, cache);
    return addMlp(r, residual, T, false);
  }

  /** One position of R rows: the residual stream [R × d] → after this block. */
  public float[] step(float[] residual, Object cache, boolean[] active) {
    int R = active.length;
    float[] r = mixer.step(norm1.forward(residual, R), cache, active);
    return addMlp(r, residual, R, true);
  }

  /** r = mixer output: adds the residual, then the MLP branch if any (its decode-step form when step). */
  private float[] addMlp(float[] r, float[] residual, int T, boolean step) {
    Ops.addInPlace(r, 0, residual, 0, r.length);
    if (mlp == null) return r;
    float[] n = norm2.forward(r, T);
    float[] r2 = step ? mlp.step(n, T) : mlp.forward(n, T);
    Ops.addInPlace(r2, 0, r, 0, r2.length);
    return r2;
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
