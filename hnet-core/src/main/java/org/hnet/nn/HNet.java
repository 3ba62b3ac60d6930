package org.hnet.nn;

import java.util.List;
import org.hnet.config.HNetConfig;
import org.hnet.config.StageConfig;

/**
 * One H-Net stage (the reference's HNet module), recursive: encoder → routing → chunk → main
 * network (the next stage, or an isotropic stack at the innermost stage) → dechunk → + residual →
 * decoder. Inputs narrower than this stage's width are padded with the learned pad_dimension, and
 * the output is cut back to the input width.
 */
public final class HNet {
  public final int stage;
  public final int d;
  public final boolean innermost;
  public final Param padDimension; // (d − d_{s−1},) or null
  public final Isotropic encoder; // null at the innermost stage
  public final HNet mainNetwork; // the next stage; null at the innermost stage
  public final Isotropic innermostNetwork; // only at the innermost stage
  public final Isotropic decoder;
  public final RoutingModule routingModule;
  public final Linear residualProj;

  HNet(Params ps, String prefix, HNetConfig cfg, int stage) {
    StageConfig sc = cfg.stage(stage);
    this.stage = stage;
    this.d = sc.dModel();
    this.innermost = sc.innermost();
    int dPrev = stage == 0 ? d : cfg.stage(stage - 1).dModel();
    // named_parameters() order of HNet: its own pad_dimension first, then the submodules in
    // registration order: encoder, main_network, decoder, routing_module, residual_proj
    this.padDimension = d > dPrev ? ps.take(prefix + ".pad_dimension", stage, false, d - dPrev) : null;
    if (innermost) {
      this.innermostNetwork = new Isotropic(ps, prefix + ".main_network", stage, sc, sc.main());
      this.encoder = null;
      this.mainNetwork = null;
      this.decoder = null;
      this.routingModule = null;
      this.residualProj = null;
    } else {
      this.innermostNetwork = null;
      this.encoder = new Isotropic(ps, prefix + ".encoder", stage, sc, sc.encoder());
      this.mainNetwork = new HNet(ps, prefix + ".main_network", cfg, stage + 1);
      this.decoder = new Isotropic(ps, prefix + ".decoder", stage, sc, sc.decoder());
      this.routingModule = new RoutingModule(ps, prefix + ".routing_module", stage, d);
      this.residualProj = new Linear(ps, prefix + ".residual_proj", stage, d, d, true);
    }
  }

  /**
   * @param x [T × dIn], dIn ≤ d
   * @param routing receives this stage's routing output and those of the stages inside, outermost first
   * @return [T × dIn]
   */
  public float[] forward(float[] x, int dIn, SeqLens seqs, List<RoutingModule.Output> routing) {
    int T = seqs.total();
    float[] h = pad(x, dIn, T);
    if (innermost) return cut(innermostNetwork.forward(h, seqs), dIn, T);

    h = encoder.forward(h, seqs); // [T × d]
    // the residual projection is float32 in the reference too ("do the residual in fp32")
    float[] residual = residualProj.forward(h, T);
    RoutingModule.Output r = routingModule.forward(h, seqs);
    routing.add(r);
    SeqLens inner = ChunkLayer.nextSeqLens(r.boundaryMask(), seqs);
    float[] chunks = ChunkLayer.forward(h, r.boundaryMask(), d, inner.total()); // [Tc × d]
    float[] z = mainNetwork.forward(chunks, d, inner, routing); // [Tc × d]
    float[] y = DeChunkLayer.forward(z, r.boundaryProb(), r.boundaryMask(), seqs, d); // [T × d]
    // out · STE(selected_probs) + residual: the STE's forward value is exactly 1
    for (int i = 0; i < y.length; i++) y[i] += residual[i];
    return cut(decoder.forward(y, seqs), dIn, T);
  }

  /** Appends pad_dimension to every row: [T × dIn] → [T × d]. */
  private float[] pad(float[] x, int dIn, int T) {
    if (dIn == d) return x;
    float[] out = new float[T * d];
    for (int t = 0; t < T; t++) {
      System.arraycopy(x, t * dIn, out, t * d, dIn);
      System.arraycopy(padDimension.data, 0, out, t * d + dIn, d - dIn);
    }
    return out;
  }

  /** Keeps the first dIn channels of every row: [T × d] → [T × dIn]. */
  private float[] cut(float[] x, int dIn, int T) {
    if (dIn == d) return x;
    float[] out = new float[T * dIn];
    for (int t = 0; t < T; t++) System.arraycopy(x, t * d, out, t * dIn, dIn);
    return out;
  }
}
