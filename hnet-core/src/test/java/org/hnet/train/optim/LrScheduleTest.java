package org.hnet.train.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.hnet.HNetException;
import org.junit.jupiter.api.Test;

class LrScheduleTest {
  private static final double TOL = 1e-12;

  @Test
  void constantWarmsUpLinearlyThenHolds() {
    LrSchedule s = LrSchedule.constant(1e-3, 10);
    assertEquals(1e-4, s.lr(0), TOL);
    assertEquals(5e-4, s.lr(4), TOL);
    assertEquals(1e-3, s.lr(9), TOL); // last warmup step reaches the peak
    assertEquals(1e-3, s.lr(10), TOL);
    assertEquals(1e-3, s.lr(1_000_000), TOL);
    assertEquals(2.0, LrSchedule.constant(2.0, 0).lr(0), 0.0);
  }

  @Test
  void cosineKeySteps() {
    LrSchedule s = LrSchedule.cosine(1.0, 10, 110, 0.1);
    assertEquals(0.1, s.lr(0), TOL);
    assertEquals(1.0, s.lr(9), TOL);
    assertEquals(1.0, s.lr(10), TOL);
    assertEquals(0.55, s.lr(60), TOL); // halfway through the decay: (peak + min) / 2
    assertEquals(0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * 99 / 100)), s.lr(109), TOL);
    assertEquals(0.1, s.lr(110), TOL);
    assertEquals(0.1, s.lr(5000), TOL);
    assertMonotone(s, 0, 10, +1);
    assertMonotone(s, 10, 200, -1);
  }

  @Test
  void wsdKeySteps() {
    LrSchedule s = LrSchedule.wsd(1.0, 10, 100, 0.2); // decay over steps [80, 100)
    assertEquals(0.1, s.lr(0), TOL);
    assertEquals(1.0, s.lr(9), TOL);
    assertEquals(1.0, s.lr(10), TOL);
    assertEquals(1.0, s.lr(50), TOL);
    assertEquals(1.0, s.lr(80), TOL); // decay start
    assertEquals(0.5, s.lr(90), TOL);
    assertEquals(0.05, s.lr(99), TOL); // last step still learns
    assertEquals(0.0, s.lr(100), 0.0);
    assertEquals(0.0, s.lr(150), 0.0);
    assertMonotone(s, 0, 10, +1);
    assertMonotone(s, 10, 120, -1);
    assertEquals(1.0, LrSchedule.wsd(1.0, 0, 100, 0.0).lr(99), 0.0); // no decay phase
  }

  private static void assertMonotone(LrSchedule s, long from, long to, int sign) {
    for (long i = from; i + 1 < to; i++) {
      double d = s.lr(i + 1) - s.lr(i);
      assertTrue(sign > 0 ? d >= 0 : d <= 0, s.describe() + " not monotone at " + i);
    }
  }

  @Test
  void parseKindsAndArguments() {
    assertEquals(
        LrSchedule.constant(1.0, 5).lr(2), LrSchedule.parse("constant", 1.0, 5, 100).lr(2), 0.0);
    assertEquals(
        LrSchedule.cosine(1.0, 5, 100, 0.1).lr(50),
        LrSchedule.parse("cosine", 1.0, 5, 100).lr(50),
        0.0);
    assertEquals(
        LrSchedule.cosine(1.0, 5, 100, 0.0).lr(100),
        LrSchedule.parse("cosine:0", 1.0, 5, 100).lr(100),
        0.0);
    assertEquals(
        LrSchedule.wsd(1.0, 5, 100, 0.2).lr(90), LrSchedule.parse("wsd", 1.0, 5, 100).lr(90), 0.0);
    assertEquals(0.5, LrSchedule.parse(" WSD:0.5 ", 1.0, 5, 100).lr(75), TOL);
    for (String spec : new String[] {"constant", "cosine:0.05", "wsd:0.3"}) {
      String d = LrSchedule.parse(spec, 3e-4, 5, 100).describe();
      assertTrue(
          d.startsWith(
              spec.substring(0, spec.indexOf(':') < 0 ? spec.length() : spec.indexOf(':'))),
          d);
    }
  }

  @Test
  void parseErrorsNameTheSpec() {
    for (String spec :
        new String[] {"linear", "wsd:abc", "wsd:1.5", "cosine:-0.1", "constant:1", ""}) {
      HNetException e =
          assertThrows(HNetException.class, () -> LrSchedule.parse(spec, 1.0, 5, 100), spec);
      assertTrue(e.getMessage().contains("'" + spec + "'"), e.getMessage());
    }
    HNetException e =
        assertThrows(HNetException.class, () -> LrSchedule.parse("cosine", 1.0, 200, 100));
    assertTrue(
        e.getMessage().contains("'cosine'") && e.getMessage().contains("warmup"), e.getMessage());
    e = assertThrows(HNetException.class, () -> LrSchedule.parse("wsd:0.5", 1.0, 60, 100));
    assertTrue(e.getMessage().contains("'wsd:0.5'"), e.getMessage());
    assertThrows(HNetException.class, () -> LrSchedule.parse(null, 1.0, 5, 100));
  }

  @Test
  void factoriesRejectNonsense() {
    assertThrows(IllegalArgumentException.class, () -> LrSchedule.cosine(1.0, 0, 0, 0.1));
    assertThrows(IllegalArgumentException.class, () -> LrSchedule.wsd(-1.0, 0, 10, 0.2));
    assertThrows(IllegalArgumentException.class, () -> LrSchedule.constant(1.0, -1));
  }
}
