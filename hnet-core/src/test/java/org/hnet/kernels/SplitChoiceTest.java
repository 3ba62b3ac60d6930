package org.hnet.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** SplitChoice: measures both modes, keeps the faster, probes the other, follows a change. */
class SplitChoiceTest {
  /**
   * Runs n calls where a split call takes splitNs and a serial one serialNs per unit; returns how
   * many split.
   */
  static int run(SplitChoice c, int n, long splitNs, long serialNs) {
    int splits = 0;
    for (int i = 0; i < n; i++) {
      boolean s = c.split();
      if (s) splits++;
      c.record(s, (s ? splitNs : serialNs) * 100, 100);
    }
    return splits;
  }

  @Test
  void keepsTheFasterModeAndProbesTheOther() {
    SplitChoice c = new SplitChoice("hnet.test.unset");
    assertEquals(
        3, run(c, 6, 10, 20), "alternates until each mode has " + SplitChoice.KEPT + " times");
    assertEquals(
        80 - 80 / SplitChoice.PROBE, run(c, 80, 10, 20), "split is faster: serial only on probes");
    // the machine changes: splitting now loses; after a few calls the choice follows
    int late = 0;
    for (int i = 0; i < 80; i++) {
      boolean s = c.split();
      if (i >= 20 && s) late++;
      c.record(s, (s ? 30 : 20) * 100L, 100);
    }
    assertEquals(60.0 / SplitChoice.PROBE, late, 1, "serial is faster now: split only on probes");
  }

  @Test
  void oneOutlierDoesNotFlipTheChoice() {
    SplitChoice c = new SplitChoice("hnet.test.unset");
    run(c, 6, 10, 20);
    c.record(true, 1_000_000, 100); // e.g. a garbage collection during a split call
    assertTrue(c.split() || c.split(), "the best of the last three split times is still 10");
  }

  @Test
  void warmUpTimesDoNotOutliveAFasterMeasurement() {
    SplitChoice c = new SplitChoice("hnet.test.unset");
    // the JIT warm-up: both modes' first times are 100× their later ones, the split's the worst
    for (int i = 0; i < 6; i++) {
      boolean s = c.split();
      c.record(s, (s ? 5000 : 2000) * 100L, 100);
    }
    int splits = run(c, 40, 10, 20); // compiled: split twice as fast
    assertTrue(
        splits >= 40 - 40 / SplitChoice.PROBE - 16,
        "split chosen once one probe has seen it fast: " + splits);
  }

  @Test
  void forceFixesTheMode() {
    SplitChoice c = new SplitChoice("hnet.test.unset");
    c.force = false;
    assertEquals(0, run(c, 20, 1, 1000));
    c.force = true;
    assertEquals(20, run(c, 20, 1000, 1));
    System.setProperty("hnet.test.splitChoice", "false");
    try {
      assertFalse(new SplitChoice("hnet.test.splitChoice").split());
    } finally {
      System.clearProperty("hnet.test.splitChoice");
    }
  }
}
