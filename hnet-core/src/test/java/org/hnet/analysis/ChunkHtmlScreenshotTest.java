package org.hnet.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.awt.image.BufferedImage;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Renders the example page in headless Chromium and checks the screenshot is not blank. Skipped
 * when no Chromium is installed, except on CI (CI=true), which installs it. Set the system property
 * {@code hnet.screenshot.out} to a file path to keep the PNG.
 */
class ChunkHtmlScreenshotTest {

  @TempDir Path tmp;

  @Test
  void screenshotIsNotBlank() throws Exception {
    String chromium = findChromium();
    if (chromium == null) {
      if ("true".equals(System.getenv("CI"))) {
        fail("CI=true but no chromium/chromium-browser on PATH or at /usr/bin/chromium");
      }
      Assumptions.abort("no Chromium installed: screenshot test skipped");
    }
    ExampleChunking ex = new ExampleChunking(ExampleChunking.TEXT, 7);
    String html =
        ChunkHtml.render("H-Net chunks · example", ex.text, ex.boundaries, ex.probs, null);
    Path page = tmp.resolve("chunks.html");
    Files.writeString(page, html, StandardCharsets.UTF_8);
    Path png = tmp.resolve("chunks.png");
    Path profile = Files.createDirectory(tmp.resolve("profile"));
    List<String> cmd =
        new ArrayList<>(
            List.of(
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                "--user-data-dir=" + profile.toAbsolutePath(),
                "--window-size=1200,900",
                "--screenshot=" + png.toAbsolutePath(),
                page.toUri().toString()));
    Process p =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(tmp.resolve("chromium.log").toFile())
            .start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      fail("chromium did not finish within 120 s");
    }
    String log = Files.readString(tmp.resolve("chromium.log"));
    assertTrue(Files.exists(png), "no screenshot written; chromium said:\n" + log);
    BufferedImage img = ImageIO.read(png.toFile());
    assertEquals(1200, img.getWidth());
    Set<Integer> colours = new HashSet<>();
    long nonWhite = 0;
    for (int y = 0; y < img.getHeight(); y++) {
      for (int x = 0; x < img.getWidth(); x++) {
        int rgb = img.getRGB(x, y) & 0xffffff;
        if (colours.size() < 1000) colours.add(rgb);
        if (rgb != 0xffffff) nonWhite++;
      }
    }
    assertTrue(colours.size() >= 3, "screenshot has only " + colours.size() + " colours");
    double share = (double) nonWhite / ((long) img.getWidth() * img.getHeight());
    assertTrue(share > 0.01, "screenshot is almost blank: " + share + " non-white");
    String keep = System.getProperty("hnet.screenshot.out");
    if (keep != null && !keep.isBlank()) {
      Files.copy(png, Path.of(keep), StandardCopyOption.REPLACE_EXISTING);
      Files.writeString(Path.of(keep + ".html"), html, StandardCharsets.UTF_8);
    }
  }

  /** chromium or chromium-browser on PATH, else /usr/bin/chromium, else null. */
  static String findChromium() {
    String path = System.getenv("PATH");
    if (path != null) {
      for (String name : List.of("chromium", "chromium-browser")) {
        for (String dir : path.split(File.pathSeparator)) {
          File f = new File(dir, name);
          if (f.isFile() && f.canExecute()) return f.getAbsolutePath();
        }
      }
    }
    File f = new File("/usr/bin/chromium");
    return f.isFile() && f.canExecute() ? f.getAbsolutePath() : null;
  }
}
