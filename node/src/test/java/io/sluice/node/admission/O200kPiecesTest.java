package io.sluice.node.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Holds the hand-written splitter to o200k_base's regular expression, and the counts to jtokkit's. */
class O200kPiecesTest {
  /** o200k_base's pattern as jtokkit 1.1.0 builds and compiles it. */
  private static final Pattern O200K = Pattern.compile(String.join("|",
      "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
      "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
      "\\p{N}{1,3}",
      " ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*",
      "\\s*[\\r\\n]+",
      "\\s+(?!\\S)",
      "\\s+"), Pattern.UNICODE_CHARACTER_CLASS);

  /**
   * Code points from every class the pattern distinguishes: cases, modifier and other letters,
   * the three kinds of marks and numbers, Unicode white space, apostrophes and the letters of the
   * contractions in both cases (and U+017F, which folds to s), and a character outside the BMP.
   */
  private static final int[] ALPHABET = {
      'a', 'b', 'e', 'l', 'm', 'r', 's', 't', 'v', 'd', 'A', 'E', 'L', 'R', 'S', 'T', 'D', 'M', 'V', 'x', 'Z',
      '0', '1', '7', '9', ' ', ' ', ' ', '\t', '\r', '\n', '\u000b', '\u000c', '\u0085', '\u00a0', '\u2028', '\u3000',
      '\'', '\'', '/', '.', ',', '!', '?', '-', '_', '"', '(', ')', '{', '}', '#', '$', '*',
      '\u017f', '\u01c5', '\u02b0', '\u30fc', '\u4e2d', '\u6587', '\u3042', '\u0915', '\u093f', '\u0301', '\u20dd',
      '\u0663', '\u2167', '\u00b2', '\u00e9', '\u00c9', '\u03a9', '\u03c9', '\u0416', '\u0436', 0x1F600, 0x1D400,
      '\u200d', '\u00ad'};

  private static final String[] TEXTS = {
      "You are a helpful assistant. Answer concisely, and cite sources where you can.",
      "Summarise the following in 3 bullet points:\n\n- The quick brown fox jumps over the lazy dog.\r\n"
          + "- It's 12345 o'clock; WE'RE LATE, aren't we?   \n\n\tindented line  ",
      "def main():\n    print(\"hello, world\")  # comment\n    return 0\n",
      "Ünïcödé ŧëxŧ, 中文文本, 日本語のテキスト, 한국어 텍스트, русский текст, العربية ١٢٣٤",
      "emoji 😀😃 and ZWJ 👩‍💻 sequences; <|endoftext|> stays ordinary text",
      "URL https://example.com/a/b?c=d&e=f and path /usr/lib/jvm//", "   ", "", "a", "\n", " \n ",
  };

  @Test
  void split_randomText_matchesTheRegex() {
    SplittableRandom random = new SplittableRandom(20261127);
    for (int n = 0; n < 30_000; n++) {
      String text = randomText(random, 1 + random.nextInt(24));
      assertEquals(regexPieces(text), pieces(text), () -> "pieces of " + escape(text));
    }
    for (String text : TEXTS) {
      assertEquals(regexPieces(text), pieces(text), () -> "pieces of " + escape(text));
    }
  }

  @Test
  void countO200k_randomAndRealText_equalsJtokkit() {
    Encoding o200k = Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.O200K_BASE);
    TokenEstimator cached = new TokenEstimator(1000);
    TokenEstimator uncached = new TokenEstimator(0);
    SplittableRandom random = new SplittableRandom(7);
    List<String> texts = new ArrayList<>(List.of(TEXTS));
    for (int n = 0; n < 3000; n++) {
      texts.add(randomText(random, 1 + random.nextInt(40)));
    }
    for (int round = 0; round < 2; round++) { // the second round counts from the cache
      for (String text : texts) {
        int expected = o200k.countTokensOrdinary(text);
        assertEquals(expected, cached.countO200k(text), () -> "count of " + escape(text));
        assertEquals(expected, uncached.countO200k(text), () -> "count of " + escape(text));
      }
    }
  }

  @Test
  void countO200k_longPieces_equalsJtokkit() {
    Encoding o200k = Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.O200K_BASE);
    TokenEstimator estimator = new TokenEstimator(1000);
    SplittableRandom random = new SplittableRandom(11);
    StringBuilder base64 = new StringBuilder();
    StringBuilder letters = new StringBuilder();
    StringBuilder cjk = new StringBuilder();
    for (int i = 0; i < 6000; i++) {
      base64.append("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".charAt(random.nextInt(64)));
      letters.append((char) ('a' + random.nextInt(26)));
      cjk.append((char) (0x4e00 + random.nextInt(2000)));
    }
    for (String text : List.of("a".repeat(3000), "ab".repeat(2000), letters.toString(), base64.toString(),
        cjk.toString(), "!@#".repeat(700), " ".repeat(5000) + "x", "\n".repeat(3000), "1234567890".repeat(300))) {
      assertEquals(o200k.countTokensOrdinary(text), estimator.countO200k(text),
          () -> "count of a long text starting " + escape(text.substring(0, 20)));
    }
  }

  private static String randomText(SplittableRandom random, int length) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < length; i++) {
      b.appendCodePoint(ALPHABET[random.nextInt(ALPHABET.length)]);
    }
    return b.toString();
  }

  private static List<String> regexPieces(String text) {
    List<String> out = new ArrayList<>();
    Matcher m = O200K.matcher(text);
    int covered = 0;
    while (m.find()) {
      assertEquals(covered, m.start(), "the regex left a gap");
      out.add(m.group());
      covered = m.end();
    }
    return out;
  }

  private static List<String> pieces(String text) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < text.length(); ) {
      int end = O200kPieces.match(text, i, text.length());
      out.add(text.substring(i, end));
      i = end;
    }
    return out;
  }

  private static String escape(String text) {
    StringBuilder b = new StringBuilder("\"");
    text.codePoints().forEach(c -> b.append(c >= 0x20 && c < 0x7f ? Character.toString(c) : String.format("\\u%04x", c)));
    return b.append('"').toString();
  }
}
