package org.hnet.train.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import org.hnet.HNetException;

/**
 * Corpora shipped as classpath resources. {@link Corpus} reads files (so that it can re-read and
 * seek), so a resource is first written out, decompressed, to a file.
 */
public final class Corpora {
  /** Moby Dick, 1,204,997 bytes of UTF-8 text, gzipped; a resource of the hnet-cli module. */
  public static final String MOBY_DICK = "org/hnet/cli/moby-dick.txt.gz";

  private Corpora() {}

  /** The resource's bytes, decompressed if its name ends in {@code .gz}. */
  public static InputStream openResource(ClassLoader loader, String resource) {
    InputStream in = loader.getResourceAsStream(resource);
    if (in == null) throw new HNetException(resource + ": no such resource on the classpath");
    if (!resource.endsWith(".gz")) return in;
    try {
      return new GZIPInputStream(in, 1 << 16);
    } catch (IOException e) {
      closeQuietly(in);
      throw new HNetException(resource + ": not a gzip resource: " + e.getMessage(), e);
    }
  }

  /**
   * Writes the resource, decompressed, into {@code dir} under its base name without {@code .gz}
   * (e.g. {@code moby-dick.txt}); returns that file. An existing file is replaced.
   */
  public static Path materialize(ClassLoader loader, String resource, Path dir) {
    String base = resource.substring(resource.lastIndexOf('/') + 1);
    if (base.endsWith(".gz")) base = base.substring(0, base.length() - 3);
    Path out = dir.resolve(base);
    try (InputStream in = openResource(loader, resource)) {
      Files.createDirectories(dir);
      // whole or not at all, so a crash never leaves a truncated corpus
      org.hnet.io.AtomicFile.write(out, (java.io.OutputStream os) -> in.transferTo(os));
    } catch (IOException e) {
      throw new HNetException(resource + ": cannot extract to " + out + ": " + e.getMessage(), e);
    }
    return out;
  }

  /**
   * Extracts the resource into a new temporary directory and opens it as a corpus; closing the
   * corpus deletes the temporary copy.
   */
  public static Corpus openResource(ClassLoader loader, String resource, double evalFraction) {
    Path dir;
    try {
      dir = Files.createTempDirectory("hnet-corpus");
    } catch (IOException e) {
      throw new HNetException("cannot create a temporary directory: " + e.getMessage(), e);
    }
    Path file = materialize(loader, resource, dir);
    Runnable cleanup =
        () -> {
          try {
            Files.deleteIfExists(file);
            Files.deleteIfExists(dir);
          } catch (IOException e) {
            // A leftover temp file is harmless; the OS cleans its temp directory.
          }
        };
    try {
      return Corpus.open(file, evalFraction).onClose(cleanup);
    } catch (RuntimeException e) {
      cleanup.run();
      throw e;
    }
  }

  private static void closeQuietly(InputStream in) {
    try {
      in.close();
    } catch (IOException e) {
      // Already failing; the first error is the one to report.
    }
  }
}
