package org.hnet.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The float vector width of every kernel: the CPU's preferred one (256 bits with AVX2, 512 with
 * AVX-512, 128 with NEON), or the one {@code -Dhnet.vector.bits=128|256|512} names. One species for
 * all kernels, because C2 compiles mixed species poorly (a second species used anywhere made a
 * training step allocate ~2 MB) and because {@link FastExp} builds its constants in the callers'
 * species.
 *
 * <p>Why the property: the kernels have code paths per width (tails, tile shapes, decode
 * reductions). Forcing 128 or 512 bits runs the tests through the paths of an ARM or an AVX-512
 * machine on this one; a width the CPU lacks is emulated by the Vector API, correct but slow.
 */
public final class VectorWidth {
  private VectorWidth() {}

  /** The species of every float kernel. */
  static final VectorSpecies<Float> FLOAT = species("hnet.vector.bits");

  /** Bits per float vector of the kernels. */
  public static int bits() {
    return FLOAT.vectorBitSize();
  }

  /**
   * Whether the kernels' width exceeds the CPU's: the Vector API then computes every operation in
   * plain Java on arrays (the same results, but slow and allocating).
   */
  public static boolean emulated() {
    return FLOAT.vectorBitSize() > VectorShape.preferredShape().vectorBitSize();
  }

  /** The species a width property names (unset: the CPU's); its name is in the error. */
  static VectorSpecies<Float> species(String property) {
    int bits = Integer.getInteger(property, 0);
    if (bits == 0) return FloatVector.SPECIES_PREFERRED;
    return species(bits, property);
  }

  static VectorSpecies<Float> species(int bits, String property) {
    if (bits != 128 && bits != 256 && bits != 512) {
      throw new IllegalArgumentException("-D" + property + " must be 128, 256 or 512, not " + bits);
    }
    return FloatVector.SPECIES_PREFERRED.withShape(VectorShape.forBitSize(bits)).check(float.class);
  }
}
