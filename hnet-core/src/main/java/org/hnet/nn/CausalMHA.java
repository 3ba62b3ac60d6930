package org.hnet.nn;

import org.hnet.config.AttnConfig;
import org.hnet.kernels.Attention;

/**
 * Causal multi-head self-attention (the reference's CausalMHA): Wqkv (3d, d) laid out (3, H, P), no
 * biases, rotary on the first rotary_emb_dim channels of each head (GPT-NeoX, base 10000), optional
 * sliding window, softmax scale 1/sqrt(P).
 */
public final class CausalMHA implements Mixer {
  public final Linear wqkv;
  public final Linear outProj;
  public final int d, nHeads, headDim, rotaryDim, window;

  CausalMHA(Params ps, String prefix, int stage, int d, AttnConfig cfg) {
    this.d = d;
    this.nHeads = cfg.numHeads();
    this.headDim = d / nHeads;
    this.rotaryDim = cfg.rotaryEmbDim();
    this.window = cfg.windowSize();
    this.wqkv = new Linear(ps, prefix + ".Wqkv", stage, d, 3 * d, false);
    this.outProj = new Linear(ps, prefix + ".out_proj", stage, d, d, false);
  }

  @Override
  public float[] forward(float[] x, SeqLens seqs) {
    int T = seqs.total();
    float[] qkv = wqkv.forward(x, T); // [T × 3 × H × P]
    float[] o = new float[T * d]; // [T × H × P]
    Attention.forward(o, 0, qkv, 0, 3 * d, seqs.cu(), seqs.count(), nHeads, headDim, rotaryDim, window);
    return outProj.forward(o, T);
  }
}
