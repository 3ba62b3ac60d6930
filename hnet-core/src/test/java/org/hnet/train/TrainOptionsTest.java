package org.hnet.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.hnet.HNetException;
import org.junit.jupiter.api.Test;

/** The ratio-target and α ramps, and their round trip through options.json. */
class TrainOptionsTest {
  static TrainOptions with(double[] from, Double alphaFrom, long ramp) {
    return new TrainOptions(
        100,
        2,
        64,
        1,
        1e-3,
        "constant",
        0,
        new double[] {1, 1, 1},
        new double[] {4, 3},
        0.03,
        0.1,
        0.9,
        0.95,
        1e-8,
        1,
        1,
        10,
        10,
        1,
        0.1,
        "text",
        "random",
        from,
        alphaFrom,
        ramp);
  }

  @Test
  void theBoundaryRateMovesLinearlyToTheTarget() {
    TrainOptions o = with(new double[] {2, 2}, 0.3, 40);
    assertArrayEquals(new double[] {2, 2}, o.ratioAt(0), 1e-12);
    // halfway: rate (1/2 + 1/4)/2 = 3/8, N = 8/3; (1/2 + 1/3)/2 = 5/12, N = 12/5
    assertArrayEquals(new double[] {8.0 / 3, 12.0 / 5}, o.ratioAt(20), 1e-12);
    assertArrayEquals(new double[] {4, 3}, o.ratioAt(40), 1e-12);
    assertArrayEquals(new double[] {4, 3}, o.ratioAt(99), 1e-12);
    assertEquals(0.3, o.alphaAt(0), 1e-12);
    assertEquals(0.165, o.alphaAt(20), 1e-12);
    assertEquals(0.03, o.alphaAt(40), 1e-12);
    TrainOptions none = with(null, null, 0);
    assertArrayEquals(new double[] {4, 3}, none.ratioAt(0), 0);
    assertEquals(0.03, none.alphaAt(0), 0);
    TrainOptions back = TrainOptions.fromJson(o.toJson(), "options.json");
    assertArrayEquals(o.ratioFrom(), back.ratioFrom(), 0);
    assertEquals(o.alphaFrom(), back.alphaFrom());
    assertEquals(o.ramp(), back.ramp());
  }

  @Test
  void badRampsAreNamed() {
    assertThrows(HNetException.class, () -> with(new double[] {2}, null, 10));
    assertThrows(HNetException.class, () -> with(new double[] {1, 2}, null, 10));
    assertThrows(HNetException.class, () -> with(null, -1.0, 10));
    assertThrows(HNetException.class, () -> with(null, null, -1));
  }
}
