package io.sluice.node.surface;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The validator against the JDK's strict UTF-8 decoder (the reference: it refuses overlong forms,
 * surrogates and code points above U+10FFFF) over every 1- and 2-byte input and every 3- and 4-byte
 * input around the boundaries, against every code point's encoding, and against Markus Kuhn's
 * UTF-8 decoder stress test.
 */
class Utf8Test {
  private static final HexFormat HEX = HexFormat.of();
  private static final CharsetDecoder DECODER = StandardCharsets.UTF_8.newDecoder()
      .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);

  private static boolean reference(byte[] b) {
    for (byte x : b) {
      if (x == 0) return false;
    }
    try {
      DECODER.reset().decode(ByteBuffer.wrap(b));
      return true;
    } catch (CharacterCodingException e) {
      return false;
    }
  }

  private static void assertAgreesWithReference(byte[] b) {
    boolean valid = reference(b);
    assertEquals(valid, Utf8.firstInvalid(b) < 0, () -> HEX.formatHex(b));
  }

  private static byte[] hex(String s) {
    return HEX.parseHex(s.replace(" ", ""));
  }

  @Test
  void firstInvalid_everyOneAndTwoByteInput_agreesWithReference() {
    for (int a = 0; a < 256; a++) {
      assertAgreesWithReference(new byte[] {(byte) a});
      for (int b = 0; b < 256; b++) {
        assertAgreesWithReference(new byte[] {(byte) a, (byte) b});
      }
    }
  }

  @Test
  void firstInvalid_everyThreeByteInputWithAMultiByteLead_agreesWithReference() {
    byte[] buf = new byte[3];
    for (int a = 0xC0; a < 0x100; a++) {
      for (int b = 0; b < 256; b++) {
        for (int c = 0; c < 256; c++) {
          buf[0] = (byte) a;
          buf[1] = (byte) b;
          buf[2] = (byte) c;
          assertAgreesWithReference(buf);
        }
      }
    }
  }

  @Test
  void firstInvalid_fourByteInputsAroundEveryBoundary_agreeWithReference() {
    int[] edges = {0x00, 0x01, 0x7F, 0x80, 0x81, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xEF,
        0xF0, 0xF4, 0xF5, 0xFF};
    byte[] buf = new byte[4];
    for (int a = 0xE0; a < 0x100; a++) {
      for (int b = 0; b < 256; b++) {
        for (int c : edges) {
          for (int d : edges) {
            buf[0] = (byte) a;
            buf[1] = (byte) b;
            buf[2] = (byte) c;
            buf[3] = (byte) d;
            assertAgreesWithReference(buf);
          }
        }
      }
    }
  }

  @Test
  void firstInvalid_everyScalarValue_validExceptNul() {
    for (int cp = 0; cp <= 0x10FFFF; cp++) {
      if (cp >= 0xD800 && cp <= 0xDFFF) {
        continue;
      }
      byte[] b = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
      assertEquals(cp == 0 ? 0 : -1, Utf8.firstInvalid(b), Integer.toHexString(cp));
    }
  }

  @Test
  void firstInvalid_everySurrogateEncodedDirectly_invalid() {
    for (int cp = 0xD800; cp <= 0xDFFF; cp++) {
      assertEquals(0, Utf8.firstInvalid(encode(cp, 3)), Integer.toHexString(cp));
    }
  }

  @Test
  void firstInvalid_everyOverlongForm_invalid() {
    for (int cp = 0; cp < 0x10000; cp++) {
      int shortest = cp < 0x80 ? 1 : cp < 0x800 ? 2 : 3;
      for (int len = shortest + 1; len <= 4; len++) {
        assertEquals(0, Utf8.firstInvalid(encode(cp, len)), Integer.toHexString(cp) + " in " + len);
      }
    }
  }

  @Test
  void firstInvalid_codePointsAbove10FFFF_invalid() {
    for (int cp = 0x110000; cp <= 0x1FFFFF; cp += 0x111) {
      assertEquals(0, Utf8.firstInvalid(encode(cp, 4)), Integer.toHexString(cp));
    }
    assertEquals(0, Utf8.firstInvalid(encode(0x110000, 4)));
    assertEquals(0, Utf8.firstInvalid(encode(0x1FFFFF, 4)));
  }

  @Test
  void firstInvalid_everyTruncationOfEveryLength_invalidAtTheLead() {
    for (int cp : new int[] {0x80, 0x7FF, 0x800, 0xFFFF, 0x10000, 0x10FFFF, 0xE9, 0x20AC, 0x1F600}) {
      byte[] full = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
      for (int cut = 1; cut < full.length; cut++) {
        byte[] prefixed = new byte[11 + cut];
        Arrays.fill(prefixed, (byte) 'a');
        System.arraycopy(full, 0, prefixed, 11, cut);
        assertEquals(11, Utf8.firstInvalid(prefixed), Integer.toHexString(cp) + " cut to " + cut);
        // Cut in the middle of a body, followed by ASCII.
        byte[] inner = Arrays.copyOf(prefixed, prefixed.length + 9);
        Arrays.fill(inner, prefixed.length, inner.length, (byte) 'z');
        assertEquals(11, Utf8.firstInvalid(inner), Integer.toHexString(cp) + " cut to " + cut + " then ASCII");
      }
    }
  }

  @Test
  void firstInvalid_badByteAtEveryOffsetOfAnAsciiRun_reportsThatOffset() {
    for (int bad : new int[] {0x00, 0x80, 0xBF, 0xC0, 0xF5, 0xFF}) {
      for (int len = 1; len <= 40; len++) {
        for (int at = 0; at < len; at++) {
          byte[] b = new byte[len];
          Arrays.fill(b, (byte) '{');
          b[at] = (byte) bad;
          assertEquals(at, Utf8.firstInvalid(b), "byte " + bad + " at " + at + " of " + len);
        }
      }
    }
  }

  @Test
  void firstInvalid_range_checksOnlyTheRange() {
    byte[] b = hex("ff 61 62 63 ff");
    assertEquals(-1, Utf8.firstInvalid(b, 1, 4));
    assertEquals(4, Utf8.firstInvalid(b, 1, 5));
    assertEquals(-1, Utf8.firstInvalid(hex("c3 a9"), 0, 2));
    assertEquals(0, Utf8.firstInvalid(hex("c3 a9"), 0, 1));
  }

  @Test
  void firstInvalid_emptyInput_valid() {
    assertEquals(-1, Utf8.firstInvalid(new byte[0]));
  }

  @Test
  void firstInvalid_utf16AndUtf32Bodies_invalid() {
    String json = "{\"model\":\"m\",\"messages\":[]}";
    for (String charset : new String[] {"UTF-16", "UTF-16LE", "UTF-16BE", "UTF-32", "UTF-32LE", "UTF-32BE"}) {
      byte[] b = json.getBytes(java.nio.charset.Charset.forName(charset));
      assertEquals(true, Utf8.firstInvalid(b) >= 0, charset);
    }
    byte[] utf32Bom = hex("00 00 fe ff");
    assertEquals(0, Utf8.firstInvalid(utf32Bom));
    assertEquals(0, Utf8.firstInvalid(hex("ff fe 7b 00")));
    assertEquals(0, Utf8.firstInvalid(hex("fe ff 00 7b")));
  }

  /** Markus Kuhn's UTF-8 decoder capability and stress test, sections 2 (boundaries) and 3-5. */
  @ParameterizedTest(name = "[{index}] {0} valid={1}")
  @CsvSource({
      // 2.1 first possible sequence of each length (U+0000 is refused as NUL, see the class doc)
      "c2 80, true", "e0 a0 80, true", "f0 90 80 80, true",
      // 2.1.5/2.1.6: 5- and 6-byte forms do not exist in UTF-8
      "f8 88 80 80 80, false", "fc 84 80 80 80 80, false",
      // 2.2 last possible sequence of each length
      "7f, true", "df bf, true", "ef bf bf, true", "f4 8f bf bf, true", "f7 bf bf bf, false",
      "fb bf bf bf bf, false", "fd bf bf bf bf bf, false",
      // 2.3 other boundaries
      "ed 9f bf, true", "ee 80 80, true", "ef bf bd, true", "f4 8f bf bf, true", "f4 90 80 80, false",
      // 3.1 unexpected continuation bytes
      "80, false", "bf, false", "80 bf, false", "80 bf 80, false", "80 bf 80 bf, false",
      // 3.2 lonely start characters followed by a space
      "c0 20, false", "df 20, false", "e0 20, false", "ef 20, false", "f0 20, false", "f7 20, false",
      "f8 20, false", "fb 20, false", "fc 20, false", "fd 20, false",
      // 3.3 sequences with the last continuation byte missing
      "c0, false", "e0 80, false", "f0 80 80, false", "df, false", "ef bf, false", "f7 bf bf, false",
      // 3.4 all of 3.3 concatenated
      "c0 e0 80 f0 80 80 df ef bf f7 bf bf, false",
      // 3.5 impossible bytes
      "fe, false", "ff, false", "fe fe ff ff, false",
      // 4.1 overlong ASCII '/'
      "c0 af, false", "e0 80 af, false", "f0 80 80 af, false", "f8 80 80 80 af, false",
      // 4.2 maximum overlong sequences
      "c1 bf, false", "e0 9f bf, false", "f0 8f bf bf, false",
      // 4.3 overlong NUL
      "c0 80, false", "e0 80 80, false", "f0 80 80 80, false",
      // 5.1 single UTF-16 surrogates
      "ed a0 80, false", "ed ad bf, false", "ed ae 80, false", "ed af bf, false", "ed b0 80, false",
      "ed be 80, false", "ed bf bf, false",
      // 5.2 paired UTF-16 surrogates
      "ed a0 80 ed b0 80, false", "ed af bf ed bf bf, false",
      // 5.3 noncharacters are well-formed UTF-8
      "ef bf be, true", "ef bf bf, true", "ef b7 90, true", "f0 9f bf be, true", "f4 8f bf be, true",
      // Kuhn's 1: "κόσμε"
      "ce ba e1 bd b9 cf 83 ce bc ce b5, true",
  })
  void firstInvalid_kuhnStressCases_asTheStandardSays(String hex, boolean valid) {
    byte[] b = hex(hex);
    assertEquals(valid, Utf8.firstInvalid(b) < 0, hex);
    assertEquals(valid, reference(b), "the reference disagrees on " + hex);
  }

  @ParameterizedTest
  @ValueSource(strings = {"7b 22 61 22 3a 22 c3 28 22 7d", "61 62 63 64 65 66 67 68 69 6a e2 82"})
  void firstInvalid_invalidInsideText_reportsTheLeadOffset(String hex) {
    byte[] b = hex(hex);
    int expected = hex.startsWith("7b") ? 6 : 10;
    assertEquals(expected, Utf8.firstInvalid(b));
  }

  /** {@code cp} in {@code len} bytes, overlong or not, without any check. */
  private static byte[] encode(int cp, int len) {
    byte[] b = new byte[len];
    int[] leads = {0, 0, 0xC0, 0xE0, 0xF0};
    for (int i = len - 1; i > 0; i--) {
      b[i] = (byte) (0x80 | (cp & 0x3F));
      cp >>>= 6;
    }
    b[0] = (byte) (len == 1 ? cp : leads[len] | cp);
    return b;
  }
}
