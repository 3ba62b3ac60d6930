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
        ramp,
        null,
        null);
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

  @Test
  void anExtendedRunReWarmsToTheScheduleOfItsNewTotal() {
    TrainOptions o =
        TrainOptions.builder(
                org.hnet.config.HNetConfig.parse(
                    """
                    {"arch_layout": ["m1", ["T1"], "m1"], "d_model": [32, 64],
                     "d_intermediate": [0, 128],
                     "ssm_cfg": {"d_state": 8, "expand": 2, "chunk_size": 16, "d_conv": 4},
                     "attn_cfg": {"num_heads": [2, 2], "rotary_emb_dim": [8, 16],
                                  "window_size": [-1, -1]}}
                    """,
                    "tiny.json"))
            .steps(100)
            .lr(1e-3)
            .warmup(10)
            .schedule("wsd:0.2")
            .build();
    double last = o.learningRate().lr(99);
    assertEquals(1e-3 / 20, last, 1e-15, "WSD decays to 0 at step 100");
    TrainOptions x = o.extendedTo(200, 100, last);
    var lr = x.learningRate();
    assertEquals(last + (1e-3 - last) / 10, lr.lr(100), 1e-15, "one tenth of the way up");
    assertEquals(1e-3, lr.lr(109), 1e-15, "the peak after the warmup steps");
    assertEquals(1e-3, lr.lr(159), 1e-15, "stable until the new decay");
    assertEquals(1e-3 / 40, lr.lr(199), 1e-15, "and decays to 0 at the new total");
    assertEquals(o.learningRate().lr(50), lr.lr(50), 0, "the past is the old schedule's");
    TrainOptions back = TrainOptions.fromJson(x.toJson(), "options.json");
    assertEquals(x.extension(), back.extension());
    assertEquals(lr.lr(105), back.learningRate().lr(105), 0);
    assertThrows(HNetException.class, () -> o.extendedTo(200, 300, last), "at past the end");
  }
}
