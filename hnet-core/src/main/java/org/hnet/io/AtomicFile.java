package org.hnet.io;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * Files written whole or not at all. The content goes to a new temporary file beside the target,
 * created exclusively under an unpredictable name (so a symbolic link or a file planted at a
 * guessable name is never followed or overwritten), forced to disk, then renamed over the target,
 * and the directory is forced so that the rename survives a power cut. A failure removes the
 * temporary file and leaves the target as it was.
 */
public final class AtomicFile {
  private static final SecureRandom RANDOM = new SecureRandom();

  private AtomicFile() {}

  /** Writes the file through a channel. */
  public interface ChannelBody {
    void write(FileChannel ch) throws IOException;
  }

  /** Writes the file through a stream. */
  public interface StreamBody {
    void write(OutputStream out) throws IOException;
  }

  /** Writes {@code target} from {@code body} (see the class comment). */
  public static void write(Path target, ChannelBody body) throws IOException {
    Path dir = target.toAbsolutePath().getParent();
    Path tmp = newTemporary(target);
    try {
      try (FileChannel ch =
          FileChannel.open(
              tmp,
              StandardOpenOption.CREATE_NEW,
              StandardOpenOption.WRITE,
              LinkOption.NOFOLLOW_LINKS)) {
        body.write(ch);
        ch.force(true);
      }
      try {
        Files.move(
            tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException | RuntimeException | Error e) {
      try {
        Files.deleteIfExists(tmp);
      } catch (IOException ignored) {
        // The original error is the one worth reporting.
      }
      throw e;
    }
    forceDirectory(dir);
  }

  /** Writes {@code target} from {@code body} through a stream (not closed by the body). */
  public static void write(Path target, StreamBody body) throws IOException {
    write(
        target,
        (FileChannel ch) -> {
          OutputStream out =
              new java.io.BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16);
          body.write(out);
          out.flush();
        });
  }

  /** Writes {@code target} with {@code bytes}. */
  public static void write(Path target, byte[] bytes) throws IOException {
    write(target, (StreamBody) out -> out.write(bytes));
  }

  /**
   * A name for a temporary file beside {@code target} that nothing else will pick:
   * ".name.RANDOM.tmp".
   */
  static Path newTemporary(Path target) {
    byte[] r = new byte[8];
    RANDOM.nextBytes(r);
    return target.resolveSibling(
        "." + target.getFileName() + "." + HexFormat.of().formatHex(r) + ".tmp");
  }

  /**
   * Creates a new, empty temporary directory beside {@code target} (".name.RANDOM.tmp"), to be
   * filled and renamed to {@code target} whole. Created exclusively, like the temporary files, and
   * with the permissions a plain new directory gets (the umask's), not the owner-only ones of
   * {@link Files#createTempDirectory}: once renamed, it is the user's directory.
   */
  public static Path newDirectory(Path target) throws IOException {
    return Files.createDirectory(newTemporary(target.toAbsolutePath()));
  }

  /** Forces a directory's entries (renames, creations) to disk, where the platform allows it. */
  public static void forceDirectory(Path dir) {
    if (dir == null) return;
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException | UnsupportedOperationException e) {
      // Some platforms (Windows) cannot open a directory; their renames are durable on their own.
    }
  }
}
