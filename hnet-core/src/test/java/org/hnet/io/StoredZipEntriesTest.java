package org.hnet.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StoredZipEntriesTest {
  @TempDir Path dir;

  private static void stored(ZipOutputStream z, String name, byte[] b) throws IOException {
    ZipEntry e = new ZipEntry(name);
    e.setMethod(ZipEntry.STORED);
    e.setSize(b.length);
    e.setCompressedSize(b.length);
    CRC32 crc = new CRC32();
    crc.update(b);
    e.setCrc(crc.getValue());
    z.putNextEntry(e);
    z.write(b);
    z.closeEntry();
  }

  private static byte[] bytes(int n, int seed) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) b[i] = (byte) (i * 31 + seed);
    return b;
  }

  private static MemorySegment map(Path f) throws IOException {
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
      return ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), Arena.ofAuto());
    }
  }

  /** What goes into a zip. */
  private interface Entries {
    void write(ZipOutputStream z) throws IOException;
  }

  private Path zip(String name, Entries entries) throws IOException {
    Path f = dir.resolve(name);
    try (OutputStream os = Files.newOutputStream(f);
        ZipOutputStream z = new ZipOutputStream(os)) {
      entries.write(z);
    }
    return f;
  }

  @Test
  void storedEntriesAreFoundAndOthersAreNot() throws IOException {
    Path f =
        zip(
            "a.zip",
            z -> {
              stored(z, "ckpt/data/0", bytes(1000, 1));
              z.putNextEntry(new ZipEntry("ckpt/data/1")); // deflated
              z.write(bytes(1000, 2));
              z.closeEntry();
              stored(z, "ckpt/data/2", bytes(7, 3));
              z.setComment("a comment at the end");
            });
    StoredZipEntries s = StoredZipEntries.of(map(f));
    assertArrayEquals(bytes(1000, 1), s.data("ckpt/data/0", 1000).toArray(ValueLayout.JAVA_BYTE));
    assertArrayEquals(bytes(7, 3), s.data("ckpt/data/2", 7).toArray(ValueLayout.JAVA_BYTE));
    assertNull(s.data("ckpt/data/1", 1000), "deflated");
    assertNull(s.data("ckpt/data/0", 999), "another size");
    assertNull(s.data("ckpt/data/9", 7), "absent");
  }

  @Test
  void aZip64DirectoryIsFollowed() throws IOException {
    // more than 65,535 entries: the end of the directory is a ZIP64 record
    int n = 70_000;
    Path f =
        zip(
            "many.zip",
            z -> {
              for (int i = 0; i < n; i++) stored(z, "e/" + i, bytes(3 + i % 5, i));
            });
    StoredZipEntries s = StoredZipEntries.of(map(f));
    for (int i : new int[] {0, 65_535, 65_536, n - 1}) {
      MemorySegment d = s.data("e/" + i, 3 + i % 5);
      assertNotNull(d, "entry " + i);
      assertArrayEquals(bytes(3 + i % 5, i), d.toArray(ValueLayout.JAVA_BYTE), "entry " + i);
    }
  }

  @Test
  void aDamagedDirectoryGivesNoOffsetsAndNoError() throws IOException {
    Path f = zip("b.zip", z -> stored(z, "x", bytes(100, 1)));
    byte[] b = Files.readAllBytes(f);
    // every byte of the directory and its end, in turn, set to 0xFF or cut off there
    int cd = b.length - 22 - 46 - 1;
    for (int at = cd; at < b.length; at++) {
      byte[] c = b.clone();
      c[at] = (byte) 0xFF;
      Path g = dir.resolve("c.zip");
      Files.write(g, c);
      MemorySegment d = StoredZipEntries.of(map(g)).data("x", 100);
      if (d != null) assertArrayEquals(bytes(100, 1), d.toArray(ValueLayout.JAVA_BYTE), "at " + at);
      Files.write(g, java.util.Arrays.copyOf(b, at));
      assertNull(StoredZipEntries.of(map(g)).data("x", 100), "cut at " + at);
    }
  }
}
