package io.sluice.it;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * HTTP/1.1 over a plain socket, for requests no HTTP client will send: broken framing, control
 * characters and raw bytes in headers, unknown methods, oversized heads, bodies cut short.
 */
final class RawHttp {
  private RawHttp() {}

  /** A response as read off the wire, or status -1 when the server closed without one. */
  record Reply(int status, String head, String body) {
    String header(String name) {
      for (String line : head.split("\r\n")) {
        int colon = line.indexOf(':');
        if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase(name)) {
          return line.substring(colon + 1).trim();
        }
      }
      return null;
    }
  }

  /** Sends {@code request} (ISO-8859-1, so each char is one byte) and reads one response. */
  static Reply exchange(int port, String request) {
    return exchange(port, request.getBytes(StandardCharsets.ISO_8859_1));
  }

  /** Sends {@code request} and reads one response (10 s at most). */
  static Reply exchange(int port, byte[] request) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
      s.setSoTimeout(10_000);
      s.getOutputStream().write(request);
      s.getOutputStream().flush();
      return read(s.getInputStream());
    } catch (SocketTimeoutException e) {
      throw new AssertionError("no response within 10 s", e);
    } catch (IOException e) {
      if (e.getMessage() != null && e.getMessage().toLowerCase(Locale.ROOT).contains("reset")) {
        return new Reply(-1, "", "");
      }
      throw new UncheckedIOException(e);
    }
  }

  /** Reads one response: head, then a Content-Length body, a chunked body, or up to EOF. */
  static Reply read(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int matched = 0;
    int b;
    while (matched < 4 && (b = in.read()) >= 0) {
      head.write(b);
      matched = (b == '\r' || b == '\n') && "\r\n\r\n".charAt(matched) == b ? matched + 1 : (b == '\r' ? 1 : 0);
    }
    String h = head.toString(StandardCharsets.ISO_8859_1);
    if (!h.startsWith("HTTP/1.")) {
      return new Reply(-1, h, "");
    }
    int status = Integer.parseInt(h.substring(9, 12));
    Reply headOnly = new Reply(status, h, "");
    String length = headOnly.header("Content-Length");
    byte[] body;
    if (length != null) {
      body = in.readNBytes(Integer.parseInt(length));
    } else if ("chunked".equalsIgnoreCase(headOnly.header("Transfer-Encoding"))) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      while (true) {
        String size = line(in);
        int n = Integer.parseInt(size.split(";")[0].trim(), 16);
        if (n == 0) {
          line(in);
          break;
        }
        out.write(in.readNBytes(n));
        line(in);
      }
      body = out.toByteArray();
    } else {
      body = in.readAllBytes();
    }
    return new Reply(status, h, new String(body, StandardCharsets.UTF_8));
  }

  private static String line(InputStream in) throws IOException {
    StringBuilder sb = new StringBuilder();
    int b;
    while ((b = in.read()) >= 0 && b != '\n') {
      if (b != '\r') sb.append((char) b);
    }
    return sb.toString();
  }
}
