package org.hnet.io;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;
import org.hnet.HNetException;

/**
 * A restricted reader of Python pickles (protocols 0-5, the binary opcodes that torch.save emits).
 * It never runs code: a global is only a name, and only the names of {@code allowed} may appear at
 * all (anything else is refused, named, wherever it is in the pickle, as torch's weights_only
 * loader does). {@code collections.OrderedDict} becomes a LinkedHashMap, names listed in {@code
 * callables} are applied by the caller's Java functions, and the other allowed globals (a
 * checkpoint's configuration classes) become inert {@link Placeholder}s that absorb calls, BUILD
 * state and items.
 *
 * <p>Hostile input fails in bounded time and memory: what is built is linear in the pickle's length
 * (one object per opcode at most); decimal integers are limited to {@link #MAX_DIGITS} digits
 * (CPython's own limit; parsing is quadratic in the length); dict keys must be hashable as in
 * Python and at most {@link #MAX_KEY_NODES} nodes when expanded, with their hash computed once per
 * tuple, so that shared sub-tuples cannot make hashing or comparing exponential; descriptions in
 * error messages are cut at {@link #DESCRIBE_CHARS} characters and a few levels.
 *
 * <p>Python values map to: None = null, bool = Boolean, int = Long (BigInteger beyond 64 bits),
 * float = Double, str = String, bytes = byte[], tuple = {@link PyTuple}, list = ArrayList, dict =
 * LinkedHashMap, set/frozenset = LinkedHashSet. Opcode semantics follow CPython's
 * Lib/pickletools.py.
 */
final class Unpickler {
  /** A module-level name referenced by GLOBAL / STACK_GLOBAL. */
  record PyGlobal(String module, String name) {
    String qualified() {
      return module + "." + name;
    }
  }

  /** Longest decimal integer accepted in a text opcode (CPython's int_max_str_digits default). */
  static final int MAX_DIGITS = 4300;

  /** Largest dict key, counted as the nodes of its tuples expanded into a tree. */
  static final long MAX_KEY_NODES = 10_000;

  /** Longest description of an object in an error message. */
  static final int DESCRIBE_CHARS = 200;

  /**
   * An immutable Python tuple; equality by content so tuples can be dict keys. Its hash, its size
   * expanded into a tree (saturating) and whether it is hashable (no list, dict or set inside) are
   * computed once, from its items', when it is made.
   */
  static final class PyTuple {
    private final List<Object> items;
    private final int hash;
    final long nodes;
    final boolean hashable;

    PyTuple(List<Object> items) {
      this.items = items;
      int h = 1;
      long n = 1;
      boolean ok = true;
      for (Object o : items) {
        if (o instanceof PyTuple t) {
          h = 31 * h + t.hash;
          n = n + t.nodes < 0 ? Long.MAX_VALUE : n + t.nodes; // saturating
          ok &= t.hashable;
        } else {
          boolean mutable = o instanceof List<?> || o instanceof Map<?, ?> || o instanceof Set<?>;
          // a mutable container is not hashed (Java would walk it, perhaps forever): the tuple is
          // then unhashable, as in Python, and never used as a key
          h =
              31 * h
                  + (o == null || mutable
                      ? 0
                      : o instanceof byte[] b ? Arrays.hashCode(b) : o.hashCode());
          n = n == Long.MAX_VALUE ? n : n + 1;
          ok &= !mutable;
        }
      }
      this.hash = h;
      this.nodes = n;
      this.hashable = ok;
    }

    List<Object> items() {
      return items;
    }

    Object get(int i) {
      return items.get(i);
    }

    int size() {
      return items.size();
    }

    @Override
    public int hashCode() {
      return hash;
    }

    /** Structural; only ever called on keys of at most MAX_KEY_NODES nodes, so bounded. */
    @Override
    public boolean equals(Object o) {
      if (o == this) return true;
      if (!(o instanceof PyTuple t) || t.hash != hash || t.items.size() != items.size())
        return false;
      for (int i = 0; i < items.size(); i++) {
        Object a = items.get(i), b = t.items.get(i);
        if (a instanceof byte[] x && b instanceof byte[] y
            ? !Arrays.equals(x, y)
            : !java.util.Objects.equals(a, b)) return false;
      }
      return true;
    }

    @Override
    public String toString() {
      return describe(this);
    }
  }

  /** Stand-in for an object of an unrecognised class or the result of an unrecognised call. */
  static final class Placeholder {
    final String target;
    final List<Object> args;
    Object state;

    Placeholder(String target, List<Object> args) {
      this.target = target;
      this.args = args;
    }

    @Override
    public String toString() {
      return "<unpickled placeholder for " + target + ">";
    }
  }

  private static final Object MARK_SENTINEL = new Object();

  private final byte[] data;
  private final String where;
  private final Set<String> allowed;
  private final Map<String, Function<List<Object>, Object>> callables;
  private final Function<Object, Object> persistentLoad;
  private final ArrayList<Object> stack = new ArrayList<>();
  private final Map<Long, Object> memo = new HashMap<>();
  private int pos;
  private int opStart;

  /**
   * @param where names the pickle in error messages, e.g. "model.pt: data.pkl"
   * @param allowed the globals ("module.name") that may appear besides {@code callables} and {@code
   *     collections.OrderedDict}; they become placeholders
   * @param callables recognised globals by "module.name": the function receives the call's
   *     positional arguments
   * @param persistentLoad resolves BINPERSID ids, or null to reject them
   */
  Unpickler(
      byte[] data,
      String where,
      Set<String> allowed,
      Map<String, Function<List<Object>, Object>> callables,
      Function<Object, Object> persistentLoad) {
    this.data = data;
    this.where = where;
    this.allowed = allowed;
    this.callables = callables;
    this.persistentLoad = persistentLoad;
  }

  /** Runs the pickle to its STOP opcode and returns the top object. */
  Object load() {
    while (true) {
      opStart = pos;
      int op = u8();
      switch (op) {
        case 0x80 -> u8(); // PROTO: version byte, nothing to check
        case 0x95 -> i64(); // FRAME: length hint only
        case '.' -> {
          Object result = pop();
          if (!stack.isEmpty()) {
            throw error("STOP leaves " + stack.size() + " objects on the stack");
          }
          return result;
        }
        case '(' -> stack.add(MARK_SENTINEL);
        case '0' -> pop();
        case '1' -> popMark();
        case '2' -> push(peek());
        case 'N' -> push(null);
        case 0x88 -> push(Boolean.TRUE);
        case 0x89 -> push(Boolean.FALSE);
        case 'I' -> push(parseIntLine(line()));
        case 'L' -> push(parseLongLine(line()));
        case 'J' -> push((long) i32());
        case 'K' -> push((long) u8());
        case 'M' -> push((long) (u8() | (u8() << 8)));
        case 0x8a -> push(longLE(bytes(u8())));
        case 0x8b -> push(longLE(bytes(len32())));
        case 'G' -> push(Double.longBitsToDouble(Long.reverseBytes(i64())));
        case 'X' -> push(utf8(bytes(len32())));
        case 0x8c -> push(utf8(bytes(u8())));
        case 0x8d -> push(utf8(bytes(len64())));
        case 'T' -> push(new String(bytes(len32()), StandardCharsets.ISO_8859_1));
        case 'U' -> push(new String(bytes(u8()), StandardCharsets.ISO_8859_1));
        case 'C' -> push(bytes(u8()));
        case 'B' -> push(bytes(len32()));
        case 0x8e, 0x96 -> push(bytes(len64()));
        case ')' -> push(new PyTuple(List.of()));
        case 't' -> push(tuple(popMark()));
        case 0x85 -> push(tuple(Collections.singletonList(pop())));
        case 0x86 -> {
          Object b = pop();
          Object a = pop();
          push(tuple(Arrays.asList(a, b)));
        }
        case 0x87 -> {
          Object c = pop();
          Object b = pop();
          Object a = pop();
          push(tuple(Arrays.asList(a, b, c)));
        }
        case ']' -> push(new ArrayList<>());
        case 'l' -> push(new ArrayList<>(popMark()));
        case 'a' -> append(Collections.singletonList(pop()));
        case 'e' -> append(popMark());
        case '}' -> push(new LinkedHashMap<>());
        case 'd' -> {
          Map<Object, Object> m = new LinkedHashMap<>();
          setItems(m, popMark());
          push(m);
        }
        case 's' -> {
          Object v = pop();
          Object k = pop();
          setItems(peek(), Arrays.asList(k, v));
        }
        case 'u' -> {
          List<Object> kv = popMark();
          setItems(peek(), kv);
        }
        case 0x8f -> push(new LinkedHashSet<>());
        case 0x90 -> {
          List<Object> items = popMark();
          if (peek() instanceof Set<?>) {
            @SuppressWarnings("unchecked")
            Set<Object> s = (Set<Object>) peek();
            s.addAll(items);
          } else if (!(peek() instanceof Placeholder)) {
            throw error("ADDITEMS on " + typeName(peek()));
          }
        }
        case 0x91 -> push(Collections.unmodifiableSet(new LinkedHashSet<>(popMark())));
        case 'p' -> memo.put(memoKey(line()), peek());
        case 'q' -> memo.put((long) u8(), peek());
        case 'r' -> memo.put(len32(), peek());
        case 0x94 -> memo.put((long) memo.size(), peek());
        case 'g' -> push(memoGet(memoKey(line())));
        case 'h' -> push(memoGet(u8()));
        case 'j' -> push(memoGet(len32()));
        case 'c' -> {
          String module = line();
          push(global(module, line()));
        }
        case 0x93 -> {
          Object name = pop();
          Object module = pop();
          if (!(module instanceof String m) || !(name instanceof String n)) {
            throw error("STACK_GLOBAL needs two strings");
          }
          push(global(m, n));
        }
        case 'R' -> {
          Object args = pop();
          push(call(pop(), args));
        }
        case 0x81 -> {
          Object args = pop();
          push(instantiate(pop(), args));
        }
        case 0x92 -> {
          pop(); // kwargs: ignored, the result is a placeholder or a dict anyway
          Object args = pop();
          push(instantiate(pop(), args));
        }
        case 'b' -> {
          Object state = pop();
          if (peek() instanceof Placeholder p) {
            p.state = state;
          }
          // BUILD on a dict (e.g. a state dict's _metadata attribute) or a tensor sets Python
          // attributes that a state dict does not need.
        }
        case 'Q' -> {
          if (persistentLoad == null) {
            throw error("persistent id without a persistent_load");
          }
          Object pid = pop();
          push(hook("persistent_load", () -> persistentLoad.apply(pid)));
        }
        default -> throw error(String.format("unsupported pickle opcode 0x%02x", op));
      }
    }
  }

  /** A global, if it is one a state dict or its known configuration objects need. */
  private PyGlobal global(String module, String name) {
    PyGlobal g = new PyGlobal(module, name);
    String q = g.qualified();
    if (!q.equals("collections.OrderedDict") && !callables.containsKey(q) && !allowed.contains(q)) {
      throw error(
          "refuses the global '"
              + printable(q)
              + "': only tensors, storages and known configuration classes"
              + " may appear in a checkpoint");
    }
    return g;
  }

  /** Runs caller code; its IllegalArgumentException etc. become errors at the current opcode. */
  private Object hook(String what, Supplier<Object> body) {
    try {
      return body.get();
    } catch (HNetException e) {
      throw e;
    } catch (RuntimeException e) {
      throw error(what + ": " + e.getMessage());
    }
  }

  private Object call(Object fn, Object args) {
    if (!(args instanceof PyTuple t)) {
      throw error("REDUCE arguments are " + typeName(args) + ", not a tuple");
    }
    if (fn instanceof PyGlobal g) {
      if (g.qualified().equals("collections.OrderedDict")) {
        return newDict(t.items());
      }
      Function<List<Object>, Object> f = callables.get(g.qualified());
      if (f != null) {
        return hook(g.qualified(), () -> f.apply(t.items()));
      }
      return new Placeholder(g.qualified(), t.items());
    }
    if (fn instanceof Placeholder p) {
      return new Placeholder(p.target + "(...)", t.items());
    }
    throw error("REDUCE calls " + typeName(fn) + ", which is not callable");
  }

  /** NEWOBJ: {@code cls.__new__(cls, *args)}; never applies a recognised function. */
  private Object instantiate(Object cls, Object args) {
    if (!(args instanceof PyTuple t)) {
      throw error("NEWOBJ arguments are " + typeName(args) + ", not a tuple");
    }
    if (cls instanceof PyGlobal g) {
      if (g.qualified().equals("collections.OrderedDict")) {
        return new LinkedHashMap<>();
      }
      return new Placeholder(g.qualified(), t.items());
    }
    if (cls instanceof Placeholder p) {
      return new Placeholder(p.target + "(...)", t.items());
    }
    throw error("NEWOBJ on " + typeName(cls) + ", which is not a class");
  }

  /** OrderedDict() or OrderedDict([(k, v), ...]). */
  private Map<Object, Object> newDict(List<Object> args) {
    Map<Object, Object> m = new LinkedHashMap<>();
    if (!args.isEmpty() && args.get(0) instanceof List<?> pairs) {
      for (Object p : pairs) {
        if (p instanceof PyTuple kv && kv.size() == 2) {
          m.put(key(kv.get(0)), kv.get(1));
        }
      }
    }
    return m;
  }

  private void append(List<Object> items) {
    Object target = peek();
    if (target instanceof List<?>) {
      @SuppressWarnings("unchecked")
      List<Object> l = (List<Object>) target;
      l.addAll(items);
    } else if (!(target instanceof Placeholder)) {
      throw error("APPEND to " + typeName(target));
    }
  }

  private void setItems(Object target, List<Object> kv) {
    if (kv.size() % 2 != 0) {
      throw error("odd number of items for SETITEMS");
    }
    if (target instanceof Map<?, ?>) {
      @SuppressWarnings("unchecked")
      Map<Object, Object> m = (Map<Object, Object>) target;
      for (int i = 0; i < kv.size(); i += 2) {
        m.put(key(kv.get(i)), kv.get(i + 1));
      }
    } else if (!(target instanceof Placeholder)) {
      throw error("SETITEM on " + typeName(target));
    }
  }

  /** A dict key as Python allows it (hashable), and small enough to hash and compare. */
  private Object key(Object k) {
    if (k instanceof List<?> || k instanceof Map<?, ?> || k instanceof Set<?>) {
      throw error("unhashable dict key of type " + typeName(k));
    }
    if (k instanceof PyTuple t) {
      if (!t.hashable) throw error("unhashable dict key: a tuple holding a list, dict or set");
      if (t.nodes > MAX_KEY_NODES) {
        throw error(
            "dict key of "
                + (t.nodes == Long.MAX_VALUE ? "more than 2^63" : t.nodes)
                + " nodes (limit "
                + MAX_KEY_NODES
                + ")");
      }
    }
    return k;
  }

  private static PyTuple tuple(List<Object> items) {
    return new PyTuple(Collections.unmodifiableList(new ArrayList<>(items)));
  }

  private Object memoGet(long key) {
    if (!memo.containsKey(key)) {
      throw error("memo key " + key + " was never stored");
    }
    return memo.get(key);
  }

  private void push(Object o) {
    stack.add(o);
  }

  private Object pop() {
    if (stack.isEmpty() || stack.getLast() == MARK_SENTINEL) {
      throw error("stack underflow");
    }
    return stack.removeLast();
  }

  private Object peek() {
    if (stack.isEmpty() || stack.getLast() == MARK_SENTINEL) {
      throw error("stack underflow");
    }
    return stack.getLast();
  }

  /** Removes and returns the objects above the topmost MARK, and the MARK itself. */
  private List<Object> popMark() {
    int k = stack.size() - 1;
    while (k >= 0 && stack.get(k) != MARK_SENTINEL) {
      k--;
    }
    if (k < 0) {
      throw error("no MARK on the stack");
    }
    List<Object> items = new ArrayList<>(stack.subList(k + 1, stack.size()));
    stack.subList(k, stack.size()).clear();
    return items;
  }

  private int u8() {
    if (pos >= data.length) {
      throw error("pickle ends without STOP");
    }
    return data[pos++] & 0xFF;
  }

  private int i32() {
    return u8() | (u8() << 8) | (u8() << 16) | (u8() << 24);
  }

  private long i64() {
    return (i32() & 0xFFFFFFFFL) | ((long) i32() << 32);
  }

  private long len32() {
    return i32() & 0xFFFFFFFFL;
  }

  private long len64() {
    long n = i64();
    if (n < 0) {
      throw error("negative length");
    }
    return n;
  }

  private byte[] bytes(long n) {
    if (n > data.length - pos) {
      throw error("length " + n + " runs past the end of the pickle");
    }
    byte[] b = Arrays.copyOfRange(data, pos, pos + (int) n);
    pos += (int) n;
    return b;
  }

  private String line() {
    int start = pos;
    while (pos < data.length && data[pos] != '\n') {
      pos++;
    }
    if (pos >= data.length) {
      throw error("unterminated text argument");
    }
    return new String(data, start, pos++ - start, StandardCharsets.UTF_8);
  }

  private Object parseIntLine(String s) {
    return switch (s) {
      case "00" -> Boolean.FALSE;
      case "01" -> Boolean.TRUE;
      default -> decimal(s.strip(), "INT");
    };
  }

  private Object parseLongLine(String s) {
    return decimal(s.endsWith("L") ? s.substring(0, s.length() - 1) : s, "LONG");
  }

  /**
   * A decimal integer of at most MAX_DIGITS digits (BigInteger's parse is quadratic in the length).
   */
  private Object decimal(String s, String op) {
    if (s.length() > MAX_DIGITS + 1) {
      throw error(
          op + " argument of " + s.length() + " characters (limit " + MAX_DIGITS + " digits)");
    }
    try {
      return normalize(new BigInteger(s));
    } catch (NumberFormatException e) {
      throw error(
          "bad "
              + op
              + " argument '"
              + printable(s.length() > 40 ? s.substring(0, 40) + "..." : s)
              + "'");
    }
  }

  private long memoKey(String s) {
    Object k = decimal(s.strip(), "memo");
    if (!(k instanceof Long v) || v < 0) throw error("bad memo key " + printable(s.strip()));
    return v;
  }

  static String printable(String s) {
    return HNetException.printable(s);
  }

  /**
   * A short description for error messages: at most DESCRIBE_CHARS characters and a few levels,
   * whatever the structure (shared or self-referencing containers included).
   */
  static String describe(Object o) {
    StringBuilder b = new StringBuilder();
    describe(o, b, 0);
    return b.length() > DESCRIBE_CHARS ? b.substring(0, DESCRIBE_CHARS) + "..." : b.toString();
  }

  private static void describe(Object o, StringBuilder b, int depth) {
    if (b.length() > DESCRIBE_CHARS) return;
    List<?> items = o instanceof PyTuple t ? t.items() : o instanceof List<?> l ? l : null;
    if (items != null) {
      if (depth >= 4) {
        b.append(o instanceof PyTuple ? "(...)" : "[...]");
        return;
      }
      b.append(o instanceof PyTuple ? '(' : '[');
      for (int i = 0; i < items.size() && b.length() <= DESCRIBE_CHARS; i++) {
        if (i > 0) b.append(", ");
        describe(items.get(i), b, depth + 1);
      }
      b.append(o instanceof PyTuple ? ')' : ']');
    } else if (o instanceof String s) {
      b.append('\'')
          .append(printable(s.length() > DESCRIBE_CHARS ? s.substring(0, DESCRIBE_CHARS) : s))
          .append('\'');
    } else if (o instanceof Long || o instanceof Boolean || o instanceof Double) {
      b.append(o);
    } else if (o instanceof BigInteger v) {
      b.append(v.bitLength() > 600 ? "<an integer of " + v.bitLength() + " bits>" : v.toString());
    } else {
      b.append(typeName(o));
    }
  }

  private static String utf8(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  /** Little-endian two's complement, as LONG1/LONG4 store it. */
  private static Object longLE(byte[] le) {
    if (le.length == 0) {
      return 0L;
    }
    byte[] be = new byte[le.length];
    for (int i = 0; i < le.length; i++) {
      be[i] = le[le.length - 1 - i];
    }
    return normalize(new BigInteger(be));
  }

  private static Object normalize(BigInteger v) {
    return v.bitLength() < 64 ? (Object) v.longValue() : v;
  }

  static String typeName(Object o) {
    if (o == null) {
      return "None";
    }
    if (o instanceof PyGlobal g) {
      return printable(g.qualified());
    }
    if (o instanceof Placeholder p) {
      return printable(p.toString());
    }
    return o.getClass().getSimpleName();
  }

  private HNetException error(String message) {
    return new HNetException(where + " at byte " + opStart + ": " + message);
  }
}
