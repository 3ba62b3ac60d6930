package org.hnet.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class BatchTest {
  private static byte[] bytes(String s) {
    byte[] b = s.getBytes(StandardCharsets.ISO_8859_1);
    for (int i = 0; i < b.length; i++) if (b[i] == '^') b[i] = (byte) 254;
    return b;
  }

  @Test
  void segmentsStartAtRowsAndBosAndTargetsStopAtTheirEnds() {
    // Two rows of 6: "ab^cd^" and "ef^^gh".
    Batch b = Batch.of(bytes("ab^cd^ef^^gh"), 2, 6, 12);
    assertEquals(2, b.B());
    assertEquals(6, b.L());
    assertArrayEquals(new int[] {0, 2, 5, 6, 8, 9, 12}, b.cuSeqlens());
    int[] expected = {'b', -1, 'c', 'd', -1, -1, 'f', -1, -1, 'g', 'h', -1};
    assertArrayEquals(expected, b.targets());
    assertEquals(254, b.tokens()[2]);
    assertEquals(6, b.predicted());
  }

  @Test
  void rowStartingWithBosIsOneSegment() {
    Batch b = Batch.of(bytes("^ab^cd"), 2, 3, 6);
    assertArrayEquals(new int[] {0, 3, 6}, b.cuSeqlens());
    assertArrayEquals(new int[] {'a', 'b', -1, 'c', 'd', -1}, b.targets());
  }

  @Test
  void paddingIsItsOwnSegmentWithoutTargets() {
    Batch b = Batch.of(bytes("^abcd^xy"), 2, 5, 8);
    assertArrayEquals(new int[] {254, 'a', 'b', 'c', 'd', 254, 'x', 'y', 0, 0}, b.tokens());
    assertArrayEquals(new int[] {'a', 'b', 'c', 'd', -1, 'x', 'y', -1, -1, -1}, b.targets());
    assertArrayEquals(new int[] {0, 5, 8, 10}, b.cuSeqlens());
    // Padding that fills whole rows from a row start adds no extra segment.
    Batch c = Batch.of(bytes("abc"), 2, 3, 3);
    assertArrayEquals(new int[] {0, 3, 6}, c.cuSeqlens());
    assertArrayEquals(new int[] {'b', 'c', -1, -1, -1, -1}, c.targets());
  }
}
