package org.hnet.config;

import java.util.List;
import java.util.Objects;

/**
 * One stage of the hierarchy: stage 0 works on bytes, stage s+1 on the chunks chosen by stage s.
 *
 * <p>A non-innermost stage has an encoder and a decoder stack (and, in the model, a routing module
 * and residual projection) around the next stage; the innermost stage is a single stack ({@code
 * main}). The reference ({@code hnet/models/hnet.py}) builds exactly this from the nested {@code
 * arch_layout}.
 *
 * @param index stage index, 0 = byte level
 * @param dModel width of this stage
 * @param dIntermediate {@code d_intermediate} as configured (0: no MLP); see {@link #mlpHidden()}
 * @param encoder blocks of the encoder stack (empty at the innermost stage)
 * @param main blocks of the innermost stack (empty unless innermost)
 * @param decoder blocks of the decoder stack (empty at the innermost stage)
 * @param innermost whether this is the last stage
 * @param router how this stage chunks (learned for the innermost stage, which does not)
 */
public record StageConfig(
    int index,
    int dModel,
    int dIntermediate,
    List<BlockSpec> encoder,
    List<BlockSpec> main,
    List<BlockSpec> decoder,
    boolean innermost,
    SsmConfig ssm,
    AttnConfig attn,
    RouterSpec router) {

  /** SwiGLU's {@code multiple_of}: the hidden width is rounded up to a multiple of this. */
  public static final int MLP_MULTIPLE_OF = 128;

  public StageConfig {
    encoder = List.copyOf(encoder);
    main = List.copyOf(main);
    decoder = List.copyOf(decoder);
    Objects.requireNonNull(ssm, "ssm");
    Objects.requireNonNull(attn, "attn");
    Objects.requireNonNull(router, "router");
    if (index < 0 || dModel < 1 || dIntermediate < 0) {
      throw new IllegalArgumentException(
          "stage " + index + ": bad sizes d_model=" + dModel + " d_intermediate=" + dIntermediate);
    }
    boolean shapeOk =
        innermost
            ? !main.isEmpty() && encoder.isEmpty() && decoder.isEmpty()
            : main.isEmpty() && !encoder.isEmpty() && !decoder.isEmpty();
    if (!shapeOk) {
      throw new IllegalArgumentException(
          "stage "
              + index
              + ": an innermost stage has only main blocks, any other stage only encoder and"
              + " decoder blocks");
    }
  }

  /** SwiGLU hidden width: d_intermediate rounded up to a multiple of 128 (0 when no MLP). */
  public int mlpHidden() {
    return (dIntermediate + MLP_MULTIPLE_OF - 1) / MLP_MULTIPLE_OF * MLP_MULTIPLE_OF;
  }

  /** All blocks of this stage in module order: encoder then decoder, or main. */
  public List<BlockSpec> allBlocks() {
    if (innermost) {
      return main;
    }
    return java.util.stream.Stream.concat(encoder.stream(), decoder.stream()).toList();
  }

  public boolean usesMamba() {
    return allBlocks().stream().anyMatch(BlockSpec::isMamba);
  }

  public boolean usesAttention() {
    return allBlocks().stream().anyMatch(BlockSpec::isAttention);
  }

  public boolean usesMlp() {
    return allBlocks().stream().anyMatch(BlockSpec::hasMlp);
  }

  /** Run-length layout string of a block list, e.g. [T, m, m] gives "T1m2". */
  public static String layoutString(List<BlockSpec> blocks) {
    StringBuilder sb = new StringBuilder();
    int i = 0;
    while (i < blocks.size()) {
      char c = blocks.get(i).letter();
      int j = i;
      while (j < blocks.size() && blocks.get(j).letter() == c) {
        j++;
      }
      sb.append(c).append(j - i);
      i = j;
    }
    return sb.toString();
  }
}
