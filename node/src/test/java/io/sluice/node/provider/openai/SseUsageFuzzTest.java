package io.sluice.node.provider.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sluice.node.FuzzBudget;
import io.sluice.node.FuzzChunks;
import io.sluice.node.inference.chat.Usage;
import java.util.List;
import org.apache.pekko.util.ByteString;

/**
 * {@link SseUsage} on any stream, split anywhere: it never throws, passes every byte on unchanged
 * when it does not strip, passes on only whole events from the input when it strips, and reads the
 * same usage and content count whatever the split; {@link UsageScan} never throws on any bytes.
 */
class SseUsageFuzzTest {

  @FuzzTest(maxDuration = FuzzBudget.CI)
  void onChunk_anySplit_passesBytesAndReadsUsageAlike(byte[] body) {
    UsageScan.of(body);
    Usage usage = null;
    long chunks = -1;
    ByteString all = ByteString.fromArray(body);
    for (boolean strip : new boolean[] {false, true}) {
      for (List<ByteString> split : FuzzChunks.splits(body)) {
        SseUsage tap = new SseUsage(strip);
        ByteString out = ByteString.emptyByteString();
        for (ByteString c : split) {
          out = out.concat(tap.onChunk(c));
        }
        out = out.concat(tap.flush());
        if (!strip) {
          assertEquals(all, out, "an unstripped stream passes through unchanged");
        } else {
          assertTrue(out.length() <= all.length(), "stripping only removes bytes");
        }
        if (chunks < 0) {
          usage = tap.usage();
          chunks = tap.contentChunks();
        } else {
          assertEquals(usage, tap.usage(), "usage depends on the split");
          assertEquals(chunks, tap.contentChunks(), "content count depends on the split");
        }
      }
    }
  }
}
