package io.sluice.node.provider.openai;

import java.util.Arrays;
import org.apache.pekko.util.ByteString;

/**
 * Frames a server-sent event stream as its bytes arrive, split anywhere: lines end with LF, CR
 * LF or CR (a CR LF split across two chunks is one line end); a blank line dispatches the event's
 * data (its {@code data:} lines joined by LF); comments ({@code :} lines, keep-alives) and the
 * other fields are skipped. Bytes are kept whole until an event is complete, so a UTF-8
 * character split across chunks is read whole. Not thread-safe: one per stream.
 */
final class SseReader {

  /** Receives each event's data. The array is reused: read {@code [0, length)} before returning. */
  interface Sink {
    void data(byte[] data, int length);
  }

  private static final byte[] DATA = {'d', 'a', 't', 'a'};

  private byte[] line = new byte[256];
  private int lineLength;
  private byte[] data = new byte[1024];
  private int dataLength;
  private boolean hasData;
  private boolean afterCr;

  void feed(ByteString chunk, Sink sink) {
    byte[] bytes = chunk.toArrayUnsafe();
    int from = 0;
    for (int i = 0; i < bytes.length; i++) {
      byte b = bytes[i];
      if (b != '\n' && b != '\r') {
        continue;
      }
      boolean lfOfCrLf = b == '\n' && afterCr && i == from;
      afterCr = b == '\r';
      if (!lfOfCrLf) {
        append(bytes, from, i - from);
        endLine(sink);
      }
      from = i + 1;
    }
    if (from < bytes.length) {
      afterCr = false;
      append(bytes, from, bytes.length - from);
    }
  }

  /** The stream ended: an unterminated last line and event are read as if terminated. */
  void end(Sink sink) {
    if (lineLength > 0) {
      endLine(sink);
    }
    dispatch(sink);
  }

  private void append(byte[] bytes, int from, int length) {
    if (lineLength + length > line.length) {
      line = Arrays.copyOf(line, Math.max(line.length * 2, lineLength + length));
    }
    System.arraycopy(bytes, from, line, lineLength, length);
    lineLength += length;
  }

  private void endLine(Sink sink) {
    int n = lineLength;
    lineLength = 0;
    if (n == 0) {
      dispatch(sink);
      return;
    }
    int colon = 0;
    while (colon < n && line[colon] != ':') {
      colon++;
    }
    if (colon != DATA.length || !Arrays.equals(line, 0, colon, DATA, 0, DATA.length)) {
      return; // a comment (colon == 0), or a field other than data
    }
    // "data" alone, without a colon, is the field with an empty value.
    int value = Math.min(colon + 1, n);
    if (value < n && line[value] == ' ') {
      value++;
    }
    int need = dataLength + (hasData ? 1 : 0) + (n - value);
    if (need > data.length) {
      data = Arrays.copyOf(data, Math.max(data.length * 2, need));
    }
    if (hasData) {
      data[dataLength++] = '\n';
    }
    System.arraycopy(line, value, data, dataLength, n - value);
    dataLength += n - value;
    hasData = true;
  }

  private void dispatch(Sink sink) {
    if (!hasData) {
      return;
    }
    int n = dataLength;
    hasData = false;
    dataLength = 0;
    sink.data(data, n);
  }
}
