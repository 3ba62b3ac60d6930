package org.hnet.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.hnet.HNetException;
import org.hnet.io.Unpickler.Placeholder;
import org.hnet.io.Unpickler.PyTuple;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UnpicklerTest {
  private static Object load(byte[] pickle) {
    return new Unpickler(pickle, "test.pkl", TorchCheckpoint.ALLOWED_GLOBALS, Map.of(), null)
        .load();
  }

  /**
   * A global outside the allowlist is refused where it appears, named, whether or not it is called.
   */
  @Test
  void aGlobalOutsideTheAllowlistIsRefusedAndNeverCalled(@TempDir Path dir) {
    Path marker = dir.resolve("pwned");
    String command = "touch " + marker;
    byte[][] payloads = {
      // os.system("touch ...") via GLOBAL + REDUCE, as a malicious checkpoint would do it
      new PickleWriter().proto(2).global("os", "system").str(command).op(0x85, 'R').stop(),
      // the same as a value inside a state dict, never called
      new PickleWriter().proto(2).op('}').str("w").global("os", "system").op('s').stop(),
      // builtins.eval via STACK_GLOBAL
      new PickleWriter()
          .proto(4)
          .shortStr("builtins")
          .shortStr("eval")
          .op(0x93)
          .str("1")
          .op(0x85, 'R')
          .stop(),
    };
    String[] names = {"os.system", "os.system", "builtins.eval"};
    for (int i = 0; i < payloads.length; i++) {
      byte[] p = payloads[i];
      HNetException e = assertThrows(HNetException.class, () -> load(p));
      assertTrue(e.getMessage().contains("refuses the global '" + names[i] + "'"), e.getMessage());
    }
    assertFalse(Files.exists(marker), "os.system must not run");
  }

  @Test
  void placeholderSwallowsNewobjBuildSetitemAppendAndCalls() {
    // builtins.eval via STACK_GLOBAL; NEWOBJ, BUILD with state, SETITEMS, APPENDS, then a call of
    // the placeholder itself.
    byte[] p =
        new PickleWriter()
            .proto(4)
            .shortStr("omegaconf.listconfig")
            .shortStr("ListConfig")
            .op(0x93, 0x94)
            .op(')', 0x81)
            .mark()
            .str("k")
            .integer(1)
            .op('u')
            .mark()
            .integer(2)
            .integer(3)
            .op('e')
            .op('}')
            .str("_content")
            .str("__import__('os').system('x')")
            .op('s', 'b')
            .str("arg")
            .op(0x85, 'R')
            .stop();
    Placeholder ph = assertInstanceOf(Placeholder.class, load(p));
    assertEquals("omegaconf.listconfig.ListConfig(...)", ph.target);
    assertEquals(List.of("arg"), ph.args);
  }

  @Test
  void primitivesContainersAndMemo() {
    byte[] p =
        new PickleWriter()
            .proto(4)
            .op(0x95)
            .le(0, 8) // FRAME
            .op('}', 0x94) // dict, memo 0
            .mark()
            .str("neg")
            .op('J')
            .le(-5, 4)
            .str("byte")
            .integer(200)
            .str("short")
            .integer(40000)
            .str("long1")
            .op(0x8a, 2, 0x00, 0xff) // -256
            .str("big")
            .op(0x8a, 9)
            .le(0, 8)
            .op(1) // 2^64
            .str("float")
            .op('G')
            .raw(new byte[] {0x3f, (byte) 0xf8, 0, 0, 0, 0, 0, 0}) // 1.5
            .str("bools")
            .op(0x88, 0x89, 'N', 0x87)
            .str("list")
            .op(']', 'q', 7)
            .mark()
            .integer(1)
            .integer(2)
            .op('e')
            .str("same")
            .op('h', 7)
            .str("samelong")
            .op('j')
            .le(7, 4)
            .str("bytes")
            .op('C', 2, 0xAB, 0xCD)
            .str("set")
            .op(0x8f)
            .mark()
            .integer(4)
            .op(0x90)
            .str("frozen")
            .mark()
            .integer(5)
            .op(0x91)
            .op(0x8d)
            .le(2, 8)
            .raw("u8".getBytes())
            .op(')')
            .str("pair")
            .integer(1)
            .integer(2)
            .op(0x86)
            .op('u')
            .stop();
    Map<?, ?> m = assertInstanceOf(Map.class, load(p));
    assertEquals(-5L, m.get("neg"));
    assertEquals(200L, m.get("byte"));
    assertEquals(40000L, m.get("short"));
    assertEquals(-256L, m.get("long1"));
    assertEquals(BigInteger.ONE.shiftLeft(64), m.get("big"));
    assertEquals(1.5, m.get("float"));
    assertEquals(new PyTuple(Arrays.asList(true, false, null)), m.get("bools"));
    assertEquals(List.of(1L, 2L), m.get("list"));
    assertTrue(m.get("same") == m.get("list") && m.get("samelong") == m.get("list"));
    assertTrue(Arrays.equals(new byte[] {(byte) 0xAB, (byte) 0xCD}, (byte[]) m.get("bytes")));
    assertEquals(Set.of(4L), m.get("set"));
    assertEquals(Set.of(5L), m.get("frozen"));
    assertEquals(new PyTuple(List.of()), m.get("u8"));
    assertEquals(new PyTuple(List.of(1L, 2L)), m.get("pair"));
    assertNull(((PyTuple) m.get("bools")).get(2));
  }

  @Test
  void orderedDictIsADictAndBuildStateIsIgnored() {
    byte[] p =
        new PickleWriter()
            .proto(2)
            .global("collections", "OrderedDict")
            .op(')', 'R')
            .mark()
            .str("b")
            .integer(1)
            .str("a")
            .integer(2)
            .op('u')
            .op('}')
            .str("_metadata")
            .op('}', 's', 'b')
            .stop();
    Map<?, ?> m = assertInstanceOf(Map.class, load(p));
    assertEquals(List.of("b", "a"), List.copyOf(m.keySet()));
  }

  /** Inputs that once took minutes, exponential time or the whole heap now fail at once. */
  @Test
  void hostilePicklesFailInBoundedTimeAndMemory() {
    // a 3,000,000-digit LONG (quadratic to parse)
    byte[] digits = new byte[3_000_000];
    java.util.Arrays.fill(digits, (byte) '7');
    byte[] longText = new PickleWriter().proto(2).op('L').raw(digits).op('L', '\n').stop();
    assertMessage(longText, "limit 4300 digits");
    // a non-numeric INT and memo key
    assertMessage(
        new PickleWriter().proto(2).op('I').raw("12x\n".getBytes()).stop(), "bad INT argument");
    assertMessage(
        new PickleWriter().proto(2).integer(1).op('p').raw("abc\n".getBytes()).stop(), "bad memo");
    // a dict key that is a tuple DAG of depth 39: 2^39 leaves when expanded
    PickleWriter dag = new PickleWriter().proto(2).op('}').integer(0);
    for (int d = 0; d < 39; d++) dag.op('q', 0, 'h', 0, 0x86); // memo it, push it again, pair them
    assertMessage(dag.integer(1).op('s').stop(), "nodes (limit 10000)");
    // a list as a key (unhashable in Python)
    assertMessage(new PickleWriter().proto(2).op('}', ']').integer(1).op('s').stop(), "unhashable");
    // a 200,000-deep nesting of lists, then described in an error: bounded
    PickleWriter deep = new PickleWriter().proto(2);
    for (int d = 0; d < 200_000; d++) deep.op(']');
    for (int d = 0; d < 199_999; d++) deep.op('a');
    deep.str("f").op(0x86, ')', 'R');
    assertMessage(deep.stop(), "REDUCE");
    // a list holding itself, described
    assertMessage(
        new PickleWriter().proto(2).op(']', 'q', 0, 'h', 0, 'a', 'h', 0).op(')', 'R').stop(),
        "REDUCE");
  }

  private static void assertMessage(byte[] p, String fragment) {
    long t0 = System.nanoTime();
    HNetException e = assertThrows(HNetException.class, () -> load(p));
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertTrue(e.getMessage().contains(fragment), e.getMessage());
    assertFalse(e.getMessage().contains("\n"), e.getMessage());
    assertTrue(e.getMessage().length() < 600, e.getMessage().length() + " characters");
    assertTrue(ms < 5000, ms + " ms");
  }

  @Test
  void malformedPicklesGiveOneLineErrorsNamingThePickle() {
    byte[][] bad = {
      new PickleWriter().proto(2).str("x").op('X').le(100, 4).stop(), // length past the end
      new byte[] {(byte) 0x80, 2, 'K', 1}, // no STOP
      new PickleWriter().proto(2).op('h', 3).stop(), // memo key never stored
      new PickleWriter().proto(2).op(0xFF).stop(), // unknown opcode
      new PickleWriter().proto(2).op('t').stop(), // no MARK
      new PickleWriter().proto(2).op('.').stop(), // empty stack
      new PickleWriter().proto(2).str("f").op(')', 'R').stop(), // calling a string
      new PickleWriter().proto(2).integer(1).integer(2).op('s').stop(), // SETITEM on an int
      new PickleWriter().proto(2).integer(1).op('Q').stop(), // persistent id without loader
    };
    for (byte[] p : bad) {
      HNetException e = assertThrows(HNetException.class, () -> load(p));
      assertTrue(e.getMessage().startsWith("test.pkl at byte "), e.getMessage());
      assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }
  }
}
