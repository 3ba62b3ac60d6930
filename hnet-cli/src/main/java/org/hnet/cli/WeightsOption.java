package org.hnet.cli;

import org.hnet.nn.WeightFormat;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/** --weights, shared by the inference commands: how the model holds its large weights. */
final class WeightsOption {
  @Option(
      names = "--weights",
      paramLabel = "f32|bf16|int8",
      converter = Converter.class,
      description =
          "Hold the weights of the large products in f32, bf16, or int8 (groups of 32 with a"
              + " float scale); the rest of the model stays f32. Default: as the model directory"
              + " stores them (f32 unless written by hnet quantize).")
  WeightFormat format; // null: as stored

  static final class Converter implements ITypeConverter<WeightFormat> {
    @Override
    public WeightFormat convert(String value) {
      WeightFormat f = WeightFormat.parse(value);
      if (f == null)
        throw new TypeConversionException("'" + value + "' is not one of f32, bf16, int8");
      return f;
    }
  }
}
