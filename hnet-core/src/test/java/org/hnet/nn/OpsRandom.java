package org.hnet.nn;

import java.util.Random;

final class OpsRandom {
  private OpsRandom() {}

  static float[] randn(Random r, int n) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
    return a;
  }
}
