package org.hnet.config;

import java.util.ArrayList;
import java.util.List;

/**
 * Enumerates the state_dict of the reference's {@code HNetForCausalLM} for a config.
 *
 * <p>Order is PyTorch's {@code named_parameters()} / {@code state_dict()} order: a module's own
 * parameters first, then its children in registration order, depth first. That is why, for example,
 * a stage's {@code pad_dimension} (its own parameter) precedes its encoder, and Mamba-2's {@code
 * dt_bias, A_log, D} precede {@code in_proj}. Registration order comes from the reference
 * constructors: HNetForCausalLM (embeddings, backbone, lm_head), HNet (encoder, main_network,
 * decoder, routing_module, residual_proj), Isotropic (layers, rmsnorm), Block (norm1, mixer, norm2,
 * mlp), Mamba2 (in_proj, conv1d, norm, out_proj), CausalMHA (Wqkv, out_proj), SwiGLU (fc1, fc2).
 * Modules without parameters (chunk/dechunk layers) and non-persistent buffers (rotary inv_freq) do
 * not appear.
 */
final class ParameterShapes {
  /** Stage value of the parameters outside every stage (embeddings, lm_head). */
  static final int NO_STAGE = -1;

  /**
   * One state_dict entry, the stage it belongs to, and whether it is a large product's weight (out,
   * in): a mixer's or an MLP's Linear layer, the weights a bf16 or int8 model holds compact.
   */
  record Param(String name, int[] shape, int stage, boolean product) {
    long numel() {
      long n = 1;
      for (int d : shape) {
        n *= d;
      }
      return n;
    }
  }

  private final HNetConfig config;
  private final List<Param> out = new ArrayList<>();

  private ParameterShapes(HNetConfig config) {
    this.config = config;
  }

  static List<Param> of(HNetConfig config) {
    ParameterShapes p = new ParameterShapes(config);
    p.build();
    return List.copyOf(p.out);
  }

  private void build() {
    int v = config.vocabSize();
    int d0 = config.stage(0).dModel();
    add("embeddings.weight", NO_STAGE, v, d0);
    stage(0, "backbone.");
    // Present in the state_dict even when tied (then it is the same tensor as embeddings.weight).
    add("lm_head.weight", NO_STAGE, v, d0);
  }

  private void stage(int s, String prefix) {
    StageConfig st = config.stage(s);
    int d = st.dModel();
    if (s > 0) {
      int pad = d - config.stage(s - 1).dModel();
      if (pad > 0) {
        add(prefix + "pad_dimension", s, pad);
      }
    }
    if (st.innermost()) {
      isotropic(prefix + "main_network.", st, st.main());
      return;
    }
    isotropic(prefix + "encoder.", st, st.encoder());
    stage(s + 1, prefix + "main_network.");
    isotropic(prefix + "decoder.", st, st.decoder());
    if (st.router().learned()) { // a rule-based stage has no routing weights
      add(prefix + "routing_module.q_proj_layer.weight", s, d, d);
      add(prefix + "routing_module.k_proj_layer.weight", s, d, d);
    }
    add(prefix + "residual_proj.weight", s, d, d);
    add(prefix + "residual_proj.bias", s, d);
  }

  private void isotropic(String prefix, StageConfig st, List<BlockSpec> blocks) {
    int s = st.index();
    int d = st.dModel();
    for (int i = 0; i < blocks.size(); i++) {
      String b = prefix + "layers." + i + ".";
      BlockSpec block = blocks.get(i);
      add(b + "norm1.weight", s, d);
      if (block.isMamba()) {
        SsmConfig ssm = st.ssm();
        int heads = ssm.nHeads(d);
        add(b + "mixer.dt_bias", s, heads);
        add(b + "mixer.A_log", s, heads);
        add(b + "mixer.D", s, heads);
        product(b + "mixer.in_proj.weight", s, ssm.inProjDim(d), d);
        add(b + "mixer.conv1d.weight", s, ssm.convDim(d), 1, ssm.dConv());
        add(b + "mixer.conv1d.bias", s, ssm.convDim(d));
        add(b + "mixer.norm.weight", s, ssm.dInner(d));
        product(b + "mixer.out_proj.weight", s, d, ssm.dInner(d));
      } else {
        product(b + "mixer.Wqkv.weight", s, 3 * d, d);
        product(b + "mixer.out_proj.weight", s, d, d);
      }
      if (block.hasMlp()) {
        int h = st.mlpHidden();
        add(b + "norm2.weight", s, d);
        product(b + "mlp.fc1.weight", s, 2 * h, d);
        product(b + "mlp.fc2.weight", s, d, h);
      }
    }
    add(prefix + "rmsnorm.weight", s, d);
  }

  private void add(String name, int stage, int... shape) {
    out.add(new Param(name, shape.clone(), stage, false));
  }

  /** A large product's weight (out, in). */
  private void product(String name, int stage, int out, int in) {
    this.out.add(new Param(name, new int[] {out, in}, stage, true));
  }
}
