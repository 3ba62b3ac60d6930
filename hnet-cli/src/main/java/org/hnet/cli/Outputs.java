package org.hnet.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.hnet.HNetException;

/**
 * Checks that an output file never replaces what a command reads: the model's files or its inputs.
 */
final class Outputs {
  private Outputs() {}

  /**
   * Refuses {@code output} (given as {@code flag}) if it is a directory, one of the files of the
   * model directory {@code modelDir}, or one of {@code inputs}.
   */
  static void checkOutput(String flag, Path output, Path modelDir, Path... inputs) {
    if (Files.isDirectory(output))
      throw new HNetException(flag + " " + output + ": is a directory; give a file name");
    if (!Files.exists(output)) return;
    try {
      for (Path in : inputs) {
        if (in != null && Files.exists(in) && Files.isSameFile(in, output)) {
          throw new HNetException(flag + " " + output + ": is the input file; give another name");
        }
      }
      if (modelDir != null && Files.isDirectory(modelDir)) {
        try (Stream<Path> files = Files.list(modelDir)) {
          for (Path f : files.toList()) {
            if (Files.isRegularFile(f) && Files.isSameFile(f, output)) {
              throw new HNetException(
                  flag
                      + " "
                      + output
                      + ": is a file of the model directory "
                      + modelDir
                      + " (it would replace the model); give another name");
            }
          }
        }
      }
    } catch (IOException e) {
      throw new HNetException(flag + " " + output + ": cannot check: " + e.getMessage());
    }
  }
}
