package org.hnet.io;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * Where the bytes of a zip's uncompressed (stored) entries lie in the file, so that they can be
 * read from a memory mapping instead of copied to the heap. {@code torch.save} stores every storage
 * uncompressed: a published H-Net checkpoint (2.7-7 GB) then loads holding its weights once.
 *
 * <p>Read from the central directory (ZIP64 included) and each entry's local header, every offset
 * checked against the file's size; a count or size the directory declares is never trusted to size
 * an allocation. {@link java.util.zip.ZipFile} has already read the archive, and the caller checks
 * what is found here against it (the entry's size), so anything unexpected (an archive this reader
 * does not follow, a name in another encoding) means no offset, and the entry is read as before.
 */
final class StoredZipEntries {
  private static final ValueLayout.OfInt I32 =
      ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfShort I16 =
      ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfLong I64 =
      ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  private static final int EOCD = 0x06054b50, ZIP64_LOCATOR = 0x07064b50, ZIP64_EOCD = 0x06064b50;
  private static final int CENTRAL = 0x02014b50, LOCAL = 0x04034b50;
  private static final int STORED = 0;

  private final MemorySegment file;
  private final Map<String, long[]> entries = new HashMap<>(); // name -> {local header, size}

  private StoredZipEntries(MemorySegment file) {
    this.file = file;
  }

  /** The stored entries of the mapped zip {@code file}; none if its directory is not followed. */
  static StoredZipEntries of(MemorySegment file) {
    StoredZipEntries z = new StoredZipEntries(file);
    try {
      z.readDirectory();
    } catch (IndexOutOfBoundsException | IllegalStateException e) {
      z.entries.clear(); // read as before, through ZipFile
    }
    return z;
  }

  /**
   * The bytes of the stored entry {@code name} of {@code size} bytes, as a slice of the mapping;
   * null when it is not a stored entry of that size whose local header names it.
   */
  MemorySegment data(String name, long size) {
    long[] e = entries.get(name);
    if (e == null || e[1] != size) return null;
    long at = e[0];
    if (at < 0 || at > file.byteSize() - 30 || file.get(I32, at) != LOCAL) return null;
    int n = u16(at + 26), m = u16(at + 28);
    long begin = at + 30 + n + m;
    if (begin > file.byteSize() || size > file.byteSize() - begin) return null;
    byte[] local = file.asSlice(at + 30, n).toArray(ValueLayout.JAVA_BYTE);
    if (!name.equals(new String(local, StandardCharsets.UTF_8))) return null;
    return file.asSlice(begin, size);
  }

  private void readDirectory() {
    long size = file.byteSize(), eocd = -1;
    for (long p = size - 22; p >= Math.max(0, size - 22 - 65535); p--) {
      if (file.get(I32, p) == EOCD && p + 22 + u16(p + 20) == size) {
        eocd = p;
        break;
      }
    }
    if (eocd < 0) throw new IllegalStateException("no end of central directory");
    long count = u16(eocd + 10), cdSize = u32(eocd + 12), cdOffset = u32(eocd + 16);
    if (count == 0xFFFF || cdSize == 0xFFFFFFFFL || cdOffset == 0xFFFFFFFFL) {
      long loc = eocd - 20;
      if (loc < 0 || file.get(I32, loc) != ZIP64_LOCATOR)
        throw new IllegalStateException("no zip64 locator");
      long z = file.get(I64, loc + 8);
      if (z < 0 || z > size - 56 || file.get(I32, z) != ZIP64_EOCD)
        throw new IllegalStateException("no zip64 end of central directory");
      count = file.get(I64, z + 32);
      cdSize = file.get(I64, z + 40);
      cdOffset = file.get(I64, z + 48);
    }
    if (cdOffset < 0 || cdSize < 0 || cdOffset > size || cdSize > size - cdOffset)
      throw new IllegalStateException("central directory outside the file");
    long p = cdOffset, end = cdOffset + cdSize;
    for (long i = 0; i < count; i++) {
      if (p > end - 46 || file.get(I32, p) != CENTRAL)
        throw new IllegalStateException("central directory entry " + i);
      int method = u16(p + 10), n = u16(p + 28), m = u16(p + 30), c = u16(p + 32);
      long compressed = u32(p + 20), uncompressed = u32(p + 24), local = u32(p + 42);
      long next = p + 46 + n + m + c;
      if (next > end) throw new IllegalStateException("central directory entry " + i);
      // ZIP64: the 8-byte values of the fields that hold 0xFFFFFFFF, in this order
      for (long x = p + 46 + n; x + 4 <= p + 46 + n + m; ) {
        int id = u16(x), len = u16(x + 2);
        long d = x + 4;
        if (d + len > p + 46 + n + m) break;
        if (id == 1) {
          if (uncompressed == 0xFFFFFFFFL && d + 8 <= x + 4 + len) {
            uncompressed = file.get(I64, d);
            d += 8;
          }
          if (compressed == 0xFFFFFFFFL && d + 8 <= x + 4 + len) {
            compressed = file.get(I64, d);
            d += 8;
          }
          if (local == 0xFFFFFFFFL && d + 8 <= x + 4 + len) local = file.get(I64, d);
        }
        x += 4 + len;
      }
      if (method == STORED && compressed == uncompressed) {
        byte[] name = file.asSlice(p + 46, n).toArray(ValueLayout.JAVA_BYTE);
        entries.put(new String(name, StandardCharsets.UTF_8), new long[] {local, uncompressed});
      }
      p = next;
    }
  }

  private int u16(long at) {
    return file.get(I16, at) & 0xFFFF;
  }

  private long u32(long at) {
    return file.get(I32, at) & 0xFFFFFFFFL;
  }
}
