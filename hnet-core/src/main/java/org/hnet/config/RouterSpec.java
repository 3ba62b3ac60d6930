package org.hnet.config;

import java.util.Locale;

/**
 * How a stage decides its chunk boundaries: {@code learned} (the paper's routing module, the
 * official configs' only kind), or a fixed rule for the baselines the paper compares against:
 * {@code fixed:K} (a chunk every K positions of each sequence) and {@code space} (a chunk at every
 * "spacelike" byte, SpaceByte's rule: a byte that is neither an ASCII letter or digit nor a UTF-8
 * continuation byte, i.e. whitespace, punctuation and the first byte of every multi-byte character;
 * the outer stage only). A rule-based stage has no routing weights; its boundary probability is 1
 * at a boundary and 0 elsewhere, so the dechunking copies each chunk's output and the STE's value
 * is 1 everywhere.
 *
 * <p>In a config: {@code "routing_mode": ["space"]} or {@code ["fixed:4", "learned"]}, one entry
 * per chunking stage, outer first; absent means learned everywhere.
 */
public record RouterSpec(Kind kind, int stride) {
  public enum Kind {
    LEARNED,
    FIXED,
    SPACE
  }

  public static final RouterSpec LEARNED = new RouterSpec(Kind.LEARNED, 0);
  public static final RouterSpec SPACE = new RouterSpec(Kind.SPACE, 0);

  /** The longest fixed stride accepted. */
  public static final int MAX_STRIDE = 1 << 16;

  public RouterSpec {
    if (kind == Kind.FIXED && (stride < 1 || stride > MAX_STRIDE))
      throw new IllegalArgumentException("fixed stride must be in [1, " + MAX_STRIDE + "]");
  }

  public static RouterSpec fixed(int k) {
    return new RouterSpec(Kind.FIXED, k);
  }

  public boolean learned() {
    return kind == Kind.LEARNED;
  }

  /** "learned", "fixed:4", "space": the config's spelling. */
  public String id() {
    return kind == Kind.FIXED ? "fixed:" + stride : kind.name().toLowerCase(Locale.ROOT);
  }

  /**
   * Parses the config's spelling.
   *
   * @return null when {@code s} is not one ({@link ConfigParser} names the field)
   */
  static RouterSpec parse(String s) {
    if (s == null) return null;
    switch (s) {
      case "learned":
        return LEARNED;
      case "space":
        return SPACE;
      default:
        if (!s.startsWith("fixed:")) return null;
        try {
          int k = Integer.parseInt(s.substring(6));
          return k >= 1 && k <= MAX_STRIDE ? fixed(k) : null;
        } catch (NumberFormatException e) {
          return null;
        }
    }
  }

  /** SpaceByte's spacelike bytes: not an ASCII letter or digit, not a UTF-8 continuation byte. */
  public static boolean spacelike(int b) {
    b &= 0xff;
    boolean alnum = (b >= '0' && b <= '9') || (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z');
    boolean continuation = b >= 0x80 && b < 0xc0;
    return !alnum && !continuation;
  }
}
