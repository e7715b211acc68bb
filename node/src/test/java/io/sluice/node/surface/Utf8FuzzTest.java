package io.sluice.node.surface;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sluice.node.FuzzBudget;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * {@link Utf8#firstInvalid} agrees with the JDK's strict UTF-8 decoder (malformed input reported,
 * never replaced) on every input, whole or in a sub-range: the same first offset, with U+0000 as
 * the one code point the check refuses beyond the decoder's.
 */
class Utf8FuzzTest {

  @FuzzTest(maxDuration = FuzzBudget.CI)
  void firstInvalid_anyBytes_agreesWithStrictDecoder(FuzzedDataProvider data) {
    int from = data.consumeInt(0, 8);
    int trim = data.consumeInt(0, 8);
    byte[] b = data.consumeRemainingAsBytes();
    assertEquals(reference(b, 0, b.length), Utf8.firstInvalid(b));
    int to = Math.max(Math.min(from, b.length), b.length - trim);
    from = Math.min(from, to);
    assertEquals(reference(b, from, to), Utf8.firstInvalid(b, from, to));
  }

  /** The first offset in {@code b[from, to)} where the strict decoder fails or a NUL stands, or -1. */
  static int reference(byte[] b, int from, int to) {
    CharsetDecoder d = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(b, from, to - from);
    CharBuffer out = CharBuffer.allocate(Math.max(1, 2 * (to - from)));
    CoderResult r = d.decode(in, out, true);
    int bad = r.isError() ? in.position() : -1;
    for (int i = from; i < (bad < 0 ? to : bad); i++) {
      if (b[i] == 0) {
        return i;
      }
    }
    return bad;
  }
}
