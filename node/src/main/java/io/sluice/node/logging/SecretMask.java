package io.sluice.node.logging;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Masks credentials in a log line, as the last line of defence: no code path should log a key,
 * but a library may quote a request header it could not parse (Pekko HTTP's "Illegal header"
 * warning quoted the whole Authorization value). Masked are:
 *
 * <ul>
 *   <li>any {@code sk-...} key (Sluice's {@code sk-sluice.<tenant>.<secret>}, OpenAI's and
 *       Anthropic's upstream keys), from {@code sk-} to the next character that no key contains;
 *   <li>everything after {@code Bearer}, {@code Basic}, {@code Authorization}, {@code x-api-key}
 *       or {@code api-key} up to the end of that line, whatever it holds: a malformed value may
 *       contain spaces, quotes or control characters, so no shorter rule can know where it ends.
 * </ul>
 *
 * Lines that mention none of these are returned as they are, after one scan.
 */
public final class SecretMask {
  static final String MASK = "[masked]";

  private static final Pattern SECRET = Pattern.compile(
      "(?i)(\\bsk-[^\\s\"'<>\\\\,;]+)"
          + "|((?:\\bbearer|\\bbasic|authorization|x-api-key|\\bapi[-_]key)\\b)[^\\r\\n]*");

  private SecretMask() {}

  /** {@code line} with every credential replaced by {@value #MASK}. */
  public static String mask(String line) {
    if (line == null || line.isEmpty()) {
      return line;
    }
    Matcher m = SECRET.matcher(line);
    if (!m.find()) {
      return line;
    }
    StringBuilder out = new StringBuilder(line.length());
    int last = 0;
    do {
      out.append(line, last, m.start());
      if (m.group(1) != null) {
        out.append("sk-").append(MASK);
      } else {
        out.append(m.group(2)).append(' ').append(MASK);
      }
      last = m.end();
    } while (m.find());
    out.append(line, last, line.length());
    return out.toString();
  }
}
