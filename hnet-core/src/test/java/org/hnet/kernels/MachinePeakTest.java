package org.hnet.kernels;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MachinePeakTest {
  @Test
  void decodeRatesArePositiveForEveryFormatAndOddWidths() {
    for (CompactWeight.Format f :
        new CompactWeight.Format[] {null, CompactWeight.Format.BF16, CompactWeight.Format.INT8}) {
      for (int k : new int[] {1, 37, 256}) {
        double r = MachinePeak.decodeWeightsPerSecond(f, k, 64 << 10, 1, 5);
        assertTrue(r > 0 && Double.isFinite(r), f + " k=" + k + ": " + r);
      }
    }
  }

  @Test
  void decodeRateRejectsEmptyShapesAndRuns() {
    assertThrows(
        IllegalArgumentException.class, () -> MachinePeak.decodeWeightsPerSecond(null, 0, 1, 1, 1));
    assertThrows(
        IllegalArgumentException.class,
        () -> MachinePeak.decodeWeightsPerSecond(CompactWeight.Format.INT8, 64, 1 << 20, 0, 1));
  }
}
