package io.sluice.node;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.pekko.util.ByteString;

/**
 * Ways to cut one streamed body into chunks, for the fuzz targets of stream decoders and taps: a
 * decoder must give the same result however the transport splits the bytes.
 */
public final class FuzzChunks {
  private FuzzChunks() {}

  /** {@code b} as one chunk, one byte per chunk, and cut at points drawn from the input's hash. */
  public static List<List<ByteString>> splits(byte[] b) {
    List<ByteString> whole = List.of(ByteString.fromArray(b));
    List<ByteString> bytes = new ArrayList<>(b.length);
    for (byte x : b) {
      bytes.add(ByteString.fromArray(new byte[] {x}));
    }
    SplittableRandom r = new SplittableRandom(Arrays.hashCode(b));
    List<ByteString> random = new ArrayList<>();
    int i = 0;
    while (i < b.length) {
      int n = Math.min(b.length - i, 1 + r.nextInt(16));
      random.add(ByteString.fromArray(b, i, n));
      i += n;
    }
    return List.of(whole, bytes, random);
  }
}
