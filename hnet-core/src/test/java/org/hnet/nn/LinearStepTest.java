package org.hnet.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.hnet.kernels.Flops;
import org.hnet.tensor.Arena;
import org.junit.jupiter.api.Test;

/** A decode step of some rows of a batch (a stage that only some rows reach). */
class LinearStepTest {
  @Test
  void aStepOfSomeRowsGivesEachActiveRowItsOwnResultAndTheOthersZero() {
    Random r = new Random(5);
    int in = 24, out = 13, R = 6;
    Map<String, float[]> w =
        Map.of("l.weight", OpsRandom.randn(r, out * in), "l.bias", OpsRandom.randn(r, out));
    Params ps = new Params(w::get);
    Linear lin = new Linear(ps, "l", 0, in, out, true, false);
    Arena ws = new Arena();
    float[] x = OpsRandom.randn(r, R * in);
    boolean[] active = {true, false, true, true, false, true};
    for (int round = 0; round < 2; round++) { // the second reuses the arena's buffers
      Flops.reset();
      ws.reset();
      float[] y = lin.step(x, R, active, ws).clone();
      assertEquals(2L * 4 * in * out, Flops.take(), "the products of the 4 active rows only");
      for (int row = 0; row < R; row++) {
        float[] want =
            active[row]
                ? lin.step(Arrays.copyOfRange(x, row * in, (row + 1) * in), 1, new Arena())
                : new float[out];
        assertArrayEquals(
            want, Arrays.copyOfRange(y, row * out, (row + 1) * out), 0f, "row " + row);
      }
      boolean[] five = {
        true, true, true, false, true, true
      }; // more rows: the gathered buffers grow
      Flops.reset();
      ws.reset();
      float[] y5 = lin.step(x, R, five, ws);
      assertEquals(2L * 5 * in * out, Flops.take());
      assertArrayEquals(
          new float[out], Arrays.copyOfRange(y5, 3 * out, 4 * out), 0f, "inactive row 3");
    }
    Flops.reset();
    ws.reset();
    float[] all = lin.step(x, R, null, ws);
    assertEquals(2L * R * in * out, Flops.take(), "null: every row");
    for (int row = 0; row < R; row++) {
      assertArrayEquals(
          lin.step(Arrays.copyOfRange(x, row * in, (row + 1) * in), 1, new Arena()),
          Arrays.copyOfRange(all, row * out, (row + 1) * out),
          0f);
    }
  }
}
