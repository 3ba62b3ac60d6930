package org.hnet.nn;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import org.hnet.kernels.CompactWeight;

/**
 * Hands parameters to the modules as they are built, by official name, and remembers them in
 * construction order (the reference's named_parameters() order).
 */
public final class Params {
  private final Function<String, float[]> values;
  private final Map<String, Param> byName = new LinkedHashMap<>();

  /**
   * @param values the float32 values of a parameter by its official name (never null for a known
   *     name)
   */
  public Params(Function<String, float[]> values) {
    this(values, WeightFormat.F32, name -> null);
  }

  private final WeightFormat format;
  private final Function<String, CompactWeight> stored;

  /**
   * @param format how {@link #takeWeight} holds the weights of the large products
   * @param stored a weight already compact in the file, by name (null when it is not): used as it
   *     is when its format is the one asked; {@code values} must still give any name as float32
   */
  public Params(
      Function<String, float[]> values,
      WeightFormat format,
      Function<String, CompactWeight> stored) {
    this.values = values;
    this.format = format;
    this.stored = stored;
  }

  /** The format of the large products' weights. */
  public WeightFormat format() {
    return format;
  }

  /**
   * The weight (out, in) of a large product (a mixer's or an MLP's Linear layer): float32, or held
   * compact in this Params' format, from the file's compact form when it is that format.
   */
  Param takeWeight(String name, int stage, int out, int in) {
    if (format == WeightFormat.F32) return take(name, stage, true, out, in);
    CompactWeight c = stored.apply(name);
    if (c == null || c.format != format.compact()) {
      float[] v = values.apply(name);
      if (v == null) throw new IllegalStateException("no value for parameter " + name);
      if (v.length != (long) out * in)
        throw new IllegalStateException(
            name + ": " + v.length + " values, expected " + (long) out * in);
      c =
          format == WeightFormat.BF16
              ? CompactWeight.bf16(v, 0, out, in)
              : CompactWeight.int8(v, 0, out, in);
    } else if (c.n != out || c.k != in) {
      throw new IllegalStateException(
          name + ": " + c.n + "×" + c.k + ", expected " + out + "×" + in);
    }
    Param p = new Param(name, c, stage);
    if (byName.putIfAbsent(name, p) != null)
      throw new IllegalStateException("parameter built twice: " + name);
    return p;
  }

  Param take(String name, int stage, boolean weightDecay, int... shape) {
    float[] v = values.apply(name);
    if (v == null) throw new IllegalStateException("no value for parameter " + name);
    if (v.length != Param.numel(shape)) {
      throw new IllegalStateException(
          name + ": " + v.length + " values, expected " + Param.numel(shape));
    }
    Param p = new Param(name, shape, v, weightDecay, stage);
    if (byName.putIfAbsent(name, p) != null)
      throw new IllegalStateException("parameter built twice: " + name);
    return p;
  }

  /** Every parameter, in construction order. */
  public Map<String, Param> all() {
    return byName;
  }
}
