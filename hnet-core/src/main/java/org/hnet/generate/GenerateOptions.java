package org.hnet.generate;

import java.util.List;
import org.hnet.HNetException;

/**
 * How to generate: at most {@code maxBytes} new bytes per row, sampled with {@code sampling}; stop
 * at EOS (255) when {@code stopAtEos} (the EOS is not part of the output) or after any of {@code
 * stopStrings} (which is part of it); {@code addBos} prepends BOS (254) to every prompt, as the
 * reference's generate.py does.
 */
public record GenerateOptions(
    int maxBytes,
    SamplingOptions sampling,
    boolean stopAtEos,
    List<byte[]> stopStrings,
    boolean addBos) {
  public GenerateOptions {
    if (maxBytes < 0) throw new HNetException("max bytes must not be negative, got " + maxBytes);
    stopStrings = List.copyOf(stopStrings);
  }

  public static GenerateOptions of(int maxBytes, SamplingOptions sampling) {
    return new GenerateOptions(maxBytes, sampling, true, List.of(), true);
  }
}
