package io.sluice.node.provider;

import io.sluice.node.inference.Call;
import io.sluice.node.inference.Protocol;
import io.sluice.node.inference.chat.ChatResponse;
import io.sluice.node.inference.chat.InvalidChat;
import io.sluice.node.inference.chat.StreamDecoder;
import io.sluice.node.inference.chat.Usage;
import io.sluice.node.routing.Deployment;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.function.Function;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.util.ByteString;

/**
 * Everything Sluice knows about one upstream protocol: where a request goes and how it is
 * authenticated, how a neutral request is written in it, how its whole responses, streams and
 * usage are read, and what its errors mean. When the client speaks the adapter's own
 * {@link #protocol()}, the body passes through with only the model and the credentials swapped,
 * and only the usage is read back.
 */
public interface ProviderAdapter {

  /** The {@code provider} name deployments use in config. */
  String provider();

  /** The wire protocol it speaks. */
  Protocol protocol();

  /**
   * Whether a body in the client protocol {@code client} passes through to {@code d} as bytes
   * (and its answer back): true when the deployment speaks that protocol itself. The answer, its
   * usage and its stream are then read with {@link #usage}, {@link #tap(Protocol, boolean)}.
   */
  default boolean passesThrough(Deployment d, Protocol client) {
    return client == protocol();
  }

  /**
   * The upstream request for one attempt of {@code call} on {@code d}, authenticated with the
   * deployment's own credentials. The body passes through when the client speaks
   * {@link #protocol()}, else the neutral request is encoded.
   *
   * @throws InvalidChat when the request cannot be expressed in this protocol (the client is told
   *     with a 400)
   */
  HttpRequest request(Deployment d, Call call) throws InvalidChat;

  /** The upstream's error answer, classified, with every upstream string redacted of secrets. */
  UpstreamError error(int status, ByteString body);

  /**
   * As {@link #error(int, ByteString)}, for an upstream that names its errors in a header (Bedrock's
   * {@code x-amzn-ErrorType}); the pipeline calls this one.
   *
   * @param header looks a response header up by name
   */
  default UpstreamError error(int status, Function<String, Optional<String>> header, ByteString body) {
    return error(status, body);
  }

  /** When the upstream says to retry, from its headers. */
  default Optional<Duration> retryAfter(Function<String, Optional<String>> header, Instant now) {
    return RetryAfter.fromHeaders(header, now);
  }

  /** The usage of a whole response in this protocol, or null when it reports none. */
  Usage usage(ByteString body);

  /** A whole response in this protocol, in neutral terms. */
  ChatResponse decode(ByteString body) throws InvalidChat;

  /**
   * A tap for a stream that passes through to a client of the same protocol.
   *
   * @param clientWantsUsage false when the gateway asked for usage the client did not (the tap
   *     then drops the usage event again)
   */
  StreamTap tap(boolean clientWantsUsage);

  /**
   * A tap for a stream in the client protocol {@code client}, for an adapter that
   * {@link #passesThrough} more than its own {@link #protocol()}.
   */
  default StreamTap tap(Protocol client, boolean clientWantsUsage) {
    return tap(clientWantsUsage);
  }

  /** A decoder of this protocol's stream into neutral events, for a client of another protocol. */
  StreamDecoder decoder();
}
