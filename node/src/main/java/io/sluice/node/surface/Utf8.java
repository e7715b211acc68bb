package io.sluice.node.surface;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * A strict check that a request body is UTF-8 in the form a JSON text may take, run once over the
 * whole body before any parser sees it. JSON parsers are lenient where it hurts a gateway: Jackson
 * auto-detects UTF-16 and UTF-32 (which the gateway's byte offsets cannot follow) and passes
 * ill-formed sequences inside fields it skips, which the gateway would then forward.
 *
 * <p>Accepted is exactly the well-formed UTF-8 of the Unicode standard (table 3-7, RFC 3629),
 * without U+0000: no overlong form, no surrogate (U+D800..U+DFFF), nothing above U+10FFFF, no
 * truncated sequence, no stray continuation byte. A raw NUL can never appear in a JSON text (control
 * characters must be escaped), and refusing it also refuses every UTF-16 or UTF-32 body, whose
 * ASCII characters carry zero bytes and whose byte-order marks (FE FF, FF FE) are never UTF-8.
 *
 * <p>The check allocates nothing and reads each byte once; ASCII runs go eight bytes per step.
 */
public final class Utf8 {
  private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final long ONES = 0x0101010101010101L;
  private static final long HIGHS = 0x8080808080808080L;

  private Utf8() {}

  /** The offset of the first byte of the first ill-formed sequence (or NUL) in {@code b}, or -1. */
  public static int firstInvalid(byte[] b) {
    return firstInvalid(b, 0, b.length);
  }

  /** Like {@link #firstInvalid(byte[])}, over {@code b[from, to)}; a sequence cut at {@code to} is ill-formed. */
  public static int firstInvalid(byte[] b, int from, int to) {
    int i = from;
    while (i < to) {
      if (to - i >= 8) {
        long w = (long) LONGS.get(b, i);
        // A byte with its high bit set, or a zero byte (0 - 1 borrows into the high bit), marks the
        // word; bytes above such a byte may be marked falsely, which only sends them the slow way.
        if ((((w - ONES) | w) & HIGHS) == 0) {
          i += 8;
          continue;
        }
      }
      int lead = b[i] & 0xFF;
      if (lead < 0x80) {
        if (lead == 0) {
          return i;
        }
        i++;
      } else if (lead < 0xC2) {
        return i; // a continuation byte without a lead, or C0/C1 (always overlong)
      } else if (lead < 0xE0) {
        if (i + 1 >= to || !continuation(b[i + 1])) {
          return i;
        }
        i += 2;
      } else if (lead < 0xF0) {
        // E0 needs A0..BF next (else overlong), ED needs 80..9F (else a surrogate).
        int lo = lead == 0xE0 ? 0xA0 : 0x80;
        int hi = lead == 0xED ? 0x9F : 0xBF;
        if (i + 2 >= to || !within(b[i + 1], lo, hi) || !continuation(b[i + 2])) {
          return i;
        }
        i += 3;
      } else if (lead < 0xF5) {
        // F0 needs 90..BF next (else overlong), F4 needs 80..8F (else above U+10FFFF).
        int lo = lead == 0xF0 ? 0x90 : 0x80;
        int hi = lead == 0xF4 ? 0x8F : 0xBF;
        if (i + 3 >= to || !within(b[i + 1], lo, hi) || !continuation(b[i + 2]) || !continuation(b[i + 3])) {
          return i;
        }
        i += 4;
      } else {
        return i; // F5..FF never occur in UTF-8
      }
    }
    return -1;
  }

  private static boolean continuation(byte x) {
    return (x & 0xC0) == 0x80;
  }

  private static boolean within(byte x, int lo, int hi) {
    int v = x & 0xFF;
    return v >= lo && v <= hi;
  }
}
