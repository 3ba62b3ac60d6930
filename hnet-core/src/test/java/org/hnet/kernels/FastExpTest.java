package org.hnet.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class FastExpTest {
  static final int L = VectorWidth.FLOAT.length();

  /** Distance in units in the last place between a float and the correctly rounded e^x. */
  static double ulps(float got, double x) {
    float want = (float) Math.exp(x);
    return Math.abs(got - want) / Math.ulp(want);
  }

  @Test
  void withinTwoUlpsOfMathExpOverTheWholeRange() {
    double worst = 0;
    float at = 0;
    for (float x = FastExp.LO; x <= FastExp.HI; x = Math.nextUp(x + 1e-4f * Math.abs(x))) {
      double e = ulps(FastExp.exp(x), x);
      if (e > worst) {
        worst = e;
        at = x;
      }
    }
    System.out.printf("FastExp: worst error %.2f ulp at x = %s%n", worst, at);
    assertTrue(worst <= 2, "worst " + worst + " ulp at " + at);
    assertEquals(1f, FastExp.exp(0f));
    assertEquals(1f, FastExp.exp(-0f));
  }

  @Test
  void extremesSaturateAndNanPropagates() {
    assertEquals(Float.POSITIVE_INFINITY, FastExp.exp(88.5f));
    assertEquals(Float.POSITIVE_INFINITY, FastExp.exp(Float.POSITIVE_INFINITY));
    assertEquals(0f, FastExp.exp(-87.5f));
    assertEquals(0f, FastExp.exp(Float.NEGATIVE_INFINITY));
    assertTrue(Float.isNaN(FastExp.exp(Float.NaN)));
    // the activations' large-|v| limits: no NaN from 1 + e^{-v}
    assertEquals(-0f, FastExp.silu(-200f));
    assertEquals(200f, FastExp.silu(200f));
    assertEquals(0f, FastExp.sigmoid(-200f));
    assertEquals(1f, FastExp.sigmoid(200f));
  }

  @Test
  void vectorLanesEqualTheScalarTwinBitForBit() {
    Random r = new Random(5);
    float[] x = new float[4096];
    for (int i = 0; i < x.length; i++) {
      x[i] =
          switch (i % 7) {
            case 0 -> (float) (r.nextGaussian() * 30);
            case 1 -> (float) (r.nextGaussian() * 3);
            case 2 -> (r.nextFloat() - 0.5f) * 200;
            case 3 ->
                new float[] {
                      0f,
                      -0f,
                      87.99f,
                      88f,
                      88.01f,
                      -87f,
                      -87.01f,
                      Float.NaN,
                      Float.POSITIVE_INFINITY,
                      Float.NEGATIVE_INFINITY,
                      Float.MIN_VALUE,
                      -1e-30f
                    }
                    [r.nextInt(12)];
            default -> (float) r.nextGaussian();
          };
    }
    float[] e = x.clone(), s = x.clone(), g = x.clone();
    for (int i = 0; i < x.length; i += L) {
      FastExp.exp(e, i);
      FastExp.silu(s, i);
      FastExp.sigmoid(g, i);
    }
    for (int i = 0; i < x.length; i++) {
      assertEquals(
          Float.floatToRawIntBits(FastExp.exp(x[i])),
          Float.floatToRawIntBits(e[i]),
          "exp at x = " + x[i]);
      assertEquals(
          Float.floatToRawIntBits(FastExp.silu(x[i])),
          Float.floatToRawIntBits(s[i]),
          "silu at x = " + x[i]);
      assertEquals(
          Float.floatToRawIntBits(FastExp.sigmoid(x[i])),
          Float.floatToRawIntBits(g[i]),
          "sigmoid at x = " + x[i]);
    }
  }
}
