package io.sluice.node.inference;

import io.sluice.node.inference.chat.ChatEvent;
import io.sluice.node.inference.chat.ChatResponse;
import java.util.List;
import org.apache.pekko.NotUsed;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * A served request, in no client protocol's terms: either the upstream's answer in the client's
 * own protocol (passed through), or a neutral one for the surface to render. A refusal is not an
 * outcome: the pipeline fails with {@link Refusal.Refused} instead.
 */
public sealed interface Outcome {

  /** The deployment that served it. */
  String deployment();

  /** The upstream's status (a success). */
  int status();

  /** The tenant's rate-limit headers as they stand after admission. */
  List<HttpHeader> headers();

  /** Time spent in the gateway so far, not waiting for upstreams, at {@code nowNanos}. */
  long overheadNanos(long nowNanos);

  /** Where the request's time went; shared by the outcome variants. */
  record Timing(long startNanos, long upstreamNanos, long waitedNanos) {
    long overhead(long now) {
      return Math.max(0, now - startNanos - upstreamNanos - waitedNanos);
    }
  }

  /**
   * A whole response.
   *
   * @param passthrough the body in the client's protocol, or null when translated
   * @param translated the neutral response, or null when passed through
   */
  record Whole(String deployment, int status, ByteString passthrough, ChatResponse translated, Timing timing,
      List<HttpHeader> headers) implements Outcome {
    @Override
    public long overheadNanos(long nowNanos) {
      return timing.overhead(nowNanos);
    }
  }

  /**
   * A streamed response. Exactly one of the two sources is set. Either may fail once its first
   * element went out (the upstream died or went silent); the surface ends its client's stream with
   * its own error event then. Usage is charged whatever way the stream ends.
   *
   * @param passthrough the body's bytes in the client's protocol; it may carry empty chunks, which the
   *     renderer drops
   * @param translated the neutral events
   */
  record Streamed(String deployment, int status, Source<ByteString, NotUsed> passthrough,
      Source<ChatEvent, NotUsed> translated, Timing timing, List<HttpHeader> headers) implements Outcome {
    @Override
    public long overheadNanos(long nowNanos) {
      return timing.overhead(nowNanos);
    }
  }
}
