package io.sluice.node.provider.anthropic;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.util.ByteString;

/**
 * Cuts an SSE body into events as its bytes arrive, split anywhere (inside a line, inside a
 * UTF-8 character, between the CR and LF of a line end). Lines end in LF or CRLF; a blank line
 * ends an event. Only whole lines are decoded as text, so a character split across chunks is
 * decoded once whole. Not thread-safe: one per stream.
 */
final class SseFrames {
  /** One event: its {@code event:} name (null when it had none) and its {@code data:} lines joined by LF. */
  record Event(String name, String data) {}

  private ByteString pending = ByteString.emptyByteString();
  private String name;
  private StringBuilder data;

  /** The events that {@code chunk} completes. */
  List<Event> feed(ByteString chunk) {
    List<Event> out = new ArrayList<>(2);
    ByteString buf = pending.isEmpty() ? chunk.compact() : pending.concat(chunk).compact();
    int start = 0;
    int n = buf.length();
    for (int i = 0; i < n; i++) {
      if (buf.apply(i) == '\n') {
        int end = i > start && buf.apply(i - 1) == '\r' ? i - 1 : i;
        line(buf.slice(start, end), out);
        start = i + 1;
      }
    }
    pending = start == 0 ? buf : buf.drop(start);
    return out;
  }

  /** The body ended: an unterminated last line and event, if any. */
  List<Event> end() {
    List<Event> out = new ArrayList<>(1);
    if (!pending.isEmpty()) {
      ByteString rest = pending;
      pending = ByteString.emptyByteString();
      if (rest.apply(rest.length() - 1) == '\r') {
        rest = rest.dropRight(1);
      }
      line(rest, out);
    }
    line(ByteString.emptyByteString(), out);
    return out;
  }

  private void line(ByteString line, List<Event> out) {
    if (line.isEmpty()) {
      if (data != null || name != null) {
        out.add(new Event(name, data == null ? "" : data.toString()));
      }
      name = null;
      data = null;
      return;
    }
    String text = line.decodeString(StandardCharsets.UTF_8);
    if (text.charAt(0) == ':') {
      return; // a comment
    }
    int colon = text.indexOf(':');
    String field = colon < 0 ? text : text.substring(0, colon);
    String value = colon < 0 ? "" : text.substring(colon + 1);
    if (value.startsWith(" ")) {
      value = value.substring(1);
    }
    if (field.equals("event")) {
      name = value;
    } else if (field.equals("data")) {
      if (data == null) {
        data = new StringBuilder(value.length());
      } else {
        data.append('\n');
      }
      data.append(value);
    } // id and retry mean nothing to a one-shot response stream
  }
}
