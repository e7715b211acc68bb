package io.sluice.node.inference;

import java.util.function.Function;

/**
 * What a provider adapter sees of one request when it builds the upstream request: the scanned
 * body and the client's headers that a provider may pass on (for example {@code anthropic-beta}).
 *
 * @param header looks up a client request header by name; null when absent
 * @param observation the request's lifecycle hook (traces, metrics, access log)
 */
public record Call(ClientBody body, Function<String, String> header, RequestObservation observation) {

  /** A call nobody observes. */
  public Call(ClientBody body, Function<String, String> header) {
    this(body, header, RequestObservation.NONE);
  }

  public Operation operation() {
    return body.operation();
  }

  public boolean stream() {
    return body.stream();
  }
}
