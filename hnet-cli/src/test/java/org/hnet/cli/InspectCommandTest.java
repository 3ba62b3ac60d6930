package org.hnet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class InspectCommandTest {
  @ParameterizedTest
  @CsvSource({
    "hnet_1stage_L.json, '679,405,312'",
    "hnet_1stage_XL.json, '1,270,833,920'",
    "hnet_2stage_L.json, '874,315,264'",
    "hnet_2stage_XL.json, '1,603,492,224'",
    "hnet_2stage_XL_chinese.json, '1,755,285,888'",
    "hnet_2stage_XL_code.json, '1,654,090,112'"
  })
  void printsTheOfficialParameterCount(String file, String count) {
    var r = ForwardCommandTest.run("inspect", "--config", "../configs/official/" + file);
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().replace("_", ",").contains(count), "expected " + count + " in:\n" + r.out());
  }

  /**
   * The bytes each format holds, against the files of 2-stage XL that hnet init and hnet quantize
   * wrote (docs/performance.md: 6,414 MB float32, 3,229 MB bf16, 1,836 MB int8, headers included).
   */
  @Test
  void printsTheBytesEachFormatHoldsAndReadsPerByte() {
    var r =
        ForwardCommandTest.run("inspect", "--config", "../configs/official/hnet_2stage_XL.json");
    assertEquals(0, r.code(), r.err());
    assertTrue(
        r.out()
            .contains("Weights held (--weights): f32 6,414.0 MB, bf16 3,229.3 MB, int8 1,836.0 MB"),
        r.out());
    // at 3 and 9 bytes per chunk the inner stages run on a third and a ninth of the steps: the
    // count bench makes from the steps each stage ran in
    var cfg =
        org.hnet.config.HNetConfig.parse(
            java.nio.file.Path.of("../configs/official/hnet_2stage_XL.json"));
    double[] ran = {1, 1 / 3.0, 1 / 9.0};
    double f32 = org.hnet.nn.WeightFormat.F32.bytesPerStep(cfg, ran);
    assertEquals(BenchCommand.weightBytesPerStep(cfg, new long[] {900, 300, 100}), f32, 1e-6 * f32);
    for (var f : org.hnet.nn.WeightFormat.values()) {
      String want = f.label() + " " + InspectCommand.megabytes(f.bytesPerStep(cfg, ran));
      assertTrue(r.out().contains("Weights read per decoded byte"), r.out());
      assertTrue(
          r.out().lines().anyMatch(l -> l.startsWith("Weights read") && l.contains(want)), want);
    }
  }

  @Test
  void aBadConfigIsOneLineNamingTheField(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp)
      throws Exception {
    java.nio.file.Path cfg = tmp.resolve("bad.json");
    java.nio.file.Files.writeString(
        cfg, "{\"arch_layout\": [\"x2\"], \"d_model\": [64], \"d_intermediate\": [0]}");
    var r = ForwardCommandTest.run("inspect", "--config", cfg.toString());
    assertEquals(1, r.code());
    ForwardCommandTest.assertOneLine(r.err(), "bad.json");
  }
}
