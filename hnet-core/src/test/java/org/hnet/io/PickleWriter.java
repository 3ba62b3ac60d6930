package org.hnet.io;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Hand-assembles pickles opcode by opcode (codes from CPython's Lib/pickletools.py). */
final class PickleWriter {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();

  PickleWriter op(int... codes) {
    for (int c : codes) {
      out.write(c);
    }
    return this;
  }

  PickleWriter proto(int v) {
    return op(0x80, v);
  }

  PickleWriter mark() {
    return op('(');
  }

  /** BININT1, BININT2 or BININT, whichever fits. */
  PickleWriter integer(long v) {
    if (v >= 0 && v < 256) {
      return op('K', (int) v);
    }
    if (v >= 0 && v < 65536) {
      return op('M', (int) v & 0xFF, (int) (v >> 8));
    }
    return op('J').le(v, 4);
  }

  PickleWriter str(String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    op('X').le(b.length, 4);
    out.writeBytes(b);
    return this;
  }

  PickleWriter shortStr(String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    op(0x8c, b.length);
    out.writeBytes(b);
    return this;
  }

  /** GLOBAL 'module\nname\n'. */
  PickleWriter global(String module, String name) {
    op('c');
    out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
    return this;
  }

  PickleWriter raw(byte[] b) {
    out.writeBytes(b);
    return this;
  }

  PickleWriter le(long v, int n) {
    for (int i = 0; i < n; i++) {
      out.write((int) (v >>> (8 * i)) & 0xFF);
    }
    return this;
  }

  /** A tuple of ints: MARK ... TUPLE. */
  PickleWriter intTuple(long... vs) {
    mark();
    for (long v : vs) {
      integer(v);
    }
    return op('t');
  }

  /** The persistent id torch.save writes for a storage, followed by BINPERSID. */
  PickleWriter storage(String storageClass, String key, long numel) {
    mark().str("storage").global("torch", storageClass).str(key).str("cpu").integer(numel);
    return op('t', 'Q');
  }

  /** {@code _rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())}. */
  PickleWriter tensor(
      String storageClass, String key, long numel, long offset, long[] size, long[] stride) {
    global("torch._utils", "_rebuild_tensor_v2");
    mark().storage(storageClass, key, numel).integer(offset).intTuple(size).intTuple(stride);
    op(0x89).global("collections", "OrderedDict").op(')', 'R');
    return op('t', 'R');
  }

  byte[] stop() {
    op('.');
    return out.toByteArray();
  }
}
