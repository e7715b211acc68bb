package io.sluice.node.surface;

import io.sluice.node.inference.ClientBody;
import io.sluice.node.inference.Operation;
import io.sluice.node.inference.Protocol;
import io.sluice.node.inference.Refusal;
import io.sluice.node.inference.chat.ChatResponse;
import io.sluice.node.inference.chat.StreamEncoder;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.util.ByteString;

/**
 * What one client protocol's surface knows and {@link HttpFront} does not: where its key is, how
 * its bodies are scanned, and how answers, streams and refusals look on its wire.
 */
public interface Dialect {

  Protocol protocol();

  /** The tenant key the request carries, or null when it carries none. */
  String key(HttpRequest request);

  /** Scans a body of {@code op}; fails with a {@link Refusal.Refused} (400) for a malformed one. */
  ClientBody scan(byte[] body, Operation op);

  /** The refusal in this protocol's error envelope, with its status (no further headers). */
  HttpResponse error(Refusal refusal);

  /** The event that ends a passed-through stream which failed after its first byte went out. */
  ByteString streamError(Refusal refusal);

  /** A neutral whole response, written for this protocol's client. */
  byte[] render(ChatResponse response, ClientBody body);

  /** An encoder of neutral events into this protocol's stream, for {@code body}'s client. */
  StreamEncoder encoder(ClientBody body);
}
