package org.hnet.train.data;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.zip.GZIPInputStream;
import org.hnet.HNetException;

/**
 * Files as documents, one document per file: a single file, or every regular file of a directory
 * tree. Plain files are read with positional reads, so skipping (to resume or to reach the held-out
 * part) costs nothing; {@code .gz} files are decompressed on the fly and have to be read to be
 * skipped.
 */
final class FileSource implements DocSource {
  private final String name;
  private final Path[] files;
  private final String[] labels;

  private FileSource(String name, Path[] files, String[] labels) {
    this.name = name;
    this.files = files;
    this.labels = labels;
  }

  static FileSource single(Path file) {
    return new FileSource(file.toString(), new Path[] {file}, new String[] {file.toString()});
  }

  /**
   * Every regular file under {@code root}, sorted by relative path compared as a string with '/'
   * separators (so the order is the same on every OS); files and directories whose name starts with
   * '.' are skipped (.git, editor droppings), and symbolic links are not followed.
   */
  static FileSource directory(Path root) throws IOException {
    List<String> rel = new ArrayList<>();
    Files.walkFileTree(
        root,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
            return !dir.equals(root) && hidden(dir)
                ? FileVisitResult.SKIP_SUBTREE
                : FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
            if (attrs.isRegularFile() && !hidden(file)) {
              rel.add(
                  root.relativize(file)
                      .toString()
                      .replace(file.getFileSystem().getSeparator(), "/"));
            }
            return FileVisitResult.CONTINUE;
          }
        });
    if (rel.isEmpty()) throw new HNetException(root + ": no files in directory");
    rel.sort(null);
    Path[] files = new Path[rel.size()];
    String[] labels = new String[rel.size()];
    for (int i = 0; i < files.length; i++) {
      files[i] = root.resolve(rel.get(i));
      labels[i] = files[i].toString();
    }
    return new FileSource(root.toString(), files, labels);
  }

  private static boolean hidden(Path p) {
    Path n = p.getFileName();
    return n != null && n.toString().startsWith(".");
  }

  static boolean isGzip(Path p) {
    return p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gz");
  }

  /** Opens a file for streaming, decompressing {@code .gz}. */
  static InputStream openStream(Path p) throws IOException {
    InputStream in = new BufferedInputStream(Files.newInputStream(p), 1 << 16);
    return isGzip(p) ? new GZIPInputStream(in, 1 << 16) : in;
  }

  @Override
  public String name() {
    return name;
  }

  /** Files in order, for tests and messages. */
  String[] labels() {
    return labels.clone();
  }

  @Override
  public DocReader open() {
    return new Reader();
  }

  /** The first gzip file of the source, or null: gzip cannot be read at a random position. */
  private Path firstGzip() {
    for (Path f : files) if (isGzip(f)) return f;
    return null;
  }

  @Override
  public String whyNoIndex() {
    Path gz = firstGzip();
    return gz == null
        ? DocSource.super.whyNoIndex()
        : gz + " is gzip-compressed (it can only be read from its start)";
  }

  /**
   * Random access to the files, or null if one is gzipped. Lengths are the files' sizes now; a file
   * that changes size afterwards makes reads fail with its name.
   */
  @Override
  public DocIndex index(Path cache) throws IOException {
    if (firstGzip() != null) return null;
    long[] sizes = new long[files.length];
    for (int i = 0; i < files.length; i++) sizes[i] = Files.size(files[i]);
    return new Index(sizes);
  }

  /**
   * Positional reads through a few open channels (least recently used closed first), so a tree of
   * many files holds a bounded number of descriptors. Reads rather than memory maps: a file
   * truncated under a mapping kills the JVM with SIGBUS, where a short read is an error message.
   */
  private final class Index implements DocIndex {
    private static final int OPEN_MAX = 32;
    private final long[] sizes;
    private final java.util.LinkedHashMap<Integer, FileChannel> open =
        new java.util.LinkedHashMap<>(16, 0.75f, true) {
          @Override
          protected boolean removeEldestEntry(java.util.Map.Entry<Integer, FileChannel> e) {
            if (size() <= OPEN_MAX) return false;
            closeQuietly(e.getValue());
            return true;
          }
        };

    Index(long[] sizes) {
      this.sizes = sizes;
    }

    @Override
    public int documents() {
      return sizes.length;
    }

    @Override
    public long length(int d) {
      return sizes[d];
    }

    @Override
    public void read(int d, long offset, byte[] b, int off, int len) throws IOException {
      FileChannel ch = open.get(d);
      if (ch == null) {
        ch = FileChannel.open(files[d], StandardOpenOption.READ);
        open.put(d, ch);
      }
      ByteBuffer buf = ByteBuffer.wrap(b, off, len);
      long pos = offset;
      while (buf.hasRemaining()) {
        int n = ch.read(buf, pos);
        if (n < 0)
          throw new HNetException(
              labels[d] + ": the file is shorter than when the corpus was opened");
        pos += n;
      }
    }

    @Override
    public String where(int d) {
      return labels[d];
    }

    @Override
    public void close() {
      for (FileChannel ch : open.values()) closeQuietly(ch);
      open.clear();
    }

    private static void closeQuietly(FileChannel ch) {
      try {
        ch.close();
      } catch (IOException e) {
        // Read-only: a failed close loses nothing.
      }
    }
  }

  private final class Reader implements DocReader {
    private int index = -1;
    // Plain file: opened lazily, so skipping whole files never touches them.
    private FileChannel channel;
    private long size;
    private long offset;
    // .gz file.
    private InputStream gz;
    private byte[] scratch;

    @Override
    public boolean next() throws IOException {
      closeCurrent();
      if (index + 1 >= files.length) {
        index = files.length;
        return false;
      }
      index++;
      offset = 0;
      if (isGzip(files[index])) {
        gz = openStream(files[index]);
        size = -1;
      } else {
        size = Files.size(files[index]);
      }
      return true;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (len == 0) return 0;
      if (gz != null) return gz.read(b, off, len);
      if (offset >= size) return -1;
      if (channel == null) channel = FileChannel.open(files[index], StandardOpenOption.READ);
      int n = channel.read(ByteBuffer.wrap(b, off, (int) Math.min(len, size - offset)), offset);
      // A file that shrank since it was listed ends early; the caller notices the short stream.
      if (n < 0) {
        size = offset;
        return -1;
      }
      offset += n;
      return n;
    }

    @Override
    public long skip(long n) throws IOException {
      if (gz == null) {
        long k = Math.min(n, size - offset);
        offset += k;
        return k;
      }
      if (scratch == null) scratch = new byte[1 << 16];
      long done = 0;
      while (done < n) {
        int r = gz.read(scratch, 0, (int) Math.min(scratch.length, n - done));
        if (r < 0) break;
        done += r;
      }
      return done;
    }

    @Override
    public String where() {
      return index >= 0 && index < files.length ? labels[index] : name;
    }

    private void closeCurrent() throws IOException {
      if (channel != null) channel.close();
      if (gz != null) gz.close();
      channel = null;
      gz = null;
    }

    @Override
    public void close() throws IOException {
      closeCurrent();
    }
  }
}
