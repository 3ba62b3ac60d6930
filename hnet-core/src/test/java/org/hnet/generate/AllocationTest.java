package org.hnet.generate;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.hnet.testing.Allocations;
import org.junit.jupiter.api.Test;

/** The per-byte paths must not allocate (scratch arrays are owned by the objects). */
class AllocationTest {

  @Test
  void perBytePathsDoNotAllocate() {
    SplittableRandom r = new SplittableRandom(4);
    float[] logits = new float[4 * 256];
    for (int i = 0; i < logits.length; i++) logits[i] = (float) r.nextGaussian();
    Sampler plain = new Sampler(new SamplingOptions(1, 0, 1, 1));
    Sampler filtered = new Sampler(new SamplingOptions(0.8, 50, 0.9, 2));
    Sampler greedy = new Sampler(SamplingOptions.greedy());
    // 5 6 occurs in the input, 5 6 5 never: partial matches keep the matcher busy.
    StopCondition stop = new StopCondition(Integer.MAX_VALUE, false, List.of(new byte[] {5, 6, 5}));
    Utf8Stream utf8 = new Utf8Stream();
    int sink = 0;
    long before = 0;
    for (int round = 0; round < 2; round++) { // round 0 warms up
      if (round == 1) before = Allocations.ofThisThread();
      for (int i = 0; i < 20_000; i++) {
        int off = (i & 3) * 256;
        sink += plain.sample(logits, off, 256);
        sink += filtered.sample(logits, off, 256);
        sink += greedy.sample(logits, off, 256);
        sink += stop.accept(i & 0x7F) ? 1 : 0;
        sink += utf8.push(i & 0x7F).length(); // ASCII: shared strings
      }
    }
    long bytes = Allocations.ofThisThread() - before;
    assertTrue(bytes < 4096, "allocated " + bytes + " bytes over 100k calls (sink " + sink + ")");
  }
}
