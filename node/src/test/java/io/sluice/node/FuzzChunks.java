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

  /** Above this length a body is not also fed one byte per chunk (quadratic in the taps' buffering). */
  private static final int BYTEWISE_MAX = 512;

  /**
   * {@code b} as one chunk, cut at points drawn from the input's hash, and (when short) one byte per
   * chunk.
   */
  public static List<List<ByteString>> splits(byte[] b) {
    List<ByteString> whole = List.of(ByteString.fromArray(b));
    SplittableRandom r = new SplittableRandom(Arrays.hashCode(b));
    List<ByteString> random = new ArrayList<>();
    int i = 0;
    while (i < b.length) {
      int n = Math.min(b.length - i, 1 + r.nextInt(16));
      random.add(ByteString.fromArray(b, i, n));
      i += n;
    }
    if (b.length > BYTEWISE_MAX) {
      return List.of(whole, random);
    }
    List<ByteString> bytes = new ArrayList<>(b.length);
    for (byte x : b) {
      bytes.add(ByteString.fromArray(new byte[] {x}));
    }
    return List.of(whole, random, bytes);
  }
}
