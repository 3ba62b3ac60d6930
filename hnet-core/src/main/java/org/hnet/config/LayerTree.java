package org.hnet.config;

import java.util.List;
import java.util.Locale;

/** Renders {@link HNetConfig#layerTree()}: one line per stack, block and stage-level module. */
final class LayerTree {
  private final HNetConfig config;
  private final StringBuilder sb = new StringBuilder();

  private LayerTree(HNetConfig config) {
    this.config = config;
  }

  static String render(HNetConfig config) {
    LayerTree t = new LayerTree(config);
    t.root();
    return t.sb.toString();
  }

  private void root() {
    int d0 = config.stage(0).dModel();
    int stages = config.numStages() - 1;
    line(
        0,
        "HNetForCausalLM: %s, vocab %d, %s, %s parameters",
        config.tokenizer() != null
            ? "token-level, isotropic (tokenizer " + config.tokenizer() + ")"
            : stages == 0
                ? "isotropic (no chunking, 1 level)"
                : String.format(
                    java.util.Locale.ROOT,
                    "%d-stage H-Net (%d chunking stage%s, %d levels)",
                    stages,
                    stages,
                    stages == 1 ? "" : "s",
                    stages + 1),
        config.vocabSize(),
        config.tieEmbeddings() ? "tied embeddings" : "untied embeddings",
        count(config.parameterCount()));
    line(
        1,
        "embeddings (%d, %d) + lm_head (%d, %d)%s: %s parameters",
        config.vocabSize(),
        d0,
        config.vocabSize(),
        d0,
        config.tieEmbeddings() ? " [tied]" : "",
        count(config.embeddingParameterCount()));
    stage(0, 1, "backbone");
  }

  private void stage(int s, int depth, String module) {
    StageConfig st = config.stage(s);
    int d = st.dModel();
    String mlp =
        st.dIntermediate() == 0
            ? "no MLP"
            : "MLP hidden " + st.mlpHidden() + " (d_intermediate " + st.dIntermediate() + ")";
    line(
        depth,
        "level %d [%s]%s: d_model %d, %s, %s parameters",
        s,
        module,
        st.innermost() ? " innermost" : "",
        d,
        mlp,
        count(config.parameterCount(s)));
    if (s > 0 && d > config.stage(s - 1).dModel()) {
      line(
          depth + 1,
          "pad_dimension (%d,): %d -> %d",
          d - config.stage(s - 1).dModel(),
          config.stage(s - 1).dModel(),
          d);
    }
    if (st.innermost()) {
      stack(depth + 1, "main_network", st, st.main());
      return;
    }
    stack(depth + 1, "encoder", st, st.encoder());
    RouterSpec rs = st.router();
    if (rs.learned()) {
      line(depth + 1, "routing_module (chunking stage %d): q_proj, k_proj (%d, %d)", s + 1, d, d);
    } else {
      line(
          depth + 1,
          "routing (chunking stage %d): %s, no weights",
          s + 1,
          rs.kind() == RouterSpec.Kind.FIXED
              ? "a boundary every " + rs.stride() + " positions"
              : "a boundary at every spacelike byte (space, punctuation, a multi-byte character)");
    }
    line(depth + 1, "residual_proj (%d, %d) + bias", d, d);
    line(depth + 1, "main_network:");
    stage(s + 1, depth + 2, module + ".main_network");
    stack(depth + 1, "decoder", st, st.decoder());
  }

  private void stack(int depth, String name, StageConfig st, List<BlockSpec> blocks) {
    line(
        depth,
        "%s (%s): %d block%s",
        name,
        StageConfig.layoutString(blocks),
        blocks.size(),
        blocks.size() == 1 ? "" : "s");
    int d = st.dModel();
    for (int i = 0; i < blocks.size(); i++) {
      BlockSpec b = blocks.get(i);
      String mixer;
      if (b.isMamba()) {
        SsmConfig ssm = st.ssm();
        mixer =
            String.format(
                Locale.ROOT,
                "Mamba-2 d_inner %d, %d heads x %d, d_state %d, d_conv %d",
                ssm.dInner(d),
                ssm.nHeads(d),
                SsmConfig.HEAD_DIM,
                ssm.dState(),
                ssm.dConv());
      } else {
        AttnConfig a = st.attn();
        mixer =
            String.format(
                Locale.ROOT,
                "attention %d heads x %d, rotary %d, window %s",
                a.numHeads(),
                a.headDim(d),
                a.rotaryEmbDim(),
                a.isGlobal() ? "global" : Integer.toString(a.windowSize()));
      }
      String mlp = b.hasMlp() ? " + SwiGLU " + d + " -> " + st.mlpHidden() + " -> " + d : "";
      line(depth + 1, "%d %c: %s%s", i, b.letter(), mixer, mlp);
    }
    line(depth + 1, "rmsnorm (%d,)", d);
  }

  private void line(int depth, String format, Object... args) {
    sb.append("  ".repeat(depth)).append(String.format(Locale.ROOT, format, args)).append('\n');
  }

  private static String count(long n) {
    return String.format(Locale.ROOT, "%,d", n);
  }
}
