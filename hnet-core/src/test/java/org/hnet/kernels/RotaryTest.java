package org.hnet.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** Dimensions: H heads, P head dim, R rotary dims, R2 = R/2. */
class RotaryTest {

  /**
   * Tables vs a double-precision evaluation of the same formula. The float32 pipeline rounds the
   * exponent 2i/R, the power, the reciprocal, the angle and cos/sin; the bound below propagates
   * those roundings: |Δangle| ≤ pos·|Δinv| + ulp(angle)/2, and cos/sin add half an ulp.
   */
  @Test
  void tablesMatchDoubleMathWithinFloatRounding() {
    double worstRatio = 0;
    for (int R : new int[] {2, 6, 8, 16, 24, 32, 64, 128}) {
      int maxPos = 5000;
      float[][] t = Rotary.tables(maxPos, R);
      float[] inv = Rotary.invFreq(R);
      for (int i = 0; i < R / 2; i++) {
        double expo = 2.0 * i / R;
        double invD = Math.pow(10000.0, -expo);
        // exponent rounding (≤ 2^-24 relative) times ln(1e4)·expo, plus pow and 1/x rounding
        double invBound = invD * (Math.log(10000.0) * expo * 0x1p-24 + 2 * 0x1p-24) * 1.01;
        assertTrue(Math.abs(inv[i] - invD) <= invBound, "inv_freq R=" + R + " i=" + i);
        for (int p = 0; p < maxPos; p += (p < 64 ? 1 : 97)) {
          double angle = p * invD;
          double angleBound = p * invBound + Math.ulp((float) angle) + 1e-30;
          double cb = angleBound + 0x1p-24;
          double dc = Math.abs(t[0][p * (R / 2) + i] - Math.cos(angle));
          double ds = Math.abs(t[1][p * (R / 2) + i] - Math.sin(angle));
          assertTrue(
              dc <= cb && ds <= cb, "R=" + R + " pos=" + p + " i=" + i + " dc=" + dc + " ds=" + ds);
          worstRatio = Math.max(worstRatio, Math.max(dc, ds) / cb);
        }
      }
    }
    System.out.printf("Rotary tables: worst |table - double| / bound = %.3f%n", worstRatio);
  }

  @Test
  void tablesAreTheFloat32Pipeline() {
    // R = 2: inv_freq = 1 exactly, so cos/sin are float32 cos/sin of (float) pos.
    float[][] t = Rotary.tables(300, 2);
    for (int p = 0; p < 300; p++) {
      assertEquals((float) Math.cos(p), t[0][p]);
      assertEquals((float) Math.sin(p), t[1][p]);
    }
    // The shared tables are a prefix-compatible copy of tables().
    float[][] a = Rotary.tables(1000, 24);
    float[][] s = Rotary.shared(1000, 24);
    for (int k = 0; k < a[0].length; k++) {
      assertEquals(a[0][k], s[0][k]);
      assertEquals(a[1][k], s[1][k]);
    }
    assertEquals(0, Rotary.tables(0, 8)[0].length);
    assertEquals(0, Rotary.tables(10, 0)[0].length);
  }

  @Test
  void applyRotatesFirstRChannelsOfEveryHead() {
    Random rnd = new Random(3);
    int H = 3, P = 10, R = 6, r2 = R / 2, off = 5;
    float[][] t = Rotary.tables(50, R);
    for (int pos : new int[] {0, 1, 7, 49}) {
      float[] v = new float[off + H * P + 4];
      for (int k = 0; k < v.length; k++) v[k] = rnd.nextFloat() * 2 - 1;
      float[] orig = v.clone();
      Rotary.apply(v, off, H, P, R, pos, t[0], t[1]);
      for (int k = 0; k < off; k++) assertEquals(orig[k], v[k]);
      for (int k = off + H * P; k < v.length; k++) assertEquals(orig[k], v[k]);
      for (int h = 0; h < H; h++) {
        int b = off + h * P;
        for (int i = 0; i < r2; i++) {
          float c = t[0][pos * r2 + i], s = t[1][pos * r2 + i];
          float x1 = orig[b + i], x2 = orig[b + i + r2];
          assertEquals(x1 * c - x2 * s, v[b + i]);
          assertEquals(x2 * c + x1 * s, v[b + i + r2]);
          // A rotation: the pair's norm is kept.
          double n0 = Math.hypot(x1, x2), n1 = Math.hypot(v[b + i], v[b + i + r2]);
          assertEquals(n0, n1, 1e-6);
        }
        for (int c = R; c < P; c++) assertEquals(orig[b + c], v[b + c]);
      }
    }
    float[] v = {1, 2, 3, 4};
    Rotary.apply(v, 0, 1, 4, 0, 9, new float[0], new float[0]);
    assertArrayEquals(new float[] {1, 2, 3, 4}, v);
    assertThrows(IllegalArgumentException.class, () -> Rotary.apply(v, 0, 1, 4, 3, 0, t[0], t[1]));
    assertThrows(IllegalArgumentException.class, () -> Rotary.apply(v, 0, 1, 4, 6, 0, t[0], t[1]));
  }

  @Test
  void scoresDependOnlyOnRelativePosition() {
    // RoPE's purpose: <rot(q, m), rot(k, n)> is a function of m − n.
    Random rnd = new Random(5);
    int P = 16, R = 16;
    float[][] t = Rotary.tables(200, R);
    float[] q = new float[P], k = new float[P];
    for (int c = 0; c < P; c++) {
      q[c] = rnd.nextFloat() * 2 - 1;
      k[c] = rnd.nextFloat() * 2 - 1;
    }
    double ref = Double.NaN;
    for (int m = 3; m < 200; m += 17) {
      float[] qa = q.clone(), ka = k.clone();
      Rotary.apply(qa, 0, 1, P, R, m, t[0], t[1]);
      Rotary.apply(ka, 0, 1, P, R, m - 3, t[0], t[1]);
      double d = 0;
      for (int c = 0; c < P; c++) d += qa[c] * ka[c];
      if (Double.isNaN(ref)) ref = d;
      assertEquals(ref, d, 1e-4);
    }
  }
}
