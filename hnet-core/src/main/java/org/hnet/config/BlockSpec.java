package org.hnet.config;

/**
 * One residual block of an isotropic stack, named by its {@code arch_layout} letter.
 *
 * <p>Letters follow the reference's {@code create_block}: {@code m} Mamba-2 mixer, {@code t} causal
 * self-attention, and the uppercase forms add a SwiGLU MLP with its own pre-norm ({@code norm2}).
 */
public record BlockSpec(char letter) {
  public static final BlockSpec MAMBA = new BlockSpec('m');
  public static final BlockSpec MAMBA_MLP = new BlockSpec('M');
  public static final BlockSpec ATTENTION = new BlockSpec('t');
  public static final BlockSpec ATTENTION_MLP = new BlockSpec('T');

  public BlockSpec {
    if (letter != 'm' && letter != 'M' && letter != 't' && letter != 'T') {
      throw new IllegalArgumentException(
          "block letter must be one of m, M, t, T; got '" + letter + "'");
    }
  }

  /** The block for a layout letter. */
  public static BlockSpec of(char letter) {
    return switch (letter) {
      case 'm' -> MAMBA;
      case 'M' -> MAMBA_MLP;
      case 't' -> ATTENTION;
      case 'T' -> ATTENTION_MLP;
      default -> new BlockSpec(letter); // throws
    };
  }

  public boolean isMamba() {
    return letter == 'm' || letter == 'M';
  }

  public boolean isAttention() {
    return letter == 't' || letter == 'T';
  }

  /** Uppercase letters carry a SwiGLU MLP (and its norm2). */
  public boolean hasMlp() {
    return letter == 'M' || letter == 'T';
  }

  /** Human-readable mixer kind. */
  public String mixerName() {
    return isMamba() ? "Mamba-2" : "attention";
  }
}
