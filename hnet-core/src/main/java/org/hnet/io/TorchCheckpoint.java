package org.hnet.io;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import org.hnet.HNetException;
import org.hnet.io.Unpickler.PyGlobal;
import org.hnet.io.Unpickler.PyTuple;

/**
 * Reads state dicts written by {@code torch.save} (zip format, torch >= 1.6): a zip with {@code
 * <archive>/data.pkl} (the pickled object; tensors refer to storages by persistent id {@code
 * ('storage', StorageClass, key, location, numel)}) and the raw little-endian storages {@code
 * <archive>/data/<key>}. The pickle is read by {@link Unpickler}, which executes nothing.
 */
public final class TorchCheckpoint {
  private static final Map<String, DType> STORAGE_TYPES =
      Map.of(
          "FloatStorage", DType.F32,
          "HalfStorage", DType.F16,
          "BFloat16Storage", DType.BF16,
          "DoubleStorage", DType.F64,
          "LongStorage", DType.I64,
          "IntStorage", DType.I32,
          "ShortStorage", DType.I16,
          "CharStorage", DType.I8,
          "ByteStorage", DType.U8,
          "BoolStorage", DType.BOOL);

  /**
   * The globals a checkpoint may name besides the tensor rebuilders: the storage classes, and the
   * configuration objects the published H-Net checkpoints carry (omegaconf containers, which the
   * official loader admits with torch's safe_globals), read as inert placeholders. Anything else
   * (os.system, builtins.eval, ...) is refused with its name.
   */
  static final java.util.Set<String> ALLOWED_GLOBALS;

  static {
    java.util.Set<String> a = new java.util.HashSet<>();
    for (String st : STORAGE_TYPES.keySet()) a.add("torch." + st);
    a.addAll(
        List.of(
            "torch._tensor._rebuild_from_type_v2",
            "torch.Size",
            "torch.device",
            "omegaconf.listconfig.ListConfig",
            "omegaconf.dictconfig.DictConfig",
            "omegaconf.base.ContainerMetadata",
            "omegaconf.base.Metadata",
            "omegaconf.nodes.AnyNode",
            "omegaconf.nodes.StringNode",
            "omegaconf.nodes.IntegerNode",
            "omegaconf.nodes.FloatNode",
            "omegaconf.nodes.BooleanNode",
            "omegaconf.nodes.BytesNode",
            "omegaconf.nodes.PathNode",
            "typing.Any",
            "builtins.dict",
            "builtins.list",
            "builtins.tuple",
            "builtins.set",
            "builtins.int",
            "builtins.float",
            "builtins.str",
            "builtins.bool",
            "builtins.bytes",
            "builtins.object",
            "collections.defaultdict",
            "_codecs.encode"));
    ALLOWED_GLOBALS = java.util.Set.copyOf(a);
  }

  /** Largest data.pkl read: a state dict's pickle is kilobytes to a few megabytes. */
  static final long MAX_PICKLE_BYTES = 256L << 20;

  /** Keys under which training checkpoints commonly nest the model's state dict. */
  private static final List<String> NESTED_KEYS =
      List.of("state_dict", "model_state_dict", "model", "module", "ema", "params");

  private TorchCheckpoint() {}

  /** A typed view of one storage: all its bytes, of which tensors take element ranges. */
  private record Storage(String key, DType dtype, MemorySegment bytes) {
    long numel() {
      return bytes.byteSize() / dtype.bytes();
    }
  }

  /** The flat {@code name -> tensor} state dict in {@code ptFile}, in pickled order. */
  public static Map<String, TensorData> read(Path ptFile) {
    String f = ptFile.toString();
    SafeTensors.checkRegularFile(ptFile, f);
    checkMagic(ptFile, f);
    try (ZipFile zip = new ZipFile(ptFile.toFile());
        FileChannel ch = FileChannel.open(ptFile, StandardOpenOption.READ)) {
      // storages are read from a mapping of the file where they are stored uncompressed (as
      // torch.save stores them), so that loading holds the weights once, not twice
      StoredZipEntries stored =
          StoredZipEntries.of(ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), Arena.ofAuto()));
      ZipEntry pklEntry = findPickle(zip, f);
      String prefix = pklEntry.getName().substring(0, pklEntry.getName().length() - 8);
      ZipEntry order = zip.getEntry(prefix + "byteorder");
      if (order != null) {
        String bo = new String(readEntry(zip, order, f), StandardCharsets.US_ASCII).strip();
        if (!bo.equals("little")) {
          throw new HNetException(f + ": byteorder '" + bo + "' is not supported (only little)");
        }
      }
      if (pklEntry.getSize() > MAX_PICKLE_BYTES) {
        throw new HNetException(
            f
                + ": the file declares a "
                + pklEntry.getName()
                + " of "
                + pklEntry.getSize()
                + " bytes; a state dict's pickle is far smaller (limit "
                + MAX_PICKLE_BYTES
                + ")");
      }
      byte[] pkl = readEntry(zip, pklEntry, f);
      Map<String, MemorySegment> loaded = new HashMap<>();
      Budget budget = new Budget(Files.size(ptFile));
      Function<Object, Object> persistentLoad =
          pid ->
              storage(
                  pid,
                  (key, need) ->
                      loaded.computeIfAbsent(
                          key, k -> loadStorage(zip, stored, prefix, k, need, budget, f)),
                  budget);
      Map<String, Function<List<Object>, Object>> callables =
          Map.of(
              "torch._utils._rebuild_tensor_v2",
              args -> rebuildTensor(args, budget),
              "torch._utils._rebuild_tensor",
              args -> rebuildTensor(args, budget),
              "torch._utils._rebuild_parameter",
              TorchCheckpoint::rebuildParameter,
              "torch._utils._rebuild_parameter_with_state",
              TorchCheckpoint::rebuildParameter);
      Object root =
          new Unpickler(
                  pkl, f + ": " + pklEntry.getName(), ALLOWED_GLOBALS, callables, persistentLoad)
              .load();
      return stateDict(root, f);
    } catch (ZipException e) {
      throw new HNetException(
          f
              + ": not a readable torch.save zip archive ("
              + SafeTensors.oneLine(e.getMessage())
              + ")",
          e);
    } catch (IOException e) {
      throw SafeTensors.ioError(f, "cannot read", e);
    }
  }

  private static void checkMagic(Path file, String f) {
    byte[] head = new byte[4];
    int n;
    try (InputStream in = Files.newInputStream(file)) {
      n = in.readNBytes(head, 0, 4);
    } catch (IOException e) {
      throw SafeTensors.ioError(f, "cannot read", e);
    }
    if (n == 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) {
      return;
    }
    if (n > 0 && (head[0] & 0xFF) == 0x80) {
      throw new HNetException(
          f
              + ": legacy (non-zip) torch.save format is not supported; re-save it with torch >="
              + " 1.6");
    }
    throw new HNetException(f + ": not a torch.save zip archive (no zip signature)");
  }

  private static ZipEntry findPickle(ZipFile zip, String f) {
    ZipEntry found = null;
    for (Enumeration<? extends ZipEntry> en = zip.entries(); en.hasMoreElements(); ) {
      ZipEntry e = en.nextElement();
      String name = e.getName();
      if (name.endsWith("/data.pkl") && name.indexOf('/') == name.length() - 9) {
        if (found != null) {
          throw new HNetException(
              f + ": two pickles, " + found.getName() + " and " + name + "; expected one");
        }
        found = e;
      }
    }
    if (found == null) {
      throw new HNetException(f + ": zip has no <archive>/data.pkl; not written by torch.save?");
    }
    return found;
  }

  private static byte[] readEntry(ZipFile zip, ZipEntry e, String f) throws IOException {
    long size = e.getSize();
    if (size > TensorData.MAX_ARRAY) {
      throw new HNetException(
          f
              + ": entry "
              + e.getName()
              + " has "
              + size
              + " bytes; entries over 2 GiB are not"
              + " supported (convert the checkpoint to safetensors)");
    }
    try (InputStream in = zip.getInputStream(e)) {
      byte[] b = size >= 0 ? in.readNBytes((int) size) : in.readAllBytes();
      if (size >= 0 && (b.length != size || in.read() != -1)) {
        throw new HNetException(
            f + ": entry " + e.getName() + " does not hold its declared " + size + " bytes");
      }
      checkCrc(e, MemorySegment.ofArray(b), f);
      return b;
    }
  }

  /** Bytes per CRC-32 update (a ByteBuffer view is at most 2 GiB). */
  private static final long CRC_CHUNK = 1L << 30;

  /**
   * Checks an entry's bytes against the CRC-32 its zip records, which {@link ZipFile} does not
   * check for stored entries, nor this reader for mapped ones: a flipped bit in a downloaded
   * checkpoint would otherwise load as a slightly wrong weight. It reads every byte once more:
   * 0.4-0.8 s for a 6.4 GB file in the file cache (2-stage XL, which takes about 11 s to load).
   */
  private static void checkCrc(ZipEntry e, MemorySegment bytes, String f) {
    long want = e.getCrc();
    if (want < 0) return; // not recorded
    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
    for (long at = 0, n = bytes.byteSize(); at < n; at += CRC_CHUNK)
      crc.update(bytes.asSlice(at, Math.min(CRC_CHUNK, n - at)).asByteBuffer());
    if (crc.getValue() != want) {
      throw new HNetException(
          String.format(
              "%s: entry %s fails its CRC-32 check (the zip records %08x, its bytes give %08x):"
                  + " the file is damaged; download or copy it again",
              f, e.getName(), want, crc.getValue()));
    }
  }

  /**
   * What a checkpoint may make the loader allocate beyond its own bytes: storages inflated from
   * compressed entries and copies of strided views, together at most {@link #FACTOR} times the file
   * size (plus {@link #SLACK}). torch.save stores entries uncompressed and views contiguous, so a
   * real checkpoint uses none of it; a few hundred bytes that declare gigabytes are refused before
   * anything is allocated.
   */
  private static final class Budget {
    static final long FACTOR = 4, SLACK = 64L << 20;
    final long fileBytes;
    long left;

    Budget(long fileBytes) {
      this.fileBytes = fileBytes;
      this.left = FACTOR * fileBytes + SLACK;
    }

    void take(long bytes, String what) {
      if (bytes > left) {
        throw new IllegalArgumentException(
            "the file declares "
                + what
                + " ("
                + bytes
                + " bytes), more than a "
                + fileBytes
                + "-byte checkpoint can hold");
      }
      left -= bytes;
    }
  }

  private static MemorySegment loadStorage(
      ZipFile zip,
      StoredZipEntries stored,
      String prefix,
      String key,
      long need,
      Budget budget,
      String f) {
    ZipEntry e = zip.getEntry(prefix + "data/" + key);
    if (e == null) {
      throw new HNetException(f + ": storage " + prefix + "data/" + key + " is missing");
    }
    long size = e.getSize();
    if (size != need) {
      throw new IllegalArgumentException(
          "storage data/"
              + key
              + ": the zip declares "
              + size
              + " bytes, its tensor type and"
              + " element count need "
              + need);
    }
    if (e.getMethod() != ZipEntry.STORED)
      budget.take(size, "a compressed storage data/" + key + " that inflates");
    else {
      MemorySegment mapped = stored.data(e.getName(), size);
      if (mapped != null) {
        checkCrc(e, mapped, f);
        return mapped;
      }
    }
    try {
      return MemorySegment.ofArray(readEntry(zip, e, f));
    } catch (IOException ex) {
      throw new UncheckedIOException("storage " + e.getName() + ": " + ex.getMessage(), ex);
    }
  }

  /** persistent_load for {@code ('storage', torch.XStorage, key, location, numel)}. */
  private static Storage storage(
      Object pid, java.util.function.BiFunction<String, Long, MemorySegment> load, Budget budget) {
    if (!(pid instanceof PyTuple t)
        || t.size() != 5
        || !"storage".equals(t.get(0))
        || !(t.get(1) instanceof PyGlobal type)
        || !(t.get(2) instanceof String key)
        || !(t.get(4) instanceof Long numel)) {
      throw new IllegalArgumentException("unrecognised persistent id " + describe(pid));
    }
    DType dtype = type.module().equals("torch") ? STORAGE_TYPES.get(type.name()) : null;
    if (dtype == null) {
      throw new IllegalArgumentException(
          "storage " + key + " has unsupported type " + type.qualified());
    }
    if (numel < 0 || numel > Long.MAX_VALUE / dtype.bytes()) {
      throw new IllegalArgumentException("storage " + key + " declares " + numel + " elements");
    }
    long need = numel * dtype.bytes();
    MemorySegment bytes = load.apply(key, need);
    if (bytes.byteSize() < need) {
      throw new IllegalArgumentException(
          "storage data/"
              + key
              + " has "
              + bytes.byteSize()
              + " bytes, needs "
              + need
              + " for "
              + numel
              + " elements of "
              + dtype);
    }
    return new Storage(key, dtype, bytes.asSlice(0, need));
  }

  /**
   * {@code _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, hooks, ...)}.
   */
  private static TensorData rebuildTensor(List<Object> args, Budget budget) {
    if (args.size() < 4
        || !(args.get(0) instanceof Storage st)
        || !(args.get(1) instanceof Long offset)
        || !(args.get(2) instanceof PyTuple sizeT)
        || !(args.get(3) instanceof PyTuple strideT)
        || sizeT.size() != strideT.size()) {
      throw new IllegalArgumentException("unexpected arguments " + describe(args));
    }
    int rank = sizeT.size();
    int[] shape = new int[rank];
    long[] stride = new long[rank];
    for (int i = 0; i < rank; i++) {
      if (!(sizeT.get(i) instanceof Long d)
          || d < 0
          || d > Integer.MAX_VALUE
          || !(strideT.get(i) instanceof Long s)
          || s < 0) {
        throw new IllegalArgumentException(
            "bad size " + describe(sizeT) + " or stride " + describe(strideT));
      }
      shape[i] = (int) (long) d;
      stride[i] = s;
    }
    long numel = TensorData.numel(shape);
    int es = st.dtype().bytes();
    if (numel == 0) {
      return new TensorData(st.dtype(), shape, MemorySegment.ofArray(new byte[0]), "tensor");
    }
    long last = offset;
    for (int i = 0; i < rank; i++) {
      last = Math.addExact(last, Math.multiplyExact(shape[i] - 1L, stride[i])); // overflow: error
    }
    if (offset < 0 || last >= st.numel()) {
      throw new IllegalArgumentException(
          "tensor "
              + Arrays.toString(shape)
              + " at offset "
              + offset
              + " with stride "
              + Arrays.toString(stride)
              + " reaches element "
              + last
              + " of storage data/"
              + st.key()
              + ", which has "
              + st.numel());
    }
    if (isContiguous(shape, stride)) {
      return new TensorData(
          st.dtype(), shape, st.bytes().asSlice(offset * es, numel * es), "tensor");
    }
    if (numel * es > TensorData.MAX_ARRAY) {
      throw new IllegalArgumentException("non-contiguous tensor over 2 GiB is not supported");
    }
    // copied out: stride 0 (an expanded view) makes a few bytes of storage declare any size
    budget.take(
        numel * es,
        "a tensor "
            + Arrays.toString(shape)
            + " with stride "
            + Arrays.toString(stride)
            + " over storage data/"
            + st.key()
            + " of "
            + st.numel()
            + " elements, to copy");
    return new TensorData(st.dtype(), shape, gather(st, offset, shape, stride), "tensor");
  }

  private static boolean isContiguous(int[] shape, long[] stride) {
    long expected = 1;
    for (int i = shape.length - 1; i >= 0; i--) {
      if (shape[i] != 1 && stride[i] != expected) {
        return false;
      }
      expected *= shape[i];
    }
    return true;
  }

  /** Copies a strided view into row-major order (rare in state dicts: views saved untouched). */
  private static MemorySegment gather(Storage st, long offset, int[] shape, long[] stride) {
    int es = st.dtype().bytes();
    int rank = shape.length;
    long numel = TensorData.numel(shape);
    MemorySegment out = MemorySegment.ofArray(new byte[(int) (numel * es)]);
    int[] idx = new int[rank];
    for (long k = 0; k < numel; k++) {
      long src = offset;
      for (int i = 0; i < rank; i++) {
        src += idx[i] * stride[i];
      }
      MemorySegment.copy(st.bytes(), src * es, out, k * es, es);
      for (int i = rank - 1; i >= 0 && ++idx[i] == shape[i]; i--) {
        idx[i] = 0;
      }
    }
    return out;
  }

  /** {@code _rebuild_parameter(data, requires_grad, backward_hooks[, state])}: the data. */
  private static Object rebuildParameter(List<Object> args) {
    if (args.isEmpty() || !(args.get(0) instanceof TensorData t)) {
      throw new IllegalArgumentException("expects a tensor, got " + describe(args));
    }
    return t;
  }

  /** The state dict in {@code root}: root itself, or a dict of tensors nested under a usual key. */
  private static Map<String, TensorData> stateDict(Object root, String f) {
    if (!(root instanceof Map<?, ?> top)) {
      throw new HNetException(
          f + ": holds " + Unpickler.typeName(root) + ", not a state dict (a dict of tensors)");
    }
    Map<?, ?> dict = top;
    if (!top.isEmpty() && !hasTensors(top)) {
      dict = null;
      for (String k : NESTED_KEYS) {
        if (top.get(k) instanceof Map<?, ?> m && hasTensors(m)) {
          dict = m;
          break;
        }
      }
      if (dict == null) {
        List<String> keys = new ArrayList<>();
        top.keySet().stream().limit(8).forEach(k -> keys.add(describe(k)));
        throw new HNetException(
            f
                + ": no tensors at the top level or under "
                + NESTED_KEYS
                + " (top-level keys: "
                + keys
                + (top.size() > 8 ? ", ..." : "")
                + ")");
      }
    }
    Map<String, TensorData> out = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : dict.entrySet()) {
      if (e.getKey() instanceof String name && e.getValue() instanceof TensorData t) {
        out.put(name, t.relabel(f + ": tensor '" + Unpickler.printable(name) + "'"));
      }
    }
    return out;
  }

  private static boolean hasTensors(Map<?, ?> m) {
    for (Object v : m.values()) {
      if (v instanceof TensorData) {
        return true;
      }
    }
    return false;
  }

  private static String describe(Object o) {
    return Unpickler.describe(o);
  }
}
