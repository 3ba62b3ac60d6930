package org.hnet.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import org.junit.jupiter.api.Test;

class VectorWidthTest {
  @Test
  void theWidthIsTheCpusUnlessTheTestsForceOne() {
    int forced = Integer.getInteger("hnet.vector.bits", 0);
    int want = forced == 0 ? FloatVector.SPECIES_PREFERRED.vectorBitSize() : forced;
    assertEquals(want, VectorWidth.bits());
    assertEquals(
        VectorWidth.bits() > VectorShape.preferredShape().vectorBitSize(), VectorWidth.emulated());
    // every kernel takes this one width
    if (System.getProperty("hnet.matmul.bits") == null) assertSame(VectorWidth.FLOAT, MatmulGemm.S);
    assertSame(VectorWidth.FLOAT, Attention.SPECIES);
  }

  @Test
  void widthsByName() {
    assertEquals(4, VectorWidth.species(128, "p").length());
    assertEquals(8, VectorWidth.species(256, "p").length());
    assertEquals(16, VectorWidth.species(512, "p").length());
    var e =
        assertThrows(
            IllegalArgumentException.class, () -> VectorWidth.species(300, "hnet.matmul.bits"));
    assertTrue(
        e.getMessage().startsWith("-Dhnet.matmul.bits must be") && e.getMessage().contains("300"),
        e.getMessage());
  }
}
