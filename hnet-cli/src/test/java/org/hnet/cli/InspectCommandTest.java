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
    // at 3 and 9 bytes per chunk the inner stages' weights count a third and a ninth
    var cfg =
        org.hnet.config.HNetConfig.parse(
            java.nio.file.Path.of("../configs/official/hnet_2stage_XL.json"));
    long[] b = org.hnet.nn.WeightFormat.INT8.bytesPerStage(cfg);
    int d0 = cfg.stage(0).dModel();
    double perByte = 4.0 * (256 * d0 + d0) + b[1] + b[2] / 3.0 + b[3] / 9.0;
    assertTrue(
        r.out().contains("int8 " + InspectCommand.megabytes(perByte) + "\n"),
        InspectCommand.megabytes(perByte) + " in:\n" + r.out());
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
