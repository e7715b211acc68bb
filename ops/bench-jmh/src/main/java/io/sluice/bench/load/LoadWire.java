package io.sluice.bench.load;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;

/**
 * What the load generators ({@link OpenLoop}, {@link PacedLoad}) share: the requests they send,
 * formatted once, and the {@code key=value} result line's number formats. Exists so both measure
 * with byte-identical requests and report in the same units.
 */
final class LoadWire {
  private LoadWire() {}

  /**
   * One POST of {@code body} to {@code url} per key, {@code Authorization: Bearer <key>}, as
   * direct buffers that are never released: every send writes a retained duplicate.
   */
  static ByteBuf[] requests(URI url, List<String> keys, byte[] body) {
    ByteBuf[] requests = new ByteBuf[keys.size()];
    String host = url.getHost();
    int port = port(url);
    String path = url.getRawPath() + (url.getRawQuery() == null ? "" : "?" + url.getRawQuery());
    for (int i = 0; i < requests.length; i++) {
      String head = "POST " + path + " HTTP/1.1\r\n"
          + "Host: " + host + ":" + port + "\r\n"
          + "Content-Type: application/json\r\n"
          + "Authorization: Bearer " + keys.get(i) + "\r\n"
          + "Content-Length: " + body.length + "\r\n"
          + "\r\n";
      byte[] h = head.getBytes(StandardCharsets.US_ASCII);
      ByteBuf buf = Unpooled.directBuffer(h.length + body.length);
      buf.writeBytes(h).writeBytes(body);
      requests[i] = Unpooled.unreleasableBuffer(buf);
    }
    return requests;
  }

  /** The port the generators connect to: the URL's, or 80. */
  static int port(URI url) {
    return url.getPort() > 0 ? url.getPort() : 80;
  }

  /** Appends {@code " k=v"} to a result line. */
  static void kv(StringBuilder sb, String k, String v) {
    sb.append(' ').append(k).append('=').append(v);
  }

  /** Nanoseconds as milliseconds with three decimals. */
  static String ms(long nanos) {
    return fmt(nanos / 1e6, 3);
  }

  /** {@code v} with {@code digits} decimals, in the root locale. */
  static String fmt(double v, int digits) {
    return String.format(Locale.ROOT, "%." + digits + "f", v);
  }
}
