package org.hnet.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The arena hands out buffers by order of request: a repeated computation gets the same arrays, a
 * release hands the released ones out again and nothing before the mark, outputs and objects keep
 * orders of their own.
 */
class ArenaTest {
  @Test
  void theSameRequestsAfterAResetGetTheSameArrays() {
    Arena w = new Arena();
    float[] a = w.floats(10), b = w.floats(20);
    int[] i = w.ints(3);
    float[] e = w.exactFloats(7);
    w.reset();
    assertSame(a, w.floats(10));
    assertSame(b, w.floats(5)); // smaller fits
    assertSame(i, w.ints(3));
    assertSame(e, w.exactFloats(7));
    w.reset();
    w.floats(10);
    float[] grown = w.floats(40); // too small: replaced, with headroom
    assertNotSame(b, grown);
    assertTrue(grown.length >= 40);
    w.reset();
    w.floats(10);
    assertSame(grown, w.floats(40));
  }

  @Test
  void aReleaseHandsOutAgainOnlyWhatCameAfterTheMark() {
    Arena w = new Arena();
    float[] kept = w.floats(8);
    int m = w.mark();
    float[] x = w.floats(8), y = w.floats(8);
    int inner = w.mark();
    float[] z = w.floats(8);
    w.release(m); // also releases the inner mark
    assertThrows(IllegalStateException.class, () -> w.release(inner));
    float[] again = w.floats(8);
    assertSame(x, again);
    assertNotSame(kept, again);
    assertSame(y, w.floats(8));
    assertSame(z, w.floats(8));
  }

  @Test
  void outputsHaveTheirExactLengthAndSurviveReleases() {
    Arena w = new Arena();
    int m = w.mark();
    float[] p = w.exactFloats(5);
    boolean[] b = w.exactBools(5);
    w.release(m);
    assertNotSame(p, w.exactFloats(5));
    assertNotSame(b, w.exactBools(5));
    w.reset();
    assertSame(p, w.exactFloats(5));
    float[] six = w.exactFloats(6); // the next place in the order, new
    assertEquals(6, six.length);
    w.reset();
    w.exactFloats(5);
    assertSame(six, w.exactFloats(6));
    w.reset();
    assertEquals(3, w.exactFloats(3).length); // a length change reallocates
  }

  static final class A {}

  static final class B {}

  @Test
  void objectsKeepAnOrderPerClass() {
    Arena w = new Arena();
    A a1 = w.object(A.class, A::new);
    B b1 = w.object(B.class, B::new);
    A a2 = w.object(A.class, A::new);
    assertNotSame(a1, a2);
    w.reset();
    assertSame(a1, w.object(A.class, A::new));
    assertSame(a2, w.object(A.class, A::new)); // no B asked for this time: A's order unchanged
    assertSame(b1, w.object(B.class, B::new));
    var v = w.views(2);
    w.reset();
    assertSame(v, w.views(2));
    assertTrue(w.views(3).length >= 3);
  }

  @Test
  void anArenaOfFreshOutputsKeepsItsWorkArraysOnly() {
    Arena w = Arena.freshOutputs();
    float[] a = w.floats(4), p = w.exactFloats(4);
    A o = w.object(A.class, A::new);
    w.reset();
    assertSame(a, w.floats(4));
    assertNotSame(p, w.exactFloats(4));
    assertNotSame(o, w.object(A.class, A::new));
  }

  @Test
  void doublesAndHoldersFollowTheSameRules() {
    Arena w = new Arena();
    int m = w.mark();
    double[] d = w.doubles(6);
    w.release(m);
    assertSame(d, w.doubles(3));
    assertSame(w.holder(A.class, A::new), w.holder(A.class, A::new));
    w.reset();
    assertTrue(w.idle());
  }
}
