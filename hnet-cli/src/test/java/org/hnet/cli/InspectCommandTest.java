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
