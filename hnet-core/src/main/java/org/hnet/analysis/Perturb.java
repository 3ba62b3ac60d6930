package org.hnet.analysis;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import org.hnet.HNetException;

/**
 * Character-level noise for robustness evaluation, in the spirit of the byte-level robustness
 * experiments of ByT5 (Xue et al. 2022), CANINE (Clark et al. 2022) and H-Net (Hwang et al. 2025,
 * arXiv 2507.07955).
 *
 * <p>All kinds work on <b>characters</b>: well-formed UTF-8 sequences, never split; a malformed
 * byte counts as a one-byte character and is kept as it is. So an input without malformed bytes
 * gives an output without them. Every character (or pair) gets one independent draw from a {@link
 * SplittableRandom} seeded with {@code seed}, in text order, so the output is a function of (text,
 * kind, rate, seed). Rate 0 returns the text unchanged.
 *
 * <ul>
 *   <li>{@link Kind#CASE}: each ASCII letter (A–Z, a–z) flips case with probability {@code rate};
 *       every other character is kept. Realised rate = flipped letters / ASCII letters.
 *   <li>{@link Kind#DELETE}: each character is deleted with probability {@code rate}. Realised rate
 *       = deleted / characters.
 *   <li>{@link Kind#REPEAT}: each character is written twice (repeated once more) with probability
 *       {@code rate}. Realised rate = repeated / characters.
 *   <li>{@link Kind#SWAP}: scanning left to right, at character i (with a character i+1 after it)
 *       the pair (i, i+1) is swapped with probability {@code rate}; a swapped pair is skipped as a
 *       whole (pairs do not overlap), otherwise the scan moves on by one. Realised rate = swaps /
 *       draws (one draw per pair considered; swapping two equal characters counts).
 *   <li>{@link Kind#NOSPACE}: each ASCII whitespace character (space, \t, \n, VT, \f, \r) is
 *       removed with probability {@code rate}; rate 1 gives whitespace-free text. Realised rate =
 *       removed / ASCII whitespace characters.
 * </ul>
 */
public final class Perturb {
  private Perturb() {}

  /** The kinds of perturbation; see the class javadoc for each definition. */
  public enum Kind {
    CASE,
    DELETE,
    REPEAT,
    SWAP,
    NOSPACE;

    /**
     * The kind named by {@code s} (case-insensitive; "-" and "_" ignored, so "no-space" works).
     *
     * @throws HNetException naming the accepted kinds
     */
    public static Kind parse(String s) {
      String k =
          s == null ? "" : s.trim().replace("-", "").replace("_", "").toUpperCase(Locale.ROOT);
      for (Kind kind : values()) {
        if (kind.name().equals(k)) return kind;
      }
      throw new HNetException(
          "unknown perturbation '"
              + s
              + "'; expected one of: "
              + Arrays.stream(values())
                  .map(v -> v.name().toLowerCase(Locale.ROOT))
                  .collect(Collectors.joining(", ")));
    }
  }

  /**
   * A perturbed text and what was done to it.
   *
   * @param text the perturbed bytes
   * @param eligible units that got a draw (letters for CASE, characters for DELETE/REPEAT, pairs
   *     considered for SWAP, whitespace characters for NOSPACE)
   * @param changed of those, the ones perturbed
   */
  public record Result(byte[] text, int eligible, int changed) {
    /** changed / eligible: the realised rate (0 when nothing was eligible). */
    public double measuredRate() {
      return eligible == 0 ? 0 : (double) changed / eligible;
    }
  }

  /** The perturbed text; see {@link #perturb} for the details. */
  public static byte[] apply(byte[] text, Kind kind, double rate, long seed) {
    return perturb(text, kind, rate, seed).text();
  }

  /** The realised rate of applying {@code kind} at {@code rate} with {@code seed}. */
  public static double measuredRate(byte[] text, Kind kind, double rate, long seed) {
    return perturb(text, kind, rate, seed).measuredRate();
  }

  /**
   * Applies {@code kind} at {@code rate} to {@code text}.
   *
   * @throws HNetException if rate is not in [0, 1]
   */
  public static Result perturb(byte[] text, Kind kind, double rate, long seed) {
    if (!(rate >= 0 && rate <= 1)) {
      throw new HNetException("perturbation rate must be in [0, 1], got " + rate);
    }
    int[] starts = Utf8.starts(text);
    int chars = starts.length - 1;
    SplittableRandom rng = new SplittableRandom(seed);
    ByteArrayOutputStream out = new ByteArrayOutputStream(text.length + text.length / 8 + 16);
    int eligible = 0;
    int changed = 0;
    switch (kind) {
      case CASE -> {
        for (int c = 0; c < chars; c++) {
          int b = text[starts[c]];
          boolean letter =
              starts[c + 1] - starts[c] == 1 && ((b | 0x20) >= 'a' && (b | 0x20) <= 'z');
          if (letter) {
            eligible++;
            if (rng.nextDouble() < rate) {
              changed++;
              b ^= 0x20; // ASCII case bit
            }
          }
          if (letter) {
            out.write(b);
          } else {
            out.write(text, starts[c], starts[c + 1] - starts[c]);
          }
        }
      }
      case DELETE, REPEAT -> {
        eligible = chars;
        for (int c = 0; c < chars; c++) {
          int len = starts[c + 1] - starts[c];
          boolean hit = rng.nextDouble() < rate;
          if (hit) changed++;
          int copies = kind == Kind.DELETE ? (hit ? 0 : 1) : (hit ? 2 : 1);
          for (int k = 0; k < copies; k++) out.write(text, starts[c], len);
        }
      }
      case SWAP -> {
        int c = 0;
        while (c < chars) {
          if (c + 1 < chars) {
            eligible++;
            if (rng.nextDouble() < rate) {
              changed++;
              out.write(text, starts[c + 1], starts[c + 2] - starts[c + 1]);
              out.write(text, starts[c], starts[c + 1] - starts[c]);
              c += 2;
              continue;
            }
          }
          out.write(text, starts[c], starts[c + 1] - starts[c]);
          c++;
        }
      }
      case NOSPACE -> {
        for (int c = 0; c < chars; c++) {
          int len = starts[c + 1] - starts[c];
          if (len == 1 && Utf8.isAsciiWhitespace(text[starts[c]])) {
            eligible++;
            if (rng.nextDouble() < rate) {
              changed++;
              continue;
            }
          }
          out.write(text, starts[c], len);
        }
      }
      default -> throw new AssertionError(kind);
    }
    return new Result(out.toByteArray(), eligible, changed);
  }
}
